/**
 * What a relay does with a request it receives (RFC 4976 §6.2, §6.3, §6.4;
 * RFC 4975 §7.1, §7.1.2, §7.2).
 *
 * Every request is checked before anything else happens to it:
 *
 * 1. Without a usable From-Path there is nowhere to send an answer: it is
 *    dropped (and counts as a failure, §6.1).
 * 2. Header fields that cannot be parsed, a SEND without a Message-ID
 *    (RFC 4975 §7.1.1), or a body without a Content-Type (§7.1: the relay
 *    could not forward it without breaking that rule itself) get a 400.
 * 3. The routing rules (`routeRequest` in `forwarding.ts`) decide the rest:
 *    a request not addressed to the relay closes the connection (§6.2); one
 *    the relay may not forward gets 403 or 481; one whose To-Path ends at the
 *    relay is handled here: an AUTH by `auth.ts` (§6.3), a SEND gets 481,
 *    another method 501, a REPORT nothing; the rest is forwarded
 *    (`forwarder.ts`).
 *
 * A frame the parser could not read is answered with the status the parser
 * chose when it can be addressed: its From-Path is the way back (the parser
 * reads the header section to its end for it), and the relay's own URI
 * stands in for a missing To-Path. Without a From-Path nothing can be
 * addressed and the frame is dropped (logged). A framing error the byte
 * stream cannot recover from closes the connection at once, unanswered.
 *
 * @module
 */

import type { FrameError } from "../errors.ts";
import type { InvalidFrame, MsrpRequest } from "../wire/frame.ts";
import {
  type ByteRange,
  CONTENT_TYPE,
  type FailureReport,
  FROM_PATH,
  getByteRange,
  getFailureReport,
  getFromPath,
  getMessageId,
  getToPath,
  TO_PATH,
} from "../wire/headers.ts";
import type { MsrpUri } from "../wire/uri.ts";
import { onAuth } from "./auth.ts";
import type { Conn } from "./connection.ts";
import { noteFailure } from "./lifecycle.ts";
import type { ConnectionTable } from "./connection_table.ts";
import type { RelayCore } from "./core.ts";
import { abandon, forward } from "./forwarder.ts";
import { type ArrivalInfo, isRelayUri, type RouteDecision, routeRequest } from "./forwarding.ts";
import { reply, type ReqInfo } from "./reply.ts";
import { describe } from "./services.ts";

/**
 * A frame the parser could not read (RFC 4975 §7.1): answered when it can
 * be, and the connection closed when the framing is lost.
 *
 * @param core the relay
 * @param c the connection it arrived on
 * @param f what the parser could make of it
 */
export function onInvalid(core: RelayCore, c: Conn, f: InvalidFrame): void {
  const inc = c.incoming;
  c.incoming = undefined;
  if (inc !== undefined) abandon(inc);
  const err: FrameError = f.error;
  core.log("warn", err.fatal ? "frame-fatal" : "frame-invalid", err.message, c, err);
  if (err.fatal) {
    // The byte stream cannot be trusted any more: this connection only.
    core.close(c, `framing lost (${err.code})`);
    return;
  }
  noteFailure(core, c, false);
  // §6.4.3: a response that cannot be parsed is dropped.
  if (f.tid === undefined || f.method === undefined) return;
  let fr: FailureReport = "yes";
  let fromPath: MsrpUri[] | undefined;
  let ourUri = core.ownUri(c.secure, undefined);
  try {
    fr = getFailureReport(f.headers);
  } catch {
    // answer anyway
  }
  try {
    fromPath = getFromPath(f.headers);
  } catch {
    // no way to address an answer
  }
  try {
    const to = getToPath(f.headers);
    if (to !== undefined && isRelayUri(to[0], core.identity)) ourUri = to[0];
  } catch {
    // use the relay's own URI
  }
  if (fromPath === undefined) return;
  reply(core, c, { tid: f.tid, method: f.method, fromPath, ourUri, fr, messageId: undefined }, {
    status: err.status,
  });
}

/**
 * A new request (or the first piece of one) arrived on `c`: check it,
 * decide its route, and handle or forward it.
 *
 * @param core the relay
 * @param table the relay's connections
 * @param c the connection it arrived on
 * @param req the request
 * @returns a promise when forwarding must wait for room on the next hop's connection
 */
export function onRequest(
  core: RelayCore,
  table: ConnectionTable,
  c: Conn,
  req: MsrpRequest,
): Promise<void> | void {
  const piecewise = req.flag === undefined;
  const discardRest = (): void => {
    if (piecewise) {
      c.incoming = {
        tid: req.tid,
        discard: true,
        stream: undefined,
        target: undefined,
        ctx: undefined,
      };
    }
  };
  const h = req.headers;
  let fromPath: readonly MsrpUri[];
  try {
    fromPath = c.fromPaths.parse(h.get(FROM_PATH) ?? "");
  } catch (e) {
    // Without a From-Path there is nowhere to send an answer.
    core.log("warn", "bad-request", `unusable From-Path: ${describe(e)}`, c, e);
    noteFailure(core, c, false);
    discardRest();
    return;
  }
  let fr: FailureReport = "yes";
  let messageId: string | undefined;
  let range: ByteRange | undefined;
  let toPath: readonly MsrpUri[] | undefined;
  let problem: string | undefined;
  try {
    toPath = c.toPaths.parse(h.get(TO_PATH) ?? "");
    fr = getFailureReport(h);
    if (req.body !== null && !h.has(CONTENT_TYPE)) {
      problem = "a request with a body needs a Content-Type (RFC 4975 §7.1)";
    }
    if (req.method === "SEND") {
      messageId = getMessageId(h);
      range = getByteRange(h);
      if (messageId === undefined) problem = "a SEND needs a Message-ID (RFC 4975 §7.1.1)";
    }
  } catch (e) {
    problem = describe(e);
  }
  const ourUri = toPath !== undefined && isRelayUri(toPath[0], core.identity)
    ? toPath[0]
    : core.ownUri(c.secure, undefined);
  const info: ReqInfo = { tid: req.tid, method: req.method, fromPath, ourUri, fr, messageId };
  if (problem !== undefined || toPath === undefined) {
    core.log("warn", "bad-request", `${req.method} ${req.tid}: ${problem}`, c);
    reply(core, c, info, { status: 400 });
    noteFailure(core, c, false);
    discardRest();
    return;
  }

  const d: RouteDecision = routeRequest({
    toPath,
    fromPath,
    arrival: arrival(c),
    identity: core.identity,
    lookup: (sid) => core.regs.get(sid),
  });
  switch (d.kind) {
    case "not-addressed":
      // §6.2: "If the request is not addressed to the relay, the relay
      // immediately drops the corresponding connection".
      core.log("warn", "not-addressed", d.reason, c);
      core.close(c, "a request not addressed to this relay (RFC 4976 §6.2)");
      return;
    case "reject":
      core.log("info", "forward-refused", `${req.method} ${req.tid}: ${d.reason}`, c);
      reply(core, c, info, { status: d.status });
      noteFailure(core, c, false);
      discardRest();
      return;
    case "local":
      discardRest();
      return onLocal(core, c, req, d, info);
    default:
      return forward(core, table, c, req, d, info, range);
  }
}

function arrival(c: Conn): ArrivalInfo {
  return { connectionId: c.id, peerHost: c.peer.host, identifiedRelay: c.peer.identifiedRelay };
}

/** A request whose To-Path ends at the relay. */
function onLocal(
  core: RelayCore,
  c: Conn,
  req: MsrpRequest,
  d: Extract<RouteDecision, { kind: "local" }>,
  info: ReqInfo,
): void {
  const localInfo: ReqInfo = { ...info, fromPath: d.fromPath };
  switch (req.method) {
    case "AUTH":
      return onAuth(core, c, req, d, localInfo);
    case "REPORT":
      // No session ends at a relay; REPORTs are never answered (RFC 4975 §7.1.2).
      core.log("debug", "report-dropped", `REPORT ${req.tid} addressed to the relay`, c);
      return;
    case "SEND":
      // No session ends at a relay (RFC 4976 §6.4).
      core.log("info", "forward-refused", `SEND ${req.tid}: To-Path ends at the relay (481)`, c);
      reply(core, c, localInfo, { status: 481 });
      noteFailure(core, c, false);
      return;
    default:
      core.log(
        "info",
        "forward-refused",
        `${req.method} ${req.tid}: addressed to the relay (501)`,
        c,
      );
      reply(core, c, localInfo, { status: 501 });
      noteFailure(core, c, false);
  }
}
