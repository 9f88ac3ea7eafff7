/**
 * Tests for lib/payload/iscomposing.ts: the RFC 3994 §5 examples, the
 * document builder, and the sender and receiver state machines driven by a
 * fake clock.
 */

import assert from "node:assert/strict";
import { MsrpSyntaxError } from "../../lib/errors.ts";
import {
  buildIsComposing,
  ComposingIndicator,
  ComposingReceiver,
  type IsComposingDocument,
  parseIsComposing,
} from "../../lib/payload/iscomposing.ts";

/** RFC 3994 §5, first and second examples (CRLF line ends). */
const RFC3994_ACTIVE = [
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"',
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
  'xsi:schemaLocation="urn:ietf:params:xml:ns:im-composing',
  'iscomposing.xsd">',
  "  <state>active</state>",
  "  <contenttype>text/plain</contenttype>",
  "  <refresh>90</refresh>",
  "</isComposing>",
].join("\r\n");

const RFC3994_IDLE = [
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"',
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
  'xsi:schemaLocation="urn:ietf:params:xml:ns:im-composing',
  'iscomposing.xsd">',
  "  <state>idle</state>",
  "  <lastactive>2003-01-27T10:43:00Z</lastactive>",
  "  <contenttype>audio</contenttype>",
  "</isComposing>",
].join("\r\n");

/** A fake clock: timers fire in time order when the clock is advanced. */
class FakeClock {
  t: number;
  #seq = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 0) {
    this.t = start;
  }

  now = (): number => this.t;
  setTimer = (fn: () => void, ms: number): unknown => {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimer = (handle: unknown): void => {
    this.#timers.delete(handle as number);
  };

  get pending(): number {
    return this.#timers.size;
  }

  /** Moves the clock forward by `ms`, running due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }

  /** Moves the clock to absolute time `at`. */
  to(at: number): void {
    this.advance(at - this.t);
  }
}

Deno.test("iscomposing: the RFC 3994 §5 examples", () => {
  assert.deepEqual(parseIsComposing(RFC3994_ACTIVE), {
    state: "active",
    contentType: "text/plain",
    refresh: 90,
  });
  assert.deepEqual(parseIsComposing(new TextEncoder().encode(RFC3994_IDLE)), {
    state: "idle",
    lastActive: "2003-01-27T10:43:00Z",
    contentType: "audio",
  });
});

Deno.test("iscomposing: buildIsComposing output and round trip", () => {
  const doc: IsComposingDocument = {
    state: "idle",
    lastActive: "2003-01-27T10:43:00Z",
    contentType: "text/html",
    refresh: 60,
  };
  const xml = buildIsComposing(doc);
  assert.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing">\n' +
      "  <state>idle</state>\n" +
      "  <lastactive>2003-01-27T10:43:00Z</lastactive>\n" +
      "  <contenttype>text/html</contenttype>\n" +
      "  <refresh>60</refresh>\n" +
      "</isComposing>\n",
  );
  assert.deepEqual(parseIsComposing(xml), doc);
  assert.deepEqual(parseIsComposing(buildIsComposing({ state: "active" })), { state: "active" });
  assert.deepEqual(parseIsComposing(buildIsComposing({ state: "a<b" })), { state: "a<b" });
  assert.throws(() => buildIsComposing({ state: "active", refresh: 0 }), RangeError);
  assert.throws(() => buildIsComposing({ state: " " }), RangeError);
});

Deno.test("iscomposing: malformed documents fail with a code", () => {
  const doc = (inner: string) =>
    `<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing">${inner}</isComposing>`;
  const cases: [string, string][] = [
    ["<isComposing><state>active</state></isComposing>", "iscomposing-bad-root"],
    [doc("<refresh>90</refresh>"), "iscomposing-missing-state"],
    [doc("<state>active</state><state>idle</state>"), "iscomposing-duplicate-element"],
    [doc("<state>active</state><refresh>0</refresh>"), "iscomposing-bad-refresh"],
    [doc("<state>active</state><refresh>-5</refresh>"), "iscomposing-bad-refresh"],
    [doc("<state>active</state><refresh>soon</refresh>"), "iscomposing-bad-refresh"],
    [doc("<state>idle</state><lastactive>yesterday</lastactive>"), "iscomposing-bad-lastactive"],
    ["<!DOCTYPE x><isComposing/>", "xml-doctype"],
  ];
  for (const [input, code] of cases) {
    assert.throws(
      () => parseIsComposing(input),
      (e: unknown) => e instanceof MsrpSyntaxError && e.code === code,
      code,
    );
  }
  // Extension elements in other namespaces are ignored (§3.5).
  assert.deepEqual(
    parseIsComposing(doc('<state>active</state><x:mood xmlns:x="urn:x">happy</x:mood>')),
    { state: "active" },
  );
});

const T0 = Date.UTC(2003, 0, 27, 10, 43, 0);

Deno.test("iscomposing: the composer's states (RFC 3994 §3.2, Figure 1)", () => {
  const clock = new FakeClock(T0);
  const sent: [number, IsComposingDocument][] = [];
  const c = new ComposingIndicator({
    send: (doc) => sent.push([clock.t - T0, doc]),
    contentType: "text/plain",
    now: clock.now,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
  });
  assert.equal(c.state, "idle");
  c.typing(); // idle -> active: "active" sent
  assert.equal(c.state, "active");
  clock.to(T0 + 5_000);
  c.typing(); // still active: nothing sent, idle deadline moves to 20 s
  clock.to(T0 + 19_999);
  assert.equal(c.state, "active");
  clock.to(T0 + 20_000); // 15 s without typing: "idle" with lastactive
  assert.equal(c.state, "idle");
  clock.to(T0 + 30_000);
  c.typing(); // active again
  for (let t = 40_000; t <= 170_000; t += 10_000) {
    clock.to(T0 + t);
    c.typing(); // keeps typing; the refresh timer resends "active" at 150 s
  }
  clock.to(T0 + 175_000);
  c.messageSent(); // content sent: idle, no status message
  assert.equal(c.state, "idle");
  assert.equal(clock.pending, 0);
  clock.advance(1_000_000);
  assert.deepEqual(sent, [
    [0, { state: "active", contentType: "text/plain", refresh: 120 }],
    [20_000, { state: "idle", lastActive: "2003-01-27T10:43:05Z", contentType: "text/plain" }],
    [30_000, { state: "active", contentType: "text/plain", refresh: 120 }],
    [150_000, { state: "active", contentType: "text/plain", refresh: 120 }],
  ]);
});

Deno.test("iscomposing: refresh interval and no-refresh mode", () => {
  const clock = new FakeClock();
  const sent: [number, IsComposingDocument][] = [];
  const timers = { now: clock.now, setTimer: clock.setTimer, clearTimer: clock.clearTimer };
  const c = new ComposingIndicator({
    send: (doc) => sent.push([clock.t, doc]),
    refresh: 60,
    idleTimeout: 30,
    sendLastActive: false,
    ...timers,
  });
  c.typing();
  for (let t = 20_000; t <= 200_000; t += 20_000) {
    clock.to(t);
    c.typing();
  }
  clock.to(260_000);
  assert.deepEqual(sent.map(([t, d]) => [t, d.state]), [
    [0, "active"],
    [60_000, "active"],
    [120_000, "active"],
    [180_000, "active"],
    [230_000, "idle"],
  ]);
  assert.deepEqual(sent[4][1], { state: "idle" });

  const quiet: [number, IsComposingDocument][] = [];
  const q = new ComposingIndicator({
    send: (d) => quiet.push([clock.t, d]),
    refresh: false,
    ...timers,
  });
  const start = clock.t;
  q.typing();
  for (let t = 10_000; t <= 300_000; t += 10_000) {
    clock.to(start + t);
    q.typing();
  }
  clock.to(start + 315_000);
  assert.deepEqual(quiet.map(([t, d]) => [t - start, d]), [
    [0, { state: "active" }],
    [315_000, {
      state: "idle",
      lastActive: new Date(start + 300_000).toISOString().replace(".000", ""),
    }],
  ]);
  q.typing();
  q.close();
  assert.equal(q.state, "idle");
  assert.equal(clock.pending, 0);
  assert.throws(() => new ComposingIndicator({ send: () => {}, refresh: 0 }), RangeError);
  assert.throws(() => new ComposingIndicator({ send: () => {}, idleTimeout: 0 }), RangeError);
});

Deno.test("iscomposing: the receiver's states (RFC 3994 §3.3, Figure 2)", () => {
  const clock = new FakeClock();
  const changes: [number, string][] = [];
  const r = new ComposingReceiver({
    onChange: (state) => changes.push([clock.t, state]),
    now: clock.now,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
  });
  assert.equal(r.state, "idle");
  r.statusReceived({ state: "active", refresh: 90 });
  assert.equal(r.state, "active");
  assert.equal(r.expiresAt, 95_000); // refresh + 5 s margin
  clock.to(94_999);
  assert.equal(r.state, "active");
  clock.to(95_000); // the refresh interval ran out
  assert.equal(r.state, "idle");
  assert.equal(r.expiresAt, undefined);

  clock.to(100_000);
  r.statusReceived({ state: "active" }); // no <refresh>: 120 s
  assert.equal(r.expiresAt, 225_000);
  clock.to(160_000);
  r.statusReceived({ state: "active", refresh: 90 }); // consecutive actives restart the expiry
  assert.equal(r.expiresAt, 255_000);
  clock.to(200_000);
  r.statusReceived({ state: "idle", lastActive: "2003-01-27T10:43:00Z" }); // "idle" received
  assert.equal(r.state, "idle");
  assert.deepEqual(r.lastStatus, { state: "idle", lastActive: "2003-01-27T10:43:00Z" });
  assert.equal(clock.pending, 0);

  r.statusReceived({ state: "active", refresh: 60 });
  clock.to(210_000);
  r.contentReceived(); // a content message ends "active"
  assert.equal(r.state, "idle");
  assert.equal(clock.pending, 0);

  r.statusReceived({ state: "active" });
  r.statusReceived({ state: "paused" }); // unknown states count as idle (§3.5)
  assert.equal(r.state, "idle");

  assert.deepEqual(changes, [
    [0, "active"],
    [95_000, "idle"],
    [100_000, "active"],
    [200_000, "idle"],
    [200_000, "active"],
    [210_000, "idle"],
    [210_000, "active"],
    [210_000, "idle"],
  ]);
});

Deno.test("iscomposing: the receiver's margin is configurable", () => {
  const clock = new FakeClock();
  const r = new ComposingReceiver({
    marginMs: 0,
    now: clock.now,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
  });
  r.statusReceived({ state: "active", refresh: 60 });
  clock.to(59_999);
  assert.equal(r.state, "active");
  clock.to(60_000);
  assert.equal(r.state, "idle");
  r.statusReceived({ state: "active" });
  r.close();
  assert.equal(clock.pending, 0);
});
