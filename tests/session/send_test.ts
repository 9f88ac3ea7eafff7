// The sending side of a session against a hand-driven peer: chunking and
// Byte-Range (§7.1.1), the sender's Failure-/Success-Report rules, the
// 30-second timeout (408), 413 and failure REPORTs interrupting with "#",
// abort, and closing with sends pending. Timers run on a ManualClock.

import assert from "node:assert/strict";
import { encodeFrame, HeaderList } from "../../lib/wire/mod.ts";
import { ManualClock, MsrpConnection, type MsrpRequest, MsrpSendError } from "../../mod.ts";
import { memoryPipe } from "../../lib/transport/memory.ts";
import { ALICE, BOB, randomBytes, RawPeer, request, response, sessionToRaw } from "./_harness.ts";

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Reads frames until a chunk ends; returns the pieces and the joined body. */
async function readChunk(
  peer: RawPeer,
): Promise<{ first: MsrpRequest; pieces: MsrpRequest[]; body: Uint8Array }> {
  const pieces: MsrpRequest[] = [];
  for (;;) {
    const f = await peer.next();
    if (f.kind !== "request") throw new Error(`expected a request, got ${f.kind}`);
    pieces.push(f);
    if (f.flag !== undefined) break;
  }
  const n = pieces.reduce((a, p) => a + p.body!.length, 0);
  const body = new Uint8Array(n);
  let at = 0;
  for (const p of pieces) {
    body.set(p.body!, at);
    at += p.body!.length;
  }
  return { first: pieces[0], pieces, body };
}

Deno.test("a short message: one chunk, numeric Byte-Range, byte for byte", async () => {
  const { alice, conn, peer } = await sessionToRaw();
  const sending = alice.send("Hello Bob", { messageId: "msgHello001" });
  const { first } = await readChunk(peer);
  assert.equal(
    dec(encodeFrame(first)),
    `MSRP ${first.tid} SEND\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ALICE}\r\nMessage-ID: msgHello001\r\n` +
      `Byte-Range: 1-9/9\r\nContent-Type: text/plain;charset=UTF-8\r\n\r\nHello Bob\r\n-------${first.tid}$\r\n`,
  );
  assert.match(first.tid, /^[A-Za-z0-9]{32}$/, "a fresh 190-bit transaction id");
  await peer.send(response(first, 200));
  const result = await sending;
  assert.deepEqual(result, {
    messageId: "msgHello001",
    status: 200,
    comment: "",
    bytesSent: 9,
    bytesConfirmed: 9,
    confirmedBy: "response",
  });
  alice.close();
  conn.close();
});

Deno.test("an empty message is 1-0/0 with an empty body", async () => {
  const { alice, conn, peer } = await sessionToRaw();
  const sending = alice.send("");
  const { first } = await readChunk(peer);
  assert.equal(first.headers.get("Byte-Range"), "1-0/0");
  assert.deepEqual(first.body, new Uint8Array(0));
  await peer.send(response(first, 200));
  assert.equal((await sending).status, 200);
  alice.close();
  conn.close();
});

Deno.test("a body over 2048 octets is one interruptible chunk (n-*) when nothing else waits", async () => {
  const { alice, conn, peer } = await sessionToRaw();
  // Under the smallest send window (256 KiB), which would end the chunk too.
  const body = randomBytes(200_000);
  const sending = alice.send(body);
  const chunk = await readChunk(peer);
  assert.equal(chunk.first.headers.get("Byte-Range"), "1-*/200000");
  assert.equal(chunk.pieces.at(-1)!.flag, "$");
  assert.deepEqual(chunk.body, body);
  await peer.send(response(chunk.first, 200));
  assert.equal((await sending).bytesConfirmed, 200_000);
  alice.close();
  conn.close();
});

Deno.test("maxChunkSize cuts chunks with + and resumes the range", async () => {
  const { alice, conn, peer } = await sessionToRaw({ chunking: { maxChunkSize: 4096 } });
  const body = randomBytes(10_000);
  const sending = alice.send(body);
  const ranges: string[] = [];
  const flags: string[] = [];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await readChunk(peer);
    ranges.push(c.first.headers.get("Byte-Range")!);
    flags.push(c.pieces.at(-1)!.flag!);
    parts.push(c.body);
    await peer.send(response(c.first, 200));
  }
  // The last 1808 octets fit in 2048: a non-interruptible chunk with a numeric end.
  assert.deepEqual(ranges, ["1-*/10000", "4097-*/10000", "8193-10000/10000"]);
  assert.deepEqual(flags, ["+", "+", "$"]);
  assert.deepEqual(parts.map((p) => p.length), [4096, 4096, 1808]);
  assert.equal((await sending).bytesConfirmed, 10_000);
  alice.close();
  conn.close();
});

Deno.test("fixed 2048-octet chunks (§7.1.1 alternative)", async () => {
  const { alice, conn, peer } = await sessionToRaw({ chunking: { fixedChunks: true } });
  const sending = alice.send(randomBytes(5000));
  const ranges: string[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await readChunk(peer);
    assert.equal(c.pieces.length, 1, "a non-interruptible chunk is written whole");
    ranges.push(`${c.first.headers.get("Byte-Range")} ${c.pieces[0].flag}`);
    await peer.send(response(c.first, 200));
  }
  assert.deepEqual(ranges, ["1-2048/5000 +", "2049-4096/5000 +", "4097-5000/5000 $"]);
  await sending;
  alice.close();
  conn.close();
});

Deno.test("a stream of unknown length: * totals, and the $ chunk ends it", async () => {
  const { alice, conn, peer } = await sessionToRaw();
  const parts = [randomBytes(3000), randomBytes(5000), randomBytes(100)];
  const sending = alice.send(ReadableStream.from(parts), {
    contentType: "application/octet-stream",
  });
  const c = await readChunk(peer);
  assert.equal(c.first.headers.get("Byte-Range"), "1-*/*");
  assert.equal(c.pieces.at(-1)!.flag, "$");
  assert.equal(c.body.length, 8100);
  await peer.send(response(c.first, 200));
  assert.equal((await sending).bytesSent, 8100);
  alice.close();
  conn.close();
});

Deno.test("a Blob is sent with its size and type", async () => {
  const { alice, conn, peer } = await sessionToRaw();
  const blob = new Blob([randomBytes(4000)], { type: "image/png" });
  const sending = alice.send(blob);
  const c = await readChunk(peer);
  assert.equal(c.first.headers.get("Byte-Range"), "1-*/4000");
  assert.equal(c.first.headers.get("Content-Type"), "image/png");
  await peer.send(response(c.first, 200));
  await sending;
  alice.close();
  conn.close();
});

// ---- the sender's half of the report table ----

Deno.test("Failure-Report yes: no 200 within 30 s after the last byte is a local 408", async () => {
  const clock = new ManualClock();
  const { alice, conn, peer } = await sessionToRaw({}, clock);
  let settled = false;
  const sending = alice.send("are you there?").finally(() => (settled = true));
  await readChunk(peer);
  assert.equal(clock.pending, 1, "the timer runs from the last byte");
  clock.advance(29_999);
  await Promise.resolve();
  assert.equal(settled, false);
  assert.equal(clock.pending, 1);
  clock.advance(1);
  assert.equal(clock.pending, 0);
  await assert.rejects(sending, (e: unknown) => {
    assert.ok(e instanceof MsrpSendError);
    assert.equal(e.code, "timeout");
    assert.equal(e.status, 408);
    assert.equal(e.result.bytesSent, 14);
    assert.equal(e.result.bytesConfirmed, 0);
    return true;
  });
  alice.close();
  conn.close();
});

Deno.test("Failure-Report partial: no timer; the send is done once written", async () => {
  const clock = new ManualClock();
  const { alice, conn, peer } = await sessionToRaw({}, clock);
  const sending = alice.send("fire and report errors", { failureReport: "partial" });
  const c = await readChunk(peer);
  assert.equal(c.first.headers.get("Failure-Report"), "partial");
  const result = await sending;
  assert.equal(result.confirmedBy, "none");
  clock.advance(60_000); // nothing fails
  alice.close();
  conn.close();
});

Deno.test("Failure-Report no: no transaction is kept at all", async () => {
  const { alice, conn, peer } = await sessionToRaw();
  const before = conn.transactions.size;
  const sending = alice.send("system going down", { failureReport: "no" });
  const c = await readChunk(peer);
  assert.equal(c.first.headers.get("Failure-Report"), "no");
  await sending;
  assert.equal(conn.transactions.size, before);
  alice.close();
  conn.close();
});

Deno.test("Success-Report yes: done only when REPORTs cover every byte", async () => {
  const { alice, conn, peer } = await sessionToRaw({ chunking: { maxChunkSize: 4096 } });
  let settled = false;
  const sending = alice.send(randomBytes(6000), { successReport: true }).finally(
    () => (settled = true),
  );
  const chunks = [await readChunk(peer)];
  await peer.send(response(chunks[0].first, 200));
  chunks.push(await readChunk(peer));
  await peer.send(response(chunks[1].first, 200));
  const report = (range: string, status = "000 200 OK"): MsrpRequest => ({
    kind: "request",
    tid: "rep" + range.replace(/\W/g, ""),
    method: "REPORT",
    headers: new HeaderList([
      ["To-Path", ALICE],
      ["From-Path", BOB],
      ["Message-ID", chunks[0].first.headers.get("Message-ID")!],
      ["Byte-Range", range],
      ["Status", status],
    ]),
    body: null,
    offset: 0,
    flag: "$",
  });
  await peer.send(report("1-4096/6000"));
  await peer.fence(ALICE, BOB);
  assert.equal(settled, false, "4096 of 6000 confirmed");
  await peer.send(report("4097-6000/6000"));
  const result = await sending;
  assert.equal(result.confirmedBy, "report");
  assert.equal(result.bytesConfirmed, 6000);
  alice.close();
  conn.close();
});

Deno.test("Success-Report yes without a REPORT in time: 408", async () => {
  const clock = new ManualClock();
  const { alice, conn, peer } = await sessionToRaw({ reportTimeout: 5000 }, clock);
  const sending = alice.send("confirm me", { successReport: true });
  const c = await readChunk(peer);
  await peer.send(response(c.first, 200));
  await peer.fence(ALICE, BOB);
  clock.advance(5000);
  await assert.rejects(
    sending,
    (e: unknown) => e instanceof MsrpSendError && e.status === 408 && e.code === "timeout",
  );
  alice.close();
  conn.close();
});

Deno.test("a failure REPORT rejects a send waiting for its success REPORT", async () => {
  const { alice, conn, peer } = await sessionToRaw();
  const sending = alice.send("x", { messageId: "msgFailRep2", successReport: true });
  const c = await readChunk(peer);
  await peer.send(response(c.first, 200));
  await peer.send({
    kind: "request",
    tid: "failrep2",
    method: "REPORT",
    headers: new HeaderList([
      ["To-Path", ALICE],
      ["From-Path", BOB],
      ["Message-ID", "msgFailRep2"],
      ["Byte-Range", "1-1/1"],
      ["Status", "000 415 Unsupported Media Type"],
    ]),
    body: null,
    offset: 0,
    flag: "$",
  });
  await assert.rejects(
    sending,
    (e: unknown) =>
      e instanceof MsrpSendError && e.status === 415 && e.comment === "Unsupported Media Type",
  );
  alice.close();
  conn.close();
});

Deno.test("a 413 while a chunk is being written interrupts it with # and stops the message (§10.5)", async () => {
  const { alice, conn, peer } = await sessionToRaw({ chunking: { pieceSize: 16 * 1024 } });
  const sending = alice.send(randomBytes(4 * 1024 * 1024));
  const first = await peer.next();
  assert.equal(first.kind, "request");
  await peer.send(response(first, 413, "Message Too Large"));
  const rest = await readChunk(peer);
  assert.equal(rest.pieces.at(-1)!.flag, "#");
  await assert.rejects(sending, (e: unknown) => {
    assert.ok(e instanceof MsrpSendError);
    assert.equal(e.status, 413);
    assert.ok(e.result.bytesSent < 4 * 1024 * 1024);
    return true;
  });
  // Nothing more of that message follows: the next frame is the fence's answer.
  assert.deepEqual(await peer.fence(ALICE, BOB), []);
  alice.close();
  conn.close();
});

Deno.test("abort: the open chunk ends with # and the send rejects", async () => {
  const { alice, conn, peer } = await sessionToRaw({ chunking: { pieceSize: 16 * 1024 } });
  const controller = new AbortController();
  const sending = alice.send(randomBytes(4 * 1024 * 1024), { signal: controller.signal });
  const first = await peer.next();
  assert.equal(first.kind === "request" && first.flag, undefined);
  controller.abort();
  const rest = await readChunk(peer);
  assert.equal(rest.pieces.at(-1)!.flag, "#");
  await assert.rejects(sending, (e: unknown) => e instanceof MsrpSendError && e.code === "aborted");
  alice.close();
  conn.close();
});

Deno.test("closing a session fails its pending sends clearly", async () => {
  const { alice, conn, peer } = await sessionToRaw();
  const sending = alice.send("never confirmed");
  await readChunk(peer);
  alice.close();
  await assert.rejects(sending, (e: unknown) => e instanceof MsrpSendError && e.code === "closed");
  await assert.rejects(
    alice.send("after close"),
    (e: unknown) => e instanceof MsrpSendError && e.code === "closed",
  );
  conn.close();
});

Deno.test("the connection closing fails pending sends", async () => {
  const { alice, conn, peer } = await sessionToRaw();
  const sending = alice.send("into the void");
  await readChunk(peer);
  peer.transport.close();
  await assert.rejects(sending, (e: unknown) => e instanceof MsrpSendError && e.code === "closed");
  assert.ok((await alice.closed).error);
  await conn.closed;
});

Deno.test("a response to an unknown transaction is ignored and logged", async () => {
  const logged: unknown[] = [];
  const [a, b] = memoryPipe();
  const conn = new MsrpConnection(a, {
    logger: (level, message, data) => logged.push([level, message, data]),
  });
  const peer = new RawPeer(b);
  await peer.send({
    kind: "response",
    tid: "nosuchtid1",
    status: 200,
    comment: "OK",
    headers: new HeaderList([["To-Path", ALICE], ["From-Path", BOB]]),
    flag: "$",
  });
  await peer.send(request("after1xx", ALICE, BOB, null, [["Message-ID", "msgAfter01"]]));
  const r = await peer.next(); // the 481 to the next request proves the response was read
  assert.equal(r.kind === "response" && r.status, 481);
  assert.deepEqual(logged[0], ["debug", "response to an unknown transaction ignored", {
    tid: "nosuchtid1",
    status: 200,
  }]);
  conn.close();
});
