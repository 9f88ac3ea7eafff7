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
import { bareHost, formatAddress } from "./address.ts";
import { InboundQueue, TransportAdapter } from "./adapter.ts";
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

// ---------------------------------------------------------------------------
// The transport

type State = "connecting" | "open" | "closed";

/**
 * A `WebSocket` as a transport; the life cycle is {@link TransportAdapter}'s.
 * A WebSocket has no half close, so letting the socket go is starting the
 * closing handshake, and the peer's close ends both directions.
 */
class WsTransport extends TransportAdapter implements WebSocketTransport {
  readonly kind: "ws" | "wss";
  readonly secure: boolean;
  readonly frameAligned = true as const;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly remoteAddr?: NetAddress;
  readonly #ws: WebSocket;
  readonly #maxBuffered: number;
  readonly #sendHighWaterMark: number;
  readonly #queue: InboundQueue;
  #state: State;
  #errorText = "";
  #closeReason: string | undefined;
  #openWaiters: (() => void)[] = [];
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
    super(where);
    this.#ws = ws;
    this.#selected = options.selected ?? "";
    this.kind = kind;
    this.secure = kind === "wss";
    this.remoteAddr = options.remoteAddr;
    this.#maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.#sendHighWaterMark = options.sendHighWaterMark ?? 1024 * 1024;
    const queue = this.#queue = new InboundQueue(this.#maxBuffered);
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
      start: (c) => this.controllers(c),
      pull: (c) => queue.pull(c, () => this.readEnded()),
      cancel: () => this.close(),
    }, { highWaterMark: 0 });

    this.writable = new WritableStream<Uint8Array>({
      start: (c) => this.controllers(undefined, c),
      write: async (chunk) => {
        if (this.#state === "connecting") {
          await new Promise<void>((resolve) => this.#openWaiters.push(resolve));
        }
        if (this.#state !== "open") throw this.writeError();
        if (chunk.length === 0) return; // not a frame: nothing to send
        // RFC 7977 §5.1: this chunk is one whole MSRP frame; it goes out as one message.
        ws.send(chunk);
        let wait = 1;
        while (ws.bufferedAmount > this.#sendHighWaterMark && this.#state === "open") {
          await new Promise((resolve) => setTimeout(resolve, wait));
          wait = Math.min(wait * 2, 16);
        }
      },
      // No half close on a WebSocket: closing our side starts the closing
      // handshake; the reader ends when the peer's close comes back.
      close: () => this.#closeSocket(),
      abort: () => this.#closeSocket(),
    });
  }

  /** The negotiated subprotocol: what the server selected (known once open). */
  get protocol(): string {
    return this.#ws.protocol || this.#selected;
  }

  #wakeOpen(): void {
    for (const w of this.#openWaiters.splice(0)) w();
  }

  #onMessage(data: unknown): void {
    if (this.released || this.failure !== undefined) return;
    // RFC 7977 §4.2: accept text and binary; text is read as its UTF-8 bytes.
    const bytes = typeof data === "string"
      ? ENCODER.encode(data)
      : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : undefined;
    if (bytes === undefined) return;
    if (!this.#queue.push(bytes)) {
      this.#closeReason = "receive buffer overflow";
      this.fail(
        new MsrpError(
          "ws-overflow",
          `${this.where} sent more than ${this.#maxBuffered} bytes that were not read`,
        ),
      );
    }
  }

  #onClose(e: CloseEvent): void {
    const wasOpen = this.#state === "open";
    this.#state = "closed";
    this.#wakeOpen();
    if (!this.released && this.failure === undefined) {
      // 1000 normal closure, 1005 no status: the peer ended the connection.
      if (e.wasClean && (e.code === 1000 || e.code === 1005)) {
        this.#queue.end();
        this.writeFailed(closedByPeer(this.where));
      } else {
        const why = e.reason || this.#errorText || (wasOpen ? "connection lost" : "failed");
        this.failure = new MsrpError(
          "connection-reset",
          `the WebSocket to ${this.where} closed with code ${e.code}: ${why}`,
        );
        // What came before the break is still read, then the reader gets the error.
        this.#queue.end(this.failure);
        this.writeFailed(this.failure);
      }
    }
    this.onRelease?.();
    this.onRelease = undefined;
  }

  /** Starts the closing handshake, if it has not begun. */
  #closeSocket(): void {
    if (this.#ws.readyState === WebSocket.CONNECTING || this.#ws.readyState === WebSocket.OPEN) {
      this.#ws.close(1000, this.#closeReason);
    }
  }

  /** Starts the closing handshake, if it has not begun. */
  protected releaseSocket(): void {
    this.#closeSocket();
  }

  /** Drops unread messages, wakes the reader and any write waiting for the open. */
  protected override onEnd(): void {
    this.#queue.clear(this.failure);
    this.#wakeOpen();
  }
}

const ENCODER = new TextEncoder();

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
 *   buffer bounds, and on a server the subprotocol `selected` in the 101 reply
 * @returns the transport
 *
 * @example Use a WebSocket opened elsewhere
 * ```ts
 * import { MSRP_SUBPROTOCOL, webSocketTransport } from "@msrp/msrp/transport";
 *
 * const ws = new WebSocket("wss://relay.example.com/msrp", MSRP_SUBPROTOCOL);
 * const transport = webSocketTransport(ws, { secure: true });
 * ```
 */
export function webSocketTransport(
  ws: WebSocket,
  options: WebSocketTransportOptions & {
    secure?: boolean;
    remoteAddr?: NetAddress;
    selected?: string;
  } = {},
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

/** Deno's `WebSocket` constructor, which takes extra headers and an HTTP client. */
type DenoWebSocket = new (
  url: string,
  options: { protocols: string[]; headers?: HeadersInit; client?: { close(): void } },
) => WebSocket;

/**
 * An HTTP client trusting `caCerts`, for `wss:` to a relay with a private CA:
 * `Deno.createHttpClient` where it exists, found by feature detection so that
 * this module loads in browsers and Node too (there the platform's roots are
 * all a WebSocket can use).
 */
function httpClient(caCerts: string[]): { close(): void } {
  const deno = (globalThis as {
    Deno?: { createHttpClient?: (o: { caCerts: string[] }) => { close(): void } };
  }).Deno;
  if (typeof deno?.createHttpClient !== "function") {
    throw new MsrpError(
      "ws-ca-unsupported",
      "caCerts for a WebSocket needs Deno's createHttpClient; this runtime uses its own roots",
    );
  }
  return deno.createHttpClient({ caCerts });
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
 *
 * @example Connect over WebSocket (RFC 7977)
 * ```ts
 * import { connectWebSocket } from "@msrp/msrp/transport";
 *
 * const transport = await connectWebSocket("wss://relay.example.com/msrp");
 * await transport.writable.close();
 * ```
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
  let client: { close(): void } | undefined;
  let ws: WebSocket;
  try {
    client = options.caCerts === undefined ? undefined : httpClient(options.caCerts);
    ws = options.headers === undefined && client === undefined
      // The standard constructor: what browsers, Node and Deno all have.
      ? new WebSocket(href, protocols)
      // Deno's extension (extra headers, extra roots): an options object.
      : new (WebSocket as unknown as DenoWebSocket)(href, {
        protocols,
        headers: options.headers,
        client,
      });
  } catch (e) {
    if (e instanceof MsrpError) throw e;
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
