/**
 * One writer per connection (RFC 4975 §5.1, §7.1.1).
 *
 * Many sessions share a connection, and a chunk being written occupies the
 * connection until its end-line: nothing else can be written in between. So
 * a single loop writes, in the order {@linkcode FairQueue} (`fair_queue.ts`,
 * the rules the relay's writer shares) decides:
 *
 * 1. Responses and REPORTs first. §7.1.1: "SEND requests larger than 2048
 *    octets MUST be interrupted if the sender needs to send pending
 *    responses or REPORT requests."
 * 2. Then SEND chunks, with sessions taking turns (round robin), and the
 *    messages of one session taking turns within it. "If multiple SEND
 *    requests from different sessions are concurrently being sent over the
 *    same connection, the device SHOULD implement some scheme to alternate
 *    between them."
 * 3. At most a window of octets of SEND chunks whose 200 is still owed:
 *    then the open chunk ends and no new one starts until responses come
 *    back. The window is counted in time: what drains in 10 ms at the rate
 *    the connection has been taking data (at least 256 KiB, at most 8 MiB).
 *
 * A long chunk is written a piece at a time; while other traffic waits, the
 * message cuts its chunk at the next piece (once it carries 2048 octets) and
 * the turn passes. A 100-byte chat message queued behind a 100 MB file
 * therefore waits for at most one piece of the file here, and, thanks to
 * the window, for at most a window of it in the buffers downstream.
 *
 * @module
 */

import type { Frame } from "../wire/frame.ts";
import { FairQueue, type WindowTime } from "./fair_queue.ts";
import type { OutgoingMessage } from "./outgoing.ts";

/** Where the scheduler writes; resolves when the frame was accepted (back-pressure). */
export type FrameWrite = (frame: Frame) => Promise<void>;

/**
 * Flow control of a {@linkcode Scheduler}: how many octets of written SEND
 * chunks may wait for their responses, and which are still waiting.
 */
export interface SendWindow {
  /**
   * Octets of chunks written and not yet answered before the writer holds
   * off; with `time`, the most the window grows to.
   */
  readonly bytes: number;
  /** Count the window in time (`fair_queue.ts`): what drains in `targetMs`. */
  readonly time?: WindowTime;
  /**
   * Whether the response to a written chunk is still owed (false once it
   * came, timed out, or when none is expected: Failure-Report `no`/`partial`).
   */
  owed(tid: string): boolean;
}

/** Default {@linkcode SendWindow.bytes}: the most a window in time grows to. */
export const SEND_WINDOW_BYTES = 8 * 1024 * 1024;

/** Statistics, for tests and monitoring. */
export interface SchedulerStats {
  /** Control frames (responses, REPORTs) written. */
  readonly controlFrames: number;
  /** SEND pieces written. */
  readonly pieces: number;
  /** SEND chunks completed (pieces with a flag). */
  readonly chunks: number;
}

/** The writer of one connection. */
export class Scheduler {
  readonly #write: FrameWrite;
  readonly #queue: FairQueue<Frame, OutgoingMessage>;
  #idleWaiters: (() => void)[] = [];
  #wake: (() => void) | undefined;
  #stopped = false;
  #failure: unknown;
  #stats = { controlFrames: 0, pieces: 0, chunks: 0 };
  /** Called with every frame written, in order (tests and tracing). */
  onwrite: ((frame: Frame) => void) | undefined;
  /** Called each time the loop waits: for work, or for answers while the window is full. */
  onwait: (() => void) | undefined;
  /** Resolves when the loop ends; rejects with the write error that ended it. */
  readonly done: Promise<void>;

  /**
   * Starts the writing loop.
   *
   * @param write writes one frame or piece to the connection
   * @param window bounds the octets written and not yet answered (none: unbounded)
   */
  constructor(write: FrameWrite, window?: SendWindow) {
    this.#write = write;
    this.#queue = new FairQueue({
      window: window?.bytes,
      owed: window === undefined ? undefined : (tid) => window.owed(tid as string),
      windowTime: window?.time,
    });
    this.done = this.#run();
    this.done.catch(() => {});
  }

  /** Counts of what was written. */
  get stats(): SchedulerStats {
    return { ...this.#stats };
  }

  /** Octets of SEND chunks written whose response may still be owed. */
  get inFlight(): number {
    return this.#queue.inFlight;
  }

  /**
   * Resolves once nothing is queued or being written (or the loop stopped).
   */
  whenIdle(): Promise<void> {
    if (this.idle || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** True when nothing is queued or being written. */
  get idle(): boolean {
    return this.#queue.idle;
  }

  /**
   * Queues a response, a REPORT or another whole frame, ahead of all SEND data.
   *
   * @param frame a whole frame
   */
  control(frame: Frame): void {
    if (this.#stopped) return;
    this.#queue.control(frame);
    this.#poke();
  }

  /**
   * Queues a message for sending; `key` groups the messages of one session.
   *
   * @param key the session (or any value naming the flow)
   * @param message the message
   */
  enqueue(key: unknown, message: OutgoingMessage): void {
    if (this.#stopped) {
      message.fail("closed", 0, "", "the connection is closed");
      return;
    }
    this.#queue.add(key, message);
    this.#poke();
  }

  /**
   * A response came or a transaction ended: the window may have room again.
   */
  settled(): void {
    if (this.#queue.inFlight > 0) this.#poke();
  }

  /**
   * Removes a session's flow; its queued messages are not written any more
   * (the session has failed them). A message with an open chunk still ends it.
   *
   * @param key the session
   */
  removeFlow(key: unknown): void {
    this.#queue.removeFlow(key);
  }

  /**
   * Stops the loop after the frame being written; queued frames are dropped.
   *
   * @param reason why, if it is an error
   */
  stop(reason?: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#failure = reason;
    this.#poke();
    this.#notifyIdle();
  }

  #poke(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async #run(): Promise<void> {
    const q = this.#queue;
    while (!this.#stopped) {
      const step = q.next();
      if (step === "control") {
        const frame = q.takeControl();
        await this.#write(frame);
        this.#stats.controlFrames++;
        this.onwrite?.(frame);
        continue;
      }
      if (step === "wait") {
        if (q.idle) this.#notifyIdle();
        const woken = new Promise<void>((resolve) => (this.#wake = resolve));
        this.onwait?.();
        await woken;
        continue;
      }
      // "piece", or "end": the message cuts its open chunk (§7.1.1; it does
      // once the chunk carries 2048 octets, else after one more piece).
      const message = q.active!;
      const piece = await message.nextPiece(step === "end" || q.othersWaiting());
      if (piece === null) {
        q.remove(message);
        continue;
      }
      await this.#write(piece);
      this.#stats.pieces++;
      const ended = piece.flag !== undefined;
      if (ended) this.#stats.chunks++;
      q.wrote(piece.body?.length ?? 0, ended, piece.tid);
      this.onwrite?.(piece);
      message.written(piece);
      if (ended && !message.hasMore) q.remove(message);
    }
    this.#notifyIdle();
    if (this.#failure !== undefined) throw this.#failure;
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
