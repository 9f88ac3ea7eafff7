/**
 * MD5 (RFC 1321) and SHA-256 (FIPS 180-4 §6.2), written out in plain
 * TypeScript, synchronous, for the short strings that HTTP Digest hashes
 * (RFC 7616 §3.4.1: `H(data)` is the lower-case hex of the hash).
 *
 * Why not Web Crypto? `crypto.subtle.digest` is asynchronous and has no
 * MD5, yet MD5 is still Digest's default algorithm (RFC 7616 §3.3: an
 * absent `algorithm` means MD5) and deployed relays challenge with it. A
 * few dozen lines of arithmetic let the relay client run unchanged in Deno,
 * Node and browsers. These functions are for Digest strings and certificate
 * fingerprints, not for bulk data: they are simple rather than fast. Beside
 * them, two helpers Digest needs: a constant-time string comparison and
 * random hex for nonces.
 *
 * @module
 */

const utf8 = new TextEncoder();

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? utf8.encode(data) : data;
}

function hex(words: Uint32Array | number[], littleEndian: boolean): string {
  let out = "";
  for (const w of words) {
    for (let i = 0; i < 4; i++) {
      const b = littleEndian ? (w >>> (8 * i)) & 0xff : (w >>> (24 - 8 * i)) & 0xff;
      out += (b < 16 ? "0" : "") + b.toString(16);
    }
  }
  return out;
}

/**
 * Appends the padding both hashes use (RFC 1321 §3.1-3.2, FIPS 180-4 §5.1.1):
 * a 1 bit, zeros up to 56 mod 64 octets, then the message length in bits as
 * a 64-bit number, little-endian for MD5 and big-endian for SHA-256.
 */
function pad(message: Uint8Array, littleEndian: boolean): DataView {
  const length = (((message.length + 8) >>> 6) + 1) << 6;
  const bytes = new Uint8Array(length);
  bytes.set(message);
  bytes[message.length] = 0x80;
  const view = new DataView(bytes.buffer);
  const bits = message.length * 8;
  const low = bits >>> 0;
  const high = Math.floor(bits / 0x1_0000_0000);
  if (littleEndian) {
    view.setUint32(length - 8, low, true);
    view.setUint32(length - 4, high, true);
  } else {
    view.setUint32(length - 8, high, false);
    view.setUint32(length - 4, low, false);
  }
  return view;
}

// RFC 1321 §3.4: the per-step shift amounts, and T[i] = floor(2^32 * |sin(i + 1)|).
const MD5_SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const MD5_T = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32));

/**
 * The MD5 digest of `data` as 32 lower-case hex digits (RFC 1321).
 *
 * @example
 * ```ts
 * import { md5Hex } from "./hash.ts";
 * md5Hex("abc"); // "900150983cd24fb0d6963f7d28e17f72"
 * ```
 *
 * @param data a string (hashed as UTF-8) or bytes
 * @returns the digest in hex
 */
export function md5Hex(data: string | Uint8Array): string {
  const view = pad(toBytes(data), true);
  const state = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
  const x = new Array<number>(16);
  for (let block = 0; block < view.byteLength; block += 64) {
    for (let i = 0; i < 16; i++) x[i] = view.getUint32(block + 4 * i, true);
    let [a, b, c, d] = state;
    for (let i = 0; i < 64; i++) {
      const round = i >>> 4;
      let f: number;
      let k: number;
      if (round === 0) [f, k] = [(b & c) | (~b & d), i]; // F, §3.4 round 1
      else if (round === 1) [f, k] = [(b & d) | (c & ~d), (5 * i + 1) & 15]; // G
      else if (round === 2) [f, k] = [b ^ c ^ d, (3 * i + 5) & 15]; // H
      else [f, k] = [c ^ (b | ~d), (7 * i) & 15]; // I
      const sum = (a + f + MD5_T[i] + x[k]) | 0;
      const s = MD5_SHIFTS[(round << 2) | (i & 3)];
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
    }
    state[0] = (state[0] + a) | 0;
    state[1] = (state[1] + b) | 0;
    state[2] = (state[2] + c) | 0;
    state[3] = (state[3] + d) | 0;
  }
  return hex(state.map((w) => w >>> 0), true);
}

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube
// roots of the first 64 primes, and §5.3.3: those of the square roots of the
// first 8 primes.
const SHA256_K = new Uint32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);
const SHA256_H0 = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
];

function rotr(x: number, n: number): number {
  return (x >>> n) | (x << (32 - n));
}

/**
 * The SHA-256 digest of `data` as 64 lower-case hex digits (FIPS 180-4 §6.2).
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./hash.ts";
 * sha256Hex("abc").slice(0, 8); // "ba7816bf"
 * ```
 *
 * @param data a string (hashed as UTF-8) or bytes
 * @returns the digest in hex
 */
export function sha256Hex(data: string | Uint8Array): string {
  const view = pad(toBytes(data), false);
  const h = new Uint32Array(SHA256_H0);
  const w = new Uint32Array(64);
  for (let block = 0; block < view.byteLength; block += 64) {
    // §6.2.2 step 1: the message schedule.
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + 4 * t, false);
    for (let t = 16; t < 64; t++) {
      const s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
      const s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    // Steps 2-4: 64 rounds over the working variables a..h.
    let [a, b, c, d, e, f, g, hh] = h;
    for (let t = 0; t < 64; t++) {
      const t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
        SHA256_K[t] + w[t];
      const t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  return hex(h, false);
}

/**
 * Whether two strings are equal, in time that depends on their lengths only,
 * not on where they first differ: for comparing digests (RFC 7616 §5.12 asks
 * servers not to leak by timing; a client checking `rspauth` does the same).
 *
 * @param a one string
 * @param b the other
 * @returns true when they are the same text
 */
export function timingSafeEqualText(a: string, b: string): boolean {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

/**
 * `bytes` random bytes (Web Crypto `getRandomValues`) as lower-case hex, e.g.
 * for a Digest `cnonce` (RFC 7616 §3.4).
 *
 * @param bytes how many random bytes
 * @returns 2 × `bytes` hex digits
 */
export function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  let out = "";
  for (const x of b) out += x.toString(16).padStart(2, "0");
  return out;
}
