/**
 * What an idle authenticated client costs a relay in resident memory, and
 * whether the relay gives the memory back when its clients leave (issue 10;
 * RFC 4976 §5.1 AUTH, §6.3 one registration per client, §6.5 idle
 * connections).
 *
 *   deno run -A bench/_idle_memory.ts [--repeat N] [--v8-flags=a,b] [--runtime-v8-flags=a,b]
 *     [--env=NAME=value] [--no-release]
 *
 * The relay gives memory back once quiet for 5 s (`serveRelay`'s
 * `releaseMemory`, on in `msrp relay`), so the reading 10 s after the
 * clients leave is after that release; `--no-release` runs it without.
 *
 * `relay_bench.ts` runs it too. The relay runs in a child process
 * (`spawnRelay`), the clients in another one (this module with `--clients`),
 * so that neither the bench nor the clients count. A client is a raw
 * `Deno.connect` socket over plain TCP (the relay allows AUTH without TLS
 * here, for testing only) that sends one AUTH, answers the 401 with Digest
 * credentials (`lib/wire/digest.ts`), gets its 200 with a Use-Path, and then
 * sits idle holding its connection and registration.
 *
 * The figures are read from `/proc/<pid>/smaps_rollup` of the relay without
 * forcing garbage collection, as an operator would see them:
 *
 * - **RSS per idle client**: the slope from 500 to 1000 clients,
 *   `(RSS(1000) - RSS(500)) / 500`, so that the first clients' one-off
 *   costs (compiled code, tables that grow once) do not count.
 * - **RSS after leave**: every client closes; once the relay has no
 *   connection, 10 seconds pass and RSS is read again and compared with the
 *   RSS at start (before the first client) and with the RSS once 20
 *   clients came and left (the relay's code paths then paged in from the
 *   `deno` binary, about 8 MB, and compiled). For a diagnosis it is read
 *   once more after `gc()` and after glibc's `malloc_trim(0)`, and the
 *   pages freed lazily (`LazyFree`) are shown.
 *
 * Each reading is the median of three, 200 ms apart; each opening waits
 * one second for the relay to settle. Every loop is bounded in count and
 * time.
 *
 * @module
 */

import { DigestClient, parseWwwAuthenticate } from "../lib/wire/mod.ts";
import { type BenchRelay, type RelayMemory, spawnRelay, USERS } from "./_relay_setup.ts";

/** The idle-memory figures of one run. */
export interface IdleMemoryFigures {
  /** Relay RSS before any client, octets. */
  readonly start: number;
  /** Relay RSS once 20 clients came and left (its code paths paged in and compiled), octets. */
  readonly warm: number;
  /** Relay RSS with 500 idle clients, octets. */
  readonly at500: number;
  /** Relay RSS with 1000 idle clients, octets. */
  readonly at1000: number;
  /** RSS growth per client from 500 to 1000, octets. */
  readonly slope: number;
  /** Relay RSS 10 s after the last client left, octets. */
  readonly afterLeave: number;
  /** V8 heap in use (no gc) per client from 500 to 1000, octets. */
  readonly heapSlope: number;
  /** V8 heap reserved per client from 500 to 1000, octets. */
  readonly heapTotalSlope: number;
  /** ArrayBuffer memory per client from 500 to 1000, octets. */
  readonly externalSlope: number;
  /** Relay RSS after leave once gc() has run too, octets. */
  readonly afterGc: number;
  /** Relay RSS after gc() and glibc's malloc_trim(0) too, octets. */
  readonly afterTrim: number;
  /** Of `afterLeave`, pages freed with MADV_FREE the kernel has not taken yet (`LazyFree`), octets. */
  readonly lazyFree: number;
  /** V8 heap reserved at start (no gc), octets. */
  readonly startHeapTotal: number;
  /** V8 heap reserved after leave and gc(), octets. */
  readonly afterGcHeapTotal: number;
  /** Registrations the relay held at 1000 clients. */
  readonly registrations: number;
  /** The relay's memory releases (`memory-release` log events), each with its figures. */
  readonly releases: string[];
}

const WARM = 20;
const FIRST = 500;
const SECOND = 1000;
const SETTLE_MS = 1000;
const LEAVE_WAIT_MS = 10_000;

// ---- the clients' process ----

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Reads one frame's text (up to and including its end-line) from `conn`, within 10 s. */
async function readFrame(conn: Deno.Conn, tid: string, buf: { text: string }): Promise<string> {
  const end = `-------${tid}$\r\n`;
  const chunk = new Uint8Array(4096);
  const until = Date.now() + 10_000;
  while (!buf.text.includes(end)) {
    if (Date.now() > until) throw new Error("no answer to AUTH within 10 s");
    const n = await conn.read(chunk);
    if (n === null) throw new Error("the relay closed the connection");
    buf.text += dec.decode(chunk.subarray(0, n));
  }
  const at = buf.text.indexOf(end) + end.length;
  const frame = buf.text.slice(0, at);
  buf.text = buf.text.slice(at);
  return frame;
}

function auth(tid: string, relayUri: string, me: string, authorization?: string): Uint8Array {
  const lines = [`MSRP ${tid} AUTH`, `To-Path: ${relayUri}`, `From-Path: ${me}`];
  if (authorization !== undefined) lines.push(`Authorization: ${authorization}`);
  return enc.encode(lines.join("\r\n") + `\r\n-------${tid}$\r\n`);
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/** One idle client: connect, AUTH with Digest (RFC 4976 §5.1), keep the connection. */
async function openClient(relayUri: string, port: number, i: number): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const me = `msrp://127.0.0.1:9/idle${i};tcp`;
  const user = i % 2 ? "bob" : "alice";
  const buf = { text: "" };
  await writeAll(conn, auth(`a${i}x`, relayUri, me));
  const challenge = await readFrame(conn, `a${i}x`, buf);
  const header = /^WWW-Authenticate: (.*)$/m.exec(challenge);
  if (!challenge.includes(" 401") || header === null) throw new Error(`no 401: ${challenge}`);
  const client = new DigestClient({ username: user, password: USERS[user] });
  const value = client.authorization(parseWwwAuthenticate(header[1].trim()), relayUri);
  await writeAll(conn, auth(`a${i}y`, relayUri, me, value));
  const ok = await readFrame(conn, `a${i}y`, buf);
  if (!/^MSRP \S+ 200/.test(ok) || !ok.includes("Use-Path:")) throw new Error(`no 200: ${ok}`);
  return conn;
}

async function clientsProcess(relayUri: string): Promise<void> {
  const port = Number(/:(\d+)/.exec(relayUri)![1]);
  const conns: Deno.Conn[] = [];
  const out = (v: unknown) => console.log(JSON.stringify(v));
  for await (const line of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    for (const cmd of line.split("\n").filter((l) => l.trim() !== "")) {
      const [verb, arg] = cmd.split(" ");
      if (verb === "open") {
        const n = Math.min(Number(arg), 5000);
        for (let done = 0; done < n; done += 50) {
          const width = Math.min(50, n - done);
          conns.push(
            ...await Promise.all(
              Array.from({ length: width }, (_, j) => openClient(relayUri, port, conns.length + j)),
            ),
          );
        }
        out({ open: conns.length });
      } else if (verb === "close") {
        for (const c of conns.splice(0)) c.close();
        out({ open: 0 });
      } else if (verb === "exit") {
        return;
      }
    }
  }
}

// ---- the measuring side ----

function spawnClients(relayUri: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--clients", relayUri],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  const ask = async (cmd: string): Promise<unknown> => {
    await writer.write(enc.encode(cmd + "\n"));
    for (;;) {
      const nl = rest.indexOf("\n");
      if (nl >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        return JSON.parse(line);
      }
      const r = await reader.read();
      if (r.done) throw new Error("the clients' process ended");
      rest += r.value;
    }
  };
  return {
    ask,
    async close() {
      await writer.write(enc.encode("exit\n")).catch(() => {});
      await writer.close().catch(() => {});
      await child.status;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Median of three RSS readings of the relay, 200 ms apart. */
async function rss(relay: BenchRelay): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    xs.push((await relay.resident()).rss);
    if (i < 2) await sleep(200);
  }
  return xs.sort((a, b) => a - b)[1];
}

/** `LazyFree` of a process (Linux `/proc/<pid>/smaps_rollup`): freed pages still counted in RSS. */
async function lazyFreeOf(pid: number | undefined): Promise<number> {
  try {
    const text = await Deno.readTextFile(`/proc/${pid}/smaps_rollup`);
    const m = /^LazyFree:\s+(\d+) kB/m.exec(text);
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

async function waitFor(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > until) throw new Error("the relay did not settle");
    await sleep(50);
  }
}

/**
 * One run: a fresh relay, 500 then 1000 idle authenticated clients, then
 * none; see the module documentation.
 *
 * @param v8Flags more V8 flags for the relay process
 * @param env more environment variables for the relay process
 * @param runtimeV8Flags V8 flags the relay process sets itself once started
 */
export async function measureIdleMemory(
  v8Flags: readonly string[] = [],
  env: Record<string, string> = {},
  runtimeV8Flags: readonly string[] = [],
  releaseMemory = true,
): Promise<IdleMemoryFigures> {
  const relay = await spawnRelay({ v8Flags, env, runtimeV8Flags, releaseMemory });
  try {
    const clients = await spawnClients(relay.tcpUri);
    try {
      await sleep(SETTLE_MS);
      const start = await rss(relay);
      const startHeapTotal = (await relay.usage()).heapTotal;
      await clients.ask(`open ${WARM}`);
      await clients.ask("close");
      await waitFor(async () => (await relay.stats()).connections === 0);
      await sleep(SETTLE_MS);
      const warm = await rss(relay);
      await clients.ask(`open ${FIRST}`);
      await sleep(SETTLE_MS);
      const at500 = await rss(relay);
      const u500 = await relay.usage();
      await clients.ask(`open ${SECOND - FIRST}`);
      await sleep(SETTLE_MS);
      const at1000 = await rss(relay);
      const u1000 = await relay.usage();
      const stats = await relay.stats();
      await clients.ask("close");
      await waitFor(async () => (await relay.stats()).connections === 0);
      await sleep(LEAVE_WAIT_MS);
      const afterLeave = await rss(relay);
      const releases = Object.keys(await relay.events()).filter((e) =>
        e.startsWith("memory-release")
      ).map((e) => e.replace(/^memory-release: /, ""));
      const lazyFree = await lazyFreeOf(relay.pid);
      const gcd = await relay.memory();
      await relay.trim();
      const afterTrim = await rss(relay);
      const per = (f: (u: RelayMemory) => number) => (f(u1000) - f(u500)) / (SECOND - FIRST);
      return {
        start,
        warm,
        at500,
        at1000,
        slope: (at1000 - at500) / (SECOND - FIRST),
        afterLeave,
        heapSlope: per((u) => u.heapUsed),
        heapTotalSlope: per((u) => u.heapTotal),
        externalSlope: per((u) => u.external),
        afterGc: gcd.rss,
        afterTrim,
        lazyFree,
        startHeapTotal,
        afterGcHeapTotal: gcd.heapTotal,
        registrations: stats.registrations,
        releases,
      };
    } finally {
      await clients.close();
    }
  } finally {
    await relay.close();
  }
}

/**
 * Prints the figures of `runs` runs.
 *
 * @param runs how many fresh relays to measure
 * @param v8Flags more V8 flags for the relay process
 * @param env more environment variables for the relay process
 * @param runtimeV8Flags V8 flags the relay process sets itself once started
 * @param releaseMemory whether the relay gives memory back once quiet
 */
export async function reportIdleMemory(
  runs = 1,
  v8Flags: readonly string[] = [],
  env: Record<string, string> = {},
  runtimeV8Flags: readonly string[] = [],
  releaseMemory = true,
): Promise<void> {
  const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  console.log(
    `\nRelay RSS per idle authenticated client (msrp TCP, raw AUTH clients in their own process)${
      v8Flags.length ? `, V8 flags ${v8Flags.join(",")}` : ""
    }${Object.keys(env).length ? `, env ${JSON.stringify(env)}` : ""}${
      runtimeV8Flags.length ? `, V8 flags set at run time ${runtimeV8Flags.join(",")}` : ""
    }${releaseMemory ? "" : ", no memory release when quiet"}`,
  );
  for (let i = 0; i < runs; i++) {
    const f = await measureIdleMemory(v8Flags, env, runtimeV8Flags, releaseMemory);
    console.log(
      `  run ${i + 1}: start ${mb(f.start)} (${
        mb(f.warm)
      } after ${WARM} came and left), 500 clients ${mb(f.at500)}, 1000 clients ${
        mb(f.at1000)
      } (${f.registrations} regs): ${kb(f.slope)}/client; 10 s after all left ${
        mb(f.afterLeave)
      } (${(100 * f.afterLeave / f.start).toFixed(0)}% of start, ${
        (100 * f.afterLeave / f.warm).toFixed(0)
      }% of warm, ${mb(f.lazyFree)} of it lazily freed; ${mb(f.afterGc)} after gc, ${
        mb(f.afterTrim)
      } after malloc_trim; V8 heap reserved ${mb(f.startHeapTotal)} at start, ${
        mb(f.afterGcHeapTotal)
      } after gc)\n         per client: V8 heap used ${kb(f.heapSlope)}, reserved ${
        kb(f.heapTotalSlope)
      }, external ${kb(f.externalSlope)}  [load ${
        Deno.loadavg().map((x) => x.toFixed(2)).join(" ")
      }]`,
    );
    for (const r of f.releases) console.log(`         release: ${r}`);
  }
  console.log(`  (target: <= 20 KB per client; after leave within 20% of start)`);
}

if (import.meta.main) {
  const args = Deno.args;
  if (args[0] === "--clients") {
    await clientsProcess(args[1]);
  } else {
    const at = args.indexOf("--repeat");
    const runs = at >= 0 ? Math.min(Number(args[at + 1]), 10) : 1;
    const flags = args.find((a) => a.startsWith("--v8-flags="))?.slice(11).split(",") ?? [];
    const env = Object.fromEntries(
      args.filter((a) => a.startsWith("--env=")).map((a) => a.slice(6).split("=", 2)),
    );
    const runtime = args.find((a) => a.startsWith("--runtime-v8-flags="))?.slice(19).split(",") ??
      [];
    await reportIdleMemory(runs, flags, env, runtime, !args.includes("--no-release"));
  }
}
