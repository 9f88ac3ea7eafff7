/**
 * Standard output that never stalls the protocol.
 *
 * The commands print what arrives (RFC 4975 §7.1: each SEND is answered
 * with a 200 whether or not anybody looks at it). A synchronous write to a
 * pipe that nobody reads blocks the whole process once the pipe is full: no
 * more responses, no REPORTs, not even SIGTERM handling. So text goes into a
 * bounded queue that a background writer drains with asynchronous writes;
 * when the reader falls further behind than the bound, new text is dropped,
 * counted, and reported (once when dropping starts, once more with the
 * totals when the reader has caught up).
 *
 * @module
 */

/** Most bytes queued for a slow reader, by default (1 MiB). */
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

/** Options of {@linkcode BoundedOutput}. */
export interface BoundedOutputOptions {
  /** Most bytes waiting to be written; more is dropped (default 1 MiB). */
  maxQueuedBytes?: number;
  /** Told when dropping starts (`lines` 0) and, with the totals, when it ends. */
  onDrop?: (event: { started: boolean; lines: number; bytes: number }) => void;
  /** Told once when writing fails (the reader went away); later text is dropped silently. */
  onError?: (error: unknown) => void;
}

/** A text stream written in the background through a bounded queue. */
export class BoundedOutput {
  readonly #write: (bytes: Uint8Array) => Promise<number>;
  readonly #max: number;
  readonly #onDrop: BoundedOutputOptions["onDrop"];
  readonly #onError: BoundedOutputOptions["onError"];
  readonly #encoder = new TextEncoder();
  #queue: Uint8Array[] = [];
  #queued = 0;
  #droppedLines = 0;
  #droppedBytes = 0;
  #pumping = false;
  #broken = false;
  #idle: (() => void)[] = [];

  /**
   * Makes an output over an asynchronous writer.
   *
   * @param write writes some of the bytes, returning how many (like `Deno.stdout.write`)
   * @param options the bound and where to report drops and failures
   */
  constructor(write: (bytes: Uint8Array) => Promise<number>, options: BoundedOutputOptions = {}) {
    this.#write = write;
    this.#max = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.#onDrop = options.onDrop;
    this.#onError = options.onError;
  }

  /** Bytes waiting to be written. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /**
   * Queues text; drops it when the queue is full (or the reader went away).
   * Never waits.
   *
   * @param text the text, with its line ends
   */
  write(text: string): void {
    if (this.#broken || text === "") return;
    const bytes = this.#encoder.encode(text);
    if (this.#queued + bytes.length > this.#max) {
      if (this.#droppedLines === 0) this.#onDrop?.({ started: true, lines: 0, bytes: 0 });
      this.#droppedLines += Math.max(1, countLines(text));
      this.#droppedBytes += bytes.length;
      return;
    }
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (!this.#pumping) this.#pump();
  }

  /** Resolves once everything queued was written (or dropped because writing failed). */
  flush(): Promise<void> {
    if (!this.#pumping) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      for (;;) {
        const chunk = this.#queue.shift();
        if (chunk === undefined) break;
        let done = 0;
        while (done < chunk.length) done += await this.#write(chunk.subarray(done));
        this.#queued -= chunk.length;
        if (this.#queue.length === 0 && this.#droppedLines > 0) {
          // Caught up: say what was lost.
          const lines = this.#droppedLines, bytes = this.#droppedBytes;
          this.#droppedLines = 0;
          this.#droppedBytes = 0;
          this.#onDrop?.({ started: false, lines, bytes });
        }
      }
    } catch (e) {
      this.#broken = true;
      this.#queue = [];
      this.#queued = 0;
      this.#onError?.(e);
    } finally {
      this.#pumping = false;
      for (const w of this.#idle.splice(0)) w();
    }
  }
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}
