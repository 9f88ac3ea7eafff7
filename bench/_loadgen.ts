/**
 * A lean, independent MSRP load generator for relays (RFC 4976 §5.1, §6.4;
 * RFC 4975 §7.1, §7.2, §7.3.1), so that a relay's figures are the relay's,
 * not the generator's.
 *
 * Pairs of clients on raw TCP sockets, each client authenticated to the
 * relay (AUTH with Digest), A sending to B over the path
 * `relay/sidA relay/sidB B`. The data path is hand-rolled
 * (`_loadgen_worker.ts`): SEND chunks encoded straight into one buffer,
 * a minimal scanner for responses and SENDs, every byte checked at B, a
 * window of chunks in flight per pair, and the time from sending a message
 * to its last byte at B (for the p99 latency). The pairs are spread over
 * `workers` Worker threads, each with its own event loop.
 *
 * ```ts ignore
 * const gen = await LoadGenerator.start({
 *   relayUri: "msrp://localhost:2855;tcp",
 *   pairs: 50,
 *   kind: "messages",
 *   users: { a: ["alice", "alice-secret"], b: ["bob", "bob-secret"] },
 * });
 * const { ms, messages, latencies } = await gen.run(10_000);
 * await gen.close();
 * ```
 *
 * Bench code only: nothing in `lib/` imports it.
 *
 * @module
 */

import type { WorkerReply, WorkerRequest } from "./_loadgen_worker.ts";

/** What {@linkcode LoadGenerator.start} needs. */
export interface LoadOptions {
  /** The relay's URI, as clients put it in To-Path (`msrp://host:port;tcp`). */
  relayUri: string;
  /** Pairs of clients (each two connections, two AUTHs). */
  pairs: number;
  /** 100-byte messages (one chunk each) or 1 MB messages in chunks. */
  kind: "messages" | "bulk";
  /** Users for A and B: [name, password]. */
  users: { a: [string, string]; b: [string, string] };
  /** Message size (default 100 for messages, 1 000 000 for bulk). */
  messageSize?: number;
  /** Chunk size (default 8192; a 100-byte message is one chunk). */
  chunkSize?: number;
  /** Chunks in flight per pair (default 32). */
  window?: number;
  /** Worker threads (default: min(pairs, 2)). */
  workers?: number;
}

/** What one {@linkcode LoadGenerator.run} measured. */
export interface LoadRun {
  /** From the first send to the last byte at B, over all workers. */
  ms: number;
  /** Messages delivered. */
  messages: number;
  /** Send-to-arrival times of every message, ms (message shapes). */
  latencies: number[];
}

class WorkerHandle {
  readonly #worker: Worker;
  #waiting: ((m: WorkerReply) => void) | undefined;

  constructor() {
    this.#worker = new Worker(new URL("./_loadgen_worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.#worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      const w = this.#waiting;
      this.#waiting = undefined;
      w?.(e.data);
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      const w = this.#waiting;
      this.#waiting = undefined;
      w?.({ op: "error", error: e.message });
    };
  }

  ask(m: WorkerRequest): Promise<WorkerReply> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#worker.postMessage(m);
    });
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

/** Pairs of clients through one relay, spread over worker threads. */
export class LoadGenerator {
  readonly #workers: { handle: WorkerHandle; pairs: number }[];
  #runs = 0;

  private constructor(workers: { handle: WorkerHandle; pairs: number }[]) {
    this.#workers = workers;
  }

  /**
   * Connects and authenticates every client.
   *
   * @param options the relay, the pairs, the shape
   */
  static async start(options: LoadOptions): Promise<LoadGenerator> {
    const m = /^msrp:\/\/([^:/;]+):(\d+)/.exec(options.relayUri);
    if (m === null) throw new Error(`not a plain msrp URI with a port: ${options.relayUri}`);
    const host = m[1] === "localhost" ? "127.0.0.1" : m[1];
    const n = Math.max(1, Math.min(options.pairs, options.workers ?? 2));
    const workers = Array.from({ length: n }, (_, i) => ({
      handle: new WorkerHandle(),
      pairs: Math.floor(options.pairs / n) + (i < options.pairs % n ? 1 : 0),
    }));
    const gen = new LoadGenerator(workers);
    const bulk = options.kind === "bulk";
    const replies = await Promise.all(workers.map((w) =>
      w.handle.ask({
        op: "setup",
        relayUri: options.relayUri,
        hostname: host,
        port: Number(m[2]),
        users: options.users,
        pairs: w.pairs,
        kind: options.kind,
        messageSize: options.messageSize ?? (bulk ? 1_000_000 : 100),
        chunkSize: options.chunkSize ?? (bulk ? 8192 : options.messageSize ?? 100),
        window: options.window ?? 32,
      })
    ));
    const failed = replies.find((r) => r.op === "error");
    if (failed !== undefined) {
      await gen.close();
      throw new Error(`load generator setup: ${(failed as { error: string }).error}`);
    }
    return gen;
  }

  /**
   * Sends `messages` messages, shared out among the pairs, and waits until
   * every one is at B and every chunk was answered.
   *
   * @param messages how many in all
   * @param limitMs a run not done by then fails
   */
  async run(messages: number, limitMs = 20_000): Promise<LoadRun> {
    const pairs = this.#workers.reduce((n, w) => n + w.pairs, 0);
    const each = Math.max(1, Math.round(messages / pairs));
    const runNo = this.#runs++ % 10;
    const replies = await Promise.all(
      this.#workers.map((w) => w.handle.ask({ op: "run", messagesPerPair: each, runNo, limitMs })),
    );
    let t0 = Infinity;
    let t1 = -Infinity;
    let delivered = 0;
    const latencies: number[] = [];
    for (const r of replies) {
      if (r.op !== "done") throw new Error(`load generator: ${JSON.stringify(r)}`);
      if (r.error !== undefined) throw new Error(r.error);
      t0 = Math.min(t0, r.t0);
      t1 = Math.max(t1, r.t1);
      delivered += r.messages;
      for (const l of r.latencies) latencies.push(l);
    }
    return { ms: t1 - t0, messages: delivered, latencies };
  }

  /** Closes every connection and ends the workers. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map(async (w) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise((r) => timer = setTimeout(r, 2000));
      await Promise.race([w.handle.ask({ op: "close" }), timeout]);
      clearTimeout(timer);
      w.handle.terminate();
    }));
  }
}
