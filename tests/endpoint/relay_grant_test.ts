// Relay grants that outlive their first Expires (issue 8 defect 5): this
// project's relay keeps a client's URI on renewal; against a relay that
// hands out a new URI, the endpoint keeps the old grant's sessions going
// and tells the application (RFC 4976 §6.3, §9.4).

import assert from "node:assert/strict";
import { ManualClock, MsrpEndpoint, type MsrpSession } from "../../mod.ts";
import type { UsePathChange } from "../../lib/endpoint/relay_client.ts";
import { resolveRelayConfig, serveRelay } from "../../lib/relay/mod.ts";
import type { DecodedFrame, MsrpRequest } from "../../lib/wire/frame.ts";
import { HeaderList } from "../../lib/wire/header_list.ts";
import { formatPath, parsePath } from "../../lib/wire/headers.ts";
import { MsrpUri } from "../../lib/wire/uri.ts";
import { collectLog, memoryPair, Peer, response, until } from "../relay/relay_harness.ts";

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

/** Sends `text` from `a` and resolves with what `b` received. */
async function deliver(a: MsrpSession, b: MsrpSession, text: string): Promise<string> {
  const [, got] = await Promise.all([a.send(text), b.nextMessage().then((m) => m!.text())]);
  return got;
}

Deno.test("through this relay with a 60 s Expires, a session outlives its first grant (renewal keeps the URI)", async () => {
  const clock = new ManualClock(1_700_000_000_000);
  let onEvent = (): void => {};
  const { events, logger } = collectLog(() => onEvent());
  const server = await serveRelay(
    resolveRelayConfig({
      host: "localhost",
      allowInsecure: true,
      listen: [{ hostname: "127.0.0.1", port: 0, tls: false }],
      users: { alice: { password: "alice-secret" }, bob: { password: "bob-secret" } },
      expires: { default: 60, min: 10, max: 3600 },
    }),
    {
      clock,
      logger,
    },
  );
  const uri = `msrp://localhost:${server.listeners[0].addr!.port};tcp`;
  const grants = () => events.filter((e) => e.event === "auth-ok" || e.event === "auth-refreshed");
  /** Resolves once the relay has granted `n` AUTHs in all. */
  const granted = (n: number) =>
    new Promise<void>((resolve) => {
      onEvent = () => grants().length >= n && resolve();
      onEvent();
    });
  const alice = await MsrpEndpoint.start({
    relays: [{ uri, username: "alice", password: "alice-secret" }],
    clock,
  });
  const bob = await MsrpEndpoint.start({
    relays: [{ uri, username: "bob", password: "bob-secret" }],
    clock,
  });
  const a = alice.createSession();
  const b = bob.createSession();
  await negotiate(alice, a, bob, b);
  assert.equal(await deliver(a, b, "before"), "before");
  const usePaths = [alice.usePath[0].toString(), bob.usePath[0].toString()];

  clock.advance(48_000); // both endpoints renew at 80 % of 60 s
  await granted(4);
  assert.deepEqual([alice.usePath[0].toString(), bob.usePath[0].toString()], usePaths);
  clock.advance(27_000); // 75 s: the first grants would have lapsed at 60 s
  assert.equal(await deliver(a, b, "after 75 s"), "after 75 s");
  assert.equal(await deliver(b, a, "and back"), "and back");

  await alice.close();
  await bob.close();
  await server.close();
});

// ---- a relay that hands out a new URI on every AUTH ----

const RELAY_HOST = "renaming.relay.test";

/**
 * A scripted relay over in-memory transports: every successful AUTH gets a
 * new URI valid for 60 s; SENDs are answered hop by hop and forwarded, or
 * refused with 481 once a URI on their To-Path has lapsed (RFC 4976 §6.3).
 */
class RenamingRelay {
  readonly uri = MsrpUri.parse(`msrp://${RELAY_HOST}:2855;tcp`);
  readonly #clock: ManualClock;
  readonly #grants = new Map<string, { peer: Peer; expiresAt: number }>();
  #issued = 0;
  /** How many 481s it answered. */
  refused = 0;

  constructor(clock: ManualClock) {
    this.#clock = clock;
  }

  /** Grants handed out so far. */
  get issued(): number {
    return this.#issued;
  }

  /** A new client connection; returns the client's end. */
  connect(): ReturnType<typeof memoryPair>[0] {
    const [mine, theirs] = memoryPair({ secure: false });
    const peer = new Peer(mine);
    peer.onFrame = (f) => this.#onFrame(peer, f);
    return theirs;
  }

  #onFrame(peer: Peer, f: DecodedFrame): void {
    if (f.kind !== "request") return; // responses from the far end stop here (hop by hop)
    const req = f as MsrpRequest;
    const to = parsePath(req.headers.get("To-Path")!);
    const from = parsePath(req.headers.get("From-Path")!);
    const answer = (status: number, headers: [string, string][] = [], comment = "") =>
      peer.send(
        response(req.tid, status, [
          ["To-Path", req.method === "SEND" ? from[0].toString() : formatPath(from)],
          ["From-Path", to[0].toString()],
          ...headers,
        ], comment),
      );
    if (req.method === "AUTH") {
      if (!req.headers.has("Authorization")) {
        answer(401, [[
          "WWW-Authenticate",
          `Digest realm="${RELAY_HOST}", nonce="n${this.#issued}", qop="auth", algorithm=MD5`,
        ]]);
        return;
      }
      const sid = `grant${++this.#issued}`;
      this.#grants.set(sid, { peer, expiresAt: this.#clock.now() + 60_000 });
      answer(200, [
        ["Use-Path", `msrp://${RELAY_HOST}:2855/${sid};tcp`],
        ["Expires", "60"],
      ]);
      return;
    }
    // Our URIs lead the To-Path; the last one names the connection onwards.
    let n = 0;
    let next: Peer | undefined;
    while (n < to.length && to[n].host === RELAY_HOST) {
      const grant = this.#grants.get(to[n].sessionId ?? "");
      if (grant === undefined || this.#clock.now() >= grant.expiresAt) {
        this.refused++;
        if (req.method === "SEND") answer(481);
        return;
      }
      next = grant.peer;
      n++;
    }
    if (next === undefined || n === to.length) return;
    if (req.method === "SEND") answer(200);
    const headers = new HeaderList(req.headers);
    headers.set("To-Path", formatPath(to.slice(n)));
    headers.set("From-Path", formatPath([...to.slice(0, n).reverse(), ...from]));
    next.send({ ...req, tid: `fw${crypto.randomUUID().slice(0, 12)}`, headers });
  }
}

Deno.test("a relay that hands out a new URI on renewal: the change is announced, old sessions keep working until the old grant lapses", async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const start = clock.now();
  const relay = new RenamingRelay(clock);
  const changes: UsePathChange[] = [];
  const options = (username: string) => ({
    relays: [{ uri: relay.uri, username, password: "pw" }],
    connect: () => Promise.resolve(relay.connect()),
    clock,
  });
  const alice = await MsrpEndpoint.start({
    ...options("alice"),
    onRelayPathChange: (change) => changes.push(change),
  });
  const bob = await MsrpEndpoint.start(options("bob"));
  const first = alice.usePath.map(String);
  const a = alice.createSession();
  const b = bob.createSession();
  await negotiate(alice, a, bob, b);
  assert.equal(await deliver(a, b, "one"), "one");

  clock.advance(48_000); // renewals at 80 % of 60 s: new URIs for both
  await until(() => relay.issued === 4);
  // The next message passes after the 200 to Alice's AUTH on the same connection.
  assert.equal(await deliver(a, b, "two"), "two");
  assert.equal(changes.length, 1, "the application is told at renewal, 12 s before the lapse");
  assert.deepEqual(changes[0].previous.map(String), first);
  assert.deepEqual(changes[0].usePath.map(String), alice.usePath.map(String));
  assert.notDeepEqual(changes[0].usePath.map(String), first);
  assert.equal(changes[0].previousExpiresAt, start + 60_000);
  // New offers carry the new path; the bound session keeps the old one.
  assert.equal(alice.path(alice.createSession())[0].toString(), alice.usePath[0].toString());
  assert.equal(a.remotePath[0].toString(), first[0]);

  clock.advance(9_000); // 57 s: the old grants still hold
  assert.equal(await deliver(a, b, "three"), "three");
  assert.equal(await deliver(b, a, "back"), "back");
  assert.equal(relay.refused, 0);
  clock.advance(1_500); // 58.5 s: 2 s before the lapse, requests move to the new grant
  assert.equal(a.remotePath[0].toString(), alice.usePath[0].toString());
  assert.equal(a.remotePath.at(-1)!.toString(), b.localUri.toString());

  await alice.close();
  await bob.close();
});
