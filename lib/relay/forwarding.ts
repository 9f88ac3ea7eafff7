/**
 * The hop-by-hop rules of an MSRP relay, as pure functions
 * (RFC 4976 §6.2, §6.4, §6.4.1-§6.4.3; RFC 4975 §7.1.2, §7.1.4, §7.2).
 *
 * A request names its route in two headers. To-Path lists the URIs still to
 * visit, next hop first; From-Path the URIs it came through, latest first.
 * A relay that receives a request:
 *
 * 1. checks that the first To-Path URI is its own; if not, "the relay
 *    immediately drops the corresponding connection" (§6.2);
 * 2. when that URI is the last one, the request is for the relay itself
 *    (an AUTH, §6.3);
 * 3. otherwise the URI must be one it handed out in a Use-Path (§6.4), and
 *    either the request comes from the client that obtained it (it arrived
 *    over that client's connection, or from the relay the client is behind),
 *    or it goes towards that client (the rest of the To-Path leads back to
 *    it). Anything else would make the relay an open relay (§3.1, §9.4), and
 *    is refused with 403; an unknown or expired URI gets 481;
 * 4. it moves its URI from the front of To-Path to the front of From-Path and
 *    sends the request on with a new transaction id (§6.4, §6.4.2).
 *
 * ```text
 * arriving at b:  To-Path: msrps://b.example.net:9000/aeiug;tcp msrps://bob.example.net:8145/foo;tcp
 *                 From-Path: msrps://a.example.org:9000/kjfjan;tcp msrps://alice.example.org:7965/bar;tcp
 * leaving b:      To-Path: msrps://bob.example.net:8145/foo;tcp
 *                 From-Path: msrps://b.example.net:9000/aeiug;tcp msrps://a.example.org:9000/kjfjan;tcp
 *                            msrps://alice.example.org:7965/bar;tcp
 * ```
 *
 * SEND is acknowledged hop by hop (§6.4.1): with Failure-Report `yes` (the
 * default) the relay answers 200 to the previous hop as soon as it has the
 * chunk, runs a 30-second timer on the next hop, and turns a timeout or an
 * error response into a failure REPORT towards the sender. Every other
 * request is answered end to end, so the relay passes responses to them back
 * along the path (§6.4.3). REPORTs are never answered (RFC 4975 §7.1.2).
 *
 * @module
 */

import type { MsrpStatusCode } from "../errors.ts";
import type { MsrpRequest, MsrpResponse } from "../wire/frame.ts";
import { HeaderList } from "../wire/header_list.ts";
import {
  type ByteRange,
  type FailureReport,
  formatByteRange,
  formatPath,
  formatStatus,
  FROM_PATH,
  STATUS_TEXT,
  TO_PATH,
} from "../wire/headers.ts";
import type { MsrpUri } from "../wire/uri.ts";
import type { RelayRegistration } from "./registrations.ts";

/** The names and ports a relay answers to. */
export interface RelayIdentity {
  /** Host names in lower case. */
  readonly hosts: readonly string[];
  /** The ports it listens on (and advertises). */
  readonly ports: readonly number[];
}

/**
 * Whether a URI names this relay: one of its host names (compared without
 * case, RFC 4975 §6.1) and, when the URI has a port, one of its ports. The
 * port may be absent only in the To-Path of an AUTH (RFC 4976 §8).
 *
 * @param uri the URI, usually the first of a To-Path
 * @param identity the relay's names and ports
 *
 * @example Is this URI one of ours? (RFC 4976 §6.4)
 * ```ts
 * import { parseUri } from "@msrp/msrp";
 * import { isRelayUri } from "@msrp/msrp/relay";
 *
 * const identity = { hosts: ["relay.example.com"], ports: [2855] };
 * console.log(isRelayUri(parseUri("msrps://relay.example.com:2855/jui787s2f;tcp"), identity)); // true
 * ```
 */
export function isRelayUri(uri: MsrpUri, identity: RelayIdentity): boolean {
  if (!identity.hosts.includes(uri.host.toLowerCase())) return false;
  return uri.port === undefined || identity.ports.includes(uri.port);
}

/** What the relay knows about the connection a request arrived on. */
export interface ArrivalInfo {
  /** The connection's id, as used in registration bindings. */
  readonly connectionId: number;
  /** The host the peer is authenticated as by TLS, lower case, if any. */
  readonly peerHost: string | undefined;
  /**
   * True for a relay identified by mutual TLS on an inbound connection; its
   * first From-Path URI must then name that host (RFC 4976 §6.3).
   */
  readonly identifiedRelay: boolean;
}

/** The inputs of {@linkcode routeRequest}. */
export interface RouteInput {
  /** The request's To-Path, as received. */
  readonly toPath: readonly MsrpUri[];
  /** The request's From-Path, as received. */
  readonly fromPath: readonly MsrpUri[];
  /** The connection it arrived on. */
  readonly arrival: ArrivalInfo;
  /** The relay's names and ports. */
  readonly identity: RelayIdentity;
  /** Finds a live registration by session id. */
  readonly lookup: (sessionId: string) => RelayRegistration | undefined;
  /** How many of the relay's own URIs may follow each other in a To-Path (default 8). */
  readonly maxOwnHops?: number;
}

/**
 * What to do with a request (see {@linkcode routeRequest}). `ourUri` is the
 * first To-Path URI as received: the relay's name in responses and reports.
 */
export type RouteDecision =
  | {
    /** The To-Path ends at this relay: an AUTH to handle, or nothing to forward. */
    readonly kind: "local";
    /** The relay's URI as received. */
    readonly ourUri: MsrpUri;
    /** The last To-Path URI: the digest-uri of an AUTH (RFC 4976 §9.1). */
    readonly target: MsrpUri;
    /** The From-Path, with any of the relay's own hops added in front. */
    readonly fromPath: readonly MsrpUri[];
  }
  | {
    /** Goes to the client that obtained `registration`, over its binding. */
    readonly kind: "toward-client";
    /** The relay's URI as received. */
    readonly ourUri: MsrpUri;
    /** The registration the request is delivered for. */
    readonly registration: RelayRegistration;
    /** The To-Path to send, next hop first. */
    readonly toPath: readonly MsrpUri[];
    /** The From-Path to send, this relay first. */
    readonly fromPath: readonly MsrpUri[];
  }
  | {
    /** Comes from the client that obtained `registration`; goes to `toPath[0]`. */
    readonly kind: "from-client";
    /** The relay's URI as received. */
    readonly ourUri: MsrpUri;
    /** The registration that authorizes it. */
    readonly registration: RelayRegistration;
    /** The To-Path to send, next hop first. */
    readonly toPath: readonly MsrpUri[];
    /** The From-Path to send, this relay first. */
    readonly fromPath: readonly MsrpUri[];
  }
  | {
    /** Refused: 403 (not authorized) or 481 (no such relay URI). */
    readonly kind: "reject";
    /** The relay's URI as received. */
    readonly ourUri: MsrpUri;
    /** The status to answer with, when an answer is owed. */
    readonly status: 403 | 481;
    /** Why, for the log. */
    readonly reason: string;
  }
  | {
    /** The first To-Path URI is not this relay's: drop the connection (§6.2). */
    readonly kind: "not-addressed";
    /** Why, for the log. */
    readonly reason: string;
  };

function samePath(a: readonly MsrpUri[], b: readonly MsrpUri[], n: number): boolean {
  for (let i = 0; i < n; i++) if (!a[i].equals(b[i])) return false;
  return true;
}

/**
 * Decides what a relay does with a request (RFC 4976 §6.2, §6.4):
 *
 * - first To-Path URI not the relay's → `not-addressed` (§6.2);
 * - an identified relay whose first From-Path URI names another host →
 *   `reject` 403 (§6.3);
 * - To-Path ends here → `local`;
 * - first URI without a session id → `reject` 403: the relay only forwards
 *   for URIs it handed out (§6.4);
 * - unknown or expired session id → `reject` 481 (§6.3: "If a relay is
 *   requested to forward a message for which the URI is not valid, the
 *   relay MUST discard the message");
 * - arrived over the registration's binding with a From-Path that is the
 *   client's route (`via` plus the client's URI) → `from-client`, forwarded
 *   to the next To-Path URI (§6.4 case 2);
 * - the rest of the To-Path is the route back to the client (`via` plus one
 *   URI, the client's) → `toward-client`, delivered over the binding
 *   (§6.4 case 1). A client connected directly never sends towards itself,
 *   so on its own connection only the first case is allowed: a request there
 *   with a From-Path that is not just the client's URI is spoofed;
 * - anything else → `reject` 403.
 *
 * When the next hop is the relay itself again (two of its clients talking),
 * the rules run again for that URI, with the arrival connection unchanged.
 *
 * @param input the paths, the arrival connection, and the relay's identity and registrations
 */
export function routeRequest(input: RouteInput): RouteDecision {
  const { identity, arrival } = input;
  let to = input.toPath;
  let from = input.fromPath;
  const ourUri = to[0];
  if (!isRelayUri(ourUri, identity)) {
    return {
      kind: "not-addressed",
      reason: `the first To-Path URI ${ourUri} does not name this relay (RFC 4976 §6.2)`,
    };
  }
  if (arrival.identifiedRelay && from[0].host.toLowerCase() !== arrival.peerHost) {
    return {
      kind: "reject",
      ourUri,
      status: 403,
      reason: `the first From-Path URI ${from[0]} does not name the TLS peer ${arrival.peerHost}` +
        " (RFC 4976 §6.3)",
    };
  }
  const maxOwnHops = input.maxOwnHops ?? 8;
  for (let hop = 0;; hop++) {
    const first = to[0];
    if (to.length === 1) return { kind: "local", ourUri, target: first, fromPath: from };
    if (hop >= maxOwnHops) {
      return { kind: "reject", ourUri, status: 403, reason: "too many hops through this relay" };
    }
    if (first.sessionId === undefined) {
      return {
        kind: "reject",
        ourUri,
        status: 403,
        reason: `${first} is not a URI this relay handed out (RFC 4976 §6.4)`,
      };
    }
    const reg = input.lookup(first.sessionId);
    if (reg === undefined) {
      return {
        kind: "reject",
        ourUri,
        status: 481,
        reason: `${first} is unknown or expired (RFC 4976 §6.3)`,
      };
    }
    const rest = to.slice(1);
    const nextFrom = [first, ...from];
    const via = reg.via;
    const onBinding = reg.boundTo(arrival.connectionId, arrival.peerHost);
    // §6.4 case 2: "the previous hop was the correct previous hop coming from
    // the client that obtained this URI".
    if (onBinding && from.length === via.length + 1 && samePath(from, via, via.length)) {
      if (isRelayUri(rest[0], identity)) {
        to = rest;
        from = nextFrom;
        continue;
      }
      return { kind: "from-client", ourUri, registration: reg, toPath: rest, fromPath: nextFrom };
    }
    // A directly connected client's own connection carries only its own requests.
    const ownClientConnection = onBinding && reg.binding.kind === "connection" &&
      via.length === 0;
    // §6.4 case 1: "the next hop is the next hop back toward the client".
    if (
      !ownClientConnection && rest.length === via.length + 1 && samePath(rest, via, via.length)
    ) {
      return { kind: "toward-client", ourUri, registration: reg, toPath: rest, fromPath: nextFrom };
    }
    return {
      kind: "reject",
      ourUri,
      status: 403,
      reason: onBinding
        ? `the From-Path ${formatPath(from)} is not the route of the client that obtained ${first}`
        : `the request neither comes from nor goes to the client that obtained ${first}` +
          " (RFC 4976 §6.4)",
    };
  }
}

/**
 * The header fields of a forwarded request: a copy with the new To-Path and
 * From-Path, and optionally a new Byte-Range (RFC 4976 §6.4.1: "If the MSRP
 * relay has knowledge of the byte range that it will transmit to the next
 * hop, it SHOULD update the Byte-Range header").
 *
 * @param headers the request's fields as received
 * @param toPath the To-Path to send
 * @param fromPath the From-Path to send
 * @param byteRange a Byte-Range to write instead of the received one
 */
export function forwardedHeaders(
  headers: HeaderList,
  toPath: readonly MsrpUri[],
  fromPath: readonly MsrpUri[],
  byteRange?: ByteRange,
): HeaderList {
  const out = headers.clone();
  out.set(TO_PATH, formatPath(toPath));
  out.set(FROM_PATH, formatPath(fromPath));
  if (byteRange !== undefined) out.set("Byte-Range", formatByteRange(byteRange));
  return out;
}

/**
 * Whether a transaction response is owed for a request (RFC 4975 §7.2,
 * §7.1.4): never for REPORT; with Failure-Report `no` never; with `partial`
 * only for a failure; with `yes` (the default) always.
 *
 * @param method the request method
 * @param failureReport the Failure-Report value (`yes` when absent)
 * @param success whether the response would be a 200
 */
export function responseOwed(
  method: string,
  failureReport: FailureReport,
  success: boolean,
): boolean {
  if (method === "REPORT") return false;
  if (failureReport === "no") return false;
  if (failureReport === "partial") return !success;
  return true;
}

/**
 * Whether a relay sends a failure REPORT for a SEND it already answered
 * (RFC 4976 §6.4.1): with Failure-Report `yes` for a timeout or an error;
 * with `partial` for an error but not a timeout (no timer runs for partial,
 * RFC 4975 §5.3); never with `no`.
 *
 * @param failureReport the SEND's Failure-Report value
 * @param timeout whether the failure is the hop timer expiring (408)
 */
export function failureReportOwed(failureReport: FailureReport, timeout: boolean): boolean {
  return failureReport === "yes" || (failureReport === "partial" && !timeout);
}

/** The inputs of {@linkcode relayResponse}. */
export interface RelayResponseInput {
  /** The transaction id of the request answered. */
  readonly tid: string;
  /** The method of the request answered. */
  readonly method: string;
  /** The status code. */
  readonly status: number;
  /** The comment; the usual text of the code by default. */
  readonly comment?: string;
  /** The request's From-Path, as received. */
  readonly fromPath: readonly MsrpUri[];
  /** The relay's URI as it appeared first in the request's To-Path. */
  readonly ourUri: MsrpUri;
  /** More header fields, after To-Path and From-Path. */
  readonly headers?: readonly (readonly [string, string])[];
}

/**
 * A response from the relay (RFC 4975 §7.2): to a SEND it goes to the
 * previous hop only (To-Path is the first From-Path URI); to any other
 * request it goes back along the whole From-Path. From-Path is the relay's
 * URI.
 *
 * @param input the request answered, the status and extra header fields
 */
export function relayResponse(input: RelayResponseInput): MsrpResponse {
  const to = input.method === "SEND" ? [input.fromPath[0]] : input.fromPath;
  const headers = new HeaderList([
    [TO_PATH, formatPath(to)],
    [FROM_PATH, input.ourUri.toString()],
  ]);
  for (const [name, value] of input.headers ?? []) headers.append(name, value);
  return {
    kind: "response",
    tid: input.tid,
    status: input.status,
    comment: input.comment ?? STATUS_TEXT[input.status as MsrpStatusCode] ?? "",
    headers,
    flag: "$",
  };
}

/** The inputs of {@linkcode relayFailureReport}. */
export interface FailureReportInput {
  /** A new transaction id. */
  readonly tid: string;
  /** The From-Path of the failed SEND as the relay received it: the way back to the sender. */
  readonly toPath: readonly MsrpUri[];
  /** The relay's URI as it appeared first in the SEND's To-Path. */
  readonly ourUri: MsrpUri;
  /** The SEND's Message-ID. */
  readonly messageId: string;
  /** The bytes reported on: the SEND's start and total, the end from the body actually handled. */
  readonly byteRange: ByteRange;
  /** The error code (e.g. 408 for a timeout, or the code of the next hop's response). */
  readonly status: number;
  /** The comment; the usual text of the code by default. */
  readonly comment?: string;
}

/**
 * A failure REPORT from the relay towards the sender of a SEND (RFC 4976
 * §6.4.1, §6.4.3; RFC 4975 §7.1.2, §7.1.4): To-Path is the SEND's From-Path,
 * From-Path the relay's URI, with the SEND's Message-ID, the Byte-Range of
 * what failed, and `Status: 000 <code> <comment>`. No Success-Report or
 * Failure-Report (§7.1.2), and no body.
 *
 * @param input the path back, the Message-ID, the range and the status
 */
export function relayFailureReport(input: FailureReportInput): MsrpRequest {
  const comment = input.comment ?? STATUS_TEXT[input.status as MsrpStatusCode] ?? "";
  const headers = new HeaderList([
    [TO_PATH, formatPath(input.toPath)],
    [FROM_PATH, input.ourUri.toString()],
    ["Message-ID", input.messageId],
    ["Byte-Range", formatByteRange(input.byteRange)],
    ["Status", formatStatus({ code: input.status, comment })],
  ]);
  return {
    kind: "request",
    tid: input.tid,
    method: "REPORT",
    headers,
    body: null,
    offset: 0,
    flag: "$",
  };
}

/**
 * The Byte-Range a failure report gives for a chunk (RFC 4975 §7.1.4: "It
 * can take the range-start and total values from the original SEND request,
 * but MUST calculate the range-end field from the actual body data").
 * Without a Byte-Range the chunk was a whole message (RFC 4975 §7.3.1).
 *
 * @param declared the SEND's Byte-Range, if it had one
 * @param offset where the reported bytes start within the chunk's body
 * @param length how many body bytes are reported on
 */
export function reportedRange(
  declared: ByteRange | undefined,
  offset: number,
  length: number,
): ByteRange {
  const start = (declared?.start ?? 1) + offset;
  return {
    start,
    end: start + length - 1,
    total: declared === undefined ? offset + length : declared.total,
  };
}
