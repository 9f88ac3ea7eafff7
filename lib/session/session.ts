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
 * Receiving: a session is three cores wired together, the same ones the
 * stages of `stages.ts` wrap: {@linkcode SessionState} (is a request for us:
 * To-Path, From-Path, binding), {@linkcode ChunkReceiver} (the receive
 * checks of every SEND chunk and the reassembly of its message,
 * `receive_checks.ts`) and {@linkcode ReportGenerator} (the responses and
 * REPORTs owed, per the table in `reports.ts`). `messages()` yields each
 * message as soon as its first chunk arrives.
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import type { MsrpRequest, MsrpResponse } from "../wire/frame.ts";
import { HeaderList } from "../wire/header_list.ts";
import { type FailureReport, formatPath } from "../wire/headers.ts";
import { newMessageId, newTransactionId } from "../wire/ids.ts";
import type { MsrpUri } from "../wire/uri.ts";
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
import type { IncomingMessage, IncomingOptions } from "./reassembly.ts";
import { ChunkReceiver } from "./receive_checks.ts";
import { readReport, type ReceiveOutcome, ReportGenerator } from "./report_generator.ts";
import { SessionState } from "./session_state.ts";

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

/**
 * One MSRP session.
 *
 * @example Send and receive over a session
 * ```ts
 * import { MsrpEndpoint } from "@msrp/msrp";
 *
 * const endpoint = await MsrpEndpoint.start();
 * const session = endpoint.createSession({ acceptTypes: ["text/plain"] });
 * // ... offer/answer through SIP, then endpoint.completeOffer(session, answer) ...
 * const result = await session.send("Hello", { successReport: true });
 * console.log(result.status, result.confirmedBy);
 * for await (const message of session.messages()) console.log(await message.text());
 * ```
 */
export class MsrpSession {
  /** Our URI in the session. */
  readonly localUri: MsrpUri;
  /** Resolves once the session is bound to a connection and (active side) the binding SEND got its 200. */
  readonly ready: Promise<void>;
  /** Resolves when the session has ended. */
  readonly closed: Promise<SessionEnd>;

  readonly #options: SessionOptions;
  /** Paths and binding (§5.4, §7.3). */
  readonly #state: SessionState;
  /** Receive checks and reassembly of SEND chunks. */
  readonly #receiver: ChunkReceiver;
  /** Responses and REPORTs owed. */
  readonly #reports: ReportGenerator;
  #connection: MsrpConnection | undefined;
  #ended = false;
  #resolveReady!: () => void;
  #rejectReady!: (e: unknown) => void;
  #resolveClosed!: (end: SessionEnd) => void;

  readonly #outgoing = new Map<string, OutgoingMessage>();
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
    this.#state = new SessionState(options);
    this.localUri = this.#state.localUri;
    this.#reports = new ReportGenerator({
      localUri: this.localUri,
      successReports: options.successReports,
    });
    // deno-lint-ignore no-this-alias
    const session = this;
    this.#receiver = new ChunkReceiver({
      get clock() {
        return session.#connection!.clock;
      },
      get logger() {
        return session.#connection?.logger;
      },
      outcome: (outcome) => this.#answer(outcome),
      deliver: (message) => this.#deliver(message),
      room: () => this.#room(),
      paused: () => this.#pauses > 0,
    }, options);
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
    return this.#state.remotePath;
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
    this.#state.remotePath = path;
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
        ["To-Path", formatPath(this.#state.remotePath)],
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
    const relayed = this.#state.remotePath.length > 1;
    const chunking = this.#options.chunking ?? {};
    const message = new OutgoingMessage(messageId, bodySource(body, options.size), {
      toPath: () => formatPath(this.#state.remotePath),
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
    this.#receiver.close();
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
      acceptsFrom: (fromPath, method) => this.#state.acceptsFrom(fromPath, method),
      bind: (connection) => this.#bind(connection),
      receive: (request) => this.#paused(this.#receive(request)),
      lost: (error) =>
        this.close(error ?? new MsrpError("connection-closed", "the connection closed")),
    };
  }

  #bind(connection: MsrpConnection): void {
    this.#state.bind(connection);
    this.#connection = connection;
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
      if (this.#connection !== undefined) this.#receiver.resumed();
    });
  }

  #receive(request: MsrpRequest): Promise<void> | undefined {
    if (this.#ended) return undefined;
    if (request.offset === 0) {
      // A session that does not know its peer yet learns the way back (§7.2).
      this.#state.learnPeer(request);
      // The first request from the peer binds a passive session (§5.4).
      this.#resolveReady();
    }
    switch (request.method) {
      case "SEND":
        return this.#receiver.receive(request);
      case "REPORT":
        if (request.flag !== undefined) this.#onReport(request);
        return undefined;
      default:
        if (request.offset === 0) this.#connection?.respond(request, 501); // §10.9
        return undefined;
    }
  }

  /** Sends the responses and REPORTs owed for what was received (`report_generator.ts`). */
  #answer(outcome: ReceiveOutcome): void {
    const connection = this.#connection;
    if (connection === undefined) return;
    this.#reports.answer(outcome, (frame) => connection.scheduler.control(frame));
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
    let report;
    try {
      report = readReport(request);
    } catch (error) {
      this.#connection?.logger("info", "malformed REPORT ignored", {
        messageId: request.headers.get("Message-ID"),
        error: String(error),
      });
      return;
    }
    if (report === undefined) return;
    const { messageId, status } = report;
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
    // §7.1.2: an unknown Message-ID is silently ignored.
    this.#outgoing.get(messageId)?.report(status, report.span);
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
