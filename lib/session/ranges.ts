/**
 * Sets of byte ranges: which octets of a message were received, which were
 * confirmed by success REPORTs (RFC 4975 §7.1.3, §7.3.1, §7.3.2).
 *
 * Ranges are half-open `[start, end)` offsets counted from 0; the
 * Byte-Range header counts from 1 and includes its end, so
 * `Byte-Range: 1-100/100` is `[0, 100)`.
 *
 * @module
 */

/** A set of disjoint, sorted half-open ranges. */
export class RangeSet {
  // Flattened [start0, end0, start1, end1, ...], sorted and disjoint.
  #r: number[] = [];

  /** Total octets covered. */
  get covered(): number {
    let n = 0;
    for (let i = 0; i < this.#r.length; i += 2) n += this.#r[i + 1] - this.#r[i];
    return n;
  }

  /** Number of disjoint ranges (gaps + 1, when not empty). */
  get count(): number {
    return this.#r.length / 2;
  }

  /**
   * Adds `[start, end)`, merging with neighbours it touches or overlaps.
   *
   * @param start first offset
   * @param end offset after the last
   */
  add(start: number, end: number): void {
    if (end <= start) return;
    const r = this.#r;
    // Find the first range whose end reaches start.
    let i = 0;
    while (i < r.length && r[i + 1] < start) i += 2;
    let j = i;
    let s = start;
    let e = end;
    while (j < r.length && r[j] <= e) {
      s = Math.min(s, r[j]);
      e = Math.max(e, r[j + 1]);
      j += 2;
    }
    r.splice(i, j - i, s, e);
  }

  /**
   * Octets from `from` that are covered without a gap.
   *
   * @param from where to start counting
   */
  contiguousFrom(from: number): number {
    const r = this.#r;
    for (let i = 0; i < r.length; i += 2) {
      if (r[i] <= from && from < r[i + 1]) return r[i + 1] - from;
    }
    return 0;
  }

  /**
   * Whether `[start, end)` is wholly covered.
   *
   * @param start first offset
   * @param end offset after the last
   */
  covers(start: number, end: number): boolean {
    if (end <= start) return true;
    return this.contiguousFrom(start) >= end - start;
  }

  /** The ranges as `[start, end)` pairs. */
  toArray(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.#r.length; i += 2) out.push([this.#r[i], this.#r[i + 1]]);
    return out;
  }
}
