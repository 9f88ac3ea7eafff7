/**
 * Many timeouts on one clock timer (RFC 4975 §7.1.1 and RFC 4976 §6.4.1:
 * the 30-second transaction timer runs for every request in flight).
 *
 * A busy connection has thousands of transactions waiting for their
 * response at once, nearly all answered within milliseconds. A clock timer
 * for each costs a timer object, a closure and two calls into the runtime
 * per transaction. Here a timeout is a small entry in a first-in first-out
 * queue per delay: since every entry of a queue has the same delay, entries
 * come due in the order they were added, and one clock timer, set for the
 * earliest live entry, serves them all. Cancelling marks an entry; marked
 * entries are dropped when they reach the head or when they outnumber the
 * live ones (so memory stays proportional to the live timeouts).
 *
 * Timeouts fire at exactly their time on the injected clock, in the order
 * they fall due (entries of different delays are merged).
 *
 * @module
 */

import type { Clock } from "./clock.ts";

/** A timeout in a {@linkcode TimerQueue}; pass it to {@linkcode TimerQueue.cancel}. */
export interface QueuedTimer {
  /** When it falls due, on the queue's clock. */
  readonly at: number;
  /** True once it fired or was cancelled. */
  readonly done: boolean;
}

interface Entry<T = unknown> extends QueuedTimer {
  readonly at: number;
  done: boolean;
  readonly fn: (arg: T) => void;
  readonly arg: T;
  readonly lane: Lane;
}

/** Entries of one delay, in the order they fall due. */
interface Lane {
  entries: Entry[];
  /** Index of the first entry not yet removed. */
  head: number;
  /** Cancelled entries still in `entries` after `head`. */
  cancelled: number;
}

/** Timeouts sharing one clock timer; see the module documentation. */
export class TimerQueue {
  readonly #clock: Clock;
  readonly #lanes = new Map<number, Lane>();
  #live = 0;
  #timer: unknown;
  /** When the clock timer is set to fire; Infinity when none is set. */
  #armedAt = Infinity;

  /**
   * Makes an empty queue.
   *
   * @param clock the time and the one timer used
   */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Timeouts that have neither fired nor been cancelled. */
  get size(): number {
    return this.#live;
  }

  /** Entries held in memory, cancelled ones not yet dropped included (monitoring, tests). */
  get held(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.entries.length - lane.head;
    return n;
  }

  /**
   * Calls `fn(arg)` after `ms` milliseconds, unless cancelled first. Passing
   * the argument, rather than a closure, saves an allocation per timeout.
   *
   * @param ms the delay; timeouts of the same delay share a queue
   * @param fn what to call
   * @param arg its argument
   * @returns the handle for {@linkcode TimerQueue.cancel}
   */
  add<T>(ms: number, fn: (arg: T) => void, arg: T): QueuedTimer {
    let lane = this.#lanes.get(ms);
    if (lane === undefined) {
      lane = { entries: [], head: 0, cancelled: 0 };
      this.#lanes.set(ms, lane);
    }
    const entry: Entry<T> = { at: this.#clock.now() + ms, done: false, fn, arg, lane };
    lane.entries.push(entry as Entry);
    this.#live++;
    if (entry.at < this.#armedAt) this.#arm(entry.at);
    return entry;
  }

  /**
   * Cancels a timeout; one that fired or was cancelled already is ignored.
   *
   * @param timer what {@linkcode TimerQueue.add} returned, or undefined
   */
  cancel(timer: QueuedTimer | undefined): void {
    const entry = timer as Entry | undefined;
    if (entry === undefined || entry.done) return;
    entry.done = true;
    this.#live--;
    if (this.#live === 0) {
      // Nothing left to wait for: let the clock timer and the entries go.
      this.clear();
      return;
    }
    const lane = entry.lane;
    lane.cancelled++;
    // Most timeouts are cancelled (the response came): keep memory
    // proportional to the live ones.
    const held = lane.entries.length - lane.head;
    if (lane.cancelled > 64 && lane.cancelled * 2 > held) {
      lane.entries = lane.entries.slice(lane.head).filter((e) => !e.done);
      lane.head = 0;
      lane.cancelled = 0;
    }
  }

  /** Cancels every timeout and the clock timer. */
  clear(): void {
    for (const lane of this.#lanes.values()) {
      for (let i = lane.head; i < lane.entries.length; i++) lane.entries[i].done = true;
    }
    this.#lanes.clear();
    this.#live = 0;
    this.#disarm();
  }

  #arm(at: number): void {
    this.#disarm();
    this.#armedAt = at;
    this.#timer = this.#clock.setTimer(() => this.#fire(), Math.max(0, at - this.#clock.now()));
  }

  #disarm(): void {
    if (this.#armedAt === Infinity) return;
    this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  /** The earliest live entry, dropping cancelled heads on the way. */
  #earliest(): Entry | undefined {
    let best: Entry | undefined;
    for (const [ms, lane] of this.#lanes) {
      const entries = lane.entries;
      while (lane.head < entries.length && entries[lane.head].done) {
        lane.head++;
        lane.cancelled--;
      }
      if (lane.head === entries.length) {
        this.#lanes.delete(ms);
        continue;
      }
      if (lane.head > 1024 && lane.head * 2 > entries.length) {
        lane.entries = entries.slice(lane.head);
        lane.head = 0;
      }
      const e = lane.entries[lane.head];
      if (best === undefined || e.at < best.at) best = e;
    }
    return best;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    try {
      for (;;) {
        const e = this.#earliest();
        if (e === undefined) return;
        if (e.at > this.#clock.now()) {
          if (e.at < this.#armedAt) this.#arm(e.at);
          return;
        }
        e.lane.head++; // it is its lane's head
        e.done = true;
        this.#live--;
        e.fn(e.arg);
      }
    } finally {
      // A callback that threw leaves the rest waiting: keep the timer set.
      if (this.#armedAt === Infinity && this.#live > 0) {
        const e = this.#earliest();
        if (e !== undefined) this.#arm(e.at);
      }
    }
  }
}
