/**
 * The writer of each relay connection: one output queue, one writer task
 * (RFC 4975 §7.1, §7.1.1; RFC 4976 §6.4, §6.4.1; RFC 7977 §5.3).
 *
 * Two kinds of things are written to a connection:
 *
 * - **Whole frames** the relay makes or forwards at once: responses,
 *   REPORTs, AUTH, short SENDs. They wait in `control` and always go first.
 * - **Streamed chunks** ({@linkcode OutStream}): a long SEND chunk the relay
 *   forwards piece by piece as it arrives. It goes out as an interruptible
 *   chunk (`Byte-Range: n-*\/total`, RFC 4975 §7.1.1), and the writer ends it
 *   with `+` whenever a whole frame is waiting ("SEND requests larger than
 *   2048 octets MUST be interrupted if the sender needs to send pending
 *   responses or REPORT requests"), when another chunk waits and this one has
 *   had its share (`fairnessQuantum`), or when it has no data while another
 *   one does. The rest goes later as a new transaction whose Byte-Range
 *   starts at the next byte: RFC 4976 §6.4.1 lets relays re-chunk.
 *
 * Every wire transaction of a forwarded SEND gets its pending entry
 * (`transactions.ts`) before its first byte is written, unless
 * Failure-Report is `no`, and its hop timer starts when its last byte has
 * been written (RFC 4976 §6.4.1).
 *
 * Bytes queued for a connection are counted; above
 * `maxBufferedBytesPerConnection` the connections feeding it wait in
 * {@linkcode room} before queueing more, so TCP flow control slows the
 * senders down (back-pressure).
 *
 * Transports that carry one whole frame per message (WebSocket, RFC 7977
 * §5.1) cannot be interrupted mid-frame: there the pieces waiting are sent
 * as one complete chunk per message, no larger than the configured
 * `websocket.maxMessageSize` (see {@linkcode alignedBodyBudget}); a longer
 * piece is split. RFC 7977 §5.1: "When large messages are sent by a
 * non-WebSocket peer, MSRP chunking ... MUST be used by the WebSocket MSRP
 * Servers to split the message into several smaller MSRP chunks."
 *
 * @module
 */

import { concatBytes } from "../wire/bytes.ts";
import { FrameWriter } from "../wire/encoder.ts";
import type { ContinuationFlag, Frame } from "../wire/frame.ts";
import type { HeaderList } from "../wire/header_list.ts";
import { newTransactionId } from "../wire/ids.ts";
import type { Conn } from "./connection.ts";
import type { RelayCore } from "./core.ts";
import { describe } from "./services.ts";
import { armTimer, type PendingSend, rekey, type SendContext, sendFailed } from "./transactions.ts";

const EMPTY = new Uint8Array(0);

/** A whole frame queued for a connection, already encoded. */
export interface ControlJob {
  readonly bytes: Uint8Array;
  readonly onWritten?: () => void;
}

/** The wire transaction a stream has open on its target's writer. */
export interface OpenWire {
  /** The id the FrameWriter knows the request by. */
  readonly callerTid: string;
  readonly headers: HeaderList;
  /** Body bytes given to the FrameWriter under this request. */
  written: number;
  /** Caller offset where the current wire id started (moves if the writer interrupts). */
  segStart: number;
  pending: PendingSend;
}

let nextStreamSeq = 0;

/** A SEND chunk being forwarded piece by piece to one connection. */
export class OutStream {
  readonly ctx: SendContext;
  /** The connection it is written to. */
  readonly target: Conn;
  /** The forwarded header fields; Byte-Range is rewritten per wire transaction. */
  readonly headers: HeaderList;
  readonly total: number | "*";
  pieces: Uint8Array[] = [];
  /** Bytes in `pieces`. */
  queued = 0;
  /** Body bytes received from the source so far. */
  received = 0;
  /** Body bytes in wire transactions already ended. */
  sent = 0;
  /** The source's end-line flag, once it came. */
  endFlag: ContinuationFlag | undefined;
  /** Set to end the chunk now with this flag and drop the rest. */
  abortFlag: ContinuationFlag | undefined;
  wire: OpenWire | undefined;
  finished = false;
  /** Creation order: chunks of one message are forwarded in this order. */
  readonly seq: number = nextStreamSeq++;
  /** On a frame-aligned target: the most body bytes per chunk (computed once). */
  bodyBudget: number | undefined;

  constructor(ctx: SendContext, target: Conn, headers: HeaderList, total: number | "*") {
    this.ctx = ctx;
    this.target = target;
    this.headers = headers;
    this.total = total;
  }

  ready(): boolean {
    return !this.finished &&
      (this.abortFlag !== undefined || this.pieces.length > 0 || this.endFlag !== undefined);
  }
}

/**
 * Whether `s` may take a turn on its connection: it has something to write,
 * and no earlier chunk of the same message from the same sender is still
 * waiting there. Taking turns is for different messages (RFC 4975 §7.1.1);
 * a message's own chunks go out in the order they came, so that the next
 * hop receives its bytes in order.
 */
function eligible(s: OutStream, streams: readonly OutStream[]): boolean {
  if (!s.ready()) return false;
  for (const o of streams) {
    if (
      o !== s && !o.finished && o.seq < s.seq && o.ctx.origin === s.ctx.origin &&
      o.ctx.messageId === s.ctx.messageId
    ) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Queueing

/** Encodes a whole frame with a fresh writer; `onTid` learns of a changed id (§7.1). */
function encodeWhole(frame: Frame, onTid?: (to: string) => void): Uint8Array {
  const parts: Uint8Array[] = [];
  new FrameWriter({
    coalesceLimit: Infinity,
    onTransactionIdChange: (ch) => onTid?.(ch.to),
  }).write(frame, (b) => parts.push(b));
  return concatBytes(parts);
}

/** The longest Byte-Range value a relay writes, for sizing chunks. */
const WIDEST_RANGE = "9999999999999999-9999999999999999/9999999999999999";
/** The smallest body budget per chunk, even when the header block is huge. */
const MIN_BODY_BUDGET = 2048;

/**
 * The most body bytes one SEND chunk with these header fields may carry on
 * `c` so that the whole frame fits in one WebSocket message of at most
 * `websocket.maxMessageSize` bytes (RFC 7977 §5.1: one chunk per message),
 * or `undefined` when `c` is not frame-aligned (any size goes on TCP). A
 * header block so long that less than 2048 body bytes would fit gets 2048
 * anyway: the message is then larger than the limit, but the body moves.
 *
 * @param core the relay
 * @param c the connection the chunk goes to
 * @param headers the forwarded header fields (Byte-Range is sized for the widest value)
 */
export function alignedBodyBudget(
  core: RelayCore,
  c: Conn,
  headers: HeaderList,
): number | undefined {
  if (c.transport?.frameAligned !== true) return undefined;
  const h = headers.clone();
  h.set("Byte-Range", WIDEST_RANGE);
  // The estimate writes one octet of body, which needs a Content-Type (§7.1);
  // a bodiless SEND has none, and then the budget just comes out smaller.
  if (!h.has("Content-Type")) h.set("Content-Type", "application/octet-stream");
  const overhead = encodeWhole({
    kind: "request",
    tid: "x".repeat(32), // the longest ident (RFC 4975 §9); ours are that long
    method: "SEND",
    headers: h,
    body: ONE_BYTE,
    offset: 0,
    flag: "$",
  }).length - ONE_BYTE.length;
  return Math.max(MIN_BODY_BUDGET, core.config.websocket.maxMessageSize - overhead);
}

const ONE_BYTE = new Uint8Array([0x78]);

/**
 * Queues a whole frame for a connection, ahead of streamed chunks (§7.1.1).
 *
 * @param core the relay
 * @param c the connection
 * @param frame the frame
 * @param opts `onTid` learns a changed transaction id, `onWritten` runs once
 *   the frame is written, `bodyBytes` counts as forwarded SEND body
 * @returns false when the connection is closed or the frame cannot be encoded
 */
export function enqueueFrame(
  core: RelayCore,
  c: Conn,
  frame: Frame,
  opts: { onTid?: (to: string) => void; onWritten?: () => void; bodyBytes?: number } = {},
): boolean {
  if (c.state === "closed") return false;
  let bytes: Uint8Array;
  try {
    bytes = encodeWhole(frame, opts.onTid);
  } catch (e) {
    core.log("error", "encode-failed", `cannot encode a frame: ${describe(e)}`, c, e);
    return false;
  }
  const bodyBytes = opts.bodyBytes ?? 0;
  const onWritten = opts.onWritten;
  c.control.push({
    bytes,
    onWritten: bodyBytes > 0 || onWritten !== undefined
      ? () => {
        core.counters.forwardedBodyBytes += bodyBytes;
        onWritten?.();
      }
      : undefined,
  });
  addBuffered(core, c, bytes.length);
  wake(c);
  return true;
}

/**
 * Wakes the writer task of a connection if it is waiting for work.
 *
 * @param c the connection
 */
export function wake(c: Conn): void {
  const w = c.wake;
  c.wake = undefined;
  w?.();
}

/**
 * Queues body bytes of a streamed chunk, once the target has room (back-pressure).
 *
 * @param core the relay
 * @param target the connection the chunk is forwarded to
 * @param s the chunk's stream
 * @param body the bytes
 */
export async function pushPiece(
  core: RelayCore,
  target: Conn,
  s: OutStream,
  body: Uint8Array,
): Promise<void> {
  await room(core, target);
  if (s.finished || s.abortFlag !== undefined || target.state === "closed") return;
  s.pieces.push(body);
  s.queued += body.length;
  s.received += body.length;
  addBuffered(core, target, body.length);
  wake(target);
}

/**
 * Waits until fewer than `maxBufferedBytesPerConnection` bytes are queued for `target`.
 *
 * @param core the relay
 * @param target the connection to write to
 */
export async function room(core: RelayCore, target: Conn): Promise<void> {
  const limit = core.config.limits.maxBufferedBytesPerConnection;
  while (target.state !== "closed" && target.buffered >= limit) {
    await new Promise<void>((resolve) => target.roomWaiters.push(resolve));
  }
}

function addBuffered(core: RelayCore, c: Conn, n: number): void {
  const counters = core.counters;
  c.buffered += n;
  counters.buffered += n;
  if (c.buffered > counters.peakConnBuffered) counters.peakConnBuffered = c.buffered;
  if (counters.buffered > counters.peakBuffered) counters.peakBuffered = counters.buffered;
}

function releaseBuffered(core: RelayCore, c: Conn, n: number): void {
  if (c.state === "closed") return;
  c.buffered -= n;
  core.counters.buffered -= n;
  if (
    c.buffered < core.config.limits.maxBufferedBytesPerConnection && c.roomWaiters.length > 0
  ) {
    const waiters = c.roomWaiters;
    c.roomWaiters = [];
    for (const w of waiters) w();
  }
}

/**
 * Drops everything queued for a connection being closed. A chunk that was
 * being streamed to it has failed from its first unwritten byte on (a 408,
 * RFC 4975 §5.4).
 *
 * @param core the relay
 * @param c the connection, already marked closed
 */
export function discardOutput(core: RelayCore, c: Conn): void {
  // Nothing queued here will be written.
  core.counters.buffered -= c.buffered;
  c.buffered = 0;
  c.control = [];
  const streams = c.streams;
  c.streams = [];
  c.active = undefined;
  for (const s of streams) {
    s.finished = true;
    s.pieces = [];
    s.queued = 0;
    const unsent = s.sent + (s.wire?.written ?? 0);
    s.wire = undefined;
    if (!s.ctx.complete || s.received > unsent) {
      sendFailed(core, s.ctx, 408, "next hop connection lost", unsent, s.received - unsent);
    }
  }
}

/**
 * Wakes the tasks waiting for room on a closed connection, and its writer
 * task, so that they see it closed.
 *
 * @param c the connection
 */
export function releaseWaiters(c: Conn): void {
  for (const w of c.roomWaiters) w();
  c.roomWaiters = [];
  wake(c);
}

// ---------------------------------------------------------------------------
// The writer task

async function write(core: RelayCore, c: Conn, bytes: Uint8Array): Promise<void> {
  c.writingSince = core.clock.now();
  c.traceOut?.push(bytes);
  await c.writer!.write(bytes);
  c.writingSince = undefined;
  c.lastActivity = core.clock.now();
}

/**
 * The writer task of a connection: whole frames first, then turns among
 * the chunks being streamed to it (RFC 4975 §7.1.1).
 *
 * @param core the relay
 * @param c the connection
 */
export async function pump(core: RelayCore, c: Conn): Promise<void> {
  const quantum = core.config.limits.fairnessQuantum;
  try {
    while (c.state !== "closed") {
      if (c.control.length > 0) {
        const a = c.active;
        if (a !== undefined && a.wire !== undefined) {
          // §7.1.1: interrupt the chunk for the waiting response or REPORT.
          await endWire(core, c, a, "+");
          continue;
        }
        const job = c.control.shift()!;
        await write(core, c, job.bytes);
        releaseBuffered(core, c, job.bytes.length);
        job.onWritten?.();
        continue;
      }
      if (c.closing) {
        core.close(c, c.closingReason);
        return;
      }
      const a = c.active;
      if (a !== undefined) {
        if (a.finished) {
          c.active = undefined;
          continue;
        }
        const rival = c.streams.some((s) => s !== a && eligible(s, c.streams));
        if (a.ready() && (!rival || c.activeBytes < quantum)) {
          await step(core, c, a);
          continue;
        }
        if (!rival) {
          await idle(c);
          continue;
        }
        // Another chunk waits and this one has had its turn, or has no
        // data now: interrupt it and let the other go (§7.1.1 fairness).
        if (a.wire !== undefined) await endWire(core, c, a, "+");
        const i = c.streams.indexOf(a);
        if (i >= 0) c.streams.push(...c.streams.splice(i, 1));
        c.active = undefined;
        continue;
      }
      const next = c.streams.find((s) => eligible(s, c.streams));
      if (next === undefined) {
        await idle(c);
        continue;
      }
      c.active = next;
      c.activeBytes = 0;
    }
  } catch (e) {
    if (c.state !== "closed") {
      core.log("info", "write-failed", `write failed: ${describe(e)}`, c, e);
      core.close(c, "write failed");
    }
  }
}

function idle(c: Conn): Promise<void> {
  return new Promise<void>((resolve) => {
    c.wake = resolve;
  });
}

/** Writes the next piece of a streamed chunk, or ends it. */
async function step(core: RelayCore, c: Conn, s: OutStream): Promise<void> {
  if (s.abortFlag !== undefined) {
    if (s.wire !== undefined) await endWire(core, c, s, s.abortFlag);
    finishStream(core, c, s);
    return;
  }
  if (c.transport?.frameAligned === true) return await alignedStep(core, c, s);
  const body = s.pieces.shift();
  if (body === undefined) {
    // The source ended and every byte went out: end the chunk with its flag
    // (a zero-length chunk when the last bytes left in an earlier one). An
    // interruption needs no chunk of its own.
    if (s.wire === undefined && s.endFlag === "+") {
      finishStream(core, c, s);
      return;
    }
    if (s.wire === undefined) await writeParts(core, c, openWire(core, c, s, EMPTY));
    await endWire(core, c, s, s.endFlag!);
    finishStream(core, c, s);
    return;
  }
  s.queued -= body.length;
  let parts: Uint8Array[];
  if (s.wire === undefined) parts = openWire(core, c, s, body);
  else {
    parts = [];
    const w = s.wire;
    c.currentWire = w;
    c.frameWriter!.write({
      kind: "request",
      tid: w.callerTid,
      method: "SEND",
      headers: w.headers,
      body,
      offset: w.written,
      flag: undefined,
    }, (b) => parts.push(b));
  }
  const w = s.wire!;
  w.written += body.length;
  w.pending.length = w.written - w.segStart;
  c.activeBytes += body.length;
  await writeParts(core, c, parts);
  releaseBuffered(core, c, body.length);
  core.counters.forwardedBodyBytes += body.length;
  if (s.pieces.length === 0 && s.endFlag !== undefined && s.wire !== undefined) {
    await endWire(core, c, s, s.endFlag);
    finishStream(core, c, s);
  }
}

async function writeParts(core: RelayCore, c: Conn, parts: readonly Uint8Array[]): Promise<void> {
  for (const p of parts) await write(core, c, p);
}

/** Starts a new wire transaction for a stream: new id, Byte-Range from the next byte, `*` end. */
function openWire(core: RelayCore, c: Conn, s: OutStream, body: Uint8Array): Uint8Array[] {
  const tid = newTransactionId();
  const start = (s.ctx.range?.start ?? 1) + s.sent;
  const headers = s.headers.clone();
  // §7.1.1: a chunk that may be interrupted has "*" as its range end.
  headers.set("Byte-Range", `${start}-*/${s.total}`);
  const pending: PendingSend = {
    kind: "send",
    conn: c,
    tid,
    ctx: s.ctx,
    offset: s.sent,
    length: 0,
    stream: s,
    timer: undefined,
    done: false,
  };
  // Registered before anything is written: the answer may come back fast.
  if (s.ctx.fr !== "no") c.pending.set(tid, pending);
  const w: OpenWire = { callerTid: tid, headers, written: 0, segStart: 0, pending };
  s.wire = w;
  c.currentWire = w;
  core.counters.forwardedRequests++;
  const parts: Uint8Array[] = [];
  c.frameWriter!.write({
    kind: "request",
    tid,
    method: "SEND",
    headers,
    body,
    offset: 0,
    flag: undefined,
  }, (b) => parts.push(b));
  return parts;
}

/** Writes the end-line of a stream's open wire transaction and starts its timer. */
async function endWire(
  core: RelayCore,
  c: Conn,
  s: OutStream,
  flag: ContinuationFlag,
): Promise<void> {
  const w = s.wire!;
  const parts: Uint8Array[] = [];
  c.currentWire = w;
  c.frameWriter!.write({
    kind: "request",
    tid: w.callerTid,
    method: "SEND",
    headers: w.headers,
    body: EMPTY,
    offset: w.written,
    flag,
  }, (b) => parts.push(b));
  c.currentWire = undefined;
  s.sent += w.written;
  s.wire = undefined;
  await writeParts(core, c, parts);
  armTimer(core, w.pending);
}

/**
 * Takes up to `budget` bytes from the front of a stream's pieces: several
 * short pieces join, a long one is split.
 */
function takeBody(s: OutStream, budget: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let n = 0;
  while (n < budget && s.pieces.length > 0) {
    const p = s.pieces[0];
    if (n + p.length <= budget) {
      s.pieces.shift();
      parts.push(p);
      n += p.length;
    } else {
      const k = budget - n;
      parts.push(p.subarray(0, k));
      s.pieces[0] = p.subarray(k);
      n += k;
    }
  }
  s.queued -= n;
  return parts.length === 0 ? EMPTY : concatBytes(parts, n);
}

/**
 * For transports that carry one whole frame per message (WebSocket,
 * RFC 7977 §5.1): the bytes waiting go out as one complete chunk, at most
 * {@linkcode alignedBodyBudget} long; the rest waits for the next turn.
 */
async function alignedStep(core: RelayCore, c: Conn, s: OutStream): Promise<void> {
  s.bodyBudget ??= alignedBodyBudget(core, c, s.headers) ?? Infinity;
  const body = takeBody(s, s.bodyBudget);
  const last = s.pieces.length === 0 && s.endFlag !== undefined;
  const flag: ContinuationFlag = last ? s.endFlag! : "+";
  const start = (s.ctx.range?.start ?? 1) + s.sent;
  const end = start + body.length - 1;
  const headers = s.headers.clone();
  const total = s.total;
  headers.set(
    "Byte-Range",
    `${start}-${typeof total === "number" && end > total ? "*" : end}/${total}`,
  );
  const tid = newTransactionId();
  const p: PendingSend = {
    kind: "send",
    conn: c,
    tid,
    ctx: s.ctx,
    offset: s.sent,
    length: body.length,
    stream: s,
    timer: undefined,
    done: false,
  };
  if (s.ctx.fr !== "no") c.pending.set(tid, p);
  const bytes = encodeWhole(
    { kind: "request", tid, method: "SEND", headers, body, offset: 0, flag },
    (to) => rekey(p, to),
  );
  s.sent += body.length;
  c.activeBytes += body.length; // its share of the turn (§7.1.1), as in step()
  core.counters.forwardedRequests++;
  await write(core, c, bytes);
  releaseBuffered(core, c, body.length);
  core.counters.forwardedBodyBytes += body.length;
  armTimer(core, p);
  if (last) finishStream(core, c, s);
}

function finishStream(core: RelayCore, c: Conn, s: OutStream): void {
  s.finished = true;
  if (s.queued > 0) {
    releaseBuffered(core, c, s.queued);
    s.queued = 0;
  }
  s.pieces = [];
  const i = c.streams.indexOf(s);
  if (i >= 0) c.streams.splice(i, 1);
  if (c.active === s) c.active = undefined;
}
