/**
 * Typed views of MSRP header fields (RFC 4975 §7.1.1, §9, §10; RFC 4976 §4,
 * §7; MIME fields of RFC 2045 and RFC 2183).
 *
 * The decoder stores header fields as text in a {@link HeaderList}. This
 * module turns those values into data and back:
 *
 * | Field | Grammar | Value here |
 * | --- | --- | --- |
 * | To-Path, From-Path, Use-Path | `MSRP-URI *( SP MSRP-URI )` | `MsrpUri[]` |
 * | Message-ID | `ident` | `string` |
 * | Byte-Range | `range-start "-" range-end "/" total` | {@link ByteRange} |
 * | Success-Report | `"yes" / "no"` (default `no`) | {@link SuccessReport} |
 * | Failure-Report | `"yes" / "no" / "partial"` (default `yes`) | {@link FailureReport} |
 * | Status | `namespace SP status-code [SP comment]` | {@link Status} |
 * | Content-Type | `type "/" subtype *( ";" gen-param )` | {@link ContentType} |
 * | Content-ID, Content-Description, Content-Disposition | RFC 2045, RFC 2183 | text, {@link ContentDisposition} |
 * | Expires, Min-Expires, Max-Expires | `1*DIGIT` seconds (RFC 4976 §4.6) | `number` |
 *
 * The paths are the heart of MSRP routing: To-Path lists the URIs a request
 * still has to visit (relays first, the destination last) and From-Path the
 * URIs it came through, most recent first (§7.2; RFC 4976 §6). Use-Path is
 * what a relay hands a client in its AUTH response (RFC 4976 §4.2).
 *
 * Each `parseX` takes a field value (what follows `Name: `) and throws an
 * {@link MsrpSyntaxError} when it does not follow the grammar; each
 * `formatX` returns the value text; each `getX` reads the first field of
 * that name from a {@link HeaderList} and returns `undefined` (or the RFC's
 * default) when it is absent. The parsers are single left-to-right scans
 * without regular expressions, so their work is linear in the input.
 *
 * WWW-Authenticate, Authorization and Authentication-Info live in the relay
 * authentication module.
 *
 * @module
 */

import { type MsrpErrorCode, type MsrpStatusCode, MsrpSyntaxError } from "../errors.ts";
import { isTokenChar, scanToken } from "./token.ts";
import type { HeaderList } from "./header_list.ts";
import { type MsrpUri, parseUriRange } from "./uri.ts";

/** `To-Path` (RFC 4975 §9): where the request goes, next hop first. */
export const TO_PATH = "To-Path";
/** `From-Path` (RFC 4975 §9): where the request came from, last hop first. */
export const FROM_PATH = "From-Path";
/** `Use-Path` (RFC 4976 §4.2): the relay URIs a client should route through. */
export const USE_PATH = "Use-Path";
/** `Message-ID` (RFC 4975 §7.1.1): ties the chunks and reports of one message. */
export const MESSAGE_ID = "Message-ID";
/** `Byte-Range` (RFC 4975 §7.1.1): where a chunk sits in its message. */
export const BYTE_RANGE = "Byte-Range";
/** `Success-Report` (RFC 4975 §7.1.1): whether the sender wants success REPORTs. */
export const SUCCESS_REPORT = "Success-Report";
/** `Failure-Report` (RFC 4975 §7.1.1): whether the sender wants failure responses and REPORTs. */
export const FAILURE_REPORT = "Failure-Report";
/** `Status` (RFC 4975 §7.1.2): the outcome a REPORT carries. */
export const STATUS = "Status";
/** `Content-Type` (RFC 4975 §7.1): the media type of the body. */
export const CONTENT_TYPE = "Content-Type";
/** `Content-ID` (RFC 2045 §7). */
export const CONTENT_ID = "Content-ID";
/** `Content-Description` (RFC 2045 §8). */
export const CONTENT_DESCRIPTION = "Content-Description";
/** `Content-Disposition` (RFC 2183), e.g. `attachment; filename="a.txt"`. */
export const CONTENT_DISPOSITION = "Content-Disposition";
/** `Expires` (RFC 4976 §4.6): seconds a relay registration stays valid. */
export const EXPIRES = "Expires";
/** `Min-Expires` (RFC 4976 §4.6): the shortest Expires a relay allows (in 423 responses). */
export const MIN_EXPIRES = "Min-Expires";
/** `Max-Expires` (RFC 4976 §4.6): the longest Expires a relay allows (in 423 responses). */
export const MAX_EXPIRES = "Max-Expires";

/**
 * Default comments for the status codes of RFC 4975 §10 and RFC 4976 §10.3,
 * for response start lines and Status fields. The RFCs describe the codes
 * but only name 401 ("Unauthorized") and 423 ("Interval Out-of-Bounds", RFC
 * 4976 §4.6); the others follow their §10 descriptions.
 */
export const STATUS_TEXT: Readonly<Record<MsrpStatusCode, string>> = Object.freeze({
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  408: "Request Timeout",
  413: "Message Too Large",
  415: "Unsupported Media Type",
  423: "Interval Out-of-Bounds",
  481: "Session Does Not Exist",
  501: "Not Implemented",
  506: "Session Bound To Another Connection",
});

// ---------------------------------------------------------------------------
// Small scanning helpers.

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlnum(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function skipSpace(s: string, i: number, end: number): number {
  while (i < end && isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** The end of `s` with trailing SP / HTAB left off. */
function trimEnd(s: string, start: number): number {
  let end = s.length;
  while (end > start && isSpace(s.charCodeAt(end - 1))) end--;
  return end;
}

/** Index of the first character that is not a token character, or -1. */
function firstNonToken(s: string): number {
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return i;
  return s.length === 0 ? 0 : -1;
}

/** Index of the first control character other than HTAB (or DEL), or -1. */
function firstControl(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return i;
  }
  return -1;
}

/**
 * Reads `1*DIGIT` at `i` as a number no larger than `max`. Returns the
 * index after the digits; the value is in `out[0]`. Stops reading as soon as
 * the value passes `max`, so hostile input costs no more than its length.
 */
function scanNumber(
  s: string,
  i: number,
  end: number,
  max: number,
  out: [number],
  code: MsrpErrorCode,
  tooLargeCode: MsrpErrorCode,
  what: string,
): number {
  const start = i;
  let value = 0;
  while (i < end && isDigit(s.charCodeAt(i))) {
    // While value <= max (< 2^53), value * 10 + digit is exact or, when the
    // true result passes 2^53, rounds to at least 2^53: the check is sound.
    value = value * 10 + (s.charCodeAt(i) - 0x30);
    if (value > max) {
      throw new MsrpSyntaxError(tooLargeCode, `${what} is larger than ${max}`, s, start);
    }
    i++;
  }
  if (i === start) {
    throw new MsrpSyntaxError(code, `expected decimal digits for ${what}`, s, i);
  }
  out[0] = value;
  return i;
}

// ---------------------------------------------------------------------------
// To-Path, From-Path, Use-Path

/**
 * Parses a path field value: one or more MSRP URIs separated by spaces
 * (RFC 4975 §9, RFC 4976 §7). Runs of spaces or tabs between, before or
 * after the URIs are accepted; an empty list is not.
 *
 * @param value the field value, e.g. `msrps://a.example.org:9000/kjfjan;tcp msrps://b.example.net:9000/aeiug;tcp`
 * @returns the URIs in order; each prints back exactly as written
 * @throws {MsrpSyntaxError} `empty-path`, or a URI error (`bad-host`, ...)
 *   with the offset inside `value`
 *
 * @example Parse a To-Path
 * ```ts
 * import { parsePath } from "@msrp/msrp/wire";
 *
 * const path = parsePath("msrp://relay.example.com:2855/a1b2;tcp msrp://bob.example.com:8888/9di4ea;tcp");
 * console.log(path.length, path[1].host); // 2 "bob.example.com"
 * ```
 */
export function parsePath(value: string): MsrpUri[] {
  const uris: MsrpUri[] = [];
  const end = value.length;
  let i = skipSpace(value, 0, end);
  while (i < end) {
    let j = i;
    while (j < end && !isSpace(value.charCodeAt(j))) j++;
    uris.push(parseUriRange(value, i, j));
    i = skipSpace(value, j, end);
  }
  if (uris.length === 0) {
    throw new MsrpSyntaxError("empty-path", "a path needs at least one MSRP URI", value, i);
  }
  return uris;
}

/**
 * Formats a path field value: the URIs separated by single spaces.
 *
 * @param uris one or more URIs, next hop first
 * @throws {MsrpSyntaxError} `empty-path` for an empty list
 *
 * @example Write a From-Path
 * ```ts
 * import { formatPath, parseUri } from "@msrp/msrp/wire";
 *
 * const value = formatPath([parseUri("msrp://alice.example.com:7777/iau39;tcp")]);
 * console.log(value); // "msrp://alice.example.com:7777/iau39;tcp"
 * ```
 */
export function formatPath(uris: readonly MsrpUri[]): string {
  if (uris.length === 0) {
    throw new MsrpSyntaxError("empty-path", "a path needs at least one MSRP URI", "", 0);
  }
  return uris.map((u) => u.toString()).join(" ");
}

/**
 * The To-Path of a request or response, or `undefined` when absent.
 *
 * @param headers the header fields
 * @throws {MsrpSyntaxError} when the field is present but malformed
 *
 * @example Read the To-Path of a frame
 * ```ts
 * import { getToPath, HeaderList } from "@msrp/msrp/wire";
 *
 * const headers = new HeaderList([["To-Path", "msrp://bob.example.com:8888/9di4ea;tcp"]]);
 * console.log(getToPath(headers)?.[0].sessionId); // "9di4ea"
 * ```
 */
export function getToPath(headers: HeaderList): MsrpUri[] | undefined {
  const v = headers.get(TO_PATH);
  return v === undefined ? undefined : parsePath(v);
}

/**
 * The From-Path of a request or response, or `undefined` when absent.
 *
 * @param headers the header fields
 * @throws {MsrpSyntaxError} when the field is present but malformed
 *
 * @example Read the From-Path of a frame
 * ```ts
 * import { getFromPath, HeaderList } from "@msrp/msrp/wire";
 *
 * const headers = new HeaderList([["From-Path", "msrp://alice.example.com:7777/iau39;tcp"]]);
 * console.log(getFromPath(headers)?.[0].toString());
 * ```
 */
export function getFromPath(headers: HeaderList): MsrpUri[] | undefined {
  const v = headers.get(FROM_PATH);
  return v === undefined ? undefined : parsePath(v);
}

/**
 * The Use-Path of an AUTH response (RFC 4976 §4.2), or `undefined` when absent.
 *
 * @param headers the header fields
 * @throws {MsrpSyntaxError} when the field is present but malformed
 *
 * @example Read the Use-Path a relay granted
 * ```ts
 * import { getUsePath, HeaderList } from "@msrp/msrp/wire";
 *
 * const headers = new HeaderList([["Use-Path", "msrps://relay.example.com:2855/jui787s2f;tcp"]]);
 * console.log(getUsePath(headers)?.map(String)); // the URIs to put in a=path, before our own
 * ```
 */
export function getUsePath(headers: HeaderList): MsrpUri[] | undefined {
  const v = headers.get(USE_PATH);
  return v === undefined ? undefined : parsePath(v);
}

// ---------------------------------------------------------------------------
// Message-ID

/** Longest Message-ID accepted; the grammar allows 32 (see {@link parseMessageId}). */
export const MAX_MESSAGE_ID_LENGTH = 64;

/**
 * Parses a Message-ID value: `ident = ALPHANUM 3*31ident-char`,
 * `ident-char = ALPHANUM / "." / "-" / "+" / "%" / "="` (RFC 4975 §9).
 * Leniency: up to {@link MAX_MESSAGE_ID_LENGTH} characters are accepted
 * instead of 32, since some implementations send longer ids and nothing is
 * gained by refusing them. Surrounding spaces are ignored.
 *
 * @param value the field value
 * @returns the id
 * @throws {MsrpSyntaxError} `bad-message-id`
 *
 * @example Check a Message-ID
 * ```ts
 * import { parseMessageId } from "@msrp/msrp/wire";
 *
 * console.log(parseMessageId(" 87652491 ")); // "87652491"
 * ```
 */
export function parseMessageId(value: string): string {
  const start = skipSpace(value, 0, value.length);
  const end = trimEnd(value, start);
  const bad = (at: number, why: string): MsrpSyntaxError =>
    new MsrpSyntaxError("bad-message-id", `bad Message-ID: ${why}`, value, at);
  if (start === end) throw bad(start, "it is empty");
  if (!isAlnum(value.charCodeAt(start))) throw bad(start, "it must start with a letter or digit");
  for (let i = start + 1; i < end; i++) {
    const c = value.charCodeAt(i);
    if (!(isAlnum(c) || c === 0x2e || c === 0x2d || c === 0x2b || c === 0x25 || c === 0x3d)) {
      throw bad(i, `only letters, digits and ". - + % =" are allowed`);
    }
    if (i - start >= MAX_MESSAGE_ID_LENGTH) {
      throw bad(i, `it is longer than ${MAX_MESSAGE_ID_LENGTH} characters`);
    }
  }
  if (end - start < 4) throw bad(end, "it must be at least 4 characters long");
  return value.slice(start, end);
}

/**
 * The Message-ID, or `undefined` when absent.
 *
 * @param headers the header fields
 * @throws {MsrpSyntaxError} when the field is present but malformed
 *
 * @example Read the Message-ID of a frame
 * ```ts
 * import { getMessageId, HeaderList } from "@msrp/msrp/wire";
 *
 * console.log(getMessageId(new HeaderList([["Message-ID", "87652491"]]))); // "87652491"
 * ```
 */
export function getMessageId(headers: HeaderList): string | undefined {
  const v = headers.get(MESSAGE_ID);
  return v === undefined ? undefined : parseMessageId(v);
}

// ---------------------------------------------------------------------------
// Byte-Range

/**
 * Where a chunk's body sits in its message (RFC 4975 §7.1.1). Positions
 * count from 1 and `end` is inclusive: `1-0/0` is the empty message,
 * `1-2048/5000` the first 2048 bytes of a 5000-byte message.
 */
export interface ByteRange {
  /** Position of the chunk's first byte in the message; 1 or more. */
  start: number;
  /** Position of its last byte, or `"*"` when unknown (an interruptible chunk). */
  end: number | "*";
  /** Size of the whole message, or `"*"` when unknown. */
  total: number | "*";
}

function checkRange(r: ByteRange, input: string, offsets: [number, number, number]): void {
  // RFC 4975 §7.1.1: "The first octet in the message has a position of one".
  if (r.start < 1) {
    throw new MsrpSyntaxError(
      "range-start-zero",
      "a Byte-Range starts at position 1 or later",
      input,
      offsets[0],
    );
  }
  if (r.end !== "*" && r.end < r.start - 1) {
    throw new MsrpSyntaxError(
      "range-end-before-start",
      `the Byte-Range end (${r.end}) is before its start (${r.start}) minus one`,
      input,
      offsets[1],
    );
  }
  if (r.total !== "*") {
    if (r.end !== "*" && r.end > r.total) {
      throw new MsrpSyntaxError(
        "range-end-beyond-total",
        `the Byte-Range end (${r.end}) is past the total (${r.total})`,
        input,
        offsets[1],
      );
    }
    if (r.start > r.total + 1) {
      throw new MsrpSyntaxError(
        "range-start-beyond-total",
        `the Byte-Range start (${r.start}) is past the total (${r.total})`,
        input,
        offsets[0],
      );
    }
  }
}

/**
 * Parses a Byte-Range value: `range-start "-" range-end "/" total`, where
 * the end and total are digits or `*` (RFC 4975 §9). Checks that the start
 * is at least 1, that the end is not before start - 1 (`1-0/0` is the empty
 * range) nor past the total, and that every number is a safe integer
 * (at most 2^53 - 1).
 *
 * @param value the field value, e.g. `1-*\/*` or `2049-4096/5000`
 * @throws {MsrpSyntaxError} `bad-byte-range` (syntax), `range-number-too-large`,
 *   `range-start-zero`, `range-end-before-start`, `range-end-beyond-total` or
 *   `range-start-beyond-total`
 *
 * @example Parse a Byte-Range
 * ```ts
 * import { parseByteRange } from "@msrp/msrp/wire";
 *
 * const range = parseByteRange("1-1024/*"); // the first chunk of a message of unknown size
 * console.log(range.start, range.end, range.total); // 1 1024 "*"
 * ```
 */
export function parseByteRange(value: string): ByteRange {
  const s = value;
  let i = skipSpace(s, 0, s.length);
  const end = trimEnd(s, i);
  const num: [number] = [0];
  const what = (name: string): string => `the Byte-Range ${name}`;
  const expect = (ch: string, after: string): void => {
    if (i >= end || s[i] !== ch) {
      throw new MsrpSyntaxError("bad-byte-range", `expected "${ch}" after ${after}`, s, i);
    }
    i++;
  };
  const offsets: [number, number, number] = [i, 0, 0];
  i = scanNumber(
    s,
    i,
    end,
    Number.MAX_SAFE_INTEGER,
    num,
    "bad-byte-range",
    "range-number-too-large",
    what("start"),
  );
  const start = num[0];
  expect("-", "the range start");
  offsets[1] = i;
  let rangeEnd: number | "*";
  if (i < end && s[i] === "*") {
    rangeEnd = "*";
    i++;
  } else {
    i = scanNumber(
      s,
      i,
      end,
      Number.MAX_SAFE_INTEGER,
      num,
      "bad-byte-range",
      "range-number-too-large",
      what("end"),
    );
    rangeEnd = num[0];
  }
  expect("/", "the range end");
  offsets[2] = i;
  let total: number | "*";
  if (i < end && s[i] === "*") {
    total = "*";
    i++;
  } else {
    i = scanNumber(
      s,
      i,
      end,
      Number.MAX_SAFE_INTEGER,
      num,
      "bad-byte-range",
      "range-number-too-large",
      what("total"),
    );
    total = num[0];
  }
  if (i !== end) {
    throw new MsrpSyntaxError("bad-byte-range", "unexpected text after the Byte-Range total", s, i);
  }
  const range: ByteRange = { start, end: rangeEnd, total };
  checkRange(range, s, offsets);
  return range;
}

/**
 * Formats a Byte-Range value, e.g. `1-2048/5000` or `2049-*\/*`.
 *
 * @param range the range; numbers must be safe non-negative integers
 * @throws {MsrpSyntaxError} for a range that {@link parseByteRange} would refuse
 *
 * @example Write a Byte-Range
 * ```ts
 * import { formatByteRange } from "@msrp/msrp/wire";
 *
 * console.log(formatByteRange({ start: 1, end: 25, total: 25 })); // "1-25/25"
 * ```
 */
export function formatByteRange(range: ByteRange): string {
  const text = `${range.start}-${range.end}/${range.total}`;
  for (const n of [range.start, range.end, range.total]) {
    if (n !== "*" && !(Number.isSafeInteger(n) && n >= 0)) {
      throw new MsrpSyntaxError(
        "bad-byte-range",
        `Byte-Range numbers must be safe non-negative integers, not ${n}`,
        text,
        0,
      );
    }
  }
  if (typeof range.start !== "number") {
    throw new MsrpSyntaxError("bad-byte-range", "the Byte-Range start must be a number", text, 0);
  }
  const endAt = String(range.start).length + 1;
  checkRange(range, text, [0, endAt, endAt + String(range.end).length + 1]);
  return text;
}

/**
 * The Byte-Range, or `undefined` when absent (a request without one carries
 * a whole message in one chunk, RFC 4975 §7.1.1).
 *
 * @param headers the header fields
 * @throws {MsrpSyntaxError} when the field is present but malformed
 *
 * @example Read the Byte-Range of a frame
 * ```ts
 * import { getByteRange, HeaderList } from "@msrp/msrp/wire";
 *
 * const range = getByteRange(new HeaderList([["Byte-Range", "26-50/50"]]));
 * console.log(range?.start); // 26
 * ```
 */
export function getByteRange(headers: HeaderList): ByteRange | undefined {
  const v = headers.get(BYTE_RANGE);
  return v === undefined ? undefined : parseByteRange(v);
}

// ---------------------------------------------------------------------------
// Success-Report, Failure-Report

/** Success-Report values (RFC 4975 §7.1.1). */
export type SuccessReport = "yes" | "no";
/** Failure-Report values (RFC 4975 §7.1.1). */
export type FailureReport = "yes" | "no" | "partial";

function parseKeyword<T extends string>(
  value: string,
  allowed: readonly T[],
  code: MsrpErrorCode,
  field: string,
): T {
  const start = skipSpace(value, 0, value.length);
  const end = trimEnd(value, start);
  // ABNF string literals are case-insensitive (RFC 5234 §2.3).
  const word = value.slice(start, end).toLowerCase();
  for (const a of allowed) if (a === word) return a;
  throw new MsrpSyntaxError(
    code,
    `${field} must be ${allowed.map((a) => `"${a}"`).join(" or ")}`,
    value,
    start,
  );
}

/**
 * Parses a Success-Report value: `yes` or `no` (RFC 4975 §9, any case).
 *
 * @param value the field value
 * @throws {MsrpSyntaxError} `bad-success-report`
 *
 * @example Parse a Success-Report value
 * ```ts
 * import { parseSuccessReport } from "@msrp/msrp/wire";
 *
 * console.log(parseSuccessReport("yes")); // "yes"
 * ```
 */
export function parseSuccessReport(value: string): SuccessReport {
  return parseKeyword(value, ["yes", "no"] as const, "bad-success-report", "Success-Report");
}

/**
 * Parses a Failure-Report value: `yes`, `no` or `partial` (RFC 4975 §9, any case).
 *
 * @param value the field value
 * @throws {MsrpSyntaxError} `bad-failure-report`
 *
 * @example Parse a Failure-Report value
 * ```ts
 * import { parseFailureReport } from "@msrp/msrp/wire";
 *
 * console.log(parseFailureReport("partial")); // "partial"
 * ```
 */
export function parseFailureReport(value: string): FailureReport {
  return parseKeyword(
    value,
    ["yes", "no", "partial"] as const,
    "bad-failure-report",
    "Failure-Report",
  );
}

/**
 * The Success-Report value; `"no"` when absent (RFC 4975 §7.1.1: "If no
 * Success-Report header field is present in a SEND request, it MUST be
 * treated the same as a Success-Report header field with a value of 'no'").
 *
 * @param headers the header fields
 * @throws {MsrpSyntaxError} when the field is present but malformed
 *
 * @example Success-Report, with its default
 * ```ts
 * import { getSuccessReport, HeaderList } from "@msrp/msrp/wire";
 *
 * console.log(getSuccessReport(new HeaderList())); // "no" (absent means no, RFC 4975 §7.1.1)
 * ```
 */
export function getSuccessReport(headers: HeaderList): SuccessReport {
  const v = headers.get(SUCCESS_REPORT);
  return v === undefined ? "no" : parseSuccessReport(v);
}

/**
 * The Failure-Report value; `"yes"` when absent (RFC 4975 §7.1.1: "If no
 * Failure-Report header field is present, it MUST be treated the same as a
 * Failure-Report header field with a value of 'yes'").
 *
 * @param headers the header fields
 * @throws {MsrpSyntaxError} when the field is present but malformed
 *
 * @example Failure-Report, with its default
 * ```ts
 * import { getFailureReport, HeaderList } from "@msrp/msrp/wire";
 *
 * console.log(getFailureReport(new HeaderList())); // "yes" (absent means yes, RFC 4975 §7.1.1)
 * ```
 */
export function getFailureReport(headers: HeaderList): FailureReport {
  const v = headers.get(FAILURE_REPORT);
  return v === undefined ? "yes" : parseFailureReport(v);
}

// ---------------------------------------------------------------------------
// Status

/** The value of a Status field (RFC 4975 §7.1.2, §9), e.g. `000 200 OK`. */
export interface Status {
  /** Three digits naming what `code` means; `"000"` for MSRP response codes. */
  namespace: string;
  /** The status code, 0-999 (three digits on the wire). */
  code: number;
  /** The comment after the code; `""` when there is none. */
  comment: string;
}

function threeDigits(s: string, i: number, end: number): boolean {
  return i + 3 <= end && isDigit(s.charCodeAt(i)) && isDigit(s.charCodeAt(i + 1)) &&
    isDigit(s.charCodeAt(i + 2));
}

/**
 * Parses a Status value: `namespace SP status-code [SP comment]` (RFC 4975
 * §9). Both numbers are exactly three digits; the comment is free text.
 *
 * @param value the field value, e.g. `000 413 Message too large`
 * @throws {MsrpSyntaxError} `bad-status`
 *
 * @example Parse the Status of a REPORT
 * ```ts
 * import { parseStatus } from "@msrp/msrp/wire";
 *
 * const status = parseStatus("000 200 OK");
 * console.log(status.code, status.comment); // 200 "OK"
 * ```
 */
export function parseStatus(value: string): Status {
  const start = skipSpace(value, 0, value.length);
  const end = trimEnd(value, start);
  if (!threeDigits(value, start, end)) {
    throw new MsrpSyntaxError(
      "bad-status",
      "a Status starts with a three-digit namespace",
      value,
      start,
    );
  }
  let i = start + 3;
  if (i >= end) {
    throw new MsrpSyntaxError(
      "bad-status",
      "the status code is missing after the namespace",
      value,
      skipSpace(value, i, value.length),
    );
  }
  if (!isSpace(value.charCodeAt(i))) {
    throw new MsrpSyntaxError("bad-status", "expected a space after the namespace", value, i);
  }
  i = skipSpace(value, i, end);
  if (!threeDigits(value, i, end) || (i + 3 < end && !isSpace(value.charCodeAt(i + 3)))) {
    throw new MsrpSyntaxError(
      "bad-status",
      "expected a three-digit status code after the namespace",
      value,
      i,
    );
  }
  const code = Number(value.slice(i, i + 3));
  i = skipSpace(value, i + 3, end);
  return { namespace: value.slice(start, start + 3), code, comment: value.slice(i, end) };
}

/**
 * Formats a Status value.
 *
 * @param status namespace (default `"000"`), code 0-999, and an optional comment
 * @throws {MsrpSyntaxError} `bad-status` for a bad namespace, code or a
 *   comment with control characters
 *
 * @example Write the Status of a REPORT
 * ```ts
 * import { formatStatus } from "@msrp/msrp/wire";
 *
 * console.log(formatStatus({ code: 413, comment: "Message Too Large" })); // "000 413 Message Too Large"
 * ```
 */
export function formatStatus(
  status: { namespace?: string; code: number; comment?: string },
): string {
  const ns = status.namespace ?? "000";
  if (!threeDigits(ns, 0, ns.length) || ns.length !== 3) {
    throw new MsrpSyntaxError("bad-status", "the namespace must be three digits", ns, 0);
  }
  const code = status.code;
  if (!Number.isInteger(code) || code < 0 || code > 999) {
    throw new MsrpSyntaxError("bad-status", "the status code must be 0 to 999", String(code), 0);
  }
  let text = `${ns} ${String(code).padStart(3, "0")}`;
  const comment = status.comment ?? "";
  const bad = firstControl(comment);
  if (bad >= 0) {
    throw new MsrpSyntaxError("bad-status", "the comment has a control character", comment, bad);
  }
  if (comment !== "") text += " " + comment;
  return text;
}

/**
 * The Status of a REPORT, or `undefined` when absent.
 *
 * @param headers the header fields
 * @throws {MsrpSyntaxError} when the field is present but malformed
 *
 * @example Read the Status of a REPORT
 * ```ts
 * import { getStatus, HeaderList } from "@msrp/msrp/wire";
 *
 * console.log(getStatus(new HeaderList([["Status", "000 200 OK"]]))?.code); // 200
 * ```
 */
export function getStatus(headers: HeaderList): Status | undefined {
  const v = headers.get(STATUS);
  return v === undefined ? undefined : parseStatus(v);
}

// ---------------------------------------------------------------------------
// MIME parameters, Content-Type, Content-Disposition

/** One parameter of a media type or disposition: name (lower case) and value. */
export type MimeParam = readonly [name: string, value: string | undefined];

/**
 * Reads `*( ";" gen-param )` from `i` to `end` (RFC 4975 §9):
 * `gen-param = pname [ "=" pval ]`, `pval = token / quoted-string`. Names are
 * lowercased (tokens compare case-insensitively) and values unquoted.
 *
 * Leniency (RFC 2045 §5.1 allows it): spaces around `;` and `=`, a trailing
 * `;`, and a backslash before any character inside quotes, not only `\` and
 * `"`.
 */
function parseParams(
  s: string,
  i: number,
  end: number,
  code: MsrpErrorCode,
  field: string,
): MimeParam[] {
  const params: MimeParam[] = [];
  const bad = (at: number, why: string): MsrpSyntaxError =>
    new MsrpSyntaxError(code, `bad ${field}: ${why}`, s, at);
  while (true) {
    i = skipSpace(s, i, end);
    if (i === end) return params;
    if (s.charCodeAt(i) !== 0x3b) throw bad(i, `expected ";" before a parameter`);
    i = skipSpace(s, i + 1, end);
    if (i === end) return params;
    const ns = i;
    i = scanToken(s, i, end);
    if (i === ns) throw bad(i, "expected a parameter name (a token)");
    const name = s.slice(ns, i).toLowerCase();
    const eq = skipSpace(s, i, end);
    if (eq === end || s.charCodeAt(eq) !== 0x3d) {
      params.push([name, undefined]);
      continue;
    }
    i = skipSpace(s, eq + 1, end);
    if (i < end && s.charCodeAt(i) === 0x22) {
      // quoted-string = DQUOTE *(qdtext / qd-esc) DQUOTE
      const open = i;
      let v = "";
      let last = ++i;
      for (;;) {
        if (i >= end) throw bad(open, "the quoted string has no closing quote");
        const c = s.charCodeAt(i);
        if (c === 0x22) break;
        if (c === 0x5c) {
          if (i + 1 >= end) throw bad(i, "a backslash ends the quoted string");
          v += s.slice(last, i);
          last = i + 1; // keep the escaped character
          i += 2;
          continue;
        }
        if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
          throw bad(i, "a control character inside a quoted string");
        }
        i++;
      }
      v += s.slice(last, i);
      i++;
      params.push([name, v]);
    } else {
      const vs = i;
      i = scanToken(s, i, end);
      if (i === vs) throw bad(i, "expected a parameter value (a token or a quoted string)");
      params.push([name, s.slice(vs, i)]);
    }
  }
}

/** Formats parameters as `;name=value`, quoting values that are not tokens. */
function formatParams(params: readonly MimeParam[], code: MsrpErrorCode): string {
  let out = "";
  for (const [name, value] of params) {
    const badName = firstNonToken(name);
    if (badName >= 0) {
      throw new MsrpSyntaxError(code, "a parameter name must be a token", name, badName);
    }
    out += ";" + name;
    if (value === undefined) continue;
    if (value !== "" && firstNonToken(value) < 0) {
      out += "=" + value;
      continue;
    }
    const badValue = firstControl(value);
    if (badValue >= 0) {
      throw new MsrpSyntaxError(
        code,
        "a parameter value may not hold control characters",
        value,
        badValue,
      );
    }
    out += `="${value.replace(/[\\"]/g, "\\$&")}"`;
  }
  return out;
}

/**
 * The value of a named parameter (first match, name compared
 * case-insensitively), or `undefined`.
 *
 * @param params parameters as returned by {@link parseContentType} or
 *   {@link parseContentDisposition}
 * @param name the parameter name, e.g. `charset`
 *
 * @example Look up a media-type parameter
 * ```ts
 * import { paramValue, parseContentType } from "@msrp/msrp/wire";
 *
 * const ct = parseContentType("text/plain; charset=UTF-8");
 * console.log(paramValue(ct.params, "Charset")); // "UTF-8"
 * ```
 */
export function paramValue(params: readonly MimeParam[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of params) if (n === lower) return v;
  return undefined;
}

/** A parsed Content-Type (RFC 4975 §9 `media-type`), e.g. `text/plain;charset=utf-8`. */
export interface ContentType {
  /** Top-level type, lower case, e.g. `text`. */
  type: string;
  /** Subtype, lower case, e.g. `plain`. */
  subtype: string;
  /** `type/subtype`, lower case, e.g. `text/plain`. */
  mediaType: string;
  /** Parameters in order; names lower case, values unquoted and as written. */
  params: readonly MimeParam[];
}

/**
 * Parses a Content-Type value: `type "/" subtype *( ";" gen-param )`
 * (RFC 4975 §9), e.g. `text/plain; charset="UTF-8"`.
 *
 * @param value the field value
 * @throws {MsrpSyntaxError} `bad-content-type`
 *
 * @example Parse a Content-Type
 * ```ts
 * import { parseContentType } from "@msrp/msrp/wire";
 *
 * const ct = parseContentType("message/cpim");
 * console.log(ct.type, ct.subtype, ct.mediaType); // "message" "cpim" "message/cpim"
 * ```
 */
export function parseContentType(value: string): ContentType {
  const start = skipSpace(value, 0, value.length);
  const end = trimEnd(value, start);
  let i = scanToken(value, start, end);
  if (i === start) {
    throw new MsrpSyntaxError(
      "bad-content-type",
      "a Content-Type starts with a type (a token)",
      value,
      i,
    );
  }
  if (i >= end || value.charCodeAt(i) !== 0x2f) {
    throw new MsrpSyntaxError("bad-content-type", `expected "/" after the type`, value, i);
  }
  const slash = i;
  i = scanToken(value, slash + 1, end);
  if (i === slash + 1) {
    throw new MsrpSyntaxError(
      "bad-content-type",
      `expected a subtype (a token) after "/"`,
      value,
      i,
    );
  }
  const type = value.slice(start, slash).toLowerCase();
  const subtype = value.slice(slash + 1, i).toLowerCase();
  const params = parseParams(value, i, end, "bad-content-type", "Content-Type");
  return { type, subtype, mediaType: `${type}/${subtype}`, params };
}

/**
 * Formats a Content-Type value, e.g. `text/plain;charset=utf-8`. Parameter
 * values that are not tokens are quoted, with `\` and `"` escaped.
 *
 * @param ct the type, subtype and optional parameters
 * @throws {MsrpSyntaxError} `bad-content-type` for a part that is not a
 *   token or a value with control characters
 *
 * @example Write a Content-Type
 * ```ts
 * import { formatContentType } from "@msrp/msrp/wire";
 *
 * console.log(formatContentType({ type: "text", subtype: "plain", params: [["charset", "UTF-8"]] }));
 * // "text/plain;charset=UTF-8"
 * ```
 */
export function formatContentType(
  ct: { type: string; subtype: string; params?: readonly MimeParam[] },
): string {
  for (const part of [ct.type, ct.subtype]) {
    const bad = firstNonToken(part);
    if (bad >= 0) {
      throw new MsrpSyntaxError("bad-content-type", "type and subtype must be tokens", part, bad);
    }
  }
  return `${ct.type}/${ct.subtype}${formatParams(ct.params ?? [], "bad-content-type")}`;
}

/**
 * The Content-Type, or `undefined` when absent (a request without a body has none, §7.1).
 *
 * @param headers the header fields
 * @throws {MsrpSyntaxError} when the field is present but malformed
 *
 * @example Read the Content-Type of a frame
 * ```ts
 * import { getContentType, HeaderList } from "@msrp/msrp/wire";
 *
 * console.log(getContentType(new HeaderList([["Content-Type", "text/html"]]))?.subtype); // "html"
 * ```
 */
export function getContentType(headers: HeaderList): ContentType | undefined {
  const v = headers.get(CONTENT_TYPE);
  return v === undefined ? undefined : parseContentType(v);
}

/** A parsed Content-Disposition (RFC 2183 §2), e.g. `attachment; filename="a.txt"`. */
export interface ContentDisposition {
  /** The disposition type, lower case: `inline`, `attachment`, `render`, ... */
  type: string;
  /** Parameters in order; names lower case, values unquoted. */
  params: readonly MimeParam[];
}

/**
 * Parses a Content-Disposition value (RFC 2183 §2): a disposition type and
 * parameters, read like those of Content-Type. RFC 2231 `name*=` values are
 * returned as written, not decoded.
 *
 * @param value the field value, e.g. `attachment; filename="a.txt"`
 * @throws {MsrpSyntaxError} `bad-content-disposition`
 *
 * @example Parse a Content-Disposition
 * ```ts
 * import { paramValue, parseContentDisposition } from "@msrp/msrp/wire";
 *
 * const cd = parseContentDisposition('attachment; filename="photo.jpg"');
 * console.log(cd.type, paramValue(cd.params, "filename")); // "attachment" "photo.jpg"
 * ```
 */
export function parseContentDisposition(value: string): ContentDisposition {
  const start = skipSpace(value, 0, value.length);
  const end = trimEnd(value, start);
  const i = scanToken(value, start, end);
  if (i === start) {
    throw new MsrpSyntaxError(
      "bad-content-disposition",
      "a Content-Disposition starts with a disposition type (a token)",
      value,
      i,
    );
  }
  return {
    type: value.slice(start, i).toLowerCase(),
    params: parseParams(value, i, end, "bad-content-disposition", "Content-Disposition"),
  };
}

/**
 * Formats a Content-Disposition value, e.g. `attachment;filename="a b.txt"`.
 *
 * @param cd the disposition type and optional parameters
 * @throws {MsrpSyntaxError} `bad-content-disposition` for a part that is not
 *   a token or a value with control characters
 *
 * @example Write a Content-Disposition
 * ```ts
 * import { formatContentDisposition } from "@msrp/msrp/wire";
 *
 * console.log(formatContentDisposition({ type: "render" })); // "render"
 * ```
 */
export function formatContentDisposition(
  cd: { type: string; params?: readonly MimeParam[] },
): string {
  const bad = firstNonToken(cd.type);
  if (bad >= 0) {
    throw new MsrpSyntaxError(
      "bad-content-disposition",
      "the disposition type must be a token",
      cd.type,
      bad,
    );
  }
  return cd.type + formatParams(cd.params ?? [], "bad-content-disposition");
}

/**
 * The Content-Disposition, or `undefined` when absent.
 *
 * @param headers the header fields
 * @throws {MsrpSyntaxError} when the field is present but malformed
 *
 * @example Read the Content-Disposition of a frame
 * ```ts
 * import { getContentDisposition, HeaderList } from "@msrp/msrp/wire";
 *
 * const headers = new HeaderList([["Content-Disposition", "inline"]]);
 * console.log(getContentDisposition(headers)?.type); // "inline"
 * ```
 */
export function getContentDisposition(headers: HeaderList): ContentDisposition | undefined {
  const v = headers.get(CONTENT_DISPOSITION);
  return v === undefined ? undefined : parseContentDisposition(v);
}

// ---------------------------------------------------------------------------
// Content-ID, Content-Description

/**
 * Parses a Content-ID value (RFC 2045 §7: a `msg-id`, `"<" id ">"`) and
 * returns the id without the angle brackets. Leniency: the id need not have
 * the `left@right` shape of RFC 822; it must be non-empty and hold no
 * spaces, controls or angle brackets.
 *
 * @param value the field value, e.g. `<part1@example.com>`
 * @throws {MsrpSyntaxError} `bad-content-id`
 *
 * @example Parse a Content-ID
 * ```ts
 * import { parseContentId } from "@msrp/msrp/wire";
 *
 * console.log(parseContentId("<part1@alice.example.com>")); // "part1@alice.example.com"
 * ```
 */
export function parseContentId(value: string): string {
  const start = skipSpace(value, 0, value.length);
  const end = trimEnd(value, start);
  if (start >= end || value.charCodeAt(start) !== 0x3c) {
    throw new MsrpSyntaxError("bad-content-id", `a Content-ID starts with "<"`, value, start);
  }
  let i = start + 1;
  while (i < end) {
    const c = value.charCodeAt(i);
    if (c === 0x3e || c <= 0x20 || c === 0x7f || c === 0x3c) break;
    i++;
  }
  if (i === start + 1 || i >= end || value.charCodeAt(i) !== 0x3e) {
    throw new MsrpSyntaxError(
      "bad-content-id",
      `expected a non-empty id without spaces, then ">"`,
      value,
      i,
    );
  }
  if (i + 1 !== end) {
    throw new MsrpSyntaxError("bad-content-id", `unexpected text after ">"`, value, i + 1);
  }
  return value.slice(start + 1, i);
}

/**
 * Formats a Content-ID value: `<id>`.
 *
 * @param id the id without brackets, e.g. `part1@example.com`
 * @throws {MsrpSyntaxError} `bad-content-id` for an empty id or one with
 *   spaces, controls or angle brackets
 *
 * @example Write a Content-ID
 * ```ts
 * import { formatContentId } from "@msrp/msrp/wire";
 *
 * console.log(formatContentId("part1@alice.example.com")); // "<part1@alice.example.com>"
 * ```
 */
export function formatContentId(id: string): string {
  const text = `<${id}>`;
  parseContentId(text);
  return text;
}

/**
 * The Content-ID without brackets, or `undefined` when absent.
 *
 * @param headers the header fields
 * @throws {MsrpSyntaxError} when the field is present but malformed
 *
 * @example Read the Content-ID of a frame
 * ```ts
 * import { getContentId, HeaderList } from "@msrp/msrp/wire";
 *
 * console.log(getContentId(new HeaderList([["Content-ID", "<a@b>"]]))); // "a@b"
 * ```
 */
export function getContentId(headers: HeaderList): string | undefined {
  const v = headers.get(CONTENT_ID);
  return v === undefined ? undefined : parseContentId(v);
}

/**
 * The Content-Description (RFC 2045 §8: free text), as written, or
 * `undefined` when absent.
 *
 * @param headers the header fields
 *
 * @example Read the Content-Description of a frame
 * ```ts
 * import { getContentDescription, HeaderList } from "@msrp/msrp/wire";
 *
 * console.log(getContentDescription(new HeaderList([["Content-Description", "holiday photo"]])));
 * ```
 */
export function getContentDescription(headers: HeaderList): string | undefined {
  return headers.get(CONTENT_DESCRIPTION);
}

// ---------------------------------------------------------------------------
// Expires, Min-Expires, Max-Expires

/** The largest Expires value accepted: 2^31 - 1 seconds (about 68 years). */
export const MAX_EXPIRES_SECONDS = 2 ** 31 - 1;

/**
 * Parses an Expires, Min-Expires or Max-Expires value: `1*DIGIT` seconds
 * (RFC 4976 §7). Values above 2^31 - 1 are refused, as SIP does (RFC 3261
 * §20.19), so that they fit every timer API.
 *
 * @param value the field value, e.g. `900`
 * @throws {MsrpSyntaxError} `bad-expires` or `expires-too-large`
 *
 * @example Parse an Expires value
 * ```ts
 * import { parseExpires } from "@msrp/msrp/wire";
 *
 * console.log(parseExpires("900")); // 900
 * ```
 */
export function parseExpires(value: string): number {
  const start = skipSpace(value, 0, value.length);
  const end = trimEnd(value, start);
  const out: [number] = [0];
  const i = scanNumber(
    value,
    start,
    end,
    MAX_EXPIRES_SECONDS,
    out,
    "bad-expires",
    "expires-too-large",
    "the expiry in seconds",
  );
  if (i !== end) {
    throw new MsrpSyntaxError("bad-expires", "an expiry is decimal digits only", value, i);
  }
  return out[0];
}

/**
 * Formats an Expires, Min-Expires or Max-Expires value.
 *
 * @param seconds an integer from 0 to 2^31 - 1
 * @throws {MsrpSyntaxError} `bad-expires` for anything else
 *
 * @example Write an Expires value
 * ```ts
 * import { formatExpires } from "@msrp/msrp/wire";
 *
 * console.log(formatExpires(900)); // "900"
 * ```
 */
export function formatExpires(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_EXPIRES_SECONDS) {
    throw new MsrpSyntaxError(
      "bad-expires",
      `an expiry is an integer from 0 to ${MAX_EXPIRES_SECONDS} seconds`,
      String(seconds),
      0,
    );
  }
  return String(seconds);
}

/**
 * The Expires value in seconds, or `undefined` when absent.
 *
 * @param headers the header fields
 * @throws {MsrpSyntaxError} when the field is present but malformed
 *
 * @example Read the Expires a relay granted
 * ```ts
 * import { getExpires, HeaderList } from "@msrp/msrp/wire";
 *
 * console.log(getExpires(new HeaderList([["Expires", "900"]]))); // 900
 * ```
 */
export function getExpires(headers: HeaderList): number | undefined {
  const v = headers.get(EXPIRES);
  return v === undefined ? undefined : parseExpires(v);
}

/**
 * The Min-Expires value in seconds, or `undefined` when absent.
 *
 * @param headers the header fields
 * @throws {MsrpSyntaxError} when the field is present but malformed
 *
 * @example Read a relay's Min-Expires (423 response)
 * ```ts
 * import { getMinExpires, HeaderList } from "@msrp/msrp/wire";
 *
 * console.log(getMinExpires(new HeaderList([["Min-Expires", "60"]]))); // 60
 * ```
 */
export function getMinExpires(headers: HeaderList): number | undefined {
  const v = headers.get(MIN_EXPIRES);
  return v === undefined ? undefined : parseExpires(v);
}

/**
 * The Max-Expires value in seconds, or `undefined` when absent.
 *
 * @param headers the header fields
 * @throws {MsrpSyntaxError} when the field is present but malformed
 *
 * @example Read a relay's Max-Expires (423 response)
 * ```ts
 * import { getMaxExpires, HeaderList } from "@msrp/msrp/wire";
 *
 * console.log(getMaxExpires(new HeaderList([["Max-Expires", "3600"]]))); // 3600
 * ```
 */
export function getMaxExpires(headers: HeaderList): number | undefined {
  const v = headers.get(MAX_EXPIRES);
  return v === undefined ? undefined : parseExpires(v);
}
