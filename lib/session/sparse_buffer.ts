/**
 * The receiver's "virtual buffer" of RFC 4975 §7.3.1: the octets of one
 * message that have arrived, at their offsets, in memory bounded by what
 * they cover.
 *
 * "If chunk data is received that overlaps already received data for the
 * same message, the last chunk received SHOULD take precedence": a range that
 * arrives again overwrites what is held rather than adding to it, so the
 * octets held never exceed the span they cover, however often a peer
 * repeats itself.
 *
 * Pieces are kept as views of the buffers they arrived in (no copy), except
 * where a view is less than half of its buffer: it is copied, so that a
 * small piece does not keep a large read buffer alive. Many small pieces
 * are merged now and then, so that the bookkeeping per octet stays bounded
 * too.
 *
 * @module
 */

interface Piece {
  start: number;
  bytes: Uint8Array;
}

/** Average octets per piece below which pieces are merged (see `#maybeCompact`). */
const MERGE_BELOW = 1024;

/** A view that holds on to no more than twice its own size. */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength * 2 < bytes.buffer.byteLength ? bytes.slice() : bytes;
}

/** Octets at offsets, disjoint and sorted; the last write wins where they overlap. */
export class SparseBuffer {
  #pieces: Piece[] = [];
  #held = 0;
  /** Piece count past which small pieces are merged. */
  #compactAt = 64;

  /** Octets held. Never more than the span from the lowest to the highest offset held. */
  get held(): number {
    return this.#held;
  }

  /** Number of separate pieces held. */
  get count(): number {
    return this.#pieces.length;
  }

  /**
   * Puts `bytes` at offset `start`, replacing whatever was held there.
   *
   * @param start offset of the first octet
   * @param bytes the octets (kept as a view when that costs no extra memory)
   */
  write(start: number, bytes: Uint8Array): void {
    const end = start + bytes.length;
    if (end <= start) return;
    const pieces = this.#pieces;
    const last = pieces[pieces.length - 1];
    if (last === undefined || last.start + last.bytes.length <= start) {
      // The usual case: in order, after everything held.
      pieces.push({ start, bytes: own(bytes) });
      this.#held += bytes.length;
      this.#maybeCompact();
      return;
    }
    // The first piece that ends after `start`, and the first that starts at or after `end`.
    const i = this.#firstEndingAfter(start);
    let j = i;
    while (j < pieces.length && pieces[j].start < end) j++;
    const replacement: Piece[] = [];
    let removed = 0;
    for (let k = i; k < j; k++) removed += pieces[k].bytes.length;
    const first = pieces[i];
    if (i < j && first.start < start) {
      replacement.push({
        start: first.start,
        bytes: own(first.bytes.subarray(0, start - first.start)),
      });
    }
    replacement.push({ start, bytes: own(bytes) });
    const lastHit = pieces[j - 1];
    if (i < j && lastHit.start + lastHit.bytes.length > end) {
      replacement.push({ start: end, bytes: own(lastHit.bytes.subarray(end - lastHit.start)) });
    }
    pieces.splice(i, j - i, ...replacement);
    for (const p of replacement) this.#held += p.bytes.length;
    this.#held -= removed;
    this.#maybeCompact();
  }

  /**
   * Drops every octet at offset `length` or beyond (the message turned out shorter).
   *
   * @param length the first offset to drop
   */
  truncate(length: number): void {
    const pieces = this.#pieces;
    while (pieces.length > 0) {
      const p = pieces[pieces.length - 1];
      if (p.start + p.bytes.length <= length) break;
      this.#held -= p.bytes.length;
      if (p.start >= length) {
        pieces.pop();
      } else {
        p.bytes = own(p.bytes.subarray(0, length - p.start));
        this.#held += p.bytes.length;
        break;
      }
    }
  }

  /**
   * Removes and returns the octets held from `offset` on without a gap, in
   * order; what is held before `offset` is dropped.
   *
   * @param offset where the reader stands
   */
  takeFrom(offset: number): Uint8Array[] {
    const pieces = this.#pieces;
    const out: Uint8Array[] = [];
    let at = offset;
    let n = 0;
    for (; n < pieces.length; n++) {
      const p = pieces[n];
      const end = p.start + p.bytes.length;
      if (p.start > at) break;
      this.#held -= p.bytes.length;
      if (end > at) {
        out.push(p.bytes.subarray(at - p.start));
        at = end;
      }
    }
    pieces.splice(0, n);
    return out;
  }

  /**
   * The octets `[0, length)` as one array; offsets never written are zero.
   *
   * @param length how many octets
   */
  assemble(length: number): Uint8Array {
    const pieces = this.#pieces;
    if (pieces.length === 1 && pieces[0].start === 0 && pieces[0].bytes.length === length) {
      return pieces[0].bytes;
    }
    const out = new Uint8Array(length);
    for (const p of pieces) {
      if (p.start >= length) break;
      out.set(p.bytes.subarray(0, length - p.start), p.start);
    }
    return out;
  }

  /** Drops everything. */
  clear(): void {
    this.#pieces = [];
    this.#held = 0;
    this.#compactAt = 64;
  }

  #firstEndingAfter(offset: number): number {
    const pieces = this.#pieces;
    let lo = 0;
    let hi = pieces.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = pieces[mid];
      if (p.start + p.bytes.length <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Merges runs of adjacent pieces into one array each once there are many
   * pieces for the octets held (on average under {@linkcode MERGE_BELOW}).
   * The next merge waits until the count has at least doubled again, so the
   * copying costs a bounded number of octets per piece received.
   */
  #maybeCompact(): void {
    const pieces = this.#pieces;
    if (pieces.length <= this.#compactAt || pieces.length * MERGE_BELOW <= this.#held) return;
    const merged: Piece[] = [];
    let k = 0;
    while (k < pieces.length) {
      let e = k + 1;
      let end = pieces[k].start + pieces[k].bytes.length;
      let length = pieces[k].bytes.length;
      while (e < pieces.length && pieces[e].start === end) {
        end += pieces[e].bytes.length;
        length += pieces[e].bytes.length;
        e++;
      }
      if (e - k === 1) {
        merged.push(pieces[k]);
      } else {
        const bytes = new Uint8Array(length);
        for (let m = k; m < e; m++) bytes.set(pieces[m].bytes, pieces[m].start - pieces[k].start);
        merged.push({ start: pieces[k].start, bytes });
      }
      k = e;
    }
    this.#pieces = merged;
    this.#compactAt = 2 * merged.length + 64;
  }
}
