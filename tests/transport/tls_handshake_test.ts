// Issue 8, defect 2: connections that never finish the TLS handshake must be
// released. Raw TCP sockets connect to a TLS listener and never send a
// ClientHello; at the handshake deadline (on an injected clock) the server
// closes them, the clients see the end, and the descriptors are freed.

import assert from "node:assert/strict";
import { ManualClock } from "../../lib/session/clock.ts";
import { connectTls, listenTls } from "../../lib/transport/tls.ts";

const certs = new URL("../fixtures/certs/", import.meta.url);
const SERVER = {
  cert: await Deno.readTextFile(new URL("server.pem", certs)),
  key: await Deno.readTextFile(new URL("server.key", certs)),
};
const CA = await Deno.readTextFile(new URL("ca.pem", certs));
const LINUX = Deno.build.os === "linux";

/** Open descriptors of this process. */
/**
 * This process's descriptors for TCP sockets whose local port is `port`: a
 * listener's own socket and the connections it accepted. Counted by socket
 * inode (/proc/net/tcp*), not by all descriptors, so that other tests
 * running in this process at the same time (`--parallel`) do not count.
 */
function serverSockets(port: number): number {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(table);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && parseInt(f[1].split(":")[1], 16) === port) inodes.add(f[9]);
    }
  }
  let n = 0;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/self/fd/${e.name}`));
      if (m !== null && inodes.has(m[1])) n++;
    } catch {
      // closed while we looked
    }
  }
  return n;
}

/** Waits (up to 10 s) for `cond`, letting I/O run between checks. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not reached within 10 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** `p`, or a failure after 10 s (a broken listener fails the test instead of hanging it). */
async function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within 10 s: ${what}`)), 10_000);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with how a raw socket ended: "eof", "reset", or "data". */
async function ending(conn: Deno.Conn): Promise<string> {
  try {
    const n = await conn.read(new Uint8Array(64));
    return n === null ? "eof" : "data";
  } catch (e) {
    if (e instanceof Deno.errors.ConnectionReset) return "reset";
    throw e;
  }
}

for (const mutual of [false, true]) {
  Deno.test({
    name: `tls${mutual ? " (client certificates)" : ""}: silent clients are dropped at ` +
      "the handshake deadline and their descriptors freed",
    ignore: !LINUX,
    async fn() {
      const clock = new ManualClock();
      const listener = await listenTls({
        hostname: "127.0.0.1",
        port: 0,
        ...SERVER,
        requestClientCertificate: mutual,
        caCerts: mutual ? [CA] : undefined,
        handshakeTimeoutMs: 5000,
        clock,
      });
      const pending = () =>
        (listener as unknown as { pendingHandshakes: number }).pendingHandshakes;
      const silent: Deno.Conn[] = [];
      for (let i = 0; i < 20; i++) {
        silent.push(await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }));
      }
      await until(() => pending() === 20, "the listener accepted the silent clients");
      // Our 20 client sockets and the 20 the listener accepted are open.
      const port = listener.addr.port;
      const full = serverSockets(port);
      const endings = silent.map(ending);
      clock.advance(4999);
      assert.equal(pending(), 20, "nothing dropped before the deadline");
      clock.advance(1);
      assert.equal(pending(), 0);
      const how = await within(Promise.all(endings), "the server closed the silent clients");
      assert.ok(how.every((h) => h === "eof" || h === "reset"), how.join(","));
      // The server's 20 descriptors are gone (ours stay until we close them).
      await until(
        () => serverSockets(port) <= full - 20,
        "the server side released its descriptors",
      );
      for (const c of silent) c.close();
      // The listener still serves a real client.
      const accepted = listener.accept();
      const client = await connectTls(
        { hostname: "127.0.0.1", port: listener.addr.port },
        { hostname: "localhost", caCerts: [CA] },
      );
      const server = await accepted;
      client.close();
      server.close();
      listener.close();
    },
  });
}

Deno.test({
  name: "tls: past maxPendingHandshakes, a new connection drops the oldest silent one",
  ignore: !LINUX,
  async fn() {
    const listener = await listenTls({
      hostname: "127.0.0.1",
      port: 0,
      ...SERVER,
      maxPendingHandshakes: 5,
      clock: new ManualClock(),
    });
    const silent: Deno.Conn[] = [];
    const endings: Promise<string>[] = [];
    for (let i = 0; i < 8; i++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
      silent.push(c);
      endings.push(ending(c));
      // One at a time, so that "oldest" is well defined.
      const pending = () =>
        (listener as unknown as { pendingHandshakes: number }).pendingHandshakes;
      await until(() => pending() === Math.min(i + 1, 5), `connection ${i + 1} accepted`);
    }
    // The first three were dropped; the last five still wait.
    const dropped = await within(Promise.all(endings.slice(0, 3)), "the oldest were dropped");
    assert.ok(dropped.every((h) => h === "eof" || h === "reset"), dropped.join(","));
    listener.close(); // drops the rest
    const rest = await within(Promise.all(endings.slice(3)), "closing dropped the rest");
    assert.ok(rest.every((h) => h === "eof" || h === "reset"), rest.join(","));
    for (const c of silent) c.close();
  },
});

Deno.test({
  name: "tls: close() on an accepted connection frees its descriptor; the client sees the end",
  ignore: !LINUX,
  async fn() {
    const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...SERVER });
    const accepted = listener.accept();
    const client = await connectTls(
      { hostname: "127.0.0.1", port: listener.addr.port },
      { hostname: "localhost", caCerts: [CA] },
    );
    const server = await accepted;
    const before = serverSockets(listener.addr.port);
    server.close(); // as the relay does when probation ends (RFC 4976 §6.1)
    assert.ok(
      serverSockets(listener.addr.port) <= before - 1,
      "the server's descriptor is released at once",
    );
    // An abortive close (no close_notify): the client's read ends, as an end or an error.
    const end = await within(
      client.readable.getReader().read().then((r) => r.done, () => true),
      "the client saw the end",
    );
    assert.equal(end, true);
    client.close();
    listener.close();
  },
});
