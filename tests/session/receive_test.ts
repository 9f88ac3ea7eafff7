// The receiving side of a session against a hand-driven peer: the report
// table (§7.1.3, §7.1.4, §7.2), reassembly (§7.3.1), and the status codes
// 400, 403, 413, 415, 481, 501, 506 with byte-exact responses.

import assert from "node:assert/strict";
import { type DecodedFrame, FrameWriter } from "../../lib/wire/mod.ts";
import {
  type Frame,
  IncompleteMessageError,
  MsrpConnection,
  type MsrpRequest,
  MsrpSession,
} from "../../mod.ts";
import { SessionDirectory } from "../../lib/session/mod.ts";
import { memoryPipe } from "../../lib/transport/memory.ts";
import { ALICE, BOB, RawPeer, rawToSession, request } from "./_harness.ts";

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function kinds(frames: DecodedFrame[]): string[] {
  return frames.map((f) =>
    f.kind === "response"
      ? `${f.status}`
      : f.kind === "request"
      ? `${f.method} ${f.headers.get("Status") ?? ""} ${f.headers.get("Byte-Range") ?? ""}`.trim()
      : "invalid"
  );
}

// Every cell of the receiver's table: Failure-Report x Success-Report, accepted.
const CELLS: [string | undefined, string | undefined, string[]][] = [
  [undefined, undefined, ["200"]],
  ["yes", "no", ["200"]],
  ["yes", "yes", ["200", "REPORT 000 200 OK 1-5/5"]],
  ["partial", "no", []],
  ["partial", "yes", ["REPORT 000 200 OK 1-5/5"]],
  ["no", "no", []],
  ["no", "yes", ["REPORT 000 200 OK 1-5/5"]],
  [undefined, "yes", ["200", "REPORT 000 200 OK 1-5/5"]],
];

for (const [fr, sr, expected] of CELLS) {
  Deno.test(`accepted chunk, Failure-Report ${fr ?? "(absent)"}, Success-Report ${sr ?? "(absent)"}: ${expected.join(", ") || "silence"}`, async () => {
    const { bob, conn, peer } = rawToSession();
    const extra: [string, string][] = [["Message-ID", "msgCell0001"], ["Byte-Range", "1-5/5"]];
    if (sr) extra.push(["Success-Report", sr]);
    if (fr) extra.push(["Failure-Report", fr]);
    await peer.send(request("cell1tid", BOB, ALICE, "hello", extra));
    const seen = await peer.fence();
    assert.deepEqual(kinds(seen), expected);
    for (const f of seen) {
      if (f.kind === "response") {
        // §7.2: to the previous hop, from our URI.
        assert.equal(f.tid, "cell1tid");
        assert.deepEqual([...f.headers], [["To-Path", ALICE], ["From-Path", BOB]]);
      } else if (f.kind === "request") {
        // §7.1.3: To-Path is the SEND's From-Path, From-Path is us, Message-ID echoed.
        assert.deepEqual([...f.headers].map(([n]) => n), [
          "To-Path",
          "From-Path",
          "Message-ID",
          "Byte-Range",
          "Status",
        ]);
        assert.equal(f.headers.get("To-Path"), ALICE);
        assert.equal(f.headers.get("Message-ID"), "msgCell0001");
        assert.equal(f.body, null);
      }
    }
    const m = await bob.nextMessage();
    assert.equal(await m!.text(), "hello");
    bob.close();
    conn.close();
  });
}

// Refused chunks: the error goes back unless Failure-Report is no.
for (const fr of [undefined, "yes", "partial", "no"]) {
  Deno.test(`refused chunk (415), Failure-Report ${fr ?? "(absent)"}`, async () => {
    const { bob, conn, peer } = rawToSession({ acceptTypes: ["text/plain"] });
    const extra: [string, string][] = [["Message-ID", "msgRefused1"], ["Byte-Range", "1-3/3"], [
      "Success-Report",
      "yes",
    ]];
    if (fr) extra.push(["Failure-Report", fr]);
    extra.push(["Content-Type", "image/png"]);
    await peer.send(request("refuse01", BOB, ALICE, "PNG", extra));
    const seen = await peer.fence();
    assert.deepEqual(
      kinds(seen),
      fr === "no" ? [] : ["415"],
      "no success REPORT for a refused message either",
    );
    bob.close();
    conn.close();
  });
}

Deno.test("the wire bytes of a 200 and of a success REPORT", async () => {
  const { bob, conn, peer } = rawToSession();
  await peer.send(
    request("bytes001", BOB, ALICE, "hi", [["Message-ID", "msgBytes01"], ["Byte-Range", "1-2/2"], [
      "Success-Report",
      "yes",
    ]]),
  );
  const r = await peer.next();
  assert.equal(r.kind, "response");
  const rep = await peer.next();
  assert.equal(rep.kind, "request");
  const { encodeFrame } = await import("../../lib/wire/mod.ts");
  assert.equal(
    dec(encodeFrame(r as never)),
    `MSRP bytes001 200 OK\r\nTo-Path: ${ALICE}\r\nFrom-Path: ${BOB}\r\n-------bytes001$\r\n`,
  );
  const tid = (rep as MsrpRequest).tid;
  assert.equal(
    dec(encodeFrame(rep as never)),
    `MSRP ${tid} REPORT\r\nTo-Path: ${ALICE}\r\nFrom-Path: ${BOB}\r\nMessage-ID: msgBytes01\r\nByte-Range: 1-2/2\r\nStatus: 000 200 OK\r\n-------${tid}$\r\n`,
  );
  bob.close();
  conn.close();
});

Deno.test("success REPORT per chunk when asked for", async () => {
  const { bob, conn, peer } = rawToSession({ successReports: "chunk" });
  const h = (
    range: string,
  ): [string, string][] => [["Message-ID", "msgPerChunk"], ["Byte-Range", range], [
    "Success-Report",
    "yes",
  ], ["Failure-Report", "no"]];
  await peer.send(
    request("pc1xx", BOB, ALICE, "abcd", h("1-4/8"), "+"),
    request("pc2xx", BOB, ALICE, "EFGH", h("5-8/8")),
  );
  assert.deepEqual(kinds(await peer.fence()), [
    "REPORT 000 200 OK 1-4/8",
    "REPORT 000 200 OK 5-8/8",
  ]);
  assert.equal(await (await bob.nextMessage())!.text(), "abcdEFGH");
  bob.close();
  conn.close();
});

// ---- reassembly (§7.3.1) ----

async function deliver(
  chunks: [string, string, string, "$" | "+" | "#"][],
  extra: [string, string][] = [],
) {
  const { bob, conn, peer } = rawToSession();
  let i = 0;
  for (const [range, body, _note, flag] of chunks) {
    await peer.send(
      request(`re${i++}xyz`, BOB, ALICE, body, [
        ["Message-ID", "msgReass01"],
        ["Byte-Range", range],
        ...extra,
      ], flag),
    );
  }
  await peer.fence();
  return { bob, conn, peer };
}

Deno.test("chunks in order, out of order, reversed: the same message", async () => {
  const chunks: [string, string, string, "$" | "+" | "#"][] = [
    ["1-4/12", "abcd", "", "+"],
    ["5-8/12", "EFGH", "", "+"],
    ["9-12/12", "ijkl", "", "$"],
  ];
  for (const order of [[0, 1, 2], [2, 0, 1], [2, 1, 0], [1, 2, 0]]) {
    const { bob, conn } = await deliver(order.map((i) => chunks[i]));
    const m = (await bob.nextMessage())!;
    assert.equal(await m.text(), "abcdEFGHijkl", `order ${order}`);
    assert.equal(m.state, "complete");
    bob.close();
    conn.close();
  }
});

Deno.test("the $ chunk defines the length when totals are *", async () => {
  const { bob, conn } = await deliver([["6-*/*", "world", "", "$"], ["1-*/*", "hello", "", "+"]]);
  const m = (await bob.nextMessage())!;
  assert.equal(await m.text(), "helloworld");
  assert.equal(m.size, 10);
  bob.close();
  conn.close();
});

Deno.test("overlapping chunks: the last received wins", async () => {
  const { bob, conn } = await deliver([
    ["1-6/10", "AAAAAA", "", "+"],
    ["2-3/10", "cc", "", "+"], // overwrites 2-3
    ["4-10/10", "bbbbbbb", "", "$"], // overwrites 4-6, completes the message
  ]);
  assert.equal(await (await bob.nextMessage())!.text(), "Accbbbbbbb");
  bob.close();
  conn.close();
});

Deno.test("duplicated chunks are harmless and still acknowledged", async () => {
  const { bob, conn, peer } = rawToSession();
  const h = (
    range: string,
  ): [string, string][] => [["Message-ID", "msgDupChunk"], ["Byte-Range", range]];
  await peer.send(
    request("dup1xyz", BOB, ALICE, "abc", h("1-3/6"), "+"),
    request("dup2xyz", BOB, ALICE, "abc", h("1-3/6"), "+"),
    request("dup3xyz", BOB, ALICE, "def", h("4-6/6"), "$"),
  );
  assert.deepEqual(kinds(await peer.fence()), ["200", "200", "200"]);
  assert.equal(await (await bob.nextMessage())!.text(), "abcdef");
  bob.close();
  conn.close();
});

Deno.test("a message aborted with # keeps its partial bytes", async () => {
  const { bob, conn } = await deliver([["1-4/12", "abcd", "", "+"], ["5-*/12", "EF", "", "#"]]);
  const m = (await bob.nextMessage())!;
  assert.equal(await m.done, "aborted");
  await assert.rejects(m.bytes(), (e: unknown) => {
    assert.ok(e instanceof IncompleteMessageError);
    assert.equal(e.state, "aborted");
    assert.equal(dec(e.received), "abcdEF");
    return true;
  });
  bob.close();
  conn.close();
});

Deno.test("a message re-sent with the same Message-ID is flagged as a duplicate (§5.4)", async () => {
  const { bob, conn, peer } = rawToSession();
  const h: [string, string][] = [["Message-ID", "msgTwice001"], ["Byte-Range", "1-2/2"]];
  await peer.send(request("tw1xyz", BOB, ALICE, "hi", h));
  const first = (await bob.nextMessage())!;
  assert.equal(await first.text(), "hi");
  await peer.send(request("tw2xyz", BOB, ALICE, "hi", h));
  assert.deepEqual(kinds(await peer.fence()), ["200", "200"], "a duplicate is still acknowledged");
  const second = (await bob.nextMessage())!;
  assert.equal(first.duplicate, false);
  assert.equal(second.duplicate, true);
  bob.close();
  conn.close();
});

Deno.test("a chunk arriving after its message completed is acknowledged, not a new message", async () => {
  const { bob, conn, peer } = rawToSession();
  const h = (
    range: string,
  ): [string, string][] => [["Message-ID", "msgStraggle"], ["Byte-Range", range]];
  await peer.send(request("sg1xyz", BOB, ALICE, "abcd", h("1-*/4"), "+")); // complete by its total
  await peer.send(request("sg2xyz", BOB, ALICE, "", h("5-4/4"), "$")); // an empty trailing chunk
  assert.deepEqual(kinds(await peer.fence()), ["200", "200"]);
  const m = (await bob.nextMessage())!;
  assert.equal(await m.text(), "abcd");
  bob.close();
  assert.equal(await bob.nextMessage(), undefined, "no ghost message was queued");
  conn.close();
});

Deno.test("a body streams out in order as its chunks arrive", async () => {
  const { bob, conn, peer } = rawToSession();
  const h = (
    range: string,
  ): [string, string][] => [["Message-ID", "msgStream01"], ["Byte-Range", range]];
  await peer.send(request("st1xyz", BOB, ALICE, "abcd", h("1-4/12"), "+"));
  const m = (await bob.nextMessage())!;
  const reader = m.stream().getReader();
  assert.equal(dec((await reader.read()).value!), "abcd");
  await peer.send(request("st3xyz", BOB, ALICE, "ijkl", h("9-12/12"), "$")); // a gap: held back
  await peer.send(request("st2xyz", BOB, ALICE, "EFGH", h("5-8/12"), "+"));
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += dec(value);
  }
  assert.equal(rest, "EFGHijkl");
  bob.close();
  conn.close();
});

Deno.test("bytes held ahead of a gap do not stop reading: the gap can still arrive", async () => {
  // A stream reader that has taken everything contiguous, and more than its
  // high-water mark waiting out of order: the connection must read on.
  const { bob, conn, peer } = rawToSession({ incoming: { streamHighWaterMark: 1000 } });
  const h = (
    range: string,
  ): [string, string][] => [["Message-ID", "msgGapped1"], ["Byte-Range", range]];
  await peer.send(request("gp1xyz", BOB, ALICE, "a".repeat(100), h("1-100/2300"), "+"));
  const m = (await bob.nextMessage())!;
  const reader = m.stream().getReader();
  assert.equal((await reader.read()).value!.length, 100);
  await peer.send(request("gp3xyz", BOB, ALICE, "c".repeat(2100), h("201-2300/2300"), "$"));
  await peer.send(request("gp2xyz", BOB, ALICE, "b".repeat(100), h("101-200/2300"), "+"));
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += dec(value);
  }
  assert.equal(rest, "b".repeat(100) + "c".repeat(2100));
  assert.deepEqual(kinds(await peer.fence()), ["200", "200", "200"]);
  bob.close();
  conn.close();
});

Deno.test("more out-of-order data than the buffer limit ends the message with 413", async () => {
  const { bob, conn, peer } = rawToSession({
    incoming: { streamHighWaterMark: 1000, bufferLimit: 1500 },
  });
  const h = (
    range: string,
  ): [string, string][] => [["Message-ID", "msgGapped2"], ["Byte-Range", range]];
  await peer.send(request("go1xyz", BOB, ALICE, "a".repeat(100), h("1-100/2300"), "+"));
  const m = (await bob.nextMessage())!;
  m.stream();
  await peer.send(request("go3xyz", BOB, ALICE, "c".repeat(2100), h("201-2300/2300"), "$"));
  assert.deepEqual(kinds(await peer.fence()), ["200", "413"]);
  assert.equal(await m.done, "incomplete");
  bob.close();
  conn.close();
});

// ---- the application refusing a message (§7.1.4, §10.5) ----

Deno.test("rejecting between chunks sends a failure REPORT with the actual Byte-Range; later chunks get 413", async () => {
  const { bob, conn, peer } = rawToSession();
  const h = (
    range: string,
  ): [string, string][] => [["Message-ID", "msgReject1"], ["Byte-Range", range]];
  await peer.send(request("rj1xyz", BOB, ALICE, "abcdef", h("1-*/100"), "+")); // 6 octets of a "*" range
  const m = (await bob.nextMessage())!;
  assert.deepEqual(kinds(await peer.fence()), ["200"]);
  m.reject(413, "Too big for me");
  assert.equal(await m.done, "incomplete");
  const report = await peer.next();
  assert.equal(report.kind, "request");
  const r = report as MsrpRequest;
  assert.equal(r.method, "REPORT");
  assert.deepEqual([...r.headers], [
    ["To-Path", ALICE],
    ["From-Path", BOB],
    ["Message-ID", "msgReject1"],
    ["Byte-Range", "1-6/100"],
    ["Status", "000 413 Too big for me"],
  ]);
  await peer.send(request("rj2xyz", BOB, ALICE, "ghij", h("7-*/100"), "+"));
  assert.deepEqual(kinds(await peer.fence()), ["413"]);
  bob.close();
  conn.close();
});

Deno.test("rejecting while a chunk arrives answers that chunk with the error", async () => {
  const { bob, conn, peer } = rawToSession();
  const piece = new Uint8Array(70_000).fill(0x61);
  const first = request("rj3xyz", BOB, ALICE, piece, [["Message-ID", "msgReject2"], [
    "Byte-Range",
    "1-*/*",
  ]], "open");
  await peer.send(first);
  const m = (await bob.nextMessage())!;
  m.reject();
  const r = await peer.next();
  assert.equal(r.kind === "response" && r.status, 413);
  await peer.send({ ...first, body: new Uint8Array(0), offset: 70_000, flag: "#" });
  assert.deepEqual(kinds(await peer.fence()), [], "nothing more for the refused chunk");
  bob.close();
  conn.close();
});

Deno.test("a reader cancelling its stream refuses the message", async () => {
  const { bob, conn, peer } = rawToSession();
  const h = (
    range: string,
  ): [string, string][] => [["Message-ID", "msgReject3"], ["Byte-Range", range]];
  await peer.send(request("rj4xyz", BOB, ALICE, "abc", h("1-*/9"), "+"));
  const m = (await bob.nextMessage())!;
  await m.stream().cancel();
  assert.deepEqual(kinds(await peer.fence()), [
    "200",
    "REPORT 000 413 the receiver stopped reading 1-3/9",
  ]);
  bob.close();
  conn.close();
});

Deno.test("no failure REPORT when Failure-Report is no", async () => {
  const { bob, conn, peer } = rawToSession();
  await peer.send(
    request("rj5xyz", BOB, ALICE, "abc", [["Message-ID", "msgReject4"], ["Byte-Range", "1-*/9"], [
      "Failure-Report",
      "no",
    ]], "+"),
  );
  const m = (await bob.nextMessage())!;
  m.reject();
  assert.deepEqual(kinds(await peer.fence()), []);
  bob.close();
  conn.close();
});

// ---- status codes ----

Deno.test("400 for a SEND without Message-ID, a bad Byte-Range, or a body without Content-Type", async () => {
  const { bob, conn, peer } = rawToSession();
  await peer.send(request("b400a", BOB, ALICE, "x", [["Byte-Range", "1-1/1"]]));
  await peer.send(
    request("b400b", BOB, ALICE, "x", [["Message-ID", "msg400b01"], ["Byte-Range", "0-1/1"]]),
  );
  // Raw bytes: the encoder refuses to write a body without Content-Type (§7.1).
  await peer.raw(
    `MSRP b400c SEND\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ALICE}\r\nMessage-ID: msg400c01\r\n` +
      `\r\nx\r\n-------b400c$\r\n`,
  );
  const seen = await peer.fence();
  assert.deepEqual(seen.map((f) => f.kind === "response" ? [f.tid, f.status] : f.kind), [
    ["b400a", 400],
    ["b400b", 400],
    ["b400c", 400],
  ]);
  bob.close();
  conn.close();
});

Deno.test("400 for a malformed frame, then the connection goes on", async () => {
  const { bob, conn, peer } = rawToSession();
  await peer.raw(
    `MSRP bad1x SEND\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ALICE}\r\nno colon here\r\n-------bad1x$\r\n`,
  );
  const seen = await peer.fence();
  assert.equal(seen.length, 1);
  assert.equal(seen[0].kind === "response" && seen[0].status, 400);
  bob.close();
  conn.close();
});

Deno.test("413 when Byte-Range says the message is over max-size", async () => {
  const { bob, conn, peer } = rawToSession({ maxSize: 10 });
  await peer.send(
    request("big1x", BOB, ALICE, "x", [["Message-ID", "msg413a01"], ["Byte-Range", "1-1/11"]], "+"),
  );
  const [r] = await peer.fence();
  assert.equal(r.kind === "response" && r.status, 413);
  bob.close();
  conn.close();
});

Deno.test("413 in the middle of a chunk that grows past max-size", async () => {
  // Pieces over the decoder's 64 KiB segment reach the session before the chunk ends.
  const { bob, conn, peer } = rawToSession({ maxSize: 100_000 });
  const piece = new Uint8Array(70_000).fill(0x78);
  const first = request("grow1", BOB, ALICE, piece, [["Message-ID", "msg413b01"], [
    "Byte-Range",
    "1-*/*",
  ]], "open");
  await peer.send(first);
  const m = (await bob.nextMessage())!;
  await peer.send({ ...first, offset: 70_000 });
  const r = await peer.next(); // answered before the chunk even ended
  assert.equal(r.kind === "response" && r.status, 413);
  await peer.send({ ...first, body: new Uint8Array(0), offset: 140_000, flag: "#" });
  assert.equal(await m.done, "incomplete");
  assert.deepEqual(kinds(await peer.fence()), [], "no 200 for the rest of the refused chunk");
  bob.close();
  conn.close();
});

Deno.test("multipart/mixed and multipart/alternative are always accepted (§7.3.1)", async () => {
  const { bob, conn, peer } = rawToSession({ acceptTypes: ["text/plain"] });
  for (
    const [i, type] of ["multipart/mixed; boundary=x", "multipart/alternative; boundary=y"]
      .entries()
  ) {
    await peer.send(
      request(`mp${i}xyz`, BOB, ALICE, "--x--", [["Message-ID", `msgMulti0${i}`], [
        "Content-Type",
        type,
      ]]),
    );
  }
  assert.deepEqual(kinds(await peer.fence()), ["200", "200"]);
  bob.close();
  conn.close();
});

Deno.test("the same Content-Type chunk after chunk, then another, then a malformed one: each judged on its own", async () => {
  const { bob, conn, peer } = rawToSession({ acceptTypes: ["text/plain"] });
  const types = ["text/plain", "text/plain", "image/gif", "image/gif", "text/", "text/plain"];
  for (const [i, type] of types.entries()) {
    await peer.send(
      request(`ct${i}xyz`, BOB, ALICE, "x", [["Message-ID", `msgType0${i}`], [
        "Content-Type",
        type,
      ]]),
    );
  }
  assert.deepEqual(kinds(await peer.fence()), ["200", "200", "415", "415", "400", "200"]);
  bob.close();
  conn.close();
});

Deno.test("accept-types wildcards", async () => {
  const { bob, conn, peer } = rawToSession({ acceptTypes: ["text/*", "image/png"] });
  const types = ["text/html", "image/png", "image/jpeg", "TEXT/PLAIN"];
  for (const [i, type] of types.entries()) {
    await peer.send(
      request(`wc${i}xyz`, BOB, ALICE, "x", [["Message-ID", `msgWild0${i}`], [
        "Content-Type",
        type,
      ]]),
    );
  }
  assert.deepEqual(kinds(await peer.fence()), ["200", "200", "415", "200"]);
  bob.close();
  conn.close();
});

Deno.test("481 for a To-Path naming no session, or holding two URIs", async () => {
  const { bob, conn, peer } = rawToSession();
  await peer.send(
    request("n481a", "msrp://bob.example.com:8888/noSuchSess;tcp", ALICE, "x", [[
      "Message-ID",
      "msg481a01",
    ]]),
  );
  await peer.send(request("n481b", `${BOB} ${BOB}`, ALICE, "x", [["Message-ID", "msg481b01"]]));
  const seen = await peer.fence();
  assert.deepEqual(seen.map((f) => f.kind === "response" ? [f.tid, f.status] : f.kind), [[
    "n481a",
    481,
  ], ["n481b", 481]]);
  // §7.3: "the To-Path ... exactly one URI": the response goes to the first From-Path URI.
  const r = seen[0] as Extract<DecodedFrame, { kind: "response" }>;
  assert.equal(r.headers.get("To-Path"), ALICE);
  bob.close();
  conn.close();
});

Deno.test("481 is not sent when Failure-Report is no", async () => {
  const { bob, conn, peer } = rawToSession();
  await peer.send(
    request("n481c", "msrp://bob.example.com:8888/noSuchSess;tcp", ALICE, "x", [[
      "Message-ID",
      "msg481c01",
    ], ["Failure-Report", "no"]]),
  );
  assert.deepEqual(await peer.fence(), []);
  bob.close();
  conn.close();
});

Deno.test("506 for a session already bound to another connection", async () => {
  const directory = new SessionDirectory();
  const bob = new MsrpSession({ localUri: BOB, remotePath: [ALICE] });
  directory.add(bob);
  const [a1, b1] = memoryPipe();
  const [a2, b2] = memoryPipe();
  const c1 = new MsrpConnection(b1, { directory });
  const c2 = new MsrpConnection(b2, { directory });
  const p1 = new RawPeer(a1);
  const p2 = new RawPeer(a2);
  assert.deepEqual(await p1.fence(), []); // binds Bob to connection 1
  assert.equal(bob.connection, c1);
  await p2.send(request("b506x", BOB, ALICE, "x", [["Message-ID", "msg506a01"]]));
  const r = await p2.next();
  assert.equal(r.kind === "response" && r.status, 506);
  bob.close();
  c1.close();
  c2.close();
});

Deno.test("403 for a From-Path that does not end in the session's peer", async () => {
  const { bob, conn, peer } = rawToSession();
  await peer.send(
    request("f403a", BOB, "msrp://mallory.example.com:6666/evil;tcp", "x", [[
      "Message-ID",
      "msg403a01",
    ]]),
  );
  const r = await peer.next();
  assert.equal(r.kind === "response" && r.status, 403);
  assert.equal(bob.connection, undefined, "a refused request does not bind the session");
  assert.deepEqual(await peer.fence(), []);
  bob.close();
  conn.close();
});

Deno.test("501 for an unknown method; no response to a REPORT", async () => {
  const { bob, conn, peer } = rawToSession();
  await peer.fence();
  await peer.send(request("m501a", BOB, ALICE, null, [], "$", "NOTIFY"));
  await peer.send(
    request(
      "rep1a",
      BOB,
      ALICE,
      null,
      [["Message-ID", "unknownMsg1"], ["Status", "000 200 OK"]],
      "$",
      "REPORT",
    ),
  );
  const seen = await peer.fence();
  assert.deepEqual(seen.map((f) => f.kind === "response" ? [f.tid, f.status] : f.kind), [[
    "m501a",
    501,
  ]]);
  // §7.2: a response to a non-SEND goes along the whole From-Path.
  bob.close();
  conn.close();
});

Deno.test("the peer vanishing mid-message leaves it incomplete with what arrived", async () => {
  const { bob, conn, peer } = rawToSession();
  const body = new Uint8Array(100_000).fill(0x61);
  const first = request("van1x", BOB, ALICE, body, [["Message-ID", "msgVanish1"], [
    "Byte-Range",
    "1-*/300000",
  ]], "open");
  await peer.send(first);
  const m = (await bob.nextMessage())!;
  peer.transport.close();
  assert.equal(await m.done, "incomplete");
  await assert.rejects(
    m.bytes(),
    (e: unknown) => e instanceof IncompleteMessageError && e.received.length === 100_000,
  );
  assert.ok((await bob.closed).error, "the session ends with the connection");
  await conn.closed;
});

Deno.test("a peer gone inside a short chunk still leaves the bytes that came", async () => {
  const { bob, conn, peer } = rawToSession();
  const first = request("van2x", BOB, ALICE, "0123456789", [["Message-ID", "msgVanish2"], [
    "Byte-Range",
    "1-*/100",
  ]], "open");
  await peer.send(first);
  peer.transport.close(); // the decoder hands out the held bytes at the end of the stream
  const m = (await bob.nextMessage())!;
  assert.equal(await m.done, "incomplete");
  await assert.rejects(
    m.bytes(),
    (e: unknown) => e instanceof IncompleteMessageError && dec(e.received) === "0123456789",
  );
  await conn.closed;
});

/** A frame as the text the encoder writes for it. */
function wire(frame: DecodedFrame): string {
  const parts: Uint8Array[] = [];
  new FrameWriter().write(frame as Frame, (b) => parts.push(b));
  return parts.map((p) => new TextDecoder().decode(p)).join("");
}

Deno.test("issue 9: a 400 wherever the request can be addressed, and nothing where not", async () => {
  const { bob, conn, peer } = rawToSession();
  await peer.fence(); // binds Bob to this connection
  // A bad line before From-Path: the header section is still read, so the 400 finds its way.
  await peer.raw(
    `MSRP bad1x SEND\r\nTo-Path: ${BOB}\r\nno colon here\r\nFrom-Path: ${ALICE}\r\n-------bad1x$\r\n`,
  );
  // No To-Path: answered from the session's URI on this connection.
  await peer.raw(`MSRP bad2x SEND\r\nFrom-Path: ${ALICE}\r\n-------bad2x$\r\n`);
  // No From-Path: there is nowhere to send an answer (§7.2).
  await peer.raw(`MSRP bad3x SEND\r\nTo-Path: ${BOB}\r\n-------bad3x$\r\n`);
  // A bad line and then a body: the 400, and the body is skipped.
  await peer.raw(
    `MSRP bad4x SEND\r\nTo-Path: ${BOB}\r\nX-Bad: \x01\r\nFrom-Path: ${ALICE}\r\n` +
      `Content-Type: text/plain\r\n\r\nMSRP not a frame\r\n-------bad4x$\r\n`,
  );
  const seen = await peer.fence();
  assert.deepEqual(seen.map(wire), [
    `MSRP bad1x 400 header field is not \`name: value\` (§9) (in transaction bad1x at byte 242)\r\n` +
    `To-Path: ${ALICE}\r\nFrom-Path: ${BOB}\r\n-------bad1x$\r\n`,
    `MSRP bad2x 400 a request must have To-Path and From-Path (§7.1) (in transaction bad2x at byte 405)\r\n` +
    `To-Path: ${ALICE}\r\nFrom-Path: ${BOB}\r\n-------bad2x$\r\n`,
    `MSRP bad4x 400 header field value has a control character or bad UTF-8 (§9 utf8text) (in transaction bad4x at byte 577)\r\n` +
    `To-Path: ${ALICE}\r\nFrom-Path: ${BOB}\r\n-------bad4x$\r\n`,
  ]);
  // Lost framing (another transaction's end-line): the 400 goes out, then the connection closes.
  await peer.raw(`MSRP bad5x SEND\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ALICE}\r\n-------other$\r\n`);
  const last = await peer.next();
  assert.equal(last.kind === "response" && [last.tid, last.status].join(" "), "bad5x 400");
  assert.equal(await peer.ended(), true);
  assert.ok((await conn.closed).error !== undefined);
  bob.close();
});
