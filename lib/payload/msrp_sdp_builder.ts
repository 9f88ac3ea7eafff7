/**
 * Writing the SDP that sets up an MSRP session (RFC 4975 §8, RFC 8866 §5).
 *
 * The MSRP media section is `m=message <port> TCP/MSRP *` (or
 * `TCP/TLS/MSRP` for `msrps:`, §8.1) with `a=accept-types` and `a=path`,
 * both required (§8.2, §8.6). The m= port and c= address are not used to
 * connect (`a=path` is), but they repeat the endpoint's address for old SDP
 * tools (§8.1); with CEMA (RFC 6714 §4.2) they give the first hop instead,
 * so that middleboxes can rewrite them. Port 0 rejects the stream (RFC 3264
 * §6). A whole SDP adds the session-level lines RFC 8866 §5 requires: `v=0`,
 * `o=` (origin, §5.2), `s=`, `c=` and `t=0 0` (an unbounded session).
 *
 * What to put in an offer or an answer is decided in `offer_answer.ts`.
 *
 * @module
 */

import { MsrpError, MsrpSyntaxError } from "../errors.ts";
import { type FileTransferAttributes, fileTransferAttributes } from "./file_transfer.ts";
import type { Fingerprint } from "./fingerprint.ts";
import type { Direction, SdpTransportProtocol, SetupRole } from "./msrp_media.ts";
import {
  formatSdp,
  formatSdpMedia,
  type SdpAttribute,
  type SdpField,
  type SdpMediaDescription,
} from "./sdp_syntax.ts";

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
  transport?: SdpTransportProtocol;
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
 *
 * @example One m=message section
 * ```ts
 * import { buildMsrpMediaDescription, formatSdp, parseSdp } from "@msrp/msrp/payload";
 *
 * const media = buildMsrpMediaDescription({
 *   path: ["msrp://alice.example.com:7777/iau39;tcp"],
 *   acceptTypes: ["text/plain"],
 * });
 * const sdp = parseSdp("v=0\r\no=- 1 1 IN IP4 alice.example.com\r\ns=-\r\nt=0 0\r\n");
 * console.log(formatSdp({ ...sdp, media: [media] }));
 * ```
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
  if (options.file) attributes.push(...fileTransferAttributes(options.file));
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

/**
 * The host the c= line defaults to: that of the URI the m= port comes from.
 *
 * @param options the path and whether CEMA is on
 * @returns the host, or `undefined` for an empty path
 * @throws {MsrpSyntaxError} `bad-path` for a path URI without host or port
 */
export function defaultHost(options: MsrpSdpOptions): string | undefined {
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
