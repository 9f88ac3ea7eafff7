/**
 * SDP for MSRP: a small generic parser and formatter (RFC 8866), the MSRP
 * media description (RFC 4975 §8, RFC 4976, RFC 7977), the connection model
 * of RFC 6135 / RFC 4145, CEMA (RFC 6714), certificate fingerprints
 * (RFC 8122, RFC 4975 §14.4) and the file-transfer attributes of RFC 5547,
 * with helpers for the offer/answer exchange (RFC 3264).
 *
 * An MSRP session is set up by an SDP offer and answer, usually carried in
 * SIP. Each side describes itself with one media section:
 *
 * ```
 * v=0
 * o=alice 2890844526 2890844527 IN IP4 alice.example.com
 * s= -
 * c=IN IP4 alice.example.com
 * t=0 0
 * m=message 7394 TCP/MSRP *              <- media "message", protocol TCP/MSRP or
 * a=accept-types:message/cpim text/plain    TCP/TLS/MSRP, format list "*" (§8.1)
 * a=path:msrp://alice.example.com:7394/2s93i93idj;tcp
 * ```
 *
 * - `a=path` (§8.2, §8.3) is what matters for connecting: a space-separated
 *   list of MSRP URIs, leftmost the first hop (a relay, or the endpoint
 *   itself), rightmost the endpoint. The c= address and m= port only repeat
 *   the endpoint's address for old SDP tools (§8.1), except with CEMA
 *   (RFC 6714), where middleboxes rewrite them and they are used.
 * - `a=accept-types` (required) and `a=accept-wrapped-types` (§8.6) list
 *   the media types this side takes; `a=max-size` the largest message.
 * - Who opens the TCP connection: in RFC 4975 (§8.5) always the offerer.
 *   RFC 6135 lets `a=setup` (RFC 4145) choose: the offerer says `actpass`
 *   (either way) or `active` (I connect), never `passive`; the answerer
 *   picks `active` or `passive`. See {@linkcode whoConnects}.
 * - `a=sendonly` / `a=recvonly` / `a=inactive` (§8.9) only restrict SEND
 *   requests with regular message content.
 * - RFC 5547 file transfer adds `a=file-selector` (name, type, size, hash
 *   of the file), `a=file-transfer-id`, `a=file-disposition`,
 *   `a=file-date`, `a=file-icon` and `a=file-range`.
 *
 * Path values are kept here as arrays of URI strings; parse each with the
 * MSRP URI parser to use them.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { MsrpError, MsrpSyntaxError } from "../errors.ts";
import { intersectAcceptTypes, parseMediaType } from "./media_types.ts";

// ---------------------------------------------------------------------------
// Generic SDP (RFC 8866)
// ---------------------------------------------------------------------------

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

function isSdpToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isSdpTokenChar(text.charCodeAt(i))) return false;
  return true;
}

const DIGITS = /^[0-9]+$/;

/**
 * A parse error that points into one SDP line: `input` is the line, the
 * offset is the column in it, and the message names the line number
 * (counted from 1).
 */
function lineError(
  code: string,
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
 */
export function formatSdp(sdp: SessionDescription): string {
  let out = "";
  for (const f of sdp.fields) out += formatField(f);
  for (const a of sdp.attributes) out += formatAttribute(a);
  for (const m of sdp.media) out += formatSdpMedia(m);
  return out;
}

// ---------------------------------------------------------------------------
// MSRP media description (RFC 4975 §8)
// ---------------------------------------------------------------------------

/**
 * The SDP protocols of an MSRP media line. RFC 4975 §8.1 defines
 * `TCP/MSRP` and `TCP/TLS/MSRP`. RFC 7977 §5.2.2 defines none for
 * WebSocket (a WebSocket client advertises `TCP/TLS/MSRP`); the
 * `TCP/WS/MSRP` and `TCP/WSS/MSRP` spellings seen in some deployments are
 * accepted when parsing.
 */
export type MsrpTransport = "TCP/MSRP" | "TCP/TLS/MSRP" | "TCP/WS/MSRP" | "TCP/WSS/MSRP";

const MSRP_TRANSPORTS: readonly MsrpTransport[] = [
  "TCP/MSRP",
  "TCP/TLS/MSRP",
  "TCP/WS/MSRP",
  "TCP/WSS/MSRP",
];

/** The `a=setup` values of RFC 4145 §4. */
export type SetupRole = "active" | "passive" | "actpass" | "holdconn";

/** The direction attributes of RFC 8866 §6.7, as they apply to MSRP (RFC 4975 §8.9). */
export type Direction = "sendrecv" | "sendonly" | "recvonly" | "inactive";

/** A certificate fingerprint, `a=fingerprint:<hash-func> <hex:pairs>` (RFC 8122 §5). */
export interface Fingerprint {
  /** The hash function name as written, e.g. `"sha-256"` or `"SHA-1"`. */
  hash: string;
  /** Colon-separated hex pairs, as written, e.g. `"4A:AD:B9"`. */
  value: string;
}

/** A `hash:` selector of `a=file-selector` (RFC 5547 §6). */
export interface FileHash {
  /** The hash algorithm, e.g. `"sha-1"`. */
  algorithm: string;
  /** Colon-separated hex pairs, upper-case in the RFC, e.g. `"72:24:5F"`. */
  value: string;
}

/** The selectors of `a=file-selector` (RFC 5547 §5, §6). */
export interface FileSelector {
  /**
   * The `name` selector, percent-decoded. It may contain `/`, `\` or `:`
   * meaningful to some file system: sanitize before using it as a path
   * (RFC 5547 §6).
   */
  name?: string;
  /** The `type` selector as written: `type/subtype` with optional `;attr="value"` parameters. */
  type?: string;
  /** The `size` selector: the file size in octets. */
  size?: number;
  /** The `hash` selectors, in order (there may be several). */
  hashes: FileHash[];
}

/** The `a=file-date` parameters (RFC 5547 §6), each an RFC 5322 date-time as written. */
export interface FileDate {
  /** The `creation:` date. */
  creation?: string;
  /** The `modification:` date. */
  modification?: string;
  /** The `read:` date. */
  read?: string;
}

/** `a=file-range:<start>-<stop>` (RFC 5547 §6): octets counted from 1, stop inclusive. */
export interface FileRange {
  /** First octet, counted from 1. */
  start: number;
  /** Last octet (inclusive), or `"*"` when the size is not known yet. */
  stop: number | "*";
}

/** The `c=` line that applies to a media section (media-level, else session-level). */
export interface ConnectionData {
  /** Network type, `"IN"`. */
  netType: string;
  /** Address type, `"IP4"` or `"IP6"`. */
  addrType: string;
  /** The address or domain name. */
  address: string;
}

/** An MSRP media description with its attributes read (RFC 4975 §8). */
export interface MsrpMedia {
  /** Index of this section among the media sections of the SDP. */
  index: number;
  /** The m= port. 0 marks a rejected stream or a capability description. */
  port: number;
  /** True when the port is 0 (RFC 3264 §6: the stream is rejected). */
  rejected: boolean;
  /** The protocol, upper-cased. */
  transport: MsrpTransport;
  /** The effective c= line, if any. */
  connection?: ConnectionData;
  /** The `i=` line of the media section, if any. */
  information?: string;
  /** `a=path` URIs, leftmost (first hop) first (§8.2). Empty only for a rejected stream. */
  path: string[];
  /** `a=accept-types` entries (§8.6). Empty only for a rejected stream. */
  acceptTypes: string[];
  /** `a=accept-wrapped-types` entries (§8.6); empty when absent. */
  acceptWrappedTypes: string[];
  /** `a=max-size` in octets (§8.6). */
  maxSize?: number;
  /** `a=setup` (RFC 4145 §4, RFC 6135 §4.2), media-level or else session-level. */
  setup?: SetupRole;
  /**
   * `a=connection` (RFC 4145 §5). RFC 6135 §4.4: MSRP endpoints must not
   * send it and must ignore it; it is reported only for completeness.
   */
  connectionMode?: "new" | "existing";
  /** All `a=fingerprint` values (media-level, else session-level), in order. */
  fingerprints: Fingerprint[];
  /** The first of {@linkcode MsrpMedia.fingerprints}. */
  fingerprint?: Fingerprint;
  /** The direction (§8.9): media-level, else session-level, else `sendrecv`. */
  direction: Direction;
  /** `a=msrp-cema` present (RFC 6714 §5). */
  cema: boolean;
  /**
   * `a=file-selector` (RFC 5547). Present but with no selectors (all
   * fields empty) in a capability description (RFC 5547 §8.5).
   */
  fileSelector?: FileSelector;
  /** `a=file-transfer-id` (RFC 5547 §8.1). */
  fileTransferId?: string;
  /** `a=file-disposition`, e.g. `"render"` or `"attachment"` (RFC 5547 §7). */
  fileDisposition?: string;
  /** `a=file-date` (RFC 5547 §6). */
  fileDate?: FileDate;
  /** `a=file-icon`, a `cid:` URL (RFC 5547 §6, §8.8). */
  fileIcon?: string;
  /** `a=file-range` (RFC 5547 §6). Absent means the whole file. */
  fileRange?: FileRange;
  /** Every media-level attribute, in order, including ones not read above. */
  attributes: SdpAttribute[];
}

/** An error about one attribute: `input` is the attribute line `a=name:value`. */
function attrError(code: string, message: string, a: SdpAttribute, column: number): never {
  const line = a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`;
  throw new MsrpSyntaxError(code, message, line, column + 2 + a.name.length + 1);
}

/** The entries of a list separated by spaces or tabs, with their columns. */
function splitList(value: string): { word: string; at: number }[] {
  const out: { word: string; at: number }[] = [];
  const re = /[^ \t]+/g;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    out.push({ word: m[0], at: m.index });
  }
  return out;
}

function readPath(a: SdpAttribute): string[] {
  const uris = splitList(a.value ?? "");
  if (uris.length === 0) attrError("bad-path", "a=path holds no URI", a, 0);
  for (const { word, at } of uris) {
    if (!/^msrps?:\/\//i.test(word)) {
      attrError("bad-path", "a=path entry is not an msrp: or msrps: URI", a, at);
    }
  }
  return uris.map((u) => u.word);
}

function readTypeList(a: SdpAttribute, code: string): string[] {
  const entries = splitList(a.value ?? "");
  if (entries.length === 0) attrError(code, `a=${a.name} lists no media type`, a, 0);
  for (const { word, at } of entries) {
    if (word === "*") continue;
    try {
      parseMediaType(word);
    } catch {
      attrError(code, `a=${a.name} entry is not "*", "type/*" or "type/subtype"`, a, at);
    }
  }
  return entries.map((e) => e.word);
}

function readInteger(a: SdpAttribute, code: string): number {
  const value = a.value ?? "";
  if (!DIGITS.test(value) || !Number.isSafeInteger(Number(value))) {
    attrError(code, `a=${a.name} is not a decimal integer`, a, 0);
  }
  return Number(value);
}

const HEX_PAIRS = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*$/;

function readFingerprint(a: SdpAttribute): Fingerprint {
  // fingerprint-attribute = "fingerprint" ":" hash-func SP fingerprint (RFC 8122 §5)
  const value = a.value ?? "";
  const space = value.indexOf(" ");
  const hash = space < 0 ? value : value.slice(0, space);
  const hex = space < 0 ? "" : value.slice(space + 1);
  if (!isSdpToken(hash)) attrError("bad-fingerprint", "the hash function is not a token", a, 0);
  if (!HEX_PAIRS.test(hex)) {
    attrError("bad-fingerprint", "the fingerprint is not colon-separated hex pairs", a, space + 1);
  }
  return { hash, value: hex };
}

/**
 * Splits an attribute value on spaces, keeping double-quoted runs (which
 * may hold spaces) inside their word.
 */
function splitQuoted(a: SdpAttribute, code: string): { word: string; at: number }[] {
  const value = a.value ?? "";
  const out: { word: string; at: number }[] = [];
  let i = 0;
  while (i < value.length) {
    if (value[i] === " ") {
      i++;
      continue;
    }
    const at = i;
    let inQuote = false;
    while (i < value.length && (inQuote || value[i] !== " ")) {
      if (value[i] === '"') inQuote = !inQuote;
      i++;
    }
    if (inQuote) attrError(code, "unterminated double-quoted string", a, at);
    out.push({ word: value.slice(at, i), at });
  }
  return out;
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/** Undoes the percent-encoding of a `filename-string` (RFC 5547 §6); bytes are UTF-8. */
function percentDecode(text: string): string | undefined {
  if (!text.includes("%")) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length;) {
    if (text[i] === "%") {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      const cp = text.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      for (const b of utf8Encoder.encode(ch)) bytes.push(b);
      i += ch.length;
    }
  }
  try {
    return utf8Decoder.decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
}

/**
 * Percent-encodes a file name for the `name` selector (RFC 5547 §6): `%`,
 * `"`, NUL, CR, LF, and the directory separators `/` and `\`.
 */
function percentEncodeName(name: string): string {
  let out = "";
  for (const ch of name) {
    if (
      ch === "%" || ch === '"' || ch === "\0" || ch === "\r" || ch === "\n" || ch === "/" ||
      ch === "\\"
    ) {
      out += "%" + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0");
    } else {
      out += ch;
    }
  }
  return out;
}

function readFileSelector(a: SdpAttribute): FileSelector {
  const selector: FileSelector = { hashes: [] };
  if (a.value === undefined) return selector; // capability form (RFC 5547 §8.5)
  for (const { word, at } of splitQuoted(a, "bad-file-selector")) {
    const colon = word.indexOf(":");
    const key = colon < 0 ? word : word.slice(0, colon);
    const rest = colon < 0 ? "" : word.slice(colon + 1);
    switch (key) {
      case "name": {
        // filename-selector = "name:" DQUOTE filename-string DQUOTE
        const inner = rest.length >= 2 && rest.startsWith('"') && rest.endsWith('"')
          ? rest.slice(1, -1)
          : undefined;
        const decoded = inner === undefined || inner.length === 0 || inner.includes('"')
          ? undefined
          : percentDecode(inner);
        if (decoded === undefined) {
          attrError(
            "bad-file-selector",
            'the name selector is not name:"<file name>" with valid percent-encoding',
            a,
            at,
          );
        }
        selector.name = decoded;
        break;
      }
      case "type":
        try {
          parseMediaType(rest);
        } catch {
          attrError("bad-file-selector", "the type selector is not a media type", a, at + 5);
        }
        selector.type = rest;
        break;
      case "size":
        if (!DIGITS.test(rest) || !Number.isSafeInteger(Number(rest))) {
          attrError("bad-file-selector", "the size selector is not a decimal integer", a, at + 5);
        }
        selector.size = Number(rest);
        break;
      case "hash": {
        // hash-selector = "hash:" hash-algorithm ":" hash-value
        const second = rest.indexOf(":");
        const algorithm = second < 0 ? "" : rest.slice(0, second);
        const value = second < 0 ? "" : rest.slice(second + 1);
        if (!isSdpToken(algorithm) || !HEX_PAIRS.test(value)) {
          attrError(
            "bad-file-selector",
            "the hash selector is not hash:<algorithm>:<hex:pairs>",
            a,
            at + 5,
          );
        }
        selector.hashes.push({ algorithm, value });
        break;
      }
      default:
        // Unknown selectors are ignored (SDP extensibility, RFC 8866 §5.13).
        break;
    }
  }
  return selector;
}

function readFileDate(a: SdpAttribute): FileDate {
  const date: FileDate = {};
  const words = splitQuoted(a, "bad-file-date");
  if (words.length === 0) attrError("bad-file-date", "a=file-date holds no date", a, 0);
  for (const { word, at } of words) {
    const m = /^(creation|modification|read):"([^"]+)"$/.exec(word);
    if (!m) {
      attrError(
        "bad-file-date",
        'expected creation:"<date>", modification:"<date>" or read:"<date>"',
        a,
        at,
      );
    }
    const kind = m[1] as keyof FileDate;
    if (date[kind] !== undefined) {
      attrError("bad-file-date", `more than one ${kind} date (RFC 5547 §6)`, a, at);
    }
    date[kind] = m[2];
  }
  return date;
}

function readFileRange(a: SdpAttribute): FileRange {
  // file-range-attr = "file-range:" start-offset "-" stop-offset; integer = POS-DIGIT *DIGIT
  const m = /^([1-9][0-9]*)-([1-9][0-9]*|\*)$/.exec(a.value ?? "");
  const start = m ? Number(m[1]) : NaN;
  const stop = m ? (m[2] === "*" ? "*" : Number(m[2])) : NaN;
  if (
    !m || !Number.isSafeInteger(start) ||
    (stop !== "*" && (!Number.isSafeInteger(stop) || stop < start))
  ) {
    attrError(
      "bad-file-range",
      'expected "<start>-<stop>" or "<start>-*" with start <= stop',
      a,
      0,
    );
  }
  return { start, stop: stop as number | "*" };
}

/** Attributes that may appear at most once in an MSRP media section. */
const SINGLE = new Set([
  "path",
  "accept-types",
  "accept-wrapped-types",
  "max-size",
  "setup",
  "file-selector",
  "file-transfer-id",
  "file-disposition",
  "file-date",
  "file-icon",
  "file-range",
]);

const DIRECTIONS = new Set(["sendrecv", "sendonly", "recvonly", "inactive"]);

function readConnectionLine(value: string): ConnectionData {
  const [netType, addrType, address] = value.split(" ");
  return { netType, addrType, address };
}

function msrpTransportOf(proto: string): MsrpTransport | undefined {
  const upper = proto.toUpperCase();
  return MSRP_TRANSPORTS.find((t) => t === upper);
}

function readMsrpMedia(
  session: SessionDescription,
  section: SdpMediaDescription,
  index: number,
): MsrpMedia {
  const transport = msrpTransportOf(section.proto)!;
  const media: MsrpMedia = {
    index,
    port: section.port,
    rejected: section.port === 0,
    transport,
    path: [],
    acceptTypes: [],
    acceptWrappedTypes: [],
    fingerprints: [],
    direction: "sendrecv",
    cema: false,
    attributes: section.attributes,
  };
  const c = section.fields.find((f) => f.type === "c") ??
    session.fields.find((f) => f.type === "c");
  if (c) media.connection = readConnectionLine(c.value);
  const info = section.fields.find((f) => f.type === "i");
  if (info) media.information = info.value;

  // Session-level attributes that media-level ones override (RFC 8866 §5.13).
  let sessionDirection: Direction | undefined;
  const sessionFingerprints: Fingerprint[] = [];
  for (const a of session.attributes) {
    if (DIRECTIONS.has(a.name) && a.value === undefined) sessionDirection = a.name as Direction;
    else if (a.name === "setup") media.setup = readSetup(a);
    else if (a.name === "fingerprint") sessionFingerprints.push(readFingerprint(a));
  }

  const seen = new Set<string>();
  let mediaDirection: Direction | undefined;
  let mediaSetup: SetupRole | undefined;
  for (const a of section.attributes) {
    if (SINGLE.has(a.name)) {
      if (seen.has(a.name)) {
        attrError(
          "duplicate-attribute",
          `a=${a.name} appears more than once`,
          a,
          -a.name.length - 1,
        );
      }
      seen.add(a.name);
    }
    switch (a.name) {
      case "path":
        media.path = readPath(a);
        break;
      case "accept-types":
        media.acceptTypes = readTypeList(a, "bad-accept-types");
        break;
      case "accept-wrapped-types":
        media.acceptWrappedTypes = readTypeList(a, "bad-accept-wrapped-types");
        break;
      case "max-size":
        media.maxSize = readInteger(a, "bad-max-size");
        break;
      case "setup":
        mediaSetup = readSetup(a);
        break;
      case "connection":
        // RFC 6135 §4.4: ignored by MSRP; reported when it is well-formed.
        if (a.value === "new" || a.value === "existing") media.connectionMode = a.value;
        break;
      case "fingerprint":
        media.fingerprints.push(readFingerprint(a));
        break;
      case "msrp-cema":
        media.cema = true;
        break;
      case "file-selector":
        media.fileSelector = readFileSelector(a);
        break;
      case "file-transfer-id":
        if (!isSdpToken(a.value ?? "")) {
          attrError("bad-file-transfer-id", "a=file-transfer-id is not a token", a, 0);
        }
        media.fileTransferId = a.value;
        break;
      case "file-disposition":
        if (!isSdpToken(a.value ?? "")) {
          attrError("bad-file-disposition", "a=file-disposition is not a token", a, 0);
        }
        media.fileDisposition = a.value;
        break;
      case "file-date":
        media.fileDate = readFileDate(a);
        break;
      case "file-icon":
        if (!/^cid:\S+$/i.test(a.value ?? "")) {
          attrError("bad-file-icon", "a=file-icon is not a cid: URL (RFC 2392)", a, 0);
        }
        media.fileIcon = a.value;
        break;
      case "file-range":
        media.fileRange = readFileRange(a);
        break;
      default:
        if (DIRECTIONS.has(a.name) && a.value === undefined) mediaDirection = a.name as Direction;
    }
  }
  if (mediaSetup !== undefined) media.setup = mediaSetup;
  media.direction = mediaDirection ?? sessionDirection ?? "sendrecv";
  if (media.fingerprints.length === 0) media.fingerprints = sessionFingerprints;
  if (media.fingerprints.length > 0) media.fingerprint = media.fingerprints[0];

  if (!media.rejected) {
    const mLine = formatSdpMedia({ ...section, fields: [], attributes: [] }).slice(0, -2);
    // §8.2: "Each SDP offer or answer that proposes MSRP MUST contain a path attribute".
    if (media.path.length === 0) {
      throw new MsrpSyntaxError(
        "missing-path",
        "the MSRP media section has no a=path attribute (RFC 4975 §8.2)",
        mLine,
        0,
      );
    }
    // §8.6: "An SDP media-line proposing MSRP MUST be accompanied by an accept-types attribute."
    if (media.acceptTypes.length === 0) {
      throw new MsrpSyntaxError(
        "missing-accept-types",
        "the MSRP media section has no a=accept-types attribute (RFC 4975 §8.6)",
        mLine,
        0,
      );
    }
  }
  return media;
}

function readSetup(a: SdpAttribute): SetupRole {
  const v = (a.value ?? "").toLowerCase();
  if (v !== "active" && v !== "passive" && v !== "actpass" && v !== "holdconn") {
    attrError("bad-setup", "a=setup is not active, passive, actpass or holdconn", a, 0);
  }
  return v;
}

function isMsrpSection(m: SdpMediaDescription): boolean {
  return m.media.toLowerCase() === "message" && msrpTransportOf(m.proto) !== undefined;
}

/**
 * Reads every MSRP media section (`m=message <port> TCP/MSRP|TCP/TLS/MSRP *`)
 * of an SDP, in order. RFC 5547 file transfer uses one section per file.
 *
 * @param sdp SDP text or an already parsed description
 * @param options parse options when `sdp` is text
 * @returns the MSRP media sections; empty when there is none
 * @throws {MsrpSyntaxError} for malformed SDP or MSRP attributes (see {@linkcode parseMsrpMedia})
 */
export function parseAllMsrpMedia(
  sdp: string | SessionDescription,
  options?: SdpParseOptions,
): MsrpMedia[] {
  const session = typeof sdp === "string" ? parseSdp(sdp, options) : sdp;
  const out: MsrpMedia[] = [];
  session.media.forEach((m, i) => {
    if (isMsrpSection(m)) out.push(readMsrpMedia(session, m, i));
  });
  return out;
}

/**
 * Reads the first MSRP media section of an SDP (RFC 4975 §8).
 *
 * A section with port 0 is a rejected stream (or, with RFC 5547, a
 * capability description) and may lack `a=path` and `a=accept-types`;
 * any other section must have both.
 *
 * @param sdp SDP text or an already parsed description
 * @param options parse options when `sdp` is text
 * @returns the MSRP media description
 * @throws {MsrpSyntaxError} `no-msrp-media`, `missing-path`, `missing-accept-types`,
 *   `duplicate-attribute`, `bad-path`, `bad-accept-types`, `bad-accept-wrapped-types`,
 *   `bad-max-size`, `bad-setup`, `bad-fingerprint`, `bad-file-selector`, `bad-file-transfer-id`,
 *   `bad-file-disposition`, `bad-file-date`, `bad-file-icon`, `bad-file-range`, or any
 *   {@linkcode parseSdp} error
 */
export function parseMsrpMedia(
  sdp: string | SessionDescription,
  options?: SdpParseOptions,
): MsrpMedia {
  const session = typeof sdp === "string" ? parseSdp(sdp, options) : sdp;
  const index = session.media.findIndex(isMsrpSection);
  if (index < 0) {
    const text = typeof sdp === "string" ? sdp : formatSdp(session);
    const shown = text.length > 200 ? text.slice(0, 200) : text;
    throw new MsrpSyntaxError(
      "no-msrp-media",
      'the SDP has no "m=message <port> TCP/MSRP *" or TCP/TLS/MSRP media section',
      shown,
      shown.length,
    );
  }
  return readMsrpMedia(session, session.media[index], index);
}

// ---------------------------------------------------------------------------
// Building MSRP SDP
// ---------------------------------------------------------------------------

/** The RFC 5547 file attributes to write. */
export interface FileTransferAttributes {
  /**
   * `a=file-selector`: selectors to format, or a value to write as is. A
   * selector with no fields writes the bare capability form (RFC 5547 §8.5).
   */
  selector?: FileSelector | string;
  /** `a=file-transfer-id`: a fresh random token per transfer (RFC 5547 §8.1). */
  transferId?: string;
  /** `a=file-disposition`, e.g. `"render"` or `"attachment"`. */
  disposition?: string;
  /** `a=file-date`. */
  date?: FileDate;
  /** `a=file-icon`, a `cid:` URL. */
  icon?: string;
  /** `a=file-range`. */
  range?: FileRange;
}

/** The `o=` line fields (RFC 8866 §5.2). */
export interface SdpOrigin {
  /** Default `"-"`. */
  username?: string;
  /** Decimal digits; default a random number. */
  sessionId?: string;
  /** Decimal digits; default equal to the session id. Increase it for each new offer. */
  sessionVersion?: string;
  /** Default: the c= address. */
  address?: string;
}

/** What {@linkcode buildMsrpSdp} writes. */
export interface MsrpSdpOptions {
  /** The path to advertise, first hop first, this endpoint's own URI last (§8.2, §8.3). */
  path: readonly string[];
  /** `a=accept-types` entries (§8.6). */
  acceptTypes: readonly string[];
  /** `a=accept-wrapped-types` entries (§8.6). */
  acceptWrappedTypes?: readonly string[];
  /** `a=max-size` (§8.6). */
  maxSize?: number;
  /**
   * The m= protocol. Default from the scheme of the first path URI:
   * `msrps:` gives `TCP/TLS/MSRP`, `msrp:` gives `TCP/MSRP`.
   */
  transport?: MsrpTransport;
  /**
   * The m= port. Default: the port of the last path URI (the endpoint, §8.1),
   * or of the first one (the relay) when `cema` is set (RFC 6714 §4.2).
   * RFC 6135 §4.2.2 suggests 9 for an `active` endpoint. Use 0 to reject.
   */
  port?: number;
  /** The c= address. Default: the host of the URI the port comes from. */
  address?: string;
  /** The c= address type. Default `IP6` when the address holds a `:`, else `IP4`. */
  addressType?: string;
  /** `a=setup` (RFC 6135); not written when absent. */
  setup?: SetupRole;
  /** `a=fingerprint` lines (RFC 8122; needed for msrps without CA-signed certificates, §14.4). */
  fingerprints?: readonly Fingerprint[];
  /** A direction attribute; not written when absent. */
  direction?: Direction;
  /** Write `a=msrp-cema` (RFC 6714). */
  cema?: boolean;
  /** RFC 5547 file attributes. */
  file?: FileTransferAttributes;
  /** The media-level `i=` line. */
  information?: string;
  /** The `o=` line. */
  origin?: SdpOrigin;
  /** The `s=` text. Default `"-"`. */
  sessionName?: string;
  /** More media-level attributes, written last. */
  attributes?: readonly SdpAttribute[];
}

/** Host and port of an MSRP URI's authority, enough to fill c= and m=. */
function hostPortOf(uri: string): { host: string; port: number } {
  const m = /^msrps?:\/\/(?:[^@/;]*@)?(\[[^\]]+\]|[^:/;]+)(?::([0-9]+))?/i.exec(uri);
  if (!m || m[2] === undefined || Number(m[2]) > 65535) {
    throw new MsrpSyntaxError(
      "bad-path",
      "an MSRP URI in an SDP path needs a host and an explicit port (RFC 4975 §8.2)",
      uri,
      0,
    );
  }
  const host = m[1].startsWith("[") ? m[1].slice(1, -1) : m[1];
  return { host, port: Number(m[2]) };
}

function randomSessionId(): string {
  const words = new Uint32Array(2);
  crypto.getRandomValues(words);
  // 52 random bits: fits a double exactly, and is plenty for an o= session id.
  return String((words[0] & 0xfffff) * 0x100000000 + words[1]);
}

function formatFileSelector(s: FileSelector): string | undefined {
  const parts: string[] = [];
  if (s.name !== undefined) parts.push(`name:"${percentEncodeName(s.name)}"`);
  if (s.type !== undefined) parts.push(`type:${s.type}`);
  if (s.size !== undefined) parts.push(`size:${s.size}`);
  for (const h of s.hashes) parts.push(`hash:${h.algorithm}:${h.value}`);
  return parts.length === 0 ? undefined : parts.join(" ");
}

function formatFileDate(d: FileDate): string {
  const parts: string[] = [];
  if (d.creation !== undefined) parts.push(`creation:"${d.creation}"`);
  if (d.modification !== undefined) parts.push(`modification:"${d.modification}"`);
  if (d.read !== undefined) parts.push(`read:"${d.read}"`);
  return parts.join(" ");
}

/**
 * Builds the MSRP media description alone, for an SDP that also carries
 * other media. Attribute order: direction, accept-types,
 * accept-wrapped-types, max-size, path, setup, fingerprint, msrp-cema, the
 * RFC 5547 attributes, extra attributes (the order of the RFC examples).
 *
 * @param options what to advertise
 * @returns the media description
 * @throws {MsrpSyntaxError} `bad-path` for a path URI without host or port
 * @throws {MsrpError} `bad-sdp-options` for an empty path or accept-types list
 */
export function buildMsrpMediaDescription(options: MsrpSdpOptions): SdpMediaDescription {
  const rejected = options.port === 0;
  if (!rejected && options.path.length === 0) {
    throw new MsrpError("bad-sdp-options", "an MSRP media section needs a path (RFC 4975 §8.2)");
  }
  if (!rejected && options.acceptTypes.length === 0) {
    throw new MsrpError("bad-sdp-options", "an MSRP media section needs accept-types (§8.6)");
  }
  const transport = options.transport ??
    (options.path.length > 0 && /^msrps:/i.test(options.path[0]) ? "TCP/TLS/MSRP" : "TCP/MSRP");
  const port = options.port ??
    hostPortOf(options.cema ? options.path[0] : options.path[options.path.length - 1]).port;
  const fields: SdpField[] = [];
  if (options.information !== undefined) fields.push({ type: "i", value: options.information });
  const attributes: SdpAttribute[] = [];
  const add = (name: string, value?: string) => attributes.push({ name, value });
  if (options.direction !== undefined) add(options.direction);
  if (options.acceptTypes.length > 0) add("accept-types", options.acceptTypes.join(" "));
  if (options.acceptWrappedTypes && options.acceptWrappedTypes.length > 0) {
    add("accept-wrapped-types", options.acceptWrappedTypes.join(" "));
  }
  if (options.maxSize !== undefined) add("max-size", String(options.maxSize));
  if (options.path.length > 0) add("path", options.path.join(" "));
  if (options.setup !== undefined) add("setup", options.setup);
  for (const f of options.fingerprints ?? []) add("fingerprint", `${f.hash} ${f.value}`);
  if (options.cema) add("msrp-cema");
  const file = options.file;
  if (file) {
    if (file.selector !== undefined) {
      add(
        "file-selector",
        typeof file.selector === "string" ? file.selector : formatFileSelector(file.selector),
      );
    }
    if (file.transferId !== undefined) add("file-transfer-id", file.transferId);
    if (file.disposition !== undefined) add("file-disposition", file.disposition);
    if (file.date !== undefined) add("file-date", formatFileDate(file.date));
    if (file.icon !== undefined) add("file-icon", file.icon);
    if (file.range !== undefined) add("file-range", `${file.range.start}-${file.range.stop}`);
  }
  for (const a of options.attributes ?? []) attributes.push({ name: a.name, value: a.value });
  const section: SdpMediaDescription = {
    media: "message",
    port,
    proto: transport,
    formats: ["*"],
    fields,
    attributes,
  };
  formatSdpMedia(section); // validates every value now rather than at format time
  return section;
}

/** The host the c= line defaults to: that of the URI the m= port comes from. */
function defaultHost(options: MsrpSdpOptions): string | undefined {
  if (options.path.length === 0) return undefined;
  return hostPortOf(options.cema ? options.path[0] : options.path[options.path.length - 1]).host;
}

/**
 * Builds a complete SDP body with one MSRP media section: `v=`, `o=`, `s=`,
 * `c=`, `t=0 0`, `m=message ...` and its attributes, CRLF line ends.
 *
 * ```ts
 * buildMsrpSdp({
 *   path: ["msrp://alice.example.com:7394/2s93i9ek2a;tcp"],
 *   acceptTypes: ["text/plain"],
 *   origin: { username: "alice", sessionId: "2890844526", sessionVersion: "2890844527" },
 * });
 * ```
 *
 * @param options what to advertise
 * @returns the SDP text
 * @throws {MsrpSyntaxError} `bad-path` for a path URI without host or port
 * @throws {MsrpError} `bad-sdp-options` when no c= address can be derived
 */
export function buildMsrpSdp(options: MsrpSdpOptions): string {
  const section = buildMsrpMediaDescription(options);
  const address = options.address ?? defaultHost(options);
  if (address === undefined) {
    throw new MsrpError("bad-sdp-options", "no c= address: give a path or an address");
  }
  const addrType = options.addressType ?? (address.includes(":") ? "IP6" : "IP4");
  const origin = options.origin ?? {};
  const originAddress = origin.address ?? address;
  const sessionId = origin.sessionId ?? randomSessionId();
  const sessionVersion = origin.sessionVersion ?? sessionId;
  const originType = originAddress.includes(":") ? "IP6" : "IP4";
  return formatSdp({
    fields: [
      { type: "v", value: "0" },
      {
        type: "o",
        value: `${
          origin.username ?? "-"
        } ${sessionId} ${sessionVersion} IN ${originType} ${originAddress}`,
      },
      { type: "s", value: options.sessionName ?? "-" },
      { type: "c", value: `IN ${addrType} ${address}` },
      { type: "t", value: "0 0" },
    ],
    attributes: [],
    media: [section],
  });
}

// ---------------------------------------------------------------------------
// Offer / answer (RFC 3264, RFC 4975 §8, RFC 6135, RFC 5547 §8, RFC 6714 §4)
// ---------------------------------------------------------------------------

/** Options for {@linkcode makeOffer}. */
export interface OfferOptions extends MsrpSdpOptions {
  /**
   * Follow RFC 6135 (default true): always write `a=setup`, `actpass`
   * unless `setup` says `active`. False writes an RFC 4975 offer without
   * `a=setup` (the offerer then connects, §8.5).
   */
  comedia?: boolean;
}

/**
 * Builds an SDP offer for an MSRP session (RFC 4975 §8, RFC 6135 §4.2.2).
 *
 * With COMEDIA (the default) the offer says `a=setup:actpass` when this
 * side can accept a connection and `active` when it cannot (behind a NAT).
 * RFC 6135 forbids `passive` and `holdconn` in an offer.
 *
 * @param local what this side advertises
 * @returns the SDP offer text
 * @throws {MsrpError} `bad-setup-offer` for `passive` or `holdconn`
 */
export function makeOffer(local: OfferOptions): string {
  const comedia = local.comedia ?? true;
  if (local.setup === "passive" || local.setup === "holdconn") {
    // RFC 6135 §4.2.2: "The UA MUST NOT use the a=setup "passive" attribute value in an SDP
    // offer." §4.2.1: "An MSRP UA MUST NOT send the "holdconn" attribute value."
    throw new MsrpError(
      "bad-setup-offer",
      `an MSRP offer may not say a=setup:${local.setup} (RFC 6135 §4.2)`,
    );
  }
  const setup = comedia ? local.setup ?? "actpass" : undefined;
  return buildMsrpSdp({ ...local, setup });
}

/** Options for {@linkcode makeAnswer}. */
export interface AnswerOptions extends Omit<MsrpSdpOptions, "setup" | "direction" | "cema"> {
  /**
   * The role this side prefers when the offer leaves the choice
   * (`actpass`). RFC 6135 §4.2.2: answer `passive` when not behind a NAT
   * (the default), `active` when behind one.
   */
  setup?: "active" | "passive";
  /** What this side wants to do; combined with the offer's direction (RFC 3264 §6.1). */
  direction?: Direction;
  /** Follow RFC 6135 and write `a=setup` (default true). */
  comedia?: boolean;
  /** Reject the stream: port 0 (RFC 3264 §6), mirroring the RFC 5547 file attributes. */
  reject?: boolean;
  /**
   * Answer only the accept-types that the offer also lists (default true),
   * as RFC 4976 §11 shows. When nothing is common the answer fails with
   * `no-common-types` (RFC 4975 §8.6 says to reject the offer, in SIP with 488).
   */
  intersectAcceptTypes?: boolean;
  /** This side supports CEMA (RFC 6714); `a=msrp-cema` is answered when the offer has it. */
  cema?: boolean;
}

/**
 * The answerer's `a=setup` for an offer (RFC 4145 §4.1, RFC 6135 §4.2).
 *
 * | offer                          | answer                  |
 * | ------------------------------ | ----------------------- |
 * | (none), `holdconn`, `active`   | `passive`               |
 * | `passive`                      | `active`                |
 * | `actpass`                      | preference, `passive` by default |
 *
 * `holdconn` is treated as absent (RFC 6135 §4.2.1) and an absent setup as
 * the RFC 4975 offerer that always connects (RFC 4145 §4.1 default).
 *
 * @param offerSetup the offer's setup, if any
 * @param preference what this side prefers when the offer leaves the choice
 * @returns the setup to answer with
 */
export function answerSetup(
  offerSetup: SetupRole | undefined,
  preference?: "active" | "passive",
): "active" | "passive" {
  switch (offerSetup) {
    case "passive":
      return "active";
    case "actpass":
      return preference ?? "passive";
    default:
      return "passive";
  }
}

/** The answer's direction given the offer's and this side's wish (RFC 3264 §6.1). */
function answerDirection(offer: Direction, wish: Direction): Direction {
  const offerSends = offer === "sendrecv" || offer === "sendonly";
  const offerReceives = offer === "sendrecv" || offer === "recvonly";
  const wishSends = wish === "sendrecv" || wish === "sendonly";
  const wishReceives = wish === "sendrecv" || wish === "recvonly";
  const send = wishSends && offerReceives;
  const receive = wishReceives && offerSends;
  return send ? (receive ? "sendrecv" : "sendonly") : (receive ? "recvonly" : "inactive");
}

/**
 * Builds the SDP answer to an MSRP offer (RFC 3264 §6, RFC 4975 §8,
 * RFC 6135 §4.2, RFC 5547 §8.3, RFC 6714 §4.3).
 *
 * - `a=setup` from {@linkcode answerSetup} (unless `comedia: false`).
 * - direction: the offer's mirrored (sendonly → recvonly, ...), narrowed
 *   by `local.direction`; written only when it is not `sendrecv`.
 * - accept-types: those of `local` the offer also lists (see
 *   `intersectAcceptTypes`).
 * - RFC 5547: `a=file-transfer-id` is copied; for a push offer (sendonly)
 *   the `a=file-selector` and `a=file-range` are copied and no
 *   icon/disposition/date is written; for a pull offer (recvonly) the
 *   selector comes from `local.file` (else the offer's), with the range
 *   copied. A rejected answer mirrors selector and transfer id.
 * - `a=msrp-cema` when the offer has it, `local.cema` is set, and none of
 *   the RFC 6714 §4.3 fall-back cases holds.
 *
 * @param offer the offer's MSRP media, from {@linkcode parseMsrpMedia}
 * @param local what this side advertises
 * @returns the SDP answer text
 * @throws {MsrpError} `no-common-types` when no offered type is acceptable
 */
export function makeAnswer(offer: MsrpMedia, local: AnswerOptions): string {
  const comedia = local.comedia ?? true;
  const address = local.address ?? defaultHost({ ...local, cema: false });
  const selector = offer.attributes.find((a) => a.name === "file-selector");
  // The offer's selector, copied as written so that the answer mirrors it exactly.
  const mirroredSelector: FileSelector | string | undefined = selector === undefined
    ? undefined
    : selector.value ?? { hashes: [] };
  const isFileTransfer = selector !== undefined || offer.fileTransferId !== undefined;

  if (local.reject === true || offer.rejected) {
    // RFC 3264 §6: port 0. RFC 5547 §8.3: "The rejected answer MUST contain a
    // 'file-selector' and 'file-transfer-id' attributes whose values mirror [...] the offer."
    return buildMsrpSdp({
      ...local,
      address,
      port: 0,
      transport: offer.transport,
      path: [],
      acceptTypes: [],
      acceptWrappedTypes: [],
      maxSize: undefined,
      setup: undefined,
      direction: undefined,
      cema: false,
      fingerprints: undefined,
      information: undefined,
      file: isFileTransfer
        ? { selector: mirroredSelector, transferId: offer.fileTransferId }
        : undefined,
    });
  }

  let acceptTypes = [...local.acceptTypes];
  if (local.intersectAcceptTypes ?? true) {
    acceptTypes = intersectAcceptTypes(offer.acceptTypes, local.acceptTypes);
    if (acceptTypes.length === 0) {
      throw new MsrpError(
        "no-common-types",
        `none of the offered types (${offer.acceptTypes.join(" ")}) is acceptable here; ` +
          "reject the offer (in SIP with 488, RFC 4975 §8.6)",
      );
    }
  }

  let file: FileTransferAttributes | undefined;
  if (isFileTransfer) {
    if (offer.direction === "recvonly") {
      // Pull (RFC 5547 §8.3.2): this side sends the file and may describe it (type, hash,
      // icon, disposition); the transfer id and the range are copied.
      file = {
        selector: local.file?.selector ?? mirroredSelector,
        transferId: offer.fileTransferId,
        disposition: local.file?.disposition,
        icon: local.file?.icon,
        range: offer.fileRange,
      };
    } else {
      // Push (RFC 5547 §8.3.1): copy the selector, the id and the range; "The file receiver
      // MUST NOT include 'file-icon', 'file-disposition', or 'file-date' attributes".
      file = {
        selector: mirroredSelector,
        transferId: offer.fileTransferId,
        range: offer.fileRange,
      };
    }
  }

  // CEMA (RFC 6714 §4.3): fall back to RFC 4975 behaviour in three cases.
  const offerRelay = offer.path.length > 1;
  const localRelay = local.path.length > 1;
  const cema = offer.cema && local.cema === true &&
    !(offerRelay && localRelay) &&
    !(offerRelay && offer.setup === "active") &&
    !(localRelay && offer.setup === "passive");

  const direction = answerDirection(offer.direction, local.direction ?? "sendrecv");
  return buildMsrpSdp({
    ...local,
    address: local.address ?? defaultHost({ ...local, cema }),
    acceptTypes,
    setup: comedia ? answerSetup(offer.setup, local.setup) : undefined,
    direction: direction === "sendrecv" ? undefined : direction,
    cema,
    file,
  });
}

/** The parts of an MSRP media description that decide who connects. */
export interface SetupInfo {
  /** The `a=setup` value, if any. */
  setup?: SetupRole;
  /** True when the stream was rejected (port 0). */
  rejected?: boolean;
}

/**
 * Which side opens the TCP (or TLS) connection once the offer and answer
 * are known (RFC 4975 §8.5, RFC 4145 §4.1, RFC 6135 §4.2).
 *
 * - An answer without `a=setup` comes from an RFC 4975 answerer: the
 *   offerer connects (§8.5), which needs the offer to be able to (not
 *   `passive`).
 * - `holdconn` on either side counts as absent (RFC 6135 §4.2.1).
 * - An answer `active` makes the answerer connect; it needs an offer of
 *   `passive` or `actpass` (an offer without `a=setup` is an RFC 4975
 *   offerer that will connect itself).
 * - An answer `passive` makes the offerer connect; it needs an offer of
 *   `active`, `actpass` or none.
 *
 * Behind an MSRP relay a client always connects to its relay, whatever
 * the negotiation says (RFC 6135 §4.5); this tells who sends the first
 * SEND that binds the session.
 *
 * @param offer the offer's media (its `setup`)
 * @param answer the answer's media (its `setup`)
 * @returns `"offerer"` or `"answerer"`
 * @throws {MsrpError} `stream-rejected`, `bad-setup-answer` (an answer may not say actpass),
 *   `setup-conflict` (both sides active or both passive)
 */
export function whoConnects(offer: SetupInfo, answer: SetupInfo): "offerer" | "answerer" {
  if (offer.rejected || answer.rejected) {
    throw new MsrpError(
      "stream-rejected",
      "the MSRP stream was rejected (port 0): nobody connects",
    );
  }
  const off = offer.setup === "holdconn" ? undefined : offer.setup;
  const ans = answer.setup === "holdconn" ? undefined : answer.setup;
  if (ans === "actpass") {
    throw new MsrpError(
      "bad-setup-answer",
      "an answer must choose active or passive, not actpass (RFC 4145 §4.1)",
    );
  }
  if (ans === "active") {
    if (off === "passive" || off === "actpass") return "answerer";
    throw new MsrpError(
      "setup-conflict",
      `the offer says ${off ?? "nothing (the offerer connects)"} and the answer says active: ` +
        "both sides would connect (RFC 4145 §4.1)",
    );
  }
  // Answer passive, or no answer setup (RFC 4975 answerer: the offerer connects).
  if (off === "passive") {
    throw new MsrpError(
      "setup-conflict",
      `the offer says passive and the answer says ${ans ?? "nothing (RFC 4975: passive)"}: ` +
        "nobody would connect (RFC 4145 §4.1)",
    );
  }
  return "offerer";
}

// ---------------------------------------------------------------------------
// Certificate fingerprints (RFC 8122, RFC 4975 §14.4)
// ---------------------------------------------------------------------------

const NODE_HASHES: Record<string, string> = {
  "sha-1": "sha1",
  "sha-224": "sha224",
  "sha-256": "sha256",
  "sha-384": "sha384",
  "sha-512": "sha512",
  "md5": "md5",
};

/**
 * Computes the fingerprint of a DER-encoded certificate for `a=fingerprint`
 * (RFC 8122 §5: upper-case hex pairs joined by colons).
 *
 * @param der the certificate in DER form
 * @param hash the hash function name, default `"sha-256"`
 * @returns the fingerprint
 * @throws {MsrpError} `unsupported-hash` for a hash function other than sha-1/224/256/384/512, md5
 */
export function computeFingerprint(der: Uint8Array, hash = "sha-256"): Fingerprint {
  const algorithm = NODE_HASHES[hash.toLowerCase()];
  if (algorithm === undefined) {
    throw new MsrpError("unsupported-hash", `unsupported fingerprint hash function "${hash}"`);
  }
  const digest = createHash(algorithm).update(der).digest("hex").toUpperCase();
  return { hash, value: digest.match(/../g)!.join(":") };
}

/**
 * Whether a certificate matches a fingerprint from the peer's SDP (RFC 4975
 * §14.4: on a mismatch the session MUST be torn down). The hash name and
 * the hex digits are compared case-insensitively.
 *
 * @param fingerprint the fingerprint from `a=fingerprint`
 * @param der the certificate the peer presented, DER form
 * @returns true on a match; false on a mismatch or an unsupported hash function
 */
export function fingerprintMatches(fingerprint: Fingerprint, der: Uint8Array): boolean {
  if (NODE_HASHES[fingerprint.hash.toLowerCase()] === undefined) return false;
  const computed = computeFingerprint(der, fingerprint.hash);
  return computed.value === fingerprint.value.toUpperCase();
}
