// FrameWriter / FrameEncoderStream / encodeFrame: byte-exact output, header
// order, end-line collisions (§7.1), pieces, streamed bodies, backpressure.

import assert from "node:assert/strict";
import {
  type DecodedFrame,
  encodeFrame,
  FrameEncoderStream,
  FrameWriter,
  HeaderList,
  type TransactionIdChange,
} from "../../lib/wire/mod.ts";
import { formatHead } from "../../lib/wire/encoder.ts";
import { type Frame, MsrpError, type MsrpRequest } from "../../mod.ts";
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

Deno.test("FrameEncoderStream is a TransformStream: frames piped through it are the wire bytes", async () => {
  const encoder = new FrameEncoderStream();
  assert.ok(encoder instanceof TransformStream);
  const frames = [request("t1aa", enc("one")), request("t2bb", null)];
  const bytes = await readAll(ReadableStream.from<Frame>(frames).pipeThrough(encoder));
  assert.equal(dec(bytes), dec(concatBytes(frames.map((f) => encodeFrame(f)))));
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

// ---- the ASCII fast path and the general (TextEncoder) path agree ----

/** What §9 says the bytes are, built from formatHead and TextEncoder only. */
function reference(frame: Frame, tid = frame.tid): Uint8Array {
  if (frame.kind === "response" || frame.body === null) {
    return enc(formatHead(frame, tid, false) + `-------${tid}${frame.flag}\r\n`);
  }
  return concatBytes([
    enc(formatHead(frame, tid, true) + "\r\n"),
    frame.body,
    enc(`\r\n-------${tid}${frame.flag}\r\n`),
  ]);
}

Deno.test("every kind of frame is written as formatHead and TextEncoder would write it", () => {
  const paths: [string, string][] = [["To-Path", TO], ["From-Path", FROM]];
  const frames: Frame[] = [
    request("t1aa", null),
    request("t1aa", new Uint8Array(0)),
    request("t1aa", enc("hello\r\n"), [["Byte-Range", "1-7/7"]], "+"),
    request("t1aa", enc("x"), [["Content-Description", "café au lait"]]), // non-ASCII value
    request("t1aa", enc("x"), [["X-Emoji", "\u{1F600}"], ["X-After", "plain"]]),
    request("t1aa", enc("x"), [["X-Lone", "a\ud800b"]]), // a lone surrogate: U+FFFD, as TextEncoder does
    request("t1aa", enc("x"), [["X-Tab", "a\tb"], ["X-Empty", ""]]),
    { ...request("n0ti", enc("x")), method: "NOTIFY" }, // another method
    request("x".repeat(32), enc("x")), // the longest request id (§9)
    {
      kind: "request",
      tid: "t2bb",
      method: "SEND",
      headers: new HeaderList([
        ["content-type", "text/plain"],
        ["Message-ID", "m1"],
        ["FROM-PATH", FROM],
        ["to-path", TO],
      ]),
      body: enc("out of order, any case"),
      offset: 0,
      flag: "$",
    },
    {
      kind: "request",
      tid: "t2bb",
      method: "REPORT",
      headers: new HeaderList([["Content-Type", "text/plain"], ...paths]), // bodiless: stays put
      body: null,
      offset: 0,
      flag: "$",
    },
  ];
  for (const status of [0, 5, 42, 200, 481, 999]) {
    for (const comment of ["", "OK", "Zugriff verweigert — café", "tab\there"]) {
      frames.push({
        kind: "response",
        tid: "t3cc",
        status,
        comment,
        headers: new HeaderList(paths),
        flag: "$",
      });
    }
  }
  frames.push({
    kind: "response",
    tid: "t3cc",
    status: 200,
    comment: "",
    headers: new HeaderList([["From-Path", TO], ["X-Note", "ünïcödé"], ["To-Path", FROM]]),
    flag: "$",
  });
  // A response echoes the id of the request, as the decoder accepted it (1 to 64 characters).
  for (const tid of ["a", "x".repeat(64)]) {
    frames.push({
      kind: "response",
      tid,
      status: 200,
      comment: "",
      headers: new HeaderList(paths),
      flag: "$",
    });
  }
  for (const f of frames) {
    const want = reference(f);
    assert.deepEqual(encodeFrame(f), want, dec(want));
    // Through a writer too, with the small body coalesced and not.
    for (const coalesceLimit of [0, 16384]) {
      const out: Uint8Array[] = [];
      new FrameWriter({ coalesceLimit }).write(f, (b) => out.push(b));
      assert.deepEqual(concatBytes(out), want, dec(want));
    }
  }
});

Deno.test("the head of a piece and of an interruption follow the same rules", () => {
  const first = request("t1aa", enc("AA"), [["X-Name", "Zoë"], ["Byte-Range", "1-*/*"]], "open");
  const second: MsrpRequest = { ...first, body: enc("B-------t1aa$C"), offset: 2, flag: "$" };
  const changes: TransactionIdChange[] = [];
  const out = writeAll([first, second], (c) => changes.push(c));
  assert.equal(changes.length, 1);
  const next = changes[0].to;
  const head = (tid: string, range: string) =>
    `MSRP ${tid} SEND\r\nTo-Path: ${TO}\r\nFrom-Path: ${FROM}\r\nMessage-ID: m1x2\r\nX-Name: Zoë\r\nByte-Range: ${range}\r\nContent-Type: application/octet-stream\r\n\r\n`;
  assert.deepEqual(out.map(dec), [
    head("t1aa", "1-*/*"),
    "AA",
    "B",
    "\r\n-------t1aa+\r\n",
    head(next, "4-*/*"),
    "-------t1aa$C",
    `\r\n-------${next}$\r\n`,
  ]);
});

Deno.test("a writer reused for many frames checks each body against its own id (§7.1)", () => {
  // The writer keeps one pattern buffer: a longer id followed by a shorter
  // one, bodies long enough for the skip table, ids that share prefixes.
  const filler = "z".repeat(150);
  const cases: [tid: string, body: string, changes: boolean][] = [
    ["abcdefgh", `${filler}-------abcdefgh$${filler}`, true],
    ["abcd", `${filler}-------abcdefgh$${filler}`, false], // "abcd" then "e": not a flag
    ["abcd", `${filler}-------abcd+${filler}`, true],
    ["abce", `${filler}-------abcd+${filler}`, false],
    ["x9x9", `-------x9x9#`, true],
    ["x9x9", `-------x9x9`, false], // no flag after it
    ["longer.id-1", `${filler}-------longer.id-1$`, true],
    ["longer.id", `${filler}-------longer.id-1$`, false],
  ];
  const changes: TransactionIdChange[] = [];
  const w = new FrameWriter({ onTransactionIdChange: (c) => changes.push(c) });
  for (const [tid, body, changed] of cases) {
    const before = changes.length;
    const out: Uint8Array[] = [];
    w.write(request(tid, enc(body)), (b) => out.push(b));
    assert.equal(changes.length - before, changed ? 1 : 0, `${tid} / ${body.slice(150, 170)}`);
    const [f] = decodeSplit(concatBytes(out), []) as MsrpRequest[];
    assert.equal(f.tid, changed ? changes.at(-1)!.to : tid);
    assert.equal(dec(f.body!), body);
  }
});

Deno.test("a malformed start is refused before anything is written", () => {
  const isBadFrame = (e: unknown) => e instanceof MsrpError && e.code === "bad-frame";
  const headers = new HeaderList([["To-Path", TO], ["From-Path", FROM]]);
  for (const tid of ["", "-abc", "ab cd", "ab$d", "x".repeat(65), "tïd", "ab\r\n"]) {
    assert.throws(() => encodeFrame(request(tid, enc("x"))), isBadFrame, JSON.stringify(tid));
  }
  for (const method of ["", "Send", "SEND ", "SÉND", "SEND1"]) {
    assert.throws(
      () => encodeFrame({ ...request("t1aa", null), method }),
      isBadFrame,
      JSON.stringify(method),
    );
  }
  for (const status of [-1, 1000, 200.5, NaN]) {
    assert.throws(
      () => encodeFrame({ kind: "response", tid: "t1aa", status, comment: "", headers, flag: "$" }),
      isBadFrame,
    );
  }
  for (const comment of ["a\nb", "a\0b", "a\x7fb", "a\x1bb"]) {
    assert.throws(
      () =>
        encodeFrame({ kind: "response", tid: "t1aa", status: 200, comment, headers, flag: "$" }),
      isBadFrame,
      JSON.stringify(comment),
    );
  }
  // Every ident character is accepted.
  const ok = "Az09.-+%=";
  assert.equal(dec(encodeFrame(request(ok, null))).split("\r\n")[0], `MSRP ${ok} SEND`);
});

/** Asserts that writing `frames` in order throws `bad-frame` at the last and writes nothing of it. */
function refused(frames: Frame[], why: string, before = ""): void {
  const out: Uint8Array[] = [];
  const w = new FrameWriter();
  const last = frames.length - 1;
  for (let i = 0; i < last; i++) w.write(frames[i], (b) => out.push(b));
  const written = concatBytes(out).length;
  assert.throws(
    () => w.write(frames[last], (b) => out.push(b)),
    (e: unknown) => e instanceof MsrpError && e.code === "bad-frame" && e.message.length > 20,
    why,
  );
  assert.equal(concatBytes(out).length, written, `${why}: nothing of the refused frame written`);
  if (before !== "") assert.equal(dec(concatBytes(out)), before, why);
}

Deno.test("nothing the public API accepts injects bytes into the framing (issue 9 #8)", async () => {
  const evil = "$\r\nMSRP evil SEND\r\nTo-Path: x\r\n-------evil";
  refused([{ ...request("t1aa", enc("hi")), flag: evil as "$" }], "request flag with CRLF");
  refused([{ ...request("t1aa", null), flag: "x" as "$" }], "bodiless request flag");
  refused([{ ...request("t1aa", enc("hi")), flag: "" as "$" }], "empty flag");
  const open = request("t1aa", enc("AA"), [], "open");
  refused([open, { ...open, body: enc("B"), offset: 2, flag: evil as "$" }], "piece flag");
  const paths = new HeaderList([["To-Path", FROM], ["From-Path", TO]]);
  const response = (flag: string, headers = paths): Frame => ({
    kind: "response",
    tid: "t1aa",
    status: 200,
    comment: "OK",
    headers,
    flag: flag as "$",
  });
  refused([response(evil)], "response flag with CRLF");
  // Header lists made without checks are checked when written.
  const trusted = (names: string[], values: string[]) =>
    HeaderList.fromTrusted(["To-Path", "From-Path", ...names], [TO, FROM, ...values]);
  const badLists: [HeaderList, string][] = [
    [trusted(["X-A"], ["v\r\nX-Injected: 1"]), "CRLF in a value"],
    [trusted(["X-A"], ["v\n-------t1aa$"]), "LF in a value"],
    [trusted(["X-A"], ["v\rw"]), "CR in a value"],
    [trusted(["X-A"], ["v\0w"]), "NUL in a value"],
    [trusted(["X-A\r\nX-B"], ["v"]), "CRLF in a name"],
    [trusted(["X A"], ["v"]), "space in a name"],
    [trusted(["X-A: v\r\nX-B"], ["w"]), "colon in a name"],
    [trusted([""], ["v"]), "empty name"],
    [trusted(["1X"], ["v"]), "name not starting with a letter"],
    [trusted(["Ünï"], ["v"]), "non-ASCII name"],
    [trusted(["X-A"], [42 as unknown as string]), "value not text"],
    [HeaderList.fromTrusted(["To-Path", "From-Path", "X-A"], [TO, FROM]), "names without values"],
    [
      HeaderList.fromSpans("X-A: v\r\nw", [0, 3, 5, 9], 0, 0),
      "a lazy list over text with CRLF",
    ],
  ];
  for (const [headers, why] of badLists) {
    const req: MsrpRequest = { ...request("t1aa", enc("hi")), headers };
    refused([req], `request: ${why}`);
    refused([{ ...req, body: null }], `bodiless request: ${why}`);
    refused([response("$", headers)], `response: ${why}`);
    assert.throws(() => formatHead(req, "t1aa", true), MsrpError, `formatHead: ${why}`);
  }
  // A streamed body's flag is checked before anything is written.
  const encoder = new FrameEncoderStream();
  const chunks: Uint8Array[] = [];
  const drained = (async () => {
    for await (const c of encoder.readable) chunks.push(c);
  })().catch((e) => e);
  const writer = encoder.writable.getWriter();
  await assert.rejects(
    writer.write({
      kind: "request",
      tid: "t1aa",
      method: "SEND",
      headers: request("t1aa", enc("")).headers,
      body: ReadableStream.from([enc("x")]),
      offset: 0,
      flag: evil as "$",
    }),
    (e: unknown) => e instanceof MsrpError && e.code === "bad-frame",
  );
  assert.ok((await drained) instanceof MsrpError, "the reader learns of the refusal");
  assert.deepEqual(chunks, []);
});

Deno.test("the encoder refuses what RFC 4975 forbids (issue 9 #9)", () => {
  // §9: transact-id = ident = ALPHANUM 3*31ident-char, 4 to 32 characters.
  for (const tid of ["a", "abc", "a".repeat(33), "a".repeat(36), "a".repeat(64)]) {
    refused([request(tid, enc("x"))], `request id of ${tid.length}`);
    refused([request(tid, null)], `bodiless request id of ${tid.length}`);
  }
  for (const tid of ["abcd", "a".repeat(32)]) encodeFrame(request(tid, enc("x")));
  // §7.1: a request with a body needs a Content-Type, any method.
  const untyped = (method: string, body: Uint8Array): MsrpRequest => ({
    ...request("t1aa", null),
    method,
    body,
  });
  refused([untyped("SEND", enc("hello"))], "SEND body without Content-Type");
  refused([untyped("SEND", new Uint8Array(0))], "empty SEND body without Content-Type");
  refused([untyped("NOTIFY", enc("hello"))], "NOTIFY body without Content-Type");
  refused([{ ...untyped("SEND", enc("AA")), flag: undefined }], "first piece without Content-Type");
  // §7.1, §7.2: To-Path and From-Path in requests and responses.
  const only = (...fields: [string, string][]) => new HeaderList(fields);
  refused([{ ...request("t1aa", null), headers: only(["From-Path", FROM]) }], "no To-Path");
  refused([{ ...request("t1aa", null), headers: only(["To-Path", TO]) }], "no From-Path");
  refused([{ ...request("t1aa", null), headers: only(["Message-ID", "m1x2"]) }], "no paths");
  const response = (headers: HeaderList, flag = "$"): Frame => ({
    kind: "response",
    tid: "t1aa",
    status: 400,
    comment: "",
    headers,
    flag: flag as "$",
  });
  refused([response(only(["From-Path", TO]))], "response without To-Path");
  refused([response(only(["To-Path", FROM]))], "response without From-Path");
  // §7.2: "the continuation flag in the end-line will always contain a dollar sign".
  const paths = only(["To-Path", FROM], ["From-Path", TO]);
  refused([response(paths, "+")], "response with +");
  refused([response(paths, "#")], "response with #");
  // §7.1: bodies of requests other than SEND are at most 10240 octets.
  const report = (n: number, flag?: "$"): MsrpRequest => ({
    ...request("t1aa", new Uint8Array(n), [], flag ?? "$"),
    method: "REPORT",
  });
  refused([report(20000)], "REPORT body of 20000");
  refused([report(10241)], "REPORT body of 10241");
  assert.equal(encodeFrame(report(10240)).length > 10240, true);
  encodeFrame({ ...request("t1aa", new Uint8Array(20000)) }); // SEND bodies may be larger
  const first: MsrpRequest = { ...report(10000), flag: undefined };
  const second: MsrpRequest = { ...first, body: new Uint8Array(241), offset: 10000, flag: "$" };
  refused([first, second], "REPORT pieces adding up to 10241");
  const fits: MsrpRequest = { ...second, body: new Uint8Array(240) };
  assert.equal(concatBytes(writeAll([first, fits])).length > 10240, true);
});

Deno.test("slabSize: the same bytes as a buffer per frame, and no piece handed out is written again", () => {
  const frames: Frame[] = [];
  const response = (tid: string, comment: string): Frame => ({
    kind: "response",
    tid,
    status: 200,
    comment,
    headers: new HeaderList([["To-Path", FROM], ["From-Path", TO]]),
    flag: "$",
  });
  // Enough small frames to fill several 1 KiB slabs, heads of streamed
  // chunks and their end-lines, frames over an eighth of a slab, and a
  // non-ASCII comment (the TextEncoder path).
  for (let i = 0; i < 40; i++) {
    const tid = `slab${String(i).padStart(4, "0")}`;
    frames.push(response(tid, i % 7 === 0 ? "OK ✓" : "OK"));
    frames.push(request(`${tid}b`, new Uint8Array(i * 7).fill(0x41 + (i % 26)), [], "$"));
    const open = request(`${tid}c`, new Uint8Array(300).fill(0x61), [], "open");
    frames.push(open);
    frames.push({ ...open, body: new Uint8Array(5).fill(0x62), offset: 300, flag: "+" });
  }
  const plain: Uint8Array[] = [];
  const slabbed: Uint8Array[] = [];
  const a = new FrameWriter({ coalesceLimit: 64 });
  const b = new FrameWriter({ coalesceLimit: 64, slabSize: 1024 });
  for (const f of frames) {
    a.write(f, (bytes) => plain.push(bytes));
    b.write(f, (bytes) => slabbed.push(bytes));
  }
  // Compared only now: a later frame overwriting an earlier piece would show.
  assert.deepEqual(slabbed.map(dec), plain.map(dec));
  assert.equal(dec(concatBytes(slabbed)), dec(concatBytes(plain)));
});
