/**
 * Answering a request the relay received (RFC 4975 §7.2; RFC 4976 §3,
 * §6.4.1).
 *
 * Whether an answer is owed depends on the method and on Failure-Report
 * (RFC 4975 §7.2), by the endpoints' table (`session/reports.ts`):
 * REPORTs are never answered, `Failure-Report: no` asks for no answer at
 * all, `partial` on a SEND for error answers only. The answer goes
 * back over the connection the request came on, addressed along its
 * From-Path, with the relay's URI (as the request named it) in From-Path.
 *
 * @module
 */

import type { MsrpResponse } from "../wire/frame.ts";
import type { FailureReport } from "../wire/headers.ts";
import type { MsrpUri } from "../wire/uri.ts";
import type { Conn } from "./connection.ts";
import type { RelayCore } from "./core.ts";
import { responseOwed } from "../session/reports.ts";
import { relayResponse } from "./forwarding.ts";
import { enqueueFrame } from "./outbound.ts";
import { describe } from "./services.ts";

/** The facts needed to answer a request. */
export interface ReqInfo {
  readonly tid: string;
  readonly method: string;
  readonly fromPath: readonly MsrpUri[];
  readonly ourUri: MsrpUri;
  readonly fr: FailureReport;
  readonly messageId: string | undefined;
}

/**
 * Answers a request when RFC 4975 §7.2 says an answer is owed.
 *
 * @param core the relay
 * @param c the connection the request came over
 * @param info the request's id, method, paths and Failure-Report
 * @param opts the status, an optional comment and extra header fields
 */
export function reply(
  core: RelayCore,
  c: Conn,
  info: ReqInfo,
  opts: { status: number; comment?: string; headers?: [string, string][] },
): void {
  if (!responseOwed(info.method, info.fr, opts.status)) return; // RFC 4975 §7.2, §7.1.4
  const headers: [string, string][] = [];
  // As in the RFC 4976 §3 example, a SEND's response names the message.
  if (info.method === "SEND" && info.messageId !== undefined) {
    headers.push(["Message-ID", info.messageId]);
  }
  headers.push(...(opts.headers ?? []));
  let frame: MsrpResponse;
  try {
    frame = relayResponse({
      tid: info.tid,
      method: info.method,
      status: opts.status,
      comment: opts.comment,
      fromPath: info.fromPath,
      ourUri: info.ourUri,
      headers,
    });
  } catch (e) {
    core.log("error", "internal-error", `cannot build a response: ${describe(e)}`, c, e);
    return;
  }
  enqueueFrame(core, c, frame);
}
