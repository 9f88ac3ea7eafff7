// The wire trace (lib/wire/frame_trace.ts): frames rendered exactly, however
// the bytes are split; long bodies shown by length and first 32 octets;
// control characters escaped; unreadable frames named; and the `trace`
// option of a connection showing each frame in and out (RFC 4975 §7.1, §7.2).

import assert from "node:assert/strict";
import { consoleLogger, type LogLevel, MsrpConnection, MsrpSession } from "../../mod.ts";
import { FrameTrace, frameTracer, type TracedFrame } from "../../lib/wire/mod.ts";
import { markTraceLines } from "../../lib/wire/frame_trace.ts";
import { SessionDirectory } from "../../lib/session/mod.ts";
import { memoryPipe } from "../../lib/transport/memory.ts";
import { enc, prng } from "../_util.ts";

const SEND = "MSRP a786hjs2 SEND\r\n" +
  "To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n" +
  "From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n" +
  "Message-ID: 87652491\r\n" +
  "Byte-Range: 1-23/23\r\n" +
  "Content-Type: text/plain\r\n" +
  "\r\n" +
  "Hey Bob, are you there?\r\n" + // the CRLF before the end-line is not body (§7.1)
  "-------a786hjs2$\r\n";
const OK = "MSRP a786hjs2 200 OK\r\n" +
  "To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n" +
  "From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n" +
  "-------a786hjs2$\r\n";

function traceOf(bytes: Uint8Array, split: (n: number) => number[] = (n) => [n]): TracedFrame[] {
  const out: TracedFrame[] = [];
  const t = new FrameTrace("in", (f) => out.push(f));
  let at = 0;
  for (const len of split(bytes.length)) {
    t.push(bytes.subarray(at, at + len));
    at += len;
  }
  t.end();
  return out;
}

Deno.test("trace: a SEND and its 200 rendered line by line, the same for any split", () => {
  const want = [
    {
      direction: "in",
      text: "MSRP a786hjs2 SEND\n" +
        "To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\n" +
        "From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\n" +
        "Message-ID: 87652491\n" +
        "Byte-Range: 1-23/23\n" +
        "Content-Type: text/plain\n" +
        "\n" +
        '[23 bytes: "Hey Bob, are you there?"]\n' +
        "-------a786hjs2$",
      tid: "a786hjs2",
      method: "SEND",
      status: undefined,
      bodyLength: 23,
    },
    {
      direction: "in",
      text: "MSRP a786hjs2 200 OK\n" +
        "To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\n" +
        "From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\n" +
        "-------a786hjs2$",
      tid: "a786hjs2",
      method: undefined,
      status: 200,
      bodyLength: 0,
    },
  ];
  const bytes = enc(SEND + OK);
  assert.deepEqual(traceOf(bytes), want);
  assert.deepEqual(traceOf(bytes, (n) => Array(n).fill(1)), want);
  const rand = prng(7);
  for (let round = 0; round < 20; round++) {
    const split = (n: number): number[] => {
      const parts: number[] = [];
      for (let left = n; left > 0;) {
        const len = Math.min(left, 1 + Math.floor(rand() * 40));
        parts.push(len);
        left -= len;
      }
      return parts;
    };
    assert.deepEqual(traceOf(bytes, split), want);
  }
});

Deno.test("trace: a long body by its length and first 32 octets, escaped; a bodiless request without a body line", () => {
  const body = new Uint8Array(100_000);
  body.set(enc('\x1b[31m"quoted" \\ and more text beyond 32'));
  body[40] = 0xff;
  const head = enc(
    "MSRP t1234 SEND\r\nTo-Path: msrp://b.example.com:1/s;tcp\r\n" +
      "From-Path: msrp://a.example.com:1/s;tcp\r\nMessage-ID: m1\r\n" +
      "X-Note: tab\there\r\nContent-Type: application/octet-stream\r\n\r\n",
  );
  const tail = enc(
    "\r\n-------t1234+\r\nMSRP t5678 SEND\r\nTo-Path: msrp://b.example.com:1/s;tcp\r\n" +
      "From-Path: msrp://a.example.com:1/s;tcp\r\nMessage-ID: m2\r\n-------t5678$\r\n",
  );
  const all = new Uint8Array(head.length + body.length + tail.length);
  all.set(head);
  all.set(body, head.length);
  all.set(tail, head.length + body.length);
  const frames = traceOf(all, (n) => Array.from({ length: Math.ceil(n / 4096) }, () => 4096));
  assert.equal(frames.length, 2);
  assert.equal(frames[0].bodyLength, 100_000);
  assert.deepEqual(frames[0].text.split("\n").slice(-5), [
    "X-Note: tab\\there",
    "Content-Type: application/octet-stream",
    "",
    '[100000 bytes: "\\x1b[31m\\"quoted\\" \\\\ and more text be"...]',
    "-------t1234+",
  ]);
  assert.equal(
    frames[1].text,
    "MSRP t5678 SEND\nTo-Path: msrp://b.example.com:1/s;tcp\n" +
      "From-Path: msrp://a.example.com:1/s;tcp\nMessage-ID: m2\n-------t5678$",
  );
});

Deno.test("trace: an unreadable frame is named with the reason; a cut-off frame shown as far as it came", () => {
  const frames = traceOf(enc("MSRP abcd SEND\r\nTo-Path msrp://x\r\n-------abcd$\r\n" + OK));
  assert.equal(frames.length, 2);
  assert.match(frames[0].text, /^\[unreadable frame abcd: .+ \(.+\); skipped to its end-line\]$/);
  assert.equal(frames[1].status, 200);
  const cut = traceOf(enc(SEND.slice(0, SEND.indexOf("Hey") + 5)));
  assert.equal(cut.length, 2);
  assert.match(cut[0].text, /\n\[5 bytes: "Hey B"\]\n\[no end-line\]$/);
  assert.match(
    cut[1].text,
    /^\[unreadable frame a786hjs2: .*; framing lost, nothing more is traced here\]$/,
  );
});

Deno.test("MsrpConnection trace option: the bind SEND, the message and the 200s, in and out", async () => {
  const [a, b] = memoryPipe();
  const events: {
    side: string;
    level: LogLevel;
    message: string;
    data?: Record<string, unknown>;
  }[] = [];
  const trace =
    (side: string) => (level: LogLevel, message: string, data?: Record<string, unknown>) =>
      events.push({ side, level, message, data });
  const directory = new SessionDirectory();
  const alice = new MsrpSession({
    localUri: "msrp://alice.example.com:7777/aliceSess01;tcp",
    remotePath: ["msrp://bob.example.com:8888/bobSess0002;tcp"],
  });
  const bob = new MsrpSession({
    localUri: "msrp://bob.example.com:8888/bobSess0002;tcp",
    remotePath: ["msrp://alice.example.com:7777/aliceSess01;tcp"],
  });
  directory.add(bob);
  const aliceConn = new MsrpConnection(a, { trace: trace("alice") });
  const bobConn = new MsrpConnection(b, { directory, trace: trace("bob") });
  aliceConn.attach(alice);
  alice.sendBindRequest();
  await alice.ready;
  await alice.send("hi");
  alice.close();
  bob.close();
  aliceConn.close();
  bobConn.close();
  await aliceConn.closed;
  await bobConn.closed;
  const seen = events.map((e) => `${e.side} ${e.message} ${e.data?.method ?? e.data?.status}`);
  assert.deepEqual(seen, [
    "alice frame out SEND",
    "bob frame in SEND",
    "bob frame out 200",
    "alice frame in 200",
    "alice frame out SEND",
    "bob frame in SEND",
    "bob frame out 200",
    "alice frame in 200",
  ]);
  assert.ok(events.every((e) => e.level === "debug"));
  const out = events[4].data!;
  assert.equal(out.direction, "out");
  assert.equal(out.bodyLength, 2);
  assert.match(String(out.frame), /^MSRP (\S+) SEND\n[^]*\n\[2 bytes: "hi"\]\n-------\1\$$/);
});

Deno.test("frameTracer: a logger that throws does not break the trace", () => {
  const t = frameTracer(() => {
    throw new Error("boom");
  }, "out");
  t.push(enc(OK));
  t.end();
});

Deno.test("markTraceLines and consoleLogger: each line of a traced frame after > or <", () => {
  assert.equal(
    markTraceLines("MSRP t 200 OK\n\n-------t$", "in"),
    "< MSRP t 200 OK\n<\n< -------t$\n",
  );
  const printed: string[] = [];
  const original = console.error;
  console.error = (text: string) => void printed.push(text);
  try {
    consoleLogger(true)("debug", "frame out", {
      peer: "127.0.0.1:1",
      direction: "out",
      frame: "MSRP t SEND\n-------t$",
    });
    consoleLogger(false)("debug", "frame in", { direction: "in", frame: "x" });
  } finally {
    console.error = original;
  }
  assert.deepEqual(printed, [
    '[msrp debug] frame out {"peer":"127.0.0.1:1","direction":"out"}\n> MSRP t SEND\n> -------t$',
  ]);
});
