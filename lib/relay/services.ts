/**
 * The services a relay is given rather than taking from the system: a clock
 * and a logger.
 *
 * Every timer of the relay runs on the injected session-layer `Clock`
 * (`lib/session/clock.ts`, the one clock of the stack): the
 * probation period of a new connection (RFC 4976 §6.1), the 30-second wait
 * for a next hop's response (RFC 4976 §6.4.1), registration expiry (§6.3)
 * and idle connections (§6.5). Tests hand in a clock whose time moves only
 * when they say so. Every failure the relay survives goes to the injected
 * `Logger` (`lib/log.ts`, the one logger shape of the stack) instead of
 * being thrown: `logger(level, message, { event, connection?, error? })`,
 * where `event` is a stable kebab-case name (`auth-failed`, `hop-timeout`,
 * `frame-invalid`, ...) and `connection` the relay's id of the connection.
 *
 * @module
 */

/**
 * The message of an error, for a log line.
 *
 * @param error what was thrown
 */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
