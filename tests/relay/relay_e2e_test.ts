// End to end over loopback TCP: clients and relays on real sockets
// (RFC 4976 §3, §5.1, §6.4). Clients are hand-written frames.

import assert from "node:assert/strict";
import type { DecodedFrame, MsrpRequest } from "../../lib/wire/frame.ts";
import { HeaderList } from "../../lib/wire/header_list.ts";
import {
  ack,
  authenticate,
  loopbackConnect,
  type Peer,
  request,
  tcpPeer,
  tcpRelay,
  text,
} from "./relay_harness.ts";

/** Two relays that can reach each other by name. */
async function twoRelays(limits: Record<string, number> = {}) {
  const ports: Record<string, number> = {};
  const connect = loopbackConnect(ports);
  const a = await tcpRelay({ host: "a.example.org", limits }, { connect });
  const b = await tcpRelay({ host: "b.example.net", limits }, { connect });
  ports["a.example.org"] = a.port;
  ports["b.example.net"] = b.port;
  return { a, b };
}

Deno.test("RFC 4976 §3: SEND, 200s and REPORT through two relays on loopback", async () => {
  const { a, b } = await twoRelays();
  const ALICE = "msrp://alice.example.org:7965/bar;tcp";
  const BOB = "msrp://bob.example.net:8145/foo;tcp";
  const alice = await tcpPeer(a.port);
  const bob = await tcpPeer(b.port);
  try {
    const ua =
      (await authenticate(alice, { to: `msrp://a.example.org:${a.port};tcp`, from: ALICE }))
        .usePath;
    const ub = (await authenticate(bob, {
      to: `msrp://b.example.net:${b.port};tcp`,
      from: BOB,
      username: "bob",
      password: "hunter2",
    })).usePath;
    const body = "Hi Bob, I'm about to send you file.mpeg";
    await alice.send(request("SEND", "6aef", [
      ["To-Path", `${ua} ${ub} ${BOB}`],
      ["From-Path", ALICE],
      ["Success-Report", "yes"],
      ["Byte-Range", "1-*/*"],
      ["Message-ID", "87652"],
      ["Content-Type", "text/plain"],
    ], body));
    assert.equal(
      text(await alice.response()),
      `MSRP 6aef 200 OK\r\nTo-Path: ${ALICE}\r\nFrom-Path: ${ua}\r\nMessage-ID: 87652\r\n` +
        "-------6aef$\r\n",
    );
    const got = await bob.request();
    assert.equal(
      text(got),
      `MSRP ${got.tid} SEND\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ub} ${ua} ${ALICE}\r\n` +
        "Success-Report: yes\r\nByte-Range: 1-*/*\r\nMessage-ID: 87652\r\n" +
        `Content-Type: text/plain\r\n\r\n${body}\r\n-------${got.tid}$\r\n`,
    );
    await ack(bob, got);
    await bob.send(request("REPORT", "yh67", [
      ["To-Path", `${ub} ${ua} ${ALICE}`],
      ["From-Path", BOB],
      ["Message-ID", "87652"],
      ["Byte-Range", "1-39/39"],
      ["Status", "000 200 OK"],
    ]));
    const rep = await alice.request();
    assert.equal(
      text(rep),
      `MSRP ${rep.tid} REPORT\r\nTo-Path: ${ALICE}\r\nFrom-Path: ${ua} ${ub} ${BOB}\r\n` +
        `Message-ID: 87652\r\nByte-Range: 1-39/39\r\nStatus: 000 200 OK\r\n-------${rep.tid}$\r\n`,
    );
    // One connection between the relays carries both directions: b sends the
    // REPORT back over the connection a opened.
    assert.equal(a.relay.stats().outboundConnections, 1);
    assert.equal(b.relay.stats().outboundConnections, 0);
    assert.equal(a.relay.stats().pendingTransactions, 0);
    assert.equal(b.relay.stats().pendingTransactions, 0);
  } finally {
    alice.close();
    bob.close();
    await a.close();
    await b.close();
    await alice.ended;
    await bob.ended;
  }
});

Deno.test("20 concurrent sessions through one relay", async () => {
  const r = await tcpRelay({ host: "relay.example.com" });
  const peers: Peer[] = [];
  try {
    const pairs = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const a = await tcpPeer(r.port);
      const b = await tcpPeer(r.port);
      peers.push(a, b);
      const A = `msrp://a${i}.example.com:1000/s${i}a;tcp`;
      const B = `msrp://b${i}.example.com:2000/s${i}b;tcp`;
      const relayUri = `msrp://relay.example.com:${r.port};tcp`;
      const [ua, ub] = await Promise.all([
        authenticate(a, { to: relayUri, from: A }).then((x) => x.usePath),
        authenticate(b, { to: relayUri, from: B, username: "bob", password: "hunter2" })
          .then((x) => x.usePath),
      ]);
      return { i, a, b, A, B, ua, ub };
    }));
    assert.equal(r.relay.stats().registrations, 40);
    await Promise.all(pairs.map(async ({ i, a, b, A, B, ua, ub }) => {
      const body = `message number ${i} `.repeat(i + 1);
      await a.send(request("SEND", `pair${i}send`, [
        ["To-Path", `${ua} ${ub} ${B}`],
        ["From-Path", A],
        ["Success-Report", "yes"],
        ["Message-ID", `msg${i}xyz`],
        ["Byte-Range", `1-${body.length}/${body.length}`],
        ["Content-Type", "text/plain"],
      ], body));
      assert.equal((await a.response()).status, 200);
      const got = await b.request();
      assert.equal(new TextDecoder().decode(got.body!), body);
      assert.equal(got.headers.get("From-Path"), `${ub} ${ua} ${A}`);
      await ack(b, got);
      await b.send(request("REPORT", `pair${i}rep`, [
        ["To-Path", `${ub} ${ua} ${A}`],
        ["From-Path", B],
        ["Message-ID", `msg${i}xyz`],
        ["Byte-Range", `1-${body.length}/${body.length}`],
        ["Status", "000 200 OK"],
      ]));
      const rep = await a.request();
      assert.equal(rep.headers.get("Message-ID"), `msg${i}xyz`);
      assert.equal(rep.headers.get("From-Path"), `${ua} ${ub} ${B}`);
    }));
    assert.equal(r.relay.stats().connections, 40);
    assert.equal(r.relay.stats().pendingTransactions, 0);
  } finally {
    for (const p of peers) p.close();
    await r.close();
    await Promise.all(peers.map((p) => p.ended));
  }
});

Deno.test("a 100 MB chunk through two relays, with bounded memory in each", async () => {
  const TOTAL = 100 * 1024 * 1024;
  const PIECE = 64 * 1024;
  const LIMIT = 256 * 1024;
  const { a, b } = await twoRelays({ maxBufferedBytesPerConnection: LIMIT, segmentSize: PIECE });
  const ALICE = "msrp://alice.example.org:7965/bar;tcp";
  const BOB = "msrp://bob.example.net:8145/foo;tcp";
  const alice = await tcpPeer(a.port);
  const bob = await tcpPeer(b.port, PIECE);
  try {
    const ua =
      (await authenticate(alice, { to: `msrp://a.example.org:${a.port};tcp`, from: ALICE }))
        .usePath;
    const ub = (await authenticate(bob, {
      to: `msrp://b.example.net:${b.port};tcp`,
      from: BOB,
      username: "bob",
      password: "hunter2",
    })).usePath;

    // Bob checks every byte against its position and answers each chunk.
    let received = 0;
    let chunks = 0;
    let bad = -1;
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    bob.onFrame = (f: DecodedFrame) => {
      if (f.kind !== "request") return;
      const start = Number(f.headers.get("Byte-Range")!.split("-")[0]) + f.offset;
      const body = f.body!;
      for (let i = 0; i < body.length; i++) {
        if (body[i] !== (start + i) % 251 && bad < 0) bad = start + i;
      }
      received += body.length;
      if (f.flag !== undefined) {
        chunks++;
        ack(bob, f).catch(() => {});
        if (f.flag === "$") finished();
      }
    };

    const headers = new HeaderList([
      ["To-Path", `${ua} ${ub} ${BOB}`],
      ["From-Path", ALICE],
      ["Message-ID", "hundredMB"],
      ["Byte-Range", `1-*/${TOTAL}`],
      ["Content-Type", "application/octet-stream"],
    ]);
    const block = new Uint8Array(PIECE);
    for (let off = 0; off < TOTAL; off += PIECE) {
      for (let i = 0; i < PIECE; i++) block[i] = (off + 1 + i) % 251;
      const piece: MsrpRequest = {
        kind: "request",
        tid: "bigtransfer1",
        method: "SEND",
        headers,
        body: block.slice(),
        offset: off,
        flag: off + PIECE >= TOTAL ? "$" : undefined,
      };
      await alice.send(piece);
    }
    const ok = await alice.response();
    assert.equal(ok.status, 200);
    await done;
    assert.equal(bad, -1, `byte ${bad} is wrong`);
    assert.equal(received, TOTAL);
    assert.ok(chunks >= 1);
    if (Deno.env.get("RELAY_DEBUG")) {
      console.log({ chunks, a: a.relay.stats(), b: b.relay.stats() });
    }
    for (const r of [a.relay, b.relay]) {
      const s = r.stats();
      assert.ok(
        s.peakBufferedBytes <= LIMIT + 3 * PIECE,
        `peak buffered ${s.peakBufferedBytes} > ${LIMIT + 3 * PIECE}`,
      );
      assert.ok(s.forwardedBodyBytes >= TOTAL);
    }
  } finally {
    alice.close();
    bob.close();
    await a.close();
    await b.close();
    await alice.ended;
    await bob.ended;
  }
});
