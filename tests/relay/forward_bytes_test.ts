// A whole SEND forwarded by the relay, written straight into its bytes
// (forward_bytes.ts), is byte for byte what the general encoder writes for
// the same frame (RFC 4976 §6.4; RFC 4975 §7.1), and the general path is
// left to frames the fast one does not take.

import assert from "node:assert/strict";
import { forwardedSendBytes } from "../../lib/relay/forward_bytes.ts";
import { forwardedHeaders } from "../../lib/relay/forwarding.ts";
import { FrameParser } from "../../lib/wire/decoder.ts";
import { encodeFrame } from "../../lib/wire/encoder.ts";
import type { DecodedFrame, MsrpRequest } from "../../lib/wire/frame.ts";
import { parseUri } from "../../lib/wire/uri.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function decode(text: string): MsrpRequest {
  const frames: DecodedFrame[] = [];
  new FrameParser().push(enc.encode(text), (f) => frames.push(f));
  assert.equal(frames.length, 1);
  assert.equal(frames[0].kind, "request");
  return frames[0] as MsrpRequest;
}

const RELAY_A = parseUri("msrp://relay.example.com:2855/sidA;tcp");
const RELAY_B = parseUri("msrp://relay.example.com:2855/sidB;tcp");
const BOB = parseUri("msrp://bob.example.com:8888/9di4ea;tcp");
const ALICE = parseUri("msrp://alice.example.com:7777/iau39;tcp");

function send(body: string, fields = "Message-ID: m3ss4ge\r\nByte-Range: 1-*/*\r\n", flag = "$") {
  return decode(
    `MSRP t1d SEND\r\nTo-Path: ${RELAY_A} ${RELAY_B} ${BOB}\r\nFrom-Path: ${ALICE}\r\n` +
      `${fields}Content-Type: text/plain\r\n\r\n${body}\r\n-------t1d${flag}\r\n`,
  );
}

Deno.test("a forwarded whole SEND is what the general encoder writes, also when the paths change", () => {
  const target = {};
  const cases: [MsrpRequest, typeof BOB[], typeof BOB[]][] = [
    [send("hello"), [BOB], [RELAY_B, RELAY_A, ALICE]],
    [send("again", "Message-ID: m2\r\nByte-Range: 1-5/10\r\nX-Ext: a b\r\n", "+"), [BOB], [
      RELAY_B,
      RELAY_A,
      ALICE,
    ]],
    [send("other path"), [RELAY_B, BOB], [RELAY_A, ALICE]],
    [send(""), [BOB], [RELAY_B, RELAY_A, ALICE]],
  ];
  for (const [req, to, from] of cases) {
    const tid = "n3wTransactionId";
    const general = encodeFrame({ ...req, tid, headers: forwardedHeaders(req.headers, to, from) });
    const fast = forwardedSendBytes(target, req, tid, to, from);
    assert.ok(fast !== undefined);
    assert.equal(dec.decode(fast), dec.decode(general));
  }
});

Deno.test("a forwarded SEND whose body holds seven dashes, or whose fields are not in wire order or not ASCII, takes the general path", () => {
  const to = [BOB];
  const from = [RELAY_B, RELAY_A, ALICE];
  assert.equal(forwardedSendBytes({}, send("a -------t1d$ b"), "n3w1", to, from), undefined);
  assert.equal(
    forwardedSendBytes({}, send("x", "Message-ID: m1\r\nSubject: caf\u00e9\r\n"), "n3w1", to, from),
    undefined,
  );
  const reordered = decode(
    `MSRP t1d SEND\r\nFrom-Path: ${ALICE}\r\nTo-Path: ${RELAY_A} ${BOB}\r\nMessage-ID: m1\r\n` +
      `Content-Type: text/plain\r\n\r\nx\r\n-------t1d$\r\n`,
  );
  assert.equal(forwardedSendBytes({}, reordered, "n3w1", to, from), undefined);
  // Six dashes are fine, seven anywhere are not (at the start, at the end, across a 7-byte stride).
  assert.ok(forwardedSendBytes({}, send("a ------ b"), "n3w1", to, from) !== undefined);
  assert.ok(forwardedSendBytes({}, send("------x------"), "n3w1", to, from) !== undefined);
  for (const body of ["-------", "-------abc", "abcdefghi-------", "abcd-------xyz", "ab-------"]) {
    assert.equal(forwardedSendBytes({}, send(body), "n3w1", to, from), undefined, body);
  }
});
