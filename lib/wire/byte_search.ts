/**
 * Finding the end-line in a body (RFC 4975 §7.1, §7.3.1).
 *
 * MSRP frames a body by a boundary, not by a length: the body ends at
 * `CRLF "-------" transact-id flag CRLF`. §7.3.1 notes that the seven dashes
 * let a receiver "search for the value '----', 32 bits at a time" and so find
 * the boundary at memory-copy speed. In JavaScript the fastest portable way is
 * a Boyer-Moore-Horspool search for the whole `CRLF ------- tid` pattern: it
 * looks at roughly one byte in every pattern-length bytes (13 to 41 bytes for
 * 4- to 32-letter transaction ids), so a 1 MiB body is crossed in well under
 * a millisecond, several times faster than scanning it for every CR.
 *
 * @module
 */

/**
 * Below this many candidate positions a plain scan beats building a skip
 * table. The table is rebuilt for every new transaction id, so the decoder
 * pays for it once per frame: it must pay back within a short body.
 */
const SMALL = 64;

/**
 * A byte pattern that can be searched for quickly and repeatedly. The
 * pattern may be changed in place (the decoder reuses one per connection):
 * write into {@linkcode BytePattern.buffer}, then call
 * {@linkcode BytePattern.update}.
 */
export class BytePattern {
  /** Holds the pattern in its first {@linkcode BytePattern.length} bytes. */
  readonly buffer: Uint8Array;
  #length: number;
  #shift: Uint8Array | undefined;
  #shiftValid = false;

  /**
   * Makes a pattern.
   *
   * @param bytes the pattern, at least 2 and at most 255 bytes long
   * @param capacity room for longer patterns set later with `update`
   */
  constructor(bytes: Uint8Array, capacity: number = bytes.length) {
    this.buffer = new Uint8Array(Math.max(capacity, bytes.length));
    this.buffer.set(bytes);
    this.#length = 0;
    this.update(bytes.length);
  }

  /** The pattern's length in bytes. */
  get length(): number {
    return this.#length;
  }

  /**
   * Declares that the first `length` bytes of `buffer` are the new pattern.
   *
   * @param length the new length, 2 to 255 and at most the capacity
   */
  update(length: number): void {
    if (length < 2 || length > 255 || length > this.buffer.length) {
      throw new RangeError("pattern must be 2..255 bytes and fit the buffer");
    }
    this.#length = length;
    this.#shiftValid = false;
  }

  /**
   * Index of the first occurrence of the pattern in `h` that starts at or
   * after `from` and at or before `lastStart`, or -1.
   *
   * @param h the bytes to search
   * @param from first start position to consider
   * @param lastStart last start position to consider (clamped to where the pattern still fits)
   */
  find(h: Uint8Array, from: number, lastStart: number): number {
    const p = this.buffer;
    const m = this.#length;
    if (lastStart > h.length - m) lastStart = h.length - m;
    if (from > lastStart) return -1;
    if (lastStart - from < SMALL) return this.#findShort(h, from, lastStart);
    const shift = this.#skipTable();
    const last = p[m - 1];
    const first = p[0];
    // i is the position of the pattern's last byte under the current window.
    const end = lastStart + m - 1;
    let i = from + m - 1;
    while (i <= end) {
      const c = h[i];
      if (c === last) {
        const s = i - m + 1;
        if (h[s] === first) {
          let j = 1;
          while (j < m - 1 && h[s + j] === p[j]) j++;
          if (j === m - 1) return s;
        }
      }
      i += shift[c];
    }
    return -1;
  }

  #findShort(h: Uint8Array, from: number, lastStart: number): number {
    const p = this.buffer;
    const m = this.#length;
    const first = p[0];
    for (let s = h.indexOf(first, from); s >= 0 && s <= lastStart; s = h.indexOf(first, s + 1)) {
      let j = 1;
      while (j < m && h[s + j] === p[j]) j++;
      if (j === m) return s;
    }
    return -1;
  }

  /** Horspool's table: how far the window may move when byte `c` is under its end. */
  #skipTable(): Uint8Array {
    const shift = this.#shift ??= new Uint8Array(256);
    if (!this.#shiftValid) {
      const p = this.buffer;
      const m = this.#length;
      shift.fill(m);
      for (let i = 0; i < m - 1; i++) shift[p[i]] = m - 1 - i;
      this.#shiftValid = true;
    }
    return shift;
  }
}
