// Helpers shared by the tests: a seeded PRNG, split drivers for the decoder,
// and a normal form of decoder output that does not depend on piece sizes.

import { type DecodedFrame, type FrameDecoderOptions, FrameParser } from "../lib/wire/mod.ts";
import type { MsrpRequest } from "../mod.ts";

/** Deterministic PRNG (mulberry32) so random tests replay exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * `n` random bytes: replayable from `rand` when given, else from
 * `crypto.getRandomValues` (which hands out at most 64 KiB per call).
 */
export function randomBytes(n: number, rand?: () => number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  if (rand !== undefined) {
    for (let i = 0; i < n; i++) out[i] = (rand() * 256) | 0;
    return out;
  }
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
}

/** Writes `data` to `w` in pieces of 1 to `maxPiece` bytes chosen by `rand`, then closes it. */
export async function writeInPieces(
  w: WritableStream<Uint8Array>,
  data: Uint8Array,
  rand: () => number,
  maxPiece: number,
): Promise<void> {
  const writer = w.getWriter();
  for (let at = 0; at < data.length;) {
    const n = Math.min(data.length - at, 1 + ((rand() * maxPiece) | 0));
    await writer.write(data.subarray(at, at + n));
    at += n;
  }
  await writer.close();
}

/** Feeds `input` to a fresh parser cut at the given positions. */
export function decodeSplit(
  input: Uint8Array,
  cuts: readonly number[],
  options?: FrameDecoderOptions,
): DecodedFrame[] {
  const parser = new FrameParser(options);
  const out: DecodedFrame[] = [];
  const emit = (f: DecodedFrame) => out.push(f);
  let prev = 0;
  for (const c of [...cuts, input.length]) {
    if (c > prev) parser.push(input.subarray(prev, c), emit);
    prev = Math.max(prev, c);
  }
  parser.finish(emit);
  return out;
}

/** A frame in a form independent of how the decoder cut it into pieces. */
export interface Normal {
  kind: string;
  tid?: string;
  method?: string;
  status?: number;
  comment?: string;
  headers?: [string, string][];
  body?: string | null; // hex, to compare binary exactly
  flag?: string;
  error?: string;
  fatal?: boolean;
}

function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/**
 * Joins the pieces of each request and checks on the way that pieces are
 * consistent: offsets follow each other, only the last has a flag.
 */
export function normalize(frames: readonly DecodedFrame[]): Normal[] {
  const out: Normal[] = [];
  let open: { first: MsrpRequest; parts: Uint8Array[]; next: number } | undefined;
  const close = (flag: string | undefined) => {
    const r = open!.first;
    out.push({
      kind: "request",
      tid: r.tid,
      method: r.method,
      headers: [...r.headers],
      body: r.body === null ? null : hex(concatBytes(open!.parts)),
      flag: flag ?? "(none)",
    });
    open = undefined;
  };
  for (const f of frames) {
    if (f.kind === "request") {
      if (open) {
        if (f.tid !== open.first.tid || f.offset !== open.next) {
          throw new Error(
            `piece out of order: ${f.tid}@${f.offset}, expected ${open.first.tid}@${open.next}`,
          );
        }
        open.parts.push(f.body!);
        open.next += f.body!.length;
        if (f.flag !== undefined) close(f.flag);
        continue;
      }
      if (f.offset !== 0) throw new Error(`first piece of ${f.tid} at offset ${f.offset}`);
      open = { first: f, parts: f.body ? [f.body] : [], next: f.body?.length ?? 0 };
      if (f.flag !== undefined) close(f.flag);
      continue;
    }
    if (open) close(undefined); // a piece stream cut off (truncated)
    if (f.kind === "response") {
      out.push({
        kind: "response",
        tid: f.tid,
        status: f.status,
        comment: f.comment,
        headers: [...f.headers],
        flag: f.flag,
      });
    } else {
      out.push({ kind: "invalid", tid: f.tid, error: f.error.code, fatal: f.error.fatal });
    }
  }
  if (open) close(undefined);
  return out;
}
