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
 * - 1 pair and 50 pairs of clients sending 100-byte messages; throughput
 *   in messages per second, and the 99th percentile of the time from
 *   sending a message to its arrival at B;
 * - 1 pair and 4 pairs sending 1 MB messages in 8 KiB chunks (under
 *   Kamailio's frame limit of about 11 KB); throughput in MB/s.
 *
 * At most `WINDOW` chunks are in flight per pair. Every pair is two clients
 * of their own (two connections and two AUTHs), so that Kamailio can spread
 * connections over its TCP workers as deployed. B checks every byte. The
 * load generator is `_loadgen.ts`: raw sockets, pre-encoded frames and a
 * minimal scanner, in two Worker threads, so that it costs the shared
 * cores far less than either relay (the library's own endpoints, used
 * before, were the limit), and it is the same for both relays.
 *
 * Options: `--runs=N`, `--shapes=0,2` (indexes into {@linkcode SHAPES}),
 * `--ours-only`, `--baseline=DIR` (also the relay of the checkout in DIR,
 * interleaved with the others), `--v8-variant=FLAGS` (also this relay with
 * other V8 flags, comma-separated; `none` for V8's defaults), `--cpu-prof=DIR` (a V8 CPU profile of each of this relay's
 * runs, see `bench/_profile_summary.ts`), `--no-release-variant` (also this relay
 * without its memory release when quiet).
 *
 * Each run gets a fresh relay (this relay: `spawnRelay`, its own process;
 * Kamailio: `tcp_children=2`), binds the sessions, reads the relay's idle
 * memory, runs a warm-up of a tenth of the load, then the load, sampling the
 * relay's memory every `SAMPLE_MS` (peak), and reads it again after, and
 * once more `QUIET_WAIT_MS` later with the clients still connected but
 * silent ("quiet"; this relay gives memory back once quiet for
 * `RELEASE_MEMORY_QUIET_MS`, as `msrp relay` does by default; the option
 * `--no-release-variant` also runs it without, interleaved).
 * Memory is RSS summed over the relay's processes (Kamailio has several,
 * which share memory, so its RSS sum counts shared pages more than once)
 * and PSS (shared pages divided among the processes that map them). Runs
 * are interleaved (this relay, Kamailio, this relay...) and each figure is
 * the median of `RUNS`. A run that does not finish within `RUN_LIMIT_MS`
 * is stopped and shown as failed.
 *
 * @module
 */

import { findKamailio } from "../tests/interop/kamailio_harness.ts";
import { LoadGenerator, type LoadRun } from "./_loadgen.ts";
import {
  type BenchRelay,
  type ResidentMemory,
  spawnKamailio,
  spawnRelay,
  USERS,
} from "./_relay_setup.ts";
import { RELEASE_MEMORY_QUIET_MS } from "../lib/relay/server.ts";

const OPTIONS = Object.fromEntries(
  Deno.args.filter((a) => a.startsWith("--")).map((a) => {
    const i = a.indexOf("=");
    return i < 0 ? [a.slice(2), "true"] : [a.slice(2, i), a.slice(i + 1)];
  }),
);
/** Runs of each shape per relay; figures are medians. */
const RUNS = Number(OPTIONS.runs ?? 3);
/** Chunks in flight per pair (sent, not yet both answered and at B). */
const WINDOW = 32;
/** Messages per run of a message shape, shared out among the pairs. */
const MESSAGES = 30_000;
/** 1 MB messages per run of a bulk shape, shared out among the pairs. */
const BULK_MESSAGES = 64;
const MB = 1_000_000;
const CHUNK = 8 * 1024;
const MESSAGE_SIZE = 100;
const SAMPLE_MS = 100;
const RUN_LIMIT_MS = 20_000;
/** From the end of the load to the "quiet" reading: the relay's quiet period and 2 s. */
const QUIET_WAIT_MS = RELEASE_MEMORY_QUIET_MS + 2_000;

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
  /** The relay's CPU time per message (messages) or per 8 KiB chunk (bulk), µs. */
  cpu?: number;
  idle?: ResidentMemory;
  peak?: ResidentMemory;
  after?: ResidentMemory;
  quiet?: ResidentMemory;
  error?: string;
}

/** One load over all pairs: milliseconds, messages and latencies. */
async function load(shape: Shape, gen: LoadGenerator, fraction: number): Promise<LoadRun> {
  const total = shape.kind === "messages" ? MESSAGES : BULK_MESSAGES;
  return await gen.run(Math.max(shape.pairs, Math.round(total * fraction)), RUN_LIMIT_MS);
}

function maxOf(a: ResidentMemory, b: ResidentMemory): ResidentMemory {
  return { rss: Math.max(a.rss, b.rss), pss: Math.max(a.pss, b.pss) };
}

/** One run of `shape` against a fresh relay made by `start`. */
async function runShape(shape: Shape, start: () => Promise<BenchRelay>): Promise<Run> {
  const run: Run = {};
  const relay = await start();
  let gen: LoadGenerator | undefined;
  let sampling: ReturnType<typeof setInterval> | undefined;
  try {
    gen = await LoadGenerator.start({
      relayUri: relay.tcpUri,
      pairs: shape.pairs,
      kind: shape.kind,
      users: { a: ["alice", USERS.alice], b: ["bob", USERS.bob] },
      messageSize: shape.kind === "messages" ? MESSAGE_SIZE : MB,
      chunkSize: shape.kind === "messages" ? MESSAGE_SIZE : CHUNK,
      window: WINDOW,
    });
    run.idle = await relay.resident();
    let peak = run.idle;
    let reading = false;
    sampling = setInterval(async () => {
      if (reading) return;
      reading = true;
      peak = maxOf(peak, await relay.resident());
      reading = false;
    }, SAMPLE_MS);
    await load(shape, gen, 0.1); // warm-up
    const cpu0 = await relay.cpu();
    const { ms, messages: units, latencies } = await load(shape, gen, 1);
    const cpu = await relay.cpu() - cpu0;
    const frames = shape.kind === "messages" ? units : units * Math.ceil(MB / CHUNK);
    run.cpu = cpu * 1e6 / frames;
    clearInterval(sampling);
    sampling = undefined;
    run.after = await relay.resident();
    run.peak = maxOf(peak, run.after);
    await new Promise((r) => setTimeout(r, QUIET_WAIT_MS));
    run.quiet = await relay.resident();
    run.rate = shape.kind === "messages" ? units / (ms / 1000) : units * MB / 1e6 / (ms / 1000);
    if (latencies.length > 0) {
      latencies.sort((x, y) => x - y);
      run.p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))];
    }
  } catch (error) {
    run.error = (error as Error).message;
  } finally {
    if (sampling !== undefined) clearInterval(sampling);
    await gen?.close();
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
  cpu?: number;
  idle?: ResidentMemory;
  peak?: ResidentMemory;
  after?: ResidentMemory;
  quiet?: ResidentMemory;
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
    cpu: med((r) => r.cpu),
    idle: mem((r) => r.idle),
    peak: mem((r) => r.peak),
    after: mem((r) => r.after),
    quiet: mem((r) => r.quiet),
    failed: runs.filter((r) => r.error !== undefined).map((r) => r.error!),
  };
}

/**
 * Runs every shape against this relay and, when installed, Kamailio, and
 * prints the medians and the ratios.
 */
export async function compareWithKamailio(): Promise<void> {
  const found = OPTIONS["ours-only"] ? "left out (--ours-only)" : await findKamailio();
  const kamailio = typeof found === "string" ? undefined : found;
  const cpuProfDir = OPTIONS["cpu-prof"];
  const relays: [string, () => Promise<BenchRelay>][] = [[
    "this relay",
    () => spawnRelay({ cpuProfDir }),
  ]];
  if (OPTIONS["no-release-variant"] !== undefined) {
    relays.push(["no release", () => spawnRelay({ releaseMemory: false })]);
  }
  const variant = OPTIONS["v8-variant"];
  if (variant !== undefined) {
    relays.push([
      "V8 variant",
      () => spawnRelay({ v8Flags: variant.split(/[ ,]+/).filter((f) => f !== "none") }),
    ]);
  }
  const baseline = OPTIONS.baseline;
  if (baseline !== undefined) {
    relays.push([
      "baseline",
      () => spawnRelay({ setupPath: `${baseline}/bench/_relay_setup.ts` }),
    ]);
  }
  const shapes = OPTIONS.shapes === undefined
    ? SHAPES
    : OPTIONS.shapes.split(",").map((i: string) => SHAPES[Number(i)]);
  if (kamailio !== undefined) {
    relays.push([`Kamailio ${kamailio.version}`, () => spawnKamailio(kamailio)]);
  }
  const loadBefore = await loadAverage();
  const runs = new Map<string, Run[]>();
  for (let i = 0; i < RUNS; i++) {
    for (const shape of shapes) {
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
      "CPU µs".padStart(7)
    } ${"idle RSS/PSS MB".padStart(16)} ${"peak RSS/PSS MB".padStart(16)} ${
      "after RSS/PSS MB".padStart(17)
    } ${"quiet RSS/PSS MB".padStart(17)}`,
  );
  for (const shape of shapes) {
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
        } ${(s.cpu === undefined ? "-" : s.cpu.toFixed(1)).padStart(7)} ${
          pair(s.idle).padStart(16)
        } ${pair(s.peak).padStart(16)} ${pair(s.after).padStart(17)} ${
          pair(s.quiet).padStart(17)
        }${failed}`,
      );
    }
    const [, kam] = summaries[summaries.length - 1];
    for (const [name, ours] of kamailio === undefined ? [] : summaries.slice(0, -1)) {
      console.log(
        `  ${"".padEnd(40)} ${(name === "this relay" ? "ratio" : `ratio ${name}`).padEnd(16)} ${
          ratio(ours.rate, kam.rate).padStart(14)
        } ${ratio(ours.p99, kam.p99).padStart(7)} ${ratio(ours.cpu, kam.cpu).padStart(7)} ${
          ratio(ours.idle?.pss, kam.idle?.pss).padStart(16)
        } ${ratio(ours.peak?.pss, kam.peak?.pss).padStart(16)} ${
          ratio(ours.after?.pss, kam.after?.pss).padStart(17)
        } ${ratio(ours.quiet?.pss, kam.quiet?.pss).padStart(17)}`,
      );
    }
  }
  console.log(
    "  (ratio: this relay / Kamailio; rate higher is better, p99 and memory lower is better;" +
      " memory ratios by PSS; CPU: the relay's CPU time (all its processes) per 100-byte" +
      " message or per 8 KiB chunk, each 4 frames (SEND in and out, two 200s). Targets: rate >= 1.5x with 50 pairs of messages, >= 2x with" +
      " 1 MB messages; peak <= 1.5x the relay's own idle)",
  );
}

if (import.meta.main) await compareWithKamailio();
