// The public surface (issue 11): a root a reader can hold, one entry point
// per lower layer, internals kept inside, and types that say what they mean.

import assert from "node:assert/strict";
import * as root from "../mod.ts";
import * as wire from "../lib/wire/mod.ts";
import * as session from "../lib/session/mod.ts";
import * as transport from "../lib/transport/mod.ts";
import * as payload from "../lib/payload/mod.ts";
import * as relay from "../lib/relay/mod.ts";
import {
  MsrpConnection,
  MsrpError,
  type MsrpErrorCode,
  MsrpSession,
  MsrpSyntaxError,
} from "../mod.ts";
import { memoryPipe } from "../lib/transport/mod.ts";

const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));

Deno.test("deno.json names an entry point per layer", () => {
  assert.deepEqual(config.exports, {
    ".": "./mod.ts",
    "./wire": "./lib/wire/mod.ts",
    "./session": "./lib/session/mod.ts",
    "./transport": "./lib/transport/mod.ts",
    "./payload": "./lib/payload/mod.ts",
    "./relay": "./lib/relay/mod.ts",
    "./cli": "./cli.ts",
  });
});

Deno.test("internals do not leak from any entry point", () => {
  const internals = [
    "formatHead",
    "RangeSet",
    "TransactionTable",
    "randomAlphanumeric",
    "Scheduler",
    "SparseBuffer",
    "parseXml",
    "escapeCpimText",
    "RegistrationTable",
    "routeRequest",
  ];
  for (const [name, mod] of Object.entries({ root, wire, session, transport, payload, relay })) {
    for (const internal of internals) {
      assert.ok(!(internal in mod), `${name} exports ${internal}`);
    }
  }
});

Deno.test("the root holds the endpoint, sessions, errors and transports, and no codec", () => {
  for (const name of ["MsrpEndpoint", "MsrpSession", "MsrpError", "MsrpUri", "connectTcp"]) {
    assert.ok(name in root, name);
  }
  for (const name of ["FrameParser", "encodeFrame", "parseByteRange", "RECEIVER_RULES"]) {
    assert.ok(!(name in root), name);
  }
  assert.ok("FrameDecoderStream" in wire && "parseByteRange" in wire);
  assert.ok("MsrpConnection" in session && "RECEIVER_RULES" in session);
  assert.ok("connectWebSocket" in transport && "memoryPipe" in transport);
});

Deno.test("MsrpError.code is one of the codes that exist", () => {
  const code: MsrpErrorCode = "bad-uri" as MsrpErrorCode;
  const error = new MsrpSyntaxError("bad-port", "not a port", "x:y", 2);
  const known: MsrpErrorCode = error.code;
  assert.equal(known, "bad-port");
  // @ts-expect-error: a code no part of the library throws
  new MsrpError("no-such-code", "typo");
  assert.ok(code);
});

Deno.test("a connection's sessions are typed as sessions", () => {
  const [a] = memoryPipe();
  const connection = new MsrpConnection(a);
  const alice = new MsrpSession({
    localUri: "msrp://alice.example.com:7777/iau39;tcp",
    remotePath: ["msrp://bob.example.com:8888/9di4ea;tcp"],
  });
  connection.attach(alice);
  const sessions: MsrpSession[] = connection.sessions;
  assert.deepEqual(sessions.map((s) => s.localUri.toString()), [alice.localUri.toString()]);
  connection.close();
});

Deno.test("every exported class and function of an entry point has an example", async () => {
  const entryPoints = Object.values(config.exports as Record<string, string>)
    .filter((path) => path !== "./cli.ts");
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", ...entryPoints],
    cwd: new URL("..", import.meta.url),
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  type Decl = { kind: string; jsDoc?: { doc?: string; tags?: { kind: string }[] } };
  type Doc = { nodes: Record<string, { symbols: { name: string; declarations: Decl[] }[] }> };
  const doc: Doc = JSON.parse(new TextDecoder().decode(stdout));
  const missing = new Set<string>();
  for (const node of Object.values(doc.nodes)) {
    for (const symbol of node.symbols) {
      for (const decl of symbol.declarations) {
        if (decl.kind !== "function" && decl.kind !== "class") continue;
        const tags = decl.jsDoc?.tags ?? [];
        if (!tags.some((t) => t.kind === "example") && !decl.jsDoc?.doc?.includes("```ts")) {
          missing.add(symbol.name);
        }
      }
    }
  }
  assert.deepEqual([...missing], []);
});
