/**
 * A relay for the benchmarks (RFC 4976 §5.1, §6, §9.2): the same relay
 * server `serveRelay` gives, started either in this process or in a child
 * process of its own, plus the endpoints that use it.
 *
 * A deployed relay runs on its own machine, so the throughput figures in
 * `relay_bench.ts` put it in a child process (it then has a CPU core of its
 * own, as it would in production) and its memory can be measured alone: the
 * child reports its own V8 heap and resident set size on request, after
 * forcing garbage collection (`--v8-flags=--expose-gc` is passed to the
 * child only). The relay can also run in this process, to see the work of
 * all three parties (sender, relay, receiver) on one JavaScript thread.
 *
 * The relay listens twice on loopback: TLS (`msrps`, RFC 4976 §9.2: "Client
 * to relay communications MUST use TLS for AUTH requests") with the test
 * certificate for `localhost`, and plain TCP (`msrp`, with `allowInsecure`,
 * for testing only) to show what TLS costs.
 *
 * For a comparison with the relay users meet most, {@linkcode spawnKamailio}
 * starts Kamailio's `msrp` module (see `tests/interop/kamailio_harness.ts`)
 * behind the same interface, with the same users.
 *
 * The child talks over its standard streams, one JSON object per line:
 * it prints `{"ready": {...}}` once listening, answers `"memory"`,
 * `"usage"` (memory without gc), `"trim"` (glibc's `malloc_trim`), `"stats"` and
 * `"events"` requests, and exits on `"exit"` or when its
 * standard input closes (so it never outlives the bench process). Its limits
 * can be set (`SpawnRelayOptions.limits`, e.g. small ones for the soak test,
 * `tests/relay/soak_test.ts`), and it counts its log events by name.
 *
 * @module
 */

import { setFlagsFromString } from "node:v8";
import { MsrpEndpoint, type MsrpSession } from "../mod.ts";
import { type Logger, silentLogger } from "../lib/log.ts";
import {
  KAMAILIO_USERS,
  type KamailioInstall,
  startKamailio,
} from "../tests/interop/kamailio_harness.ts";
import {
  type RelayLimitsConfig,
  type RelayServer,
  type RelayStats,
  resolveRelayConfig,
  serveRelay,
} from "../lib/relay/mod.ts";

const CERTS = new URL("../tests/fixtures/certs/", import.meta.url);

/** The test CA (PEM) that signed the relay's `localhost` certificate. */
export const CA: string = Deno.readTextFileSync(new URL("ca.pem", CERTS));

/** The `localhost` certificate and key the relay and the direct msrps endpoints use. */
export const SERVER_IDENTITY: { cert: string; key: string } = {
  cert: Deno.readTextFileSync(new URL("server.pem", CERTS)),
  key: Deno.readTextFileSync(new URL("server.key", CERTS)),
};

/** The relay's users: name and password. */
export const USERS: Readonly<Record<string, string>> = {
  alice: "alice-secret",
  bob: "bob-secret",
};

/** Memory of the relay's process, after garbage collection when the child could force it. */
export interface RelayMemory {
  /** V8 heap in use (`Deno.memoryUsage().heapUsed`), octets. */
  readonly heapUsed: number;
  /** V8 heap reserved, octets. */
  readonly heapTotal: number;
  /** Memory outside the V8 heap held by JavaScript objects (ArrayBuffers), octets. */
  readonly external: number;
  /** Resident set size of the whole process, octets. */
  readonly rss: number;
  /** Whether `gc()` was available and run before measuring. */
  readonly gc: boolean;
}

/**
 * Resident memory of a relay's processes, read from `/proc` without forcing
 * garbage collection (cheap enough to sample under load).
 */
export interface ResidentMemory {
  /** The sum of the processes' resident set sizes (shared pages count once per process), octets. */
  readonly rss: number;
  /** The sum of their proportional set sizes (a shared page counts once in all), octets. */
  readonly pss: number;
}

/** A running relay, in this process, in a child process, or Kamailio. */
export interface BenchRelay {
  /** `msrps://localhost:<port>;tcp` (Kamailio: `msrps://127.0.0.1:<port>;tcp`, or "" without its tls module) */
  readonly tlsUri: string;
  /** `msrp://localhost:<port>;tcp` (Kamailio: `msrp://127.0.0.1:<port>;tcp`) */
  readonly tcpUri: string;
  /** Where the relay runs. */
  readonly where: "in-process" | "child" | "kamailio";
  /** The child's process id, for a relay in a child process (Kamailio: its main process). */
  readonly pid: number | undefined;
  /** The relay's counters (not for Kamailio). */
  stats(): Promise<RelayStats>;
  /** How many times the relay logged each event, by event name (a child only). */
  events(): Promise<Record<string, number>>;
  /** The relay process's memory (a child only; in this process it is the whole process). */
  memory(): Promise<RelayMemory>;
  /** The same without forcing garbage collection first (a child only). */
  usage(): Promise<RelayMemory>;
  /** Has the C allocator return free memory (`malloc_trim`, glibc; a child only). */
  trim(): Promise<boolean>;
  /** RSS and PSS of the relay's processes now, from `/proc` (Linux). */
  resident(): Promise<ResidentMemory>;
  /** CPU time (user + system) the relay's processes have used so far, seconds (Linux). */
  cpu(): Promise<number>;
  /** Stops the relay (and its process). */
  close(): Promise<void>;
}

async function startServer(
  limits: Partial<RelayLimitsConfig> = {},
  logger: Logger = silentLogger,
  releaseMemory = false,
): Promise<RelayServer> {
  const config = resolveRelayConfig({
    host: "localhost",
    listen: [
      { hostname: "127.0.0.1", port: 0, tls: true },
      { hostname: "127.0.0.1", port: 0, tls: false },
    ],
    tls: {
      certFile: new URL("server.pem", CERTS).pathname,
      keyFile: new URL("server.key", CERTS).pathname,
    },
    // AUTH over plain TCP, for the TCP figures only (RFC 4976 §9.2 wants TLS).
    allowInsecure: true,
    users: Object.fromEntries(Object.entries(USERS).map(([u, p]) => [u, { password: p }])),
    limits,
  });
  return await serveRelay(config, { logger, releaseMemory });
}

function uris(server: RelayServer): { tlsUri: string; tcpUri: string } {
  return {
    tlsUri: `msrps://localhost:${server.listeners[0].addr!.port};tcp`,
    tcpUri: `msrp://localhost:${server.listeners[1].addr!.port};tcp`,
  };
}

type Gc = () => void;

async function measureMemory(): Promise<RelayMemory> {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (gc) {
    // Several rounds, with turns of the event loop between them, so that
    // objects freed by finalizers or promise jobs are collected too.
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const m = Deno.memoryUsage();
  return {
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    rss: m.rss,
    gc: gc !== undefined,
  };
}

/** Starts a relay in this process. */
export async function startRelayInProcess(): Promise<BenchRelay> {
  const server = await startServer();
  return {
    ...uris(server),
    where: "in-process",
    pid: undefined,
    stats: () => Promise.resolve(server.relay.stats()),
    events: () => Promise.reject(new Error("counted in a child only")),
    memory: measureMemory,
    usage: () => Promise.resolve({ ...Deno.memoryUsage(), gc: false }),
    trim: () => Promise.resolve(false),
    resident: () => residentOf([Deno.pid]),
    cpu: () => cpuTimeOf([Deno.pid]),
    close: () => server.close(),
  };
}

/** One `kB` field of a `/proc` file, in octets (0 when absent). */
function procField(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return m === null ? 0 : Number(m[1]) * 1024;
}

/**
 * The summed RSS and PSS of processes (Linux `/proc/<pid>/smaps_rollup`);
 * a process that has gone counts 0.
 *
 * @param pids process ids
 */
export async function residentOf(pids: readonly number[]): Promise<ResidentMemory> {
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    try {
      const text = await Deno.readTextFile(`/proc/${pid}/smaps_rollup`);
      rss += procField(text, "Rss");
      pss += procField(text, "Pss");
    } catch {
      // gone
    }
  }
  return { rss, pss };
}

/**
 * The CPU time (user + system, all threads) processes have used, in seconds,
 * from `/proc/<pid>/stat` (clock ticks of 1/100 s); a process that has gone
 * counts 0. Unlike a profile's samples, it does not count time the process
 * waited for a core that other processes held.
 *
 * @param pids process ids
 */
export async function cpuTimeOf(pids: readonly number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const text = await Deno.readTextFile(`/proc/${pid}/stat`);
      // After the command name in parentheses: fields 3.., utime and stime are 14 and 15.
      const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / 100;
}

/**
 * Starts Kamailio's `msrp` module as a relay on loopback, with the same
 * users as this project's bench relay (TCP; TLS too when its tls module is
 * installed).
 *
 * @param install what `findKamailio` found
 * @param tcpChildren Kamailio's TCP worker processes
 */
export async function spawnKamailio(
  install: KamailioInstall,
  tcpChildren = 2,
): Promise<BenchRelay> {
  for (const [user, password] of Object.entries(USERS)) {
    if (KAMAILIO_USERS[user] !== password) throw new Error(`kamailio has no user ${user}`);
  }
  // A write queue per connection as large as this relay's buffer
  // (`maxBufferedBytesPerConnection`, 1 MiB): with Kamailio's default of
  // 32 KiB, a window of 8 KiB chunks overflows it and Kamailio drops
  // chunks it has answered 200.
  const k = await startKamailio(install, {
    tls: install.tls,
    tcpChildren,
    writeQueueMax: 1 << 20,
  });
  const unsupported = () => Promise.reject(new Error("not measured for Kamailio"));
  return {
    tlsUri: k.tlsUri ?? "",
    tcpUri: k.tcpUri,
    where: "kamailio",
    pid: k.pid,
    stats: unsupported,
    events: unsupported,
    memory: unsupported,
    usage: unsupported,
    trim: unsupported,
    resident: async () => residentOf(await k.pids()),
    cpu: async () => cpuTimeOf(await k.pids()),
    close: () => k.close(),
  };
}

/**
 * The V8 flags the `msrp` command runs with (`deno task msrp`, `deno task
 * relay`, `deno task install`; keep in step with `deno.json`): a young
 * generation of at most 2 MiB per semi-space instead of V8's default of up
 * to 16 MiB (three of them count in RSS). Under load V8 grows it to the
 * maximum and keeps it, and under a burst of clients it grows it and keeps
 * it too: at 4 MiB the relay's peak RSS in the 1-pair message shape fell
 * from about 110 to 81 MB (idle 61 MB) with no more CPU per message, and at
 * 2 MiB an idle client costs 17-24 KB of RSS instead of 39-43 KB (README).
 * The bench relay runs with them, as deployed.
 */
export const RELAY_V8_FLAGS: readonly string[] = ["--max-semi-space-size=2"];

/** Options of {@linkcode spawnRelay}. */
export interface SpawnRelayOptions {
  /** Write a V8 CPU profile of the relay process into this directory when it exits. */
  cpuProfDir?: string;
  /** Limits of the relay (`RelayLimitsConfig`) other than the defaults. */
  limits?: Partial<RelayLimitsConfig>;
  /** V8 flags for the relay process (default {@linkcode RELAY_V8_FLAGS}). */
  v8Flags?: readonly string[];
  /** V8 flags the relay process sets itself once started (`node:v8` `setFlagsFromString`). */
  runtimeV8Flags?: readonly string[];
  /** More environment variables for the relay process (e.g. the C allocator's). */
  env?: Record<string, string>;
  /**
   * Give memory back once quiet (`serveRelay`'s `releaseMemory`, after
   * `RELEASE_MEMORY_QUIET_MS`), as `msrp relay` does by default. Default true.
   */
  releaseMemory?: boolean;
  /**
   * Run the relay of another checkout: the path of its `bench/_relay_setup.ts`
   * (to compare a baseline with this one in the same run).
   */
  setupPath?: string;
}

/**
 * Starts a relay in a child Deno process, with `gc()` exposed there.
 *
 * @param options a directory for a CPU profile of the relay, its limits, V8 flags
 */
export async function spawnRelay(options: SpawnRelayOptions = {}): Promise<BenchRelay> {
  const args = [
    "run",
    "-A",
    `--v8-flags=${["--expose-gc", ...options.v8Flags ?? RELAY_V8_FLAGS].join(",")}`,
  ];
  if (options.cpuProfDir) args.push("--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`);
  args.push(
    options.setupPath ?? new URL(import.meta.url).pathname,
    "--child",
    JSON.stringify(options.limits ?? {}),
    JSON.stringify(options.runtimeV8Flags ?? []),
    JSON.stringify(options.releaseMemory ?? true),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: options.env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter())
    [Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await lines.next();
    if (r.done) throw new Error("the relay process ended");
    return JSON.parse(r.value);
  };
  // One request at a time: each answer is the next line.
  let queue: Promise<unknown> = Promise.resolve();
  const ask = <T>(cmd: string): Promise<T> => {
    const p = queue.then(async () => {
      await writer.write(new TextEncoder().encode(cmd + "\n"));
      return (await next()).result as T;
    });
    queue = p.catch(() => {});
    return p;
  };
  const ready = (await next()).ready as { tlsUri: string; tcpUri: string };
  let closed: Promise<void> | undefined;
  return {
    ...ready,
    where: "child",
    pid: child.pid,
    stats: () => ask<RelayStats>("stats"),
    events: () => ask<Record<string, number>>("events"),
    memory: () => ask<RelayMemory>("memory"),
    usage: () => ask<RelayMemory>("usage"),
    trim: () => ask<boolean>("trim"),
    resident: () => residentOf([child.pid]),
    cpu: () => cpuTimeOf([child.pid]),
    close: () =>
      closed ??= (async () => {
        await ask("exit").catch(() => {});
        await writer.close().catch(() => {});
        await child.status;
      })(),
  };
}

function lineSplitter(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(text, controller) {
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      for (const p of parts) if (p.trim() !== "") controller.enqueue(p);
    },
  });
}

/**
 * Asks glibc's allocator to hand free memory back to the system
 * (`malloc_trim(0)`, through FFI; a diagnostic of the memory bench only).
 * False where there is no glibc.
 */
function mallocTrim(): boolean {
  try {
    const libc = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
    });
    try {
      return libc.symbols.malloc_trim(0n) === 1;
    } finally {
      libc.close();
    }
  } catch {
    return false;
  }
}

/**
 * The child's side: serve a relay and answer requests on stdin.
 *
 * @param limits the relay's limits, JSON
 */
async function child(limits: string, releaseMemory: boolean): Promise<void> {
  const events: Record<string, number> = {};
  const tls = new Set<number | undefined>();
  const server = await startServer(JSON.parse(limits), (_level, message, data) => {
    // Closes by reason and by kind of listener (numbers left out, at most 100
    // kinds): what each kind of abuse met.
    const event = String(data?.event);
    const connection = data?.connection as number | undefined;
    let key = event;
    if (event === "connection-accepted" && message.startsWith("tls")) tls.add(connection);
    // Each release of memory with its figures (time taken, RSS before and after).
    if (event === "memory-release" && Object.keys(events).length < 100) key += `: ${message}`;
    if (event === "connection-closed" && Object.keys(events).length < 100) {
      key += `${tls.delete(connection) ? " (tls)" : ""}: ${message.replace(/\d+/g, "#")}`;
    }
    events[key] = (events[key] ?? 0) + 1;
  }, releaseMemory);
  const out = (value: unknown) => console.log(JSON.stringify(value));
  out({ ready: uris(server) });
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).pipeThrough(
    lineSplitter(),
  );
  for await (const line of lines) {
    if (line === "stats") out({ result: server.relay.stats() });
    else if (line === "memory") out({ result: await measureMemory() });
    else if (line === "usage") out({ result: { ...Deno.memoryUsage(), gc: false } });
    else if (line === "trim") out({ result: mallocTrim() });
    else if (line === "events") out({ result: events });
    else if (line === "exit") {
      out({ result: true });
      break;
    }
  }
  // stdin ended (the bench process is gone) or "exit": stop.
  await server.close();
}

// ---- endpoints ----

/** One side of the transport choice: TLS as deployed, or plain TCP. */
export type Security = "tls" | "tcp";

/**
 * An endpoint that uses `relay` (RFC 4976 §5.1: it AUTHs and gets a Use-Path).
 *
 * @param relay the relay
 * @param security msrps or msrp to the relay
 * @param username a user of the relay
 */
export function relayEndpoint(
  relay: BenchRelay,
  security: Security,
  username: string,
): Promise<MsrpEndpoint> {
  return MsrpEndpoint.start({
    relays: [{
      uri: security === "tls" ? relay.tlsUri : relay.tcpUri,
      username,
      password: USERS[username],
    }],
    caCerts: [CA],
  });
}

/**
 * A listening endpoint for direct sessions: msrps with the `localhost`
 * certificate, or plain msrp.
 *
 * @param security msrps or msrp
 */
export function directEndpoint(security: Security): Promise<MsrpEndpoint> {
  return MsrpEndpoint.start(
    security === "tls"
      ? {
        host: "localhost",
        bindAddress: "127.0.0.1",
        port: 0,
        tls: SERVER_IDENTITY,
        caCerts: [CA],
      }
      : { host: "127.0.0.1", port: 0 },
  );
}

/**
 * Offer from `ea`, answer from `eb` (RFC 4975 §8, RFC 6135); resolves when
 * both sessions are bound (§5.4).
 *
 * @param ea the offerer's endpoint
 * @param a the offerer's session
 * @param eb the answerer's endpoint
 * @param b the answerer's session
 */
export async function negotiate(
  ea: MsrpEndpoint,
  a: MsrpSession,
  eb: MsrpEndpoint,
  b: MsrpSession,
): Promise<void> {
  const answer = await eb.answer(b, ea.offer(a));
  await ea.completeOffer(a, answer);
  await b.ready;
}

if (import.meta.main && Deno.args[0] === "--child") {
  // V8 flags set at run time, as the relay CLI sets them (`relayV8Flags`).
  const runtime = JSON.parse(Deno.args[2] ?? "[]") as string[];
  for (const flag of runtime) setFlagsFromString(flag);
  await child(Deno.args[1] ?? "{}", JSON.parse(Deno.args[3] ?? "true") === true);
}
