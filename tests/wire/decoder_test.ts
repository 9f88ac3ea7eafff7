// FrameDecoderStream / FrameParser: RFC examples, every split point, seeded
// random splits, malformed input, limits, pieces of large bodies.

import assert from "node:assert/strict";
import {
  type DecodedFrame,
  encodeFrame,
  FrameDecoderStream,
  FrameParser,
  type InvalidFrame,
} from "../../lib/wire/mod.ts";
import type { MsrpRequest } from "../../mod.ts";
import { BytePattern } from "../../lib/wire/byte_search.ts";
import { RFC_EXAMPLES } from "../fixtures/rfc_examples.ts";
import { concatBytes, dec, decodeSplit, enc, normalize, prng } from "../_util.ts";

const TO = "To-Path: msrp://b.example.com:7777/s2;tcp\r\n";
const FROM = "From-Path: msrp://a.example.com:7777/s1;tcp\r\n";

function send(tid: string, body: string | null, flag = "$", extra = ""): string {
  const head = `MSRP ${tid} SEND\r\n${TO}${FROM}Message-ID: m1x2\r\n${extra}`;
  if (body === null) return `${head}-------${tid}${flag}\r\n`;
  return `${head}Content-Type: text/plain\r\n\r\n${body}\r\n-------${tid}${flag}\r\n`;
}

function ok(tid: string): string {
  return `MSRP ${tid} 200 OK\r\n${TO}${FROM}-------${tid}$\r\n`;
}

Deno.test("RFC examples decode to the expected frames", () => {
  for (const ex of RFC_EXAMPLES) {
    const frames = decodeSplit(enc(ex.wire), []);
    if (ex.name.includes("Figure 3")) {
      // A "snippet" with no To-Path/From-Path: framing is found, §7.1 says 400.
      assert.deepEqual(frames.map((f) => f.kind), ["invalid", "invalid"], ex.name);
      assert.deepEqual(frames.map((f) => (f as InvalidFrame).error.code), [
        "missing-path",
        "missing-path",
      ]);
      assert.deepEqual(frames.map((f) => f.tid), ex.frames.map((f) => f.tid));
      continue;
    }
    assert.equal(frames.length, ex.frames.length, ex.name);
    ex.frames.forEach((want, i) => {
      const got = frames[i];
      assert.equal(got.kind, want.kind, ex.name);
      assert.equal(got.tid, want.tid, ex.name);
      assert.deepEqual(
        [...(got as MsrpRequest).headers],
        want.headers.map(([n, v]) => [n, v]),
        ex.name,
      );
      if (got.kind === "request") {
        assert.equal(got.method, want.method);
        assert.equal(got.offset, 0);
        assert.equal(got.flag, want.flag);
        assert.equal(got.body === null ? null : dec(got.body), want.body, ex.name);
      } else if (got.kind === "response") {
        assert.equal(got.status, want.status);
        assert.equal(got.comment, want.comment ?? "");
        assert.equal(got.flag, want.flag);
      }
    });
  }
});

// A corpus of frames chosen to trip a boundary search: binary bodies with
// CRLF, lone dashes, partial end-lines, near-miss transaction ids and flags.
function corpus(): Uint8Array {
  const rnd = prng(7);
  const binary = new Uint8Array(3000);
  for (let i = 0; i < binary.length; i++) binary[i] = Math.floor(rnd() * 256);
  // Plant CRLFs, dash runs and near-miss end-lines inside the binary body.
  const plant = (at: number, s: string) => binary.set(enc(s), at);
  plant(100, "\r\n-------");
  plant(200, "\r\n-------bin1XY$\r\n"); // longer id
  plant(300, "\r\n-------bin1"); // cut off
  plant(400, "-------bin1$\r\n"); // no CRLF before: not an end-line
  plant(500, "\r\n-------bin1!\r\n"); // bad flag
  plant(600, "\r\n-------bin1$\n"); // no CR after
  plant(700, "\r\n------bin1$\r\n"); // six dashes
  plant(800, "\r\r\n\r\n-------bin");
  plant(2990, "\r\n-------b");
  const parts: Uint8Array[] = [
    enc(send("t0aa", "Hello\r\n")),
    enc(ok("t0aa")),
    enc(send("near1", "x\r\n-------near1X$\r\n-------near$\r\n-------near1")),
    enc(send("empty1", "")),
    enc(`MSRP lenient1 SEND\r\n${TO}${FROM}Content-Type: text/plain\r\n\r\n-------lenient1$\r\n`),
    enc(send("nobody1", null, "+")),
    enc(`MSRP bin1 SEND\r\n${TO}${FROM}Content-Type: application/octet-stream\r\n\r\n`),
    binary,
    enc("\r\n-------bin1+\r\n"),
    enc("\r\n"), // a stray CRLF between frames is tolerated
    enc(
      `MSRP r3p0rt REPORT\r\n${TO}${FROM}Message-ID: m1x2\r\nByte-Range: 1-5/5\r\nStatus: 000 200 OK\r\n-------r3p0rt$\r\n`,
    ),
    enc(send("abrt", "partial", "#")),
    enc("MSRP ut8x 403 Forbidden — non-ASCII comment\r\n" + TO + FROM + "-------ut8x$\r\n"),
    enc(send("dash", "---------------dash\r\n------dash$")),
    enc(send("crlfend", "\r\n\r\n")),
    enc(send("utf8h", "x", "$", "Content-Description: café au lait\r\nX-Plain: after\r\n")),
  ];
  return concatBytes(parts);
}

const CORPUS = corpus();
const EXPECTED = normalize(decodeSplit(CORPUS, []));

Deno.test("corpus decodes to the intended frames", () => {
  assert.deepEqual(EXPECTED.map((f) => `${f.kind}:${f.tid}:${f.flag ?? ""}`), [
    "request:t0aa:$",
    "response:t0aa:$",
    "request:near1:$",
    "request:empty1:$",
    "request:lenient1:$",
    "request:nobody1:+",
    "request:bin1:+",
    "request:r3p0rt:$",
    "request:abrt:#",
    "response:ut8x:$",
    "request:dash:$",
    "request:crlfend:$",
    "request:utf8h:$",
  ]);
  const body = (i: number) => EXPECTED[i].body;
  const hexOf = (s: string) => [...enc(s)].map((b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(body(0), hexOf("Hello\r\n"));
  assert.equal(body(2), hexOf("x\r\n-------near1X$\r\n-------near$\r\n-------near1"));
  assert.equal(body(3), "");
  assert.equal(body(4), "", "empty body sent without the CRLF before the end-line");
  assert.equal(body(5), null, "bodiless");
  assert.equal(body(6)!.length, 6000, "3000 binary octets intact");
  assert.equal(body(7), null);
  assert.equal(EXPECTED[9].comment, "Forbidden — non-ASCII comment");
  assert.deepEqual(EXPECTED[9].headers, [
    ["To-Path", "msrp://b.example.com:7777/s2;tcp"],
    ["From-Path", "msrp://a.example.com:7777/s1;tcp"],
  ]);
  assert.deepEqual(EXPECTED[12].headers, [
    ["To-Path", "msrp://b.example.com:7777/s2;tcp"],
    ["From-Path", "msrp://a.example.com:7777/s1;tcp"],
    ["Message-ID", "m1x2"],
    ["Content-Description", "café au lait"],
    ["X-Plain", "after"],
    ["Content-Type", "text/plain"],
  ]);
  assert.equal(body(10), hexOf("---------------dash\r\n------dash$"));
  assert.equal(body(11), hexOf("\r\n\r\n"));
});

Deno.test("every two-way split of the corpus yields the same frames", () => {
  for (let cut = 1; cut < CORPUS.length; cut++) {
    const got = normalize(decodeSplit(CORPUS, [cut]));
    if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) {
      assert.deepEqual(got, EXPECTED, `split at ${cut}`);
    }
  }
});

Deno.test("one byte at a time yields the same frames", () => {
  const cuts = Array.from({ length: CORPUS.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(normalize(decodeSplit(CORPUS, cuts)), EXPECTED);
});

Deno.test("seeded random splits and small segment sizes yield the same frames", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rnd = prng(seed);
    const cuts: number[] = [];
    for (let at = 0; at < CORPUS.length;) {
      at += 1 + Math.floor(rnd() * (rnd() < 0.5 ? 8 : 400));
      cuts.push(at);
    }
    const segmentSize = 1 + Math.floor(rnd() * 2048);
    const got = normalize(decodeSplit(CORPUS, cuts, { segmentSize }));
    if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) {
      assert.deepEqual(got, EXPECTED, `seed ${seed}`);
    }
  }
});

Deno.test("every split of every RFC example", () => {
  for (const ex of RFC_EXAMPLES) {
    const bytes = enc(ex.wire);
    const want = normalize(decodeSplit(bytes, []));
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.deepEqual(normalize(decodeSplit(bytes, [cut])), want, `${ex.name} split at ${cut}`);
    }
  }
});

// ---- malformed input ----

interface Bad {
  name: string;
  input: string | Uint8Array;
  code: string;
  fatal: boolean;
  tid?: string;
  options?: ConstructorParameters<typeof FrameParser>[0];
}

const long = (n: number) => "x".repeat(n);
const BAD: Bad[] = [
  {
    name: "HTTP instead of MSRP",
    input: "HTTP/1.1 200 OK\r\n",
    code: "bad-start-line",
    fatal: true,
  },
  { name: "bare MSRP", input: "MSRP\r\n", code: "bad-start-line", fatal: true },
  { name: "lower-case protocol", input: "msrp abcd SEND\r\n", code: "bad-start-line", fatal: true },
  { name: "MSRP without SP", input: "MSRPabcd SEND\r\n", code: "bad-start-line", fatal: true },
  {
    name: "two spaces before tid",
    input: "MSRP  abcd SEND\r\n",
    code: "bad-transaction-id",
    fatal: true,
  },
  { name: "tid with $", input: "MSRP ab$d SEND\r\n", code: "bad-transaction-id", fatal: true },
  {
    name: "tid starting with dot",
    input: "MSRP .abc SEND\r\n",
    code: "bad-transaction-id",
    fatal: true,
  },
  {
    name: "tid of 65 letters",
    input: `MSRP ${long(65)} SEND\r\n`,
    code: "bad-transaction-id",
    fatal: true,
  },
  { name: "no method", input: "MSRP abcd\r\n", code: "bad-transaction-id", fatal: true },
  {
    name: "lower-case method",
    input: `MSRP abcd send\r\n${TO}${FROM}-------abcd$\r\n`,
    code: "bad-method",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "method with trailing SP",
    input: `MSRP abcd SEND \r\n${TO}${FROM}-------abcd$\r\n`,
    code: "bad-method",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "two-digit status",
    input: `MSRP abcd 20 OK\r\n${TO}${FROM}-------abcd$\r\n`,
    code: "bad-method",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "four-digit status",
    input: `MSRP abcd 2000\r\n${TO}${FROM}-------abcd$\r\n`,
    code: "bad-method",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "comment with control",
    input: `MSRP abcd 200 O\x01K\r\n${TO}${FROM}-------abcd$\r\n`,
    code: "bad-comment",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "start line ends in bare LF",
    input: "MSRP abcd SEND\n",
    code: "bad-line-ending",
    fatal: true,
  },
  {
    name: "header ends in bare LF",
    input: `MSRP abcd SEND\r\nTo-Path: x\n${FROM}-------abcd$\r\n`,
    code: "bad-line-ending",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "header without colon",
    input: `MSRP abcd SEND\r\nTo-Path msrp://x\r\n${FROM}-------abcd$\r\n`,
    code: "bad-header",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "header name starts with digit",
    input: `MSRP abcd SEND\r\n1To: x\r\n-------abcd$\r\n`,
    code: "bad-header",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "header name with space",
    input: `MSRP abcd SEND\r\nTo Path: x\r\n-------abcd$\r\n`,
    code: "bad-header",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "empty header name",
    input: `MSRP abcd SEND\r\n: x\r\n-------abcd$\r\n`,
    code: "bad-header",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "header name with non-ASCII",
    input: `MSRP abcd SEND\r\nTö: x\r\n-------abcd$\r\n`,
    code: "bad-header",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "header value with NUL",
    input: `MSRP abcd SEND\r\n${TO}X: a\0b\r\n${FROM}-------abcd$\r\n`,
    code: "bad-header-value",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "header value with DEL",
    input: `MSRP abcd SEND\r\n${TO}X: a\x7fb\r\n${FROM}-------abcd$\r\n`,
    code: "bad-header-value",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "header value not UTF-8",
    input: concatBytes([
      enc(`MSRP abcd SEND\r\n${TO}X: a`),
      new Uint8Array([0xff, 0xfe]),
      enc(`\r\n${FROM}-------abcd$\r\n`),
    ]),
    code: "bad-header-value",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "no To-Path",
    input: `MSRP abcd SEND\r\n${FROM}-------abcd$\r\n`,
    code: "missing-path",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "no From-Path, with body",
    input: `MSRP abcd SEND\r\n${TO}Content-Type: text/plain\r\n\r\nhi\r\n-------abcd$\r\n`,
    code: "missing-path",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "response with a body",
    input: `MSRP abcd 200 OK\r\n${TO}${FROM}\r\nbody\r\n-------abcd$\r\n`,
    code: "response-with-body",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "end-line of another transaction",
    input: `MSRP abcd SEND\r\n${TO}${FROM}-------wxyz$\r\n`,
    code: "bad-end-line",
    fatal: true,
    tid: "abcd",
  },
  {
    name: "end-line with a bad flag",
    input: `MSRP abcd SEND\r\n${TO}${FROM}-------abcd!\r\n`,
    code: "bad-end-line",
    fatal: true,
    tid: "abcd",
  },
  {
    name: "end-line without flag",
    input: `MSRP abcd SEND\r\n${TO}${FROM}-------abcd\r\n`,
    code: "bad-end-line",
    fatal: true,
    tid: "abcd",
  },
  {
    name: "start line too long",
    input: `MSRP abcd ${"A".repeat(200)}\r\n`,
    code: "line-too-long",
    fatal: true,
    options: { maxLineLength: 100 },
  },
  {
    name: "start line never ends",
    input: "MSRP abcd SEND" + long(200),
    code: "line-too-long",
    fatal: true,
    options: { maxLineLength: 100 },
  },
  {
    name: "header line too long",
    input: `MSRP abcd SEND\r\n${TO}X: ${long(200)}\r\n${FROM}-------abcd$\r\n`,
    code: "line-too-long",
    fatal: false,
    tid: "abcd",
    options: { maxLineLength: 100 },
  },
  {
    name: "too many headers",
    input: `MSRP abcd SEND\r\n${TO}${FROM}${"X: y\r\n".repeat(5)}-------abcd$\r\n`,
    code: "too-many-headers",
    fatal: false,
    tid: "abcd",
    options: { maxHeaderCount: 4 },
  },
  {
    name: "REPORT body over 10240",
    input: `MSRP abcd REPORT\r\n${TO}${FROM}Content-Type: text/plain\r\n\r\n${
      long(10241)
    }\r\n-------abcd$\r\n`,
    code: "body-too-large",
    fatal: false,
    tid: "abcd",
  },
  {
    name: "AUTH body over a lowered limit",
    input: `MSRP abcd AUTH\r\n${TO}${FROM}Content-Type: text/plain\r\n\r\n${
      long(11)
    }\r\n-------abcd$\r\n`,
    code: "body-too-large",
    fatal: false,
    tid: "abcd",
    options: { maxNonSendBody: 10 },
  },
  { name: "cut off in the start line", input: "MSRP ab", code: "truncated", fatal: true },
  {
    name: "cut off in the headers",
    input: `MSRP abcd SEND\r\n${TO}`,
    code: "truncated",
    fatal: true,
    tid: "abcd",
  },
  {
    name: "cut off in a response",
    input: `MSRP abcd 200 OK\r\n${TO}`,
    code: "truncated",
    fatal: true,
    tid: "abcd",
  },
];

Deno.test(`${BAD.length} malformed inputs each give their typed error`, () => {
  assert.ok(BAD.length >= 30);
  for (const bad of BAD) {
    const input = typeof bad.input === "string" ? enc(bad.input) : bad.input;
    for (const cuts of [[], Array.from({ length: input.length - 1 }, (_, i) => i + 1)]) {
      const frames = decodeSplit(input, cuts, bad.options);
      const invalid = frames.filter((f): f is InvalidFrame => f.kind === "invalid");
      assert.ok(invalid.length >= 1, `${bad.name}: no error`);
      const e = invalid[0];
      assert.equal(e.error.code, bad.code, bad.name);
      assert.equal(e.error.fatal, bad.fatal, bad.name);
      assert.equal(e.error.transactionId, bad.tid, bad.name);
      assert.equal(e.tid, bad.tid, bad.name);
      assert.equal(e.error.status, 400, bad.name);
      assert.match(e.error.message, /\(at byte \d+\)|\(in transaction/, bad.name);
      assert.equal(e.error.name, "FrameError");
    }
  }
});

Deno.test("after a recoverable error the next frame decodes", () => {
  for (const bad of BAD.filter((b) => !b.fatal && b.code !== "truncated")) {
    const input = concatBytes([
      typeof bad.input === "string" ? enc(bad.input) : bad.input,
      enc(send("next1", "after")),
    ]);
    for (const cuts of [[], Array.from({ length: input.length - 1 }, (_, i) => i + 1)]) {
      const frames = normalize(decodeSplit(input, cuts, bad.options));
      assert.deepEqual(frames.map((f) => f.kind), ["invalid", "request"], bad.name);
      assert.equal(frames[1].tid, "next1", bad.name);
      assert.equal(frames[1].body, [...enc("after")].map((b) => b.toString(16)).join(""));
    }
  }
});

Deno.test("the invalid frame carries the headers read before the problem", () => {
  const [f] = decodeSplit(
    enc(`MSRP abcd SEND\r\n${TO}${FROM}Failure-Report: no\r\nbad line\r\n-------abcd$\r\n`),
    [],
  );
  assert.equal(f.kind, "invalid");
  const inv = f as InvalidFrame;
  assert.equal(inv.method, "SEND");
  assert.equal(inv.headers.get("failure-report"), "no");
  assert.equal(inv.headers.get("From-Path"), "msrp://a.example.com:7777/s1;tcp");
});

Deno.test("an error found in the body still carries the whole header section", () => {
  const input = enc(
    `MSRP abcd REPORT\r\n${TO}${FROM}Message-ID: m1x2\r\nContent-Type: text/plain\r\n\r\n${
      long(20)
    }\r\n-------abcd$\r\n`,
  );
  for (const cuts of [[], [40], Array.from({ length: input.length - 1 }, (_, i) => i + 1)]) {
    const [f] = decodeSplit(input, cuts, { maxNonSendBody: 10 });
    const inv = f as InvalidFrame;
    assert.equal(inv.error.code, "body-too-large");
    assert.deepEqual([...inv.headers].map(([n]) => n), [
      "To-Path",
      "From-Path",
      "Message-ID",
      "Content-Type",
    ]);
  }
});

Deno.test("a fatal error stops the parser; later input is ignored", () => {
  const parser = new FrameParser();
  const out: DecodedFrame[] = [];
  parser.push(enc("GARBAGE\r\n" + ok("t0aa")), (f) => out.push(f));
  assert.equal(parser.failed, true);
  parser.push(enc(ok("t1bb")), (f) => out.push(f));
  parser.finish((f) => out.push(f));
  assert.deepEqual(out.map((f) => f.kind), ["invalid"]);
});

Deno.test("frames before a fatal error are all delivered by the stream", async () => {
  const input = enc(ok("t0aa") + send("t1bb", "x") + "NOT MSRP\r\n" + ok("t2cc"));
  const stream = ReadableStream.from([input.subarray(0, 30), input.subarray(30)]).pipeThrough(
    new FrameDecoderStream(),
  );
  const got: DecodedFrame[] = [];
  for await (const f of stream) got.push(f);
  assert.deepEqual(got.map((f) => f.kind), ["response", "request", "invalid"]);
  assert.equal((got[2] as InvalidFrame).error.code, "bad-start-line");
});

// ---- pieces of large bodies ----

Deno.test("a body longer than segmentSize comes out in pieces with offsets", () => {
  const body = "0123456789".repeat(100); // 1000 octets
  const input = enc(send("big1", body));
  const cuts = Array.from({ length: 20 }, (_, i) => 100 + i * 50);
  const frames = decodeSplit(input, cuts, { segmentSize: 256 }) as MsrpRequest[];
  assert.ok(frames.length > 1);
  let offset = 0;
  for (const [i, f] of frames.entries()) {
    assert.equal(f.offset, offset);
    assert.equal(f.flag, i === frames.length - 1 ? "$" : undefined);
    assert.equal(f.headers.get("Message-ID"), "m1x2");
    offset += f.body!.length;
  }
  assert.equal(dec(concatBytes(frames.map((f) => f.body!))), body);
  assert.ok(frames[0].body!.length >= 256, "first piece waits for a segment");
});

Deno.test("a short body spread over reads is still one frame", () => {
  const input = enc(send("sml1", "hello world"));
  const frames = decodeSplit(input, Array.from({ length: input.length - 1 }, (_, i) => i + 1));
  assert.equal(frames.length, 1);
  assert.equal(dec((frames[0] as MsrpRequest).body!), "hello world");
});

Deno.test("a body inside one chunk is a view of it, not a copy", () => {
  const input = enc(send("view", "abcdefgh"));
  const [f] = decodeSplit(input, []) as MsrpRequest[];
  assert.equal(f.body!.buffer, input.buffer);
});

Deno.test("non-SEND bodies are never emitted in pieces", () => {
  const body = long(5000);
  const input = enc(
    `MSRP rep1 REPORT\r\n${TO}${FROM}Content-Type: text/plain\r\n\r\n${body}\r\n-------rep1$\r\n`,
  );
  const frames = decodeSplit(input, Array.from({ length: 50 }, (_, i) => 60 + i * 100), {
    segmentSize: 100,
  });
  assert.equal(frames.length, 1);
  assert.equal((frames[0] as MsrpRequest).body!.length, 5000);
});

Deno.test("a stream cut inside a body gives the bytes so far, then truncated", () => {
  const input = enc(send("cut1", "0123456789abcdef").slice(0, -25)); // cut inside the body
  const frames = decodeSplit(input, [150]);
  const last = frames.at(-1) as InvalidFrame;
  assert.equal(last.kind, "invalid");
  assert.equal(last.error.code, "truncated");
  assert.equal(last.error.transactionId, "cut1");
  const pieces = frames.slice(0, -1) as MsrpRequest[];
  assert.equal(pieces.at(-1)!.flag, undefined);
  const got = dec(concatBytes(pieces.map((p) => p.body!)));
  assert.ok("0123456789abcdef".startsWith(got) && got.length > 0, got);
});

Deno.test("256 MiB chunk streams through in bounded pieces", async () => {
  const total = 256 * 1024 * 1024;
  const read = 64 * 1024;
  const block = new Uint8Array(read);
  crypto.getRandomValues(block);
  const head = enc(
    `MSRP huge SEND\r\n${TO}${FROM}Message-ID: m1x2\r\nByte-Range: 1-*/*\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  let sent = 0;
  const source = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(head);
    },
    pull(c) {
      if (sent >= total) {
        c.enqueue(enc("\r\n-------huge$\r\n"));
        c.close();
        return;
      }
      c.enqueue(block);
      sent += read;
    },
  }, { highWaterMark: 0 });
  let bytes = 0;
  let pieces = 0;
  let biggest = 0;
  let flag: string | undefined;
  const before = Deno.memoryUsage().rss;
  for await (const f of source.pipeThrough(new FrameDecoderStream())) {
    assert.equal(f.kind, "request");
    const r = f as MsrpRequest;
    assert.equal(r.offset, bytes);
    bytes += r.body!.length;
    biggest = Math.max(biggest, r.body!.length);
    pieces++;
    flag = r.flag;
  }
  const grown = Deno.memoryUsage().rss - before;
  assert.equal(bytes, total);
  assert.equal(flag, "$");
  assert.ok(pieces >= total / (read * 2), `pieces: ${pieces}`);
  assert.ok(biggest <= 65536 + read, `largest piece ${biggest}`);
  assert.ok(grown < 64 * 1024 * 1024, `rss grew by ${grown}`);
});

// ---- header lines: the one-pass path and the general path agree ----

Deno.test("header lines of every shape decode alike whole and split", () => {
  const input = enc(
    `MSRP shp1 SEND\r\n${TO}${FROM}X-A:v\r\nX-B:   spaced out   \r\nX-C:\tTab\tinside\t\r\n` +
      `X-D:\r\nX-E:   \r\nx-lower: v\r\nX-Utf: née\r\nX-After: plain\r\nX-Rep: 1\r\nX-Rep: 2\r\n` +
      `Content-Type: text/plain\r\n\r\nhi\r\n-------shp1$\r\n`,
  );
  const want: [string, string][] = [
    ["To-Path", "msrp://b.example.com:7777/s2;tcp"],
    ["From-Path", "msrp://a.example.com:7777/s1;tcp"],
    // §9 `hname ":" SP hval`: one SP after the colon, then the value byte for
    // byte; a missing SP is tolerated.
    ["X-A", "v"],
    ["X-B", "  spaced out   "],
    ["X-C", "\tTab\tinside\t"],
    ["X-D", ""],
    ["X-E", "  "],
    ["x-lower", "v"],
    ["X-Utf", "née"],
    ["X-After", "plain"],
    ["X-Rep", "1"],
    ["X-Rep", "2"],
    ["Content-Type", "text/plain"],
  ];
  for (let cut = 0; cut < input.length; cut++) {
    const frames = decodeSplit(input, cut === 0 ? [] : [cut]) as MsrpRequest[];
    assert.equal(frames.length, 1, `split at ${cut}`);
    const h = frames[0].headers;
    assert.equal(frames[0].tid, "shp1");
    assert.equal(h.size, want.length);
    assert.equal(h.get("X-LOWER"), "v");
    assert.deepEqual(h.getAll("x-rep"), ["1", "2"]);
    assert.equal(h.has("X-Missing"), false);
    assert.deepEqual([...h], want, `split at ${cut}`);
  }
});

Deno.test("header values pass through decode and encode byte for byte (§9 hval)", () => {
  const fields = "X-Note:  one leading space\r\nX-Tab: \tlead tab\r\nX-Trail: trailing  \r\n" +
    "X-Both:  \t both \t \r\nX-Utf:  née \r\n";
  const wire = `MSRP rt1x SEND\r\n${TO}${FROM}${fields}Content-Type: text/plain\r\n\r\n` +
    `hi\r\n-------rt1x$\r\n`;
  const input = enc(wire);
  for (const cuts of [[], [60], Array.from({ length: input.length - 1 }, (_, i) => i + 1)]) {
    const [f] = decodeSplit(input, cuts) as MsrpRequest[];
    assert.equal(f.headers.get("X-Note"), " one leading space");
    assert.equal(f.headers.get("X-Tab"), "\tlead tab");
    assert.equal(f.headers.get("X-Trail"), "trailing  ");
    assert.equal(f.headers.get("X-Both"), " \t both \t ");
    assert.equal(f.headers.get("X-Utf"), " née ");
    assert.equal(dec(encodeFrame(f)), wire, `cuts ${cuts.length}`);
  }
});

Deno.test("a header line of exactly maxLineLength octets is read; one more is too long", () => {
  const max = 60;
  for (const extra of [0, 1]) {
    const line = "X-Long: " + "v".repeat(max - 8 + extra);
    const input = enc(`MSRP lng1 SEND\r\n${line}\r\n-------lng1$\r\n`);
    for (
      const cuts of [
        [],
        [20],
        [30],
        Array.from({ length: input.length - 1 }, (_, i) => i + 1),
      ]
    ) {
      const [f] = decodeSplit(input, cuts, { maxLineLength: max }) as InvalidFrame[];
      // Without paths the frame is invalid either way; the code tells which check failed.
      assert.equal(
        f.error.code,
        extra === 0 ? "missing-path" : "line-too-long",
        `${extra} ${cuts}`,
      );
      if (extra === 0) assert.equal(f.headers.get("x-long"), "v".repeat(max - 8));
    }
  }
});

Deno.test("To-Path and From-Path are recognised in any case, and nothing else is (§7.1)", () => {
  const frame = (to: string, from: string) =>
    enc(
      `MSRP pth1 SEND\r\n${to}: msrp://b.example.com/s;tcp\r\n${from}: msrp://a.example.com/s;tcp\r\n-------pth1$\r\n`,
    );
  const good: [string, string][] = [
    ["To-Path", "From-Path"],
    ["to-path", "from-path"],
    ["TO-PATH", "FROM-PATH"],
    ["tO-pAtH", "fRoM-PaTh"],
  ];
  const bad: [string, string][] = [
    ["To_Path", "From-Path"],
    ["To-Paths", "From-Path"],
    ["To-Pat", "From-Path"],
    ["Xo-Path", "From-Path"],
    ["To-Path", "From_Path"],
    ["To-Path", "From-Pat"],
    ["To-Path", "To-Path"],
    ["From-Path", "From-Path"],
  ];
  for (const [to, from] of good) {
    const frames = decodeSplit(frame(to, from), []);
    assert.deepEqual(frames.map((f) => f.kind), ["request"], `${to} ${from}`);
  }
  for (const [to, from] of bad) {
    for (const cuts of [[], [25]]) {
      const frames = decodeSplit(frame(to, from), cuts) as InvalidFrame[];
      assert.equal(frames[0].error.code, "missing-path", `${to} ${from}`);
    }
  }
});

// ---- the end-line search ----

Deno.test("BytePattern.find agrees with a plain search, as the pattern changes", () => {
  const rnd = prng(11);
  const naive = (h: Uint8Array, p: Uint8Array, from: number, last: number) => {
    for (let s = Math.max(0, from); s <= Math.min(last, h.length - p.length); s++) {
      let j = 0;
      while (j < p.length && h[s + j] === p[j]) j++;
      if (j === p.length) return s;
    }
    return -1;
  };
  const pattern = new BytePattern(new Uint8Array([1, 2]), 80);
  for (let round = 0; round < 400; round++) {
    // A small alphabet, so that near matches and matches are common.
    const alphabet = 2 + Math.floor(rnd() * 4);
    const m = 2 + Math.floor(rnd() * 40);
    const p = new Uint8Array(m);
    for (let i = 0; i < m; i++) p[i] = Math.floor(rnd() * alphabet);
    pattern.buffer.set(p);
    pattern.update(m);
    const h = new Uint8Array(Math.floor(rnd() * 3000));
    for (let i = 0; i < h.length; i++) h[i] = Math.floor(rnd() * alphabet);
    if (h.length > m && rnd() < 0.5) h.set(p, Math.floor(rnd() * (h.length - m)));
    for (let q = 0; q < 5; q++) {
      const from = Math.floor(rnd() * (h.length + 2));
      const last = from + Math.floor(rnd() * (h.length + 2));
      assert.equal(pattern.find(h, from, last), naive(h, p, from, last), `round ${round}`);
    }
  }
});

Deno.test("after a bad header line the section is still read: the error carries the paths", () => {
  const input = enc(
    `MSRP hb1x SEND\r\nX-First: 1\r\nno colon\r\n${TO}X-Bad: a\x01b\r\n${FROM}` +
      `Content-Type: text/plain\r\n\r\nMSRP fake SEND\r\n-------hb1x$\r\n` +
      `MSRP hb2x SEND\r\n${TO}bad\r\n-------hb2x$\r\n${ok("hb3x")}`,
  );
  for (let cut = 0; cut < input.length; cut++) {
    const frames = decodeSplit(input, cut === 0 ? [] : [cut]);
    const [a, b, c] = frames as [InvalidFrame, InvalidFrame, DecodedFrame];
    assert.equal(frames.length, 3, `split at ${cut}`);
    // The first problem is the one reported, with every field of the section.
    assert.equal(a.error.code, "bad-header", `split at ${cut}`);
    assert.equal(a.error.streamOffset, 28);
    assert.deepEqual([a.tid, a.method], ["hb1x", "SEND"]);
    assert.deepEqual([...a.headers].map(([n]) => n), [
      "X-First",
      "To-Path",
      "From-Path",
      "Content-Type",
    ]);
    assert.equal(b.error.code, "bad-header");
    assert.equal(b.headers.get("From-Path"), undefined);
    assert.equal(c.kind === "response" && c.tid, "hb3x");
  }
});

Deno.test("bad header lines count towards maxHeaderCount: an endless bad section is cut short", () => {
  const head = enc(`MSRP cut1 SEND\r\n${TO}${FROM}${"no colon\r\n".repeat(100)}`);
  const parser = new FrameParser({ maxHeaderCount: 10 });
  const out: DecodedFrame[] = [];
  parser.push(head, (f) => out.push(f));
  // Reported at the 10th bad line, with the first one's place, before the section ends.
  assert.equal(out.length, 1);
  const a = out[0] as InvalidFrame;
  assert.equal(a.error.code, "bad-header");
  assert.equal(a.error.streamOffset, 16 + TO.length + FROM.length);
  assert.equal(a.headers.size, 2);
  // Then the frame is skipped to its end-line, and the next one is read.
  parser.push(enc(`-------cut1$\r\n${ok("cut2")}`), (f) => out.push(f));
  assert.equal(out.length, 2);
  assert.equal(out[1].kind === "response" && out[1].tid, "cut2");
});

// ---- bounded skipping and bounded junk between frames (issue 8, defect 8) ----

/** Every split point of `input` (and no split), as decodeSplit cuts. */
function everySplit(input: Uint8Array): number[][] {
  return [[], ...Array.from({ length: input.length - 1 }, (_, i) => [i + 1])];
}

function codes(frames: DecodedFrame[]): string[] {
  return frames.map((f) =>
    f.kind === "invalid" ? `${f.error.code}${f.error.fatal ? "!" : ""}` : f.tid
  );
}

Deno.test("skipping a bad frame stops at maxSkip: fatal skip-limit, later frames not swallowed silently", () => {
  // A bad header line, then (the header section being read to its end) 40
  // octets of body before the end-line: 40 skipped octets.
  const bad = `MSRP abcd SEND\r\n${TO}${FROM}bad line\r\n\r\n${"y".repeat(40)}\r\n-------abcd$\r\n`;
  const input = enc(bad + ok("next1"));
  for (const cuts of everySplit(input)) {
    // Exactly at the limit the frame's end-line is still found and decoding goes on.
    assert.deepEqual(codes(decodeSplit(input, cuts, { maxSkip: 40 })), ["bad-header", "next1"]);
    // One octet fewer and the skip ends the stream.
    assert.deepEqual(codes(decodeSplit(input, cuts, { maxSkip: 39 })), [
      "bad-header",
      "skip-limit!",
    ]);
  }
  // The end-line never comes: frames that follow are not decoded forever.
  const endless = enc(
    `MSRP abcd SEND\r\n${TO}${FROM}bad line\r\n\r\n` + "z".repeat(5000) + ok("next2"),
  );
  for (const cuts of [[], [100], [5000], Array.from({ length: 600 }, (_, i) => 1 + i * 9)]) {
    const frames = decodeSplit(endless, cuts, { maxSkip: 1000 });
    assert.deepEqual(codes(frames), ["bad-header", "skip-limit!"]);
    const e = (frames[1] as InvalidFrame).error;
    assert.equal(e.transactionId, "abcd");
    // Answered once, at the bad header: the fatal error carries no method to answer again.
    assert.equal((frames[0] as InvalidFrame).method, "SEND");
    assert.equal((frames[1] as InvalidFrame).method, undefined);
    assert.match(e.message, /no end-line for transaction abcd within 1000 octets/);
  }
});

Deno.test("skips after an over-long line and an oversized REPORT body are bounded too", () => {
  const overLong = enc(
    `MSRP abcd SEND\r\n${TO}X-Long: ${long(200)}\r\n` + "z".repeat(3000) + ok("next3"),
  );
  const report = enc(
    `MSRP efgh REPORT\r\n${TO}${FROM}Message-ID: m1\r\nContent-Type: text/plain\r\n\r\n` +
      "z".repeat(3000) + ok("next4"),
  );
  for (
    const [input, first] of [[overLong, "line-too-long"], [report, "body-too-large"]] as const
  ) {
    for (const cuts of [[], [60], [150], Array.from({ length: 400 }, (_, i) => 1 + i * 7)]) {
      const frames = decodeSplit(input, cuts, {
        maxSkip: 1000,
        maxLineLength: 100,
        maxNonSendBody: 100,
      });
      assert.deepEqual(codes(frames), [first, "skip-limit!"]);
    }
  }
});

Deno.test("blank lines between frames are bounded by maxBlank; the count restarts after a frame", () => {
  const input = enc("\r\n".repeat(10) + ok("t1aa") + "\r\n".repeat(10) + ok("t2bb"));
  for (const cuts of everySplit(input)) {
    assert.deepEqual(codes(decodeSplit(input, cuts, { maxBlank: 20 })), ["t1aa", "t2bb"]);
    const frames = decodeSplit(input, cuts, { maxBlank: 18 });
    assert.deepEqual(codes(frames), ["blank-limit!"]);
    assert.equal((frames[0] as InvalidFrame).error.streamOffset, 18);
  }
  // The default: 16384 octets of blank lines pass, one more CRLF does not.
  assert.deepEqual(codes(decodeSplit(enc("\r\n".repeat(8192) + ok("t3cc")), [])), ["t3cc"]);
  assert.deepEqual(codes(decodeSplit(enc("\r\n".repeat(8193) + ok("t3cc")), [])), [
    "blank-limit!",
  ]);
});

Deno.test("the default skip limit is 16 MiB", () => {
  const parser = new FrameParser();
  const out: DecodedFrame[] = [];
  // Nothing is skipped yet: the bad line ends the first push.
  parser.push(enc(`MSRP abcd SEND\r\n${TO}${FROM}bad line\r\n`), (f) => out.push(f));
  const junk = new Uint8Array(1024 * 1024).fill(0x7a);
  for (let i = 0; i < 16 && !parser.failed; i++) parser.push(junk, (f) => out.push(f));
  assert.deepEqual(codes(out), ["bad-header"]);
  parser.push(junk, (f) => out.push(f));
  assert.deepEqual(codes(out), ["bad-header", "skip-limit!"]);
});
