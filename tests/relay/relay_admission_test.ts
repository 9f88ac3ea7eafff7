// Admission at the relay (RFC 4976 §6.1, §6.5): connections that never
// authenticate cannot hold the relay's connection slots, and a chunk that
// never ends does not keep a connection from counting as idle (issue 8 #3).

import assert from "node:assert/strict";
import type { ContinuationFlag, MsrpRequest } from "../../lib/wire/frame.ts";
import { HeaderList } from "../../lib/wire/header_list.ts";
import { ack, authenticate, memoryRelay, type Peer, settle } from "./relay_harness.ts";

const RELAY = "msrps://relay.example.com:9000;tcp";
const ALICE = "msrps://alice.example.com:1234/a1;tcp";
const BOB = "msrps://bob.example.com:5678/b1;tcp";

function piece(
  tid: string,
  to: string,
  body: Uint8Array,
  flag: ContinuationFlag | undefined,
): MsrpRequest {
  return {
    kind: "request",
    tid,
    method: "SEND",
    headers: new HeaderList([
      ["To-Path", to],
      ["From-Path", `msrp://x${tid}.example.com:7777/x;tcp`],
      ["Message-ID", "m" + tid],
      ["Byte-Range", "1-*/100000"],
      ["Content-Type", "application/octet-stream"],
    ]),
    body,
    offset: 0,
    flag,
  };
}

Deno.test("unauthenticated connections with stalled chunks cannot crowd out a client; they idle out", async () => {
  const idleMs = 60_000;
  const sweepIntervalMs = 10_000;
  const { relay, connect, clock, log } = memoryRelay({
    host: "relay.example.com",
    limits: { maxConnections: 6, idleMs, sweepIntervalMs, segmentSize: 1024 },
  });
  const alice = connect();
  const { usePath } = await authenticate(alice, { to: RELAY, from: ALICE });
  // Alice answers what reaches her, so that no hop timer fails anything.
  alice.onFrame = (f) => {
    if (f.kind === "request") void ack(alice, f);
  };

  // Five peers without AUTH fill the limit: each starts a chunk toward
  // Alice's Use-Path (which ends its probation) and never finishes it.
  const stalled: Peer[] = [];
  for (let i = 0; i < 5; i++) {
    const p = connect(false);
    await p.send(
      piece(`stall${i}`, `${usePath} ${ALICE}`, new Uint8Array(2000).fill(65), undefined),
    );
    stalled.push(p);
  }
  await settle(200);
  assert.equal(relay.stats().connections, 6);

  // A legitimate client still gets in, and authenticates.
  clock.advance(1000);
  const bob = connect();
  await authenticate(bob, { to: RELAY, from: BOB, username: "bob", password: "hunter2" });
  assert.equal(relay.stats().connections, 6);
  assert.equal(relay.registrations().length, 2);
  assert.ok(log.some((e) => e.message.includes("make room")));

  // The stalled ones count as idle from their last bytes: closed at idleMs, not before.
  const open = () => relay.stats().connections;
  clock.advance(idleMs - sweepIntervalMs - 1000);
  await settle();
  assert.equal(open(), 6);
  clock.advance(sweepIntervalMs + 1000);
  let ended = 0;
  for (const p of stalled) {
    if (await Promise.race([p.ended.then(() => true), settle(200).then(() => false)])) ended++;
  }
  assert.equal(ended, 5);
  assert.equal(open(), 2);
  assert.ok(log.some((e) => e.event === "connection-closed" && e.message.startsWith("idle")));
  await relay.close();
});

Deno.test("at the limit, a busy connection without AUTH is closed for a client, a busy client is not", async () => {
  const { relay, connect, log } = memoryRelay({
    host: "relay.example.com",
    limits: { maxConnections: 3 },
  });
  const alice = connect();
  const { usePath } = await authenticate(alice, { to: RELAY, from: ALICE });
  alice.onFrame = (f) => {
    if (f.kind === "request") void ack(alice, f);
  };
  // Two peers without AUTH send to Alice but stop reading: the relay's
  // responses to them queue up, so they are not idle.
  const busy: Peer[] = [];
  for (let i = 0; i < 2; i++) {
    const p = connect(false);
    p.pause();
    for (let j = 0; j < 4; j++) {
      await p.send(piece(`busy${i}${j}`, `${usePath} ${ALICE}`, new Uint8Array(10).fill(66), "$"));
    }
    busy.push(p);
  }
  await settle(200);
  assert.equal(relay.stats().connections, 3);
  const bob = connect();
  await authenticate(bob, { to: RELAY, from: BOB, username: "bob", password: "hunter2" });
  assert.ok(log.some((e) => e.event === "connection-evicted"));
  assert.equal(relay.stats().connections, 3);
  assert.equal(relay.registrations().length, 2);
  // The other busy peer makes room for Carol; then only clients are left,
  // and none of them is closed for a newcomer.
  const carol = connect();
  await authenticate(carol, {
    to: RELAY,
    from: "msrps://carol.example.com:4321/c1;tcp",
    username: "carol",
    password: "pw3",
  });
  const dave = connect();
  assert.equal(await dave.next(), undefined);
  assert.equal(relay.registrations().length, 3);
  await relay.close();
});
