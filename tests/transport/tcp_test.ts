import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { MsrpError } from "../../lib/errors.ts";
import {
  connectTcp,
  connTransport,
  listenTcp,
  type MsrpListener,
} from "../../lib/transport/tcp.ts";
import type { MsrpTransport } from "../../lib/transport/types.ts";

import { concatBytes, prng, randomBytes, writeInPieces } from "../_util.ts";

async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of r) parts.push(chunk);
  return concatBytes(parts);
}

async function rejectsWith(p: Promise<unknown>, code: string, text?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MsrpError, `expected an MsrpError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (text !== undefined) assert.ok(e.message.includes(text), e.message);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

/** Whether this machine can listen and connect on the IPv6 loopback. */
const IPV6_REASON: string | undefined = (() => {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return undefined;
  } catch (e) {
    return `IPv6 loopback unavailable: ${(e as Error).message}`;
  }
})();
if (IPV6_REASON !== undefined) console.warn(`skipping IPv6 tests: ${IPV6_REASON}`);

/** A free port: bind, read the port, release it. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** An echo server: everything read is written back, a FIN answered by a FIN. */
function echoServer(listener: MsrpListener): Promise<void> {
  return (async () => {
    const conns: Promise<void>[] = [];
    for await (const t of listener) conns.push(t.readable.pipeTo(t.writable));
    await Promise.all(conns);
  })();
}

for (const host of ["127.0.0.1", "::1"]) {
  Deno.test({
    name: `tcp: random bytes echo exactly over ${host}`,
    ignore: host === "::1" && IPV6_REASON !== undefined,
    fn: async () => {
      const listener = listenTcp({ hostname: host, port: 0 });
      const server = echoServer(listener);
      assert.equal(listener.addr.hostname, host);
      assert.ok(listener.addr.port > 0);
      const t = await connectTcp({ hostname: host, port: listener.addr.port });
      assert.equal(t.kind, "tcp");
      assert.equal(t.secure, false);
      assert.deepEqual(t.remoteAddr, { hostname: host, port: listener.addr.port });
      assert.equal(t.localAddr?.hostname, host);
      const data = randomBytes(300000, prng(42));
      const [, echoed] = await Promise.all([
        writeInPieces(t.writable, data, prng(7), 20000),
        readAll(t.readable),
      ]);
      assert.deepEqual(echoed, data);
      listener.close();
      await server;
      t.close();
    },
  });
}

Deno.test({
  name: "tcp: an IPv6 literal may be written with brackets, as in a URI",
  ignore: IPV6_REASON !== undefined,
  fn: async () => {
    const listener = listenTcp({ hostname: "[::1]", port: 0 });
    const accepted = listener.accept();
    const t = await connectTcp({ hostname: "[::1]", port: listener.addr.port });
    const s = await accepted;
    assert.equal(s.remoteAddr?.hostname, "::1");
    t.close();
    s.close();
    listener.close();
  },
});

Deno.test("tcp: both directions at once, different data each way", async () => {
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await accepted;
  const up = randomBytes(500000, prng(1));
  const down = randomBytes(400000, prng(2));
  const [, , gotUp, gotDown] = await Promise.all([
    writeInPieces(client.writable, up, prng(3), 20000),
    writeInPieces(server.writable, down, prng(4), 20000),
    readAll(server.readable),
    readAll(client.readable),
  ]);
  assert.deepEqual(gotUp, up);
  assert.deepEqual(gotDown, down);
  assert.equal(server.kind, "tcp");
  assert.deepEqual(server.remoteAddr, client.localAddr);
  listener.close();
  client.close();
  server.close();
});

/** One turn of the event loop (a zero-delay timer: not a timed wait). */
function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("tcp: 16 MiB go through exactly, and a stalled reader stalls the writer", async () => {
  const total = 16 * 1024 * 1024;
  const piece = 64 * 1024;
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await accepted;
  let written = 0;
  const sentHash = createHash("sha256");
  const producer = (async () => {
    // Chunks are made as they are needed and never kept.
    const rand = prng(16);
    const w = client.writable.getWriter();
    while (written < total) {
      const chunk = randomBytes(piece, rand);
      sentHash.update(chunk);
      await w.write(chunk);
      written += chunk.length;
    }
    await w.close();
  })();
  // Nobody reads yet: the writer must stop once the socket buffers are full,
  // instead of the transport queueing all 16 MiB. Wait until it makes no
  // progress for 50 event-loop turns.
  let still = 0;
  for (let last = -1; still < 50 && written < total; still = written === last ? still + 1 : 0) {
    last = written;
    await macrotask();
  }
  const stalledAt = written;
  assert.ok(stalledAt < total, "the writer wrote 16 MiB that nobody read");
  const gotHash = createHash("sha256");
  let read = 0;
  for await (const chunk of server.readable) {
    gotHash.update(chunk);
    read += chunk.length;
  }
  await producer;
  assert.equal(read, total);
  assert.equal(gotHash.digest("hex"), sentHash.digest("hex"));
  listener.close();
  client.close();
  server.close();
});

Deno.test("tcp: closing the writable is a half close (FIN); the other way stays open", async () => {
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await accepted;
  const cw = client.writable.getWriter();
  await cw.write(new TextEncoder().encode("MSRP a SEND\r\n"));
  await cw.close();
  assert.equal(new TextDecoder().decode(await readAll(server.readable)), "MSRP a SEND\r\n");
  const sw = server.writable.getWriter();
  await sw.write(new TextEncoder().encode("MSRP a 200 OK\r\n"));
  await sw.close();
  assert.equal(new TextDecoder().decode(await readAll(client.readable)), "MSRP a 200 OK\r\n");
  listener.close();
  client.close();
  server.close();
});

Deno.test("tcp: close() ends a waiting read, and the peer sees the end", async () => {
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await accepted;
  const reader = client.readable.getReader();
  const pending = reader.read();
  client.close();
  assert.deepEqual(await pending, { done: true, value: undefined });
  await rejectsWith(client.writable.getWriter().write(new Uint8Array([1])), "connection-closed");
  assert.deepEqual(await readAll(server.readable), new Uint8Array(0));
  client.close(); // twice is harmless
  server.close();
  listener.close();
});

Deno.test("tcp: a refused connection is a typed error naming host:port", async () => {
  const port = freePort();
  await rejectsWith(
    connectTcp({ hostname: "127.0.0.1", port }),
    "connect-refused",
    `cannot connect to 127.0.0.1:${port}: connection refused`,
  );
});

Deno.test({
  name: "tcp: a refused IPv6 connection names [::1]:port",
  ignore: IPV6_REASON !== undefined,
  fn: async () => {
    const l = Deno.listen({ hostname: "::1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    await rejectsWith(connectTcp({ hostname: "::1", port }), "connect-refused", `[::1]:${port}`);
  },
});

Deno.test("tcp: RFC 4975 §6.2, the next resolved address is tried when one fails", async () => {
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const asked: string[] = [];
  const t = await connectTcp({ hostname: "relay.example.com", port: listener.addr.port }, {
    resolve: (name) => {
      asked.push(name);
      // Nothing listens on 127.0.0.2 at this port: refused, then 127.0.0.1.
      return Promise.resolve(["127.0.0.2", "127.0.0.1"]);
    },
  });
  assert.deepEqual(asked, ["relay.example.com"]);
  assert.equal(t.remoteAddr?.hostname, "127.0.0.1");
  const s = await accepted;
  t.close();
  s.close();
  listener.close();
});

Deno.test("tcp: when every address refuses, the error says how many were tried", async () => {
  const port = freePort();
  await rejectsWith(
    connectTcp({ hostname: "relay.example.com", port }, {
      resolve: () => Promise.resolve(["127.0.0.1", "127.0.0.1"]),
    }),
    "connect-refused",
    `cannot connect to relay.example.com:${port}: connection refused (tried 2 addresses)`,
  );
});

Deno.test("tcp: a name that does not resolve is dns-failed", async () => {
  await rejectsWith(
    connectTcp({ hostname: "nowhere.example", port: 2855 }, {
      resolve: () =>
        Promise.reject(Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" })),
    }),
    "dns-failed",
    "cannot resolve nowhere.example:2855: ENOTFOUND",
  );
  await rejectsWith(
    connectTcp({ hostname: "empty.example", port: 2855 }, { resolve: () => Promise.resolve([]) }),
    "dns-failed",
    "cannot resolve empty.example:2855: no address",
  );
});

Deno.test("tcp: a host name is resolved by the system resolver (localhost)", async () => {
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const t = await connectTcp({ hostname: "localhost", port: listener.addr.port });
  const s = await accepted;
  assert.equal(t.remoteAddr?.port, listener.addr.port);
  t.close();
  s.close();
  listener.close();
});

Deno.test("tcp: an aborted signal gives connect-aborted", async () => {
  const port = freePort();
  const controller = new AbortController();
  controller.abort();
  await rejectsWith(
    connectTcp({ hostname: "127.0.0.1", port }, { signal: controller.signal }),
    "connect-aborted",
    `127.0.0.1:${port}`,
  );
});

Deno.test("tcp: a closed listener ends its iteration and refuses accept()", async () => {
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0, keepAlive: true });
  const connections = listener[Symbol.asyncIterator]();
  const c = await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port }, {
    keepAlive: true,
  });
  const first = await connections.next();
  assert.equal(first.done, false);
  const s = first.value as MsrpTransport;
  assert.equal(s.remoteAddr?.port, c.localAddr?.port);
  const next = connections.next();
  listener.close();
  assert.deepEqual(await next, { done: true, value: undefined });
  await rejectsWith(listener.accept(), "listener-closed", `127.0.0.1:${listener.addr.port}`);
  // Accepted connections outlive the listener.
  const w = c.writable.getWriter();
  await w.write(new Uint8Array([5]));
  await w.close();
  assert.deepEqual(await readAll(s.readable), new Uint8Array([5]));
  c.close();
  s.close();
});

Deno.test("tcp: binding a port in use is listen-failed", () => {
  const first = listenTcp({ hostname: "127.0.0.1", port: 0 });
  assert.throws(
    () => listenTcp({ hostname: "127.0.0.1", port: first.addr.port }),
    (e: unknown) => e instanceof MsrpError && e.code === "listen-failed",
  );
  first.close();
});

/** A `Deno.Conn` stand-in that records each socket write and lets the test finish it. */
class RecordingConn {
  readonly writes: Uint8Array[] = [];
  readonly #finish: (() => void)[] = [];
  #failWith: Error | undefined;
  readonly remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 } as Deno.NetAddr;
  readonly localAddr = { transport: "tcp", hostname: "127.0.0.1", port: 2 } as Deno.NetAddr;
  write(bytes: Uint8Array): Promise<number> {
    this.writes.push(bytes.slice());
    if (this.#failWith !== undefined) return Promise.reject(this.#failWith);
    return new Promise((resolve) => this.#finish.push(() => resolve(bytes.length)));
  }
  /** Completes the oldest socket write; true if there was one. */
  finishOne(): boolean {
    const f = this.#finish.shift();
    f?.();
    return f !== undefined;
  }
  failNext(e: Error): void {
    this.#failWith = e;
    for (const f of this.#finish.splice(0)) f();
  }
  read(): Promise<number | null> {
    return new Promise(() => {});
  }
  closeWrite(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {}
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("tcp: writes made while the socket is busy go out together in one socket write", async () => {
  const conn = new RecordingConn();
  const t = connTransport(conn as unknown as Deno.Conn);
  const w = t.writable.getWriter();
  await w.write(new TextEncoder().encode("one "));
  // The first write went to the socket at once; these wait for it to finish.
  await w.write(new TextEncoder().encode("two "));
  await w.write(new TextEncoder().encode("three"));
  assert.deepEqual(conn.writes.map(text), ["one "]);
  assert.ok(conn.finishOne());
  await turnsUntil(() => conn.writes.length >= 2);
  assert.deepEqual(conn.writes.map(text), ["one ", "two three"]);
  assert.ok(conn.finishOne());
  const closing = w.close();
  await closing;
  assert.equal(conn.writes.length, 2);
});

Deno.test("tcp: a write waits for the socket once gatherBytes are queued (back-pressure)", async () => {
  const conn = new RecordingConn();
  const t = connTransport(conn as unknown as Deno.Conn, { gatherBytes: 10 });
  const w = t.writable.getWriter();
  await w.write(new Uint8Array(4)); // to the socket
  await w.write(new Uint8Array(4)); // queued: 4 bytes
  let done = false;
  const third = w.write(new Uint8Array(8)).then(() => done = true); // 12 queued: waits
  for (let i = 0; i < 20; i++) await Promise.resolve();
  assert.equal(done, false);
  conn.finishOne(); // the first write; the queued 12 bytes go in one write
  await turnsUntil(() => conn.writes.length >= 2);
  assert.deepEqual(conn.writes.map((b) => b.length), [4, 12]);
  conn.finishOne();
  await third;
  assert.equal(done, true);
});

Deno.test("tcp: a socket error in a gathered write fails the next write with connection-reset", async () => {
  const conn = new RecordingConn();
  const t = connTransport(conn as unknown as Deno.Conn);
  const w = t.writable.getWriter();
  await w.write(new Uint8Array(4));
  conn.failNext(new Deno.errors.ConnectionReset("reset by peer"));
  await assert.rejects(
    async () => {
      // Queued writes go to the socket at the end of a turn of the event loop.
      for (let i = 0; i < 100; i++) {
        await w.write(new Uint8Array(4));
        await turnsUntil(() => false, 1);
      }
    },
    (e: unknown) => e instanceof MsrpError && e.code === "connection-reset",
  );
});

/** A `Deno.Conn` stand-in whose writes finish at once, like a fast local socket's. */
class InstantConn extends RecordingConn {
  override write(bytes: Uint8Array): Promise<number> {
    this.writes.push(bytes.slice());
    return Promise.resolve(bytes.length);
  }
}

/** Waits for one turn of the event loop (I/O and timers get to run), at most `max` times until `done`. */
async function turnsUntil(done: () => boolean, max = 100): Promise<void> {
  for (let i = 0; i < max && !done(); i++) await new Promise((r) => setTimeout(r, 0));
}

Deno.test("tcp: writes made in the same turn after a finished socket write go out together after the turn", async () => {
  const conn = new InstantConn();
  const t = connTransport(conn as unknown as Deno.Conn);
  const w = t.writable.getWriter();
  const enc = (s: string) => new TextEncoder().encode(s);
  await w.write(enc("one ")); // the first write after a pause: to the socket at once
  assert.deepEqual(conn.writes.map(text), ["one "]);
  // The socket took it at once; these come in the same turn and wait for its end.
  await w.write(enc("two "));
  await w.write(enc("three"));
  assert.deepEqual(conn.writes.map(text), ["one "]);
  await turnsUntil(() => conn.writes.length >= 2);
  assert.deepEqual(conn.writes.map(text), ["one ", "two three"]);
  // After a quiet turn the next write goes out at once again.
  await turnsUntil(() => false, 3);
  await w.write(enc("four"));
  assert.deepEqual(conn.writes.map(text), ["one ", "two three", "four"]);
  await w.close();
  assert.equal(conn.writes.length, 3);
});

Deno.test("tcp: a writer past gatherBytes goes on once the queue is taken, with nothing lost or reordered", async () => {
  const conn = new InstantConn();
  const t = connTransport(conn as unknown as Deno.Conn, { gatherBytes: 10 });
  const w = t.writable.getWriter();
  const sent: number[] = [];
  for (let i = 0; i < 50; i++) {
    sent.push(i);
    await w.write(new Uint8Array([i, i, i])); // 3 bytes: every fourth write waits for room
  }
  await w.close();
  const all = conn.writes.flatMap((b) => [...b]);
  assert.deepEqual(all, sent.flatMap((i) => [i, i, i]));
  assert.ok(conn.writes.length < 50, `${conn.writes.length} socket writes for 50 chunks`);
});

/** A `Deno.Conn` stand-in whose writes finish a few microtasks later, like Deno's eager socket writes. */
class EagerConn extends RecordingConn {
  override async write(bytes: Uint8Array): Promise<number> {
    this.writes.push(bytes.slice());
    for (let k = 0; k < 3; k++) await Promise.resolve();
    return bytes.length;
  }
}

Deno.test("tcp: frames written as head, body and end-line are gathered, not taken part by part as they come", async () => {
  const conn = new EagerConn();
  const t = connTransport(conn as unknown as Deno.Conn);
  const w = t.writable.getWriter();
  const enc = (s: string) => new TextEncoder().encode(s);
  const frames: string[] = [];
  for (let i = 0; i < 5; i++) {
    // A frame's three parts, written at once (a FrameWriter's `out`) ...
    w.write(enc(`head${i} `));
    w.write(enc(`body${i} `));
    await w.write(enc(`end${i} `));
    frames.push(`head${i} body${i} end${i} `);
    // ... then the writer's own work before the next frame.
    for (let k = 0; k < 8; k++) await Promise.resolve();
  }
  await turnsUntil(() => conn.writes.length >= 2);
  // The first part went at once; everything written in that turn, in one write after it.
  assert.deepEqual(conn.writes.map(text), ["head0 ", frames.join("").slice("head0 ".length)]);
  await w.close();
});
