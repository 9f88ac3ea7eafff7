/**
 * Bytes to text and back for the textual parts of a frame: the start line,
 * header fields and end-line, which RFC 4975 §9 defines as UTF-8 (mostly
 * US-ASCII). Bodies are never decoded here; they stay bytes.
 *
 * @module
 */

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });
const utf8 = new TextEncoder();

/**
 * Decodes `b[start..end)`, which the caller has checked to be US-ASCII.
 * Short runs are built char by char, which beats a TextDecoder call.
 *
 * @param b the bytes
 * @param start first index
 * @param end index after the last byte
 */
export function ascii(b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return "";
  if (n > 64) {
    return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
  }
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
}

/**
 * Decodes `b[start..end)` as strict UTF-8.
 *
 * @param b the bytes
 * @param start first index
 * @param end index after the last byte
 * @returns the text, or `undefined` when the bytes are not valid UTF-8
 */
export function utf8OrUndefined(b: Uint8Array, start: number, end: number): string | undefined {
  try {
    return utf8Fatal.decode(b.subarray(start, end));
  } catch {
    return undefined;
  }
}

/**
 * Encodes text as UTF-8.
 *
 * @param s the text
 */
export function encodeUtf8(s: string): Uint8Array {
  return utf8.encode(s);
}

/**
 * Writes `s` as UTF-8 into `dst` at `at` and returns the number of bytes
 * written. `dst` must have room for `3 * s.length` bytes.
 *
 * @param s the text
 * @param dst the destination buffer
 * @param at where to start writing
 */
export function encodeUtf8Into(s: string, dst: Uint8Array, at: number): number {
  return utf8.encodeInto(s, dst.subarray(at)).written;
}

/**
 * The bytes of an ASCII string (each char code below 128).
 *
 * @param s the ASCII text
 */
export function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
