/**
 * Keeping a listener alive when accepting fails for a while (RFC 4975 §5.4:
 * the passive endpoint, and a relay (RFC 4976 §6), must keep accepting).
 *
 * `accept()` fails when the process or the system is out of descriptors
 * (`EMFILE`, `ENFILE`), out of buffers or memory (`ENOBUFS`, `ENOMEM`), or
 * when a client gave up between the kernel's handshake and our accept
 * (`ECONNABORTED`). None of these is the listener's fault, and each clears
 * up by itself once connections close. So, as mature servers do, such an
 * error is logged and accepting is retried after a pause that starts at a
 * few milliseconds and doubles up to one second, and goes back to the start
 * after a connection is accepted. The pause runs on the injected
 * {@linkcode Clock}, so tests need not wait. Every listener of this library
 * (TCP, TLS, WebSocket) uses {@linkcode AcceptBackoff}.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import type { Clock } from "../session/clock.ts";

/** The first pause after a temporary accept failure. */
export const ACCEPT_BACKOFF_INITIAL_MS = 5;
/** The longest pause between attempts. */
export const ACCEPT_BACKOFF_MAX_MS = 1000;

/**
 * The default clock: like `systemClock`, but its timers keep the process
 * alive, since a listener waiting to accept again is work in progress.
 */
const refClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as number),
};

/** The `errno` names that mean "try again later" for `accept()`. */
const TEMPORARY_CODES = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM", "ECONNABORTED"]);

/**
 * Whether an error from `accept()` (or from a server that accepts for us)
 * clears up by itself: out of descriptors, buffers or memory, or a
 * connection aborted before it was taken. Deno surfaces these as a plain
 * `Error` with `code` set (`"EMFILE"`), as a `Deno.errors` class
 * (`ConnectionAborted`), or only in the message (`"Too many open files"`),
 * so all three are checked.
 *
 * @param e what `accept()` threw
 * @returns true when accepting again later may work
 */
export function isTemporaryAcceptError(e: unknown): boolean {
  if (e instanceof Deno.errors.ConnectionAborted) return true;
  const code = (e as { code?: unknown })?.code;
  if (typeof code === "string" && TEMPORARY_CODES.has(code)) return true;
  const text = e instanceof Error ? e.message : String(e);
  return /too many open files|no buffer space|cannot allocate memory|os error (23|24|105|12)\b/i
    .test(text);
}

/** Options of {@linkcode AcceptBackoff}. */
export interface AcceptBackoffOptions {
  /** Where the pauses run (default: `setTimeout`). */
  clock?: Clock;
  /** Where a failure is reported (default: nowhere). */
  logger?: Logger;
  /** The listener's address, for the log line (e.g. `"127.0.0.1:2855"`). */
  where?: string;
  /** The first pause (default {@linkcode ACCEPT_BACKOFF_INITIAL_MS}). */
  initialMs?: number;
  /** The longest pause (default {@linkcode ACCEPT_BACKOFF_MAX_MS}). */
  maxMs?: number;
}

/**
 * The retry policy of one listener: after each temporary failure, wait, each
 * time twice as long (up to the maximum); after a success, start again from
 * the first pause.
 */
export class AcceptBackoff {
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #where: string;
  readonly #initial: number;
  readonly #max: number;
  #next: number;
  #failures = 0;
  #cancel: (() => void) | undefined;

  /**
   * Makes the policy of one listener.
   *
   * @param options clock, logger, address, pauses
   */
  constructor(options: AcceptBackoffOptions = {}) {
    this.#clock = options.clock ?? refClock;
    this.#logger = options.logger;
    this.#where = options.where ?? "the listener";
    this.#initial = options.initialMs ?? ACCEPT_BACKOFF_INITIAL_MS;
    this.#max = options.maxMs ?? ACCEPT_BACKOFF_MAX_MS;
    this.#next = this.#initial;
  }

  /** The pause the next failure will cause, in milliseconds. */
  get nextDelayMs(): number {
    return this.#next;
  }

  /** Failures since the last success. */
  get failures(): number {
    return this.#failures;
  }

  /** A connection was accepted: the next failure pauses briefly again. */
  succeeded(): void {
    if (this.#failures > 0) {
      this.#logger?.("info", "accepting again", { listener: this.#where, after: this.#failures });
    }
    this.#failures = 0;
    this.#next = this.#initial;
  }

  /**
   * Reports a temporary failure and waits before the next attempt. The wait
   * ends early (resolving) when {@linkcode AcceptBackoff.cancel} is called.
   *
   * @param error what accepting threw
   * @returns after the pause
   */
  failed(error: unknown): Promise<void> {
    const delay = this.#next;
    this.#next = Math.min(this.#max, this.#next * 2);
    this.#failures++;
    // One line for the first failure of a run, then one each time the pause
    // reaches the maximum: a burst does not flood the log.
    if (this.#failures === 1 || delay === this.#max) {
      this.#logger?.("warn", "accept failed; retrying", {
        listener: this.#where,
        error: error instanceof Error ? error.message : String(error),
        retryMs: delay,
      });
    }
    return new Promise<void>((resolve) => {
      const timer = this.#clock.setTimer(() => {
        this.#cancel = undefined;
        resolve();
      }, delay);
      this.#cancel = () => {
        this.#clock.clearTimer(timer);
        this.#cancel = undefined;
        resolve();
      };
    });
  }

  /** Ends a pause at once (the listener is closing). */
  cancel(): void {
    this.#cancel?.();
  }
}
