/**
 * Two clients talking through an MSRP relay (RFC 4976).
 *
 * A relay starts on loopback with the test certificates (TLS is required
 * between clients and relays, §9.2) and two users. Each client sends AUTH,
 * gets a 401 with a Digest challenge, answers it (§5.1, RFC 7616), and
 * receives a `Use-Path`: the relay URI through which it can now be reached.
 * Each client's SDP path is its Use-Path reversed, then its own URI; its
 * To-Path is its Use-Path, then the peer's path (§5.1). Neither client
 * listens on a port: both connect out to the relay, which forwards the
 * messages (§6.4) and the success REPORT.
 *
 * Run it from the repository's root (it reads the test certificates):
 *
 *   deno run --allow-net=127.0.0.1,localhost --allow-read=tests/fixtures/certs examples/relay.ts
 *
 * It prints each step and exits 0.
 *
 * @module
 */

import { MsrpEndpoint } from "../mod.ts";
import { resolveRelayConfig, serveRelay } from "../lib/relay/mod.ts";

const certs = "tests/fixtures/certs";
const ca = await Deno.readTextFile(`${certs}/ca.pem`);

// The relay: TLS on a free port; its name "localhost" is in its certificate.
const relay = await serveRelay(
  resolveRelayConfig({
    host: "localhost",
    listen: [{ hostname: "127.0.0.1", port: 0, tls: true }],
    tls: { certFile: `${certs}/server.pem`, keyFile: `${certs}/server.key` },
    users: { alice: { password: "alice-secret" }, bob: { password: "bob-secret" } },
  }),
  { logger: () => {} },
);
const relayUri = `msrps://localhost:${relay.listeners[0].addr!.port};tcp`;
console.log(`relay  listening at ${relayUri}`);

const endpoints: MsrpEndpoint[] = [];
try {
  // AUTH: challenge, Digest answer, 200 with Use-Path (RFC 4976 §5.1).
  const alice = await MsrpEndpoint.start({
    host: "localhost",
    relays: [{ uri: relayUri, username: "alice", password: "alice-secret" }],
    caCerts: [ca],
  });
  endpoints.push(alice);
  console.log(`alice  authenticated, Use-Path ${alice.usePath.join(" ")}`);
  const bob = await MsrpEndpoint.start({
    host: "localhost",
    relays: [{ uri: relayUri, username: "bob", password: "bob-secret" }],
    caCerts: [ca],
  });
  endpoints.push(bob);
  console.log(`bob    authenticated, Use-Path ${bob.usePath.join(" ")}`);

  // SDP offer and answer carry the paths through the relay.
  const a = alice.createSession();
  const b = bob.createSession();
  console.log(`alice  a=path:${alice.path(a).join(" ")}`);
  const answer = await bob.answer(b, alice.offer(a));
  await alice.completeOffer(a, answer);
  await b.ready;
  console.log(`alice  To-Path: ${a.remotePath.join(" ")}`);

  const [sent, message] = await Promise.all([
    a.send("Hello Bob, via the relay", { successReport: true }),
    b.nextMessage(),
  ]);
  console.log(`bob    received "${await message!.text()}"`);
  console.log(`alice  confirmed by ${sent.confirmedBy} (${sent.bytesConfirmed} octets)`);
  const [, reply] = await Promise.all([b.send("Hi Alice, got it"), a.nextMessage()]);
  console.log(`alice  received "${await reply!.text()}"`);
} finally {
  for (const e of endpoints) await e.close();
  await relay.close();
}
