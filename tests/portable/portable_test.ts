// The core on every runtime (issue 12 item 2): lib/wire, lib/session,
// lib/payload, the WebSocket transport, the memory transport and the relay
// client, with every module they import, use no `Deno.*` and import no
// `node:*` module, so they load in a browser and in Node as in Deno. Checked
// two ways: a static walk of the import graph, and the core's checks
// (core_on_node.ts) bundled and run under the `node` on this machine.

import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

const ROOT = new URL("../../", import.meta.url);

/** The portable entry points: whole folders, and single modules. */
const PORTABLE_DIRS = ["lib/wire", "lib/session", "lib/payload"];
const PORTABLE_FILES = [
  "lib/transport/websocket.ts",
  "lib/transport/memory.ts",
  "lib/endpoint/relay_client.ts",
];

/** The source without comments (strings are kept: a `Deno.` in one would be odd too). */
function code(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:\\])\/\/.*$/gm, "$1");
}

/** Every specifier imported or re-exported, statically or dynamically. */
function specifiers(source: string): string[] {
  const patterns = [
    /^(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/gm, // import … from "x", export … from "x"
    /^import\s*["']([^"']+)["']/gm, // import "x"
    /\bimport\(\s*["']([^"']+)["']\s*\)/g, // import("x")
  ];
  return patterns.flatMap((re) => [...source.matchAll(re)].map((m) => m[1]));
}

/** What each module of the graph from `entries` breaks, by path. */
async function leaks(entries: URL[]): Promise<{ modules: number; problems: string[] }> {
  const seen = new Set<string>();
  const queue = [...entries];
  const problems: string[] = [];
  while (queue.length > 0) {
    const url = queue.pop()!;
    if (seen.has(url.href)) continue;
    seen.add(url.href);
    const name = relative(fromFileUrl(ROOT), fromFileUrl(url));
    const source = code(await Deno.readTextFile(url));
    for (const s of specifiers(source)) {
      if (s.startsWith("node:")) problems.push(`${name} imports ${s}`);
      else if (s.startsWith(".")) queue.push(new URL(s, url));
      else problems.push(`${name} imports ${s}, outside the repository`);
    }
    for (const m of source.matchAll(/\bDeno\.[A-Za-z]+/g)) problems.push(`${name} uses ${m[0]}`);
  }
  return { modules: seen.size, problems };
}

async function portableEntries(): Promise<URL[]> {
  const entries = PORTABLE_FILES.map((f) => new URL(f, ROOT));
  for (const dir of PORTABLE_DIRS) {
    for await (const e of Deno.readDir(new URL(dir, ROOT))) {
      if (e.isFile && e.name.endsWith(".ts")) entries.push(new URL(`${dir}/${e.name}`, ROOT));
    }
  }
  return entries;
}

Deno.test("portable: the core, the WebSocket transport and the relay client use no Deno.* and no node:*", async () => {
  const { modules, problems } = await leaks(await portableEntries());
  assert.deepEqual(problems, []);
  assert.ok(modules > 40, `the walk found only ${modules} modules`);
});

Deno.test("portable: the scan sees a leak (the TCP transport uses Deno and node:dns)", async () => {
  const found = (await leaks([new URL("lib/transport/tcp.ts", ROOT)])).problems;
  assert.ok(found.some((p) => p.includes("imports node:dns/promises")), found.join("\n"));
  assert.ok(found.some((p) => p.includes("uses Deno.connect")), found.join("\n"));
});

/** The `node` on this machine, or undefined (the test is then skipped with a reason). */
async function nodeVersion(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("node", { args: ["--version"], stdout: "piped" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

const NODE = await nodeVersion();
if (NODE === undefined) console.log("portable: node is not installed: the Node tests are skipped");

/**
 * Bundles `entry` for Node (`deno bundle --platform=node`, which strips the
 * types) into a temporary directory and returns the bundle's path.
 */
export async function bundleForNode(entry: string, dir: string): Promise<string> {
  const out = `${dir}/${entry.replace(/^.*\//, "").replace(/\.ts$/, ".mjs")}`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "-q", "--platform=node", fromFileUrl(new URL(entry, ROOT)), "-o", out],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(r.success, `deno bundle failed: ${new TextDecoder().decode(r.stderr)}`);
  return out;
}

Deno.test({
  name: `portable: the core's checks run under Node (${NODE ?? "not installed"})`,
  ignore: NODE === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "msrp-node-" });
    try {
      const bundle = await bundleForNode("tests/portable/core_on_node.ts", dir);
      const text = await Deno.readTextFile(bundle);
      assert.doesNotMatch(text, /["']node:/, "the portable bundle imports no node: module");
      const r = await new Deno.Command("node", { args: [bundle], stdout: "piped", stderr: "piped" })
        .output();
      const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
      assert.equal(r.code, 0, out);
      assert.match(out, /^core-on-node: 9 checks ok$/m);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** The lines a process writes, as they come. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
    }
  }
}

Deno.test({
  name: `portable: examples/node/send.ts under Node (${
    NODE ?? "not installed"
  }) sends to msrp listen`,
  ignore: NODE === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "msrp-node-" });
    const listener = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", fromFileUrl(new URL("cli.ts", ROOT)), "listen"],
      stdout: "piped",
      stderr: "null",
      env: { NO_COLOR: "1" },
    }).spawn();
    // A safety net only: a wedged listener fails the test instead of hanging it.
    const watchdog = setTimeout(() => listener.kill("SIGKILL"), 20_000);
    try {
      const out = lines(listener.stdout);
      const [bundle, first] = await Promise.all([
        bundleForNode("examples/node/send.ts", dir),
        out.next(),
      ]);
      const uri = first.value as string;
      assert.match(uri, /^msrp:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9]+;tcp$/);
      const r = await new Deno.Command("node", {
        args: [bundle, uri, "Hello", "from", "Node"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const said = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
      assert.equal(r.code, 0, said);
      assert.equal(said, "node_send: 200 for 15 bytes, confirmed by a success REPORT\n");
      // What msrp listen printed: the message, as sent.
      assert.deepEqual(await out.next(), { done: false, value: "Hello from Node" });
    } finally {
      clearTimeout(watchdog);
      listener.kill("SIGTERM");
      await listener.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: `portable: the core's test files (wire, session, payload) pass under Node (${
    NODE ?? "not installed"
  })`,
  ignore: NODE === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "msrp-node-" });
    try {
      const bundle = await bundleForNode("tests/portable/node_tests.ts", dir);
      const r = await new Deno.Command("node", { args: [bundle], stdout: "piped", stderr: "piped" })
        .output();
      const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
      assert.equal(r.code, 0, out);
      const m = /^node-tests: (\d+) passed, 0 failed, (\d+) skipped$/m.exec(out);
      assert.ok(m !== null, out);
      assert.ok(Number(m[1]) > 300, out);
      assert.ok(Number(m[2]) <= 3, `only the Deno TCP tests are skipped: ${out}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
