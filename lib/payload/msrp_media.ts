/**
 * Reading the MSRP media description of an SDP (RFC 4975 §8; RFC 4145 §4,
 * §5 and RFC 6135 §4.2, §4.4 for `a=setup`; RFC 6714 §5 for CEMA; RFC 7977
 * §5.2.2 for WebSocket).
 *
 * An MSRP session is one SDP media section:
 *
 * ```
 * c=IN IP4 alice.example.com
 * m=message 7394 TCP/MSRP *              <- media "message", protocol TCP/MSRP or
 * a=accept-types:message/cpim text/plain    TCP/TLS/MSRP, format list "*" (§8.1)
 * a=path:msrp://alice.example.com:7394/2s93i93idj;tcp
 * ```
 *
 * - `a=path` (§8.2, §8.3) is what matters for connecting: a space-separated
 *   list of MSRP URIs, leftmost the first hop (a relay, or the endpoint
 *   itself), rightmost the endpoint. Every offer or answer proposing MSRP
 *   MUST carry it. The c= address and m= port only repeat the endpoint's
 *   address for old SDP tools (§8.1), except with CEMA (RFC 6714), where
 *   middleboxes rewrite them and they are used; `a=msrp-cema` says so.
 * - `a=accept-types` (required) and `a=accept-wrapped-types` (§8.6) list
 *   the media types this side takes, `*` or `type/*` allowed; `a=max-size`
 *   is the largest message in octets.
 * - `a=setup` (RFC 4145 §4, adopted by RFC 6135) says who opens the TCP
 *   connection; `a=connection` (RFC 4145 §5) is ignored by MSRP (RFC 6135
 *   §4.4).
 * - `a=sendonly` / `a=recvonly` / `a=inactive` (§8.9) only restrict SEND
 *   requests with regular message content. A media-level value overrides a
 *   session-level one (RFC 8866 §5.13).
 * - `a=fingerprint` is read in `fingerprint.ts` and the RFC 5547 `a=file-*`
 *   attributes in `file_transfer.ts`.
 * - Port 0 marks a rejected stream (RFC 3264 §6), or with RFC 5547 a
 *   capability description; only then may path and accept-types be absent.
 *
 * Path values are kept here as arrays of URI strings; parse each with the
 * MSRP URI parser to use them.
 *
 * @module
 */

import { type MsrpErrorCode, MsrpSyntaxError } from "../errors.ts";
import {
  type FileDate,
  type FileRange,
  type FileSelector,
  readFileDate,
  readFileDisposition,
  readFileIcon,
  readFileRange,
  readFileSelector,
  readFileTransferId,
} from "./file_transfer.ts";
import { type Fingerprint, readFingerprint } from "./fingerprint.ts";
import { parseMediaType } from "./media_types.ts";
import {
  attrError,
  DIGITS,
  formatSdp,
  formatSdpMedia,
  parseSdp,
  type SdpAttribute,
  type SdpMediaDescription,
  type SdpParseOptions,
  type SessionDescription,
} from "./sdp_syntax.ts";

/**
 * The SDP protocols of an MSRP media line. RFC 4975 §8.1 defines
 * `TCP/MSRP` and `TCP/TLS/MSRP`. RFC 7977 §5.2.2 defines none for
 * WebSocket (a WebSocket client advertises `TCP/TLS/MSRP`); the
 * `TCP/WS/MSRP` and `TCP/WSS/MSRP` spellings seen in some deployments are
 * accepted when parsing.
 */
export type SdpTransportProtocol = "TCP/MSRP" | "TCP/TLS/MSRP" | "TCP/WS/MSRP" | "TCP/WSS/MSRP";

const MSRP_TRANSPORTS: readonly SdpTransportProtocol[] = [
  "TCP/MSRP",
  "TCP/TLS/MSRP",
  "TCP/WS/MSRP",
  "TCP/WSS/MSRP",
];

/** The `a=setup` values of RFC 4145 §4. */
export type SetupRole = "active" | "passive" | "actpass" | "holdconn";

/** The direction attributes of RFC 8866 §6.7, as they apply to MSRP (RFC 4975 §8.9). */
export type Direction = "sendrecv" | "sendonly" | "recvonly" | "inactive";

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
  transport: SdpTransportProtocol;
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

function readTypeList(a: SdpAttribute, code: MsrpErrorCode): string[] {
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

function readInteger(a: SdpAttribute, code: MsrpErrorCode): number {
  const value = a.value ?? "";
  if (!DIGITS.test(value) || !Number.isSafeInteger(Number(value))) {
    attrError(code, `a=${a.name} is not a decimal integer`, a, 0);
  }
  return Number(value);
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

function msrpTransportOf(proto: string): SdpTransportProtocol | undefined {
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
        media.fileTransferId = readFileTransferId(a);
        break;
      case "file-disposition":
        media.fileDisposition = readFileDisposition(a);
        break;
      case "file-date":
        media.fileDate = readFileDate(a);
        break;
      case "file-icon":
        media.fileIcon = readFileIcon(a);
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
 *
 * @example Every MSRP media line of an SDP
 * ```ts
 * import { parseAllMsrpMedia } from "@msrp/msrp/payload";
 *
 * function paths(sdp: string): string[][] {
 *   return parseAllMsrpMedia(sdp).map((m) => m.path); // one per m=message line
 * }
 * ```
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
 *
 * @example The MSRP media line of an SDP offer
 * ```ts
 * import { parseMsrpMedia } from "@msrp/msrp/payload";
 *
 * const media = parseMsrpMedia([
 *   "v=0",
 *   "o=alice 2890844526 2890844527 IN IP4 alice.example.com",
 *   "s= ",
 *   "c=IN IP4 alice.example.com",
 *   "t=0 0",
 *   "m=message 7777 TCP/MSRP *",
 *   "a=accept-types:text/plain",
 *   "a=path:msrp://alice.example.com:7777/iau39;tcp",
 *   "",
 * ].join("\r\n"));
 * console.log(media.path, media.acceptTypes); // ["msrp://..."] ["text/plain"]
 * ```
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
