// The bounded output queue behind the CLI's stdout (issue 8, defect 9): a
// writer that we release by hand stands for a reader that does not read.

import assert from "node:assert/strict";
import { BoundedOutput } from "../../lib/cli/output.ts";

/** A writer that takes bytes only when `release()` is called. */
function stalledWriter() {
  const written: string[] = [];
  const pending: (() => void)[] = [];
  return {
    written,
    write(bytes: Uint8Array): Promise<number> {
      return new Promise((resolve) =>
        pending.push(() => {
          written.push(new TextDecoder().decode(bytes));
          resolve(bytes.length);
        })
      );
    },
    /** Lets every write made so far complete; returns how many. */
    release(): number {
      const n = pending.length;
      for (const p of pending.splice(0)) p();
      return n;
    },
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

Deno.test("output: a stalled reader never blocks write(); past the bound text is dropped and reported", async () => {
  const w = stalledWriter();
  const drops: { started: boolean; lines: number; bytes: number }[] = [];
  const out = new BoundedOutput((b) => w.write(b), {
    maxQueuedBytes: 10,
    onDrop: (e) => drops.push(e),
  });
  out.write("one\n"); // 4 bytes: being written
  out.write("two\n"); // 8 queued in all
  out.write("three\n"); // would make 14: dropped
  out.write("four\nfive\n"); // dropped too
  assert.equal(out.queuedBytes, 8);
  assert.deepEqual(drops, [{ started: true, lines: 0, bytes: 0 }]);
  // The reader catches up: what was kept comes out in order, then the totals.
  let flushed = false;
  const flushing = out.flush().then(() => flushed = true);
  while (w.release() > 0) await settle();
  await flushing;
  assert.ok(flushed);
  assert.deepEqual(w.written, ["one\n", "two\n"]);
  assert.deepEqual(drops[1], { started: false, lines: 3, bytes: 16 });
  // After catching up, text flows again.
  out.write("six\n");
  await settle();
  w.release();
  await out.flush();
  assert.deepEqual(w.written, ["one\n", "two\n", "six\n"]);
});

Deno.test("output: a failed write is reported once and later text is dropped", async () => {
  const errors: unknown[] = [];
  const out = new BoundedOutput(() => Promise.reject(new Error("Broken pipe")), {
    onError: (e) => errors.push(e),
  });
  out.write("a\n");
  out.write("b\n");
  await out.flush();
  out.write("c\n");
  await out.flush();
  assert.equal(errors.length, 1);
  assert.equal(out.queuedBytes, 0);
});
