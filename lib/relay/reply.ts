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
 * The answer the relay gives most, a 200 to a SEND (one per chunk, hop by
 * hop, RFC 4976 §6.4.1), is written straight into its bytes: the start
 * line, the To-Path and From-Path lines (kept per connection, since a
 * connection's SENDs mostly come along one path), Message-ID and the
 * end-line, byte for byte what the general encoder writes.
 *
 * @module
 */

import { putAscii } from "../wire/bytes.ts";
import type { MsrpResponse } from "../wire/frame.ts";
import type { FailureReport } from "../wire/headers.ts";
import type { MsrpUri } from "../wire/uri.ts";
import type { Conn } from "./connection.ts";
import type { RelayCore } from "./core.ts";
import { responseOwed } from "../session/reports.ts";
import { relayResponse } from "./forwarding.ts";
import { enqueueEncoded, enqueueFrame } from "./outbound.ts";
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
  if (
    opts.status === 200 && info.method === "SEND" && info.messageId !== undefined &&
    opts.comment === undefined && opts.headers === undefined
  ) {
    const bytes = sendOkBytes(c, info.tid, info.fromPath[0], info.ourUri, info.messageId);
    if (bytes !== undefined) {
      enqueueEncoded(core, c, bytes);
      return;
    }
  }
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

/** The To-Path and From-Path lines of the last 200 to a SEND on each connection. */
const okPaths = new WeakMap<Conn, { to: MsrpUri; from: MsrpUri; bytes: Uint8Array }>();
const utf8 = new TextEncoder();
const OK_START = utf8.encode(" 200 OK\r\n");
const MESSAGE_ID_NAME = utf8.encode("Message-ID: ");
const DASHES = utf8.encode("-------");
/** Ids are idents (§9): no space, no control, "!" to "~". */
const IDENT = 0x21;

/**
 * A relay's 200 to a SEND (RFC 4975 §7.2: To-Path the previous hop, From-Path
 * the relay's URI as the request named it; RFC 4976 §3: with the Message-ID),
 * encoded as the general encoder would, or `undefined` when an id is not
 * plain ASCII (the general path then handles it).
 *
 * @param c the connection the answer goes to
 * @param tid the SEND's transaction id
 * @param to the previous hop: the first URI of the SEND's From-Path
 * @param from the relay's URI as the SEND's To-Path named it
 * @param messageId the SEND's Message-ID
 */
export function sendOkBytes(
  c: Conn,
  tid: string,
  to: MsrpUri,
  from: MsrpUri,
  messageId: string,
): Uint8Array | undefined {
  let paths = okPaths.get(c);
  if (paths === undefined || paths.to !== to || paths.from !== from) {
    paths = { to, from, bytes: utf8.encode(`To-Path: ${to}\r\nFrom-Path: ${from}\r\n`) };
    okPaths.set(c, paths);
  }
  const head = paths.bytes;
  const buf = new Uint8Array(
    5 + tid.length + OK_START.length + head.length + MESSAGE_ID_NAME.length +
      messageId.length + 2 + DASHES.length + tid.length + 3,
  );
  buf.set(MSRP_SP);
  let at = putAscii(tid, buf, 5, IDENT);
  if (at < 0) return undefined;
  buf.set(OK_START, at);
  at += OK_START.length;
  buf.set(head, at);
  at += head.length;
  buf.set(MESSAGE_ID_NAME, at);
  at = putAscii(messageId, buf, at + MESSAGE_ID_NAME.length, IDENT);
  if (at < 0) return undefined;
  buf[at++] = 13;
  buf[at++] = 10;
  buf.set(DASHES, at);
  at = putAscii(tid, buf, at + DASHES.length, IDENT);
  if (at < 0) return undefined;
  buf[at++] = 0x24; // "$"
  buf[at++] = 13;
  buf[at++] = 10;
  return buf;
}

const MSRP_SP = utf8.encode("MSRP ");
