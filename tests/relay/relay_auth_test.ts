// The relay's AUTH handling (RFC 4976 §5.1, §6.1, §6.3, §9.1, §9.2), over
// in-memory transports with a fake clock.

import assert from "node:assert/strict";
import {
  DigestClient,
  digestHa1,
  digestResponse,
  digestRspauth,
  NonceManager,
} from "../../lib/relay/digest.ts";
import { formatAuthorization, parseWwwAuthenticate } from "../../lib/wire/auth_headers.ts";
import {
  ack,
  authenticate,
  FakeClock,
  memoryRelay,
  type Peer,
  request,
  settle,
  text,
} from "./relay_harness.ts";

const RFC_TO = "msrps://alice@intra.example.com;tcp";
const RFC_FROM = "msrps://alice.example.com:9892/98cjs;tcp";

function auth(tid: string, extra: [string, string][] = [], to = RFC_TO, from = RFC_FROM) {
  return request("AUTH", tid, [["To-Path", to], ["From-Path", from], ...extra]);
}

/** Answers a 401 with hand-made MD5 credentials, as in the RFC 4976 §5.1 example (no uri). */
function rfcCredentials(
  nonce: string,
  opts: { password?: string; nc?: number; qop?: boolean } = {},
) {
  const ha1 = digestHa1("MD5", "Alice", "intra.example.com", opts.password ?? "secret");
  const nc = opts.nc ?? 1;
  if (opts.qop === false) {
    return `Digest username="Alice", realm="intra.example.com", nonce="${nonce}", response="${
      digestResponse({
        algorithm: "MD5",
        ha1,
        method: "AUTH",
        uri: RFC_TO,
        nonce,
        nc,
        cnonce: "0a4f113b",
        qop: "auth",
      })
    }"`;
  }
  const response = digestResponse({
    algorithm: "MD5",
    ha1,
    method: "AUTH",
    uri: RFC_TO,
    nonce,
    nc,
    cnonce: "0a4f113b",
    qop: "auth",
  });
  return `Digest username="Alice", realm="intra.example.com", nonce="${nonce}", qop=auth, ` +
    `nc=${nc.toString(16).padStart(8, "0")}, cnonce="0a4f113b", response="${response}"`;
}

function nonceOf(res: { headers: { getAll(n: string): string[] } }): string {
  return parseWwwAuthenticate(res.headers.getAll("WWW-Authenticate")[0]).nonce;
}

const INTRA = { host: "intra.example.com", users: { Alice: { password: "secret" } } };

Deno.test("RFC 4976 §5.1: the AUTH exchange, 401 challenge then 200 with Use-Path", async () => {
  const { relay, connect } = memoryRelay(INTRA);
  const alice = connect();
  await alice.send(auth("49fh"));
  const challenge = await alice.response();
  const nonce = nonceOf(challenge);
  assert.match(nonce, /^[A-Za-z0-9_-]{54}$/);
  // One challenge per algorithm, strongest first; qop quoted (§9.1), never MD5-sess.
  assert.equal(
    text(challenge),
    "MSRP 49fh 401 Unauthorized\r\n" +
      `To-Path: ${RFC_FROM}\r\n` +
      `From-Path: ${RFC_TO}\r\n` +
      `WWW-Authenticate: Digest realm="intra.example.com", qop="auth", nonce="${nonce}", algorithm=SHA-256\r\n` +
      `WWW-Authenticate: Digest realm="intra.example.com", qop="auth", nonce="${nonce}", algorithm=MD5\r\n` +
      "-------49fh$\r\n",
  );

  await alice.send(auth("49fi", [["Authorization", rfcCredentials(nonce)]]));
  const ok = await alice.response();
  const rspauth = digestRspauth({
    algorithm: "MD5",
    ha1: digestHa1("MD5", "Alice", "intra.example.com", "secret"),
    uri: RFC_TO,
    nonce,
    nc: 1,
    cnonce: "0a4f113b",
    qop: "auth",
  });
  const m = new RegExp(
    "^MSRP 49fi 200 OK\r\n" +
      `To-Path: msrps://alice\\.example\\.com:9892/98cjs;tcp\r\n` +
      `From-Path: msrps://alice@intra\\.example\\.com;tcp\r\n` +
      "Use-Path: msrps://intra\\.example\\.com:9000/([A-Za-z0-9]{22});tcp\r\n" +
      `Authentication-Info: nextnonce="[A-Za-z0-9_-]{54}", rspauth="${rspauth}", ` +
      'cnonce="0a4f113b", nc=00000001, qop=auth\r\n' +
      "Expires: 1800\r\n" +
      "-------49fi\\$\r\n$",
  ).exec(text(ok));
  assert.ok(m, text(ok));
  const regs = relay.registrations();
  assert.equal(regs.length, 1);
  assert.equal(regs[0].username, "Alice");
  assert.equal(regs[0].sessionId, m[1]);
  assert.deepEqual(regs[0].binding, { kind: "connection", connectionId: 1 });
  assert.equal(relay.stats().registrations, 1);
  await relay.close();
});

Deno.test("AUTH with DigestClient: SHA-256 is chosen and rspauth verifies", async () => {
  const { relay, connect } = memoryRelay({ host: "relay.example.com" });
  const alice = connect();
  const r = await authenticate(alice, {
    to: "msrps://relay.example.com:9000;tcp",
    from: "msrps://alice.example.com:1234/a1;tcp",
  });
  assert.match(r.usePath, /^msrps:\/\/relay\.example\.com:9000\/[A-Za-z0-9]{22};tcp$/);
  assert.match(r.ok.headers.get("Authentication-Info")!, /rspauth="[0-9a-f]{64}"/);
  await relay.close();
});

Deno.test("wrong password and unknown user get 401; the third failure closes the connection (§6.3)", async () => {
  const { relay, connect, log } = memoryRelay(INTRA);
  const alice = connect();
  await alice.send(auth("t0001"));
  let nonce = nonceOf(await alice.response());
  // 1: wrong password
  await alice.send(auth("t0002", [["Authorization", rfcCredentials(nonce, { password: "nope" })]]));
  let res = await alice.response();
  assert.equal(res.status, 401);
  assert.equal(res.headers.getAll("WWW-Authenticate").length, 2);
  assert.equal(parseWwwAuthenticate(res.headers.get("WWW-Authenticate")!).stale, false);
  // 2: unknown user, answered exactly like a wrong password
  nonce = nonceOf(res);
  const mallory = new DigestClient({ username: "mallory-unknown", password: "x" });
  const creds = mallory.authorization(
    res.headers.getAll("WWW-Authenticate").map(parseWwwAuthenticate),
    RFC_TO,
  );
  await alice.send(auth("t0003", [["Authorization", creds]]));
  res = await alice.response();
  assert.equal(res.status, 401);
  assert.equal(res.comment, "Unauthorized");
  // 3: wrong password again: answered, then the connection is closed.
  nonce = nonceOf(res);
  await alice.send(auth("t0004", [["Authorization", rfcCredentials(nonce, { password: "x" })]]));
  res = await alice.response();
  assert.equal(res.status, 401);
  assert.equal(await alice.next(), undefined);
  assert.deepEqual(
    log.filter((e) => e.event === "auth-failed").map((e) => e.message.split(": ")[1]),
    ["bad-response", "unknown-user", "bad-response"],
  );
  assert.ok(log.some((e) => e.event === "auth-failures"));
  assert.equal(relay.stats().connections, 0);
  await relay.close();
});

Deno.test("a stale nonce gets 401 stale=true and does not count as a failure", async () => {
  const { relay, connect, clock } = memoryRelay({
    ...INTRA,
    limits: { nonceLifetimeMs: 10_000, maxAuthFailures: 1 },
  });
  const alice = connect();
  await alice.send(auth("s0001"));
  const nonce = nonceOf(await alice.response());
  clock.advance(10_001);
  await alice.send(auth("s0002", [["Authorization", rfcCredentials(nonce)]]));
  const res = await alice.response();
  assert.equal(res.status, 401);
  const challenges = res.headers.getAll("WWW-Authenticate").map(parseWwwAuthenticate);
  assert.ok(challenges.every((c) => c.stale));
  assert.notEqual(challenges[0].nonce, nonce);
  // Still connected (maxAuthFailures is 1): retry with the new nonce.
  await alice.send(auth("s0003", [["Authorization", rfcCredentials(challenges[0].nonce)]]));
  assert.equal((await alice.response()).status, 200);
  await relay.close();
});

Deno.test("a replayed nonce count is refused with 401", async () => {
  const { relay, connect, log } = memoryRelay(INTRA);
  const alice = connect();
  await alice.send(auth("r0001"));
  const nonce = nonceOf(await alice.response());
  const creds = rfcCredentials(nonce);
  await alice.send(auth("r0002", [["Authorization", creds]]));
  assert.equal((await alice.response()).status, 200);
  await alice.send(auth("r0003", [["Authorization", creds]]));
  const res = await alice.response();
  assert.equal(res.status, 401);
  assert.equal(parseWwwAuthenticate(res.headers.get("WWW-Authenticate")!).stale, false);
  assert.ok(log.some((e) => e.event === "auth-failed" && e.message.endsWith("replay")));
  // The next count is fine.
  await alice.send(auth("r0004", [["Authorization", rfcCredentials(nonce, { nc: 2 })]]));
  assert.equal((await alice.response()).status, 200);
  // Both successes came from the same client and From-Path: one URI, refreshed.
  assert.equal(relay.registrations().length, 1);
  await relay.close();
});

Deno.test("credentials without qop, cnonce and nc (RFC 2069 style) get 401 (§9.1)", async () => {
  const { relay, connect, log } = memoryRelay(INTRA);
  const alice = connect();
  await alice.send(auth("q0001"));
  const nonce = nonceOf(await alice.response());
  await alice.send(auth("q0002", [["Authorization", rfcCredentials(nonce, { qop: false })]]));
  assert.equal((await alice.response()).status, 401);
  assert.ok(log.some((e) => e.event === "auth-failed" && e.message.endsWith("missing-qop")));
  // Basic is never accepted (§9.1).
  await alice.send(auth("q0003", [["Authorization", "Basic QWxpY2U6c2VjcmV0"]]));
  assert.equal((await alice.response()).status, 401);
  await relay.close();
});

Deno.test("an authenticated but disabled user gets 403 (§6.3)", async () => {
  const { relay, connect } = memoryRelay({
    host: "intra.example.com",
    users: { Alice: { password: "secret", disabled: true } },
  });
  const alice = connect();
  await alice.send(auth("d0001"));
  const nonce = nonceOf(await alice.response());
  await alice.send(auth("d0002", [["Authorization", rfcCredentials(nonce)]]));
  const res = await alice.response();
  assert.equal(res.status, 403);
  assert.equal(res.comment, "Forbidden");
  assert.equal(relay.registrations().length, 0);
  await relay.close();
});

Deno.test("AUTH over plain TCP is refused with 403 unless allowInsecure (§9.2)", async () => {
  const a = memoryRelay(INTRA);
  const plain = a.connect(false);
  await plain.send(auth("p0001"));
  const res = await plain.response();
  assert.equal(res.status, 403);
  assert.equal(res.comment, "AUTH requires TLS");
  await a.relay.close();

  const b = memoryRelay({ ...INTRA, allowInsecure: true });
  const alice = b.connect(false);
  const r = await authenticate(alice, {
    to: "msrp://intra.example.com:9001;tcp",
    from: "msrp://alice.example.com:9892/98cjs;tcp",
    username: "Alice",
  });
  // A plain connection gets a plain URI with the plain port.
  assert.match(r.usePath, /^msrp:\/\/intra\.example\.com:9001\/[A-Za-z0-9]{22};tcp$/);
  await b.relay.close();
});

Deno.test("Expires out of bounds gets 423 with Min-Expires or Max-Expires (§4.6, §6.3)", async () => {
  const { relay, connect } = memoryRelay({ ...INTRA, expires: { min: 60, max: 3600 } });
  const alice = connect();
  const tryExpires = async (tid: string, expires: string) => {
    await alice.send(auth(tid + "a", [["Expires", expires]]));
    const nonce = nonceOf(await alice.response());
    await alice.send(auth(tid + "b", [["Expires", expires], [
      "Authorization",
      rfcCredentials(nonce),
    ]]));
    return await alice.response();
  };
  let res = await tryExpires("e001", "59");
  assert.equal(
    text(res),
    "MSRP e001b 423 Interval Out-of-Bounds\r\n" +
      `To-Path: ${RFC_FROM}\r\nFrom-Path: ${RFC_TO}\r\nMin-Expires: 60\r\n-------e001b$\r\n`,
  );
  res = await tryExpires("e002", "3601");
  assert.equal(res.status, 423);
  assert.equal(res.headers.get("Max-Expires"), "3600");
  assert.equal(res.headers.get("Min-Expires"), undefined);
  res = await tryExpires("e003", "600");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("Expires"), "600");
  res = await tryExpires("e004", "soon");
  assert.equal(res.status, 400);
  assert.equal(relay.registrations().length, 1);
  await relay.close();
});

async function sendToward(peer: Peer, tid: string, usePath: string, target: string) {
  await peer.send(request("SEND", tid, [
    ["To-Path", `${usePath} ${target}`],
    ["From-Path", "msrp://bob.example.com:7777/b0b;tcp"],
    ["Message-ID", "msg" + tid],
    ["Byte-Range", "1-2/2"],
    ["Content-Type", "text/plain"],
  ], "hi"));
}

Deno.test("a registration expires after its Expires (§6.3): then 481", async () => {
  const { relay, connect, clock, log } = memoryRelay({ host: "relay.example.com" });
  const alice = connect();
  const { usePath } = await authenticate(alice, {
    to: "msrps://relay.example.com:9000;tcp",
    from: "msrps://alice.example.com:1234/a1;tcp",
    expires: 60,
  });
  const bob = connect(false);
  await sendToward(bob, "x0001", usePath, "msrps://alice.example.com:1234/a1;tcp");
  assert.equal((await bob.response()).status, 200);
  await ack(alice, await alice.request());
  clock.advance(59_000);
  await sendToward(bob, "x0002", usePath, "msrps://alice.example.com:1234/a1;tcp");
  assert.equal((await bob.response()).status, 200);
  await ack(alice, await alice.request());
  clock.advance(1_000);
  await sendToward(bob, "x0003", usePath, "msrps://alice.example.com:1234/a1;tcp");
  const res = await bob.response();
  assert.equal(res.status, 481);
  assert.equal(res.headers.get("To-Path"), "msrp://bob.example.com:7777/b0b;tcp");
  assert.equal(res.headers.get("From-Path"), usePath);
  clock.advance(10_000); // the sweep removes it from the table too
  assert.equal(relay.stats().registrations, 0);
  assert.ok(
    log.some((e) => e.event === "registration-expired") || relay.registrations().length === 0,
  );
  await relay.close();
});

Deno.test("an AUTH to its Use-Path URI refreshes the registration", async () => {
  const { relay, connect, clock } = memoryRelay({ host: "relay.example.com" });
  const alice = connect();
  const { usePath, client } = await authenticate(alice, {
    to: "msrps://relay.example.com:9000;tcp",
    from: "msrps://alice.example.com:1234/a1;tcp",
    expires: 60,
  });
  clock.advance(50_000);
  // RFC 2617 §3.2.3: the nextnonce lets the client skip the challenge.
  await alice.send(request("AUTH", "ref001", [
    ["To-Path", usePath],
    ["From-Path", "msrps://alice.example.com:1234/a1;tcp"],
    ["Expires", "120"],
    ["Authorization", renew(client, usePath)],
  ]));
  const res = await alice.response();
  assert.equal(res.status, 200, text(res));
  assert.equal(res.headers.get("Use-Path"), usePath);
  assert.equal(res.headers.get("Expires"), "120");
  assert.equal(relay.registrations().length, 1);
  clock.advance(100_000); // 150 s after the first AUTH, 100 s after the refresh
  const bob = connect(false);
  await sendToward(bob, "y0001", usePath, "msrps://alice.example.com:1234/a1;tcp");
  assert.equal((await bob.response()).status, 200);
  // Another client cannot refresh it.
  const mallory = connect();
  const m = await authenticate(mallory, {
    to: "msrps://relay.example.com:9000;tcp",
    from: "msrps://m.example.com:1/m;tcp",
    username: "mallory",
    password: "evil",
  });
  await mallory.send(request("AUTH", "ref002", [
    ["To-Path", usePath],
    ["From-Path", "msrps://m.example.com:1/m;tcp"],
    ["Authorization", renew(m.client, usePath)],
  ]));
  assert.equal((await mallory.response()).status, 403);
  await relay.close();
});

Deno.test("the same client AUTHing again keeps its Use-Path with a new Expires (issue 8 defect 5)", async () => {
  const { relay, connect, clock } = memoryRelay({
    host: "relay.example.com",
    expires: { default: 60, min: 10, max: 3600 },
  });
  const alice = connect();
  const relayUri = "msrps://relay.example.com:9000;tcp";
  const from = "msrps://alice.example.com:1234/a1;tcp";
  const first = await authenticate(alice, { to: relayUri, from });
  assert.equal(first.ok.headers.get("Expires"), "60");
  clock.advance(48_000); // the client renews at 80 % of the lifetime
  // A renewal as clients make it: a new AUTH to the relay itself, not to the URI.
  const again = await authenticate(alice, { to: relayUri, from, client: first.client });
  assert.equal(again.usePath, first.usePath, "the same URI");
  assert.equal(again.ok.headers.get("Expires"), "60");
  assert.equal(relay.registrations().length, 1);
  clock.advance(27_000); // 75 s after the first AUTH, 27 s after the renewal
  const bob = connect(false);
  await sendToward(bob, "k0001", first.usePath, from);
  assert.equal((await bob.response()).status, 200, "the URI outlives the first grant");
  assert.equal((await alice.request()).method, "SEND", "forwarded to Alice");
  // Another From-Path asks for another URI (e.g. one per session, RFC 4976 §3.1).
  const other = await authenticate(alice, {
    to: relayUri,
    from: "msrps://alice.example.com:1234/a2;tcp",
    client: first.client,
  });
  assert.notEqual(other.usePath, first.usePath);
  assert.equal(relay.registrations().length, 2);
  await relay.close();
});

function renew(client: DigestClient, uri: string): string {
  return formatAuthorization(client.renew(uri));
}

Deno.test("closing the client's connection invalidates its Use-Path (§6.3)", async () => {
  const { relay, connect } = memoryRelay({ host: "relay.example.com" });
  const alice = connect();
  const { usePath } = await authenticate(alice, {
    to: "msrps://relay.example.com:9000;tcp",
    from: "msrps://alice.example.com:1234/a1;tcp",
  });
  alice.close();
  await alice.ended;
  await settle();
  assert.equal(relay.registrations().length, 0);
  const bob = connect(false);
  await sendToward(bob, "z0001", usePath, "msrps://alice.example.com:1234/a1;tcp");
  assert.equal((await bob.response()).status, 481);
  await relay.close();
});

Deno.test("probation: silence for 30 s, or three failed requests, closes the connection (§6.1)", async () => {
  const { relay, connect, clock, log } = memoryRelay({ host: "relay.example.com" });
  const quiet = connect();
  const authed = connect();
  await authenticate(authed, {
    to: "msrps://relay.example.com:9000;tcp",
    from: "msrps://alice.example.com:1234/a1;tcp",
  });
  clock.advance(29_999);
  await settle();
  assert.equal(relay.stats().connections, 2);
  clock.advance(1);
  assert.equal(await quiet.next(), undefined);
  assert.ok(log.some((e) => e.event === "probation-timeout"));
  // The authenticated connection passed probation.
  await authed.send(auth("late01", [], "msrps://relay.example.com:9000;tcp"));
  assert.equal((await authed.response()).status, 401);

  const noisy = connect(false);
  for (let i = 0; i < 3; i++) {
    await sendToward(
      noisy,
      `bad00${i}`,
      "msrps://relay.example.com:9000/nope;tcp",
      "msrp://x.example.com:1/x;tcp",
    );
    assert.equal((await noisy.response()).status, 481);
  }
  assert.equal(await noisy.next(), undefined);
  assert.ok(log.some((e) => e.event === "probation-failures"));
  await relay.close();
});

Deno.test("idle connections without registrations are closed after idleMs (§6.5)", async () => {
  const { relay, connect, clock } = memoryRelay({
    host: "relay.example.com",
    expires: { default: 7200, max: 86400 },
    limits: { idleMs: 3_600_000 },
  });
  const alice = connect();
  const { usePath } = await authenticate(alice, {
    to: "msrps://relay.example.com:9000;tcp",
    from: "msrps://alice.example.com:1234/a1;tcp",
  });
  const bob = connect(false);
  await sendToward(bob, "i0001", usePath, "msrps://alice.example.com:1234/a1;tcp");
  assert.equal((await bob.response()).status, 200);
  await ack(alice, await alice.request());
  clock.advance(3_600_000 + 10_000);
  assert.equal(await bob.next(), undefined);
  // Alice has a registration: her connection stays.
  assert.equal(relay.stats().connections, 1);
  await sendToward(
    alice,
    "i0002",
    "msrps://relay.example.com:9000;tcp",
    "msrp://x.example.com:1/x;tcp",
  );
  assert.equal((await alice.response()).status, 403);
  await relay.close();
});

Deno.test("an AUTH flood does not push out a slow client's nonce; replays still fail (issue 8 #4)", async () => {
  const clock = new FakeClock();
  const nonces = new NonceManager({ now: () => clock.now() });
  const { relay, connect } = memoryRelay(INTRA, { clock, nonces });
  const alice = connect();
  await alice.send(auth("f0001"));
  const nonce = nonceOf(await alice.response());
  // Others get 50,000 challenges (issued in-process: what the relay does per 401).
  for (let i = 0; i < 50_000; i++) nonces.issue();
  clock.advance(2_000);
  const creds = rfcCredentials(nonce);
  await alice.send(auth("f0002", [["Authorization", creds]]));
  assert.equal((await alice.response()).status, 200);
  // Replay protection holds: the same count again is refused (not stale).
  await alice.send(auth("f0003", [["Authorization", creds]]));
  const res = await alice.response();
  assert.equal(res.status, 401);
  assert.equal(parseWwwAuthenticate(res.headers.get("WWW-Authenticate")!).stale, false);
  await relay.close();
});

Deno.test("challenges per connection are bounded: past the limit 403, then closed (issue 8 #4)", async () => {
  const { relay, connect, log } = memoryRelay({
    ...INTRA,
    limits: { maxChallengesPerConnection: 4 },
  });
  // A client that authenticates resets its count: it may refresh for ever.
  const alice = connect();
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 3; i++) {
      await alice.send(auth(`auth${round}${i}`));
      assert.equal((await alice.response()).status, 401);
    }
    await alice.send(auth(`last${round}`));
    const nonce = nonceOf(await alice.response());
    await alice.send(auth(`cred${round}`, [["Authorization", rfcCredentials(nonce)]]));
    assert.equal((await alice.response()).status, 200);
  }
  // A flooder gets its 4 challenges, then 403, then the connection closes.
  const flood = connect();
  for (let i = 0; i < 4; i++) {
    await flood.send(auth(`flood${i}`));
    assert.equal((await flood.response()).status, 401);
  }
  await flood.send(auth("flood4"));
  const res = await flood.response();
  assert.equal(res.status, 403);
  assert.equal(res.comment, "Too many challenges");
  assert.equal(await flood.next(), undefined);
  assert.ok(log.some((e) => e.event === "challenge-limit"));
  await relay.close();
});
