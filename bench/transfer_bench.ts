// Session throughput: 256 MB from one MSRP session to another over loopback
// TCP, beside a raw Deno TCP copy of the same bytes in the same run.
//
//   deno bench -A bench/transfer_bench.ts
//
// The MSRP side does everything a real transfer does: chunking with
// Byte-Range, the §7.1 check that no body holds its end-line, a 200 per
// chunk (Failure-Report yes), the end-line search on the receiving side,
// and the receiver reading the body as a stream. Both peers run in this one
// process, so they share one JavaScript thread; the raw copy does too.

import { MsrpConnection, MsrpSession } from "../mod.ts";
import { type ConnectionOptions, SessionDirectory } from "../lib/session/mod.ts";
import { connectTcp, listenTcp } from "../lib/transport/tcp.ts";
import type { MsrpTransport } from "../lib/transport/types.ts";

const SIZE = 256 * 1024 * 1024;
// The same 256 MB for both: random bytes, made once.
const BODY = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i += 65536) crypto.getRandomValues(BODY.subarray(i, i + 65536));

async function tcpPair(): Promise<[MsrpTransport, MsrpTransport, () => void]> {
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener[Symbol.asyncIterator]().next();
  const client = await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = (await accepted).value as MsrpTransport;
  return [client, server, () => listener.close()];
}

/** The same bytes through a plain Deno TCP connection: write them, read them. */
async function rawTcp(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepting = listener.accept();
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  const server = await accepting;
  const t0 = performance.now();
  const reading = (async () => {
    let n = 0;
    for await (const b of server.readable) n += b.length;
    return n;
  })();
  const writer = client.writable.getWriter();
  await writer.write(BODY);
  await writer.close();
  const n = await reading;
  const ms = performance.now() - t0;
  listener.close();
  if (n !== SIZE) throw new Error(`raw copy moved ${n} bytes`);
  return ms;
}

/** Alice sends SIZE octets to Bob; Bob reads the message as a stream. */
async function msrp(
  chunking: { maxChunkSize?: number } = {},
  options: ConnectionOptions = {},
): Promise<number> {
  const [a, b, stop] = await tcpPair();
  const directory = new SessionDirectory();
  const aUri = "msrp://127.0.0.1:7777/benchAlice00;tcp";
  const bUri = "msrp://127.0.0.1:8888/benchBob00000;tcp";
  const alice = new MsrpSession({ localUri: aUri, remotePath: [bUri], chunking });
  const bob = new MsrpSession({ localUri: bUri, remotePath: [aUri] });
  directory.add(bob);
  const ca = new MsrpConnection(a, options);
  const cb = new MsrpConnection(b, { directory });
  ca.attach(alice);
  alice.sendBindRequest();
  await alice.ready;
  const t0 = performance.now();
  const reading = (async () => {
    const m = (await bob.nextMessage())!;
    let n = 0;
    for await (const chunk of m.stream()) n += chunk.length;
    return n;
  })();
  const result = await alice.send(BODY, { contentType: "application/octet-stream" });
  const n = await reading;
  const ms = performance.now() - t0;
  if (n !== SIZE || result.bytesConfirmed !== SIZE) throw new Error("transfer incomplete");
  alice.close();
  bob.close();
  ca.close();
  cb.close();
  stop();
  return ms;
}

Deno.bench(
  "raw Deno TCP copy, 256 MB",
  { group: "transfer", baseline: true, n: 3, warmup: 1 },
  async () => {
    await rawTcp();
  },
);
Deno.bench("MSRP session to session, 256 MB", { group: "transfer", n: 3, warmup: 1 }, async () => {
  await msrp();
});

// ---- the receiver in a worker of its own (as a peer in another process) ----

const worker = new Worker(new URL("./_transfer_worker.ts", import.meta.url), { type: "module" });
const inbox: { port?: number; received?: number }[] = [];
let wakeInbox: (() => void) | undefined;
worker.onmessage = (e) => {
  inbox.push(e.data);
  wakeInbox?.();
};
async function fromWorker(): Promise<{ port?: number; received?: number }> {
  while (inbox.length === 0) await new Promise<void>((r) => (wakeInbox = r));
  return inbox.shift()!;
}

/** The raw copy, receiver in the worker. */
async function rawTcpWorker(): Promise<number> {
  worker.postMessage({ mode: "raw" });
  const { port } = await fromWorker();
  const client = await Deno.connect({ hostname: "127.0.0.1", port: port! });
  const t0 = performance.now();
  const writer = client.writable.getWriter();
  await writer.write(BODY);
  await writer.close();
  const { received } = await fromWorker();
  if (received !== SIZE) throw new Error(`raw copy moved ${received} bytes`);
  return performance.now() - t0;
}

/** MSRP, receiving session in the worker. */
async function msrpWorker(
  chunking: { maxChunkSize?: number } = {},
  options: ConnectionOptions = {},
): Promise<number> {
  worker.postMessage({ mode: "msrp" });
  const { port } = await fromWorker();
  const transport = await connectTcp({ hostname: "127.0.0.1", port: port! });
  const alice = new MsrpSession({
    localUri: "msrp://127.0.0.1:7777/benchAliceWork;tcp",
    remotePath: ["msrp://127.0.0.1:8888/benchBobWorker;tcp"],
    chunking,
  });
  const connection = new MsrpConnection(transport, options);
  connection.attach(alice);
  alice.sendBindRequest();
  await alice.ready;
  const t0 = performance.now();
  const result = await alice.send(BODY, { contentType: "application/octet-stream" });
  const { received } = await fromWorker();
  const ms = performance.now() - t0;
  if (received !== SIZE || result.bytesConfirmed !== SIZE) throw new Error("transfer incomplete");
  await connection.shutdown();
  alice.close();
  return ms;
}

// MB/s of each, best of ROUNDS (default 3; `deno run -A bench/transfer_bench.ts 5`), and the ratio.
const ROUNDS = Math.max(1, Math.min(20, Number(Deno.args[0] ?? 3) || 3));
const mbps = (ms: number) => SIZE / 1e6 / (ms / 1000);
let raw = Infinity;
let direct = Infinity;
let relaySized = Infinity;
let relaySizedNoWindow = Infinity;
// The send window off: as many octets in flight as the sockets take (what it costs).
const noWindow: ConnectionOptions = { sendWindow: Infinity, sendWindowMs: 0 };
for (let i = 0; i < ROUNDS; i++) {
  raw = Math.min(raw, await rawTcp());
  direct = Math.min(direct, await msrp());
  relaySized = Math.min(relaySized, await msrp({ maxChunkSize: 8 * 1024 }));
  relaySizedNoWindow = Math.min(
    relaySizedNoWindow,
    await msrp({ maxChunkSize: 8 * 1024 }, noWindow),
  );
}
console.log(`\n256 MB over loopback TCP (best of ${ROUNDS})`);
console.log(
  `  raw Deno TCP copy                          ${mbps(raw).toFixed(0).padStart(6)} MB/s`,
);
console.log(
  `  MSRP, 1 MiB chunks (direct default)        ${mbps(direct).toFixed(0).padStart(6)} MB/s  ${
    (100 * raw / direct).toFixed(0)
  }% of raw`,
);
console.log(
  `  MSRP, 8 KiB chunks (relay-safe default)    ${mbps(relaySized).toFixed(0).padStart(6)} MB/s  ${
    (100 * raw / relaySized).toFixed(0)
  }% of raw`,
);
console.log(
  `  ... 8 KiB chunks, no send window            ${
    mbps(relaySizedNoWindow).toFixed(0).padStart(6)
  } MB/s  ${(100 * raw / relaySizedNoWindow).toFixed(0)}% of raw`,
);
let rawW = Infinity;
let directW = Infinity;
let smallW = Infinity;
let directNoWindow = Infinity;
let smallNoWindow = Infinity;
for (let i = 0; i < ROUNDS; i++) {
  rawW = Math.min(rawW, await rawTcpWorker());
  directW = Math.min(directW, await msrpWorker());
  directNoWindow = Math.min(directNoWindow, await msrpWorker({}, noWindow));
  smallW = Math.min(smallW, await msrpWorker({ maxChunkSize: 8 * 1024 }));
  smallNoWindow = Math.min(smallNoWindow, await msrpWorker({ maxChunkSize: 8 * 1024 }, noWindow));
}
console.log(
  `\n256 MB over loopback TCP, receiver in its own worker thread (best of ${ROUNDS})`,
);
console.log(
  `  raw Deno TCP copy                          ${mbps(rawW).toFixed(0).padStart(6)} MB/s`,
);
console.log(
  `  MSRP, 1 MiB chunks (direct default)        ${mbps(directW).toFixed(0).padStart(6)} MB/s  ${
    (100 * rawW / directW).toFixed(0)
  }% of raw`,
);
console.log(
  `  MSRP, 8 KiB chunks (relay-safe default)    ${mbps(smallW).toFixed(0).padStart(6)} MB/s  ${
    (100 * rawW / smallW).toFixed(0)
  }% of raw`,
);
console.log(
  `  ... 1 MiB chunks, no send window            ${
    mbps(directNoWindow).toFixed(0).padStart(6)
  } MB/s  ${(100 * rawW / directNoWindow).toFixed(0)}% of raw`,
);
console.log(
  `  ... 8 KiB chunks, no send window            ${
    mbps(smallNoWindow).toFixed(0).padStart(6)
  } MB/s  ${(100 * rawW / smallNoWindow).toFixed(0)}% of raw\n`,
);
worker.terminate();
