// Codec throughput: decoding and encoding 100-byte text messages and 1 MiB
// binary chunks, beside two baselines on the same bytes in the same run:
// a memcpy (Uint8Array.prototype.set) and a scan for every CR with indexOf.
//
//   deno task bench            (all bench files)
//   deno bench -A bench/codec_bench.ts
//   deno run -A bench/codec_bench.ts     (the MB/s table only, quicker)
//
// Input is fed as 64 KiB reads, as a TCP socket delivers it. A last table
// writes decoded frames straight back out, as a relay passing them on does.
// Timings vary from run to run on a shared machine: compare the best of
// several runs.

import {
  type DecodedFrame,
  FrameDecoderStream,
  FrameEncoderStream,
  FrameParser,
  FrameWriter,
  HeaderList,
} from "../lib/wire/mod.ts";
import type { Frame, MsrpRequest } from "../mod.ts";
import { measure, printTable } from "./_measure.ts";

const enc = new TextEncoder();
const READ = 64 * 1024;

function headers(withRange: string): HeaderList {
  return new HeaderList([
    ["To-Path", "msrp://bob.example.com:2855/kjhd37s2s20w2a;tcp"],
    ["From-Path", "msrp://alice.example.com:2855/jshA7weztas;tcp"],
    ["Message-ID", "87652491ab"],
    ["Byte-Range", withRange],
    ["Content-Type", "text/plain"],
  ]);
}

// (a) 100-byte text messages: 20,000 SEND frames.
const SMALL_COUNT = 20_000;
const smallBody = enc.encode("x".repeat(98) + "\r\n");
const smallFrames: MsrpRequest[] = Array.from({ length: SMALL_COUNT }, (_, i) => ({
  kind: "request",
  tid: `t${i.toString(36).padStart(11, "0")}`,
  method: "SEND",
  headers: headers("1-100/100"),
  body: smallBody,
  offset: 0,
  flag: "$",
}));

// (b) 1 MiB binary chunks: 32 SEND frames of random bytes.
const BIG = 1024 * 1024;
const BIG_COUNT = 32;
const bigBody = new Uint8Array(BIG);
for (let i = 0; i < BIG; i += 65536) crypto.getRandomValues(bigBody.subarray(i, i + 65536));
const bigFrames: MsrpRequest[] = Array.from({ length: BIG_COUNT }, (_, i) => ({
  kind: "request",
  tid: `b${i.toString(36).padStart(11, "0")}`,
  method: "SEND",
  headers: headers(`${i * BIG + 1}-${(i + 1) * BIG}/${BIG * BIG_COUNT}`),
  body: bigBody,
  offset: 0,
  flag: "+",
}));

function wire(frames: Frame[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const w = new FrameWriter();
  for (const f of frames) w.write(f, (b) => parts.push(b));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function reads(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += READ) out.push(bytes.subarray(i, i + READ));
  return out;
}

const smallWire = wire(smallFrames);
const bigWire = wire(bigFrames);
const smallReads = reads(smallWire);
const bigReads = reads(bigWire);
const scratch = new Uint8Array(Math.max(smallWire.length, bigWire.length));

// ---- the two baselines ----
function memcpy(chunks: Uint8Array[]): void {
  let at = 0;
  for (const c of chunks) {
    scratch.set(c, at);
    at += c.length;
  }
}
function scanCR(chunks: Uint8Array[]): number {
  let n = 0;
  for (const c of chunks) {
    for (let i = c.indexOf(13); i >= 0; i = c.indexOf(13, i + 1)) n++;
  }
  return n;
}

// ---- the codec ----
function parse(chunks: Uint8Array[]): number {
  const p = new FrameParser();
  let n = 0;
  const emit = (f: DecodedFrame) => {
    if (f.kind === "invalid") throw new Error("bench input is invalid");
    if (f.flag !== undefined) n++; // count frames, not pieces
  };
  for (const c of chunks) p.push(c, emit);
  p.finish(emit);
  return n;
}
async function decodeStream(chunks: Uint8Array[]): Promise<number> {
  let n = 0;
  for await (const f of ReadableStream.from(chunks).pipeThrough(new FrameDecoderStream())) {
    if (f.kind === "invalid") throw new Error("bench input is invalid");
    if (f.flag !== undefined) n++;
  }
  return n;
}
function write(frames: Frame[]): number {
  const w = new FrameWriter();
  let n = 0;
  for (const f of frames) w.write(f, (b) => (n += b.length));
  return n;
}
/**
 * Decoded frames (lazy header lists, body views, pieces) written straight
 * back out, as a relay passing frames on does; nothing is kept, so the
 * frames die young. (Keeping 20,000 decoded frames early in the run made
 * V8 allocate the decoder's objects in the old generation for the rest of
 * it, halving every later small-frame row.)
 */
function relay(chunks: Uint8Array[]): number {
  const p = new FrameParser();
  const w = new FrameWriter();
  let n = 0;
  const out = (b: Uint8Array) => (n += b.length);
  const emit = (f: DecodedFrame) => {
    if (f.kind === "invalid") throw new Error("bench input is invalid");
    w.write(f, out);
  };
  for (const c of chunks) p.push(c, emit);
  p.finish(emit);
  return n;
}
async function encodeStream(frames: Frame[]): Promise<number> {
  const e = new FrameEncoderStream();
  const sink = (async () => {
    let n = 0;
    for await (const b of e.readable) n += b.length;
    return n;
  })();
  const w = e.writable.getWriter();
  for (const f of frames) await w.write(f);
  await w.close();
  return await sink;
}

// Deno's own bench table (time per iteration).
Deno.bench("baseline memcpy: 32 x 1 MiB", { group: "big", baseline: true }, () => memcpy(bigReads));
Deno.bench("baseline indexOf(CR) scan: 32 x 1 MiB", { group: "big" }, () => void scanCR(bigReads));
Deno.bench("FrameParser: 32 x 1 MiB", { group: "big" }, () => void parse(bigReads));
Deno.bench(
  "FrameDecoderStream: 32 x 1 MiB",
  { group: "big" },
  async () => void await decodeStream(bigReads),
);
Deno.bench("FrameWriter: 32 x 1 MiB", { group: "big" }, () => void write(bigFrames));
Deno.bench("relay, parser to writer: 32 x 1 MiB", { group: "big" }, () => void relay(bigReads));
Deno.bench(
  "FrameEncoderStream: 32 x 1 MiB",
  { group: "big" },
  async () => void await encodeStream(bigFrames),
);
Deno.bench(
  "baseline memcpy: 20k x 100 B",
  { group: "small", baseline: true },
  () => memcpy(smallReads),
);
Deno.bench(
  "baseline indexOf(CR) scan: 20k x 100 B",
  { group: "small" },
  () => void scanCR(smallReads),
);
Deno.bench("FrameParser: 20k x 100 B", { group: "small" }, () => void parse(smallReads));
Deno.bench(
  "FrameDecoderStream: 20k x 100 B",
  { group: "small" },
  async () => void await decodeStream(smallReads),
);
Deno.bench("FrameWriter: 20k x 100 B", { group: "small" }, () => void write(smallFrames));
Deno.bench(
  "relay, parser to writer: 20k x 100 B",
  { group: "small" },
  () => void relay(smallReads),
);
Deno.bench(
  "FrameEncoderStream: 20k x 100 B",
  { group: "small" },
  async () => void await encodeStream(smallFrames),
);

// MB/s and frames/s, printed once before deno's table.
if (parse(bigReads) !== BIG_COUNT || parse(smallReads) !== SMALL_COUNT) {
  throw new Error("bad bench input");
}
const big = bigWire.length;
const small = smallWire.length;
const bigBase = await measure("baseline indexOf(CR) scan", big, undefined, () => scanCR(bigReads));
printTable(
  `1 MiB binary chunks (${BIG_COUNT} frames, ${(big / 1e6).toFixed(1)} MB per run, 64 KiB reads)`,
  [
    await measure("baseline memcpy (Uint8Array.set)", big, undefined, () => memcpy(bigReads)),
    bigBase,
    await measure("decode: FrameParser (sans-I/O core)", big, BIG_COUNT, () => parse(bigReads)),
    await measure("decode: FrameDecoderStream", big, BIG_COUNT, () => decodeStream(bigReads)),
    await measure("encode: FrameWriter (sans-I/O core)", big, BIG_COUNT, () => write(bigFrames)),
    await measure("encode: FrameEncoderStream", big, BIG_COUNT, () => encodeStream(bigFrames)),
  ],
  bigBase,
);
const smallBase = await measure(
  "baseline indexOf(CR) scan",
  small,
  undefined,
  () => scanCR(smallReads),
);
printTable(
  `100-byte text messages (${SMALL_COUNT} frames, ${(small / 1e6).toFixed(1)} MB per run)`,
  [
    await measure("baseline memcpy (Uint8Array.set)", small, undefined, () => memcpy(smallReads)),
    smallBase,
    await measure(
      "decode: FrameParser (sans-I/O core)",
      small,
      SMALL_COUNT,
      () => parse(smallReads),
    ),
    await measure("decode: FrameDecoderStream", small, SMALL_COUNT, () => decodeStream(smallReads)),
    await measure(
      "encode: FrameWriter (sans-I/O core)",
      small,
      SMALL_COUNT,
      () => write(smallFrames),
    ),
    await measure(
      "encode: FrameEncoderStream",
      small,
      SMALL_COUNT,
      () => encodeStream(smallFrames),
    ),
  ],
  smallBase,
);
// Last, so that its mix of decoded frames and writer cannot sway the rows above.
if (relay(bigReads) !== bigWire.length || relay(smallReads) !== smallWire.length) {
  throw new Error("relay output differs from its input");
}
printTable("Decoded frames written straight back out (a relay's pass-through)", [
  await measure("relay: FrameParser → FrameWriter, 1 MiB", big, BIG_COUNT, () => relay(bigReads)),
  await measure(
    "relay: FrameParser → FrameWriter, 100 B",
    small,
    SMALL_COUNT,
    () => relay(smallReads),
  ),
]);
console.log("");
