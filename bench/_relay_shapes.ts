/**
 * Issue 10's load shapes, run against this relay and Kamailio's `msrp`
 * module in the same run (RFC 4976 §6.4: each SEND is answered hop by hop
 * and forwarded), with the ratios printed. Part of `relay_bench.ts`; alone:
 *
 *   deno run -A bench/_relay_shapes.ts
 *
 * The shapes, each on plain TCP through one relay, path
 * `relay/sidA relay/sidB B` (both clients AUTH to the same relay, §5.1):
 *
 * - 1 pair and 50 pairs of clients sending 100-byte messages, at most
 *   `WINDOW` sends in flight per pair; throughput in messages per second,
 *   and the 99th percentile of the time from `send()` to arrival at B;
 * - 1 pair and 4 pairs sending 1 MB messages in 8 KiB chunks (under
 *   Kamailio's frame limit of about 11 KB), one message at a time per
 *   pair; throughput in MB/s.
 *
 * Every pair is two endpoints of their own (two connections and two AUTHs),
 * so that Kamailio can spread connections over its TCP workers as deployed.
 * B checks every message byte for byte. The load generator (this process,
 * one JavaScript thread) is the same for both relays, so the ratios compare
 * the relays even where the generator is the limit.
 *
 * Each run gets a fresh relay (this relay: `spawnRelay`, its own process;
 * Kamailio: `tcp_children=2`), binds the sessions, reads the relay's idle
 * memory, runs a warm-up of a tenth of the load, then the load, sampling the
 * relay's memory every `SAMPLE_MS` (peak), and reads it again after.
 * Memory is RSS summed over the relay's processes (Kamailio has several,
 * which share memory, so its RSS sum counts shared pages more than once)
 * and PSS (shared pages divided among the processes that map them). Runs
 * are interleaved (this relay, Kamailio, this relay...) and each figure is
 * the median of `RUNS`. A run that does not finish within `RUN_LIMIT_MS`
 * is stopped and shown as failed.
 *
 * @module
 */

import { MsrpEndpoint, type MsrpSession } from "../mod.ts";
import { findKamailio } from "../tests/interop/kamailio_harness.ts";
import {
  type BenchRelay,
  negotiate,
  type ResidentMemory,
  spawnKamailio,
  spawnRelay,
  USERS,
} from "./_relay_setup.ts";

/** Runs of each shape per relay; figures are medians. */
const RUNS = 3;
/** Sends in flight per pair in the message shapes. */
const WINDOW = 32;
/** Messages per run of a message shape, shared out among the pairs. */
const MESSAGES = 10_000;
/** 1 MB messages per run of a bulk shape, shared out among the pairs. */
const BULK_MESSAGES = 32;
const MB = 1_000_000;
const CHUNK = 8 * 1024;
const MESSAGE = "x".repeat(100);
const SAMPLE_MS = 100;
const RUN_LIMIT_MS = 20_000;

/** One load shape. */
export interface Shape {
  readonly name: string;
  readonly pairs: number;
  readonly kind: "messages" | "bulk";
}

/** Issue 10's shapes. */
export const SHAPES: readonly Shape[] = [
  { name: "1 pair, 100-byte messages", pairs: 1, kind: "messages" },
  { name: "50 pairs, 100-byte messages", pairs: 50, kind: "messages" },
  { name: "1 pair, 1 MB messages in 8 KiB chunks", pairs: 1, kind: "bulk" },
  { name: "4 pairs, 1 MB messages in 8 KiB chunks", pairs: 4, kind: "bulk" },
];

/** What one run measured. */
interface Run {
  /** msg/s (messages) or MB/s (bulk). */
  rate?: number;
  /** 99th percentile latency, ms (messages). */
  p99?: number;
  idle?: ResidentMemory;
  peak?: ResidentMemory;
  after?: ResidentMemory;
  error?: string;
}

const BULK = new Uint8Array(MB);
for (let i = 0; i < MB; i += 65536) crypto.getRandomValues(BULK.subarray(i, i + 65536));

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Pairs {
  readonly sessions: (readonly [MsrpSession, MsrpSession])[];
  close(): Promise<void>;
}

/** `n` pairs, each two endpoints of its own through `relay` over TCP, one session bound. */
async function makePairs(relay: BenchRelay, n: number): Promise<Pairs> {
  const endpoints: MsrpEndpoint[] = [];
  const close = async () => void await Promise.all(endpoints.map((e) => e.close()));
  try {
    const start = async (username: string) => {
      const e = await MsrpEndpoint.start({
        relays: [{ uri: relay.tcpUri, username, password: USERS[username] }],
      });
      endpoints.push(e);
      return e;
    };
    const sessions = await Promise.all(Array.from({ length: n }, async () => {
      const [ea, eb] = [await start("alice"), await start("bob")];
      const a = ea.createSession({ chunking: { maxChunkSize: CHUNK } });
      const b = eb.createSession();
      await negotiate(ea, a, eb, b);
      return [a, b] as const;
    }));
    return { sessions, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** `count` 100-byte messages from a to b, WINDOW in flight; latencies pushed to `latencies`. */
async function messageLoad(a: MsrpSession, b: MsrpSession, count: number, latencies: number[]) {
  const sentAt: number[] = [];
  const receiving = (async () => {
    for (let i = 0; i < count; i++) {
      const m = await b.nextMessage();
      if (m === undefined) throw new Error("the session ended before every message came");
      if ((await m.text()) !== MESSAGE) throw new Error("a message came altered");
      latencies.push(performance.now() - sentAt[i]);
    }
  })();
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const sends: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    while (inFlight >= WINDOW) await new Promise<void>((r) => wake = r);
    inFlight++;
    sentAt[i] = performance.now();
    sends.push(
      a.send(MESSAGE).then((r) => {
        if (r.status !== 200) throw new Error(`send got ${r.status}`);
      }).finally(() => {
        inFlight--;
        wake?.();
        wake = undefined;
      }),
    );
  }
  await Promise.all([...sends, receiving]);
}

/** `count` 1 MB messages from a to b, one at a time, each checked at b. */
async function bulkLoad(a: MsrpSession, b: MsrpSession, count: number) {
  const receiving = (async () => {
    for (let i = 0; i < count; i++) {
      const m = await b.nextMessage();
      if (m === undefined) throw new Error("the session ended before every message came");
      if (!sameBytes(await m.bytes(), BULK)) throw new Error("a message came altered");
    }
  })();
  for (let i = 0; i < count; i++) {
    const r = await a.send(BULK, { contentType: "application/octet-stream" });
    if (r.status !== 200) throw new Error(`send got ${r.status}`);
  }
  await receiving;
}

/** Runs one load over all pairs; milliseconds and latencies. */
async function load(shape: Shape, pairs: Pairs, fraction: number) {
  const total = shape.kind === "messages" ? MESSAGES : BULK_MESSAGES;
  const each = Math.max(1, Math.round(total * fraction / shape.pairs));
  const latencies: number[] = [];
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const [a, b] of pairs.sessions) a.close(), b.close();
      reject(new Error(`not done within ${RUN_LIMIT_MS} ms`));
    }, RUN_LIMIT_MS);
  });
  try {
    await Promise.race([
      limit,
      Promise.all(
        pairs.sessions.map(([a, b]) =>
          shape.kind === "messages" ? messageLoad(a, b, each, latencies) : bulkLoad(a, b, each)
        ),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return { ms: performance.now() - t0, units: each * shape.pairs, latencies };
}

function maxOf(a: ResidentMemory, b: ResidentMemory): ResidentMemory {
  return { rss: Math.max(a.rss, b.rss), pss: Math.max(a.pss, b.pss) };
}

/** One run of `shape` against a fresh relay made by `start`. */
async function runShape(shape: Shape, start: () => Promise<BenchRelay>): Promise<Run> {
  const run: Run = {};
  const relay = await start();
  let pairs: Pairs | undefined;
  let sampling: ReturnType<typeof setInterval> | undefined;
  try {
    pairs = await makePairs(relay, shape.pairs);
    run.idle = await relay.resident();
    let peak = run.idle;
    let reading = false;
    sampling = setInterval(async () => {
      if (reading) return;
      reading = true;
      peak = maxOf(peak, await relay.resident());
      reading = false;
    }, SAMPLE_MS);
    await load(shape, pairs, 0.1); // warm-up
    const { ms, units, latencies } = await load(shape, pairs, 1);
    clearInterval(sampling);
    sampling = undefined;
    run.after = await relay.resident();
    run.peak = maxOf(peak, run.after);
    run.rate = shape.kind === "messages" ? units / (ms / 1000) : units * MB / 1e6 / (ms / 1000);
    if (latencies.length > 0) {
      latencies.sort((x, y) => x - y);
      run.p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))];
    }
  } catch (error) {
    run.error = (error as Error).message;
  } finally {
    if (sampling !== undefined) clearInterval(sampling);
    await pairs?.close();
    await relay.close();
  }
  return run;
}

/** The 1-minute load average (Linux), or "?". */
async function loadAverage(): Promise<string> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ")[0];
  } catch {
    return "?";
  }
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

/** Medians of a shape's runs against one relay. */
interface Summary {
  rate?: number;
  p99?: number;
  idle?: ResidentMemory;
  peak?: ResidentMemory;
  after?: ResidentMemory;
  failed: string[];
}

function summarize(runs: Run[]): Summary {
  const ok = runs.filter((r) => r.error === undefined);
  const med = (f: (r: Run) => number | undefined) =>
    median(ok.map(f).filter((v): v is number => v !== undefined));
  const mem = (f: (r: Run) => ResidentMemory | undefined) => {
    const rss = med((r) => f(r)?.rss);
    const pss = med((r) => f(r)?.pss);
    return rss === undefined || pss === undefined ? undefined : { rss, pss };
  };
  return {
    rate: med((r) => r.rate),
    p99: med((r) => r.p99),
    idle: mem((r) => r.idle),
    peak: mem((r) => r.peak),
    after: mem((r) => r.after),
    failed: runs.filter((r) => r.error !== undefined).map((r) => r.error!),
  };
}

/**
 * Runs every shape against this relay and, when installed, Kamailio, and
 * prints the medians and the ratios.
 */
export async function compareWithKamailio(): Promise<void> {
  const found = await findKamailio();
  const kamailio = typeof found === "string" ? undefined : found;
  const relays: [string, () => Promise<BenchRelay>][] = [["this relay", () => spawnRelay()]];
  if (kamailio !== undefined) {
    relays.push([`Kamailio ${kamailio.version}`, () => spawnKamailio(kamailio)]);
  }
  const loadBefore = await loadAverage();
  const runs = new Map<string, Run[]>();
  for (let i = 0; i < RUNS; i++) {
    for (const shape of SHAPES) {
      for (const [name, start] of relays) {
        const key = `${shape.name}|${name}`;
        runs.set(key, [...(runs.get(key) ?? []), await runShape(shape, start)]);
      }
    }
  }

  const mb = (n: number | undefined) => n === undefined ? "-" : (n / 1e6).toFixed(0);
  const ratio = (x: number | undefined, y: number | undefined) =>
    x === undefined || y === undefined || y === 0 ? "-" : (x / y).toFixed(2);
  console.log(
    `\nIssue 10's shapes: plain TCP, path relay/sidA relay/sidB B, fresh relay per run, ` +
      `runs interleaved, median of ${RUNS}`,
  );
  if (kamailio === undefined) console.log(`  (Kamailio not measured: ${found})`);
  // Other processes on the machine take CPU from the relays, and more from
  // a relay of one process than from one of several; the load shows it.
  console.log(`  (1-minute load average: ${loadBefore} before, ${await loadAverage()} after)`);
  console.log(
    `  ${"shape".padEnd(40)} ${"relay".padEnd(16)} ${"rate".padStart(14)} ${"p99 ms".padStart(7)} ${
      "idle RSS/PSS MB".padStart(16)
    } ${"peak RSS/PSS MB".padStart(16)} ${"after RSS/PSS MB".padStart(17)}`,
  );
  for (const shape of SHAPES) {
    const unit = shape.kind === "messages" ? "msg/s" : "MB/s";
    const summaries = relays.map(([name]) =>
      [name, summarize(runs.get(`${shape.name}|${name}`)!)] as const
    );
    for (const [name, s] of summaries) {
      const rate = s.rate === undefined ? "-" : `${s.rate.toFixed(0)} ${unit}`;
      const pair = (m: ResidentMemory | undefined) =>
        m === undefined ? "-" : `${mb(m.rss)}/${mb(m.pss)}`;
      const failed = s.failed.length > 0
        ? `  FAILED in ${s.failed.length} of ${RUNS} runs: ${s.failed[0]}`
        : "";
      console.log(
        `  ${shape.name.padEnd(40)} ${name.padEnd(16)} ${rate.padStart(14)} ${
          (s.p99 === undefined ? "-" : s.p99.toFixed(0)).padStart(7)
        } ${pair(s.idle).padStart(16)} ${pair(s.peak).padStart(16)} ${
          pair(s.after).padStart(17)
        }${failed}`,
      );
    }
    if (summaries.length === 2) {
      const [[, ours], [, kam]] = summaries;
      console.log(
        `  ${"".padEnd(40)} ${"ratio".padEnd(16)} ${ratio(ours.rate, kam.rate).padStart(14)} ${
          ratio(ours.p99, kam.p99).padStart(7)
        } ${ratio(ours.idle?.pss, kam.idle?.pss).padStart(16)} ${
          ratio(ours.peak?.pss, kam.peak?.pss).padStart(16)
        } ${ratio(ours.after?.pss, kam.after?.pss).padStart(17)}`,
      );
    }
  }
  console.log(
    "  (ratio: this relay / Kamailio; rate higher is better, p99 and memory lower is better;" +
      " memory ratios by PSS. Targets: rate >= 1.5x with 50 pairs of messages, >= 2x with" +
      " 1 MB messages; peak <= 1.5x the relay's own idle)",
  );
}

if (import.meta.main) await compareWithKamailio();
