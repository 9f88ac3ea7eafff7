/**
 * The services a relay is given rather than taking from the system: a clock
 * and a logger.
 *
 * Every timer of the relay runs on the injected {@linkcode RelayClock}: the
 * probation period of a new connection (RFC 4976 §6.1), the 30-second wait
 * for a next hop's response (RFC 4976 §6.4.1), registration expiry (§6.3)
 * and idle connections (§6.5). Tests hand in a clock whose time moves only
 * when they say so. Every failure the relay survives goes to the injected
 * {@linkcode RelayLogger} instead of being thrown.
 *
 * @module
 */

/** The time source and timers of a relay; inject a fake one in tests. */
export interface RelayClock {
  /** Milliseconds since some epoch. */
  now(): number;
  /**
   * Calls `callback` after `ms` milliseconds.
   *
   * @param callback what to run
   * @param ms the delay
   */
  setTimeout(callback: () => void, ms: number): unknown;
  /**
   * Cancels a timer.
   *
   * @param handle what `setTimeout` returned
   */
  clearTimeout(handle: unknown): void;
}

/** The real clock: `Date.now` and the global timers. */
export const systemClock: RelayClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

/** How serious a log event is. */
export type RelayLogLevel = "debug" | "info" | "warn" | "error";

/** One thing worth logging. */
export interface RelayLogEvent {
  /** How serious it is. */
  readonly level: RelayLogLevel;
  /** A stable kebab-case name, e.g. `auth-failed`, `hop-timeout`, `frame-invalid`. */
  readonly event: string;
  /** A sentence a person can read. */
  readonly message: string;
  /** The connection concerned, if any. */
  readonly connection?: number;
  /** The error behind it, if any. */
  readonly error?: unknown;
}

/** Receives the relay's log events. It must not throw. */
export type RelayLogger = (event: RelayLogEvent) => void;

const LEVELS: Record<RelayLogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * A logger writing one line per event to the console (warnings and errors
 * to stderr).
 *
 * @param minLevel the least serious level written (default `info`)
 *
 * @example Log relay events to stderr
 * ```ts
 * import { consoleRelayLogger, loadRelayConfig, serveRelay } from "@msrp/msrp/relay";
 *
 * const server = await serveRelay(await loadRelayConfig("relay.json"), {
 *   logger: consoleRelayLogger("debug"),
 * });
 * ```
 */
export function consoleRelayLogger(minLevel: RelayLogLevel = "info"): RelayLogger {
  return (e) => {
    if (LEVELS[e.level] < LEVELS[minLevel]) return;
    const conn = e.connection === undefined ? "" : ` conn=${e.connection}`;
    const line = `msrp-relay ${e.level} ${e.event}${conn}: ${e.message}`;
    if (LEVELS[e.level] >= LEVELS.warn) console.error(line);
    else console.log(line);
  };
}

/**
 * The message of an error, for a log line.
 *
 * @param error what was thrown
 */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
