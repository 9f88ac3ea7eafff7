/**
 * Time, made injectable. MSRP runs timers (RFC 4975 §7.1.1: 30 s for a
 * transaction response; RFC 4976 §6.1, §6.5: relay probation and idle
 * timeouts), and tests must drive them without sleeping.
 *
 * @module
 */

/** A source of time and timers. */
export interface Clock {
  /** Milliseconds since an arbitrary origin. */
  now(): number;
  /**
   * Calls `fn` once after `ms` milliseconds.
   *
   * @param fn what to call
   * @param ms delay in milliseconds
   * @returns a handle for {@linkcode Clock.clearTimer}
   */
  setTimer(fn: () => void, ms: number): unknown;
  /**
   * Cancels a timer that has not fired.
   *
   * @param handle what `setTimer` returned
   */
  clearTimer(handle: unknown): void;
}

/**
 * Lets a pending timer not keep the process alive, on the runtimes that can:
 * Deno (`Deno.unrefTimer(id)`) and Node (the timer object's `unref()`). A
 * browser has no process to keep alive, so nothing is done there. Found by
 * feature detection, so that this module loads on every runtime.
 */
function unref(id: unknown): void {
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (typeof deno?.unrefTimer === "function") deno.unrefTimer(id as number);
  else (id as { unref?: () => void } | undefined)?.unref?.();
}

/** The real clock: `Date.now` and `setTimeout`, with timers that do not keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn: () => void, ms: number): unknown {
    const id = setTimeout(fn, ms);
    unref(id);
    return id;
  },
  clearTimer(handle: unknown): void {
    clearTimeout(handle as number);
  },
};

/**
 * A clock that only moves when told to, for tests: {@linkcode ManualClock.advance}
 * fires every timer that falls due, in order.
 *
 * @example Drive timers by hand in a test
 * ```ts
 * import { ManualClock } from "@msrp/msrp";
 *
 * const clock = new ManualClock();
 * let fired = false;
 * clock.setTimer(() => (fired = true), 30_000); // e.g. the 30 s response timer of RFC 4975 §7.1.1
 * clock.advance(29_999);
 * console.log(fired); // false
 * clock.advance(1);
 * console.log(fired); // true
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;

  /**
   * Makes a clock standing at `start`.
   *
   * @param start the initial time in milliseconds
   */
  constructor(start = 0) {
    this.#now = start;
  }

  /** The current time. */
  now(): number {
    return this.#now;
  }

  /**
   * Schedules `fn` at now + `ms`.
   *
   * @param fn what to call
   * @param ms delay in milliseconds
   */
  setTimer(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }

  /**
   * Cancels a timer.
   *
   * @param handle what `setTimer` returned
   */
  clearTimer(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Number of timers not yet fired. */
  get pending(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, firing due timers in time order.
   *
   * @param ms milliseconds to move forward
   */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= until && (due === undefined || entry[1].at < due[1].at)) due = entry;
      }
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fn();
    }
    this.#now = until;
  }
}
