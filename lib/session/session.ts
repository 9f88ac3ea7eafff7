/**
 * An MSRP session: what an application sends and receives
 * (RFC 4975 §5.4, §7.1.1-§7.1.4, §7.2, §7.3.1, §7.3.2, §8.6).
 *
 * A session is named by two paths exchanged in SDP: our URI, which the peer
 * puts in its To-Path, and the peer's path, which we put in ours. It runs
 * over one {@linkcode MsrpConnection}, which it may share with other
 * sessions.
 *
 * Sending: `send(body)` cuts the body into chunks ({@linkcode OutgoingMessage})
 * that the connection's scheduler writes in fair turns, and resolves once
 * the peer has confirmed what the sender asked to be confirmed.
 *
 * Receiving: every SEND chunk is checked (Message-ID, Byte-Range,
 * Content-Type against accept-types: 415; against max-size: 413), answered
 * as the Failure-Report table says (see `reports.ts`), and its bytes put
 * into the right {@linkcode IncomingMessage}, which `messages()` yields as
 * soon as its first chunk arrives. Success REPORTs are sent when asked for.
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import { isAcceptable } from "../wire/media_types.ts";
import type { MsrpRequest, MsrpResponse } from "../wire/frame.ts";
import { HeaderList } from "../wire/header_list.ts";
import {
  type ByteRange,
  type FailureReport,
  formatPath,
  getByteRange,
  getContentType,
  getFailureReport,
  getMessageId,
  getStatus,
  getSuccessReport,
  parsePath,
  type SuccessReport,
} from "../wire/headers.ts";
import { newMessageId, newTransactionId } from "../wire/ids.ts";
import { MsrpUri } from "../wire/uri.ts";
import { bodySource, defaultContentType, type MessageBody } from "./body_source.ts";
import type { MsrpConnection } from "./connection.ts";
import { PORTS, type SessionPort } from "./internal.ts";
import {
  type ChunkingOptions,
  MsrpSendError,
  OutgoingMessage,
  type SendProgress,
  type SendResult,
} from "./outgoing.ts";
import { IncomingMessage, type IncomingOptions } from "./reassembly.ts";
import { reportsLateFailure, responseFor, wantsSuccessReport } from "./reports.ts";

/** Options of an {@linkcode MsrpSession}. */
export interface SessionOptions {
  /** Our URI in this session (what we put in SDP `a=path`, §8.2). */
  localUri: MsrpUri | string;
  /**
   * Where our requests go: the To-Path (§7.1). For a direct session, the
   * peer's `a=path`; through relays, our relays' URIs then the peer's path.
   * May be given later with {@linkcode MsrpSession.setRemotePath}.
   */
  remotePath?: readonly (MsrpUri | string)[];
  /** Media types we accept (SDP `a=accept-types`, §8.6). Default `["*"]`. */
  acceptTypes?: readonly string[];
  /** Largest message we accept in octets (SDP `a=max-size`); larger ones get 413. Default 1 GiB. */
  maxSize?: number;
  /** Success REPORTs we owe: one per `message` once complete, or one per `chunk`. Default `message`. */
  successReports?: "message" | "chunk";
  /** How long a send asking for a success REPORT waits for it. Default 120000 ms. */
  reportTimeout?: number;
  /** Whether a request's From-Path must end in the peer's URI. Default true. */
  checkFromPath?: boolean;
  /** How outgoing messages are cut into chunks. */
  chunking?: ChunkingOptions;
  /** Buffer limits of incoming messages. */
  incoming?: IncomingOptions;
  /** Most messages held for the application before reading waits. Default 256. */
  maxQueuedMessages?: number;
  /** Most messages being received at once; more get 413. Default 64. */
  maxConcurrentMessages?: number;
  /**
   * How long a message being received may go without a new octet before it
   * fails: reads end in `message-timeout`, the sender gets 408 (a response
   * to an open chunk, else a failure REPORT as §7.1.4 asks), and its slot
   * among `maxConcurrentMessages` frees up. Time the application holds
   * reading back does not count. Default 120000 ms.
   */
  incompleteTimeout?: number;
}

/** Options of one {@linkcode MsrpSession.send}. */
export interface SendOptions {
  /** Content-Type. Default: text for strings, the Blob's type, else application/octet-stream. */
  contentType?: string;
  /** The Message-ID; default a new random one. Resending after a failure reuses the old one (§5.4). */
  messageId?: string;
  /** Ask for success REPORTs (§7.1.3). Default false. */
  successReport?: boolean;
  /** Failure-Report (§7.1.1). Default `yes`. */
  failureReport?: FailureReport;
  /** Extra MIME header fields for every chunk: Content-ID, Content-Description, Content-Disposition. */
  headers?: readonly (readonly [string, string])[];
  /** Declared size of a stream body, when known. */
  size?: number;
  /** Aborts the send: the open chunk ends with `#` (§7.1). */
  signal?: AbortSignal;
  /** Called as octets go out and are confirmed. */
  onProgress?: (progress: SendProgress) => void;
}

/** How a session ended. */
export interface SessionEnd {
  /** The error that ended it (a lost connection, a refused bind), if any. */
  readonly error?: unknown;
}

/** The default largest chunk on a direct connection (§7.1.1: the peer accepts any size). */
const DIRECT_MAX_CHUNK = 1024 * 1024;
/** The default largest chunk through relays: deployed relays commonly drop frames over ~10 KB. */
const RELAYED_MAX_CHUNK = 8 * 1024;

function toUri(u: MsrpUri | string): MsrpUri {
  return typeof u === "string" ? MsrpUri.parse(u) : u;
}

/** Remembers recent Message-IDs to spot duplicates (§5.4), within a bounded memory. */
class RecentIds {
  #ids = new Set<string>();
  constructor(readonly limit: number) {}
  has(id: string): boolean {
    return this.#ids.has(id);
  }
  add(id: string): void {
    this.#ids.delete(id);
    this.#ids.add(id);
    if (this.#ids.size > this.limit) this.#ids.delete(this.#ids.values().next().value!);
  }
}

/** The chunk being received on this session. */
interface Receiving {
  readonly tid: string;
  readonly request: MsrpRequest; // its first piece: headers for responses and REPORTs
  readonly message: IncomingMessage | undefined; // undefined: refused, pieces dropped
  readonly start: number; // 0-based offset of the chunk in the message
  readonly failureReport: FailureReport;
  readonly successReport: SuccessReport;
}

/** One MSRP session. */
export class MsrpSession {
  /** Our URI in the session. */
  readonly localUri: MsrpUri;
  /** Resolves once the session is bound to a connection and (active side) the binding SEND got its 200. */
  readonly ready: Promise<void>;
  /** Resolves when the session has ended. */
  readonly closed: Promise<SessionEnd>;

  #remotePath: MsrpUri[];
  readonly #options: SessionOptions;
  readonly #acceptTypes: readonly string[];
  readonly #maxSize: number;
  #connection: MsrpConnection | undefined;
  #ended = false;
  #resolveReady!: () => void;
  #rejectReady!: (e: unknown) => void;
  #resolveClosed!: (end: SessionEnd) => void;

  readonly #outgoing = new Map<string, OutgoingMessage>();
  readonly #incoming = new Map<string, IncomingMessage>();
  readonly #completed = new RecentIds(1024);
  /** Messages the application refused, and with what status: later chunks get it too. */
  readonly #refusedIds = new Map<string, [number, string]>();
  /** The last complete chunk of each message: what a failure REPORT reports on (§7.1.4). */
  readonly #lastChunk = new WeakMap<
    IncomingMessage,
    { request: MsrpRequest; start: number; end: number }
  >();
  #receiving: Receiving | undefined;
  /** When each message being received last got an octet, and its expiry timer. */
  readonly #idle = new Map<IncomingMessage, { last: number; timer: unknown }>();
  /** Reads of this session's messages that hold the connection back (back-pressure). */
  #pauses = 0;
  /** The Message-ID of our binding SEND: through relays a failure REPORT may follow the 200. */
  readonly #bindMessageId = newMessageId();
  /** Why the binding SEND was refused, once it was: later sends fail with it. */
  #refusal: { status: number; comment: string; error: MsrpError } | undefined;

  // The application's queue of incoming messages.
  #queue: IncomingMessage[] = [];
  #takers: ((m: IncomingMessage | undefined) => void)[] = [];
  #roomWaiters: (() => void)[] = [];

  /**
   * Makes a session. Bind it with {@linkcode MsrpConnection.attach} (the
   * side that connects) or put it in a {@linkcode SessionDirectory} (the
   * side that listens).
   *
   * @param options URIs, accepted types, limits
   */
  constructor(options: SessionOptions) {
    this.#options = options;
    this.localUri = toUri(options.localUri);
    this.#remotePath = (options.remotePath ?? []).map(toUri);
    this.#acceptTypes = options.acceptTypes ?? ["*"];
    this.#maxSize = options.maxSize ?? 1024 * 1024 * 1024;
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {});
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    PORTS.set(this, this.#port());
  }

  /** The peer's path (the To-Path of our requests). */
  get remotePath(): readonly MsrpUri[] {
    return this.#remotePath;
  }

  /** The connection the session is bound to, if any. */
  get connection(): MsrpConnection | undefined {
    return this.#connection;
  }

  /** True once the session has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Sets the peer's path, e.g. from the SDP answer.
   *
   * @param path the To-Path for our requests
   */
  setRemotePath(path: readonly (MsrpUri | string)[]): void {
    this.#remotePath = path.map(toUri);
  }

  /**
   * Sends the bodiless SEND that binds the session at the passive peer
   * (§5.4: "the active endpoint MUST immediately issue a SEND request").
   * `ready` resolves when it is answered with 200.
   */
  sendBindRequest(): void {
    const connection = this.#connection;
    if (connection === undefined) {
      throw new MsrpError("not-bound", "the session has no connection yet");
    }
    const tid = newTransactionId();
    const request: MsrpRequest = {
      kind: "request",
      tid,
      method: "SEND",
      headers: new HeaderList([
        ["To-Path", formatPath(this.#remotePath)],
        ["From-Path", this.localUri.toString()],
        ["Message-ID", this.#bindMessageId],
        ["Byte-Range", "1-0/0"], // §7.1.1: even empty content starts at 1
      ]),
      body: null,
      offset: 0,
      flag: "$",
    };
    connection.transactions.add(tid, {
      onResponse: (r: MsrpResponse) => {
        if (r.status === 200) return this.#resolveReady();
        const error = new MsrpError(
          "bind-refused",
          `the peer refused the session: ${r.status} ${r.comment}`.trim(),
        );
        this.#bindRefused(error, r.status, r.comment);
      },
      onTimeout: () => {
        const error = new MsrpError(
          "bind-timeout",
          "the peer did not answer the binding SEND (§5.4)",
        );
        this.#rejectReady(error);
        this.close(error);
      },
    });
    connection.scheduler.control(request);
    connection.transactions.startTimer(tid, true);
  }

  /**
   * Sends a message and resolves once the peer confirmed it (see
   * {@linkcode SendResult}); rejects with {@linkcode MsrpSendError} when it
   * fails, times out, is aborted, or the session ends first.
   *
   * @param body a string, bytes, a Blob or a stream of bytes
   * @param options content type, reports, abort signal, progress
   */
  async send(body: MessageBody, options: SendOptions = {}): Promise<SendResult> {
    const messageId = options.messageId ?? newMessageId();
    const closedError = () => {
      const why = this.#refusal;
      const result = {
        messageId,
        status: why?.status ?? 0,
        comment: why?.comment ?? "",
        bytesSent: 0,
        bytesConfirmed: 0,
        confirmedBy: "none",
      } as const;
      return why === undefined
        ? new MsrpSendError("closed", "the session is closed", result)
        : new MsrpSendError("rejected", "the session did not reach the peer", result, {
          cause: why.error,
        });
    };
    if (this.#ended) throw closedError();
    if (this.#connection === undefined) await this.ready; // the passive side waits for the peer's first request
    const connection = this.#connection;
    if (this.#ended || connection === undefined) throw closedError();
    const relayed = this.#remotePath.length > 1;
    const chunking = this.#options.chunking ?? {};
    const message = new OutgoingMessage(messageId, bodySource(body, options.size), {
      toPath: () => formatPath(this.#remotePath),
      fromPath: () => this.localUri.toString(),
      addTransaction: (tid, onResponse, onTimeout) =>
        connection.transactions.add(tid, { onResponse, onTimeout }),
      startTimer: (tid, failOnTimeout) => connection.transactions.startTimer(tid, failOnTimeout),
      startReportTimer: (onTimeout) => {
        const t = connection.clock.setTimer(onTimeout, this.#options.reportTimeout ?? 120_000);
        return () => connection.clock.clearTimer(t);
      },
    }, {
      contentType: options.contentType ?? defaultContentType(body),
      successReport: options.successReport ?? false,
      failureReport: options.failureReport ?? "yes",
      headers: options.headers ?? [],
      chunking: {
        maxChunkSize: chunking.maxChunkSize ?? (relayed ? RELAYED_MAX_CHUNK : DIRECT_MAX_CHUNK),
        fixedChunks: chunking.fixedChunks ?? false,
        wholeChunks: chunking.wholeChunks ?? connection.transport.frameAligned === true,
        pieceSize: chunking.pieceSize ?? 256 * 1024,
      },
    });
    message.onprogress = options.onProgress;
    this.#outgoing.set(messageId, message);
    const signal = options.signal;
    const onAbort = () =>
      message.fail("aborted", 0, "", `sending ${messageId} was aborted`, signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    connection.scheduler.enqueue(this, message);
    try {
      return await message.result;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#outgoing.delete(messageId);
    }
  }

  /**
   * Incoming messages, each as soon as its first chunk arrives. The
   * iteration ends when the session ends.
   */
  async *messages(): AsyncIterableIterator<IncomingMessage> {
    for (;;) {
      const m = await this.nextMessage();
      if (m === undefined) return;
      yield m;
    }
  }

  /** The next incoming message, or `undefined` once the session has ended. */
  nextMessage(): Promise<IncomingMessage | undefined> {
    const m = this.#queue.shift();
    if (m !== undefined) {
      this.#wakeRoom();
      return Promise.resolve(m);
    }
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#takers.push(resolve));
  }

  /**
   * Ends the session: sends in progress fail (an open chunk ends with `#`),
   * messages being received end incomplete, and `messages()` finishes.
   *
   * @param reason why, if it is an error
   */
  close(reason?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const m of this.#outgoing.values()) {
      m.fail("closed", 0, "", `the session closed before ${m.messageId} was delivered`, reason);
    }
    for (const m of this.#incoming.values()) m.cutOff();
    this.#incoming.clear();
    for (const { timer } of this.#idle.values()) this.#connection?.clock.clearTimer(timer);
    this.#idle.clear();
    for (const take of this.#takers) take(undefined);
    this.#takers = [];
    this.#wakeRoom();
    this.#connection?.detach(this);
    this.#rejectReady(reason ?? new MsrpError("session-closed", "the session was closed"));
    this.#resolveClosed(reason === undefined ? {} : { error: reason });
  }

  // ---- the connection's side ----

  #port(): SessionPort<MsrpConnection> {
    // deno-lint-ignore no-this-alias
    const session = this;
    return {
      localUri: this.localUri,
      get connection() {
        return session.#connection;
      },
      acceptsFrom: (fromPath, method) => this.#acceptsFrom(fromPath, method),
      bind: (connection) => this.#bind(connection),
      receive: (request) => this.#paused(this.#receive(request)),
      lost: (error) =>
        this.close(error ?? new MsrpError("connection-closed", "the connection closed")),
    };
  }

  #bind(connection: MsrpConnection): void {
    this.#connection = connection;
  }

  #acceptsFrom(fromPath: readonly MsrpUri[], method: string): boolean {
    if (this.#options.checkFromPath === false || this.#remotePath.length === 0) return true;
    if (fromPath.length === 0) return false;
    // The original sender is the last From-Path URI; relays come before it (RFC 4976 §6.4).
    const sender = fromPath[fromPath.length - 1];
    const path = this.#remotePath;
    if (sender.equals(path[path.length - 1])) return true;
    // A relay on our path may report a failure to us (RFC 4976 §6.4.1).
    return method === "REPORT" && path.some((hop) => hop.equals(sender));
  }

  /**
   * While the connection waits for our application to read, nothing can
   * arrive: that time does not count against `incompleteTimeout`.
   */
  #paused(wait: Promise<void> | undefined): Promise<void> | undefined {
    if (wait === undefined) return undefined;
    this.#pauses++;
    return wait.finally(() => {
      this.#pauses--;
      const now = this.#connection?.clock.now() ?? 0;
      for (const entry of this.#idle.values()) entry.last = now;
    });
  }

  #receive(request: MsrpRequest): Promise<void> | undefined {
    if (this.#ended) return undefined;
    if (request.offset === 0) {
      // A session that does not know its peer yet learns the way back from
      // the first request: its From-Path, relays first, is the To-Path for
      // our requests (RFC 4975 §7.2 builds responses the same way).
      if (this.#remotePath.length === 0) {
        try {
          this.#remotePath = parsePath(request.headers.get("From-Path")!);
        } catch { /* routed here, so it parsed once already */ }
      }
      // The first request from the peer binds a passive session (§5.4).
      this.#resolveReady();
    }
    switch (request.method) {
      case "SEND":
        return this.#onSend(request);
      case "REPORT":
        if (request.flag !== undefined) this.#onReport(request);
        return undefined;
      default:
        if (request.offset === 0) this.#connection?.respond(request, 501); // §10.9
        return undefined;
    }
  }

  #respond(request: MsrpRequest, status: number, comment?: string): void {
    this.#connection?.respond(request, status, comment);
  }

  #onSend(piece: MsrpRequest): Promise<void> | undefined {
    if (piece.offset === 0) {
      this.#receiving = undefined;
      const rx = this.#startChunk(piece);
      if (rx === undefined) return undefined; // answered already (bodiless, or refused)
      if (piece.flag === undefined) this.#receiving = rx;
      const wait = this.#chunkPiece(rx, piece);
      const room = this.#room();
      return wait === undefined
        ? room
        : room === undefined
        ? wait
        : Promise.all([wait, room]).then(() => {});
    }
    const rx = this.#receiving;
    if (rx === undefined || rx.tid !== piece.tid) return undefined;
    if (piece.flag !== undefined) this.#receiving = undefined;
    return this.#chunkPiece(rx, piece);
  }

  /** Checks the first piece of a SEND chunk; returns what to do with its bytes, or undefined once answered. */
  #startChunk(request: MsrpRequest): Receiving | undefined {
    let failureReport: FailureReport;
    let successReport: SuccessReport;
    let messageId: string | undefined;
    let range: ByteRange | undefined;
    let mediaType: string | undefined;
    try {
      failureReport = getFailureReport(request.headers);
      successReport = getSuccessReport(request.headers);
      messageId = getMessageId(request.headers);
      range = getByteRange(request.headers);
      mediaType = getContentType(request.headers)?.mediaType;
    } catch (error) {
      this.#respond(request, 400, `Bad Request: ${(error as Error).message}`);
      return this.#refused(request);
    }
    if (messageId === undefined) {
      this.#respond(request, 400, "Bad Request: a SEND needs a Message-ID (§7.1.1)");
      return this.#refused(request);
    }
    if (request.body === null) {
      // A bodiless SEND binds the session or keeps it alive (§5.4, §7.1).
      this.#respond(request, 200);
      return undefined;
    }
    if (mediaType === undefined) {
      this.#respond(request, 400, "Bad Request: a body needs a Content-Type (§7.1)");
      return this.#refused(request);
    }
    if (!isAcceptable(this.#acceptTypes, mediaType)) {
      this.#respond(request, 415, `Unsupported Media Type: ${mediaType}`); // §7.3.1
      return this.#refused(request);
    }
    const start = (range?.start ?? 1) - 1;
    if (
      (typeof range?.total === "number" && range.total > this.#maxSize) || start > this.#maxSize
    ) {
      this.#respond(request, 413, `Message Too Large: limit is ${this.#maxSize} octets`); // §10.5
      return this.#refused(request);
    }
    const refused = this.#refusedIds.get(messageId);
    if (refused !== undefined) {
      this.#respond(request, refused[0], refused[1]); // §10.5: no more of this message
      return this.#refused(request);
    }
    let message = this.#incoming.get(messageId);
    if (
      message === undefined && this.#completed.has(messageId) &&
      !(start === 0 && request.flag === "$")
    ) {
      // A late copy of a chunk of a message already complete: acknowledge and
      // drop it. Only a chunk that is by itself a whole message is delivered
      // again, flagged as a duplicate (§5.4): anything else would make a
      // message that can never complete.
      if (responseFor(failureReport, 200) !== undefined) this.#respond(request, 200);
      return this.#refused(request);
    }
    if (message === undefined) {
      if (this.#incoming.size >= (this.#options.maxConcurrentMessages ?? 64)) {
        this.#respond(request, 413, "Message Too Large: too many messages in progress");
        return this.#refused(request);
      }
      const created: IncomingMessage = new IncomingMessage(
        messageId,
        mediaType,
        request.headers,
        this.#completed.has(messageId),
        {
          ...this.#options.incoming,
          onReject: (status, comment) => this.#reject(created, status, comment),
        },
      );
      message = created;
      this.#incoming.set(messageId, message);
      this.#watchIdle(message);
      this.#deliver(message);
    }
    if (typeof range?.total === "number") message.setSize(range.total);
    return { tid: request.tid, request, message, start, failureReport, successReport };
  }

  /** A chunk that was answered with an error: its pieces are dropped. */
  #refused(request: MsrpRequest): Receiving | undefined {
    if (request.flag !== undefined) return undefined;
    return {
      tid: request.tid,
      request,
      message: undefined,
      start: 0,
      failureReport: "no",
      successReport: "no",
    };
  }

  #chunkPiece(rx: Receiving, piece: MsrpRequest): Promise<void> | undefined {
    const message = rx.message;
    if (message === undefined) return undefined;
    const body = piece.body!;
    const at = rx.start + piece.offset;
    const idle = this.#idle.get(message);
    if (idle !== undefined) idle.last = this.#connection!.clock.now();
    if (at + body.length > this.#maxSize) {
      // Over max-size in the middle of a chunk: answer now, the sender interrupts (§10.5).
      return this.#stopMidChunk(rx, piece, message, `limit is ${this.#maxSize} octets`);
    }
    let wait: Promise<void> | undefined;
    try {
      wait = message.write(at, body);
    } catch (error) {
      // More out-of-order data than we hold for a stream: stop the message (§10.5).
      return this.#stopMidChunk(rx, piece, message, (error as Error).message);
    }
    if (piece.flag === undefined) return wait;
    // The end-line: the chunk is whole.
    const chunkEnd = at + body.length;
    this.#lastChunk.set(message, { request: rx.request, start: rx.start, end: chunkEnd });
    if (piece.flag === "$") message.setSize(chunkEnd); // the "$" chunk fixes the length (§7.3.1)
    if (piece.flag === "#") message.abort();
    if (responseFor(rx.failureReport, 200) !== undefined) this.#respond(rx.request, 200);
    if (wantsSuccessReport(rx.successReport) && piece.flag !== "#") {
      if (this.#options.successReports === "chunk") {
        this.#report(rx.request, message, rx.start, chunkEnd);
      } else if (message.state === "complete") {
        // A message completes once, at the end of some chunk, and is then forgotten.
        this.#report(rx.request, message, 0, message.size!);
      }
    }
    if (message.state !== "receiving") this.#forget(message);
    return wait;
  }

  /** Answers the chunk arriving with 413 and drops the rest of it and of its message (§10.5). */
  #stopMidChunk(
    rx: Receiving,
    piece: MsrpRequest,
    message: IncomingMessage,
    why: string,
  ): undefined {
    const comment = `Message Too Large: ${why}`;
    this.#respond(rx.request, 413, comment);
    this.#rememberRefusal(message.messageId, 413, comment); // §10.5: no further chunks
    message.cutOff();
    this.#forget(message);
    if (piece.flag === undefined) this.#receiving = { ...rx, message: undefined };
    return undefined;
  }

  /** Starts the `incompleteTimeout` watch of a message just created. */
  #watchIdle(message: IncomingMessage): void {
    const clock = this.#connection!.clock;
    const timeout = this.#options.incompleteTimeout ?? 120_000;
    const check = () => {
      const entry = this.#idle.get(message);
      if (entry === undefined) return;
      const idleFor = clock.now() - entry.last;
      if (this.#pauses > 0) {
        // Our reader holds the sender back; when it lets go the wait restarts.
        entry.timer = clock.setTimer(check, timeout);
        return;
      }
      if (idleFor < timeout) {
        entry.timer = clock.setTimer(check, timeout - idleFor); // activity since: look again then
        return;
      }
      this.#expire(message, idleFor);
    };
    this.#idle.set(message, { last: clock.now(), timer: clock.setTimer(check, timeout) });
  }

  /**
   * An incomplete message timed out: the sender hears 408 (on the chunk
   * still open, else in a failure REPORT on the last chunk, §7.1.4), later
   * chunks get 408 too, and the reader's promise or stream fails.
   */
  #expire(message: IncomingMessage, idleFor: number): void {
    this.#connection?.logger("info", "incomplete message timed out", {
      messageId: message.messageId,
      idleMs: idleFor,
    });
    this.#reject(message, 408, `Request Timeout: nothing arrived for ${idleFor} ms`);
    message.expire(idleFor);
  }

  /** A message that has ended leaves the table of messages being received. */
  #forget(message: IncomingMessage): void {
    const idle = this.#idle.get(message);
    if (idle !== undefined) {
      this.#connection?.clock.clearTimer(idle.timer);
      this.#idle.delete(message);
    }
    if (this.#incoming.get(message.messageId) === message) this.#incoming.delete(message.messageId);
    if (message.state === "complete") this.#completed.add(message.messageId);
  }

  /**
   * The application refused `message`: answer the chunk arriving now with
   * the error, or, between chunks, send a failure REPORT on the last chunk
   * received with its actual Byte-Range (§7.1.4); later chunks get the
   * same status.
   */
  #reject(message: IncomingMessage, status: number, comment: string): void {
    this.#rememberRefusal(message.messageId, status, comment);
    const rx = this.#receiving;
    if (rx !== undefined && rx.message === message) {
      this.#respond(rx.request, status, comment);
      this.#receiving = { ...rx, message: undefined };
    } else {
      const last = this.#lastChunk.get(message);
      const connection = this.#connection;
      if (last !== undefined && connection !== undefined) {
        let failureReport: FailureReport = "yes";
        try {
          failureReport = getFailureReport(last.request.headers);
        } catch { /* answered as yes */ }
        const range = getByteRange(last.request.headers);
        if (reportsLateFailure(failureReport)) {
          connection.scheduler.control({
            kind: "request",
            tid: newTransactionId(),
            method: "REPORT",
            headers: new HeaderList([
              ["To-Path", last.request.headers.get("From-Path")!],
              ["From-Path", this.localUri.toString()],
              ["Message-ID", message.messageId],
              // §7.1.4: range-start and total from the SEND, range-end from the data.
              ["Byte-Range", `${last.start + 1}-${last.end}/${range?.total ?? "*"}`],
              ["Status", `000 ${status} ${comment}`],
            ]),
            body: null,
            offset: 0,
            flag: "$",
          });
        }
      }
    }
    this.#forget(message);
  }

  /** Later chunks of a refused message get the same status (a bounded memory of the last 1024). */
  #rememberRefusal(messageId: string, status: number, comment: string): void {
    if (this.#refusedIds.size >= 1024) {
      this.#refusedIds.delete(this.#refusedIds.keys().next().value!);
    }
    this.#refusedIds.set(messageId, [status, comment]);
  }

  /** A success REPORT (§7.1.3) for octets `[start, end)` of `message`. */
  #report(send: MsrpRequest, message: IncomingMessage, start: number, end: number): void {
    const connection = this.#connection;
    if (connection === undefined) return;
    const total = message.size ?? "*";
    connection.scheduler.control({
      kind: "request",
      tid: newTransactionId(),
      method: "REPORT",
      headers: new HeaderList([
        ["To-Path", send.headers.get("From-Path")!], // the whole path back (§7.1.3)
        ["From-Path", this.localUri.toString()],
        ["Message-ID", message.messageId],
        ["Byte-Range", `${start + 1}-${end}/${total}`],
        ["Status", "000 200 OK"],
      ]),
      body: null,
      offset: 0,
      flag: "$",
    });
  }

  /**
   * The binding SEND was refused, by the peer or on the way (§5.4; RFC 4976
   * §6.4.1): messages already being sent fail with that status and reason,
   * not merely "closed", and the session ends.
   */
  #bindRefused(error: MsrpError, status: number, comment: string): void {
    this.#refusal = { status, comment, error };
    for (const m of this.#outgoing.values()) {
      m.fail("rejected", status, comment, "the session did not reach the peer", error);
    }
    this.#rejectReady(error);
    this.close(error);
  }

  /** A REPORT about one of our messages (§7.3.2). No response is ever sent (§7.1.2). */
  #onReport(request: MsrpRequest): void {
    let messageId: string | undefined;
    try {
      messageId = getMessageId(request.headers);
      const status = getStatus(request.headers);
      if (status === undefined || status.namespace !== "000") return;
      if (messageId === this.#bindMessageId && status.code !== 200) {
        // A relay answered our binding SEND with 200, then the next hop failed
        // (RFC 4976 §6.4.1): the peer was never reached.
        const error = new MsrpError(
          "bind-failed",
          `the binding SEND did not reach the peer: ${status.code} ${status.comment}`.trim(),
        );
        this.#bindRefused(error, status.code, status.comment);
        return;
      }
      const message = messageId === undefined ? undefined : this.#outgoing.get(messageId);
      if (message === undefined) return; // §7.1.2: unknown Message-ID, silently ignored
      const range = getByteRange(request.headers);
      const span: [number, number] | undefined = range === undefined ? undefined : [
        range.start - 1,
        typeof range.end === "number"
          ? range.end
          : range.total === "*"
          ? range.start - 1
          : range.total,
      ];
      message.report(status, span);
    } catch (error) {
      this.#connection?.logger("info", "malformed REPORT ignored", {
        messageId,
        error: String(error),
      });
    }
  }

  /** Hands a new message to the application; reading pauses while too many wait. */
  #deliver(message: IncomingMessage): void {
    const take = this.#takers.shift();
    if (take !== undefined) take(message);
    else this.#queue.push(message);
  }

  /** Resolves once the application has taken enough queued messages (back-pressure on reading). */
  #room(): Promise<void> | undefined {
    if (this.#queue.length < (this.#options.maxQueuedMessages ?? 256) || this.#ended) {
      return undefined;
    }
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  #wakeRoom(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const w of waiters) w();
  }
}
