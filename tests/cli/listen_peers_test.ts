// `msrp listen` in process: any number of peers on one printed URI, one
// session each, and at most MAX_PEERS kept (issue 9 defect 1; RFC 4975 §5.4).

import assert from "node:assert/strict";
import { MsrpEndpoint, type MsrpSession } from "../../mod.ts";
import type { CliIo } from "../../lib/cli/common.ts";
import { listenCommand, MAX_PEERS } from "../../lib/cli/listen.ts";
import { resolveRelayConfig, serveRelay } from "../../lib/relay/mod.ts";

/** Standard streams in memory; `stop()` delivers SIGTERM; `line(n)` waits for stdout line n. */
function memoryIo() {
  let handler: ((signal: string) => void) | undefined;
  const waiters: (() => void)[] = [];
  const io = {
    stdout: "",
    stderr: "",
    out(text: string) {
      io.stdout += text;
      for (const w of waiters.splice(0)) w();
    },
    err(text: string) {
      io.stderr += text;
      for (const w of waiters.splice(0)) w();
    },
    stdin: new Blob([]).stream(),
    stdinIsTerminal: false,
    stdoutIsTerminal: false,
    stderrIsTerminal: false,
    onSignal(h: (signal: string) => void) {
      handler = h;
      return () => (handler = undefined);
    },
    stop: () => handler?.("SIGTERM"),
    async until(test: () => boolean): Promise<void> {
      while (!test()) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
  return io satisfies CliIo;
}

Deno.test("msrp listen: one URI, a session per peer, the quietest let go past MAX_PEERS", async () => {
  const io = memoryIo();
  const running = listenCommand([], io);
  await io.until(() => io.stdout.includes("\n"));
  const uri = io.stdout.split("\n")[0];
  const sender = await MsrpEndpoint.start(); // all its sessions share one connection (§5.4)
  const peers: MsrpSession[] = [];
  for (let i = 0; i < MAX_PEERS; i++) {
    const s = sender.createSession();
    await sender.connect(s, [uri]);
    peers.push(s);
  }
  // Every peer talks to its own session on the listener, the first last.
  await peers[1].send("from peer 1", { successReport: true });
  await peers[0].send("from peer 0", { successReport: true });
  assert.doesNotMatch(io.stderr, /peers at once/);
  // One more: the session quiet the longest (peer 2's) is closed.
  const bindings = () => io.stderr.match(/a peer bound a session/g)?.length;
  const extra = sender.createSession();
  await sender.connect(extra, [uri]);
  await extra.send("from the extra peer", { successReport: true });
  await io.until(() => io.stderr.includes(`${MAX_PEERS} peers at once`));
  assert.equal(bindings(), MAX_PEERS + 1);
  // A peer let go is served again in a new session when it comes back (and
  // the next quietest, peer 3, is let go); peer 0, active lately, was kept.
  await peers[2].send("peer 2 again", { successReport: true });
  assert.equal(bindings(), MAX_PEERS + 2);
  await peers[0].send("peer 0 again", { successReport: true });
  assert.equal(bindings(), MAX_PEERS + 2, "peer 0 still has its session");
  assert.equal(io.stderr.match(/peers at once/g)?.length, 2);
  assert.deepEqual(io.stdout.split("\n").slice(1, -1), [
    "from peer 1",
    "from peer 0",
    "from the extra peer",
    "peer 2 again",
    "peer 0 again",
  ]);
  io.stop();
  assert.equal(await running, 0);
  await sender.close();
});

/**
 * Two peers of one sender endpoint, whose binding SENDs leave in one turn:
 * one socket write (the transport gathers a turn's writes), so the listener
 * reads both first requests at once, through a relay too (it forwards both
 * in one turn on the one connection to the listener).
 */
async function twoPeersAtOnce(uri: string, sender: MsrpEndpoint): Promise<MsrpSession[]> {
  const peers = [sender.createSession(), sender.createSession()];
  await Promise.all(peers.map((s) => sender.connect(s, uri.split(" "))));
  return peers;
}

for (const via of ["directly", "through a relay"] as const) {
  Deno.test(`msrp listen ${via}: two peers whose first requests arrive together each get a session`, async () => {
    const relay = via === "directly" ? undefined : await serveRelay(
      resolveRelayConfig({
        host: "localhost",
        allowInsecure: true,
        listen: [{ hostname: "127.0.0.1", port: 0, tls: false }],
        users: { listener: { password: "listener-pw" }, sender: { password: "sender-pw" } },
      }),
      { logger: () => {} },
    );
    const account = (user: string) => ({
      uri: `msrp://localhost:${relay!.listeners[0].addr!.port};tcp`,
      username: user,
      password: `${user}-pw`,
    });
    const io = memoryIo();
    const flags = relay === undefined ? [] : [
      ...["--relay", account("listener").uri, "--user", "listener"],
      ...["--password", "listener-pw"],
    ];
    const running = listenCommand(flags, io);
    await io.until(() => io.stdout.includes("\n"));
    const uri = io.stdout.split("\n")[0];
    const sender = await MsrpEndpoint.start(
      relay === undefined ? {} : { relays: [account("sender")] },
    );
    const [a, b] = await twoPeersAtOnce(uri, sender);
    await a.send("from peer a", { successReport: true });
    await b.send("from peer b", { successReport: true });
    assert.equal(io.stderr.match(/a peer bound a session/g)?.length, 2);
    assert.deepEqual(io.stdout.split("\n").slice(1, -1), ["from peer a", "from peer b"]);
    io.stop();
    assert.equal(await running, 0);
    await sender.close();
    await relay?.close();
  });
}

Deno.test("msrp listen --once: of two peers arriving together, the first is served and the other refused", async () => {
  const io = memoryIo();
  const running = listenCommand(["--once"], io);
  await io.until(() => io.stdout.includes("\n"));
  const uri = io.stdout.split("\n")[0];
  const sender = await MsrpEndpoint.start();
  const peers = [sender.createSession(), sender.createSession()];
  const bound = await Promise.allSettled(peers.map((s) => sender.connect(s, [uri])));
  assert.deepEqual(bound.map((b) => b.status).sort(), ["fulfilled", "rejected"]);
  const served = peers[bound.findIndex((b) => b.status === "fulfilled")];
  await served.send("the one", { successReport: true });
  assert.equal(await running, 0);
  assert.equal(io.stdout.split("\n").slice(1, -1).join("\n"), "the one");
  assert.equal(io.stderr.match(/a peer bound a session/g)?.length, 1);
  await sender.close();
});
