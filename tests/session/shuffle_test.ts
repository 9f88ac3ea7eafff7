// Reassembly against a pipe that reorders, duplicates and re-cuts chunks
// (RFC 4975 §7.3.1: "Receivers MUST not assume that the chunks will be
// delivered in order"; overlaps and duplicates happen after failures).

import assert from "node:assert/strict";
import { prng } from "../_util.ts";
import { ALICE, BOB, rawToSession, request } from "./_harness.ts";

function shuffled<T>(items: T[], rnd: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

Deno.test("any order, duplicates and overlapping re-sends give back the exact message (200 seeds)", async () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rnd = prng(seed);
    const size = 1 + Math.floor(rnd() * 20_000);
    const body = new Uint8Array(size);
    for (let i = 0; i < size; i++) body[i] = Math.floor(rnd() * 256);
    // Cut into chunks at random places.
    const cuts = [0];
    while (cuts.at(-1)! < size) {
      cuts.push(Math.min(size, cuts.at(-1)! + 1 + Math.floor(rnd() * 3000)));
    }
    const chunks: [number, number][] = [];
    for (let i = 0; i + 1 < cuts.length; i++) chunks.push([cuts[i], cuts[i + 1]]);
    // Duplicates and overlapping re-sends of the same bytes.
    const extra: [number, number][] = [];
    for (const [s, e] of chunks) {
      if (rnd() < 0.3) extra.push([s, e]);
      if (rnd() < 0.3) {
        const a = Math.max(0, s - Math.floor(rnd() * 500));
        const b = Math.min(size, e + Math.floor(rnd() * 500));
        extra.push([a, b]);
      }
    }
    const total = rnd() < 0.5 ? String(size) : "*";
    const { bob, conn, peer } = rawToSession();
    const order = shuffled([...chunks, ...extra], rnd);
    for (const [i, [s, e]] of order.entries()) {
      // The chunk that ends the message carries "$" (it fixes the length).
      const flag = e === size ? "$" : "+";
      await peer.send(
        request(`sh${seed}x${i}`, BOB, ALICE, body.subarray(s, e), [
          ["Message-ID", `msgShuffle${seed}`],
          ["Byte-Range", `${s + 1}-${e}/${total}`],
          ["Content-Type", "application/octet-stream"],
        ], flag),
      );
    }
    const m = (await bob.nextMessage())!;
    assert.deepEqual(await m.bytes(), body, `seed ${seed}: ${order.length} chunks`);
    assert.equal(m.size, size);
    const acks = await peer.fence();
    assert.equal(
      acks.filter((f) => f.kind === "response" && f.status === 200).length,
      order.length,
      `seed ${seed}`,
    );
    assert.equal(bob.ended, false);
    bob.close();
    // Late copies of a complete message's chunks are acknowledged, never
    // turned into a message that could not complete; only a copy that is a
    // whole message by itself comes again, flagged as a duplicate (§5.4).
    for (let again = await bob.nextMessage(); again; again = await bob.nextMessage()) {
      assert.equal(again.duplicate, true, `seed ${seed}`);
      assert.equal(again.state, "complete", `seed ${seed}: a message that cannot complete`);
      assert.deepEqual(await again.bytes(), body);
    }
    conn.close();
  }
});
