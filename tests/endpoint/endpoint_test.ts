// Endpoints over real loopback sockets: the four cases (calling/answering,
// direct/through a relay), TLS with a CA or a fingerprint (§14.4), IPv6,
// connection reuse (§5.4), bind timeout, idle close, relay AUTH failures.

import assert from "node:assert/strict";
import {
  ManualClock,
  MsrpEndpoint,
  MsrpError,
  type MsrpSession,
  RelayAuthError,
} from "../../mod.ts";
import { resolveRelayConfig, serveRelay } from "../../lib/relay/mod.ts";
import { randomBytes } from "../_util.ts";

const CERTS = new URL("../fixtures/certs/", import.meta.url);
const read = (name: string) => Deno.readTextFileSync(new URL(name, CERTS));
const CA = read("ca.pem");
const SERVER = { cert: read("server.pem"), key: read("server.key") };
const SELF_SIGNED = { cert: read("selfsigned.pem"), key: read("selfsigned.key") };

/** Offer from `a`'s endpoint, answer from `b`'s; both bound when this resolves. */
async function negotiate(
  ea: MsrpEndpoint,
  a: MsrpSession,
  eb: MsrpEndpoint,
  b: MsrpSession,
): Promise<void> {
  const answer = await eb.answer(b, ea.offer(a));
  await ea.completeOffer(a, answer);
  await b.ready;
}

async function exchange(a: MsrpSession, b: MsrpSession): Promise<void> {
  const file = randomBytes(1_000_000);
  const [sent, text] = await Promise.all([
    a.send("Hello Bob", { successReport: true }),
    b.nextMessage().then((m) => m!.text()),
  ]);
  assert.equal(sent.confirmedBy, "report");
  assert.equal(text, "Hello Bob");
  const [back, reply] = await Promise.all([
    b.send("Hi Alice"),
    a.nextMessage().then((m) => m!.text()),
  ]);
  assert.equal(back.status, 200);
  assert.equal(reply, "Hi Alice");
  const [fileSent, fileGot] = await Promise.all([
    a.send(file, { successReport: true, contentType: "application/octet-stream" }),
    b.nextMessage().then((m) => m!.bytes()),
  ]);
  assert.equal(fileSent.bytesConfirmed, file.length);
  assert.deepEqual(fileGot, file);
}

Deno.test("direct over TCP: offer, answer, messages both ways and a file", async () => {
  const alice = await MsrpEndpoint.start({ port: 0 });
  const bob = await MsrpEndpoint.start({ port: 0 });
  const a = alice.createSession();
  const b = bob.createSession();
  await negotiate(alice, a, bob, b);
  await exchange(a, b);
  await alice.close();
  await bob.close();
});

Deno.test("a file offered with RFC 5547 attributes: the answer mirrors the selector", async () => {
  const alice = await MsrpEndpoint.start({ port: 0 });
  const bob = await MsrpEndpoint.start({ port: 0 });
  const a = alice.createSession();
  const b = bob.createSession();
  const file = {
    selector: { name: "report.pdf", type: "application/pdf", size: 1000, hashes: [] },
    transferId: "vBnG916bdberum2fFEABR",
  };
  const offer = alice.offer(a, { acceptTypes: ["application/pdf"], file, direction: "sendonly" });
  assert.match(offer, /^a=file-selector:name:"report.pdf" type:application\/pdf size:1000\r$/m);
  assert.match(offer, /^a=sendonly\r$/m);
  const answer = await bob.answer(b, offer, { acceptTypes: ["application/pdf"] });
  assert.match(answer, /^a=file-selector:name:"report.pdf" type:application\/pdf size:1000\r$/m);
  assert.match(answer, /^a=recvonly\r$/m);
  await alice.completeOffer(a, answer);
  const [sent, got] = await Promise.all([
    a.send(randomBytes(1000), { contentType: "application/pdf" }),
    b.nextMessage().then((m) => m!.bytes()),
  ]);
  assert.equal(sent.status, 200);
  assert.equal(got.length, 1000);
  await alice.close();
  await bob.close();
});

Deno.test("direct over TLS (msrps) with a CA-signed certificate", async () => {
  const alice = await MsrpEndpoint.start({
    host: "localhost",
    bindAddress: "127.0.0.1",
    port: 0,
    tls: SERVER,
    caCerts: [CA],
  });
  const bob = await MsrpEndpoint.start({
    host: "localhost",
    bindAddress: "127.0.0.1",
    port: 0,
    tls: SERVER,
    caCerts: [CA],
  });
  const a = alice.createSession();
  const b = bob.createSession();
  assert.equal(a.localUri.scheme, "msrps");
  const offer = alice.offer(a);
  assert.match(offer, /^m=message \d+ TCP\/TLS\/MSRP \*\r$/m);
  assert.match(offer, /^a=fingerprint:sha-256 [0-9A-F:]+\r$/m);
  await negotiate(alice, a, bob, b);
  await exchange(a, b);
  await alice.close();
  await bob.close();
});

Deno.test("msrps with a self-signed certificate: accepted only through the SDP fingerprint (§14.4)", async () => {
  const alice = await MsrpEndpoint.start({
    host: "localhost",
    bindAddress: "127.0.0.1",
    port: 0,
    tls: SELF_SIGNED,
  });
  const bob = await MsrpEndpoint.start({
    host: "localhost",
    bindAddress: "127.0.0.1",
    port: 0,
    tls: SELF_SIGNED,
  });
  const a = alice.createSession();
  const b = bob.createSession();
  await negotiate(alice, a, bob, b);
  const [sent, text] = await Promise.all([
    a.send("over self-signed TLS"),
    b.nextMessage().then((m) => m!.text()),
  ]);
  assert.equal(sent.status, 200);
  assert.equal(text, "over self-signed TLS");
  // Without the fingerprint (a new endpoint, so no connection to reuse) it is refused.
  const carol = await MsrpEndpoint.start({ host: "localhost" });
  await assert.rejects(
    carol.connect(carol.createSession(), [bob.createSession().localUri]),
    (e: unknown) => e instanceof MsrpError && e.code === "tls-untrusted",
  );
  await carol.close();
  await alice.close();
  await bob.close();
});

Deno.test("direct over IPv6 loopback", async () => {
  const alice = await MsrpEndpoint.start({ host: "::1", port: 0 });
  const bob = await MsrpEndpoint.start({ host: "::1", port: 0 });
  const a = alice.createSession();
  const b = bob.createSession();
  assert.equal(b.localUri.toString().startsWith("msrp://[::1]:"), true);
  await negotiate(alice, a, bob, b);
  const [sent, text] = await Promise.all([a.send("v6"), b.nextMessage().then((m) => m!.text())]);
  assert.equal(sent.status, 200);
  assert.equal(text, "v6");
  await alice.close();
  await bob.close();
});

Deno.test("over WebSocket (RFC 7977): one chunk per message, a file in whole chunks", async () => {
  const alice = await MsrpEndpoint.start({ port: 0, webSocket: true });
  const bob = await MsrpEndpoint.start({
    port: 0,
    webSocket: true,
    session: { chunking: { maxChunkSize: 65536 } },
  });
  const a = alice.createSession({ chunking: { maxChunkSize: 65536 } });
  const b = bob.createSession();
  assert.equal(a.localUri.transport, "ws");
  await negotiate(alice, a, bob, b);
  assert.equal(a.connection!.transport.frameAligned, true);
  const writes: number[] = [];
  a.connection!.scheduler.onwrite = (f) => {
    if (f.kind === "request" && f.body !== null) {
      writes.push(f.flag === undefined ? -1 : f.body.length);
    }
  };
  const file = randomBytes(300_000);
  const [sent, got] = await Promise.all([a.send(file), b.nextMessage().then((m) => m!.bytes())]);
  assert.equal(sent.bytesConfirmed, 300_000);
  assert.deepEqual(got, file);
  assert.ok(!writes.includes(-1), "every chunk went out whole");
  assert.deepEqual(writes, [65536, 65536, 65536, 65536, 37856]);
  await alice.close();
  await bob.close();
});

Deno.test("sessions to the same host, port and scheme share one connection (§5.4)", async () => {
  const alice = await MsrpEndpoint.start({ port: 0 });
  const bob = await MsrpEndpoint.start({ port: 0 });
  const pairs = await Promise.all([0, 1, 2].map(async () => {
    const a = alice.createSession();
    const b = bob.createSession();
    await negotiate(alice, a, bob, b);
    return [a, b] as const;
  }));
  assert.equal(alice.connections.length, 1);
  assert.equal(new Set(pairs.map(([a]) => a.connection)).size, 1);
  for (const [i, [a, b]] of pairs.entries()) {
    const [, text] = await Promise.all([
      a.send(`session ${i}`),
      b.nextMessage().then((m) => m!.text()),
    ]);
    assert.equal(text, `session ${i}`);
  }
  await alice.close();
  await bob.close();
});

Deno.test("a passive session whose peer never binds times out clearly", async () => {
  const clock = new ManualClock();
  const bob = await MsrpEndpoint.start({ port: 0, clock, bindTimeout: 5000 });
  const b = bob.createSession();
  const waiting = bob.accept(b, ["msrp://127.0.0.1:9/nobodyHere0001;tcp"]);
  clock.advance(5000);
  await assert.rejects(
    waiting,
    (e: unknown) => e instanceof MsrpError && e.code === "bind-timeout",
  );
  assert.ok((await b.closed).error);
  await bob.close();
});

Deno.test("a connection without sessions is closed once idle", async () => {
  const clock = new ManualClock();
  const alice = await MsrpEndpoint.start({ port: 0, clock, idleTimeout: 60_000 });
  const bob = await MsrpEndpoint.start({ port: 0 });
  const a = alice.createSession();
  const b = bob.createSession();
  await negotiate(alice, a, bob, b);
  const connection = a.connection!;
  a.close();
  await a.closed;
  clock.advance(59_999);
  assert.equal(connection.ended, false);
  clock.advance(1);
  await connection.closed;
  assert.equal(alice.connections.length, 0);
  await alice.close();
  await bob.close();
});

Deno.test("an unreachable peer is a clear, typed error", async () => {
  const alice = await MsrpEndpoint.start();
  const a = alice.createSession();
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (free.addr as Deno.NetAddr).port;
  free.close();
  await assert.rejects(
    alice.connect(a, [`msrp://127.0.0.1:${port}/gone00000001;tcp`]),
    (e: unknown) =>
      e instanceof MsrpError && e.code === "connect-refused" &&
      e.message.includes(`127.0.0.1:${port}`),
  );
  await alice.close();
});

// ---- through a relay (RFC 4976) ----

async function relay() {
  const config = resolveRelayConfig({
    host: "localhost",
    listen: [{ hostname: "127.0.0.1", port: 0, tls: true }],
    tls: {
      certFile: new URL("server.pem", CERTS).pathname,
      keyFile: new URL("server.key", CERTS).pathname,
    },
    users: { alice: { password: "alice-secret" }, bob: { password: "bob-secret" } },
  });
  const server = await serveRelay(config, { logger: () => {} });
  const port = server.listeners[0].addr!.port;
  return { server, uri: `msrps://localhost:${port};tcp` };
}

Deno.test("both endpoints through a TLS relay: AUTH, Use-Path, SDP paths, messages and a file", async () => {
  const { server, uri } = await relay();
  const alice = await MsrpEndpoint.start({
    relays: [{ uri, username: "alice", password: "alice-secret" }],
    caCerts: [CA],
  });
  const bob = await MsrpEndpoint.start({
    relays: [{ uri, username: "bob", password: "bob-secret" }],
    caCerts: [CA],
  });
  assert.equal(alice.usePath.length, 1);
  const a = alice.createSession();
  const b = bob.createSession();
  // RFC 4976 §5.1: a=path is the Use-Path reversed, then our own URI.
  assert.deepEqual(alice.path(a).map(String), [alice.usePath[0].toString(), a.localUri.toString()]);
  await negotiate(alice, a, bob, b);
  assert.equal(a.remotePath.length, 3, "To-Path: our relay, Bob's relay URI, Bob");
  await exchange(a, b);
  await alice.close();
  await bob.close();
  await server.close();
});

Deno.test("a wrong relay password is a RelayAuthError naming the relay", async () => {
  const { server, uri } = await relay();
  await assert.rejects(
    MsrpEndpoint.start({ relays: [{ uri, username: "alice", password: "wrong" }], caCerts: [CA] }),
    (e: unknown) =>
      e instanceof RelayAuthError && e.status === 401 && e.code === "auth-rejected" &&
      e.relay === uri,
  );
  await server.close();
});

Deno.test("a session accepted without the peer's path learns it from the first request", async () => {
  const alice = await MsrpEndpoint.start();
  const bob = await MsrpEndpoint.start({ port: 0 });
  const a = alice.createSession();
  const b = bob.createSession();
  const accepting = bob.accept(b, []); // e.g. a URI handed out without SDP
  await alice.connect(a, [b.localUri]);
  await accepting;
  assert.deepEqual(b.remotePath.map(String), [a.localUri.toString()]);
  const [sent, got] = await Promise.all([
    b.send("I know where you are"),
    a.nextMessage().then((m) => m!.text()),
  ]);
  assert.equal(sent.status, 200);
  assert.equal(got, "I know where you are");
  await alice.close();
  await bob.close();
});

Deno.test("closing an endpoint first sends what is queued (a success REPORT)", async () => {
  const alice = await MsrpEndpoint.start({ port: 0 });
  const bob = await MsrpEndpoint.start({ port: 0 });
  const a = alice.createSession();
  const b = bob.createSession();
  await negotiate(alice, a, bob, b);
  const sending = a.send("report this", { successReport: true });
  await (await b.nextMessage())!.text();
  await bob.close(); // the REPORT was queued when the message completed
  const result = await sending;
  assert.equal(result.confirmedBy, "report");
  await alice.close();
});

Deno.test("through a relay, a peer the relay cannot reach ends the session with bind-failed", async () => {
  const { server, uri } = await relay();
  const alice = await MsrpEndpoint.start({
    relays: [{ uri, username: "alice", password: "alice-secret" }],
    caCerts: [CA],
  });
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (free.addr as Deno.NetAddr).port;
  free.close();
  const a = alice.createSession();
  // The relay answers the binding SEND with 200, then fails to reach the peer.
  await alice.connect(a, [`msrp://127.0.0.1:${port}/nobodyHere0002;tcp`]).catch(() => {});
  const end = await a.closed;
  assert.ok(end.error instanceof MsrpError);
  assert.equal((end.error as MsrpError).code, "bind-failed");
  await alice.close();
  await server.close();
});

Deno.test("a chain of two relays (RFC 4976 §5.1): AUTH through the inner relay, paths, traffic both ways", async () => {
  const users = { alice: { password: "alice-secret" }, bob: { password: "bob-secret" } };
  const tls = {
    certFile: new URL("server.pem", CERTS).pathname,
    keyFile: new URL("server.key", CERTS).pathname,
  };
  const serve = (users: Record<string, { password: string }>) =>
    serveRelay(
      resolveRelayConfig({
        host: "localhost",
        listen: [{ hostname: "127.0.0.1", port: 0, tls: true }],
        tls,
        users,
      }),
      { logger: () => {}, caCerts: [CA] },
    );
  const intra = await serve({ alice: users.alice });
  const extra = await serve(users);
  const intraUri = `msrps://localhost:${intra.listeners[0].addr!.port};tcp`;
  const extraUri = `msrps://localhost:${extra.listeners[0].addr!.port};tcp`;
  // Alice reaches the world through intra, then extra; Bob uses extra only.
  const alice = await MsrpEndpoint.start({
    relays: [
      { uri: intraUri, username: "alice", password: "alice-secret" },
      { uri: extraUri, username: "alice", password: "alice-secret" },
    ],
    caCerts: [CA],
  });
  const bob = await MsrpEndpoint.start({
    relays: [{ uri: extraUri, username: "bob", password: "bob-secret" }],
    caCerts: [CA],
  });
  // §5.1: the Use-Path of the outermost AUTH names both relays, innermost first.
  assert.deepEqual(alice.usePath.map((u) => u.port), [
    intra.listeners[0].addr!.port,
    extra.listeners[0].addr!.port,
  ]);
  const a = alice.createSession();
  const b = bob.createSession();
  // a=path: the Use-Path reversed (extra, intra), then Alice.
  assert.deepEqual(
    alice.path(a).map(String),
    [alice.usePath[1], alice.usePath[0], a.localUri].map(String),
  );
  await negotiate(alice, a, bob, b);
  assert.equal(a.remotePath.length, 4, "To-Path: intra, extra (Alice's), extra (Bob's), Bob");
  await exchange(a, b);
  await alice.close();
  await bob.close();
  await intra.close();
  await extra.close();
});

Deno.test("after losing its relay connection an endpoint links again and makes new sessions", async () => {
  const { server, uri } = await relay();
  const alice = await MsrpEndpoint.start({
    relays: [{ uri, username: "alice", password: "alice-secret" }],
    caCerts: [CA],
  });
  const bob = await MsrpEndpoint.start({
    relays: [{ uri, username: "bob", password: "bob-secret" }],
    caCerts: [CA],
  });
  const a1 = alice.createSession();
  const b1 = bob.createSession();
  await negotiate(alice, a1, bob, b1);
  const before = alice.usePath[0].toString();
  // The relay connection goes away: its sessions fail with it (RFC 4975 §5.4).
  alice.connections[0].close();
  assert.ok((await a1.closed).error);
  assert.throws(
    () => alice.offer(alice.createSession()),
    (e: unknown) => e instanceof MsrpError && e.code === "relay-reconnecting",
  );
  await alice.whenReady();
  assert.notEqual(alice.usePath[0].toString(), before, "a fresh Use-Path from a new AUTH");
  const a2 = alice.createSession();
  const b2 = bob.createSession();
  await negotiate(alice, a2, bob, b2);
  await exchange(a2, b2);
  await alice.close();
  await bob.close();
  await server.close();
});
