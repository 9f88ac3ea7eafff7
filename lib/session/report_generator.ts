/**
 * What a receiver sends back: transaction responses and REPORTs, built from
 * what happened to each request (RFC 4975 §7.1.2-§7.1.4, §7.2, §7.3.2).
 *
 * The receive side (`receive_checks.ts`, `session_state.ts`) says what
 * happened as a {@linkcode ReceiveOutcome}; {@linkcode ReportGenerator}
 * turns it into frames following the table in `reports.ts`:
 *
 * | Outcome | Frames |
 * | --- | --- |
 * | `answer`: a request answered with a status (200 to a bodiless SEND, an error) | a response, unless Failure-Report forbids it (§7.1.4) or it is a REPORT (§7.1.2) |
 * | `chunk`: a SEND chunk received whole | 200 unless Failure-Report says otherwise; success REPORT(s) when Success-Report is `yes` (§7.1.3): per chunk, or one for the message once complete |
 * | `failed`: a failure found after the chunk was answered (a refusal by the reader, a timeout) | a failure REPORT on the last chunk, with its actual Byte-Range, when Failure-Report is `yes` or `partial` (§7.1.4) |
 *
 * Responses to SEND go to the first From-Path URI only (the previous hop);
 * responses to other methods go back along the whole From-Path (§7.2).
 * REPORTs go back along the whole From-Path (§7.1.3), from our URI.
 *
 * {@linkcode readReport} reads a REPORT about one of our messages (§7.3.2).
 *
 * @module
 */

import type { InvalidFrame, MsrpRequest, MsrpResponse } from "../wire/frame.ts";
import { HeaderList } from "../wire/header_list.ts";
import {
  type FailureReport,
  getByteRange,
  getFailureReport,
  getMessageId,
  getStatus,
  getSuccessReport,
  parseFailureReport,
  type Status,
  STATUS_TEXT,
} from "../wire/headers.ts";
import { newTransactionId } from "../wire/ids.ts";
import type { MsrpUri } from "../wire/uri.ts";
import type { IncomingMessage } from "./reassembly.ts";
import { reportsLateFailure, responseOwed, wantsSuccessReport } from "./reports.ts";

/** A request, or its first piece: what an answer needs of it. */
export interface AnsweredRequest {
  /** Its transaction id. */
  readonly tid: string;
  /** Its method; default SEND. */
  readonly method?: string;
  /** Its header fields (To-Path, From-Path, Failure-Report, ...). */
  readonly headers: HeaderList;
}

/** What happened to a request received, as far as the sender must hear. */
export type ReceiveOutcome =
  | {
    /** The request is answered with `status` (a bodiless SEND's 200, or an error). */
    readonly kind: "answer";
    /** The request. */
    readonly request: AnsweredRequest;
    /** The status code. */
    readonly status: number;
    /** The reason phrase; default the status's text. */
    readonly comment?: string;
  }
  | {
    /** A SEND chunk arrived whole, up to its end-line. */
    readonly kind: "chunk";
    /** The chunk's first piece. */
    readonly request: MsrpRequest;
    /** Its end-line flag: `$` last chunk, `+` more follow, `#` aborted (§7.1). */
    readonly flag: "$" | "+" | "#";
    /** The message it belongs to. */
    readonly message: IncomingMessage;
    /** Its octets in the message, 0-based, end excluded. */
    readonly start: number;
    /** End of its octets in the message (exclusive). */
    readonly end: number;
  }
  | {
    /** A failure found after the chunk was answered (§7.1.4). */
    readonly kind: "failed";
    /** The last chunk of the message received whole. */
    readonly request: MsrpRequest;
    /** The message's id. */
    readonly messageId: string;
    /** The last chunk's octets in the message, 0-based, end excluded. */
    readonly start: number;
    /** End of the last chunk's octets (exclusive). */
    readonly end: number;
    /** The failure's status code. */
    readonly status: number;
    /** Its reason phrase. */
    readonly comment: string;
  };

/**
 * The response to `request` with `status` (§7.2), or undefined when none is
 * sent: REPORTs are never answered (§7.1.2); a SEND's Failure-Report decides
 * (§7.1.4, the table in `reports.ts`); other methods are answered unless
 * their Failure-Report is `no`.
 *
 * @param request the request being answered (its first piece will do)
 * @param status the status code
 * @param comment the reason phrase; default from the status
 */
export function responseTo(
  request: AnsweredRequest,
  status: number,
  comment?: string,
): MsrpResponse | undefined {
  const method = request.method ?? "SEND";
  const from = request.headers.get("From-Path");
  const to = request.headers.get("To-Path");
  if (from === undefined || to === undefined) return undefined;
  let fr: FailureReport = "yes";
  try {
    fr = parseFailureReport(request.headers.get("Failure-Report") ?? "yes");
  } catch { /* a malformed value: answer as for "yes" */ }
  if (!responseOwed(method, fr, status)) return undefined; // the table in reports.ts
  // §7.2: a SEND is answered to the previous hop only; other methods along the whole path.
  // One-URI paths (a direct session) are used as they stand, and their two
  // fields are not checked again here (the encoder checks every field).
  const plain = isPlain(from) && isPlain(to);
  const toPath = method === "SEND" && !plain ? firstUri(from) : from;
  const ourUri = plain ? to : firstUri(to);
  const text = comment ?? STATUS_TEXT[status as keyof typeof STATUS_TEXT] ?? "";
  return {
    kind: "response",
    tid: request.tid,
    status,
    comment: text,
    headers: plain
      ? HeaderList.fromTrusted(["To-Path", "From-Path"], [toPath, ourUri])
      : new HeaderList([["To-Path", toPath], ["From-Path", ourUri]]),
    flag: "$",
  };
}

/** Whether `s` is printable ASCII with no space: one URI, as it stands on the wire. */
function isPlain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127) return false;
  }
  return s.length > 0;
}

/** The first URI of a path value. */
function firstUri(path: string): string {
  return path.trim().split(/\s+/)[0];
}

/**
 * The answer to a frame the decoder could not read (§7.3, §10.2): 400 (or
 * the status the decoder chose) when it is a request that can be addressed,
 * else why nothing can be sent. A request without a To-Path is answered
 * from `ourUri`, when there is one.
 *
 * @param frame the frame the decoder could not read
 * @param ourUri our URI on this connection, if any (a missing To-Path is answered from it)
 * @returns the outcome to answer with, or the reason there is none (to log)
 */
export function answerToInvalid(
  frame: InvalidFrame,
  ourUri: () => MsrpUri | undefined,
): Extract<ReceiveOutcome, { kind: "answer" }> | string {
  const { tid, method, error } = frame;
  // A response, or a start line never read: there is no request to answer.
  if (tid === undefined || method === undefined) return "not a request";
  let headers = frame.headers;
  if (!headers.has("From-Path")) return "the request has no From-Path to address it to";
  if (!headers.has("To-Path")) {
    const uri = ourUri();
    if (uri === undefined) return "no To-Path and no session to answer from";
    headers = headers.clone();
    headers.set("To-Path", uri.toString());
  }
  return {
    kind: "answer",
    request: { tid, method, headers },
    status: error.status,
    comment: error.message,
  };
}

/**
 * A REPORT (§7.1.2) about octets `[start, end)` of a message, back along the
 * whole From-Path of `send`.
 *
 * @param send the SEND reported on (its first piece)
 * @param from our URI
 * @param messageId the message's id
 * @param range `[start, end)` 0-based, and the total (`*` when unknown)
 * @param status the status: `000 200 OK` for success, else a failure
 */
export function reportOn(
  send: MsrpRequest,
  from: MsrpUri,
  messageId: string,
  range: readonly [number, number, number | "*"],
  status: string,
): MsrpRequest {
  return {
    kind: "request",
    tid: newTransactionId(),
    method: "REPORT",
    headers: new HeaderList([
      ["To-Path", send.headers.get("From-Path")!], // the whole path back (§7.1.3)
      ["From-Path", from.toString()],
      ["Message-ID", messageId],
      ["Byte-Range", `${range[0] + 1}-${range[1]}/${range[2]}`],
      ["Status", status],
    ]),
    body: null,
    offset: 0,
    flag: "$",
  };
}

/** Options of a {@linkcode ReportGenerator}. */
export interface ReportGeneratorOptions {
  /** Our URI: the From-Path of the REPORTs we send. */
  readonly localUri: MsrpUri;
  /** Success REPORTs owed: one per `message` once complete, or one per `chunk`. Default `message`. */
  readonly successReports?: "message" | "chunk";
}

/** Turns receive outcomes into responses and REPORTs (the table in the module comment). */
export class ReportGenerator {
  readonly #localUri: MsrpUri;
  readonly #perChunk: boolean;

  /**
   * Makes a generator for one session.
   *
   * @param options our URI and the success REPORT granularity
   */
  constructor(options: ReportGeneratorOptions) {
    this.#localUri = options.localUri;
    this.#perChunk = options.successReports === "chunk";
  }

  /**
   * The frames owed for `outcome`, handed to `out` in the order they go.
   *
   * @param outcome what happened
   * @param out receives each response or REPORT
   */
  answer(outcome: ReceiveOutcome, out: (frame: MsrpRequest | MsrpResponse) => void): void {
    switch (outcome.kind) {
      case "answer": {
        const r = responseTo(outcome.request, outcome.status, outcome.comment);
        if (r !== undefined) out(r);
        return;
      }
      case "chunk": {
        const { request, message, start, end } = outcome;
        const r = responseTo(request, 200);
        if (r !== undefined) out(r);
        let successReport;
        try {
          successReport = getSuccessReport(request.headers);
        } catch {
          return; // answered 400 when it arrived; not here
        }
        if (!wantsSuccessReport(successReport) || outcome.flag === "#") return;
        const id = message.messageId;
        if (this.#perChunk) {
          out(reportOn(request, this.#localUri, id, [start, end, message.size ?? "*"], OK));
        } else if (message.state === "complete") {
          // A message completes once, at the end of some chunk, and is then forgotten.
          out(reportOn(request, this.#localUri, id, [0, message.size!, message.size!], OK));
        }
        return;
      }
      case "failed": {
        const { request, status, comment } = outcome;
        let failureReport: FailureReport = "yes";
        try {
          failureReport = getFailureReport(request.headers);
        } catch { /* answered as yes */ }
        if (!reportsLateFailure(failureReport)) return;
        // §7.1.4: range-start and total from the SEND, range-end from the data.
        const total = getByteRange(request.headers)?.total ?? "*";
        const range = [outcome.start, outcome.end, total] as const;
        out(
          reportOn(request, this.#localUri, outcome.messageId, range, `000 ${status} ${comment}`),
        );
        return;
      }
    }
  }
}

const OK = "000 200 OK";

/** A REPORT about one of our messages, as read (§7.3.2). */
export interface ReadReport {
  /** The Message-ID it reports on. */
  readonly messageId: string;
  /** Its Status (namespace 000). */
  readonly status: Status;
  /** The octets it covers, 0-based `[start, end)`, when it has a Byte-Range. */
  readonly span: [number, number] | undefined;
}

/**
 * Reads a REPORT (§7.3.2): its Message-ID, Status and the octets it covers.
 * A REPORT without a Message-ID, or whose Status is not in namespace 000,
 * is undefined (ignored, §7.1.2).
 *
 * @param request the REPORT
 * @throws {MsrpError} for a malformed header field
 */
export function readReport(request: MsrpRequest): ReadReport | undefined {
  const messageId = getMessageId(request.headers);
  const status = getStatus(request.headers);
  if (messageId === undefined || status === undefined || status.namespace !== "000") {
    return undefined;
  }
  const range = getByteRange(request.headers);
  const span: [number, number] | undefined = range === undefined ? undefined : [
    range.start - 1,
    typeof range.end === "number" ? range.end : range.total === "*" ? range.start - 1 : range.total,
  ];
  return { messageId, status, span };
}
