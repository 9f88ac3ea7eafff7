// The quiet-period trigger of a relay (issue 10: give memory back once the
// relay has been quiet): it fires once after the quiet period, never during
// traffic, not again while the relay stays idle, and again after the next
// activity (RFC 4976 §5.1 AUTH and §6.5 idle connections as the traffic).

import assert from "node:assert/strict";
import { QuietWatch } from "../../lib/relay/quiet.ts";
import { releaseMemoryFrom } from "../../lib/cli/relay.ts";
import { RELAY_FLAGS } from "../../lib/cli/relay.ts";
import { RELAY_HELP } from "../../lib/cli/help.ts";
import { parseCommandArgs, UsageError } from "../../lib/cli/common.ts";
import { authenticate, FakeClock, memoryRelay, request, settle } from "./relay_harness.ts";

const QUIET = 5_000;

Deno.test("QuietWatch: once after the quiet period, not during activity, not again while idle", () => {
  const clock = new FakeClock();
  let last = clock.now();
  let fired = 0;
  const watch = new QuietWatch({
    clock,
    quietMs: QUIET,
    lastActivity: () => last,
    onQuiet: () => fired++,
  });
  // Nothing since it was made: nothing to do, no timer.
  watch.poke();
  assert.equal(clock.pending, 0);
  // Activity every second for a minute: it never fires, and holds one timer at most.
  for (let i = 0; i < 60; i++) {
    clock.advance(1_000);
    last = clock.now();
    watch.poke();
    assert.equal(fired, 0);
    assert.ok(clock.pending <= 1);
  }
  clock.advance(QUIET - 1);
  assert.equal(fired, 0);
  clock.advance(1);
  assert.equal(fired, 1);
  // Idle: pokes (the relay's sweeps) find nothing new; no timer is left.
  for (let i = 0; i < 10; i++) {
    clock.advance(10_000);
    watch.poke();
  }
  assert.equal(fired, 1);
  assert.equal(clock.pending, 0);
  // New activity, seen late (at a sweep): once more, a quiet period after the activity.
  clock.advance(1_000);
  last = clock.now();
  clock.advance(3_000);
  watch.poke();
  clock.advance(QUIET - 3_000 - 1);
  assert.equal(fired, 1);
  clock.advance(1);
  assert.equal(fired, 2);
  // Stopped: activity no longer arms it.
  last = clock.now() + 1;
  watch.stop();
  watch.poke();
  assert.equal(clock.pending, 0);
});

Deno.test("QuietWatch: bursts a little more than the quiet period apart: at most once per minGapMs", () => {
  const clock = new FakeClock();
  let last = clock.now();
  const fired: number[] = [];
  const watch = new QuietWatch({
    clock,
    quietMs: QUIET,
    minGapMs: 60_000,
    lastActivity: () => last,
    onQuiet: () => fired.push(clock.now()),
  });
  const start = clock.now();
  // A burst every 8 s for two minutes (the first at 8 s), each seen by the watch.
  for (let t = 0; t < 120_000; t += 8_000) {
    clock.advance(8_000);
    last = clock.now();
    watch.poke();
  }
  // The first burst's quiet period, then no sooner than 60 s after it, and
  // after a full quiet period (the burst at 72 s, quiet at 77 s).
  assert.deepEqual(fired.map((t) => t - start), [13_000, 77_000]);
  // Quiet after the last burst: once more, when the gap allows.
  clock.advance(120_000);
  assert.equal(fired.length, 3);
  assert.ok(fired[2] - fired[1] >= 60_000);
  assert.equal(clock.pending, 0);
  watch.stop();
});

Deno.test("relay quiet option: fires after traffic stops and after a client leaves, once each", async () => {
  const clock = new FakeClock();
  let fired = 0;
  const { relay, connect } = memoryRelay({ host: "relay.example.com" }, {
    clock,
    quiet: { afterMs: QUIET, onQuiet: () => fired++ },
  });
  const alice = connect();
  const { usePath } = await authenticate(alice, {
    to: "msrps://relay.example.com:9000;tcp",
    from: "msrps://alice.example.com:1234/a1;tcp",
  });
  // Traffic every second (a request the relay answers): not quiet.
  for (let i = 0; i < 20; i++) {
    clock.advance(1_000);
    await alice.send(
      request("SEND", `tid${1000 + i}`, [
        ["To-Path", usePath],
        ["From-Path", "msrps://alice.example.com:1234/a1;tcp"],
        ["Message-ID", `m${i}`],
      ]),
    );
    await alice.response();
    assert.equal(fired, 0);
  }
  clock.advance(QUIET);
  assert.equal(fired, 1);
  // The registered client stays, idle: no more releases, however long.
  clock.advance(10 * 60_000);
  assert.equal(fired, 1);
  // It leaves: one release a quiet period later.
  alice.close();
  await settle(100);
  assert.equal(relay.stats().connections, 0);
  clock.advance(QUIET);
  assert.equal(fired, 2);
  clock.advance(10 * 60_000);
  assert.equal(fired, 2);
  await relay.close();
});

Deno.test("msrp relay: memory release on by default, --no-release-memory, --release-memory-after", () => {
  const flags = (args: string[]) => parseCommandArgs(args, RELAY_FLAGS).values;
  assert.deepEqual(releaseMemoryFrom(flags([])), {});
  assert.equal(releaseMemoryFrom(flags(["--no-release-memory"])), false);
  assert.deepEqual(releaseMemoryFrom(flags(["--release-memory-after", "2000"])), {
    quietMs: 2000,
  });
  assert.throws(() => releaseMemoryFrom(flags(["--release-memory-after", "soon"])), UsageError);
  assert.throws(() => releaseMemoryFrom(flags(["--release-memory-after", "0"])), UsageError);
  assert.throws(
    () => releaseMemoryFrom(flags(["--no-release-memory", "--release-memory-after", "10"])),
    UsageError,
  );
  assert.match(RELAY_HELP, /--no-release-memory/);
  assert.match(RELAY_HELP, /--release-memory-after <ms>/);
});
