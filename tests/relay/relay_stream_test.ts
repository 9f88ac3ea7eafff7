// Long chunks through the relay: forwarded piece by piece, interrupted and
// resumed (RFC 4975 §7.1.1; RFC 4976 §6.4.1), with back-pressure.

import assert from "node:assert/strict";
import type { MsrpRequest } from "../../lib/wire/frame.ts";
import { HeaderList } from "../../lib/wire/header_list.ts";
import type { ContinuationFlag } from "../../lib/wire/frame.ts";
import {
  ack,
  authenticate,
  memoryRelay,
  type Peer,
  request,
  settle,
  until,
} from "./relay_harness.ts";

const RELAY = "msrps://relay.example.com:9000;tcp";
const ALICE = "msrps://alice.example.com:1234/a1;tcp";
const BOB = "msrps://bob.example.com:5678/b1;tcp";
const CAROL = "msrps://carol.example.com:4321/c1;tcp";

/** Message bytes: position p (from 1) holds p % 251. */
function pattern(start: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (start + i) % 251;
  return out;
}

function piece(
  tid: string,
  headers: [string, string][],
  body: Uint8Array,
  offset: number,
  flag: ContinuationFlag | undefined,
): MsrpRequest {
  return {
    kind: "request",
    tid,
    method: "SEND",
    headers: new HeaderList(headers),
    body,
    offset,
    flag,
  };
}

async function setup(
  limits: Record<string, number> = {},
  bobOpts: { segmentSize?: number; frameAligned?: boolean } = {},
) {
  const env = memoryRelay({
    host: "relay.example.com",
    limits: { segmentSize: 1024, fairnessQuantum: 2048, ...limits },
  });
  const alice = env.connect();
  const bob = env.connect(true, bobOpts);
  const carol = env.connect();
  const ua = (await authenticate(alice, { to: RELAY, from: ALICE })).usePath;
  const ub =
    (await authenticate(bob, { to: RELAY, from: BOB, username: "bob", password: "hunter2" }))
      .usePath;
  const uc = (await authenticate(carol, {
    to: RELAY,
    from: CAROL,
    username: "carol",
    password: "pw3",
  })).usePath;
  return { ...env, alice, bob, carol, ua, ub, uc };
}

function headersFor(
  to: string,
  from: string,
  messageId: string,
  total: number,
): [string, string][] {
  return [
    ["To-Path", to],
    ["From-Path", from],
    ["Message-ID", messageId],
    ["Byte-Range", `1-*/${total}`],
    ["Content-Type", "application/octet-stream"],
  ];
}

/** Reads whole SEND frames on a peer (large segment size). */
async function sends(peer: Peer, n: number): Promise<MsrpRequest[]> {
  const out: MsrpRequest[] = [];
  while (out.length < n) {
    const f = await peer.request();
    assert.ok(f.flag !== undefined, "expected whole frames");
    out.push(f);
  }
  return out;
}

function summary(f: MsrpRequest): string {
  return `${f.headers.get("Message-ID")} ${
    f.headers.get("Byte-Range")
  } ${f.body?.length} ${f.flag}`;
}

function checkBytes(f: MsrpRequest): void {
  const start = Number(f.headers.get("Byte-Range")!.split("-")[0]);
  assert.deepEqual(f.body, pattern(start, f.body!.length));
}

Deno.test("a long chunk is forwarded piece by piece as it arrives", async () => {
  const { relay, alice, bob, ua, ub } = await setup({}, { segmentSize: 512 });
  const h = headersFor(`${ua} ${ub} ${BOB}`, ALICE, "big00001", 8192);
  await alice.send(piece("stream01", h, pattern(1, 4096), 0, undefined));
  // Bob sees the start of the chunk before Alice has finished sending it.
  const first = await bob.next() as MsrpRequest;
  assert.equal(first.kind, "request");
  assert.equal(first.flag, undefined);
  assert.equal(first.offset, 0);
  // §7.1.1: an interruptible chunk has "*" as its range end.
  assert.equal(first.headers.get("Byte-Range"), "1-*/8192");
  assert.equal(first.headers.get("From-Path"), `${ub} ${ua} ${ALICE}`);
  assert.equal(alice.queued, 0); // the 200 comes when the chunk is complete
  await alice.send(piece("stream01", h, pattern(4097, 4096), 4096, "$"));
  const body: Uint8Array[] = [first.body!];
  let last = first;
  while (last.flag === undefined) {
    last = await bob.next() as MsrpRequest;
    assert.equal(last.tid, first.tid);
    body.push(last.body!);
  }
  assert.equal(last.flag, "$");
  const all = new Uint8Array(8192);
  let at = 0;
  for (const b of body) {
    all.set(b, at);
    at += b.length;
  }
  assert.equal(at, 8192);
  assert.deepEqual(all, pattern(1, 8192));
  const ok = await alice.response();
  assert.equal(ok.tid, "stream01");
  assert.equal(ok.status, 200);
  await relay.close();
});

Deno.test("a whole frame for the same connection interrupts the chunk, which resumes (§7.1.1)", async () => {
  const { relay, alice, bob, carol, ua, ub, uc } = await setup();
  const h = headersFor(`${ua} ${ub} ${BOB}`, ALICE, "big00002", 5000);
  await alice.send(piece("intr0001", h, pattern(1, 3000), 0, undefined));
  await until(() => relay.stats().forwardedBodyBytes === 3000);
  await carol.send(request("SEND", "carol001", [
    ["To-Path", `${uc} ${ub} ${BOB}`],
    ["From-Path", CAROL],
    ["Message-ID", "small001"],
    ["Byte-Range", "1-3/3"],
    ["Content-Type", "text/plain"],
  ], "hey"));
  assert.equal((await carol.response()).status, 200);
  await until(() => relay.stats().forwardedBodyBytes === 3003);
  await alice.send(piece("intr0001", h, pattern(3001, 2000), 3000, "$"));
  const [f1, f2, f3] = await sends(bob, 3);
  assert.deepEqual([f1, f2, f3].map(summary), [
    "big00002 1-*/5000 3000 +",
    "small001 1-3/3 3 $",
    "big00002 3001-*/5000 2000 $",
  ]);
  assert.notEqual(f1.tid, f3.tid);
  assert.equal(f3.headers.get("From-Path"), `${ub} ${ua} ${ALICE}`);
  checkBytes(f1);
  checkBytes(f3);
  for (const f of [f1, f2, f3]) await ack(bob, f);
  const ok = await alice.response();
  assert.equal(ok.status, 200);
  await until(() => relay.stats().pendingTransactions === 0);
  await relay.close();
});

Deno.test("two chunks for one connection take turns (§7.1.1 fairness)", async () => {
  const { relay, alice, bob, carol, ua, ub, uc } = await setup();
  const ha = headersFor(`${ua} ${ub} ${BOB}`, ALICE, "alice001", 8192);
  const hc = headersFor(`${uc} ${ub} ${BOB}`, CAROL, "carol001", 8192);
  const written = (n: number) => until(() => relay.stats().forwardedBodyBytes === n);
  await alice.send(piece("fairA001", ha, pattern(1, 4096), 0, undefined));
  await written(4096);
  await carol.send(piece("fairC001", hc, pattern(1, 4096), 0, undefined));
  await written(8192);
  await alice.send(piece("fairA001", ha, pattern(4097, 4096), 4096, "$"));
  await written(12288);
  await carol.send(piece("fairC001", hc, pattern(4097, 4096), 4096, "$"));
  const frames = await sends(bob, 4);
  assert.deepEqual(frames.map(summary), [
    "alice001 1-*/8192 4096 +",
    "carol001 1-*/8192 4096 +",
    "alice001 4097-*/8192 4096 $",
    "carol001 4097-*/8192 4096 $",
  ]);
  frames.forEach(checkBytes);
  for (const f of frames) await ack(bob, f);
  assert.equal((await alice.response()).status, 200);
  assert.equal((await carol.response()).status, 200);
  await relay.close();
});

Deno.test("a chat overtakes the whole file chunks queued before it for the same connection (§7.1.1)", async () => {
  const { relay, alice, bob, carol, ua, ub, uc } = await setup({
    maxBufferedBytesPerConnection: 64 * 1024,
  });
  bob.pause(); // the file's chunks pile up in the relay's queue for Bob
  for (let i = 0; i < 8; i++) {
    await alice.send(request("SEND", `file000${i}`, [
      ["To-Path", `${ua} ${ub} ${BOB}`],
      ["From-Path", ALICE],
      ["Message-ID", "file0001"],
      ["Byte-Range", `${i * 2048 + 1}-${(i + 1) * 2048}/16384`],
      ["Content-Type", "application/octet-stream"],
    ], pattern(i * 2048 + 1, 2048)));
  }
  // Whole chunks are answered once queued (RFC 4976 §6.4.1).
  for (let i = 0; i < 8; i++) assert.equal((await alice.response()).status, 200);
  await carol.send(request("SEND", "chat0001", [
    ["To-Path", `${uc} ${ub} ${BOB}`],
    ["From-Path", CAROL],
    ["Message-ID", "chat0001"],
    ["Byte-Range", "1-5/5"],
    ["Content-Type", "text/plain"],
  ], "hello"));
  assert.equal((await carol.response()).status, 200);
  bob.resume();
  const frames = await sends(bob, 9);
  const at = frames.findIndex((f) => f.headers.get("Message-ID") === "chat0001");
  // What the writer had handed to Bob's transport before it stopped taking
  // data (two chunks here), then the file's turn (one chunk), then the
  // chat: not behind all eight.
  assert.ok(at >= 0 && at <= 3, `the chat came after ${at} file chunks`);
  // The file's own chunks keep their order.
  const file = frames.filter((f) => f.headers.get("Message-ID") === "file0001");
  assert.deepEqual(
    file.map((f) => f.headers.get("Byte-Range")),
    Array.from({ length: 8 }, (_, i) => `${i * 2048 + 1}-${(i + 1) * 2048}/16384`),
  );
  file.forEach(checkBytes);
  for (const f of frames) await ack(bob, f);
  await until(() => relay.stats().pendingTransactions === 0);
  await relay.close();
});

Deno.test("back-pressure: a slow reader stops the relay reading the sender; memory stays bounded", async () => {
  const limit = 4096;
  const { relay, alice, bob, ua, ub } = await setup({ maxBufferedBytesPerConnection: limit });
  bob.pause();
  const h = headersFor(`${ua} ${ub} ${BOB}`, ALICE, "slow0001", 64 * 1024);
  let sent = false;
  const sending = (async () => {
    for (let i = 0; i < 64; i++) {
      await alice.send(
        piece("slow0001", h, pattern(i * 1024 + 1, 1024), i * 1024, i === 63 ? "$" : undefined),
      );
    }
    sent = true;
  })();
  await until(() => relay.stats().bufferedBytes >= limit);
  await settle(2000);
  assert.equal(sent, false, "Alice should be blocked");
  const peak = relay.stats().peakBufferedBytes;
  assert.ok(peak >= limit && peak <= limit + 2048, `peak ${peak}`);
  bob.resume();
  await sending;
  const frames: MsrpRequest[] = [];
  let total = 0;
  while (total < 64 * 1024) {
    const f = await bob.request();
    checkBytes(f);
    total += f.body!.length;
    frames.push(f);
    await ack(bob, f);
  }
  assert.equal(frames[frames.length - 1].flag, "$");
  assert.equal((await alice.response()).status, 200);
  assert.ok(relay.stats().peakBufferedBytes <= limit + 2048);
  assert.equal(relay.stats().bufferedBytes, 0);
  await relay.close();
});

Deno.test("a frame-aligned transport (WebSocket) gets every piece as a whole chunk", async () => {
  const { relay, alice, bob, ua, ub } = await setup({}, { frameAligned: true });
  const h = headersFor(`${ua} ${ub} ${BOB}`, ALICE, "wsmsg001", 3072);
  for (let i = 0; i < 3; i++) {
    await alice.send(
      piece("wsmsg001", h, pattern(i * 1024 + 1, 1024), i * 1024, i === 2 ? "$" : undefined),
    );
  }
  assert.equal((await alice.response()).status, 200);
  const frames: MsrpRequest[] = [];
  let next = 1;
  for (;;) {
    const f = await bob.request();
    frames.push(f);
    const m = /^(\d+)-(\d+)\/3072$/.exec(f.headers.get("Byte-Range")!);
    assert.ok(m, f.headers.get("Byte-Range"));
    assert.equal(Number(m[1]), next);
    assert.equal(Number(m[2]), next + f.body!.length - 1);
    checkBytes(f);
    next += f.body!.length;
    await ack(bob, f);
    if (f.flag === "$") break;
    assert.equal(f.flag, "+");
  }
  assert.equal(next, 3073);
  assert.ok(frames.length >= 3);
  await relay.close();
});

Deno.test("the sender's connection dies mid-chunk: the forwarded chunk ends with + (§7.1)", async () => {
  const { relay, alice, bob, ua, ub } = await setup();
  const h = headersFor(`${ua} ${ub} ${BOB}`, ALICE, "dead0001", 4096);
  await alice.send(piece("dead0001", h, pattern(1, 2048), 0, undefined));
  await until(() => relay.stats().forwardedBodyBytes === 2048);
  alice.close();
  const [f] = await sends(bob, 1);
  assert.equal(summary(f), "dead0001 1-*/4096 2048 +");
  checkBytes(f);
  await relay.close();
});

Deno.test("an error from the next hop mid-chunk: the sender gets it, the chunk is aborted with #", async () => {
  const { relay, alice, bob, ua, ub } = await setup({}, { segmentSize: 512 });
  const h = headersFor(`${ua} ${ub} ${BOB}`, ALICE, "nope0001", 8192);
  await alice.send(piece("nope0001", h, pattern(1, 2048), 0, undefined));
  const first = await bob.next() as MsrpRequest;
  assert.equal(first.flag, undefined);
  await ack(bob, first, 413, "Message Too Large");
  const res = await alice.response();
  assert.equal(res.tid, "nope0001");
  assert.equal(res.status, 413);
  assert.equal(res.headers.get("To-Path"), ALICE);
  assert.equal(res.headers.get("Message-ID"), "nope0001");
  let f = first;
  while (f.flag === undefined) f = await bob.next() as MsrpRequest;
  assert.equal(f.flag, "#");
  // The rest of Alice's chunk is dropped.
  await alice.send(piece("nope0001", h, pattern(2049, 6144), 2048, "$"));
  await settle(200);
  assert.equal(bob.queued, 0);
  assert.equal(alice.queued, 0);
  await relay.close();
});

Deno.test("a peer that stops reading is disconnected after writeStallMs", async () => {
  const { relay, alice, bob, ua, ub, clock, log } = await setup({ writeStallMs: 60_000 });
  bob.pause();
  // Bob's reader may hold one more frame; the second write then waits.
  for (const id of ["stall001", "stall002"]) {
    const h = headersFor(`${ua} ${ub} ${BOB}`, ALICE, id, 4);
    await alice.send(piece(id, h, pattern(1, 4), 0, "$"));
    assert.equal((await alice.response()).status, 200);
  }
  await until(() => relay.stats().bufferedBytes > 0 && relay.stats().pendingTransactions === 2);
  clock.advance(59_999);
  await settle(50);
  assert.equal(relay.stats().connections, 3);
  clock.advance(10_001); // the next sweep sees the write stalled for 60 s or more
  assert.ok(log.some((e) => e.event === "write-stalled"));
  assert.equal(relay.stats().connections, 2);
  // The SENDs not confirmed are reported (§6.4.1): the one written timed out
  // after 30 s, the other was lost with the connection.
  const reports = [await alice.request(), await alice.request()];
  assert.deepEqual(
    reports.map((r) => `${r.headers.get("Message-ID")} ${r.headers.get("Status")}`),
    [
      "stall001 000 408 Request Timeout",
      "stall002 000 408 next hop connection lost",
    ],
  );
  await relay.close();
});
