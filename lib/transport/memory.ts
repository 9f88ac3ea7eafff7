/**
 * An in-memory connected pair of transports, for tests (RFC 4975 §5.4).
 *
 * MSRP runs over a reliable, ordered byte stream: TCP, TLS over TCP, or a
 * WebSocket connection (RFC 4975 §6, RFC 7977). {@link memoryPipe} gives two
 * {@link MsrpTransport} ends joined back to back with the same guarantees and
 * no socket at all, so the protocol stages can be tested byte by byte:
 *
 * ```text
 *   a.writable ──► [ bounded queue a→b ] ──► b.readable
 *   a.readable ◄── [ bounded queue b→a ] ◄── b.writable
 * ```
 *
 * What it promises, like a TCP connection:
 *
 * - **Order and exactness.** Bytes come out in the order they went in, never
 *   merged with other writes' memory: every written chunk is copied, so the
 *   writer may reuse its buffer as soon as `write()` resolves.
 * - **Backpressure.** Each direction holds at most `capacity` bytes (plus the
 *   tail of the one write that crossed the limit). A write waits until the
 *   reader has made room, so a fast writer cannot fill memory.
 * - **Half close.** Closing one side's `writable` is a FIN: the peer reads
 *   what is queued, then its `readable` ends. The other direction stays open.
 * - **Abort.** Aborting a `writable` is a reset: queued bytes are dropped and
 *   the peer's `readable` fails with an {@link MsrpError} `connection-reset`.
 * - **Close.** {@link MsrpTransport.close} ends both directions at once: the
 *   peer still reads what was already queued towards it and then sees the end;
 *   the peer's writes fail with `connection-reset`; our own pending read ends
 *   and our writes fail with `connection-closed`. No reader is ever left
 *   waiting.
 *
 * With `chunkSize`, reads are cut into pieces of at most that many bytes,
 * which lets a test check that a parser copes with any split of the stream.
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import { closeQuietly } from "./quiet.ts";
import type { MsrpTransport } from "./types.ts";

/** Options of {@link memoryPipe}. */
export interface MemoryPipeOptions {
  /**
   * Largest piece a read returns, in bytes. Writes are cut into reads of at
   * most this size (default: a read returns one whole write).
   */
  chunkSize?: number;
  /**
   * Bytes each direction may hold before a write waits for the reader
   * (default 65536).
   */
  capacity?: number;
}

/** One end of a {@link memoryPipe}. */
export interface MemoryTransport extends MsrpTransport {
  /** Always `"memory"`. */
  readonly kind: "memory";
  /** Bytes this end has written that the other end has not read yet. */
  readonly bufferedAmount: number;
}

type Waiter = () => void;

/** One direction of the pipe: a bounded FIFO of byte chunks. */
class Channel {
  #queue: Uint8Array[] = [];
  #head = 0;
  #bytes = 0;
  #ended = false;
  #reset: MsrpError | undefined;
  #readerGone = false;
  #writerGone = false;
  #readWaiter: Waiter | undefined;
  #writeWaiters: Waiter[] = [];
  readonly #capacity: number;
  readonly #chunkSize: number;

  constructor(capacity: number, chunkSize: number) {
    this.#capacity = capacity;
    this.#chunkSize = chunkSize;
  }

  get bytes(): number {
    return this.#bytes;
  }

  #wakeReader(): void {
    const w = this.#readWaiter;
    this.#readWaiter = undefined;
    w?.();
  }

  #wakeWriters(): void {
    const ws = this.#writeWaiters;
    this.#writeWaiters = [];
    for (const w of ws) w();
  }

  /** Queues a copy of `chunk`, first waiting for room. */
  async write(chunk: Uint8Array): Promise<void> {
    for (;;) {
      if (this.#writerGone) {
        throw new MsrpError("connection-closed", "the connection was closed locally");
      }
      if (this.#readerGone) {
        throw new MsrpError("connection-reset", "the peer closed the connection");
      }
      if (this.#bytes < this.#capacity) break;
      await new Promise<void>((resolve) => this.#writeWaiters.push(resolve));
    }
    if (chunk.length === 0) return;
    this.#queue.push(chunk.slice());
    this.#bytes += chunk.length;
    this.#wakeReader();
  }

  /** The writer is done: the reader sees the end after the queued bytes (FIN). */
  end(): void {
    this.#ended = true;
    this.#wakeReader();
  }

  /** The writer failed: queued bytes are dropped and the reader gets `error` (RST). */
  reset(error: MsrpError): void {
    if (this.#ended || this.#reset !== undefined) return;
    this.#reset = error;
    this.#drop();
    this.#wakeReader();
  }

  /** The writing side closed locally: pending and later writes fail. */
  writerGone(): void {
    this.#writerGone = true;
    this.#wakeWriters();
  }

  /** The reader will read no more: queued bytes are dropped and writes fail. */
  readerGone(): void {
    this.#readerGone = true;
    this.#drop();
    this.#wakeReader();
  }

  #drop(): void {
    this.#queue = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#wakeWriters();
  }

  /** Next piece of data, or `undefined` at the end. Throws the reset error. */
  async read(): Promise<Uint8Array | undefined> {
    for (;;) {
      if (this.#readerGone) return undefined;
      if (this.#head < this.#queue.length) break;
      if (this.#reset !== undefined) throw this.#reset;
      if (this.#ended) return undefined;
      await new Promise<void>((resolve) => this.#readWaiter = resolve);
    }
    let chunk = this.#queue[this.#head];
    if (chunk.length > this.#chunkSize) {
      this.#queue[this.#head] = chunk.subarray(this.#chunkSize);
      chunk = chunk.subarray(0, this.#chunkSize);
    } else {
      this.#queue[this.#head++] = EMPTY;
      if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
    }
    this.#bytes -= chunk.length;
    this.#wakeWriters();
    return chunk;
  }
}

const EMPTY = new Uint8Array(0);

class MemoryEnd implements MemoryTransport {
  readonly kind = "memory" as const;
  readonly secure = false;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly #in: Channel;
  readonly #out: Channel;
  #closed = false;
  #readableController!: ReadableStreamDefaultController<Uint8Array>;
  #writableController!: WritableStreamDefaultController;

  constructor(incoming: Channel, outgoing: Channel) {
    this.#in = incoming;
    this.#out = outgoing;
    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#readableController = c;
      },
      pull: async (c) => {
        const chunk = await incoming.read();
        if (chunk === undefined) closeQuietly(c);
        else c.enqueue(chunk);
      },
      cancel: () => incoming.readerGone(),
      // Nothing is read ahead: the bytes wait in the bounded channel.
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      start: (c) => {
        this.#writableController = c;
      },
      write: (chunk) => outgoing.write(chunk),
      close: () => outgoing.end(),
      abort: () =>
        outgoing.reset(new MsrpError("connection-reset", "the peer aborted the connection")),
    });
  }

  get bufferedAmount(): number {
    return this.#out.bytes;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Our direction: what is queued still reaches the peer, then it sees the end.
    this.#out.end();
    this.#out.writerGone();
    this.#writableController.error(
      new MsrpError("connection-closed", "the connection was closed locally"),
    );
    // Their direction: we read no more; their writes fail.
    this.#in.readerGone();
    closeQuietly(this.#readableController);
  }
}

/**
 * Makes two connected in-memory transports: bytes written to one end's
 * `writable` come out of the other end's `readable`, in order.
 *
 * @param options `chunkSize` to cut reads into small pieces, `capacity` for the
 *   per-direction byte bound
 * @returns the two ends, `[a, b]`
 * @throws {RangeError} when `chunkSize` or `capacity` is not a positive integer
 *
 * @example Two connected transports in memory
 * ```ts
 * import { MsrpConnection } from "@msrp/msrp";
 * import { memoryPipe } from "@msrp/msrp/transport";
 *
 * const [a, b] = memoryPipe({ chunkSize: 7 }); // bytes arrive in pieces of 7, as a network may
 * const left = new MsrpConnection(a);
 * const right = new MsrpConnection(b);
 * left.close();
 * right.close();
 * ```
 */
export function memoryPipe(options: MemoryPipeOptions = {}): [MemoryTransport, MemoryTransport] {
  const chunkSize = options.chunkSize ?? Number.MAX_SAFE_INTEGER;
  const capacity = options.capacity ?? 65536;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(`chunkSize must be a positive integer, not ${options.chunkSize}`);
  }
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new RangeError(`capacity must be a positive integer, not ${options.capacity}`);
  }
  const ab = new Channel(capacity, chunkSize);
  const ba = new Channel(capacity, chunkSize);
  return [new MemoryEnd(ba, ab), new MemoryEnd(ab, ba)];
}
