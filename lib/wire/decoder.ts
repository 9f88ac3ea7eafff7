/**
 * Bytes to frames (RFC 4975 §7.1, §7.3.1, §9).
 *
 * An MSRP byte stream is a sequence of frames:
 *
 * ```
 * "MSRP" SP transact-id SP (method | status-code [SP comment]) CRLF   start line
 * To-Path: ... CRLF From-Path: ... CRLF *(header CRLF)              header section
 * [ CRLF data CRLF ]                                                 body, requests only
 * "-------" transact-id ("$" | "+" | "#") CRLF                       end-line
 * ```
 *
 * The start line and header fields are read line by line. A blank line after
 * the headers opens a body, which runs until `CRLF ------- transact-id flag
 * CRLF`: the decoder looks for that boundary with a skip search
 * ({@linkcode BytePattern}) and never decodes body bytes as text. Body bytes
 * are handed out as views of the input chunks (no copy) where a body lies in
 * one chunk, and copied once where it spans several.
 *
 * A body longer than `segmentSize` is not held whole: it is emitted in pieces
 * as it arrives (see {@linkcode MsrpRequest}), so a 1 GB chunk passes through
 * in memory bounded by the segment size plus one read.
 *
 * Malformed input is reported in-band as an {@linkcode InvalidFrame}. After a
 * bad header line the decoder still reads the header section to its end, so
 * that the error comes with the From-Path and To-Path a 400 is addressed by
 * (RFC 4975 §7.2), then skips to that transaction's end-line and carries on;
 * when the framing itself is lost (no start line, a foreign end-line, a line
 * that never ends) the error is fatal and the stream ends. What a receiver
 * answers to each error is listed in `lib/session/connection.ts`. Skipping
 * is bounded (`maxSkip`), and so are the blank lines tolerated between
 * frames (`maxBlank`): past either, framing is taken as lost too, so a broken
 * peer whose end-line never comes cannot swallow a connection.
 *
 * Header values are kept byte for byte after the one SP that follows the
 * colon (§9 `hname ":" SP hval`; a missing SP is tolerated), so a relay
 * forwards extension fields unchanged; the typed parsers of `headers.ts`
 * skip spaces around the values they read. Which rules of §7.1 and §9 the
 * decoder applies leniently, and which the encoder enforces when sending, is
 * tabled in `encoder.ts`.
 *
 * @module
 */

import { FrameError, type MsrpErrorCode, type MsrpStatusCode } from "../errors.ts";
import { BytePattern } from "./byte_search.ts";
import { concatBytes } from "./bytes.ts";
import type { ContinuationFlag, DecodedFrame, InvalidFrame, MsrpRequest } from "./frame.ts";
import { HeaderList } from "./header_list.ts";
import { ascii, utf8OrUndefined } from "./text.ts";

/** Limits and sizes of a {@linkcode FrameDecoderStream}; every one has a safe default. */
export interface FrameDecoderOptions {
  /**
   * A request body longer than this is emitted in pieces as it arrives
   * rather than held whole. Default 65536.
   */
  segmentSize?: number;
  /** Longest start line or header line, without its CRLF. Default 16384. */
  maxLineLength?: number;
  /** Most header fields in one frame. Default 64. */
  maxHeaderCount?: number;
  /** Largest body of a non-SEND request; §7.1 sets 10240 octets. Default 10240. */
  maxNonSendBody?: number;
  /**
   * Most octets discarded after a recoverable error while looking for that
   * transaction's end-line; past it the error is fatal (`skip-limit`).
   * Default 16 MiB.
   */
  maxSkip?: number;
  /**
   * Most octets of blank lines (bare CRLFs, which §9 does not allow)
   * tolerated between two frames; past it the error is fatal
   * (`blank-limit`). Default 16384.
   */
  maxBlank?: number;
}

/** Between frames the parser holds these instead of the last frame's fields and line buffer. */
const NO_STRINGS = Object.freeze([]) as unknown as string[];
const NO_BYTES = new Uint8Array(0);

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const DASH = 45;
const COLON = 58;

const START = 0; // between frames: expecting a start line
const HEAD = 1; // reading header lines
const BODY = 2; // reading a request body up to its end-line
const SKIP = 3; // discarding a malformed frame up to its end-line
const FAILED = 4; // framing lost; all further input is ignored

/** Characters of `ident` after the first (§9): ALPHANUM . - + % = */
const IDENT_CHAR = new Uint8Array(256); // 256 entries: any byte indexes it, no range check
for (let c = 48; c <= 57; c++) IDENT_CHAR[c] = 1;
for (let c = 65; c <= 90; c++) IDENT_CHAR[c] = 1;
for (let c = 97; c <= 122; c++) IDENT_CHAR[c] = 1;
for (const c of ".-+%=") IDENT_CHAR[c.charCodeAt(0)] = 1;

/** `token` characters (§9), allowed in a header field name after its first letter. */
const TOKEN_CHAR = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) TOKEN_CHAR[c] = 1;
for (const c of '"(),/:;<=>?@[\\]{}') TOKEN_CHAR[c.charCodeAt(0)] = 0;

/** Bytes of an ASCII `hval` (§9 utf8text): printable ASCII and HTAB. */
const VALUE_CHAR = new Uint8Array(256);
for (let c = 0x20; c <= 0x7e; c++) VALUE_CHAR[c] = 1;
VALUE_CHAR[HTAB] = 1;

/** The longest transaction id accepted. §9 allows 32; some stacks send UUIDs (36). */
const MAX_TID = 64;

/** `CRLF "-------"`: what precedes the transaction id in the end-line search pattern. */
const END_PREFIX = new Uint8Array([CR, LF, DASH, DASH, DASH, DASH, DASH, DASH, DASH]);
/** The CRLF that ended the header section, as a tail that is not body (see #prepareEndLine). */
const CRLF_TAIL = new Uint8Array([CR, LF]);

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isAlnum(c: number): boolean {
  return isAlpha(c) || (c >= 48 && c <= 57);
}

/** `to-path` and `from-path` in lower case, to spot the §7.1 mandatory fields as they are read. */
const TO_PATH = new Uint8Array([116, 111, 45, 112, 97, 116, 104]);
const FROM_PATH = new Uint8Array([102, 114, 111, 109, 45, 112, 97, 116, 104]);

/** Whether the token `b[s..e)` is `lower` in any case (RFC 5234 §2.3). */
function isName(b: Uint8Array, s: number, e: number, lower: Uint8Array): boolean {
  if (e - s !== lower.length) return false;
  // OR 0x20 lowers a letter; in a token no other byte becomes a letter or "-" by it.
  for (let k = 0; k < lower.length; k++) if ((b[s + k] | 0x20) !== lower[k]) return false;
  return true;
}

function isFlag(c: number): boolean {
  return c === 0x24 || c === 0x2b || c === 0x23; // $ + #
}

const ASCII = 0;
const NON_ASCII = 1;
const BAD = 2;

/** Classifies `utf8text` (§9) bytes: ASCII, other UTF-8 candidates, or a control character. */
function textKind(b: Uint8Array, s: number, e: number): number {
  let kind = ASCII;
  for (let i = s; i < e; i++) {
    const c = b[i];
    if (c < SP) {
      if (c !== HTAB) return BAD;
    } else if (c >= 127) {
      if (c === 127) return BAD;
      kind = NON_ASCII;
    }
  }
  return kind;
}

/** Decodes checked ASCII; faster than building strings byte by byte. */
const asciiDecoder = new TextDecoder();

/** The method name; the three of RFC 4975/4976 without allocating a string. */
function methodName(b: Uint8Array, s: number, e: number): string {
  const n = e - s;
  if (n === 4 && b[s] === 83 && b[s + 1] === 69 && b[s + 2] === 78 && b[s + 3] === 68) {
    return "SEND";
  }
  if (n === 4 && b[s] === 65 && b[s + 1] === 85 && b[s + 2] === 84 && b[s + 3] === 72) {
    return "AUTH";
  }
  if (
    n === 6 && b[s] === 82 && b[s + 1] === 69 && b[s + 2] === 80 && b[s + 3] === 79 &&
    b[s + 4] === 82 && b[s + 5] === 84
  ) return "REPORT";
  return ascii(b, s, e);
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A receiver of decoded frames. */
export type FrameSink = (frame: DecodedFrame) => void;

/**
 * The decoder as a plain synchronous state machine with no streams and no
 * I/O: feed it chunks with {@linkcode FrameParser.push}, and it calls `emit`
 * for every frame, piece or error it completes. {@linkcode FrameDecoderStream}
 * wraps it for Web Streams.
 *
 * @example Parse bytes as they arrive, without streams
 * ```ts
 * import { FrameParser } from "@msrp/msrp/wire";
 *
 * const bytes = new TextEncoder().encode(
 *   "MSRP a786hjs2 200 OK\r\nTo-Path: msrp://alice.example.com:7777/iau39;tcp\r\n" +
 *     "From-Path: msrp://bob.example.com:8888/9di4ea;tcp\r\n-------a786hjs2$\r\n",
 * );
 * const parser = new FrameParser();
 * // Any split of the bytes gives the same frames.
 * parser.push(bytes.subarray(0, 10), (frame) => console.log(frame.kind));
 * parser.push(bytes.subarray(10), (frame) => console.log(frame.kind)); // "response"
 * ```
 */
export class FrameParser {
  readonly #segmentSize: number;
  readonly #maxLine: number;
  readonly #maxHeaders: number;
  readonly #maxNonSend: number;
  readonly #maxSkip: number;
  readonly #maxBlank: number;

  #state = START;
  /** Octets discarded since the last recoverable error (SKIP). */
  #skipped = 0;
  /** Octets of blank lines since the last frame (START). */
  #blank = 0;
  /** Stream offset of byte 0 of the chunk being pushed. */
  #base = 0;

  // A line that spans chunks is collected here (amortised growth, no rescans;
  // made when first needed, so a quiet connection's parser holds none).
  #line = NO_BYTES;
  #lineLen = 0;
  #lineOffset = 0;

  // The frame being read.
  #tid = "";
  #hasTid = false;
  #method: string | undefined;
  #status: number | undefined;
  #comment = "";
  #names: string[] = [];
  #values: string[] = [];
  #headers: HeaderList | undefined;
  // Noted as the fields are read, so the §7.1 check needs no search of the list.
  #hasToPath = false;
  #hasFromPath = false;
  /**
   * A bad header line, held until the header section ends: the fields after
   * it (From-Path may be one) are still read, so that a 400 can be addressed.
   */
  #pending: { code: MsrpErrorCode; message: string; offset: number } | undefined;
  /** Bad header lines in this frame; they count towards `maxHeaderCount` like fields. */
  #badLines = 0;

  // Header text is not decoded line by line: the ASCII spans of the tid and
  // of each name and value are noted, and decoded with one TextDecoder call
  // when the head is complete (a short decode costs as much as a long one).
  #spanBuf: Uint8Array | undefined;
  #spans: number[] = []; // [start, end) pairs in #spanBuf: tid?, then name, value, ...
  #tidSpan = false; // the first pair is the tid, not yet decoded

  // Body state: the boundary `CRLF ------- tid` (one buffer, reused for every
  // frame), and bytes not yet emitted.
  readonly #endLine = new BytePattern(END_PREFIX, END_PREFIX.length + MAX_TID);
  #endLen = 0; // pattern + flag + CRLF
  #atBodyStart = false; // the CRLF before the body has just been read
  #tail: Uint8Array | undefined; // bytes that may be the start of the end-line
  #tailSkip = 0; // leading bytes of #tail that are not body (the CRLF before it)
  #parts: Uint8Array[] = [];
  #partsLen = 0;
  #emitted = 0; // body bytes of this request already emitted as pieces

  /**
   * Makes a parser waiting for the first start line.
   *
   * @param options limits; see {@linkcode FrameDecoderOptions}
   */
  constructor(options: FrameDecoderOptions = {}) {
    this.#segmentSize = options.segmentSize ?? 65536;
    this.#maxLine = options.maxLineLength ?? 16384;
    this.#maxHeaders = options.maxHeaderCount ?? 64;
    this.#maxNonSend = options.maxNonSendBody ?? 10240;
    this.#maxSkip = options.maxSkip ?? 16 * 1024 * 1024;
    this.#maxBlank = options.maxBlank ?? 16384;
  }

  /** True once a fatal error was emitted; further input is ignored. */
  get failed(): boolean {
    return this.#state === FAILED;
  }

  /** True when the parser is between frames (nothing partial is held). */
  get idle(): boolean {
    return this.#state === START && this.#lineLen === 0;
  }

  /**
   * Consumes the next chunk of the byte stream. The parser keeps views into
   * `chunk`, so the caller must not modify it afterwards.
   *
   * @param chunk the next bytes of the stream
   * @param emit called with each frame, piece or error completed
   */
  push(chunk: Uint8Array, emit: FrameSink): void {
    const n = chunk.length;
    let pos = 0;
    while (pos < n && this.#state !== FAILED) {
      pos = this.#state <= HEAD
        ? this.#headStep(chunk, pos, emit)
        : this.#bodyStep(chunk, pos, emit);
    }
    if (this.#state === BODY) this.#emitPiece(emit);
    else if (this.#spans.length > 0) this.#flushSpans(); // spans must not outlive the chunk
    this.#base += n;
  }

  /**
   * Signals the end of the byte stream. A frame cut off in the middle is
   * reported: a request's body bytes received so far are emitted as a last
   * piece without a flag, followed by a fatal `truncated` error.
   *
   * @param emit called with the last piece and the error, if any
   */
  finish(emit: FrameSink): void {
    const state = this.#state;
    if (state === FAILED || (state === START && this.#lineLen === 0)) return;
    if (state === BODY && this.#method === "SEND" && (this.#partsLen > 0 || this.#emitted > 0)) {
      this.#emitBody(emit, undefined);
    }
    this.#fail(emit, "truncated", "the stream ended inside a frame", this.#base);
  }

  // ---- start line and header section (line by line) ----

  #headStep(chunk: Uint8Array, pos: number, emit: FrameSink): number {
    if (this.#state === HEAD && this.#lineLen === 0) {
      const next = this.#fastHeaderLine(chunk, pos, emit);
      if (next >= 0) return next;
    }
    // Head lines are short: a plain loop finds their LF faster than a call
    // to the native indexOf, whose fixed cost dominates for 40-byte lines.
    const n = chunk.length;
    let lf = pos;
    while (lf < n && chunk[lf] !== LF) lf++;
    if (lf === n) lf = -1;
    if (this.#lineLen === 0) this.#lineOffset = this.#base + pos;
    if (lf < 0) {
      // No end of line in this chunk: keep the partial line, unless it is
      // already too long (checked before copying, so a huge line costs nothing).
      if (this.#lineLen + chunk.length - pos > this.#maxLine + 1) {
        this.#lineTooLong(emit);
        // Mid-line: the end-line can only come after a CRLF still to be read.
        this.#tail = undefined;
        return pos;
      }
      this.#appendLine(chunk, pos, chunk.length);
      return chunk.length;
    }
    const next = lf + 1;
    let buf = chunk;
    let start = pos;
    let end = next;
    if (this.#lineLen > 0) {
      if (this.#lineLen + end - pos > this.#maxLine + 2) {
        this.#lineTooLong(emit);
        return next;
      }
      this.#appendLine(chunk, pos, end);
      buf = this.#line;
      start = 0;
      end = this.#lineLen;
      this.#lineLen = 0;
    } else if (end - start > this.#maxLine + 2) {
      this.#lineTooLong(emit);
      return next;
    }
    if (end - start < 2 || buf[end - 2] !== CR) {
      this.#headerError(
        emit,
        "bad-line-ending",
        "a line ends in LF without CR (lines end in CRLF, §9)",
      );
    } else if (this.#state === START) {
      this.#startLine(buf, start, end - 2, emit);
    } else {
      this.#headerLine(buf, start, end - 2, emit);
    }
    return next;
  }

  #appendLine(chunk: Uint8Array, from: number, to: number): void {
    const need = this.#lineLen + (to - from);
    if (need > this.#line.length) {
      const bigger = new Uint8Array(Math.max(need, this.#line.length * 2, 256));
      bigger.set(this.#line.subarray(0, this.#lineLen));
      this.#line = bigger;
    }
    this.#line.set(chunk.subarray(from, to), this.#lineLen);
    this.#lineLen = need;
  }

  #lineTooLong(emit: FrameSink): void {
    this.#lineLen = 0;
    const what = this.#state === START ? "start line" : "header line";
    this.#error(emit, "line-too-long", `${what} longer than ${this.#maxLine} octets`);
  }

  /** `"MSRP" SP transact-id SP method CRLF` or `... SP status-code [SP comment] CRLF` (§9). */
  #startLine(b: Uint8Array, s: number, e: number, emit: FrameSink): void {
    if (s === e) {
      // A stray CRLF between frames is tolerated, up to a limit.
      this.#blank += 2;
      if (this.#blank > this.#maxBlank) {
        this.#fail(
          emit,
          "blank-limit",
          `more than ${this.#maxBlank} octets of blank lines between frames (§9 allows none)`,
          this.#lineOffset,
        );
      }
      return;
    }
    this.#blank = 0;
    this.#tid = "";
    this.#hasTid = false;
    this.#method = undefined;
    this.#status = undefined;
    this.#comment = "";
    this.#names = [];
    this.#values = [];
    this.#headers = undefined;
    this.#hasToPath = false;
    this.#hasFromPath = false;
    this.#pending = undefined;
    this.#badLines = 0;
    this.#spans.length = 0;
    this.#spanBuf = undefined;
    this.#tidSpan = false;
    if (
      e - s < 7 || b[s] !== 77 || b[s + 1] !== 83 || b[s + 2] !== 82 || b[s + 3] !== 80 ||
      b[s + 4] !== SP
    ) {
      return this.#fail(
        emit,
        "bad-start-line",
        'a frame must start with "MSRP " (§9)',
        this.#lineOffset,
      );
    }
    let i = s + 5;
    if (!isAlnum(b[i])) {
      return this.#fail(
        emit,
        "bad-transaction-id",
        "transaction id must start with a letter or digit (§9 ident)",
        this.#lineOffset,
      );
    }
    while (i < e && IDENT_CHAR[b[i]] === 1) i++;
    if (i - (s + 5) > MAX_TID) {
      return this.#fail(
        emit,
        "bad-transaction-id",
        `transaction id longer than ${MAX_TID} characters`,
        this.#lineOffset,
      );
    }
    if (i >= e || b[i] !== SP) {
      return this.#fail(
        emit,
        "bad-transaction-id",
        "transaction id has a character outside ident (§9)",
        this.#lineOffset,
      );
    }
    // The end-line pattern `CRLF ------- tid` is built from the bytes at once.
    const tidLen = i - (s + 5);
    const pat = this.#endLine.buffer;
    for (let k = 0; k < tidLen; k++) pat[9 + k] = b[s + 5 + k];
    this.#endLine.update(9 + tidLen);
    this.#endLen = 12 + tidLen;
    this.#hasTid = true;
    if (b === this.#line) {
      this.#tid = ascii(b, s + 5, i); // the line buffer is reused: decode now
    } else {
      this.#spanBuf = b;
      this.#spans.push(s + 5, i);
      this.#tidSpan = true;
    }
    i++;
    // A response: three digits, then the end of the line or SP comment.
    if (
      e - i >= 3 && b[i] >= 48 && b[i] <= 57 && b[i + 1] >= 48 && b[i + 1] <= 57 &&
      b[i + 2] >= 48 && b[i + 2] <= 57 && (e - i === 3 || b[i + 3] === SP)
    ) {
      this.#status = (b[i] - 48) * 100 + (b[i + 1] - 48) * 10 + (b[i + 2] - 48);
      if (e - i > 4) {
        // Spans are decoded as one ASCII run: a non-ASCII comment between
        // the tid and the headers would shift every offset after it.
        if (textKind(b, i + 4, e) !== ASCII) this.#flushSpans();
        const comment = this.#text(b, i + 4, e);
        if (comment === undefined) {
          return this.#error(
            emit,
            "bad-comment",
            "response comment is not UTF-8 text (§9 utf8text)",
          );
        }
        this.#comment = comment;
      }
      this.#state = HEAD;
      return;
    }
    // A request: `1*UPALPHA`.
    let j = i;
    while (j < e && b[j] >= 65 && b[j] <= 90) j++;
    if (j === i || j !== e) {
      this.#state = HEAD; // so the error is recoverable: the tid is known
      return this.#error(
        emit,
        "bad-method",
        "method must be upper-case letters, or a status code three digits (§9)",
      );
    }
    this.#method = methodName(b, i, e);
    this.#state = HEAD;
  }

  /** A header field, the blank line before a body, or a bodiless frame's end-line. */
  #headerLine(b: Uint8Array, s: number, e: number, emit: FrameSink): void {
    if (s === e) {
      // Blank line: a body follows (§7.1). Responses never have one (§9).
      if (this.#pending !== undefined) return this.#errorHeld(emit);
      if (this.#method === undefined) {
        return this.#error(emit, "response-with-body", "a response must not have a body (§7.2)");
      }
      if (!this.#checkPaths(emit)) return;
      this.#openBody();
      return;
    }
    if (b[s] === DASH) return this.#endLineInHead(b, s, e, emit);
    // `hname ":" SP hval` (§9): the one SP is the separator and every byte
    // after it is the value, kept exactly (a relay forwards extension fields
    // unchanged; typed parsers such as Byte-Range skip spaces themselves).
    // A missing SP is tolerated.
    if (!isAlpha(b[s])) {
      return this.#headerError(
        emit,
        "bad-header",
        "header field name must start with a letter (§9 hname)",
      );
    }
    let colon = s + 1;
    while (colon < e && TOKEN_CHAR[b[colon]] === 1) colon++;
    if (colon >= e || b[colon] !== COLON) {
      return this.#headerError(emit, "bad-header", "header field is not `name: value` (§9)");
    }
    let vs = colon + 1;
    if (vs < e && b[vs] === SP) vs++;
    const ve = e;
    const kind = textKind(b, vs, ve);
    const value = kind === NON_ASCII ? utf8OrUndefined(b, vs, ve) : "";
    if (kind === BAD || value === undefined) {
      return this.#headerError(
        emit,
        "bad-header-value",
        "header field value has a control character or bad UTF-8 (§9 utf8text)",
      );
    }
    this.#addField(b, s, colon, vs, ve, kind === ASCII ? undefined : value, emit);
  }

  /**
   * The usual header line, read in one pass: `hname ":" SP hval CRLF` with a
   * printable ASCII value, wholly inside `chunk`. #headStep would first scan
   * the line for its LF and then #headerLine would scan it again; on this
   * path each byte is looked at once. Returns the index after the line, or
   * -1 for anything else (the general path then reads the line from `pos`).
   */
  #fastHeaderLine(chunk: Uint8Array, pos: number, emit: FrameSink): number {
    const n = chunk.length;
    if (!isAlpha(chunk[pos])) return -1;
    // CR and LF are not token characters, so the name scan stops at the line's end.
    let colon = pos + 1;
    while (colon < n && TOKEN_CHAR[chunk[colon]] === 1) colon++;
    if (colon >= n || chunk[colon] !== COLON) return -1;
    let vs = colon + 1;
    if (vs < n && chunk[vs] === SP) vs++; // one SP, as #headerLine
    // The value runs to the first byte that is not printable ASCII or HTAB.
    let e = vs;
    while (e < n && VALUE_CHAR[chunk[e]] === 1) e++;
    if (e + 1 >= n || chunk[e] !== CR || chunk[e + 1] !== LF) return -1;
    if (e - pos > this.#maxLine) return -1; // too long: the general path says so
    this.#lineOffset = this.#base + pos;
    this.#addField(chunk, pos, colon, vs, e, undefined, emit);
    return e + 2;
  }

  /**
   * Adds the field whose name is `b[s..colon)` and value `b[vs..ve)`;
   * `value` is the value already decoded, `undefined` when it is ASCII.
   */
  #addField(
    b: Uint8Array,
    s: number,
    colon: number,
    vs: number,
    ve: number,
    value: string | undefined,
    emit: FrameSink,
  ): void {
    const pending = (this.#spans.length - (this.#tidSpan ? 2 : 0)) / 4;
    if (this.#names.length + pending >= this.#maxHeaders) {
      return this.#error(emit, "too-many-headers", `more than ${this.#maxHeaders} header fields`);
    }
    if (isName(b, s, colon, TO_PATH)) this.#hasToPath = true;
    else if (isName(b, s, colon, FROM_PATH)) this.#hasFromPath = true;
    if (value === undefined && b !== this.#line) {
      if (this.#spanBuf !== b) {
        this.#flushSpans();
        this.#spanBuf = b;
      }
      this.#spans.push(s, colon, vs, ve);
      return;
    }
    // Non-ASCII, or in the reused line buffer: decode now, after what is pending.
    this.#flushSpans();
    this.#names.push(ascii(b, s, colon));
    this.#values.push(value ?? ascii(b, vs, ve));
  }

  /**
   * At the end of the header section: the fields as a list. When every field
   * is still a pending span (the usual case) the list is built over the
   * decoded text lazily, without a substring per field.
   */
  #headerList(): HeaderList {
    const sp = this.#spans;
    if (this.#names.length > 0 || sp.length === 0) {
      this.#flushSpans();
      return HeaderList.fromTrusted(this.#names, this.#values);
    }
    const r0 = sp[0];
    const text = asciiDecoder.decode(this.#spanBuf!.subarray(r0, sp[sp.length - 1]));
    let first = 0;
    if (this.#tidSpan) {
      this.#tid = text.substring(0, sp[1] - r0);
      this.#tidSpan = false;
      first = 2;
    }
    this.#spans = [];
    this.#spanBuf = undefined;
    return HeaderList.fromSpans(text, sp, first, r0);
  }

  /** Turns the pending spans into strings with a single decode. */
  #flushSpans(): void {
    const sp = this.#spans;
    if (sp.length === 0) return;
    const r0 = sp[0];
    const text = asciiDecoder.decode(this.#spanBuf!.subarray(r0, sp[sp.length - 1]));
    let k = 0;
    if (this.#tidSpan) {
      this.#tid = text.substring(0, sp[1] - r0);
      this.#tidSpan = false;
      k = 2;
    }
    const names = this.#names;
    const values = this.#values;
    if (names.length === 0) {
      // The usual case: all fields at once, into arrays of the right size.
      const count = (sp.length - k) / 4;
      const nn: string[] = new Array(count);
      const vv: string[] = new Array(count);
      for (let i = 0; i < count; i++, k += 4) {
        nn[i] = text.substring(sp[k] - r0, sp[k + 1] - r0);
        vv[i] = text.substring(sp[k + 2] - r0, sp[k + 3] - r0);
      }
      this.#names = nn;
      this.#values = vv;
    } else {
      for (; k < sp.length; k += 4) {
        names.push(text.substring(sp[k] - r0, sp[k + 1] - r0));
        values.push(text.substring(sp[k + 2] - r0, sp[k + 3] - r0));
      }
    }
    sp.length = 0;
    this.#spanBuf = undefined;
  }

  /** Decodes `utf8text` (§9): HTAB, printable ASCII and UTF-8; else `undefined`. */
  #text(b: Uint8Array, s: number, e: number): string | undefined {
    const kind = textKind(b, s, e);
    return kind === BAD ? undefined : kind === ASCII ? ascii(b, s, e) : utf8OrUndefined(b, s, e);
  }

  /** A line starting with "-" in the header section: the end-line of a bodiless frame (§7.1). */
  #endLineInHead(b: Uint8Array, s: number, e: number, emit: FrameSink): void {
    // Compare with the search pattern minus its CRLF: "-------" tid.
    const pat = this.#endLine.buffer;
    const n = this.#endLine.length - 2;
    let ok = e - s === n + 1;
    for (let k = 0; ok && k < n; k++) ok = b[s + k] === pat[2 + k];
    if (!ok || !isFlag(b[e - 1])) {
      if (e - s >= 7 && b[s + 6] === DASH && b[s + 5] === DASH) {
        // Seven dashes but not our id: the sender's framing cannot be trusted.
        this.#flushSpans();
        return this.#fail(
          emit,
          "bad-end-line",
          `end-line does not match transaction ${this.#tid}`,
          this.#lineOffset,
        );
      }
      return this.#headerError(
        emit,
        "bad-header",
        "header field name must start with a letter (§9 hname)",
      );
    }
    const flag = String.fromCharCode(b[e - 1]) as ContinuationFlag;
    if (this.#pending !== undefined) {
      // The frame ends here: report the held error, with every field read.
      this.#headers = this.#headerList();
      this.#errorHeld(emit);
      this.#frameDone(); // nothing to skip
      return;
    }
    if (this.#method === undefined) {
      const headers = this.#headerList();
      const tid = this.#tid;
      this.#frameDone();
      emit({ kind: "response", tid, status: this.#status!, comment: this.#comment, headers, flag });
      return;
    }
    const pathsOk = this.#checkPaths(emit);
    const tid = this.#tid;
    const method = this.#method;
    const headers = this.#headers!;
    this.#frameDone(); // the whole frame was read: nothing to skip
    if (!pathsOk) return;
    emit({
      kind: "request",
      tid,
      method,
      headers,
      body: null,
      offset: 0,
      flag,
    });
  }

  /** Every request names its path (§7.1: To-Path and From-Path are mandatory). */
  #checkPaths(emit: FrameSink): boolean {
    this.#headers = this.#headerList();
    if (!this.#hasToPath || !this.#hasFromPath) {
      this.#error(emit, "missing-path", "a request must have To-Path and From-Path (§7.1)");
      return false;
    }
    return true;
  }

  // ---- body ----

  #openBody(): void {
    this.#atBodyStart = true;
    this.#state = BODY;
    this.#parts = [];
    this.#partsLen = 0;
    this.#emitted = 0;
  }

  /**
   * Arms the end-line search for skipping a bad frame. The CRLF that ended
   * the last line is kept as a two-byte "tail" that is not body, so that the
   * end-line of a bodiless frame, which follows right after it, is found.
   */
  #prepareEndLine(): void {
    this.#tail = CRLF_TAIL;
    this.#tailSkip = 2;
  }

  /**
   * Right after the blank line: is the end-line already here, with no CRLF
   * of its own? That is an empty body sent without the CRLF that should
   * precede the end-line; accepted as an empty body.
   */
  #endLineAt(h: Uint8Array, at: number): boolean {
    const pat = this.#endLine.buffer;
    const n = this.#endLine.length;
    for (let k = 2; k < n; k++) if (h[at + k - 2] !== pat[k]) return false;
    const f = at + n - 2;
    return isFlag(h[f]) && h[f + 1] === CR && h[f + 2] === LF;
  }

  #bodyStep(chunk: Uint8Array, pos: number, emit: FrameSink): number {
    if (this.#atBodyStart) {
      this.#atBodyStart = false;
      if (chunk.length - pos >= this.#endLen - 2) {
        if (this.#endLineAt(chunk, pos)) {
          this.#finishBody(chunk[pos + this.#endLen - 5], emit);
          return pos + this.#endLen - 2;
        }
      } else {
        this.#prepareEndLine(); // too few bytes to tell: let the tail logic decide
      }
    }
    const tail = this.#tail;
    if (tail !== undefined) {
      const tl = tail.length;
      const skip = this.#tailSkip;
      this.#tail = undefined;
      this.#tailSkip = 0;
      const need = this.#endLen - 1;
      if (chunk.length - pos < need) {
        // Too few new bytes to decide: search tail + chunk as one small buffer.
        const h = join(tail, chunk.subarray(pos));
        const end = this.#scan(h, 0, skip, emit);
        return end < 0 ? chunk.length : pos + end - tl;
      }
      // Could an end-line start inside the tail? Look at a window across the seam.
      const w = join(tail, chunk.subarray(pos, pos + need));
      const m = this.#findEnd(w, 0, tl - 1);
      if (m >= 0) {
        this.#take(w, skip, m, emit);
        this.#finishBody(w[m + this.#endLen - 3], emit);
        return pos + m + this.#endLen - tl;
      }
      this.#take(tail, skip, tl, emit);
    }
    const end = this.#scan(chunk, pos, 0, emit);
    return end < 0 ? chunk.length : end;
  }

  /**
   * Searches `h` from `from` for the end-line. Returns the index just after
   * it, or -1 when it is not there; then every byte that cannot be the start
   * of an end-line is taken as body and the rest kept as the tail.
   */
  #scan(h: Uint8Array, from: number, skip: number, emit: FrameSink): number {
    const m = this.#findEnd(h, from, h.length - this.#endLen);
    const bodyFrom = Math.max(from, skip);
    if (m >= 0) {
      this.#take(h, bodyFrom, m, emit);
      this.#finishBody(h[m + this.#endLen - 3], emit);
      return m + this.#endLen;
    }
    const hold = this.#holdStart(h, from);
    this.#take(h, bodyFrom, hold, emit);
    if (hold < h.length && (this.#state === BODY || this.#state === SKIP)) {
      this.#tail = h.slice(hold);
      this.#tailSkip = Math.max(0, skip - hold);
    }
    return -1;
  }

  /** First complete `CRLF ------- tid flag CRLF` starting in [from, lastStart], or -1. */
  #findEnd(h: Uint8Array, from: number, lastStart: number): number {
    const pattern = this.#endLine;
    const pl = this.#endLen - 3;
    for (let m = pattern.find(h, from, lastStart); m >= 0; m = pattern.find(h, m + 1, lastStart)) {
      if (isFlag(h[m + pl]) && h[m + pl + 1] === CR && h[m + pl + 2] === LF) return m;
    }
    return -1;
  }

  /** Where the bytes that might begin an end-line (cut off by the chunk's end) start. */
  #holdStart(h: Uint8Array, from: number): number {
    const n = h.length;
    const p = this.#endLine.buffer;
    const pl = this.#endLine.length;
    for (let s = Math.max(from, n - this.#endLen + 1); s < n; s++) {
      if (h[s] !== CR) continue;
      let k = s;
      while (k < n && k - s < pl && h[k] === p[k - s]) k++;
      if (k === n) return s; // a prefix of the pattern runs to the end
      if (k - s < pl) continue;
      // The pattern matched; the flag, CR and LF may still be missing.
      if (k < n && !isFlag(h[k])) continue;
      if (k + 1 < n && h[k + 1] !== CR) continue;
      return s;
    }
    return n;
  }

  /** Body bytes `h[from..to)`: kept (BODY) or dropped (SKIP), as far as `maxSkip` allows. */
  #take(h: Uint8Array, from: number, to: number, emit: FrameSink): void {
    if (to <= from) return;
    if (this.#state !== BODY) {
      if (this.#state === SKIP && (this.#skipped += to - from) > this.#maxSkip) {
        // The transaction was answered when the skip began: no method, nothing more to answer.
        this.#method = undefined;
        this.#fail(
          emit,
          "skip-limit",
          `no end-line for transaction ${this.#tid} within ${this.#maxSkip} octets after a bad frame`,
          this.#base,
        );
      }
      return;
    }
    const parts = this.#parts;
    parts.push(h.subarray(from, to));
    this.#partsLen += to - from;
    // Many tiny reads would leave many tiny views: merge them now and then.
    if (parts.length >= 64) this.#parts = [concatBytes(parts, this.#partsLen)];
    if (this.#method !== "SEND" && this.#partsLen > this.#maxNonSend) {
      const over = this.#partsLen - this.#maxNonSend;
      this.#parts = [];
      this.#partsLen = 0;
      this.#error(
        emit,
        "body-too-large",
        `a ${this.#method} body is limited to ${this.#maxNonSend} octets (§7.1)`,
      );
      this.#take(h, to - over, to, emit); // what came past the limit is skipped
    }
  }

  #finishBody(flagByte: number, emit: FrameSink): void {
    if (this.#state === FAILED) return; // the skip limit was passed on the way here
    if (this.#state === BODY) {
      this.#emitBody(emit, String.fromCharCode(flagByte) as ContinuationFlag);
    }
    this.#frameDone();
  }

  /**
   * Back to START; nothing of the finished frame may leak into the next,
   * and nothing of it is held while the connection is quiet (the header
   * fields and the text they were cut from belong to the frame emitted).
   */
  #frameDone(): void {
    this.#state = START;
    this.#tid = "";
    this.#hasTid = false;
    this.#tail = undefined;
    this.#atBodyStart = false;
    this.#parts = [];
    this.#partsLen = 0;
    this.#pending = undefined;
    this.#headers = undefined;
    this.#names = NO_STRINGS;
    this.#values = NO_STRINGS;
    this.#spanBuf = undefined;
  }

  #emitBody(emit: FrameSink, flag: ContinuationFlag | undefined): void {
    const body = concatBytes(this.#parts, this.#partsLen);
    const piece: MsrpRequest = {
      kind: "request",
      tid: this.#tid,
      method: this.#method!,
      headers: this.#headers!,
      body,
      offset: this.#emitted,
      flag,
    };
    this.#emitted += this.#partsLen;
    this.#parts = [];
    this.#partsLen = 0;
    emit(piece);
  }

  /** At the end of a chunk: a long SEND body goes out as a piece. */
  #emitPiece(emit: FrameSink): void {
    if (this.#method !== "SEND" || this.#partsLen === 0) return;
    if (this.#emitted > 0 || this.#partsLen >= this.#segmentSize) this.#emitBody(emit, undefined);
  }

  // ---- errors ----

  /**
   * A bad line in the header section (§9): held, and the lines after it
   * still read, until the section ends (blank line or end-line) or another
   * error comes; then it is reported with every field read, so that the
   * receiver can address its 400 (RFC 4975 §7.2 needs the From-Path). The
   * limits on line length and field count still apply meanwhile.
   */
  #headerError(emit: FrameSink, code: MsrpErrorCode, message: string): void {
    if (this.#state !== HEAD || !this.#hasTid) return this.#error(emit, code, message);
    this.#pending ??= { code, message, offset: this.#lineOffset };
    // Bad lines count as fields: a section of them ends as a too long one would.
    if (++this.#badLines >= this.#maxHeaders) this.#error(emit, code, message);
  }

  /** Reports the error held in `#pending` (the first problem of the frame). */
  #errorHeld(emit: FrameSink): void {
    const pending = this.#pending!;
    this.#error(emit, pending.code, pending.message);
  }

  /**
   * A recoverable error: report it, then skip to this frame's end-line.
   * Without a transaction id there is no end-line to find, so it is fatal.
   */
  #error(
    emit: FrameSink,
    code: MsrpErrorCode,
    message: string,
    status: MsrpStatusCode = 400,
  ): void {
    if (!this.#hasTid) return this.#fail(emit, code, message, this.#lineOffset);
    this.#flushSpans();
    let offset = this.#lineOffset;
    const pending = this.#pending;
    if (pending !== undefined) {
      // The first problem of the frame is the one reported.
      this.#pending = undefined;
      ({ code, message, offset } = pending);
      status = 400;
    }
    const error = new FrameError(code, message, {
      transactionId: this.#tid,
      status,
      fatal: false,
      streamOffset: offset,
    });
    emit(this.#invalid(error));
    const wasBody = this.#state === BODY;
    this.#state = SKIP;
    this.#skipped = 0;
    this.#parts = [];
    this.#partsLen = 0;
    if (!wasBody) this.#prepareEndLine();
    else if (this.#atBodyStart) {
      this.#atBodyStart = false;
      this.#prepareEndLine();
    }
  }

  #fail(emit: FrameSink, code: MsrpErrorCode, message: string, offset: number): void {
    this.#flushSpans();
    const error = new FrameError(code, message, {
      transactionId: this.#tid === "" ? undefined : this.#tid,
      status: 400,
      fatal: true,
      streamOffset: offset,
    });
    emit(this.#invalid(error));
    this.#state = FAILED;
    this.#parts = [];
    this.#tail = undefined;
  }

  #invalid(error: FrameError): InvalidFrame {
    return {
      kind: "invalid",
      error,
      tid: this.#tid === "" ? undefined : this.#tid,
      method: this.#method,
      status: this.#status,
      // After the header section was complete the fields are in #headers.
      headers: this.#headers ?? HeaderList.fromTrusted(this.#names.slice(), this.#values.slice()),
    };
  }
}

/**
 * A `TransformStream` from the bytes of a connection to MSRP frames.
 *
 * ```ts
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 2855 });
 * for await (const frame of conn.readable.pipeThrough(new FrameDecoderStream())) {
 *   if (frame.kind === "invalid") console.error(frame.error.message);
 *   else console.log(frame.kind, frame.tid);
 * }
 * ```
 *
 * Frames come out in order; a large request body comes out in pieces
 * (`flag` undefined until the last). Errors come out in-band as
 * {@linkcode InvalidFrame}; after a fatal one the stream closes and the
 * writable side is errored, which stops a piped source.
 */
export class FrameDecoderStream extends TransformStream<Uint8Array, DecodedFrame> {
  /**
   * Makes a decoder stream.
   *
   * @param options limits and sizes; see {@linkcode FrameDecoderOptions}
   */
  constructor(options: FrameDecoderOptions = {}) {
    const parser = new FrameParser(options);
    super({
      transform(chunk, controller) {
        parser.push(chunk, (f) => controller.enqueue(f));
        if (parser.failed) controller.terminate();
      },
      flush(controller) {
        parser.finish((f) => controller.enqueue(f));
      },
    });
  }
}
