/**
 * MSRP over WebSocket (RFC 7977).
 *
 * Browsers cannot open TCP connections, but they can open WebSockets
 * (RFC 6455). RFC 7977 defines the WebSocket subprotocol `msrp` so that a
 * browser (an "MSRP WebSocket Client") can talk MSRP to a relay that is also
 * a WebSocket server (§2.1). What it says, and how this module follows it:
 *
 * - **Handshake (§4.1).** The client MUST offer `msrp` in
 *   `Sec-WebSocket-Protocol`, and the server's 101 reply MUST carry `msrp`.
 *   {@link connectWebSocket} offers it and fails with `ws-subprotocol` when
 *   the server did not select it; {@link acceptWebSocket} refuses a request
 *   that does not offer it and selects it in the reply.
 * - **Encoding (§4.2).** Messages may come as text or binary frames, and both
 *   MUST be accepted; text is "interpreted as binary", i.e. its UTF-8 bytes
 *   are the MSRP bytes. We always send binary messages.
 * - **One chunk per message (§5.1).** "Each MSRP chunk MUST be carried within
 *   a single WebSocket message, and a WebSocket message MUST NOT contain more
 *   than one MSRP chunk." So a WebSocket transport says `frameAligned: true`:
 *   the session layer writes exactly one whole MSRP frame per chunk, and each
 *   written chunk goes out as exactly one binary message. Each received
 *   message comes out of `readable` as one chunk, in order.
 * - **TLS (§5.1, §9).** MSRP over WebSocket MUST use a secure WebSocket
 *   (`wss:`), and the client authenticates the server's certificate as any
 *   WebSocket client does. A plain `ws:` URL is refused unless the caller asks
 *   for `insecure: true` (tests, or a TLS-terminating proxy in front).
 * - **URIs (§5.2.1).** The transport parameter is `ws`:
 *   `msrps://df7jal23ls0d.invalid:2855/98cjs;ws`. A browser client does not
 *   know its own address, so it uses a random `.invalid` host name (Appendix
 *   A); that is the session layer's business, not the transport's.
 * - **Keep-alive (§6).** Periodic WebSocket Ping frames are RECOMMENDED. The
 *   server side uses Deno's built-in ping/pong (`idleTimeout`, default 30 s).
 *   The WebSocket API gives clients no control over pings, so a client that
 *   needs keep-alive sends bodiless SEND requests (RFC 4975 §7.1) instead.
 *
 * The WebSocket API has no backpressure on receiving: messages are pushed as
 * they arrive. The readable keeps them in a queue bounded by
 * `maxBufferedBytes` (default 16 MiB); a peer that overflows it gets the
 * connection closed and the reader an {@link MsrpError} `ws-overflow`. On
 * sending, a write waits while the socket's `bufferedAmount` is above
 * `sendHighWaterMark`.
 *
 * Closing the writable starts the WebSocket closing handshake. A WebSocket
 * has no half close: the API drops messages that arrive after that point, so
 * the readable ends too.
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import { AcceptBackoff, isTemporaryAcceptError } from "./accept_backoff.ts";
import {
  acceptUntilClosed,
  bareHost,
  formatAddress,
  listenerClosed,
  type ListenerServices,
  type MsrpListener,
} from "./tcp.ts";
import { closeQuietly, errorQuietly } from "./quiet.ts";
import { diagnoseCertificate, TlsCertificateError } from "./tls_errors.ts";
import type { MsrpTransport, NetAddress } from "./types.ts";

/** The subprotocol name registered by RFC 7977 §10. */
export const MSRP_SUBPROTOCOL = "msrp";

/** An MSRP connection over a WebSocket. */
export interface WebSocketTransport extends MsrpTransport {
  /** `"wss"` over TLS, `"ws"` otherwise. */
  readonly kind: "ws" | "wss";
  /** Always true: one MSRP frame per WebSocket message (RFC 7977 §5.1). */
  readonly frameAligned: true;
  /** The negotiated subprotocol, `"msrp"`. */
  readonly protocol: string;
}

/** Options shared by every WebSocket transport. */
export interface WebSocketTransportOptions {
  /** Most bytes of received messages kept unread (default 16 MiB). */
  maxBufferedBytes?: number;
  /** A write waits while more than this many bytes are unsent (default 1 MiB). */
  sendHighWaterMark?: number;
}

/** Options of {@link connectWebSocket}. */
export interface WebSocketConnectOptions extends WebSocketTransportOptions {
  /** Subprotocols to offer (default `["msrp"]`, RFC 7977 §4.1). */
  protocols?: string[];
  /** Trusted root certificates (PEM) in addition to the default roots, for `wss:`. */
  caCerts?: string[];
  /** Extra handshake headers, e.g. a cookie (RFC 7977 §7). Not standard: Deno only. */
  headers?: HeadersInit;
  /** Gives up (with `connect-aborted`) when this signal fires. */
  signal?: AbortSignal;
  /** Allow a plain `ws:` URL (RFC 7977 §5.1 requires `wss:`). */
  insecure?: boolean;
}

/** Options of {@link acceptWebSocket}. */
export interface WebSocketAcceptOptions extends WebSocketTransportOptions {
  /** The client's address (from `Deno.ServeHandlerInfo.remoteAddr`). */
  remoteAddr?: NetAddress;
  /** Whether the HTTP connection is TLS (default: the request URL is `https:`). */
  secure?: boolean;
  /** Seconds without a pong before the connection is closed (default 30; 0 disables). */
  idleTimeout?: number;
}

// ---------------------------------------------------------------------------
// The transport

type State = "connecting" | "open" | "closed";

class WsTransport implements WebSocketTransport {
  readonly kind: "ws" | "wss";
  readonly secure: boolean;
  readonly frameAligned = true as const;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly remoteAddr?: NetAddress;
  readonly #ws: WebSocket;
  readonly #where: string;
  readonly #maxBuffered: number;
  readonly #sendHighWaterMark: number;
  #state: State;
  #queue: Uint8Array[] = [];
  #head = 0;
  #bytes = 0;
  #ended = false;
  #failure: MsrpError | undefined;
  #errorText = "";
  #wake: (() => void) | undefined;
  #openWaiters: (() => void)[] = [];
  #readableController!: ReadableStreamDefaultController<Uint8Array>;
  #writableController!: WritableStreamDefaultController;
  /** Called once when the socket is gone (to release an HTTP client). */
  onRelease?: () => void;
  /** On the server side: the subprotocol we selected in the 101 reply. */
  readonly #selected: string;

  constructor(
    ws: WebSocket,
    kind: "ws" | "wss",
    where: string,
    options: WebSocketTransportOptions & { remoteAddr?: NetAddress; selected?: string },
  ) {
    this.#ws = ws;
    this.#selected = options.selected ?? "";
    this.kind = kind;
    this.secure = kind === "wss";
    this.remoteAddr = options.remoteAddr;
    this.#where = where;
    this.#maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.#sendHighWaterMark = options.sendHighWaterMark ?? 1024 * 1024;
    ws.binaryType = "arraybuffer";
    this.#state = ws.readyState === WebSocket.OPEN
      ? "open"
      : ws.readyState === WebSocket.CONNECTING
      ? "connecting"
      : "closed";
    ws.addEventListener("open", () => {
      this.#state = "open";
      this.#wakeOpen();
    });
    ws.addEventListener("message", (e) => this.#onMessage(e.data));
    ws.addEventListener("error", (e) => {
      this.#errorText = (e as ErrorEvent).message ?? "";
    });
    ws.addEventListener("close", (e) => this.#onClose(e));

    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#readableController = c;
      },
      pull: async (c) => {
        for (;;) {
          if (this.#head < this.#queue.length) {
            const m = this.#queue[this.#head];
            this.#queue[this.#head++] = EMPTY;
            if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
              this.#queue = this.#queue.slice(this.#head);
              this.#head = 0;
            }
            this.#bytes -= m.length;
            c.enqueue(m);
            return;
          }
          if (this.#failure !== undefined) return c.error(this.#failure);
          if (this.#ended) return closeQuietly(c);
          await new Promise<void>((resolve) => this.#wake = resolve);
        }
      },
      cancel: () => this.close(),
    }, { highWaterMark: 0 });

    this.writable = new WritableStream<Uint8Array>({
      start: (c) => {
        this.#writableController = c;
      },
      write: async (chunk) => {
        if (this.#state === "connecting") {
          await new Promise<void>((resolve) => this.#openWaiters.push(resolve));
        }
        if (this.#state !== "open") throw this.#failure ?? closedLocally();
        if (chunk.length === 0) return; // not a frame: nothing to send
        // RFC 7977 §5.1: this chunk is one whole MSRP frame; it goes out as one message.
        ws.send(chunk);
        let wait = 1;
        while (ws.bufferedAmount > this.#sendHighWaterMark && this.#state === "open") {
          await new Promise((resolve) => setTimeout(resolve, wait));
          wait = Math.min(wait * 2, 16);
        }
      },
      close: () => {
        this.#closeSocket();
      },
      abort: () => {
        this.#closeSocket();
      },
    });
  }

  /** The negotiated subprotocol: what the server selected (known once open). */
  get protocol(): string {
    return this.#ws.protocol || this.#selected;
  }

  #wakeOpen(): void {
    for (const w of this.#openWaiters.splice(0)) w();
  }

  #wakeReader(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  #onMessage(data: unknown): void {
    if (this.#ended || this.#failure !== undefined) return;
    // RFC 7977 §4.2: accept text and binary; text is read as its UTF-8 bytes.
    const bytes = typeof data === "string"
      ? ENCODER.encode(data)
      : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : undefined;
    if (bytes === undefined) return;
    this.#bytes += bytes.length;
    if (this.#bytes > this.#maxBuffered) {
      this.#failure = new MsrpError(
        "ws-overflow",
        `${this.#where} sent more than ${this.#maxBuffered} bytes that were not read`,
      );
      this.#queue = [];
      this.#head = 0;
      this.#bytes = 0;
      this.#closeSocket("receive buffer overflow");
      errorQuietly(this.#writableController, this.#failure);
      this.#wakeReader();
      return;
    }
    this.#queue.push(bytes);
    this.#wakeReader();
  }

  #onClose(e: CloseEvent): void {
    const wasOpen = this.#state === "open";
    this.#state = "closed";
    this.#wakeOpen();
    if (!this.#ended && this.#failure === undefined) {
      // 1000 normal closure, 1005 no status: the peer ended the connection.
      if (e.wasClean && (e.code === 1000 || e.code === 1005)) {
        this.#ended = true;
      } else {
        const why = e.reason || this.#errorText || (wasOpen ? "connection lost" : "failed");
        this.#failure = new MsrpError(
          "connection-reset",
          `the WebSocket to ${this.#where} closed with code ${e.code}: ${why}`,
        );
      }
      errorQuietly(this.#writableController, this.#failure ?? closedByPeer(this.#where));
    }
    this.#wakeReader();
    this.onRelease?.();
    this.onRelease = undefined;
  }

  #closeSocket(reason?: string): void {
    if (this.#ws.readyState === WebSocket.CONNECTING || this.#ws.readyState === WebSocket.OPEN) {
      this.#ws.close(1000, reason);
    }
  }

  close(): void {
    if (this.#ended && this.#state === "closed") return;
    this.#ended = true;
    this.#queue = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#closeSocket();
    closeQuietly(this.#readableController);
    errorQuietly(this.#writableController, closedLocally());
    this.#wakeReader();
    this.#wakeOpen();
  }
}

const EMPTY = new Uint8Array(0);
const ENCODER = new TextEncoder();

function closedLocally(): MsrpError {
  return new MsrpError("connection-closed", "the connection was closed locally");
}

function closedByPeer(where: string): MsrpError {
  return new MsrpError("connection-reset", `the WebSocket to ${where} was closed by the peer`);
}

/**
 * Wraps an open (or opening) `WebSocket` as an {@link MsrpTransport}: each
 * written chunk is sent as one binary message, each received message is read
 * as one chunk (RFC 7977 §4.2, §5.1).
 *
 * @param ws the socket; the transport owns it from now on
 * @param options `secure` (default: the socket URL is `wss:`), peer address,
 *   and buffer bounds
 * @returns the transport
 */
export function webSocketTransport(
  ws: WebSocket,
  options: WebSocketTransportOptions & { secure?: boolean; remoteAddr?: NetAddress } = {},
): WebSocketTransport {
  const secure = options.secure ?? ws.url.startsWith("wss:");
  const where = options.remoteAddr ? formatAddress(options.remoteAddr) : ws.url || "the peer";
  return new WsTransport(ws, secure ? "wss" : "ws", where, options);
}

// ---------------------------------------------------------------------------
// Client

function connectError(url: string, text: string): MsrpError {
  // The certificate's problem and its fix, as for msrps over TCP (tls_errors.ts).
  const cert = diagnoseCertificate(text, bareHost(new URL(url).hostname));
  if (cert !== undefined) {
    return new TlsCertificateError(
      cert.problem,
      `cannot open a WebSocket to ${url}: ${cert.reason}`,
    );
  }
  if (/refused/i.test(text)) {
    return new MsrpError(
      "connect-refused",
      `cannot open a WebSocket to ${url}: connection refused`,
    );
  }
  // Deno's WebSocket reports any failed TCP connect this way, without the reason.
  if (/tcp connect error/i.test(text)) {
    return new MsrpError(
      "connect-failed",
      `cannot open a WebSocket to ${url}: the TCP connection failed`,
    );
  }
  return new MsrpError(
    "connect-failed",
    `cannot open a WebSocket to ${url}: ${text || "the handshake failed"}`,
  );
}

/**
 * Opens an MSRP WebSocket connection to a relay (RFC 7977 §4.1, §5.1) with the
 * standard `WebSocket` API, offering the `msrp` subprotocol.
 *
 * @param url the WebSocket URL, `wss://relay.example.com/` (or `ws:` with
 *   `insecure`)
 * @param options subprotocols, extra roots for `wss:`, handshake headers,
 *   abort signal, buffer bounds
 * @returns the open connection (`frameAligned` true)
 * @throws {MsrpError} `insecure-websocket` for a `ws:` URL without
 *   `insecure`, `bad-url`, `connect-refused`, `connect-failed`,
 *   `tls-untrusted`, `tls-name-mismatch`, `connect-aborted`, or
 *   `ws-subprotocol` when the server did not select `msrp`
 */
export async function connectWebSocket(
  url: string | URL,
  options: WebSocketConnectOptions = {},
): Promise<WebSocketTransport> {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new MsrpError("bad-url", `not a WebSocket URL: ${JSON.stringify(String(url))}`, {
      cause: e,
    });
  }
  if (u.protocol !== "wss:" && u.protocol !== "ws:") {
    throw new MsrpError("bad-url", `a WebSocket URL starts with wss: or ws:, not ${u.protocol}`);
  }
  if (u.protocol === "ws:" && !options.insecure) {
    throw new MsrpError(
      "insecure-websocket",
      `refusing ${u.href}: MSRP over WebSocket MUST use wss: (RFC 7977 §5.1)`,
    );
  }
  const href = u.href;
  const protocols = options.protocols ?? [MSRP_SUBPROTOCOL];
  const { signal } = options;
  if (signal?.aborted) {
    throw new MsrpError("connect-aborted", `opening a WebSocket to ${href} was aborted`, {
      cause: signal.reason,
    });
  }
  const client = options.caCerts ? Deno.createHttpClient({ caCerts: options.caCerts }) : undefined;
  let ws: WebSocket;
  try {
    ws = new WebSocket(href, { protocols, headers: options.headers, client });
  } catch (e) {
    client?.close();
    throw new MsrpError("connect-failed", `cannot open a WebSocket to ${href}: ${e}`, {
      cause: e,
    });
  }
  const transport = new WsTransport(ws, u.protocol === "wss:" ? "wss" : "ws", href, options);
  transport.onRelease = () => client?.close();
  await new Promise<void>((resolve, reject) => {
    let errorText = "";
    const cleanup = () => {
      ws.removeEventListener("open", onOpen);
      ws.removeEventListener("error", onError);
      ws.removeEventListener("close", onClose);
      signal?.removeEventListener("abort", onAbort);
    };
    const onOpen = () => {
      cleanup();
      resolve();
    };
    const onError = (e: Event) => {
      errorText = (e as ErrorEvent).message ?? "";
    };
    const onClose = (e: CloseEvent) => {
      cleanup();
      reject(connectError(href, errorText || e.reason));
    };
    const onAbort = () => {
      cleanup();
      transport.close();
      reject(
        new MsrpError("connect-aborted", `opening a WebSocket to ${href} was aborted`, {
          cause: signal?.reason,
        }),
      );
    };
    ws.addEventListener("open", onOpen);
    ws.addEventListener("error", onError);
    ws.addEventListener("close", onClose);
    signal?.addEventListener("abort", onAbort);
  });
  // RFC 7977 §4.1: the 101 reply MUST contain "msrp".
  if (protocols.includes(MSRP_SUBPROTOCOL) && ws.protocol !== MSRP_SUBPROTOCOL) {
    transport.close();
    throw new MsrpError(
      "ws-subprotocol",
      `the server at ${href} did not select the "msrp" WebSocket subprotocol (RFC 7977 §4.1)`,
    );
  }
  return transport;
}

// ---------------------------------------------------------------------------
// Server

/**
 * Whether an HTTP request is a WebSocket upgrade that offers the `msrp`
 * subprotocol (RFC 7977 §4.1).
 *
 * @param request the incoming request
 * @returns true when {@link acceptWebSocket} would accept it
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
  const where = options.remoteAddr ? formatAddress(options.remoteAddr) : "the client";
  const transport = new WsTransport(socket, secure ? "wss" : "ws", where, {
    ...options,
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
 */
export function listenWebSocket(options: WebSocketListenOptions): WebSocketListener {
  return new WsListener(options);
}

class WsListener implements WebSocketListener {
  readonly addr: NetAddress;
  readonly finished: Promise<void>;
  #server: Deno.HttpServer<Deno.NetAddr>;
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
