// One URI served to several peers through a relay, one session each (as
// `msrp listen --relay` does), and sends through a relay that fail with the
// status and reason that came back (issue 9 defect 1; RFC 4975 §5.4, §7.3;
// RFC 4976 §6.4.1).

import assert from "node:assert/strict";
import { MsrpEndpoint, MsrpSendError, type MsrpSession } from "../../mod.ts";
import { resolveRelayConfig, serveRelay } from "../../lib/relay/mod.ts";

async function relay() {
  const users: Record<string, { password: string }> = {};
  for (const name of ["listener", "alice", "bob"]) users[name] = { password: `${name}-pw` };
  const server = await serveRelay(
    resolveRelayConfig({
      host: "localhost",
      allowInsecure: true,
      listen: [{ hostname: "127.0.0.1", port: 0, tls: false }],
      users,
    }),
    { logger: () => {} },
  );
  const uri = `msrp://localhost:${server.listeners[0].addr!.port};tcp`;
  const start = (username: string) =>
    MsrpEndpoint.start({ relays: [{ uri, username, password: `${username}-pw` }] });
  return { server, start };
}

/** Sends `text` and checks `to` got it; a refusal (a failure REPORT) rejects at once. */
async function deliver(from: MsrpSession, to: MsrpSession, text: string): Promise<void> {
  const [, got] = await Promise.all([
    from.send(text, { successReport: true }),
    to.nextMessage().then((m) => m!.text()),
  ]);
  assert.equal(got, text);
}

Deno.test("through a relay, one URI serves any number of peers, one session each", async () => {
  const { server, start } = await relay();
  const listener = await start("listener");
  const first = listener.createSession();
  const path = listener.path(first); // printed once, used by every peer
  const [alice, bob] = [await start("alice"), await start("bob")];

  const waiting1 = listener.accept(first, []);
  const a = alice.createSession();
  await alice.connect(a, path);
  await waiting1;
  // As soon as a peer has bound a session, another waits with the same URI.
  const second = listener.createSession({ localUri: first.localUri });
  const waiting2 = listener.accept(second, []);
  const b = bob.createSession();
  await bob.connect(b, path);
  await waiting2;
  assert.equal(second.remotePath.at(-1)!.toString(), b.localUri.toString());

  // Each peer's messages reach its own session, in either order, both ways.
  await deliver(b, second, "from Bob");
  await deliver(a, first, "from Alice");
  await deliver(first, a, "to Alice");
  await deliver(second, b, "to Bob");
  // A peer with no session waiting for it is refused, as before.
  const c = bob.createSession();
  await bob.connect(c, path);
  await assert.rejects(c.send("nobody waits"), MsrpSendError);

  await Promise.all([listener.close(), alice.close(), bob.close()]);
  await server.close();
});

Deno.test("through a relay, a send to a session the peer does not have fails with the REPORT's status and reason", async () => {
  const { server, start } = await relay();
  const listener = await start("listener");
  const known = listener.createSession();
  const path = listener.path(known);
  const wrong = [
    ...path.slice(0, -1),
    path.at(-1)!.toString().replace(/\/\w+;tcp$/, "/noSuch0001;tcp"),
  ];
  const alice = await start("alice");
  const a = alice.createSession();
  // The relay answers the binding SEND with 200 (hop by hop); the listener's
  // 481 comes back as a failure REPORT (RFC 4976 §6.4.1).
  await alice.connect(a, wrong);
  const failure = await a.send("lost").then(
    () => assert.fail("delivered to a session that does not exist"),
    (e: unknown) => e,
  );
  assert.ok(failure instanceof MsrpSendError, String(failure));
  assert.equal(failure.status, 481);
  assert.equal(failure.comment, "Session Does Not Exist");
  // A send after the session ended says the same.
  await a.closed;
  const later = await a.send("again").catch((e: unknown) => e);
  assert.ok(later instanceof MsrpSendError);
  assert.equal(later.status, 481);
  await Promise.all([listener.close(), alice.close()]);
  await server.close();
});

Deno.test("through a relay, acceptEach gives each peer a session, even peers whose first SENDs arrive together", async () => {
  const { server, start } = await relay();
  const listener = await start("listener");
  const sessions: MsrpSession[] = [];
  const served = listener.acceptEach((s) => sessions.push(s));
  const path = listener.path(served);
  // Two peers on one sender connection: their binding SENDs leave in one
  // write, and the relay forwards both in one turn on the listener's connection.
  const alice = await start("alice");
  const [a, b] = [alice.createSession(), alice.createSession()];
  await Promise.all([alice.connect(a, path), alice.connect(b, path)]);
  // Through the relay, connect ends at the relay's 200; a success REPORT
  // comes from the listener's session.
  await Promise.all([
    a.send("from a", { successReport: true }),
    b.send("from b", { successReport: true }),
  ]);
  assert.equal(sessions.length, 2);
  const peerOf = (s: MsrpSession) => s.remotePath.at(-1)!.toString();
  const mine = (peer: MsrpSession) => sessions.find((s) => peerOf(s) === String(peer.localUri))!;
  assert.equal(await (await mine(a).nextMessage())!.text(), "from a");
  assert.equal(await (await mine(b).nextMessage())!.text(), "from b");
  await deliver(mine(a), a, "to a");
  // Stopped: a new peer gets no session; the ones made go on.
  served.stop();
  const c = alice.createSession();
  await alice.connect(c, path);
  await assert.rejects(c.send("nobody serves"), MsrpSendError);
  await deliver(b, mine(b), "b again");
  assert.equal(sessions.length, 2);
  await Promise.all([listener.close(), alice.close()]);
  await server.close();
});
