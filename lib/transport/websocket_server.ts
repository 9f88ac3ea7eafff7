/**
 * The server side of MSRP over WebSocket (RFC 7977 §4.1, §5.1): accepting an
 * upgrade that offers the `msrp` subprotocol, and an "MSRP WebSocket Server"
 * listener on `Deno.serve`. The transport itself (one MSRP chunk per
 * WebSocket message) is `lib/transport/websocket.ts`, which runs on every
 * runtime; this module needs Deno's HTTP server.
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import { AcceptBackoff, isTemporaryAcceptError } from "./accept_backoff.ts";
import {
  acceptUntilClosed,
  formatAddress,
  listenerClosed,
  type ListenerServices,
  type MsrpListener,
} from "./address.ts";
import type { MsrpTransport, NetAddress } from "./types.ts";
import {
  MSRP_SUBPROTOCOL,
  type WebSocketTransport,
  webSocketTransport,
  type WebSocketTransportOptions,
} from "./websocket.ts";

/** Options of {@link acceptWebSocket}. */
export interface WebSocketAcceptOptions extends WebSocketTransportOptions {
  /** The client's address (from `Deno.ServeHandlerInfo.remoteAddr`). */
  remoteAddr?: NetAddress;
  /** Whether the HTTP connection is TLS (default: the request URL is `https:`). */
  secure?: boolean;
  /** Seconds without a pong before the connection is closed (default 30; 0 disables). */
  idleTimeout?: number;
}

/**
 * Whether an HTTP request is a WebSocket upgrade that offers the `msrp`
 * subprotocol (RFC 7977 §4.1).
 *
 * @param request the incoming request
 * @returns true when {@link acceptWebSocket} would accept it
 *
 * @example Tell MSRP upgrades from other requests
 * ```ts
 * import { isMsrpWebSocketRequest } from "@msrp/msrp/transport";
 *
 * const request = new Request("http://localhost/", {
 *   headers: { upgrade: "websocket", "sec-websocket-protocol": "msrp" },
 * });
 * console.log(isMsrpWebSocketRequest(request)); // true
 * ```
 */
export function isMsrpWebSocketRequest(request: Request): boolean {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return false;
  const offered = request.headers.get("sec-websocket-protocol") ?? "";
  return offered.split(",").some((p) => p.trim() === MSRP_SUBPROTOCOL);
}

/**
 * Accepts an MSRP WebSocket on the server side: upgrades the request with
 * `Deno.upgradeWebSocket`, selecting the `msrp` subprotocol (RFC 7977 §4.1),
 * and wraps the socket as a transport.
 *
 * Answer the request with `response` (from a `Deno.serve` handler). The
 * transport can be used at once: writes wait until the socket is open.
 *
 * @param request the upgrade request
 * @param options the client's address, whether the server is TLS, ping
 *   timeout, buffer bounds
 * @returns the response to send and the transport
 * @throws {MsrpError} `ws-not-upgrade` when the request is not a WebSocket
 *   upgrade; `ws-subprotocol` when it does not offer `msrp`
 *
 * @example Serve MSRP next to other HTTP routes
 * ```ts
 * import { acceptWebSocket, isMsrpWebSocketRequest } from "@msrp/msrp/transport";
 *
 * Deno.serve({ port: 8080 }, (request) => {
 *   if (!isMsrpWebSocketRequest(request)) return new Response("not found", { status: 404 });
 *   const { response, transport } = acceptWebSocket(request);
 *   console.log("MSRP over WebSocket from", transport.remoteAddr);
 *   return response;
 * });
 * ```
 */
export function acceptWebSocket(
  request: Request,
  options: WebSocketAcceptOptions = {},
): { response: Response; transport: WebSocketTransport } {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new MsrpError("ws-not-upgrade", "the request is not a WebSocket upgrade");
  }
  if (!isMsrpWebSocketRequest(request)) {
    throw new MsrpError(
      "ws-subprotocol",
      `the WebSocket request does not offer the "msrp" subprotocol (RFC 7977 §4.1)`,
    );
  }
  // Read the request before the upgrade consumes it.
  const origin = request.headers.get("origin");
  const secure = options.secure ?? new URL(request.url).protocol === "https:";
  const { socket, response } = Deno.upgradeWebSocket(request, {
    protocol: MSRP_SUBPROTOCOL,
    idleTimeout: options.idleTimeout, // RFC 7977 §6: Deno pings and expects pongs
  });
  // RFC 7977 §7: answer an Origin with CORS.
  if (origin !== null) {
    try {
      response.headers.set("access-control-allow-origin", origin);
    } catch {
      // the upgrade response's headers are immutable in this runtime
    }
  }
  const transport = webSocketTransport(socket, {
    ...options,
    secure,
    selected: MSRP_SUBPROTOCOL,
  });
  return { response, transport };
}

/** Options of {@link listenWebSocket}. */
export interface WebSocketListenOptions extends WebSocketTransportOptions, ListenerServices {
  /** The address to bind (default `"0.0.0.0"`). */
  hostname?: string;
  /** The port to bind; 0 picks a free one. */
  port: number;
  /** Only upgrades on this path are accepted (default: any path). */
  path?: string;
  /** Our certificate chain (PEM), for `wss:`. */
  cert?: string;
  /** Our private key (PEM), for `wss:`. */
  key?: string;
  /** Serve plain `ws:` without `cert`/`key` (RFC 7977 §5.1 requires TLS). */
  insecure?: boolean;
  /** Seconds without a pong before a connection is closed (default 30). */
  idleTimeout?: number;
  /**
   * Decides which handshakes may open a connection by their `Origin` header
   * (`null` when there is none); a refused one is answered 403 (RFC 7977 §7:
   * the server MAY inspect Origin; RFC 6455 §4.2.2, §10.2). Default: all.
   */
  allowOrigin?: (origin: string | null) => boolean;
  /**
   * Answers plain HTTP requests (not WebSocket upgrades), e.g. to serve a
   * web page beside the MSRP WebSocket endpoint. Default: 426.
   */
  serveHttp?: (request: Request) => Response | Promise<Response>;
}

/** A WebSocket server that yields MSRP connections. */
export interface WebSocketListener extends MsrpListener {
  /** Settles when the HTTP server has stopped after {@link MsrpListener.close}. */
  readonly finished: Promise<void>;
}

/**
 * Serves MSRP over WebSocket with `Deno.serve` (an "MSRP WebSocket Server",
 * RFC 7977 §2.1). Requests that are not `msrp` WebSocket upgrades are
 * answered 426 (not an upgrade), 400 (no `msrp` subprotocol), 404 (other
 * path) or 403 (an `Origin` that `allowOrigin` refuses).
 *
 * `Deno.serve` stops for good when accepting fails (out of descriptors,
 * ...); the listener then serves again on the same address after a pause
 * (see `accept_backoff.ts`), so clients get in once descriptors free up.
 *
 * @param options address, port, path, certificate and key
 * @returns the listener
 * @throws {MsrpError} `insecure-websocket` without `cert`/`key` unless
 *   `insecure`; `listen-failed` when the address cannot be bound
 *
 * @example Accept MSRP over WebSocket (RFC 7977)
 * ```ts
 * import { MsrpConnection } from "@msrp/msrp";
 * import { listenWebSocket } from "@msrp/msrp/transport";
 *
 * const listener = listenWebSocket({ hostname: "127.0.0.1", port: 8080, insecure: true });
 * for await (const transport of listener) new MsrpConnection(transport);
 * ```
 */
export function listenWebSocket(options: WebSocketListenOptions): WebSocketListener {
  return new WsListener(options);
}

/** Upgraded WebSocket connections a listener keeps for `accept()`; past it, 503 (as TLS's backlog). */
const WS_BACKLOG = 128;

class WsListener implements WebSocketListener {
  readonly addr: NetAddress;
  readonly finished: Promise<void>;
  #server: Deno.HttpServer<Deno.NetAddr>;
  /** Upgraded connections nobody took yet, at most {@linkcode WS_BACKLOG}. */
  readonly #ready: WebSocketTransport[] = [];
  readonly #waiting: {
    resolve: (t: WebSocketTransport) => void;
    reject: (e: Error) => void;
  }[] = [];
  #closed = false;
  readonly #backoff: AcceptBackoff;

  constructor(options: WebSocketListenOptions) {
    const tls = options.cert !== undefined && options.key !== undefined;
    if (!tls && !options.insecure) {
      throw new MsrpError(
        "insecure-websocket",
        "MSRP over WebSocket MUST use TLS (RFC 7977 §5.1): give cert and key, or insecure: true",
      );
    }
    const hostname = options.hostname ?? "0.0.0.0";
    const handler = (
      request: Request,
      info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    ): Response | Promise<Response> => {
      if (this.#closed) return new Response("closing", { status: 503 });
      if (
        options.serveHttp !== undefined &&
        request.headers.get("upgrade")?.toLowerCase() !== "websocket"
      ) return options.serveHttp(request);
      if (options.path !== undefined && new URL(request.url).pathname !== options.path) {
        return new Response("not found", { status: 404 });
      }
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("MSRP over WebSocket only (RFC 7977)", {
          status: 426,
          headers: { upgrade: "websocket" },
        });
      }
      if (!isMsrpWebSocketRequest(request)) {
        return new Response(`the "msrp" subprotocol is required (RFC 7977 §4.1)`, {
          status: 400,
        });
      }
      // RFC 6455 §4.2.2: a server that does not accept this Origin answers 403.
      if (
        options.allowOrigin !== undefined && !options.allowOrigin(request.headers.get("origin"))
      ) {
        return new Response("this origin may not open MSRP WebSockets here", { status: 403 });
      }
      // Nobody is taking connections: refuse rather than queue without bound.
      if (this.#waiting.length === 0 && this.#ready.length >= WS_BACKLOG) {
        return new Response("too many connections waiting to be accepted", { status: 503 });
      }
      const { response, transport } = acceptWebSocket(request, {
        ...options,
        secure: tls,
        remoteAddr: { hostname: info.remoteAddr.hostname, port: info.remoteAddr.port },
      });
      const w = this.#waiting.shift();
      if (w !== undefined) w.resolve(transport);
      else this.#ready.push(transport);
      return response;
    };
    const serve = (port: number) =>
      Deno.serve({
        hostname,
        port,
        cert: options.cert,
        key: options.key,
        onListen: () => {},
      } as Deno.ServeTcpOptions, handler);
    try {
      this.#server = serve(options.port);
    } catch (e) {
      throw new MsrpError(
        "listen-failed",
        `cannot listen on ${formatAddress({ hostname, port: options.port })}: ${
          (e as Error).message
        }`,
        { cause: e },
      );
    }
    this.addr = { hostname: this.#server.addr.hostname, port: this.#server.addr.port };
    this.#backoff = new AcceptBackoff({ ...options, where: formatAddress(this.addr) });
    this.finished = this.#keepServing(() => serve(this.addr.port));
  }

  /**
   * Serves again, on the same port, each time the server stops on a
   * temporary failure; resolves when the listener is closed, or fails for
   * good (its waiting accepts then get `accept-failed`).
   */
  async #keepServing(serve: () => Deno.HttpServer<Deno.NetAddr>): Promise<void> {
    for (;;) {
      let error: unknown;
      try {
        await this.#server.finished;
        if (this.#closed) return;
        error = new Error("the HTTP server stopped");
      } catch (e) {
        if (this.#closed) return;
        error = e;
      }
      if (!isTemporaryAcceptError(error)) return this.#fail(error);
      // Out of descriptors, ...: serve again after a pause; binding again
      // needs a descriptor too, so it may fail the same way for a while.
      for (;;) {
        await this.#backoff.failed(error);
        if (this.#closed) return;
        try {
          this.#server = serve();
          this.#backoff.succeeded();
          break;
        } catch (e) {
          error = e;
        }
      }
    }
  }

  #fail(error: unknown): void {
    this.#closed = true;
    const failure = new MsrpError(
      "accept-failed",
      `accepting on ${formatAddress(this.addr)} failed: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
    for (const w of this.#waiting.splice(0)) w.reject(failure);
  }

  accept(): Promise<MsrpTransport> {
    const t = this.#ready.shift();
    if (t !== undefined) return Promise.resolve(t);
    if (this.#closed) return Promise.reject(listenerClosed(this.addr));
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<MsrpTransport> {
    return acceptUntilClosed(this);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#backoff.cancel();
    this.#server.shutdown().catch(() => {}); // a server that already failed
    for (const w of this.#waiting.splice(0)) w.reject(listenerClosed(this.addr));
  }
}
