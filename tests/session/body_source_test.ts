// Body sources (§7.1.1): strings, bytes, Blobs and streams read piece by
// piece, with declared sizes enforced.

import assert from "node:assert/strict";
import { bodySource, defaultContentType } from "../../lib/session/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("bytes are handed out as views, up to max", async () => {
  const bytes = enc("hello world");
  const src = bodySource(bytes);
  assert.equal(src.size, 11);
  const a = await src.read(5);
  assert.equal(a.buffer, bytes.buffer);
  assert.deepEqual(await src.read(100), enc(" world"));
  assert.equal(src.done, true);
  assert.deepEqual(await src.read(5), new Uint8Array(0));
});

Deno.test("a stream with a declared size is done at that size, so its last chunk can say $", async () => {
  const src = bodySource(ReadableStream.from([enc("abc"), enc("def")]), 6);
  assert.deepEqual(await src.read(100), enc("abc"));
  assert.equal(src.done, false);
  assert.deepEqual(await src.read(100), enc("def"));
  assert.equal(src.done, true, "known to be at its end without another read");
});

Deno.test("a stream longer than declared is an error, not silently cut", async () => {
  const src = bodySource(ReadableStream.from([enc("abc"), enc("def")]), 3);
  await assert.rejects(() => Promise.resolve(src.read(100)), RangeError);
});

Deno.test("a stream shorter than declared is an error", async () => {
  const src = bodySource(ReadableStream.from([enc("ab")]), 5);
  await src.read(100);
  await assert.rejects(() => Promise.resolve(src.read(100)), /ended at 2 of its declared size 5/);
});

Deno.test("a stream of unknown size ends when the stream does", async () => {
  const src = bodySource(ReadableStream.from([enc("ab"), enc("cd")]));
  assert.equal(src.size, undefined);
  assert.deepEqual(await src.read(1), enc("a"));
  assert.deepEqual(await src.read(10), enc("b"));
  assert.deepEqual(await src.read(10), enc("cd"));
  assert.equal(src.done, false);
  assert.deepEqual(await src.read(10), new Uint8Array(0));
  assert.equal(src.done, true);
});

Deno.test("default content types", () => {
  assert.equal(defaultContentType("x"), "text/plain;charset=UTF-8");
  assert.equal(defaultContentType(new Uint8Array(1)), "application/octet-stream");
  assert.equal(defaultContentType(new Blob(["x"], { type: "image/png" })), "image/png");
  assert.equal(defaultContentType(new Blob(["x"])), "application/octet-stream");
});
