/**
 * The SDP attributes of MSRP file transfer (RFC 5547 §5, §6, §7, §8.1,
 * §8.5).
 *
 * Each file travels in its own MSRP media section; the direction attribute
 * says which way (§4): an offer with `a=sendonly` pushes a file, one with
 * `a=recvonly` asks to pull one. A few attributes describe the file (§6;
 * RFC 5547 Figure 2, the selector on one line, its hash shortened here):
 *
 * ```
 * m=message 7654 TCP/MSRP *
 * i=This is my latest picture
 * a=sendonly
 * a=accept-types:message/cpim
 * a=accept-wrapped-types:*
 * a=path:msrp://atlanta.example.com:7654/jshA7we;tcp
 * a=file-selector:name:"My cool picture.jpg" type:image/jpeg size:32349 hash:sha-1:72:24:5F:...
 * a=file-transfer-id:vBnG916bdberum2fFEABR1FR3ExZMUrd
 * a=file-disposition:attachment
 * a=file-date:creation:"Mon, 15 May 2006 15:01:31 +0300"
 * a=file-icon:cid:id2@alicepc.example.com
 * a=file-range:1-32349
 * ```
 *
 * - `a=file-selector` (§5, §6) identifies the file by any of its name
 *   (double-quoted, percent-encoded), media type, size in octets and
 *   hashes. Without a value it is the capability form (§8.5): "I can do
 *   file transfer", in a section with port 0.
 * - `a=file-transfer-id` (§8.1) is a fresh random token per transfer, so a
 *   re-offer can tell a new transfer from the same one.
 * - `a=file-disposition` (§7) is `render` or `attachment`, as in MIME.
 * - `a=file-date` carries RFC 5322 dates: `creation`, `modification`,
 *   `read`, each at most once.
 * - `a=file-icon` is a `cid:` URL pointing to a body part of the SIP
 *   message (§8.8).
 * - `a=file-range` (§6) is the octets to transfer, counted from 1, the stop
 *   inclusive or `*` when the size is not known.
 *
 * The answer rules (§8.3) are applied in `offer_answer.ts`.
 *
 * @module
 */

import { MsrpError, type MsrpErrorCode } from "../errors.ts";
import { parseMediaType } from "./media_types.ts";
import { HEX_PAIRS } from "./fingerprint.ts";
import { attrError, DIGITS, isSdpToken, type SdpAttribute } from "./sdp_syntax.ts";

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

/**
 * Splits an attribute value on spaces, keeping double-quoted runs (which
 * may hold spaces) inside their word.
 */
function splitQuoted(a: SdpAttribute, code: MsrpErrorCode): { word: string; at: number }[] {
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

/**
 * Reads an `a=file-selector` attribute (RFC 5547 §5, §6).
 *
 * @param a the attribute
 * @returns the selectors; none for the bare capability form (§8.5)
 * @throws {MsrpSyntaxError} `bad-file-selector`
 */
export function readFileSelector(a: SdpAttribute): FileSelector {
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

/**
 * Reads an `a=file-date` attribute (RFC 5547 §6).
 *
 * @param a the attribute
 * @returns the dates, as written
 * @throws {MsrpSyntaxError} `bad-file-date`
 */
export function readFileDate(a: SdpAttribute): FileDate {
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

/**
 * Reads an `a=file-range` attribute (RFC 5547 §6).
 *
 * @param a the attribute
 * @returns the start and stop octets
 * @throws {MsrpSyntaxError} `bad-file-range`
 */
export function readFileRange(a: SdpAttribute): FileRange {
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

/**
 * Reads an `a=file-transfer-id` attribute (RFC 5547 §8.1): a token.
 *
 * @param a the attribute
 * @returns the transfer id
 * @throws {MsrpSyntaxError} `bad-file-transfer-id`
 */
export function readFileTransferId(a: SdpAttribute): string {
  if (!isSdpToken(a.value ?? "")) {
    attrError("bad-file-transfer-id", "a=file-transfer-id is not a token", a, 0);
  }
  return a.value!;
}

/**
 * Reads an `a=file-disposition` attribute (RFC 5547 §6, §7): a token.
 *
 * @param a the attribute
 * @returns the disposition, e.g. `"render"` or `"attachment"`
 * @throws {MsrpSyntaxError} `bad-file-disposition`
 */
export function readFileDisposition(a: SdpAttribute): string {
  if (!isSdpToken(a.value ?? "")) {
    attrError("bad-file-disposition", "a=file-disposition is not a token", a, 0);
  }
  return a.value!;
}

/**
 * Reads an `a=file-icon` attribute (RFC 5547 §6, §8.8): a `cid:` URL.
 *
 * @param a the attribute
 * @returns the URL, as written
 * @throws {MsrpSyntaxError} `bad-file-icon`
 */
export function readFileIcon(a: SdpAttribute): string {
  if (!/^cid:\S+$/i.test(a.value ?? "")) {
    attrError("bad-file-icon", "a=file-icon is not a cid: URL (RFC 2392)", a, 0);
  }
  return a.value!;
}

function formatFileSelector(s: FileSelector): string | undefined {
  const parts: string[] = [];
  if (s.name !== undefined) parts.push(`name:"${percentEncodeName(s.name)}"`);
  if (s.type !== undefined) parts.push(`type:${s.type}`);
  if (s.size !== undefined) parts.push(`size:${s.size}`);
  for (const h of s.hashes) parts.push(`hash:${h.algorithm}:${h.value}`);
  return parts.length === 0 ? undefined : parts.join(" ");
}

/**
 * `start "-" stop` (RFC 5547 §6 file-range): start counts from 1 and stop
 * is not before it, or `*`.
 */
function formatFileRange(range: FileRange): string {
  const { start, stop } = range;
  const ok = Number.isSafeInteger(start) && start >= 1 &&
    (stop === "*" || (Number.isSafeInteger(stop) && stop >= start));
  if (!ok) {
    throw new MsrpError(
      "bad-file-range",
      `file-range ${start}-${stop} is not "start-stop" with 1 <= start <= stop (RFC 5547 §6)`,
    );
  }
  return `${start}-${stop}`;
}

function formatFileDate(d: FileDate): string {
  const parts: string[] = [];
  if (d.creation !== undefined) parts.push(`creation:"${d.creation}"`);
  if (d.modification !== undefined) parts.push(`modification:"${d.modification}"`);
  if (d.read !== undefined) parts.push(`read:"${d.read}"`);
  return parts.join(" ");
}

/**
 * The RFC 5547 attributes to write, in the order of the RFC examples:
 * file-selector, file-transfer-id, file-disposition, file-date, file-icon,
 * file-range.
 *
 * @param file the attributes to write
 * @returns the attributes, in order
 */
export function fileTransferAttributes(file: FileTransferAttributes): SdpAttribute[] {
  const attributes: SdpAttribute[] = [];
  const add = (name: string, value?: string) => attributes.push({ name, value });
  if (file.selector !== undefined) {
    add(
      "file-selector",
      typeof file.selector === "string" ? file.selector : formatFileSelector(file.selector),
    );
  }
  if (file.transferId !== undefined) add("file-transfer-id", file.transferId);
  if (file.disposition !== undefined) add("file-disposition", file.disposition);
  // A file-date needs at least one date (RFC 5547 §6 date-param): none, no attribute.
  const date = file.date === undefined ? "" : formatFileDate(file.date);
  if (date !== "") add("file-date", date);
  if (file.icon !== undefined) add("file-icon", file.icon);
  if (file.range !== undefined) add("file-range", formatFileRange(file.range));
  return attributes;
}
