import assert from "node:assert/strict";
import { MsrpError } from "../../lib/errors.ts";
import { memoryPipe } from "../../lib/transport/memory.ts";

import { concatBytes, prng, randomBytes, writeInPieces } from "../_util.ts";

/** Reads to the end; returns the pieces. */
async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  for await (const chunk of r) parts.push(chunk);
  return parts;
}

/** Lets every pending microtask run (no timers). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MsrpError, `expected an MsrpError, got ${e}`);
    assert.equal(e.code, code);
    return true;
  });
}

for (const chunkSize of [undefined, 1, 7, 4096]) {
  Deno.test(`memoryPipe: random bytes both ways arrive exactly, chunkSize ${chunkSize}`, async () => {
    const rand = prng(chunkSize ?? 0);
    const [a, b] = memoryPipe({ chunkSize, capacity: 1000 });
    const ab = randomBytes(chunkSize === 1 ? 20000 : 200000, rand);
    const ba = randomBytes(150000, rand);
    const [, , gotB, gotA] = await Promise.all([
      writeInPieces(a.writable, ab, prng(1), 3000),
      writeInPieces(b.writable, ba, prng(2), 3000),
      readAll(b.readable),
      readAll(a.readable),
    ]);
    assert.deepEqual(concatBytes(gotB), ab);
    assert.deepEqual(concatBytes(gotA), ba);
    if (chunkSize !== undefined) {
      for (const c of [...gotA, ...gotB]) assert.ok(c.length >= 1 && c.length <= chunkSize);
    }
    assert.equal(a.kind, "memory");
    assert.equal(a.secure, false);
    a.close();
    b.close();
  });
}

Deno.test("memoryPipe: a read returns one whole write when chunkSize is not set", async () => {
  const [a, b] = memoryPipe();
  const w = a.writable.getWriter();
  await w.write(new Uint8Array([1, 2, 3]));
  await w.write(new Uint8Array([4]));
  await w.write(new Uint8Array(0)); // nothing is delivered for an empty write
  await w.write(new Uint8Array([5, 6]));
  await w.close();
  assert.deepEqual(await readAll(b.readable), [
    new Uint8Array([1, 2, 3]),
    new Uint8Array([4]),
    new Uint8Array([5, 6]),
  ]);
  a.close();
  b.close();
});

Deno.test("memoryPipe: a written chunk is copied, so the writer may reuse its buffer", async () => {
  const [a, b] = memoryPipe();
  const buf = new Uint8Array([1, 2, 3, 4]);
  const w = a.writable.getWriter();
  await w.write(buf);
  buf.fill(9);
  const r = b.readable.getReader();
  assert.deepEqual((await r.read()).value, new Uint8Array([1, 2, 3, 4]));
  a.close();
  b.close();
});

Deno.test("memoryPipe: a write waits while the direction holds capacity bytes", async () => {
  const [a, b] = memoryPipe({ capacity: 4096 });
  const w = a.writable.getWriter();
  const chunk = new Uint8Array(1024);
  for (let i = 0; i < 4; i++) await w.write(chunk);
  assert.equal(a.bufferedAmount, 4096);
  let fifth = false;
  const p5 = w.write(chunk).then(() => fifth = true);
  await settle();
  assert.equal(fifth, false, "the fifth write must wait for the reader");
  assert.equal(a.bufferedAmount, 4096);
  const r = b.readable.getReader();
  assert.equal((await r.read()).value?.length, 1024);
  await p5;
  assert.equal(fifth, true);
  assert.equal(a.bufferedAmount, 4096);
  a.close();
  b.close();
});

Deno.test("memoryPipe: buffered bytes stay bounded while 4 MiB go through", async () => {
  const capacity = 8192;
  const [a, b] = memoryPipe({ capacity });
  const total = 4 * 1024 * 1024;
  const piece = 3000;
  let maxBuffered = 0;
  const writer = (async () => {
    const w = a.writable.getWriter();
    const chunk = new Uint8Array(piece);
    for (let sent = 0; sent < total; sent += piece) {
      chunk.fill(sent / piece);
      await w.write(chunk.subarray(0, Math.min(piece, total - sent)));
      maxBuffered = Math.max(maxBuffered, a.bufferedAmount);
    }
    await w.close();
  })();
  let received = 0;
  let reads = 0;
  for await (const c of b.readable) {
    assert.equal(c[0], Math.floor(received / piece) & 0xff);
    received += c.length;
    maxBuffered = Math.max(maxBuffered, a.bufferedAmount);
    // Read slowly: let the writer fill the queue between reads.
    if (++reads % 3 === 0) await settle();
  }
  await writer;
  assert.equal(received, total);
  assert.ok(maxBuffered <= capacity + piece - 1, `buffered ${maxBuffered} bytes`);
  assert.ok(maxBuffered >= capacity, "the writer should have filled the queue");
  a.close();
  b.close();
});

Deno.test("memoryPipe: closing a writable is a half close", async () => {
  const [a, b] = memoryPipe();
  const wa = a.writable.getWriter();
  await wa.write(new Uint8Array([1, 2]));
  await wa.close();
  assert.deepEqual(concatBytes(await readAll(b.readable)), new Uint8Array([1, 2]));
  // The other direction still works.
  const wb = b.writable.getWriter();
  await wb.write(new Uint8Array([3]));
  await wb.close();
  assert.deepEqual(concatBytes(await readAll(a.readable)), new Uint8Array([3]));
  a.close();
  b.close();
});

Deno.test("memoryPipe: aborting a writable drops queued bytes and fails the peer's read", async () => {
  const [a, b] = memoryPipe();
  const w = a.writable.getWriter();
  await w.write(new Uint8Array([1, 2, 3]));
  await w.abort(new Error("boom"));
  const r = b.readable.getReader();
  await rejectsWith(r.read(), "connection-reset");
  a.close();
  b.close();
});

Deno.test("memoryPipe: an abort wakes a reader that is already waiting", async () => {
  const [a, b] = memoryPipe();
  const r = b.readable.getReader();
  const pending = r.read();
  await settle();
  await a.writable.abort();
  await rejectsWith(pending, "connection-reset");
  a.close();
  b.close();
});

Deno.test("memoryPipe: close() delivers what was queued, then ends both directions", async () => {
  const [a, b] = memoryPipe();
  const wa = a.writable.getWriter();
  await wa.write(new Uint8Array([7, 8, 9]));
  const ra = a.readable.getReader();
  const pendingA = ra.read();
  a.close();
  // Our own pending read ends; our writes fail.
  assert.deepEqual(await pendingA, { done: true, value: undefined });
  await rejectsWith(wa.write(new Uint8Array([1])), "connection-closed");
  // The peer reads what was queued, then the end; its writes fail.
  assert.deepEqual(concatBytes(await readAll(b.readable)), new Uint8Array([7, 8, 9]));
  await rejectsWith(b.writable.getWriter().write(new Uint8Array([1])), "connection-reset");
  a.close(); // twice is harmless
  b.close();
});

Deno.test("memoryPipe: the peer's close wakes a waiting reader and a blocked writer", async () => {
  const [a, b] = memoryPipe({ capacity: 4 });
  const ra = a.readable.getReader();
  const pendingRead = ra.read();
  const wa = a.writable.getWriter();
  await wa.write(new Uint8Array(4));
  const blocked = wa.write(new Uint8Array(4)); // waits: the queue is full
  await settle();
  b.close();
  assert.deepEqual(await pendingRead, { done: true, value: undefined });
  await rejectsWith(blocked, "connection-reset");
  a.close();
});

Deno.test("memoryPipe: cancelling a readable makes the peer's writes fail", async () => {
  const [a, b] = memoryPipe({ capacity: 4 });
  const wb = b.writable.getWriter();
  await wb.write(new Uint8Array(4));
  const blocked = wb.write(new Uint8Array(4));
  await settle();
  await a.readable.cancel();
  await rejectsWith(blocked, "connection-reset");
  a.close();
  b.close();
});

Deno.test("memoryPipe: bad options are refused", () => {
  assert.throws(() => memoryPipe({ chunkSize: 0 }), RangeError);
  assert.throws(() => memoryPipe({ capacity: 1.5 }), RangeError);
});
