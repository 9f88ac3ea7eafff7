/**
 * The writer of each relay connection: one output queue (`OutQueue`, declared in
 * `connection.ts` as `Conn.out`), one writer task (RFC 4975 §7.1, §7.1.1; RFC 4976 §6.4,
 * §6.4.1; RFC 7977 §5.3).
 *
 * What goes next is decided by the same rules as an endpoint's writer,
 * `FairQueue` (`lib/session/fair_queue.ts`): control frames first,
 * fair turns between messages, bounded bytes in flight. Three kinds of
 * things are written to a connection:
 *
 * - **Control frames** the relay makes or forwards at once: responses,
 *   REPORTs, AUTH and other methods. They always go first.
 * - **Whole SEND chunks**, forwarded at once: queued in the flow of their
 *   message (sender connection and Message-ID), so that a chat message
 *   overtakes the queued chunks of a file (§7.1.1: "the device SHOULD
 *   implement some scheme to alternate between them").
 * - **Streamed chunks** ({@linkcode OutStream}): a long SEND chunk the relay
 *   forwards piece by piece as it arrives, in its message's flow too. It
 *   goes out as an interruptible chunk (`Byte-Range: n-*\/total`, RFC 4975
 *   §7.1.1), and the writer ends it with `+` whenever a control frame is
 *   waiting ("SEND requests larger than 2048 octets MUST be interrupted if
 *   the sender needs to send pending responses or REPORT requests"), when
 *   another message waits and this one has had its share
 *   (`fairnessQuantum`), when it has no data while another one does, or when
 *   `maxUnansweredBytesPerConnection` octets sent on the connection wait for
 *   the next hop's 200. The rest goes later as a new transaction whose
 *   Byte-Range starts at the next byte: RFC 4976 §6.4.1 lets relays
 *   re-chunk. The chunks of one message go in the order they came.
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

import { WINDOW_MIN_BYTES, WINDOW_TARGET_MS } from "../session/fair_queue.ts";
import { concatBytes, gatherBytes } from "../wire/bytes.ts";
import { FrameWriter } from "../wire/encoder.ts";
import type { ContinuationFlag, Frame } from "../wire/frame.ts";
import type { HeaderList } from "../wire/header_list.ts";
import { newTransactionId } from "../wire/ids.ts";
import {
  type Conn,
  type ControlJob,
  type OpenWire,
  OutStream,
  type Pending,
  type SendContext,
  WholeSend,
  WriteBatch,
} from "./connection.ts";
import type { RelayCore } from "./core.ts";
import { describe } from "./services.ts";

const EMPTY = new Uint8Array(0);

/**
 * The flow a SEND chunk belongs to: its message, from its sender. Taking
 * turns is for different messages (RFC 4975 §7.1.1); a message's own chunks
 * go out in the order they came, so that the next hop receives its bytes in
 * order.
 */
function flowKey(ctx: SendContext): string {
  return `${ctx.origin.id} ${ctx.messageId ?? ""}`;
}

/**
 * Queues a streamed chunk for its target connection, in its message's flow.
 *
 * @param target the connection it is forwarded to
 * @param s the stream
 */
export function addStream(target: Conn, s: OutStream): void {
  target.out.queue.add(flowKey(s.ctx), s);
  wake(target);
}

// ---------------------------------------------------------------------------
// Queueing

/** The transaction whose frame `wholeWriter` encodes now, re-keyed if its id changes (§7.1). */
let encoding: Pending | undefined;
/** One writer for all whole frames: it keeps no state between them. */
const wholeWriter = new FrameWriter({
  coalesceLimit: Infinity,
  onTransactionIdChange: (ch) => {
    if (encoding !== undefined) encoding.rekey(ch.to);
  },
});

/** Encodes a whole frame in one buffer; `p` is re-keyed if the id changes (§7.1). */
function encodeWhole(frame: Frame, p?: Pending): Uint8Array {
  const parts: Uint8Array[] = [];
  encoding = p;
  try {
    wholeWriter.write(frame, (b) => parts.push(b));
  } finally {
    encoding = undefined;
  }
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
 * Queues a whole frame for a connection: a forwarded SEND in its message's
 * flow, anything else ahead of all SEND chunks (§7.1.1).
 *
 * @param core the relay
 * @param c the connection
 * @param frame the frame
 * @param opts `pending`: the forwarded transaction the frame carries,
 *   re-keyed if the encoder changes its id (§7.1) and its hop timer started
 *   once written (§6.4.1); `bodyBytes` counts as forwarded SEND body
 * @returns false when the connection is closed or the frame cannot be encoded
 */
export function enqueueFrame(
  core: RelayCore,
  c: Conn,
  frame: Frame,
  opts: { pending?: Pending; bodyBytes?: number } = {},
): boolean {
  if (c.state === "closed") return false;
  let bytes: Uint8Array;
  try {
    bytes = encodeWhole(frame, opts.pending);
  } catch (e) {
    core.log("error", "encode-failed", `cannot encode a frame: ${describe(e)}`, c, e);
    return false;
  }
  return enqueueEncoded(core, c, bytes, opts);
}

/**
 * Queues a whole frame already encoded (a relay's 200, `reply.ts`; a
 * forwarded SEND, `forward_bytes.ts`): a forwarded SEND in its message's
 * flow, anything else ahead of all SEND chunks (§7.1.1).
 *
 * @param core the relay
 * @param c the connection
 * @param bytes the frame's bytes
 * @param opts as for {@linkcode enqueueFrame}
 * @returns false when the connection is closed
 */
export function enqueueEncoded(
  core: RelayCore,
  c: Conn,
  bytes: Uint8Array,
  opts: { pending?: Pending; bodyBytes?: number } = {},
): boolean {
  if (c.state === "closed") return false;
  const job: ControlJob = { bytes, bodyBytes: opts.bodyBytes ?? 0, pending: opts.pending };
  const p = opts.pending;
  // A forwarded SEND takes turns with the other messages; the rest goes first.
  if (p?.kind === "send") c.out.queue.add(flowKey(p.ctx), new WholeSend(job));
  else c.out.queue.control(job);
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
  const out = c.out;
  const w = out.wake;
  out.wake = undefined;
  w?.();
}

/**
 * Queues body bytes of a streamed chunk, once the target has room (back-pressure).
 *
 * @param core the relay
 * @param target the connection the chunk is forwarded to
 * @param s the chunk's stream
 * @param body the bytes
 * @returns a promise when it has to wait for room, otherwise nothing (no
 *   promise per piece while the target keeps up)
 */
export function pushPiece(
  core: RelayCore,
  target: Conn,
  s: OutStream,
  body: Uint8Array,
): Promise<void> | undefined {
  const wait = room(core, target);
  if (wait !== undefined) return wait.then(() => queuePiece(core, target, s, body));
  queuePiece(core, target, s, body);
}

function queuePiece(core: RelayCore, target: Conn, s: OutStream, body: Uint8Array): void {
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
 * @returns a promise to wait for, or nothing when there is room now
 */
export function room(core: RelayCore, target: Conn): Promise<void> | undefined {
  if (
    target.state === "closed" ||
    target.out.buffered < core.config.limits.maxBufferedBytesPerConnection
  ) {
    return undefined;
  }
  return waitForRoom(core, target);
}

async function waitForRoom(core: RelayCore, target: Conn): Promise<void> {
  const limit = core.config.limits.maxBufferedBytesPerConnection;
  const out = target.out;
  while (target.state !== "closed" && out.buffered >= limit) {
    await new Promise<void>((resolve) => out.roomWaiters.push(resolve));
  }
}

function addBuffered(core: RelayCore, c: Conn, n: number): void {
  const counters = core.counters;
  const out = c.out;
  out.buffered += n;
  counters.buffered += n;
  if (out.buffered > counters.peakConnBuffered) counters.peakConnBuffered = out.buffered;
  if (counters.buffered > counters.peakBuffered) counters.peakBuffered = counters.buffered;
}

function releaseBuffered(core: RelayCore, c: Conn, n: number): void {
  if (c.state === "closed") return;
  const out = c.out;
  out.buffered -= n;
  core.counters.buffered -= n;
  if (
    out.buffered < core.config.limits.maxBufferedBytesPerConnection && out.roomWaiters.length > 0
  ) {
    const waiters = out.roomWaiters;
    out.roomWaiters = [];
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
  const out = c.out;
  core.counters.buffered -= out.buffered;
  out.buffered = 0;
  out.batch = new WriteBatch();
  const streams: OutStream[] = [];
  for (const item of out.queue.all()) if (item instanceof OutStream) streams.push(item);
  out.queue.clear();
  for (const s of streams) {
    s.finished = true;
    s.pieces = [];
    s.queued = 0;
    const unsent = s.sent + (s.wire?.written ?? 0);
    s.wire = undefined;
    if (!s.ctx.complete || s.received > unsent) {
      s.ctx.fail(408, "next hop connection lost", unsent, s.received - unsent);
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
  const out = c.out;
  for (const w of out.roomWaiters) w();
  out.roomWaiters = [];
  wake(c);
}

// ---------------------------------------------------------------------------
// The writer task

/** Small frames are joined into buffers of up to this many bytes for one write. */
const GATHER_BYTES = 65536;

/** Adds encoded bytes to the connection's next write. */
function write(c: Conn, bytes: Uint8Array): void {
  const out = c.out;
  out.traceOut?.push(bytes);
  const b = out.batch;
  b.parts.push(bytes);
  b.bytes += bytes.length;
}

/** Writes what was gathered, then releases its bytes and completes its frames. */
async function flush(core: RelayCore, c: Conn): Promise<void> {
  const out = c.out;
  const b = out.batch;
  if (b.parts.length === 0 && b.jobs.length === 0 && b.ends.length === 0) return;
  out.batch = new WriteBatch();
  out.writingSince = core.clock.now();
  const parts = c.transport?.frameAligned === true ? b.parts : gatherBytes(b.parts, GATHER_BYTES);
  // The transport's fast path when it has one: no promise unless it must wait.
  const t = c.transport!;
  if (t.writeChunk !== undefined) {
    for (const p of parts) {
      const wait = t.writeChunk(p);
      if (wait !== undefined) await wait;
    }
  } else {
    for (const p of parts) await out.writer!.write(p);
  }
  out.writingSince = undefined;
  c.peer.lastActivity = core.clock.now();
  let released = b.body;
  for (const job of b.jobs) released += job.bytes.length;
  releaseBuffered(core, c, released);
  core.counters.forwardedBodyBytes += b.body;
  for (const job of b.jobs) {
    core.counters.forwardedBodyBytes += job.bodyBytes;
    job.pending?.written();
  }
  for (const p of b.ends) p.written();
}

/**
 * The writer task of a connection: control frames first, then turns among
 * the messages whose chunks wait for it, in the order {@linkcode FairQueue}
 * decides (RFC 4975 §7.1.1). What is ready is encoded into the connection's
 * {@linkcode WriteBatch} and written at once.
 *
 * @param core the relay
 * @param c the connection
 */
export async function pump(core: RelayCore, c: Conn): Promise<void> {
  const out = c.out;
  const q = out.queue;
  const limits = core.config.limits;
  q.quantum = limits.fairnessQuantum;
  q.window = limits.maxUnansweredBytesPerConnection;
  q.countWindowInTime({
    targetMs: WINDOW_TARGET_MS,
    min: WINDOW_MIN_BYTES,
    now: () => core.clock.now(),
  });
  try {
    while (c.state !== "closed") {
      if (out.batch.bytes >= GATHER_BYTES) {
        await flush(core, c);
        continue;
      }
      const step = q.next();
      if (step === "control") {
        const job = q.takeControl();
        write(c, job.bytes);
        out.batch.jobs.push(job);
        continue;
      }
      if (step === "end" && q.controlWaiting > 0) {
        // §7.1.1: interrupt the chunk for the waiting response or REPORT.
        endWire(c, q.active as OutStream, "+");
        continue;
      }
      if (c.closing) {
        await flush(core, c);
        if (q.controlWaiting > 0) continue;
        core.close(c, c.closingReason);
        return;
      }
      if (step === "end") {
        // Another message waits and this one has had its turn, or has no
        // data now, or the window is full: interrupt it (§7.1.1).
        endWire(c, q.active as OutStream, "+");
        continue;
      }
      if (step === "piece") {
        const item = q.active!;
        if (item instanceof WholeSend) writeWhole(c, item);
        else writePiece(core, c, item);
        continue;
      }
      await idle(core, c);
    }
  } catch (e) {
    if (c.state !== "closed") {
      core.log("info", "write-failed", `write failed: ${describe(e)}`, c, e);
      core.close(c, "write failed");
    }
  }
}

/** Nothing more can go now: write what was gathered, else wait for work. */
async function idle(core: RelayCore, c: Conn): Promise<void> {
  const out = c.out;
  if (out.batch.parts.length > 0) return await flush(core, c);
  await new Promise<void>((resolve) => {
    out.wake = resolve;
  });
}

/**
 * A response to a forwarded SEND came (or its timer ran out): the
 * connection's window may have room again.
 *
 * @param c the connection the SEND went out on
 */
export function settled(c: Conn): void {
  if (c.out.queue.inFlight > 0) wake(c);
}

/** Writes a whole SEND chunk; its hop timer starts once written (§6.4.1). */
function writeWhole(c: Conn, item: WholeSend): void {
  const out = c.out;
  const job = item.job;
  write(c, job.bytes);
  out.batch.jobs.push(job);
  out.queue.wrote(job.bodyBytes, true, job.pending);
  out.queue.remove(item);
}

/** Writes the next piece of a streamed chunk, or ends it. */
function writePiece(core: RelayCore, c: Conn, s: OutStream): void {
  if (s.abortFlag !== undefined) {
    if (s.wire !== undefined) endWire(c, s, s.abortFlag);
    finishStream(core, c, s);
    return;
  }
  if (c.transport?.frameAligned === true) return alignedStep(core, c, s);
  const body = s.pieces.shift();
  if (body === undefined) {
    // The source ended and every byte went out: end the chunk with its flag
    // (a zero-length chunk when the last bytes left in an earlier one). An
    // interruption needs no chunk of its own.
    if (s.wire === undefined && s.endFlag === "+") {
      finishStream(core, c, s);
      return;
    }
    if (s.wire === undefined) writeParts(c, openWire(core, c, s, EMPTY));
    endWire(c, s, s.endFlag!);
    finishStream(core, c, s);
    return;
  }
  s.queued -= body.length;
  let parts: Uint8Array[];
  if (s.wire === undefined) parts = openWire(core, c, s, body);
  else {
    parts = [];
    const w = s.wire;
    c.out.currentWire = w;
    c.out.frameWriter!.write({
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
  c.out.queue.wrote(body.length, false);
  writeParts(c, parts);
  c.out.batch.body += body.length;
  if (s.pieces.length === 0 && s.endFlag !== undefined && s.wire !== undefined) {
    endWire(c, s, s.endFlag);
    finishStream(core, c, s);
  }
}

function writeParts(c: Conn, parts: readonly Uint8Array[]): void {
  for (const p of parts) write(c, p);
}

/** Starts a new wire transaction for a stream: new id, Byte-Range from the next byte, `*` end. */
function openWire(core: RelayCore, c: Conn, s: OutStream, body: Uint8Array): Uint8Array[] {
  const tid = newTransactionId();
  const start = (s.ctx.range?.start ?? 1) + s.sent;
  const headers = s.headers.clone();
  // §7.1.1: a chunk that may be interrupted has "*" as its range end.
  headers.set("Byte-Range", `${start}-*/${s.total}`);
  const pending = s.ctx.forwarded(c, tid, s.sent, 0, s);
  // Registered before anything is written: the answer may come back fast.
  if (s.ctx.fr !== "no") c.pending.add(tid, pending);
  const w: OpenWire = { callerTid: tid, headers, written: 0, segStart: 0, pending };
  s.wire = w;
  c.out.currentWire = w;
  core.counters.forwardedRequests++;
  const parts: Uint8Array[] = [];
  c.out.frameWriter!.write({
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

/** Writes the end-line of a stream's open wire transaction; its timer starts once written. */
function endWire(c: Conn, s: OutStream, flag: ContinuationFlag): void {
  const w = s.wire!;
  const parts: Uint8Array[] = [];
  c.out.currentWire = w;
  c.out.frameWriter!.write({
    kind: "request",
    tid: w.callerTid,
    method: "SEND",
    headers: w.headers,
    body: EMPTY,
    offset: w.written,
    flag,
  }, (b) => parts.push(b));
  c.out.currentWire = undefined;
  s.sent += w.written;
  s.wire = undefined;
  writeParts(c, parts);
  c.out.batch.ends.push(w.pending);
  c.out.queue.wrote(0, true, w.pending);
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
function alignedStep(core: RelayCore, c: Conn, s: OutStream): void {
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
  const p = s.ctx.forwarded(c, tid, s.sent, body.length, s);
  if (s.ctx.fr !== "no") c.pending.add(tid, p);
  const bytes = encodeWhole(
    { kind: "request", tid, method: "SEND", headers, body, offset: 0, flag },
    p,
  );
  s.sent += body.length;
  c.out.queue.wrote(body.length, true, p); // its share of the turn (§7.1.1), and in flight
  core.counters.forwardedRequests++;
  write(c, bytes);
  c.out.batch.body += body.length;
  c.out.batch.ends.push(p);
  if (last) finishStream(core, c, s);
}

function finishStream(core: RelayCore, c: Conn, s: OutStream): void {
  s.finished = true;
  if (s.queued > 0) {
    releaseBuffered(core, c, s.queued);
    s.queued = 0;
  }
  s.pieces = [];
  c.out.queue.remove(s);
}
