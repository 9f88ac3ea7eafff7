// Issue 8, defect 1: a burst of connections that exhausts the process's
// descriptors must not kill a listener. A server runs in a subprocess under
// `ulimit -n 64`; the test opens more idle connections than that, waits for
// the server to report the failed accept, closes them, and checks that a new
// client is accepted and served.

import assert from "node:assert/strict";
import { MsrpEndpoint } from "../../lib/endpoint/endpoint.ts";
import { connectTcp } from "../../lib/transport/tcp.ts";
import { connectTls } from "../../lib/transport/tls.ts";
import type { MsrpTransport } from "../../lib/transport/types.ts";
import { connectWebSocket } from "../../lib/transport/websocket.ts";

const SERVER = new URL("./_echo_server.ts", import.meta.url).pathname;
const CA = await Deno.readTextFile(new URL("../fixtures/certs/ca.pem", import.meta.url));
/** Descriptors the server may open; the burst is larger. */
const LIMIT = 64;
const BURST = 100;
/** A generous bound for each step, so that a broken server fails the test instead of hanging it. */
const STEP_MS = 20_000;

/** The server's standard error, collected as it comes. */
class Lines {
  text = "";
  #wake: (() => void) | undefined;
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    (async () => {
      for await (const s of stream.pipeThrough(new TextDecoderStream())) {
        this.text += s;
        this.#wake?.();
      }
      this.#done = true;
      this.#wake?.();
    })();
  }

  /** Waits until `re` matches the text so far (or the stream ends, or `ms` pass). */
  async waitFor(re: RegExp, ms = STEP_MS): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
    try {
      while (!re.test(this.text) && !this.#done) {
        const more = new Promise<void>((resolve) => this.#wake = resolve);
        if (await Promise.race([more.then(() => false), timeout.then(() => true)])) break;
      }
      return re.test(this.text);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), STEP_MS);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function connect(kind: string, port: number): Promise<MsrpTransport> {
  const address = { hostname: "127.0.0.1", port };
  if (kind === "tls") return connectTls(address, { hostname: "localhost", caCerts: [CA] });
  if (kind === "ws") return connectWebSocket(`ws://127.0.0.1:${port}/`, { insecure: true });
  return connectTcp(address);
}

async function exhaustThenServe(kind: string, mode = ""): Promise<void> {
  const child = new Deno.Command("bash", {
    args: [
      "-c",
      `ulimit -n ${LIMIT} && exec "$0" run -A "$1" "$2" "$3"`,
      Deno.execPath(),
      SERVER,
      kind,
      mode,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = new Lines(child.stdout);
  const err = new Lines(child.stderr);
  const idle: Deno.Conn[] = [];
  try {
    assert.ok(await out.waitFor(/port \d+/), `the server did not start: ${err.text}`);
    const port = Number(/port (\d+)/.exec(out.text)![1]);
    for (let i = 0; i < BURST; i++) {
      try {
        idle.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      } catch {
        break; // a server that stopped listening refuses (and resets) the rest
      }
    }
    assert.ok(
      await err.waitFor(/accept failed|listener ended/),
      `the server never ran out of descriptors: ${err.text}`,
    );
    for (const c of idle.splice(0)) c.close();
    if (kind === "ws") {
      // The HTTP server stopped listening; it says when it serves again.
      assert.ok(await err.waitFor(/accepting again/), `never served again: ${err.text}`);
    }
    const client = await withTimeout(connect(kind, port), "connecting after the burst").catch(
      async (e) => {
        await err.waitFor(/(?!)/, 2000); // a dying server: let it finish saying why
        throw new Error(`${e}; server said: ${err.text}`);
      },
    );
    const writer = client.writable.getWriter();
    await writer.write(new TextEncoder().encode("ping"));
    const reader = client.readable.getReader();
    const echoed = await withTimeout(reader.read(), "the echo after the burst");
    assert.equal(new TextDecoder().decode(echoed.value), "ping");
    assert.ok(!/listener ended/.test(err.text), err.text);
    assert.match(err.text, /accept failed; retrying/);
    client.close();
  } finally {
    for (const c of idle) c.close();
    try {
      child.kill();
    } catch {
      // it already exited
    }
    await child.status;
  }
}

Deno.test("a TCP listener keeps accepting after running out of descriptors", async () => {
  await exhaustThenServe("tcp");
});

Deno.test("a WebSocket listener serves again after running out of descriptors", async () => {
  await exhaustThenServe("ws");
});

Deno.test("a TLS listener keeps accepting after running out of descriptors", async () => {
  await exhaustThenServe("tls");
});

Deno.test("a TLS listener asking for client certificates keeps accepting after running out of descriptors", async () => {
  await exhaustThenServe("tls", "mutual");
});

/**
 * Runs a command under the descriptor limit, bursts idle connections at the
 * port it prints, and, once it reported the failed accept, closes them and
 * runs `use` against the port.
 */
async function exhaustCommand(
  command: string[],
  portIn: RegExp,
  use: (port: number, stdout: string) => Promise<void>,
): Promise<void> {
  const child = new Deno.Command("bash", {
    args: ["-c", `ulimit -n ${LIMIT} && exec "$@"`, "bash", ...command],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const out = new Lines(child.stdout);
  const err = new Lines(child.stderr);
  const idle: Deno.Conn[] = [];
  try {
    assert.ok(await out.waitFor(portIn), `it did not start: ${err.text}`);
    const port = Number(portIn.exec(out.text)![1]);
    for (let i = 0; i < BURST; i++) {
      try {
        idle.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      } catch {
        break;
      }
    }
    assert.ok(
      await err.waitFor(/accept failed|listener.failed/),
      `never ran out of descriptors: ${err.text}`,
    );
    for (const c of idle.splice(0)) c.close();
    await withTimeout(use(port, out.text), "serving after the burst").catch(async (e) => {
      await err.waitFor(/(?!)/, 2000); // a dying process: let it finish saying why
      throw new Error(`${e}; it said: ${err.text}`);
    });
  } finally {
    for (const c of idle) c.close();
    try {
      child.kill();
    } catch {
      // it already exited
    }
    await child.status;
  }
}

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const CERTS = new URL("../fixtures/certs/", import.meta.url).pathname;

Deno.test("msrp relay keeps accepting (TLS) after running out of descriptors: a client AUTHs", async () => {
  await exhaustCommand(
    [
      Deno.execPath(),
      "run",
      "-A",
      CLI,
      "relay",
      "--host",
      "localhost",
      "--bind",
      "127.0.0.1",
      "--port",
      "0",
      "--tls-cert",
      `${CERTS}server.pem`,
      "--tls-key",
      `${CERTS}server.key`,
      "--user",
      "alice:alice-secret",
    ],
    /msrps:\/\/localhost:(\d+);tcp/,
    async (port) => {
      const endpoint = await MsrpEndpoint.start({
        relays: [{
          uri: `msrps://localhost:${port};tcp`,
          username: "alice",
          password: "alice-secret",
        }],
        caCerts: [CA],
      });
      await endpoint.close();
    },
  );
});

Deno.test("msrp listen keeps accepting after running out of descriptors: a message gets its 200", async () => {
  await exhaustCommand(
    [Deno.execPath(), "run", "-A", CLI, "listen", "--verbose"],
    /^msrp:\/\/127\.0\.0\.1:(\d+)\/\S+;tcp/m,
    async (_port, stdout) => {
      const uri = stdout.slice(0, stdout.indexOf("\n"));
      const endpoint = await MsrpEndpoint.start();
      try {
        const session = endpoint.createSession();
        await endpoint.connect(session, uri.split(" "));
        const result = await session.send("after the burst", { contentType: "text/plain" });
        assert.equal(result.confirmedBy, "response");
      } finally {
        await endpoint.close();
      }
    },
  );
});
