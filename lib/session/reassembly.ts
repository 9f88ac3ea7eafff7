/**
 * Putting a message back together from its chunks (RFC 4975 §7.3.1).
 *
 * "The receiver forms a virtual buffer to receive the message, keeping track
 * of which bytes have been received and which are missing." Chunks may come
 * in any order (relays may reorder them), overlap (the last received wins),
 * repeat, carry `*` for an unknown total, or end the message early with `#`.
 * The chunk whose end-line says `$` fixes the message's length.
 *
 * An {@linkcode IncomingMessage} is handed to the application as soon as its
 * first bytes arrive. The application reads it whole (`bytes()`, `text()`)
 * or as a `ReadableStream` (`stream()`), which delivers bytes in order as
 * they become contiguous, so a large file can go to disk while it arrives.
 * Until the application decides, bytes are held up to a limit; past it the
 * writer is asked to wait (back-pressure), never to grow without bound.
 * Bytes are held in a {@linkcode SparseBuffer}, where a repeated range
 * overwrites rather than adds: a message never holds more than its size,
 * and octets past a known size are dropped. A message broken into more
 * than `maxFragments` separate ranges is refused (413), so that neither the
 * bookkeeping nor the time spent on it grows without bound.
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import type { HeaderList } from "../wire/header_list.ts";
import { RangeSet } from "./ranges.ts";
import { SparseBuffer } from "./sparse_buffer.ts";

/** Where a received message stands. */
export type IncomingState = "receiving" | "complete" | "aborted" | "incomplete";

/**
 * The error a read of an aborted or incomplete message ends in; it keeps
 * what did arrive. Its `code` says why: `message-aborted` (the sender sent
 * `#`), `message-timeout` (nothing more arrived within the session's
 * `incompleteTimeout`), or `message-incomplete` (the connection or session
 * ended, or the message was refused).
 *
 * @example Keep what arrived of an aborted message
 * ```ts
 * import { IncompleteMessageError, type IncomingMessage } from "@msrp/msrp";
 *
 * async function read(message: IncomingMessage): Promise<Uint8Array> {
 *   try {
 *     return await message.bytes();
 *   } catch (e) {
 *     if (!(e instanceof IncompleteMessageError)) throw e;
 *     console.warn(`${e.state}: kept ${e.received.length} bytes`);
 *     return e.received;
 *   }
 * }
 * ```
 */
export class IncompleteMessageError extends MsrpError {
  /** `"aborted"` (the sender sent `#`) or `"incomplete"` (anything else). */
  readonly state: "aborted" | "incomplete";
  /** The octets received from the start of the message up to the first gap. */
  readonly received: Uint8Array;

  /**
   * Makes the error.
   *
   * @param messageId the Message-ID
   * @param state how the message ended
   * @param received the contiguous octets received from the start
   * @param idleMs set when the message timed out: how long nothing arrived
   */
  constructor(
    messageId: string,
    state: "aborted" | "incomplete",
    received: Uint8Array,
    idleMs?: number,
  ) {
    super(
      state === "aborted"
        ? "message-aborted"
        : idleMs !== undefined
        ? "message-timeout"
        : "message-incomplete",
      state === "aborted"
        ? `message ${messageId} was aborted by its sender after ${received.length} octets (§7.1 "#")`
        : idleMs !== undefined
        ? `message ${messageId} timed out: nothing arrived for ${idleMs} ms, after ${received.length} contiguous octets`
        : `message ${messageId} ended incomplete after ${received.length} contiguous octets`,
    );
    this.name = "IncompleteMessageError";
    this.state = state;
    this.received = received;
  }
}

/** Progress of a message being received. */
export interface ReceiveProgress {
  /** The Message-ID. */
  readonly messageId: string;
  /** Octets received so far (without counting overlaps twice). */
  readonly received: number;
  /** The total size, once known. */
  readonly size: number | undefined;
}

/** Tuning of an {@linkcode IncomingMessage}. */
export interface IncomingOptions {
  /**
   * Called when the application refuses the message (the session tells the
   * sender). Set by the session.
   */
  onReject?: (status: number, comment: string) => void;
  /** Octets held before the application has chosen how to read; then writers wait. Default 16 MiB. */
  bufferLimit?: number;
  /** Octets a `stream()` may queue ahead of its reader before writers wait. Default 1 MiB. */
  streamHighWaterMark?: number;
  /**
   * Most separate ranges (gaps + 1) a message may have at once; past it the
   * message is refused with 413. Default 1024.
   */
  maxFragments?: number;
}

/**
 * A message being received, or received.
 *
 * @example Read a message as text or as a stream
 * ```ts
 * import type { MsrpSession } from "@msrp/msrp";
 *
 * async function receive(session: MsrpSession): Promise<void> {
 *   for await (const message of session.messages()) {
 *     if (message.contentType.startsWith("text/")) {
 *       console.log(message.messageId, await message.text());
 *     } else {
 *       const file = await Deno.create(`${message.messageId}.bin`);
 *       await message.stream().pipeTo(file.writable); // bounded memory, however large
 *     }
 *   }
 * }
 * ```
 */
export class IncomingMessage {
  /** The Message-ID (§7.1.1). */
  readonly messageId: string;
  /** The media type of the body (Content-Type of the first chunk seen). */
  readonly contentType: string;
  /** The header fields of the first chunk seen. */
  readonly headers: HeaderList;
  /** True when a message with this Message-ID was already received (§5.4): a duplicate. */
  readonly duplicate: boolean;
  /** Resolves with the final state; never rejects. */
  readonly done: Promise<IncomingState>;
  /** Called as octets arrive. */
  onprogress: ((progress: ReceiveProgress) => void) | undefined;

  #state: IncomingState = "receiving";
  /** Set when the message timed out: the idle time that ended it. */
  #idleMs: number | undefined;
  #size: number | undefined;
  #ranges = new RangeSet();
  #resolveDone!: (s: IncomingState) => void;
  readonly #bufferLimit: number;
  readonly #streamHwm: number;
  readonly #maxFragments: number;
  readonly #onReject: ((status: number, comment: string) => void) | undefined;

  // What has arrived and is not yet read (in stream mode: not yet delivered).
  #store = new SparseBuffer();
  #assembled: Uint8Array | undefined;
  #wantBytes = false;

  // Stream mode.
  #mode: "undecided" | "bytes" | "stream" = "undecided";
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #delivered = 0;
  #queued = 0; // octets enqueued and not yet read
  #waiters: (() => void)[] = [];
  // An abort is reported only once the reader has taken every queued octet:
  // erroring a ReadableStream throws its queue away.
  #pendingError: IncompleteMessageError | undefined;

  /**
   * Makes a message from its first chunk's fields. The session does this.
   *
   * @param messageId the Message-ID
   * @param contentType the media type
   * @param headers the first chunk's header fields
   * @param duplicate whether this Message-ID was seen before
   * @param options buffer limits
   */
  constructor(
    messageId: string,
    contentType: string,
    headers: HeaderList,
    duplicate: boolean,
    options: IncomingOptions = {},
  ) {
    this.messageId = messageId;
    this.contentType = contentType;
    this.headers = headers;
    this.duplicate = duplicate;
    this.#bufferLimit = options.bufferLimit ?? 16 * 1024 * 1024;
    this.#streamHwm = options.streamHighWaterMark ?? 1024 * 1024;
    this.#maxFragments = options.maxFragments ?? 1024;
    this.#onReject = options.onReject;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /** Where the message stands. */
  get state(): IncomingState {
    return this.#state;
  }

  /** The total size in octets, once known (a numeric Byte-Range total or the `$` chunk). */
  get size(): number | undefined {
    return this.#size;
  }

  /**
   * Octets held for the reader: received and not yet read (assembled or not).
   * Never more than the message's size (or max-size while it is unknown);
   * before the reader chooses, or read as a stream, also bounded by the
   * buffer limit or the stream's high-water mark, plus a piece.
   */
  get buffered(): number {
    return this.#store.held + this.#queued;
  }

  /** Octets received so far. */
  get received(): number {
    return this.#ranges.covered;
  }

  /** The received ranges, `[start, end)` offsets from 0. */
  receivedRanges(): [number, number][] {
    return this.#ranges.toArray();
  }

  /**
   * The whole body, once complete. Rejects with
   * {@linkcode IncompleteMessageError} (which holds the octets that did
   * arrive) if the message is aborted or cut off.
   */
  async bytes(): Promise<Uint8Array> {
    if (this.#mode === "stream") {
      throw new MsrpError("body-used", "this message is being read as a stream");
    }
    this.#mode = "bytes";
    this.#wantBytes = true;
    this.#wake();
    const state = await this.done;
    if (state !== "complete") {
      throw new IncompleteMessageError(
        this.messageId,
        state === "aborted" ? "aborted" : "incomplete",
        this.partial(),
        this.#idleMs,
      );
    }
    if (this.#assembled === undefined) {
      this.#assembled = this.#store.assemble(this.#size!);
      // Hold the message once: the pieces it was built from can go.
      this.#store.clear();
      this.#store.write(0, this.#assembled);
    }
    return this.#assembled;
  }

  /** The whole body as UTF-8 text (see {@linkcode IncomingMessage.bytes}). */
  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  /**
   * The octets received so far from the start up to the first gap. In
   * stream mode, only what has not been delivered to the stream yet is kept.
   */
  partial(): Uint8Array {
    if (this.#mode === "stream") return new Uint8Array(0);
    return this.#store.assemble(this.#ranges.contiguousFrom(0));
  }

  /**
   * The body as a stream: bytes come in order as soon as they are
   * contiguous. The stream errors with {@linkcode IncompleteMessageError}
   * if the message is aborted or cut off.
   */
  stream(): ReadableStream<Uint8Array> {
    if (this.#mode !== "undecided") {
      throw new MsrpError("body-used", "this message's body was already read");
    }
    this.#mode = "stream";
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => this.#wake(),
      cancel: () => {
        // The reader gave up: drop what is held, and tell the sender to stop.
        this.#store.clear();
        this.#controller = undefined;
        this.reject(413, "the receiver stopped reading");
        this.#wake();
      },
    }, { highWaterMark: this.#streamHwm, size: (chunk) => chunk.length });
    // What arrived before the stream existed goes first, in order.
    this.#drainPending();
    this.#settleStream();
    return stream;
  }

  // ---- the session's side ----

  /**
   * Octets `bytes` at offset `start` (0-based) have arrived. Returns a
   * promise when the reader is behind, which the connection awaits before
   * reading more from the network.
   *
   * @param start offset of the first octet in the message
   * @param bytes the octets (kept as a view, not copied)
   * @throws {MsrpError} `reassembly-overflow` when, read as a stream, more
   *   than the buffer limit arrived ahead of a gap (the message then ends
   *   incomplete)
   */
  write(start: number, bytes: Uint8Array): Promise<void> | undefined {
    if (this.#state !== "receiving") return undefined;
    // Octets past a known size are not part of the message (§7.3.1: the size is fixed).
    if (this.#size !== undefined && start + bytes.length > this.#size) {
      bytes = bytes.subarray(0, Math.max(0, this.#size - start));
    }
    if (bytes.length === 0) return undefined;
    this.#ranges.add(start, start + bytes.length);
    if (this.#ranges.count > this.#maxFragments) {
      this.#end("incomplete");
      throw new MsrpError(
        "reassembly-fragmented",
        `message ${this.messageId}: more than ${this.#maxFragments} separate ranges`,
      );
    }
    this.onprogress?.({
      messageId: this.messageId,
      received: this.#ranges.covered,
      size: this.#size,
    });
    if (this.#mode === "stream") {
      if (this.#controller === undefined) return undefined; // cancelled: discard
      this.#streamPiece(start, bytes);
      if (this.#store.held > this.#bufferLimit) {
        // Too much arrived ahead of a gap to hold: the message cannot be
        // delivered in order within the limit. The session answers 413.
        this.#end("incomplete");
        throw new MsrpError(
          "reassembly-overflow",
          `message ${this.messageId}: more than ${this.#bufferLimit} octets arrived ahead of a gap`,
        );
      }
    } else {
      this.#store.write(start, bytes);
    }
    this.#checkComplete();
    return this.#room();
  }

  /**
   * The total size became known (a numeric Byte-Range total, or the `$`
   * chunk's end).
   *
   * @param size the message's length in octets
   */
  setSize(size: number): void {
    if (this.#state !== "receiving") return;
    this.#size = size;
    this.#store.truncate(size);
    this.#checkComplete();
  }

  /** The sender aborted the message with `#` (§7.1). */
  abort(): void {
    this.#end("aborted");
  }

  /**
   * Refuses the rest of the message: the sender is told with `status` (a
   * response to the chunk arriving, or a failure REPORT, RFC 4975 §7.1.4),
   * and the message ends incomplete.
   *
   * @param status the MSRP status code; 413 asks the sender to stop (§10.5)
   * @param comment the reason phrase
   */
  reject(status = 413, comment = "Message Too Large"): void {
    if (this.#state !== "receiving") return;
    this.#onReject?.(status, comment);
    this.#end("incomplete");
  }

  /** The session or connection ended before the message was whole. */
  cutOff(): void {
    this.#end("incomplete");
  }

  /**
   * Nothing arrived for too long: the message ends incomplete, and reads
   * fail with an {@linkcode IncompleteMessageError} whose code is
   * `message-timeout`. The session does this (see `incompleteTimeout`).
   *
   * @param idleMs how long nothing arrived
   */
  expire(idleMs: number): void {
    if (this.#state !== "receiving") return;
    this.#idleMs = idleMs;
    this.#end("incomplete");
  }

  #checkComplete(): void {
    if (this.#size !== undefined && this.#ranges.covers(0, this.#size)) this.#end("complete");
  }

  #end(state: IncomingState): void {
    if (this.#state !== "receiving") return;
    this.#state = state;
    if (this.#mode === "stream") this.#settleStream();
    this.#resolveDone(state);
    this.#wake();
  }

  /** A promise when more octets should not be accepted yet. */
  #room(): Promise<void> | undefined {
    if (this.#state !== "receiving") return undefined;
    // Only what the reader can drain may hold the connection back: in
    // stream mode, the stream's queue; before the reader chose, everything.
    // Bytes held out of order wait for a gap that only more reading fills,
    // so they never block (they are bounded in `write` instead).
    const full = this.#mode === "stream"
      ? this.#controller !== undefined && this.#queued > this.#streamHwm
      : !this.#wantBytes && this.#store.held > this.#bufferLimit;
    if (!full) return undefined;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    const c = this.#controller;
    if (c !== undefined) {
      this.#queued = Math.max(0, this.#streamHwm - (c.desiredSize ?? 0));
      if (this.#pendingError !== undefined && this.#queued === 0) {
        c.error(this.#pendingError);
        this.#controller = undefined;
      }
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #streamPiece(start: number, bytes: Uint8Array): void {
    const end = start + bytes.length;
    if (end <= this.#delivered) return; // already delivered; it cannot be taken back (§7.3.1)
    if (start <= this.#delivered) {
      this.#enqueue(bytes.subarray(this.#delivered - start));
      this.#delivered = end;
      this.#drainPending();
    } else {
      this.#store.write(start, bytes);
    }
  }

  /** Delivers held octets that have become contiguous; what was delivered already is dropped. */
  #drainPending(): void {
    for (const bytes of this.#store.takeFrom(this.#delivered)) {
      this.#enqueue(bytes);
      this.#delivered += bytes.length;
    }
  }

  #enqueue(bytes: Uint8Array): void {
    if (bytes.length === 0 || this.#controller === undefined) return;
    this.#controller.enqueue(bytes);
    this.#queued += bytes.length;
  }

  /** Closes or errors the stream once the message has ended. */
  #settleStream(): void {
    const c = this.#controller;
    if (c === undefined || this.#state === "receiving") return;
    if (this.#state === "complete") {
      this.#drainPending();
      c.close();
      this.#controller = undefined;
      return;
    }
    this.#pendingError = new IncompleteMessageError(
      this.messageId,
      this.#state === "aborted" ? "aborted" : "incomplete",
      new Uint8Array(0),
      this.#idleMs,
    );
    this.#wake(); // errors now if nothing is queued, else after the last read
  }
}
