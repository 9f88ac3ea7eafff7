/**
 * What one relay costs (RFC 4976): a large file, many small messages and
 * idle sessions, through one relay on loopback beside the same endpoints
 * connected directly (RFC 4975 §5.4), all measured in the same run.
 *
 *   deno bench -A bench/relay_bench.ts
 *
 * It starts with issue 10's load shapes against this relay and, when it is
 * installed, Kamailio's `msrp` module, with the ratios (`_relay_shapes.ts`;
 * `deno run -A bench/_relay_shapes.ts` runs that part alone).
 *
 * Through a relay every byte is read, parsed, checked against the
 * registration (§6.4), re-framed and written again; each SEND chunk gets a
 * 200 from the relay and another from the receiver (§6.4.1: hop-by-hop
 * acknowledgement). Both endpoints use the relay (each AUTHs and gets a
 * Use-Path, §5.1), so the To-Path of Alice's SEND is her relay URI, Bob's
 * relay URI, Bob: both relay URIs are this relay's own, and it delivers the
 * request over Bob's connection (its stats show no outbound connection).
 *
 * How it is measured:
 *
 * - **Where the relay runs.** A relay is deployed on its own machine, so it
 *   runs here in a child Deno process (see `_relay_setup.ts`) and has a CPU
 *   core of its own; the two endpoints share this process's one JavaScript
 *   thread, exactly as in the direct case. On a 2-core machine that is the
 *   fairest split. A second figure puts the relay in this process too (all
 *   three parties on one thread), which shows its CPU cost instead.
 * - **TLS.** msrps as deployed (RFC 4976 §9.2), beside plain TCP to show
 *   what TLS costs. Direct msrps uses the same `localhost` certificate.
 * - **Chunk size.** Through relays a session cuts messages into 8 KiB chunks
 *   by default (deployed relays drop larger frames); directly, 1 MiB. Both
 *   are shown, and the relay path is also run with `chunking.maxChunkSize`
 *   of 1 MiB, the direct path with 8 KiB.
 * - **Best of N.** Each figure is the best of `RUNS` runs after a warm-up
 *   run, with fresh endpoints and sessions per configuration; the relay
 *   process is warmed up with a few transfers before anything is measured.
 * - **Stalls.** A transfer that makes no progress for `STALL_MS` is cut
 *   off (its sessions closed) and shown as STALLED instead of hanging the
 *   bench.
 * - **Memory per idle session.** Measured in a fresh relay process of its
 *   own, so the clients (in this process) do not count. The child runs with
 *   `--v8-flags=--expose-gc`; before each reading it runs `gc()` four times
 *   with turns of the event loop between, then reads `Deno.memoryUsage()`.
 *   The relay is first warmed up (20 clients come and go) so that compiled
 *   code and lazily made tables are in the baseline. Then `IDLE_CLIENTS`
 *   client endpoints each open their own msrps connection, AUTH (one
 *   registration each) and bind one session with another client, and sit
 *   idle; the growth divided by the number of clients is the cost of one
 *   idle client (connection, registration and session). Separately, two
 *   clients bind `SHARED_SESSIONS` sessions over their two connections
 *   (§5.4: sessions share a connection), which gives the cost of one more
 *   idle session on an existing connection. The V8 heap and `external`
 *   (ArrayBuffer memory) are exact after gc; RSS also holds the TLS state in
 *   Rust and socket buffers, but the allocator and V8 keep pages they no
 *   longer use, so it is only an upper bound. Finally every client closes
 *   and the heap is measured again, to show nothing stays behind.
 * - **RSS per idle client** (`_idle_memory.ts`): the relay's resident set,
 *   without gc, as the slope from 500 to 1000 raw TCP clients that only
 *   AUTH, and 10 s after they all leave.
 *
 * @module
 */

import type { MsrpEndpoint, MsrpSession } from "../mod.ts";
import {
  type BenchRelay,
  directEndpoint,
  negotiate,
  RELAY_V8_FLAGS,
  relayEndpoint,
  type RelayMemory,
  type Security,
  spawnRelay,
  startRelayInProcess,
} from "./_relay_setup.ts";
import { reportIdleMemory } from "./_idle_memory.ts";
import { compareWithKamailio } from "./_relay_shapes.ts";

const SIZE = 64 * 1024 * 1024;
const RUNS = 3;
const STALL_MS = 3000;
/** Concurrent session pairs of the small-message test. */
const PAIRS = 50;
/** Messages each pair sends (one at a time, each send awaited). */
const PER_PAIR = 100;
/** Client endpoints of the idle-memory test (half call the other half). */
const IDLE_CLIENTS = 1000;
/** Sessions over two shared connections in the idle-memory test. */
const SHARED_SESSIONS = 1000;
const KiB = 1024;
const MiB = 1024 * KiB;

// The same 64 MiB of random bytes for every transfer, made once.
const BODY = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i += 65536) crypto.getRandomValues(BODY.subarray(i, i + 65536));
// A 100-byte text message.
const MESSAGE = "x".repeat(100);

/** Two endpoints with one bound session between them. */
interface Pair {
  readonly a: MsrpSession;
  readonly b: MsrpSession;
  close(): Promise<void>;
}

/** How the two endpoints reach each other. */
type Route = "direct" | BenchRelay;

async function endpoints(route: Route, security: Security): Promise<[MsrpEndpoint, MsrpEndpoint]> {
  if (route === "direct") return [await directEndpoint(security), await directEndpoint(security)];
  return [
    await relayEndpoint(route, security, "alice"),
    await relayEndpoint(route, security, "bob"),
  ];
}

/** Alice's and Bob's endpoints with one session; Alice cuts messages at `chunk` octets. */
async function filePair(route: Route, security: Security, chunk?: number): Promise<Pair> {
  const [ea, eb] = await endpoints(route, security);
  const a = ea.createSession({ chunking: { maxChunkSize: chunk } });
  const b = eb.createSession();
  await negotiate(ea, a, eb, b);
  return { a, b, close: async () => void await Promise.all([ea.close(), eb.close()]) };
}

class Stalled extends Error {}

/** Sends BODY from a to b, read by b as a stream; milliseconds. */
async function transfer({ a, b }: Pair): Promise<number> {
  let progress = 0;
  const t0 = performance.now();
  const reading = (async () => {
    const m = await b.nextMessage();
    if (m === undefined) throw new Error("the session ended before the message came");
    let n = 0;
    for await (const piece of m.stream()) {
      n += piece.length;
      progress++;
    }
    return n;
  })();
  const sending = a.send(BODY, {
    contentType: "application/octet-stream",
    onProgress: () => progress++,
  });
  let seen = -1;
  let stalled = false;
  const watchdog = setInterval(() => {
    if (progress === seen) {
      stalled = true;
      a.close();
      b.close();
    }
    seen = progress;
  }, STALL_MS);
  const [sent, read] = await Promise.allSettled([sending, reading]);
  clearInterval(watchdog);
  const ms = performance.now() - t0;
  if (stalled) throw new Stalled(`no progress for ${STALL_MS} ms`);
  if (sent.status === "rejected") throw sent.reason;
  if (read.status === "rejected") throw read.reason;
  if (read.value !== SIZE || sent.value.bytesConfirmed !== SIZE) {
    throw new Error(`moved ${read.value} of ${SIZE} octets`);
  }
  return ms;
}

/** A measured figure (best time of the runs that finished), and runs that stalled or failed. */
interface Figure {
  ms?: number;
  stalls: number;
  error?: string;
}

/**
 * Warm-up, then the best of RUNS transfers, on one fresh session; a run
 * that stalls is counted and the next one gets fresh endpoints.
 */
async function bestTransfer(route: Route, security: Security, chunk?: number): Promise<Figure> {
  const figure: Figure = { stalls: 0 };
  let pair: Pair | undefined;
  try {
    for (let i = 0; i <= RUNS; i++) {
      pair ??= await filePair(route, security, chunk);
      try {
        const ms = await transfer(pair);
        if (i > 0) figure.ms = Math.min(figure.ms ?? Infinity, ms); // run 0 warms up
      } catch (e) {
        if (!(e instanceof Stalled)) throw e;
        figure.stalls++;
        await pair.close();
        pair = undefined;
      }
    }
  } catch (e) {
    figure.error = (e as Error).message;
  } finally {
    await pair?.close();
  }
  return figure;
}

/** 50 session pairs over the same two endpoints. */
async function messagePairs(route: Route, security: Security) {
  const [ea, eb] = await endpoints(route, security);
  const pairs = await Promise.all(Array.from({ length: PAIRS }, async () => {
    const a = ea.createSession();
    const b = eb.createSession();
    await negotiate(ea, a, eb, b);
    return [a, b] as const;
  }));
  return { pairs, close: async () => void await Promise.all([ea.close(), eb.close()]) };
}

/** Every pair sends PER_PAIR messages, each awaited, all pairs at once; milliseconds. */
async function messageRound(pairs: readonly (readonly [MsrpSession, MsrpSession])[]) {
  const t0 = performance.now();
  await Promise.all(pairs.map(async ([a, b]) => {
    const receiving = (async () => {
      for (let i = 0; i < PER_PAIR; i++) {
        const m = await b.nextMessage();
        if (m === undefined || (await m.text()) !== MESSAGE) throw new Error("message lost");
      }
    })();
    for (let i = 0; i < PER_PAIR; i++) {
      const r = await a.send(MESSAGE);
      if (r.status !== 200) throw new Error(`send got ${r.status}`);
    }
    await receiving;
  }));
  return performance.now() - t0;
}

async function bestMessages(route: Route, security: Security): Promise<Figure> {
  const { pairs, close } = await messagePairs(route, security);
  const figure: Figure = { stalls: 0 };
  try {
    await messageRound(pairs);
    for (let i = 0; i < RUNS; i++) {
      figure.ms = Math.min(figure.ms ?? Infinity, await messageRound(pairs));
    }
  } catch (e) {
    figure.error = (e as Error).message;
  } finally {
    await close();
  }
  return figure;
}

// ---- idle memory ----

interface IdleMemory {
  baseline: RelayMemory;
  clients: RelayMemory;
  closed: RelayMemory;
  sharedBefore: RelayMemory;
  sharedAfter: RelayMemory;
  connections: number;
  registrations: number;
}

/** Runs `n` tasks, `width` at a time. */
async function inBatches<T>(n: number, width: number, task: (i: number) => Promise<T>) {
  const out: T[] = [];
  for (let i = 0; i < n; i += width) {
    out.push(
      ...await Promise.all(
        Array.from({ length: Math.min(width, n - i) }, (_, j) => task(i + j)),
      ),
    );
  }
  return out;
}

async function idleMemory(): Promise<IdleMemory> {
  const relay = await spawnRelay();
  try {
    // Warm-up: compile the code paths, make the lazily made tables.
    const warm = await inBatches(
      20,
      20,
      (i) => relayEndpoint(relay, "tls", i % 2 ? "bob" : "alice"),
    );
    for (let i = 0; i < warm.length; i += 2) {
      const a = warm[i].createSession();
      const b = warm[i + 1].createSession();
      await negotiate(warm[i], a, warm[i + 1], b);
      await a.send(MESSAGE);
    }
    await Promise.all(warm.map((e) => e.close()));
    await waitFor(async () => (await relay.stats()).connections === 0);
    const baseline = await relay.memory();

    // IDLE_CLIENTS clients, each with its own connection and registration,
    // and one bound session each (half call the other half).
    const clients = await inBatches(
      IDLE_CLIENTS,
      50,
      (i) => relayEndpoint(relay, "tls", i % 2 ? "bob" : "alice"),
    );
    await inBatches(IDLE_CLIENTS / 2, 50, async (i) => {
      const [ea, eb] = [clients[2 * i], clients[2 * i + 1]];
      await negotiate(ea, ea.createSession(), eb, eb.createSession());
    });
    const stats = await relay.stats();
    const withClients = await relay.memory();
    await Promise.all(clients.map((e) => e.close()));
    await waitFor(async () => (await relay.stats()).connections === 0);
    const closed = await relay.memory();

    // Two clients, SHARED_SESSIONS sessions between them over their two connections.
    const [ea, eb] = await endpoints(relay, "tls");
    const first = [ea.createSession(), eb.createSession()];
    await negotiate(ea, first[0], eb, first[1]);
    await first[0].send(MESSAGE);
    const sharedBefore = await relay.memory();
    await inBatches(SHARED_SESSIONS, 50, async () => {
      await negotiate(ea, ea.createSession(), eb, eb.createSession());
    });
    const sharedAfter = await relay.memory();
    await Promise.all([ea.close(), eb.close()]);
    return {
      baseline,
      clients: withClients,
      closed,
      sharedBefore,
      sharedAfter,
      connections: stats.connections,
      registrations: stats.registrations,
    };
  } finally {
    await relay.close();
  }
}

async function waitFor(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > until) throw new Error("the relay did not settle");
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---- the run ----

await compareWithKamailio();

const relay = await spawnRelay();

const mbps = (f: Figure) => f.ms === undefined ? NaN : SIZE / 1e6 / (f.ms / 1000);
const show = (f: Figure, unit: (f: Figure) => number) => {
  const value = f.ms === undefined ? "-" : unit(f).toFixed(0);
  const trouble = f.error !== undefined
    ? `  FAILED: ${f.error}`
    : f.stalls > 0
    ? `  STALLED in ${f.stalls} of ${RUNS + 1} runs (no progress for ${STALL_MS} ms)`
    : "";
  return [value, trouble] as const;
};
const pct = (x: Figure, base: Figure, unit: (f: Figure) => number) =>
  x.ms !== undefined && base.ms !== undefined ? `${(100 * unit(x) / unit(base)).toFixed(0)}%` : "-";

// Warm the relay process up first (its JIT needs a few transfers to settle),
// so that the first configuration measured is not the one that pays for it.
await bestTransfer(relay, "tls");

const file: Record<string, Figure> = {};
for (const security of ["tls", "tcp"] as const) {
  file[`${security} direct 1M`] = await bestTransfer("direct", security);
  file[`${security} direct 8K`] = await bestTransfer("direct", security, 8 * KiB);
  file[`${security} relay 8K`] = await bestTransfer(relay, security);
  file[`${security} relay 1M`] = await bestTransfer(relay, security, MiB);
}
// All three parties on this one thread: the relay's CPU cost shows.
const local = await startRelayInProcess();
file["tls local 8K"] = await bestTransfer(local, "tls");
file["tls local 1M"] = await bestTransfer(local, "tls", MiB);
const messages: Record<string, Figure> = {
  "tls direct": await bestMessages("direct", "tls"),
  "tls relay": await bestMessages(relay, "tls"),
  "tls local": await bestMessages(local, "tls"),
  "tcp direct": await bestMessages("direct", "tcp"),
  "tcp relay": await bestMessages(relay, "tcp"),
};
await local.close();
const idle = await idleMemory();

console.log(`\n64 MiB file, one session, loopback (best of ${RUNS}); relay in its own process`);
console.log(`  ${"".padEnd(52)} ${"MB/s".padStart(8)}  of direct 1 MiB  of direct, same chunks`);
for (const security of ["tls", "tcp"] as const) {
  const name = security === "tls" ? "msrps" : "msrp (TCP)";
  const d1 = file[`${security} direct 1M`];
  const d8 = file[`${security} direct 8K`];
  const rows: [string, Figure, Figure][] = [
    [`${name} direct, 1 MiB chunks (direct default)`, d1, d1],
    [`${name} direct, 8 KiB chunks`, d8, d8],
    [`${name} via relay, 8 KiB chunks (relay default)`, file[`${security} relay 8K`], d8],
    [`${name} via relay, maxChunkSize 1 MiB`, file[`${security} relay 1M`], d1],
  ];
  if (security === "tls") {
    rows.push(
      [`msrps via relay in this process, 8 KiB chunks`, file["tls local 8K"], d8],
      [`msrps via relay in this process, 1 MiB chunks`, file["tls local 1M"], d1],
    );
  }
  for (const [label, f, same] of rows) {
    const [value, trouble] = show(f, mbps);
    console.log(
      `  ${label.padEnd(52)} ${value.padStart(8)}  ${pct(f, d1, mbps).padStart(15)}  ${
        pct(f, same, mbps).padStart(21)
      }${trouble}`,
    );
  }
}
console.log(`  (target: via relay >= 60% of direct)`);

const rate = (f: Figure) => f.ms === undefined ? NaN : (PAIRS * PER_PAIR) / (f.ms / 1000);
console.log(
  `\n100-byte messages: ${PAIRS} session pairs at once, ${PER_PAIR} sends each, ` +
    `each send awaited (best of ${RUNS})`,
);
const msgRows: [string, Figure, Figure][] = [
  ["msrps direct", messages["tls direct"], messages["tls direct"]],
  ["msrps via relay (own process)", messages["tls relay"], messages["tls direct"]],
  ["msrps via relay in this process", messages["tls local"], messages["tls direct"]],
  ["msrp (TCP) direct", messages["tcp direct"], messages["tcp direct"]],
  ["msrp (TCP) via relay (own process)", messages["tcp relay"], messages["tcp direct"]],
];
for (const [label, f, base] of msgRows) {
  const [value, trouble] = show(f, rate);
  console.log(
    `  ${label.padEnd(52)} ${value.padStart(8)} msg/s  ${pct(f, base, rate).padStart(5)}${trouble}`,
  );
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const grow = (to: RelayMemory, from: RelayMemory, n: number) => ({
  heap: (to.heapUsed - from.heapUsed) / n,
  external: (to.external - from.external) / n,
  rss: (to.rss - from.rss) / n,
});
const perClient = grow(idle.clients, idle.baseline, IDLE_CLIENTS);
const perShared = grow(idle.sharedAfter, idle.sharedBefore, SHARED_SESSIONS);
const left = grow(idle.closed, idle.baseline, 1);
console.log(
  `\nRelay memory, msrps, relay in its own process, after gc()${
    idle.baseline.gc ? "" : " (gc NOT available)"
  }`,
);
console.log(
  `  ${"".padEnd(52)} ${"V8 heap".padStart(10)} ${"external".padStart(10)} ${
    "heap+ext".padStart(10)
  } ${"RSS".padStart(10)}`,
);
const memRow = (label: string, g: { heap: number; external: number; rss: number }) =>
  console.log(
    `  ${label.padEnd(52)} ${kib(g.heap).padStart(10)} ${kib(g.external).padStart(10)} ${
      kib(g.heap + g.external).padStart(10)
    } ${kib(g.rss).padStart(10)}`,
  );
memRow(`per idle client (${idle.connections} conns, ${idle.registrations} regs)`, perClient);
memRow(`per extra idle session on a shared connection`, perShared);
memRow(`left over after all ${IDLE_CLIENTS} clients closed (total)`, left);
console.log(
  `  (target: <= 20 KB per idle session; RSS is an upper bound, see the module comment)`,
);
// RSS as an operator sees it: slope from 500 to 1000 idle clients, and after they leave;
// with V8's defaults and with the young generation the relay task runs with (README).
await reportIdleMemory(2);
await reportIdleMemory(2, RELAY_V8_FLAGS);
console.log();

// ---- deno bench's own table (the relay child stays up for these) ----
//
// Each entry keeps its session between iterations. A transfer that stalls
// (see the table above) is reported on stderr and its iteration then holds
// the STALL_MS wait, so the stall shows in the max column instead of failing
// the whole run; the next iteration gets fresh endpoints.

const filePairs = new Map<string, Pair>();

function fileBench(name: string, key: string, make: () => Promise<Pair>, baseline = false): void {
  Deno.bench(name, { group: "file", baseline, n: 2, warmup: 1 }, async (b) => {
    let pair = filePairs.get(key);
    if (pair === undefined) filePairs.set(key, pair = await make());
    b.start();
    try {
      await transfer(pair);
    } catch (e) {
      if (!(e instanceof Stalled)) throw e;
      console.error(`relay_bench: "${name}" STALLED (no progress for ${STALL_MS} ms)`);
      filePairs.delete(key);
    } finally {
      b.end();
    }
  });
}

fileBench("msrps direct, 64 MiB, 1 MiB chunks", "direct", () => filePair("direct", "tls"), true);
fileBench("msrps via relay, 64 MiB, 1 MiB chunks", "relay 1M", () => filePair(relay, "tls", MiB));
fileBench("msrps via relay, 64 MiB, 8 KiB chunks", "relay 8K", () => filePair(relay, "tls"));

let directMessages: Awaited<ReturnType<typeof messagePairs>> | undefined;
let relayMessages: Awaited<ReturnType<typeof messagePairs>> | undefined;
Deno.bench(
  `msrps direct, ${PAIRS} x ${PER_PAIR} messages of 100 B`,
  { group: "messages", baseline: true, n: 3, warmup: 1 },
  async (b) => {
    directMessages ??= await messagePairs("direct", "tls");
    b.start();
    await messageRound(directMessages.pairs);
    b.end();
  },
);
Deno.bench(
  `msrps via relay, ${PAIRS} x ${PER_PAIR} messages of 100 B`,
  { group: "messages", n: 3, warmup: 1 },
  async (b) => {
    relayMessages ??= await messagePairs(relay, "tls");
    b.start();
    await messageRound(relayMessages.pairs);
    b.end();
  },
);
