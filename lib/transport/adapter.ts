/**
 * What every transport adapter shares: turning one socket (a `Deno.Conn`, a
 * `node:net` or `node:tls` socket, a `WebSocket`) into the two streams of an
 * {@link MsrpTransport}, with one life cycle for all of them.
 *
 * MSRP runs over a reliable byte stream (RFC 4975 §6, §7.1; RFC 7977 §5.1
 * for WebSocket). What the session layer needs from a transport, whatever
 * the socket underneath:
 *
 * - **The end of the peer's bytes** (a TCP FIN, a TLS close_notify, a
 *   WebSocket close 1000) closes `readable`; the socket is let go once our
 *   side has closed `writable` too, so either side may finish first.
 * - **A failure** (a reset, a broken pipe, a receive buffer overflow) errors
 *   both streams with one typed {@link MsrpError} and lets the socket go; a
 *   write after it rejects with the same error.
 * - **{@linkcode TransportAdapter.close}** lets the socket go at once: the
 *   reader sees the end, a writer `connection-closed`.
 * - **Bounded memory**: a socket that pushes data at us (events rather than
 *   reads) fills an {@link InboundQueue} that fails the transport when the
 *   reader falls more than a fixed number of bytes behind.
 *
 * This module uses no runtime API, so the WebSocket transport that builds on
 * it loads in browsers too.
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import { closeQuietly, errorQuietly } from "./quiet.ts";
import type { MsrpTransport, NetAddress } from "./types.ts";

/**
 * The error a write gets after {@linkcode TransportAdapter.close}.
 *
 * @returns an `MsrpError` `connection-closed`
 */
export function closedLocally(): MsrpError {
  return new MsrpError("connection-closed", "the connection was closed locally");
}

/**
 * The shared life cycle of a transport over one socket. A subclass makes
 * `readable` and `writable` (passing their controllers to
 * {@linkcode TransportAdapter.controllers}), calls
 * {@linkcode TransportAdapter.readEnded}, {@linkcode TransportAdapter.writeEnded}
 * and {@linkcode TransportAdapter.fail} as the socket tells it, and says how
 * to let the socket go in {@linkcode TransportAdapter.releaseSocket}.
 */
export abstract class TransportAdapter implements MsrpTransport {
  /** Bytes from the peer. */
  abstract readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  abstract readonly writable: WritableStream<Uint8Array>;
  /** `"tcp"`, `"tls"`, `"ws"`, `"wss"`. */
  abstract readonly kind: string;
  /** Whether the bytes are protected by TLS. */
  abstract readonly secure: boolean;
  /** The peer's address, for messages (`host:port`, a URL, or "the peer"). */
  protected readonly where: string;
  /** Why the transport failed, once it did. */
  protected failure: MsrpError | undefined;
  /** True once the socket has been let go. */
  protected released = false;
  /** The peer's bytes have ended. */
  protected readDone = false;
  /** Our side closed `writable`. */
  protected writeDone = false;
  /**
   * Whether the socket is let go once both directions ended (the default).
   * False for a socket that closes itself once it sent its last bytes (a TLS
   * stream over a socket we own): the subclass then calls
   * {@linkcode TransportAdapter.release} when it did.
   */
  protected releaseWhenDone = true;
  #readable: ReadableStreamDefaultController<Uint8Array> | undefined;
  #writable: WritableStreamDefaultController | undefined;

  /**
   * Starts the life cycle; the subclass then makes the streams.
   *
   * @param where the peer, for error messages
   */
  protected constructor(where: string) {
    this.where = where;
  }

  /**
   * Remembers the stream controllers, to end or error the streams later.
   *
   * @param readable the controller `readable` was started with
   * @param writable the controller `writable` was started with
   */
  protected controllers(
    readable?: ReadableStreamDefaultController<Uint8Array>,
    writable?: WritableStreamDefaultController,
  ): void {
    if (readable !== undefined) this.#readable = readable;
    if (writable !== undefined) this.#writable = writable;
  }

  /** Lets the socket go (close or destroy it); called once. */
  protected abstract releaseSocket(): void;

  /** The peer's bytes ended: `readable` closes; the socket goes if we are done writing. */
  protected readEnded(): void {
    this.readDone = true;
    if (this.#readable) closeQuietly(this.#readable);
    if (this.writeDone && this.releaseWhenDone) this.release();
  }

  /**
   * Errors `writable` only: the peer can no longer be written to, while what
   * it sent may still be read.
   *
   * @param error what a writer gets
   */
  protected writeFailed(error: MsrpError): void {
    if (this.#writable) errorQuietly(this.#writable, error);
  }

  /**
   * Our side closed `writable`.
   *
   * @returns true when the socket was let go (the peer had ended already),
   *   false when the subclass should half-close it (FIN, close_notify)
   *   (always false when {@linkcode TransportAdapter.releaseWhenDone} is off)
   */
  protected writeEnded(): boolean {
    this.writeDone = true;
    if (!this.readDone || !this.releaseWhenDone) return false;
    this.release();
    return true;
  }

  /**
   * The socket failed: both streams error with `error` and the socket goes.
   * Only the first failure counts.
   *
   * @param error what failed, typed
   */
  protected fail(error: MsrpError): void {
    if (this.released) return;
    this.failure = error;
    this.release();
    if (this.#readable) errorQuietly(this.#readable, error);
    if (this.#writable) errorQuietly(this.#writable, error);
    this.onEnd();
  }

  /**
   * The error for a write that cannot be done: the failure, or
   * `connection-closed` after {@linkcode TransportAdapter.close}.
   *
   * @returns the error
   */
  protected writeError(): MsrpError {
    return this.failure ?? closedLocally();
  }

  /** Lets the socket go, once. */
  protected release(): void {
    if (this.released) return;
    this.released = true;
    this.releaseSocket();
  }

  /** Called after a failure or a close, to wake whoever waits on the socket. */
  protected onEnd(): void {}

  /** Closes both directions at once and lets the socket go. */
  close(): void {
    if (this.released) return;
    this.release();
    if (this.#readable) closeQuietly(this.#readable);
    if (this.#writable) errorQuietly(this.#writable, closedLocally());
    this.onEnd();
  }
}

/**
 * Received bytes waiting for the reader, for sockets that push data
 * (`node:net` "data" events, WebSocket messages) instead of being read.
 * Bounded: {@linkcode InboundQueue.push} refuses bytes that would put more
 * than `limit` unread bytes in it.
 */
export class InboundQueue {
  readonly #limit: number;
  #chunks: Uint8Array[] = [];
  #head = 0;
  #bytes = 0;
  #ended = false;
  #error: unknown;
  #endError: unknown;
  #wake: (() => void) | undefined;

  /**
   * Makes an empty queue.
   *
   * @param limit most unread bytes held
   */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Unread bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Adds received bytes, as one chunk for the reader.
   *
   * @param chunk the bytes
   * @returns false (and nothing is added) when they would pass the limit
   */
  push(chunk: Uint8Array): boolean {
    if (this.#bytes + chunk.byteLength > this.#limit) return false;
    this.#chunks.push(chunk);
    this.#bytes += chunk.byteLength;
    this.#wakeReader();
    return true;
  }

  /**
   * No more bytes will come: the reader gets what is held, then the end (or
   * `error`, for a connection that broke).
   *
   * @param error what the reader gets after the held bytes, if not the end
   */
  end(error?: unknown): void {
    this.#ended = true;
    this.#endError ??= error;
    this.#wakeReader();
  }

  /**
   * Drops what is held; the reader gets `error` (or, without one, the end).
   *
   * @param error what the reader's next pull fails with
   */
  clear(error?: unknown): void {
    this.#chunks = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#ended = true;
    if (error !== undefined) this.#error ??= error;
    this.#wakeReader();
  }

  /**
   * Waits for the next chunk and gives it to `c`; at the end calls `onEnd`.
   *
   * @param c the readable's controller
   * @param onEnd what to do at the end of the bytes (close the readable)
   */
  async pull(c: ReadableStreamDefaultController<Uint8Array>, onEnd: () => void): Promise<void> {
    for (;;) {
      if (this.#error !== undefined) return c.error(this.#error);
      if (this.#head < this.#chunks.length) {
        const chunk = this.#chunks[this.#head];
        this.#chunks[this.#head++] = EMPTY;
        if (this.#head > 64 && this.#head * 2 > this.#chunks.length) {
          this.#chunks = this.#chunks.slice(this.#head);
          this.#head = 0;
        }
        this.#bytes -= chunk.byteLength;
        c.enqueue(chunk);
        return;
      }
      if (this.#ended) return this.#endError === undefined ? onEnd() : c.error(this.#endError);
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  #wakeReader(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }
}

const EMPTY = new Uint8Array(0);

/**
 * A socket's address as a {@link NetAddress}, when both parts are known.
 *
 * @param host the address, as the socket gives it
 * @param port the port
 * @returns the address, or undefined
 */
export function socketAddress(
  host: string | undefined,
  port: number | undefined,
): NetAddress | undefined {
  return host === undefined || port === undefined ? undefined : { hostname: host, port };
}
