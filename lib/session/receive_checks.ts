/**
 * The receive side of one session: every SEND chunk checked, its bytes put
 * into the right message (RFC 4975 §5.4, §7.1.1, §7.1.4, §7.3.1, §8.6,
 * §10.5).
 *
 * {@linkcode ChunkReceiver} is a sans-I/O core: it is given the pieces of
 * SEND requests in order (as the decoder yields them) and says what happened
 * as {@linkcode ReceiveOutcome}s (`report_generator.ts` turns them into
 * responses and REPORTs). The checks of a chunk's first piece, in order:
 *
 * | Check | Answer |
 * | --- | --- |
 * | malformed Failure-Report, Success-Report, Message-ID, Byte-Range, Content-Type | 400 |
 * | no Message-ID (§7.1.1) | 400 |
 * | no body: a bodiless SEND binds the session or keeps it alive (§5.4) | 200 |
 * | a body without Content-Type (§7.1) | 400 |
 * | a media type outside accept-types (§7.3.1, §8.6) | 415 |
 * | a total or start beyond max-size (§10.5) | 413 |
 * | a message refused before (§10.5: no more of it) | the same status again |
 * | a late copy of a chunk of a message already complete (§5.4) | 200, dropped |
 * | too many messages being received at once | 413 |
 *
 * Then the bytes go into an {@linkcode IncomingMessage} at their Byte-Range
 * offset (in order or not, §7.3.1). A chunk going past max-size, or more
 * out-of-order data than is held for a stream, is answered 413 at once and
 * the rest of it dropped (§10.5). A message that gets no octet for
 * `incompleteTimeout` fails with 408; a message the reader refuses fails
 * with its status: on the chunk still open as a response, else as a failure
 * REPORT on the last chunk (§7.1.4).
 *
 * @module
 */

import type { Logger } from "../log.ts";
import { isAcceptable } from "../wire/media_types.ts";
import type { MsrpRequest } from "../wire/frame.ts";
import type { HeaderList } from "../wire/header_list.ts";
import {
  type ByteRange,
  type FailureReport,
  getByteRange,
  getContentType,
  getFailureReport,
  getMessageId,
  getSuccessReport,
} from "../wire/headers.ts";
import type { Clock } from "./clock.ts";
import { IncomingMessage, type IncomingOptions } from "./reassembly.ts";
import type { ReceiveOutcome } from "./report_generator.ts";
import { responseFor } from "./reports.ts";

/** Limits of a {@linkcode ChunkReceiver}. */
export interface ReceiveLimits {
  /** Media types we accept (SDP `a=accept-types`, §8.6). Default `["*"]`. */
  acceptTypes?: readonly string[];
  /** Largest message we accept in octets (SDP `a=max-size`); larger ones get 413. Default 1 GiB. */
  maxSize?: number;
  /** Buffer limits of incoming messages. */
  incoming?: IncomingOptions;
  /** Most messages being received at once; more get 413. Default 64. */
  maxConcurrentMessages?: number;
  /** How long a message being received may go without a new octet before it fails (408). Default 120000 ms. */
  incompleteTimeout?: number;
}

/** What a {@linkcode ChunkReceiver} needs from its owner. */
export interface ReceiverHost {
  /** Where time comes from (the `incompleteTimeout` timers). */
  readonly clock: Clock;
  /** Where log events go. */
  readonly logger?: Logger;
  /** Receives what the sender must hear of (responses and REPORTs owed). */
  outcome(outcome: ReceiveOutcome): void;
  /** A new message: its first chunk has arrived. */
  deliver(message: IncomingMessage): void;
  /** A promise while the application holds too many messages unread (reading waits). */
  room?(): Promise<void> | undefined;
  /** True while the reader holds the connection back: that time does not count as idle. */
  paused?(): boolean;
}

/** Remembers recent Message-IDs to spot duplicates (§5.4), within a bounded memory. */
class RecentIds {
  #ids = new Set<string>();
  constructor(readonly limit: number) {}
  has(id: string): boolean {
    return this.#ids.has(id);
  }
  add(id: string): void {
    this.#ids.delete(id);
    this.#ids.add(id);
    if (this.#ids.size > this.limit) this.#ids.delete(this.#ids.values().next().value!);
  }
}

/** The chunk being received. */
interface Receiving {
  readonly tid: string;
  readonly request: MsrpRequest; // its first piece: headers for responses and REPORTs
  readonly message: IncomingMessage | undefined; // undefined: refused, pieces dropped
  readonly start: number; // 0-based offset of the chunk in the message
}

/** Checks SEND chunks and reassembles their messages (the table in the module comment). */
export class ChunkReceiver {
  readonly #host: ReceiverHost;
  readonly #limits: ReceiveLimits;
  readonly #acceptTypes: readonly string[];
  /** The last Content-Type value seen, parsed, and whether it is acceptable. */
  #lastType: { value: string; mediaType: string; acceptable: boolean } | undefined;
  readonly #maxSize: number;
  readonly #incoming = new Map<string, IncomingMessage>();
  readonly #completed = new RecentIds(1024);
  /** Messages refused, and with what status: later chunks get it too. */
  readonly #refusedIds = new Map<string, [number, string]>();
  /** The last complete chunk of each message: what a failure REPORT reports on (§7.1.4). */
  readonly #lastChunk = new WeakMap<
    IncomingMessage,
    { request: MsrpRequest; start: number; end: number }
  >();
  #receiving: Receiving | undefined;
  /** When each message being received last got an octet, and its expiry timer. */
  readonly #idle = new Map<IncomingMessage, { last: number; timer: unknown }>();
  #closed = false;

  /**
   * Makes a receiver with no message in progress.
   *
   * @param host the clock, and where outcomes and new messages go
   * @param limits accepted types and limits
   */
  constructor(host: ReceiverHost, limits: ReceiveLimits = {}) {
    this.#host = host;
    this.#limits = limits;
    this.#acceptTypes = limits.acceptTypes ?? ["*"];
    this.#maxSize = limits.maxSize ?? 1024 * 1024 * 1024;
  }

  /** Number of messages being received. */
  get receiving(): number {
    return this.#incoming.size;
  }

  /**
   * The next piece of a SEND request: a first piece (`offset` 0) starts a
   * chunk, later ones continue the chunk being received (others are
   * dropped). A promise means "wait before reading on" (a stream reader is
   * behind, or the application holds too many messages).
   *
   * @param piece a SEND request or a piece of one
   */
  receive(piece: MsrpRequest): Promise<void> | undefined {
    if (this.#closed) return undefined;
    if (piece.offset === 0) {
      this.#receiving = undefined;
      const rx = this.#startChunk(piece);
      if (rx === undefined) return undefined; // answered already (bodiless, or refused)
      if (piece.flag === undefined) this.#receiving = rx;
      const wait = this.#chunkPiece(rx, piece);
      const room = this.#host.room?.();
      return wait === undefined
        ? room
        : room === undefined
        ? wait
        : Promise.all([wait, room]).then(() => {});
    }
    const rx = this.#receiving;
    if (rx === undefined || rx.tid !== piece.tid) return undefined;
    if (piece.flag !== undefined) this.#receiving = undefined;
    return this.#chunkPiece(rx, piece);
  }

  /** The reader let the connection go on: idle time counts from now. */
  resumed(): void {
    const now = this.#host.clock.now();
    for (const entry of this.#idle.values()) entry.last = now;
  }

  /** Ends every message being received, incomplete; later pieces are dropped. */
  close(): void {
    this.#closed = true;
    for (const m of this.#incoming.values()) m.cutOff();
    this.#incoming.clear();
    for (const { timer } of this.#idle.values()) this.#host.clock.clearTimer(timer);
    this.#idle.clear();
  }

  #answer(request: MsrpRequest, status: number, comment?: string): void {
    this.#host.outcome({ kind: "answer", request, status, comment });
  }

  /** Checks the first piece of a SEND chunk; returns what to do with its bytes, or undefined once answered. */
  #startChunk(request: MsrpRequest): Receiving | undefined {
    let failureReport: FailureReport;
    let messageId: string | undefined;
    let range: ByteRange | undefined;
    let mediaType: string | undefined;
    try {
      failureReport = getFailureReport(request.headers);
      getSuccessReport(request.headers);
      messageId = getMessageId(request.headers);
      range = getByteRange(request.headers);
      mediaType = this.#mediaType(request.headers);
    } catch (error) {
      this.#answer(request, 400, `Bad Request: ${(error as Error).message}`);
      return this.#refused(request);
    }
    if (messageId === undefined) {
      this.#answer(request, 400, "Bad Request: a SEND needs a Message-ID (§7.1.1)");
      return this.#refused(request);
    }
    if (request.body === null) {
      // A bodiless SEND binds the session or keeps it alive (§5.4, §7.1).
      this.#answer(request, 200);
      return undefined;
    }
    if (mediaType === undefined) {
      this.#answer(request, 400, "Bad Request: a body needs a Content-Type (§7.1)");
      return this.#refused(request);
    }
    if (!this.#acceptable(mediaType)) {
      this.#answer(request, 415, `Unsupported Media Type: ${mediaType}`); // §7.3.1
      return this.#refused(request);
    }
    const start = (range?.start ?? 1) - 1;
    if (
      (typeof range?.total === "number" && range.total > this.#maxSize) || start > this.#maxSize
    ) {
      this.#answer(request, 413, `Message Too Large: limit is ${this.#maxSize} octets`); // §10.5
      return this.#refused(request);
    }
    const refused = this.#refusedIds.get(messageId);
    if (refused !== undefined) {
      this.#answer(request, refused[0], refused[1]); // §10.5: no more of this message
      return this.#refused(request);
    }
    let message = this.#incoming.get(messageId);
    if (
      message === undefined && this.#completed.has(messageId) &&
      !(start === 0 && request.flag === "$")
    ) {
      // A late copy of a chunk of a message already complete: acknowledge and
      // drop it. Only a chunk that is by itself a whole message is delivered
      // again, flagged as a duplicate (§5.4): anything else would make a
      // message that can never complete.
      if (responseFor(failureReport, 200) !== undefined) this.#answer(request, 200);
      return this.#refused(request);
    }
    if (message === undefined) {
      if (this.#incoming.size >= (this.#limits.maxConcurrentMessages ?? 64)) {
        this.#answer(request, 413, "Message Too Large: too many messages in progress");
        return this.#refused(request);
      }
      const created: IncomingMessage = new IncomingMessage(
        messageId,
        mediaType,
        request.headers,
        this.#completed.has(messageId),
        {
          ...this.#limits.incoming,
          onReject: (status, comment) => this.#reject(created, status, comment),
        },
      );
      message = created;
      this.#incoming.set(messageId, message);
      this.#watchIdle(message);
      this.#host.deliver(message);
    }
    if (typeof range?.total === "number") message.setSize(range.total);
    return { tid: request.tid, request, message, start };
  }

  /**
   * The media type of a Content-Type field, parsed once for the chunks of
   * a message, which all carry the same value (a one-entry cache).
   *
   * @throws {MsrpSyntaxError} for a malformed Content-Type
   */
  #mediaType(headers: HeaderList): string | undefined {
    const value = headers.get("Content-Type");
    if (value === undefined) return undefined;
    const last = this.#lastType;
    if (last !== undefined && last.value === value) return last.mediaType;
    const mediaType = getContentType(headers)!.mediaType;
    this.#lastType = { value, mediaType, acceptable: isAcceptable(this.#acceptTypes, mediaType) };
    return mediaType;
  }

  /** Whether `mediaType` is among the accept-types (§7.3.1), remembered for the last type. */
  #acceptable(mediaType: string): boolean {
    const last = this.#lastType;
    if (last !== undefined && last.mediaType === mediaType) return last.acceptable;
    return isAcceptable(this.#acceptTypes, mediaType);
  }

  /** A chunk that was answered with an error: its pieces are dropped. */
  #refused(request: MsrpRequest): Receiving | undefined {
    if (request.flag !== undefined) return undefined;
    return { tid: request.tid, request, message: undefined, start: 0 };
  }

  #chunkPiece(rx: Receiving, piece: MsrpRequest): Promise<void> | undefined {
    const message = rx.message;
    if (message === undefined) return undefined;
    const body = piece.body!;
    const at = rx.start + piece.offset;
    const idle = this.#idle.get(message);
    if (idle !== undefined) idle.last = this.#host.clock.now();
    if (at + body.length > this.#maxSize) {
      // Over max-size in the middle of a chunk: answer now, the sender interrupts (§10.5).
      return this.#stopMidChunk(rx, piece, message, `limit is ${this.#maxSize} octets`);
    }
    let wait: Promise<void> | undefined;
    try {
      wait = message.write(at, body);
    } catch (error) {
      // More out-of-order data than we hold for a stream: stop the message (§10.5).
      return this.#stopMidChunk(rx, piece, message, (error as Error).message);
    }
    if (piece.flag === undefined) return wait;
    // The end-line: the chunk is whole.
    const chunkEnd = at + body.length;
    this.#lastChunk.set(message, { request: rx.request, start: rx.start, end: chunkEnd });
    if (piece.flag === "$") message.setSize(chunkEnd); // the "$" chunk fixes the length (§7.3.1)
    if (piece.flag === "#") message.abort();
    this.#host.outcome({
      kind: "chunk",
      request: rx.request,
      flag: piece.flag,
      message,
      start: rx.start,
      end: chunkEnd,
    });
    if (message.state !== "receiving") this.#forget(message);
    return wait;
  }

  /** Answers the chunk arriving with 413 and drops the rest of it and of its message (§10.5). */
  #stopMidChunk(
    rx: Receiving,
    piece: MsrpRequest,
    message: IncomingMessage,
    why: string,
  ): undefined {
    const comment = `Message Too Large: ${why}`;
    this.#answer(rx.request, 413, comment);
    this.#rememberRefusal(message.messageId, 413, comment); // §10.5: no further chunks
    message.cutOff();
    this.#forget(message);
    if (piece.flag === undefined) this.#receiving = { ...rx, message: undefined };
    return undefined;
  }

  /** Starts the `incompleteTimeout` watch of a message just created. */
  #watchIdle(message: IncomingMessage): void {
    const clock = this.#host.clock;
    const timeout = this.#limits.incompleteTimeout ?? 120_000;
    const check = () => {
      const entry = this.#idle.get(message);
      if (entry === undefined) return;
      const idleFor = clock.now() - entry.last;
      if (this.#host.paused?.() === true) {
        // Our reader holds the sender back; when it lets go the wait restarts.
        entry.timer = clock.setTimer(check, timeout);
        return;
      }
      if (idleFor < timeout) {
        entry.timer = clock.setTimer(check, timeout - idleFor); // activity since: look again then
        return;
      }
      this.#expire(message, idleFor);
    };
    this.#idle.set(message, { last: clock.now(), timer: clock.setTimer(check, timeout) });
  }

  /**
   * An incomplete message timed out: the sender hears 408 (on the chunk
   * still open, else in a failure REPORT on the last chunk, §7.1.4), later
   * chunks get 408 too, and the reader's promise or stream fails.
   */
  #expire(message: IncomingMessage, idleFor: number): void {
    this.#host.logger?.("info", "incomplete message timed out", {
      messageId: message.messageId,
      idleMs: idleFor,
    });
    this.#reject(message, 408, `Request Timeout: nothing arrived for ${idleFor} ms`);
    message.expire(idleFor);
  }

  /** A message that has ended leaves the table of messages being received. */
  #forget(message: IncomingMessage): void {
    const idle = this.#idle.get(message);
    if (idle !== undefined) {
      this.#host.clock.clearTimer(idle.timer);
      this.#idle.delete(message);
    }
    if (this.#incoming.get(message.messageId) === message) this.#incoming.delete(message.messageId);
    if (message.state === "complete") this.#completed.add(message.messageId);
  }

  /**
   * `message` was refused (by the application, or timed out): answer the
   * chunk arriving now with the error, or, between chunks, a failure REPORT
   * on the last chunk received with its actual Byte-Range (§7.1.4); later
   * chunks get the same status.
   */
  #reject(message: IncomingMessage, status: number, comment: string): void {
    this.#rememberRefusal(message.messageId, status, comment);
    const rx = this.#receiving;
    if (rx !== undefined && rx.message === message) {
      this.#answer(rx.request, status, comment);
      this.#receiving = { ...rx, message: undefined };
    } else {
      const last = this.#lastChunk.get(message);
      if (last !== undefined && !this.#closed) {
        this.#host.outcome({
          kind: "failed",
          request: last.request,
          messageId: message.messageId,
          start: last.start,
          end: last.end,
          status,
          comment,
        });
      }
    }
    this.#forget(message);
  }

  /** Later chunks of a refused message get the same status (a bounded memory of the last 1024). */
  #rememberRefusal(messageId: string, status: number, comment: string): void {
    if (this.#refusedIds.size >= 1024) {
      this.#refusedIds.delete(this.#refusedIds.keys().next().value!);
    }
    this.#refusedIds.set(messageId, [status, comment]);
  }
}
