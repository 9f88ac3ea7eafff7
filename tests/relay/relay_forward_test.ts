// Forwarding through the relay (RFC 4976 §6.2, §6.4, §6.4.1-§6.4.3), over
// in-memory transports with a fake clock.

import assert from "node:assert/strict";
import type { MsrpTransport } from "../../lib/transport/types.ts";
import type { MsrpUri } from "../../lib/wire/uri.ts";
import { parseWwwAuthenticate } from "../../lib/wire/auth_headers.ts";
import { DigestClient } from "../../lib/relay/digest.ts";
import {
  ack,
  authenticate,
  memoryPair,
  memoryRelay,
  Peer,
  request,
  response,
  settle,
  text,
  until,
} from "./relay_harness.ts";

const RELAY = "msrps://relay.example.com:9000;tcp";
const ALICE = "msrps://alice.example.com:1234/a1;tcp";
const BOB = "msrps://bob.example.com:5678/b1;tcp";
const FAR = "msrp://far.example.com:7000/f4r;tcp";
const HOP_MS = 20_000;

/** A relay, Alice and Bob authenticated to it, and a "far" peer reached by connect(). */
async function setup(input: Record<string, unknown> = {}) {
  let far: Peer | undefined;
  const connects: string[] = [];
  const connect = (uri: MsrpUri): Promise<MsrpTransport> => {
    connects.push(uri.toString());
    const [mine, theirs] = memoryPair({ secure: false });
    far = new Peer(theirs);
    return Promise.resolve(mine);
  };
  const env = memoryRelay({
    host: "relay.example.com",
    limits: { transactionTimeoutMs: HOP_MS },
    ...input,
  }, { connect });
  const alice = env.connect();
  const bob = env.connect();
  const ua = (await authenticate(alice, { to: RELAY, from: ALICE })).usePath;
  const ub = (await authenticate(bob, {
    to: RELAY,
    from: BOB,
    username: "bob",
    password: "hunter2",
  })).usePath;
  return {
    ...env,
    alice,
    bob,
    ua,
    ub,
    connects,
    far: async (): Promise<Peer> => {
      await until(() => far !== undefined);
      return far!;
    },
  };
}

function send(
  tid: string,
  to: string,
  from: string,
  body: string,
  extra: [string, string][] = [],
) {
  return request("SEND", tid, [
    ["To-Path", to],
    ["From-Path", from],
    ...extra,
    ["Message-ID", "m" + tid],
    ["Byte-Range", `1-${body.length}/${body.length}`],
    ["Content-Type", "text/plain"],
  ], body);
}

Deno.test("SEND, 200 and REPORT between two clients of one relay (RFC 4976 §3 shapes)", async () => {
  const { relay, alice, bob, ua, ub } = await setup();
  await alice.send(request("SEND", "s1alice", [
    ["To-Path", `${ua} ${ub} ${BOB}`],
    ["From-Path", ALICE],
    ["Success-Report", "yes"],
    ["Message-ID", "87652"],
    ["Byte-Range", "1-*/*"],
    ["Content-Type", "text/plain"],
  ], "Hi Bob"));
  // §6.4.1: the previous hop gets its 200 at once, To-Path its URI only (RFC 4975 §7.2).
  assert.equal(
    text(await alice.response()),
    `MSRP s1alice 200 OK\r\nTo-Path: ${ALICE}\r\nFrom-Path: ${ua}\r\nMessage-ID: 87652\r\n` +
      "-------s1alice$\r\n",
  );
  const fwd = await bob.request();
  assert.notEqual(fwd.tid, "s1alice");
  assert.match(fwd.tid, /^[A-Za-z0-9]{12,}$/);
  assert.equal(
    text(fwd),
    `MSRP ${fwd.tid} SEND\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ub} ${ua} ${ALICE}\r\n` +
      "Success-Report: yes\r\nMessage-ID: 87652\r\nByte-Range: 1-*/*\r\n" +
      `Content-Type: text/plain\r\n\r\nHi Bob\r\n-------${fwd.tid}$\r\n`,
  );
  assert.equal(relay.stats().pendingTransactions, 1);
  await ack(bob, fwd);
  await bob.send(request("REPORT", "r1bob", [
    ["To-Path", `${ub} ${ua} ${ALICE}`],
    ["From-Path", BOB],
    ["Message-ID", "87652"],
    ["Byte-Range", "1-6/6"],
    ["Status", "000 200 OK"],
  ]));
  const rep = await alice.request();
  assert.equal(
    text(rep),
    `MSRP ${rep.tid} REPORT\r\nTo-Path: ${ALICE}\r\nFrom-Path: ${ua} ${ub} ${BOB}\r\n` +
      `Message-ID: 87652\r\nByte-Range: 1-6/6\r\nStatus: 000 200 OK\r\n-------${rep.tid}$\r\n`,
  );
  // The 200 from Bob stopped at the relay; nobody answers the REPORT.
  await settle(50);
  assert.equal(alice.queued, 0);
  assert.equal(bob.queued, 0);
  assert.equal(relay.stats().pendingTransactions, 0);
  await relay.close();
});

Deno.test("frames that are ready together are written together: one write per turn, not per frame", async () => {
  const { relay, alice, bob, ua, ub } = await setup();
  const sends = Array.from({ length: 20 }, (_, i) =>
    text(request("SEND", `t${i}alice`, [
      ["To-Path", `${ua} ${ub} ${BOB}`],
      ["From-Path", ALICE],
      ["Message-ID", `msg${i}x`],
      ["Byte-Range", "1-5/5"],
      ["Content-Type", "text/plain"],
    ], `hi ${i.toString().padStart(2, "0")}`)));
  const [aliceReads, bobReads] = [alice.reads, bob.reads];
  await alice.raw(sends.join("")); // 20 SENDs in one read of the relay
  for (let i = 0; i < 20; i++) {
    const fwd = await bob.request();
    assert.equal(
      text(fwd).split("\r\n").slice(-4, -1).join("|"),
      `|hi ${i.toString().padStart(2, "0")}|-------${fwd.tid}$`,
    );
    assert.equal((await alice.response()).tid, `t${i}alice`);
    await ack(bob, fwd);
  }
  // The relay wrote the 20 forwarded SENDs in one write, and the 20 200s in another.
  assert.equal(bob.reads - bobReads, 1);
  assert.equal(alice.reads - aliceReads, 1);
  await until(() => relay.stats().pendingTransactions === 0);
  await relay.close();
});

Deno.test("a spoofed From-Path on the client's own connection gets 403 (§6.4)", async () => {
  const { relay, alice, ua, ub, log } = await setup();
  await alice.send(
    send("spoof1", `${ua} ${ub} ${BOB}`, `msrps://evil.example.com:1/e;tcp ${ALICE}`, "x"),
  );
  const res = await alice.response();
  assert.equal(res.status, 403);
  assert.equal(res.headers.get("To-Path"), "msrps://evil.example.com:1/e;tcp");
  assert.equal(res.headers.get("From-Path"), ua);
  // A client never sends towards itself either.
  await alice.send(send("spoof2", `${ua} ${BOB}`, `${ub} ${ALICE}`, "x"));
  assert.equal((await alice.response()).status, 403);
  assert.equal(log.filter((e) => e.event === "forward-refused").length, 2);
  await relay.close();
});

Deno.test("another connection's Use-Path reaches only its owner: to a third party 403 (§6.4, §9.4)", async () => {
  const { relay, connect, alice, bob, ua, ub } = await setup();
  const mallory = connect();
  await authenticate(mallory, {
    to: RELAY,
    from: "msrps://m.example.com:1/m;tcp",
    username: "mallory",
    password: "evil",
  });
  // Alice's URI used to get to Bob, and to somewhere far away: refused.
  await mallory.send(send("mal001", `${ua} ${ub} ${BOB}`, ALICE, "spam"));
  assert.equal((await mallory.response()).status, 403);
  await mallory.send(send("mal002", `${ua} ${FAR}`, "msrps://m.example.com:1/m;tcp", "spam"));
  const res = await mallory.response();
  assert.equal(res.status, 200); // towards Alice's connection: allowed
  const got = await alice.request();
  assert.equal(got.headers.get("To-Path"), FAR);
  assert.equal(got.headers.get("From-Path"), `${ua} msrps://m.example.com:1/m;tcp`);
  await ack(alice, got, 481, "Session Does Not Exist");
  // Someone without any registration can also only reach Alice with it.
  const stranger = connect(false);
  await stranger.send(send("str001", `${ua} ${ub} ${BOB}`, "msrp://s.example.com:2/s;tcp", "x"));
  assert.equal((await stranger.response()).status, 403);
  await settle(50);
  assert.equal(bob.queued, 0);
  await relay.close();
});

Deno.test("unknown relay URI 481, bare relay URI 403, another host: connection dropped (§6.2)", async () => {
  const { relay, connect, log } = await setup();
  const p = connect(false);
  await p.send(send("u00001", `msrps://relay.example.com:9000/nosuchsession;tcp ${BOB}`, FAR, "x"));
  assert.equal((await p.response()).status, 481);
  await p.send(send("u00002", `${RELAY} ${BOB}`, FAR, "x"));
  assert.equal((await p.response()).status, 403);
  // A SEND whose To-Path ends at the relay has no session there.
  await p.send(send("u00003", RELAY, FAR, "x"));
  assert.equal((await p.response()).status, 481);
  // Three failures during probation: the connection is closed (§6.1).
  assert.equal(await p.next(), undefined);
  // Another host is not this relay: the connection is dropped at once.
  const q = connect(false);
  await q.send(send("u00004", `msrps://other.example.com:9000/x;tcp ${BOB}`, FAR, "x"));
  assert.equal(await q.next(), undefined);
  assert.ok(log.some((e) => e.event === "not-addressed"));
  assert.equal(relay.stats().registrations, 2);
  await relay.close();
});

Deno.test("no response from the next hop within the hop timer: 408 REPORT to the sender (§6.4.1)", async () => {
  const { relay, alice, ua, far, clock, connects } = await setup();
  await alice.send(send("t408a", `${ua} ${FAR}`, ALICE, "hello"));
  assert.equal((await alice.response()).status, 200);
  const hop = await far();
  assert.deepEqual(connects, [FAR]);
  const fwd = await hop.request();
  assert.equal(fwd.headers.get("To-Path"), FAR);
  assert.equal(fwd.headers.get("From-Path"), `${ua} ${ALICE}`);
  await until(() => clock.armed(HOP_MS) === 1);
  clock.advance(HOP_MS - 1);
  await settle(50);
  assert.equal(alice.queued, 0);
  clock.advance(1);
  const rep = await alice.request();
  assert.equal(
    text(rep),
    `MSRP ${rep.tid} REPORT\r\nTo-Path: ${ALICE}\r\nFrom-Path: ${ua}\r\nMessage-ID: mt408a\r\n` +
      `Byte-Range: 1-5/5\r\nStatus: 000 408 Request Timeout\r\n-------${rep.tid}$\r\n`,
  );
  // A late answer is ignored.
  await ack(hop, fwd);
  await settle(50);
  assert.equal(alice.queued, 0);
  await relay.close();
});

Deno.test("an error response from the next hop becomes a failure REPORT (§6.4.3)", async () => {
  const { relay, alice, ua, far } = await setup();
  await alice.send(send("err001", `${ua} ${FAR}`, ALICE, "hello there"));
  assert.equal((await alice.response()).status, 200);
  const hop = await far();
  const fwd = await hop.request();
  await ack(hop, fwd, 415, "Unsupported Media Type");
  const rep = await alice.request();
  assert.equal(rep.method, "REPORT");
  assert.equal(rep.headers.get("Status"), "000 415 Unsupported Media Type");
  assert.equal(rep.headers.get("Byte-Range"), "1-11/11");
  assert.equal(rep.headers.get("Message-ID"), "merr001");
  assert.equal(relay.stats().pendingTransactions, 0);
  await relay.close();
});

Deno.test("Failure-Report partial: no 200; errors reported, timeouts not (§6.4.1)", async () => {
  const { relay, alice, ua, far, clock } = await setup();
  await alice.send(send("par001", `${ua} ${FAR}`, ALICE, "one", [["Failure-Report", "partial"]]));
  const hop = await far();
  const fwd1 = await hop.request();
  assert.equal(fwd1.headers.get("Failure-Report"), "partial");
  await settle(50);
  assert.equal(alice.queued, 0); // RFC 4975 §7.1.4: never a 200 for partial
  await ack(hop, fwd1, 413, "Message Too Large");
  const rep = await alice.request();
  assert.equal(rep.headers.get("Status"), "000 413 Message Too Large");
  await alice.send(send("par002", `${ua} ${FAR}`, ALICE, "two", [["Failure-Report", "partial"]]));
  await hop.request();
  await until(() => clock.armed(HOP_MS) === 1);
  clock.advance(HOP_MS);
  await settle(50);
  assert.equal(alice.queued, 0);
  assert.equal(relay.stats().pendingTransactions, 0);
  await relay.close();
});

Deno.test("Failure-Report no: neither a response nor a REPORT (§6.4.1)", async () => {
  const { relay, alice, ua, far, clock } = await setup();
  await alice.send(send("no0001", `${ua} ${FAR}`, ALICE, "fyi", [["Failure-Report", "no"]]));
  const hop = await far();
  const fwd = await hop.request();
  assert.equal(relay.stats().pendingTransactions, 0);
  await ack(hop, fwd, 400);
  clock.advance(HOP_MS);
  await settle(50);
  assert.equal(alice.queued, 0);
  // Refusals are not answered either.
  await alice.send(
    send("no0002", `${ua} ${BOB}`, `msrps://evil.example.com:1/e;tcp ${ALICE}`, "x", [[
      "Failure-Report",
      "no",
    ]]),
  );
  await settle(50);
  assert.equal(alice.queued, 0);
  await relay.close();
});

Deno.test("the next hop cannot be reached: 408 REPORT after the 200 (§6.4.1)", async () => {
  let refuse: (() => void) | undefined;
  const env = memoryRelay({ host: "relay.example.com" }, {
    connect: () =>
      new Promise<MsrpTransport>((_, reject) => {
        refuse = () => reject(new Error("connection refused"));
      }),
  });
  const alice = env.connect();
  const { usePath: ua } = await authenticate(alice, { to: RELAY, from: ALICE });
  await alice.send(send("unr001", `${ua} ${FAR}`, ALICE, "hello"));
  assert.equal((await alice.response()).status, 200);
  refuse!();
  const rep = await alice.request();
  assert.equal(rep.headers.get("Status"), "000 408 next hop connection lost");
  assert.ok(env.log.some((e) => e.event === "connect-failed"));
  // An AUTH forwarded there gets a 408 response instead.
  await alice.send(request("AUTH", "unr002", [
    ["To-Path", `${ua} msrps://far.example.com;tcp`],
    ["From-Path", ALICE],
  ]));
  await until(() => refuse !== undefined && env.relay.stats().outboundConnections === 1);
  refuse!();
  const res = await alice.response();
  assert.equal(res.status, 408);
  assert.equal(res.headers.get("To-Path"), ALICE);
  await env.relay.close();
});

Deno.test("malformed requests get 400; lost framing closes only that connection", async () => {
  const { relay, alice, bob, ua, ub, log } = await setup();
  await alice.raw(
    `MSRP bad1 SEND\r\nTo-Path: ${ua} ${ub} ${BOB}\r\nFrom-Path: ${ALICE}\r\n:broken\r\n` +
      "-------bad1$\r\n",
  );
  let res = await alice.response();
  assert.equal(
    text(res),
    `MSRP bad1 400 Bad Request\r\nTo-Path: ${ALICE}\r\nFrom-Path: ${ua}\r\n-------bad1$\r\n`,
  );
  await alice.send(request("SEND", "bad2", [
    ["To-Path", `${ua} ${ub} ${BOB}`],
    ["From-Path", ALICE],
    ["Message-ID", "m1234"],
    ["Byte-Range", "x-y/z"],
  ]));
  res = await alice.response();
  assert.equal(res.status, 400);
  await alice.send(request("SEND", "bad3", [["To-Path", `${ua} ${ub} ${BOB}`], [
    "From-Path",
    ALICE,
  ]]));
  assert.equal((await alice.response()).status, 400); // no Message-ID
  assert.equal(bob.queued, 0);
  await alice.raw("HELLO WORLD\r\n");
  assert.equal(await alice.next(), undefined);
  assert.ok(log.some((e) => e.event === "frame-fatal"));
  // Bob and the relay carry on; Alice's URI died with her connection.
  await bob.send(send("ok0001", `${ub} ${ua} ${ALICE}`, BOB, "x"));
  assert.equal((await bob.response()).status, 481);
  await bob.send(request("AUTH", "ok0002", [["To-Path", RELAY], ["From-Path", BOB]]));
  assert.equal((await bob.response()).status, 401);
  await relay.close();
});

Deno.test("RFC 4976 §5.1: AUTH to an outer relay through an inner one, then traffic both ways", async () => {
  const extra = memoryRelay({
    host: "extra.example.com",
    users: { Alice: { password: "outer" } },
  });
  let intraLinks = 0;
  const intra = memoryRelay({
    host: "intra.example.com",
    users: { Alice: { password: "inner" } },
  }, {
    connect: (uri) => {
      assert.equal(uri.host, "extra.example.com");
      intraLinks++;
      const [mine, theirs] = memoryPair();
      extra.relay.accept(theirs);
      return Promise.resolve(mine);
    },
  });
  const alice = intra.connect();
  const ui = (await authenticate(alice, {
    to: "msrps://alice@intra.example.com;tcp",
    from: ALICE,
    username: "Alice",
    password: "inner",
  })).usePath;
  const EXTRA = "msrps://extra.example.com;tcp";
  await alice.send(request("AUTH", "mnbvw", [["To-Path", `${ui} ${EXTRA}`], ["From-Path", ALICE]]));
  const challenge = await alice.response();
  // The 401 comes back along the path, as in the RFC's example.
  assert.equal(challenge.tid, "mnbvw");
  assert.equal(challenge.status, 401);
  assert.equal(challenge.headers.get("To-Path"), ALICE);
  assert.equal(challenge.headers.get("From-Path"), `${ui} ${EXTRA}`);
  const challenges = challenge.headers.getAll("WWW-Authenticate").map(parseWwwAuthenticate);
  assert.equal(challenges[0].realm, "extra.example.com");
  const client = new DigestClient({ username: "Alice", password: "outer" });
  await alice.send(request("AUTH", "m3nbvx", [
    ["To-Path", `${ui} ${EXTRA}`],
    ["From-Path", ALICE],
    ["Authorization", client.authorization(challenges, EXTRA)],
  ]));
  const ok = await alice.response();
  assert.equal(ok.status, 200);
  const usePath = ok.headers.get("Use-Path")!;
  const m = /^(\S+) (msrps:\/\/extra\.example\.com:9000\/[A-Za-z0-9]{22};tcp)$/.exec(usePath);
  assert.ok(m, usePath);
  assert.equal(m[1], ui);
  const ue = m[2];
  assert.deepEqual(extra.relay.registrations().map((r) => r.via.map(String)), [[ui]]);

  // Bob, without a relay, connects to extra and writes to Alice's path.
  const bob = extra.connect(false);
  await bob.send(send("b2a001", `${ue} ${ui} ${ALICE}`, BOB, "hello Alice"));
  assert.equal((await bob.response()).status, 200);
  const got = await alice.request();
  assert.equal(got.headers.get("To-Path"), ALICE);
  assert.equal(got.headers.get("From-Path"), `${ui} ${ue} ${BOB}`);
  await ack(alice, got);
  // Alice answers with a REPORT along her Use-Path; it reuses intra's connection to extra.
  await alice.send(request("REPORT", "a2b001", [
    ["To-Path", `${ui} ${ue} ${BOB}`],
    ["From-Path", ALICE],
    ["Message-ID", "mb2a001"],
    ["Byte-Range", "1-11/11"],
    ["Status", "000 200 OK"],
  ]));
  const rep = await bob.request();
  assert.equal(rep.headers.get("To-Path"), BOB);
  assert.equal(rep.headers.get("From-Path"), `${ue} ${ui} ${ALICE}`);
  assert.equal(intraLinks, 1);
  await intra.relay.close();
  await extra.relay.close();
});

Deno.test("a relay identified by mutual TLS: bound by name, From-Path checked (§6.3)", async () => {
  const next: Peer[] = [];
  const extra = memoryRelay(
    { host: "extra.example.com", users: { Alice: { password: "outer" } } },
    {
      identifyPeer: (t) => (t as { peerName?: string }).peerName,
      connect: () => {
        const [mine, theirs] = memoryPair();
        next.push(new Peer(theirs));
        return Promise.resolve(mine);
      },
    },
  );
  const link = (): Peer => {
    const [mine, theirs] = memoryPair();
    extra.relay.accept({ ...theirs, peerName: "intra.example.com" } as MsrpTransport);
    return new Peer(mine);
  };
  const UI = "msrps://intra.example.com:9000/innerToken12345;tcp";
  const l1 = link();
  // An AUTH relayed by intra: From-Path starts with intra's URI.
  const r = await authenticate(l1, {
    to: "msrps://extra.example.com;tcp",
    from: `${UI} ${ALICE}`,
    username: "Alice",
    password: "outer",
  });
  const ue = r.usePath.split(" ")[1];
  assert.equal(r.usePath.split(" ")[0], UI);
  assert.deepEqual(extra.relay.registrations()[0].binding, {
    kind: "relay",
    host: "intra.example.com",
  });
  // A second connection from intra may carry Alice's traffic too.
  const l2 = link();
  await l2.send(send("id0001", `${ue} ${BOB}`, `${UI} ${ALICE}`, "hi"));
  assert.equal((await l2.response()).status, 200);
  await until(() => next.length === 1);
  const fwd = await next[0].request();
  assert.equal(fwd.headers.get("From-Path"), `${ue} ${UI} ${ALICE}`);
  // A From-Path that does not start with intra's name is refused.
  await l2.send(send("id0002", `${ue} ${BOB}`, `msrps://evil.example.com:9/e;tcp ${ALICE}`, "x"));
  assert.equal((await l2.response()).status, 403);
  assert.ok(extra.log.some((e) => e.event === "forward-refused" && e.message.includes("TLS peer")));
  await extra.relay.close();
});

Deno.test("unknown methods are forwarded and answered end to end; or blocked with 501 (§6.4.2)", async () => {
  const a = await setup();
  await a.alice.send(request("PING", "ping01", [["To-Path", `${a.ua} ${a.ub} ${BOB}`], [
    "From-Path",
    ALICE,
  ]]));
  const fwd = await a.bob.request();
  assert.equal(fwd.method, "PING");
  assert.equal(fwd.headers.get("From-Path"), `${a.ub} ${a.ua} ${ALICE}`);
  await a.bob.send(response(fwd.tid, 501, [
    ["To-Path", `${a.ub} ${a.ua} ${ALICE}`],
    ["From-Path", BOB],
  ], "Not Implemented"));
  const res = await a.alice.response();
  assert.equal(
    text(res),
    `MSRP ping01 501 Not Implemented\r\nTo-Path: ${ALICE}\r\nFrom-Path: ${a.ua} ${a.ub} ${BOB}\r\n` +
      "-------ping01$\r\n",
  );
  await a.relay.close();

  const b = await setup({ blockUnknownMethods: true });
  await b.alice.send(request("PING", "ping02", [["To-Path", `${b.ua} ${b.ub} ${BOB}`], [
    "From-Path",
    ALICE,
  ]]));
  assert.equal((await b.alice.response()).status, 501);
  await b.relay.close();
});

Deno.test("a connection attempt that never completes is given up after the hop time", async () => {
  const env = memoryRelay({ host: "relay.example.com", limits: { transactionTimeoutMs: HOP_MS } }, {
    connect: () => new Promise<MsrpTransport>(() => {}),
  });
  const alice = env.connect();
  const { usePath: ua } = await authenticate(alice, { to: RELAY, from: ALICE });
  await alice.send(send("hang01", `${ua} ${FAR}`, ALICE, "hello"));
  assert.equal((await alice.response()).status, 200);
  assert.equal(env.relay.stats().outboundConnections, 1);
  env.clock.advance(HOP_MS);
  const rep = await alice.request();
  assert.equal(rep.headers.get("Status"), "000 408 next hop connection lost");
  assert.equal(env.relay.stats().outboundConnections, 0);
  assert.ok(env.log.some((e) => e.event === "connect-failed" && /timed out/.test(e.message)));
  await env.relay.close();
});

Deno.test("issue 9: 400 wherever it can be addressed; extension fields forwarded byte for byte", async () => {
  const { relay, alice, bob, ua, ub } = await setup();
  const bad400 = (tid: string, more = "") =>
    `MSRP ${tid} 400 Bad Request\r\nTo-Path: ${ALICE}\r\nFrom-Path: ${ua}\r\n${more}-------${tid}$\r\n`;
  // A bad header line before From-Path: the fields after it still address the 400.
  await alice.raw(
    `MSRP bad4 SEND\r\nTo-Path: ${ua} ${ub} ${BOB}\r\nno colon\r\nFrom-Path: ${ALICE}\r\n` +
      "Message-ID: m1234\r\n-------bad4$\r\n",
  );
  assert.equal(text(await alice.response()), bad400("bad4"));
  // Without To-Path the relay answers from its own URI.
  await alice.raw(`MSRP bad5 SEND\r\nFrom-Path: ${ALICE}\r\nMessage-ID: m1234\r\n-------bad5$\r\n`);
  const noTo = await alice.response();
  assert.equal(noTo.status, 400);
  assert.equal(noTo.headers.get("To-Path"), ALICE);
  // A body without Content-Type (§7.1) cannot be forwarded as it is: 400.
  await alice.raw(
    `MSRP bad6 SEND\r\nTo-Path: ${ua} ${ub} ${BOB}\r\nFrom-Path: ${ALICE}\r\nMessage-ID: m1234\r\n` +
      "Byte-Range: 1-2/2\r\n\r\nhi\r\n-------bad6$\r\n",
  );
  assert.equal(text(await alice.response()), bad400("bad6", "Message-ID: m1234\r\n"));
  // Extension fields pass through byte for byte: one SP after the colon, the rest is the value.
  const fields = "X-Note:  one leading space\r\nX-Tab: \tlead tab\r\nX-Trail: trailing  \r\n";
  await alice.raw(
    `MSRP good1 SEND\r\nTo-Path: ${ua} ${ub} ${BOB}\r\nFrom-Path: ${ALICE}\r\nMessage-ID: m1234\r\n` +
      `Byte-Range: 1-2/2\r\n${fields}Content-Type: text/plain\r\n\r\nhi\r\n-------good1$\r\n`,
  );
  assert.equal((await alice.response()).status, 200);
  const got = await bob.request();
  assert.equal(got.headers.get("X-Note"), " one leading space");
  assert.ok(text(got).includes(`\r\n${fields}Content-Type: text/plain\r\n`), text(got));
  assert.equal(bob.queued, 0, "nothing of the refused requests reached Bob");
  await relay.close();
});
