/**
 * Forwarding a request to its next hop (RFC 4976 §6.4, §6.4.1, §6.4.2;
 * RFC 4975 §7.1, §7.1.1, §7.1.2).
 *
 * `forwarding.ts` decides whether and where a request goes; this module
 * sends it there. The relay moves its URI from To-Path to From-Path and
 * sends the request on under a new transaction id (§6.4):
 *
 * - **SEND** is answered here, hop by hop (§6.4.1): 200 (with
 *   Failure-Report `yes`) once the whole chunk has arrived. A short chunk
 *   is forwarded whole. A long one comes out of the parser in pieces, and
 *   each piece is forwarded as it arrives, through an `OutStream` on the
 *   next hop's writer (`outbound.ts`), so that a 1 GB chunk needs no more
 *   memory than a few pieces.
 * - **REPORT** is forwarded and forgotten: it is never answered
 *   (RFC 4975 §7.1.2).
 * - **AUTH and unknown methods** are forwarded, and their response is
 *   passed back when it comes (§6.4.2, §6.4.3; `transactions.ts`). With
 *   `blockUnknownMethods`, unknown methods get 501 instead (§6.4.2).
 *
 * @module
 */

import type { ContinuationFlag, MsrpRequest } from "../wire/frame.ts";
import type { ByteRange } from "../wire/headers.ts";
import { newTransactionId } from "../wire/ids.ts";
import { type Conn, type Incoming, OutStream, type SendContext } from "./connection.ts";
import type { ConnectionTable } from "./connection_table.ts";
import type { RelayCore } from "./core.ts";
import { forwardedHeaders, type RouteDecision } from "./forwarding.ts";
import { forwardedSendBytes } from "./forward_bytes.ts";
import { noteFailure, succeeded } from "./lifecycle.ts";
import {
  addStream,
  alignedBodyBudget,
  enqueueEncoded,
  enqueueFrame,
  pushPiece,
  room,
  wake,
} from "./outbound.ts";
import { reply, type ReqInfo } from "./reply.ts";
import { ctxInfo, forwardedRelayed, receivedSend } from "./transactions.ts";

/**
 * Forwards a request the relay may forward (§6.4): picks the connection to
 * the next hop, then sends the request on, whole or piece by piece.
 *
 * @param core the relay
 * @param table the relay's connections
 * @param c the connection the request came over
 * @param req the request, or its first piece
 * @param d the routing decision
 * @param info what is needed to answer it
 * @param range its Byte-Range, for a SEND
 * @returns a promise when it must wait for room on the next hop's
 *   connection (back-pressure), otherwise nothing: no promise per frame
 */
export function forward(
  core: RelayCore,
  table: ConnectionTable,
  c: Conn,
  req: MsrpRequest,
  d: Extract<RouteDecision, { kind: "toward-client" | "from-client" }>,
  info: ReqInfo,
  range: ByteRange | undefined,
): Promise<void> | void {
  const method = req.method;
  const whole = req.flag !== undefined;
  if (
    method !== "SEND" && method !== "REPORT" && method !== "AUTH" &&
    core.config.blockUnknownMethods
  ) {
    // §6.4.2: "An MSRP node MAY be configured to block unknown methods".
    core.log("info", "forward-refused", `${method} ${req.tid}: unknown method blocked (501)`, c);
    reply(core, c, info, { status: 501 });
    noteFailure(core, c, false);
    return;
  }
  const target = d.kind === "toward-client"
    ? table.clientTarget(d.registration, d.toPath[0])
    : table.hopTarget(d.toPath[0]);
  succeeded(core, c);
  if (d.kind === "toward-client") table.learn(c, info.fromPath[0]);

  if (method === "SEND") {
    const ctx = receivedSend(core, {
      origin: c,
      originTid: req.tid,
      fr: info.fr,
      messageId: info.messageId,
      range,
      reportTo: info.fromPath,
      ourUri: d.ourUri,
      complete: whole,
    });
    if (target === undefined) {
      ctx.fail(408, "next hop unreachable", 0, req.body?.length ?? 0);
      if (!whole) {
        c.incoming = { tid: req.tid, discard: true, stream: undefined, target, ctx };
      }
      return;
    }
    // RFC 7977 §5.1: a chunk too long for one WebSocket message is split.
    const budget = target.transport?.frameAligned === true
      ? alignedBodyBudget(core, target, forwardedHeaders(req.headers, d.toPath, d.fromPath))
      : undefined;
    if (whole && (budget === undefined || (req.body?.length ?? 0) <= budget)) {
      const wait = room(core, target);
      if (wait !== undefined) {
        return wait.then(() => forwardWholeSend(core, c, target, req, d, info, ctx));
      }
      forwardWholeSend(core, c, target, req, d, info, ctx);
      return;
    }
    // A long chunk: forward it piece by piece as it arrives. A whole one
    // that is too long for the target's messages is all in already.
    const declared = range;
    const stream = new OutStream(
      ctx,
      target,
      forwardedHeaders(req.headers, d.toPath, d.fromPath),
      declared?.total ?? (whole ? req.body?.length ?? 0 : "*"),
    );
    ctx.stream = stream;
    addStream(target, stream);
    logForwarded(
      core,
      c,
      req,
      target,
      d,
      whole ? "re-chunked to fit its messages" : "in pieces as it arrives",
    );
    const inc: Incoming = { tid: req.tid, discard: false, stream, target, ctx };
    if (!whole) c.incoming = inc;
    // Not complete until endChunk: if the target goes while we wait for room,
    // its discarded output is reported as a failure (408), never a bare 200.
    ctx.complete = false;
    if (req.body !== null && req.body.length > 0) {
      const wait = pushPiece(core, target, stream, req.body);
      if (wait !== undefined) {
        return whole ? wait.then(() => endChunk(core, c, inc, req.flag!)) : wait;
      }
    }
    if (whole) endChunk(core, c, inc, req.flag!);
    return;
  }

  if (target === undefined) {
    core.log("warn", "forward-failed", `${method} ${req.tid}: next hop unreachable`, c);
    if (method !== "REPORT") reply(core, c, info, { status: 408 });
    return;
  }
  const wait = room(core, target);
  if (wait !== undefined) return wait.then(() => forwardOther(core, c, target, req, d, info));
  forwardOther(core, c, target, req, d, info);
}

/** Forwards a REPORT, an AUTH or another method once the target has room (§6.4.2, §6.4.3). */
function forwardOther(
  core: RelayCore,
  c: Conn,
  target: Conn,
  req: MsrpRequest,
  d: Extract<RouteDecision, { kind: "toward-client" | "from-client" }>,
  info: ReqInfo,
): void {
  const method = req.method;
  const tid = newTransactionId();
  const frame: MsrpRequest = {
    ...req,
    tid,
    headers: forwardedHeaders(req.headers, d.toPath, d.fromPath),
  };
  if (target.state === "closed") {
    if (method !== "REPORT") reply(core, c, info, { status: 408 });
    return;
  }
  if (method === "REPORT") {
    // REPORTs get no response (RFC 4975 §7.1.2): nothing to wait for.
    enqueueFrame(core, target, frame);
    core.counters.forwardedRequests++;
    logForwarded(core, c, req, target, d, "as", tid);
    return;
  }
  // AUTH and unknown methods are answered end to end (§6.4.2, §6.4.3).
  const p = forwardedRelayed(core, {
    conn: target,
    tid,
    origin: c,
    originTid: req.tid,
    method,
    fromPath: info.fromPath,
    ourUri: d.ourUri,
    fr: info.fr,
    hadCredentials: req.headers.has("Authorization"),
    ownHops: d.fromPath.length - info.fromPath.length,
  });
  target.pending.add(tid, p);
  const queued = enqueueFrame(core, target, frame, { pending: p });
  if (!queued) {
    core.log("info", "forward-failed", `${method} ${req.tid}: next hop connection lost`, c);
    target.pending.forget(p.tid);
    reply(core, c, info, { status: 408 });
    return;
  }
  core.counters.forwardedRequests++;
  logForwarded(core, c, req, target, d, "as", tid);
}

/** The verbose log line of a request passed on to its next hop (RFC 4976 §6.4). */
function logForwarded(
  core: RelayCore,
  c: Conn,
  req: MsrpRequest,
  target: Conn,
  d: Extract<RouteDecision, { kind: "toward-client" | "from-client" }>,
  how: string,
  tid?: string,
): void {
  if (!core.debug) return; // no message built per forwarded request for nobody
  core.log(
    "debug",
    "forwarded",
    `${req.method} ${req.tid} to ${d.toPath[0]} on conn=${target.id} ${how}${
      tid === undefined ? "" : ` ${tid}`
    }`,
    c,
  );
}

/**
 * Forwards a whole SEND chunk once the target has room, and answers it
 * (§6.4.1: "MUST respond with a final response immediately"; the 200 means
 * the chunk was received, not that it was forwarded).
 */
function forwardWholeSend(
  core: RelayCore,
  c: Conn,
  target: Conn,
  req: MsrpRequest,
  d: Extract<RouteDecision, { kind: "toward-client" | "from-client" }>,
  info: ReqInfo,
  ctx: SendContext,
): void {
  queueWholeSend(core, target, req, d, ctx);
  if (!ctx.failed && !ctx.answered && ctx.fr === "yes") {
    ctx.answered = true;
    reply(core, c, info, { status: 200 });
  }
}

function queueWholeSend(
  core: RelayCore,
  target: Conn,
  req: MsrpRequest,
  d: Extract<RouteDecision, { kind: "toward-client" | "from-client" }>,
  ctx: SendContext,
): void {
  const length = req.body?.length ?? 0;
  if (target.state === "closed") {
    ctx.fail(408, "next hop connection lost", 0, length);
    return;
  }
  const tid = newTransactionId();
  const p = ctx.forwarded(target, tid, 0, length, undefined);
  if (ctx.fr !== "no") target.pending.add(tid, p);
  // Most whole chunks are written straight into their bytes (`forward_bytes.ts`).
  const bytes = forwardedSendBytes(target, req, tid, d.toPath, d.fromPath);
  const queued = bytes !== undefined
    ? enqueueEncoded(core, target, bytes, { pending: p, bodyBytes: length })
    : enqueueFrame(core, target, {
      ...req,
      tid,
      headers: forwardedHeaders(req.headers, d.toPath, d.fromPath),
    }, { pending: p, bodyBytes: length });
  if (!queued) {
    target.pending.forget(p.tid);
    ctx.fail(408, "next hop connection lost", 0, length);
    return;
  }
  core.counters.forwardedRequests++;
  logForwarded(core, ctx.origin, req, target, d, "as", tid);
}

/**
 * The next piece of a chunk being received on `c`: forward it, and answer
 * the SEND once its last piece is in (§6.4.1).
 *
 * @param core the relay
 * @param c the connection it arrived on
 * @param inc the chunk being received
 * @param piece the piece
 * @returns a promise when it must wait for room on the next hop's connection
 */
export function onPiece(
  core: RelayCore,
  c: Conn,
  inc: Incoming,
  piece: MsrpRequest,
): Promise<void> | void {
  const last = piece.flag !== undefined;
  if (last) c.incoming = undefined;
  const ctx = inc.ctx;
  const s = inc.stream;
  if (inc.discard || ctx === undefined || s === undefined || ctx.failed || s.finished) return;
  if (piece.body !== null && piece.body.length > 0) {
    const wait = pushPiece(core, inc.target!, s, piece.body);
    if (wait !== undefined) {
      return last ? wait.then(() => endChunk(core, c, inc, piece.flag!)) : wait;
    }
  }
  if (!last) return;
  endChunk(core, c, inc, piece.flag!);
}

/** The last byte of a chunk forwarded as a stream is in: end it there, answer 200 (§6.4.1). */
function endChunk(
  core: RelayCore,
  c: Conn,
  inc: Incoming,
  flag: ContinuationFlag,
): void {
  const ctx = inc.ctx!;
  const s = inc.stream!;
  ctx.complete = true;
  if (!s.finished && s.endFlag === undefined) {
    s.endFlag = flag;
    wake(inc.target!);
  }
  if (!ctx.failed && !ctx.answered && ctx.fr === "yes") {
    ctx.answered = true;
    reply(core, c, ctxInfo(ctx), { status: 200 });
  }
}

/**
 * A chunk that will get no more pieces: its forwarded part ends interrupted (`+`).
 *
 * @param inc the chunk being received
 */
export function abandon(inc: Incoming): void {
  const s = inc.stream;
  if (s === undefined || s.finished || s.endFlag !== undefined) return;
  s.endFlag = "+";
  if (inc.target !== undefined) wake(inc.target);
}
