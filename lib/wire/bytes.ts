/**
 * Joining byte arrays, for the few places that must hand out one buffer
 * made of several reads (RFC 4975 §7.3.1: a body that spans reads), and
 * writing ASCII header text straight into a frame's bytes (RFC 4975 §9:
 * the start line and header fields are ASCII).
 *
 * @module
 */

/**
 * The parts one after the other in one new buffer; a single part is
 * returned as is, without a copy.
 *
 * @param parts the arrays to join
 * @param total their summed length, when the caller knows it
 */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  let n = total ?? 0;
  if (total === undefined) { for (const p of parts) n += p.length; }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The parts regrouped for writing: each run of small parts joined into one
 * buffer of at most `max` bytes, a part of `max` bytes or more kept as it
 * is (no copy of large bodies). Writing the result makes one system call
 * per run instead of one per part (RFC 4975 §7.1 frames are often small).
 *
 * @param parts the arrays to write, in order
 * @param max the most bytes copied into one buffer
 */
export function gatherBytes(parts: readonly Uint8Array[], max: number): Uint8Array[] {
  if (parts.length <= 1) return parts as Uint8Array[];
  const out: Uint8Array[] = [];
  for (let i = 0; i < parts.length;) {
    let j = i + 1;
    let size = parts[i].length;
    while (j < parts.length && size + parts[j].length <= max) size += parts[j++].length;
    out.push(j === i + 1 ? parts[i] : concatBytes(parts.slice(i, j), size));
    i = j;
  }
  return out;
}

/**
 * Writes `s` into `buf` at `at` when every character of it lies between
 * `lowest` and "~" (printable ASCII; `lowest` 0x20 lets spaces in, 0x21
 * does not): the index after it, or -1 when a character is outside (or
 * `at` is already -1), so that writers can chain calls and check once.
 *
 * @param s the text
 * @param buf where to write (the caller sized it)
 * @param at where to start, or -1
 * @param lowest the lowest character code allowed
 */
export function putAscii(s: string, buf: Uint8Array, at: number, lowest: number): number {
  if (at < 0) return -1;
  const span = 0x7e - lowest;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch - lowest >>> 0 > span) return -1;
    buf[at + i] = ch;
  }
  return at + s.length;
}
