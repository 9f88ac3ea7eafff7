/**
 * Where the bytes of an outgoing message come from (RFC 4975 §7.1.1).
 *
 * A message body may be a string, bytes, a `Blob` (a file from
 * `Deno.open`... or the web) or a `ReadableStream` of unknown length. The
 * chunker asks for "at most n more bytes" whenever the scheduler gives it a
 * turn, so a large file is read only as fast as the connection drains and is
 * never held whole in memory.
 *
 * @module
 */

/** Anything `session.send` accepts as a body. */
export type MessageBody = string | Uint8Array | Blob | ReadableStream<Uint8Array>;

/** A body read piece by piece. */
export interface BodySource {
  /** Total size in octets when known in advance (§7.1.1 Byte-Range total). */
  readonly size: number | undefined;
  /** Octets handed out so far. */
  readonly position: number;
  /** True once every byte has been handed out. */
  readonly done: boolean;
  /**
   * The next bytes, at most `max` of them; an empty array at the end.
   * Synchronous sources return bytes directly; streams return a promise.
   *
   * @param max the most bytes wanted
   */
  read(max: number): Uint8Array | Promise<Uint8Array>;
  /** Releases the underlying stream or file, for an aborted send. */
  cancel(reason?: unknown): Promise<void>;
}

const EMPTY = new Uint8Array(0);

/** A body held in memory: views of it are handed out, never copies. */
class BytesSource implements BodySource {
  readonly size: number;
  position = 0;
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.size = bytes.length;
  }

  get done(): boolean {
    return this.position >= this.size;
  }

  read(max: number): Uint8Array {
    const start = this.position;
    const end = Math.min(this.size, start + max);
    this.position = end;
    return this.#bytes.subarray(start, end);
  }

  cancel(): Promise<void> {
    this.position = this.size;
    return Promise.resolve();
  }
}

/** A stream of unknown (or declared) length, read on demand. */
class StreamSource implements BodySource {
  readonly size: number | undefined;
  position = 0;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #left: Uint8Array = EMPTY; // read from the stream, not yet handed out
  #ended = false;

  constructor(stream: ReadableStream<Uint8Array>, size: number | undefined) {
    this.#reader = stream.getReader();
    this.size = size;
  }

  get done(): boolean {
    return this.#ended && this.#left.length === 0;
  }

  async read(max: number): Promise<Uint8Array> {
    await this.#fill();
    const out = this.#left.subarray(0, max);
    this.#left = this.#left.subarray(out.length);
    this.position += out.length;
    const size = this.size;
    if (size !== undefined && this.position > size) {
      throw new RangeError(`body stream is longer than its declared size ${size}`);
    }
    if (size !== undefined && this.position === size && this.#left.length === 0) {
      // Declared size reached: make sure the stream really ends here, so the
      // chunk carrying these bytes can say "$" (and extra bytes are an
      // error, not silently dropped).
      await this.#fill();
      if (this.#left.length > 0) {
        throw new RangeError(`body stream is longer than its declared size ${size}`);
      }
    }
    if (this.#ended && size !== undefined && this.position < size && this.#left.length === 0) {
      throw new RangeError(`body stream ended at ${this.position} of its declared size ${size}`);
    }
    return out;
  }

  /** Reads from the stream until something is buffered or it ends. */
  async #fill(): Promise<void> {
    while (this.#left.length === 0 && !this.#ended) {
      const { value, done } = await this.#reader.read();
      if (done) this.#ended = true;
      else this.#left = value;
    }
  }

  async cancel(reason?: unknown): Promise<void> {
    this.#ended = true;
    this.#left = EMPTY;
    await this.#reader.cancel(reason).catch(() => {});
  }
}

/**
 * Wraps any accepted body as a {@linkcode BodySource}.
 *
 * @param body the message body
 * @param size the declared size of a stream body, if known
 *
 * @example Read a body piece by piece
 * ```ts
 * import { bodySource } from "@msrp/msrp/session";
 *
 * const source = bodySource("Hello, world");
 * console.log(source.size); // 12
 * const first = await source.read(5); // "Hello"
 * console.log(first.length, source.done); // 5 false
 * ```
 */
export function bodySource(body: MessageBody, size?: number): BodySource {
  if (typeof body === "string") return new BytesSource(new TextEncoder().encode(body));
  if (body instanceof Uint8Array) return new BytesSource(body);
  if (body instanceof Blob) return new StreamSource(body.stream(), body.size);
  return new StreamSource(body, size);
}

/**
 * The Content-Type to use when the caller gives none: text for strings, the
 * Blob's own type, bytes otherwise.
 *
 * @param body the message body
 *
 * @example The Content-Type a body is sent with by default
 * ```ts
 * import { defaultContentType } from "@msrp/msrp/session";
 *
 * console.log(defaultContentType("hi")); // "text/plain;charset=UTF-8"
 * console.log(defaultContentType(new Blob([], { type: "image/png" }))); // "image/png"
 * console.log(defaultContentType(new Uint8Array(4))); // "application/octet-stream"
 * ```
 */
export function defaultContentType(body: MessageBody): string {
  if (typeof body === "string") return "text/plain;charset=UTF-8";
  if (body instanceof Blob && body.type !== "") return body.type;
  return "application/octet-stream";
}
