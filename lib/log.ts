/**
 * Logging, made injectable. The library never writes to the console on its
 * own: events worth knowing (a response to an unknown transaction, RFC 4975
 * §7.2; a peer that broke framing, §9) go to a {@linkcode Logger} the
 * application supplies.
 *
 * The same shape carries a trace of the wire: give a logger as the `trace`
 * option of a connection, an endpoint or a relay, and every frame in and out
 * arrives as a `debug` event named `frame in` or `frame out` whose
 * `data.frame` holds the frame rendered as lines (start line, header fields,
 * body length and first octets, end-line; see `lib/wire/frame_trace.ts`).
 *
 * @module
 */

import { markTraceLines } from "./wire/frame_trace.ts";

/** How serious a log event is. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * Receives log events.
 *
 * @param level how serious
 * @param message a sentence
 * @param data structured details
 */
export type Logger =
  & ((level: LogLevel, message: string, data?: Record<string, unknown>) => void)
  & {
    /**
     * Whether events of `level` are wanted at all (absent: all are), so that
     * a busy caller need not build the message of an event that is dropped
     * (the relay's line per forwarded request, at `debug`).
     */
    readonly wants?: (level: LogLevel) => boolean;
  };

/**
 * The default logger: drops everything.
 *
 * @example Drop every log event
 * ```ts
 * import { silentLogger } from "@msrp/msrp";
 *
 * silentLogger("warn", "nobody hears this");
 * ```
 */
export const silentLogger: Logger = Object.assign((): void => {}, { wants: () => false });

/**
 * A logger that writes `warn` and `error` (and, with `verbose`, everything)
 * to stderr, one line per event; a traced frame (`data.frame`) follows its
 * line, each of its lines after `> ` (out) or `< ` (in).
 *
 * @param verbose also write `debug` and `info`
 *
 * @example Log to the console
 * ```ts
 * import { consoleLogger, MsrpEndpoint } from "@msrp/msrp";
 *
 * const endpoint = await MsrpEndpoint.start({ logger: consoleLogger(true) }); // debug and info too
 * await endpoint.close();
 * ```
 */
export function consoleLogger(verbose = false): Logger {
  const wants = (level: LogLevel): boolean => verbose || (level !== "debug" && level !== "info");
  return Object.assign((level: LogLevel, message: string, data?: Record<string, unknown>) => {
    if (!wants(level)) return;
    console.error(formatLogEvent(`[msrp ${level}] `, message, data));
  }, { wants });
}

function formatLogEvent(
  prefix: string,
  message: string,
  data?: Record<string, unknown>,
): string {
  if (data === undefined) return prefix + message;
  const { frame, ...rest } = data;
  const extra = Object.keys(rest).length > 0 ? " " + JSON.stringify(rest) : "";
  if (typeof frame !== "string") return `${prefix}${message}${extra}`;
  const lines = markTraceLines(frame, data.direction === "in" ? "in" : "out");
  return `${prefix}${message}${extra}\n${lines.slice(0, -1)}`;
}
