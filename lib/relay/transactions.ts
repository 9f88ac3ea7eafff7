/**
 * Forwarded transactions waiting for the next hop's answer, and what the
 * relay tells the sender when they fail (RFC 4976 §6.4.1, §6.4.3;
 * RFC 4975 §5.3, §5.4, §7.1.4, §7.3.2, §10.4).
 *
 * Each request the relay forwards goes out under a new transaction id
 * (§6.4), and is remembered under that id in the `TransactionTable` of the
 * connection it went out on (the session layer's table, the same an
 * endpoint uses; its timers share the relay's one `TimerQueue`) until the
 * next hop answers. The entries are made here, and know what to do when
 * answered, timed out or lost:
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
 * §5.4). The writer (`outbound.ts`) reaches this module only through the
 * records' methods (`SendContext.fail`, `SendContext.forwarded`,
 * `ForwardedTransaction.written` and `rekey`), so that neither imports the
 * other in a cycle.
 *
 * @module
 */

import type { TransactionIdChange } from "../wire/encoder.ts";
import type { MsrpRequest, MsrpResponse } from "../wire/frame.ts";
import { type ByteRange, type FailureReport, getFromPath, TO_PATH } from "../wire/headers.ts";
import { newTransactionId } from "../wire/ids.ts";
import type { MsrpUri } from "../wire/uri.ts";
import { hasStaleChallenge } from "./auth.ts";
import type { Conn, OutStream, PendingRelayed, PendingSend, SendContext } from "./connection.ts";
import { noteFailure } from "./lifecycle.ts";
import type { RelayCore } from "./core.ts";
import { failureReportOwed } from "../session/reports.ts";
import { forwardedHeaders, isRelayUri, relayFailureReport, reportedRange } from "./forwarding.ts";
import { enqueueFrame, settled, wake } from "./outbound.ts";
import { reply, type ReqInfo } from "./reply.ts";
import { describe } from "./services.ts";

/** The fields a received SEND starts with (see {@linkcode SendContext}). */
export type ReceivedSendInit = Pick<
  SendContext,
  "origin" | "originTid" | "fr" | "messageId" | "range" | "reportTo" | "ourUri" | "complete"
>;

/** A SEND the relay received and forwards (§6.4.1). */
class ReceivedSend implements SendContext {
  readonly #core: RelayCore;
  readonly origin: Conn;
  readonly originTid: string;
  readonly fr: FailureReport;
  readonly messageId: string | undefined;
  readonly range: ByteRange | undefined;
  readonly reportTo: readonly MsrpUri[];
  readonly ourUri: MsrpUri;
  answered = false;
  failed = false;
  complete: boolean;
  stream: OutStream | undefined = undefined;

  constructor(core: RelayCore, init: ReceivedSendInit) {
    this.#core = core;
    this.origin = init.origin;
    this.originTid = init.originTid;
    this.fr = init.fr;
    this.messageId = init.messageId;
    this.range = init.range;
    this.reportTo = init.reportTo;
    this.ourUri = init.ourUri;
    this.complete = init.complete;
  }

  fail(status: number, comment: string, offset: number, length: number): void {
    sendFailed(this.#core, this, status, comment, offset, length);
  }

  forwarded(
    conn: Conn,
    tid: string,
    offset: number,
    length: number,
    stream: OutStream | undefined,
  ): PendingSend {
    return new ForwardedSend(this.#core, conn, tid, this, offset, length, stream);
  }
}

/**
 * Remembers a SEND the relay received, to answer and report on it.
 *
 * @param core the relay
 * @param init where it came from and how it asked to be reported on
 */
export function receivedSend(core: RelayCore, init: ReceivedSendInit): SendContext {
  return new ReceivedSend(core, init);
}

/** A forwarded SEND wire transaction waiting for the next hop's response (§6.4.1). */
class ForwardedSend implements PendingSend {
  readonly kind = "send";
  readonly core: RelayCore;
  readonly conn: Conn;
  tid: string;
  readonly ctx: SendContext;
  readonly offset: number;
  length: number;
  readonly stream: OutStream | undefined;

  constructor(
    core: RelayCore,
    conn: Conn,
    tid: string,
    ctx: SendContext,
    offset: number,
    length: number,
    stream: OutStream | undefined,
  ) {
    this.core = core;
    this.conn = conn;
    this.tid = tid;
    this.ctx = ctx;
    this.offset = offset;
    this.length = length;
    this.stream = stream;
  }

  onResponse(res: MsrpResponse): void {
    settled(this.conn); // the connection's window has room again
    sendAnswered(this.core, this, res);
  }

  onTimeout(): void {
    settled(this.conn);
    this.core.log(
      "warn",
      "hop-timeout",
      `no response to SEND ${this.tid} from the next hop`,
      this.conn,
    );
    // §6.4.1: "the relay MUST construct a REPORT with a status code of 408".
    sendFailed(this.core, this.ctx, 408, "Request Timeout", this.offset, this.length);
  }

  written(): void {
    written(this);
  }

  rekey(to: string): void {
    rekey(this, to);
  }

  lost(): void {
    sendFailed(this.core, this.ctx, 408, "next hop connection lost", this.offset, this.length);
  }
}

/** The fields of a forwarded AUTH or unknown method (see {@linkcode PendingRelayed}). */
export type ForwardedRelayedInit = Omit<
  PendingRelayed,
  "kind" | "onResponse" | "onTimeout" | "written" | "rekey" | "lost"
>;

/** A forwarded AUTH or unknown method whose response goes back along the path (§6.4.3). */
class ForwardedRelayed implements PendingRelayed {
  readonly kind = "relayed";
  readonly core: RelayCore;
  readonly conn: Conn;
  tid: string;
  readonly origin: Conn;
  readonly originTid: string;
  readonly method: string;
  readonly fromPath: readonly MsrpUri[];
  readonly ourUri: MsrpUri;
  readonly fr: FailureReport;
  readonly hadCredentials: boolean;
  readonly ownHops: number;

  constructor(core: RelayCore, init: ForwardedRelayedInit) {
    this.core = core;
    this.conn = init.conn;
    this.tid = init.tid;
    this.origin = init.origin;
    this.originTid = init.originTid;
    this.method = init.method;
    this.fromPath = init.fromPath;
    this.ourUri = init.ourUri;
    this.fr = init.fr;
    this.hadCredentials = init.hadCredentials;
    this.ownHops = init.ownHops;
  }

  onResponse(res: MsrpResponse): void {
    relayedAnswered(this.core, this, res);
  }

  onTimeout(): void {
    this.core.log("warn", "hop-timeout", `no response to ${this.method} ${this.tid}`, this.conn);
    relayedTimedOut(this.core, this);
  }

  written(): void {
    written(this);
  }

  rekey(to: string): void {
    rekey(this, to);
  }

  lost(): void {
    relayedTimedOut(this.core, this);
  }
}

/**
 * A forwarded AUTH or unknown method, to file in `init.conn.pending`.
 *
 * @param core the relay
 * @param init the request it forwards and where its answer goes
 */
export function forwardedRelayed(core: RelayCore, init: ForwardedRelayedInit): PendingRelayed {
  return new ForwardedRelayed(core, init);
}

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
  if (c.pending.get(res.tid) === undefined) {
    core.log("debug", "response-unmatched", `response ${res.tid} matches no transaction`, c);
    return;
  }
  // §6.4.3: "verify that the first URI in the To-Path corresponds to
  // itself; if not, the response SHOULD be dropped"; unparsable: MUST.
  const toPath = readToPath(c, res);
  if (toPath === undefined || !isRelayUri(toPath[0], core.identity)) {
    core.log("warn", "response-dropped", `response ${res.tid} is not addressed to the relay`, c);
    return;
  }
  c.pending.resolve(res);
}

function readToPath(c: Conn, res: MsrpResponse): readonly MsrpUri[] | undefined {
  try {
    return responseToPath(c, res);
  } catch {
    return undefined;
  }
}

/** The next hop answered a forwarded SEND (§6.4.1). */
function sendAnswered(core: RelayCore, p: PendingSend, res: MsrpResponse): void {
  if (res.status === 200) return;
  const c = p.conn;
  core.log("info", "downstream-error", `next hop answered ${res.status} ${res.comment}`, c);
  sendFailed(core, p.ctx, res.status, res.comment || "", p.offset, p.length);
  // RFC 4975 §7.3.2: a failure for a chunk being delivered aborts the message.
  const s = p.stream;
  if (s !== undefined && !s.finished && s.abortFlag === undefined) {
    s.abortFlag = "#";
    wake(c);
  }
}

/** The next hop answered a forwarded AUTH or unknown method: pass it back (§6.4.3). */
function relayedAnswered(core: RelayCore, p: PendingRelayed, res: MsrpResponse): void {
  const c = p.conn;
  const toPath = readToPath(p.conn, res)!; // checked by onResponse
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

/** A response's To-Path (`getToPath`), parsed once per distinct text in a row on `c`. */
function responseToPath(c: Conn, res: MsrpResponse): readonly MsrpUri[] | undefined {
  const text = res.headers.get(TO_PATH);
  return text === undefined ? undefined : c.responseToPaths.parse(text);
}

function samePath(a: readonly MsrpUri[], b: readonly MsrpUri[]): boolean {
  return a.length === b.length && a.every((u, i) => u.equals(b[i]));
}

/**
 * Starts the hop timer: "when the last byte of the message has been sent to
 * the next hop" (§6.4.1). A SEND with Failure-Report `no` waits for nothing.
 *
 * @param p the transaction whose last byte was written
 */
function written(p: PendingSend | PendingRelayed): void {
  if (p.kind === "send" && p.ctx.fr === "no") {
    p.conn.pending.forget(p.tid);
    return;
  }
  p.conn.pending.startTimer(p.tid, true);
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

/** Files a transaction under the new id the encoder gave it. */
function rekey(p: PendingSend | PendingRelayed, to: string): void {
  p.conn.pending.rename(p.tid, to);
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
  const w = c.out.currentWire;
  if (w === undefined) return;
  if (!ch.interrupted) {
    w.pending.rekey(ch.to);
    return;
  }
  const old = w.pending;
  old.length = ch.byteOffset - w.segStart;
  const next = new ForwardedSend(core, c, ch.to, old.ctx, old.offset + old.length, 0, old.stream);
  if (old.ctx.fr !== "no") c.pending.add(ch.to, next);
  w.segStart = ch.byteOffset;
  w.pending = next;
  old.written();
}

/**
 * Fails every transaction waiting on a connection that closed.
 *
 * @param c the connection, already marked closed
 */
export function failPending(c: Conn): void {
  // RFC 4975 §5.4: the transactions on a failed connection have failed.
  for (const p of c.pending.takeAll()) p.lost();
}
