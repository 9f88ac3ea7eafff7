/**
 * Two chat sessions in one process, over loopback TCP (RFC 4975).
 *
 * Shows the whole life of a session: each side makes an endpoint, Alice
 * writes an SDP offer with her session's path (`a=path`, §8.2), Bob answers
 * with his, and the side the SDP says connects opens the connection and
 * binds the session with a bodiless SEND (§5.4). Then they take turns:
 * each message is a SEND with `Content-Type: text/plain`, confirmed by a
 * 200 response (§7.1.4); the last one also asks for a success REPORT
 * (§7.1.3). Closing the endpoints ends the session.
 *
 * Run it:
 *
 *   deno run --allow-net=127.0.0.1 examples/chat.ts
 *
 * It prints the conversation and exits 0.
 *
 * @module
 */

import { MsrpEndpoint, type MsrpSession } from "../mod.ts";

/** `from` says `text`; `to` reads it and prints it. */
async function say(
  from: string,
  session: MsrpSession,
  to: MsrpSession,
  text: string,
  successReport = false,
): Promise<void> {
  const [result, message] = await Promise.all([
    session.send(text, { successReport }),
    to.nextMessage(),
  ]);
  const received = await message!.text();
  const how = result.confirmedBy === "report" ? "success REPORT" : "200 response";
  console.log(`${from.padEnd(5)}> ${received}    [${result.bytesSent} bytes, ${how}]`);
}

const alice = await MsrpEndpoint.start({ host: "127.0.0.1", port: 0 });
const bob = await MsrpEndpoint.start({ host: "127.0.0.1", port: 0 });

try {
  // Signalling (normally SIP carries these): offer, answer, done.
  const a = alice.createSession();
  const b = bob.createSession();
  const offer = alice.offer(a);
  const answer = await bob.answer(b, offer);
  await alice.completeOffer(a, answer);
  await b.ready;
  console.log(`alice is ${a.localUri}`);
  console.log(`bob   is ${b.localUri}\n`);

  await say("alice", a, b, "Hi Bob! Is this MSRP thing working?");
  await say("bob", b, a, "Loud and clear. Every message is a SEND request.");
  await say("alice", a, b, "And each one gets a 200 back, hop by hop.");
  await say("bob", b, a, "Ask for a success REPORT if you want it end to end.");
  await say("alice", a, b, "Like this one. Bye!", true);
} finally {
  await alice.close();
  await bob.close();
}
