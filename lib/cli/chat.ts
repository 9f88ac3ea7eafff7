/**
 * `msrp chat`: two people, one MSRP session, lines of text both ways
 * (RFC 4975 §5.4, §7.1).
 *
 * One side listens (`--listen`) and prints its URI; the other connects to
 * it (`--to`). Each line read from standard input is sent as a
 * `text/plain` message; each text message received is printed as
 * `peer> line`.
 *
 * Without SDP, the listening side does not know the peer's path in advance:
 * its session learns it from the From-Path of the SEND that binds it (§5.4;
 * the From-Path is the way back, relays first, RFC 4976 §6.4), so either
 * side may speak first.
 *
 * @module
 */

import { MsrpEndpoint } from "../endpoint/endpoint.ts";
import type { MsrpSession } from "../session/session.ts";
import {
  type CliIo,
  describeFailure,
  ENDPOINT_FLAGS,
  endpointOptions,
  EXIT_FAILED,
  EXIT_OK,
  FOREVER_MS,
  forTerminal,
  parseCommandArgs,
  parseUriList,
  peerPins,
  str,
  UsageError,
  waitForSignal,
} from "./common.ts";
import { CHAT_HELP } from "./help.ts";
import { readLines } from "./lines.ts";
import { isComposingStatus, passiveSession, startListening } from "./listen.ts";

/** The flags of `msrp chat`. */
export const CHAT_FLAGS = {
  ...ENDPOINT_FLAGS,
  listen: { type: "boolean" },
  to: { type: "string" },
  host: { type: "string" },
  bind: { type: "string" },
  port: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * The lines printed for a received text: each of its lines after `prefix`.
 *
 * @param text the message's text
 * @param prefix what goes before each line
 */
export function formatIncoming(text: string, prefix = "peer> "): string {
  const lines = text.replace(/\r?\n$/, "").split(/\r?\n/);
  return lines.map((l) => prefix + l + "\n").join("");
}

/**
 * Runs `msrp chat`.
 *
 * @param args the arguments after `chat`
 * @param io standard streams and signals
 * @returns the exit code
 */
export async function chatCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, CHAT_FLAGS);
  if (values.help === true) {
    io.out(CHAT_HELP);
    return EXIT_OK;
  }
  const to = str(values, "to");
  const listening = values.listen === true;
  if (listening === (to !== undefined)) {
    throw new UsageError("give either --listen or --to <uri>");
  }
  const path = to === undefined ? undefined : parseUriList(to);
  const { signal, dispose } = waitForSignal(io);
  const stopped = signal.then(() => "stopped" as const);
  let endpoint: MsrpEndpoint | undefined;
  try {
    let session: MsrpSession;
    if (path === undefined) {
      const pins = peerPins(values, str(values, "tls-cert") !== undefined);
      endpoint = await startListening(values, 0, "chat");
      session = passiveSession(endpoint);
      io.out(endpoint.path(session).join(" ") + "\n");
      io.err("msrp chat: waiting for a peer (Ctrl-C to stop)\n");
      const bound = endpoint.accept(session, [], { timeout: FOREVER_MS, ...pins })
        .then(() => "bound" as const);
      bound.catch(() => {}); // after a signal the session is closed unbound: not an error
      if (await Promise.race([bound, stopped]) === "stopped") return EXIT_OK;
    } else {
      const options = await endpointOptions(values, undefined, "chat");
      const pins = peerPins(values, path[0].secure);
      endpoint = await MsrpEndpoint.start(options);
      session = endpoint.createSession();
      await endpoint.connect(session, path, pins);
    }
    io.err(
      io.stdinIsTerminal
        ? "msrp chat: connected; type a line and press Enter to send it, Ctrl-D to leave\n"
        : "msrp chat: connected\n",
    );

    const receiving = (async () => {
      for await (const m of session.messages()) {
        if (isComposingStatus(m) || m.duplicate) {
          await m.bytes().catch(() => {});
          continue;
        }
        try {
          const text = m.contentType.startsWith("text/")
            ? await m.text()
            : `[${m.contentType} message of ${(await m.bytes()).length} bytes not shown]`;
          io.out(formatIncoming(io.stdoutIsTerminal ? forTerminal(text) : text));
        } catch (e) {
          io.err(`msrp chat: message ${m.messageId}: ${describeFailure(e).line}\n`);
        }
      }
    })();

    let failures = 0;
    const sending = (async () => {
      for await (const line of readLines(io.stdin)) {
        if (session.ended) break;
        if (line.trim() === "") continue;
        try {
          await session.send(line);
        } catch (e) {
          if (session.ended) break;
          failures++;
          io.err(`msrp chat: ${describeFailure(e).line}\n`);
        }
      }
    })();

    const end = await Promise.race([
      sending.then(() => "eof" as const),
      session.closed.then(() => "peer-left" as const),
      stopped,
    ]);
    if (end === "peer-left") io.err("msrp chat: the peer left\n");
    session.close();
    await receiving;
    return failures > 0 ? EXIT_FAILED : EXIT_OK;
  } finally {
    dispose();
    await endpoint?.close();
  }
}
