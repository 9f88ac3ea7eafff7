// Session throughput: one MSRP session sends a body to another over loopback
// TCP, the receiving session in a worker of its own (its own thread, as a peer
// in another process), beside a raw Deno TCP copy of the same bytes to the
// same worker, measured the same way in the same round.
//
//   deno run -A bench/transfer_bench.ts [--mb 256] [--rounds 5]
//   deno bench -A bench/transfer_bench.ts   (the same, with the defaults)
//
// The MSRP side does everything a real transfer does: chunking with
// Byte-Range, the §7.1 check that no body holds its end-line, a 200 per chunk
// (Failure-Report yes), the end-line search on the receiving side, and the
// receiver reading the body as a stream. Each round runs raw TCP, MSRP with
// 1 MiB chunks (the direct default) and MSRP with 8 KiB chunks (the default
// through relays), one after the other; the report gives the median MB/s of
// each and the median of each round's ratio to that round's raw copy, so a
// busy machine (2 shared cores) moves all three together. The CPU time each
// transfer costs (both threads, from /proc on Linux) is printed too.

import { parseArgs } from "node:util";
import { MsrpConnection, MsrpSession } from "../mod.ts";
import { connectTcp } from "../lib/transport/tcp.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: { mb: { type: "string", default: "256" }, rounds: { type: "string", default: "5" } },
});
const SIZE = Math.max(1, Number(args.mb)) * 1024 * 1024;
const ROUNDS = Math.min(50, Math.max(1, Number(args.rounds)));
// The same bytes for every transfer: random, made once.
const BODY = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i += 65536) crypto.getRandomValues(BODY.subarray(i, i + 65536));

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

/** The raw copy: write the bytes to a plain Deno TCP connection the worker reads. */
async function rawTcp(): Promise<number> {
  worker.postMessage({ mode: "raw" });
  const { port } = await fromWorker();
  const client = await Deno.connect({ hostname: "127.0.0.1", port: port! });
  client.setNoDelay(true);
  const t0 = performance.now();
  const writer = client.writable.getWriter();
  await writer.write(BODY);
  await writer.close();
  const { received } = await fromWorker();
  const ms = performance.now() - t0;
  if (received !== SIZE) throw new Error(`raw copy moved ${received} bytes`);
  return ms;
}

/** MSRP: Alice here sends the bytes; Bob in the worker reads them as a stream. */
async function msrp(maxChunkSize: number): Promise<number> {
  worker.postMessage({ mode: "msrp" });
  const { port } = await fromWorker();
  const transport = await connectTcp({ hostname: "127.0.0.1", port: port! });
  const alice = new MsrpSession({
    localUri: "msrp://127.0.0.1:7777/benchAliceWork;tcp",
    remotePath: ["msrp://127.0.0.1:8888/benchBobWorker;tcp"],
    chunking: { maxChunkSize },
  });
  const connection = new MsrpConnection(transport);
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

/**
 * CPU time of this process (both threads) in ms, from /proc (Linux; else
 * NaN): beside wall-clock rates, which a busy shared machine scatters, the
 * work each transfer costs.
 */
function cpuMs(): number {
  try {
    const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, in 1/100 s
  } catch {
    return NaN;
  }
}

/** Runs a transfer; returns its wall-clock MB/s and the CPU ms it cost per 100 MiB. */
async function measured(transfer: () => Promise<number>): Promise<[number, number]> {
  const c0 = cpuMs();
  const ms = await transfer();
  return [mbps(ms), (cpuMs() - c0) * (100 * 1024 * 1024) / SIZE];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mbps = (ms: number) => SIZE / 1e6 / (ms / 1000);

async function run(): Promise<void> {
  const load = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  const loadBefore = load();
  // One warm-up of each, not counted.
  await rawTcp();
  await msrp(1024 * 1024);
  await msrp(8 * 1024);
  const raw: number[] = [];
  const rows = { big: [] as number[], small: [] as number[] };
  const ratios = { big: [] as number[], small: [] as number[] };
  const cpu = { raw: [] as number[], big: [] as number[], small: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    const [r, cr] = await measured(rawTcp);
    const [big, cb] = await measured(() => msrp(1024 * 1024));
    const [small, cs] = await measured(() => msrp(8 * 1024));
    raw.push(r);
    rows.big.push(big);
    rows.small.push(small);
    ratios.big.push(big / r);
    ratios.small.push(small / r);
    cpu.raw.push(cr);
    cpu.big.push(cb);
    cpu.small.push(cs);
  }
  const pct = (xs: number[]) =>
    `${(100 * median(xs)).toFixed(0)}% (${(100 * Math.min(...xs)).toFixed(0)}-${
      (100 * Math.max(...xs)).toFixed(0)
    }%)`;
  const line = (name: string, xs: number[], c: number[], r?: number[]) =>
    console.log(
      `  ${name.padEnd(38)} ${median(xs).toFixed(0).padStart(5)} MB/s  ${
        (r ? pct(r) : "100%").padEnd(16)
      } ${median(c).toFixed(0).padStart(5)} CPU ms/100 MiB`,
    );
  console.log(
    `\n${
      SIZE / 1024 / 1024
    } MiB over loopback TCP, receiver in its own worker, median of ${ROUNDS}` +
      ` rounds (load ${loadBefore} before, ${load()} after)`,
  );
  line("raw Deno TCP copy", raw, cpu.raw);
  line("MSRP, 1 MiB chunks (direct default)", rows.big, cpu.big, ratios.big);
  line("MSRP, 8 KiB chunks (through relays)", rows.small, cpu.small, ratios.small);
}

try {
  await run();
} finally {
  worker.terminate();
}
