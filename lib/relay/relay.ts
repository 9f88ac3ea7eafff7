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
 * - **Writing.** Each connection has one writer task and one output queue
 *   (`Conn.out`), run by the rules endpoints use too
 *   (`lib/session/fair_queue.ts`): frames the relay makes or forwards whole
 *   (responses, REPORTs, AUTH) go first; SEND chunks, whole or streamed,
 *   take turns by message, a message's own chunks in the order they came. A
 *   streamed chunk is forwarded as an interruptible chunk
 *   (`Byte-Range: n-*\/total`), and the writer interrupts it with `+`
 *   whenever a control frame is waiting (RFC 4975 §7.1.1: "SEND requests
 *   larger than 2048 octets MUST be interrupted if the sender needs to send
 *   pending responses or REPORT requests"), when another message waits and
 *   this one has had its share (`fairnessQuantum`), when its source is
 *   slower than another chunk's, or when the connection's window of
 *   unanswered bytes is full. It resumes later as a new transaction whose
 *   Byte-Range starts at the next byte (RFC 4976 §6.4.1: relays may
 *   re-chunk). Pieces never wait for a busy writer in a way that could block
 *   the queue.
 * - **Bytes in flight.** SEND bytes written to a connection whose 200 from
 *   the next hop is still owed are bounded by a window counted in time
 *   (what the next hop takes in 10 ms, at most
 *   `maxUnansweredBytesPerConnection`), so a chat message does not wait
 *   behind megabytes in socket buffers.
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
 * Where each part lives (this module owns the connections and hands each
 * frame to the part that handles it):
 *
 * - `connection.ts`: one connection, its probation and failure counts
 *   (§6.1, §6.3, §6.5);
 * - `connection_table.ts`: all connections, and which one reaches a next
 *   hop (RFC 4975 §5.4; §6.3, §8);
 * - `requests.ts`: checks a request and acts on the routing decision
 *   (§6.2, §6.4), made by the pure rules in `forwarding.ts`;
 * - `auth.ts`: AUTH with HTTP Digest, and the Use-Path URI (§5.1, §6.3,
 *   §9.1), kept in `registrations.ts`;
 * - `forwarder.ts`: sends a request on, whole or piece by piece (§6.4,
 *   §6.4.1, §6.4.2);
 * - `transactions.ts`: forwarded transactions waiting for an answer, hop
 *   timers, failure REPORTs (§6.4.1, §6.4.3);
 * - `outbound.ts`: the writer of each connection, interrupting and
 *   re-chunking (RFC 4975 §7.1.1; §6.4.1);
 * - `reply.ts`: the relay's responses (RFC 4975 §7.2);
 * - `services.ts`: the clock and the logger; `core.ts`: what the parts share.
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import { consoleLogger, type Logger, type LogLevel } from "../log.ts";
import { type Clock, systemClock } from "../session/clock.ts";
import { TimerQueue } from "../session/timer_queue.ts";
import { FrameParser } from "../wire/decoder.ts";
import { FrameWriter } from "../wire/encoder.ts";
import { frameTracer } from "../wire/frame_trace.ts";
import type { DecodedFrame, MsrpRequest, MsrpResponse } from "../wire/frame.ts";
import { MsrpUri } from "../wire/uri.ts";
import type { MsrpTransport, NetAddress } from "../transport/types.ts";
import {
  type RelayConfig,
  type RelayListenConfig,
  type RelayTlsConfig,
  type RelayUserConfig,
  resolveRelayUsers,
} from "./config.ts";
import { closeTransport, type Conn } from "./connection.ts";
import { isIdle, startProbation } from "./lifecycle.ts";
import { ConnectionTable } from "./connection_table.ts";
import type { RelayCore } from "./core.ts";
import { NonceManager } from "./digest.ts";
import { abandon, onPiece } from "./forwarder.ts";
import type { RelayIdentity } from "./forwarding.ts";
import { discardOutput, pump, releaseWaiters } from "./outbound.ts";
import { RegistrationTable, type RelayRegistration } from "./registrations.ts";
import { QuietWatch } from "./quiet.ts";
import { onInvalid, onRequest } from "./requests.ts";
import { describe } from "./services.ts";
import { failPending, onResponse, onTidChange } from "./transactions.ts";

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
  clock?: Clock;
  /**
   * Where log events go: `logger(level, message, { event, connection?, error? })`
   * (default: `consoleLogger()`, warnings and errors to stderr).
   */
  logger?: Logger;
  /**
   * Where a trace of the wire goes: every frame read or written on every
   * connection, as `debug` events `frame in` / `frame out` with the
   * connection's id (the shape of the session `Logger`, see
   * `lib/wire/frame_trace.ts`). Default: no trace.
   */
  trace?: Logger;
  /** The Digest nonce issuer (default: a new one with the configured lifetime and the clock). */
  nonces?: NonceManager;
  /**
   * Something to run once the relay has been quiet for `afterMs` (no bytes
   * read, no connection opened or closed), once per quiet stretch: a server
   * gives memory back then (`serveRelay`'s `releaseMemory`). See
   * `quiet.ts`. Default: none.
   */
  quiet?: {
    readonly afterMs: number;
    /** The least time between two runs of `onQuiet`, ms (default 0). */
    readonly minGapMs?: number;
    readonly onQuiet: () => void;
  };
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
// The relay

/**
 * An MSRP relay: hand it connections, and it authenticates clients and
 * forwards their traffic (RFC 4976 §6). See the module documentation.
 *
 * ```ts
 * import { MsrpRelay, resolveRelayConfig } from "@msrp/msrp/relay";
 * import { connectTls, listenTls } from "@msrp/msrp/transport";
 *
 * const tls = { certFile: "relay.pem", keyFile: "relay.key" };
 * const relay = new MsrpRelay({
 *   config: resolveRelayConfig({
 *     host: "relay.example.com",
 *     tls,
 *     users: { alice: { password: "secret" } },
 *   }),
 *   connect: (uri) => connectTls({ hostname: uri.host, port: uri.port ?? 2855 }),
 * });
 * const listener = await listenTls({
 *   hostname: "0.0.0.0",
 *   port: 2855,
 *   cert: await Deno.readTextFile(tls.certFile),
 *   key: await Deno.readTextFile(tls.keyFile),
 * });
 * for await (const transport of listener) relay.accept(transport);
 * ```
 */
export class MsrpRelay {
  #config: RelayConfig;
  readonly #identify: ((transport: MsrpTransport) => string | undefined) | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #trace: Logger | undefined;
  readonly #regs: RegistrationTable;
  readonly #identity: RelayIdentity;
  /** What the parts of the relay (auth, forwarding, writing, ...) share. */
  readonly #core: RelayCore;
  readonly #conns: ConnectionTable;
  readonly #tasks = new Set<Promise<void>>();
  #closed = false;
  #sweepTimer: unknown;
  /** When a connection last opened or closed, on the clock. */
  #lastOpenOrClose: number;
  readonly #quiet: QuietWatch | undefined;

  /**
   * Makes a relay. It starts its sweep timer at once; call
   * {@linkcode MsrpRelay.close} to stop it.
   *
   * @param options configuration and injected services
   */
  constructor(options: MsrpRelayOptions) {
    const config = options.config;
    this.#config = config;
    this.#identify = options.identifyPeer;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? consoleLogger();
    this.#trace = options.trace;
    const clock = this.#clock;
    const nonces = options.nonces ??
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
    const currentConfig = (): RelayConfig => this.#config;
    this.#core = {
      // Read on each use: setUsers() replaces the configuration.
      get config(): RelayConfig {
        return currentConfig();
      },
      clock,
      timers: new TimerQueue(clock),
      identity: this.#identity,
      nonces,
      regs: this.#regs,
      counters: {
        buffered: 0,
        peakBuffered: 0,
        peakConnBuffered: 0,
        forwardedRequests: 0,
        forwardedBodyBytes: 0,
      },
      debug: wantsDebug(this.#logger),
      log: (level, event, message, conn, error) => this.#log(level, event, message, conn, error),
      ownUri: (secure, sessionId) => this.#ownUri(secure, sessionId),
      close: (c, reason) => this.#close(c, reason),
    };
    this.#conns = new ConnectionTable(this.#core, {
      connect: options.connect,
      attach: (c, transport) => this.#attach(c, transport),
      shutDown: () => this.#closed,
    });
    this.#lastOpenOrClose = clock.now();
    const quiet = options.quiet;
    this.#quiet = quiet === undefined ? undefined : new QuietWatch({
      clock,
      quietMs: quiet.afterMs,
      minGapMs: quiet.minGapMs,
      lastActivity: () => this.#lastActivity(),
      onQuiet: () => {
        try {
          quiet.onQuiet();
        } catch (e) {
          this.#log(
            "error",
            "internal-error",
            `quiet-time work failed: ${describe(e)}`,
            undefined,
            e,
          );
        }
      },
    });
    this.#scheduleSweep();
  }

  /** The configuration the relay runs with. */
  get config(): RelayConfig {
    return this.#config;
  }

  /**
   * Replaces the users, e.g. from a users file reloaded on SIGHUP. Nothing
   * else changes: connections and registrations stay. The new users apply
   * to the next AUTH, refreshes included: a user removed or disabled keeps
   * its Use-Path URIs until they expire but cannot refresh them (RFC 4976
   * §6.3: 401 or 403).
   *
   * @param users by name, each `{ password }` or `{ ha1 }` as in the configuration
   * @throws {MsrpError} `bad-config` for a wrong entry; the old users then stay
   */
  setUsers(users: Readonly<Record<string, RelayUserConfig>>): void {
    this.#config = { ...this.#config, users: resolveRelayUsers(users) };
  }

  /** The names and ports the relay answers to. */
  get identity(): RelayIdentity {
    return this.#identity;
  }

  /**
   * The relay's own URI (no session id) for clients on a TLS or a plain
   * connection: `msrps://host:port;tcp` with the first TCP listener of that
   * kind. WebSocket listeners are skipped: the URIs the relay hands out name
   * where other MSRP nodes reach it, over TCP, even for a client that came
   * over WebSocket (RFC 7977 §8.1: `Use-Path: msrps://a.example.com:2855/
   * jui787s2f;tcp` in the 200 to an AUTH over WSS). Only a relay without
   * TCP listeners names a WebSocket one (`;ws`, RFC 7977 §5.2.1).
   *
   * @param secure TLS (msrps) or plain TCP (msrp)
   */
  uri(secure: boolean): MsrpUri {
    return this.#ownUri(secure, undefined);
  }

  #ownUri(secure: boolean, sessionId: string | undefined): MsrpUri {
    const listeners = this.#config.listen;
    const tcp = listeners.filter((x) => x.websocket !== true);
    const from = tcp.length > 0 ? tcp : listeners;
    const l = from.find((x) => x.tls === secure) ?? from[0];
    return MsrpUri.from({
      scheme: secure ? "msrps" : "msrp",
      host: this.#config.host,
      port: l.advertisePort ?? l.port,
      sessionId,
      transport: l.websocket === true ? "ws" : "tcp",
    });
  }

  #log(
    level: LogLevel,
    event: string,
    message: string,
    conn?: Conn,
    error?: unknown,
  ): void {
    try {
      const data: Record<string, unknown> = { event };
      if (conn !== undefined) data.connection = conn.id;
      if (error !== undefined) data.error = error;
      this.#logger(level, message, data);
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
      closeTransport(transport);
      return -1;
    }
    if (!this.#conns.makeRoom()) {
      this.#log("warn", "connection-limit", "connection refused: the relay is at its limit");
      closeTransport(transport);
      return -1;
    }
    const c = this.#conns.addInbound();
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
        c.peer.identifyRelay(host);
      } else {
        this.#log(
          "info",
          "untrusted-relay",
          `relay ${host} is not trusted; treated as a client`,
          c,
        );
      }
    }
    startProbation(this.#core, c);
    const remote = transport.remoteAddr;
    this.#log(
      "info",
      "connection-accepted",
      `${transport.kind} connection from ${remote ? `${remote.hostname}:${remote.port}` : "?"}` +
        (c.peer.host ? ` (relay ${c.peer.host})` : ""),
      c,
    );
    this.#attach(c, transport);
    this.#touched();
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

  /** Starts reading and writing a connection whose transport is there. */
  #attach(c: Conn, transport: MsrpTransport): void {
    c.transport = transport;
    c.state = "open";
    if (this.#trace !== undefined) {
      const remote = transport.remoteAddr;
      const where = {
        connection: c.id,
        ...(remote ? { peer: `${remote.hostname}:${remote.port}` } : {}),
      };
      c.traceIn = frameTracer(this.#trace, "in", where);
      c.out.traceOut = frameTracer(this.#trace, "out", where);
    }
    c.out.frameWriter = new FrameWriter({
      onTransactionIdChange: (ch) => onTidChange(this.#core, c, ch),
    });
    try {
      c.out.writer = transport.writable.getWriter();
    } catch (e) {
      this.#log("error", "transport-unusable", `cannot write: ${describe(e)}`, c, e);
      this.#close(c, "the transport cannot be written");
      return;
    }
    this.#track(this.#readLoop(c));
    this.#track(pump(this.#core, c));
  }

  /** Closes a connection now; what was under way on it fails. */
  #close(c: Conn, reason: string): void {
    if (c.state === "closed") return;
    c.state = "closed";
    c.peer.endProbation(this.#clock);
    this.#clock.clearTimer(c.closeTimer);
    this.#conns.remove(c);
    if (c.transport !== undefined) closeTransport(c.transport);
    // Nothing queued here will be written; a chunk being streamed here fails.
    discardOutput(this.#core, c);
    // RFC 4975 §5.4: the transactions on a failed connection have failed.
    failPending(c);
    // A chunk arriving here stops where it is: interrupted, not aborted (§7.1).
    const inc = c.incoming;
    c.incoming = undefined;
    if (inc !== undefined) abandon(inc);
    releaseWaiters(c);
    // RFC 4976 §6.3: "If the client's connection is closed ... the URI MUST be invalidated."
    const dropped = this.#regs.removeConnection(c.id);
    this.#log(
      "info",
      "connection-closed",
      reason + (dropped.length > 0 ? `; ${dropped.length} registration(s) invalidated` : ""),
      c,
    );
    this.#touched();
  }

  /** A connection opened or closed: activity the quiet watch must see. */
  #touched(): void {
    this.#lastOpenOrClose = this.#clock.now();
    this.#quiet?.poke();
  }

  /** The latest activity: the last bytes read on a connection, or the last open or close. */
  #lastActivity(): number {
    let last = this.#lastOpenOrClose;
    for (const c of this.#conns.values()) {
      if (c.peer.lastActivity > last) last = c.peer.lastActivity;
    }
    return last;
  }

  // -------------------------------------------------------------------------
  // Reading

  async #readLoop(c: Conn): Promise<void> {
    const parser = new FrameParser({ segmentSize: this.#config.limits.segmentSize });
    const batch: DecodedFrame[] = [];
    const emit = (f: DecodedFrame): void => {
      batch.push(f);
    };
    // The transport's fast path when it has one (no stream machinery per read).
    const transport = c.transport!;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    if (transport.readChunk === undefined) {
      try {
        reader = transport.readable.getReader();
      } catch (e) {
        this.#log("error", "transport-unusable", `cannot read: ${describe(e)}`, c, e);
        this.#close(c, "the transport cannot be read");
        return;
      }
    }
    try {
      while (c.state !== "closed") {
        let value: Uint8Array | null | undefined;
        if (reader === undefined) value = await transport.readChunk!();
        else {
          const r = await reader.read();
          value = r.done ? null : r.value;
        }
        if (c.closed) break;
        if (value === null || value === undefined) {
          c.traceIn?.end();
          parser.finish(emit);
          await this.#drain(c, batch);
          break;
        }
        c.peer.lastActivity = this.#clock.now();
        c.traceIn?.push(value);
        parser.push(value, emit);
        await this.#drain(c, batch);
        if (parser.failed) break;
      }
    } catch (e) {
      if (c.state !== "closed") this.#log("info", "read-failed", `read failed: ${describe(e)}`, c);
    } finally {
      try {
        reader?.releaseLock();
      } catch {
        // a read is still pending on a closed transport
      }
    }
    this.#close(c, "the connection ended");
  }

  /** Handles the frames of one read; waits only when forwarding must (back-pressure). */
  async #drain(c: Conn, batch: DecodedFrame[]): Promise<void> {
    for (let i = 0; i < batch.length; i++) {
      if (c.state === "closed") break;
      try {
        const wait = this.#onFrame(c, batch[i]);
        if (wait !== undefined) await wait;
      } catch (e) {
        this.#log("error", "internal-error", `while handling a frame: ${describe(e)}`, c, e);
        this.#close(c, "internal error");
      }
    }
    batch.length = 0;
  }

  /**
   * Hands a frame to the part that handles it: an unreadable frame, a
   * response to a forwarded request (`transactions.ts`), the next piece of
   * a chunk being forwarded (`forwarder.ts`), or a new request
   * (`requests.ts`).
   */
  #onFrame(c: Conn, f: DecodedFrame): Promise<void> | void {
    if (c.closing) {
      if (f.kind === "invalid" || f.kind === "response" || f.offset === 0) {
        const what = f.kind === "invalid" ? "an unreadable frame" : `${frameName(f)} ${f.tid}`;
        this.#log("debug", "frame-dropped", `${what}: the connection is closing`, c);
      }
      return;
    }
    if (f.kind === "invalid") return onInvalid(this.#core, c, f);
    if (f.kind === "response") return onResponse(this.#core, c, f);
    const inc = c.incoming;
    if (inc !== undefined) {
      if (inc.tid === f.tid && f.offset > 0) return onPiece(this.#core, c, inc, f);
      c.incoming = undefined;
      abandon(inc);
    }
    return onRequest(this.#core, this.#conns, c, f);
  }

  // -------------------------------------------------------------------------
  // Housekeeping

  #scheduleSweep(): void {
    if (this.#closed) return;
    this.#sweepTimer = this.#clock.setTimer(() => {
      try {
        this.sweep();
      } catch (e) {
        this.#log("error", "internal-error", `sweep failed: ${describe(e)}`, undefined, e);
      }
      // Traffic on connections open since the quiet watch last fired.
      this.#quiet?.poke();
      this.#scheduleSweep();
    }, this.#config.limits.sweepIntervalMs);
  }

  /**
   * Removes expired registrations (§6.3), closes connections without
   * registrations that have been idle for `idleMs` (§6.5; counted from their
   * last bytes, so a chunk whose sender stalled does not keep a connection
   * alive), and connections
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
      if (isIdle(this.#core, c) && now - c.peer.lastActivity >= idleMs) {
        this.#close(c, "idle (RFC 4976 §6.5)");
      } else if (c.out.writingSince !== undefined && now - c.out.writingSince >= writeStallMs) {
        this.#log(
          "warn",
          "write-stalled",
          `the peer took no data for ${now - c.out.writingSince} ms`,
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
    const counters = this.#core.counters;
    return {
      connections: this.#conns.size,
      inboundConnections: inbound,
      outboundConnections: this.#conns.size - inbound,
      registrations: [...this.#regs].length,
      pendingTransactions: pending,
      bufferedBytes: counters.buffered,
      peakBufferedBytes: counters.peakBuffered,
      peakConnectionBufferedBytes: counters.peakConnBuffered,
      forwardedRequests: counters.forwardedRequests,
      forwardedBodyBytes: counters.forwardedBodyBytes,
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
      this.#clock.clearTimer(this.#sweepTimer);
      this.#quiet?.stop();
      for (const c of [...this.#conns.values()]) this.#close(c, "the relay is shutting down");
      this.#core.timers.clear();
    }
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }
}

/** `SEND`, `REPORT`, ... or `response 200`, for a log line. */
function frameName(f: MsrpRequest | MsrpResponse): string {
  return f.kind === "request" ? f.method : `response ${f.status}`;
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
   * `listen.tls` is true, plain TCP otherwise; a WebSocket one (RFC 7977,
   * `wss:` or `ws:` by `listen.tls`) when `listen.websocket` is true.
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
 *
 * @example Start a relay with your own listeners and connector
 * ```ts
 * import { MsrpUri } from "@msrp/msrp";
 * import { resolveRelayConfig, startRelay } from "@msrp/msrp/relay";
 * import { connectTcp, listenTcp } from "@msrp/msrp/transport";
 *
 * const server = await startRelay(
 *   resolveRelayConfig({
 *     host: "127.0.0.1",
 *     allowInsecure: true,
 *     listen: [{ hostname: "127.0.0.1", port: 0, tls: false }],
 *     users: { alice: { password: "alice-secret" } },
 *   }),
 *   {
 *     listen: (l) => Promise.resolve(listenTcp({ hostname: l.hostname, port: l.port })),
 *     connect: (uri: MsrpUri) => connectTcp({ hostname: uri.host, port: uri.port ?? 2855 }),
 *   },
 * );
 * await server.close();
 * ```
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

/** Whether a logger wants `debug` events; one that does not say is given them. */
function wantsDebug(logger: Logger): boolean {
  try {
    return logger.wants?.("debug") ?? true;
  } catch {
    return true;
  }
}
