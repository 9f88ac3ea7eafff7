/**
 * A `node:net` socket (or a `node:tls` one, which is a `node:net` socket) as
 * an {@link MsrpTransport}: the byte stream MSRP runs over (RFC 4975 §6;
 * TLS for `msrps:`, §14.2). Used by the TLS transport in Deno (`node:tls`
 * for fingerprints and client certificates) and by the Node transport
 * (`lib/transport/node.ts`). The life cycle is {@link TransportAdapter}'s.
 *
 * @module
 */

import type { Socket } from "node:net";
import { MsrpError } from "../errors.ts";
import { formatAddress } from "./address.ts";
import { InboundQueue, socketAddress, TransportAdapter } from "./adapter.ts";
import type { NetAddress } from "./types.ts";

/** Options of {@link NodeSocketTransport}. */
export interface NodeSocketOptions {
  /** The transport's kind (default `"tcp"`). */
  kind?: string;
  /** Whether the socket is a TLS one (default false). */
  secure?: boolean;
  /** Most received bytes kept unread before the transport fails with `receive-overflow`. */
  maxBufferedBytes: number;
  /** The peer's address, when the socket does not know it (it runs over a stream we own). */
  remoteAddr?: NetAddress;
  /** Our address, likewise. */
  localAddr?: NetAddress;
  /**
   * Receive back-pressure for a socket over a stream we read ourselves (an
   * accepted TLS connection, `conn_duplex.ts`): paused once `pauseAtBytes`
   * unread bytes wait, resumed when the reader is below that again.
   */
  readGate?: { pause(): void; resume(): void };
  /** Unread bytes at which `readGate` is paused (default: `maxBufferedBytes`). */
  pauseAtBytes?: number;
  /**
   * The socket runs over a stream we own (an accepted TLS connection): the
   * transport is let go when the socket closes (after its last bytes went
   * out), not as soon as both directions ended; and a write waits only while
   * the socket's buffer is full, so the next chunk can be encrypted while
   * this one is being sent (a failure errors the streams; the next write
   * sees it).
   */
  ownedStream?: boolean;
}

/** An open `node:net` or `node:tls` socket as an MSRP transport. */
export class NodeSocketTransport extends TransportAdapter {
  /** Bytes from the peer. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  readonly writable: WritableStream<Uint8Array>;
  /** `"tcp"`, or `"tls"`. */
  readonly kind: string;
  /** Whether the socket is a TLS one. */
  readonly secure: boolean;
  /** The peer's address. */
  readonly remoteAddr?: NetAddress;
  /** Our address. */
  readonly localAddr?: NetAddress;
  readonly #socket: Socket;
  readonly #queue: InboundQueue;

  /**
   * Takes over an open socket.
   *
   * @param socket the socket, connected (or handshaken, for TLS)
   * @param options the receive bound
   */
  constructor(socket: Socket, options: NodeSocketOptions) {
    const remoteAddr = options.remoteAddr ?? socketAddress(socket.remoteAddress, socket.remotePort);
    super(remoteAddr ? formatAddress(remoteAddr) : "the peer");
    this.#socket = socket;
    this.kind = options.kind ?? "tcp";
    this.secure = options.secure ?? false;
    this.remoteAddr = remoteAddr;
    this.localAddr = options.localAddr ?? socketAddress(socket.localAddress, socket.localPort);
    const maxBuffered = options.maxBufferedBytes;
    const queue = this.#queue = new InboundQueue(maxBuffered);
    const gate = options.readGate;
    const pauseAt = options.pauseAtBytes ?? maxBuffered;
    const owned = options.ownedStream === true;
    if (owned) {
      this.releaseWhenDone = false;
      // The socket closes once its last bytes went out (or it failed); then it goes.
      socket.once("close", () => this.release());
    }
    // A reset or a broken pipe; a clean end is the "end" event below.
    socket.on("error", (e: Error) => this.fail(this.#mapError(e)));
    // Flowing mode, never paused: in Deno 2.9's node:tls, pause() and paused
    // mode (read(), async iteration) can lose bytes and the end of the stream.
    // So there is no receive backpressure on this path; a reader that falls
    // more than maxBufferedBytes behind gets `receive-overflow` instead of an
    // unbounded queue. (With a `readGate`, the stream under the socket is not
    // read while the reader is behind, which keeps TCP flow control.)
    socket.on("data", (b: Uint8Array) => {
      if (this.released) return;
      if (!queue.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength))) {
        this.fail(
          new MsrpError(
            "receive-overflow",
            `${this.where} sent more than ${maxBuffered} bytes that were not read`,
          ),
        );
        return;
      }
      if (gate !== undefined && queue.bytes >= pauseAt) gate.pause();
    });
    // "end": the peer's FIN; "close" without an end: destroyed by an error or by us.
    socket.on("end", () => queue.end());
    socket.on("close", () => queue.end());
    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => this.controllers(c),
      pull: async (c) => {
        await queue.pull(c, () => this.readEnded());
        if (gate !== undefined && queue.bytes < pauseAt) gate.resume();
      },
      cancel: () => this.close(),
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      start: (c) => this.controllers(undefined, c),
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          if (this.released) return reject(this.writeError());
          if (chunk.length === 0) return resolve();
          if (owned) {
            const ok = socket.write(chunk, (e?: Error | null) => {
              if (e != null && !this.released) this.fail(this.#mapError(e));
            });
            if (ok) return resolve();
            const done = () => {
              socket.removeListener("drain", done);
              socket.removeListener("close", done);
              if (this.released) reject(this.writeError());
              else resolve();
            };
            socket.once("drain", done);
            socket.once("close", done);
            return;
          }
          // The callback runs once the bytes are handed to the socket.
          socket.write(chunk, (e?: Error | null) => {
            if (e == null) return resolve();
            if (!this.released) this.fail(this.#mapError(e));
            reject(this.writeError());
          });
        }),
      close: () =>
        new Promise<void>((resolve) => {
          if (this.writeEnded()) return resolve();
          socket.end(() => resolve()); // FIN (after close_notify, for TLS)
        }),
      abort: () => this.close(),
    });
  }

  #mapError(e: unknown): MsrpError {
    if (e instanceof MsrpError) return e;
    const code = (e as { code?: string })?.code;
    if (
      code === "ECONNRESET" || code === "EPIPE" || code === "ERR_STREAM_DESTROYED" ||
      code === "ERR_STREAM_PREMATURE_CLOSE"
    ) {
      return new MsrpError("connection-reset", `the connection to ${this.where} was reset`, {
        cause: e,
      });
    }
    const text = e instanceof Error ? e.message : String(e);
    return new MsrpError("connection-failed", `the connection to ${this.where} failed: ${text}`, {
      cause: e,
    });
  }

  /** Destroys the socket. */
  protected releaseSocket(): void {
    this.#socket.destroy();
  }

  /** Drops unread bytes and wakes the reader: to the failure, or to the end. */
  protected override onEnd(): void {
    this.#queue.clear(this.failure);
  }
}
