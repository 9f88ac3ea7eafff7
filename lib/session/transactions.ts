/**
 * Transactions in flight on one connection (RFC 4975 §7.1, §7.1.1, §7.2).
 *
 * A request and its response share a transaction id; responses come back on
 * the connection the request went out on, so each connection keeps its own
 * table. With Failure-Report `yes` the sender starts a 30-second timer once
 * the last byte of the request is written and treats silence as a local 408.
 * A response to an id that is not in the table is ignored (and logged by
 * the connection). The timers share one clock timer (`timer_queue.ts`).
 *
 * @module
 */

import type { MsrpResponse } from "../wire/frame.ts";
import type { Clock } from "./clock.ts";
import { type QueuedTimer, TimerQueue } from "./timer_queue.ts";

/** What to do when a transaction ends. */
export interface TransactionHandler {
  /** A response arrived. */
  onResponse(response: MsrpResponse): void;
  /** The timer ran out (only when the timer was started with `failOnTimeout`). */
  onTimeout(): void;
}

interface Entry<H extends TransactionHandler> {
  /** The id it is registered under now. */
  tid: string;
  readonly handler: H;
  timer: QueuedTimer | undefined;
  failOnTimeout: boolean;
  readonly table: TransactionTable<H>;
}

/**
 * How long a sender waits for the response to a request, counted from its
 * last byte: RFC 4975 §7.1.1 says 30 seconds ("SHOULD"), and RFC 4976
 * §6.4.1 gives a relay the same wait for its next hop.
 */
export const TRANSACTION_TIMEOUT_MS = 30_000;

/**
 * The pending transactions of one connection: an endpoint's requests
 * (`connection.ts`) or the requests a relay forwarded over it
 * (`lib/relay/transactions.ts`). The table and its timers are made on first
 * use, so an idle connection holds none. A relay passes the one
 * {@linkcode TimerQueue} of all its connections; an endpoint's table makes
 * its own.
 */
export class TransactionTable<H extends TransactionHandler = TransactionHandler> {
  readonly #clock: Clock | undefined;
  #timers: TimerQueue | undefined;
  readonly #timeoutMs: number;
  #entries: Map<string, Entry<H>> | undefined;
  /** Called after a transaction ended by a response, a timeout or `forget` (the writer's window). */
  onsettled: (() => void) | undefined;

  /**
   * Makes an empty table.
   *
   * @param timers a clock to make its own timer queue on, or a queue shared with other tables
   * @param timeoutMs how long to wait for a response after the last byte (§7.1.1: 30 s)
   */
  constructor(timers: Clock | TimerQueue, timeoutMs: number = TRANSACTION_TIMEOUT_MS) {
    if (timers instanceof TimerQueue) this.#timers = timers;
    else this.#clock = timers;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Whether a response is still owed to this transaction: its last byte was
   * written with Failure-Report `yes` and no response or timeout came yet.
   *
   * @param tid the transaction id
   */
  owesResponse(tid: string): boolean {
    return this.#entries?.get(tid)?.failOnTimeout === true;
  }

  /** Number of transactions waiting. */
  get size(): number {
    return this.#entries?.size ?? 0;
  }

  /**
   * The handler of a transaction waiting, without ending it.
   *
   * @param tid the transaction id
   */
  get(tid: string): H | undefined {
    return this.#entries?.get(tid)?.handler;
  }

  /**
   * Remembers a transaction before its first byte is written, so that even
   * an early response (say a 413 to a long chunk) finds it.
   *
   * @param tid the transaction id
   * @param handler what to do when it ends
   */
  add(tid: string, handler: H): void {
    this.#entries ??= new Map();
    this.#entries.set(tid, { tid, handler, timer: undefined, failOnTimeout: false, table: this });
  }

  /**
   * Starts the timer once the last byte is written (§7.1.1). With
   * `failOnTimeout` (Failure-Report yes) silence ends in `onTimeout`; without
   * it (partial) the entry is just forgotten after the same time.
   *
   * @param tid the transaction id
   * @param failOnTimeout whether silence is a failure
   */
  startTimer(tid: string, failOnTimeout: boolean): void {
    const entry = this.#entries?.get(tid);
    if (entry === undefined || entry.timer !== undefined) return;
    entry.failOnTimeout = failOnTimeout;
    this.#timers ??= new TimerQueue(this.#clock!);
    entry.timer = this.#timers.add(this.#timeoutMs, TransactionTable.#expire, entry);
  }

  /**
   * Hands a response to its transaction.
   *
   * @param response the response
   * @returns false when no transaction has that id
   */
  resolve(response: MsrpResponse): boolean {
    const entry = this.#take(response.tid);
    if (entry === undefined) return false;
    entry.handler.onResponse(response);
    this.onsettled?.();
    return true;
  }

  /**
   * The encoder replaced an id (§7.1: the body contained the end-line), so
   * the response will carry the new one.
   *
   * @param from the id the transaction was registered under
   * @param to the id written on the wire
   */
  rename(from: string, to: string): void {
    const entry = this.#entries?.get(from);
    if (entry === undefined) return;
    this.#entries!.delete(from);
    entry.tid = to;
    this.#entries!.set(to, entry);
  }

  /**
   * Forgets a transaction without calling it back.
   *
   * @param tid the transaction id
   */
  forget(tid: string): void {
    if (this.#take(tid) !== undefined) this.onsettled?.();
  }

  /**
   * Removes every transaction and its timer, and returns their handlers
   * (uncalled): the connection is gone and the caller fails them.
   */
  takeAll(): H[] {
    const entries = this.#entries;
    if (entries === undefined) return [];
    const handlers: H[] = [];
    for (const entry of entries.values()) handlers.push(entry.handler);
    this.clear();
    return handlers;
  }

  /** Clears every entry and its timer (the connection is gone); handlers are not called. */
  clear(): void {
    const entries = this.#entries;
    if (entries === undefined) return;
    this.#entries = undefined;
    const timers = this.#timers;
    if (timers === undefined) return;
    if (this.#clock !== undefined) timers.clear(); // its own queue
    else for (const entry of entries.values()) timers.cancel(entry.timer);
  }

  #take(tid: string): Entry<H> | undefined {
    const entries = this.#entries;
    const entry = entries?.get(tid);
    if (entry === undefined) return undefined;
    entries!.delete(tid);
    this.#timers?.cancel(entry.timer);
    return entry;
  }

  /** The one timeout callback of every table, so that starting a timer makes no closure. */
  static readonly #expire = <T extends TransactionHandler>(entry: Entry<T>): void => {
    const table = entry.table;
    if (table.#entries?.get(entry.tid) !== entry) return;
    table.#entries!.delete(entry.tid);
    if (entry.failOnTimeout) entry.handler.onTimeout();
    table.onsettled?.();
  };
}
