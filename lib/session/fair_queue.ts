/**
 * The rules of one fair writer per connection, shared by endpoints
 * (`scheduler.ts`) and the relay (`lib/relay/outbound.ts`)
 * (RFC 4975 §5.1, §7.1, §7.1.1; RFC 4976 §6.4.1).
 *
 * A chunk being written occupies the connection until its end-line, so one
 * place decides what goes next. {@linkcode FairQueue} holds what waits and
 * answers that question; it writes nothing itself (sans-I/O), so the
 * endpoint's pull loop and the relay's batching loop apply the same rules:
 *
 * 1. **Control frames first.** Responses, REPORTs and other whole requests
 *    wait in a FIFO and go before any SEND data. An open chunk is ended
 *    (`+`) first: §7.1.1 "SEND requests larger than 2048 octets MUST be
 *    interrupted if the sender needs to send pending responses or REPORT
 *    requests."
 * 2. **Fair turns between flows.** SEND data is queued in flows (an
 *    endpoint's session; a message the relay forwards). §7.1.1: "If
 *    multiple SEND requests from different sessions are concurrently being
 *    sent over the same connection, the device SHOULD implement some scheme
 *    to alternate between them." Flows take turns round robin; a turn ends
 *    with its chunk, and an open chunk is ended once it has written
 *    `quantum` octets while another flow waits, or when it has nothing to
 *    write while another has. Within a flow, items either take turns too
 *    (the messages of one session) or go strictly in order (the chunks of
 *    one message through a relay, so the next hop gets its bytes in order).
 * 3. **Bounded bytes in flight.** Once `window` octets of SEND chunks were
 *    written whose response is still owed (§7.1.1: with Failure-Report
 *    `yes` each chunk gets one; through a relay from the first hop as soon
 *    as it has the chunk, RFC 4976 §6.4.1), the open chunk is ended and no
 *    new one starts until responses come back. Otherwise the socket buffers
 *    between the hops (megabytes on loopback) fill with one file's chunks,
 *    and a short message of another flow, however fairly scheduled here,
 *    waits behind all of them downstream. Control frames are never held
 *    back by the window. The window can be counted in time
 *    (`windowTime`): the octets that drain in `targetMs` at the best rate
 *    the writer has been able to write in the last few sample periods
 *    (which, while the window holds it back, is the rate answers come
 *    back), between `min` and `window`. A short
 *    message then waits about `targetMs` behind a file at any speed, and a
 *    fast path gets a window large enough to keep it busy.
 *
 * @module
 */

/** What the writer should do next: see {@linkcode FairQueue.next}. */
export type WriterStep = "control" | "piece" | "end" | "wait";

/** Options of a {@linkcode FairQueue}. */
export interface FairQueueOptions<T> {
  /**
   * Octets an open chunk may write in its turn while another flow waits,
   * before it is ended. 0 (the default): one piece per turn.
   */
  quantum?: number;
  /**
   * Octets of SEND chunks written and not yet answered before the writer
   * holds off; with `windowTime`, the most the window grows to. Default:
   * unbounded.
   */
  window?: number;
  /** Count the window in time; see {@linkcode WindowTime}. */
  windowTime?: WindowTime;
  /**
   * Whether the response to a chunk recorded with `token` (see
   * {@linkcode FairQueue.wrote}) is still owed. Default: never owed.
   */
  owed?: (token: unknown) => boolean;
  /** Whether an item has something to write now. Default: always (the item is pulled). */
  ready?: (item: T) => boolean;
  /** Items of one flow take turns (true, the default) or go in order (false). */
  itemsTakeTurns?: boolean;
}

/** A window counted in time: octets in flight ≈ the write rate × `targetMs`. */
export interface WindowTime {
  /** How long the octets in flight may take to drain. */
  readonly targetMs: number;
  /** The smallest window, octets (no more than `window`). */
  readonly min: number;
  /** Milliseconds since an arbitrary origin (a `Clock`'s `now`). */
  now(): number;
}

/** Defaults of an endpoint's and a relay's window in time: 10 ms of data, at least 256 KiB. */
export const WINDOW_TARGET_MS = 10;
/** See {@linkcode WINDOW_TARGET_MS}. */
export const WINDOW_MIN_BYTES = 256 * 1024;
/** Sample periods the window in time remembers: it follows the best rate among them. */
export const RATE_SAMPLES = 8;

interface Flow<T> {
  readonly key: unknown;
  readonly items: T[];
}

interface InFlight {
  readonly token: unknown;
  readonly bytes: number;
}

/**
 * The queue and turn rules of one connection's writer, for control frames
 * of type `C` and SEND items (messages, forwarded chunks) of type `T`.
 */
export class FairQueue<C, T> {
  /** Octets an open chunk may write in its turn while another flow waits (may be changed). */
  quantum: number;
  /** Octets in flight before the writer holds off (may be changed). */
  window: number;
  readonly #owed: (token: unknown) => boolean;
  readonly #ready: (item: T) => boolean;
  readonly #takeTurns: boolean;
  #control: C[] = [];
  #controlHead = 0;
  /** Flows in the order of their next turn. */
  #flows: Flow<T>[] = [];
  #active: T | undefined;
  #activeFlow: Flow<T> | undefined;
  /** Octets the active item wrote in this turn. */
  #activeBytes = 0;
  /** A chunk of the active item is open: it must end before anything else is written. */
  #open = false;
  /** Octets of the open chunk written so far (in flight, answer owed once it ends). */
  #chunkBytes = 0;
  /** Chunks whose answer may be owed, oldest first, from `#inFlightHead`. */
  #inFlight: InFlight[] = [];
  #inFlightHead = 0;
  #inFlightBytes = 0;
  #items = 0;
  #time: WindowTime | undefined;
  /** The window now: `window`, or the window in time. */
  #limit: number;
  #sampleStart = 0;
  #sampleBytes = 0;
  /** What drained in the target time in each of the last `RATE_SAMPLES` periods, newest last. */
  #drained: number[] = [];

  /**
   * Makes an empty queue.
   *
   * @param options quantum, window, readiness and order within a flow
   */
  constructor(options: FairQueueOptions<T> = {}) {
    this.quantum = options.quantum ?? 0;
    this.window = options.window ?? Infinity;
    this.#owed = options.owed ?? (() => false);
    this.#ready = options.ready ?? (() => true);
    this.#takeTurns = options.itemsTakeTurns ?? true;
    this.#limit = this.window;
    this.countWindowInTime(options.windowTime);
  }

  /**
   * Counts the window in time from now on (or not, with `undefined`); it
   * starts at the smallest window.
   *
   * @param time the target, the smallest window and the clock
   */
  countWindowInTime(time: WindowTime | undefined): void {
    this.#time = time;
    this.#limit = this.window;
    if (time === undefined) return;
    this.#limit = Math.min(time.min, this.window);
    this.#sampleStart = time.now();
    this.#sampleBytes = 0;
    this.#drained = [];
  }

  /** The window now, octets: `window`, or what the window in time allows. */
  get windowNow(): number {
    return this.#time === undefined ? this.window : Math.min(this.#limit, this.window);
  }

  /** The item whose turn it is (its chunk may be open). */
  get active(): T | undefined {
    return this.#active;
  }

  /** True when a chunk of the active item is open on the wire. */
  get open(): boolean {
    return this.#open;
  }

  /** Control frames waiting. */
  get controlWaiting(): number {
    return this.#control.length - this.#controlHead;
  }

  /** True when nothing is queued and no item has its turn. */
  get idle(): boolean {
    return this.controlWaiting === 0 && this.#active === undefined && this.#items === 0;
  }

  /** SEND items queued or active. */
  get items(): number {
    // Items taking turns leave their flow while active; in-order ones stay at its head.
    return this.#items + (this.#takeTurns && this.#active !== undefined ? 1 : 0);
  }

  /** Octets written in SEND chunks whose response may still be owed (the open chunk included). */
  get inFlight(): number {
    return this.#inFlightBytes + this.#chunkBytes;
  }

  /** Every SEND item queued or active, the active one first. */
  *all(): IterableIterator<T> {
    const a = this.#active;
    if (a !== undefined) yield a;
    for (const f of this.#flows) {
      for (const item of f.items) if (item !== a) yield item;
    }
  }

  /**
   * Queues a control frame: it goes before all SEND data (§7.1.1).
   *
   * @param frame a response, a REPORT or another whole request
   */
  control(frame: C): void {
    this.#control.push(frame);
  }

  /** Takes the control frame that {@linkcode next} said goes now. */
  takeControl(): C {
    const frame = this.#control[this.#controlHead];
    this.#control[this.#controlHead++] = undefined as C;
    if (this.#controlHead === this.#control.length) {
      this.#control.length = 0;
      this.#controlHead = 0;
    } else if (this.#controlHead >= 1024 && this.#controlHead * 2 >= this.#control.length) {
      this.#control = this.#control.slice(this.#controlHead);
      this.#controlHead = 0;
    }
    return frame;
  }

  /**
   * Queues a SEND item in the flow `key` (created at the end of the turn order).
   *
   * @param key names the flow (a session; a forwarded message)
   * @param item the item
   */
  add(key: unknown, item: T): void {
    let flow: Flow<T> | undefined;
    for (const f of this.#flows) {
      if (f.key === key) {
        flow = f;
        break;
      }
    }
    if (flow === undefined) {
      flow = { key, items: [] };
      this.#flows.push(flow);
    }
    flow.items.push(item);
    this.#items++;
  }

  /**
   * Removes an item that has nothing more to write (ended, aborted or
   * dropped), whether it is queued or has the turn.
   *
   * @param item the item
   */
  remove(item: T): void {
    if (this.#active === item) {
      this.#active = undefined;
      this.#open = false;
      this.#chunkBytes = 0;
      const flow = this.#activeFlow!;
      this.#activeFlow = undefined;
      if (!this.#takeTurns) this.#drop(flow, item);
      this.#rotate(flow);
      return;
    }
    for (const f of this.#flows) {
      if (this.#drop(f, item)) return;
    }
  }

  /**
   * Drops a flow: its queued items are not written any more. An item with
   * an open chunk keeps its turn until the chunk ends.
   *
   * @param key the flow
   */
  removeFlow(key: unknown): void {
    const i = this.#flows.findIndex((f) => f.key === key);
    if (i < 0) return;
    const flow = this.#flows[i];
    this.#flows.splice(i, 1);
    const kept = !this.#takeTurns && this.#activeFlow === flow ? 1 : 0;
    this.#items -= flow.items.length - kept;
    flow.items.length = kept;
    if (this.#activeFlow === flow) this.#activeFlow = { key: undefined, items: flow.items };
  }

  /** Drops everything (the connection is gone); the answers owed are forgotten too. */
  clear(): void {
    this.#control = [];
    this.#controlHead = 0;
    this.#flows = [];
    this.#active = undefined;
    this.#activeFlow = undefined;
    this.#open = false;
    this.#chunkBytes = 0;
    this.#items = 0;
    this.#inFlight = [];
    this.#inFlightHead = 0;
    this.#inFlightBytes = 0;
  }

  /**
   * What the writer does next:
   * - `"control"`: write {@linkcode takeControl};
   * - `"end"`: end the open chunk of {@linkcode active} now with `+`
   *   (§7.1.1), then report it with `wrote(0, true, ...)`;
   * - `"piece"`: write the next piece of {@linkcode active}, and report it
   *   with {@linkcode wrote} (or {@linkcode remove} it when it has nothing
   *   more); {@linkcode othersWaiting} says whether to end the chunk with it;
   * - `"wait"`: nothing can go now; ask again when something is queued, an
   *   item becomes ready or a response settles the window.
   */
  next(): WriterStep {
    if (this.controlWaiting > 0) return this.#open ? "end" : "control";
    const a = this.#active;
    if (a !== undefined) {
      if (this.#open) {
        if (this.#windowFull()) return "end";
        const ready = this.#ready(a);
        const rival = this.#rival();
        if (rival && (this.#activeBytes >= this.quantum || !ready)) return "end";
        return ready ? "piece" : "wait";
      }
      // The chunk is closed: the connection is free, the turn passes.
      this.#passTurn();
    }
    if (this.#windowFull()) return "wait";
    for (let i = 0; i < this.#flows.length; i++) {
      const flow = this.#flows[i];
      const head = flow.items[0];
      if (head === undefined || !this.#ready(head)) continue;
      if (this.#takeTurns) {
        flow.items.shift();
        this.#items--;
      }
      this.#active = head;
      this.#activeFlow = flow;
      this.#activeBytes = 0;
      return "piece";
    }
    return "wait";
  }

  /**
   * Whether other traffic waits for the connection: a control frame, or
   * another flow (or item of the active flow, when items take turns) with
   * something to write. A piece written while others wait should end its
   * chunk once the chunk is over 2048 octets (§7.1.1).
   */
  othersWaiting(): boolean {
    return this.controlWaiting > 0 || this.#rival();
  }

  /**
   * The active item wrote a piece of `bytes` body octets (0 for an
   * end-line alone). When it ended its chunk, `token` names the chunk for
   * the window: its octets stay in flight while `owed(token)` holds.
   *
   * @param bytes body octets written
   * @param ended whether the piece carried the chunk's end-line
   * @param token names the chunk's transaction, once ended
   */
  wrote(bytes: number, ended: boolean, token?: unknown): void {
    this.#activeBytes += bytes;
    this.#chunkBytes += bytes;
    if (this.#time !== undefined) this.#measure(bytes);
    if (!ended) {
      this.#open = true;
      return;
    }
    this.#open = false;
    if (this.window !== Infinity && this.#chunkBytes > 0 && token !== undefined) {
      this.#inFlight.push({ token, bytes: this.#chunkBytes });
      this.#inFlightBytes += this.#chunkBytes;
    }
    this.#chunkBytes = 0;
  }

  /**
   * Counts octets written; once per sample period (twice the target) the
   * window becomes what drains in the target time at the best rate of the
   * last {@linkcode RATE_SAMPLES} periods (a windowed maximum, as TCP BBR
   * estimates bandwidth): it grows at once, and a pause (a GC, a busy or
   * descheduled peer) does not close it; a rate that stays lower shrinks it
   * once the faster periods have aged out.
   */
  #measure(bytes: number): void {
    const time = this.#time!;
    this.#sampleBytes += bytes;
    const now = time.now();
    const elapsed = now - this.#sampleStart;
    if (elapsed < 2 * time.targetMs) return;
    const drained = this.#drained;
    drained.push((this.#sampleBytes / elapsed) * time.targetMs);
    if (drained.length > RATE_SAMPLES) drained.shift();
    const min = Math.min(time.min, this.window);
    this.#limit = Math.min(this.window, Math.max(min, ...drained));
    this.#sampleStart = now;
    this.#sampleBytes = 0;
  }

  /**
   * Whether the window is full, after forgetting the oldest chunks that
   * were answered. Answers come back in the order the chunks went (one
   * connection, one next hop), so only the head is looked at: a chunk
   * answered out of order counts until those before it are answered.
   */
  #windowFull(): boolean {
    if (this.#inFlightBytes + this.#chunkBytes < this.windowNow) return false;
    const list = this.#inFlight;
    let head = this.#inFlightHead;
    while (head < list.length && !this.#owed(list[head].token)) {
      this.#inFlightBytes -= list[head].bytes;
      head++;
    }
    if (head === list.length) {
      list.length = 0;
      head = 0;
    } else if (head >= 1024 && head * 2 >= list.length) {
      list.splice(0, head);
      head = 0;
    }
    this.#inFlightHead = head;
    return this.#inFlightBytes + this.#chunkBytes >= this.windowNow;
  }

  #rival(): boolean {
    const active = this.#activeFlow;
    for (const f of this.#flows) {
      if (f === active) {
        if (this.#takeTurns) {
          for (const item of f.items) if (this.#ready(item)) return true;
        }
        continue;
      }
      const head = f.items[0];
      if (head !== undefined && this.#ready(head)) return true;
    }
    return false;
  }

  /** The active item's turn is over; it goes back to its flow, which goes to the end of the order. */
  #passTurn(): void {
    const item = this.#active!;
    const flow = this.#activeFlow!;
    this.#active = undefined;
    this.#activeFlow = undefined;
    if (this.#takeTurns && flow.key !== undefined && this.#flows.includes(flow)) {
      flow.items.push(item);
      this.#items++;
    }
    this.#rotate(flow);
  }

  /** Moves a flow to the end of the turn order, or drops it when it is empty. */
  #rotate(flow: Flow<T>): void {
    const i = this.#flows.indexOf(flow);
    if (i < 0) return;
    this.#flows.splice(i, 1);
    if (flow.items.length > 0) this.#flows.push(flow);
  }

  #drop(flow: Flow<T>, item: T): boolean {
    const i = flow.items.indexOf(item);
    if (i < 0) return false;
    flow.items.splice(i, 1);
    this.#items--;
    if (flow.items.length === 0 && this.#activeFlow !== flow) this.#rotate(flow);
    return true;
  }
}
