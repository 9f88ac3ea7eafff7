// The relay as a server: startRelay with injected listeners, connection
// limits, remote AUTH failures, and hostile input (RFC 4976 §6.1, §6.3, §6.5).

import assert from "node:assert/strict";
import { MsrpError } from "../../lib/errors.ts";
import { resolveRelayConfig } from "../../lib/relay/config.ts";
import { type RelayListener, startRelay } from "../../lib/relay/relay.ts";
import type { MsrpTransport } from "../../lib/transport/types.ts";
import { parseWwwAuthenticate } from "../../lib/wire/auth_headers.ts";
import { DigestClient } from "../../lib/relay/digest.ts";
import { prng } from "../_util.ts";
import {
  authenticate,
  collectLog,
  enc,
  FakeClock,
  memoryPair,
  memoryRelay,
  Peer,
  request,
  settle,
  USERS,
} from "./relay_harness.ts";

class FakeListener implements RelayListener {
  readonly addr = { hostname: "127.0.0.1", port: 47000 };
  #queue: MsrpTransport[] = [];
  #wake: (() => void) | undefined;
  closed = false;

  push(t: MsrpTransport): void {
    this.#queue.push(t);
    this.#wake?.();
  }

  close(): void {
    this.closed = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<MsrpTransport> {
    for (;;) {
      while (this.#queue.length > 0) yield this.#queue.shift()!;
      if (this.closed) return;
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = undefined;
    }
  }
}

Deno.test("startRelay: listens, fills in a system-chosen port, serves, closes", async () => {
  const listeners: FakeListener[] = [];
  const { events, logger } = collectLog();
  const config = resolveRelayConfig({
    host: "relay.example.com",
    listen: [{ port: 0, tls: false }],
    allowInsecure: true,
    users: USERS,
  });
  const server = await startRelay(config, {
    listen: (l, tls) => {
      assert.deepEqual([l.port, l.tls, tls], [0, false, undefined]);
      const x = new FakeListener();
      listeners.push(x);
      return x;
    },
    clock: new FakeClock(),
    logger,
  });
  assert.equal(server.relay.config.listen[0].port, 47000);
  assert.equal(server.relay.uri(false).toString(), "msrp://relay.example.com:47000;tcp");
  const [mine, theirs] = memoryPair({ secure: false });
  listeners[0].push(theirs);
  const alice = new Peer(mine);
  const { usePath } = await authenticate(alice, {
    to: "msrp://relay.example.com:47000;tcp",
    from: "msrp://alice.example.com:1/a;tcp",
  });
  assert.match(usePath, /^msrp:\/\/relay\.example\.com:47000\/\w{22};tcp$/);
  await server.close();
  assert.ok(listeners[0].closed);
  await alice.ended;
  assert.ok(events.some((e) => e.event === "connection-closed"));
});

Deno.test("startRelay: a listener that cannot open is an error, and the others are closed", async () => {
  const opened: FakeListener[] = [];
  const config = resolveRelayConfig({
    host: "relay.example.com",
    listen: [{ port: 1, tls: false }, { port: 2, tls: false }],
  });
  await assert.rejects(
    startRelay(config, {
      listen: (l) => {
        if (l.port === 2) throw new Error("address in use");
        const x = new FakeListener();
        opened.push(x);
        return x;
      },
    }),
    (e: unknown) =>
      e instanceof MsrpError && e.code === "listen-failed" && /address in use/.test(e.message),
  );
  assert.equal(opened.length, 1);
  assert.ok(opened[0].closed);
});

Deno.test("connection limit: the least recently used idle connection makes room, else refused (§6.5)", async () => {
  const { relay, connect, log } = memoryRelay({
    host: "relay.example.com",
    limits: { maxConnections: 2 },
  });
  const idle = connect();
  const alice = connect();
  await authenticate(alice, {
    to: "msrps://relay.example.com:9000;tcp",
    from: "msrps://a.example.com:1/a;tcp",
  });
  const bob = connect(); // evicts the idle one
  assert.equal(await idle.next(), undefined);
  await authenticate(bob, {
    to: "msrps://relay.example.com:9000;tcp",
    from: "msrps://b.example.com:1/b;tcp",
    username: "bob",
    password: "hunter2",
  });
  const third = connect(); // both have registrations: refused
  assert.equal(await third.next(), undefined);
  assert.ok(log.some((e) => e.event === "connection-limit"));
  assert.equal(relay.stats().connections, 2);
  await relay.close();
});

Deno.test("failed AUTHs relayed for a directly connected client close its connection (§6.3)", async () => {
  const extra = memoryRelay({
    host: "extra.example.com",
    users: { Alice: { password: "outer" } },
    limits: { maxAuthFailures: 10 },
  });
  const intra = memoryRelay(
    { host: "intra.example.com", users: { Alice: { password: "inner" } } },
    {
      connect: () => {
        const [mine, theirs] = memoryPair();
        extra.relay.accept(theirs);
        return Promise.resolve(mine);
      },
    },
  );
  const ALICE = "msrps://alice.example.com:1/a;tcp";
  const alice = intra.connect();
  const ui = (await authenticate(alice, {
    to: "msrps://intra.example.com;tcp",
    from: ALICE,
    username: "Alice",
    password: "inner",
  })).usePath;
  const EXTRA = "msrps://extra.example.com;tcp";
  const base: [string, string][] = [["To-Path", `${ui} ${EXTRA}`], ["From-Path", ALICE]];
  await alice.send(request("AUTH", "fail0000", base));
  let res = await alice.response();
  const wrong = new DigestClient({ username: "Alice", password: "wrong" });
  for (let i = 1; i <= 3; i++) {
    const challenges = res.headers.getAll("WWW-Authenticate").map(parseWwwAuthenticate);
    await alice.send(
      request("AUTH", `fail000${i}`, [...base, [
        "Authorization",
        wrong.authorization(challenges, EXTRA),
      ]]),
    );
    res = await alice.response();
    assert.equal(res.status, 401);
  }
  assert.equal(await alice.next(), undefined);
  assert.ok(intra.log.some((e) => e.event === "auth-failures"));
  await intra.relay.close();
  await extra.relay.close();
});

/** Damages a frame the way a broken or hostile peer might. */
function mutate(input: Uint8Array, rand: () => number): Uint8Array {
  const bytes = Array.from(input);
  const ops = 1 + Math.floor(rand() * 4);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(rand() * (bytes.length + 1));
    switch (Math.floor(rand() * 7)) {
      case 0: // flip a byte
        if (bytes.length > 0) bytes[at % bytes.length] = Math.floor(rand() * 256);
        break;
      case 1: // cut the rest off
        bytes.length = at;
        break;
      case 2: // insert junk
        bytes.splice(
          at,
          0,
          ...Array.from({ length: 1 + Math.floor(rand() * 20) }, () => Math.floor(rand() * 256)),
        );
        break;
      case 3: // drop a CR
        for (let i = at; i < bytes.length; i++) {
          if (bytes[i] === 13) {
            bytes.splice(i, 1);
            break;
          }
        }
        break;
      case 4: // repeat a slice
        bytes.splice(at, 0, ...bytes.slice(at, at + Math.floor(rand() * 40)));
        break;
      case 5: // a very long line
        bytes.splice(at, 0, ...new Array(20_000).fill(65));
        break;
      default: // swap a digit for a letter
        for (let i = at; i < bytes.length; i++) {
          if (bytes[i] >= 48 && bytes[i] <= 57) {
            bytes[i] = 120;
            break;
          }
        }
    }
  }
  return new Uint8Array(bytes);
}

Deno.test("fuzz: damaged frames never crash the relay nor cause an internal error", async () => {
  const { relay, connect, log } = memoryRelay({ host: "relay.example.com", allowInsecure: true });
  const alice = connect();
  const A = "msrps://alice.example.com:1/a;tcp";
  const ua = (await authenticate(alice, { to: "msrps://relay.example.com:9000;tcp", from: A }))
    .usePath;
  const seeds = [
    `MSRP t1send01 SEND\r\nTo-Path: ${ua} ${A}\r\nFrom-Path: msrp://x.example.com:1/x;tcp\r\n` +
    "Message-ID: m0001\r\nByte-Range: 1-5/5\r\nFailure-Report: yes\r\nContent-Type: text/plain\r\n\r\n" +
    "hello\r\n-------t1send01$\r\n",
    `MSRP t1rep001 REPORT\r\nTo-Path: ${ua} ${A}\r\nFrom-Path: msrp://x.example.com:1/x;tcp\r\n` +
    "Message-ID: m0001\r\nByte-Range: 1-5/5\r\nStatus: 000 200 OK\r\n-------t1rep001$\r\n",
    "MSRP t1auth01 AUTH\r\nTo-Path: msrps://relay.example.com:9000;tcp\r\n" +
    "From-Path: msrps://y.example.com:1/y;tcp\r\nExpires: 600\r\n" +
    'Authorization: Digest username="alice", realm="relay.example.com", nonce="abc", ' +
    'uri="msrps://relay.example.com:9000;tcp", qop=auth, nc=00000001, cnonce="c", ' +
    'response="00000000000000000000000000000000"\r\n-------t1auth01$\r\n',
    "MSRP t1resp01 200 OK\r\nTo-Path: msrps://relay.example.com:9000/abc;tcp\r\n" +
    "From-Path: msrp://x.example.com:1/x;tcp\r\n-------t1resp01$\r\n",
    `MSRP t1xtra01 FOO\r\nTo-Path: ${ua} ${A} ${A}\r\nFrom-Path: ${A}\r\n-------t1xtra01$\r\n`,
  ].map(enc);
  const rand = prng(4976);
  for (let i = 0; i < 400; i++) {
    const p = connect(rand() < 0.5);
    const input = mutate(seeds[i % seeds.length], rand);
    try {
      // Sometimes whole, sometimes byte by byte at a random cut.
      const cut = Math.floor(rand() * input.length);
      await p.raw(input.subarray(0, cut));
      await p.raw(input.subarray(cut));
    } catch {
      // the relay may close the connection first
    }
    await settle(20);
    p.close();
    await p.ended;
  }
  await settle(100);
  if (Deno.env.get("RELAY_DEBUG")) {
    const counts: Record<string, number> = {};
    for (const e of log) counts[e.event] = (counts[e.event] ?? 0) + 1;
    console.log(counts);
  }
  assert.deepEqual(log.filter((e) => e.level === "error"), []);
  // Still serving.
  const q = connect();
  await q.send(request("AUTH", "after001", [
    ["To-Path", "msrps://relay.example.com:9000;tcp"],
    ["From-Path", "msrps://z.example.com:1/z;tcp"],
  ]));
  assert.equal((await q.response()).status, 401);
  await relay.close();
});
