/**
 * MSRP over TCP: connecting, listening, and turning a socket into an
 * {@link MsrpTransport} (RFC 4975 §5.4, §6, §6.2).
 *
 * An `msrp:` URI with `;tcp` names a host to reach over TCP (RFC 4975 §6).
 * The endpoint that offered the session in SDP is the *active* one and opens
 * the connection (§5.4); the other one listens. How the host part of the URI
 * becomes an address is §6.2:
 *
 * - a numeric IP address (IPv4, or IPv6 written `[::1]` in the URI) is used
 *   as it is, with the port from the URI;
 * - a host name is looked up (A and AAAA records); when a connection attempt
 *   fails, the next address is tried, "in the order the records were
 *   presented".
 *
 * {@link connectTcp} does exactly that: it asks the system resolver
 * (`getaddrinfo` through `node:dns`, so `/etc/hosts` counts) for all
 * addresses, keeps its order, and tries them one after the other with
 * `Deno.connect`. (Deno's own `Deno.connect({ hostname })` would race the
 * address families instead, RFC 8305 "Happy Eyeballs", which is not the
 * order §6.2 asks for.) Failures become an {@link MsrpError} with a stable
 * code and a one-line message naming `host:port`:
 *
 * | code              | when                                              |
 * | ----------------- | ------------------------------------------------- |
 * | `dns-failed`      | the host name has no address                      |
 * | `connect-refused` | every address refused the connection              |
 * | `connect-failed`  | unreachable, timed out, or any other socket error |
 * | `connect-aborted` | the caller's `AbortSignal` fired                  |
 *
 * MSRP is latency sensitive (small frames, a response per request, §7.1), so
 * every connection gets `TCP_NODELAY`: small writes go out at once instead
 * of waiting for Nagle's algorithm.
 *
 * {@link connTransport} wraps an open `Deno.Conn` (TCP or TLS). Its streams
 * keep TCP's meaning: closing `writable` sends a FIN (the peer's readable
 * ends, ours stays open), aborting it or calling `close()` drops the
 * connection, and an error from the socket (a reset, a broken pipe) reaches
 * the reader or writer as an {@link MsrpError} `connection-reset`.
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import { setImmediate } from "node:timers";
import { MsrpError } from "../errors.ts";
import { AcceptBackoff, isTemporaryAcceptError } from "./accept_backoff.ts";
import {
  acceptUntilClosed,
  bareHost,
  formatAddress,
  isIpLiteral,
  listenerClosed,
  type ListenerServices,
  type MsrpListener,
} from "./address.ts";
import { TransportAdapter } from "./adapter.ts";
import { closeQuietly } from "./quiet.ts";
import type { MsrpTransport, NetAddress } from "./types.ts";

// ---------------------------------------------------------------------------
// Addresses

// Kept importable from here, where they were first written.
export {
  acceptUntilClosed,
  bareHost,
  formatAddress,
  isIpLiteral,
  listenerClosed,
  type ListenerServices,
  type MsrpListener,
};

/**
 * Looks a host name up and returns its addresses in the order the resolver
 * presented them (RFC 4975 §6.2).
 */
export type Resolver = (hostname: string) => Promise<readonly string[]>;

/** Options of {@link connectTcp}. */
export interface TcpConnectOptions {
  /** Gives up (with `connect-aborted`) when this signal fires. */
  signal?: AbortSignal;
  /**
   * Turns a host name into addresses (default: the system resolver, all A and
   * AAAA records in its order). Not called for IP literals.
   */
  resolve?: Resolver;
  /** Enables TCP keep-alive probes (default false). */
  keepAlive?: boolean;
}

async function systemResolve(hostname: string): Promise<readonly string[]> {
  // `verbatim` keeps the resolver's order (RFC 4975 §6.2).
  const records = await lookup(hostname, { all: true, verbatim: true });
  return records.map((r) => r.address);
}

/**
 * Resolves a host to the addresses to try, in order (RFC 4975 §6.2).
 *
 * @param hostname a host name or an IP literal
 * @param port the port, for the error message
 * @param resolve the resolver for names
 * @returns one address for a literal, every resolved address for a name
 * @throws {MsrpError} `dns-failed` when a name has no address
 */
export async function resolveHost(
  hostname: string,
  port: number,
  resolve: Resolver = systemResolve,
): Promise<readonly string[]> {
  const host = bareHost(hostname);
  if (isIpLiteral(host)) return [host];
  let addresses: readonly string[];
  try {
    addresses = await resolve(host);
  } catch (e) {
    const why = (e as { code?: string }).code ?? (e as Error).message;
    throw new MsrpError(
      "dns-failed",
      `cannot resolve ${formatAddress({ hostname: host, port })}: ${why}`,
      { cause: e },
    );
  }
  if (addresses.length === 0) {
    throw new MsrpError(
      "dns-failed",
      `cannot resolve ${formatAddress({ hostname: host, port })}: no address`,
    );
  }
  return addresses;
}

/**
 * Tries `attempt` on each address in turn until one succeeds (RFC 4975 §6.2).
 *
 * @param address what the caller asked for (host name and port), for messages
 * @param addresses the resolved addresses, in order
 * @param attempt connects to one address
 * @param signal stops the attempts
 * @returns the first successful connection
 * @throws {MsrpError} `connect-refused` when every address refused,
 *   `connect-aborted` when `signal` fired, otherwise `connect-failed`
 */
export async function tryAddresses<T>(
  address: NetAddress,
  addresses: readonly string[],
  attempt: (ip: string) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const errors: unknown[] = [];
  for (const ip of addresses) {
    if (signal?.aborted) break;
    try {
      return await attempt(ip);
    } catch (e) {
      if (e instanceof MsrpError) throw e;
      errors.push(e);
    }
  }
  const where = formatAddress(address);
  const tried = addresses.length > 1 ? ` (tried ${addresses.length} addresses)` : "";
  if (signal?.aborted) {
    throw new MsrpError("connect-aborted", `connecting to ${where} was aborted${tried}`, {
      cause: signal.reason,
    });
  }
  const last = errors[errors.length - 1];
  const refused = errors.length > 0 && errors.every(isRefused);
  if (refused) {
    throw new MsrpError(
      "connect-refused",
      `cannot connect to ${where}: connection refused${tried}`,
      {
        cause: last,
      },
    );
  }
  throw new MsrpError(
    "connect-failed",
    `cannot connect to ${where}: ${describe(last)}${tried}`,
    { cause: errors.length > 1 ? new AggregateError(errors) : last },
  );
}

function isRefused(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionRefused ||
    (e as { code?: string })?.code === "ECONNREFUSED";
}

function describe(e: unknown): string {
  if (e instanceof Deno.errors.TimedOut) return "timed out";
  if (e instanceof Deno.errors.NotConnected) return "not connected";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  const code = (e as { code?: string })?.code;
  const text = e instanceof Error ? e.message : String(e);
  return code !== undefined && !text.includes(code) ? `${text} (${code})` : text;
}

// ---------------------------------------------------------------------------
// Connections

/** Options of {@link connTransport}. */
export interface ConnTransportOptions {
  /** The transport kind to report (default `"tcp"`). */
  kind?: string;
  /** Whether the connection is TLS (default false). */
  secure?: boolean;
  /** The largest read buffer (default 262144). */
  readSize?: number;
  /**
   * Bytes written but not yet taken by the socket before a write waits
   * (default 65536). Writes below it are gathered into one socket write.
   */
  gatherBytes?: number;
}

/**
 * Small chunks are copied together up to this size; a larger chunk is
 * written as it is. Twice the default `gatherBytes`, so the frames queued
 * up to that mark (the last one crossing it) go out in one write.
 */
const GATHER_COPY_BYTES = 131072;

/** Resolves in the next turn of the event loop, after I/O (not a timer: no clamping). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The smallest read buffer: what a quiet connection's pending read pins
 * (an AUTH refresh or a short chat message fits; a burst doubles it).
 */
const MIN_READ_SIZE = 1024;

function netAddress(addr: Deno.Addr): NetAddress | undefined {
  // TCP and TLS connections have a host and port (a TLS one may say "tcp" or not).
  const a = addr as Partial<Deno.NetAddr>;
  return typeof a.hostname === "string" && typeof a.port === "number"
    ? { hostname: a.hostname, port: a.port }
    : undefined;
}

/**
 * Wraps an open `Deno.Conn` (TCP or TLS) as an {@link MsrpTransport}.
 *
 * Reading is pulled: the socket is read only when the consumer asks, so the
 * kernel's receive window is the only buffer and a slow reader slows the
 * peer down (TCP flow control). Writing is gathered: the first chunk after
 * a pause goes to the socket at once; chunks written while the socket is
 * busy, or later in the same turn of the event loop, go out together in one
 * socket write, and a write waits only once `gatherBytes` are waiting; an
 * error of the socket then fails the next write (or `close`). Cancelling
 * `readable` closes the whole connection (a socket cannot stop receiving in
 * one direction only).
 *
 * @param conn the connection; the transport owns it from now on
 * @param options kind and security to report, read buffer size
 * @returns the transport
 *
 * @example Wrap a connection opened elsewhere
 * ```ts
 * import { connTransport } from "@msrp/msrp/transport";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 2855 });
 * const transport = connTransport(conn);
 * console.log(transport.remoteAddr);
 * ```
 */
export function connTransport(conn: Deno.Conn, options: ConnTransportOptions = {}): MsrpTransport {
  return new ConnTransport(conn, options);
}

/** A `Deno.Conn` as a transport; the life cycle is {@link TransportAdapter}'s. */
class ConnTransport extends TransportAdapter {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly kind: string;
  readonly secure: boolean;
  readonly remoteAddr?: NetAddress;
  readonly localAddr?: NetAddress;
  readonly gathersWrites = true;
  readonly #conn: Deno.Conn;
  /** Chunks written and not yet handed to the socket. */
  #queued: Uint8Array[] = [];
  #queuedBytes = 0;
  /** The write loop, while one runs. */
  #flushing: Promise<void> | undefined;
  /** Resolved when the queue is next taken for the socket (writers wait for room). */
  #taken: PromiseWithResolvers<void> | undefined;
  readonly #gatherBytes: number;
  /** The buffer small chunks are gathered in, while the flush loop runs. */
  #gather: Uint8Array | undefined;
  /** The size of the next read buffer, and its most. */
  #size: number;
  /** The read buffer, used again for every read while its size stays. */
  #buffer: Uint8Array | undefined;
  #readSize: number;

  constructor(conn: Deno.Conn, options: ConnTransportOptions) {
    const remoteAddr = netAddress(conn.remoteAddr);
    super(remoteAddr ? formatAddress(remoteAddr) : "the peer");
    this.#conn = conn;
    this.kind = options.kind ?? "tcp";
    this.secure = options.secure ?? false;
    this.remoteAddr = remoteAddr;
    this.localAddr = netAddress(conn.localAddr);
    const readSize = options.readSize ?? 262144;
    this.#readSize = readSize;
    this.#size = Math.min(MIN_READ_SIZE, readSize);
    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => this.controllers(c),
      pull: async (c) => {
        let bytes: Uint8Array | null;
        try {
          bytes = await this.#read();
        } catch (e) {
          this.readDone = true;
          if (this.released) return closeQuietly(c);
          this.fail(this.#mapError(e));
          return;
        }
        // The peer sent a FIN: no more bytes this way.
        if (bytes === null) return this.readEnded();
        c.enqueue(bytes);
      },
      cancel: () => this.close(),
    }, { highWaterMark: 0 });
    // Writes are gathered (RFC 4975 §7.1 is latency sensitive, but a
    // write per frame costs a system call per frame): the first write after
    // a pause goes to the socket at once, so nothing waits for a timer;
    // what is written while the socket is busy, or later in the same turn
    // of the event loop (a sender making frame after frame: a socket write
    // to a fast peer finishes within the turn), goes out together in one
    // socket write at the end of that turn. A write is taken at once while
    // fewer than `gatherBytes` bytes wait, else it waits until they are
    // taken for the socket (back-pressure).
    this.#gatherBytes = options.gatherBytes ?? 65536;
    this.writable = new WritableStream<Uint8Array>({
      start: (c) => this.controllers(undefined, c),
      write: (chunk) => this.writeChunk(chunk),
      close: async () => {
        await this.#afterFlush();
        if (this.writeEnded()) return;
        try {
          await conn.closeWrite(); // FIN (and TLS close_notify)
        } catch (e) {
          if (!this.released) this.fail(this.#mapError(e));
          throw this.writeError();
        }
      },
      abort: () => this.close(),
    });
  }

  /**
   * The next bytes read (not empty), or null at the end. Reads go into one
   * buffer of the connection's, used again and again, and what came is
   * copied out at its size: a read allocates only what it returns (no fresh
   * zeroed buffer of the largest size per read, which the garbage collector
   * frees late). The buffer of a pending read is held while the peer is
   * silent, so an idle connection should not pin a large one: it starts at
   * MIN_READ_SIZE, doubles while reads fill it, and shrinks to what came when one
   * does not.
   */
  async #read(): Promise<Uint8Array | null> {
    for (;;) {
      const size = this.#size;
      let buf = this.#buffer;
      if (buf === undefined || buf.length !== size) buf = this.#buffer = new Uint8Array(size);
      const n = await this.#conn.read(buf);
      if (n === null) {
        this.#buffer = undefined;
        return null;
      }
      // A full read: more is waiting, read more at once next time. A short
      // one: the peer paused (or stopped), so the next read, which may wait
      // long, gets a buffer the size of what came.
      const readSize = this.#readSize;
      if (n === size) this.#size = Math.min(readSize, size * 2);
      else {
        this.#size = Math.min(
          readSize,
          Math.max(MIN_READ_SIZE, 2 ** Math.ceil(Math.log2(Math.max(1, n)))),
        );
      }
      if (n > 0) return buf.slice(0, n);
    }
  }

  /**
   * The fast path of reading (see `MsrpTransport.readChunk`): what `readable`
   * would give next, without the stream.
   */
  async readChunk(): Promise<Uint8Array | null> {
    if (this.readDone) return null;
    try {
      const bytes = await this.#read();
      if (bytes === null) this.readEnded();
      return bytes;
    } catch (e) {
      this.readDone = true;
      if (this.released) return null;
      const error = this.#mapError(e);
      this.fail(error);
      throw error;
    }
  }

  /**
   * The fast path of writing (see `MsrpTransport.writeChunk`), and what
   * `writable` does with each chunk: queue it for the write loop; past
   * `gatherBytes` waiting, the caller gets a promise to wait for the socket.
   */
  writeChunk(chunk: Uint8Array): Promise<void> | undefined {
    if (this.released) throw this.writeError();
    if (chunk.length === 0) return;
    this.#queued.push(chunk);
    this.#queuedBytes += chunk.length;
    if (this.#flushing === undefined) this.#flushing = this.#flush();
    // Back-pressure: past `gatherBytes`, the writer waits for the socket.
    if (this.#queuedBytes >= this.#gatherBytes) return this.#room();
  }

  /** Resolves once what is queued has been written; rejects if the socket failed. */
  async #afterFlush(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    if (this.released) throw this.writeError();
  }

  /** Resolves once fewer than `gatherBytes` wait (they were taken for the socket). */
  async #room(): Promise<void> {
    while (this.#queuedBytes >= this.#gatherBytes && this.#flushing !== undefined) {
      this.#taken ??= Promise.withResolvers<void>();
      await this.#taken.promise;
    }
    if (this.released) throw this.writeError();
  }

  /** Tells writers waiting for room that the queue was taken. */
  #wakeWriters(): void {
    const taken = this.#taken;
    this.#taken = undefined;
    taken?.resolve();
  }

  /**
   * Writes what is queued until nothing is, even at the end of a turn of the
   * event loop: one socket write for all the small chunks queued meanwhile,
   * with no copy of a large chunk. Never rejects: a socket error fails the
   * transport (and so the next write).
   */
  async #flush(): Promise<void> {
    try {
      while (this.#queued.length > 0) {
        const parts = this.#queued;
        this.#queued = [];
        this.#queuedBytes = 0;
        this.#wakeWriters();
        await this.#writeParts(parts);
        // What the rest of this turn writes goes out in one write after it.
        // (Not sooner: a socket write to a fast peer finishes within a few
        // microtasks, and taking what came meanwhile would send a frame's
        // parts one by one, as the writer makes them.)
        await nextTurn();
      }
    } catch (e) {
      this.#queued = [];
      this.#queuedBytes = 0;
      if (!this.released) this.fail(this.#mapError(e));
    } finally {
      this.#flushing = undefined;
      this.#gather = undefined; // an idle connection holds no buffer
      this.#wakeWriters();
    }
  }

  /**
   * Writes `parts` in order: each run of small parts copied into one
   * buffer, reused from write to write while the flush loop runs (a socket
   * write has copied the bytes by the time it resolves); a part of
   * `GATHER_COPY_BYTES` or more, or a run of one, as it is.
   */
  async #writeParts(parts: Uint8Array[]): Promise<void> {
    for (let i = 0; i < parts.length;) {
      let j = i + 1;
      let size = parts[i].length;
      while (j < parts.length && size + parts[j].length <= GATHER_COPY_BYTES) {
        size += parts[j++].length;
      }
      let bytes = parts[i];
      if (j > i + 1) {
        let buf = this.#gather;
        if (buf === undefined || buf.length < size) {
          buf = this.#gather = new Uint8Array(
            Math.max(size, Math.min(4 * size, GATHER_COPY_BYTES)),
          );
        }
        let at = 0;
        for (let k = i; k < j; k++) {
          buf.set(parts[k], at);
          at += parts[k].length;
        }
        bytes = buf.subarray(0, size);
      }
      let done = 0;
      while (done < bytes.length) done += await this.#conn.write(bytes.subarray(done));
      i = j;
    }
  }

  #mapError(e: unknown): MsrpError {
    if (e instanceof MsrpError) return e;
    if (
      e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
      e instanceof Deno.errors.ConnectionAborted
    ) {
      return new MsrpError("connection-reset", `the connection to ${this.where} was reset`, {
        cause: e,
      });
    }
    if (e instanceof Deno.errors.InvalidData && this.secure) {
      return new MsrpError("tls-failed", `TLS error on ${this.where}: ${describe(e)}`, {
        cause: e,
      });
    }
    return new MsrpError(
      "connection-failed",
      `the connection to ${this.where} failed: ${describe(e)}`,
      { cause: e },
    );
  }

  /** Closes the connection. */
  protected releaseSocket(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Opens a TCP connection for MSRP (RFC 4975 §5.4, §6.2) and returns it as an
 * {@link MsrpTransport} with `TCP_NODELAY` set.
 *
 * An IP literal (`"192.0.2.1"`, `"::1"` or `"[::1]"`) is used as listed; a
 * host name is resolved and its addresses are tried in order until one
 * accepts.
 *
 * @param address the host (name or IP literal) and port, e.g. from an MSRP URI
 * @param options abort signal, resolver, keep-alive
 * @returns the connected transport (`kind` `"tcp"`)
 * @throws {MsrpError} `dns-failed`, `connect-refused`, `connect-failed` or
 *   `connect-aborted`, with a message naming `host:port`
 *
 * @example Connect to an msrp: URI
 * ```ts
 * import { parseUri } from "@msrp/msrp";
 * import { connectTcp } from "@msrp/msrp/transport";
 *
 * const uri = parseUri("msrp://127.0.0.1:2855/9di4ea;tcp");
 * const transport = await connectTcp({ hostname: uri.host, port: uri.port ?? 2855 });
 * await transport.writable.close();
 * ```
 */
export async function connectTcp(
  address: NetAddress,
  options: TcpConnectOptions = {},
): Promise<MsrpTransport> {
  const conn = await openTcp(address, options);
  return connTransport(conn, { kind: "tcp" });
}

/**
 * Opens the raw TCP connection behind {@link connectTcp}; TLS builds on it.
 *
 * @param address the host (name or IP literal) and port
 * @param options abort signal, resolver, keep-alive
 * @returns the connected socket, `TCP_NODELAY` set
 * @throws {MsrpError} as {@link connectTcp}
 */
export async function openTcp(
  address: NetAddress,
  options: TcpConnectOptions = {},
): Promise<Deno.TcpConn> {
  const { signal } = options;
  const addresses = await resolveHost(address.hostname, address.port, options.resolve);
  const conn = await tryAddresses(
    address,
    addresses,
    (ip) => Deno.connect({ hostname: ip, port: address.port, signal, autoSelectFamily: false }),
    signal,
  );
  conn.setNoDelay(true);
  if (options.keepAlive) conn.setKeepAlive(true);
  return conn;
}

/** Options of {@link listenTcp}. */
export interface TcpListenOptions extends ListenerServices {
  /** The address to bind (default `"0.0.0.0"`); `"::"` for every IPv6 address. */
  hostname?: string;
  /** The port to bind; 0 picks a free one (see {@link MsrpListener.addr}). */
  port: number;
  /** Enables TCP keep-alive probes on accepted connections (default false). */
  keepAlive?: boolean;
}

/**
 * Listens for MSRP connections over TCP (the passive endpoint of RFC 4975
 * §5.4). Each accepted connection has `TCP_NODELAY` set.
 *
 * @param options the address and port to bind
 * @returns the listener
 * @throws {MsrpError} `listen-failed` when the address cannot be bound
 *
 * @example Accept MSRP connections over TCP
 * ```ts
 * import { MsrpConnection } from "@msrp/msrp";
 * import { listenTcp } from "@msrp/msrp/transport";
 *
 * const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
 * console.log(`listening on port ${listener.addr.port}`);
 * for await (const transport of listener) new MsrpConnection(transport);
 * ```
 */
export function listenTcp(options: TcpListenOptions): MsrpListener {
  const hostname = bareHost(options.hostname ?? "0.0.0.0");
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname, port: options.port, transport: "tcp" });
  } catch (e) {
    throw new MsrpError(
      "listen-failed",
      `cannot listen on ${formatAddress({ hostname, port: options.port })}: ${describe(e)}`,
      { cause: e },
    );
  }
  return new DenoListener(listener, (conn) => {
    const tcp = conn as Deno.TcpConn;
    tcp.setNoDelay(true);
    if (options.keepAlive) tcp.setKeepAlive(true);
    return connTransport(conn, { kind: "tcp" });
  }, options);
}

/**
 * An {@link MsrpListener} over a `Deno.Listener`; TLS listeners reuse it.
 *
 * A temporary accept failure (out of descriptors, ...) does not end it: it is
 * logged and accepting is retried with back-off (see `accept_backoff.ts`).
 */
export class DenoListener implements MsrpListener {
  readonly addr: NetAddress;
  readonly #listener: Deno.Listener;
  readonly #wrap: (conn: Deno.Conn) => MsrpTransport;
  readonly #backoff: AcceptBackoff;
  #closed = false;

  /**
   * Wraps a listener.
   *
   * @param listener the bound Deno listener; owned from now on
   * @param wrap turns each accepted connection into a transport
   * @param services clock and logger for failed accepts
   */
  constructor(
    listener: Deno.Listener,
    wrap: (conn: Deno.Conn) => MsrpTransport,
    services: ListenerServices = {},
  ) {
    this.#listener = listener;
    this.#wrap = wrap;
    const a = listener.addr as Deno.NetAddr;
    this.addr = { hostname: a.hostname, port: a.port };
    this.#backoff = new AcceptBackoff({ ...services, where: formatAddress(this.addr) });
  }

  /**
   * Waits for the next connection.
   *
   * @returns the accepted connection as a transport
   * @throws {MsrpError} `listener-closed` after {@link DenoListener.close}
   */
  async accept(): Promise<MsrpTransport> {
    const conn = await acceptConn(this.#listener, this.#backoff, () => this.#closed, this.addr);
    return this.#wrap(conn);
  }

  /**
   * Yields accepted connections until the listener is closed.
   *
   * @returns an async iterator of transports
   */
  [Symbol.asyncIterator](): AsyncIterator<MsrpTransport> {
    return acceptUntilClosed(this);
  }

  /** Stops listening; connections already accepted stay open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#backoff.cancel();
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Accepts the next connection on a Deno listener, riding out temporary
 * failures with `backoff` (out of descriptors, ...; see `accept_backoff.ts`).
 *
 * @param listener the bound listener
 * @param backoff the listener's retry policy
 * @param closed whether the listener was closed (by its owner)
 * @param addr the listener's address, for errors
 * @returns the accepted connection
 * @throws {MsrpError} `listener-closed` once closed; `accept-failed` for an
 *   error that does not clear up by itself
 */
export async function acceptConn(
  listener: Deno.Listener,
  backoff: AcceptBackoff,
  closed: () => boolean,
  addr: NetAddress,
): Promise<Deno.Conn> {
  for (;;) {
    if (closed()) throw listenerClosed(addr);
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch (e) {
      if (closed() || e instanceof Deno.errors.BadResource) throw listenerClosed(addr);
      // A connection that was reset before we took it: wait for the next one.
      if (e instanceof Deno.errors.ConnectionReset) continue;
      // Out of descriptors and the like: wait, then try again.
      if (isTemporaryAcceptError(e)) {
        await backoff.failed(e);
        continue;
      }
      throw new MsrpError(
        "accept-failed",
        `accepting on ${formatAddress(addr)} failed: ${describe(e)}`,
        { cause: e },
      );
    }
    backoff.succeeded();
    return conn;
  }
}
