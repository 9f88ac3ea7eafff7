/**
 * One connection of a relay and the rules of its life
 * (RFC 4976 §6.1, §6.3, §6.5; RFC 4975 §5.4).
 *
 * A relay does not trust a new connection (§6.1): it gets a probation period
 * (30 seconds in the RFC, `probationMs` here) to make one successful request,
 * and is closed if it does not, or if it only makes failed ones. A client
 * that keeps failing AUTH is disconnected too (§6.3). A connection that
 * carries no registration and has not been used for a while may be closed
 * (§6.5), and is the first to go when the relay runs out of connections;
 * after it, the connection without AUTH that has been quiet longest.
 *
 * {@linkcode Conn} holds everything the relay knows about a connection: its
 * transport and state, its probation and failure counts, its outbound
 * queue and writer state (`out`, an `OutQueue` from `outbound.ts`), the
 * chunk being received on it (`forwarder.ts`), and the forwarded
 * transactions waiting for an answer over it (`transactions.ts`).
 *
 * @module
 */

import { PathCache } from "../wire/path_cache.ts";
import type { FrameTrace } from "../wire/frame_trace.ts";
import type { MsrpTransport } from "../transport/types.ts";
import type { RelayCore } from "./core.ts";
import type { Incoming } from "./forwarder.ts";
import { OutQueue, wake } from "./outbound.ts";
import type { Pending } from "./transactions.ts";

/** The state of one connection, accepted or opened by the relay. */
export class Conn {
  readonly id: number;
  readonly outbound: boolean;
  /** `connectionKey` of the URI an outbound connection was opened for. */
  readonly key: string | undefined;
  transport: MsrpTransport | undefined;
  state: "connecting" | "open" | "closed";
  /** The host the peer is authenticated as (TLS), lower case. */
  peerHost: string | undefined;
  /** An inbound relay identified by mutual TLS (RFC 4976 §6.3). */
  identifiedRelay = false;
  /** Will close once the frames queued now are written. */
  closing = false;
  closingReason = "";
  closeTimer: unknown;
  probation = false;
  probationTimer: unknown;
  probationFailures = 0;
  authFailures = 0;
  /** 401 challenges sent since the last successful AUTH on this connection. */
  challenges = 0;
  lastActivity: number;
  /** What is queued to be written, and the writer task's state (`outbound.ts`). */
  readonly out: OutQueue = new OutQueue();
  /** The trace of what is read. */
  traceIn: FrameTrace | undefined;
  // input
  /** The last To-Path and From-Path texts parsed on this connection. */
  readonly toPaths = new PathCache();
  readonly fromPaths = new PathCache();
  incoming: Incoming | undefined;
  pending = new Map<string, Pending>();
  /** URI keys of peers learned to be reachable over this connection. */
  learned = new Set<string>();

  constructor(id: number, outbound: boolean, key: string | undefined, now: number) {
    this.id = id;
    this.outbound = outbound;
    this.key = key;
    this.state = outbound ? "connecting" : "open";
    this.lastActivity = now;
  }

  get secure(): boolean {
    return this.transport?.secure ?? false;
  }

  /** Read through a getter so that checks after an `await` are not narrowed away. */
  get closed(): boolean {
    return this.state === "closed";
  }
}

/**
 * Closes a transport, ignoring one that is already closed.
 *
 * @param t the transport
 */
export function closeTransport(t: MsrpTransport): void {
  try {
    t.close();
  } catch {
    // already closed
  }
}

/**
 * Starts the probation period of a connection a peer opened (§6.1).
 *
 * @param core the relay
 * @param c the accepted connection
 */
export function startProbation(core: RelayCore, c: Conn): void {
  // §6.1: "the server waits for up to 30 seconds to receive an MSRP request
  // ... If no successful requests are sent during this probationary
  // period, the server closes the connection."
  c.probation = true;
  c.probationTimer = core.clock.setTimer(() => {
    if (c.probation && c.state !== "closed") {
      core.log("info", "probation-timeout", "no successful request during probation", c);
      core.close(c, "probation ended without a successful request (RFC 4976 §6.1)");
    }
  }, core.config.limits.probationMs);
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
  if (!c.probation) return;
  c.probation = false;
  core.clock.clearTimer(c.probationTimer);
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
  const limits = core.config.limits;
  if (auth && !c.outbound && !c.identifiedRelay) {
    c.authFailures++;
    if (c.authFailures >= limits.maxAuthFailures) {
      core.log("warn", "auth-failures", `${c.authFailures} failed AUTH requests`, c);
      closeSoon(core, c, "too many failed AUTH requests (RFC 4976 §6.3)");
      return;
    }
  }
  if (c.probation) {
    c.probationFailures++;
    if (c.probationFailures >= limits.maxProbationFailures) {
      core.log("warn", "probation-failures", `${c.probationFailures} failed requests`, c);
      closeSoon(core, c, "only failed requests during probation (RFC 4976 §6.1)");
    }
  }
}

/**
 * Whether `c` is open, has no transaction waiting and nothing queued to
 * write, and carries no registration: such a connection may be closed once
 * unused for a while (§6.5), and is the first to go when the relay needs
 * room. A chunk being received does not count: how long a connection has
 * been unused is the time since its last bytes (`lastActivity`), so a chunk
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
  return c.state === "open" && !c.outbound && !c.identifiedRelay &&
    core.regs.countFor({ kind: "connection", connectionId: c.id }) === 0;
}
