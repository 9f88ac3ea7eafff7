/**
 * Frames to bytes (RFC 4975 §7.1, §7.2, §9).
 *
 * The encoder writes exactly what §9 prescribes: the start line, To-Path and
 * From-Path first, the other header fields in order, Content-Type last when a
 * body follows (§7.1), then either the end-line directly (no body) or a blank
 * line, the body, CRLF and the end-line.
 *
 * §7.1 requires that the end-line never appears inside the body. The encoder
 * scans every body for `------- tid flag`; when it is there before anything
 * was written it picks a new transaction id, and when it turns up in a later
 * piece of a streamed SEND it interrupts the chunk there with `+` and carries
 * on in a new transaction whose Byte-Range starts at the next byte, the second
 * strategy §7.1 describes. Either way `onTransactionIdChange` is told, so the
 * sender can match responses to the new id.
 *
 * Bodies are never copied when large: up to `coalesceLimit` octets the head,
 * body and end-line are written as one buffer (one copy of a small body is
 * cheaper than three writes); above it the body buffer is passed on as is.
 *
 * A buffer costs more to allocate than to fill, so a small frame takes one
 * allocation: its size is summed from the lengths of its texts, and the start
 * line, header fields and end-line are written into it char by char. They are
 * ASCII in practice; a frame with other text goes through `TextEncoder`
 * instead, to the same bytes. With `slabSize`, that buffer is cut from a
 * shared slab rather than allocated (a connection writes a head and an
 * end-line per chunk, and a 200 per chunk received).
 *
 * ## Strict when sending, tolerant when receiving
 *
 * Nothing a caller passes can add bytes to the framing, and nothing RFC 4975
 * forbids is sent: the encoder throws an {@linkcode MsrpError} with code
 * `bad-frame` (naming the rule) before it writes a byte of the frame, or of
 * the piece, that breaks one. The decoder is more lenient where that is safe;
 * the table says which way each rule goes.
 *
 * | Rule | Sending (this module) | Receiving (`decoder.ts`) |
 * | --- | --- | --- |
 * | `transact-id = ident`, 4 to 32 characters (§9) | requests: refused otherwise; responses echo the request's id, 1 to 64 | 1 to 64 accepted (some stacks send 36-character UUIDs) |
 * | end-line flag `$` `+` `#` (§7.1); responses always `$` (§7.2) | anything else refused | any of the three; other bytes are not an end-line |
 * | header names `hname`, values `utf8text` without CR, LF or controls (§9) | refused otherwise, even in a {@linkcode HeaderList} built by `fromTrusted` | bad header: 400 |
 * | To-Path and From-Path in every request and response (§7.1, §7.2) | refused without them | request: 400 when it can be addressed; response: accepted, matched by its id |
 * | a request body needs Content-Type (§7.1) | refused | the decoder passes it on; a session answers 400, and so does a relay, which could not forward it |
 * | non-SEND request bodies at most 10240 octets (§7.1) | refused, also across pieces | 400 (`maxNonSendBody`, default 10240) |
 * | one SP after the colon, the rest is the value (§9) | written so, value byte for byte | value byte for byte; a missing SP tolerated |
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import { BytePattern } from "./byte_search.ts";
import { concatBytes } from "./bytes.ts";
import type {
  ContinuationFlag,
  Frame,
  MsrpRequest,
  OutgoingFrame,
  StreamingRequest,
} from "./frame.ts";
import type { HeaderList } from "./header_list.ts";
import { type ByteRange, getByteRange } from "./headers.ts";
import { newTransactionId } from "./ids.ts";
import { encodeUtf8 } from "./text.ts";

/** A transaction id the encoder replaced because the body contained the end-line (§7.1). */
export interface TransactionIdChange {
  /** The id the frame was given. */
  readonly from: string;
  /** The id written instead, from this point on. */
  readonly to: string;
  /** Body offset (within the original request's body) where the new id takes over. */
  readonly byteOffset: number;
  /** True when a chunk was already on the wire and was interrupted with `+`. */
  readonly interrupted: boolean;
}

/** Options of {@linkcode FrameEncoderStream} and {@linkcode FrameWriter}. */
export interface FrameEncoderOptions {
  /** Called whenever a transaction id had to change (§7.1). */
  onTransactionIdChange?: (change: TransactionIdChange) => void;
  /** Largest body written in the same buffer as its head. Default 16384. */
  coalesceLimit?: number;
  /**
   * When above 0, the bytes of small frames, heads and end-lines (at most an
   * eighth of this) are cut from shared buffers of this size instead of
   * each getting a buffer of its own: cheaper, but a small frame kept keeps
   * its whole slab in memory. Default 0 (a buffer per frame, as
   * {@linkcode encodeFrame} gives).
   */
  slabSize?: number;
}

const CRLF = "\r\n";
const CR = 13;
const LF = 10;
const SP = 32;
const DASH = 45;
const COLON = 58;

/**
 * `ident = ALPHANUM 3*31ident-char` (§9): a request's transaction id has 4
 * to 32 characters.
 */
const MIN_REQUEST_TID = 4;
const MAX_REQUEST_TID = 32;
/**
 * The longest id a response may echo: what the decoder accepts from a peer
 * (some stacks send 36-character UUIDs), since §7.2 makes a response carry
 * the id of the request it answers.
 */
const MAX_TID = 64;

/** Largest body of a request other than SEND (§7.1). */
const MAX_NON_SEND_BODY = 10240;

/** `token` characters (§9): what follows the first letter of a header name. */
const NAME_CHAR = new Uint8Array(128);
for (let c = 0x21; c <= 0x7e; c++) NAME_CHAR[c] = 1;
for (const c of '"(),/:;<=>?@[\\]{}') NAME_CHAR[c.charCodeAt(0)] = 0;

/** Characters of `ident` after the first (§9): ALPHANUM . - + % = */
const IDENT_CHAR = new Uint8Array(128);
for (let c = 48; c <= 57; c++) IDENT_CHAR[c] = 1;
for (let c = 65; c <= 90; c++) IDENT_CHAR[c] = 1;
for (let c = 97; c <= 122; c++) IDENT_CHAR[c] = 1;
for (const c of ".-+%=") IDENT_CHAR[c.charCodeAt(0)] = 1;

/** The seven dashes that open an end-line (§7.1). */
const DASHES = new Uint8Array(7).fill(DASH);

function misuse(message: string): MsrpError {
  return new MsrpError("bad-frame", message);
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isFlag(c: number): boolean {
  return c === 0x24 || c === 0x2b || c === 0x23; // $ + #
}

// The checks below run for every frame, so they are char loops rather than
// regular expressions (a regex call costs more than the whole loop).

/** `transact-id = ident` (§9): an alphanumeric, then ALPHANUM . - + % =, `min` to `max` long. */
function isTransactionId(tid: string, min: number, max: number): boolean {
  const n = tid.length;
  if (n < min || n > max || !isAlnum(tid.charCodeAt(0))) return false;
  for (let i = 1; i < n; i++) {
    const c = tid.charCodeAt(i);
    if (c >= 128 || IDENT_CHAR[c] === 0) return false;
  }
  return true;
}

/** `method = 1*UPALPHA` (§9). */
function isMethod(method: string): boolean {
  if (method.length === 0) return false;
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

/** Whether `s` holds a control character other than HTAB, which `utf8text` excludes (§9). */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < SP && c !== 9) || c === 127) return true;
  }
  return false;
}

/** Whether `flag` is one of the three end-line flags (§7.1). */
function isFlagText(flag: unknown): flag is ContinuationFlag {
  return flag === "$" || flag === "+" || flag === "#";
}

/** Checks the end-line flag of a request or piece: `$`, `+`, `#` or, for a piece, none. */
function checkFlag(flag: unknown, tid: unknown): void {
  if (flag !== undefined && !isFlagText(flag)) {
    throw misuse(
      `end-line flag ${JSON.stringify(flag)} of ${tid} is not "$", "+" or "#" (§7.1)`,
    );
  }
}

/**
 * Checks what a frame's start line, end-line flag and header section will
 * hold, before a byte of it is written; `tid` is its id as text.
 */
function checkStart(frame: Frame, tid: string): void {
  if (frame.kind === "request") {
    if (!isTransactionId(tid, MIN_REQUEST_TID, MAX_REQUEST_TID)) {
      throw misuse(
        `transaction id ${JSON.stringify(frame.tid)} is not an ident of 4 to 32 characters (§9)`,
      );
    }
    if (!isMethod(String(frame.method))) {
      throw misuse(`method ${JSON.stringify(frame.method)} is not 1*UPALPHA (§9)`);
    }
    checkFlag(frame.flag, tid);
  } else {
    if (!isTransactionId(tid, 1, MAX_TID)) {
      throw misuse(`transaction id ${JSON.stringify(frame.tid)} is not an ident (§9)`);
    }
    if (!Number.isInteger(frame.status) || frame.status < 0 || frame.status > 999) {
      throw misuse(`status ${frame.status} is not three digits (§9)`);
    }
    if (hasControl(String(frame.comment))) {
      throw misuse("response comment contains a control character");
    }
    if (frame.flag !== "$") {
      throw misuse(
        `response ${tid} has end-line flag ${
          JSON.stringify(frame.flag)
        }; responses end in "$" (§7.2)`,
      );
    }
  }
  const names = frame.headers.names();
  if (names.length !== frame.headers.values().length) {
    throw misuse("the header list has a different number of names and values");
  }
  if (!hasField(names, "To-Path") || !hasField(names, "From-Path")) {
    throw misuse(`${frameName(frame, tid)} needs a To-Path and a From-Path (§7.1, §7.2)`);
  }
}

/** How messages name a frame: `SEND abcd` or `response abcd`. */
function frameName(frame: Frame, tid: string): string {
  return frame.kind === "request" ? `${frame.method} ${tid}` : `response ${tid}`;
}

/** Whether a field named `name` is among `names`; the paths usually stand first. */
function hasField(names: readonly string[], name: string): boolean {
  for (let i = 0; i < names.length; i++) if (sameName(names[i], name)) return true;
  return false;
}

/**
 * Checks every header field (§9): the name an `hname` (`ALPHA *token`), the
 * value `utf8text` (no CR, LF or other control but HTAB). This is what keeps
 * a list built with `HeaderList.fromTrusted` from injecting bytes.
 */
function checkFields(names: readonly unknown[], values: readonly unknown[]): void {
  if (names.length !== values.length) {
    throw misuse("the header list has a different number of names and values");
  }
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const value = values[i];
    if (typeof name !== "string" || !isHeaderName(name)) {
      throw misuse(`header field name ${JSON.stringify(name)} is not ALPHA *token (§9 hname)`);
    }
    if (typeof value !== "string" || hasControl(value)) {
      throw misuse(
        `header field ${name} has a value with CR, LF or another control character (§9 utf8text)`,
      );
    }
  }
}

/** `hname = ALPHA *token` (§9). */
function isHeaderName(name: string): boolean {
  const first = name.charCodeAt(0);
  if (!((first >= 65 && first <= 90) || (first >= 97 && first <= 122))) return false;
  for (let i = 1; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || NAME_CHAR[c] === 0) return false;
  }
  return true;
}

/** Checks what §7.1 asks of a request's body before its head is written. */
function checkBody(frame: MsrpRequest, tid: string): void {
  const body = frame.body;
  if (body === null) return;
  if (!hasField(frame.headers.names(), "Content-Type")) {
    throw misuse(`${frame.method} ${tid} has a body but no Content-Type (§7.1)`);
  }
  if (frame.method !== "SEND" && body.length > MAX_NON_SEND_BODY) {
    throw tooLarge(frame.method, tid);
  }
}

function tooLarge(method: string, tid: string): MsrpError {
  return misuse(
    `the body of ${method} ${tid} is larger than ${MAX_NON_SEND_BODY} octets; ` +
      "only SEND bodies may be (§7.1)",
  );
}

function sameName(a: string, b: string): boolean {
  return a.length === b.length && (a === b || a.toLowerCase() === b.toLowerCase());
}

/** Whether the fields already stand as §7.1 wants: the paths first, Content-Type last. */
function inWireOrder(names: readonly string[], withBody: boolean): boolean {
  const n = names.length;
  return n >= 2 && sameName(names[0], "To-Path") && sameName(names[1], "From-Path") &&
    (!withBody || sameName(names[n - 1], "Content-Type"));
}

/** A field's place when the fields must be reordered: paths, others, Content-Type. */
function rank(name: string, withBody: boolean): number {
  return sameName(name, "To-Path")
    ? 0
    : sameName(name, "From-Path")
    ? 1
    : withBody && sameName(name, "Content-Type")
    ? 3
    : 2;
}

/**
 * The start line and header section of a frame, each line ending in CRLF.
 * To-Path and From-Path go first; Content-Type goes last when a body follows.
 * Every header field is checked (§9): none can add a line.
 *
 * @param frame the frame (its body is not read)
 * @param tid the transaction id to write
 * @param withBody whether a body section follows
 * @throws {MsrpError} `bad-frame` for a field name or value that breaks §9
 */
export function formatHead(frame: Frame, tid: string, withBody: boolean): string {
  checkFields(frame.headers.names(), frame.headers.values());
  let s = frame.kind === "request"
    ? `MSRP ${tid} ${frame.method}\r\n`
    : `MSRP ${tid} ${String(frame.status).padStart(3, "0")}${
      frame.comment ? " " + frame.comment : ""
    }\r\n`;
  const names = frame.headers.names();
  const values = frame.headers.values();
  const n = names.length;
  if (inWireOrder(names, withBody)) {
    for (let i = 0; i < n; i++) s += names[i] + ": " + values[i] + CRLF;
    return s;
  }
  for (let r = 0; r <= 3; r++) {
    for (let i = 0; i < n; i++) {
      if (rank(names[i], withBody) === r) s += names[i] + ": " + values[i] + CRLF;
    }
  }
  return s;
}

function endLine(tid: string, flag: ContinuationFlag): string {
  return `-------${tid}${flag}\r\n`;
}

// ---- writing text straight into the output buffer ----
//
// In ASCII each char is its byte, so no TextEncoder call (and no buffer of
// its own) is needed; the first char that is not sends the frame down the
// general path (see the module comment).

/**
 * Writes printable ASCII `s` at `at`; returns the index after it, or -1 if
 * `s` is not printable ASCII text. (HTAB, other controls and non-ASCII all
 * send the frame down the general path, which checks the text and encodes
 * it, or throws.)
 */
function putAscii(s: string, buf: Uint8Array, at: number): number {
  if (at < 0 || typeof s !== "string") return -1; // not text: the general path says why
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c - SP >>> 0 > 94) return -1; // outside SP (32) to "~" (126): one unsigned compare
    buf[at + i] = c;
  }
  return at + s.length;
}

/** Writes an `hname` (§9) at `at`; -1 if `s` is not one. */
function putName(s: string, buf: Uint8Array, at: number): number {
  if (at < 0 || typeof s !== "string" || s.length === 0) return -1;
  const first = s.charCodeAt(0) | 0x20;
  if (first < 97 || first > 122) return -1; // not a letter
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || NAME_CHAR[c] === 0) return -1;
    buf[at + i] = c;
  }
  return at + s.length;
}

/** Writes `name ": " value CRLF` (§9 header-field); -1 if not printable ASCII. */
function putField(name: string, value: string, buf: Uint8Array, at: number): number {
  at = putName(name, buf, at);
  if (at < 0) return -1;
  buf[at] = COLON;
  buf[at + 1] = SP;
  at = putAscii(value, buf, at + 2);
  if (at < 0) return -1;
  buf[at] = CR;
  buf[at + 1] = LF;
  return at + 2;
}

/** Writes `"-------" tid flag CRLF` (§9 end-line); -1 if not ASCII. */
function putEndLine(tid: string, flag: string, buf: Uint8Array, at: number): number {
  buf.set(DASHES, at);
  at = putAscii(flag, buf, putAscii(tid, buf, at + 7));
  if (at < 0) return -1;
  buf[at] = CR;
  buf[at + 1] = LF;
  return at + 2;
}

/**
 * A frame's bytes in one buffer: start line and header section, then, with
 * `withBody`, the blank line; `body` if given; and with `flag` the end-line
 * (after a CRLF when a body section was opened).
 */
function frameBytes(
  frame: Frame,
  tid: string,
  withBody: boolean,
  body: Uint8Array | null,
  flag: ContinuationFlag | undefined,
  alloc: Alloc = newBytes,
): Uint8Array {
  return asciiFrameBytes(frame, tid, withBody, body, flag, alloc) ??
    utf8FrameBytes(frame, tid, withBody, body, flag);
}

/** Where the bytes of a frame are written: a new buffer, or a piece of a slab. */
type Alloc = (size: number) => Uint8Array;

function newBytes(size: number): Uint8Array {
  return new Uint8Array(size);
}

/**
 * Cuts small buffers from shared slabs, front to back: allocating a typed
 * array costs more than filling a small one, and a writer makes one or two
 * per frame (a head, an end-line). A piece once handed out is never written
 * again: a full slab is dropped (it lives on while pieces of it are held)
 * and a new one started. Large buffers are allocated on their own.
 */
class Slabs {
  readonly #size: number;
  #slab: Uint8Array | undefined;
  #at = 0;

  constructor(size: number) {
    this.#size = size;
  }

  readonly alloc = (size: number): Uint8Array => {
    if (size > this.#size >>> 3) return new Uint8Array(size);
    let slab = this.#slab;
    if (slab === undefined || this.#at + size > slab.length) {
      slab = this.#slab = new Uint8Array(this.#size);
      this.#at = 0;
    }
    const at = this.#at;
    this.#at = at + size;
    return slab.subarray(at, at + size);
  };
}

/** {@linkcode frameBytes} for ASCII text, or `undefined` when some text is not ASCII. */
function asciiFrameBytes(
  frame: Frame,
  tid: string,
  withBody: boolean,
  body: Uint8Array | null,
  flag: ContinuationFlag | undefined,
  alloc: Alloc,
): Uint8Array | undefined {
  const names = frame.headers.names();
  const values = frame.headers.values();
  const n = names.length;
  // Sized as if every char were one byte; putAscii stops at any that is not.
  let size = 5 + tid.length + 3; // "MSRP " tid SP ... CRLF
  if (frame.kind === "request") {
    if (typeof frame.method !== "string") return undefined;
    size += frame.method.length;
  } else {
    if (typeof frame.comment !== "string") return undefined;
    size += frame.comment === "" ? 3 : 4 + frame.comment.length;
  }
  for (let i = 0; i < n; i++) size += names[i].length + values[i].length + 4;
  if (withBody) size += 2;
  if (body !== null) size += body.length;
  if (flag !== undefined) size += (withBody ? 2 : 0) + 9 + tid.length + flag.length;
  const buf = alloc(size);

  buf[0] = 77; // "MSRP "
  buf[1] = 83;
  buf[2] = 82;
  buf[3] = 80;
  buf[4] = SP;
  let at = putAscii(tid, buf, 5);
  if (at < 0) return undefined;
  buf[at++] = SP;
  if (frame.kind === "request") {
    at = putAscii(frame.method, buf, at);
    if (at < 0) return undefined;
  } else {
    const status = frame.status; // checked: an integer in 0..999
    buf[at] = 48 + Math.floor(status / 100);
    buf[at + 1] = 48 + (Math.floor(status / 10) % 10);
    buf[at + 2] = 48 + (status % 10);
    at += 3;
    if (frame.comment !== "") {
      buf[at] = SP;
      at = putAscii(frame.comment, buf, at + 1);
      if (at < 0) return undefined;
    }
  }
  buf[at] = CR;
  buf[at + 1] = LF;
  at += 2;
  if (inWireOrder(names, withBody)) {
    for (let i = 0; i < n && at >= 0; i++) at = putField(names[i], values[i], buf, at);
  } else {
    for (let r = 0; r <= 3; r++) {
      for (let i = 0; i < n && at >= 0; i++) {
        if (rank(names[i], withBody) === r) at = putField(names[i], values[i], buf, at);
      }
    }
  }
  if (at < 0) return undefined;
  if (withBody) {
    buf[at] = CR;
    buf[at + 1] = LF;
    at += 2;
  }
  if (body !== null) {
    buf.set(body, at); // the one copy of a coalesced body
    at += body.length;
  }
  if (flag !== undefined) {
    if (withBody) {
      buf[at] = CR;
      buf[at + 1] = LF;
      at += 2;
    }
    at = putEndLine(tid, flag, buf, at);
  }
  return at === size ? buf : undefined;
}

/** {@linkcode frameBytes} for any text, through TextEncoder. */
function utf8FrameBytes(
  frame: Frame,
  tid: string,
  withBody: boolean,
  body: Uint8Array | null,
  flag: ContinuationFlag | undefined,
): Uint8Array {
  const head = encodeUtf8(formatHead(frame, tid, withBody) + (withBody ? CRLF : ""));
  if (body === null && flag === undefined) return head;
  const bodyLength = body === null ? 0 : body.length;
  const end = flag === undefined
    ? new Uint8Array(0)
    : encodeUtf8((withBody ? CRLF : "") + endLine(tid, flag));
  const buf = new Uint8Array(head.length + bodyLength + end.length);
  buf.set(head);
  if (body !== null) buf.set(body, head.length);
  buf.set(end, head.length + bodyLength);
  return buf;
}

/** `CRLF "-------" tid flag CRLF`: what closes a body section. */
function endLineBytes(
  tid: string,
  flag: ContinuationFlag,
  alloc: Alloc = newBytes,
): Uint8Array {
  const buf = alloc(11 + tid.length + flag.length);
  buf[0] = CR;
  buf[1] = LF;
  if (putEndLine(tid, flag, buf, 2) === buf.length) return buf;
  return encodeUtf8(CRLF + endLine(tid, flag));
}

/**
 * Index in `body` where `------- tid flag` starts, or `undefined`. `before`
 * holds the bytes written just before `body` in the same chunk, so a match
 * that straddles the two is found too (its start is then negative).
 */
function findEndLine(
  pattern: BytePattern,
  body: Uint8Array,
  before?: Uint8Array,
): number | undefined {
  const m = pattern.length;
  if (before && before.length > 0) {
    const head = body.subarray(0, m);
    const w = new Uint8Array(before.length + head.length);
    w.set(before);
    w.set(head, before.length);
    for (
      let s = pattern.find(w, 0, before.length - 1);
      s >= 0;
      s = pattern.find(w, s + 1, before.length - 1)
    ) {
      if (s + m < w.length && isFlag(w[s + m])) return s - before.length;
    }
  }
  for (
    let s = pattern.find(body, 0, body.length - m - 1);
    s >= 0;
    s = pattern.find(body, s + 1, body.length - m - 1)
  ) {
    if (isFlag(body[s + m])) return s;
  }
  return undefined;
}

/** The last bytes of a written body that could begin a straddling end-line. */
function keepTail(
  pattern: BytePattern,
  prev: Uint8Array | undefined,
  body: Uint8Array,
): Uint8Array {
  const keep = pattern.length; // pattern + flag - 1
  if (body.length >= keep) return body.slice(body.length - keep);
  const joined = new Uint8Array((prev?.length ?? 0) + body.length);
  if (prev) joined.set(prev);
  joined.set(body, prev?.length ?? 0);
  return joined.slice(Math.max(0, joined.length - keep));
}

interface OpenRequest {
  /** The id the caller uses for this request. */
  readonly callerTid: string;
  /** The id on the wire now (differs after an interruption). */
  tid: string;
  readonly request: MsrpRequest;
  /** Body bytes of the caller's request written so far. */
  offset: number;
  tail: Uint8Array | undefined;
}

/**
 * The encoder as a synchronous state machine with no streams: give it frames
 * or pieces of requests in order, and it hands the bytes to `out`.
 *
 * @example Write frames to a byte sink, without streams
 * ```ts
 * import { FrameWriter, HeaderList } from "@msrp/msrp/wire";
 *
 * const writer = new FrameWriter();
 * const out: Uint8Array[] = [];
 * writer.write({
 *   kind: "response",
 *   tid: "a786hjs2",
 *   status: 200,
 *   comment: "OK",
 *   headers: new HeaderList([
 *     ["To-Path", "msrp://alice.example.com:7777/iau39;tcp"],
 *     ["From-Path", "msrp://bob.example.com:8888/9di4ea;tcp"],
 *   ]),
 *   flag: "$",
 * }, (bytes) => out.push(bytes));
 * ```
 */
export class FrameWriter {
  readonly #onChange: ((change: TransactionIdChange) => void) | undefined;
  readonly #coalesce: number;
  readonly #alloc: Alloc;
  #open: OpenRequest | undefined;
  /**
   * `------- tid`, what must not occur in a body (§7.1): one buffer for the
   * writer's life, refilled for the id in use before every search.
   */
  readonly #pattern = new BytePattern(DASHES, DASHES.length + MAX_TID);

  /**
   * Makes a writer with no request open.
   *
   * @param options see {@linkcode FrameEncoderOptions}
   */
  constructor(options: FrameEncoderOptions = {}) {
    this.#onChange = options.onTransactionIdChange;
    this.#coalesce = options.coalesceLimit ?? 16384;
    const slab = options.slabSize ?? 0;
    this.#alloc = slab > 0 ? new Slabs(slab).alloc : newBytes;
  }

  /** True while a request has been started but its end-line not yet written. */
  get busy(): boolean {
    return this.#open !== undefined;
  }

  /**
   * Encodes a frame, or the next piece of the request being written.
   *
   * @param frame a whole frame, the first piece of a request (`flag`
   *   undefined), or a later piece with the same `tid` and the next `offset`
   * @param out receives the bytes, in order; it may keep them
   * @throws {MsrpError} `bad-frame` for a malformed frame or a piece out of order
   */
  write(frame: Frame, out: (bytes: Uint8Array) => void): void {
    const open = this.#open;
    if (open !== undefined) {
      if (frame.kind !== "request" || frame.tid !== open.callerTid) {
        throw misuse(`a frame cannot start while request ${open.callerTid} is still being written`);
      }
      if (frame.offset !== open.offset || frame.body === null) {
        throw misuse(`piece of ${frame.tid} at offset ${frame.offset}, expected ${open.offset}`);
      }
      checkFlag(frame.flag, open.callerTid);
      if (
        open.request.method !== "SEND" && open.offset + frame.body.length > MAX_NON_SEND_BODY
      ) {
        throw tooLarge(open.request.method, open.callerTid);
      }
      this.#continue(open, frame.body, frame.flag, out);
      return;
    }
    // The id as text: what the checks see and the wire gets, even from a JS caller's number.
    let tid = String(frame.tid);
    checkStart(frame, tid);
    if (frame.kind === "response") {
      out(frameBytes(frame, tid, false, null, frame.flag, this.#alloc));
      return;
    }
    if (frame.offset !== 0) {
      throw misuse(`request ${frame.tid} starts at offset ${frame.offset}, not 0`);
    }
    checkBody(frame, tid);
    const body = frame.body;
    if (body === null) {
      if (frame.flag === undefined) throw misuse("a bodiless request cannot be sent in pieces");
      out(frameBytes(frame, tid, false, null, frame.flag, this.#alloc));
      return;
    }
    // Nothing is written yet: if the body holds the end-line, just pick another id.
    const pattern = this.#usePattern(tid);
    while (findEndLine(pattern, body) !== undefined) {
      const next = newTransactionId();
      this.#onChange?.({ from: frame.tid, to: next, byteOffset: 0, interrupted: false });
      tid = next;
      this.#usePattern(tid); // (after the callback, which could have used this writer)
    }
    if (frame.flag !== undefined) {
      if (body.length > this.#coalesce) {
        out(frameBytes(frame, tid, true, null, undefined, this.#alloc));
        out(body);
        out(endLineBytes(tid, frame.flag, this.#alloc));
      } else {
        // One buffer: head, body, CRLF, end-line; one copy of a small body
        // is cheaper than three writes.
        out(frameBytes(frame, tid, true, body, frame.flag, this.#alloc));
      }
      return;
    }
    out(frameBytes(frame, tid, true, null, undefined, this.#alloc));
    if (body.length > 0) out(body);
    this.#open = {
      callerTid: frame.tid,
      tid,
      request: frame,
      offset: body.length,
      tail: keepTail(pattern, undefined, body),
    };
  }

  /** Fills the writer's pattern with `------- tid` and returns it. */
  #usePattern(tid: string): BytePattern {
    const pattern = this.#pattern;
    const b = pattern.buffer;
    for (let i = 0; i < tid.length; i++) b[7 + i] = tid.charCodeAt(i); // an ident: ASCII
    pattern.update(7 + tid.length);
    return pattern;
  }

  #continue(
    open: OpenRequest,
    body: Uint8Array,
    flag: ContinuationFlag | undefined,
    out: (bytes: Uint8Array) => void,
  ): void {
    let rest = body;
    for (;;) {
      const at = findEndLine(this.#usePattern(open.tid), rest, open.tail);
      if (at === undefined) break;
      // The end-line of the wire transaction turned up in a later piece:
      // interrupt the chunk before it and go on under a new id (§7.1).
      const cut = Math.max(0, at);
      if (cut > 0) out(rest.subarray(0, cut));
      open.offset += cut;
      this.#interrupt(open, out);
      rest = rest.subarray(cut);
    }
    if (rest.length > 0) out(rest);
    open.offset += rest.length;
    open.tail = keepTail(this.#usePattern(open.tid), open.tail, rest);
    if (flag !== undefined) {
      out(endLineBytes(open.tid, flag, this.#alloc));
      this.#open = undefined;
    }
  }

  #interrupt(open: OpenRequest, out: (bytes: Uint8Array) => void): void {
    const request = open.request;
    let range: ByteRange | undefined;
    try {
      range = getByteRange(request.headers);
    } catch { /* unusable: as if absent */ }
    if (request.method !== "SEND" || range === undefined) {
      throw new MsrpError(
        "end-line-in-body",
        `the body of ${request.method} ${open.callerTid} contains its end-line and cannot be interrupted (§7.1)`,
      );
    }
    out(endLineBytes(open.tid, "+", this.#alloc));
    const next = newTransactionId();
    this.#onChange?.({
      from: open.callerTid,
      to: next,
      byteOffset: open.offset,
      interrupted: true,
    });
    open.tid = next;
    open.tail = undefined;
    const headers: HeaderList = request.headers.clone();
    headers.set("Byte-Range", `${range.start + open.offset}-*/${range.total}`);
    out(frameBytes({ ...request, headers }, next, true, null, undefined, this.#alloc));
  }
}

/** One writer serves every encodeFrame call: whole frames leave no state behind. */
const wholeFrameWriter = new FrameWriter({ coalesceLimit: Infinity });

/**
 * Encodes one whole frame into a single buffer.
 *
 * @param frame a response, or a request with its whole body and a flag
 * @throws {MsrpError} `bad-frame` for a malformed frame or a piece
 *
 * @example Encode a whole frame
 * ```ts
 * import { encodeFrame, HeaderList } from "@msrp/msrp/wire";
 *
 * const bytes = encodeFrame({
 *   kind: "response",
 *   tid: "a786hjs2",
 *   status: 200,
 *   comment: "OK",
 *   headers: new HeaderList([
 *     ["To-Path", "msrp://alice.example.com:7777/iau39;tcp"],
 *     ["From-Path", "msrp://bob.example.com:8888/9di4ea;tcp"],
 *   ]),
 *   flag: "$",
 * });
 * console.log(new TextDecoder().decode(bytes));
 * ```
 */
export function encodeFrame(frame: Frame): Uint8Array {
  if (frame.kind === "request" && frame.flag === undefined) {
    throw misuse("encodeFrame takes whole frames only");
  }
  const parts: Uint8Array[] = [];
  wholeFrameWriter.write(frame, (b) => parts.push(b));
  return concatBytes(parts);
}

/**
 * A transform stream from MSRP frames to the bytes of a connection: a
 * `TransformStream<OutgoingFrame, Uint8Array>` over {@linkcode FrameWriter}.
 *
 * ```ts
 * import { FrameEncoderStream, HeaderList } from "@msrp/msrp/wire";
 *
 * const encoder = new FrameEncoderStream();
 * const bytes = new Response(encoder.readable).bytes();
 * const writer = encoder.writable.getWriter();
 * await writer.write({
 *   kind: "response",
 *   tid: "a786hjs2",
 *   status: 200,
 *   comment: "OK",
 *   headers: new HeaderList([
 *     ["To-Path", "msrp://alice.example.com:7777/iau39;tcp"],
 *     ["From-Path", "msrp://bob.example.com:8888/9di4ea;tcp"],
 *   ]),
 *   flag: "$",
 * });
 * await writer.close();
 * console.log(new TextDecoder().decode(await bytes)); // "MSRP a786hjs2 200 OK\r\n..."
 * ```
 *
 * It accepts whole frames, the pieces of a request in order (as the decoder
 * yields them), and requests whose body is a `ReadableStream`.
 *
 * How a streamed body keeps back-pressure: a `TransformStream` waits for its
 * reader between two calls of `transform`, never inside one, so a body read
 * and encoded in one call would pile up in the readable's queue. This class
 * is a `TransformStream` subclass (`instanceof TransformStream`,
 * `pipeThrough` works) whose `transform` encodes one frame or one piece per
 * call. Its `writable` is a thin front in front of the `TransformStream`'s
 * own writable side: whole frames and pieces are passed on as they are, and
 * a request with a streamed body is cut into pieces (its chunks), each
 * written only once the previous one was taken, so a 1 GB body streams
 * through in bounded memory. `readable` is the `TransformStream`'s own.
 */
export class FrameEncoderStream extends TransformStream<OutgoingFrame, Uint8Array> {
  /** Frames to encode (see the class comment: the front that cuts streamed bodies). */
  declare readonly writable: WritableStream<OutgoingFrame>;

  /**
   * Makes an encoder stream.
   *
   * @param options see {@linkcode FrameEncoderOptions}
   */
  constructor(options: FrameEncoderOptions = {}) {
    const frameWriter = new FrameWriter(options);
    super(
      {
        transform(frame, controller) {
          frameWriter.write(frame as Frame, (bytes) => controller.enqueue(bytes));
        },
      },
      { highWaterMark: 1 },
      { highWaterMark: 4 },
    );
    // Until the front is put in place below, `writable` is the TransformStream's own.
    const inner = this.writable;
    const writer = inner.getWriter();
    const front = new WritableStream<OutgoingFrame>({
      // Not async: most frames are written at once, and an async function
      // would add a promise per frame. (A throw still rejects the write.)
      write(frame) {
        if (frame.kind === "request" && frame.body instanceof ReadableStream) {
          return writeStreamed(frameWriter, frame as StreamingRequest, writer).catch((error) => {
            // Refused before it reached the TransformStream: its reader must learn too.
            writer.abort(error).catch(() => {});
            throw error;
          });
        }
        return writer.write(frame);
      },
      close() {
        return writer.close();
      },
      abort(reason) {
        return writer.abort(reason);
      },
    }, { highWaterMark: 1 });
    Object.defineProperty(this, "writable", { value: front, enumerable: true });
  }
}

/**
 * Writes a request whose body is a stream as pieces, one `write` each, each
 * once the stream before has room for it (`writer.ready`).
 */
async function writeStreamed(
  frameWriter: FrameWriter,
  frame: StreamingRequest,
  writer: WritableStreamDefaultWriter<OutgoingFrame>,
): Promise<void> {
  checkFlag(frame.flag, frame.tid);
  if (frame.flag === undefined) throw misuse(`streamed request ${frame.tid} needs a flag`);
  // The first piece's checks (start line, headers, Content-Type) run before a byte is queued.
  const base = {
    kind: "request" as const,
    tid: frame.tid,
    method: frame.method,
    headers: frame.headers,
  };
  const reader = frame.body.getReader();
  let offset = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      await writer.ready;
      await writer.write({ ...base, body: value, offset, flag: undefined });
      offset += value.length;
    }
  } catch (error) {
    // The body failed: end the chunk as aborted so the wire stays valid (§7.1 "#").
    if (frameWriter.busy) {
      await writer.write({ ...base, body: new Uint8Array(0), offset, flag: "#" }).catch(() => {});
    }
    throw error;
  } finally {
    reader.releaseLock();
  }
  await writer.write({ ...base, body: new Uint8Array(0), offset, flag: frame.flag });
}
