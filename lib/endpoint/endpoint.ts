/**
 * An MSRP endpoint: sessions, connections and the ways two endpoints find
 * each other (RFC 4975 §5.4, §8; RFC 4976 §5; RFC 6135).
 *
 * An endpoint serves the four cases every MSRP application meets, with the
 * same steps each time:
 *
 * 1. make a session with a fresh URI and put its path in our SDP
 *    (`a=path`; through relays, the relays' Use-Path reversed, then ours);
 * 2. take the peer's path from its SDP;
 * 3. connect (the side that opens the connection, RFC 4975 §8.5 / RFC 6135)
 *    or wait for the peer to connect (the other side);
 * 4. the connecting side sends the first SEND, which binds the session at
 *    the other end (§5.4); its From-Path is checked against the peer's path.
 *
 * Connections to the same host, port and scheme are shared by sessions
 * (§5.4) and closed once no session has used them for a while. One
 * listening port serves any number of sessions and connections. A session
 * whose peer never binds ends with a `bind-timeout` error.
 *
 * Over TLS, a peer whose SDP carries `a=fingerprint` must present a matching
 * certificate, CA-signed or not (RFC 4975 §14.4): the connecting side checks
 * the server's certificate, the listening side the client's when the first
 * request names the session. A relay's certificate can be pinned the same
 * way ({@linkcode RelayAccount.fingerprints}).
 *
 * ```ts
 * const alice = await MsrpEndpoint.start({ host: "127.0.0.1", port: 0 });
 * const bob = await MsrpEndpoint.start({ host: "127.0.0.1", port: 0 });
 * const a = alice.createSession();
 * const b = bob.createSession();
 * const offer = alice.offer(a);                 // to Bob, e.g. in a SIP INVITE
 * const answer = await bob.answer(b, offer);    // back to Alice
 * await alice.completeOffer(a, answer);
 * await a.send("Hello Bob");
 * ```
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import { type Logger, silentLogger } from "../log.ts";
import { computeFingerprint } from "../transport/fingerprint.ts";
import {
  type Direction,
  type FileTransferAttributes,
  type Fingerprint,
  makeAnswer,
  makeOffer,
  type MsrpMedia,
  parseMsrpMedia,
  whoConnects,
} from "../payload/sdp.ts";
import { type Clock, systemClock } from "../session/clock.ts";
import {
  MsrpConnection,
  type PeerSessionFactory,
  SessionDirectory,
} from "../session/connection.ts";
import { MsrpSession, type SessionOptions } from "../session/session.ts";
import { connectTcp, listenTcp, type MsrpListener } from "../transport/tcp.ts";
import {
  checkPeerFingerprint,
  connectTls,
  listenTls,
  type TlsTransport,
} from "../transport/tls.ts";
import { connectWebSocket } from "../transport/websocket.ts";
import { listenWebSocket } from "../transport/websocket_server.ts";
import type { MsrpTransport, NetAddress } from "../transport/types.ts";
import { newSessionId } from "../wire/ids.ts";
import { MsrpUri } from "../wire/uri.ts";
import { type RelayAccount, RelayClient, type UsePathChange } from "./relay_client.ts";

/** Our TLS identity, for listening on msrps and for mutual TLS. */
export interface TlsIdentity {
  /** Certificate chain, PEM. */
  readonly cert: string;
  /** Private key, PEM. */
  readonly key: string;
}

/** Options of {@linkcode MsrpEndpoint.start}. */
export interface EndpointOptions {
  /** The host name or IP address in our URIs (and, by default, the address we bind). Default `127.0.0.1`. */
  host?: string;
  /** The address to bind, when it differs from `host` (e.g. `0.0.0.0`). */
  bindAddress?: string;
  /**
   * The port to listen on; 0 picks a free one. Leave it out for an endpoint
   * that only connects (its URIs then carry port 9, RFC 6135 §4.2.2).
   */
  port?: number;
  /** Listen with TLS (msrps) using this certificate and key. */
  tls?: TlsIdentity;
  /**
   * Listen on WebSocket instead of TCP (RFC 7977): our URIs then carry the
   * `ws` transport. Plain `ws:` without `tls` is for tests only (§5.1
   * requires TLS).
   */
  webSocket?: boolean;
  /** Extra trusted roots (PEM) for msrps connections we open. */
  caCerts?: string[];
  /** Relays to use, innermost first (RFC 4976 §5.1). */
  relays?: readonly RelayAccount[];
  /**
   * Called when a renewal of the relay grant brings a new Use-Path (a relay
   * that hands out a new URI on each AUTH). Sessions made before keep the
   * old path, which works until `change.previousExpiresAt`: re-offer them
   * through the signalling before then ({@linkcode MsrpEndpoint.offer} gives
   * the new path). Shortly before the old grant lapses, their requests
   * switch to the new Use-Path.
   */
  onRelayPathChange?: (change: UsePathChange) => void;
  /** Defaults for every session made by {@linkcode MsrpEndpoint.createSession}. */
  session?: Partial<Omit<SessionOptions, "localUri" | "remotePath">>;
  /** How long a passive session waits for its peer's first request. Default 30000 ms. */
  bindTimeout?: number;
  /** How long a connection without sessions stays open. Default 60000 ms. */
  idleTimeout?: number;
  /** Where time comes from. */
  clock?: Clock;
  /** Where log events go. */
  logger?: Logger;
  /**
   * Where a trace of the wire goes: every frame in and out on every
   * connection, as `debug` events `frame in` / `frame out` (see
   * `lib/wire/frame_trace.ts`). Default: no trace.
   */
  trace?: Logger;
  /**
   * Octets of SEND chunks a connection may have written whose 200 is still
   * owed, the most (see `ConnectionOptions.sendWindow`). Default 8 MiB.
   */
  sendWindow?: number;
  /** The send window counted in time (see `ConnectionOptions.sendWindowMs`). Default 10 ms. */
  sendWindowMs?: number;
  /** The longest wait for a TCP/TLS/WebSocket connection to open. Default 10000 ms. */
  connectTimeout?: number;
  /** How transports are opened; tests replace it. Default: TCP or TLS by the URI's scheme. */
  connect?: (
    uri: MsrpUri,
    options: { fingerprints?: readonly Fingerprint[] },
  ) => Promise<MsrpTransport>;
}

/** Options of {@linkcode MsrpEndpoint.connect}. */
export interface ConnectOptions {
  /**
   * The peer's certificate fingerprints (its SDP `a=fingerprint`, RFC 4975
   * §14.4, or a pin the user gave). When set and the first hop is `msrps:`,
   * the peer's certificate must match one of them, CA-signed or not; the CA
   * and name checks are then not made. Ignored through a relay (the TLS
   * connection is to the relay; pin it with {@linkcode RelayAccount.fingerprints}).
   */
  fingerprints?: readonly Fingerprint[];
}

/** Options of {@linkcode MsrpEndpoint.accept}. */
export interface AcceptOptions {
  /** Milliseconds to wait for the peer; default `bindTimeout`. */
  timeout?: number;
  /**
   * The peer's certificate fingerprints (its SDP `a=fingerprint`, RFC 4975
   * §14.4, or a pin the user gave). When set, a peer that connects to us over
   * TLS binds the session only if the certificate it presented matches; a
   * mismatch, or no certificate, tears the session down. The check needs to
   * see the peer's certificate: an `msrps:` TCP listener asks clients for it;
   * a WebSocket connection cannot show it (Deno's WebSocket API does not), and
   * through a relay the connection is the relay's, so there it is not made.
   */
  fingerprints?: readonly Fingerprint[];
}

/** Options of {@linkcode MsrpEndpoint.acceptEach}. */
export interface AcceptEachOptions {
  /**
   * Options of every peer's session; the endpoint's defaults fill the rest.
   * `localUri` is the URI served; default a fresh one.
   */
  session?: Partial<Omit<SessionOptions, "remotePath">>;
  /**
   * The certificate fingerprints a peer must present, as
   * {@linkcode AcceptOptions.fingerprints}: a peer that connects over TLS
   * and does not match gets no session (481, RFC 4975 §14.4).
   */
  fingerprints?: readonly Fingerprint[];
  /** Called with the reason when a peer is refused for its certificate. */
  onRefused?: (error: unknown) => void;
}

/** A URI served to any number of peers, one session each ({@linkcode MsrpEndpoint.acceptEach}). */
export interface ServedUri {
  /** The URI served: the last URI of every peer's To-Path. */
  readonly localUri: MsrpUri;
  /** Stops making sessions for new peers; the sessions made go on. */
  stop(): void;
}

/** What an offer or answer carries besides the path. */
export interface SdpOptions {
  /** `a=accept-types` (§8.6). Default: the session's accept-types, else `*`. */
  acceptTypes?: readonly string[];
  /** `a=accept-wrapped-types` (§8.6). */
  acceptWrappedTypes?: readonly string[];
  /** `a=max-size` (§8.6). */
  maxSize?: number;
  /** File-transfer attributes (RFC 5547: file-selector, file-transfer-id, ...). */
  file?: FileTransferAttributes;
  /** The direction (RFC 5547 pushes a file with `sendonly`, pulls one with `recvonly`). */
  direction?: Direction;
}

/** How long before an old relay grant lapses its sessions move to the new Use-Path. */
const GRANT_SWITCH_MARGIN_MS = 2000;

/** `::ffff:192.0.2.1` (an IPv4 address on an IPv6 socket) as `192.0.2.1`; other addresses unchanged. */
function unmapIpv4(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m === null ? address : m[1];
}

/** The first hop of a path: where a connection must go. */
function firstHop(path: readonly MsrpUri[]): MsrpUri {
  if (path.length === 0) {
    throw new MsrpError("empty-path", "a path needs at least one URI (RFC 4975 §8.2)");
  }
  return path[0];
}

function toUris(path: readonly (MsrpUri | string)[]): MsrpUri[] {
  return path.map((u) => typeof u === "string" ? MsrpUri.parse(u) : u);
}

/**
 * An MSRP endpoint.
 *
 * @example Two endpoints, one session (RFC 4975 §8)
 * ```ts
 * import { MsrpEndpoint } from "@msrp/msrp";
 *
 * const alice = await MsrpEndpoint.start({ host: "127.0.0.1", port: 0 });
 * const bob = await MsrpEndpoint.start({ host: "127.0.0.1", port: 0 });
 * const a = alice.createSession();
 * const b = bob.createSession();
 * const answer = await bob.answer(b, alice.offer(a)); // SDP, as SIP would carry it
 * await alice.completeOffer(a, answer);
 * await a.send("Hello Bob");
 * console.log(await (await b.nextMessage())?.text());
 * await alice.close();
 * await bob.close();
 * ```
 */
export class MsrpEndpoint {
  /** Sessions waiting for their peer's first request. */
  readonly directory: SessionDirectory = new SessionDirectory();
  readonly #options: EndpointOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #host: string;
  #listener: MsrpListener | undefined;
  #port: number | undefined;
  // Connections we opened, by scheme://host:port (§5.4); a connect in
  // progress is shared too, so concurrent sessions do not open two.
  readonly #connections = new Map<string, Promise<MsrpConnection>>();
  readonly #opened = new Set<MsrpConnection>();
  readonly #accepted = new Set<MsrpConnection>();
  readonly #idleTimers = new Map<MsrpConnection, unknown>();
  /** Timers that move sessions off a lapsing relay grant. */
  readonly #grantTimers = new Set<unknown>();
  readonly #sessions = new Set<MsrpSession>();
  #relay: { client: RelayClient; connection: MsrpConnection } | undefined;
  /** Set while the relay connection is being re-established after a loss. */
  #relinking: Promise<void> | undefined;
  #fingerprints: Fingerprint[] = [];
  /** Passive sessions whose peer must present a certificate with one of these fingerprints (§14.4). */
  readonly #peerFingerprints = new WeakMap<MsrpSession, readonly Fingerprint[]>();
  readonly #offers = new WeakMap<MsrpSession, string>();
  #closed = false;

  private constructor(options: EndpointOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#host = options.host ?? "127.0.0.1";
  }

  /**
   * Starts an endpoint: listens when a port is given, and authenticates to
   * its relays when it has some.
   *
   * @param options host, port, TLS, relays, defaults
   * @throws {MsrpError} `listen-failed` when the port cannot be bound
   * @throws {RelayAuthError} when a relay refuses us
   */
  static async start(options: EndpointOptions = {}): Promise<MsrpEndpoint> {
    const endpoint = new MsrpEndpoint(options);
    await endpoint.#start();
    return endpoint;
  }

  async #start(): Promise<void> {
    const o = this.#options;
    // §14.4: with our own certificate, SDP carries its fingerprint, so a
    // peer can accept it even when it is self-signed.
    if (o.tls) this.#fingerprints = [computeFingerprint(pemToDer(o.tls.cert))];
    if (o.port !== undefined) {
      const hostname = o.bindAddress ?? this.#host;
      // Failed accepts (out of descriptors, ...) are retried with back-off
      // and logged; an injected clock runs the pauses.
      const services = { clock: o.clock, logger: this.#logger };
      this.#listener = o.webSocket
        ? listenWebSocket({
          ...services,
          hostname,
          port: o.port,
          cert: o.tls?.cert,
          key: o.tls?.key,
          insecure: !o.tls,
        })
        : o.tls
        // §14.4: ask connecting peers for their certificates, to check them
        // against their SDP fingerprints when their first request arrives.
        ? await listenTls({
          ...services,
          hostname,
          port: o.port,
          cert: o.tls.cert,
          key: o.tls.key,
          requestClientCertificate: true,
        })
        : listenTcp({ ...services, hostname, port: o.port });
      this.#port = this.#listener.addr.port;
      this.#acceptLoop(this.#listener);
    }
    if (o.relays !== undefined && o.relays.length > 0) await this.#linkRelays();
  }

  /**
   * Connects to the first relay and AUTHs to each relay in turn (RFC 4976
   * §5.1). When that connection is later lost, its sessions fail with it
   * (RFC 4975 §5.4) and the endpoint links again, backing off from 1 s to a
   * minute between attempts, so that new sessions can be made.
   */
  async #linkRelays(): Promise<void> {
    const relays = this.#options.relays!;
    const first = typeof relays[0].uri === "string" ? MsrpUri.parse(relays[0].uri) : relays[0].uri;
    if (
      relays[0].fingerprints !== undefined && relays[0].fingerprints.length > 0 && !first.secure
    ) {
      throw new MsrpError(
        "bad-tls-options",
        `the relay ${first} is reached without TLS (msrp:): its fingerprints cannot be checked`,
      );
    }
    const connection = await this.#connection(first, {
      fingerprints: relays[0].fingerprints,
      relay: true,
    });
    const client = new RelayClient({
      connection,
      relays,
      localUri: this.#uriFor(newSessionId(), connection),
      clock: this.#clock,
      onRenewFailed: (error) =>
        this.#logger("error", "relay renewal failed", { error: String(error) }),
      onUsePathChange: (change) => this.#usePathChanged(connection, change),
    });
    try {
      await client.authenticate();
    } catch (error) {
      connection.close(error);
      throw error;
    }
    this.#relay = { client, connection };
    connection.closed.then(() => {
      client.close();
      if (!this.#closed && this.#relay?.connection === connection) this.#relinking = this.#relink();
    });
  }

  /**
   * The relay handed out a new Use-Path on renewal: tell the application
   * now, while the old grant still works, and move the sessions still on the
   * old path to the new one just before it lapses (RFC 4976 §9.4: the
   * tokens are re-negotiated by offer/answer "before the tokens expire").
   */
  #usePathChanged(connection: MsrpConnection, change: UsePathChange): void {
    this.#logger("info", "relay Use-Path changed on renewal", {
      usePath: change.usePath.map(String),
      previous: change.previous.map(String),
      previousExpiresAt: change.previousExpiresAt,
    });
    try {
      this.#options.onRelayPathChange?.(change);
    } catch (error) {
      this.#logger("error", "onRelayPathChange threw", { error: String(error) });
    }
    const margin = Math.min(
      GRANT_SWITCH_MARGIN_MS,
      (change.previousExpiresAt - this.#clock.now()) / 2,
    );
    const timer = this.#clock.setTimer(() => {
      this.#grantTimers.delete(timer);
      const old = change.previous;
      for (const session of this.#sessions) {
        const path = session.remotePath;
        if (
          session.connection !== connection || path.length < old.length ||
          !old.every((u, i) => u.equals(path[i]))
        ) continue;
        session.setRemotePath([...change.usePath, ...path.slice(old.length)]);
      }
    }, Math.max(0, change.previousExpiresAt - this.#clock.now() - margin));
    this.#grantTimers.add(timer);
  }

  async #relink(): Promise<void> {
    for (let delay = 1000; !this.#closed; delay = Math.min(60_000, delay * 2)) {
      try {
        await this.#linkRelays();
        this.#relinking = undefined;
        return;
      } catch (error) {
        this.#logger("warn", "relay link failed; retrying", {
          error: String(error),
          retryMs: delay,
        });
        await new Promise<void>((resolve) => this.#clock.setTimer(resolve, delay));
      }
    }
  }

  /**
   * Resolves once the endpoint can make sessions: at once, or, after the
   * relay connection was lost, when it is re-established and authenticated.
   */
  whenReady(): Promise<void> {
    return this.#relinking ?? Promise.resolve();
  }

  /** The relay link, or a clear error while it is being re-established. */
  #relayNow(): { client: RelayClient; connection: MsrpConnection } | undefined {
    if (this.#relinking !== undefined) {
      throw new MsrpError(
        "relay-reconnecting",
        "the relay connection is being re-established; await endpoint.whenReady()",
      );
    }
    return this.#relay;
  }

  /** Where we listen, when we do. */
  get address(): NetAddress | undefined {
    return this.#port === undefined ? undefined : { hostname: this.#host, port: this.#port };
  }

  /**
   * Whether our URIs are msrps: when we listen with TLS, or reach the world
   * through a relay over TLS (as in the examples of RFC 4976 §5.1).
   */
  get secure(): boolean {
    if (this.#options.tls !== undefined) return true;
    const first = this.#options.relays?.[0]?.uri;
    if (first === undefined) return false;
    return (typeof first === "string" ? MsrpUri.parse(first) : first).secure;
  }

  /** The Use-Path our relays gave us (empty without relays). */
  get usePath(): readonly MsrpUri[] {
    return this.#relay?.client.usePath ?? [];
  }

  /** Open connections (ours and accepted ones). */
  get connections(): MsrpConnection[] {
    return [...this.#opened, ...this.#accepted].filter((c) => !c.ended);
  }

  /**
   * A URI of ours. Behind relays, peers reach us over our connection to the
   * first relay (RFC 4976 §5.1), so the URI names that connection's local
   * address and port, of its address family; a relay that routes by URI
   * rather than by connection finds us there. Otherwise: our host, and our
   * port or 9 (RFC 6135 §4.2.2: an endpoint that does not listen).
   *
   * @param sessionId the session id
   * @param relayConnection the connection to the first relay, if any
   */
  #uriFor(sessionId: string, relayConnection = this.#relay?.connection): MsrpUri {
    const parts = {
      scheme: this.secure ? "msrps" : "msrp",
      sessionId,
      transport: this.#options.webSocket ? "ws" : "tcp",
    } as const;
    const local = relayConnection?.transport.localAddr;
    if (local !== undefined) {
      try {
        return MsrpUri.from({ ...parts, host: unmapIpv4(local.hostname), port: local.port });
      } catch {
        // e.g. an IPv6 address with a zone id: fall back to our host
      }
    }
    return MsrpUri.from({ ...parts, host: this.#host, port: this.#port ?? 9 });
  }

  /**
   * A new session with a fresh URI (80+ random bits of session id, §14.1),
   * or the `localUri` given.
   *
   * @param options session options; the endpoint's defaults fill the rest
   */
  createSession(options: Partial<SessionOptions> = {}): MsrpSession {
    if (this.#closed) throw new MsrpError("endpoint-closed", "the endpoint is closed");
    const session = new MsrpSession({
      ...this.#options.session,
      ...options,
      // A given URI is reused as is (a server handing out one URI again).
      localUri: options.localUri ?? this.#uriFor(newSessionId()),
    });
    this.#sessions.add(session);
    session.closed.then(() => this.#sessionEnded(session));
    return session;
  }

  /**
   * The `a=path` of a session (§8.2): through relays, their Use-Path
   * reversed and then the session's URI (RFC 4976 §5.1); else its URI.
   *
   * @param session a session of this endpoint, or a URI it serves ({@linkcode MsrpEndpoint.acceptEach})
   */
  path(session: { readonly localUri: MsrpUri }): MsrpUri[] {
    const relay = this.#relayNow();
    return relay ? relay.client.sdpPath(session.localUri) : [session.localUri];
  }

  /**
   * Connects a session to its peer and binds it (the active side, §5.4):
   * reuses or opens the connection to the first hop (our relay, or the
   * peer), sends the binding SEND and waits for its 200.
   *
   * @param session a session of this endpoint
   * @param peerPath the peer's `a=path`
   * @param options the peer's certificate fingerprints (§14.4)
   * @throws {MsrpError} `connect-refused`, `bind-refused`, `bind-timeout`,
   *   `fingerprint-mismatch`, `tls-untrusted`...
   */
  async connect(
    session: MsrpSession,
    peerPath: readonly (MsrpUri | string)[],
    options: ConnectOptions = {},
  ): Promise<void> {
    if (this.#relinking !== undefined) await this.#relinking;
    const path = toUris(peerPath);
    const toPath = this.#relay ? this.#relay.client.toPath(path) : path;
    session.setRemotePath(toPath);
    const connection = this.#relay?.connection ?? await this.#connection(firstHop(path), options);
    this.#attach(connection, session);
    session.sendBindRequest();
    await session.ready;
  }

  /**
   * Waits for the peer to bind a session (the passive side, §5.4). Without
   * relays the peer connects to our port; through relays the session waits
   * on our relay connection. Rejects with `bind-timeout` if nothing comes.
   * The session is one peer's: to serve its URI to several peers, each in a
   * session of its own, use {@linkcode MsrpEndpoint.acceptEach} (a second
   * session made once the first is bound comes too late for a peer whose
   * first request was read with the first one's: it gets 403).
   *
   * @param session a session of this endpoint
   * @param peerPath the peer's `a=path`
   * @param options milliseconds to wait (default `bindTimeout`), or that and
   *   the peer's certificate fingerprints (§14.4)
   * @throws {MsrpError} `bind-timeout`; `fingerprint-mismatch` or
   *   `no-peer-certificate` when the peer's certificate does not match
   */
  async accept(
    session: MsrpSession,
    peerPath: readonly (MsrpUri | string)[],
    options?: number | AcceptOptions,
  ): Promise<void> {
    const { timeout, fingerprints } = typeof options === "number"
      ? { timeout: options, fingerprints: undefined }
      : options ?? {};
    if (this.#relinking !== undefined) await this.#relinking;
    const path = toUris(peerPath);
    // An empty path means "not known yet": the session learns it from the
    // peer's first request (its From-Path, relays included).
    session.setRemotePath(
      path.length === 0 ? [] : this.#relay ? this.#relay.client.toPath(path) : path,
    );
    if (this.#relay) {
      this.#attach(this.#relay.connection, session);
    } else {
      if (this.#listener === undefined) {
        throw new MsrpError("not-listening", "a passive session needs an endpoint with a port");
      }
      this.directory.add(session);
      if (fingerprints !== undefined && fingerprints.length > 0) {
        this.#peerFingerprints.set(session, fingerprints);
      }
    }
    const ms = timeout ?? this.#options.bindTimeout ?? 30_000;
    const timer = this.#clock.setTimer(() => {
      session.close(
        new MsrpError(
          "bind-timeout",
          `the peer did not bind ${session.localUri} within ${ms} ms (§5.4)`,
        ),
      );
    }, ms);
    try {
      await session.ready;
    } finally {
      this.#clock.clearTimer(timer);
      this.directory.delete(session);
    }
  }

  /**
   * Serves one URI to any number of peers, each in a session of its own
   * (e.g. `msrp listen`, which prints one URI for every sender). A session
   * is one pair of endpoints (RFC 4975 §5.4) and its peer is the last URI of
   * the From-Path (relays come before it, RFC 4976 §6.4), so the URI has a
   * session per peer, all with that local URI. Each is made as its peer's
   * first SEND is routed, on the connection it arrived on (§5.4, §7.3:
   * `SessionDirectory.servePerPeer`): through a relay every peer arrives on
   * the one relay connection, and two new peers' first requests may come in
   * one read, back to back; each gets its own session. A later request from
   * a peer goes to its session; a peer whose session was closed gets a new
   * one with its next SEND.
   *
   * `onSession` is called as the peer's first SEND arrives, before the
   * session is bound and the request delivered (so calling `stop()` there
   * refuses the next peer, even one whose request was read at once); the
   * session learns its peer's path from that request.
   *
   * @example Print every message of every peer of one URI
   * ```ts
   * import { MsrpEndpoint } from "@msrp/msrp";
   *
   * const endpoint = await MsrpEndpoint.start({ host: "127.0.0.1", port: 2855 });
   * const served = endpoint.acceptEach(async (session) => {
   *   for await (const m of session.messages()) console.log(await m.text());
   * });
   * console.log(endpoint.path(served).join(" ")); // for every peer's To-Path
   * ```
   *
   * @param onSession called with each new peer's session
   * @param options the sessions' options and URI, the peers' certificate fingerprints
   * @throws {MsrpError} `not-listening` without a port or relays; `endpoint-closed`
   */
  acceptEach(
    onSession: (session: MsrpSession) => void,
    options: AcceptEachOptions = {},
  ): ServedUri {
    if (this.#closed) throw new MsrpError("endpoint-closed", "the endpoint is closed");
    if (this.#listener === undefined && this.#relay === undefined) {
      throw new MsrpError("not-listening", "serving a URI needs an endpoint with a port or relays");
    }
    const given = options.session?.localUri;
    const localUri = given === undefined
      ? this.#uriFor(newSessionId())
      : typeof given === "string"
      ? MsrpUri.parse(given)
      : given;
    const fingerprints = options.fingerprints ?? [];
    this.directory.servePerPeer(localUri, (_request, connection) => {
      // Through relays, peers reach us over the relay connection (RFC 4976 §5.1).
      if (this.#closed || (this.#relay && connection !== this.#relay.connection)) return undefined;
      if (fingerprints.length > 0) {
        const refusal = this.#certificateRefusal(fingerprints, connection.transport, localUri);
        if (refusal !== undefined) {
          options.onRefused?.(refusal);
          return undefined;
        }
      }
      const session = this.createSession({ ...options.session, localUri });
      try {
        onSession(session);
      } catch (error) {
        this.#logger("error", "acceptEach: onSession threw", { error: String(error) });
      }
      return session;
    });
    return { localUri, stop: () => this.directory.stopServing(localUri) };
  }

  /**
   * An SDP offer for a session (RFC 4975 §8, RFC 6135: `a=setup:actpass`
   * when we listen or use relays, `active` otherwise).
   *
   * @param session a session of this endpoint
   * @param options accept-types, max-size
   */
  offer(session: MsrpSession, options: SdpOptions = {}): string {
    const canAccept = this.#listener !== undefined || this.#relay !== undefined;
    const offer = makeOffer({
      path: this.path(session).map(String),
      acceptTypes: options.acceptTypes ?? ["*"],
      acceptWrappedTypes: options.acceptWrappedTypes,
      maxSize: options.maxSize,
      file: options.file,
      direction: options.direction,
      setup: canAccept ? "actpass" : "active",
      fingerprints: this.#fingerprints.length > 0 ? this.#fingerprints : undefined,
    });
    this.#offers.set(session, offer);
    return offer;
  }

  /**
   * Answers an offer and sets the session going: connects when the answer
   * makes us the active side, else waits for the peer. Resolves with the
   * answer at once; `session.ready` tells when the session is bound.
   *
   * @param session a session of this endpoint
   * @param offerSdp the peer's offer
   * @param options accept-types, max-size
   */
  async answer(session: MsrpSession, offerSdp: string, options: SdpOptions = {}): Promise<string> {
    if (this.#relinking !== undefined) await this.#relinking;
    const offer = parseMsrpMedia(offerSdp);
    const behindNat = this.#listener === undefined && this.#relay === undefined;
    const answer = makeAnswer(offer, {
      path: this.path(session).map(String),
      acceptTypes: options.acceptTypes ?? ["*"],
      acceptWrappedTypes: options.acceptWrappedTypes,
      maxSize: options.maxSize,
      file: options.file,
      direction: options.direction,
      setup: behindNat ? "active" : "passive",
      fingerprints: this.#fingerprints.length > 0 ? this.#fingerprints : undefined,
    });
    const answerMedia = parseMsrpMedia(answer);
    // The outcome shows in `session.ready` (a failure also closes the session).
    this.#go(session, offer, "answerer", whoConnects(offer, answerMedia)).catch(() => {});
    return answer;
  }

  /**
   * Applies the peer's answer to our offer and connects or waits, as the
   * answer says. Resolves once the session is bound.
   *
   * @param session the session the offer was for
   * @param answerSdp the peer's answer
   * @param offerSdp our offer (to know what we said); default: as `offer()` made it
   */
  async completeOffer(session: MsrpSession, answerSdp: string, offerSdp?: string): Promise<void> {
    const answer = parseMsrpMedia(answerSdp);
    const offer = parseMsrpMedia(offerSdp ?? this.#offers.get(session) ?? this.offer(session));
    await this.#go(session, answer, "offerer", whoConnects(offer, answer));
  }

  async #go(
    session: MsrpSession,
    peer: MsrpMedia,
    us: "offerer" | "answerer",
    connector: "offerer" | "answerer",
  ): Promise<void> {
    const fingerprints = peer.fingerprints;
    const work = connector === us
      ? this.connect(session, peer.path, { fingerprints })
      : this.accept(session, peer.path, { fingerprints });
    // The caller watches `session.ready`; a failure also closes the session.
    await work.catch((error) => {
      session.close(error);
      throw error;
    });
  }

  /** Closes every session and connection and stops listening. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#relay?.client.close();
    this.#listener?.close();
    const all = this.connections;
    // Let queued responses and REPORTs go out before the sessions end.
    await Promise.all(all.map((c) => c.shutdown(2000)));
    for (const s of this.#sessions) s.close();
    for (const t of this.#idleTimers.values()) this.#clock.clearTimer(t);
    for (const t of this.#grantTimers) this.#clock.clearTimer(t);
    await Promise.all(all.map((c) => c.closed));
  }

  // ---- connections ----

  /**
   * The connection to `uri`'s host, port and scheme: reused if open (§5.4),
   * else opened. A connection whose certificate was checked against
   * fingerprints is reused only for the same fingerprints.
   */
  #connection(uri: MsrpUri, options: OpenOptions): Promise<MsrpConnection> {
    const pins = options.fingerprints ?? [];
    const key = pins.length === 0 || !uri.secure
      ? uri.connectionKey
      : `${uri.connectionKey} ${
        pins.map((f) => `${f.hash.toLowerCase()}=${f.value.toUpperCase()}`).sort().join(",")
      }`;
    const existing = this.#connections.get(key);
    if (existing !== undefined) return existing;
    const opening = this.#openConnection(uri, options);
    this.#connections.set(key, opening);
    opening.then(
      (connection) =>
        connection.closed.then(() => {
          if (this.#connections.get(key) === opening) this.#connections.delete(key);
        }),
      () => {
        if (this.#connections.get(key) === opening) this.#connections.delete(key);
      },
    );
    return opening;
  }

  async #openConnection(uri: MsrpUri, options: OpenOptions): Promise<MsrpConnection> {
    const connect = this.#options.connect;
    const transport = connect !== undefined
      ? await connect(uri, { fingerprints: options.fingerprints })
      : await this.#open(uri, options);
    const connection = this.#newConnection(transport);
    this.#opened.add(connection);
    connection.closed.then(() => this.#opened.delete(connection));
    return connection;
  }

  /**
   * An {@linkcode MsrpConnection} over a transport. Its passive sessions
   * bind only when the peer's certificate matches the fingerprints they
   * expect (§14.4), checked when the first request names the session (§5.4).
   */
  #newConnection(transport: MsrpTransport): MsrpConnection {
    return new MsrpConnection(transport, {
      directory: new CheckingDirectory(this.directory, (s) => this.#peerMatches(s, transport)),
      clock: this.#clock,
      logger: this.#logger,
      trace: this.#options.trace,
      sendWindow: this.#options.sendWindow,
      sendWindowMs: this.#options.sendWindowMs,
    });
  }

  /**
   * Whether a passive session may bind on this transport: yes without
   * expected fingerprints; else the peer's certificate must match (RFC 4975
   * §14.4: "the endpoint MUST tear down the media session immediately" on a
   * mismatch, so the session ends with the error). A transport that cannot
   * show the certificate (WebSocket, Deno's own TLS) is let through, logged.
   */
  #peerMatches(session: MsrpSession, transport: MsrpTransport): boolean {
    const fingerprints = this.#peerFingerprints.get(session);
    if (fingerprints === undefined) return true;
    const refusal = this.#certificateRefusal(fingerprints, transport, session.localUri);
    if (refusal === undefined) return true;
    session.close(refusal);
    return false;
  }

  /**
   * Why the peer on `transport` may not have a session of `uri`: its
   * certificate matches none of `fingerprints` (§14.4); undefined when it
   * matches, or when the transport cannot show it (logged).
   */
  #certificateRefusal(
    fingerprints: readonly Fingerprint[],
    transport: MsrpTransport,
    uri: MsrpUri,
  ): unknown {
    if ((transport as Partial<TlsTransport>).peerCertificateVisible !== true) {
      this.#logger("info", "cannot check the peer's certificate on this transport", {
        session: uri.toString(),
        transport: transport.kind,
      });
      return undefined;
    }
    try {
      checkPeerFingerprint(transport, fingerprints);
      return undefined;
    } catch (error) {
      this.#logger("warn", "peer certificate refused; session torn down (RFC 4975 §14.4)", {
        session: uri.toString(),
        error: String(error),
      });
      return error;
    }
  }

  /**
   * Opens TCP for msrp and TLS for msrps (RFC 4975 §6, §14.2). With
   * fingerprints (the peer's SDP, §14.4, or a pin) the certificate must match
   * one of them, CA-signed or not; without, it must chain up to a trusted
   * root and carry the URI's host (§5.4). To a direct peer we present our
   * own certificate, whose fingerprint our SDP carries, so that it can check
   * us the same way.
   */
  async #open(uri: MsrpUri, options: OpenOptions): Promise<MsrpTransport> {
    const address = { hostname: uri.host, port: uri.port ?? 2855 }; // 2855: RFC 4975 §15.4
    const signal = AbortSignal.timeout(this.#options.connectTimeout ?? 10_000);
    if (uri.transport.toLowerCase() === "ws") {
      // RFC 7977: the URI's authority names the WebSocket server.
      const host = uri.hostKind === "ipv6" ? `[${uri.host}]` : uri.host;
      const url = `${uri.secure ? "wss" : "ws"}://${host}:${address.port}/`;
      return await connectWebSocket(url, {
        caCerts: this.#options.caCerts,
        insecure: !uri.secure,
        signal,
      });
    }
    if (!uri.secure) return await connectTcp(address, { signal });
    const pins = options.fingerprints;
    const identity = options.relay ? undefined : this.#options.tls;
    return await connectTls(address, {
      hostname: uri.host,
      caCerts: this.#options.caCerts,
      fingerprint: pins !== undefined && pins.length > 0 ? pins : undefined,
      cert: identity?.cert,
      key: identity?.key,
      signal,
    });
  }

  async #acceptLoop(listener: MsrpListener): Promise<void> {
    try {
      for await (const transport of listener) {
        const connection = this.#newConnection(transport);
        this.#accepted.add(connection);
        connection.closed.then(() => this.#accepted.delete(connection));
        // A connection that never binds a session is closed when idle.
        this.#armIdle(connection);
      }
    } catch (error) {
      if (!this.#closed) this.#logger("error", "listener failed", { error: String(error) });
    }
  }

  #attach(connection: MsrpConnection, session: MsrpSession): void {
    this.#disarmIdle(connection);
    connection.attach(session);
  }

  #sessionEnded(session: MsrpSession): void {
    this.#sessions.delete(session);
    this.directory.delete(session);
    const connection = session.connection;
    if (
      connection !== undefined && connection !== this.#relay?.connection &&
      connection.sessions.length === 0
    ) {
      this.#armIdle(connection);
    }
  }

  #armIdle(connection: MsrpConnection): void {
    this.#disarmIdle(connection);
    const timer = this.#clock.setTimer(() => {
      this.#idleTimers.delete(connection);
      if (connection.sessions.length === 0) connection.close();
    }, this.#options.idleTimeout ?? 60_000);
    this.#idleTimers.set(connection, timer);
  }

  #disarmIdle(connection: MsrpConnection): void {
    const timer = this.#idleTimers.get(connection);
    if (timer !== undefined) this.#clock.clearTimer(timer);
    this.#idleTimers.delete(connection);
  }
}

/** How a connection is opened: the certificate fingerprints to match, and whether it goes to a relay. */
interface OpenOptions {
  fingerprints?: readonly Fingerprint[];
  relay?: boolean;
}

/**
 * The endpoint's directory as one connection sees it: a session found there
 * binds only if `mayBind` agrees (the §14.4 certificate check). A session
 * refused this way gets 481 on that connection (§7.3). URIs served per peer
 * are the endpoint's (their factories make that check themselves).
 */
class CheckingDirectory extends SessionDirectory {
  readonly #inner: SessionDirectory;
  readonly #mayBind: (session: MsrpSession) => boolean;

  constructor(inner: SessionDirectory, mayBind: (session: MsrpSession) => boolean) {
    super();
    this.#inner = inner;
    this.#mayBind = mayBind;
  }

  override add(session: MsrpSession): void {
    this.#inner.add(session);
  }

  override delete(session: MsrpSession): void {
    this.#inner.delete(session);
  }

  override lookup(uri: MsrpUri): MsrpSession | undefined {
    const session = this.#inner.lookup(uri);
    return session === undefined || this.#mayBind(session) ? session : undefined;
  }

  override servePerPeer(uri: MsrpUri, newSession: PeerSessionFactory): void {
    this.#inner.servePerPeer(uri, newSession);
  }

  override stopServing(uri: MsrpUri): void {
    this.#inner.stopServing(uri);
  }

  override perPeer(uri: MsrpUri): PeerSessionFactory | undefined {
    return this.#inner.perPeer(uri);
  }

  override get size(): number {
    return this.#inner.size;
  }
}

/** The DER bytes of the first certificate in a PEM text. */
function pemToDer(pem: string): Uint8Array {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (m === null) throw new MsrpError("bad-certificate", "no PEM certificate found");
  const bin = atob(m[1].replace(/\s+/g, ""));
  const der = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) der[i] = bin.charCodeAt(i);
  return der;
}
