/**
 * Who is at the other end of one relay connection, and how far the relay
 * trusts it (RFC 4976 §6.1 probation, §6.3 identity and failed AUTHs, §6.5
 * idle connections, §9.2 learned peers).
 *
 * A {@linkcode Peer} is the identity-and-probation owner of a connection:
 *
 * - **identity**: the host a TLS peer is authenticated as, whether it is a
 *   relay identified by mutual TLS (§6.3), and the URIs of peers learned to
 *   be reachable over the connection (§9.2, RFC 4975 §5.4);
 * - **probation** (§6.1): a new inbound connection has `probationMs` to
 *   make one successful request; failed requests during probation, and
 *   failed AUTHs from a client (§6.3), are counted here;
 * - **challenges**: 401s sent since the last successful AUTH;
 * - **last activity**: when bytes last moved, for §6.5.
 *
 * It keeps counts and answers questions; deciding to close the connection
 * (and logging why) is left to `lifecycle.ts`. The set of learned peers is
 * made on first use, so an idle client's connection does not carry one.
 *
 * @module
 */

import type { Clock } from "../session/clock.ts";

/**
 * How long a new connection has to make a successful request: RFC 4976
 * §6.1, "the server waits for up to 30 seconds".
 */
export const PROBATION_MS = 30_000;

/**
 * How long a connection must go unused before it may be closed: RFC 4976
 * §6.5, "not been used in a significant time (more than one hour)".
 */
export const IDLE_CONNECTION_MS = 3_600_000;

/** Why a counted failure should close the connection. */
export type FailureVerdict = "auth-failures" | "probation-failures" | undefined;

/** The limits a {@linkcode Peer} counts against. */
export interface PeerLimits {
  /** Failed AUTH requests from a directly connected client before it is disconnected (§6.3). */
  readonly maxAuthFailures: number;
  /** Failed requests during probation before the connection is closed (§6.1). */
  readonly maxProbationFailures: number;
}

/** What the relay knows of the peer at the other end of one connection. */
export class Peer {
  /** The host the peer is authenticated as (TLS), lower case. */
  host: string | undefined;
  /** An inbound relay identified by mutual TLS (RFC 4976 §6.3). */
  identifiedRelay = false;
  /** In the §6.1 probation period: no successful request yet. */
  probation = false;
  probationTimer: unknown;
  probationFailures = 0;
  authFailures = 0;
  /** 401 challenges sent since the last successful AUTH on this connection. */
  challenges = 0;
  /** When bytes were last read or written, on the relay's clock. */
  lastActivity: number;
  #learned: Set<string> | undefined;

  /**
   * A peer seen now.
   *
   * @param now the relay's clock
   */
  constructor(now: number) {
    this.lastActivity = now;
  }

  /**
   * Identifies the peer as a relay known by its TLS certificate (§6.3).
   *
   * @param host its certificate's host, lower case
   */
  identifyRelay(host: string): void {
    this.host = host;
    this.identifiedRelay = true;
  }

  /**
   * Starts the probation period (§6.1).
   *
   * @param clock the relay's clock
   * @param ms how long it lasts
   * @param expired called if no request has succeeded by then
   */
  startProbation(clock: Clock, ms: number, expired: () => void): void {
    // §6.1: "the server waits for up to 30 seconds to receive an MSRP request
    // ... If no successful requests are sent during this probationary
    // period, the server closes the connection."
    this.probation = true;
    this.probationTimer = clock.setTimer(() => {
      if (this.probation) expired();
    }, ms);
  }

  /**
   * Ends probation: a request succeeded, or the connection closed.
   *
   * @param clock the relay's clock
   */
  endProbation(clock: Clock): void {
    if (!this.probation) return;
    this.probation = false;
    clock.clearTimer(this.probationTimer);
    this.probationTimer = undefined;
  }

  /**
   * Counts a failed request (§6.1) or a failed AUTH (§6.3). AUTH failures
   * count only for a client that connected to the relay, never a relay.
   *
   * @param auth whether it was a failed AUTH
   * @param inbound whether the peer opened the connection
   * @param limits the limits to count against
   * @returns why the connection should now close, if it should
   */
  countFailure(auth: boolean, inbound: boolean, limits: PeerLimits): FailureVerdict {
    if (auth && inbound && !this.identifiedRelay) {
      this.authFailures++;
      if (this.authFailures >= limits.maxAuthFailures) return "auth-failures";
    }
    if (this.probation) {
      this.probationFailures++;
      if (this.probationFailures >= limits.maxProbationFailures) return "probation-failures";
    }
    return undefined;
  }

  /** The keys of peers learned over this connection (see `ConnectionTable.learn`). */
  get learned(): ReadonlySet<string> {
    return this.#learned ?? EMPTY;
  }

  /**
   * Remembers a learned peer, forgetting the oldest beyond `max`.
   *
   * @param key the peer URI's key
   * @param max the most kept
   * @returns the key forgotten to make room, if any
   */
  learn(key: string, max: number): string | undefined {
    const set = this.#learned ??= new Set();
    let dropped: string | undefined;
    if (set.size >= max) {
      dropped = set.values().next().value!;
      set.delete(dropped);
    }
    set.add(key);
    return dropped;
  }

  /** Forgets every learned peer (the connection closed). */
  forgetLearned(): void {
    this.#learned = undefined;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
