/**
 * MSRP over TCP and TLS for Node programs (RFC 4975 §6: MSRP runs over a
 * reliable byte stream; §14.2: TLS for `msrps:`), with `node:net` and
 * `node:tls`. With it a Node program is an endpoint: the core (wire,
 * session, payload) is the same on every runtime, and this module is the
 * socket underneath. See `examples/node/send.ts`.
 *
 * Not imported by `mod.ts`: Deno programs use `lib/transport/tcp.ts` and
 * `tls.ts`. Connections are made as RFC 4975 §6.2 asks (an IP literal as
 * listed, a name through the resolver), with `TCP_NODELAY` set; TLS checks
 * the certificate chain and the name (§14.2) against `caCerts` or the
 * system's roots.
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import { MsrpError } from "../errors.ts";
import { acceptUntilClosed, bareHost, formatAddress, listenerClosed } from "./address.ts";
import type { MsrpListener } from "./address.ts";
import { NodeSocketTransport } from "./node_socket.ts";
import { tlsError } from "./tls_errors.ts";
import type { MsrpTransport, NetAddress } from "./types.ts";

/** Most received bytes kept unread per connection (16 MiB), as the other transports. */
const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;

/** Options of {@link connectNodeTcp}. */
export interface NodeConnectOptions {
  /** Gives up (with `connect-aborted`) when this signal fires. */
  signal?: AbortSignal;
  /** Most received bytes kept unread before the connection fails (default 16 MiB). */
  maxBufferedBytes?: number;
}

/** Options of {@link connectNodeTls}. */
export interface NodeTlsConnectOptions extends NodeConnectOptions {
  /** Trusted roots (PEM) instead of the system's. */
  caCerts?: string[];
  /** The name the certificate must carry (default: the host, unless it is an IP literal). */
  servername?: string;
}

/**
 * Opens an MSRP connection over TCP with `node:net` (RFC 4975 §6).
 *
 * @example
 * ```ts ignore
 * import { connectNodeTcp } from "./node.ts";
 * const transport = await connectNodeTcp({ hostname: "127.0.0.1", port: 2855 });
 * ```
 *
 * @param address the host (name or IP literal) and port, e.g. from an MSRP URI
 * @param options abort signal, receive bound
 * @returns the connected transport (`kind` `"tcp"`)
 * @throws {MsrpError} `connect-refused`, `connect-failed` or `connect-aborted`,
 *   naming `host:port`
 */
export function connectNodeTcp(
  address: NetAddress,
  options: NodeConnectOptions = {},
): Promise<MsrpTransport> {
  return open(
    address,
    options,
    "connect",
    () =>
      net.connect({
        host: bareHost(address.hostname),
        port: address.port,
        noDelay: true,
        // The peer's FIN ends only its direction: ours closes when we say so.
        allowHalfOpen: true,
      }),
    {
      kind: "tcp",
      secure: false,
    },
  );
}

/**
 * Opens an MSRP connection over TLS with `node:tls` (RFC 4975 §14.2: the
 * certificate must chain up to a trusted root and carry the URI's host).
 *
 * @param address the host (name or IP literal) and port
 * @param options trusted roots, the name to check, abort signal, receive bound
 * @returns the connected transport (`kind` `"tls"`)
 * @throws {MsrpError} as {@link connectNodeTcp}; a `TlsCertificateError`
 *   (`tls-untrusted`, `tls-name-mismatch`) when the certificate is refused,
 *   `tls-failed` when the handshake fails otherwise
 */
export function connectNodeTls(
  address: NetAddress,
  options: NodeTlsConnectOptions = {},
): Promise<MsrpTransport> {
  const host = bareHost(address.hostname);
  const servername = options.servername ?? (net.isIP(host) === 0 ? host : undefined);
  return open(address, options, "secureConnect", () => {
    // allowHalfOpen is honoured by tls.connect though its type leaves it out (as in tls.ts).
    const connectOptions: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
      host,
      port: address.port,
      servername,
      ca: options.caCerts,
      rejectUnauthorized: true,
      allowHalfOpen: true,
    };
    const socket = tls.connect(connectOptions);
    socket.setNoDelay(true);
    return socket;
  }, { kind: "tls", secure: true, name: servername ?? host });
}

/** Connects with `make`, waits for `ready`, and wraps the socket. */
function open(
  address: NetAddress,
  options: NodeConnectOptions,
  ready: "connect" | "secureConnect",
  make: () => net.Socket,
  kind: { kind: string; secure: boolean; name?: string },
): Promise<MsrpTransport> {
  const where = formatAddress(address);
  const { signal } = options;
  const { name, ...flavour } = kind;
  return new Promise<MsrpTransport>((resolve, reject) => {
    if (signal?.aborted) {
      return reject(new MsrpError("connect-aborted", `connecting to ${where} was aborted`));
    }
    const socket = make();
    const done = () => {
      socket.removeListener("error", onError);
      signal?.removeEventListener("abort", onAbort);
    };
    const onError = (e: Error & { code?: string }) => {
      done();
      socket.destroy();
      if (name !== undefined && !socket.connecting) {
        // Connected, then the handshake failed: say why, as tls.ts does (§14.2).
        return reject(tlsError(where, name, e));
      }
      const code = e.code === "ECONNREFUSED" ? "connect-refused" : "connect-failed";
      reject(new MsrpError(code, `cannot connect to ${where}: ${e.message}`, { cause: e }));
    };
    const onAbort = () => {
      done();
      socket.destroy();
      reject(new MsrpError("connect-aborted", `connecting to ${where} was aborted`));
    };
    socket.once("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once(ready, () => {
      done();
      resolve(
        new NodeSocketTransport(socket, {
          ...flavour,
          maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED,
        }),
      );
    });
  });
}

/** Options of {@link listenNodeTcp}. */
export interface NodeListenOptions {
  /** The address to bind (default `"0.0.0.0"`). */
  hostname?: string;
  /** The port to bind; 0 picks a free one (see {@link MsrpListener.addr}). */
  port: number;
  /** Most received bytes kept unread per connection (default 16 MiB). */
  maxBufferedBytes?: number;
}

/**
 * Listens for MSRP connections over TCP with `node:net` (the passive
 * endpoint of RFC 4975 §5.4).
 *
 * @param options the address and port to bind
 * @returns the listener, once bound
 * @throws {MsrpError} `listen-failed` when the address cannot be bound
 */
export function listenNodeTcp(options: NodeListenOptions): Promise<MsrpListener> {
  const hostname = bareHost(options.hostname ?? "0.0.0.0");
  const maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true, allowHalfOpen: true });
    server.once("error", (e: Error) => {
      reject(
        new MsrpError(
          "listen-failed",
          `cannot listen on ${formatAddress({ hostname, port: options.port })}: ${e.message}`,
          { cause: e },
        ),
      );
    });
    server.listen(options.port, hostname, () => {
      const a = server.address() as net.AddressInfo;
      resolve(new NodeTcpListener(server, { hostname: a.address, port: a.port }, maxBuffered));
    });
  });
}

/** A `node:net` server as an {@link MsrpListener}: accepted sockets wait (a few) to be taken. */
class NodeTcpListener implements MsrpListener {
  /** Accepted connections kept waiting for accept() at most; more are closed. */
  static readonly BACKLOG = 64;
  readonly addr: NetAddress;
  readonly #server: net.Server;
  readonly #ready: MsrpTransport[] = [];
  readonly #waiting: { resolve: (t: MsrpTransport) => void; reject: (e: unknown) => void }[] = [];
  #closed = false;

  constructor(server: net.Server, addr: NetAddress, maxBuffered: number) {
    this.#server = server;
    this.addr = addr;
    server.on("connection", (socket: net.Socket) => {
      const transport = new NodeSocketTransport(socket, { maxBufferedBytes: maxBuffered });
      const w = this.#waiting.shift();
      if (w !== undefined) w.resolve(transport);
      else if (this.#ready.length < NodeTcpListener.BACKLOG) this.#ready.push(transport);
      else transport.close();
    });
  }

  accept(): Promise<MsrpTransport> {
    if (this.#closed) return Promise.reject(listenerClosed(this.addr));
    const t = this.#ready.shift();
    if (t !== undefined) return Promise.resolve(t);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const t of this.#ready.splice(0)) t.close();
    for (const w of this.#waiting.splice(0)) w.reject(listenerClosed(this.addr));
  }

  [Symbol.asyncIterator](): AsyncIterator<MsrpTransport> {
    return acceptUntilClosed(this);
  }
}
