// The `msrp` command line driven as a subprocess, as a person or a script
// would: help texts, exit codes (2 usage, 3 network, 1 refused), listen +
// send (text, file with --save), keep-serving the same URI, chat with piped
// stdin both ways, and a relay that clients AUTH through (RFC 4976) and that
// stops on SIGTERM with exit code 0.
//
// No sleeps: every step waits for a line the other process prints.

import assert from "node:assert/strict";
import {
  type DecodedFrame,
  encodeFrame,
  FrameParser,
  getUsePath,
  HeaderList,
  newTransactionId,
  parseWwwAuthenticate,
} from "../../lib/wire/mod.ts";
import { DigestClient } from "../../lib/relay/digest.ts";
import type { MsrpResponse } from "../../mod.ts";
import { Lines } from "../_lines.ts";

const ROOT = new URL("../../", import.meta.url);
const CLI = new URL("cli.ts", ROOT).pathname;
const CERTS = new URL("tests/fixtures/certs/", ROOT).pathname;

/** A running `msrp` process. */
class Cli {
  readonly child: Deno.ChildProcess;
  readonly out: Lines;
  readonly err: Lines;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #watchdog: ReturnType<typeof setTimeout>;

  constructor(args: string[], options: { stdin?: boolean; cwd?: string } = {}) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, ...args],
      cwd: options.cwd ?? ROOT.pathname,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.out = new Lines(this.child.stdout);
    this.err = new Lines(this.child.stderr);
    this.#stdin = options.stdin ? this.child.stdin.getWriter() : undefined;
    // A safety net only: a wedged process fails the test instead of hanging it.
    this.#watchdog = setTimeout(() => this.kill("SIGKILL"), 20_000);
  }

  /** The URI a listening command prints as its first line of stdout. */
  async uri(): Promise<string> {
    const line = await this.out.waitFor(() => true);
    assert.ok(line, `no URI printed; stderr: ${this.err.text}`);
    return line;
  }

  async write(text: string): Promise<void> {
    await this.#stdin!.write(new TextEncoder().encode(text));
  }

  async closeStdin(): Promise<void> {
    await this.#stdin!.close();
  }

  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
  }

  /** Waits for the exit; returns the code and everything printed. */
  async finish(): Promise<{ code: number; stdout: string; stderr: string }> {
    const status = await this.child.status;
    clearTimeout(this.#watchdog);
    await Promise.all([this.out.done, this.err.done]);
    if (this.#stdin) await this.#stdin.close().catch(() => {});
    return { code: status.code, stdout: this.out.text, stderr: this.err.text };
  }
}

/** Runs `msrp ...args` to completion. */
function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Cli(args).finish();
}

function assertNoStack(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
}

Deno.test("--help of every command, help <command> and --version exit 0", async () => {
  const cases: [string[], RegExp][] = [
    [["--help"], /Usage:\n {2}msrp listen/],
    [["help"], /Exit codes:/],
    [["listen", "--help"], /^Usage: msrp listen/],
    [["send", "--help"], /^Usage: msrp send --to <uri>/],
    [["chat", "-h"], /^Usage: msrp chat --listen/],
    [["relay", "--help"], /^Usage: msrp relay/],
    [["help", "send"], /^Usage: msrp send/],
  ];
  const results = await Promise.all(cases.map(([args]) => run(args)));
  for (const [i, r] of results.entries()) {
    assert.equal(r.code, 0, `${cases[i][0].join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, cases[i][1]);
    assert.match(r.stdout, /Examples?:/);
    assert.equal(r.stderr, "");
  }
  const version = await run(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^msrp \d+\.\d+\.\d+\n$/);
});

Deno.test("usage errors exit 2 with one clear line: bad URI (saying where), unknown flag, missing --to", async () => {
  const [badUri, badScheme, flag, noTo, unknown, relayHalf, empty] = await Promise.all([
    run(["send", "--to", "msrp://example.com:99999/abc;tcp", "hi"]),
    run(["send", "--to", "http://example.com/abc", "hi"]),
    run(["send", "--frobnicate"]),
    run(["send", "hello"]),
    run(["dance"]),
    run([
      "send",
      "--to",
      "msrp://127.0.0.1:2855/abc;tcp",
      "--relay",
      "msrps://r.example:2855;tcp",
      "x",
    ]),
    run(["send", "--to", "msrp://127.0.0.1:2855/abc;tcp"]), // stdin is /dev/null
  ]);
  assert.equal(badUri.code, 2);
  assert.equal(
    badUri.stderr,
    "msrp send: bad URI in --to: the port must be 0 to 65535 at offset 19 in " +
      "\"msrp://example.com:99999/abc;tcp\"\nTry 'msrp send --help'.\n",
  );
  assert.equal(badScheme.code, 2);
  assert.match(
    badScheme.stderr,
    /^msrp send: bad URI in --to: the scheme must be "msrp" or "msrps", not "http" at offset 0/,
  );
  assert.equal(flag.code, 2);
  assert.match(
    flag.stderr,
    /^msrp send: Unknown option '--frobnicate'\nTry 'msrp send --help'\.\n$/,
  );
  assert.equal(noTo.code, 2);
  assert.match(noTo.stderr, /--to is required/);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "dance"/);
  assert.equal(relayHalf.code, 2);
  assert.match(relayHalf.stderr, /--relay needs --user and --password/);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /^msrp send: nothing to send: standard input was empty\n/);
  for (const r of [badUri, badScheme, flag, noTo, unknown, relayHalf, empty]) {
    assertNoStack(r.stderr);
  }
});

Deno.test("an unreachable peer exits 3 with one line naming host:port", async () => {
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (free.addr as Deno.NetAddr).port;
  free.close();
  const [refused, tls] = await Promise.all([
    run(["send", "--to", `msrp://127.0.0.1:${port}/gone00000001;tcp`, "hi"]),
    // msrps to a port where nothing speaks TLS: refused as well, through the TLS path.
    run(["send", "--to", `msrps://127.0.0.1:${port}/gone00000001;tcp`, "hi"]),
  ]);
  assert.equal(refused.code, 3);
  assert.equal(
    refused.stderr,
    `msrp send: cannot connect to 127.0.0.1:${port}: connection refused\n`,
  );
  assert.equal(tls.code, 3);
  assert.match(tls.stderr, new RegExp(`^msrp send: .*127\\.0\\.0\\.1:${port}.*\\n$`));
});

Deno.test("msrp listen + msrp send: texts printed, same URI served again, an unknown session exits 1", async () => {
  const listener = new Cli(["listen"]);
  const uri = await listener.uri();
  assert.match(uri, /^msrp:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9]+;tcp$/);

  const first = await run(["send", "--to", uri, "Hello", "from", "the", "CLI"]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /^msrp send: delivered 18 bytes .* confirmed by a 200 response\n$/);
  assert.equal(await listener.out.waitFor((l) => l.startsWith("Hello")), "Hello from the CLI");

  // The same URI again (keep serving), with a success report this time.
  const second = await run(["send", "--to", uri, "--success-report", "second message"]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /confirmed by a success report/);
  assert.equal(await listener.out.waitFor((l) => l.startsWith("second")), "second message");

  // The body from standard input (a pipe).
  const piped = new Cli(["send", "--to", uri], { stdin: true });
  await piped.write("from a pipe\n");
  await piped.closeStdin();
  const pipedEnd = await piped.finish();
  assert.equal(pipedEnd.code, 0, pipedEnd.stderr);
  assert.equal(await listener.out.waitFor((l) => l.startsWith("from")), "from a pipe");

  // A session id the listener does not have: 481 (RFC 4975 §7.3), exit 1.
  const wrong = uri.replace(/\/[A-Za-z0-9]+;tcp$/, "/noSuchSession01;tcp");
  const refused = await run(["send", "--to", wrong, "lost"]);
  assert.equal(refused.code, 1);
  assert.equal(
    refused.stderr,
    "msrp send: the peer refused the session: 481 Session Does Not Exist\n",
  );

  listener.kill("SIGTERM");
  const end = await listener.finish();
  assert.equal(end.code, 0, end.stderr);
  assert.equal(end.stdout, `${uri}\nHello from the CLI\nsecond message\nfrom a pipe\n`);
});

Deno.test("msrp send --file to msrp listen --save DIR --once: the same bytes on disk", async () => {
  const dir = await Deno.makeTempDir({ prefix: "msrp_cli_" });
  try {
    const source = `${dir}/source`;
    await Deno.mkdir(source);
    const inbox = `${dir}/inbox`;
    await Deno.mkdir(inbox);
    const data = new Uint8Array(1_500_000);
    for (let i = 0; i < data.length; i += 65536) {
      crypto.getRandomValues(data.subarray(i, Math.min(data.length, i + 65536)));
    }
    await Deno.writeFile(`${source}/photo one.bin`, data);

    const listener = new Cli(["listen", "--save", inbox, "--once"]);
    const uri = await listener.uri();
    const sent = await run([
      "send",
      "--to",
      uri,
      "--file",
      `${source}/photo one.bin`,
      "--success-report",
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    // stderr is a pipe: no progress bar, one final line.
    assert.match(
      sent.stderr,
      /^msrp send: delivered 1500000 bytes \(1\.43 MiB, [^)]*\) to .*success report\n$/,
    );
    const end = await listener.finish(); // --once: exits by itself
    assert.equal(end.code, 0, end.stderr);
    assert.match(
      end.stderr,
      /saved 1500000 bytes \(application\/octet-stream\) to .*photo one\.bin/,
    );
    assert.deepEqual(await Deno.readFile(`${inbox}/photo one.bin`), data);
    assert.deepEqual([...Deno.readDirSync(inbox)].map((e) => e.name), ["photo one.bin"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("msrp listen --relay serves two senders, each in its own session; a refused send prints the status and reason", async () => {
  const relay = new Cli([
    "relay",
    ...["--host", "localhost", "--bind", "127.0.0.1", "--port", "0"],
    ...["--tls-cert", `${CERTS}server.pem`, "--tls-key", `${CERTS}server.key`],
    ...["--user", "alice:alice-secret", "--user", "bob:bob-secret"],
  ]);
  const relayUri = await relay.uri();
  const account = (user: string) => [
    ...["--relay", relayUri, "--user", user, "--password", `${user}-secret`],
    ...["--ca", `${CERTS}ca.pem`],
  ];
  const listener = new Cli(["listen", ...account("bob")]);
  const path = await listener.uri();
  // Two senders through the relay: the second is not "the peer" of the first's session.
  const [first, second] = await Promise.all([
    run(["send", "--to", path, ...account("alice"), "first sender"]),
    run(["send", "--to", path, ...account("alice"), "second sender"]),
  ]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(await listener.out.waitFor((l) => l === "first sender"), "first sender");
  assert.equal(await listener.out.waitFor((l) => l === "second sender"), "second sender");

  // A session the listener does not have: its 481 comes back in the relay's
  // failure REPORT (RFC 4976 §6.4.1), and send prints it. (Without
  // --success-report, send through a relay ends at the relay's 200.)
  const wrong = path.replace(/\/[A-Za-z0-9]+;tcp$/, "/noSuchSession01;tcp");
  const refused = await run([
    ...["send", "--to", wrong, "--success-report", ...account("alice"), "lost"],
  ]);
  assert.equal(refused.code, 1);
  assert.equal(
    refused.stderr,
    "msrp send: not delivered: the session did not reach the peer (status 481 Session Does Not Exist)\n",
  );

  listener.kill("SIGTERM");
  relay.kill("SIGTERM");
  const [l, r] = await Promise.all([listener.finish(), relay.finish()]);
  assert.equal(l.code, 0, l.stderr);
  assert.equal(r.code, 0, r.stderr);
});

Deno.test("msrp chat: --listen and --to with piped stdin, both ways, then the peer leaves", async () => {
  const alice = new Cli(["chat", "--listen"], { stdin: true });
  const uri = await alice.uri();
  const bob = new Cli(["chat", "--to", uri], { stdin: true });
  await bob.err.waitFor((l) => l === "msrp chat: connected");
  await alice.err.waitFor((l) => l === "msrp chat: connected");

  // Alice (listening) speaks first: her line waits until Bob's hello tells her where.
  await alice.write("Hi Bob, Alice here\n");
  assert.equal(await bob.out.waitFor((l) => l.includes("Alice")), "peer> Hi Bob, Alice here");
  await bob.write("Hello Alice\r\nline two\n");
  assert.equal(await alice.out.waitFor((l) => l.includes("line two")), "peer> line two");

  await bob.closeStdin(); // Bob leaves: exit 0; Alice sees him go and exits 0.
  const [b, a] = await Promise.all([bob.finish(), alice.finish()]);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, `${uri}\npeer> Hello Alice\npeer> line two\n`);
  assert.equal(b.stdout, "peer> Hi Bob, Alice here\n");
  assert.match(a.stderr, /msrp chat: the peer left/);
});

Deno.test("msrp relay: prints its URI, carries a message between two CLI clients, stops on SIGTERM", async () => {
  const relay = new Cli([
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
    "--user",
    "bob:bob-secret",
  ]);
  const relayUri = await relay.uri();
  assert.match(relayUri, /^msrps:\/\/localhost:\d+;tcp$/);
  const ca = `${CERTS}ca.pem`;

  // Bob listens through the relay: his "URI" is a path, the relay's URI for him first.
  const bob = new Cli([
    "listen",
    "--relay",
    relayUri,
    "--user",
    "bob",
    "--password",
    "bob-secret",
    "--ca",
    ca,
  ]);
  const bobPath = await bob.uri();
  assert.match(bobPath, /^msrps:\/\/localhost:\d+\/\S+;tcp msrps:\/\/127\.0\.0\.1:\d+\/\S+;tcp$/);

  const sent = await run([
    "send",
    "--to",
    bobPath,
    "--relay",
    relayUri,
    "--user",
    "alice",
    "--password",
    "alice-secret",
    "--ca",
    ca,
    "--success-report",
    "through the relay",
  ]);
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(await bob.out.waitFor((l) => l.startsWith("through")), "through the relay");

  // A wrong password: the relay refuses (exit 1), one line naming it.
  const denied = await run([
    "send",
    "--to",
    bobPath,
    "--relay",
    relayUri,
    "--user",
    "alice",
    "--password",
    "wrong",
    "--ca",
    ca,
    "x",
  ]);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /^msrp send: .*\n$/);

  bob.kill("SIGTERM");
  relay.kill("SIGTERM");
  const [b, r] = await Promise.all([bob.finish(), relay.finish()]);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${relayUri}\n`);
  assert.match(r.stderr, /msrp relay: SIGTERM: stopping/);
});

Deno.test("msrp relay --users-file, clients with --password-file, users reloaded on SIGHUP", async () => {
  const dir = await Deno.makeTempDir({ prefix: "msrp_users_" });
  const relay = await (async () => {
    const ha1 = async (user: string, password: string, algorithm: string) => {
      const data = new TextEncoder().encode(`${user}:localhost:${password}`);
      const digest = new Uint8Array(await crypto.subtle.digest(algorithm, data));
      return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    };
    const userLine = async (user: string, password: string) =>
      `${user}:localhost:${await ha1(user, password, "SHA-256")}\n`;
    await Deno.writeTextFile(
      `${dir}/users`,
      "# user:realm:HA1\n" + await userLine("alice", "alice-secret") +
        await userLine("bob", "bob-secret"),
    );
    for (const [name, pw] of [["alice", "alice-secret"], ["bob", "bob-secret"], ["carol", "c"]]) {
      await Deno.writeTextFile(`${dir}/${name}.pw`, `${pw}\n`);
    }
    return {
      cli: new Cli([
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
        "--users-file",
        `${dir}/users`,
      ]),
      addCarol: async () =>
        await Deno.writeTextFile(`${dir}/users`, await userLine("carol", "c"), { append: true }),
    };
  })();
  try {
    const relayUri = await relay.cli.uri();
    const ca = `${CERTS}ca.pem`;
    const through = (user: string) => [
      "--relay",
      relayUri,
      "--user",
      user,
      "--password-file",
      `${dir}/${user}.pw`,
      "--ca",
      ca,
    ];
    const bob = new Cli(["listen", ...through("bob")]);
    const bobPath = await bob.uri();
    const sendAs = (user: string, to: string, text: string) =>
      run(["send", "--to", to, ...through(user), "--success-report", text]);

    const fromAlice = await sendAs("alice", bobPath, "hello from alice");
    assert.equal(fromAlice.code, 0, fromAlice.stderr);
    assert.ok(await bob.out.waitFor((l) => l === "hello from alice"));
    // Carol is not in the file yet: refused.
    const early = await sendAs("carol", bobPath, "too early");
    assert.equal(early.code, 1, early.stderr);
    assert.match(early.stderr, /rejected the credentials of carol/);

    // The operator adds Carol and sends SIGHUP; the relay keeps running.
    await relay.addCarol();
    relay.cli.kill("SIGHUP");
    assert.ok(await relay.cli.err.waitFor((l) => l.includes("SIGHUP: 3 user(s) loaded")));
    const carol = new Cli(["listen", "--once", ...through("carol")]);
    const carolPath = await carol.uri();
    const toCarol = await sendAs("alice", carolPath, "hello carol");
    assert.equal(toCarol.code, 0, toCarol.stderr);
    const c = await carol.finish();
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout, `${carolPath}\nhello carol\n`);

    bob.kill("SIGTERM");
    relay.cli.kill("SIGTERM");
    const [b, r] = await Promise.all([bob.finish(), relay.cli.finish()]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(b.stdout, `${bobPath}\nhello from alice\n`);
  } finally {
    relay.cli.kill("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * A peer behind a relay that answers every SEND with 200 and never sends a
 * REPORT (as many MSRP clients do), on a raw socket: it AUTHs with Digest
 * (RFC 4976 §5.1) and returns its path (Use-Path reversed, then its URI).
 */
async function rawPeerBehindRelay(
  relayUri: string,
  port: number,
  user: string,
  password: string,
): Promise<
  { path: string; bodies: string[]; answer: (raw: string) => Promise<void>; close(): void }
> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const me = `msrp://127.0.0.1:${conn.localAddr.port}/rawpeer1;tcp`;
  const frames: MsrpResponse[] = [];
  const waiters: (() => void)[] = [];
  const bodies: string[] = [];
  const writer = conn.writable.getWriter();
  const parser = new FrameParser();
  const pump = (async () => {
    for await (const chunk of conn.readable) {
      const got: DecodedFrame[] = [];
      parser.push(chunk, (f) => got.push(f));
      for (const f of got) {
        if (f.kind === "response") frames.push(f);
        else if (f.kind === "request" && f.method === "SEND" && f.flag !== undefined) {
          bodies.push(new TextDecoder().decode(f.body ?? new Uint8Array()));
          // §7.2: to the previous hop only; never a REPORT.
          const from = f.headers.get("From-Path")!.split(" ")[0];
          await writer.write(
            new TextEncoder().encode(
              `MSRP ${f.tid} 200 OK\r\nTo-Path: ${from}\r\nFrom-Path: ${me}\r\n-------${f.tid}$\r\n`,
            ),
          );
        }
      }
      for (const w of waiters.splice(0)) w();
    }
  })().catch(() => {});
  const next = async (): Promise<MsrpResponse> => {
    while (frames.length === 0) await new Promise<void>((r) => waiters.push(r));
    return frames.shift()!;
  };
  const auth = async (authorization?: string): Promise<MsrpResponse> => {
    const headers: [string, string][] = [["To-Path", relayUri], ["From-Path", me]];
    if (authorization) headers.push(["Authorization", authorization]);
    await writer.write(
      encodeFrame({
        kind: "request",
        tid: newTransactionId(),
        method: "AUTH",
        headers: new HeaderList(headers),
        body: null,
        offset: 0,
        flag: "$",
      }),
    );
    return await next();
  };
  const challenge = await auth();
  assert.equal(challenge.status, 401);
  const digest = new DigestClient({ username: user, password });
  const ok = await auth(
    digest.authorization(
      challenge.headers.getAll("WWW-Authenticate").map(parseWwwAuthenticate),
      relayUri,
    ),
  );
  assert.equal(ok.status, 200);
  const usePath = getUsePath(ok.headers)!;
  return {
    path: [...usePath.map(String).reverse(), me].join(" "),
    bodies,
    answer: (raw) => writer.write(new TextEncoder().encode(raw)),
    close: () => {
      try {
        conn.close();
      } catch {
        // closed
      }
      void pump;
    },
  };
}

Deno.test("send --relay to a peer that never sends REPORTs succeeds on the relay's 200; --trace shows frames both ways; relay -v names forwards and drops", async () => {
  const relay = new Cli([
    "relay",
    "--insecure",
    "--bind",
    "127.0.0.1",
    "--port",
    "0",
    "--max-expires",
    "600",
    "--user",
    "alice:alice-secret",
    "--user",
    "bob:bob-secret",
    "-v",
    "--trace",
  ]);
  const relayUri = await relay.uri();
  assert.ok(await relay.err.waitFor((l) => /WARNING: insecure/.test(l)), relay.err.text);
  const port = Number(/:(\d+);tcp$/.exec(relayUri)![1]);
  const bob = await rawPeerBehindRelay(relayUri, port, "bob", "bob-secret");
  try {
    const sent = await run([
      "send",
      "--to",
      bob.path,
      "--relay",
      relayUri,
      "--user",
      "alice",
      "--password",
      "alice-secret",
      "--expires",
      "3600",
      "--trace",
      "no reports here",
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stderr, /confirmed by the relay's 200 response/);
    assert.deepEqual(bob.bodies, ["", "no reports here"]);
    // --expires: the AUTH asks for 3600 s, the relay's 423 says at most 600, the client asks again.
    assert.match(sent.stderr, /^> Expires: 3600$/m);
    assert.match(sent.stderr, /^< MSRP \S+ 423 /m);
    assert.match(sent.stderr, /^> Expires: 600$/m);
    // The SEND with its body, and its 200, each with the end-line (RFC 4975 §7.1).
    const send =
      /^> MSRP (\S+) SEND$(?:\n>.*)*?\n> \[15 bytes: "no reports here"\]\n> -------\1\$$/m
        .exec(sent.stderr);
    assert.ok(send, sent.stderr);
    const tid = send[1];
    assert.match(sent.stderr, new RegExp(`^< MSRP ${tid} 200 OK$`, "m"));
    assert.match(sent.stderr, new RegExp(`^< -------${tid}\\$$`, "m"));
    assert.doesNotMatch(sent.stderr, /Success-Report/);

    // The relay's trace: the SEND as it came in, and as it went out to Bob.
    assert.ok(
      await relay.err.waitFor((l) =>
        /^msrp relay: frame in conn=\d+ from 127\.0\.0\.1:\d+$/.test(l)
      ),
    );
    assert.match(relay.err.text, /^msrp relay: frame out conn=\d+ to 127\.0\.0\.1:\d+$/m);
    assert.match(relay.err.text, /^< \[15 bytes: "no reports here"\]$/m);
    assert.match(relay.err.text, /^> \[15 bytes: "no reports here"\]$/m);
    // The relay's verbose log: the SEND forwarded, and a frame it drops, with the reason.
    assert.ok(await relay.err.waitFor((l) => /forwarded .*SEND/.test(l)), relay.err.text);
    await bob.answer(
      "MSRP nosuchtid1 200 OK\r\nTo-Path: x\r\nFrom-Path: y\r\n-------nosuchtid1$\r\n",
    );
    assert.ok(
      await relay.err.waitFor((l) =>
        /response-unmatched.*nosuchtid1 matches no transaction/.test(l)
      ),
      relay.err.text,
    );
  } finally {
    bob.close();
    relay.kill("SIGTERM");
  }
  const r = await relay.finish();
  assert.equal(r.code, 0, r.stderr);
});

Deno.test("listen and chat --listen waiting for a peer stop on SIGTERM with exit 0", async () => {
  const waiting = [new Cli(["listen"]), new Cli(["chat", "--listen"], { stdin: true })];
  for (const p of waiting) await p.uri();
  for (const p of waiting) p.kill("SIGTERM");
  for (const end of await Promise.all(waiting.map((p) => p.finish()))) {
    assert.equal(end.code, 0, end.stderr);
    assertNoStack(end.stderr);
  }
});
