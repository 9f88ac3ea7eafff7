// FrameWriter / FrameEncoderStream / encodeFrame: byte-exact output, header
// order, end-line collisions (§7.1), pieces, streamed bodies, backpressure.

import assert from "node:assert/strict";
import {
  type DecodedFrame,
  encodeFrame,
  type Frame,
  FrameEncoderStream,
  FrameWriter,
  HeaderList,
  MsrpError,
  type MsrpRequest,
  type TransactionIdChange,
} from "../../mod.ts";
import { RFC_EXAMPLES } from "../fixtures/rfc_examples.ts";
import { concatBytes, dec, decodeSplit, enc, normalize } from "../_util.ts";

const TO = "msrp://b.example.com:7777/s2;tcp";
const FROM = "msrp://a.example.com:7777/s1;tcp";

function request(
  tid: string,
  body: Uint8Array | null,
  extra: [string, string][] = [],
  end: "$" | "+" | "#" | "open" = "$",
): MsrpRequest {
  const flag = end === "open" ? undefined : end;
  const headers = new HeaderList([
    ["To-Path", TO],
    ["From-Path", FROM],
    ["Message-ID", "m1x2"],
    ...extra,
  ]);
  if (body !== null) headers.append("Content-Type", "application/octet-stream");
  return { kind: "request", tid, method: "SEND", headers, body, offset: 0, flag };
}

function writeAll(frames: Frame[], onChange?: (c: TransactionIdChange) => void): Uint8Array[] {
  const out: Uint8Array[] = [];
  const w = new FrameWriter({ onTransactionIdChange: onChange });
  for (const f of frames) w.write(f, (b) => out.push(b));
  return out;
}

Deno.test("every RFC example re-encodes byte for byte", () => {
  let count = 0;
  for (const ex of RFC_EXAMPLES) {
    if (ex.name.includes("Figure 3")) continue; // snippet without paths
    const frames = decodeSplit(enc(ex.wire), []) as Frame[];
    const bytes = concatBytes(frames.map((f) => encodeFrame(f)));
    assert.equal(dec(bytes), ex.wire, ex.name);
    count++;
  }
  assert.equal(count, RFC_EXAMPLES.length - 1);
});

Deno.test("bodiless, empty and non-empty bodies are written as §7.1 says", () => {
  assert.equal(
    dec(encodeFrame(request("t1aa", null))),
    `MSRP t1aa SEND\r\nTo-Path: ${TO}\r\nFrom-Path: ${FROM}\r\nMessage-ID: m1x2\r\n-------t1aa$\r\n`,
  );
  assert.equal(
    dec(encodeFrame(request("t1aa", new Uint8Array(0)))),
    `MSRP t1aa SEND\r\nTo-Path: ${TO}\r\nFrom-Path: ${FROM}\r\nMessage-ID: m1x2\r\nContent-Type: application/octet-stream\r\n\r\n\r\n-------t1aa$\r\n`,
  );
  assert.equal(
    dec(encodeFrame(request("t1aa", enc("hi"), [], "+"))),
    `MSRP t1aa SEND\r\nTo-Path: ${TO}\r\nFrom-Path: ${FROM}\r\nMessage-ID: m1x2\r\nContent-Type: application/octet-stream\r\n\r\nhi\r\n-------t1aa+\r\n`,
  );
});

Deno.test("responses: with and without comment, status padded to three digits", () => {
  const headers = new HeaderList([["To-Path", FROM], ["From-Path", TO]]);
  assert.equal(
    dec(
      encodeFrame({
        kind: "response",
        tid: "t1aa",
        status: 481,
        comment: "Session Does Not Exist",
        headers,
        flag: "$",
      }),
    ),
    `MSRP t1aa 481 Session Does Not Exist\r\nTo-Path: ${FROM}\r\nFrom-Path: ${TO}\r\n-------t1aa$\r\n`,
  );
  assert.equal(
    dec(
      encodeFrame({ kind: "response", tid: "t1aa", status: 200, comment: "", headers, flag: "$" }),
    ),
    `MSRP t1aa 200\r\nTo-Path: ${FROM}\r\nFrom-Path: ${TO}\r\n-------t1aa$\r\n`,
  );
});

Deno.test("To-Path and From-Path go first, Content-Type last (§7.1, §9)", () => {
  const headers = new HeaderList([
    ["Content-Type", "text/plain"],
    ["Message-ID", "m1x2"],
    ["From-Path", FROM],
    ["Byte-Range", "1-2/2"],
    ["To-Path", TO],
  ]);
  const bytes = encodeFrame({
    kind: "request",
    tid: "t1aa",
    method: "SEND",
    headers,
    body: enc("hi"),
    offset: 0,
    flag: "$",
  });
  assert.equal(
    dec(bytes),
    `MSRP t1aa SEND\r\nTo-Path: ${TO}\r\nFrom-Path: ${FROM}\r\nMessage-ID: m1x2\r\nByte-Range: 1-2/2\r\nContent-Type: text/plain\r\n\r\nhi\r\n-------t1aa$\r\n`,
  );
});

Deno.test("a large body is passed on without a copy", () => {
  const body = new Uint8Array(100_000);
  const out = writeAll([request("t1aa", body)]);
  assert.equal(out.length, 3);
  assert.equal(out[1], body);
  const small = writeAll([request("t2aa", new Uint8Array(100))]);
  assert.equal(small.length, 1, "small frames go out as one buffer");
});

Deno.test("a body holding its end-line gets a new transaction id (§7.1)", () => {
  const body = enc("look: \r\n-------t1aa$\r\n and more");
  const changes: TransactionIdChange[] = [];
  const bytes = concatBytes(writeAll([request("t1aa", body)], (c) => changes.push(c)));
  assert.equal(changes.length, 1);
  assert.equal(changes[0].from, "t1aa");
  assert.equal(changes[0].interrupted, false);
  const frames = decodeSplit(bytes, []) as MsrpRequest[];
  assert.equal(frames.length, 1);
  assert.equal(frames[0].tid, changes[0].to);
  assert.deepEqual(frames[0].body, body);
});

Deno.test("the end-line without CRLF around it still counts as present (§7.1)", () => {
  const changes: TransactionIdChange[] = [];
  writeAll([request("t1aa", enc("x-------t1aa+y"))], (c) => changes.push(c));
  assert.equal(changes.length, 1);
  const none: TransactionIdChange[] = [];
  writeAll([request("t1aa", enc("x-------t1aaXy -------t1a$"))], (c) => none.push(c));
  assert.equal(none.length, 0, "near misses are left alone");
});

Deno.test("the end-line in a later piece interrupts the chunk with + and resumes the range", () => {
  const first = request("t1aa", enc("AAAA"), [["Byte-Range", "1-*/20"]], "open");
  const second: MsrpRequest = { ...first, body: enc("BB-------t1aa$CC"), offset: 4, flag: "$" };
  const changes: TransactionIdChange[] = [];
  const bytes = concatBytes(writeAll([first, second], (c) => changes.push(c)));
  assert.equal(changes.length, 1);
  assert.deepEqual({ ...changes[0], to: "" }, {
    from: "t1aa",
    to: "",
    byteOffset: 6,
    interrupted: true,
  });
  const frames = normalize(decodeSplit(bytes, []));
  assert.deepEqual(frames.map((f) => [f.tid, f.flag]), [["t1aa", "+"], [changes[0].to, "$"]]);
  const decoded = decodeSplit(bytes, []) as MsrpRequest[];
  assert.equal(dec(decoded[0].body!), "AAAABB");
  assert.equal(decoded[1].headers.get("Byte-Range"), "7-*/20");
  assert.equal(dec(decoded[1].body!), "-------t1aa$CC");
});

Deno.test("an end-line split across two pieces is caught too", () => {
  const first = request("t1aa", enc("AA-------t1"), [["Byte-Range", "1-*/*"]], "open");
  const second: MsrpRequest = { ...first, body: enc("aa+ZZ"), offset: 11, flag: "$" };
  const changes: TransactionIdChange[] = [];
  const bytes = concatBytes(writeAll([first, second], (c) => changes.push(c)));
  assert.equal(changes[0].byteOffset, 11);
  const decoded = decodeSplit(bytes, []) as MsrpRequest[];
  assert.deepEqual(decoded.map((f) => dec(f.body!)), ["AA-------t1", "aa+ZZ"]);
  assert.equal(decoded[1].headers.get("Byte-Range"), "12-*/*");
});

Deno.test("a non-SEND piece holding its end-line cannot be interrupted", () => {
  const first: MsrpRequest = { ...request("t1aa", enc("AA"), [], "open"), method: "NOTIFY" };
  const second: MsrpRequest = { ...first, body: enc("-------t1aa$"), offset: 2, flag: "$" };
  assert.throws(() => writeAll([first, second]), (e: MsrpError) => e.code === "end-line-in-body");
});

Deno.test("misuse is a typed error: ids, methods, pieces out of order, interleaving", () => {
  const isBadFrame = (e: unknown) => e instanceof MsrpError && e.code === "bad-frame";
  assert.throws(() => encodeFrame(request("t 1", enc("x"))), isBadFrame);
  assert.throws(() => encodeFrame({ ...request("t1aa", null), method: "send" }), isBadFrame);
  assert.throws(() => encodeFrame({ ...request("t1aa", null), flag: undefined }), isBadFrame);
  assert.throws(() => encodeFrame({ ...request("t1aa", enc("x")), offset: 3 }), isBadFrame);
  const headers = new HeaderList([["To-Path", TO], ["From-Path", FROM]]);
  assert.throws(
    () =>
      encodeFrame({ kind: "response", tid: "t1aa", status: 1000, comment: "", headers, flag: "$" }),
    isBadFrame,
  );
  assert.throws(
    () =>
      encodeFrame({
        kind: "response",
        tid: "t1aa",
        status: 200,
        comment: "a\r\nb",
        headers,
        flag: "$",
      }),
    isBadFrame,
  );
  const open = request("t1aa", enc("AA"), [], "open");
  assert.throws(() => writeAll([open, request("t2bb", enc("x"))]), isBadFrame);
  assert.throws(() => writeAll([open, { ...open, offset: 1, flag: "$" }]), isBadFrame);
});

Deno.test("decoded pieces piped into the encoder reproduce the bytes exactly", () => {
  const binary = new Uint8Array(50_000);
  crypto.getRandomValues(binary);
  const input = concatBytes([
    enc(
      `MSRP big1 SEND\r\nTo-Path: ${TO}\r\nFrom-Path: ${FROM}\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    binary,
    enc("\r\n-------big1+\r\n"),
    encodeFrame(request("sm11", enc("small"))),
  ]);
  const cuts = Array.from({ length: 60 }, (_, i) => 37 + i * 997);
  const frames = decodeSplit(input, cuts, { segmentSize: 4096 }) as Frame[];
  assert.ok(frames.length > 3, "pieces were produced");
  const out = concatBytes(writeAll(frames));
  assert.deepEqual(out, input);
});

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of stream) parts.push(p);
  return concatBytes(parts);
}

Deno.test("FrameEncoderStream writes frames in order and closes", async () => {
  const encoder = new FrameEncoderStream();
  const done = readAll(encoder.readable);
  const w = encoder.writable.getWriter();
  await w.write(request("t1aa", enc("one")));
  await w.write(request("t2bb", null));
  await w.close();
  const frames = decodeSplit(await done, []);
  assert.deepEqual(frames.map((f) => f.tid), ["t1aa", "t2bb"]);
});

Deno.test("a streamed body is read only as fast as the reader takes bytes", async () => {
  const chunk = new Uint8Array(16 * 1024).fill(0x61);
  const chunks = 2000; // 32 MiB
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulled === chunks) return c.close();
      pulled++;
      c.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  const headers = new HeaderList([["To-Path", TO], ["From-Path", FROM], ["Byte-Range", "1-*/*"], [
    "Content-Type",
    "text/plain",
  ]]);
  const encoder = new FrameEncoderStream();
  const w = encoder.writable.getWriter();
  const writing = w.write({
    kind: "request",
    tid: "strm",
    method: "SEND",
    headers,
    body,
    offset: 0,
    flag: "$",
  });
  const reader = encoder.readable.getReader();
  let read = 0;
  let bodyChunksRead = 0;
  let maxAhead = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    read += value.length;
    if (value === chunk) bodyChunksRead++;
    maxAhead = Math.max(maxAhead, pulled - bodyChunksRead);
    if (bodyChunksRead === chunks) {
      const end = await reader.read(); // the end-line
      assert.match(dec(end.value!), /-------strm\$/);
      break;
    }
  }
  await writing;
  assert.equal(bodyChunksRead, chunks);
  assert.ok(maxAhead <= 8, `the body ran ${maxAhead} chunks ahead of the reader`);
});

Deno.test("an empty streamed body is an empty body, and a failing one ends with #", async () => {
  const headers = new HeaderList([["To-Path", TO], ["From-Path", FROM], [
    "Content-Type",
    "text/plain",
  ]]);
  const encoder = new FrameEncoderStream();
  const done = readAll(encoder.readable).catch(() => new Uint8Array(0));
  const w = encoder.writable.getWriter();
  await w.write({
    kind: "request",
    tid: "emp1",
    method: "SEND",
    headers,
    body: ReadableStream.from([]),
    offset: 0,
    flag: "$",
  });
  const failing = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(enc("part"));
    },
    pull(c) {
      c.error(new Error("disk gone"));
    },
  });
  await assert.rejects(
    w.write({
      kind: "request",
      tid: "fail",
      method: "SEND",
      headers,
      body: failing,
      offset: 0,
      flag: "$",
    }),
    /disk gone/,
  );
  await done;
});

Deno.test("FrameWriter output of a failing streamed body is still valid framing", () => {
  // What the stream writes before failing: head, the bytes read, "#".
  const open = request("fail", enc("part"), [], "open");
  const out = writeAll([open, { ...open, body: new Uint8Array(0), offset: 4, flag: "#" }]);
  const frames = decodeSplit(concatBytes(out), []) as DecodedFrame[];
  assert.equal(frames.length, 1);
  assert.equal((frames[0] as MsrpRequest).flag, "#");
  assert.equal(dec((frames[0] as MsrpRequest).body!), "part");
});
