/**
 * One connection of a relay, and the records that hang off it (RFC 4975
 * §5.4, §7.1.1; RFC 4976 §6, §6.4.1).
 *
 * {@linkcode Conn} holds what the relay knows about a connection, each part
 * with one owner: its transport and its open/closing/closed state (here),
 * who the peer is and its probation (a {@linkcode Peer}, `peer.ts`), what is
 * queued to be written on it (an {@linkcode OutQueue}: the session layer's
 * `FairQueue` with the writer task's state, written by `outbound.ts`), the chunk being
 * received on it (`forwarder.ts`), and the forwarded transactions waiting
 * for an answer over it (a `TransactionTable` of the session layer, filled
 * and answered by `transactions.ts`). The rules of its life (probation,
 * failures, idle, closing once written) are in `lifecycle.ts`.
 *
 * The records that point back at connections are declared here too (the
 * chunks being forwarded, the SENDs received and the transactions
 * forwarded), as data and narrow interfaces, so that this module imports
 * none of the modules that act on them and the relay's modules import each
 * other without a cycle.
 *
 * @module
 */

import { FairQueue } from "../session/fair_queue.ts";
import type { TimerQueue } from "../session/timer_queue.ts";
import { type TransactionHandler, TransactionTable } from "../session/transactions.ts";
import type { FrameWriter } from "../wire/encoder.ts";
import type { ContinuationFlag } from "../wire/frame.ts";
import type { FrameTrace } from "../wire/frame_trace.ts";
import type { HeaderList } from "../wire/header_list.ts";
import type { ByteRange, FailureReport } from "../wire/headers.ts";
import { PathCache } from "../wire/path_cache.ts";
import type { MsrpUri } from "../wire/uri.ts";
import type { MsrpTransport } from "../transport/types.ts";
import { Peer } from "./peer.ts";

/** A whole frame queued for a connection, already encoded. */
export interface ControlJob {
  readonly bytes: Uint8Array;
  /** Forwarded SEND body bytes in it, counted once written. */
  readonly bodyBytes: number;
  /** The forwarded transaction it carries: its hop timer starts once written (§6.4.1). */
  readonly pending: Pending | undefined;
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
 * A connection's bytes encoded since its last write, and what to do once
 * they are written. The writer task encodes everything that is ready, then
 * writes it at once: one write per turn instead of one per frame.
 */
export class WriteBatch {
  /** The encoded bytes, in order; each one whole frame on a frame-aligned transport. */
  parts: Uint8Array[] = [];
  bytes = 0;
  /** Whole frames in `parts`, to complete once written. */
  jobs: ControlJob[] = [];
  /** Streamed body bytes in `parts`: released and counted once written. */
  body = 0;
  /** Transactions whose end-line is in `parts`: their hop timers start once written (§6.4.1). */
  ends: PendingSend[] = [];
}

/** A whole SEND chunk, encoded, waiting in its message's flow. */
export class WholeSend {
  readonly job: ControlJob;
  constructor(job: ControlJob) {
    this.job = job;
  }
  ready(): boolean {
    return true;
  }
}

/** What waits in a connection's flows: whole or streamed SEND chunks. */
export type OutItem = OutStream | WholeSend;

const itemReady = (item: OutItem): boolean => item.ready();
/** The answer to a forwarded SEND is owed until it came or timed out (Failure-Report yes only). */
const answerOwed = (p: unknown): boolean => {
  const pending = p as PendingSend;
  return pending.ctx.fr === "yes" && pending.conn.pending.get(pending.tid) === pending;
};

/**
 * The outbound side of one relay connection: what waits to be written, in
 * the order {@linkcode FairQueue} gives, the bytes counted for
 * back-pressure, and the writer task's state.
 */
export class OutQueue {
  /** Control frames and SEND chunks, and the turn rules (quantum and window set by the writer, `outbound.ts`). */
  readonly queue: FairQueue<ControlJob, OutItem> = new FairQueue({
    ready: itemReady,
    owed: answerOwed,
    itemsTakeTurns: false,
  });
  /** Bytes queued here and not yet written. */
  buffered = 0;
  /** Wakes the writer task when it waits for work. */
  wake: (() => void) | undefined;
  /** Tasks waiting for `buffered` to drop below the limit. */
  roomWaiters: (() => void)[] = [];
  /** What the writer task has encoded for its next write. */
  batch: WriteBatch = new WriteBatch();
  /** When the write in progress started; undefined between writes. */
  writingSince: number | undefined;
  writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  frameWriter: FrameWriter | undefined;
  /** The wire transaction the FrameWriter is encoding (for id changes, §7.1). */
  currentWire: OpenWire | undefined;
  /** The trace of what is written, when the relay traces the wire. */
  traceOut: FrameTrace | undefined;

  /** True when nothing is queued or being streamed. */
  get idle(): boolean {
    return this.queue.idle;
  }
}

/** The request being received in pieces on a connection. */
export interface Incoming {
  readonly tid: string;
  readonly discard: boolean;
  readonly stream: OutStream | undefined;
  readonly target: Conn | undefined;
  readonly ctx: SendContext | undefined;
}

/**
 * What the relay must remember about a SEND it received, to answer and
 * report on it (§6.4.1). Made by `transactions.ts`, which also knows how to
 * fail it and how to file the wire transactions it goes out as.
 */
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
  /**
   * Part of it failed with `status` (§6.4.1, §6.4.3): the response to it,
   * or a failure REPORT to the sender.
   *
   * @param status the failure status
   * @param comment the status comment
   * @param offset where the failed bytes start within the received chunk's body
   * @param length how many bytes failed
   */
  fail(status: number, comment: string, offset: number, length: number): void;
  /**
   * A wire transaction that forwards part of it over `conn`, not yet filed
   * in `conn.pending` (the caller files it unless Failure-Report is `no`).
   *
   * @param conn the connection it goes out on
   * @param tid its new transaction id (§6.4)
   * @param offset where its bytes start within the received chunk's body
   * @param length how many body bytes it carries (so far)
   * @param stream the stream it belongs to, if forwarded in pieces
   */
  forwarded(
    conn: Conn,
    tid: string,
    offset: number,
    length: number,
    stream: OutStream | undefined,
  ): PendingSend;
}

/** What every forwarded transaction waiting for its response can be asked. */
export interface ForwardedTransaction extends TransactionHandler {
  /** The connection it went out on: its table holds it. */
  readonly conn: Conn;
  /** Its id on the wire. */
  tid: string;
  /** Its last byte was written: start the hop timer (§6.4.1). */
  written(): void;
  /**
   * The encoder gave it a new id (RFC 4975 §7.1): file it under that.
   *
   * @param to the new id
   */
  rekey(to: string): void;
  /** Its connection failed (RFC 4975 §5.4): it has failed. */
  lost(): void;
}

/** A forwarded SEND wire transaction waiting for the next hop's response. */
export interface PendingSend extends ForwardedTransaction {
  readonly kind: "send";
  readonly ctx: SendContext;
  /** Where the bytes of this transaction start within the received chunk's body. */
  readonly offset: number;
  /** How many body bytes it carried. */
  length: number;
  readonly stream: OutStream | undefined;
}

/** A forwarded AUTH or unknown method whose response goes back along the path (§6.4.3). */
export interface PendingRelayed extends ForwardedTransaction {
  readonly kind: "relayed";
  readonly origin: Conn;
  readonly originTid: string;
  readonly method: string;
  readonly fromPath: readonly MsrpUri[];
  readonly ourUri: MsrpUri;
  readonly fr: FailureReport;
  readonly hadCredentials: boolean;
  /** How many of the relay's own URIs the request passed (more than one when it looped back). */
  readonly ownHops: number;
}

/** A forwarded transaction waiting for its response. */
export type Pending = PendingSend | PendingRelayed;

/** The state of one connection, accepted or opened by the relay. */
export class Conn {
  readonly id: number;
  readonly outbound: boolean;
  /** `connectionKey` of the URI an outbound connection was opened for. */
  readonly key: string | undefined;
  transport: MsrpTransport | undefined;
  state: "connecting" | "open" | "closed";
  /** Who the peer is and how far it is trusted: the identity and probation owner. */
  readonly peer: Peer;
  /** Will close once the frames queued now are written. */
  closing = false;
  closingReason = "";
  closeTimer: unknown;
  /** What is queued to be written, and the writer task's state (written by `outbound.ts`). */
  readonly out: OutQueue = new OutQueue();
  /** The trace of what is read. */
  traceIn: FrameTrace | undefined;
  // input
  /** The last To-Path and From-Path texts parsed on this connection. */
  readonly toPaths = new PathCache();
  readonly fromPaths = new PathCache();
  /** The last To-Path text of a response parsed on it (a next hop's 200s all name the relay alike). */
  readonly responseToPaths = new PathCache();
  incoming: Incoming | undefined;
  /** The forwarded transactions waiting for a response over it: the pending-transactions owner. */
  readonly pending: TransactionTable<Pending>;

  /**
   * A connection the relay accepted or is opening.
   *
   * @param id the relay's number for it
   * @param outbound whether the relay opened it
   * @param key `connectionKey` of the URI an outbound connection is for
   * @param now the relay's clock
   * @param timers the relay's transaction timers, shared by every connection
   * @param timeoutMs the hop timer (§6.4.1: 30 s)
   */
  constructor(
    id: number,
    outbound: boolean,
    key: string | undefined,
    now: number,
    timers: TimerQueue,
    timeoutMs: number,
  ) {
    this.id = id;
    this.outbound = outbound;
    this.key = key;
    this.state = outbound ? "connecting" : "open";
    this.peer = new Peer(now);
    this.pending = new TransactionTable(timers, timeoutMs);
  }

  get secure(): boolean {
    return this.transport?.secure ?? false;
  }

  /** Read through a getter so that checks after an `await` are not narrowed away. */
  get closed(): boolean {
    return this.state === "closed";
  }
}

/**
 * Closes a transport, ignoring one that is already closed.
 *
 * @param t the transport
 */
export function closeTransport(t: MsrpTransport): void {
  try {
    t.close();
  } catch {
    // already closed
  }
}
