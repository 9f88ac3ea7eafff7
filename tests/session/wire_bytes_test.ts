// The bytes a connection writes, pinned: over a transport that gathers
// writes (TCP, TLS) a frame may reach the transport as several writes (head,
// body, end-line) instead of one buffer; what goes on the wire must be the
// same bytes, frame for frame, as `encodeFrame` gives (RFC 4975 §7.1, §9).

import assert from "node:assert/strict";
import { MsrpConnection, MsrpSession } from "../../mod.ts";
import { SessionDirectory } from "../../lib/session/mod.ts";
import { memoryPipe } from "../../lib/transport/memory.ts";
import type { MsrpTransport } from "../../lib/transport/types.ts";
import { concatBytes } from "../../lib/wire/bytes.ts";
import type { Frame } from "../../lib/wire/frame.ts";
import { encodeFrame } from "../../lib/wire/mod.ts";
import { ALICE, BOB, randomBytes } from "./_harness.ts";

/** `inner` with the given `gathersWrites`, recording every chunk written to it. */
function recording(
  inner: MsrpTransport,
  gathersWrites: boolean,
): { transport: MsrpTransport; writes: Uint8Array[] } {
  const writes: Uint8Array[] = [];
  const w = inner.writable.getWriter();
  const writable = new WritableStream<Uint8Array>({
    write(b) {
      writes.push(b.slice());
      return w.write(b);
    },
    close: () => w.close(),
    abort: (r) => w.abort(r),
  });
  const transport: MsrpTransport = {
    readable: inner.readable,
    writable,
    kind: inner.kind,
    secure: false,
    gathersWrites,
    close: () => inner.close(),
  };
  return { transport, writes };
}

for (const gathersWrites of [false, true]) {
  Deno.test(`wire bytes: chunks of every size around the coalescing limits are encodeFrame's bytes (gathersWrites ${gathersWrites})`, async () => {
    const [a, b] = memoryPipe();
    const { transport, writes } = recording(a, gathersWrites);
    const directory = new SessionDirectory();
    const alice = new MsrpSession({
      localUri: ALICE,
      remotePath: [BOB],
      chunking: { maxChunkSize: 8192 },
    });
    const bob = new MsrpSession({ localUri: BOB, remotePath: [ALICE] });
    directory.add(bob);
    const aliceConn = new MsrpConnection(transport);
    const bobConn = new MsrpConnection(b, { directory });
    aliceConn.attach(alice);
    const frames: Frame[] = [];
    aliceConn.scheduler.onwrite = (f) => void frames.push(f);
    alice.sendBindRequest();
    await alice.ready;
    // Bodies at and around 2048 (the gathered coalescing limit) and 16384
    // (the default one), and a message cut into 8 KiB chunks.
    const bodies = [0, 1, 100, 2047, 2048, 2049, 8192, 16383, 16384, 16385, 20000].map((n) =>
      randomBytes(n)
    );
    const received: Uint8Array[] = [];
    const reading = (async () => {
      for (let i = 0; i < bodies.length; i++) {
        const m = (await bob.nextMessage())!;
        received.push(await m.bytes());
      }
    })();
    for (const body of bodies) await alice.send(body);
    await reading;
    assert.deepEqual(received, bodies);
    // Every piece here is a whole chunk (8 KiB chunks, 256 KiB pieces).
    assert.ok(frames.every((f) => f.flag !== undefined));
    assert.deepEqual(concatBytes(writes), concatBytes(frames.map((f) => encodeFrame(f))));
    if (gathersWrites) {
      // A body over 2048 octets reaches the transport as a write of its own, uncopied.
      assert.ok(writes.some((w) => w.length === 2049));
    } else {
      assert.ok(!writes.some((w) => w.length === 2049));
    }
    alice.close();
    bob.close();
    aliceConn.close();
    bobConn.close();
    await aliceConn.closed;
    await bobConn.closed;
  });
}

Deno.test("wire bytes: every chunk of a message carries the same fields but its Byte-Range, in order", async () => {
  const [a, b] = memoryPipe();
  const { transport, writes } = recording(a, true);
  const directory = new SessionDirectory();
  const alice = new MsrpSession({
    localUri: ALICE,
    remotePath: [BOB],
    chunking: { maxChunkSize: 4096 },
  });
  const bob = new MsrpSession({ localUri: BOB, remotePath: [ALICE] });
  directory.add(bob);
  const aliceConn = new MsrpConnection(transport);
  const bobConn = new MsrpConnection(b, { directory });
  aliceConn.attach(alice);
  alice.sendBindRequest();
  await alice.ready;
  writes.length = 0;
  const body = randomBytes(10000);
  const reading = bob.nextMessage().then((m) => m!.bytes());
  await alice.send(body, {
    messageId: "msgId0000001",
    contentType: "application/octet-stream",
    failureReport: "partial",
    headers: [["Content-Disposition", "attachment; filename=x.bin"]],
  });
  assert.deepEqual(await reading, body);
  const wire = new TextDecoder("latin1").decode(concatBytes(writes));
  const heads = [...wire.matchAll(/MSRP (\w+) SEND\r\n([\s\S]*?)\r\n\r\n/g)];
  assert.deepEqual(
    heads.map((m) => m[2]),
    // The last 1808 octets go as a non-interruptible chunk (§7.1.1).
    ["1-*/10000", "4097-*/10000", "8193-10000/10000"].map((range) =>
      [
        `To-Path: ${BOB}`,
        `From-Path: ${ALICE}`,
        "Message-ID: msgId0000001",
        `Byte-Range: ${range}`,
        "Failure-Report: partial",
        "Content-Disposition: attachment; filename=x.bin",
        "Content-Type: application/octet-stream",
      ].join("\r\n")
    ),
  );
  // Three chunks, each its own transaction id.
  assert.equal(new Set(heads.map((m) => m[1])).size, 3);
  alice.close();
  bob.close();
  aliceConn.close();
  bobConn.close();
  await aliceConn.closed;
  await bobConn.closed;
});
