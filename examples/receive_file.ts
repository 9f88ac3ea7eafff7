/**
 * A file receiver: listens, prints its URI, and saves what arrives
 * (RFC 4975 §5.4, §7.1; file names from Content-Disposition, RFC 2183).
 *
 * Without SDP the receiver cannot know its peer in advance, so it accepts
 * a session with an empty peer path: the first peer that sends to its URI
 * binds the session (§5.4). Each message is streamed to disk as it arrives
 * (`message.stream()`), under the file name its sender gave in
 * `Content-Disposition` (only the last path component: never trust a path
 * from the network) or else its Message-ID. When the peer leaves, the same
 * URI waits for the next one. Send it files with the CLI:
 *
 *   msrp send --to '<the printed URI>' --file photo.jpg
 *
 * Run it without arguments for a demonstration that needs no set-up and
 * writes nothing: it sends itself one file and prints what it received.
 *
 *   deno run --allow-net=127.0.0.1 examples/receive_file.ts
 *
 * Receive into a directory (add --once to exit when the first peer that
 * sent a file leaves):
 *
 *   deno run --allow-net=127.0.0.1 --allow-write=inbox examples/receive_file.ts inbox --once
 *
 * @module
 */

import { type IncomingMessage, MsrpEndpoint, MsrpSession } from "../mod.ts";

const [dir, ...flags] = Deno.args;
const once = flags.includes("--once");

/** A file name from the message: Content-Disposition's filename, else the Message-ID. */
function fileName(message: IncomingMessage): string {
  const disposition = message.headers.get("Content-Disposition") ?? "";
  const m = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(disposition);
  const given = (m?.[1] ?? m?.[2] ?? "").replace(/\\(.)/g, "$1");
  // deno-lint-ignore no-control-regex
  const base = given.split(/[\\/]/).pop()!.replace(/[\x00-\x1f\x7f<>:"|?*]/g, "_");
  return base === "" || base.startsWith(".") ? message.messageId : base;
}

/** Streams one message into `dir` (a new file; never overwrites). */
async function save(message: IncomingMessage, dir: string): Promise<string> {
  const path = `${dir}/${fileName(message)}`;
  const file = await Deno.open(path, { write: true, createNew: true });
  try {
    await message.stream().pipeTo(file.writable);
  } catch (error) {
    await Deno.remove(path).catch(() => {}); // aborted or cut off: keep nothing half-written
    throw error;
  }
  return path;
}

const endpoint = await MsrpEndpoint.start({ host: "127.0.0.1", port: 0 });

if (dir === undefined) {
  // The demonstration: receive one file from a sender in this process.
  const session = endpoint.createSession();
  console.log(`receiving at ${session.localUri}`);
  const waiting = endpoint.accept(session, []); // empty peer path: any peer may bind it
  const sender = await MsrpEndpoint.start({ host: "127.0.0.1" });
  const tx = sender.createSession();
  await sender.connect(tx, [session.localUri]);
  await waiting;
  const body = new TextEncoder().encode("A small file, sent to show the receiver.\n".repeat(1000));
  const [message] = await Promise.all([
    session.nextMessage(),
    tx.send(body, {
      contentType: "text/plain",
      headers: [["Content-Disposition", 'attachment; filename="../../etc/notes.txt"']],
    }),
  ]);
  const bytes = await message!.bytes();
  console.log(`received ${bytes.length} bytes; it would be saved as "${fileName(message!)}"`);
  await sender.close();
  await endpoint.close();
} else {
  // The receiver: one peer at a time, on the same URI, until stopped (or --once).
  let session: MsrpSession = endpoint.createSession();
  const uri = session.localUri;
  console.log(uri.toString());
  let saved = 0;
  for (;;) {
    await endpoint.accept(session, [], 2 ** 31 - 1);
    for await (const message of session.messages()) {
      try {
        const path = await save(message, dir);
        saved++;
        console.error(`saved ${message.received} bytes (${message.contentType}) to ${path}`);
      } catch (error) {
        console.error(`not saved: ${(error as Error).message}`);
      }
    }
    // The session ended: the peer closed its connection.
    session.close();
    if (once && saved > 0) break;
    // The same URI again for the next peer (a new session object, §5.4).
    session = new MsrpSession({ localUri: uri });
  }
  session.close();
  await endpoint.close();
}
