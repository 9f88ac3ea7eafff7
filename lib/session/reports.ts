/**
 * Who answers what, and when: the Success-Report / Failure-Report rules of
 * RFC 4975 §5.3, §7.1.1-§7.1.4, §7.2 and §7.3.2, as one table.
 *
 * A SEND carries two wishes of its sender. Failure-Report (`yes` when
 * absent) says how failures are reported hop by hop; Success-Report (`no`
 * when absent) asks for an end-to-end REPORT once the bytes have arrived.
 *
 * ```
 *  RECEIVER of a SEND chunk   | chunk accepted | chunk refused   | failure found after answering
 *  ---------------------------+----------------+-----------------+------------------------------
 *  Failure-Report: yes        | 200 response   | error response  | failure REPORT
 *  Failure-Report: partial    | no response    | error response  | failure REPORT
 *  Failure-Report: no         | no response    | no response     | nothing
 *
 *  Success-Report: yes        -> success REPORT(s) covering the received bytes (§7.1.3)
 *  Success-Report: no         -> no success REPORT
 *
 *  SENDER of a SEND chunk     | waits for a response?          | on a non-200 response or REPORT
 *  ---------------------------+--------------------------------+------------------------------------
 *  Failure-Report: yes        | yes, 30 s after its last byte; | the message fails; an open chunk
 *                             | no answer = 408 (§7.1.1)       | is ended with "#" (§7.3.2)
 *  Failure-Report: partial    | no timer; errors may come      | same
 *  Failure-Report: no         | nothing comes back             | -
 *
 *  Never: a response to a REPORT, a REPORT about a REPORT (§7.1.2);
 *  a REPORT for an unknown Message-ID is ignored (§7.1.1, §7.1.2).
 * ```
 *
 * @module
 */

import type { FailureReport, SuccessReport } from "../wire/headers.ts";

/** What the receiver of a SEND chunk does in one situation. */
export type ReceiverAction = "200 response" | "error response" | "failure REPORT" | "nothing";

/** The receiver's half of the table above, row by row. */
export const RECEIVER_RULES: Readonly<
  Record<
    FailureReport,
    { accepted: ReceiverAction; refused: ReceiverAction; later: ReceiverAction }
  >
> = Object.freeze({
  yes: { accepted: "200 response", refused: "error response", later: "failure REPORT" },
  partial: { accepted: "nothing", refused: "error response", later: "failure REPORT" },
  no: { accepted: "nothing", refused: "nothing", later: "nothing" },
});

/** How the sender of a SEND chunk treats its transaction. */
export interface SenderRule {
  /** Whether a response is expected at all (so the transaction is remembered). */
  readonly expectsResponse: boolean;
  /** Whether the 30-second timer runs, turning silence into a local 408. */
  readonly timer: boolean;
}

/** The sender's half of the table above. */
export const SENDER_RULES: Readonly<Record<FailureReport, SenderRule>> = Object.freeze({
  yes: { expectsResponse: true, timer: true },
  partial: { expectsResponse: true, timer: false },
  no: { expectsResponse: false, timer: false },
});

/**
 * The transaction response a receiver sends for a SEND chunk, or
 * `undefined` when it must stay silent (§7.2, §7.1.4).
 *
 * @param failureReport the chunk's Failure-Report (default `yes`)
 * @param status 200 when the chunk is accepted, else the error code
 *
 * @example Whether, and how, a chunk is answered
 * ```ts
 * import { responseFor } from "@msrp/msrp/session";
 *
 * console.log(responseFor("yes", 200)); // 200
 * console.log(responseFor("partial", 200)); // undefined: no response to a success
 * console.log(responseFor("partial", 415)); // 415
 * console.log(responseFor("no", 415)); // undefined
 * ```
 */
export function responseFor(failureReport: FailureReport, status: number): number | undefined {
  const rule = RECEIVER_RULES[failureReport];
  const action = status === 200 ? rule.accepted : rule.refused;
  return action === "nothing" ? undefined : status;
}

/**
 * Whether a failure found after a chunk was answered is reported with a
 * failure REPORT (§7.1.4).
 *
 * @param failureReport the chunk's Failure-Report
 *
 * @example Whether a failure found later is reported
 * ```ts
 * import { reportsLateFailure } from "@msrp/msrp/session";
 *
 * console.log(reportsLateFailure("yes"), reportsLateFailure("no")); // true false
 * ```
 */
export function reportsLateFailure(failureReport: FailureReport): boolean {
  return RECEIVER_RULES[failureReport].later === "failure REPORT";
}

/**
 * Whether success REPORTs are owed (§7.1.3).
 *
 * @param successReport the message's Success-Report (default `no`)
 *
 * @example Whether the sender asked for a success REPORT
 * ```ts
 * import { wantsSuccessReport } from "@msrp/msrp/session";
 * import { getSuccessReport, HeaderList } from "@msrp/msrp/wire";
 *
 * const headers = new HeaderList([["Success-Report", "yes"]]);
 * console.log(wantsSuccessReport(getSuccessReport(headers))); // true
 * ```
 */
export function wantsSuccessReport(successReport: SuccessReport): boolean {
  return successReport === "yes";
}

/**
 * Whether a request of this method gets a transaction response at all.
 * REPORTs never do (§7.1.2); every other method does, subject to
 * Failure-Report for SEND.
 *
 * @param method the request method
 *
 * @example Which requests get a transaction response
 * ```ts
 * import { methodGetsResponse } from "@msrp/msrp/session";
 *
 * console.log(methodGetsResponse("SEND"), methodGetsResponse("REPORT")); // true false
 * ```
 */
export function methodGetsResponse(method: string): boolean {
  return method !== "REPORT";
}
