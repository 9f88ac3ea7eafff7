/**
 * The private contract between a connection and the sessions it carries
 * (RFC 4975 §5.4, §7.3). Not part of the public API: an `MsrpSession`
 * registers its port here and `MsrpConnection` finds it, so neither class
 * has to expose its internals as public methods.
 *
 * @module
 */

import type { MsrpRequest } from "../wire/frame.ts";
import type { MsrpUri } from "../wire/uri.ts";

/**
 * What a connection may ask of a session. `C` is the connection's class
 * (`MsrpConnection`); it is a parameter so that this module imports neither
 * `connection.ts` nor `session.ts`, and the two import it without a cycle.
 */
export interface SessionPort<C extends object = object> {
  /** Our URI in the session: requests are routed to us by it (§7.3). */
  readonly localUri: MsrpUri;
  /** The connection the session is bound to, if any. */
  readonly connection: C | undefined;
  /**
   * Whether a request's From-Path fits the session: its last URI is the
   * peer itself (relays come before it); a REPORT may also come from a
   * relay on the path, which generates failure REPORTs (RFC 4976 §6.4).
   */
  acceptsFrom(fromPath: readonly MsrpUri[], method: string): boolean;
  /** The session is now bound to `connection` (§5.4: by its first request). */
  bind(connection: C): void;
  /** A request (or a piece of one) for this session; a promise means "wait before reading on". */
  receive(request: MsrpRequest): Promise<void> | undefined;
  /** The connection is gone. */
  lost(error: unknown): void;
}

/** Ports of live sessions. */
export const PORTS: WeakMap<object, SessionPort> = new WeakMap();
