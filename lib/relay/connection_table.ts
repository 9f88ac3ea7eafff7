/**
 * Every connection of a relay, and which one a request goes out on
 * (RFC 4975 §5.4; RFC 4976 §6.3, §6.5, §8, §9.2).
 *
 * A forwarded request needs a connection to its next hop. The relay reuses
 * one where it can, as RFC 4975 §5.4 asks of every MSRP device:
 *
 * - a connection it already opened to the same scheme, host and port;
 * - the connection a peer came in on, for the URIs that peer sent from (a
 *   client or a relay that cannot be reached otherwise, RFC 4976 §9.2);
 * - for a URI without a port (an AUTH target, §8), any connection to that
 *   host's relay service;
 * - for a relay known by its TLS certificate, any connection with it (§6.3).
 *
 * Otherwise it opens one through the injected `connect`. A request towards
 * a registered client goes over the binding of its registration: the
 * client's own connection, or a connection with the relay it is behind
 * (§6.3). When the relay is at its connection limit it closes the least
 * recently used idle connection to make room (§6.5), or failing that the
 * longest-quiet connection that carries no AUTH, so that a client can
 * always get in.
 *
 * @module
 */

import type { MsrpTransport } from "../transport/types.ts";
import type { MsrpUri } from "../wire/uri.ts";
import { closeTransport, Conn } from "./connection.ts";
import { isIdle, isUnauthenticated } from "./lifecycle.ts";
import type { RelayCore } from "./core.ts";
import type { RelayRegistration } from "./registrations.ts";
import { describe } from "./services.ts";

/** Peer URIs remembered per connection (see `learn`); the oldest go first. */
const MAX_LEARNED_PER_CONNECTION = 1024;

/** What a {@linkcode ConnectionTable} needs from its relay. */
export interface ConnectionTableOptions {
  /** Opens a connection to a next hop, if the relay may. */
  readonly connect: ((uri: MsrpUri) => Promise<MsrpTransport>) | undefined;
  /** Starts reading and writing a connection once its transport is there. */
  readonly attach: (c: Conn, transport: MsrpTransport) => void;
  /** Whether the relay has been closed. */
  readonly shutDown: () => boolean;
}

/** The connections of one relay, by id, by next-hop address, and by learned peer. */
export class ConnectionTable {
  readonly #core: RelayCore;
  readonly #connect: ((uri: MsrpUri) => Promise<MsrpTransport>) | undefined;
  readonly #attach: (c: Conn, transport: MsrpTransport) => void;
  readonly #shutDown: () => boolean;
  readonly #conns = new Map<number, Conn>();
  readonly #byKey = new Map<string, Conn>();
  /** Peer URIs (full, with session id) reachable over connections they came from. */
  readonly #learned = new Map<string, Conn>();
  #nextId = 1;

  /**
   * Makes an empty table.
   *
   * @param core the relay
   * @param options how to open and attach connections
   */
  constructor(core: RelayCore, options: ConnectionTableOptions) {
    this.#core = core;
    this.#connect = options.connect;
    this.#attach = options.attach;
    this.#shutDown = options.shutDown;
  }

  /** Open (or opening) connections. */
  get size(): number {
    return this.#conns.size;
  }

  /** The open (or opening) connections. */
  values(): IterableIterator<Conn> {
    return this.#conns.values();
  }

  /** Adds a connection a peer opened, with a new id. */
  addInbound(): Conn {
    const c = this.#newConn(false, undefined);
    this.#conns.set(c.id, c);
    return c;
  }

  #newConn(outbound: boolean, key: string | undefined): Conn {
    const core = this.#core;
    return new Conn(
      this.#nextId++,
      outbound,
      key,
      core.clock.now(),
      core.timers,
      core.config.limits.transactionTimeoutMs,
    );
  }

  /**
   * Forgets a connection that closed, and the peers learned over it.
   *
   * @param c the connection
   */
  remove(c: Conn): void {
    this.#conns.delete(c.id);
    if (c.key !== undefined && this.#byKey.get(c.key) === c) this.#byKey.delete(c.key);
    for (const k of c.peer.learned) if (this.#learned.get(k) === c) this.#learned.delete(k);
    c.peer.forgetLearned();
  }

  /**
   * Below the connection limit, closing a connection if needed: the least
   * recently used idle one (§6.5), else the unauthenticated one quiet for
   * longest, so that peers that never AUTH cannot keep clients out; a
   * connection in the middle of AUTH (challenged, no grant yet) goes last.
   * False when every connection is busy and authenticated (or a relay's own).
   */
  makeRoom(): boolean {
    if (this.#conns.size < this.#core.config.limits.maxConnections) return true;
    // Who goes, in order: an idle connection, then a busy one without AUTH;
    // in each, one in the middle of AUTH (challenged, its credentials on
    // the way) only after every other, so that silent newcomers cannot push
    // out a client working out its answer. Oldest activity first.
    let best: Conn | undefined;
    let bestRank = Infinity;
    for (const c of this.#conns.values()) {
      const idle = isIdle(this.#core, c);
      if (!idle && !isUnauthenticated(this.#core, c)) continue;
      const rank = (idle ? 0 : 1) + (c.peer.challenges > 0 ? 2 : 0);
      if (rank < bestRank || (rank === bestRank && c.peer.lastActivity < best!.peer.lastActivity)) {
        best = c;
        bestRank = rank;
      }
    }
    if (best === undefined) return false;
    if (bestRank === 0 || bestRank === 2) {
      this.#core.close(best, "closed to make room for a new connection (RFC 4976 §6.5)");
      return true;
    }
    this.#core.log(
      "warn",
      "connection-evicted",
      "at the connection limit: closing the longest-quiet connection without AUTH",
      best,
    );
    this.#core.close(best, "unauthenticated; closed to make room for a new connection");
    return true;
  }

  /**
   * The connection to reach `uri` over: an existing one to that host, port and scheme, or a new one.
   *
   * @param uri the next hop
   */
  hopTarget(uri: MsrpUri): Conn | undefined {
    const core = this.#core;
    const key = uri.connectionKey;
    const existing = this.#byKey.get(key);
    if (existing !== undefined && existing.state !== "closed") return existing;
    // A peer that connected to the relay is reached over its own connection.
    const learned = this.#learned.get(uri.key);
    if (learned !== undefined && learned.state === "open") return learned;
    // A URI without a port (an AUTH target, RFC 4976 §8) names the relay's
    // service, whatever port it resolves to: a connection opened for one
    // serves the relay's URIs with ports, and the other way round.
    const hostKey = key.slice(0, key.lastIndexOf(":") + 1);
    for (const c of this.#byKey.values()) {
      if (
        c.key !== undefined && c.key.startsWith(hostKey) && c.state !== "closed" &&
        (uri.port === undefined || c.key === hostKey)
      ) return c;
    }
    // RFC 4976 §6.3: a relay known by mutual TLS is reachable over any connection to it.
    if (uri.secure) {
      const host = uri.host.toLowerCase();
      for (const c of this.#conns.values()) {
        if (c.peer.identifiedRelay && c.peer.host === host && c.state === "open") return c;
      }
    }
    if (this.#connect === undefined) {
      core.log("warn", "no-connect", `no connection to ${uri} and no connect function`);
      return undefined;
    }
    if (!this.makeRoom()) {
      core.log("warn", "connection-limit", `cannot open a connection to ${uri}: at the limit`);
      return undefined;
    }
    const c = this.#newConn(true, key);
    this.#conns.set(c.id, c);
    this.#byKey.set(key, c);
    core.log("info", "connecting", `opening a connection to ${uri}`, c);
    const connect = this.#connect;
    // A connection attempt gets as long as a hop (§6.4.1) before it is given up.
    const timer = core.clock.setTimer(() => {
      if (c.state !== "connecting") return;
      core.log("warn", "connect-failed", `connecting to ${uri} timed out`, c);
      core.close(c, "connect timed out");
    }, core.config.limits.transactionTimeoutMs);
    // Not tracked: close() must not wait for a connect() that never settles;
    // a transport that arrives after the relay closed is closed at once.
    void (async () => {
      let transport: MsrpTransport;
      try {
        transport = await connect(uri);
      } catch (e) {
        core.clock.clearTimer(timer);
        core.log("warn", "connect-failed", `cannot connect to ${uri}: ${describe(e)}`, c, e);
        core.close(c, "connect failed");
        return;
      }
      core.clock.clearTimer(timer);
      if (c.state === "closed" || this.#shutDown()) {
        closeTransport(transport);
        return;
      }
      // The TLS handshake checked the server's name against the URI (RFC 4976 §9.2).
      if (transport.secure) c.peer.host = uri.host.toLowerCase();
      this.#attach(c, transport);
    })().catch((e) => {
      core.log("error", "internal-error", `while connecting: ${describe(e)}`, c, e);
    });
    return c;
  }

  /**
   * The connection a request toward a registered client goes over (its binding, §6.3).
   *
   * @param reg the client's registration
   * @param next the next To-Path URI
   */
  clientTarget(reg: RelayRegistration, next: MsrpUri): Conn | undefined {
    const b = reg.binding;
    if (b.kind === "connection") {
      const c = this.#conns.get(b.connectionId);
      return c === undefined || c.state === "closed" ? undefined : c;
    }
    for (const c of this.#conns.values()) {
      if (c.peer.host === b.host && c.state === "open") return c;
    }
    return next.host.toLowerCase() === b.host ? this.hopTarget(next) : undefined;
  }

  /**
   * Remembers that `peer` (the previous hop of a request delivered towards
   * one of our clients) is reached over `c`: a user without a relay who
   * connected to us (RFC 4976 §9.2, last note), or a relay we cannot
   * identify, gets requests back over its own connection, as an endpoint
   * binds a session to the connection of its first request (RFC 4975 §5.4).
   * The key is the whole URI with its secret session part, and the first
   * connection keeps it while open, so knowing a host and port is not
   * enough to divert anyone's traffic.
   *
   * @param c the connection the request came over
   * @param peer the first From-Path URI of the request
   */
  learn(c: Conn, peer: MsrpUri): void {
    if (c.outbound || c.peer.identifiedRelay || peer.sessionId === undefined) return;
    const key = peer.key;
    const current = this.#learned.get(key);
    if (current !== undefined && current.state !== "closed") return;
    const oldest = c.peer.learn(key, MAX_LEARNED_PER_CONNECTION);
    if (oldest !== undefined && this.#learned.get(oldest) === c) this.#learned.delete(oldest);
    this.#learned.set(key, c);
  }
}
