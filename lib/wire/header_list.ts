/**
 * The header section of an MSRP frame as an ordered list (RFC 4975 §9).
 *
 * Field names are compared case-insensitively (ABNF literals are, RFC 5234
 * §2.3). Order is kept, unknown fields are kept verbatim, and a field may
 * repeat. Typed views of the fields (To-Path, Byte-Range, ...) live in
 * `headers.ts`; this class only stores text.
 *
 * @module
 */

import { MsrpSyntaxError } from "../errors.ts";

/** `hname = ALPHA *token` (RFC 4975 §9). */
const NAME = /^[A-Za-z][!#-'*+\-.0-9A-Z^-~]*$/;
/** `hval = utf8text`: no CR, LF or other control characters except HTAB. */
// deno-lint-ignore no-control-regex
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * An ordered, case-insensitive list of header fields.
 *
 * ```ts
 * const h = new HeaderList([["To-Path", "msrp://a.example:7777/s1;tcp"]]);
 * h.append("Message-ID", "87652491");
 * h.get("message-id"); // "87652491"
 * ```
 */
export class HeaderList implements Iterable<[name: string, value: string]> {
  #names: string[] = [];
  #values: string[] = [];
  // A decoded list may start "lazy": the head's text and the [start, end)
  // offsets of each name and value in it. Substrings are made only for the
  // fields that are read; most readers look at a few fields only.
  #text: string | undefined;
  #spans: number[] | undefined;
  #first = 0; // index in #spans of the first field (the decoder's tid may come before)
  #base = 0;

  /**
   * Makes a list, optionally from `[name, value]` pairs.
   *
   * @param fields initial fields, in order; each name and value is checked
   * @throws {MsrpSyntaxError} for a name that is not a token or a value with CR, LF or controls
   */
  constructor(fields?: Iterable<readonly [string, string]>) {
    if (fields) { for (const [name, value] of fields) this.append(name, value); }
  }

  /**
   * Builds a list from already-parsed wire text without checking it again.
   * The decoder uses this; its input has been checked byte by byte. The
   * encoder checks every field of every list it writes (RFC 4975 §9), so a
   * list built here with CR, LF or a bad name is refused there, never sent.
   *
   * @param names field names as on the wire
   * @param values field values as on the wire
   */
  static fromTrusted(names: string[], values: string[]): HeaderList {
    const list = new HeaderList();
    list.#names = names;
    list.#values = values;
    return list;
  }

  /**
   * Builds a list over decoded head text without copying its fields: field
   * `i` has its name at `spans[first + 4i] - base` to `spans[first + 4i + 1]
   * - base` in `text`, and its value at the next two offsets. The decoder
   * uses this; the list takes ownership of `spans`.
   *
   * @param text the decoded text of the header section
   * @param spans name and value offsets, four numbers per field
   * @param first index in `spans` of the first field's name start
   * @param base what to subtract from each offset to index `text`
   */
  static fromSpans(text: string, spans: number[], first: number, base: number): HeaderList {
    const list = new HeaderList();
    list.#text = text;
    list.#spans = spans; // not sliced at `first`: one array fewer per decoded frame
    list.#first = first;
    list.#base = base;
    return list;
  }

  /** Turns a lazy list into plain arrays (before any change or full read). */
  #materialize(): void {
    const sp = this.#spans;
    if (sp === undefined) return;
    const text = this.#text!;
    const b = this.#base;
    const count = (sp.length - this.#first) / 4;
    const names: string[] = new Array(count);
    const values: string[] = new Array(count);
    for (let i = 0, k = this.#first; i < count; i++, k += 4) {
      names[i] = text.substring(sp[k] - b, sp[k + 1] - b);
      values[i] = text.substring(sp[k + 2] - b, sp[k + 3] - b);
    }
    this.#names = names;
    this.#values = values;
    this.#spans = undefined;
    this.#text = undefined;
  }

  /** Number of fields. */
  get size(): number {
    return this.#spans === undefined ? this.#names.length : (this.#spans.length - this.#first) / 4;
  }

  /** Index of the first lazy field named `name` at or after field `from`, or -1. */
  #lazyIndex(name: string, from: number): number {
    const sp = this.#spans!;
    const text = this.#text!;
    const b = this.#base;
    const len = name.length;
    const first = this.#first;
    outer: for (let k = first + from * 4; k < sp.length; k += 4) {
      const s = sp[k] - b;
      if (sp[k + 1] - b - s !== len) continue;
      for (let j = 0; j < len; j++) {
        const x = text.charCodeAt(s + j);
        const y = name.charCodeAt(j);
        // ASCII letters compare without case (RFC 5234 §2.3).
        if (x !== y && ((x | 0x20) !== (y | 0x20) || (x | 0x20) < 97 || (x | 0x20) > 122)) {
          continue outer;
        }
      }
      return (k - first) / 4;
    }
    return -1;
  }

  #lazyValue(i: number): string {
    const k = this.#first + i * 4;
    return this.#text!.substring(
      this.#spans![k + 2] - this.#base,
      this.#spans![k + 3] - this.#base,
    );
  }

  #index(name: string, from = 0): number {
    const n = this.#names;
    const len = name.length;
    for (let i = from; i < n.length; i++) {
      const candidate = n[i];
      if (candidate.length !== len) continue;
      if (candidate === name || candidate.toLowerCase() === name.toLowerCase()) return i;
    }
    return -1;
  }

  /**
   * The value of the first field with this name, or `undefined`.
   *
   * @param name field name, any case
   */
  get(name: string): string | undefined {
    if (this.#spans !== undefined) {
      const j = this.#lazyIndex(name, 0);
      return j < 0 ? undefined : this.#lazyValue(j);
    }
    const i = this.#index(name);
    return i < 0 ? undefined : this.#values[i];
  }

  /**
   * The values of every field with this name, in order.
   *
   * @param name field name, any case
   */
  getAll(name: string): string[] {
    const out: string[] = [];
    if (this.#spans !== undefined) {
      for (let j = this.#lazyIndex(name, 0); j >= 0; j = this.#lazyIndex(name, j + 1)) {
        out.push(this.#lazyValue(j));
      }
      return out;
    }
    for (let i = this.#index(name); i >= 0; i = this.#index(name, i + 1)) out.push(this.#values[i]);
    return out;
  }

  /**
   * Whether a field with this name is present.
   *
   * @param name field name, any case
   */
  has(name: string): boolean {
    if (this.#spans !== undefined) return this.#lazyIndex(name, 0) >= 0;
    return this.#index(name) >= 0;
  }

  /**
   * Adds a field at the end.
   *
   * @param name a header field name (`hname`)
   * @param value the field value (no CR or LF)
   * @throws {MsrpSyntaxError} for a bad name or value
   */
  append(name: string, value: string): void {
    checkField(name, value);
    this.#materialize();
    this.#names.push(name);
    this.#values.push(value);
  }

  /**
   * Sets a field: replaces the first field of that name in place and removes
   * the others, or appends when there is none.
   *
   * @param name a header field name (`hname`)
   * @param value the field value (no CR or LF)
   * @throws {MsrpSyntaxError} for a bad name or value
   */
  set(name: string, value: string): void {
    checkField(name, value);
    this.#materialize();
    const i = this.#index(name);
    if (i < 0) {
      this.#names.push(name);
      this.#values.push(value);
      return;
    }
    this.#values[i] = value;
    this.#removeFrom(name, i + 1);
  }

  /**
   * Removes every field with this name.
   *
   * @param name field name, any case
   */
  delete(name: string): void {
    this.#materialize();
    this.#removeFrom(name, 0);
  }

  #removeFrom(name: string, from: number): void {
    for (let i = this.#index(name, from); i >= 0; i = this.#index(name, i)) {
      this.#names.splice(i, 1);
      this.#values.splice(i, 1);
    }
  }

  /** A copy that can be changed without changing this list. */
  clone(): HeaderList {
    this.#materialize();
    return HeaderList.fromTrusted(this.#names.slice(), this.#values.slice());
  }

  /** The fields in order as `[name, value]` pairs. */
  *[Symbol.iterator](): Iterator<[name: string, value: string]> {
    this.#materialize();
    for (let i = 0; i < this.#names.length; i++) yield [this.#names[i], this.#values[i]];
  }

  /** The field names in order, as on the wire. */
  names(): readonly string[] {
    this.#materialize();
    return this.#names;
  }

  /** The field values in order, as on the wire. */
  values(): readonly string[] {
    this.#materialize();
    return this.#values;
  }
}

function checkField(name: string, value: string): void {
  if (!NAME.test(name)) {
    throw new MsrpSyntaxError("bad-header-name", "header field name is not a token", name, 0);
  }
  const bad = value.search(BAD_VALUE);
  if (bad >= 0) {
    throw new MsrpSyntaxError(
      "bad-header-value",
      `header field ${name} has a control character (CR, LF or other)`,
      value,
      bad,
    );
  }
}
