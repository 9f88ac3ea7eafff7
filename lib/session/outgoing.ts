/**
 * One message on its way out: chunking and the sender's bookkeeping
 * (RFC 4975 §5.1, §7.1, §7.1.1, §7.3.2, §10.5).
 *
 * A message gets a random Message-ID and goes out as one or more SEND
 * chunks, each with its own transaction id and a Byte-Range. Following the
 * strategy §7.1.1 "strongly recommends", a body over 2048 octets is sent as
 * an interruptible chunk (`Byte-Range: n-*` + total) that is cut, with the
 * `+` flag, only when other traffic is waiting on the connection (or when
 * it reaches `maxChunkSize`, since deployed relays drop very large frames,
 * or when the connection's send window is full, `fair_queue.ts`).
 * The alternative §7.1.1 allows, fixed 2048-octet chunks, is an option.
 *
 * The scheduler asks for one "piece" at a time (a run of body bytes of the
 * open chunk), so a file is read only as fast as the connection drains.
 *
 * The message ends in a {@linkcode SendResult} or a {@linkcode MsrpSendError}:
 * after its last byte is written, once every chunk got its 200 (Failure-Report
 * yes) and, when asked for, success REPORTs cover every byte (§7.1.3). A 413
 * stops it at once (§10.5); any failure, or an abort, ends an open chunk
 * with `#` (§7.3.2).
 *
 * @module
 */

import { MsrpError, type MsrpErrorCode } from "../errors.ts";
import type { MsrpRequest, MsrpResponse } from "../wire/frame.ts";
import { HeaderList } from "../wire/header_list.ts";
import type { FailureReport, Status } from "../wire/headers.ts";
import { newTransactionId } from "../wire/ids.ts";
import type { BodySource } from "./body_source.ts";
import { RangeSet } from "./ranges.ts";
import { RECEIVER_RULES, SENDER_RULES } from "./reports.ts";

/** Where Byte-Range stands among a chunk's header fields (To-Path, From-Path, Message-ID first). */
const BYTE_RANGE_FIELD = 3;

/** A chunk this size or smaller need not be interruptible (§5.1, §7.1.1). */
export const INTERRUPTIBLE_ABOVE = 2048;

/** How a message is cut into chunks. */
export interface ChunkingOptions {
  /**
   * Largest chunk body in octets. Chunks are cut earlier only when other
   * traffic waits. Default: 1 MiB on a direct connection, 8 KiB when the
   * To-Path crosses relays (deployed relays commonly drop frames over ~10 KB).
   */
  maxChunkSize?: number;
  /** Send fixed 2048-octet, non-interruptible chunks instead (§7.1.1). Default false. */
  fixedChunks?: boolean;
  /**
   * Write every chunk whole, in one piece, up to `maxChunkSize`: for
   * transports that carry one chunk per message (WebSocket, RFC 7977 §5.1).
   * Set automatically on such transports. Default false.
   */
  wholeChunks?: boolean;
  /** Octets written per scheduler turn: the most a waiting message waits for. Default 256 KiB. */
  pieceSize?: number;
}

/** How a sent message ended well. */
export interface SendResult {
  /** The Message-ID it was sent with. */
  readonly messageId: string;
  /** 200. */
  readonly status: number;
  /** The reason phrase of the final response or report, if any. */
  readonly comment: string;
  /** Octets written to the connection. */
  readonly bytesSent: number;
  /** Octets the peer confirmed (by 200 responses or success REPORTs). */
  readonly bytesConfirmed: number;
  /** What confirmed them: `report` (Success-Report yes), `response` (Failure-Report yes) or `none`. */
  readonly confirmedBy: "report" | "response" | "none";
}

/** Progress of a message being sent. */
export interface SendProgress {
  /** The Message-ID. */
  readonly messageId: string;
  /** Octets written so far. */
  readonly bytesSent: number;
  /** Octets confirmed so far. */
  readonly bytesConfirmed: number;
  /** The total size, when known. */
  readonly size: number | undefined;
}

/**
 * Why a send failed: its status, comment and what did get through.
 *
 * @example Why a message was not delivered
 * ```ts
 * import { MsrpSendError, type MsrpSession } from "@msrp/msrp";
 *
 * async function sendOrExplain(session: MsrpSession, body: string): Promise<void> {
 *   try {
 *     await session.send(body);
 *   } catch (e) {
 *     if (!(e instanceof MsrpSendError)) throw e;
 *     // e.g. 413 (too large), 415 (type not accepted), 408 (no response, §7.1.1)
 *     console.error(e.status, e.comment, `${e.result.bytesConfirmed} bytes confirmed`);
 *   }
 * }
 * ```
 */
export class MsrpSendError extends MsrpError {
  /** The MSRP status code: the peer's (413, 415, 481...), or local (408 timeout). */
  readonly status: number;
  /** The reason phrase. */
  readonly comment: string;
  /** How far the message got. */
  readonly result: SendResult;

  /**
   * Makes the error.
   *
   * @param code `"rejected"`, `"timeout"`, `"aborted"`, `"closed"` or `"source-failed"`
   * @param message a sentence
   * @param result the status and octet counts
   * @param options the standard `cause`
   */
  constructor(code: MsrpErrorCode, message: string, result: SendResult, options?: ErrorOptions) {
    super(code, message, options);
    this.name = "MsrpSendError";
    this.status = result.status;
    this.comment = result.comment;
    this.result = result;
  }
}

/** The chunk being written. */
interface OpenChunk {
  readonly tid: string;
  readonly headers: HeaderList;
  /** Offset (0-based) of the chunk's first byte in the message. */
  readonly start: number;
  /** Body octets of this chunk written so far. */
  written: number;
}

/** What a message needs from its session to build chunks and talk to the connection. */
export interface MessageContext {
  /** To-Path of the chunks. */
  toPath(): string;
  /** From-Path of the chunks. */
  fromPath(): string;
  /** Registers a transaction before its first byte goes out. */
  addTransaction(tid: string, onResponse: (r: MsrpResponse) => void, onTimeout: () => void): void;
  /** Starts the response timer after the last byte (§7.1.1). */
  startTimer(tid: string, failOnTimeout: boolean): void;
  /** Starts the success-report timer; returns a function that cancels it. */
  startReportTimer(onTimeout: () => void): () => void;
}

/** Options of an {@linkcode OutgoingMessage}. */
export interface OutgoingOptions {
  /** The Content-Type of every chunk. */
  contentType: string;
  /** Ask for success REPORTs (§7.1.3). */
  successReport: boolean;
  /** Failure-Report (§7.1.1). */
  failureReport: FailureReport;
  /** Extra MIME header fields (Content-Disposition, Content-ID, ...), on every chunk. */
  headers: readonly (readonly [string, string])[];
  /** How to cut the body. */
  chunking: Required<ChunkingOptions>;
}

interface Failure {
  code: MsrpErrorCode;
  status: number;
  comment: string;
  message: string;
  cause?: unknown;
}

/** A message being sent. The session creates these; the scheduler drives them. */
export class OutgoingMessage {
  /** The Message-ID. */
  readonly messageId: string;
  /** Resolves or rejects when the message is done. */
  readonly result: Promise<SendResult>;
  /** Called as bytes go out and get confirmed. */
  onprogress: ((p: SendProgress) => void) | undefined;

  readonly #source: BodySource;
  readonly #context: MessageContext;
  readonly #options: OutgoingOptions;
  readonly #maxChunk: number;

  #chunk: OpenChunk | undefined;
  /** The header fields of the first chunk, checked; later chunks copy them. */
  #template:
    | { toPath: string; fromPath: string; names: string[]; values: string[] }
    | undefined;
  #chunkEnds = new Map<number, number>(); // start -> end of chunks written, until their 200
  #sent = 0;
  #allWritten = false;
  #pendingChunks = 0; // chunks awaiting their response
  #confirmedByResponse = new RangeSet();
  #confirmedByReport = new RangeSet();
  #failure: Failure | undefined;
  #finished = false;
  #settled = false;
  #cancelReportTimer: (() => void) | undefined;
  #resolve!: (r: SendResult) => void;
  #reject!: (e: MsrpSendError) => void;

  /**
   * Makes a message ready to be scheduled.
   *
   * @param messageId the Message-ID
   * @param source where the body comes from
   * @param context the session's side
   * @param options content type, report wishes, extra MIME fields, chunking
   */
  constructor(
    messageId: string,
    source: BodySource,
    context: MessageContext,
    options: OutgoingOptions,
  ) {
    this.messageId = messageId;
    this.#source = source;
    this.#context = context;
    this.#options = options;
    this.#maxChunk = Math.max(INTERRUPTIBLE_ABOVE, options.chunking.maxChunkSize);
    this.result = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Callers see a failure through `result`; an unobserved one must not crash the process.
    this.result.catch(() => {});
  }

  /** True once the message has nothing more to write. */
  get finished(): boolean {
    return this.#finished;
  }

  /** True while there is still something to write (more chunks, or an abort to signal). */
  get hasMore(): boolean {
    return !this.#finished &&
      (this.#chunk !== undefined || (!this.#allWritten && this.#failure === undefined));
  }

  /** The total size when known. */
  get size(): number | undefined {
    return this.#source.size;
  }

  /**
   * The next piece to write, or `null` when the message has nothing more;
   * at once when the body is in memory, else once its bytes are read.
   *
   * @param othersWaiting whether other traffic waits for the connection (§7.1.1: then cut)
   */
  nextPiece(othersWaiting: boolean): MsrpRequest | null | Promise<MsrpRequest | null> {
    if (this.#failure !== undefined) return this.#abortPiece();
    if (this.#chunk === undefined && this.#allWritten) {
      this.#finished = true;
      return null;
    }
    try {
      if (this.#chunk === undefined) {
        const start = this.#source.position;
        const size = this.#source.size;
        const left = size === undefined ? undefined : size - start;
        const { fixedChunks, wholeChunks } = this.#options.chunking;
        if (fixedChunks || wholeChunks || (left !== undefined && left <= INTERRUPTIBLE_ABOVE)) {
          return this.#wholeChunk(start, size, left);
        }
        this.#openChunk(start, "*", size);
      }
      const chunk = this.#chunk!;
      if (othersWaiting && chunk.written >= INTERRUPTIBLE_ABOVE) {
        // Other traffic waits and the chunk is long enough: end it now with
        // "+" rather than after one more piece (§7.1.1).
        return this.#piece(chunk, new Uint8Array(0), "+", chunk.written);
      }
      const want = Math.min(this.#options.chunking.pieceSize, this.#maxChunk - chunk.written);
      // A body in memory is read at once: no promise for this piece.
      const read = this.#source.read(want);
      if (!(read instanceof Uint8Array)) {
        return read.then(
          (body) => this.#bodyPiece(chunk, body, othersWaiting),
          (cause) => this.#sourceFailed(cause),
        );
      }
      return this.#bodyPiece(chunk, read, othersWaiting);
    } catch (cause) {
      return this.#sourceFailed(cause);
    }
  }

  /**
   * A chunk written in one piece: a non-interruptible one (§7.1.1), or a
   * whole chunk for a transport that carries one chunk per message (RFC 7977
   * §5.1). Its bytes are read first, so that its Byte-Range states exactly
   * what it carries.
   */
  async #wholeChunk(
    start: number,
    size: number | undefined,
    left: number | undefined,
  ): Promise<MsrpRequest | null> {
    try {
      const { fixedChunks, wholeChunks } = this.#options.chunking;
      const most = wholeChunks && !fixedChunks ? this.#maxChunk : INTERRUPTIBLE_ABOVE;
      const body = await this.#readFully(Math.min(most, left ?? most));
      if (this.#failure !== undefined) return this.#abortPiece();
      const end = start + body.length;
      const last = this.#source.done || end === size;
      // §5.1: a chunk over 2048 octets is interruptible (range end "*").
      const rangeEnd = body.length > INTERRUPTIBLE_ABOVE ? "*" : String(end);
      const chunk = this.#openChunk(start, rangeEnd, size ?? (last ? end : undefined));
      chunk.written = body.length;
      this.#sent += body.length;
      return this.#piece(chunk, body, last ? "$" : "+", 0);
    } catch (cause) {
      return this.#sourceFailed(cause);
    }
  }

  /** The piece carrying `body`, the next bytes of the open chunk. */
  #bodyPiece(chunk: OpenChunk, body: Uint8Array, othersWaiting: boolean): MsrpRequest {
    const offset = chunk.written;
    chunk.written += body.length;
    this.#sent += body.length;
    if (this.#failure !== undefined) {
      // It failed while we were reading (a 413, an abort): end the chunk with "#".
      return this.#piece(chunk, body, "#", offset);
    }
    let flag: "$" | "+" | undefined;
    if (this.#source.done) flag = "$";
    else if (chunk.written >= this.#maxChunk) flag = "+";
    else if (othersWaiting && chunk.written >= INTERRUPTIBLE_ABOVE) flag = "+";
    return this.#piece(chunk, body, flag, offset);
  }

  /** Reading the body failed: the message fails, an open chunk ends with `#`. */
  #sourceFailed(cause: unknown): MsrpRequest | null {
    this.fail(
      "source-failed",
      0,
      "",
      `reading the body of ${this.messageId} failed: ${cause}`,
      cause,
    );
    return this.#abortPiece();
  }

  /**
   * The scheduler wrote `piece`: count it, and once its chunk is complete
   * start the response timer (§7.1.1: 30 s from the last byte).
   *
   * @param piece what was written
   */
  written(piece: MsrpRequest): void {
    this.onprogress?.(this.progress());
    const chunk = this.#chunk;
    if (piece.flag === undefined || chunk === undefined || chunk.tid !== piece.tid) return;
    this.#chunk = undefined;
    const rule = SENDER_RULES[this.#options.failureReport];
    // Kept only until the 200 that confirms it: a chunk that gets none
    // (Failure-Report no or partial, §7.1.2) is not remembered.
    if (RECEIVER_RULES[this.#options.failureReport].accepted === "200 response") {
      this.#chunkEnds.set(chunk.start, chunk.start + chunk.written);
    }
    if (rule.expectsResponse) this.#context.startTimer(chunk.tid, rule.timer);
    if (piece.flag === "$") this.#allWritten = true;
    if (piece.flag === "#") this.#finished = true;
    this.#check();
  }

  /** Current progress. */
  progress(): SendProgress {
    return {
      messageId: this.messageId,
      bytesSent: this.#sent,
      bytesConfirmed: this.#confirmed().covered,
      size: this.#source.size,
    };
  }

  /**
   * A REPORT about this message arrived (§7.3.2): a success REPORT adds the
   * confirmed range, a failure REPORT fails the message.
   *
   * @param status the REPORT's Status
   * @param range the reported octets as 0-based `[start, end)`, when a Byte-Range was given
   */
  report(status: Status, range: [number, number] | undefined): void {
    if (status.code !== 200) {
      this.fail(
        "rejected",
        status.code,
        status.comment,
        `the peer reported ${status.code} ${status.comment} for ${this.messageId}`.trimEnd(),
      );
      return;
    }
    const [start, end] = range ?? [0, this.#source.size ?? this.#sent];
    this.#confirmedByReport.add(start, end);
    this.onprogress?.(this.progress());
    this.#check();
  }

  /**
   * Stops the message: an abort by the application, a failure response, a
   * closed session. An open chunk is then ended with `#` (§7.3.2, §10.5).
   *
   * @param code the error code of the resulting {@linkcode MsrpSendError}
   * @param status the MSRP status (0 when none applies)
   * @param comment a reason phrase
   * @param message a sentence for the error
   * @param cause what caused it
   */
  fail(
    code: MsrpErrorCode,
    status: number,
    comment: string,
    message: string,
    cause?: unknown,
  ): void {
    if (this.#failure !== undefined || this.#settled) return;
    this.#failure = { code, status, comment, message, cause };
    this.#cancelReportTimer?.();
    if (this.#chunk === undefined) this.#finished = true;
    this.#source.cancel(cause).catch(() => {});
    this.#settled = true;
    const result = this.#resultWith(status, comment);
    this.#reject(
      new MsrpSendError(code, message, result, cause === undefined ? undefined : { cause }),
    );
  }

  #confirmed(): RangeSet {
    return this.#options.successReport ? this.#confirmedByReport : this.#confirmedByResponse;
  }

  #resultWith(status: number, comment: string): SendResult {
    const { successReport, failureReport } = this.#options;
    return {
      messageId: this.messageId,
      status,
      comment,
      bytesSent: this.#sent,
      bytesConfirmed: this.#confirmed().covered,
      confirmedBy: successReport
        ? "report"
        : SENDER_RULES[failureReport].timer
        ? "response"
        : "none",
    };
  }

  /** Resolves the result once everything the sender asked for has come back. */
  #check(): void {
    if (this.#settled || !this.#allWritten) return;
    const { successReport, failureReport } = this.#options;
    if (SENDER_RULES[failureReport].timer && this.#pendingChunks > 0) return;
    if (successReport && !this.#confirmedByReport.covers(0, this.#sent)) {
      this.#cancelReportTimer ??= this.#context.startReportTimer(() => {
        this.fail(
          "timeout",
          408,
          "no success report",
          `no success REPORT covered ${this.messageId} in time`,
        );
      });
      return;
    }
    this.#cancelReportTimer?.();
    this.#finished = true;
    this.#settled = true;
    this.#resolve(this.#resultWith(200, ""));
  }

  /** Reads up to `want` octets, waiting on a stream until it has them or it ends. */
  async #readFully(want: number): Promise<Uint8Array> {
    const first = await this.#source.read(want);
    if (first.length === want || this.#source.done) return first;
    const buf = new Uint8Array(want);
    buf.set(first);
    let have = first.length;
    while (have < want && !this.#source.done) {
      const more = await this.#source.read(want - have);
      buf.set(more, have);
      have += more.length;
    }
    return buf.subarray(0, have);
  }

  /** Starts a chunk: a new transaction id, its header fields, its transaction entry. */
  #openChunk(start: number, rangeEnd: string, total: number | undefined): OpenChunk {
    const { successReport, failureReport, headers: extra, contentType } = this.#options;
    const tid = newTransactionId();
    const toPath = this.#context.toPath();
    const fromPath = this.#context.fromPath();
    const range = `${start + 1}-${rangeEnd}/${total ?? "*"}`;
    let headers: HeaderList;
    const template = this.#template;
    if (template !== undefined && template.toPath === toPath && template.fromPath === fromPath) {
      // The fields of every chunk of a message are the same but the
      // Byte-Range: copy the checked ones of the first chunk.
      const values = template.values.slice();
      values[BYTE_RANGE_FIELD] = range;
      headers = HeaderList.fromTrusted(template.names.slice(), values);
    } else {
      headers = new HeaderList([
        ["To-Path", toPath],
        ["From-Path", fromPath],
        ["Message-ID", this.messageId],
        ["Byte-Range", range],
      ]);
      if (successReport) headers.append("Success-Report", "yes");
      if (failureReport !== "yes") headers.append("Failure-Report", failureReport);
      for (const [name, value] of extra) headers.append(name, value);
      headers.append("Content-Type", contentType);
      this.#template = {
        toPath,
        fromPath,
        names: headers.names().slice(),
        values: headers.values().slice(),
      };
    }
    const chunk: OpenChunk = { tid, headers, start, written: 0 };
    this.#chunk = chunk;
    if (SENDER_RULES[failureReport].expectsResponse) {
      this.#pendingChunks++;
      this.#context.addTransaction(
        tid,
        (r) => this.#onResponse(start, r),
        () => this.#onTimeout(tid),
      );
    }
    return chunk;
  }

  #piece(
    chunk: OpenChunk,
    body: Uint8Array,
    flag: "$" | "+" | "#" | undefined,
    offset: number,
  ): MsrpRequest {
    return {
      kind: "request",
      tid: chunk.tid,
      method: "SEND",
      headers: chunk.headers,
      body,
      offset,
      flag,
    };
  }

  /** Ends an open chunk with `#`; with no chunk open there is nothing to write. */
  #abortPiece(): MsrpRequest | null {
    const chunk = this.#chunk;
    if (chunk === undefined) {
      this.#finished = true;
      return null;
    }
    return this.#piece(chunk, new Uint8Array(0), "#", chunk.written);
  }

  #onResponse(start: number, response: MsrpResponse): void {
    this.#pendingChunks--;
    if (response.status !== 200) {
      this.fail(
        "rejected",
        response.status,
        response.comment,
        `the peer answered ${response.status} ${response.comment} to ${this.messageId}`.trimEnd(),
      );
      return;
    }
    // Confirm what the chunk carried; its length is known once written.
    const open = this.#chunk !== undefined && this.#chunk.start === start ? this.#chunk : undefined;
    const end = open ? start + open.written : this.#chunkEnds.get(start) ?? start;
    this.#chunkEnds.delete(start);
    this.#confirmedByResponse.add(start, end);
    this.onprogress?.(this.progress());
    this.#check();
  }

  #onTimeout(tid: string): void {
    this.#pendingChunks--;
    this.fail(
      "timeout",
      408,
      "Request Timeout",
      `no response to chunk ${tid} of ${this.messageId} within the timeout (§7.1.1)`,
    );
  }
}
