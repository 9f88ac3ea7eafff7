/// <reference lib="deno.worker" />
// The receiving side of bench/transfer_bench.ts, in its own worker (its own
// thread, like a peer in another process). It stays up across rounds so
// its code is as warm as the sender's. Messages: {mode: "raw" | "msrp"} ->
// {port}; then, when the transfer is done, {received}.

import { MsrpConnection, MsrpSession } from "../mod.ts";
import { SessionDirectory } from "../lib/session/mod.ts";
import { listenTcp } from "../lib/transport/tcp.ts";

const BOB = "msrp://127.0.0.1:8888/benchBobWorker;tcp";
const ALICE = "msrp://127.0.0.1:7777/benchAliceWork;tcp";

self.onmessage = async (e: MessageEvent<{ mode: "raw" | "msrp" }>) => {
  if (e.data.mode === "raw") {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    self.postMessage({ port: (listener.addr as Deno.NetAddr).port });
    const conn = await listener.accept();
    let n = 0;
    for await (const b of conn.readable) n += b.length;
    listener.close();
    self.postMessage({ received: n });
    return;
  }
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  self.postMessage({ port: listener.addr.port });
  const transport = await listener.accept();
  listener.close();
  const directory = new SessionDirectory();
  const bob = new MsrpSession({ localUri: BOB, remotePath: [ALICE] });
  directory.add(bob);
  const conn = new MsrpConnection(transport, { directory });
  const message = (await bob.nextMessage())!;
  let n = 0;
  for await (const b of message.stream()) n += b.length;
  self.postMessage({ received: n });
  await conn.closed;
  bob.close();
};
