/**
 * An MSRP relay server (RFC 4976 §5.1, §6, §9; RFC 4975 §5.4, §7).
 *
 * Relays let MSRP clients behind firewalls, or under a policy, reach each
 * other. A client opens a TLS connection to its relay, authenticates with an
 * `AUTH` request and HTTP Digest (§5.1, §9.1), and gets back a URI in
 * `Use-Path` that it advertises to its peers. From then on the relay forwards
 * requests that name that URI first in their To-Path, as long as they come
 * from the client or go to it (§6.4), and never anything else: a relay must
 * not be an open relay (§3.1, §9.4).
 *
 * ```text
 * Alice              a.example.org       b.example.net             Bob
 *   |--- SEND ----------->|                    |                     |
 *   |<-- 200 OK ----------|--- SEND ---------->|                     |
 *   |                     |<-- 200 OK ---------|--- SEND ----------->|
 *   |                     |                    |<-- 200 OK ----------|
 *   |                     |                    |<-- REPORT ----------|
 *   |                     |<-- REPORT ---------|                     |
 *   |<-- REPORT ----------|                    |                     |
 * ```
 *
 * How this implementation is built:
 *
 * - **Sans-I/O core.** {@linkcode MsrpRelay} is handed connections as
 *   `MsrpTransport`s (`accept`) and opens new ones through an injected
 *   `connect(uri)`; time comes from an injected clock and every failure goes
 *   to an injected logger. Nothing here opens a socket itself.
 *   {@linkcode startRelay} adds injected listeners to make a server.
 * - **Reading.** Each connection is read by a `FrameParser`. A SEND chunk
 *   longer than `segmentSize` comes out in pieces, which are forwarded as they
 *   arrive, so a 1 GB chunk needs no more memory than a few pieces.
 * - **Writing.** Each connection has one writer task and one output queue:
 *   frames the relay makes or forwards whole (responses, REPORTs, AUTH, short
 *   SENDs) go first; SEND chunks being streamed take turns. A streamed chunk
 *   is forwarded as an interruptible chunk (`Byte-Range: n-*\/total`), and the
 *   writer interrupts it with `+` whenever a whole frame is waiting (RFC 4975
 *   §7.1.1: "SEND requests larger than 2048 octets MUST be interrupted if the
 *   sender needs to send pending responses or REPORT requests"), when another
 *   chunk waits and this one has had its share (`fairnessQuantum`), or when
 *   its source is slower than another chunk's. It resumes later as a new
 *   transaction whose Byte-Range starts at the next byte (RFC 4976 §6.4.1:
 *   relays may re-chunk). Pieces never wait for a busy writer in a way that
 *   could block the queue.
 * - **Back-pressure.** Bytes queued for a connection are counted; when they
 *   pass `maxBufferedBytesPerConnection`, the connections feeding it are not
 *   read until it drains. TCP flow control then slows the senders.
 * - **Hop-by-hop SEND** (§6.4.1): with Failure-Report `yes` the relay answers
 *   200 once it has the whole chunk, runs the 30-second timer from the moment
 *   the last byte went to the next hop, and turns a timeout or an error
 *   response into a failure REPORT back to the sender. An error known before
 *   the chunk was acknowledged is sent as the error response itself (RFC 4975
 *   §7.1.4), and the rest of the chunk is refused.
 * - **Probation and idleness** (§6.1, §6.5): a new connection has
 *   `probationMs` to make a successful request; repeated failures or AUTH
 *   failures close it; connections without registrations that stay unused
 *   for `idleMs` are closed.
 *
 * @module
 */

import { type FrameError, MsrpError } from "../errors.ts";
import {
  type DigestCredentials,
  formatAuthenticationInfo,
  formatWwwAuthenticate,
  parseAuthorization,
  parseWwwAuthenticate,
} from "../wire/auth_headers.ts";
import { concatBytes } from "../wire/bytes.ts";
import { FrameParser } from "../wire/decoder.ts";
import { FrameWriter, type TransactionIdChange } from "../wire/encoder.ts";
import type {
  ContinuationFlag,
  DecodedFrame,
  Frame,
  InvalidFrame,
  MsrpRequest,
  MsrpResponse,
} from "../wire/frame.ts";
import type { HeaderList } from "../wire/header_list.ts";
import {
  type ByteRange,
  type FailureReport,
  formatExpires,
  formatPath,
  FROM_PATH,
  getByteRange,
  getFailureReport,
  getFromPath,
  getMessageId,
  getToPath,
  parseExpires,
  parsePath,
  TO_PATH,
} from "../wire/headers.ts";
import { newTransactionId } from "../wire/ids.ts";
import { MsrpUri, parseUri } from "../wire/uri.ts";
import type { MsrpTransport, NetAddress } from "../transport/types.ts";
import {
  type RelayConfig,
  type RelayListenConfig,
  type RelayTlsConfig,
  relayUserHa1,
} from "./config.ts";
import { NonceManager, verifyCredentials } from "./digest.ts";
import {
  type ArrivalInfo,
  failureReportOwed,
  forwardedHeaders,
  isRelayUri,
  relayFailureReport,
  type RelayIdentity,
  relayResponse,
  reportedRange,
  responseOwed,
  type RouteDecision,
  routeRequest,
} from "./forwarding.ts";
import {
  type RegistrationBinding,
  RegistrationTable,
  type RelayRegistration,
} from "./registrations.ts";

// ---------------------------------------------------------------------------
// Injected services: clock and logger

/** The time source and timers of a relay; inject a fake one in tests. */
export interface RelayClock {
  /** Milliseconds since some epoch. */
  now(): number;
  /**
   * Calls `callback` after `ms` milliseconds.
   *
   * @param callback what to run
   * @param ms the delay
   */
  setTimeout(callback: () => void, ms: number): unknown;
  /**
   * Cancels a timer.
   *
   * @param handle what `setTimeout` returned
   */
  clearTimeout(handle: unknown): void;
}

/** The real clock: `Date.now` and the global timers. */
export const systemClock: RelayClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

/** How serious a log event is. */
export type RelayLogLevel = "debug" | "info" | "warn" | "error";

/** One thing worth logging. */
export interface RelayLogEvent {
  /** How serious it is. */
  readonly level: RelayLogLevel;
  /** A stable kebab-case name, e.g. `auth-failed`, `hop-timeout`, `frame-invalid`. */
  readonly event: string;
  /** A sentence a person can read. */
  readonly message: string;
  /** The connection concerned, if any. */
  readonly connection?: number;
  /** The error behind it, if any. */
  readonly error?: unknown;
}

/** Receives the relay's log events. It must not throw. */
export type RelayLogger = (event: RelayLogEvent) => void;

const LEVELS: Record<RelayLogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * A logger writing one line per event to the console (warnings and errors
 * to stderr).
 *
 * @param minLevel the least serious level written (default `info`)
 */
export function consoleRelayLogger(minLevel: RelayLogLevel = "info"): RelayLogger {
  return (e) => {
    if (LEVELS[e.level] < LEVELS[minLevel]) return;
    const conn = e.connection === undefined ? "" : ` conn=${e.connection}`;
    const line = `msrp-relay ${e.level} ${e.event}${conn}: ${e.message}`;
    if (LEVELS[e.level] >= LEVELS.warn) console.error(line);
    else console.log(line);
  };
}

// ---------------------------------------------------------------------------
// Public types

/** What an {@linkcode MsrpRelay} is built from. */
export interface MsrpRelayOptions {
  /** The checked configuration (see `resolveRelayConfig`). */
  config: RelayConfig;
  /**
   * Opens a connection to a next hop (RFC 4975 §5.4, §6.2; RFC 4976 §8): TLS
   * for `msrps`, checking the certificate against the URI's host (§9.2).
   * Without it the relay can only deliver over connections it already has.
   */
  connect?: (uri: MsrpUri) => Promise<MsrpTransport>;
  /**
   * The host name a peer relay proved with a TLS client certificate
   * (RFC 4976 §6.3), or `undefined` for a client. Peers named here are
   * relays: their requests must carry their name in the first From-Path URI,
   * and registrations made through them are bound to the name, not to the
   * connection.
   */
  identifyPeer?: (transport: MsrpTransport) => string | undefined;
  /** Time and timers (default {@linkcode systemClock}). */
  clock?: RelayClock;
  /** Where log events go (default {@linkcode consoleRelayLogger}). */
  logger?: RelayLogger;
  /** The Digest nonce issuer (default: a new one with the configured lifetime and the clock). */
  nonces?: NonceManager;
}

/** Counters of a relay, from {@linkcode MsrpRelay.stats}. */
export interface RelayStats {
  /** Open (or opening) connections. */
  readonly connections: number;
  /** Of which accepted from peers. */
  readonly inboundConnections: number;
  /** Of which opened by the relay. */
  readonly outboundConnections: number;
  /** Live registrations (Use-Path URIs). */
  readonly registrations: number;
  /** Forwarded transactions waiting for a response. */
  readonly pendingTransactions: number;
  /** Bytes queued for writing now, all connections together. */
  readonly bufferedBytes: number;
  /** The most bytes ever queued at once, all connections together. */
  readonly peakBufferedBytes: number;
  /** The most bytes ever queued at once for one connection. */
  readonly peakConnectionBufferedBytes: number;
  /** Requests forwarded (each wire transaction counts). */
  readonly forwardedRequests: number;
  /** Body bytes of forwarded SEND requests written. */
  readonly forwardedBodyBytes: number;
}

// ---------------------------------------------------------------------------
// Internal state

const EMPTY = new Uint8Array(0);

/** Peer URIs remembered per connection (see `#learn`); the oldest go first. */
const MAX_LEARNED_PER_CONNECTION = 1024;

/** What the relay must remember about a SEND it received, to answer and report on it. */
interface SendContext {
  /** The connection it came over: where the response and failure REPORTs go. */
  readonly origin: Conn;
  readonly originTid: string;
  readonly fr: FailureReport;
  readonly messageId: string | undefined;
  /** The SEND's Byte-Range as received. */
  readonly range: ByteRange | undefined;
  /** The From-Path as received: the way back to the sender. */
  readonly reportTo: readonly MsrpUri[];
  /** The relay's URI as received first in To-Path. */
  readonly ourUri: MsrpUri;
  /** A response (200 or error) went to the previous hop. */
  answered: boolean;
  /** The SEND failed and the error was the response: refuse the rest. */
  failed: boolean;
  /** The whole chunk has been received. */
  complete: boolean;
  /** The forwarding stream, when the chunk is forwarded in pieces. */
  stream: OutStream | undefined;
}

/** A forwarded SEND wire transaction waiting for the next hop's response. */
interface PendingSend {
  readonly kind: "send";
  readonly conn: Conn;
  tid: string;
  readonly ctx: SendContext;
  /** Where the bytes of this transaction start within the received chunk's body. */
  readonly offset: number;
  /** How many body bytes it carried. */
  length: number;
  readonly stream: OutStream | undefined;
  timer: unknown;
  done: boolean;
}

/** A forwarded AUTH or unknown method whose response goes back along the path (§6.4.3). */
interface PendingRelayed {
  readonly kind: "relayed";
  readonly conn: Conn;
  tid: string;
  readonly origin: Conn;
  readonly originTid: string;
  readonly method: string;
  readonly fromPath: readonly MsrpUri[];
  readonly ourUri: MsrpUri;
  readonly fr: FailureReport;
  readonly hadCredentials: boolean;
  /** How many of the relay's own URIs the request passed (more than one when it looped back). */
  readonly ownHops: number;
  timer: unknown;
  done: boolean;
}

type Pending = PendingSend | PendingRelayed;

/** The wire transaction a stream has open on its target's writer. */
interface OpenWire {
  /** The id the FrameWriter knows the request by. */
  readonly callerTid: string;
  readonly headers: HeaderList;
  /** Body bytes given to the FrameWriter under this request. */
  written: number;
  /** Caller offset where the current wire id started (moves if the writer interrupts). */
  segStart: number;
  pending: PendingSend;
}

/** A SEND chunk being forwarded piece by piece to one connection. */
let nextStreamSeq = 0;

class OutStream {
  readonly ctx: SendContext;
  /** The connection it is written to. */
  readonly target: Conn;
  /** The forwarded header fields; Byte-Range is rewritten per wire transaction. */
  readonly headers: HeaderList;
  readonly total: number | "*";
  pieces: Uint8Array[] = [];
  /** Bytes in `pieces`. */
  queued = 0;
  /** Body bytes received from the source so far. */
  received = 0;
  /** Body bytes in wire transactions already ended. */
  sent = 0;
  /** The source's end-line flag, once it came. */
  endFlag: ContinuationFlag | undefined;
  /** Set to end the chunk now with this flag and drop the rest. */
  abortFlag: ContinuationFlag | undefined;
  wire: OpenWire | undefined;
  finished = false;
  /** Creation order: chunks of one message are forwarded in this order. */
  readonly seq: number = nextStreamSeq++;

  constructor(ctx: SendContext, target: Conn, headers: HeaderList, total: number | "*") {
    this.ctx = ctx;
    this.target = target;
    this.headers = headers;
    this.total = total;
  }

  ready(): boolean {
    return !this.finished &&
      (this.abortFlag !== undefined || this.pieces.length > 0 || this.endFlag !== undefined);
  }
}

/**
 * Whether `s` may take a turn on its connection: it has something to write,
 * and no earlier chunk of the same message from the same sender is still
 * waiting there. Taking turns is for different messages (RFC 4975 §7.1.1);
 * a message's own chunks go out in the order they came, so that the next
 * hop receives its bytes in order.
 */
function eligible(s: OutStream, streams: readonly OutStream[]): boolean {
  if (!s.ready()) return false;
  for (const o of streams) {
    if (
      o !== s && !o.finished && o.seq < s.seq && o.ctx.origin === s.ctx.origin &&
      o.ctx.messageId === s.ctx.messageId
    ) return false;
  }
  return true;
}

/** The request being received in pieces on a connection. */
interface Incoming {
  readonly tid: string;
  readonly discard: boolean;
  readonly stream: OutStream | undefined;
  readonly target: Conn | undefined;
  readonly ctx: SendContext | undefined;
}

/** The facts needed to answer a request. */
interface ReqInfo {
  readonly tid: string;
  readonly method: string;
  readonly fromPath: readonly MsrpUri[];
  readonly ourUri: MsrpUri;
  readonly fr: FailureReport;
  readonly messageId: string | undefined;
}

interface ControlJob {
  readonly bytes: Uint8Array;
  readonly onWritten?: () => void;
}

class Conn {
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
  lastActivity: number;
  // output
  control: ControlJob[] = [];
  streams: OutStream[] = [];
  active: OutStream | undefined;
  activeBytes = 0;
  buffered = 0;
  wake: (() => void) | undefined;
  roomWaiters: (() => void)[] = [];
  /** When the write in progress started; undefined between writes. */
  writingSince: number | undefined;
  writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  frameWriter: FrameWriter | undefined;
  currentWire: OpenWire | undefined;
  // input
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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether a forwarded 401 carries a `stale=true` challenge (RFC 4976 §6.3). */
function hasStaleChallenge(headers: HeaderList): boolean {
  for (const value of headers.getAll("WWW-Authenticate")) {
    try {
      if (parseWwwAuthenticate(value).stale) return true;
    } catch {
      // A challenge we cannot read is not a stale one.
    }
  }
  return false;
}

/** URI equality for digest-uri checks (RFC 4975 §6.1), falling back to the text. */
function sameUriText(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return parseUri(a).equals(parseUri(b));
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// The relay

/**
 * An MSRP relay: hand it connections, and it authenticates clients and
 * forwards their traffic (RFC 4976 §6). See the module documentation.
 *
 * ```ts
 * const relay = new MsrpRelay({
 *   config: resolveRelayConfig({ host: "relay.example.com", tls: { certFile, keyFile },
 *     users: { alice: { password: "secret" } } }),
 *   connect: (uri) => connectTls(uri),
 * });
 * for await (const transport of listener) relay.accept(transport);
 * ```
 */
export class MsrpRelay {
  readonly #config: RelayConfig;
  readonly #connect: ((uri: MsrpUri) => Promise<MsrpTransport>) | undefined;
  readonly #identify: ((transport: MsrpTransport) => string | undefined) | undefined;
  readonly #clock: RelayClock;
  readonly #logger: RelayLogger;
  readonly #nonces: NonceManager;
  readonly #regs: RegistrationTable;
  readonly #identity: RelayIdentity;
  readonly #conns = new Map<number, Conn>();
  readonly #byKey = new Map<string, Conn>();
  /** Peer URIs (full, with session id) reachable over connections they came from. */
  readonly #learned = new Map<string, Conn>();
  readonly #tasks = new Set<Promise<void>>();
  #nextId = 1;
  #closed = false;
  #sweepTimer: unknown;
  #buffered = 0;
  #peakBuffered = 0;
  #peakConnBuffered = 0;
  #forwardedRequests = 0;
  #forwardedBodyBytes = 0;

  /**
   * Makes a relay. It starts its sweep timer at once; call
   * {@linkcode MsrpRelay.close} to stop it.
   *
   * @param options configuration and injected services
   */
  constructor(options: MsrpRelayOptions) {
    const config = options.config;
    this.#config = config;
    this.#connect = options.connect;
    this.#identify = options.identifyPeer;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? consoleRelayLogger();
    const clock = this.#clock;
    this.#nonces = options.nonces ??
      new NonceManager({ lifetimeMs: config.limits.nonceLifetimeMs, now: () => clock.now() });
    this.#regs = new RegistrationTable({
      now: () => clock.now(),
      maxRegistrations: config.limits.maxRegistrations,
      maxPerBinding: config.limits.maxRegistrationsPerBinding,
    });
    const ports = new Set<number>();
    for (const l of config.listen) {
      if (l.port !== 0) ports.add(l.port);
      if (l.advertisePort !== undefined) ports.add(l.advertisePort);
    }
    this.#identity = {
      hosts: [config.host.toLowerCase(), ...config.aliases],
      ports: [...ports],
    };
    this.#scheduleSweep();
  }

  /** The configuration the relay runs with. */
  get config(): RelayConfig {
    return this.#config;
  }

  /** The names and ports the relay answers to. */
  get identity(): RelayIdentity {
    return this.#identity;
  }

  /**
   * The relay's own URI (no session id) for clients on a TLS or a plain
   * connection: `msrps://host:port;tcp` with the first listener of that kind.
   *
   * @param secure TLS (msrps) or plain TCP (msrp)
   */
  uri(secure: boolean): MsrpUri {
    return this.#ownUri(secure, undefined);
  }

  #ownUri(secure: boolean, sessionId: string | undefined): MsrpUri {
    const listeners = this.#config.listen;
    const l = listeners.find((x) => x.tls === secure) ?? listeners[0];
    return MsrpUri.from({
      scheme: secure ? "msrps" : "msrp",
      host: this.#config.host,
      port: l.advertisePort ?? l.port,
      sessionId,
      transport: "tcp",
    });
  }

  #log(
    level: RelayLogLevel,
    event: string,
    message: string,
    conn?: Conn,
    error?: unknown,
  ): void {
    try {
      this.#logger({ level, event, message, connection: conn?.id, error });
    } catch {
      // A failing logger must not take the relay down.
    }
  }

  #track(p: Promise<void>): void {
    const task = p.catch((e) => {
      this.#log("error", "internal-error", `a relay task failed: ${describe(e)}`, undefined, e);
    }).finally(() => this.#tasks.delete(task));
    this.#tasks.add(task);
  }

  // -------------------------------------------------------------------------
  // Connections

  /**
   * Takes over a connection a peer opened (RFC 4976 §6.1). The relay reads
   * and writes it until either side closes it.
   *
   * @param transport the accepted connection
   * @returns the connection's id in log events, or -1 when it was refused
   */
  accept(transport: MsrpTransport): number {
    if (this.#closed) {
      this.#closeTransport(transport);
      return -1;
    }
    if (!this.#makeRoom()) {
      this.#log("warn", "connection-limit", "connection refused: the relay is at its limit");
      this.#closeTransport(transport);
      return -1;
    }
    const c = new Conn(this.#nextId++, false, undefined, this.#clock.now());
    this.#conns.set(c.id, c);
    let peer: string | undefined;
    try {
      peer = this.#identify?.(transport);
    } catch (e) {
      this.#log("warn", "identify-failed", `could not identify the peer: ${describe(e)}`, c, e);
    }
    if (peer !== undefined) {
      const host = peer.toLowerCase();
      const trusted = this.#config.trustedRelays;
      if (trusted.length === 0 || trusted.includes(host)) {
        c.peerHost = host;
        c.identifiedRelay = true;
      } else {
        this.#log(
          "info",
          "untrusted-relay",
          `relay ${host} is not trusted; treated as a client`,
          c,
        );
      }
    }
    // §6.1: "the server waits for up to 30 seconds to receive an MSRP request
    // ... If no successful requests are sent during this probationary
    // period, the server closes the connection."
    c.probation = true;
    c.probationTimer = this.#clock.setTimeout(() => {
      if (c.probation && c.state !== "closed") {
        this.#log("info", "probation-timeout", "no successful request during probation", c);
        this.#close(c, "probation ended without a successful request (RFC 4976 §6.1)");
      }
    }, this.#config.limits.probationMs);
    const remote = transport.remoteAddr;
    this.#log(
      "info",
      "connection-accepted",
      `${transport.kind} connection from ${remote ? `${remote.hostname}:${remote.port}` : "?"}` +
        (c.peerHost ? ` (relay ${c.peerHost})` : ""),
      c,
    );
    this.#attach(c, transport);
    return c.id;
  }

  /**
   * Accepts every connection a listener yields, until it ends.
   *
   * @param listener yields accepted connections
   */
  async serve(listener: AsyncIterable<MsrpTransport>): Promise<void> {
    try {
      for await (const transport of listener) this.accept(transport);
    } catch (e) {
      if (!this.#closed) this.#log("error", "listener-failed", `listener failed: ${describe(e)}`);
    }
  }

  #closeTransport(t: MsrpTransport): void {
    try {
      t.close();
    } catch {
      // already closed
    }
  }

  /** Below the connection limit, closing the least recently used idle connection if needed (§6.5). */
  #makeRoom(): boolean {
    if (this.#conns.size < this.#config.limits.maxConnections) return true;
    let victim: Conn | undefined;
    for (const c of this.#conns.values()) {
      if (!this.#isIdle(c)) continue;
      if (victim === undefined || c.lastActivity < victim.lastActivity) victim = c;
    }
    if (victim === undefined) return false;
    this.#close(victim, "closed to make room for a new connection (RFC 4976 §6.5)");
    return true;
  }

  #isIdle(c: Conn): boolean {
    return c.state === "open" && c.pending.size === 0 && c.control.length === 0 &&
      c.streams.length === 0 && c.incoming === undefined &&
      this.#regs.countFor({ kind: "connection", connectionId: c.id }) === 0;
  }

  #attach(c: Conn, transport: MsrpTransport): void {
    c.transport = transport;
    c.state = "open";
    c.frameWriter = new FrameWriter({ onTransactionIdChange: (ch) => this.#onTidChange(c, ch) });
    try {
      c.writer = transport.writable.getWriter();
    } catch (e) {
      this.#log("error", "transport-unusable", `cannot write: ${describe(e)}`, c, e);
      this.#close(c, "the transport cannot be written");
      return;
    }
    this.#track(this.#readLoop(c));
    this.#track(this.#pump(c));
  }

  /** The connection to reach `uri` over: an existing one to that host, port and scheme, or a new one. */
  #hopTarget(uri: MsrpUri): Conn | undefined {
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
        if (c.identifiedRelay && c.peerHost === host && c.state === "open") return c;
      }
    }
    if (this.#connect === undefined) {
      this.#log("warn", "no-connect", `no connection to ${uri} and no connect function`);
      return undefined;
    }
    if (!this.#makeRoom()) {
      this.#log("warn", "connection-limit", `cannot open a connection to ${uri}: at the limit`);
      return undefined;
    }
    const c = new Conn(this.#nextId++, true, key, this.#clock.now());
    this.#conns.set(c.id, c);
    this.#byKey.set(key, c);
    this.#log("info", "connecting", `opening a connection to ${uri}`, c);
    const connect = this.#connect;
    // A connection attempt gets as long as a hop (§6.4.1) before it is given up.
    const timer = this.#clock.setTimeout(() => {
      if (c.state !== "connecting") return;
      this.#log("warn", "connect-failed", `connecting to ${uri} timed out`, c);
      this.#close(c, "connect timed out");
    }, this.#config.limits.transactionTimeoutMs);
    // Not tracked: close() must not wait for a connect() that never settles;
    // a transport that arrives after the relay closed is closed at once.
    void (async () => {
      let transport: MsrpTransport;
      try {
        transport = await connect(uri);
      } catch (e) {
        this.#clock.clearTimeout(timer);
        this.#log("warn", "connect-failed", `cannot connect to ${uri}: ${describe(e)}`, c, e);
        this.#close(c, "connect failed");
        return;
      }
      this.#clock.clearTimeout(timer);
      if (c.state === "closed" || this.#closed) {
        this.#closeTransport(transport);
        return;
      }
      // The TLS handshake checked the server's name against the URI (RFC 4976 §9.2).
      if (transport.secure) c.peerHost = uri.host.toLowerCase();
      this.#attach(c, transport);
    })().catch((e) => {
      this.#log("error", "internal-error", `while connecting: ${describe(e)}`, c, e);
    });
    return c;
  }

  /** The connection a request toward a registered client goes over (its binding, §6.3). */
  #clientTarget(reg: RelayRegistration, next: MsrpUri): Conn | undefined {
    const b = reg.binding;
    if (b.kind === "connection") {
      const c = this.#conns.get(b.connectionId);
      return c === undefined || c.state === "closed" ? undefined : c;
    }
    for (const c of this.#conns.values()) {
      if (c.peerHost === b.host && c.state === "open") return c;
    }
    return next.host.toLowerCase() === b.host ? this.#hopTarget(next) : undefined;
  }

  #close(c: Conn, reason: string): void {
    if (c.state === "closed") return;
    c.state = "closed";
    this.#clock.clearTimeout(c.probationTimer);
    this.#clock.clearTimeout(c.closeTimer);
    c.probation = false;
    this.#conns.delete(c.id);
    if (c.key !== undefined && this.#byKey.get(c.key) === c) this.#byKey.delete(c.key);
    for (const k of c.learned) if (this.#learned.get(k) === c) this.#learned.delete(k);
    c.learned.clear();
    if (c.transport !== undefined) this.#closeTransport(c.transport);
    // Nothing queued here will be written.
    this.#buffered -= c.buffered;
    c.buffered = 0;
    c.control = [];
    const streams = c.streams;
    c.streams = [];
    c.active = undefined;
    for (const s of streams) {
      s.finished = true;
      s.pieces = [];
      s.queued = 0;
      const unsent = s.sent + (s.wire?.written ?? 0);
      s.wire = undefined;
      if (!s.ctx.complete || s.received > unsent) {
        this.#sendFailed(s.ctx, 408, "next hop connection lost", unsent, s.received - unsent);
      }
    }
    // RFC 4975 §5.4: the transactions on a failed connection have failed.
    const pending = [...c.pending.values()];
    c.pending.clear();
    for (const p of pending) {
      p.done = true;
      this.#clock.clearTimeout(p.timer);
      if (p.kind === "send") {
        this.#sendFailed(p.ctx, 408, "next hop connection lost", p.offset, p.length);
      } else this.#relayedTimedOut(p);
    }
    // A chunk arriving here stops where it is: interrupted, not aborted (§7.1).
    const inc = c.incoming;
    c.incoming = undefined;
    if (inc !== undefined) this.#abandon(inc);
    for (const w of c.roomWaiters) w();
    c.roomWaiters = [];
    this.#wake(c);
    // RFC 4976 §6.3: "If the client's connection is closed ... the URI MUST be invalidated."
    const dropped = this.#regs.removeConnection(c.id);
    this.#log(
      "info",
      "connection-closed",
      reason + (dropped.length > 0 ? `; ${dropped.length} registration(s) invalidated` : ""),
      c,
    );
  }

  /** Closes once what is queued now has been written (bounded by a timer). */
  #closeSoon(c: Conn, reason: string): void {
    if (c.closing || c.state === "closed") return;
    c.closing = true;
    c.closingReason = reason;
    c.closeTimer = this.#clock.setTimeout(
      () => this.#close(c, reason),
      this.#config.limits.transactionTimeoutMs,
    );
    this.#wake(c);
  }

  #succeeded(c: Conn): void {
    if (!c.probation) return;
    c.probation = false;
    this.#clock.clearTimeout(c.probationTimer);
  }

  /**
   * Counts a failed request (§6.1) or a failed AUTH (§6.3). AUTH failures
   * count only on connections from clients, never from relays.
   */
  #noteFailure(c: Conn, auth: boolean): void {
    const limits = this.#config.limits;
    if (auth && !c.outbound && !c.identifiedRelay) {
      c.authFailures++;
      if (c.authFailures >= limits.maxAuthFailures) {
        this.#log("warn", "auth-failures", `${c.authFailures} failed AUTH requests`, c);
        this.#closeSoon(c, "too many failed AUTH requests (RFC 4976 §6.3)");
        return;
      }
    }
    if (c.probation) {
      c.probationFailures++;
      if (c.probationFailures >= limits.maxProbationFailures) {
        this.#log("warn", "probation-failures", `${c.probationFailures} failed requests`, c);
        this.#closeSoon(c, "only failed requests during probation (RFC 4976 §6.1)");
      }
    }
  }

  // -------------------------------------------------------------------------
  // Reading

  async #readLoop(c: Conn): Promise<void> {
    const parser = new FrameParser({ segmentSize: this.#config.limits.segmentSize });
    const batch: DecodedFrame[] = [];
    const emit = (f: DecodedFrame): void => {
      batch.push(f);
    };
    let reader: ReadableStreamDefaultReader<Uint8Array>;
    try {
      reader = c.transport!.readable.getReader();
    } catch (e) {
      this.#log("error", "transport-unusable", `cannot read: ${describe(e)}`, c, e);
      this.#close(c, "the transport cannot be read");
      return;
    }
    try {
      while (c.state !== "closed") {
        const { value, done } = await reader.read();
        if (c.closed) break;
        if (done) {
          parser.finish(emit);
          await this.#drain(c, batch);
          break;
        }
        c.lastActivity = this.#clock.now();
        parser.push(value, emit);
        await this.#drain(c, batch);
        if (parser.failed) break;
      }
    } catch (e) {
      if (c.state !== "closed") this.#log("info", "read-failed", `read failed: ${describe(e)}`, c);
    } finally {
      try {
        reader.releaseLock();
      } catch {
        // a read is still pending on a closed transport
      }
    }
    this.#close(c, "the connection ended");
  }

  async #drain(c: Conn, batch: DecodedFrame[]): Promise<void> {
    for (let i = 0; i < batch.length; i++) {
      if (c.state === "closed") break;
      try {
        await this.#onFrame(c, batch[i]);
      } catch (e) {
        this.#log("error", "internal-error", `while handling a frame: ${describe(e)}`, c, e);
        this.#close(c, "internal error");
      }
    }
    batch.length = 0;
  }

  async #onFrame(c: Conn, f: DecodedFrame): Promise<void> {
    if (c.closing) return;
    if (f.kind === "invalid") return this.#onInvalid(c, f);
    if (f.kind === "response") return this.#onResponse(c, f);
    const inc = c.incoming;
    if (inc !== undefined) {
      if (inc.tid === f.tid && f.offset > 0) return await this.#onPiece(c, inc, f);
      c.incoming = undefined;
      this.#abandon(inc);
    }
    await this.#onRequest(c, f);
  }

  /** A chunk that will get no more pieces: its forwarded part ends interrupted (`+`). */
  #abandon(inc: Incoming): void {
    const s = inc.stream;
    if (s === undefined || s.finished || s.endFlag !== undefined) return;
    s.endFlag = "+";
    if (inc.target !== undefined) this.#wake(inc.target);
  }

  #onInvalid(c: Conn, f: InvalidFrame): void {
    const inc = c.incoming;
    c.incoming = undefined;
    if (inc !== undefined) this.#abandon(inc);
    const err: FrameError = f.error;
    this.#log("warn", err.fatal ? "frame-fatal" : "frame-invalid", err.message, c, err);
    if (err.fatal) {
      // The byte stream cannot be trusted any more: this connection only.
      this.#close(c, `framing lost (${err.code})`);
      return;
    }
    this.#noteFailure(c, false);
    // §6.4.3: a response that cannot be parsed is dropped.
    if (f.tid === undefined || f.method === undefined) return;
    let fr: FailureReport = "yes";
    let fromPath: MsrpUri[] | undefined;
    let ourUri = this.#ownUri(c.secure, undefined);
    try {
      fr = getFailureReport(f.headers);
    } catch {
      // answer anyway
    }
    try {
      fromPath = getFromPath(f.headers);
    } catch {
      // no way to address an answer
    }
    try {
      const to = getToPath(f.headers);
      if (to !== undefined && isRelayUri(to[0], this.#identity)) ourUri = to[0];
    } catch {
      // use the relay's own URI
    }
    if (fromPath === undefined) return;
    this.#reply(c, { tid: f.tid, method: f.method, fromPath, ourUri, fr, messageId: undefined }, {
      status: err.status,
    });
  }

  // -------------------------------------------------------------------------
  // Requests

  async #onRequest(c: Conn, req: MsrpRequest): Promise<void> {
    const piecewise = req.flag === undefined;
    const discardRest = (): void => {
      if (piecewise) {
        c.incoming = {
          tid: req.tid,
          discard: true,
          stream: undefined,
          target: undefined,
          ctx: undefined,
        };
      }
    };
    const h = req.headers;
    let fromPath: MsrpUri[];
    try {
      fromPath = parsePath(h.get(FROM_PATH) ?? "");
    } catch (e) {
      // Without a From-Path there is nowhere to send an answer.
      this.#log("warn", "bad-request", `unusable From-Path: ${describe(e)}`, c, e);
      this.#noteFailure(c, false);
      discardRest();
      return;
    }
    let fr: FailureReport = "yes";
    let messageId: string | undefined;
    let range: ByteRange | undefined;
    let toPath: MsrpUri[] | undefined;
    let problem: string | undefined;
    try {
      toPath = parsePath(h.get(TO_PATH) ?? "");
      fr = getFailureReport(h);
      if (req.method === "SEND") {
        messageId = getMessageId(h);
        range = getByteRange(h);
        if (messageId === undefined) problem = "a SEND needs a Message-ID (RFC 4975 §7.1.1)";
      }
    } catch (e) {
      problem = describe(e);
    }
    const ourUri = toPath !== undefined && isRelayUri(toPath[0], this.#identity)
      ? toPath[0]
      : this.#ownUri(c.secure, undefined);
    const info: ReqInfo = { tid: req.tid, method: req.method, fromPath, ourUri, fr, messageId };
    if (problem !== undefined || toPath === undefined) {
      this.#log("warn", "bad-request", `${req.method} ${req.tid}: ${problem}`, c);
      this.#reply(c, info, { status: 400 });
      this.#noteFailure(c, false);
      discardRest();
      return;
    }

    const d: RouteDecision = routeRequest({
      toPath,
      fromPath,
      arrival: this.#arrival(c),
      identity: this.#identity,
      lookup: (sid) => this.#regs.get(sid),
    });
    switch (d.kind) {
      case "not-addressed":
        // §6.2: "If the request is not addressed to the relay, the relay
        // immediately drops the corresponding connection".
        this.#log("warn", "not-addressed", d.reason, c);
        this.#close(c, "a request not addressed to this relay (RFC 4976 §6.2)");
        return;
      case "reject":
        this.#log("info", "forward-refused", `${req.method} ${req.tid}: ${d.reason}`, c);
        this.#reply(c, info, { status: d.status });
        this.#noteFailure(c, false);
        discardRest();
        return;
      case "local":
        discardRest();
        return this.#onLocal(c, req, d, info);
      default:
        return await this.#forward(c, req, d, info, range);
    }
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
   */
  #learn(c: Conn, peer: MsrpUri): void {
    if (c.outbound || c.identifiedRelay || peer.sessionId === undefined) return;
    const key = peer.key;
    const current = this.#learned.get(key);
    if (current !== undefined && current.state !== "closed") return;
    if (c.learned.size >= MAX_LEARNED_PER_CONNECTION) {
      const oldest = c.learned.values().next().value!;
      c.learned.delete(oldest);
      if (this.#learned.get(oldest) === c) this.#learned.delete(oldest);
    }
    this.#learned.set(key, c);
    c.learned.add(key);
  }

  #arrival(c: Conn): ArrivalInfo {
    return { connectionId: c.id, peerHost: c.peerHost, identifiedRelay: c.identifiedRelay };
  }

  /** A request whose To-Path ends at the relay. */
  #onLocal(
    c: Conn,
    req: MsrpRequest,
    d: Extract<RouteDecision, { kind: "local" }>,
    info: ReqInfo,
  ): void {
    const reply: ReqInfo = { ...info, fromPath: d.fromPath };
    switch (req.method) {
      case "AUTH":
        return this.#onAuth(c, req, d, reply);
      case "REPORT":
        // No session ends at a relay; REPORTs are never answered (RFC 4975 §7.1.2).
        this.#log("debug", "report-dropped", `REPORT ${req.tid} addressed to the relay`, c);
        return;
      case "SEND":
        this.#reply(c, reply, { status: 481 });
        this.#noteFailure(c, false);
        return;
      default:
        this.#reply(c, reply, { status: 501 });
        this.#noteFailure(c, false);
    }
  }

  /** §5.1, §6.3, §9.1: authenticate a client and hand it a URI. */
  #onAuth(
    c: Conn,
    req: MsrpRequest,
    d: Extract<RouteDecision, { kind: "local" }>,
    info: ReqInfo,
  ): void {
    const config = this.#config;
    // §9.2: "Client-to-relay communications MUST use TLS for AUTH requests".
    if (!c.secure && !config.allowInsecure) {
      this.#log("warn", "auth-insecure", "AUTH over a connection without TLS refused", c);
      this.#reply(c, info, { status: 403, comment: "AUTH requires TLS" });
      this.#noteFailure(c, true);
      return;
    }
    // An AUTH to one of the relay's URIs refreshes that registration.
    let refreshing: RelayRegistration | undefined;
    if (d.target.sessionId !== undefined) {
      refreshing = this.#regs.get(d.target.sessionId);
      if (refreshing === undefined) {
        this.#reply(c, info, { status: 481 });
        this.#noteFailure(c, false);
        return;
      }
    }
    const values = req.headers.getAll("Authorization");
    if (values.length === 0) {
      // §5.1: "In response to an AUTH request that does not contain an
      // Authorization header, a relay MUST respond with a 401".
      this.#challenge(c, info, false);
      return;
    }
    let credentials: DigestCredentials;
    try {
      const parsed = values.map((v) => parseAuthorization(v, { requireUri: false }));
      credentials = parsed.find((p) => p.realm === config.realm) ?? parsed[0];
    } catch (e) {
      this.#log("info", "auth-failed", `unreadable Authorization: ${describe(e)}`, c);
      this.#challenge(c, info, false);
      this.#noteFailure(c, true);
      return;
    }
    const result = verifyCredentials({
      credentials,
      method: "AUTH",
      // §9.1: "The request-URI to be used in calculating H(A2) is the
      // rightmost URI in the To-Path header."
      expectedUri: d.target.toString(),
      realm: config.realm,
      lookupHa1: (user, realm, hash) => relayUserHa1(config, user, realm, hash),
      nonces: this.#nonces,
      algorithms: config.algorithms,
      uriMatches: sameUriText,
      nextnonce: config.nextnonce,
    });
    if (!result.ok) {
      if (result.reason === "stale") {
        // RFC 7616 §3.3: right password, old nonce: retry with a new one.
        this.#challenge(c, info, true);
        return;
      }
      this.#log(
        "info",
        "auth-failed",
        `AUTH from ${JSON.stringify(credentials.username)} refused: ${result.reason}`,
        c,
      );
      this.#challenge(c, info, false);
      this.#noteFailure(c, true);
      return;
    }
    // §6.3: "If the client is not authorized, the relay returns a 403 response."
    if (config.users[result.username]?.disabled === true) {
      this.#log("info", "auth-forbidden", `user ${result.username} is not authorized`, c);
      this.#reply(c, info, { status: 403 });
      this.#noteFailure(c, true);
      return;
    }
    // §6.3: check a requested Expires, "and, if not, return an error
    // containing a Min-Expires or Max-Expires header, as appropriate".
    let expires = config.expires.default;
    const requested = req.headers.get("Expires");
    if (requested !== undefined) {
      let n: number;
      try {
        n = parseExpires(requested);
      } catch (e) {
        this.#log("info", "bad-request", `bad Expires: ${describe(e)}`, c);
        this.#reply(c, info, { status: 400 });
        this.#noteFailure(c, false);
        return;
      }
      if (n < config.expires.min) {
        this.#reply(c, info, {
          status: 423,
          headers: [["Min-Expires", formatExpires(config.expires.min)]],
        });
        return;
      }
      if (n > config.expires.max) {
        this.#reply(c, info, {
          status: 423,
          headers: [["Max-Expires", formatExpires(config.expires.max)]],
        });
        return;
      }
      expires = n;
    }
    // §6.3: a URI for a client is valid on this connection only; for a relay
    // authenticated by TLS, on any connection to that relay.
    const binding: RegistrationBinding = c.peerHost !== undefined
      ? { kind: "relay", host: c.peerHost }
      : { kind: "connection", connectionId: c.id };
    let reg: RelayRegistration;
    if (refreshing !== undefined) {
      if (
        refreshing.username !== result.username || !refreshing.boundTo(c.id, c.peerHost)
      ) {
        this.#log("info", "auth-forbidden", "refresh of another client's registration", c);
        this.#reply(c, info, { status: 403 });
        this.#noteFailure(c, true);
        return;
      }
      reg = this.#regs.refresh(refreshing, expires);
    } else {
      try {
        reg = this.#regs.issue({
          uri: (sid) => this.#ownUri(c.secure || binding.kind === "relay", sid),
          username: result.username,
          binding,
          via: info.fromPath.slice(0, -1),
          expiresSec: expires,
        });
      } catch (e) {
        this.#log("warn", "registration-limit", describe(e), c, e);
        this.#reply(c, info, { status: 403, comment: "Too many registrations" });
        return;
      }
    }
    // §9.1: "Relays MUST include rspauth, cnonce, nc, and qop parameters in a
    // Authentication-Info header for all 200 OK responses to an AUTH request."
    this.#reply(c, info, {
      status: 200,
      headers: [
        ["Use-Path", formatPath(reg.usePath)],
        ["Authentication-Info", formatAuthenticationInfo(result.authenticationInfo)],
        ["Expires", formatExpires(expires)],
      ],
    });
    this.#succeeded(c);
    this.#log(
      "info",
      refreshing !== undefined ? "auth-refreshed" : "auth-ok",
      `${result.username} registered ${reg.uri} for ${expires} s`,
      c,
    );
  }

  /** A 401 with one challenge per configured algorithm (§5.1, §9.1). */
  #challenge(c: Conn, info: ReqInfo, stale: boolean): void {
    const nonce = this.#nonces.issue();
    const headers: [string, string][] = this.#config.algorithms.map((algorithm) => [
      "WWW-Authenticate",
      formatWwwAuthenticate({ realm: this.#config.realm, nonce, qop: ["auth"], algorithm, stale }),
    ]);
    this.#reply(c, info, { status: 401, headers });
  }

  /** Answers a request when RFC 4975 §7.2 says an answer is owed. */
  #reply(
    c: Conn,
    info: ReqInfo,
    opts: { status: number; comment?: string; headers?: [string, string][] },
  ): void {
    if (!responseOwed(info.method, info.fr, opts.status === 200)) return;
    const headers: [string, string][] = [];
    // As in the RFC 4976 §3 example, a SEND's response names the message.
    if (info.method === "SEND" && info.messageId !== undefined) {
      headers.push(["Message-ID", info.messageId]);
    }
    headers.push(...(opts.headers ?? []));
    let frame: MsrpResponse;
    try {
      frame = relayResponse({
        tid: info.tid,
        method: info.method,
        status: opts.status,
        comment: opts.comment,
        fromPath: info.fromPath,
        ourUri: info.ourUri,
        headers,
      });
    } catch (e) {
      this.#log("error", "internal-error", `cannot build a response: ${describe(e)}`, c, e);
      return;
    }
    this.#enqueueFrame(c, frame);
  }

  // -------------------------------------------------------------------------
  // Forwarding

  async #forward(
    c: Conn,
    req: MsrpRequest,
    d: Extract<RouteDecision, { kind: "toward-client" | "from-client" }>,
    info: ReqInfo,
    range: ByteRange | undefined,
  ): Promise<void> {
    const method = req.method;
    const whole = req.flag !== undefined;
    if (
      method !== "SEND" && method !== "REPORT" && method !== "AUTH" &&
      this.#config.blockUnknownMethods
    ) {
      // §6.4.2: "An MSRP node MAY be configured to block unknown methods".
      this.#reply(c, info, { status: 501 });
      this.#noteFailure(c, false);
      return;
    }
    const target = d.kind === "toward-client"
      ? this.#clientTarget(d.registration, d.toPath[0])
      : this.#hopTarget(d.toPath[0]);
    this.#succeeded(c);
    if (d.kind === "toward-client") this.#learn(c, info.fromPath[0]);

    if (method === "SEND") {
      const ctx: SendContext = {
        origin: c,
        originTid: req.tid,
        fr: info.fr,
        messageId: info.messageId,
        range,
        reportTo: info.fromPath,
        ourUri: d.ourUri,
        answered: false,
        failed: false,
        complete: whole,
        stream: undefined,
      };
      if (target === undefined) {
        this.#sendFailed(ctx, 408, "next hop unreachable", 0, req.body?.length ?? 0);
        if (!whole) {
          c.incoming = { tid: req.tid, discard: true, stream: undefined, target, ctx };
        }
        return;
      }
      if (whole) {
        await this.#forwardWholeSend(target, req, d, ctx);
        // §6.4.1: "MUST respond with a final response immediately"; the 200
        // means the chunk was received, not that it was forwarded.
        if (!ctx.failed && !ctx.answered && ctx.fr === "yes") {
          ctx.answered = true;
          this.#reply(c, info, { status: 200 });
        }
        return;
      }
      // A long chunk: forward it piece by piece as it arrives.
      const declared = range;
      const stream = new OutStream(
        ctx,
        target,
        forwardedHeaders(req.headers, d.toPath, d.fromPath),
        declared?.total ?? "*",
      );
      ctx.stream = stream;
      target.streams.push(stream);
      c.incoming = { tid: req.tid, discard: false, stream, target, ctx };
      if (req.body !== null && req.body.length > 0) await this.#pushPiece(target, stream, req.body);
      return;
    }

    if (target === undefined) {
      this.#log("warn", "forward-failed", `${method} ${req.tid}: next hop unreachable`, c);
      if (method !== "REPORT") this.#reply(c, info, { status: 408 });
      return;
    }
    const tid = newTransactionId();
    const frame: MsrpRequest = {
      ...req,
      tid,
      headers: forwardedHeaders(req.headers, d.toPath, d.fromPath),
    };
    await this.#room(target);
    if (target.state === "closed") {
      if (method !== "REPORT") this.#reply(c, info, { status: 408 });
      return;
    }
    if (method === "REPORT") {
      // REPORTs get no response (RFC 4975 §7.1.2): nothing to wait for.
      this.#enqueueFrame(target, frame);
      this.#forwardedRequests++;
      return;
    }
    // AUTH and unknown methods are answered end to end (§6.4.2, §6.4.3).
    const p: PendingRelayed = {
      kind: "relayed",
      conn: target,
      tid,
      origin: c,
      originTid: req.tid,
      method,
      fromPath: info.fromPath,
      ourUri: d.ourUri,
      fr: info.fr,
      hadCredentials: req.headers.has("Authorization"),
      ownHops: d.fromPath.length - info.fromPath.length,
      timer: undefined,
      done: false,
    };
    target.pending.set(tid, p);
    const queued = this.#enqueueFrame(target, frame, {
      onTid: (to) => this.#rekey(p, to),
      onWritten: () => this.#armTimer(p),
    });
    if (!queued) {
      target.pending.delete(p.tid);
      this.#reply(c, info, { status: 408 });
      return;
    }
    this.#forwardedRequests++;
  }

  async #forwardWholeSend(
    target: Conn,
    req: MsrpRequest,
    d: Extract<RouteDecision, { kind: "toward-client" | "from-client" }>,
    ctx: SendContext,
  ): Promise<void> {
    const length = req.body?.length ?? 0;
    await this.#room(target);
    if (target.state === "closed") {
      this.#sendFailed(ctx, 408, "next hop connection lost", 0, length);
      return;
    }
    const tid = newTransactionId();
    const p: PendingSend = {
      kind: "send",
      conn: target,
      tid,
      ctx,
      offset: 0,
      length,
      stream: undefined,
      timer: undefined,
      done: false,
    };
    if (ctx.fr !== "no") target.pending.set(tid, p);
    const frame: MsrpRequest = {
      ...req,
      tid,
      headers: forwardedHeaders(req.headers, d.toPath, d.fromPath),
    };
    const queued = this.#enqueueFrame(target, frame, {
      onTid: (to) => this.#rekey(p, to),
      onWritten: () => this.#armTimer(p),
      bodyBytes: length,
    });
    if (!queued) {
      target.pending.delete(p.tid);
      this.#sendFailed(ctx, 408, "next hop connection lost", 0, length);
      return;
    }
    this.#forwardedRequests++;
  }

  async #onPiece(c: Conn, inc: Incoming, piece: MsrpRequest): Promise<void> {
    const last = piece.flag !== undefined;
    if (last) c.incoming = undefined;
    const ctx = inc.ctx;
    const s = inc.stream;
    if (inc.discard || ctx === undefined || s === undefined || ctx.failed || s.finished) return;
    if (piece.body !== null && piece.body.length > 0) {
      await this.#pushPiece(inc.target!, s, piece.body);
    }
    if (!last) return;
    ctx.complete = true;
    if (!s.finished && s.endFlag === undefined) {
      s.endFlag = piece.flag;
      this.#wake(inc.target!);
    }
    if (!ctx.failed && !ctx.answered && ctx.fr === "yes") {
      ctx.answered = true;
      this.#reply(c, this.#ctxInfo(ctx), { status: 200 });
    }
  }

  /** Queues body bytes of a streamed chunk, once the target has room (back-pressure). */
  async #pushPiece(target: Conn, s: OutStream, body: Uint8Array): Promise<void> {
    await this.#room(target);
    if (s.finished || s.abortFlag !== undefined || target.state === "closed") return;
    s.pieces.push(body);
    s.queued += body.length;
    s.received += body.length;
    this.#addBuffered(target, body.length);
    this.#wake(target);
  }

  /** Waits until fewer than `maxBufferedBytesPerConnection` bytes are queued for `target`. */
  async #room(target: Conn): Promise<void> {
    const limit = this.#config.limits.maxBufferedBytesPerConnection;
    while (target.state !== "closed" && target.buffered >= limit) {
      await new Promise<void>((resolve) => target.roomWaiters.push(resolve));
    }
  }

  #addBuffered(c: Conn, n: number): void {
    c.buffered += n;
    this.#buffered += n;
    if (c.buffered > this.#peakConnBuffered) this.#peakConnBuffered = c.buffered;
    if (this.#buffered > this.#peakBuffered) this.#peakBuffered = this.#buffered;
  }

  #releaseBuffered(c: Conn, n: number): void {
    if (c.state === "closed") return;
    c.buffered -= n;
    this.#buffered -= n;
    if (
      c.buffered < this.#config.limits.maxBufferedBytesPerConnection && c.roomWaiters.length > 0
    ) {
      const waiters = c.roomWaiters;
      c.roomWaiters = [];
      for (const w of waiters) w();
    }
  }

  #ctxInfo(ctx: SendContext): ReqInfo {
    return {
      tid: ctx.originTid,
      method: "SEND",
      fromPath: ctx.reportTo,
      ourUri: ctx.ourUri,
      fr: ctx.fr,
      messageId: ctx.messageId,
    };
  }

  /**
   * A forwarded SEND (or part of it) failed with `status` (§6.4.1, §6.4.3).
   * While the chunk is not yet acknowledged the error is the response to it
   * (RFC 4975 §7.1.4) and the rest of the chunk is refused; afterwards it
   * becomes a failure REPORT to the sender, as Failure-Report asks.
   */
  #sendFailed(
    ctx: SendContext,
    status: number,
    comment: string,
    offset: number,
    length: number,
  ): void {
    const timeout = status === 408;
    // Once the chunk was refused with an error response, the sender knows
    // all it needs; RFC 4975 §5.3: only `yes` runs timers and reports timeouts.
    if (ctx.failed || ctx.fr === "no" || (timeout && ctx.fr !== "yes")) return;
    if (!ctx.answered && (ctx.fr === "yes" || !ctx.complete)) {
      ctx.answered = true;
      ctx.failed = true;
      this.#log("info", "send-refused", `SEND ${ctx.originTid} answered ${status}: ${comment}`);
      const s = ctx.stream;
      if (s !== undefined && !s.finished && s.abortFlag === undefined) {
        s.abortFlag = "#";
        this.#wake(s.target);
      }
      if (ctx.origin.state !== "closed") this.#reply(ctx.origin, this.#ctxInfo(ctx), { status });
      return;
    }
    if (!failureReportOwed(ctx.fr, timeout) || ctx.messageId === undefined) return;
    if (ctx.origin.state === "closed") {
      this.#log("info", "report-dropped", `no way back for a ${status} REPORT: connection closed`);
      return;
    }
    let range = reportedRange(ctx.range, offset, length);
    if (
      typeof range.total === "number" && typeof range.end === "number" && range.end > range.total
    ) {
      range = { ...range, end: range.total };
    }
    let report: MsrpRequest;
    try {
      report = relayFailureReport({
        tid: newTransactionId(),
        toPath: ctx.reportTo,
        ourUri: ctx.ourUri,
        messageId: ctx.messageId,
        byteRange: range,
        status,
        comment,
      });
    } catch (e) {
      this.#log("error", "internal-error", `cannot build a REPORT: ${describe(e)}`, ctx.origin, e);
      return;
    }
    this.#log(
      "info",
      "failure-report",
      `REPORT ${status} for ${ctx.messageId} bytes ${range.start}-${range.end}`,
      ctx.origin,
    );
    this.#enqueueFrame(ctx.origin, report);
  }

  // -------------------------------------------------------------------------
  // Responses and timers

  #onResponse(c: Conn, res: MsrpResponse): void {
    const p = c.pending.get(res.tid);
    if (p === undefined) {
      this.#log("debug", "response-unmatched", `response ${res.tid} matches no transaction`, c);
      return;
    }
    // §6.4.3: "verify that the first URI in the To-Path corresponds to
    // itself; if not, the response SHOULD be dropped"; unparsable: MUST.
    let toPath: MsrpUri[] | undefined;
    try {
      toPath = getToPath(res.headers);
    } catch {
      toPath = undefined;
    }
    if (toPath === undefined || !isRelayUri(toPath[0], this.#identity)) {
      this.#log("warn", "response-dropped", `response ${res.tid} is not addressed to the relay`, c);
      return;
    }
    c.pending.delete(res.tid);
    p.done = true;
    this.#clock.clearTimeout(p.timer);
    if (p.kind === "send") {
      if (res.status === 200) return;
      this.#log("info", "downstream-error", `next hop answered ${res.status} ${res.comment}`, c);
      this.#sendFailed(p.ctx, res.status, res.comment || "", p.offset, p.length);
      // RFC 4975 §7.3.2: a failure for a chunk being delivered aborts the message.
      const s = p.stream;
      if (s !== undefined && !s.finished && s.abortFlag === undefined) {
        s.abortFlag = "#";
        this.#wake(c);
      }
      return;
    }
    // §6.4.3: move our URI from To-Path to From-Path and pass the response
    // on (each of our URIs, when the request passed through the relay twice).
    const rest = toPath.slice(p.ownHops);
    if (rest.length === 0) return;
    let fromPath: MsrpUri[] | undefined;
    try {
      fromPath = getFromPath(res.headers);
    } catch {
      fromPath = undefined;
    }
    if (fromPath === undefined) return;
    if (p.origin.state === "closed") {
      this.#log("debug", "response-dropped", "the connection back has closed", c);
      return;
    }
    const frame: MsrpResponse = {
      kind: "response",
      tid: p.originTid,
      status: res.status,
      comment: res.comment,
      headers: forwardedHeaders(res.headers, rest, [
        ...toPath.slice(0, p.ownHops).reverse(),
        ...fromPath,
      ]),
      flag: "$",
    };
    this.#enqueueFrame(p.origin, frame);
    // §6.3: failed AUTHs forwarded for a directly connected client count too.
    if (
      p.method === "AUTH" && p.hadCredentials && res.status === 401 &&
      !hasStaleChallenge(res.headers)
    ) {
      this.#noteFailure(p.origin, true);
    }
  }

  /** Starts the hop timer: "when the last byte of the message has been sent to the next hop" (§6.4.1). */
  #armTimer(p: Pending): void {
    if (p.done || p.conn.state === "closed") return;
    if (p.kind === "send" && p.ctx.fr === "no") {
      p.conn.pending.delete(p.tid);
      return;
    }
    this.#clock.clearTimeout(p.timer);
    p.timer = this.#clock.setTimeout(
      () => this.#onTimeout(p),
      this.#config.limits.transactionTimeoutMs,
    );
  }

  #onTimeout(p: Pending): void {
    if (p.done) return;
    p.done = true;
    p.conn.pending.delete(p.tid);
    if (p.kind === "send") {
      this.#log("warn", "hop-timeout", `no response to SEND ${p.tid} from the next hop`, p.conn);
      // §6.4.1: "the relay MUST construct a REPORT with a status code of 408".
      this.#sendFailed(p.ctx, 408, "Request Timeout", p.offset, p.length);
    } else {
      this.#log("warn", "hop-timeout", `no response to ${p.method} ${p.tid}`, p.conn);
      this.#relayedTimedOut(p);
    }
  }

  /** A forwarded AUTH or extension request got no answer: 408 back (RFC 4975 §10.4). */
  #relayedTimedOut(p: PendingRelayed): void {
    if (p.origin.state === "closed") return;
    this.#reply(p.origin, {
      tid: p.originTid,
      method: p.method,
      fromPath: p.fromPath,
      ourUri: p.ourUri,
      fr: p.fr,
      messageId: undefined,
    }, { status: 408 });
  }

  #rekey(p: Pending, to: string): void {
    const map = p.conn.pending;
    if (map.get(p.tid) === p) {
      map.delete(p.tid);
      map.set(to, p);
    }
    p.tid = to;
  }

  /**
   * The FrameWriter changed a wire transaction id because the body held its
   * end-line (RFC 4975 §7.1). Before anything was written only the id
   * changes; mid-chunk the writer interrupted the chunk with `+` and went on
   * as a new transaction, which gets its own pending entry.
   */
  #onTidChange(c: Conn, ch: TransactionIdChange): void {
    const w = c.currentWire;
    if (w === undefined) return;
    if (!ch.interrupted) {
      this.#rekey(w.pending, ch.to);
      return;
    }
    const old = w.pending;
    old.length = ch.byteOffset - w.segStart;
    const next: PendingSend = {
      ...old,
      tid: ch.to,
      offset: old.offset + old.length,
      length: 0,
      timer: undefined,
      done: false,
    };
    if (old.ctx.fr !== "no") c.pending.set(ch.to, next);
    w.segStart = ch.byteOffset;
    w.pending = next;
    this.#armTimer(old);
  }

  // -------------------------------------------------------------------------
  // Writing

  /** Encodes a whole frame with a fresh writer; `onTid` learns of a changed id (§7.1). */
  #encodeWhole(frame: Frame, onTid?: (to: string) => void): Uint8Array {
    const parts: Uint8Array[] = [];
    new FrameWriter({
      coalesceLimit: Infinity,
      onTransactionIdChange: (ch) => onTid?.(ch.to),
    }).write(frame, (b) => parts.push(b));
    return concatBytes(parts);
  }

  /** Queues a whole frame for a connection, ahead of streamed chunks (§7.1.1). */
  #enqueueFrame(
    c: Conn,
    frame: Frame,
    opts: { onTid?: (to: string) => void; onWritten?: () => void; bodyBytes?: number } = {},
  ): boolean {
    if (c.state === "closed") return false;
    let bytes: Uint8Array;
    try {
      bytes = this.#encodeWhole(frame, opts.onTid);
    } catch (e) {
      this.#log("error", "encode-failed", `cannot encode a frame: ${describe(e)}`, c, e);
      return false;
    }
    const bodyBytes = opts.bodyBytes ?? 0;
    const onWritten = opts.onWritten;
    c.control.push({
      bytes,
      onWritten: bodyBytes > 0 || onWritten !== undefined
        ? () => {
          this.#forwardedBodyBytes += bodyBytes;
          onWritten?.();
        }
        : undefined,
    });
    this.#addBuffered(c, bytes.length);
    this.#wake(c);
    return true;
  }

  #wake(c: Conn): void {
    const w = c.wake;
    c.wake = undefined;
    w?.();
  }

  async #write(c: Conn, bytes: Uint8Array): Promise<void> {
    c.writingSince = this.#clock.now();
    await c.writer!.write(bytes);
    c.writingSince = undefined;
    c.lastActivity = this.#clock.now();
  }

  /**
   * The writer task of a connection: whole frames first, then turns among
   * the chunks being streamed to it (RFC 4975 §7.1.1).
   */
  async #pump(c: Conn): Promise<void> {
    const quantum = this.#config.limits.fairnessQuantum;
    try {
      while (c.state !== "closed") {
        if (c.control.length > 0) {
          const a = c.active;
          if (a !== undefined && a.wire !== undefined) {
            // §7.1.1: interrupt the chunk for the waiting response or REPORT.
            await this.#endWire(c, a, "+");
            continue;
          }
          const job = c.control.shift()!;
          await this.#write(c, job.bytes);
          this.#releaseBuffered(c, job.bytes.length);
          job.onWritten?.();
          continue;
        }
        if (c.closing) {
          this.#close(c, c.closingReason);
          return;
        }
        const a = c.active;
        if (a !== undefined) {
          if (a.finished) {
            c.active = undefined;
            continue;
          }
          const rival = c.streams.some((s) => s !== a && eligible(s, c.streams));
          if (a.ready() && (!rival || c.activeBytes < quantum)) {
            await this.#step(c, a);
            continue;
          }
          if (!rival) {
            await this.#idle(c);
            continue;
          }
          // Another chunk waits and this one has had its turn, or has no
          // data now: interrupt it and let the other go (§7.1.1 fairness).
          if (a.wire !== undefined) await this.#endWire(c, a, "+");
          const i = c.streams.indexOf(a);
          if (i >= 0) c.streams.push(...c.streams.splice(i, 1));
          c.active = undefined;
          continue;
        }
        const next = c.streams.find((s) => eligible(s, c.streams));
        if (next === undefined) {
          await this.#idle(c);
          continue;
        }
        c.active = next;
        c.activeBytes = 0;
      }
    } catch (e) {
      if (c.state !== "closed") {
        this.#log("info", "write-failed", `write failed: ${describe(e)}`, c, e);
        this.#close(c, "write failed");
      }
    }
  }

  #idle(c: Conn): Promise<void> {
    return new Promise<void>((resolve) => {
      c.wake = resolve;
    });
  }

  /** Writes the next piece of a streamed chunk, or ends it. */
  async #step(c: Conn, s: OutStream): Promise<void> {
    if (s.abortFlag !== undefined) {
      if (s.wire !== undefined) await this.#endWire(c, s, s.abortFlag);
      this.#finishStream(c, s);
      return;
    }
    if (c.transport?.frameAligned === true) return await this.#alignedStep(c, s);
    const body = s.pieces.shift();
    if (body === undefined) {
      // The source ended and every byte went out: end the chunk with its flag
      // (a zero-length chunk when the last bytes left in an earlier one). An
      // interruption needs no chunk of its own.
      if (s.wire === undefined && s.endFlag === "+") {
        this.#finishStream(c, s);
        return;
      }
      if (s.wire === undefined) await this.#writeParts(c, this.#openWire(c, s, EMPTY));
      await this.#endWire(c, s, s.endFlag!);
      this.#finishStream(c, s);
      return;
    }
    s.queued -= body.length;
    let parts: Uint8Array[];
    if (s.wire === undefined) parts = this.#openWire(c, s, body);
    else {
      parts = [];
      const w = s.wire;
      c.currentWire = w;
      c.frameWriter!.write({
        kind: "request",
        tid: w.callerTid,
        method: "SEND",
        headers: w.headers,
        body,
        offset: w.written,
        flag: undefined,
      }, (b) => parts.push(b));
    }
    const w = s.wire!;
    w.written += body.length;
    w.pending.length = w.written - w.segStart;
    c.activeBytes += body.length;
    await this.#writeParts(c, parts);
    this.#releaseBuffered(c, body.length);
    this.#forwardedBodyBytes += body.length;
    if (s.pieces.length === 0 && s.endFlag !== undefined && s.wire !== undefined) {
      await this.#endWire(c, s, s.endFlag);
      this.#finishStream(c, s);
    }
  }

  async #writeParts(c: Conn, parts: readonly Uint8Array[]): Promise<void> {
    for (const p of parts) await this.#write(c, p);
  }

  /** Starts a new wire transaction for a stream: new id, Byte-Range from the next byte, `*` end. */
  #openWire(c: Conn, s: OutStream, body: Uint8Array): Uint8Array[] {
    const tid = newTransactionId();
    const start = (s.ctx.range?.start ?? 1) + s.sent;
    const headers = s.headers.clone();
    // §7.1.1: a chunk that may be interrupted has "*" as its range end.
    headers.set("Byte-Range", `${start}-*/${s.total}`);
    const pending: PendingSend = {
      kind: "send",
      conn: c,
      tid,
      ctx: s.ctx,
      offset: s.sent,
      length: 0,
      stream: s,
      timer: undefined,
      done: false,
    };
    // Registered before anything is written: the answer may come back fast.
    if (s.ctx.fr !== "no") c.pending.set(tid, pending);
    const w: OpenWire = { callerTid: tid, headers, written: 0, segStart: 0, pending };
    s.wire = w;
    c.currentWire = w;
    this.#forwardedRequests++;
    const parts: Uint8Array[] = [];
    c.frameWriter!.write({
      kind: "request",
      tid,
      method: "SEND",
      headers,
      body,
      offset: 0,
      flag: undefined,
    }, (b) => parts.push(b));
    return parts;
  }

  /** Writes the end-line of a stream's open wire transaction and starts its timer. */
  async #endWire(c: Conn, s: OutStream, flag: ContinuationFlag): Promise<void> {
    const w = s.wire!;
    const parts: Uint8Array[] = [];
    c.currentWire = w;
    c.frameWriter!.write({
      kind: "request",
      tid: w.callerTid,
      method: "SEND",
      headers: w.headers,
      body: EMPTY,
      offset: w.written,
      flag,
    }, (b) => parts.push(b));
    c.currentWire = undefined;
    s.sent += w.written;
    s.wire = undefined;
    await this.#writeParts(c, parts);
    this.#armTimer(w.pending);
  }

  /**
   * For transports that carry one whole frame per message (WebSocket,
   * RFC 7977 §5.3): every piece goes out as a complete chunk of its own.
   */
  async #alignedStep(c: Conn, s: OutStream): Promise<void> {
    const body = s.pieces.shift() ?? EMPTY;
    s.queued -= body.length;
    const last = s.pieces.length === 0 && s.endFlag !== undefined;
    const flag: ContinuationFlag = last ? s.endFlag! : "+";
    const start = (s.ctx.range?.start ?? 1) + s.sent;
    const end = start + body.length - 1;
    const headers = s.headers.clone();
    const total = s.total;
    headers.set(
      "Byte-Range",
      `${start}-${typeof total === "number" && end > total ? "*" : end}/${total}`,
    );
    const tid = newTransactionId();
    const p: PendingSend = {
      kind: "send",
      conn: c,
      tid,
      ctx: s.ctx,
      offset: s.sent,
      length: body.length,
      stream: s,
      timer: undefined,
      done: false,
    };
    if (s.ctx.fr !== "no") c.pending.set(tid, p);
    const bytes = this.#encodeWhole(
      { kind: "request", tid, method: "SEND", headers, body, offset: 0, flag },
      (to) => this.#rekey(p, to),
    );
    s.sent += body.length;
    this.#forwardedRequests++;
    await this.#write(c, bytes);
    this.#releaseBuffered(c, body.length);
    this.#forwardedBodyBytes += body.length;
    this.#armTimer(p);
    if (last) this.#finishStream(c, s);
  }

  #finishStream(c: Conn, s: OutStream): void {
    s.finished = true;
    if (s.queued > 0) {
      this.#releaseBuffered(c, s.queued);
      s.queued = 0;
    }
    s.pieces = [];
    const i = c.streams.indexOf(s);
    if (i >= 0) c.streams.splice(i, 1);
    if (c.active === s) c.active = undefined;
  }

  // -------------------------------------------------------------------------
  // Housekeeping

  #scheduleSweep(): void {
    if (this.#closed) return;
    this.#sweepTimer = this.#clock.setTimeout(() => {
      try {
        this.sweep();
      } catch (e) {
        this.#log("error", "internal-error", `sweep failed: ${describe(e)}`, undefined, e);
      }
      this.#scheduleSweep();
    }, this.#config.limits.sweepIntervalMs);
  }

  /**
   * Removes expired registrations (§6.3), closes connections without
   * registrations that have been idle for `idleMs` (§6.5), and connections
   * whose peer has taken no data for `writeStallMs`. Runs every
   * `sweepIntervalMs` on its own; tests may call it directly.
   */
  sweep(): void {
    for (const reg of this.#regs.sweep()) {
      this.#log("info", "registration-expired", `${reg.uri} of ${reg.username} expired`);
    }
    const now = this.#clock.now();
    const { idleMs, writeStallMs } = this.#config.limits;
    for (const c of [...this.#conns.values()]) {
      if (this.#isIdle(c) && now - c.lastActivity >= idleMs) {
        this.#close(c, "idle (RFC 4976 §6.5)");
      } else if (c.writingSince !== undefined && now - c.writingSince >= writeStallMs) {
        this.#log(
          "warn",
          "write-stalled",
          `the peer took no data for ${now - c.writingSince} ms`,
          c,
        );
        this.#close(c, "the peer stopped reading");
      }
    }
  }

  /** Current counters: connections, registrations, buffered bytes and their peaks. */
  stats(): RelayStats {
    let inbound = 0;
    let pending = 0;
    for (const c of this.#conns.values()) {
      if (!c.outbound) inbound++;
      pending += c.pending.size;
    }
    return {
      connections: this.#conns.size,
      inboundConnections: inbound,
      outboundConnections: this.#conns.size - inbound,
      registrations: [...this.#regs].length,
      pendingTransactions: pending,
      bufferedBytes: this.#buffered,
      peakBufferedBytes: this.#peakBuffered,
      peakConnectionBufferedBytes: this.#peakConnBuffered,
      forwardedRequests: this.#forwardedRequests,
      forwardedBodyBytes: this.#forwardedBodyBytes,
    };
  }

  /** The live registrations. */
  registrations(): RelayRegistration[] {
    return [...this.#regs];
  }

  /**
   * Closes every connection, stops the timers, and waits for the relay's
   * tasks to end. Listeners are the caller's to close.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#clock.clearTimeout(this.#sweepTimer);
      for (const c of [...this.#conns.values()]) this.#close(c, "the relay is shutting down");
    }
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }
}

// ---------------------------------------------------------------------------
// A server: listeners plus a relay

/** Accepted connections from one listening address. */
export interface RelayListener extends AsyncIterable<MsrpTransport> {
  /** The bound address, with the real port when 0 was asked for. */
  readonly addr?: NetAddress;
  /** Stops listening; the iteration ends. */
  close(): void;
}

/** What {@linkcode startRelay} needs besides the configuration. */
export interface StartRelayOptions extends Omit<MsrpRelayOptions, "config"> {
  /**
   * Opens one listener: TLS with the configured certificate and key when
   * `listen.tls` is true, plain TCP otherwise.
   */
  listen: (
    listen: RelayListenConfig,
    tls: RelayTlsConfig | undefined,
  ) => RelayListener | Promise<RelayListener>;
}

/** A running relay server. */
export interface RelayServer {
  /** The relay. */
  readonly relay: MsrpRelay;
  /** The listeners, in the order of `config.listen`. */
  readonly listeners: readonly RelayListener[];
  /** Stops listening and closes the relay. */
  close(): Promise<void>;
}

/**
 * Starts a relay server: opens every configured listener, fills in ports
 * chosen by the system (port 0), and accepts connections until closed.
 *
 * @param config the checked configuration
 * @param options how to listen and connect, and the injected services
 * @throws {MsrpError} `listen-failed` when a listener cannot be opened
 */
export async function startRelay(
  config: RelayConfig,
  options: StartRelayOptions,
): Promise<RelayServer> {
  const listeners: RelayListener[] = [];
  try {
    for (const l of config.listen) listeners.push(await options.listen(l, config.tls));
  } catch (e) {
    for (const l of listeners) l.close();
    throw new MsrpError("listen-failed", `cannot listen: ${describe(e)}`, { cause: e });
  }
  const listen = config.listen.map((l, i) =>
    l.port === 0 && listeners[i].addr !== undefined ? { ...l, port: listeners[i].addr!.port } : l
  );
  const { listen: _listen, ...rest } = options;
  const relay = new MsrpRelay({ ...rest, config: { ...config, listen } });
  const serving = listeners.map((l) => relay.serve(l));
  return {
    relay,
    listeners,
    async close(): Promise<void> {
      for (const l of listeners) {
        try {
          l.close();
        } catch {
          // already closed
        }
      }
      await Promise.allSettled(serving);
      await relay.close();
    },
  };
}
