// The shared pieces of the transport adapters (lib/transport/adapter.ts): the
// bounded queue of pushed bytes that the node:net/node:tls and WebSocket
// adapters read from.

import assert from "node:assert/strict";
import { InboundQueue } from "../../lib/transport/adapter.ts";
import { MsrpError } from "../../lib/errors.ts";

/** Reads `queue` through a stream until it ends; returns the chunks, or throws its error. */
async function drain(queue: InboundQueue): Promise<number[]> {
  const readable = new ReadableStream<Uint8Array>({
    pull: (c) => queue.pull(c, () => c.close()),
  }, { highWaterMark: 0 });
  const out: number[] = [];
  for await (const chunk of readable) out.push(...chunk);
  return out;
}

Deno.test("inbound queue: chunks come out in order, then the end; 200 chunks cross the compaction", async () => {
  const q = new InboundQueue(1000);
  for (let i = 0; i < 200; i++) assert.equal(q.push(new Uint8Array([i])), true);
  assert.equal(q.bytes, 200);
  q.end();
  assert.deepEqual(await drain(q), Array.from({ length: 200 }, (_, i) => i));
  assert.equal(q.bytes, 0);
});

Deno.test("inbound queue: bytes past the limit are refused and not kept", () => {
  const q = new InboundQueue(10);
  assert.equal(q.push(new Uint8Array(6)), true);
  assert.equal(q.push(new Uint8Array(5)), false);
  assert.equal(q.bytes, 6);
  assert.equal(q.push(new Uint8Array(4)), true);
  assert.equal(q.bytes, 10);
});

Deno.test("inbound queue: end(error) gives the held bytes first, then the error", async () => {
  const q = new InboundQueue(100);
  q.push(new Uint8Array([1, 2]));
  const broken = new MsrpError("connection-reset", "reset");
  q.end(broken);
  const readable = new ReadableStream<Uint8Array>({
    pull: (c) => q.pull(c, () => c.close()),
  }, { highWaterMark: 0 });
  const reader = readable.getReader();
  assert.deepEqual((await reader.read()).value, new Uint8Array([1, 2]));
  await assert.rejects(reader.read(), (e) => e === broken);
});

Deno.test("inbound queue: clear(error) drops what is held and wakes a waiting reader with it", async () => {
  const q = new InboundQueue(100);
  const readable = new ReadableStream<Uint8Array>({
    pull: (c) => q.pull(c, () => c.close()),
  }, { highWaterMark: 0 });
  const reading = readable.getReader().read();
  const overflow = new MsrpError("receive-overflow", "too much");
  q.clear(overflow);
  await assert.rejects(reading, (e) => e === overflow);
  assert.equal(q.bytes, 0);
});
