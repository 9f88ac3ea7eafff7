/**
 * Soak test of the relay under hostile load (issue 8, "Also"; RFC 4976
 * §5.1 AUTH, §6.1 probation, §6.3 failed AUTH, §6.5 idle connections; RFC
 * 4975 §7.1.1 chunks).
 *
 * The relay runs in a child process (`spawnRelay` in bench/_relay_setup.ts,
 * so that its heap is its own) with small limits, so that the abuse hits
 * them. For about `SOAK_MS`, legitimate clients (this library's endpoints,
 * authenticated over TLS as deployed) chat both ways and send files through
 * it, while other connections, on its plain TCP port unless said otherwise:
 *
 * - open connections and say nothing (and TLS connections that never start
 *   their handshake);
 * - dribble a header section byte by byte, without end;
 * - send junk;
 * - flood AUTH, without credentials and with wrong ones;
 * - open and drop connections in bursts;
 * - start chunks toward a legitimate client and never finish them.
 *
 * It asserts that every legitimate message arrives intact and in order, that
 * fresh clients can AUTH and deliver a message during the soak and at the end
 * (the relay still accepts; like real clients they try again, a bounded
 * number of times, when closed before their AUTH is done), and that the abuse
 * reached the limits it is meant to test. It prints the legitimate clients'
 * delivery latency (p50/p99/max), the relay's peak heap (after GC, sampled)
 * and resident size, its counters and the log events the abuse caused.
 *
 * Every loop is bounded in count and in time; nothing is timed as an
 * assertion, and the whole run fails with a message after `RUN_LIMIT_MS`
 * (generous: the machine may be loaded).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { MsrpEndpoint, MsrpSession } from "../../mod.ts";
import { DigestClient } from "../../lib/relay/digest.ts";
import { parseWwwAuthenticate } from "../../lib/wire/auth_headers.ts";
import type { MsrpRequest } from "../../lib/wire/frame.ts";
import { HeaderList } from "../../lib/wire/header_list.ts";
import {
  type BenchRelay,
  negotiate,
  relayEndpoint,
  type RelayMemory,
  type ResidentMemory,
  spawnRelay,
} from "../../bench/_relay_setup.ts";
import { memoryRelay, Peer, request, settle, tcpTransport } from "./relay_harness.ts";

/** How long the legitimate traffic and the abuse run. */
const SOAK_MS = 45_000;
/** The whole test fails past this (setup, soak, checks, shutdown). */
const RUN_LIMIT_MS = 240_000;
/** An attempt of a fresh client that has not delivered its message within this has failed. */
const FRESH_LIMIT_MS = 60_000;
/** Fresh clients during the soak, evenly spread (one more comes at the end). */
const FRESH_DURING = 4;
/** Attempts of one fresh client before the relay is taken to have stopped accepting. */
const FRESH_ATTEMPTS = 10;
/** Small limits, so that the abuse reaches them within the run. */
const LIMITS = {
  maxConnections: 40,
  probationMs: 3_000,
  idleMs: 6_000,
  sweepIntervalMs: 1_000,
  maxChallengesPerConnection: 5,
  maxAuthFailures: 3,
  maxProbationFailures: 3,
  writeStallMs: 15_000,
};
/** Pairs of legitimate clients (two endpoints each, one session). */
const PAIRS = 3;
/** Most chat rounds per pair (each: one message each way; every FILE_EVERY-th also a file). */
const MAX_ROUNDS = 400;
const FILE_EVERY = 10;
const FILE_SIZE = 128 * 1024;
/** Pause between a pair's rounds (load shaping, not synchronisation). */
const ROUND_PAUSE_MS = 100;
/** Most connections one kind of abuse opens in the run. */
const MAX_CONNECTS = 10_000;

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Fails with `what` if `p` has not settled within `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Open file descriptors of a process (Linux `/proc`); 0 when unreadable. */
async function openDescriptors(pid: number): Promise<number> {
  let n = 0;
  try {
    for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) n++;
  } catch {
    // not Linux, or gone
  }
  return n;
}

function portOf(uri: string): number {
  return Number(/:(\d+);/.exec(uri)![1]);
}

/** What the abuse did, by kind: connections opened, and closed by the relay. */
interface AbuseCount {
  connects: number;
  closedByRelay: number;
  connectFailures: number;
  responses: Record<string, number>;
}

/** The abuse: loops of hostile connections until `stop()`. */
class Abuse {
  readonly #stopped: Promise<void>;
  #stop!: () => void;
  #done = false;
  readonly #open = new Set<Deno.Conn>();
  readonly #loops: Promise<void>[] = [];
  readonly counts: Record<string, AbuseCount> = {};

  constructor(readonly tcpPort: number, readonly tlsPort: number) {
    this.#stopped = new Promise((r) => this.#stop = r);
  }

  get done(): boolean {
    return this.#done;
  }

  #count(kind: string): AbuseCount {
    return this.counts[kind] ??= {
      connects: 0,
      closedByRelay: 0,
      connectFailures: 0,
      responses: {},
    };
  }

  /**
   * Reads and drops what the relay sends on `conn`; resolves true when the
   * relay ends it (EOF or error), false when the abuse stops first.
   */
  drain(conn: Deno.Conn): Promise<boolean> {
    const reading = (async () => {
      const buf = new Uint8Array(16 * 1024);
      try {
        while ((await conn.read(buf)) !== null) { /* discard */ }
      } catch {
        // reset
      }
      return true;
    })();
    return Promise.race([reading, this.#stopped.then(() => false)]);
  }

  /** Resolves false when the abuse stops. */
  get stopped(): Promise<boolean> {
    return this.#stopped.then(() => false);
  }

  /**
   * Runs `n` loops of `kind`: each opens a connection, runs `body` on it
   * until the relay closes it (`body` resolves true) or the abuse stops
   * (false), and opens another.
   */
  loop(
    kind: string,
    n: number,
    body: (conn: Deno.Conn) => Promise<boolean>,
    tls = false,
  ): void {
    const count = this.#count(kind);
    for (let i = 0; i < n; i++) {
      this.#loops.push((async () => {
        while (!this.#done && count.connects < MAX_CONNECTS) {
          let conn: Deno.Conn;
          try {
            conn = await Deno.connect({
              hostname: "127.0.0.1",
              port: tls ? this.tlsPort : this.tcpPort,
            });
          } catch {
            count.connectFailures++;
            await pause(100);
            continue;
          }
          count.connects++;
          this.#open.add(conn);
          try {
            const byRelay = await Promise.race([body(conn).catch(() => true), this.stopped]);
            if (byRelay) count.closedByRelay++;
          } finally {
            this.#open.delete(conn);
            try {
              conn.close();
            } catch {
              // closed
            }
          }
        }
      })());
    }
  }

  /** Runs `fn` every `ms` until the abuse stops (at most `MAX_CONNECTS` times). */
  every(ms: number, fn: () => Promise<void>): void {
    this.#loops.push((async () => {
      for (let i = 0; i < MAX_CONNECTS && !this.#done; i++) {
        await fn().catch(() => {});
        await Promise.race([pause(ms), this.#stopped]);
      }
    })());
  }

  /** Counts a response status seen by an abuser of `kind`. */
  response(kind: string, status: number | string): void {
    const r = this.#count(kind).responses;
    r[status] = (r[status] ?? 0) + 1;
  }

  /** Opens `n` connections at once and closes them at once. */
  async burst(n: number): Promise<void> {
    const count = this.#count("burst");
    const conns = await Promise.allSettled(
      Array.from({ length: n }, () => Deno.connect({ hostname: "127.0.0.1", port: this.tcpPort })),
    );
    for (const c of conns) {
      if (c.status === "rejected") count.connectFailures++;
      else {
        count.connects++;
        c.value.close();
      }
    }
  }

  /** Stops every loop and closes what is still open. */
  async stop(): Promise<void> {
    this.#done = true;
    this.#stop();
    for (const c of this.#open) {
      try {
        c.close();
      } catch {
        // closed
      }
    }
    await Promise.all(this.#loops);
  }
}

/** A Peer (harness) on an abuse connection; its reading ends when the connection does. */
function peerOn(conn: Deno.Conn): Peer {
  return new Peer(tcpTransport(conn));
}

/** AUTH without credentials, again and again on one connection (RFC 4976 §5.1). */
async function authFlood(abuse: Abuse, conn: Deno.Conn, relayUri: string): Promise<boolean> {
  const peer = peerOn(conn);
  for (let i = 0; i < 1_000 && !abuse.done; i++) {
    await peer.send(request("AUTH", `flood${i}`, [
      ["To-Path", relayUri],
      ["From-Path", `msrp://flooder.example.com:9/f${i};tcp`],
    ]));
    const f = await peer.next();
    if (f === undefined) return true;
    abuse.response("auth-no-credentials", f.kind === "response" ? f.status : "request");
  }
  await peer.ended;
  return !abuse.done;
}

/** AUTH answering each challenge with a wrong password (RFC 4976 §6.3). */
async function authWrong(abuse: Abuse, conn: Deno.Conn, relayUri: string): Promise<boolean> {
  const peer = peerOn(conn);
  const client = new DigestClient({ username: "alice", password: "not-her-password" });
  const base: [string, string][] = [
    ["To-Path", relayUri],
    ["From-Path", "msrp://guesser.example.com:9/g;tcp"],
  ];
  for (let i = 0; i < 1_000 && !abuse.done; i++) {
    await peer.send(request("AUTH", `guess${i}a`, base));
    const challenge = await peer.next();
    if (challenge === undefined) return true;
    if (challenge.kind !== "response") continue;
    abuse.response("auth-wrong-password", challenge.status);
    if (challenge.status !== 401) continue;
    const authorization = client.authorization(
      challenge.headers.getAll("WWW-Authenticate").map(parseWwwAuthenticate),
      relayUri,
    );
    await peer.send(request("AUTH", `guess${i}b`, [...base, ["Authorization", authorization]]));
    const f = await peer.next();
    if (f === undefined) return true;
    abuse.response("auth-wrong-password", f.kind === "response" ? f.status : "request");
  }
  await peer.ended;
  return !abuse.done;
}

/**
 * A chunk toward `toPath` whose body is cut off: no end-line ever follows
 * (RFC 4975 §7.1). Every other one is longer than the relay's segment size,
 * so that the relay starts forwarding it to the client before it stalls.
 */
function stalledChunk(toPath: string, i: number): MsrpRequest {
  return {
    kind: "request",
    tid: `stall${i}x`,
    method: "SEND",
    headers: new HeaderList([
      ["To-Path", toPath],
      ["From-Path", `msrp://staller.example.com:9/s${i};tcp`],
      ["Message-ID", `stalled${i}`],
      ["Byte-Range", "1-*/1000000"],
      ["Content-Type", "application/octet-stream"],
    ]),
    body: new Uint8Array(i % 2 === 0 ? 4000 : 100_000).fill(0x41),
    offset: 0,
    flag: undefined,
  };
}

/** What one direction of a legitimate session sent, for the receiver to check in order. */
interface Expected {
  readonly body: string | Uint8Array;
  readonly sentAt: number;
}

/** One direction of a chat: `from` sends, `to` receives and checks. */
class Direction {
  readonly expected: Expected[] = [];
  sent = 0;
  received = 0;
  readonly receiving: Promise<void>;
  #wake: (() => void) | undefined;

  constructor(
    readonly name: string,
    readonly from: MsrpSession,
    readonly to: MsrpSession,
    latencies: number[],
  ) {
    this.receiving = (async () => {
      for (;;) {
        const m = await this.to.nextMessage();
        if (m === undefined) return;
        const e = this.expected[this.received];
        assert.ok(e !== undefined, `${name}: a message nobody sent (${m.messageId})`);
        if (typeof e.body === "string") {
          assert.equal(m.contentType, "text/plain", `${name}: message ${this.received}`);
          assert.equal(await m.text(), e.body, `${name}: message ${this.received} altered`);
          latencies.push(performance.now() - e.sentAt);
        } else {
          const got = await m.bytes();
          assert.equal(got.length, e.body.length, `${name}: file ${this.received} size`);
          assert.ok(
            got.every((b, i) => b === (e.body as Uint8Array)[i]),
            `${name}: file ${this.received} altered`,
          );
        }
        this.received++;
        this.#wake?.();
      }
    })();
  }

  /** Sends and waits for the relay's 200 (RFC 4976 §6.4: hop by hop). */
  async send(body: string | Uint8Array): Promise<void> {
    this.expected.push({ body, sentAt: performance.now() });
    this.sent++;
    let status: number;
    try {
      status = (await this.from.send(
        body,
        typeof body === "string" ? {} : { contentType: "application/octet-stream" },
      )).status;
    } catch (e) {
      // Say why the session ended, if it did.
      const end = await Promise.race([this.from.closed, Promise.resolve(undefined)]);
      throw new Error(
        `${this.name}: send ${this.sent} failed: ${e}` +
          (end === undefined ? "" : `; the session ended: ${end.error ?? "closed"}`),
      );
    }
    assert.equal(status, 200, `${this.name}: send ${this.sent} got ${status}`);
  }

  /** Resolves once everything sent has been received. */
  async drained(): Promise<void> {
    while (this.received < this.sent) {
      await Promise.race([
        new Promise<void>((r) => this.#wake = r),
        this.receiving.then(() => {
          throw new Error(`${this.name}: the session ended with ${this.received}/${this.sent}`);
        }),
      ]);
    }
  }
}

/** Failed attempts of fresh clients, with why. */
const freshFailures: string[] = [];

/**
 * A fresh client AUTHs (TLS) and delivers one message to a fresh session of
 * `peer`: the relay still accepts and serves newcomers. Like a real client it
 * tries again when its connection is closed (at the connection limit the
 * relay may close a connection that has not yet authenticated to make room
 * for a newcomer), at most `FRESH_ATTEMPTS` times; the failed attempts are
 * printed.
 */
async function freshClient(relay: BenchRelay, peer: MsrpEndpoint, label: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      return await within(deliverOnce(relay, peer, label), FRESH_LIMIT_MS, "delivery");
    } catch (e) {
      freshFailures.push(`${label}, attempt ${attempt}: ${e}`);
      if (attempt >= FRESH_ATTEMPTS) {
        throw new Error(
          `a fresh client (${label}) could not AUTH and deliver in ${attempt} attempts: ` +
            freshFailures.join("; "),
        );
      }
    }
  }
}

async function deliverOnce(relay: BenchRelay, peer: MsrpEndpoint, label: string): Promise<void> {
  const e = await relayEndpoint(relay, "tls", "alice");
  try {
    const a = e.createSession();
    const b = peer.createSession();
    await negotiate(e, a, peer, b);
    const body = `fresh client ${label}`;
    assert.equal((await a.send(body)).status, 200);
    const m = await b.nextMessage();
    assert.ok(m !== undefined, `${label}: no message`);
    assert.equal(await m.text(), body);
    a.close();
    b.close();
  } finally {
    await e.close();
  }
}

Deno.test({
  name: "soak: legitimate clients keep chatting and sending files through a relay under abuse",
  async fn() {
    const relay = await spawnRelay({ limits: LIMITS });
    const endpoints: MsrpEndpoint[] = [];
    const abuse = new Abuse(portOf(relay.tcpUri), portOf(relay.tlsUri));
    const heap: RelayMemory[] = [];
    const resident: ResidentMemory[] = [];
    const descriptors: number[] = [];
    let sampling = true;
    // A failure in a background task (a chat loop, a receiver) ends the run at once.
    let fail!: (e: unknown) => void;
    const failure = new Promise<never>((_, reject) => fail = reject);
    failure.catch(() => {});
    const guard = <T>(p: Promise<T>): Promise<T> => {
      p.catch(fail);
      return p;
    };
    const step = <T>(p: Promise<T>): Promise<T> => Promise.race([p, failure]);
    const run = async () => {
      // ---- the legitimate clients: endpoints over TLS, one session per pair ----
      const pairs = await Promise.all(Array.from({ length: PAIRS }, async (_, i) => {
        const ea = await relayEndpoint(relay, "tls", "alice");
        endpoints.push(ea);
        const eb = await relayEndpoint(relay, "tls", "bob");
        endpoints.push(eb);
        const a = ea.createSession();
        const b = eb.createSession();
        await negotiate(ea, a, eb, b);
        return { i, ea, eb, a, b };
      }));
      const latencies: number[] = [];
      const directions = pairs.flatMap(({ i, a, b }) => [
        new Direction(`pair ${i} a→b`, a, b, latencies),
        new Direction(`pair ${i} b→a`, b, a, latencies),
      ]);
      for (const d of directions) guard(d.receiving);
      const baseline = await relay.memory();

      // ---- memory samples (after GC in the relay's process), every second ----
      const sampler = (async () => {
        for (let i = 0; i < RUN_LIMIT_MS / 1000 && sampling; i++) {
          heap.push(await relay.memory());
          resident.push(await relay.resident());
          descriptors.push(await openDescriptors(relay.pid!));
          await pause(1000);
        }
      })();

      // ---- the abuse ----
      const relayTcp = `msrp://localhost:${abuse.tcpPort};tcp`;
      abuse.loop("idle", 10, (conn) => abuse.drain(conn));
      abuse.loop("idle-tls-no-handshake", 4, (conn) => abuse.drain(conn), true);
      const header = new TextEncoder().encode(
        `MSRP dribble SEND\r\nTo-Path: ${relayTcp}\r\nFrom-Path: msrp://dribbler.example.com:9/d;tcp\r\nX-Long: ${
          "y".repeat(200)
        }`,
      );
      abuse.loop("dribble", 6, async (conn) => {
        let gone = false;
        const ended = abuse.drain(conn).then((r) => (gone = true, r));
        for (let i = 0; i < 100_000 && !gone && !abuse.done; i++) {
          await conn.write(header.subarray(i % header.length, i % header.length + 1));
          await pause(20);
        }
        return await ended;
      });
      abuse.loop("junk", 3, async (conn) => {
        let gone = false;
        const ended = abuse.drain(conn).then((r) => (gone = true, r));
        for (let i = 0; i < 1_000 && !gone && !abuse.done; i++) {
          await conn.write(crypto.getRandomValues(new Uint8Array(8192)));
          await pause(50);
        }
        return await ended;
      });
      abuse.loop("auth-no-credentials", 2, (conn) => authFlood(abuse, conn, relayTcp));
      abuse.loop("auth-wrong-password", 2, (conn) => authWrong(abuse, conn, relayTcp));
      const targets = pairs.map(({ eb, b }) => eb.path(b).map(String).join(" "));
      let stalls = 0;
      abuse.loop("stalled-chunk", 6, async (conn) => {
        const peer = peerOn(conn);
        const n = stalls++;
        await peer.send(stalledChunk(targets[n % targets.length], n));
        // Answers (a 200 once the chunk is complete, which it never is) are read and dropped.
        for (let f = await peer.next(); f !== undefined; f = await peer.next()) {
          abuse.response("stalled-chunk", f.kind === "response" ? f.status : f.method ?? "?");
        }
        return !abuse.done;
      });
      abuse.every(250, () => abuse.burst(25));

      // ---- legitimate traffic until SOAK_MS ----
      const t0 = performance.now();
      const file = (round: number) => {
        const f = new Uint8Array(FILE_SIZE);
        for (let k = 0; k < f.length; k++) f[k] = (k * 7 + round) & 0xff;
        return f;
      };
      const chatting = pairs.map(({ i }) => guard(chat(i)));
      async function chat(i: number): Promise<void> {
        const [ab, ba] = [directions[2 * i], directions[2 * i + 1]];
        for (let r = 0; r < MAX_ROUNDS && performance.now() - t0 < SOAK_MS; r++) {
          await Promise.all([
            ab.send(`pair ${i} round ${r}: hello from a`),
            ba.send(`pair ${i} round ${r}: hello from b ${"é".repeat(r % 50)}`),
          ]);
          if (r % FILE_EVERY === FILE_EVERY - 1) await ab.send(file(r));
          await pause(ROUND_PAUSE_MS);
        }
      }
      // Fresh clients now and then: the relay lets newcomers in whatever the abuse holds.
      for (let k = 1; k <= FRESH_DURING; k++) {
        await step(pause(SOAK_MS / (FRESH_DURING + 1)));
        await step(freshClient(relay, pairs[k % PAIRS].eb, `${k} of ${FRESH_DURING} during`));
      }
      await step(Promise.all(chatting));
      await step(Promise.all(directions.map((d) => d.drained())));
      // The relay still accepts: a fresh client AUTHs and delivers, abuse still on.
      await step(freshClient(relay, pairs[0].eb, "at the end"));
      const soakMs = performance.now() - t0;
      await abuse.stop();
      sampling = false;
      await sampler;

      // ---- results ----
      const stats = await relay.stats();
      const events = await relay.events();
      const sorted = [...latencies].sort((x, y) => x - y);
      const sent = directions.reduce((n, d) => n + d.sent, 0);
      const received = directions.reduce((n, d) => n + d.received, 0);
      const files = directions.reduce(
        (n, d) => n + d.expected.filter((e) => typeof e.body !== "string").length,
        0,
      );
      const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
      const peakHeap = Math.max(...heap.map((m) => m.heapUsed));
      const peakRss = Math.max(...resident.map((m) => m.rss));
      const peakFds = Math.max(...descriptors);
      const ms = (n: number) => `${n.toFixed(1)} ms`;
      console.log(
        [
          `soak: ${(soakMs / 1000).toFixed(1)} s, ${PAIRS} pairs, ${sent} messages sent, ` +
          `${received} received intact (${files} files of ${FILE_SIZE / 1024} KiB)`,
          `latency (send to arrival, text): p50 ${ms(percentile(sorted, 0.5))}, ` +
          `p99 ${ms(percentile(sorted, 0.99))}, max ${ms(sorted[sorted.length - 1])} ` +
          `(${sorted.length} messages)`,
          `relay heap after GC: ${mib(baseline.heapUsed)} before the abuse, peak ${
            mib(peakHeap)
          } (${heap.length} samples, gc ${baseline.gc}); peak RSS ${mib(peakRss)}; ` +
          `peak open descriptors ${peakFds}, ${descriptors[descriptors.length - 1]} at the end`,
          `fresh clients: ${FRESH_DURING + 1} delivered; failed attempts: ${freshFailures.length}` +
          freshFailures.map((f) => `\n  ${f}`).join(""),
          `relay limits: ${JSON.stringify(LIMITS)}`,
          `relay stats: ${JSON.stringify(stats)}`,
          `relay log events: ${JSON.stringify(events)}`,
          `abuse: ${JSON.stringify(abuse.counts)}`,
        ].join("\n"),
      );
      assert.equal(received, sent);
      assert.ok(sent > 0);
      // The abuse reached the limits it is meant to test (else it tests nothing).
      const seen = (prefix: string) =>
        Object.entries(events).some(([k, n]) => k.startsWith(prefix) && n > 0);
      assert.ok(seen("connection-closed: closed to make room"), "maxConnections never reached");
      assert.ok(seen("challenge-limit"), "maxChallengesPerConnection never reached");
      assert.ok(seen("auth-failures"), "maxAuthFailures never reached");
      assert.ok(seen("frame-fatal"), "junk never lost its framing");
      for (const p of pairs) p.a.close(), p.b.close();
    };
    try {
      await within(run(), RUN_LIMIT_MS, "the soak");
    } catch (e) {
      // What the relay and the abuse saw, to tell why.
      const events = await within(relay.events(), 10_000, "events").catch(String);
      console.log(`relay log events: ${JSON.stringify(events)}`);
      console.log(`abuse: ${JSON.stringify(abuse.counts)}`);
      throw e;
    } finally {
      sampling = false;
      await abuse.stop();
      await Promise.all(endpoints.map((e) => e.close()));
      await relay.close();
    }
  },
});

// What the soak found (see `freshClient`): at the connection limit, a client
// that got its 401 and is computing its credentials is idle in the relay's
// sense (no registration, nothing pending), so `ConnectionTable.makeRoom`
// closes it for a newcomer that has said nothing. Under a churn of new
// connections a newcomer can then fail its AUTH again and again. Issue 8
// defect 3 expects that "a legitimate client always gets in". Ignored until
// the admission policy is changed (for instance: a connection that has sent
// nothing goes before one in the middle of AUTH); it fails on main.
Deno.test({
  name:
    "at the connection limit, a client between its 401 and its credentials is not closed for a silent newcomer",
  ignore: true,
  async fn() {
    const { relay, connect, clock } = memoryRelay({
      host: "relay.example.com",
      limits: { maxConnections: 3 },
    });
    const to = "msrps://relay.example.com:9000;tcp";
    const from = "msrps://alice.example.com:1234/a1;tcp";
    const alice = connect();
    await alice.send(request("AUTH", "auth1abc", [["To-Path", to], ["From-Path", from]]));
    const challenge = await alice.response();
    assert.equal(challenge.status, 401);
    // Three newcomers that say nothing, while Alice computes her answer.
    const silent: Peer[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(1);
      silent.push(connect());
      await settle(50);
    }
    const closed = await Promise.race([
      alice.ended.then(() => true),
      settle(200).then(() => false),
    ]);
    assert.equal(closed, false, "Alice's connection was closed to make room for a silent newcomer");
    const client = new DigestClient({ username: "alice", password: "secret" });
    const authorization = client.authorization(
      challenge.headers.getAll("WWW-Authenticate").map(parseWwwAuthenticate),
      to,
    );
    await alice.send(
      request("AUTH", "auth2abc", [["To-Path", to], ["From-Path", from], [
        "Authorization",
        authorization,
      ]]),
    );
    const ok = await alice.next();
    assert.ok(ok !== undefined && ok.kind === "response", "Alice's connection was closed");
    assert.equal(ok.status, 200);
    await relay.close();
  },
});
