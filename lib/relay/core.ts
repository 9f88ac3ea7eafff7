/**
 * What the parts of one relay share (internal; not exported from `mod.ts`).
 *
 * `MsrpRelay` (`relay.ts`) is split by job: checking and routing requests
 * (`requests.ts`, RFC 4976 §6.2, §6.4), AUTH (`auth.ts`, §5.1, §6.3, §9.1),
 * forwarding (`forwarder.ts`, §6.4), forwarded transactions and failure
 * REPORTs (`transactions.ts`, §6.4.1, §6.4.3), the writer of each
 * connection (`outbound.ts`, RFC 4975 §7.1.1), and the rules of a
 * connection's life (`lifecycle.ts`, §6.1, §6.3, §6.5). What they act on is
 * declared below them: the connection and its records (`connection.ts`),
 * the peer's identity and probation (`peer.ts`), registrations, routing
 * rules and Digest (`registrations.ts`, `forwarding.ts`, `digest.ts`), so
 * that no module of the relay imports one that imports it back. Each job is
 * a set of plain functions that receive this {@linkcode RelayCore}: the configuration, the
 * clock and the logger, the relay's identity, nonces and registrations, the
 * counters behind `stats()`, and the one thing only the relay itself does,
 * closing a connection and failing what was under way on it (RFC 4976 §6.1,
 * §6.5; RFC 4975 §5.4).
 *
 * @module
 */

import type { TimerQueue } from "../session/timer_queue.ts";
import type { MsrpUri } from "../wire/uri.ts";
import type { RelayConfig } from "./config.ts";
import type { Conn } from "./connection.ts";
import type { NonceManager } from "./digest.ts";
import type { RelayIdentity } from "./forwarding.ts";
import type { RegistrationTable } from "./registrations.ts";
import type { Clock } from "../session/clock.ts";
import type { LogLevel } from "../log.ts";

/** The running totals behind `MsrpRelay.stats()`. */
export interface RelayCounters {
  /** Bytes queued for writing now, all connections together. */
  buffered: number;
  /** The most bytes ever queued at once, all connections together. */
  peakBuffered: number;
  /** The most bytes ever queued at once for one connection. */
  peakConnBuffered: number;
  /** Requests forwarded (each wire transaction counts). */
  forwardedRequests: number;
  /** Body bytes of forwarded SEND requests written. */
  forwardedBodyBytes: number;
}

/** The state and services of one relay that its parts share. */
export interface RelayCore {
  /** The configuration the relay runs with. */
  readonly config: RelayConfig;
  /** Time and timers. */
  readonly clock: Clock;
  /**
   * The transaction timers (RFC 4976 §6.4.1: 30 s per forwarded request),
   * all on one clock timer.
   */
  readonly timers: TimerQueue;
  /** The names and ports the relay answers to. */
  readonly identity: RelayIdentity;
  /** The Digest nonce issuer (RFC 4976 §9.1). */
  readonly nonces: NonceManager;
  /** The URIs handed out in Use-Path (RFC 4976 §6.3). */
  readonly regs: RegistrationTable;
  /** Counters for `stats()`. */
  readonly counters: RelayCounters;
  /** Whether the logger wants `debug` events (`Logger.wants`): else their messages are not built. */
  readonly debug: boolean;
  /**
   * Sends a log event to the injected logger; never throws.
   *
   * @param level how serious
   * @param event a stable kebab-case name
   * @param message a sentence
   * @param conn the connection concerned
   * @param error the error behind it
   */
  log(level: LogLevel, event: string, message: string, conn?: Conn, error?: unknown): void;
  /**
   * The relay's own URI, with a session id for a registration.
   *
   * @param secure msrps (TLS) or msrp
   * @param sessionId the session part, if any
   */
  ownUri(secure: boolean, sessionId: string | undefined): MsrpUri;
  /**
   * Closes a connection now, failing what was under way on it.
   *
   * @param c the connection
   * @param reason for the log
   */
  close(c: Conn, reason: string): void;
}
