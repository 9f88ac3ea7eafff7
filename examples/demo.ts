/**
 * The whole stack on loopback, with no set-up: a relay (RFC 4976) and two
 * endpoints that authenticate to it, agree on a session through SDP
 * (RFC 4975 §8), and exchange a chat message and a 5 MB file with success
 * reports (§7.1.3), over TLS (msrps).
 *
 *   deno task demo
 *   deno run --allow-net=127.0.0.1,localhost --allow-read=tests/fixtures/certs examples/demo.ts
 *
 * It prints a transcript and exits 0, or prints what failed and exits 1.
 *
 * @module
 */

import { MsrpEndpoint } from "../mod.ts";
import { resolveRelayConfig, serveRelay } from "../lib/relay/mod.ts";

const certs = new URL("../tests/fixtures/certs/", import.meta.url);
const ca = await Deno.readTextFile(new URL("ca.pem", certs));
const t0 = performance.now();
const say = (who: string, what: string) => {
  const ms = (performance.now() - t0).toFixed(0).padStart(5);
  console.log(`${ms} ms  ${who.padEnd(6)} ${what}`);
};
const mib = (n: number) => (n / 1048576).toFixed(1) + " MiB";

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

console.log("msrp demo: a relay and two endpoints on loopback (RFC 4975, RFC 4976)\n");

// 1. The relay: TLS on a free port, Digest users alice and bob (RFC 4976 §6, §9).
const relay = await serveRelay(
  resolveRelayConfig({
    host: "localhost",
    listen: [{ hostname: "127.0.0.1", port: 0, tls: true }],
    tls: {
      certFile: new URL("server.pem", certs).pathname,
      keyFile: new URL("server.key", certs).pathname,
    },
    users: { alice: { password: "alice-secret" }, bob: { password: "bob-secret" } },
  }),
  { logger: () => {} },
);
const relayUri = `msrps://localhost:${relay.listeners[0].addr!.port};tcp`;
say("relay", `listening on ${relayUri} (TLS, Digest realm "localhost")`);

try {
  // 2. Each endpoint AUTHs: 401 challenge, Digest answer, 200 with Use-Path (RFC 4976 §5.1).
  const alice = await MsrpEndpoint.start({
    host: "localhost",
    relays: [{ uri: relayUri, username: "alice", password: "alice-secret" }],
    caCerts: [ca],
  });
  say("alice", `authenticated; Use-Path ${alice.usePath.join(" ")}`);
  const bob = await MsrpEndpoint.start({
    host: "localhost",
    relays: [{ uri: relayUri, username: "bob", password: "bob-secret" }],
    caCerts: [ca],
  });
  say("bob", `authenticated; Use-Path ${bob.usePath.join(" ")}`);

  // 3. Offer and answer (what SIP would carry): a=path is the Use-Path reversed, then our URI.
  const a = alice.createSession();
  const b = bob.createSession();
  const offer = alice.offer(a, { acceptTypes: ["text/plain", "application/octet-stream"] });
  say("alice", `offers  ${offer.split("\r\n").find((l) => l.startsWith("a=path:"))}`);
  const answer = await bob.answer(b, offer, {
    acceptTypes: ["text/plain", "application/octet-stream"],
  });
  say("bob", `answers ${answer.split("\r\n").find((l) => l.startsWith("a=path:"))}`);
  await alice.completeOffer(a, answer);
  await b.ready;
  say("alice", `session bound; To-Path has ${a.remotePath.length} hops: ${a.remotePath.join(" ")}`);

  // 4. A chat message with a success report.
  const chat = "Hello Bob! Fancy a file?";
  const [chatSent, chatGot] = await Promise.all([
    a.send(chat, { successReport: true }),
    b.nextMessage().then((m) => m!.text()),
  ]);
  say(
    "alice",
    `-> bob   "${chat}": ${chatSent.status}, success report covers ${chatSent.bytesConfirmed}/${chat.length} octets`,
  );
  say("bob", `<- alice "${chatGot}"`);
  const reply = "Hi Alice, send it over.";
  const [replySent, replyGot] = await Promise.all([
    b.send(reply),
    a.nextMessage().then((m) => m!.text()),
  ]);
  say("bob", `-> alice "${reply}": ${replySent.status} (confirmed by ${replySent.confirmedBy})`);
  say("alice", `<- bob   "${replyGot}"`);

  // 5. A 5 MiB file in chunks through the relay, with a success report.
  const size = 5 * 1024 * 1024;
  const file = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(file.subarray(i, i + 65536));
  const start = performance.now();
  let lastShown = 0;
  const [fileSent, fileGot] = await Promise.all([
    a.send(file, {
      contentType: "application/octet-stream",
      headers: [["Content-Disposition", 'attachment; filename="demo.bin"']],
      successReport: true,
      onProgress: (p) => {
        if (p.bytesSent - lastShown >= size / 4 || (p.bytesSent === size && lastShown < size)) {
          lastShown = p.bytesSent;
          say(
            "alice",
            `   sent ${mib(p.bytesSent)} of ${mib(size)}, confirmed ${mib(p.bytesConfirmed)}`,
          );
        }
      },
    }),
    b.nextMessage().then(async (m) => ({
      name: m!.headers.get("Content-Disposition"),
      body: await m!.bytes(),
    })),
  ]);
  const seconds = (performance.now() - start) / 1000;
  say(
    "alice",
    `-> bob   demo.bin ${
      mib(size)
    }: ${fileSent.status}, success report covers ${fileSent.bytesConfirmed}/${size} octets, ${
      (size / 1e6 / seconds).toFixed(0)
    } MB/s`,
  );
  const same = (await sha256(fileGot.body)) === (await sha256(file));
  say(
    "bob",
    `<- alice ${fileGot.name}: ${fileGot.body.length} octets, SHA-256 ${
      same ? "matches" : "DIFFERS"
    }`,
  );
  const stats = relay.relay.stats();
  say(
    "relay",
    `forwarded ${stats.forwardedRequests} requests, ${
      mib(stats.forwardedBodyBytes)
    } of bodies; peak buffered ${(stats.peakBufferedBytes / 1024).toFixed(0)} KiB`,
  );

  await alice.close();
  await bob.close();
  if (!same || fileSent.bytesConfirmed !== size || chatGot !== chat) {
    throw new Error("the demo's checks failed");
  }
  console.log("\ndone: every message delivered and confirmed");
} catch (error) {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : error}`);
  await relay.close();
  Deno.exit(1);
}
await relay.close();
