/**
 * The generic SDP syntax (RFC 8866 §5, §9), knowing nothing of MSRP.
 *
 * A session description is a list of `<type>=<value>` lines, each ending in
 * CRLF, with a single lower-case letter for the type and no space around
 * the `=` (§5). The session-level lines come first, `v=0` always the first
 * of them, and must include `o=` (origin, §5.2), `s=` (session name) and
 * `t=` (timing); `c=` (connection data, §5.7) says where the media go. Each
 * `m=` line (§5.14) opens a media description that runs to the next `m=` and
 * may hold only `i=`, `c=`, `b=`, `k=` and `a=` lines. An `a=` line (§5.13)
 * is `a=name:value` or a flag `a=name`; attributes are how SDP is extended,
 * and everything MSRP needs is an attribute.
 *
 * This module splits the text into ordered lines, checks the grammar of
 * `v=`, `o=`, `c=`, `t=`, `m=` and `a=` (§9), keeps every value exactly as
 * written, and formats the lines back byte for byte. What the lines mean for
 * MSRP is read in `msrp_media.ts`.
 *
 * @module
 */

import { type MsrpErrorCode, MsrpSyntaxError } from "../errors.ts";

/** One `a=` line: `a=name:value`, or a flag `a=name` (value `undefined`). RFC 8866 §5.13. */
export interface SdpAttribute {
  /** The attribute name (a token), as written. */
  name: string;
  /** Everything after the first `:`, as written; `undefined` for a flag attribute. */
  value: string | undefined;
}

/** A line other than `a=` and `m=`: its one-letter type and its text after `=`. */
export interface SdpField {
  /** The type letter, e.g. `"v"`, `"o"`, `"c"`. */
  type: string;
  /** The text after `=`, as written. */
  value: string;
}

/** A media description: the `m=` line and the lines after it (RFC 8866 §5.14). */
export interface SdpMediaDescription {
  /** Media type, e.g. `"message"`. */
  media: string;
  /** Transport port; 0 marks a rejected or disabled stream (RFC 3264 §6). */
  port: number;
  /** The optional `/<number of ports>` after the port. */
  portCount?: number;
  /** Transport protocol, e.g. `"TCP/MSRP"`. */
  proto: string;
  /** The format list; `["*"]` for MSRP (RFC 4975 §8.1). */
  formats: string[];
  /** The `i=`, `c=`, `b=` and `k=` lines of this section, in order. */
  fields: SdpField[];
  /** The `a=` lines of this section, in order. */
  attributes: SdpAttribute[];
}

/** A whole session description as ordered lines (RFC 8866 §5). */
export interface SessionDescription {
  /** Session-level lines other than `a=` (`v=`, `o=`, `s=`, `c=`, `t=`, ...), in order. */
  fields: SdpField[];
  /** Session-level `a=` lines, in order. */
  attributes: SdpAttribute[];
  /** Media descriptions, in order. */
  media: SdpMediaDescription[];
}

/** Options for {@linkcode parseSdp}. */
export interface SdpParseOptions {
  /**
   * Accept a fragment without the `v=`, `o=`, `s=` and `t=` lines, as RFC
   * examples often show (`c=` / `m=` / `a=` only). Default false.
   */
  fragment?: boolean;
  /** Largest accepted input, in UTF-16 code units. Default 65536. */
  maxLength?: number;
}

/** The type letters of RFC 8866 §5; an SDP with any other letter is rejected. */
const SESSION_TYPES = new Set("vosiuepcbtrzka");
const MEDIA_TYPES = new Set("icbka");
const DEFAULT_MAX_LENGTH = 65536;

/** `token` of RFC 8866 §9. */
function isSdpTokenChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
    c === 0x21 || (c >= 0x23 && c <= 0x27) || c === 0x2a || c === 0x2b || c === 0x2d ||
    c === 0x2e || (c >= 0x5e && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

/**
 * Whether a text is a non-empty SDP `token` (RFC 8866 §9).
 *
 * @param text the text to test
 * @returns true when every character is a token character
 */
export function isSdpToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isSdpTokenChar(text.charCodeAt(i))) return false;
  return true;
}

/** One or more decimal digits. */
export const DIGITS: RegExp = /^[0-9]+$/;

/**
 * A parse error that points into one SDP line: `input` is the line, the
 * offset is the column in it, and the message names the line number
 * (counted from 1).
 */
function lineError(
  code: MsrpErrorCode,
  message: string,
  line: string,
  lineNo: number,
  column: number,
): MsrpSyntaxError {
  return new MsrpSyntaxError(code, `SDP line ${lineNo}: ${message}`, line, column);
}

function checkMediaLine(value: string, line: string, lineNo: number): SdpMediaDescription {
  // media-field = "m=" media SP port ["/" integer] SP proto 1*(SP fmt)
  const parts = value.split(" ");
  if (parts.length < 4 || parts.some((p) => p.length === 0)) {
    throw lineError(
      "sdp-bad-media",
      'expected "m=<media> <port> <proto> <fmt> ..." with single spaces',
      line,
      lineNo,
      2,
    );
  }
  const [media, portText, proto, ...formats] = parts;
  if (!isSdpToken(media)) {
    throw lineError("sdp-bad-media", "the media type is not a token", line, lineNo, 2);
  }
  const portAt = 2 + media.length + 1;
  const slash = portText.indexOf("/");
  const portDigits = slash < 0 ? portText : portText.slice(0, slash);
  const port = DIGITS.test(portDigits) ? Number(portDigits) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw lineError(
      "sdp-bad-port",
      "the port is not a number from 0 to 65535",
      line,
      lineNo,
      portAt,
    );
  }
  let portCount: number | undefined;
  if (slash >= 0) {
    const countText = portText.slice(slash + 1);
    if (!/^[1-9][0-9]*$/.test(countText) || countText.length > 6) {
      throw lineError(
        "sdp-bad-port",
        "the number of ports after / is not a positive integer",
        line,
        lineNo,
        portAt + slash + 1,
      );
    }
    portCount = Number(countText);
  }
  const protoAt = portAt + portText.length + 1;
  if (!proto.split("/").every(isSdpToken)) {
    throw lineError("sdp-bad-media", "the protocol is not token *(/ token)", line, lineNo, protoAt);
  }
  let fmtAt = protoAt + proto.length + 1;
  for (const fmt of formats) {
    if (!isSdpToken(fmt)) {
      throw lineError("sdp-bad-media", "a format is not a token", line, lineNo, fmtAt);
    }
    fmtAt += fmt.length + 1;
  }
  const section: SdpMediaDescription = {
    media,
    port,
    proto,
    formats,
    fields: [],
    attributes: [],
  };
  if (portCount !== undefined) section.portCount = portCount;
  return section;
}

function checkField(type: string, value: string, line: string, lineNo: number): void {
  switch (type) {
    case "v":
      if (value !== "0") {
        throw lineError("sdp-bad-version", 'only "v=0" is defined', line, lineNo, 2);
      }
      return;
    case "o": {
      // origin-field = username SP sess-id SP sess-version SP nettype SP addrtype SP address
      const parts = value.split(" ");
      if (
        parts.length !== 6 || parts.some((p) => p.length === 0) || !DIGITS.test(parts[1]) ||
        !DIGITS.test(parts[2])
      ) {
        throw lineError(
          "sdp-bad-origin",
          'expected "o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>"',
          line,
          lineNo,
          2,
        );
      }
      return;
    }
    case "c": {
      const parts = value.split(" ");
      if (parts.length !== 3 || !isSdpToken(parts[0]) || !isSdpToken(parts[1]) || !parts[2]) {
        throw lineError(
          "sdp-bad-connection",
          'expected "c=<nettype> <addrtype> <address>"',
          line,
          lineNo,
          2,
        );
      }
      return;
    }
    case "t": {
      const parts = value.split(" ");
      if (parts.length !== 2 || !DIGITS.test(parts[0]) || !DIGITS.test(parts[1])) {
        throw lineError("sdp-bad-time", 'expected "t=<start-time> <stop-time>"', line, lineNo, 2);
      }
      return;
    }
  }
}

function parseAttributeLine(value: string, line: string, lineNo: number): SdpAttribute {
  // attribute = (attribute-name ":" attribute-value) / attribute-name
  const colon = value.indexOf(":");
  const name = colon < 0 ? value : value.slice(0, colon);
  if (!isSdpToken(name)) {
    throw lineError("sdp-bad-attribute", "the attribute name is not a token", line, lineNo, 2);
  }
  return { name, value: colon < 0 ? undefined : value.slice(colon + 1) };
}

/**
 * Parses a session description into ordered lines (RFC 8866 §5, §9).
 *
 * Lines end in CRLF; a lone LF is accepted too (§5 asks parsers to be
 * tolerant). Values are kept exactly as written, so {@linkcode formatSdp}
 * gives back the input byte for byte when it is well-formed CRLF text with
 * its lines in the order §5 prescribes.
 *
 * Errors are {@linkcode MsrpSyntaxError}s whose `input` is the offending
 * line and whose `offset` is the column in that line; the message names the
 * line number.
 *
 * @param text the SDP body
 * @param options fragment mode and the size limit
 * @returns the session-level lines and the media sections
 * @throws {MsrpSyntaxError} `sdp-too-large`, `sdp-bad-line`, `sdp-bad-char`, `sdp-empty-line`,
 *   `sdp-unknown-type`, `sdp-missing-version`, `sdp-bad-version`, `sdp-misplaced-field`,
 *   `sdp-duplicate-field`, `sdp-missing-field`, `sdp-bad-origin`, `sdp-bad-connection`,
 *   `sdp-bad-time`, `sdp-bad-media`, `sdp-bad-port`, `sdp-bad-attribute`
 *
 * @example Parse an SDP session description (RFC 8866)
 * ```ts
 * import { parseSdp } from "@msrp/msrp/payload";
 *
 * const sdp = parseSdp("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=message 7777 TCP/MSRP *\r\n");
 * console.log(sdp.media.length); // 1
 * ```
 */
export function parseSdp(text: string, options: SdpParseOptions = {}): SessionDescription {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  if (text.length > maxLength) {
    throw new MsrpSyntaxError(
      "sdp-too-large",
      `the SDP is longer than ${maxLength} characters`,
      text.slice(0, 64),
      Math.min(text.length, 64),
    );
  }
  const session: SessionDescription = { fields: [], attributes: [], media: [] };
  let current: SdpMediaDescription | undefined;
  let lineNo = 0;
  let start = 0;
  let sawBlank = -1; // line number of a blank line, an error unless only blank lines follow
  const seen = new Set<string>();
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    const next = end < 0 ? text.length : end + 1;
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    if (line.endsWith("\r")) line = line.slice(0, -1);
    start = next;
    lineNo++;
    if (line.length === 0) {
      if (sawBlank < 0) sawBlank = lineNo;
      continue;
    }
    if (sawBlank >= 0) {
      throw lineError("sdp-empty-line", `line ${sawBlank} is empty`, line, lineNo, 0);
    }
    // byte-string excludes NUL, CR and LF (RFC 8866 §9).
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 0 || c === 0x0d) {
        throw lineError("sdp-bad-char", "NUL or CR inside a line", line, lineNo, i);
      }
    }
    const type = line[0];
    if (line.length < 2 || line[1] !== "=" || type < "a" || type > "z") {
      throw lineError(
        "sdp-bad-line",
        'expected "<type>=<value>" with a lower-case type letter and no space before "="',
        line,
        lineNo,
        line.length < 2 || type < "a" || type > "z" ? 0 : 1,
      );
    }
    if (type !== "m" && !SESSION_TYPES.has(type)) {
      throw lineError("sdp-unknown-type", `unknown line type "${type}"`, line, lineNo, 0);
    }
    const value = line.slice(2);
    if (lineNo === 1 && type !== "v" && !options.fragment) {
      throw lineError("sdp-missing-version", 'an SDP starts with "v=0"', line, lineNo, 0);
    }
    if (type === "m") {
      current = checkMediaLine(value, line, lineNo);
      session.media.push(current);
      continue;
    }
    if (type === "a") {
      (current ?? session).attributes.push(parseAttributeLine(value, line, lineNo));
      continue;
    }
    checkField(type, value, line, lineNo);
    if (current) {
      if (!MEDIA_TYPES.has(type)) {
        throw lineError(
          "sdp-misplaced-field",
          `a "${type}=" line may not appear inside a media section`,
          line,
          lineNo,
          0,
        );
      }
      current.fields.push({ type, value });
    } else {
      if ((type === "v" || type === "o" || type === "s") && seen.has(type)) {
        throw lineError("sdp-duplicate-field", `a second "${type}=" line`, line, lineNo, 0);
      }
      if (type === "v" && lineNo !== 1) {
        throw lineError("sdp-misplaced-field", '"v=" must be the first line', line, lineNo, 0);
      }
      seen.add(type);
      session.fields.push({ type, value });
    }
  }
  if (!options.fragment) {
    for (const required of ["v", "o", "s", "t"]) {
      if (!seen.has(required)) {
        throw new MsrpSyntaxError(
          required === "v" ? "sdp-missing-version" : "sdp-missing-field",
          `the SDP has no "${required}=" line`,
          text.length > 200 ? text.slice(0, 200) : text,
          Math.min(text.length, 200),
        );
      }
    }
  }
  return session;
}

function checkValueText(value: string, what: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) {
      throw new MsrpSyntaxError(
        "sdp-bad-value",
        `${what} contains NUL, CR or LF`,
        value,
        i,
      );
    }
  }
}

function formatAttribute(a: SdpAttribute): string {
  if (!isSdpToken(a.name)) {
    throw new MsrpSyntaxError("sdp-bad-attribute", "attribute name is not a token", a.name, 0);
  }
  if (a.value === undefined) return `a=${a.name}\r\n`;
  checkValueText(a.value, `the value of a=${a.name}`);
  return `a=${a.name}:${a.value}\r\n`;
}

function formatField(f: SdpField): string {
  if (f.type.length !== 1 || !SESSION_TYPES.has(f.type) || f.type === "a") {
    throw new MsrpSyntaxError("sdp-unknown-type", "not an SDP line type", f.type, 0);
  }
  checkValueText(f.value, `the ${f.type}= line`);
  return `${f.type}=${f.value}\r\n`;
}

/**
 * Formats one media description: the `m=` line, then its other lines, then
 * its attributes, each ending in CRLF.
 *
 * @param m the media description
 * @returns the lines of the section
 * @throws {MsrpSyntaxError} `sdp-bad-value` / `sdp-bad-attribute` / `sdp-bad-media` for values
 *   that cannot be written
 *
 * @example Write one media section of a parsed description
 * ```ts
 * import { formatSdpMedia, parseSdp } from "@msrp/msrp/payload";
 *
 * const sdp = parseSdp("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=message 7777 TCP/MSRP *\r\n");
 * console.log(formatSdpMedia(sdp.media[0])); // "m=message 7777 TCP/MSRP *\r\n"
 * ```
 */
export function formatSdpMedia(m: SdpMediaDescription): string {
  const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
  const mLine = `${m.media} ${port} ${m.proto} ${m.formats.join(" ")}`;
  if (
    !isSdpToken(m.media) || !Number.isInteger(m.port) || m.port < 0 || m.port > 65535 ||
    !m.proto.split("/").every(isSdpToken) || m.formats.length === 0 ||
    !m.formats.every(isSdpToken)
  ) {
    throw new MsrpSyntaxError("sdp-bad-media", "cannot write this m= line", mLine, 0);
  }
  let out = `m=${mLine}\r\n`;
  for (const f of m.fields) out += formatField(f);
  for (const a of m.attributes) out += formatAttribute(a);
  return out;
}

/**
 * Formats a session description with CRLF line ends: session-level lines,
 * session-level attributes, then each media section.
 *
 * @param sdp the session description
 * @returns the SDP text, ending in CRLF
 * @throws {MsrpSyntaxError} for values that contain CR, LF or NUL or names that are not tokens
 *
 * @example Write a session description back
 * ```ts
 * import { formatSdp, parseSdp } from "@msrp/msrp/payload";
 *
 * const text = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n";
 * console.log(formatSdp(parseSdp(text)) === text); // true
 * ```
 */
export function formatSdp(sdp: SessionDescription): string {
  let out = "";
  for (const f of sdp.fields) out += formatField(f);
  for (const a of sdp.attributes) out += formatAttribute(a);
  for (const m of sdp.media) out += formatSdpMedia(m);
  return out;
}

/**
 * Throws the error about one attribute: `input` is the attribute line
 * `a=name:value` and the offset is `column` counted from the start of the
 * value.
 *
 * @param code the stable error code
 * @param message what is wrong, in words
 * @param a the attribute
 * @param column the column in the attribute value
 * @returns never; it always throws
 * @throws {MsrpSyntaxError} always
 */
export function attrError(
  code: MsrpErrorCode,
  message: string,
  a: SdpAttribute,
  column: number,
): never {
  const line = a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`;
  throw new MsrpSyntaxError(code, message, line, column + 2 + a.name.length + 1);
}
