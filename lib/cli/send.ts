/**
 * `msrp send`: the active side of a session without SDP (RFC 4975 §5.4).
 *
 * The sender makes an endpoint that does not listen (its URI carries port 9,
 * RFC 6135 §4.2.2), connects to the first hop of the peer's path (or to its
 * own relay, RFC 4976 §5.1), sends the bodiless SEND that binds the session,
 * then the message, and waits for the confirmation it asked for: 200
 * responses (Failure-Report yes, §7.1.4) and, with `--success-report`, the
 * receiver's success REPORT (§7.1.3). Through a relay the 200 comes from the
 * relay, hop by hop (RFC 4976 §6.4.1): it says the relay has the message, not
 * that the receiver got it. Only `--success-report` asks the receiver to
 * confirm end to end, since many receivers never send one. A file goes as a
 * stream, in chunks, with a Content-Disposition naming it (RFC 2183).
 *
 * @module
 */

import { MsrpEndpoint } from "../endpoint/endpoint.ts";
import type { MessageBody } from "../session/body_source.ts";
import type { SendResult } from "../session/outgoing.ts";
import { formatContentDisposition, parseContentType } from "../wire/headers.ts";
import {
  type CliIo,
  ENDPOINT_FLAGS,
  endpointOptions,
  EXIT_OK,
  ioReason,
  parseCommandArgs,
  parseUriList,
  peerPins,
  str,
  UsageError,
} from "./common.ts";
import { SEND_HELP } from "./help.ts";
import { contentTypeForFile } from "./media.ts";
import { formatBytes, ProgressBar } from "./progress.ts";

/** The flags of `msrp send`. */
export const SEND_FLAGS = {
  ...ENDPOINT_FLAGS,
  to: { type: "string" },
  file: { type: "string" },
  "content-type": { type: "string" },
  "success-report": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** What is sent: the body, its size, its type and headers. */
interface Outgoing {
  body: MessageBody;
  size: number | undefined;
  contentType: string;
  headers: [string, string][];
  /** A file or standard input: show progress. */
  large: boolean;
  close(): void;
}

async function openFile(path: string): Promise<Outgoing> {
  let file: Deno.FsFile;
  let size: number;
  try {
    file = await Deno.open(path, { read: true });
    const info = await file.stat();
    if (!info.isFile) {
      file.close();
      throw new Deno.errors.IsADirectory("not a regular file");
    }
    size = info.size;
  } catch (e) {
    throw new UsageError(`cannot read --file ${path}: ${ioReason(e)}`);
  }
  const name = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  let disposition = "attachment";
  try {
    disposition = formatContentDisposition({ type: "attachment", params: [["filename", name]] });
  } catch {
    // a name that cannot be quoted (control characters): send without it
  }
  return {
    body: file.readable,
    size,
    contentType: contentTypeForFile(name),
    headers: [["Content-Disposition", disposition]],
    large: true,
    close: () => {
      try {
        file.close();
      } catch {
        // the stream closed it
      }
    },
  };
}

/**
 * The stream again, unless it ends without a single octet (`undefined`):
 * an empty SEND would only be a keep-alive (RFC 4975 §7.1), not a message.
 *
 * @param stream e.g. standard input
 */
export async function nonEmpty(
  stream: ReadableStream<Uint8Array>,
): Promise<ReadableStream<Uint8Array> | undefined> {
  const reader = stream.getReader();
  let first: Uint8Array | undefined;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      reader.releaseLock();
      return undefined;
    }
    if (value.length > 0) {
      first = value;
      break;
    }
  }
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(first);
    },
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Runs `msrp send`.
 *
 * @param args the arguments after `send`
 * @param io standard streams
 * @returns the exit code
 */
export async function sendCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, SEND_FLAGS, true);
  if (values.help === true) {
    io.out(SEND_HELP);
    return EXIT_OK;
  }
  const to = str(values, "to");
  if (to === undefined) throw new UsageError("--to is required: the peer's msrp: or msrps: URI");
  const path = parseUriList(to);
  const filePath = str(values, "file");
  if (filePath !== undefined && positionals.length > 0) {
    throw new UsageError("give either a text or --file, not both");
  }
  const contentType = str(values, "content-type");
  if (contentType !== undefined) {
    try {
      parseContentType(contentType);
    } catch (e) {
      throw new UsageError(`bad --content-type: ${(e as Error).message}`);
    }
  }
  const options = await endpointOptions(values, undefined, "send");

  let outgoing: Outgoing;
  if (filePath !== undefined) outgoing = await openFile(filePath);
  else if (positionals.length > 0) {
    outgoing = {
      body: positionals.join(" "),
      size: undefined,
      contentType: "text/plain;charset=UTF-8",
      headers: [],
      large: false,
      close: () => {},
    };
  } else if (!io.stdinIsTerminal) {
    const body = await nonEmpty(io.stdin);
    if (body === undefined) throw new UsageError("nothing to send: standard input was empty");
    outgoing = {
      body,
      size: undefined,
      contentType: "text/plain;charset=UTF-8",
      headers: [],
      large: true,
      close: () => {},
    };
  } else {
    throw new UsageError("nothing to send: give a text, --file <path>, or pipe data into stdin");
  }

  const bar = new ProgressBar(io.err, outgoing.large && io.stderrIsTerminal);
  let endpoint: MsrpEndpoint | undefined;
  try {
    endpoint = await MsrpEndpoint.start(options);
    const session = endpoint.createSession();
    await endpoint.connect(session, path, peerPins(values, path[0].secure));
    let result: SendResult;
    try {
      result = await session.send(outgoing.body, {
        contentType: contentType ?? outgoing.contentType,
        // Asked for only on request: a receiver that never sends success
        // REPORTs (many do not) would otherwise fail every send (§7.1.3).
        successReport: values["success-report"] === true,
        headers: outgoing.headers,
        size: outgoing.size,
        onProgress: (p) => bar.update(p),
      });
    } finally {
      bar.finish();
    }
    const how = result.confirmedBy === "report"
      ? "confirmed by a success report"
      : result.confirmedBy === "response"
      ? options.relays !== undefined
        ? "confirmed by the relay's 200 response (--success-report asks the receiver)"
        : "confirmed by a 200 response"
      : "not confirmed";
    const rate = outgoing.large && bar.elapsed > 0
      ? `, ${formatBytes(Math.round(result.bytesSent / bar.elapsed))}/s`
      : "";
    io.err(
      `msrp send: delivered ${result.bytesSent} bytes (${formatBytes(result.bytesSent)}` +
        `${rate}) to ${path[path.length - 1]}, ${how}\n`,
    );
    return EXIT_OK;
  } finally {
    outgoing.close();
    await endpoint?.close();
  }
}
