// Hostile input against a connection and its session: mutated frames must
// end in a status code or a closed connection, never in an exception, a
// hang or a session that stops answering (RFC 4975 §7.3, §10).

import assert from "node:assert/strict";
import { prng } from "../_util.ts";
import { ALICE, BOB, rawToSession } from "./_harness.ts";

const enc = new TextEncoder();

// Valid frames to mutate: chunks, odd ranges, reports, other methods.
const SEEDS = [
  `MSRP aaaa1111 SEND\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ALICE}\r\nMessage-ID: fz001\r\nByte-Range: 1-5/10\r\nContent-Type: text/plain\r\n\r\nhello\r\n-------aaaa1111+\r\n`,
  `MSRP aaaa2222 SEND\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ALICE}\r\nMessage-ID: fz001\r\nByte-Range: 6-10/10\r\nSuccess-Report: yes\r\nContent-Type: text/plain\r\n\r\nworld\r\n-------aaaa2222$\r\n`,
  `MSRP aaaa3333 SEND\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ALICE}\r\nMessage-ID: fz002\r\nByte-Range: 1-*/*\r\nFailure-Report: partial\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\r\n--\r\n-------aaaa3333#\r\n`,
  `MSRP aaaa4444 REPORT\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ALICE}\r\nMessage-ID: fz003\r\nByte-Range: 1-5/5\r\nStatus: 000 200 OK\r\n-------aaaa4444$\r\n`,
  `MSRP aaaa5555 NOTIFY\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ALICE}\r\n-------aaaa5555$\r\n`,
  `MSRP aaaa6666 200 OK\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ALICE}\r\n-------aaaa6666$\r\n`,
  `MSRP aaaa7777 SEND\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ALICE}\r\nMessage-ID: fz004\r\nByte-Range: 3-2/1\r\nContent-Type: text/plain\r\n\r\n\r\n-------aaaa7777$\r\n`,
];

const NOISE = [
  "\r\n",
  "-------",
  ":",
  " ",
  "*",
  "/",
  "$",
  "#",
  "+",
  "0",
  "9999999999999999",
  "MSRP ",
  "\x00",
  "\xff",
];

function mutate(text: string, rnd: () => number): Uint8Array {
  const bytes = [...enc.encode(text)];
  const edits = 1 + Math.floor(rnd() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rnd() * bytes.length);
    const r = rnd();
    if (r < 0.3) bytes[at] = Math.floor(rnd() * 256);
    else if (r < 0.6) bytes.splice(at, 0, ...enc.encode(NOISE[Math.floor(rnd() * NOISE.length)]));
    else if (r < 0.8) bytes.splice(at, 1 + Math.floor(rnd() * 8));
    else bytes.length = at; // cut off
  }
  return new Uint8Array(bytes);
}

Deno.test("300 seeded mutations: every one ends answered or with the connection closed cleanly", async () => {
  let answered = 0;
  let closed = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const rnd = prng(seed);
    const { bob, conn, peer } = rawToSession();
    const frames = Array.from(
      { length: 1 + Math.floor(rnd() * 3) },
      () => SEEDS[Math.floor(rnd() * SEEDS.length)],
    );
    // Our side may close the connection on broken framing; the peer's
    // writes then fail, as they would on a reset TCP connection.
    let reset = false;
    for (const f of frames) await peer.raw(mutate(f, rnd)).catch(() => (reset = true));
    // A fence, then the end of our stream: if the framing survived (or
    // recovered) the fence is answered; a frame cut off mid-way swallows the
    // fence into its body, and the end of the stream then ends it.
    const outcome = reset ? "ended" : await peer.fenceAndFinish().catch(() => "ended");
    const end = await conn.closed;
    if (outcome === "answered") answered++;
    else closed++;
    if (end.error !== undefined) {
      const e = end.error as { name?: string; code?: string };
      assert.ok(
        e.name === "FrameError" || e.code === "connection-reset",
        `seed ${seed}: ${e.name} ${e.code}`,
      );
    }
    bob.close();
    conn.close();
    await conn.closed;
  }
  assert.equal(answered + closed, 300);
  // Both outcomes are exercised (70 and 230 with these seeds).
  assert.ok(answered > 0 && closed > 0, `${answered} answered, ${closed} closed`);
});
