/**
 * The rules of a relay connection's life (RFC 4976 §6.1, §6.3, §6.5;
 * RFC 4975 §5.4).
 *
 * A relay does not trust a new connection (§6.1): it gets a probation period
 * (30 seconds in the RFC, `probationMs` here) to make one successful request,
 * and is closed if it does not, or if it only makes failed ones. A client
 * that keeps failing AUTH is disconnected too (§6.3). A connection that
 * carries no registration and has not been used for a while may be closed
 * (§6.5), and is the first to go when the relay runs out of connections;
 * after it, the connection without AUTH that has been quiet longest. The
 * counts live with the connection's {@linkcode Peer} (`peer.ts`); the
 * decisions, the log lines and the closing are here.
 *
 * @module
 */

import type { Conn } from "./connection.ts";
import type { RelayCore } from "./core.ts";
import { wake } from "./outbound.ts";

/**
 * Starts the probation period of a connection a peer opened (§6.1).
 *
 * @param core the relay
 * @param c the accepted connection
 */
export function startProbation(core: RelayCore, c: Conn): void {
  c.peer.startProbation(core.clock, core.config.limits.probationMs, () => {
    if (c.state === "closed") return;
    core.log("info", "probation-timeout", "no successful request during probation", c);
    core.close(c, "probation ended without a successful request (RFC 4976 §6.1)");
  });
}

/**
 * Closes once what is queued now has been written (bounded by a timer).
 *
 * @param core the relay
 * @param c the connection
 * @param reason for the log
 */
export function closeSoon(core: RelayCore, c: Conn, reason: string): void {
  if (c.closing || c.state === "closed") return;
  c.closing = true;
  c.closingReason = reason;
  c.closeTimer = core.clock.setTimer(
    () => core.close(c, reason),
    core.config.limits.transactionTimeoutMs,
  );
  wake(c);
}

/**
 * A request on `c` succeeded: its probation is over (§6.1).
 *
 * @param core the relay
 * @param c the connection
 */
export function succeeded(core: RelayCore, c: Conn): void {
  c.peer.endProbation(core.clock);
}

/**
 * Counts a failed request (§6.1) or a failed AUTH (§6.3). AUTH failures
 * count only on connections from clients, never from relays.
 *
 * @param core the relay
 * @param c the connection the request came over
 * @param auth whether it was a failed AUTH
 */
export function noteFailure(core: RelayCore, c: Conn, auth: boolean): void {
  const peer = c.peer;
  const verdict = peer.countFailure(auth, !c.outbound, core.config.limits);
  if (verdict === "auth-failures") {
    core.log("warn", "auth-failures", `${peer.authFailures} failed AUTH requests`, c);
    closeSoon(core, c, "too many failed AUTH requests (RFC 4976 §6.3)");
  } else if (verdict === "probation-failures") {
    core.log("warn", "probation-failures", `${peer.probationFailures} failed requests`, c);
    closeSoon(core, c, "only failed requests during probation (RFC 4976 §6.1)");
  }
}

/**
 * Whether `c` is open, has no transaction waiting and nothing queued to
 * write, and carries no registration: such a connection may be closed once
 * unused for a while (§6.5), and is the first to go when the relay needs
 * room. A chunk being received does not count: how long a connection has
 * been unused is the time since its last bytes (`peer.lastActivity`), so a chunk
 * whose sender stalled mid-way leaves the connection idle.
 *
 * @param core the relay
 * @param c the connection
 */
export function isIdle(core: RelayCore, c: Conn): boolean {
  return c.state === "open" && c.pending.size === 0 && c.out.idle &&
    core.regs.countFor({ kind: "connection", connectionId: c.id }) === 0;
}

/**
 * Whether `c` is a peer's connection that holds no registration and is not
 * an identified relay: a client that has not (or no longer) authenticated,
 * or a user without a relay sending to one of our clients (§9.2). Such
 * connections may be closed to make room for others, so that they can
 * never keep authenticated clients out (§6.1 probation alone does not: one
 * request toward a registered client ends it).
 *
 * @param core the relay
 * @param c the connection
 */
export function isUnauthenticated(core: RelayCore, c: Conn): boolean {
  return c.state === "open" && !c.outbound && !c.peer.identifiedRelay &&
    core.regs.countFor({ kind: "connection", connectionId: c.id }) === 0;
}
