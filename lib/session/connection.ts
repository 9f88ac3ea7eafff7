/**
 * One transport connection carrying any number of sessions
 * (RFC 4975 §5.4, §7.2, §7.3, §10).
 *
 * Inbound, a {@linkcode FrameParser} reads the bytes and each frame is
 * dispatched (the frames of one read in turn, with no promise per frame):
 * - a response goes to the pending transaction with its id (unknown ids are
 *   ignored and logged);
 * - a request goes to the session named by its To-Path, which must hold
 *   exactly one URI naming a session on this connection (§7.3), else 481. A
 *   session waiting in a {@linkcode SessionDirectory} is bound to this
 *   connection by its first request (§5.4); if it is already bound to
 *   another connection the answer is 506. A From-Path that does not end in
 *   the peer the session expects gets 403. A URI served to several peers
 *   (one session per peer with the same local URI, e.g. `msrp listen`
 *   through a relay, where every peer arrives on the one relay connection)
 *   goes to the session whose peer sent the request, else to a session of
 *   that URI still waiting for its peer, else, for a SEND (a session's
 *   first request, §5.4) to a URI the directory serves per peer, to a
 *   session made for that peer there and then
 *   ({@linkcode SessionDirectory.servePerPeer}): two new peers' first
 *   requests read at once each get their own.
 * - a malformed request gets 400; when framing is lost the connection closes.
 *
 * What the receiver does with each frame the decoder could not read (§7.2:
 * a response goes back on the same connection, To-Path from the request's
 * From-Path, From-Path our URI in the session):
 *
 * | Decoder error | Answer | Why |
 * | --- | --- | --- |
 * | a bad header line (`bad-header`, `bad-header-value`, `bad-line-ending`), `too-many-headers`, `line-too-long` in the header section, `body-too-large` (a non-SEND body over 10240 octets, §7.1) | 400, then the next frame is read | the start line was read, so the tid and method are known; the decoder reads the header section to its end, so From-Path is known unless it never came |
 * | `missing-path`: no To-Path | 400, From-Path our session's URI on this connection | the request can still be addressed by its From-Path; without a session here there is no URI to answer from, and nothing is sent (logged) |
 * | `missing-path`: no From-Path | nothing (logged) | there is no way to address a response (§7.2) |
 * | `bad-method` (no method on the start line) | nothing (logged) | the frame may be a garbled response, and responses are never answered |
 * | errors in a response | nothing (logged) | responses are never answered (§7.2) |
 * | fatal: `bad-end-line` (another transaction's end-line), `truncated` | 400 when it can be addressed as above, then the connection closes | the byte stream has lost its framing |
 * | fatal without a transaction id: `bad-start-line`, `bad-transaction-id`, a start line too long | nothing; the connection closes | there is no transaction to answer |
 *
 * Outbound, a {@linkcode Scheduler} decides what is written next and a
 * {@linkcode FrameWriter} turns it into bytes, written straight to the
 * transport (which gathers the writes of one turn into one, `lib/transport`).
 *
 * Responses to SEND go to the first From-Path URI only (the previous hop);
 * responses to other methods go back along the whole From-Path (§7.2).
 *
 * With a `trace` logger, every frame read and written is shown to it as it
 * was on the wire (`lib/wire/frame_trace.ts`).
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import { type Logger, silentLogger } from "../log.ts";
import type { MsrpTransport } from "../transport/types.ts";
import { type FrameDecoderOptions, FrameParser } from "../wire/decoder.ts";
import { FrameWriter } from "../wire/encoder.ts";
import { type FrameTrace, frameTracer, traceStream } from "../wire/frame_trace.ts";
import type { DecodedFrame, InvalidFrame, MsrpRequest, MsrpResponse } from "../wire/frame.ts";
import type { HeaderList } from "../wire/header_list.ts";
import { PathCache } from "../wire/path_cache.ts";
import type { MsrpUri } from "../wire/uri.ts";
import { type Clock, systemClock } from "./clock.ts";
import { PORTS, type SessionPort } from "./internal.ts";
import { answerToInvalid, responseTo } from "./report_generator.ts";
import { WINDOW_MIN_BYTES, WINDOW_TARGET_MS } from "./fair_queue.ts";
import { Scheduler, SEND_WINDOW_BYTES } from "./scheduler.ts";
import { BOUND_ELSEWHERE, checkToPath, NOT_THE_PEER } from "./session_state.ts";
import { TRANSACTION_TIMEOUT_MS, TransactionTable } from "./transactions.ts";
import type { MsrpSession } from "./session.ts";
import type { SessionDirectory } from "./directory.ts";

export { type PeerSessionFactory, SessionDirectory } from "./directory.ts";

/**
 * The largest body written in one buffer with its head when the transport
 * gathers writes: above it, copying the body into a frame buffer costs more
 * (an allocation, its zeroing, the copy) than two more writes do.
 */
const GATHERED_COALESCE_LIMIT = 2048;

/** Options of an {@linkcode MsrpConnection}. */
export interface ConnectionOptions {
  /** Sessions that requests arriving here may bind (the passive side). */
  directory?: SessionDirectory;
  /** Where time comes from. Default: the system clock. */
  clock?: Clock;
  /** Where log events go. Default: warnings and errors to stderr when `MSRP_DEBUG` is set, else nothing. */
  logger?: Logger;
  /**
   * Where a trace of the wire goes: each frame read or written, as a
   * `debug` event `frame in` / `frame out` (see `lib/wire/frame_trace.ts`).
   * Default: no trace.
   */
  trace?: Logger;
  /** How long to wait for a response after the last byte of a request (§7.1.1). Default 30000 ms. */
  transactionTimeout?: number;
  /** Limits of the frame decoder. */
  decoder?: FrameDecoderOptions;
  /**
   * Octets of SEND chunks written whose 200 is still owed before the writer
   * holds off (bounds the bytes in flight, so a short message is not stuck
   * behind a file in the buffers downstream): the most the window grows to.
   * Default 8 MiB.
   */
  sendWindow?: number;
  /**
   * The window counted in time: octets in flight are what drains in this
   * many milliseconds at the rate the peer has been taking them (at least
   * 256 KiB or `sendWindow`, whichever is less). 0: a fixed window of
   * `sendWindow` octets. Default 10 ms.
   */
  sendWindowMs?: number;
}

/** How a connection ended. */
export interface ConnectionEnd {
  /** The error that ended it, or undefined for an orderly close. */
  readonly error?: unknown;
}

/**
 * An MSRP connection over any transport.
 *
 * @example Carry a session over a TCP connection (RFC 4975 §5.4)
 * ```ts
 * import { MsrpConnection, MsrpSession } from "@msrp/msrp";
 * import { connectTcp } from "@msrp/msrp/transport";
 *
 * const session = new MsrpSession({
 *   localUri: "msrp://127.0.0.1:7777/iau39;tcp",
 *   remotePath: ["msrp://127.0.0.1:2855/9di4ea;tcp"],
 * });
 * const connection = new MsrpConnection(await connectTcp({ hostname: "127.0.0.1", port: 2855 }));
 * connection.attach(session);
 * session.sendBindRequest(); // the active side sends first (§5.4)
 * await session.ready;
 * await session.send("Hello");
 * connection.close();
 * ```
 */
export class MsrpConnection {
  /** The transport underneath. */
  readonly transport: MsrpTransport;
  /** Resolves when the connection has ended, and says why. */
  readonly closed: Promise<ConnectionEnd>;
  /**
   * The outbound writer (exposed for statistics and tests).
   *
   * @internal
   */
  readonly scheduler: Scheduler;
  /**
   * Transactions awaiting responses.
   *
   * @internal
   */
  readonly transactions: TransactionTable;
  /** The clock timers come from. */
  readonly clock: Clock;
  /** Where log events go. */
  readonly logger: Logger;

  readonly #directory: SessionDirectory | undefined;
  // The chunks of one message carry the same paths: parse each text once.
  readonly #toCache = new PathCache();
  readonly #fromCache = new PathCache();
  // Sessions by local URI key, in the order they were bound: usually one;
  // one per peer for a URI served to several peers over this connection.
  readonly #sessions = new Map<string, MsrpSession[]>();
  #inbound: { tid: string; port: SessionPort | undefined } | undefined;
  #ended = false;
  #writer!: WritableStreamDefaultWriter<Uint8Array>;
  #traceOut: FrameTrace | undefined;
  #resolveClosed!: (end: ConnectionEnd) => void;
  /** Requests awaited through {@linkcode MsrpConnection.request}, to fail if the connection ends. */
  #pendingRequests = new Map<string, (e: unknown) => void>();

  /**
   * Starts reading and writing frames on `transport`.
   *
   * @param transport the byte streams
   * @param options directory, clock, logger, limits
   */
  constructor(transport: MsrpTransport, options: ConnectionOptions = {}) {
    this.transport = transport;
    this.clock = options.clock ?? systemClock;
    // The core reads no environment: loggers are injected (the CLI gives a
    // verbose one for --verbose or MSRP_DEBUG), so this loads on every runtime.
    this.logger = options.logger ?? silentLogger;
    this.#directory = options.directory;
    this.transactions = new TransactionTable(
      this.clock,
      options.transactionTimeout ?? TRANSACTION_TIMEOUT_MS,
    );
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));

    const frameWriter = new FrameWriter({
      onTransactionIdChange: (change) => this.transactions.rename(change.from, change.to),
      // One WebSocket message per frame (RFC 7977): never split a frame's
      // bytes. A transport that gathers small writes gets a body over
      // GATHERED_COALESCE_LIMIT as a write of its own, so it is copied once
      // (into the transport's gathering buffer), not twice.
      coalesceLimit: transport.frameAligned
        ? Infinity
        : transport.gathersWrites
        ? GATHERED_COALESCE_LIMIT
        : undefined,
      // Heads, end-lines and small frames (a 200 per chunk) are cut from
      // shared buffers: a typed array per frame costs more than its bytes.
      slabSize: 65536,
    });
    const trace = options.trace;
    const remote = transport.remoteAddr;
    const where = remote ? { peer: `${remote.hostname}:${remote.port}` } : {};
    const traceOut = trace === undefined ? undefined : frameTracer(trace, "out", where);
    this.#traceOut = traceOut;
    const writer = transport.writable.getWriter();
    this.#writer = writer;
    writer.closed.catch((error) => this.#end(error));
    // A frame becomes one to three writes (head, body, end-line); the frame
    // is written when the last of them is taken (back-pressure).
    let last: Promise<void> | undefined;
    const out = (bytes: Uint8Array): void => {
      traceOut?.push(bytes);
      last = writer.write(bytes);
      last.catch(() => {}); // a failed write ends the connection through `closed`
    };
    this.scheduler = new Scheduler((frame) => {
      last = undefined;
      frameWriter.write(frame, out);
      return last ?? Promise.resolve();
    }, {
      bytes: options.sendWindow ?? SEND_WINDOW_BYTES,
      owed: (tid) => this.transactions.owesResponse(tid),
      time: options.sendWindowMs === 0 ? undefined : {
        targetMs: options.sendWindowMs ?? WINDOW_TARGET_MS,
        min: WINDOW_MIN_BYTES,
        now: () => this.clock.now(),
      },
    });
    this.transactions.onsettled = () => this.scheduler.settled();
    this.scheduler.done.catch((error) => this.#end(error));
    const input = trace === undefined
      ? transport.readable
      : transport.readable.pipeThrough(traceStream(frameTracer(trace, "in", where)));
    this.#read(input, options.decoder).catch((error) => this.#end(error));
  }

  /** The sessions bound to this connection. */
  get sessions(): MsrpSession[] {
    return [...this.#sessions.values()].flat();
  }

  /** True once the connection has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Binds a session to this connection: requests for its URI are routed to
   * it, and it sends through this connection. The active side does this
   * right after connecting (§5.4).
   *
   * @param session a session not bound elsewhere
   * @throws {MsrpError} `session-bound` if it is bound to another connection
   */
  attach(session: MsrpSession): void {
    const port = PORTS.get(session);
    if (port === undefined) throw new TypeError("not an MSRP session");
    if (port.connection !== undefined && port.connection !== this) {
      throw new MsrpError("session-bound", "the session is bound to another connection (§5.4)");
    }
    if (this.#ended) throw new MsrpError("connection-closed", "the connection is closed");
    const key = port.localUri.key;
    const same = this.#sessions.get(key);
    if (same === undefined) this.#sessions.set(key, [session]);
    else if (!same.includes(session)) same.push(session);
    port.bind(this);
  }

  /**
   * Unbinds a session (it was closed).
   *
   * @param session the session
   */
  detach(session: MsrpSession): void {
    const port = PORTS.get(session);
    if (port === undefined) return;
    const key = port.localUri.key;
    const same = this.#sessions.get(key);
    const i = same?.indexOf(session) ?? -1;
    if (i >= 0) {
      same!.splice(i, 1);
      if (same!.length === 0) this.#sessions.delete(key);
    }
    this.scheduler.removeFlow(session);
  }

  /**
   * Sends a transaction response to `request` (§7.2), unless its
   * Failure-Report forbids one (§7.1.4) or it is a REPORT (§7.1.2).
   *
   * @param request the request being answered (its first piece will do)
   * @param status the status code
   * @param comment the reason phrase; default from the status
   */
  respond(
    request: { tid: string; method?: string; headers: HeaderList },
    status: number,
    comment?: string,
  ): void {
    const response = responseTo(request, status, comment); // the table in report_generator.ts
    if (response === undefined) return;
    this.scheduler.control(response);
  }

  /**
   * Sends a whole request ahead of SEND data and resolves with its response
   * (AUTH to a relay, RFC 4976 §5.1). A missing response after the
   * transaction timeout, or the connection closing first, rejects.
   *
   * @param request a whole request (a fresh transaction id)
   * @throws {MsrpError} `timeout` or `connection-closed`
   */
  request(request: MsrpRequest): Promise<MsrpResponse> {
    if (this.#ended) {
      return Promise.reject(new MsrpError("connection-closed", "the connection is closed"));
    }
    return new Promise((resolve, reject) => {
      this.transactions.add(request.tid, {
        onResponse: resolve,
        onTimeout: () =>
          reject(
            new MsrpError(
              "timeout",
              `no response to ${request.method} ${request.tid} (RFC 4975 §7.1.1)`,
            ),
          ),
      });
      this.#pendingRequests.set(request.tid, reject);
      this.scheduler.control(request);
      this.transactions.startTimer(request.tid, true);
    }).finally(() => this.#pendingRequests.delete(request.tid)) as Promise<MsrpResponse>;
  }

  /**
   * Closes the connection; sessions on it end with `reason`. What is still
   * queued (responses, REPORTs, chunks) is dropped; see
   * {@linkcode MsrpConnection.shutdown} to send it first.
   *
   * @param reason why, if it is an error
   */
  close(reason?: unknown): void {
    this.#end(reason);
  }

  /**
   * Closes gracefully: waits until everything queued has been written (at
   * most `timeoutMs`), ends our side of the stream (TCP FIN), then closes.
   *
   * @param timeoutMs the longest wait for queued frames; default 5000 ms
   */
  shutdown(timeoutMs = 5000): Promise<void> {
    return this.#flushThenEnd(timeoutMs, undefined);
  }

  /** Writes what is queued (at most `timeoutMs`), ends our side, then ends with `error`. */
  async #flushThenEnd(timeoutMs: number, error: unknown): Promise<void> {
    if (this.#ended) return;
    let timer: unknown;
    const expired = new Promise<void>((
      resolve,
    ) => (timer = this.clock.setTimer(resolve, timeoutMs)));
    const flushed = (async () => {
      await this.scheduler.whenIdle();
      this.#traceOut?.end();
      await this.#writer.close(); // closes the transport's writable once written
    })().catch(() => {});
    await Promise.race([flushed, expired]);
    this.clock.clearTimer(timer);
    this.#end(error);
  }

  async #read(
    input: ReadableStream<Uint8Array>,
    decoderOptions: FrameDecoderOptions | undefined,
  ): Promise<void> {
    const parser = new FrameParser(decoderOptions);
    const batch: DecodedFrame[] = [];
    const emit = (f: DecodedFrame): void => void batch.push(f);
    const reader = input.getReader();
    let error: unknown;
    let answered = false;
    // The next read is asked for before this one's frames are handled, so
    // the socket is read while they are (as a stream pipe would).
    let next = reader.read();
    try {
      reading: for (;;) {
        const { value, done } = await next;
        if (done) parser.finish(emit);
        else {
          next = reader.read();
          parser.push(value, emit);
        }
        for (let i = 0; i < batch.length; i++) {
          if (this.#ended) break reading;
          const frame = batch[i];
          if (frame.kind === "response") this.#onResponse(frame);
          else if (frame.kind === "request") {
            const wait = this.#onRequest(frame);
            if (wait !== undefined) await wait;
          } else {
            answered = this.#onInvalid(frame);
            if (frame.error.fatal) {
              error = frame.error;
              break reading;
            }
          }
        }
        batch.length = 0;
        if (done || this.#ended) break;
      }
    } finally {
      next.catch(() => {}); // a read asked for ahead and never taken
      try {
        reader.releaseLock();
      } catch {
        // a read is still pending on a closed transport
      }
    }
    if (this.#ended) return;
    // The peer finished sending: what we still owe it (responses, REPORTs)
    // goes out before the connection closes. Broken framing closes at once,
    // after the 400 it was answered with, if any.
    if (error === undefined) await this.shutdown(2000);
    else if (answered) await this.#flushThenEnd(2000, error);
    else this.#end(error);
  }

  #onResponse(response: MsrpResponse): void {
    if (!this.transactions.resolve(response)) {
      this.logger("debug", "response to an unknown transaction ignored", {
        tid: response.tid,
        status: response.status,
      });
    }
  }

  #onRequest(request: MsrpRequest): Promise<void> | undefined {
    if (request.offset === 0) {
      const port = this.#route(request);
      if (request.flag === undefined) this.#inbound = { tid: request.tid, port };
      return port?.receive(request);
    }
    const inbound = this.#inbound;
    if (inbound === undefined || inbound.tid !== request.tid) return undefined;
    if (request.flag !== undefined) this.#inbound = undefined;
    return inbound.port?.receive(request);
  }

  /** Finds the session a request is for, or answers it with an error and returns undefined. */
  #route(request: MsrpRequest): SessionPort | undefined {
    let toPath: readonly MsrpUri[];
    let fromPath: readonly MsrpUri[];
    try {
      toPath = this.#toCache.parse(request.headers.get("To-Path")!);
      fromPath = this.#fromCache.parse(request.headers.get("From-Path")!);
    } catch (error) {
      this.logger("info", "request with a malformed path", {
        tid: request.tid,
        error: String(error),
      });
      this.respond(request, 400, "Bad Request: malformed To-Path or From-Path");
      return undefined;
    }
    // §7.3: exactly one URI, naming a session that belongs to this connection.
    const notOne = checkToPath(toPath);
    if (notOne !== undefined) {
      this.respond(request, notOne.status, notOne.comment);
      return undefined;
    }
    // The session of this URI whose peer sent it (or, first, one that does
    // not know its peer yet and so accepts any).
    const same = this.#sessions.get(toPath[0].key);
    for (const session of same ?? []) {
      const port = PORTS.get(session)!;
      if (port.acceptsFrom(fromPath, request.method)) return port;
    }
    const session = this.#directory?.lookup(toPath[0]);
    const port = session && PORTS.get(session);
    if (port === undefined || port.connection === this) {
      const fresh = this.#newPeer(toPath[0], fromPath, request);
      if (fresh !== undefined) return fresh;
      if (same === undefined) this.respond(request, 481);
      else this.respond(request, NOT_THE_PEER.status, NOT_THE_PEER.comment);
      return undefined;
    }
    if (port.connection !== undefined) {
      this.respond(request, BOUND_ELSEWHERE.status); // §5.4: already bound to another connection
      return undefined;
    }
    if (!port.acceptsFrom(fromPath, request.method)) {
      this.respond(request, NOT_THE_PEER.status, NOT_THE_PEER.comment);
      return undefined;
    }
    this.attach(session!);
    return port;
  }

  /**
   * The session of a new peer of a URI served to several peers, made for
   * its first SEND (§5.4) and bound here; undefined when the URI is not
   * served so, or the factory refused the peer.
   */
  #newPeer(
    uri: MsrpUri,
    fromPath: readonly MsrpUri[],
    request: MsrpRequest,
  ): SessionPort | undefined {
    if (request.method !== "SEND") return undefined;
    const newSession = this.#directory?.perPeer(uri);
    if (newSession === undefined) return undefined;
    let session: MsrpSession | undefined;
    try {
      session = newSession(request, this);
    } catch (error) {
      this.logger("error", "the session factory of a URI served per peer threw", {
        uri: uri.toString(),
        error: String(error),
      });
      return undefined;
    }
    const port = session && PORTS.get(session);
    if (port === undefined) return undefined;
    if (
      port.connection !== undefined || !port.localUri.equals(uri) ||
      !port.acceptsFrom(fromPath, request.method)
    ) {
      this.logger("error", "a URI served per peer was given an unfit session", {
        uri: uri.toString(),
      });
      return undefined;
    }
    this.attach(session!);
    return port;
  }

  /** Answers a frame the decoder could not read, as the module comment's table says. */
  #onInvalid(frame: InvalidFrame): boolean {
    const error = frame.error;
    this.logger(error.fatal ? "warn" : "info", error.message, { code: error.code });
    // §7.3 / §10.2: an unintelligible request gets 400, if it can be routed back;
    // a missing To-Path is answered from our URI in any session on this connection.
    const answer = answerToInvalid(frame, () => {
      const own = this.#sessions.values().next().value?.[0];
      return own === undefined ? undefined : PORTS.get(own)?.localUri;
    });
    if (typeof answer === "string") {
      if (frame.tid !== undefined && frame.method !== undefined) {
        this.logger("info", `no 400 sent: ${answer}`, { tid: frame.tid });
      }
      return false;
    }
    this.respond(answer.request, answer.status, answer.comment);
    return true;
  }

  #end(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    if (error !== undefined) this.logger("info", "connection ended", { error: String(error) });
    this.scheduler.stop();
    this.transactions.clear();
    const closedError = error instanceof Error
      ? error
      : new MsrpError("connection-closed", "the connection closed");
    for (const reject of this.#pendingRequests.values()) reject(closedError);
    this.#pendingRequests.clear();
    const sessions = this.sessions;
    this.#sessions.clear();
    for (const s of sessions) PORTS.get(s)?.lost(error);
    try {
      this.transport.close();
    } catch { /* already closed */ }
    this.#resolveClosed(error === undefined ? {} : { error });
  }
}
