// Many sessions on one connection (§5.4), the scheduler's fairness (§7.1.1),
// and a 50 MB transfer over a loopback TCP socket in bounded memory.

import assert from "node:assert/strict";
import { type Frame, type IncomingMessage, MsrpConnection, MsrpSession } from "../../mod.ts";
import { SessionDirectory } from "../../lib/session/mod.ts";
import { memoryPipe } from "../../lib/transport/memory.ts";
import { connectTcp, listenTcp } from "../../lib/transport/tcp.ts";
import type { MsrpTransport } from "../../lib/transport/types.ts";
import { randomBytes } from "./_harness.ts";

/** `n` session pairs over one connection pair. */
async function sharedPairs(n: number, transports?: [MsrpTransport, MsrpTransport]) {
  const [a, b] = transports ?? memoryPipe();
  const directory = new SessionDirectory();
  const aliceConn = new MsrpConnection(a);
  const bobConn = new MsrpConnection(b, { directory });
  const pairs: { alice: MsrpSession; bob: MsrpSession }[] = [];
  for (let i = 0; i < n; i++) {
    const aUri = `msrp://alice.example.com:7777/alice${i}xxxxxx;tcp`;
    const bUri = `msrp://bob.example.com:8888/bob${i}xxxxxxxx;tcp`;
    const alice = new MsrpSession({ localUri: aUri, remotePath: [bUri] });
    const bob = new MsrpSession({ localUri: bUri, remotePath: [aUri] });
    directory.add(bob);
    aliceConn.attach(alice);
    alice.sendBindRequest();
    pairs.push({ alice, bob });
  }
  await Promise.all(pairs.flatMap((p) => [p.alice.ready, p.bob.ready]));
  return {
    pairs,
    aliceConn,
    bobConn,
    close() {
      for (const p of pairs) {
        p.alice.close();
        p.bob.close();
      }
      aliceConn.close();
      bobConn.close();
    },
  };
}

/** An endless-looking body produced on demand: `n` octets, never held at once. */
function generated(n: number, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  const block = randomBytes(chunk);
  let left = n;
  return new ReadableStream({
    pull(c) {
      if (left === 0) return c.close();
      const take = Math.min(left, chunk);
      c.enqueue(block.subarray(0, take));
      left -= take;
    },
  }, { highWaterMark: 0 });
}

/** Records what a scheduler writes; resolves `after(n)` once n frames were written. */
function recorder(conn: MsrpConnection) {
  const log: (Frame | string)[] = [];
  let waiting: { n: number; resolve: () => void } | undefined;
  conn.scheduler.onwrite = (f) => {
    log.push(f);
    if (waiting && log.length >= waiting.n) waiting.resolve();
  };
  return {
    log,
    after(n: number): Promise<void> {
      if (log.length >= n) return Promise.resolve();
      return new Promise((resolve) => (waiting = { n, resolve }));
    },
  };
}

async function drain(m: IncomingMessage): Promise<number> {
  let n = 0;
  for await (const b of m.stream()) n += b.length;
  return n;
}

Deno.test("20 sessions on one connection each get their own messages", async () => {
  const { pairs, aliceConn, close } = await sharedPairs(20);
  assert.equal(aliceConn.sessions.length, 20);
  const results = await Promise.all(pairs.map(async ({ alice, bob }, i) => {
    const [sent, got] = await Promise.all([
      Promise.all([alice.send(`hello ${i}`), bob.send(`hi back ${i}`)]),
      Promise.all([
        bob.nextMessage().then((m) => m!.text()),
        alice.nextMessage().then((m) => m!.text()),
      ]),
    ]);
    assert.deepEqual(sent.map((r) => r.status), [200, 200]);
    return got;
  }));
  results.forEach((got, i) => assert.deepEqual(got, [`hello ${i}`, `hi back ${i}`]));
  close();
});

Deno.test("a chat message queued behind a 100 MB file goes out within one piece of it", async () => {
  const { pairs, aliceConn, close } = await sharedPairs(2);
  const [file, chat] = pairs;
  const { log, after } = recorder(aliceConn);
  const fileDone = file.alice.send(generated(100 * 1024 * 1024), { size: 100 * 1024 * 1024 });
  const fileIn = file.bob.nextMessage().then((m) => drain(m!));
  await after(10); // the file's chunk is under way
  log.push("chat queued");
  const chatDone = chat.alice.send("are you there?");
  assert.equal(await (await chat.bob.nextMessage())!.text(), "are you there?");
  await chatDone;
  const mark = log.indexOf("chat queued");
  const chatAt = log.findIndex((f, i) =>
    i > mark && typeof f !== "string" && f.kind === "request" && f.body !== null &&
    f.body.length === 14
  );
  // At most the piece already on its way, then the chunk is closed with "+".
  const between = log.slice(mark + 1, chatAt) as Frame[];
  const withData = between.filter((f) =>
    f.kind === "request" && f.body !== null && f.body.length > 0
  );
  assert.ok(withData.length <= 1, `${withData.length} pieces of the file went first`);
  const cut = between.at(-1) as Frame & { flag?: string };
  assert.equal(cut.flag, "+", "the file's chunk was interrupted, not ended");
  assert.equal((await fileDone).bytesSent, 100 * 1024 * 1024);
  assert.equal(await fileIn, 100 * 1024 * 1024);
  close();
});

Deno.test("two files on one connection alternate chunk by chunk", async () => {
  const { pairs, aliceConn, close } = await sharedPairs(2);
  const chunks: string[] = [];
  aliceConn.scheduler.onwrite = (f) => {
    if (f.kind === "request" && f.method === "SEND" && f.flag !== undefined && f.body !== null) {
      chunks.push(f.headers.get("From-Path")!.includes("alice0") ? "A" : "B");
    }
  };
  const size = 8 * 1024 * 1024;
  await Promise.all(pairs.flatMap(({ alice, bob }) => [
    alice.send(generated(size), { size }),
    bob.nextMessage().then((m) => drain(m!)),
  ]));
  // Count chunks over the time both were sending (until one finished).
  const firstDone = Math.min(chunks.lastIndexOf("A"), chunks.lastIndexOf("B"));
  const both = chunks.slice(0, firstDone + 1);
  const a = both.filter((c) => c === "A").length;
  const b = both.length - a;
  assert.ok(both.length >= 20, `${both.length} chunks`);
  assert.ok(Math.abs(a - b) <= 1, `A ${a} chunks, B ${b} chunks while both were sending`);
  close();
});

Deno.test("a response waits for at most one piece of a long chunk (§7.1.1)", async () => {
  const { pairs, aliceConn, close } = await sharedPairs(1);
  const { alice, bob } = pairs[0];
  const { log, after } = recorder(aliceConn);
  const control = aliceConn.scheduler.control.bind(aliceConn.scheduler);
  aliceConn.scheduler.control = (f) => {
    if (f.kind === "response") log.push("response queued");
    control(f);
  };
  const size = 64 * 1024 * 1024;
  const fileDone = alice.send(generated(size), { size });
  const fileIn = bob.nextMessage().then((m) => drain(m!));
  await after(10);
  const [sent, got] = await Promise.all([
    bob.send("ping"),
    alice.nextMessage().then((m) => m!.text()),
  ]);
  assert.equal(sent.status, 200);
  assert.equal(got, "ping");
  const mark = log.indexOf("response queued");
  const at = log.findIndex((f, i) => i > mark && typeof f !== "string" && f.kind === "response");
  const between = log.slice(mark + 1, at).filter((f) =>
    typeof f !== "string" && f.kind === "request" && f.body !== null && f.body.length > 0
  );
  assert.ok(mark >= 0 && at > mark);
  assert.ok(between.length <= 1, `${between.length} pieces of data before the response`);
  await fileDone;
  assert.equal(await fileIn, size);
  close();
});

Deno.test("50 MB over loopback TCP, streamed to the reader in bounded memory", async () => {
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener[Symbol.asyncIterator]().next();
  const client = await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = (await accepted).value as MsrpTransport;
  const { pairs, close } = await sharedPairs(1, [client, server]);
  const { alice, bob } = pairs[0];
  const size = 50 * 1024 * 1024;
  let peakHeld = 0;
  let received = 0;
  const reading = (async () => {
    const m = (await bob.nextMessage())!;
    for await (const b of m.stream()) {
      received += b.length;
      peakHeld = Math.max(peakHeld, m.buffered);
    }
  })();
  const rssBefore = Deno.memoryUsage().rss;
  const result = await alice.send(generated(size), { size });
  await reading;
  const rssGrowth = Deno.memoryUsage().rss - rssBefore;
  assert.equal(result.bytesConfirmed, size);
  assert.equal(received, size);
  assert.ok(peakHeld <= 2 * 1024 * 1024, `the message held at most ${peakHeld} octets`);
  assert.ok(rssGrowth < 100 * 1024 * 1024, `rss grew ${rssGrowth}`);
  close();
  listener.close();
});
