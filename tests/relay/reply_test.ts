// The relay's 200 to a SEND, written straight into its bytes (reply.ts), is
// byte for byte what the general encoder writes for the same response
// (RFC 4975 §7.2; RFC 4976 §3, §6.4.1).

import assert from "node:assert/strict";
import { Conn } from "../../lib/relay/connection.ts";
import { systemClock } from "../../lib/session/clock.ts";
import { TimerQueue } from "../../lib/session/timer_queue.ts";
import { relayResponse } from "../../lib/relay/forwarding.ts";
import { sendOkBytes } from "../../lib/relay/reply.ts";
import { encodeFrame } from "../../lib/wire/encoder.ts";
import { parseUri } from "../../lib/wire/uri.ts";

const decoder = new TextDecoder();

Deno.test("a relay's 200 to a SEND is what the general encoder writes, also when the path changes", () => {
  const c = new Conn(1, false, undefined, 0, new TimerQueue(systemClock), 30_000);
  const ours = parseUri("msrp://relay.example.com:2855/s1d;tcp");
  const paths = [
    parseUri("msrp://alice.example.com:7777/iau39;tcp"),
    parseUri("msrps://bob.example.net:8888/9di4ea;tcp"),
  ];
  for (const [i, prev] of [paths[0], paths[0], paths[1], paths[0]].entries()) {
    const tid = `tid${i}x`;
    const general = encodeFrame(relayResponse({
      tid,
      method: "SEND",
      status: 200,
      fromPath: [prev, ours],
      ourUri: ours,
      headers: [["Message-ID", "m3ss4ge"]],
    }));
    const fast = sendOkBytes(c, tid, prev, ours, "m3ss4ge");
    assert.ok(fast !== undefined);
    assert.equal(decoder.decode(fast), decoder.decode(general));
  }
});

Deno.test("a relay's 200 to a SEND falls back to the general encoder for ids that are not plain ASCII", () => {
  const c = new Conn(1, false, undefined, 0, new TimerQueue(systemClock), 30_000);
  const uri = parseUri("msrp://relay.example.com:2855/s1d;tcp");
  assert.equal(sendOkBytes(c, "tid\u00e9", uri, uri, "m3ss4ge"), undefined);
});
