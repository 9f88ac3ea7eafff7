// The one fair writer (lib/session/fair_queue.ts, RFC 4975 §7.1.1): each
// rule on its own, as the exact order of what is written, then the
// endpoint's Scheduler on top of it, byte for byte, with a fake transport
// and a window whose answers the test gives.

import assert from "node:assert/strict";
import { FairQueue } from "../../lib/session/fair_queue.ts";
import { bodySource } from "../../lib/session/body_source.ts";
import { type MessageContext, OutgoingMessage } from "../../lib/session/outgoing.ts";
import { Scheduler } from "../../lib/session/scheduler.ts";
import type { Frame, MsrpRequest } from "../../lib/wire/frame.ts";
import { HeaderList } from "../../lib/wire/header_list.ts";

/** A SEND item of the tests: `left` octets to write, `piece` at a time. */
interface Item {
  readonly name: string;
  left: number;
  readonly piece: number;
  ready: boolean;
}

function item(name: string, left: number, piece = 1000): Item {
  return { name, left, piece, ready: true };
}

/**
 * Drives a queue as a writer does and returns what was written, in order:
 * `name:octets` for a piece (with `$` when its chunk ended with it), `name+`
 * for a chunk ended early, the control frame's name, or `wait`. `cut`: the
 * item ends its chunk itself when others wait (the endpoint's messages);
 * else only when the queue says "end" (the relay's streams).
 */
function drive(
  q: FairQueue<string, Item>,
  steps: number,
  opts: { cut?: boolean; token?: (it: Item) => unknown } = {},
): string[] {
  const out: string[] = [];
  for (let i = 0; i < steps; i++) {
    const step = q.next();
    if (step === "control") out.push(q.takeControl());
    else if (step === "wait") {
      out.push("wait");
      break;
    } else if (step === "end") {
      const it = q.active!;
      out.push(`${it.name}+`);
      q.wrote(0, true, opts.token?.(it));
    } else {
      const it = q.active!;
      const n = Math.min(it.piece, it.left);
      it.left -= n;
      const last = it.left === 0;
      const ended = last || (opts.cut === true && q.othersWaiting());
      out.push(`${it.name}:${n}${last ? "$" : ended ? "+" : ""}`);
      q.wrote(n, ended, ended ? opts.token?.(it) : undefined);
      if (last) q.remove(it);
    }
  }
  return out;
}

Deno.test("fair queue: control frames go first, in the order they came (§7.1.1)", () => {
  const q = new FairQueue<string, Item>();
  q.add("s", item("a", 1000));
  q.control("200 one");
  q.control("REPORT two");
  assert.deepEqual(drive(q, 10), ["200 one", "REPORT two", "a:1000$", "wait"]);
  assert.ok(q.idle);
});

Deno.test("fair queue: an open chunk is ended with + before a waiting control frame, then resumes (§7.1.1)", () => {
  const q = new FairQueue<string, Item>();
  q.add("s", item("a", 3000));
  const out = drive(q, 1);
  q.control("200");
  out.push(...drive(q, 10));
  assert.deepEqual(out, ["a:1000", "a+", "200", "a:1000", "a:1000$", "wait"]);
});

Deno.test("fair queue: flows take turns round robin, one chunk each, when chunks are cut as others wait", () => {
  const q = new FairQueue<string, Item>();
  q.add("s1", item("a", 3000));
  q.add("s2", item("b", 2000));
  q.add("s3", item("c", 1000));
  assert.deepEqual(drive(q, 20, { cut: true }), [
    "a:1000+",
    "b:1000+",
    "c:1000$",
    "a:1000+",
    "b:1000$",
    "a:1000$",
    "wait",
  ]);
});

Deno.test("fair queue: the messages of one session take turns within it; a newcomer session waits one turn at most", () => {
  const q = new FairQueue<string, Item>();
  q.add("s1", item("m1", 2000));
  q.add("s1", item("m2", 2000));
  const out = drive(q, 1, { cut: true });
  q.add("s2", item("chat", 100));
  out.push(...drive(q, 20, { cut: true }));
  assert.deepEqual(out, ["m1:1000+", "chat:100$", "m2:1000+", "m1:1000$", "m2:1000$", "wait"]);
});

Deno.test("fair queue: with a quantum, an open chunk keeps the turn until it wrote that much while another waits", () => {
  const q = new FairQueue<string, Item>({ quantum: 2500, itemsTakeTurns: false });
  q.add("m1", item("file", 6000));
  const out = drive(q, 1);
  q.add("m2", item("chat", 100));
  out.push(...drive(q, 20));
  assert.deepEqual(out, [
    "file:1000",
    "file:1000",
    "file:1000", // 3000 >= 2500: its turn is over
    "file+",
    "chat:100$",
    "file:1000",
    "file:1000",
    "file:1000$",
    "wait",
  ]);
});

Deno.test("fair queue: alone, a chunk is never cut; an item with nothing to write gives way to one that has", () => {
  const q = new FairQueue<string, Item>({
    quantum: 1000,
    itemsTakeTurns: false,
    ready: (it) => it.ready,
  });
  const file = item("file", 5000);
  q.add("m1", file);
  assert.deepEqual(drive(q, 3), ["file:1000", "file:1000", "file:1000"]);
  file.ready = false;
  assert.deepEqual(drive(q, 1), ["wait"]); // alone and not ready: the chunk stays open
  const chat = item("chat", 100);
  chat.ready = false;
  q.add("m2", chat);
  assert.deepEqual(drive(q, 1), ["wait"]); // the newcomer has nothing either
  chat.ready = true;
  file.ready = true;
  assert.deepEqual(drive(q, 10), ["file+", "chat:100$", "file:1000", "file:1000$", "wait"]);
});

Deno.test("fair queue: in order within a flow: a message's next chunk neither overtakes nor counts as a rival", () => {
  const q = new FairQueue<string, Item>({ quantum: 1000, itemsTakeTurns: false });
  q.add("msg", item("first", 3000));
  q.add("msg", item("second", 2000));
  assert.deepEqual(drive(q, 20), [
    "first:1000",
    "first:1000",
    "first:1000$",
    "second:1000",
    "second:1000$",
    "wait",
  ]);
  // With another message waiting, turns alternate between messages, and
  // each message's chunks still go in order.
  q.add("x", item("x1", 2000));
  q.add("x", item("x2", 1000));
  q.add("y", item("y1", 2000));
  assert.deepEqual(drive(q, 20), [
    "x1:1000",
    "x1+",
    "y1:1000",
    "y1+",
    "x1:1000$",
    "y1:1000$",
    "x2:1000$",
    "wait",
  ]);
});

Deno.test("fair queue: the window ends the open chunk and holds SEND data, never control frames, until answers come", () => {
  const owed = new Set<string>();
  let chunkNo = 0;
  const q = new FairQueue<string, Item>({
    window: 2500,
    owed: (t) => owed.has(t as string),
  });
  const token = () => {
    const t = `c${chunkNo++}`;
    owed.add(t);
    return t;
  };
  q.add("s", item("file", 10_000));
  assert.deepEqual(drive(q, 10, { token }), [
    "file:1000",
    "file:1000",
    "file:1000", // 3000 in flight >= 2500
    "file+",
    "wait",
  ]);
  assert.equal(q.inFlight, 3000);
  q.control("REPORT");
  assert.deepEqual(drive(q, 10, { token }), ["REPORT", "wait"]);
  owed.delete("c0"); // the 200 came
  assert.deepEqual(drive(q, 10, { token }), [
    "file:1000",
    "file:1000",
    "file:1000",
    "file+",
    "wait",
  ]);
  assert.equal(q.inFlight, 3000);
  owed.clear();
  assert.deepEqual(drive(q, 10, { token }), [
    "file:1000",
    "file:1000",
    "file:1000",
    "file+",
    "wait",
  ]);
  owed.clear();
  assert.deepEqual(drive(q, 10, { token }), ["file:1000$", "wait"]);
});

Deno.test("fair queue: answers free the window from the oldest chunk on (they come back in order)", () => {
  const owed = new Set<string>();
  let n = 0;
  const q = new FairQueue<string, Item>({ window: 2000, owed: (t) => owed.has(t as string) });
  for (const name of ["a", "b", "c", "d"]) q.add(name, item(name, 1000));
  const token = () => {
    const t = `c${n++}`;
    owed.add(t);
    return t;
  };
  assert.deepEqual(drive(q, 10, { token }), ["a:1000$", "b:1000$", "wait"]);
  owed.delete("c1"); // b's answer came first
  assert.deepEqual(drive(q, 10, { token }), ["wait"]);
  owed.delete("c0");
  assert.deepEqual(drive(q, 10, { token }), ["c:1000$", "d:1000$", "wait"]);
  assert.equal(q.inFlight, 2000);
});

Deno.test("fair queue: a window counted in time holds what drains in the target time at the best recent rate", () => {
  let now = 0;
  const q = new FairQueue<string, Item>({
    window: 100_000,
    windowTime: { targetMs: 5, min: 1000, now: () => now },
  });
  assert.equal(q.windowNow, 1000, "it starts at the smallest window");
  /** `n` pieces of `bytes`, `ms` apart (the clock is the test's). */
  const writeAt = (n: number, bytes: number, ms: number) => {
    for (let i = 0; i < n; i++) {
      now += ms;
      q.wrote(bytes, true); // no token: nothing is owed, the window only measures
    }
  };
  writeAt(10, 1000, 1); // 1000 octets/ms over one sample period (2 × 5 ms)
  assert.equal(q.windowNow, 5000);
  writeAt(10, 4000, 1); // faster: 4000/ms, at once
  assert.equal(q.windowNow, 20_000);
  // Much slower (100/ms would be 500): the best of the last 8 periods holds
  // while the fast one is among them, then the window follows the rate down.
  writeAt(60, 100, 1); // six periods
  assert.equal(q.windowNow, 20_000);
  writeAt(10, 100, 1); // the 1000/ms period ages out... the 4000/ms one is still in
  assert.equal(q.windowNow, 20_000);
  writeAt(10, 100, 1);
  assert.equal(q.windowNow, 1000, "never under the smallest window");
  writeAt(10, 50_000, 1); // 50 000/ms would be 250 000: capped at `window`
  assert.equal(q.windowNow, 100_000);
});

Deno.test("fair queue: the window in time is what holds SEND data back", () => {
  let now = 0;
  const owed = new Set<string>();
  let n = 0;
  const q = new FairQueue<string, Item>({
    window: 1_000_000,
    windowTime: { targetMs: 5, min: 2000, now: () => now },
    owed: (t) => owed.has(t as string),
  });
  q.add("s", item("file", 1_000_000));
  // Each piece of 1000 octets takes 1 ms to write; after each round every
  // chunk is answered. Pieces per round: the smallest window (2000) until
  // a sample period (10 ms) has passed, then what drains in 5 ms at
  // 1000 octets/ms.
  const rounds: number[] = [];
  for (let r = 0; r < 8; r++) {
    let pieces = 0;
    for (let i = 0; i < 100; i++) {
      const step = q.next();
      if (step === "piece") {
        now += 1;
        q.active!.left -= 1000;
        q.wrote(1000, false);
        pieces++;
      } else if (step === "end") {
        const t = `c${n++}`;
        owed.add(t);
        q.wrote(0, true, t);
      } else break;
    }
    rounds.push(pieces);
    owed.clear();
  }
  assert.deepEqual(rounds, [2, 2, 2, 2, 5, 5, 5, 5]);
});

Deno.test("fair queue: a dropped flow's queued items go; its open chunk still ends", () => {
  const q = new FairQueue<string, Item>();
  q.add("s1", item("a", 3000));
  q.add("s1", item("b", 1000));
  q.add("s2", item("c", 1000));
  assert.deepEqual(drive(q, 1), ["a:1000"]);
  q.removeFlow("s1");
  assert.deepEqual([...q.all()].map((i) => i.name), ["a", "c"]);
  assert.deepEqual(drive(q, 10), ["a+", "c:1000$", "wait"]);
  assert.ok(q.idle);
});

// ---- the endpoint's Scheduler on the queue, byte for byte ----

/** A MessageContext with a transaction table the test answers by hand. */
function fakeContext(owed: Set<string>): MessageContext {
  return {
    toPath: () => "msrp://b.example.com:2855/bob;tcp",
    fromPath: () => "msrp://a.example.com:2855/alice;tcp",
    addTransaction: () => {},
    startTimer: (tid) => void owed.add(tid),
    startReportTimer: () => () => {},
  };
}

function outgoing(id: string, body: Uint8Array, owed: Set<string>, pieceSize: number) {
  return new OutgoingMessage(id, bodySource(body), fakeContext(owed), {
    contentType: "application/octet-stream",
    successReport: false,
    failureReport: "yes",
    headers: [],
    chunking: { maxChunkSize: 1 << 20, fixedChunks: false, wholeChunks: false, pieceSize },
  });
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** A scheduler writing to a list, and a way to wait until it waits. */
function fakeWriter(window: number, owed: Set<string>) {
  const frames: Frame[] = [];
  let waiting: (() => void) | undefined;
  const s = new Scheduler((f) => {
    frames.push(f);
    return Promise.resolve();
  }, { bytes: window, owed: (t) => owed.has(t) });
  s.onwait = () => {
    const w = waiting;
    waiting = undefined;
    w?.();
  };
  return {
    s,
    frames,
    /** Resolves the next time the scheduler has nothing it may write. */
    stuck: () => new Promise<void>((resolve) => (waiting = resolve)),
  };
}

const OK: Frame = {
  kind: "response",
  tid: "r1",
  status: 200,
  comment: "OK",
  headers: new HeaderList([["To-Path", "msrp://a.example.com:2855/alice;tcp"]]),
  flag: "$",
};

Deno.test("scheduler: a chat overtakes a file within one piece, and each body arrives byte for byte", async () => {
  const owed = new Set<string>();
  const { s, frames } = fakeWriter(Infinity, owed);
  const file = pattern(40_000, 1);
  const chat = pattern(100, 2);
  s.control(OK);
  s.enqueue("files", outgoing("file", file, owed, 8192));
  // The chat is queued as the file's first piece is written.
  s.onwrite = (f) => {
    if (f.kind === "request") {
      s.onwrite = undefined;
      s.enqueue("chats", outgoing("chat", chat, owed, 8192));
    }
  };
  await s.whenIdle();
  const sends = frames.filter((f): f is MsrpRequest => f.kind === "request");
  // The response went first; the file's first piece, then its chunk was
  // cut with + for the chat, which went whole; then the rest of the file.
  assert.equal(frames[0].kind, "response");
  const order = sends.map((f) =>
    `${f.headers.get("Message-ID")}:${f.body?.length ?? 0}${f.flag ?? ""}`
  );
  assert.deepEqual(order.slice(0, 3), ["file:8192", "file:0+", "chat:100$"]);
  assert.equal(order.at(-1)?.endsWith("$"), true);
  for (const [id, body] of [["file", file], ["chat", chat]] as const) {
    const got = new Uint8Array(body.length);
    for (const f of sends) {
      if (f.headers.get("Message-ID") !== id || f.body === null) continue;
      const start = Number(f.headers.get("Byte-Range")!.split("-")[0]) - 1 + f.offset;
      got.set(f.body, start);
    }
    assert.deepEqual(got, body);
  }
  s.stop();
});

Deno.test("scheduler: at most a window of unanswered bytes is written; each 200 lets more go", async () => {
  const owed = new Set<string>();
  const { s, frames, stuck } = fakeWriter(16_384, owed);
  const body = () =>
    frames.reduce((n, f) => n + (f.kind === "request" ? f.body?.length ?? 0 : 0), 0);
  let wait = stuck();
  s.enqueue("files", outgoing("file", pattern(100_000, 3), owed, 4096));
  await wait;
  assert.equal(body(), 16_384, "the window's worth, then the chunk was ended");
  assert.equal((frames.at(-1) as MsrpRequest).flag, "+");
  assert.equal(s.inFlight, 16_384);
  wait = stuck();
  s.control(OK);
  await wait;
  assert.equal(frames.at(-1)!.kind, "response", "control frames are not held by the window");
  for (let round = 2; round <= 7; round++) {
    wait = stuck();
    owed.clear(); // the 200s came
    s.settled();
    await wait;
    assert.equal(body(), Math.min(100_000, round * 16_384));
  }
  assert.ok(s.idle);
  s.stop();
});
