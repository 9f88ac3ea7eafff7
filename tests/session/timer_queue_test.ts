import assert from "node:assert/strict";
import { ManualClock } from "../../lib/session/clock.ts";
import { TimerQueue } from "../../lib/session/timer_queue.ts";

Deno.test("timer queue: thousands of timeouts use one clock timer and fire at their exact time", () => {
  const clock = new ManualClock(1000);
  const q = new TimerQueue(clock);
  const fired: number[] = [];
  for (let i = 0; i < 5000; i++) {
    q.add(30_000, (n) => fired.push(n), i);
    if (i % 1000 === 999) clock.advance(1);
  }
  assert.equal(clock.pending, 1);
  assert.equal(q.size, 5000);
  clock.advance(30_000 - 5 - 1); // one ms before the first is due
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.equal(fired.length, 1000);
  clock.advance(4);
  assert.deepEqual(fired, Array.from({ length: 5000 }, (_, i) => i));
  assert.equal(q.size, 0);
  assert.equal(clock.pending, 0);
});

Deno.test("timer queue: cancelled timeouts never fire, and the last cancel releases the clock timer", () => {
  const clock = new ManualClock();
  const q = new TimerQueue(clock);
  const fired: string[] = [];
  const a = q.add(100, (s) => fired.push(s), "a");
  const b = q.add(100, (s) => fired.push(s), "b");
  q.cancel(a);
  q.cancel(a); // twice is harmless
  clock.advance(100);
  assert.deepEqual(fired, ["b"]);
  q.cancel(b); // after it fired: ignored
  const c = q.add(100, (s) => fired.push(s), "c");
  assert.equal(clock.pending, 1);
  q.cancel(c);
  assert.equal(clock.pending, 0);
  clock.advance(1000);
  assert.deepEqual(fired, ["b"]);
});

Deno.test("timer queue: timeouts of different delays fire in time order", () => {
  const clock = new ManualClock();
  const q = new TimerQueue(clock);
  const fired: string[] = [];
  q.add(300, (s) => fired.push(s), "300");
  q.add(100, (s) => fired.push(s), "100");
  clock.advance(50);
  q.add(100, (s) => fired.push(s), "150");
  q.add(10, (s) => fired.push(s), "60");
  clock.advance(1000);
  assert.deepEqual(fired, ["60", "100", "150", "300"]);
});

Deno.test("timer queue: memory follows the live timeouts when most are cancelled", () => {
  const clock = new ManualClock();
  const q = new TimerQueue(clock);
  const keep = q.add(30_000, () => {}, 0);
  for (let i = 0; i < 100_000; i++) {
    q.cancel(q.add(30_000, () => {}, i));
    clock.advance(i % 100 === 0 ? 1 : 0);
  }
  assert.equal(q.size, 1);
  assert.ok(q.held <= 200, `${q.held} entries held for 1 live timeout`);
  const fired: number[] = [];
  for (let i = 0; i < 200; i++) q.add(30_000, (n) => fired.push(n), i);
  q.cancel(keep);
  clock.advance(30_000);
  assert.equal(fired.length, 200);
});

Deno.test("timer queue: a callback that throws does not stop the others", () => {
  const clock = new ManualClock();
  const q = new TimerQueue(clock);
  const fired: number[] = [];
  q.add(10, () => {
    throw new Error("boom");
  }, 0);
  q.add(10, (n) => fired.push(n), 1);
  q.add(20, (n) => fired.push(n), 2);
  assert.throws(() => clock.advance(10), /boom/);
  clock.advance(20);
  assert.deepEqual(fired, [1, 2]);
});

Deno.test("timer queue: a callback may add and cancel timeouts", () => {
  const clock = new ManualClock();
  const q = new TimerQueue(clock);
  const fired: string[] = [];
  q.add(10, () => {
    fired.push("first");
    q.add(10, (s) => fired.push(s), "added");
    q.cancel(later);
  }, undefined);
  const later = q.add(15, (s) => fired.push(s), "cancelled");
  clock.advance(100);
  assert.deepEqual(fired, ["first", "added"]);
  assert.equal(clock.pending, 0);
});
