// Seeing what a relay does (RFC 4976 §6.4): its `trace` option shows each
// frame in and out with the connection it used, and its log names every
// request it forwards or refuses, with the reason. And a client asking for
// an Expires out of the relay's bounds gets a grant within them (§6.3).

import assert from "node:assert/strict";
import { authenticate as clientAuthenticate } from "../../lib/endpoint/relay_client.ts";
import type { LogLevel } from "../../lib/log.ts";
import { MsrpConnection } from "../../lib/session/connection.ts";
import { MsrpUri } from "../../lib/wire/uri.ts";
import { ack, authenticate, memoryPair, memoryRelay, request, until } from "./relay_harness.ts";

const RELAY = "msrps://relay.example.com:9000;tcp";
const ALICE = "msrps://alice.example.com:7000/a1;tcp";
const BOB = "msrps://bob.example.com:7000/b1;tcp";

Deno.test("relay: the trace shows each frame in and out by connection; the log names what was forwarded and what was refused", async () => {
  const frames: { message: string; level: LogLevel; data: Record<string, unknown> }[] = [];
  const { relay, log, connect } = memoryRelay({ host: "relay.example.com" }, {
    trace: (level, message, data) => void frames.push({ level, message, data: data ?? {} }),
  });
  const alice = connect();
  const bob = connect();
  try {
    await authenticate(alice, { to: RELAY, from: ALICE });
    const bobPath = (await authenticate(bob, {
      to: RELAY,
      from: BOB,
      username: "bob",
      password: "hunter2",
    })).usePath;
    await alice.send(request("SEND", "send0001", [
      ["To-Path", `${bobPath} ${BOB}`],
      ["From-Path", ALICE],
      ["Message-ID", "m0001"],
      ["Byte-Range", "1-5/5"],
      ["Content-Type", "text/plain"],
    ], "hello"));
    assert.equal((await alice.response()).status, 200);
    const forwarded = await bob.request();
    await ack(bob, forwarded);

    const ins = frames.filter((f) => f.message === "frame in" && f.data.method === "SEND");
    const outs = frames.filter((f) => f.message === "frame out" && f.data.method === "SEND");
    assert.equal(ins.length, 1);
    assert.equal(outs.length, 1);
    assert.equal(ins[0].level, "debug");
    assert.equal(ins[0].data.tid, "send0001");
    assert.equal(outs[0].data.tid, forwarded.tid);
    assert.notEqual(ins[0].data.connection, outs[0].data.connection);
    assert.match(
      String(ins[0].data.frame),
      /^MSRP send0001 SEND\n[^]*\nMessage-ID: m0001\n[^]*\n\n\[5 bytes: "hello"\]\n-------send0001\$$/,
    );
    assert.match(String(outs[0].data.frame), new RegExp(`\\n-------${forwarded.tid}\\$$`));
    const fw = log.find((e) => e.event === "forwarded");
    assert.ok(fw, JSON.stringify(log));
    assert.equal(fw.level, "debug");
    assert.equal(
      fw.message,
      `SEND send0001 to ${BOB} on conn=${outs[0].data.connection} as ${forwarded.tid}`,
    );

    // A SEND whose To-Path ends at the relay: no session ends there (481), and the log says so.
    await alice.send(request("SEND", "send0002", [
      ["To-Path", RELAY],
      ["From-Path", ALICE],
      ["Message-ID", "m0002"],
      ["Byte-Range", "1-1/1"],
      ["Content-Type", "text/plain"],
    ], "x"));
    assert.equal((await alice.response()).status, 481);
    await until(() => log.some((e) => e.event === "forward-refused"));
    const refused = log.find((e) => e.event === "forward-refused")!;
    assert.equal(refused.message, "SEND send0002: To-Path ends at the relay (481)");
  } finally {
    await relay.close();
  }
});

Deno.test("client AUTH: an Expires out of bounds gets a 423, then a grant within them (§6.3)", async () => {
  const { relay } = memoryRelay({
    host: "relay.example.com",
    expires: { min: 60, max: 3600, default: 600 },
  });
  const [mine, theirs] = memoryPair();
  relay.accept(theirs);
  const connection = new MsrpConnection(mine);
  try {
    const account = { uri: RELAY, username: "alice", password: "secret" };
    const from = MsrpUri.parse(ALICE);
    // Asking too much, then too little: each time the 423 says what the relay accepts, and the
    // retry answers the same challenge with the next nonce count (RFC 7616 §3.4), not a replay.
    const high = await clientAuthenticate(connection, [MsrpUri.parse(RELAY)], from, account, {
      expires: 99999,
    });
    assert.equal(high.expires, 3600);
    const low = await clientAuthenticate(connection, [MsrpUri.parse(RELAY)], from, account, {
      expires: 5,
    });
    assert.equal(low.expires, 60);
  } finally {
    connection.close();
    await relay.close();
  }
});
