/**
 * One writer per connection (RFC 4975 §5.1, §7.1.1).
 *
 * Many sessions share a connection, and a chunk being written occupies the
 * connection until its end-line: nothing else can be written in between. So
 * a single loop decides what goes next:
 *
 * 1. Responses and REPORTs first. §7.1.1: "SEND requests larger than 2048
 *    octets MUST be interrupted if the sender needs to send pending
 *    responses or REPORT requests."
 * 2. Then SEND chunks, with sessions taking turns (round robin), and the
 *    messages of one session taking turns within it. "If multiple SEND
 *    requests from different sessions are concurrently being sent over the
 *    same connection, the device SHOULD implement some scheme to alternate
 *    between them."
 *
 * A long chunk is written a piece at a time; while other traffic waits, the
 * message cuts its chunk at the next piece (once it carries 2048 octets) and
 * the turn passes. A 100-byte chat message queued behind a 100 MB file
 * therefore waits for at most one piece of the file.
 *
 * @module
 */

import type { Frame } from "../wire/frame.ts";
import type { OutgoingMessage } from "./outgoing.ts";

/** Where the scheduler writes; resolves when the frame was accepted (back-pressure). */
export type FrameWrite = (frame: Frame) => Promise<void>;

interface Flow {
  readonly key: unknown;
  readonly queue: OutgoingMessage[];
}

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
  #control: Frame[] = [];
  #flows: Flow[] = [];
  #lastServed: unknown; // the flow that had the last turn
  #current: OutgoingMessage | undefined;
  #owner = new Map<OutgoingMessage, unknown>(); // message -> its flow key
  #idleWaiters: (() => void)[] = [];
  #wake: (() => void) | undefined;
  #stopped = false;
  #failure: unknown;
  #stats = { controlFrames: 0, pieces: 0, chunks: 0 };
  /** Called with every frame written, in order (tests and tracing). */
  onwrite: ((frame: Frame) => void) | undefined;
  /** Resolves when the loop ends; rejects with the write error that ended it. */
  readonly done: Promise<void>;

  /**
   * Starts the writing loop.
   *
   * @param write writes one frame or piece to the connection
   */
  constructor(write: FrameWrite) {
    this.#write = write;
    this.done = this.#run();
    this.done.catch(() => {});
  }

  /** Counts of what was written. */
  get stats(): SchedulerStats {
    return { ...this.#stats };
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
    return this.#control.length === 0 && this.#current === undefined &&
      this.#flows.every((f) => f.queue.length === 0);
  }

  /**
   * Queues a response, a REPORT or another whole frame, ahead of all SEND data.
   *
   * @param frame a whole frame
   */
  control(frame: Frame): void {
    if (this.#stopped) return;
    this.#control.push(frame);
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
    let flow = this.#flows.find((f) => f.key === key);
    if (flow === undefined) {
      flow = { key, queue: [] };
      this.#flows.push(flow);
    }
    flow.queue.push(message);
    this.#owner.set(message, key);
    this.#poke();
  }

  /**
   * Removes a session's flow; its queued messages are not written any more
   * (the session has failed them). A message with an open chunk still ends it.
   *
   * @param key the session
   */
  removeFlow(key: unknown): void {
    const i = this.#flows.findIndex((f) => f.key === key);
    if (i >= 0) this.#flows.splice(i, 1);
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

  #othersWaiting(current: OutgoingMessage): boolean {
    if (this.#control.length > 0) return true;
    for (const f of this.#flows) {
      for (const m of f.queue) if (m !== current) return true;
    }
    return false;
  }

  /**
   * The next message in round-robin order, taken off its queue: the turn
   * goes to the first flow after the one served last (flows come and go, so
   * the place is remembered by flow, not by index).
   */
  #next(): OutgoingMessage | undefined {
    const n = this.#flows.length;
    const start = this.#flows.findIndex((f) => f.key === this.#lastServed) + 1;
    for (let i = 0; i < n; i++) {
      const flow = this.#flows[(start + i) % n];
      if (flow.queue.length > 0) {
        this.#lastServed = flow.key;
        return flow.queue.shift();
      }
    }
    return undefined;
  }

  #requeue(message: OutgoingMessage): void {
    const key = this.#owner.get(message);
    const flow = this.#flows.find((f) => f.key === key);
    if (flow !== undefined) flow.queue.push(message);
    else this.#owner.delete(message);
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#current === undefined) {
        const frame = this.#control.shift();
        if (frame !== undefined) {
          await this.#write(frame);
          this.#stats.controlFrames++;
          this.onwrite?.(frame);
          continue;
        }
        const next = this.#next();
        if (next === undefined) {
          this.#notifyIdle();
          await new Promise<void>((resolve) => (this.#wake = resolve));
          continue;
        }
        this.#current = next;
      }
      const message = this.#current;
      const piece = await message.nextPiece(this.#othersWaiting(message));
      if (piece === null) {
        this.#current = undefined;
        this.#owner.delete(message);
        continue;
      }
      await this.#write(piece);
      this.#stats.pieces++;
      if (piece.flag !== undefined) this.#stats.chunks++;
      this.onwrite?.(piece);
      message.written(piece);
      if (piece.flag !== undefined) {
        // The chunk is closed: the connection is free, the turn passes.
        this.#current = undefined;
        if (message.hasMore) this.#requeue(message);
        else this.#owner.delete(message);
      }
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
