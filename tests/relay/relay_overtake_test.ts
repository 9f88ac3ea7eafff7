// Latency under load, as an order of arrival: a chat message sent while a
// file flows on the same connections through a relay on loopback reaches the
// receiver after a bounded number of the file's bytes, not after everything
// the socket buffers hold (RFC 4975 §7.1.1: alternate between the SENDs of
// different sessions; RFC 4976 §6.4.1: the relay forwards and answers hop by
// hop). The sender bounds its unanswered bytes (its send window), the relay
// its queue and its unanswered bytes per connection, and the relay's writer
// lets the chat's chunk overtake the file chunks queued before it.

import assert from "node:assert/strict";
import { MsrpEndpoint } from "../../mod.ts";
import type { Logger } from "../../lib/log.ts";
import { resolveRelayConfig, serveRelay } from "../../lib/relay/mod.ts";

const FILE_SIZE = 48 * 1024 * 1024;
const CHAT = "chat while the file flows"; // shorter than a trace shows of a body
const WINDOW = 128 * 1024;
/** Sender window + relay queue and window + pieces and slack. */
const BOUND = WINDOW + 4 * 64 * 1024;

Deno.test("through a relay, a chat message overtakes a flowing file within a bounded number of its bytes", async () => {
  const users = { alice: { password: "alice-pw" }, bob: { password: "bob-pw" } };
  const server = await serveRelay(
    resolveRelayConfig({
      host: "localhost",
      allowInsecure: true,
      listen: [{ hostname: "127.0.0.1", port: 0, tls: false }],
      users,
      limits: {
        maxBufferedBytesPerConnection: 64 * 1024,
        maxUnansweredBytesPerConnection: 64 * 1024,
        fairnessQuantum: 16 * 1024,
      },
    }),
    { logger: () => {} },
  );
  const uri = `msrp://localhost:${server.listeners[0].addr!.port};tcp`;
  // What Bob's connection reads, in order: file body octets, and when the chat came.
  let fileBytesIn = 0;
  let fileBytesWhenChatCame = -1;
  const trace: Logger = (_level, message, data) => {
    if (message !== "frame in" || data?.method !== "SEND") return;
    const frame = String(data.frame);
    if (frame.includes(CHAT)) {
      if (fileBytesWhenChatCame < 0) fileBytesWhenChatCame = fileBytesIn;
    } else fileBytesIn += Number(data.bodyLength);
  };
  const alice = await MsrpEndpoint.start({
    relays: [{ uri, username: "alice", password: "alice-pw" }],
    sendWindow: WINDOW,
  });
  const bob = await MsrpEndpoint.start({
    relays: [{ uri, username: "bob", password: "bob-pw" }],
    trace,
  });
  try {
    const pair = async () => {
      const b = bob.createSession();
      const waiting = bob.accept(b, []);
      const a = alice.createSession();
      await alice.connect(a, bob.path(b));
      await waiting;
      return { a, b };
    };
    const file = await pair();
    const chat = await pair();

    const body = new Uint8Array(FILE_SIZE);
    for (let i = 0; i < FILE_SIZE; i += 65536) {
      crypto.getRandomValues(body.subarray(i, i + 65536));
    }
    const fileIn = file.b.nextMessage().then(async (m) => {
      let n = 0;
      for await (const piece of m!.stream()) n += piece.length;
      return n;
    });
    let chatQueuedAt = -1;
    let chatSent: Promise<unknown> | undefined;
    // Bob's reading drives the check: once a quarter of the file is in (the
    // buffers between the hops are as full as they get), the chat is sent.
    const fileOut = file.a.send(body, {
      contentType: "application/octet-stream",
      onProgress: () => {
        if (chatSent === undefined && fileBytesIn >= FILE_SIZE / 4) {
          chatQueuedAt = fileBytesIn;
          chatSent = chat.a.send(CHAT);
        }
      },
    });
    const chatIn = chat.b.nextMessage().then((m) => m!.text());
    assert.equal((await fileOut).status, 200);
    assert.equal(await fileIn, FILE_SIZE);
    assert.ok(chatSent !== undefined, "the chat was sent while the file flowed");
    await chatSent;
    assert.equal(await chatIn, CHAT);
    assert.ok(fileBytesWhenChatCame >= 0);
    const overtaken = fileBytesWhenChatCame - chatQueuedAt;
    assert.ok(
      overtaken <= BOUND,
      `${overtaken} octets of the file reached Bob between the chat's send and its arrival`,
    );
    assert.ok(fileBytesWhenChatCame < FILE_SIZE, "the chat came before the file ended");
  } finally {
    await Promise.all([alice.close(), bob.close()]);
    await server.close();
  }
});
