/**
 * When a relay has gone quiet: a callback run once after a stretch without
 * traffic, for a server to give memory back after a burst or a load (see
 * `serveRelay`'s `releaseMemory`). No RFC asks for this; it is what a relay
 * running for months needs. It uses the relay's one clock and the
 * activity the connections already record (`lastActivity`, RFC 4976 §6.5).
 *
 * The watch costs nothing on the hot path: it does not see each read. It is
 * poked when a connection opens or closes and on each sweep of the relay
 * (`sweepIntervalMs`), and then asks the relay for the time of its latest
 * activity (the newest `lastActivity` of its connections, or of its latest
 * open or close). It keeps at most one timer on the relay's clock, and
 * none once it has fired and nothing has happened since: a relay that
 * stays idle is not woken again. Traffic on connections that were already
 * open when it fired is seen at the next sweep.
 *
 * @module
 */

import type { Clock } from "../session/clock.ts";

/** Options of a {@linkcode QuietWatch}. */
export interface QuietWatchOptions {
  /** The relay's clock. */
  readonly clock: Clock;
  /** How long without activity counts as quiet, ms. */
  readonly quietMs: number;
  /**
   * The least time from one `onQuiet` to the next, ms (default 0): traffic
   * in bursts a little more than `quietMs` apart would otherwise have it
   * run after every burst.
   */
  readonly minGapMs?: number;
  /** The time of the latest activity, on `clock`. */
  readonly lastActivity: () => number;
  /** What to do once quiet; an exception is the caller's to catch. */
  readonly onQuiet: () => void;
}

/** Calls `onQuiet` once per quiet stretch; see the module documentation. */
export class QuietWatch {
  readonly #o: QuietWatchOptions;
  #timer: unknown;
  #armed = false;
  #stopped = false;
  /** The activity time `onQuiet` last ran for (nothing newer: nothing to do). */
  #doneFor: number;
  /** When `onQuiet` last ran, on the clock. */
  #firedAt = -Infinity;

  /**
   * Makes a watch; the time it is made counts as done (nothing to give back yet).
   *
   * @param options clock, quiet period, activity source, callback
   */
  constructor(options: QuietWatchOptions) {
    this.#o = options;
    this.#doneFor = options.lastActivity();
  }

  /** Something may have happened: look again once the quiet period could have passed. */
  poke(): void {
    if (this.#armed || this.#stopped) return;
    const last = this.#o.lastActivity();
    if (last <= this.#doneFor) return;
    this.#arm(this.#due(last) - this.#o.clock.now());
  }

  /** Stops the watch and its timer. */
  stop(): void {
    this.#stopped = true;
    if (this.#armed) this.#o.clock.clearTimer(this.#timer);
    this.#armed = false;
  }

  #arm(ms: number): void {
    this.#armed = true;
    this.#timer = this.#o.clock.setTimer(() => this.#check(), Math.max(0, ms));
  }

  #check(): void {
    this.#armed = false;
    if (this.#stopped) return;
    const last = this.#o.lastActivity();
    if (last <= this.#doneFor) return;
    const now = this.#o.clock.now();
    const wait = this.#due(last) - now;
    if (wait > 0) {
      this.#arm(wait);
      return;
    }
    this.#doneFor = last;
    this.#firedAt = now;
    this.#o.onQuiet();
  }

  /** When `onQuiet` may run if nothing happens after `last`. */
  #due(last: number): number {
    return Math.max(last + this.#o.quietMs, this.#firedAt + (this.#o.minGapMs ?? 0));
  }
}
