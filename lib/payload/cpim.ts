/**
 * The `message/cpim` envelope (RFC 3862), the wrapper MSRP uses to carry
 * who sent a message to whom, when, and extension headers such as those of
 * IMDN (RFC 4975 §13: every endpoint MUST support it).
 *
 * A CPIM message is three parts separated by blank lines (RFC 3862 §2):
 *
 * ```
 * From: Alice <im:alice@example.com>           <- message headers (§2.2, §3):
 * To: Bob <im:bob@example.com>                    one line each, "Name: value",
 * NS: imdn <urn:ietf:params:imdn>                 UTF-8, case-sensitive names,
 * imdn.Message-ID: 34jk324j                       order kept, never folded
 * DateTime: 2006-04-04T12:16:49-05:00
 *                                              <- blank line
 * Content-Type: text/plain                     <- MIME content headers (§2.4),
 *                                                 ordinary MIME rules
 *                                              <- blank line
 * Hello World                                  <- the content: any bytes
 * ```
 *
 * - `NS: prefix <uri>` (§3.4) declares a namespace prefix; a header named
 *   `prefix.Name` then belongs to that namespace. `NS: <uri>` changes the
 *   default namespace, which starts as `urn:ietf:params:cpim-headers:`.
 * - A header may carry parameters after the colon: `Subject:;lang=fr ...`
 *   (§3.3, §3.6).
 * - Control characters in header values are written as escapes: `\\`,
 *   `\"`, `\'`, `\b`, `\t`, `\n`, `\r`, `\uXXXX` (§2.3).
 *
 * Several published examples (RFC 4975 §11.4, RFC 5438 §7) leave out the
 * blank line between the message headers and the content headers. The
 * parser accepts that shape: a `Content-*` header among the message headers
 * starts the content headers, and the message keeps `separated: false` so
 * that it is written back the same way.
 *
 * The body is never decoded: the blank lines are found by scanning bytes
 * and only the header sections are read as UTF-8.
 *
 * @module
 */

import { type MsrpErrorCode, MsrpSyntaxError } from "../errors.ts";

/** The default namespace of CPIM headers (RFC 3862 §4). */
export const CPIM_NAMESPACE = "urn:ietf:params:cpim-headers:";

/** A header parameter after the colon, e.g. `;lang=fr` (RFC 3862 §3.6). */
export interface CpimParameter {
  /** Parameter name. */
  name: string;
  /** Parameter value as written: a token, a number, or a double-quoted string with its quotes. */
  value: string;
}

/** One message header (RFC 3862 §3). */
export interface CpimHeader {
  /** The name as written, with its prefix: `"From"`, `"imdn.Message-ID"`. */
  name: string;
  /** The value as written, escape sequences included (see {@linkcode unescapeCpimText}). */
  value: string;
  /** Parameters between the colon and the value, in order. */
  params?: CpimParameter[];
  /** Set by the parser: the namespace prefix (`"imdn"`), when the name has one. */
  prefix?: string;
  /** Set by the parser: the name without its prefix (`"Message-ID"`). */
  localName?: string;
  /**
   * Set by the parser: the namespace URI the header belongs to, resolved
   * through the `NS` headers before it; undefined for an undeclared prefix.
   */
  namespace?: string;
}

/** One MIME content header (RFC 3862 §2.4). */
export interface MimeHeader {
  /** The name as written, e.g. `"Content-Type"` (MIME names compare case-insensitively). */
  name: string;
  /**
   * The value as written after `": "`. A folded value keeps its CRLF and
   * leading whitespace, so that it is written back unchanged.
   */
  value: string;
}

/** A parsed `message/cpim` body. */
export interface CpimMessage {
  /** The message headers, in order, NS declarations included. */
  headers: CpimHeader[];
  /** The MIME headers of the content (Content-Type, Content-ID, ...), in order. */
  contentHeaders: MimeHeader[];
  /** The content: any bytes. After parsing, a view into the parsed input. */
  body: Uint8Array;
  /**
   * False for the shape with no blank line between message headers and
   * content headers (RFC 4975 §11.4, RFC 5438 §7.1.1.3); default true.
   */
  separated?: boolean;
}

/** Options for {@linkcode parseCpim}. */
export interface CpimParseOptions {
  /** Largest total size of the header sections, in bytes. Default 65536. */
  maxHeaderBytes?: number;
}

/** `NAMECHAR` of RFC 3862 §3.6: US-ASCII except ".", CTLs and separators. */
function isNameChar(c: number): boolean {
  return c === 0x21 || (c >= 0x23 && c <= 0x27) || c === 0x2a || c === 0x2b || c === 0x2d ||
    (c >= 0x5e && c <= 0x60) || c === 0x7c || c === 0x7e || (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** `TOKENCHAR` of RFC 3862 §3.6: NAMECHAR, "." or any non-ASCII character. */
function isTokenChar(c: number): boolean {
  return isNameChar(c) || c === 0x2e || c >= 0x80;
}

function isName(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isNameChar(text.charCodeAt(i))) return false;
  return true;
}

function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isTokenChar(text.charCodeAt(i))) return false;
  return true;
}

/** `Header-name = [ Name-prefix "." ] Name`. */
function isHeaderName(name: string): boolean {
  const dot = name.indexOf(".");
  if (dot < 0) return isName(name);
  return isName(name.slice(0, dot)) && isName(name.slice(dot + 1));
}

/** `ftext` of RFC 5322 §3.6.8: printable US-ASCII except ":". */
function isMimeName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x3a) return false;
  }
  return true;
}

/** Index of the first control character (U+0000-U+001F, U+007F), or -1. */
function findControl(text: string, allowTab = false): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && !(allowTab && c === 0x09)) || c === 0x7f) return i;
  }
  return -1;
}

/**
 * Scans a double-quoted `String` (RFC 3862 §3.6) starting at the opening
 * quote; returns the index just past the closing quote, or -1.
 */
function scanQuoted(text: string, i: number): number {
  for (i++; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i + 1;
  }
  return -1;
}

// ---------------------------------------------------------------------------
// Escapes (RFC 3862 §2.3)
// ---------------------------------------------------------------------------

/**
 * Escapes text for a header value (RFC 3862 §2.3.1): backslash, backspace,
 * tab, LF and CR as `\\ \b \t \n \r`, other control characters as
 * `\uXXXX`. Quotes are left alone (see {@linkcode quoteCpimString}).
 *
 * @param text the text to put in a header
 * @returns the escaped text
 */
export function escapeCpimText(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const c = text.charCodeAt(i);
    if (ch === "\\") out += "\\\\";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c < 0x20 || c === 0x7f) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out;
}

/**
 * Writes text as a double-quoted `String` (RFC 3862 §3.6): escapes as in
 * {@linkcode escapeCpimText}, plus `\"` for double quotes.
 *
 * @param text the text to quote
 * @returns the quoted string, quotes included
 */
export function quoteCpimString(text: string): string {
  return '"' + escapeCpimText(text).replaceAll('"', '\\"') + '"';
}

/**
 * Undoes the escapes of RFC 3862 §2.3: `\uXXXX` (exactly four hex digits),
 * `\b \t \n \r \" \' \\`. As §2.3.1 recommends, an unknown escape stands for
 * the character after the backslash and a lone backslash at the end is
 * dropped.
 *
 * @param text a header value, or the inside of a quoted string
 * @returns the text with escapes replaced
 */
export function unescapeCpimText(text: string): string {
  if (!text.includes("\\")) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    if (i + 1 >= text.length) break; // isolated backslash at the end: ignored
    const next = text[++i];
    switch (next) {
      case "b":
        out += "\b";
        break;
      case "t":
        out += "\t";
        break;
      case "n":
        out += "\n";
        break;
      case "r":
        out += "\r";
        break;
      case "u": {
        const hex = text.slice(i + 1, i + 5);
        if (/^[0-9A-Fa-f]{4}$/.test(hex)) {
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
        } else {
          out += "u";
        }
        break;
      }
      default:
        out += next; // \\, \", \' and unknown escapes
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Addresses: From, To, cc, NS (RFC 3862 §4.1-4.3, §4.6)
// ---------------------------------------------------------------------------

/** An address header value: `[ Formal-name ] "<" URI ">"`. */
export interface CpimAddress {
  /** The display name (Formal-name), unescaped, when present. */
  name?: string;
  /** The URI between the angle brackets. */
  uri: string;
}

/**
 * Parses a From, To or cc value such as `Alice <im:alice@example.com>` or
 * `"Bob \"B\"" <im:bob@example.com>` (RFC 3862 §4.1, `Formal-name =
 * 1*( Token SP ) / String`).
 *
 * @param value the header value
 * @returns the display name (if any) and the URI
 * @throws {MsrpSyntaxError} `cpim-bad-address` when the value is not `[name] <uri>`
 *
 * @example Parse a From or To value
 * ```ts
 * import { parseCpimAddress } from "@msrp/msrp/payload";
 *
 * const address = parseCpimAddress('"Alice" <im:alice@example.com>');
 * console.log(address.name, address.uri); // "Alice" "im:alice@example.com"
 * ```
 */
export function parseCpimAddress(value: string): CpimAddress {
  const fail = (message: string, at: number): never => {
    throw new MsrpSyntaxError("cpim-bad-address", message, value, at);
  };
  let name: string | undefined;
  let i = 0;
  if (value.startsWith('"')) {
    const end = scanQuoted(value, 0);
    if (end < 0) fail("unterminated quoted display name", value.length);
    name = unescapeCpimText(value.slice(1, end - 1));
    i = end;
    if (value[i] === " ") i++;
  } else {
    const lt = value.indexOf("<");
    if (lt < 0) fail('expected "<" before the URI', value.length);
    if (lt > 0) {
      // 1*( Token SP ): the name ends with a space before "<".
      if (value[lt - 1] !== " ") fail('expected a space between the name and "<"', lt);
      const words = value.slice(0, lt - 1).split(" ");
      let at = 0;
      for (const w of words) {
        if (!isToken(w)) fail("the display name is not a sequence of tokens; quote it", at);
        at += w.length + 1;
      }
      name = words.join(" ");
    }
    i = lt;
  }
  if (value[i] !== "<") fail('expected "<" before the URI', i);
  const gt = value.indexOf(">", i);
  if (gt < 0) fail('expected ">" after the URI', value.length);
  const uri = value.slice(i + 1, gt);
  if (uri.length === 0 || /[\s<]/.test(uri)) fail("the URI is empty or contains a space", i + 1);
  if (gt !== value.length - 1) fail('unexpected text after ">"', gt + 1);
  return name === undefined ? { uri } : { name, uri };
}

/**
 * Formats an address for From, To or cc: `Name <uri>` when the name is a
 * sequence of tokens, else with the name as a quoted string.
 *
 * @param address the display name (optional) and URI
 * @returns the header value
 * @throws {MsrpSyntaxError} `cpim-bad-address` when the URI is empty or holds a space or `>`
 *
 * @example Write a From or To value
 * ```ts
 * import { formatCpimAddress } from "@msrp/msrp/payload";
 *
 * console.log(formatCpimAddress({ name: "Alice", uri: "im:alice@example.com" }));
 * ```
 */
export function formatCpimAddress(address: CpimAddress): string {
  const { name, uri } = address;
  if (uri.length === 0 || /[\s<>]/.test(uri)) {
    throw new MsrpSyntaxError("cpim-bad-address", "a URI may not be empty or hold spaces", uri, 0);
  }
  if (name === undefined) return `<${uri}>`;
  const plain = name.length > 0 && name.split(" ").every(isToken);
  return `${plain ? name : quoteCpimString(name)} <${uri}>`;
}

/**
 * Formats a date for the DateTime header (RFC 3862 §4.4, RFC 3339), in UTC
 * without fractional seconds: `2006-05-15T18:02:31Z`.
 *
 * @param date the date
 * @returns the header value
 *
 * @example Write a DateTime header value
 * ```ts
 * import { formatCpimDateTime } from "@msrp/msrp/payload";
 *
 * console.log(formatCpimDateTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))); // "2026-01-02T03:04:05Z"
 * ```
 */
export function formatCpimDateTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// ---------------------------------------------------------------------------
// Namespaces (RFC 3862 §3.4)
// ---------------------------------------------------------------------------

/** An `NS` value: `[ Name-prefix ] "<" URI ">"` (RFC 3862 §4.6). */
function parseNs(value: string): { prefix?: string; uri: string } | undefined {
  const m = /^(?:([^ <]+) )?<([^<> ]+)>$/.exec(value);
  if (!m || (m[1] !== undefined && !isName(m[1]))) return undefined;
  return m[1] === undefined ? { uri: m[2] } : { prefix: m[1], uri: m[2] };
}

interface Resolved {
  prefix?: string;
  localName: string;
  namespace?: string;
}

/** Resolves each header's namespace from the NS headers before it. */
function resolveNamespaces(headers: readonly CpimHeader[]): Resolved[] {
  const prefixes = new Map<string, string>();
  let defaultNs = CPIM_NAMESPACE;
  const out: Resolved[] = [];
  for (const h of headers) {
    const dot = h.name.indexOf(".");
    const r: Resolved = dot < 0 ? { localName: h.name, namespace: defaultNs } : {
      prefix: h.name.slice(0, dot),
      localName: h.name.slice(dot + 1),
      namespace: prefixes.get(h.name.slice(0, dot)),
    };
    out.push(r);
    if (r.localName === "NS" && r.namespace === CPIM_NAMESPACE) {
      const ns = parseNs(h.value);
      if (ns?.prefix !== undefined) prefixes.set(ns.prefix, ns.uri);
      else if (ns) defaultNs = ns.uri;
    }
  }
  return out;
}

/**
 * The headers with a given name in a given namespace, whatever prefix the
 * message chose for it (RFC 3862 §3.4; RFC 5438 §6.1: "servers and
 * intermediaries must accept any legal namespace prefix").
 *
 * @param headers the message headers, in order (NS declarations included)
 * @param namespace the namespace URI, e.g. `"urn:ietf:params:imdn"` or {@linkcode CPIM_NAMESPACE}
 * @param localName the name without prefix, e.g. `"Message-ID"` (case-sensitive, §2.2)
 * @returns the matching headers, in order
 *
 * @example All headers of one name in one namespace
 * ```ts
 * import { findCpimHeaders, IMDN_NAMESPACE, type CpimMessage } from "@msrp/msrp/payload";
 *
 * function dispositions(cpim: CpimMessage): string[] {
 *   return findCpimHeaders(cpim.headers, IMDN_NAMESPACE, "Disposition-Notification").map((h) => h.value);
 * }
 * ```
 */
export function findCpimHeaders(
  headers: readonly CpimHeader[],
  namespace: string,
  localName: string,
): CpimHeader[] {
  const resolved = resolveNamespaces(headers);
  return headers.filter((_, i) =>
    resolved[i].localName === localName && resolved[i].namespace === namespace
  );
}

/**
 * The value of the first header with a given name in a given namespace.
 *
 * @param headers the message headers, in order
 * @param namespace the namespace URI
 * @param localName the name without prefix
 * @returns the value as written, or undefined
 *
 * @example One header by namespace and name
 * ```ts
 * import { CPIM_NAMESPACE, getCpimHeader, parseCpim } from "@msrp/msrp/payload";
 *
 * const cpim = parseCpim(new TextEncoder().encode(
 *   "From: <im:alice@example.com>\r\nSubject: lunch?\r\n\r\nContent-Type: text/plain\r\n\r\nhi",
 * ));
 * console.log(getCpimHeader(cpim.headers, CPIM_NAMESPACE, "Subject")); // "lunch?"
 * ```
 */
export function getCpimHeader(
  headers: readonly CpimHeader[],
  namespace: string,
  localName: string,
): string | undefined {
  return findCpimHeaders(headers, namespace, localName)[0]?.value;
}

/**
 * The value of the first content header with this name (case-insensitive),
 * unfolded.
 *
 * @param message the CPIM message
 * @param name e.g. `"Content-Type"`
 * @returns the value, or undefined
 *
 * @example A MIME header of the wrapped content
 * ```ts
 * import { getContentHeader, parseCpim } from "@msrp/msrp/payload";
 *
 * const cpim = parseCpim(new TextEncoder().encode(
 *   "From: <im:alice@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nhi",
 * ));
 * console.log(getContentHeader(cpim, "content-type")); // "text/plain"
 * ```
 */
export function getContentHeader(message: CpimMessage, name: string): string | undefined {
  const lower = name.toLowerCase();
  const h = message.contentHeaders.find((x) => x.name.toLowerCase() === lower);
  return h?.value.replace(/\r\n(?=[ \t])/g, "");
}

// ---------------------------------------------------------------------------
// Parsing and building
// ---------------------------------------------------------------------------

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();
const DEFAULT_MAX_HEADER_BYTES = 65536;

/** Parses one message header line (RFC 3862 §3.6 `Header`). */
function parseMessageHeader(line: string): CpimHeader {
  const fail = (code: MsrpErrorCode, message: string, at: number): never => {
    throw new MsrpSyntaxError(code, message, line, at);
  };
  const colon = line.indexOf(":");
  if (colon <= 0 || !isHeaderName(line.slice(0, colon))) {
    fail("cpim-bad-header-name", 'expected "Name: value" with a header name of NAMECHARs', 0);
  }
  const name = line.slice(0, colon);
  let i = colon + 1;
  const params: CpimParameter[] = [];
  while (line[i] === ";") {
    const start = i + 1;
    const eq = line.indexOf("=", start);
    if (eq < 0 || !isName(line.slice(start, eq))) {
      fail("cpim-bad-parameter", 'expected ";name=value" after the colon', start);
    }
    let end = eq + 1;
    if (line[end] === '"') {
      end = scanQuoted(line, end);
      if (end < 0) fail("cpim-bad-parameter", "unterminated quoted parameter value", eq + 1);
    } else {
      while (end < line.length && isTokenChar(line.charCodeAt(end))) end++;
      if (end === eq + 1) fail("cpim-bad-parameter", "empty parameter value", eq + 1);
    }
    params.push({ name: line.slice(start, eq), value: line.slice(eq + 1, end) });
    i = end;
  }
  // §2.2: "There MUST be a single space character (32) following the header name and colon."
  if (line[i] !== " ") fail("cpim-missing-space", 'expected a space after "Name:"', i);
  const value = line.slice(i + 1);
  // §2.2: "The header MUST NOT contain any control characters (0-31)."
  const ctl = findControl(value);
  if (ctl >= 0) fail("cpim-control-char", "a control character must be escaped", i + 1 + ctl);
  const header: CpimHeader = { name, value };
  if (params.length > 0) header.params = params;
  return header;
}

/** Reads header lines from `pos` up to and including the next empty line. */
class HeaderReader {
  pos: number;
  readonly bytes: Uint8Array;
  readonly limit: number;

  constructor(bytes: Uint8Array, limit: number) {
    this.bytes = bytes;
    this.pos = 0;
    this.limit = limit;
  }

  /** The next line without its CRLF, or "" for the blank line that ends a section. */
  next(): { line: string; at: number } {
    const { bytes } = this;
    const at = this.pos;
    const end = Math.min(bytes.length, this.limit);
    let lf = at;
    while (lf < end && bytes[lf] !== 0x0a) lf++;
    if (lf >= end) {
      const preview = this.decodePreview(at);
      if (end < bytes.length) {
        throw new MsrpSyntaxError(
          "cpim-headers-too-large",
          `the CPIM header sections are longer than ${this.limit} bytes`,
          preview,
          0,
        );
      }
      throw new MsrpSyntaxError(
        "cpim-unterminated-headers",
        "the CPIM header section does not end with a blank line (CRLF CRLF)",
        preview,
        preview.length,
      );
    }
    if (lf === at || bytes[lf - 1] !== 0x0d) {
      const preview = this.decodePreview(at);
      throw new MsrpSyntaxError(
        "cpim-bare-lf",
        "CPIM header lines end with CRLF, not a bare LF (RFC 3862 §2.2)",
        preview,
        Math.max(0, Math.min(lf - at, preview.length)),
      );
    }
    let line: string;
    try {
      line = utf8.decode(bytes.subarray(at, lf - 1));
    } catch {
      throw new MsrpSyntaxError(
        "cpim-bad-utf8",
        "a CPIM header line is not valid UTF-8 (RFC 3862 §2.2)",
        new TextDecoder().decode(bytes.subarray(at, lf - 1)),
        0,
      );
    }
    this.pos = lf + 1;
    return { line, at };
  }

  decodePreview(at: number): string {
    let stop = at;
    while (stop < this.bytes.length && stop - at < 200 && this.bytes[stop] !== 0x0a) stop++;
    return new TextDecoder().decode(this.bytes.subarray(at, stop)).replace(/\r$/, "");
  }
}

/** Reads MIME content header lines (with folding) until the blank line. */
function readContentHeaders(reader: HeaderReader, first?: string): MimeHeader[] {
  const out: MimeHeader[] = [];
  const take = (line: string) => {
    if (line.startsWith(" ") || line.startsWith("\t")) {
      // A folded continuation (RFC 5322 §2.2.3), kept as written.
      const last = out[out.length - 1];
      if (!last) {
        throw new MsrpSyntaxError(
          "cpim-bad-content-header",
          "a content header section starts with a continuation line",
          line,
          0,
        );
      }
      last.value += "\r\n" + line;
      return;
    }
    const colon = line.indexOf(":");
    if (colon <= 0 || !isMimeName(line.slice(0, colon))) {
      throw new MsrpSyntaxError(
        "cpim-bad-content-header",
        'expected a MIME header "Name: value" (is the blank line before the content missing?)',
        line,
        colon <= 0 ? 0 : colon,
      );
    }
    let i = colon + 1;
    while (line[i] === " " || line[i] === "\t") i++;
    const value = line.slice(i);
    const ctl = findControl(value, true);
    if (ctl >= 0) {
      throw new MsrpSyntaxError(
        "cpim-control-char",
        "a control character in a content header",
        line,
        i + ctl,
      );
    }
    out.push({ name: line.slice(0, colon), value });
  };
  if (first !== undefined) take(first);
  for (;;) {
    const { line } = reader.next();
    if (line === "") return out;
    take(line);
  }
}

/**
 * Parses a `message/cpim` body (RFC 3862 §2, §3).
 *
 * Only the header sections are decoded (as UTF-8); the body stays bytes.
 * For every well-formed input, {@linkcode buildCpim} gives back the same
 * bytes, as long as content headers are written `Name: value` with one space.
 *
 * @param bytes the whole CPIM body
 * @param options the header size limit
 * @returns the headers (with `prefix`, `localName`, `namespace` filled), content headers and body
 * @throws {MsrpSyntaxError} `cpim-headers-too-large`, `cpim-unterminated-headers`,
 *   `cpim-bare-lf`, `cpim-bad-utf8`, `cpim-bad-header-name`, `cpim-bad-parameter`,
 *   `cpim-missing-space`, `cpim-control-char`, `cpim-bad-ns`, `cpim-bad-content-header`
 *
 * @example Read a Message/CPIM wrapper (RFC 3862)
 * ```ts
 * import { getContentHeader, parseCpim } from "@msrp/msrp/payload";
 *
 * const text = "From: Alice <im:alice@example.com>\r\nTo: <im:bob@example.com>\r\n\r\n" +
 *   "Content-Type: text/plain\r\n\r\nHello";
 * const cpim = parseCpim(new TextEncoder().encode(text));
 * console.log(getContentHeader(cpim, "Content-Type"), new TextDecoder().decode(cpim.body));
 * ```
 */
export function parseCpim(bytes: Uint8Array, options: CpimParseOptions = {}): CpimMessage {
  const reader = new HeaderReader(bytes, options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES);
  const headers: CpimHeader[] = [];
  let contentHeaders: MimeHeader[] | undefined;
  for (;;) {
    const { line } = reader.next();
    if (line === "") break;
    if (/^content-[^.:]*:/i.test(line)) {
      // A MIME content header among the message headers: the RFC 4975 §11.4 /
      // RFC 5438 shape without the separating blank line.
      contentHeaders = readContentHeaders(reader, line);
      break;
    }
    const h = parseMessageHeader(line);
    if (h.name === "NS" && parseNs(h.value) === undefined) {
      throw new MsrpSyntaxError(
        "cpim-bad-ns",
        'an NS header is "NS: prefix <uri>" or "NS: <uri>" (RFC 3862 §4.6)',
        line,
        4,
      );
    }
    headers.push(h);
  }
  const separated = contentHeaders === undefined;
  if (contentHeaders === undefined) contentHeaders = readContentHeaders(reader);
  const resolved = resolveNamespaces(headers);
  headers.forEach((h, i) => {
    const r = resolved[i];
    if (r.prefix !== undefined) h.prefix = r.prefix;
    h.localName = r.localName;
    if (r.namespace !== undefined) h.namespace = r.namespace;
  });
  const message: CpimMessage = { headers, contentHeaders, body: bytes.subarray(reader.pos) };
  if (!separated) message.separated = false;
  return message;
}

/** Formats one message header line (without CRLF), checking it. */
function formatMessageHeader(h: CpimHeader): string {
  if (!isHeaderName(h.name)) {
    throw new MsrpSyntaxError("cpim-bad-header-name", "not a CPIM header name", h.name, 0);
  }
  let params = "";
  for (const p of h.params ?? []) {
    const quoted = p.value.startsWith('"');
    const ok = isName(p.name) &&
      (quoted ? scanQuoted(p.value, 0) === p.value.length : isToken(p.value));
    if (!ok || findControl(p.value) >= 0) {
      throw new MsrpSyntaxError(
        "cpim-bad-parameter",
        'a parameter is name=token or name="string"',
        `${p.name}=${p.value}`,
        0,
      );
    }
    params += `;${p.name}=${p.value}`;
  }
  const ctl = findControl(h.value);
  if (ctl >= 0) {
    throw new MsrpSyntaxError(
      "cpim-control-char",
      "a header value may not hold control characters; escape them with escapeCpimText",
      h.value,
      ctl,
    );
  }
  return `${h.name}:${params} ${h.value}`;
}

function formatContentHeader(h: MimeHeader): string {
  if (!isMimeName(h.name)) {
    throw new MsrpSyntaxError("cpim-bad-content-header", "not a MIME header name", h.name, 0);
  }
  // Only folded line breaks (CRLF followed by a space or tab) may appear.
  // deno-lint-ignore no-control-regex
  const bad = h.value.search(/\r(?!\n[ \t])|(?<!\r)\n|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/);
  if (bad >= 0) {
    throw new MsrpSyntaxError(
      "cpim-control-char",
      "a content header value may only break lines as CRLF + space (folding)",
      h.value,
      bad,
    );
  }
  return `${h.name}: ${h.value}`;
}

/**
 * Builds a `message/cpim` body: message headers, a blank line, content
 * headers, a blank line, the body (or, with `separated: false`, no blank
 * line between the two header sections).
 *
 * The header values are written as given: escape control characters
 * first with {@linkcode escapeCpimText}.
 *
 * @param message headers, content headers and body
 * @returns the bytes of the CPIM body
 * @throws {MsrpSyntaxError} `cpim-bad-header-name`, `cpim-bad-parameter`, `cpim-control-char`,
 *   `cpim-bad-content-header` for headers that cannot be written
 *
 * @example Serialise a Message/CPIM wrapper (RFC 3862)
 * ```ts
 * import { buildCpim, makeCpimMessage } from "@msrp/msrp/payload";
 *
 * const bytes = buildCpim(makeCpimMessage({
 *   from: { name: "Alice", uri: "im:alice@example.com" },
 *   to: { uri: "im:bob@example.com" },
 *   contentType: "text/plain",
 *   body: "Hello",
 * }));
 * // send it with contentType "message/cpim"
 * ```
 */
export function buildCpim(message: CpimMessage): Uint8Array {
  let head = "";
  for (const h of message.headers) head += formatMessageHeader(h) + "\r\n";
  if (message.separated !== false) head += "\r\n";
  for (const h of message.contentHeaders) head += formatContentHeader(h) + "\r\n";
  head += "\r\n";
  const headBytes = encoder.encode(head);
  const out = new Uint8Array(headBytes.length + message.body.length);
  out.set(headBytes, 0);
  out.set(message.body, headBytes.length);
  return out;
}

/** What {@linkcode makeCpimMessage} puts in a message. */
export interface CpimMessageOptions {
  /** The sender (RFC 4975 §13: From and To are required in MSRP). */
  from: CpimAddress;
  /** The recipient(s). */
  to: CpimAddress | readonly CpimAddress[];
  /** Courtesy-copy recipients. */
  cc?: readonly CpimAddress[];
  /** DateTime: a Date (formatted in UTC) or a ready RFC 3339 string. */
  dateTime?: Date | string;
  /** Subject text (escaped for you). */
  subject?: string;
  /** More message headers, written after the ones above (NS declarations first!). */
  headers?: readonly CpimHeader[];
  /** The Content-Type of the content, e.g. `"text/plain;charset=UTF-8"`. */
  contentType: string;
  /** More content headers, after Content-Type. */
  contentHeaders?: readonly MimeHeader[];
  /** The content: bytes, or text encoded as UTF-8. */
  body: Uint8Array | string;
}

/**
 * Assembles a CPIM message with From, To, cc, DateTime and Subject headers
 * in that order, then the extra headers.
 *
 * ```ts
 * const bytes = buildCpim(makeCpimMessage({
 *   from: { name: "Alice", uri: "im:alice@example.com" },
 *   to: { uri: "im:bob@example.com" },
 *   contentType: "text/plain",
 *   body: "Hello",
 * }));
 * ```
 *
 * @param options the headers and the content
 * @returns the message, ready for {@linkcode buildCpim}
 * @throws {MsrpSyntaxError} `cpim-bad-address` for an address that cannot be written
 */
export function makeCpimMessage(options: CpimMessageOptions): CpimMessage {
  const headers: CpimHeader[] = [{ name: "From", value: formatCpimAddress(options.from) }];
  const tos = Array.isArray(options.to) ? options.to : [options.to as CpimAddress];
  for (const to of tos) headers.push({ name: "To", value: formatCpimAddress(to) });
  for (const cc of options.cc ?? []) headers.push({ name: "cc", value: formatCpimAddress(cc) });
  if (options.dateTime !== undefined) {
    const value = typeof options.dateTime === "string"
      ? options.dateTime
      : formatCpimDateTime(options.dateTime);
    headers.push({ name: "DateTime", value });
  }
  if (options.subject !== undefined) {
    headers.push({ name: "Subject", value: escapeCpimText(options.subject) });
  }
  for (const h of options.headers ?? []) headers.push({ ...h });
  return {
    headers,
    contentHeaders: [
      { name: "Content-Type", value: options.contentType },
      ...(options.contentHeaders ?? []).map((h) => ({ ...h })),
    ],
    body: typeof options.body === "string" ? encoder.encode(options.body) : options.body,
  };
}
