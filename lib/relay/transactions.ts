/**
 * Forwarded transactions waiting for the next hop's answer, and what the
 * relay tells the sender when they fail (RFC 4976 §6.4.1, §6.4.3;
 * RFC 4975 §5.3, §5.4, §7.1.4, §7.3.2, §10.4).
 *
 * Each request the relay forwards goes out under a new transaction id
 * (§6.4), and is remembered here under that id on the connection it went
 * out on until the next hop answers:
 *
 * - **SEND** is acknowledged hop by hop (§6.4.1). With Failure-Report `yes`
 *   the relay answers 200 as soon as it has the whole chunk, starts a timer
 *   "when the last byte of the message has been sent to the next hop", and
 *   turns a timeout into a 408 REPORT, and an error response into a failure
 *   REPORT with that status, back along the From-Path. An error known before
 *   the chunk was acknowledged is the response itself (RFC 4975 §7.1.4).
 * - **AUTH and unknown methods** are answered end to end (§6.4.3): the
 *   response is passed back to the previous hop, with the relay's URI moved
 *   from To-Path to From-Path and the request's From-Path as its To-Path
 *   (whatever the next hop wrote after the relay's URI). If none comes, the
 *   relay answers 408.
 * - **REPORT** is never answered (RFC 4975 §7.1.2): nothing is remembered.
 *
 * When a connection fails, the transactions on it have failed (RFC 4975
 * §5.4).
 *
 * @module
 */

import type { QueuedTimer } from "../session/timer_queue.ts";
import type { TransactionIdChange } from "../wire/encoder.ts";
import type { MsrpRequest, MsrpResponse } from "../wire/frame.ts";
import { type ByteRange, type FailureReport, getFromPath, TO_PATH } from "../wire/headers.ts";
import { PathCache } from "../wire/path_cache.ts";
import { newTransactionId } from "../wire/ids.ts";
import type { MsrpUri } from "../wire/uri.ts";
import { hasStaleChallenge } from "./auth.ts";
import { type Conn, noteFailure } from "./connection.ts";
import type { RelayCore } from "./core.ts";
import { failureReportOwed } from "../session/reports.ts";
import { forwardedHeaders, isRelayUri, relayFailureReport, reportedRange } from "./forwarding.ts";
import { enqueueFrame, type OutStream, wake } from "./outbound.ts";
import { reply, type ReqInfo } from "./reply.ts";
import { describe } from "./services.ts";

/** What the relay must remember about a SEND it received, to answer and report on it. */
export interface SendContext {
  /** The connection it came over: where the response and failure REPORTs go. */
  readonly origin: Conn;
  readonly originTid: string;
  readonly fr: FailureReport;
  readonly messageId: string | undefined;
  /** The SEND's Byte-Range as received. */
  readonly range: ByteRange | undefined;
  /** The From-Path as received: the way back to the sender. */
  readonly reportTo: readonly MsrpUri[];
  /** The relay's URI as received first in To-Path. */
  readonly ourUri: MsrpUri;
  /** A response (200 or error) went to the previous hop. */
  answered: boolean;
  /** The SEND failed and the error was the response: refuse the rest. */
  failed: boolean;
  /** The whole chunk has been received. */
  complete: boolean;
  /** The forwarding stream, when the chunk is forwarded in pieces. */
  stream: OutStream | undefined;
}

/** A forwarded SEND wire transaction waiting for the next hop's response. */
export interface PendingSend {
  readonly kind: "send";
  readonly conn: Conn;
  tid: string;
  readonly ctx: SendContext;
  /** Where the bytes of this transaction start within the received chunk's body. */
  readonly offset: number;
  /** How many body bytes it carried. */
  length: number;
  readonly stream: OutStream | undefined;
  timer: QueuedTimer | undefined;
  done: boolean;
}

/** A forwarded AUTH or unknown method whose response goes back along the path (§6.4.3). */
export interface PendingRelayed {
  readonly kind: "relayed";
  readonly conn: Conn;
  tid: string;
  readonly origin: Conn;
  readonly originTid: string;
  readonly method: string;
  readonly fromPath: readonly MsrpUri[];
  readonly ourUri: MsrpUri;
  readonly fr: FailureReport;
  readonly hadCredentials: boolean;
  /** How many of the relay's own URIs the request passed (more than one when it looped back). */
  readonly ownHops: number;
  timer: QueuedTimer | undefined;
  done: boolean;
}

/** A forwarded transaction waiting for its response. */
export type Pending = PendingSend | PendingRelayed;

/**
 * What is needed to answer the SEND behind `ctx`.
 *
 * @param ctx the received SEND
 */
export function ctxInfo(ctx: SendContext): ReqInfo {
  return {
    tid: ctx.originTid,
    method: "SEND",
    fromPath: ctx.reportTo,
    ourUri: ctx.ourUri,
    fr: ctx.fr,
    messageId: ctx.messageId,
  };
}

/**
 * A forwarded SEND (or part of it) failed with `status` (§6.4.1, §6.4.3).
 * While the chunk is not yet acknowledged the error is the response to it
 * (RFC 4975 §7.1.4) and the rest of the chunk is refused; afterwards it
 * becomes a failure REPORT to the sender, as Failure-Report asks.
 *
 * @param core the relay
 * @param ctx the received SEND
 * @param status the failure status
 * @param comment the status comment
 * @param offset where the failed bytes start within the received chunk's body
 * @param length how many bytes failed
 */
export function sendFailed(
  core: RelayCore,
  ctx: SendContext,
  status: number,
  comment: string,
  offset: number,
  length: number,
): void {
  const timeout = status === 408;
  // Once the chunk was refused with an error response, the sender knows
  // all it needs; RFC 4975 §5.3: only `yes` runs timers and reports timeouts.
  if (ctx.failed || ctx.fr === "no" || (timeout && ctx.fr !== "yes")) return;
  if (!ctx.answered && (ctx.fr === "yes" || !ctx.complete)) {
    ctx.answered = true;
    ctx.failed = true;
    core.log("info", "send-refused", `SEND ${ctx.originTid} answered ${status}: ${comment}`);
    const s = ctx.stream;
    if (s !== undefined && !s.finished && s.abortFlag === undefined) {
      s.abortFlag = "#";
      wake(s.target);
    }
    if (ctx.origin.state !== "closed") reply(core, ctx.origin, ctxInfo(ctx), { status });
    return;
  }
  if (!failureReportOwed(ctx.fr, timeout) || ctx.messageId === undefined) return;
  if (ctx.origin.state === "closed") {
    core.log("info", "report-dropped", `no way back for a ${status} REPORT: connection closed`);
    return;
  }
  let range = reportedRange(ctx.range, offset, length);
  if (
    typeof range.total === "number" && typeof range.end === "number" && range.end > range.total
  ) {
    range = { ...range, end: range.total };
  }
  let report: MsrpRequest;
  try {
    report = relayFailureReport({
      tid: newTransactionId(),
      toPath: ctx.reportTo,
      ourUri: ctx.ourUri,
      messageId: ctx.messageId,
      byteRange: range,
      status,
      comment,
    });
  } catch (e) {
    core.log("error", "internal-error", `cannot build a REPORT: ${describe(e)}`, ctx.origin, e);
    return;
  }
  core.log(
    "info",
    "failure-report",
    `REPORT ${status} for ${ctx.messageId} bytes ${range.start}-${range.end}`,
    ctx.origin,
  );
  enqueueFrame(core, ctx.origin, report);
}

/**
 * A response arrived on `c`: match it to the transaction it answers, and
 * act on it (§6.4.1, §6.4.3).
 *
 * @param core the relay
 * @param c the connection it arrived on
 * @param res the response
 */
export function onResponse(core: RelayCore, c: Conn, res: MsrpResponse): void {
  const p = c.pending.get(res.tid);
  if (p === undefined) {
    core.log("debug", "response-unmatched", `response ${res.tid} matches no transaction`, c);
    return;
  }
  // §6.4.3: "verify that the first URI in the To-Path corresponds to
  // itself; if not, the response SHOULD be dropped"; unparsable: MUST.
  let toPath: readonly MsrpUri[] | undefined;
  try {
    toPath = responseToPath(c, res);
  } catch {
    toPath = undefined;
  }
  if (toPath === undefined || !isRelayUri(toPath[0], core.identity)) {
    core.log("warn", "response-dropped", `response ${res.tid} is not addressed to the relay`, c);
    return;
  }
  c.pending.delete(res.tid);
  p.done = true;
  core.timers.cancel(p.timer);
  if (p.kind === "send") {
    if (res.status === 200) return;
    core.log("info", "downstream-error", `next hop answered ${res.status} ${res.comment}`, c);
    sendFailed(core, p.ctx, res.status, res.comment || "", p.offset, p.length);
    // RFC 4975 §7.3.2: a failure for a chunk being delivered aborts the message.
    const s = p.stream;
    if (s !== undefined && !s.finished && s.abortFlag === undefined) {
      s.abortFlag = "#";
      wake(c);
    }
    return;
  }
  // §6.4.3: move our URI from To-Path to From-Path and pass the response
  // on (each of our URIs, when the request passed through the relay twice).
  // It goes back to the hop the request came from, addressed along that
  // request's From-Path: the response matched our transaction, so that is
  // its way back whatever its To-Path holds beyond our URI. A deployed relay
  // answers a forwarded AUTH with a To-Path of this relay's URI alone.
  let ours = 0;
  while (ours < p.ownHops && ours < toPath.length && isRelayUri(toPath[ours], core.identity)) {
    ours++;
  }
  const rest = toPath.slice(ours);
  if (!samePath(rest, p.fromPath)) {
    core.log(
      "debug",
      "response-readdressed",
      `${res.status} ${res.tid}: its To-Path ${
        rest.length === 0 ? "ends at the relay" : "differs from the request's From-Path"
      }; sent back along the From-Path of ${p.method} ${p.originTid}`,
      c,
    );
  }
  let fromPath: MsrpUri[] | undefined;
  try {
    fromPath = getFromPath(res.headers);
  } catch {
    fromPath = undefined;
  }
  if (fromPath === undefined) {
    core.log("info", "response-dropped", `response ${res.tid} has no usable From-Path`, c);
    return;
  }
  if (p.origin.state === "closed") {
    core.log("debug", "response-dropped", "the connection back has closed", c);
    return;
  }
  const frame: MsrpResponse = {
    kind: "response",
    tid: p.originTid,
    status: res.status,
    comment: res.comment,
    headers: forwardedHeaders(res.headers, p.fromPath, [
      ...toPath.slice(0, ours).reverse(),
      ...fromPath,
    ]),
    flag: "$",
  };
  enqueueFrame(core, p.origin, frame);
  core.log(
    "debug",
    "forwarded",
    `response ${res.status} to ${p.method} ${p.originTid} back on conn=${p.origin.id}`,
    c,
  );
  // §6.3: failed AUTHs forwarded for a directly connected client count too.
  if (
    p.method === "AUTH" && p.hadCredentials && res.status === 401 &&
    !hasStaleChallenge(res.headers)
  ) {
    noteFailure(core, p.origin, true);
  }
}

/** The last response To-Path parsed on each connection (a hop's 200s all name the relay alike). */
const responseToPaths = new WeakMap<Conn, PathCache>();

/** A response's To-Path (`getToPath`), parsed once per distinct text in a row on `c`. */
function responseToPath(c: Conn, res: MsrpResponse): readonly MsrpUri[] | undefined {
  const text = res.headers.get(TO_PATH);
  if (text === undefined) return undefined;
  let cache = responseToPaths.get(c);
  if (cache === undefined) responseToPaths.set(c, cache = new PathCache());
  return cache.parse(text);
}

function samePath(a: readonly MsrpUri[], b: readonly MsrpUri[]): boolean {
  return a.length === b.length && a.every((u, i) => u.equals(b[i]));
}

/**
 * Starts the hop timer: "when the last byte of the message has been sent to the next hop" (§6.4.1).
 *
 * @param core the relay
 * @param p the transaction whose last byte was written
 */
export function armTimer(core: RelayCore, p: Pending): void {
  if (p.done || p.conn.state === "closed") return;
  if (p.kind === "send" && p.ctx.fr === "no") {
    p.conn.pending.delete(p.tid);
    return;
  }
  core.timers.cancel(p.timer);
  p.timer = core.timers.add(core.config.limits.transactionTimeoutMs, timeoutHandler(core), p);
}

/** One timeout callback per relay, so that arming a timer makes no closure. */
const timeoutHandlers = new WeakMap<RelayCore, (p: Pending) => void>();

function timeoutHandler(core: RelayCore): (p: Pending) => void {
  let handler = timeoutHandlers.get(core);
  if (handler === undefined) {
    handler = (p) => onTimeout(core, p);
    timeoutHandlers.set(core, handler);
  }
  return handler;
}

function onTimeout(core: RelayCore, p: Pending): void {
  if (p.done) return;
  p.done = true;
  p.conn.pending.delete(p.tid);
  if (p.kind === "send") {
    core.log("warn", "hop-timeout", `no response to SEND ${p.tid} from the next hop`, p.conn);
    // §6.4.1: "the relay MUST construct a REPORT with a status code of 408".
    sendFailed(core, p.ctx, 408, "Request Timeout", p.offset, p.length);
  } else {
    core.log("warn", "hop-timeout", `no response to ${p.method} ${p.tid}`, p.conn);
    relayedTimedOut(core, p);
  }
}

/** A forwarded AUTH or extension request got no answer: 408 back (RFC 4975 §10.4). */
function relayedTimedOut(core: RelayCore, p: PendingRelayed): void {
  if (p.origin.state === "closed") return;
  reply(core, p.origin, {
    tid: p.originTid,
    method: p.method,
    fromPath: p.fromPath,
    ourUri: p.ourUri,
    fr: p.fr,
    messageId: undefined,
  }, { status: 408 });
}

/**
 * Files a transaction under the new id the encoder gave it.
 *
 * @param p the transaction
 * @param to its new id
 */
export function rekey(p: Pending, to: string): void {
  const map = p.conn.pending;
  if (map.get(p.tid) === p) {
    map.delete(p.tid);
    map.set(to, p);
  }
  p.tid = to;
}

/**
 * The FrameWriter changed a wire transaction id because the body held its
 * end-line (RFC 4975 §7.1). Before anything was written only the id
 * changes; mid-chunk the writer interrupted the chunk with `+` and went on
 * as a new transaction, which gets its own pending entry.
 *
 * @param core the relay
 * @param c the connection whose writer changed the id
 * @param ch the change
 */
export function onTidChange(core: RelayCore, c: Conn, ch: TransactionIdChange): void {
  const w = c.currentWire;
  if (w === undefined) return;
  if (!ch.interrupted) {
    rekey(w.pending, ch.to);
    return;
  }
  const old = w.pending;
  old.length = ch.byteOffset - w.segStart;
  const next: PendingSend = {
    ...old,
    tid: ch.to,
    offset: old.offset + old.length,
    length: 0,
    timer: undefined,
    done: false,
  };
  if (old.ctx.fr !== "no") c.pending.set(ch.to, next);
  w.segStart = ch.byteOffset;
  w.pending = next;
  armTimer(core, old);
}

/**
 * Fails every transaction waiting on a connection that closed.
 *
 * @param core the relay
 * @param c the connection, already marked closed
 */
export function failPending(core: RelayCore, c: Conn): void {
  // RFC 4975 §5.4: the transactions on a failed connection have failed.
  const pending = [...c.pending.values()];
  c.pending.clear();
  for (const p of pending) {
    p.done = true;
    core.timers.cancel(p.timer);
    if (p.kind === "send") {
      sendFailed(core, p.ctx, 408, "next hop connection lost", p.offset, p.length);
    } else relayedTimedOut(core, p);
  }
}
