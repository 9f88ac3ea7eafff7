/**
 * Logging, made injectable. The library never writes to the console on its
 * own: events worth knowing (a response to an unknown transaction, RFC 4975
 * §7.2; a peer that broke framing, §9) go to a {@linkcode Logger} the
 * application supplies.
 *
 * @module
 */

/** How serious a log event is. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * Receives log events.
 *
 * @param level how serious
 * @param message a sentence
 * @param data structured details
 */
export type Logger = (level: LogLevel, message: string, data?: Record<string, unknown>) => void;

/** The default logger: drops everything. */
export const silentLogger: Logger = (): void => {};

/**
 * A logger that writes `warn` and `error` (and, with `verbose`, everything)
 * to stderr, one line per event.
 *
 * @param verbose also write `debug` and `info`
 */
export function consoleLogger(verbose = false): Logger {
  return (level, message, data) => {
    if (!verbose && (level === "debug" || level === "info")) return;
    const extra = data ? " " + JSON.stringify(data) : "";
    console.error(`[msrp ${level}] ${message}${extra}`);
  };
}
