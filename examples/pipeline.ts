/**
 * A receiver wired by hand from the stages (RFC 4975 §5.4, §7.1-§7.3).
 *
 * No session object here: the bytes of a TCP connection go through five
 * `TransformStream`s and come back out as bytes, and each stage owns one
 * part of the RFC:
 *
 * ```
 * conn.readable
 *   -> FrameDecoderStream   bytes -> frames                       §7, §9
 *   -> SessionStateStream   is it for us? 481, 403, 506, 501      §5.4, §7.3
 *   -> ReassemblyStream     chunks -> messages (on .messages)     §7.3.1
 *   -> ReportStream         200s and REPORTs owed                 §7.1.2-§7.1.4
 *   -> FrameEncoderStream   frames -> bytes                       §7.1
 *   -> conn.writable
 * ```
 *
 * The sender is the real `msrp send`, run in this process, asking for a
 * success REPORT (§7.1.3): it succeeds only once this pipeline has answered
 * its binding SEND, its message, and sent the REPORT.
 *
 * Run it:
 *
 *   deno run --allow-net=127.0.0.1 examples/pipeline.ts
 *
 * It prints the message received and the sender's result, and exits 0.
 *
 * @module
 */

import { FrameDecoderStream, FrameEncoderStream } from "../lib/wire/mod.ts";
import {
  ReassemblyStream,
  ReportStream,
  SessionState,
  SessionStateStream,
} from "../lib/session/mod.ts";
import { runCli } from "../lib/cli/main.ts";

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const state = new SessionState({ localUri: `msrp://127.0.0.1:${listener.addr.port}/pipe1;tcp` });
console.log(`receiving at ${state.localUri}`);

// The sender: `msrp send --success-report --to <our URI> <text>`.
const sending = runCli(
  ["send", "--success-report", "--to", String(state.localUri), "hello through the stages"],
  {
    out: (text) => console.log(text.trimEnd()),
    err: (text) => console.log(text.trimEnd()),
    stdin: ReadableStream.from<Uint8Array>([]),
    stdinIsTerminal: false,
    stdoutIsTerminal: false,
    stderrIsTerminal: false,
    onSignal: () => () => {},
  },
);

// The receiver: one connection, one session, five stages.
const conn = await listener.accept();
const reassembly = new ReassemblyStream({ acceptTypes: ["text/*"] });
const wired = conn.readable
  .pipeThrough(new FrameDecoderStream())
  .pipeThrough(new SessionStateStream(state))
  .pipeThrough(reassembly)
  .pipeThrough(new ReportStream({ localUri: state.localUri }))
  .pipeThrough(new FrameEncoderStream())
  .pipeTo(conn.writable);

// Messages leave the chain sideways, as soon as their first chunk arrives.
// The iteration ends when the sender closes the connection.
for await (const message of reassembly.messages) {
  console.log(`received ${message.contentType}: ${await message.text()}`);
}
await wired;
listener.close();
const code = await sending;
console.log(`msrp send exited ${code}`);
if (code !== 0) Deno.exit(1);
