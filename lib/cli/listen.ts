/**
 * `msrp listen`: the passive side of a session without SDP (RFC 4975 §5.4).
 *
 * Normally each side learns the other's URI from SDP (§8). Here the
 * listener prints its session URI and the peer connects to it: the peer's
 * first request (a bodiless SEND, §5.4) binds the session to the connection
 * it arrived on. The listener does not know the peer's URI in advance, so it
 * accepts any From-Path; it only receives, and responses and success
 * REPORTs travel back along the request's own From-Path (§7.2, §7.1.3).
 *
 * Any number of peers can use the printed URI, each in a session of its
 * own ({@linkcode MsrpEndpoint.acceptEach}): a peer's session is made as
 * its first SEND is routed, so peers whose first requests arrive together
 * (through a relay, in one read of the one relay connection) each get
 * theirs. The connection tells the sessions apart by the From-Path (the
 * peer's URI, last; RFC 4976 §6.4). A direct session ends when its peer's
 * connection closes; through a relay nothing says a peer has gone, so at
 * most {@linkcode MAX_PEERS} sessions are kept, and past that the one quiet
 * the longest is closed (its peer gets a new one with its next SEND).
 *
 * @module
 */

import { MsrpEndpoint, type ServedUri } from "../endpoint/endpoint.ts";
import { ISCOMPOSING_CONTENT_TYPE } from "../payload/iscomposing.ts";
import type { IncomingMessage } from "../session/reassembly.ts";
import type { MsrpSession } from "../session/session.ts";
import {
  type CliIo,
  describeFailure,
  ENDPOINT_FLAGS,
  endpointOptions,
  EXIT_OK,
  forTerminal,
  parseCommandArgs,
  parsePort,
  peerPins,
  str,
  UsageError,
  waitForSignal,
} from "./common.ts";
import { LISTEN_HELP } from "./help.ts";
import { isAttachment, saveMessage } from "./save.ts";

/** The flags of `msrp listen`. */
export const LISTEN_FLAGS = {
  ...ENDPOINT_FLAGS,
  host: { type: "string" },
  bind: { type: "string" },
  port: { type: "string" },
  save: { type: "string" },
  once: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Starts a listening endpoint from the flags shared by `listen` and `chat --listen`.
 *
 * @param values parsed flags (`--host`, `--bind`, `--port`, TLS, relay)
 * @param defaultPort the port when `--port` is absent
 * @param command the command's name, for `--trace` lines
 */
export async function startListening(
  values: Record<string, unknown>,
  defaultPort = 0,
  command = "listen",
): Promise<MsrpEndpoint> {
  const options = await endpointOptions(values, undefined, command);
  const portText = str(values, "port");
  return await MsrpEndpoint.start({
    ...options,
    host: str(values, "host") ?? "127.0.0.1",
    bindAddress: str(values, "bind"),
    // Through a relay, peers reach us on our relay connection: no port needed (RFC 4976 §5.1).
    port: portText !== undefined
      ? parsePort(portText, "--port")
      : options.relays !== undefined
      ? undefined
      : defaultPort,
  });
}

/**
 * A session waiting for any peer on `endpoint`: it learns the peer's path
 * from the request that binds it (§5.4) and checks later From-Paths
 * against it.
 *
 * @param endpoint the listening endpoint
 */
export function passiveSession(endpoint: MsrpEndpoint): MsrpSession {
  return endpoint.createSession();
}

/**
 * Whether a message is an RFC 3994 is-composing status (shown nowhere).
 *
 * @param m the message
 */
export function isComposingStatus(m: IncomingMessage): boolean {
  return m.contentType === ISCOMPOSING_CONTENT_TYPE;
}

/** The largest text (by its declared size) printed rather than saved: 1 MiB. */
const MAX_PRINTED = 1024 * 1024;

/**
 * Prints or saves one message as `listen` does: text printed, other content
 * (or everything with `saveDir`) streamed to a file.
 *
 * @param m the message
 * @param io where to print
 * @param saveDir `--save`, if given
 */
export async function handleMessage(
  m: IncomingMessage,
  io: CliIo,
  saveDir: string | undefined,
): Promise<void> {
  if (isComposingStatus(m) || m.duplicate) {
    // Status only, or already shown (§5.4): read and dropped, never held whole.
    await m.stream().pipeTo(new WritableStream()).catch(() => {});
    return;
  }
  const save = saveDir !== undefined || !m.contentType.startsWith("text/") || isAttachment(m) ||
    (m.size !== undefined && m.size > MAX_PRINTED); // a large text goes to disk, not to memory
  try {
    let body: ReadableStream<Uint8Array> | undefined;
    if (!save) {
      // An unknown total ("*", §7.1.1) is printed only if it ends within MAX_PRINTED.
      const read = m.size === undefined ? await readUpTo(m, MAX_PRINTED) : await m.bytes();
      if (read instanceof Uint8Array) {
        let text = new TextDecoder().decode(read);
        if (io.stdoutIsTerminal) text = forTerminal(text);
        io.out(text.endsWith("\n") ? text : text + "\n");
        return;
      }
      body = read; // longer: to disk after all
    }
    const { path, bytes } = await saveMessage(m, saveDir ?? ".", body);
    io.err(`msrp listen: saved ${bytes} bytes (${m.contentType}) to ${path}\n`);
  } catch (e) {
    io.err(`msrp listen: message ${m.messageId}: ${describeFailure(e).line}\n`);
  }
}

/** The most peers `listen` serves at once; past it the session quiet the longest is closed. */
export const MAX_PEERS = 100;

/**
 * Reads a message as a stream until it ends or passes `limit` octets: the
 * whole body if it ended within the limit, else a stream of the whole body
 * (what was read, then the rest), so that nothing is held past the limit.
 *
 * @param m the message, not read yet
 * @param limit the most octets held
 */
async function readUpTo(
  m: IncomingMessage,
  limit: number,
): Promise<Uint8Array | ReadableStream<Uint8Array>> {
  const reader = m.stream().getReader();
  const parts: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    length += value.length;
    if (length > limit) {
      return new ReadableStream({
        pull: async (controller) => {
          const next = parts.shift();
          if (next !== undefined) return controller.enqueue(next);
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        cancel: (reason) => reader.cancel(reason),
      });
    }
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Handles every message of a session until it ends, or only the first one.
 *
 * @param session a bound session
 * @param io where to print
 * @param saveDir `--save`, if given
 * @param once stop after the first message (not counting is-composing status)
 * @param onMessage called as each message starts arriving
 */
export async function serveMessages(
  session: MsrpSession,
  io: CliIo,
  saveDir: string | undefined,
  once = false,
  onMessage?: () => void,
): Promise<void> {
  // Messages are handled side by side: one waiting on disk must not stall
  // the others, which share the connection (back-pressure, §7.3.1).
  const pending = new Set<Promise<void>>();
  for await (const m of session.messages()) {
    onMessage?.();
    const task = handleMessage(m, io, saveDir);
    if (once && !isComposingStatus(m)) {
      await task;
      break;
    }
    pending.add(task);
    task.finally(() => pending.delete(task));
  }
  await Promise.all(pending);
}

/**
 * Runs `msrp listen`.
 *
 * @param args the arguments after `listen`
 * @param io standard streams and signals
 * @returns the exit code
 */
export async function listenCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, LISTEN_FLAGS);
  if (values.help === true) {
    io.out(LISTEN_HELP);
    return EXIT_OK;
  }
  const saveDir = str(values, "save");
  if (saveDir !== undefined) {
    const info = await Deno.stat(saveDir).catch(() => undefined);
    if (info === undefined || !info.isDirectory) {
      throw new UsageError(`--save ${saveDir}: not a directory`);
    }
  }
  const pins = peerPins(values, str(values, "tls-cert") !== undefined);
  const endpoint = await startListening(values);
  const { signal, dispose } = waitForSignal(io);
  const stopped = signal.then(() => "stopped" as const);
  let stopping = false;
  stopped.then(() => (stopping = true));
  const once = values.once === true;
  // The sessions being served, the one quiet the longest first.
  const serving = new Map<MsrpSession, Promise<void>>();
  const touch = (peer: MsrpSession): void => {
    const served = serving.get(peer);
    if (served === undefined) return;
    serving.delete(peer);
    serving.set(peer, served);
  };
  const first = Promise.withResolvers<MsrpSession>();
  const service: ServedUri = endpoint.acceptEach((peer) => {
    io.err(`msrp listen: a peer bound a session\n`);
    if (once) {
      service.stop(); // the next peer is refused, even one read in the same turn
      first.resolve(peer);
      return;
    }
    const served = serveMessages(peer, io, saveDir, false, () => touch(peer)).then(() => {
      serving.delete(peer);
      if (!stopping) io.err(`msrp listen: a peer's session ended\n`);
    });
    serving.set(peer, served);
    if (serving.size > MAX_PEERS) {
      const [quiet] = serving.keys();
      io.err(`msrp listen: ${MAX_PEERS} peers at once: closing the session quiet the longest\n`);
      quiet.close();
    }
  }, {
    ...pins,
    // A peer refused by --fingerprint (RFC 4975 §14.4): say why, serve the next.
    onRefused: (e) => io.err(`msrp listen: ${describeFailure(e).line}\n`),
  });
  try {
    io.out(endpoint.path(service).join(" ") + "\n");
    io.err(`msrp listen: waiting for a peer (Ctrl-C to stop)\n`);
    if (once) {
      const peer = await Promise.race([first.promise, stopped]);
      if (peer !== "stopped") {
        const served = serveMessages(peer, io, saveDir, true);
        const end = await Promise.race([served.then(() => "ended" as const), stopped]);
        if (end === "stopped") peer.close();
        await served; // closing the endpoint still sends the 200 and REPORT owed
      }
    } else await stopped;
  } finally {
    service.stop();
    for (const peer of serving.keys()) peer.close();
    await Promise.all(serving.values());
    dispose();
    await endpoint.close();
  }
  return EXIT_OK;
}
