// Bounds on what a peer can make a connection and a session hold (issue 8,
// defects 6-8): bytes held per message, incomplete messages that expire,
// and a decoder that cannot be made to skip or swallow blank lines forever.

import assert from "node:assert/strict";
import type { DecodedFrame, FrameDecoderOptions } from "../../lib/wire/mod.ts";
import {
  FrameError,
  IncompleteMessageError,
  ManualClock,
  MsrpConnection,
  MsrpError,
  MsrpSession,
} from "../../mod.ts";
import { SessionDirectory } from "../../lib/session/mod.ts";
import type { LogLevel } from "../../lib/log.ts";
import { connectTcp, listenTcp } from "../../lib/transport/tcp.ts";
import type { MsrpTransport } from "../../lib/transport/types.ts";
import { SparseBuffer } from "../../lib/session/sparse_buffer.ts";
import { prng } from "../_util.ts";
import { ALICE, BOB, RawPeer, rawToSession, request } from "./_harness.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** A passive Bob behind a real TCP connection on loopback, and a raw peer on the other end. */
async function tcpToSession(decoder: FrameDecoderOptions | undefined) {
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client: MsrpTransport = await connectTcp(listener.addr);
  const server = await accepted;
  listener.close();
  const directory = new SessionDirectory();
  const bob = new MsrpSession({ localUri: BOB, remotePath: [ALICE] });
  directory.add(bob);
  const log: [LogLevel, string][] = [];
  const conn = new MsrpConnection(server, {
    directory,
    decoder,
    logger: (level, message) => log.push([level, message]),
  });
  return { bob, conn, peer: new RawPeer(client), client, log };
}

/**
 * Whether the server closed the connection: our stream ended, or was reset
 * (the server closed with our bytes still unread, so its kernel answered
 * with a RST, which may reach us before or after its FIN).
 */
async function closedByServer(peer: RawPeer): Promise<boolean> {
  try {
    return await peer.ended();
  } catch (e) {
    return e instanceof MsrpError && e.code === "connection-reset";
  }
}

/** Writes `piece` up to `times` times, stopping once the other side has closed. */
async function writeUntilClosed(peer: RawPeer, piece: Uint8Array, times: number): Promise<number> {
  let written = 0;
  for (let i = 0; i < times; i++) {
    try {
      await peer.raw(piece);
    } catch {
      break; // the connection was closed under us: what the test waits for
    }
    written += piece.length;
  }
  return written;
}

Deno.test("over TCP: a bad frame whose end-line never comes closes the connection at maxSkip, with a log line", async () => {
  const { bob, conn, peer, client, log } = await tcpToSession({ maxSkip: 1024 * 1024 });
  await peer.raw(
    `MSRP bad1x SEND\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ALICE}\r\nno colon here\r\n\r\n`,
  );
  const first = await peer.next();
  assert.equal(first.kind === "response" && first.status, 400);
  // Far more than the limit, in bounded count: the server closes part way.
  await writeUntilClosed(peer, new Uint8Array(64 * 1024).fill(0x7a), 64);
  await peer.finish().catch(() => {}); // without a limit, only the end of the stream stops it
  const end = await conn.closed;
  assert.ok(end.error instanceof FrameError);
  assert.equal(end.error.code, "skip-limit");
  assert.equal(end.error.fatal, true);
  assert.ok(
    log.some(([level, m]) =>
      level === "warn" && m.includes("no end-line for transaction bad1x within 1048576 octets")
    ),
    JSON.stringify(log),
  );
  assert.equal(await closedByServer(peer), true, "the server closed its side");
  bob.close();
  client.close();
});

Deno.test("over TCP: blank lines between frames close the connection past 16384 octets", async () => {
  const { conn, peer, client, log } = await tcpToSession(undefined);
  // 8192 CRLFs are tolerated: a frame after them is answered.
  await peer.raw("\r\n".repeat(8192));
  assert.deepEqual(await peer.fence(), []);
  await writeUntilClosed(peer, enc("\r\n".repeat(4096)), 64);
  await peer.finish().catch(() => {});
  const end = await conn.closed;
  assert.ok(end.error instanceof FrameError);
  assert.equal(end.error.code, "blank-limit");
  assert.ok(log.some(([level, m]) => level === "warn" && m.includes("blank lines between frames")));
  assert.equal(await closedByServer(peer), true);
  client.close();
});

// ---- defect 6: bytes held for a message never exceed its size ----

/** Byte-Range and Message-ID of a chunk, without a response (Failure-Report: no). */
function chunkHeaders(messageId: string, range: string): [string, string][] {
  return [["Message-ID", messageId], ["Byte-Range", range], ["Failure-Report", "no"]];
}

for (const total of ["100000", "*"]) {
  Deno.test(`the same range sent 3000 times holds its size once (total ${total}), read with bytes()`, async () => {
    const { bob, conn, peer } = rawToSession();
    const id = `msgRepeat${total === "*" ? "Star" : "Num"}`;
    const body = new Uint8Array(1000).fill(0x61);
    await peer.send(request("rep0x", BOB, ALICE, body, chunkHeaders(id, `1-1000/${total}`), "+"));
    const m = (await bob.nextMessage())!;
    const whole = m.bytes(); // the application reads the message whole
    let most = 0;
    for (let i = 1; i <= 3000; i++) {
      body.fill(0x61 + (i % 26));
      await peer.send(
        request(`rep${i}x`, BOB, ALICE, body.slice(), chunkHeaders(id, `1-1000/${total}`), "+"),
      );
      if (i % 500 === 0) {
        await peer.fence();
        most = Math.max(most, m.buffered);
      }
    }
    assert.equal(most, 1000, "a repeated range overwrites: 1000 octets held, not 3,000,000");
    // The last copy received wins (§7.3.1); then the rest completes the message.
    const tail = total === "*" ? "$" : "+";
    await peer.send(
      request("repEndx", BOB, ALICE, "z", chunkHeaders(id, `1001-1001/${total}`), tail),
    );
    if (total !== "*") {
      await peer.send(
        request(
          "repEnd2",
          BOB,
          ALICE,
          new Uint8Array(98_999).fill(0x7a),
          chunkHeaders(id, "1002-100000/100000"),
        ),
      );
    }
    const got = await whole;
    assert.equal(got.length, total === "*" ? 1001 : 100_000);
    assert.equal(got[0], 0x61 + (3000 % 26));
    assert.equal(got[1000], 0x7a);
    bob.close();
    conn.close();
  });
}

Deno.test("octets past a message's declared size are not held", async () => {
  const { bob, conn, peer } = rawToSession();
  const id = "msgPastSize";
  // A chunk says the message has 10 octets, out of order, then one runs past the end.
  await peer.send(request("ps1x", BOB, ALICE, "x".repeat(500), chunkHeaders(id, "6-*/10"), "+"));
  const m = (await bob.nextMessage())!;
  await peer.fence();
  assert.equal(m.buffered, 5);
  await peer.send(request("ps2x", BOB, ALICE, "hello", chunkHeaders(id, "1-5/10")));
  assert.equal(await m.text(), "helloxxxxx");
  bob.close();
  conn.close();
});

Deno.test("an unknown total read whole is bounded by max-size: 413 past it", async () => {
  const { bob, conn, peer } = rawToSession({ maxSize: 10_000 });
  const id = "msgStarBig";
  const h = (range: string): [string, string][] => [["Message-ID", id], ["Byte-Range", range]];
  const piece = new Uint8Array(1000).fill(0x62);
  await peer.send(request("sb0x", BOB, ALICE, piece, h("1-1000/*"), "+"));
  const m = (await bob.nextMessage())!;
  const whole = m.bytes();
  whole.catch(() => {}); // awaited below
  const answers: number[] = [];
  for (let i = 1; i < 12; i++) {
    await peer.send(request(`sb${i}x`, BOB, ALICE, piece, h(`${i * 1000 + 1}-*/*`), "+"));
    for (const f of await peer.fence()) if (f.kind === "response") answers.push(f.status);
  }
  // The first ten chunks fit in 10,000 octets; the 11th and later get 413 (§10.5).
  assert.deepEqual(answers, [...Array(10).fill(200), 413, 413]);
  assert.ok(m.buffered <= 10_000);
  assert.equal(await m.done, "incomplete");
  await assert.rejects(whole);
  bob.close();
  conn.close();
});

Deno.test("a message in more than maxFragments pieces is refused with 413", async () => {
  const { bob, conn, peer } = rawToSession({ incoming: { maxFragments: 50 } });
  const id = "msgFragmnt";
  const h = (range: string): [string, string][] => [["Message-ID", id], ["Byte-Range", range]];
  const answers: number[] = [];
  for (let i = 0; i < 60; i++) {
    // One octet every other offset: each chunk opens a new gap.
    await peer.send(request(`fr${i}x`, BOB, ALICE, "q", h(`${2 * i + 1}-${2 * i + 1}/1000`), "+"));
  }
  for (const f of await peer.fence()) if (f.kind === "response") answers.push(f.status);
  const m = (await bob.nextMessage())!;
  assert.deepEqual(answers, [...Array(50).fill(200), ...Array(10).fill(413)]);
  assert.equal(await m.done, "incomplete");
  bob.close();
  conn.close();
});

Deno.test("SparseBuffer: random overlapping writes match a last-write-wins model; held = octets covered", () => {
  const rnd = prng(11);
  for (let round = 0; round < 20; round++) {
    const size = 1 + Math.floor(rnd() * 3000);
    const model = new Int16Array(size).fill(-1);
    const buf = new SparseBuffer();
    for (let w = 0; w < 300; w++) {
      const start = Math.floor(rnd() * size);
      const length = 1 + Math.floor(rnd() * Math.min(200, size - start));
      const big = new Uint8Array(length + 100); // some views of larger buffers, some whole
      const bytes = rnd() < 0.5 ? big.subarray(50, 50 + length) : new Uint8Array(length);
      const value = w % 251;
      bytes.fill(value);
      buf.write(start, bytes);
      model.fill(value, start, start + length);
      assert.equal(buf.held, model.filter((v) => v >= 0).length);
    }
    const got = buf.assemble(size);
    for (let i = 0; i < size; i++) assert.equal(got[i], Math.max(0, model[i]), `offset ${i}`);
    buf.truncate(size >> 1);
    assert.equal(buf.held, model.subarray(0, size >> 1).filter((v) => v >= 0).length);
  }
});

Deno.test("SparseBuffer: a small view does not keep its large buffer alive; tiny pieces are merged", () => {
  const buf = new SparseBuffer();
  const read = new Uint8Array(65536);
  buf.write(0, read.subarray(0, 10));
  const [piece] = buf.takeFrom(0);
  assert.equal(piece.buffer.byteLength, 10, "copied out of the 64 KiB read");
  for (let i = 0; i < 100_000; i++) buf.write(i, new Uint8Array([i & 255]));
  assert.equal(buf.held, 100_000);
  assert.ok(buf.count < 200, `pieces ${buf.count}`);
  const whole = buf.assemble(100_000);
  for (let i = 0; i < 100_000; i += 997) assert.equal(whole[i], i & 255);
});

// ---- defect 7: incomplete messages expire ----

function summary(frames: DecodedFrame[]): string[] {
  return frames.map((f) =>
    f.kind === "response"
      ? `${f.tid} ${f.status} ${f.comment}`
      : f.kind === "request"
      ? `${f.method} ${f.headers.get("Message-ID")} ${f.headers.get("Byte-Range")} ${
        f.headers.get("Status")
      }`
      : "invalid"
  );
}

async function rejectsTimeout(p: Promise<unknown>, idleMs: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof IncompleteMessageError, String(e));
    assert.equal(e.code, "message-timeout");
    assert.equal(e.state, "incomplete");
    assert.match(e.message, new RegExp(`nothing arrived for ${idleMs} ms`));
    return true;
  });
}

Deno.test("an incomplete message times out: 408 failure REPORT, the reader fails, its slot frees", async () => {
  const clock = new ManualClock();
  const { bob, conn, peer } = rawToSession(
    { incompleteTimeout: 60_000, maxConcurrentMessages: 1 },
    clock,
  );
  const h = (id: string, range: string): [string, string][] => [
    ["Message-ID", id],
    ["Byte-Range", range],
  ];
  await peer.send(
    request("exp1x", BOB, ALICE, "a".repeat(100), h("msgExpire1", "1-100/1000"), "+"),
  );
  const m = (await bob.nextMessage())!;
  const whole = m.bytes();
  whole.catch(() => {}); // awaited below
  // The one slot is taken: another message gets 413 (the "for good").
  await peer.send(request("oth1x", BOB, ALICE, "b", h("msgOther01", "1-1/1")));
  assert.deepEqual(summary(await peer.fence()), [
    "exp1x 200 OK",
    "oth1x 413 Message Too Large: too many messages in progress",
  ]);
  // Activity restarts the clock: 59.999 s, a chunk, 59.999 s: still alive.
  clock.advance(59_999);
  await peer.send(
    request("exp2x", BOB, ALICE, "a".repeat(100), h("msgExpire1", "101-200/1000"), "+"),
  );
  assert.deepEqual(summary(await peer.fence()), ["exp2x 200 OK"]);
  clock.advance(59_999);
  assert.equal(m.state, "receiving");
  clock.advance(1);
  assert.equal(m.state, "incomplete");
  await rejectsTimeout(whole, 60_000);
  // §7.1.4: a failure REPORT on the last chunk received, with its actual range.
  assert.deepEqual(summary(await peer.fence()), [
    "REPORT msgExpire1 101-200/1000 000 408 Request Timeout: nothing arrived for 60000 ms",
  ]);
  // Later chunks of it get 408; the slot is free for a new message.
  await peer.send(
    request("exp3x", BOB, ALICE, "a".repeat(100), h("msgExpire1", "201-300/1000"), "+"),
    request("oth2x", BOB, ALICE, "b", h("msgOther02", "1-1/1")),
  );
  assert.deepEqual(summary(await peer.fence()), [
    "exp3x 408 Request Timeout: nothing arrived for 60000 ms",
    "oth2x 200 OK",
  ]);
  assert.equal(await (await bob.nextMessage())!.text(), "b");
  assert.equal(clock.pending, 0, "no expiry timer is left behind");
  bob.close();
  conn.close();
});

Deno.test("a chunk stalled mid-body times out with a 408 response to it; Failure-Report no gets nothing", async () => {
  const clock = new ManualClock();
  const { bob, conn, peer } = rawToSession({ incompleteTimeout: 5_000 }, clock);
  // The chunk's first piece (over the decoder's 64 KiB segment, so it is
  // passed on at once), and no end-line: the sender stalls.
  const open = request("stall1", BOB, ALICE, "s".repeat(70_000), [
    ["Message-ID", "msgStall01"],
    ["Byte-Range", "1-*/*"],
  ], "open");
  await peer.send(open);
  const m = (await bob.nextMessage())!;
  const stream = m.stream();
  const reading = new Response(stream).arrayBuffer();
  reading.catch(() => {});
  clock.advance(5_000);
  await rejectsTimeout(reading, 5_000);
  const r = await peer.next();
  assert.deepEqual(summary([r]), ["stall1 408 Request Timeout: nothing arrived for 5000 ms"]);
  // The rest of the chunk, when it comes, is dropped without another answer.
  await peer.send({ ...open, body: new Uint8Array(10), offset: 70_000, flag: "$" });
  assert.deepEqual(summary(await peer.fence()), []);

  // Failure-Report: no: the message still times out, silently (§7.1.4).
  await peer.send(request("quiet1", BOB, ALICE, "q", [
    ["Message-ID", "msgQuiet01"],
    ["Byte-Range", "1-1/2"],
    ["Failure-Report", "no"],
  ], "+"));
  const quiet = (await bob.nextMessage())!;
  clock.advance(5_000);
  assert.equal(quiet.state, "incomplete");
  await rejectsTimeout(quiet.bytes(), 5_000);
  assert.deepEqual(summary(await peer.fence()), []);
  bob.close();
  conn.close();
});

Deno.test("time the application holds reading back does not count against incompleteTimeout", async () => {
  const clock = new ManualClock();
  const { bob, conn, peer } = rawToSession({
    incompleteTimeout: 5_000,
    incoming: { bufferLimit: 100 },
  }, clock);
  const h: [string, string][] = [["Message-ID", "msgSlowApp"], ["Byte-Range", "1-200/400"]];
  // 200 octets before the application has chosen how to read: over the 100-octet buffer limit,
  // so the connection waits for the application.
  await peer.send(request("slow1", BOB, ALICE, "x".repeat(200), h, "+"));
  const m = (await bob.nextMessage())!;
  clock.advance(60_000);
  assert.equal(m.state, "receiving", "held back by us, not idle");
  const whole = m.bytes(); // the application reads at last
  await peer.send(
    request("slow2", BOB, ALICE, "y".repeat(200), [["Message-ID", "msgSlowApp"], [
      "Byte-Range",
      "201-400/400",
    ]]),
  );
  assert.equal((await whole).length, 400);
  bob.close();
  conn.close();
});

Deno.test("a timed-out message gets a failure REPORT under Failure-Report partial too (§7.1.4 table)", async () => {
  const clock = new ManualClock();
  const { bob, conn, peer } = rawToSession({ incompleteTimeout: 1_000 }, clock);
  await peer.send(request("part1", BOB, ALICE, "p".repeat(10), [
    ["Message-ID", "msgPartial"],
    ["Byte-Range", "1-10/20"],
    ["Failure-Report", "partial"],
  ], "+"));
  const m = (await bob.nextMessage())!;
  assert.deepEqual(summary(await peer.fence()), [], "partial: no 200 for an accepted chunk");
  clock.advance(1_000);
  await rejectsTimeout(m.bytes(), 1_000);
  assert.deepEqual(summary(await peer.fence()), [
    "REPORT msgPartial 1-10/20 000 408 Request Timeout: nothing arrived for 1000 ms",
  ]);
  bob.close();
  conn.close();
});
