// Bounds on what a peer can make a connection and a session hold (issue 8,
// defects 6-8): bytes held per message, incomplete messages that expire,
// and a decoder that cannot be made to skip or swallow blank lines forever.

import assert from "node:assert/strict";
import {
  type FrameDecoderOptions,
  FrameError,
  MsrpConnection,
  MsrpSession,
  SessionDirectory,
} from "../../mod.ts";
import type { LogLevel } from "../../lib/log.ts";
import { connectTcp, listenTcp } from "../../lib/transport/tcp.ts";
import type { MsrpTransport } from "../../lib/transport/types.ts";
import { ALICE, BOB, RawPeer } from "./_harness.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** A passive Bob behind a real TCP connection on loopback, and a raw peer on the other end. */
async function tcpToSession(decoder: FrameDecoderOptions | undefined) {
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client: MsrpTransport = await connectTcp(listener.addr);
  const server = await accepted;
  listener.close();
  const directory = new SessionDirectory();
  const bob = new MsrpSession({ localUri: BOB, remotePath: [ALICE] });
  directory.add(bob);
  const log: [LogLevel, string][] = [];
  const conn = new MsrpConnection(server, {
    directory,
    decoder,
    logger: (level, message) => log.push([level, message]),
  });
  return { bob, conn, peer: new RawPeer(client), client, log };
}

/** Writes `piece` up to `times` times, stopping once the other side has closed. */
async function writeUntilClosed(peer: RawPeer, piece: Uint8Array, times: number): Promise<number> {
  let written = 0;
  for (let i = 0; i < times; i++) {
    try {
      await peer.raw(piece);
    } catch {
      break; // the connection was closed under us: what the test waits for
    }
    written += piece.length;
  }
  return written;
}

Deno.test("over TCP: a bad frame whose end-line never comes closes the connection at maxSkip, with a log line", async () => {
  const { bob, conn, peer, client, log } = await tcpToSession({ maxSkip: 1024 * 1024 });
  await peer.raw(
    `MSRP bad1x SEND\r\nTo-Path: ${BOB}\r\nFrom-Path: ${ALICE}\r\nno colon here\r\n\r\n`,
  );
  const first = await peer.next();
  assert.equal(first.kind === "response" && first.status, 400);
  // Far more than the limit, in bounded count: the server closes part way.
  await writeUntilClosed(peer, new Uint8Array(64 * 1024).fill(0x7a), 64);
  await peer.finish().catch(() => {}); // without a limit, only the end of the stream stops it
  const end = await conn.closed;
  assert.ok(end.error instanceof FrameError);
  assert.equal(end.error.code, "skip-limit");
  assert.equal(end.error.fatal, true);
  assert.ok(
    log.some(([level, m]) =>
      level === "warn" && m.includes("no end-line for transaction bad1x within 1048576 octets")
    ),
    JSON.stringify(log),
  );
  assert.equal(await peer.ended(), true, "the server closed its side");
  bob.close();
  client.close();
});

Deno.test("over TCP: blank lines between frames close the connection past 16384 octets", async () => {
  const { conn, peer, client, log } = await tcpToSession(undefined);
  // 8192 CRLFs are tolerated: a frame after them is answered.
  await peer.raw("\r\n".repeat(8192));
  assert.deepEqual(await peer.fence(), []);
  await writeUntilClosed(peer, enc("\r\n".repeat(4096)), 64);
  await peer.finish().catch(() => {});
  const end = await conn.closed;
  assert.ok(end.error instanceof FrameError);
  assert.equal(end.error.code, "blank-limit");
  assert.ok(log.some(([level, m]) => level === "warn" && m.includes("blank lines between frames")));
  assert.equal(await peer.ended(), true);
  client.close();
});
