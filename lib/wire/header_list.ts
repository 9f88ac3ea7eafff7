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
   * The decoder uses this; its input has been checked byte by byte.
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

  /** Number of fields. */
  get size(): number {
    return this.#names.length;
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
    for (let i = this.#index(name); i >= 0; i = this.#index(name, i + 1)) out.push(this.#values[i]);
    return out;
  }

  /**
   * Whether a field with this name is present.
   *
   * @param name field name, any case
   */
  has(name: string): boolean {
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
    return HeaderList.fromTrusted(this.#names.slice(), this.#values.slice());
  }

  /** The fields in order as `[name, value]` pairs. */
  *[Symbol.iterator](): Iterator<[name: string, value: string]> {
    for (let i = 0; i < this.#names.length; i++) yield [this.#names[i], this.#values[i]];
  }

  /** The field names in order, as on the wire. */
  names(): readonly string[] {
    return this.#names;
  }

  /** The field values in order, as on the wire. */
  values(): readonly string[] {
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
