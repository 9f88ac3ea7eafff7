/**
 * Latency under load through a relay (RFC 4975 §7.1: a sender may interleave
 * chunks of different messages, so a short message need not wait for a large
 * one; RFC 4976 §6: the relay forwards chunks as they come).
 *
 *   deno run -A bench/latency_bench.ts [runs]
 *
 * Two endpoints, A and B, each with one connection to a relay in a child
 * process (plain TCP, as `relay_bench.ts` measures). A sends a 100 MB file to
 * B on one session; while it flows, A sends a short chat message to B every
 * ~100 ms on a second session over the same connections. Printed: the median,
 * 99th percentile and maximum time from `send()` of a chat message to its
 * arrival at B, and the file's throughput in MB/s. Bounded: at most
 * `MAX_CHATS` chat messages and `TIME_LIMIT_MS` per run.
 *
 * @module
 */

import type { MsrpSession } from "../mod.ts";
import { negotiate, relayEndpoint, spawnRelay } from "./_relay_setup.ts";

const FILE_SIZE = 100 * 1000 * 1000;
const CHAT = "a chat message while a file flows";
const CHAT_EVERY_MS = 100;
const MAX_CHATS = 1000;
const TIME_LIMIT_MS = 120_000;

const FILE = new Uint8Array(FILE_SIZE);
for (let i = 0; i < FILE_SIZE; i += 65536) {
  crypto.getRandomValues(FILE.subarray(i, Math.min(FILE_SIZE, i + 65536)));
}

/** The latencies of the chat messages (ms) and the file's MB/s. */
interface RunResult {
  latencies: number[];
  mbPerSecond: number;
}

async function receiveChats(b: MsrpSession, sentAt: number[], latencies: number[]) {
  for (;;) {
    const m = await b.nextMessage();
    if (m === undefined) return;
    const arrived = performance.now();
    const text = await m.text();
    const i = Number(text.slice(CHAT.length + 1));
    if (!text.startsWith(CHAT) || !(i in sentAt)) throw new Error("a chat message came altered");
    latencies.push(arrived - sentAt[i]);
  }
}

async function run(): Promise<RunResult> {
  const relay = await spawnRelay();
  const ea = await relayEndpoint(relay, "tcp", "alice");
  const eb = await relayEndpoint(relay, "tcp", "bob");
  try {
    const fileA = ea.createSession();
    const fileB = eb.createSession();
    await negotiate(ea, fileA, eb, fileB);
    const chatA = ea.createSession();
    const chatB = eb.createSession();
    await negotiate(ea, chatA, eb, chatB);

    const sentAt: number[] = [];
    const latencies: number[] = [];
    const chats = receiveChats(chatB, sentAt, latencies);
    const t0 = performance.now();
    const fileReceived = (async () => {
      const m = await fileB.nextMessage();
      if (m === undefined) throw new Error("the file session ended");
      let n = 0;
      for await (const piece of m.stream()) n += piece.length;
      if (n !== FILE_SIZE) throw new Error(`the file came with ${n} octets`);
      return performance.now();
    })();
    let done = false;
    const fileSent = fileA.send(FILE, { contentType: "application/octet-stream" });
    const fileEnd = fileReceived.finally(() => done = true);
    const chatSends: Promise<unknown>[] = [];
    while (!done && sentAt.length < MAX_CHATS && performance.now() - t0 < TIME_LIMIT_MS) {
      const i = sentAt.length;
      sentAt.push(performance.now());
      chatSends.push(chatA.send(`${CHAT} ${i}`));
      await Promise.race([fileEnd, new Promise((r) => setTimeout(r, CHAT_EVERY_MS))]);
    }
    const t1 = await fileEnd;
    const r = await fileSent;
    if (r.status !== 200) throw new Error(`the file got ${r.status}`);
    await Promise.all(chatSends);
    // every chat sent has arrived once its send was answered
    const waitUntil = performance.now() + 5000;
    while (latencies.length < sentAt.length && performance.now() < waitUntil) {
      await new Promise((r) => setTimeout(r, 1));
    }
    if (latencies.length < sentAt.length) throw new Error("a chat message was lost");
    fileA.close();
    fileB.close();
    chatA.close();
    chatB.close();
    await chats;
    return { latencies, mbPerSecond: FILE_SIZE / 1e6 / ((t1 - t0) / 1000) };
  } finally {
    await ea.close();
    await eb.close();
    await relay.close();
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const runs = Number(Deno.args[0] ?? 3);
for (let i = 0; i < runs; i++) {
  const { latencies, mbPerSecond } = await run();
  const s = latencies.toSorted((x, y) => x - y);
  console.log(
    `run ${i + 1}: ${s.length} chats, latency median ${quantile(s, 0.5).toFixed(1)} ms, ` +
      `p99 ${quantile(s, 0.99).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms; ` +
      `file ${mbPerSecond.toFixed(1)} MB/s`,
  );
}
