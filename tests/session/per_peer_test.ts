// One URI served to several peers over one connection, one session each
// (RFC 4975 §5.4, §7.3; RFC 4976 §6.4: the peer is the last From-Path URI).
// Through a relay every peer arrives on the one relay connection, and two
// new peers' first SENDs may come in one read: each must get a session of
// its own, not the 403 of the session the other one bound.

import assert from "node:assert/strict";
import { MsrpConnection, MsrpSession, MsrpUri } from "../../mod.ts";
import { SessionDirectory } from "../../lib/session/mod.ts";
import { memoryPipe } from "../../lib/transport/memory.ts";
import { encodeFrame } from "../../lib/wire/encoder.ts";
import type { DecodedFrame } from "../../lib/wire/mod.ts";
import { BOB, RawPeer, request } from "./_harness.ts";

const RELAY = "msrp://relay.example.com:2855/r1;tcp";
const PEER_A = "msrp://a.example.com:7777/peerA0001;tcp";
const PEER_B = "msrp://b.example.com:7777/peerB0001;tcp";

/** Both binding SENDs (from two peers, through a relay) in one write: the connection reads them at once. */
async function twoFirstSends(peer: RawPeer): Promise<void> {
  const bytes = [
    encodeFrame(request("bindA001", BOB, `${RELAY} ${PEER_A}`, null, [["Message-ID", "bindMsgA"]])),
    encodeFrame(request("bindB001", BOB, `${RELAY} ${PEER_B}`, null, [["Message-ID", "bindMsgB"]])),
  ];
  const one = new Uint8Array(bytes[0].length + bytes[1].length);
  one.set(bytes[0]);
  one.set(bytes[1], bytes[0].length);
  await peer.raw(one);
}

/** The responses to `tids`, by transaction id. */
async function statuses(peer: RawPeer, tids: string[]): Promise<Map<string, number>> {
  const got = new Map<string, number>();
  while (got.size < tids.length) {
    const f: DecodedFrame = await peer.next();
    if (f.kind === "response" && tids.includes(f.tid)) got.set(f.tid, f.status);
  }
  return got;
}

Deno.test("a URI served per peer: two peers' first SENDs in one read each get a session of their own", async () => {
  const [a, b] = memoryPipe();
  const directory = new SessionDirectory();
  const made: MsrpSession[] = [];
  directory.servePerPeer(MsrpUri.parse(BOB), () => {
    const session = new MsrpSession({ localUri: BOB });
    made.push(session);
    return session;
  });
  const conn = new MsrpConnection(b, { directory });
  const peer = new RawPeer(a);

  await twoFirstSends(peer);
  assert.deepEqual(
    await statuses(peer, ["bindA001", "bindB001"]),
    new Map([["bindA001", 200], ["bindB001", 200]]),
  );
  assert.equal(made.length, 2);
  const [sa, sb] = made;
  assert.equal(sa.remotePath.map(String).join(" "), `${RELAY} ${PEER_A}`);
  assert.equal(sb.remotePath.map(String).join(" "), `${RELAY} ${PEER_B}`);

  // Each peer's messages reach its own session; a known peer gets no new one.
  await peer.send(
    request("msgB0001", BOB, `${RELAY} ${PEER_B}`, "from B", [["Message-ID", "msgB0001"]]),
    request("msgA0001", BOB, `${RELAY} ${PEER_A}`, "from A", [["Message-ID", "msgA0001"]]),
  );
  assert.equal(await (await sb.nextMessage())!.text(), "from B");
  assert.equal(await (await sa.nextMessage())!.text(), "from A");
  assert.equal(made.length, 2);
  assert.equal(conn.sessions.length, 2);

  // Stopped: a new peer is not the peer of the sessions here (403); they go on.
  directory.stopServing(MsrpUri.parse(BOB));
  const PEER_C = "msrp://c.example.com:7777/peerC0001;tcp";
  await peer.send(
    request("bindC001", BOB, `${RELAY} ${PEER_C}`, null, [["Message-ID", "bindMsgC"]]),
  );
  await peer.send(
    request("msgA0002", BOB, `${RELAY} ${PEER_A}`, "again", [["Message-ID", "msgA0002"]]),
  );
  assert.deepEqual(
    await statuses(peer, ["bindC001", "msgA0002"]),
    new Map([["bindC001", 403], ["msgA0002", 200]]),
  );
  assert.equal(await (await sa.nextMessage())!.text(), "again");
  conn.close();
  await conn.closed;
});

Deno.test("a URI not served per peer: a second peer in the same read is not the session's peer (403)", async () => {
  const [a, b] = memoryPipe();
  const directory = new SessionDirectory();
  const waiting = new MsrpSession({ localUri: BOB });
  directory.add(waiting);
  const conn = new MsrpConnection(b, { directory });
  const peer = new RawPeer(a);
  await twoFirstSends(peer);
  assert.deepEqual(
    await statuses(peer, ["bindA001", "bindB001"]),
    new Map([["bindA001", 200], ["bindB001", 403]]),
  );
  assert.equal(waiting.remotePath.map(String).join(" "), `${RELAY} ${PEER_A}`);
  conn.close();
  await conn.closed;
});

Deno.test("a URI served per peer: only a SEND makes a session, and a factory's refusal is a 481", async () => {
  const [a, b] = memoryPipe();
  const directory = new SessionDirectory();
  let asked = 0;
  directory.servePerPeer(MsrpUri.parse(BOB), () => {
    asked++;
    return undefined;
  });
  const conn = new MsrpConnection(b, { directory });
  const peer = new RawPeer(a);
  await peer.send(
    request(
      "rep00001",
      BOB,
      PEER_A,
      null,
      [["Message-ID", "report01"], ["Status", "000 200 OK"]],
      "$",
      "REPORT",
    ),
    request("bindA001", BOB, PEER_A, null, [["Message-ID", "bindMsgA"]]),
  );
  // A REPORT is never answered (§7.1.2): the SEND's 481 is the first frame back.
  const f = await peer.next();
  assert.ok(f.kind === "response" && f.tid === "bindA001" && f.status === 481);
  assert.equal(asked, 1);
  conn.close();
  await conn.closed;
});
