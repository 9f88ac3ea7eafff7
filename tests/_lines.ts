// A child process's output as lines, for the tests that run the msrp command.

/** Collects a stream's lines and lets a test wait for the one it needs. */
export class Lines {
  readonly lines: string[] = [];
  /** Everything read, as it came. */
  text = "";
  #waiters: { test: (line: string) => boolean; resolve: (l: string | undefined) => void }[] = [];
  #ended = false;
  /** Settles at the end of the stream. */
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.#pump(stream);
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let pending = "";
    for await (const t of stream.pipeThrough(new TextDecoderStream())) {
      this.text += t;
      pending += t;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        this.#push(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    }
    if (pending !== "") this.#push(pending);
    this.#ended = true;
    for (const w of this.#waiters) w.resolve(undefined);
    this.#waiters = [];
  }

  #push(line: string): void {
    this.lines.push(line);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.test(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  /** The first line (already seen or to come) that passes `test`; undefined at end of stream. */
  waitFor(test: (line: string) => boolean): Promise<string | undefined> {
    const seen = this.lines.find(test);
    if (seen !== undefined || this.#ended) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }
}
