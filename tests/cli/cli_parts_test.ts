// The pieces of the CLI, in process: file names from the network, saving
// streams to disk, progress lines, stdin lines, flag parsing, the error ->
// exit code table, relay configuration from flags, and the dispatcher.

import assert from "node:assert/strict";
import { HeaderList } from "../../lib/wire/mod.ts";
import {
  IncomingMessage,
  MsrpError,
  MsrpSendError,
  MsrpSyntaxError,
  MsrpUri,
  RelayAuthError,
} from "../../mod.ts";
import {
  type CliIo,
  describeFailure,
  endpointOptions,
  formatTrace,
  forTerminal,
  parsePort,
  parseSeconds,
  parseUriList,
  UsageError,
} from "../../lib/cli/common.ts";
import { formatIncoming } from "../../lib/cli/chat.ts";
import { readLines } from "../../lib/cli/lines.ts";
import { runCli, VERSION } from "../../lib/cli/main.ts";
import { contentTypeForFile, extensionForType } from "../../lib/cli/media.ts";
import { formatBytes, formatProgress, ProgressBar } from "../../lib/cli/progress.ts";
import { CHAT_HELP, LISTEN_HELP, RELAY_HELP, SEND_HELP } from "../../lib/cli/help.ts";
import {
  parseLimits,
  parseUsers,
  RELAY_FLAGS,
  relayConfigFrom,
  relayUris,
} from "../../lib/cli/relay.ts";
import { digestHa1 } from "../../lib/relay/digest.ts";
import { nonEmpty } from "../../lib/cli/send.ts";
import { fileNameFor, isAttachment, safeFileName, saveMessage } from "../../lib/cli/save.ts";

const CERTS = new URL("../fixtures/certs/", import.meta.url).pathname;

function message(
  id: string,
  contentType: string,
  headers: [string, string][] = [],
): IncomingMessage {
  return new IncomingMessage(id, contentType, new HeaderList(headers), false);
}

function fakeIo(stdin = ""): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
    stdin: new Blob([stdin]).stream(),
    stdinIsTerminal: false,
    stdoutIsTerminal: false,
    stderrIsTerminal: false,
    onSignal: () => () => {},
  };
  return io;
}

Deno.test("safeFileName keeps only a harmless last path component (RFC 2183 §5)", () => {
  assert.equal(safeFileName("report.pdf"), "report.pdf");
  assert.equal(safeFileName("../../etc/passwd"), "passwd");
  assert.equal(safeFileName("C:\\Users\\x\\photo one.jpg"), "photo one.jpg");
  assert.equal(safeFileName('a\x00b\x1fc<d>e:f|g?h*i"j'), "a_b_c_d_e_f_g_h_i_j");
  assert.equal(safeFileName(".bashrc"), "_bashrc");
  assert.equal(safeFileName(".."), undefined);
  assert.equal(safeFileName("dir/"), undefined);
  assert.equal(safeFileName("   "), undefined);
  const long = safeFileName("x".repeat(500) + ".txt")!;
  assert.equal(long.length, 200);
  assert.ok(long.endsWith("x.txt"));
});

Deno.test("fileNameFor: Content-Disposition filename, else Message-ID plus the type's extension", () => {
  const named = message("m1", "application/pdf", [
    ["Content-Disposition", 'attachment; filename="../secret/report 2.pdf"'],
  ]);
  assert.equal(fileNameFor(named), "report 2.pdf");
  assert.equal(isAttachment(named), true);
  assert.equal(fileNameFor(message("Abc123", "image/png")), "Abc123.png");
  assert.equal(fileNameFor(message("Abc123", "application/x-unknown")), "Abc123");
  assert.equal(fileNameFor(message("Abc123", "text/plain")), "Abc123.txt");
  const broken = message("Zz9", "text/plain", [["Content-Disposition", ";;;"]]);
  assert.equal(fileNameFor(broken), "Zz9.txt");
  assert.equal(isAttachment(broken), false);
  assert.equal(
    isAttachment(message("q", "text/plain", [["Content-Disposition", "inline"]])),
    false,
  );
});

Deno.test("saveMessage streams to a new file, never overwrites, and removes what was cut off", async () => {
  const dir = await Deno.makeTempDir({ prefix: "msrp_save_" });
  try {
    const headers: [string, string][] = [["Content-Disposition", 'attachment; filename="a.bin"']];
    const first = message("id1", "application/octet-stream", headers);
    const saving = saveMessage(first, dir);
    await first.write(0, new Uint8Array([1, 2, 3]));
    await first.write(3, new Uint8Array([4, 5]));
    first.setSize(5);
    assert.deepEqual(await saving, { path: `${dir}/a.bin`, bytes: 5 });
    assert.deepEqual(await Deno.readFile(`${dir}/a.bin`), new Uint8Array([1, 2, 3, 4, 5]));

    const second = message("id2", "application/octet-stream", headers);
    second.write(0, new Uint8Array([9]));
    second.setSize(1);
    assert.deepEqual(await saveMessage(second, dir), { path: `${dir}/a-1.bin`, bytes: 1 });

    const cut = message("id3", "application/octet-stream", headers);
    const failing = saveMessage(cut, dir);
    cut.write(0, new Uint8Array([7, 7]));
    cut.cutOff();
    await assert.rejects(
      failing,
      (e: unknown) => e instanceof MsrpError && e.code === "message-incomplete",
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["a-1.bin", "a.bin"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("progress: sizes for people, a bar of confirmed (#) and written (=) octets", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1536), "1.50 KiB");
  assert.equal(formatBytes(2 * 1048576), "2.00 MiB");
  assert.equal(formatBytes(15 * 1073741824), "15.0 GiB");
  assert.equal(
    formatProgress({ bytesSent: 1048576, bytesConfirmed: 524288, size: 2097152 }, 2, 8),
    "[##==----]  25%  512.0 KiB / 2.00 MiB  512.0 KiB/s",
  );
  assert.equal(
    formatProgress({ bytesSent: 100, bytesConfirmed: 0, size: undefined }, 0),
    "100 B sent, 0 B confirmed",
  );
});

Deno.test("ProgressBar draws only when enabled, at most every 100 ms, and ends its line", () => {
  let now = 0;
  let drawn = "";
  const bar = new ProgressBar((t) => (drawn += t), true, () => now);
  bar.update({ bytesSent: 10, bytesConfirmed: 0, size: 100 });
  now = 50;
  bar.update({ bytesSent: 20, bytesConfirmed: 0, size: 100 }); // too soon: skipped
  now = 150;
  bar.update({ bytesSent: 100, bytesConfirmed: 100, size: 100 });
  bar.finish();
  assert.equal(drawn.split("\r").length - 1, 3); // two draws and the final one
  assert.ok(drawn.endsWith("\x1b[K\n"));
  assert.match(drawn, /100%/);

  let silent = "";
  const off = new ProgressBar((t) => (silent += t), false, () => now);
  off.update({ bytesSent: 1, bytesConfirmed: 1, size: 1 });
  off.finish();
  assert.equal(silent, "");
});

Deno.test("readLines: LF and CRLF, a last line without LF, UTF-8 split across reads, long lines cut", async () => {
  const bytes = new TextEncoder().encode("one\r\ntwo\nh\u00e9llo \u{1f600}\nlast");
  const pieces = [bytes.slice(0, 5), bytes.slice(5, 14), bytes.slice(14, 22), bytes.slice(22)];
  const stream = ReadableStream.from(pieces);
  const lines: string[] = [];
  for await (const l of readLines(stream)) lines.push(l);
  assert.deepEqual(lines, ["one", "two", "h\u00e9llo \u{1f600}", "last"]);

  const long: string[] = [];
  for await (const l of readLines(new Blob(["abcdefghij\nxy"]).stream(), 4)) long.push(l);
  assert.deepEqual(long, ["abcd", "efgh", "ij", "xy"]);
});

Deno.test("flags: ports, --to paths, TLS and relay pairs", async () => {
  assert.equal(parsePort("0", "--port"), 0);
  assert.equal(parsePort("65535", "--port"), 65535);
  assert.throws(() => parsePort("65536", "--port"), /--port must be a port number from 0 to 65535/);
  assert.throws(() => parsePort("-1", "--port"), UsageError);
  const path = parseUriList(" msrps://relay.example:2855/r1;tcp  msrp://127.0.0.1:9/me;tcp ");
  assert.deepEqual(path.map(String), [
    "msrps://relay.example:2855/r1;tcp",
    "msrp://127.0.0.1:9/me;tcp",
  ]);
  assert.throws(
    () => parseUriList("msrp://host:x/abc;tcp"),
    (e: unknown) =>
      e instanceof UsageError && e.message.startsWith("bad URI in --to: ") &&
      e.message ===
        'bad URI in --to: expected a decimal port number after ":" at offset 12 in "msrp://host:x/abc;tcp"',
  );
  await assert.rejects(
    endpointOptions({ "tls-cert": "x.pem" }),
    /--tls-cert and --tls-key go together/,
  );
  await assert.rejects(endpointOptions({ user: "alice" }), /give --relay too/);
  await assert.rejects(
    endpointOptions({ "tls-cert": "/nonexistent.pem", "tls-key": "/nonexistent.key" }),
    /cannot read --tls-cert \/nonexistent\.pem: no such file or directory/,
  );
  const viaEnv = await endpointOptions(
    { relay: "msrps://relay.example:2855;tcp", user: "alice" },
    (name) => (name === "MSRP_RELAY_PASSWORD" ? "from-env" : undefined),
  );
  assert.equal(viaEnv.relays?.[0].password, "from-env");
  assert.equal(viaEnv.relays?.[0].username, "alice");
  const withTls = await endpointOptions({
    "tls-cert": `${CERTS}server.pem`,
    "tls-key": `${CERTS}server.key`,
    ca: [`${CERTS}ca.pem`],
  });
  assert.match(withTls.tls!.cert, /BEGIN CERTIFICATE/);
  assert.equal(withTls.caCerts?.length, 1);
});

Deno.test("describeFailure: exit 2 for syntax, 3 for the network, 1 for refusals, one line each", () => {
  const syntax = new MsrpSyntaxError(
    "bad-port",
    "the port is out of range",
    "msrp://h:99999/x;tcp",
    9,
  );
  assert.deepEqual(describeFailure(syntax), { exitCode: 2, line: syntax.message });
  assert.deepEqual(describeFailure(new UsageError("--to is required")), {
    exitCode: 2,
    line: "--to is required",
  });
  const refused = new MsrpError(
    "connect-refused",
    "cannot connect to 127.0.0.1:1: connection refused",
  );
  assert.deepEqual(describeFailure(refused), { exitCode: 3, line: refused.message });
  assert.equal(describeFailure(new MsrpError("tls-untrusted", "untrusted")).exitCode, 3);
  const result = {
    messageId: "m1",
    status: 415,
    comment: "Unsupported Media Type",
    bytesSent: 3,
    bytesConfirmed: 0,
    confirmedBy: "none" as const,
  };
  assert.deepEqual(
    describeFailure(new MsrpSendError("rejected", "the peer answered 415 to m1", result)),
    {
      exitCode: 1,
      line: "not delivered: the peer answered 415 to m1 (status 415 Unsupported Media Type)",
    },
  );
  const lost = new MsrpSendError("closed", "the session closed before m1 was delivered", {
    ...result,
    status: 0,
    comment: "",
  }, { cause: new MsrpError("connection-reset", "the connection to 127.0.0.1:5 was reset") });
  assert.deepEqual(describeFailure(lost), {
    exitCode: 3,
    line: "the session closed before m1 was delivered: the connection to 127.0.0.1:5 was reset",
  });
  const auth = new RelayAuthError(
    "auth-rejected",
    "the relay rejected alice",
    "msrps://r:1;tcp",
    401,
  );
  assert.equal(describeFailure(auth).exitCode, 1);
  assert.deepEqual(describeFailure(new TypeError("boom\n  at x")), {
    exitCode: 1,
    line: "unexpected error: boom",
  });
});

Deno.test("relay flags: users, TLS or --insecure, host names only, --config merged under the flags", async () => {
  assert.deepEqual(parseUsers(["alice:s3:cret", "bob:"]), {
    alice: { password: "s3:cret" },
    bob: { password: "" },
  });
  assert.throws(() => parseUsers(["alice"]), /--user must be name:password/);
  await assert.rejects(relayConfigFrom({}), /give --tls-cert and --tls-key, or --insecure/);
  await assert.rejects(
    relayConfigFrom({ insecure: true, "tls-cert": "a", "tls-key": "b" }),
    /--insecure listens on plain TCP/,
  );
  await assert.rejects(
    relayConfigFrom({ insecure: true, host: "127.0.0.1" }),
    (e: unknown) =>
      e instanceof MsrpError && e.code === "bad-config" && /not an IP address/.test(e.message),
  );
  const insecure = await relayConfigFrom({
    insecure: true,
    port: "0",
    bind: ["127.0.0.1"],
    user: ["a:b"],
  });
  assert.deepEqual(insecure.listen, [{ hostname: "127.0.0.1", port: 0, tls: false }]);
  assert.equal(insecure.allowInsecure, true);
  assert.equal(insecure.host, "localhost");
  assert.deepEqual(
    relayUris({ ...insecure, listen: [{ ...insecure.listen[0], port: 4242 }] }).map(String),
    [
      "msrp://localhost:4242;tcp",
    ],
  );

  const dir = await Deno.makeTempDir({ prefix: "msrp_relaycfg_" });
  try {
    await Deno.copyFile(`${CERTS}server.pem`, `${dir}/cert.pem`);
    await Deno.copyFile(`${CERTS}server.key`, `${dir}/key.pem`);
    await Deno.writeTextFile(
      `${dir}/relay.json`,
      JSON.stringify({
        host: "relay.example.com",
        listen: [{ hostname: "0.0.0.0", port: 2855, tls: true }],
        tls: { certFile: "cert.pem", keyFile: "key.pem" },
        users: { alice: { password: "a" } },
        expires: { default: 600, min: 60, max: 3600 },
      }),
    );
    const fromFile = await relayConfigFrom({ config: `${dir}/relay.json` });
    assert.equal(fromFile.host, "relay.example.com");
    assert.equal(fromFile.tls?.certFile, `${dir}/cert.pem`);
    assert.equal(fromFile.expires.default, 600);
    const overridden = await relayConfigFrom({
      config: `${dir}/relay.json`,
      host: "other.example.com",
      port: "0",
      user: ["bob:b"],
    });
    assert.equal(overridden.host, "other.example.com");
    assert.equal(overridden.realm, "other.example.com");
    assert.deepEqual(overridden.listen, [{ hostname: "0.0.0.0", port: 0, tls: true }]);
    assert.deepEqual(Object.keys(overridden.users).sort(), ["alice", "bob"]);
    await assert.rejects(
      relayConfigFrom({ config: `${dir}/missing.json` }),
      /cannot read --config/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--password-file: the first line is the password; --users-file for the relay", async () => {
  const dir = await Deno.makeTempDir({ prefix: "msrp_pwfile_" });
  try {
    const relay = "msrps://relay.example:2855;tcp";
    await Deno.writeTextFile(`${dir}/pw`, "s3cret with spaces\r\nignored\n");
    await Deno.writeTextFile(`${dir}/bare`, "no-newline");
    await Deno.writeTextFile(`${dir}/empty`, "\nsecond");
    const fromFile = await endpointOptions(
      { relay, user: "alice", "password-file": `${dir}/pw` },
      () => "from-env",
    );
    assert.equal(fromFile.relays?.[0].password, "s3cret with spaces");
    const bare = await endpointOptions({ relay, user: "a", "password-file": `${dir}/bare` });
    assert.equal(bare.relays?.[0].password, "no-newline");
    await assert.rejects(
      endpointOptions({ relay, user: "a", "password-file": `${dir}/empty` }),
      /--password-file .*empty: the first line is empty/,
    );
    await assert.rejects(
      endpointOptions({ relay, user: "a", "password-file": `${dir}/missing` }),
      /cannot read --password-file .*missing: no such file or directory/,
    );
    await assert.rejects(
      endpointOptions({ relay, user: "a", password: "x", "password-file": `${dir}/pw` }),
      /give --password or --password-file, not both/,
    );
    await assert.rejects(
      endpointOptions({ "password-file": `${dir}/pw` }),
      /give --relay too/,
    );

    // The relay: users-file entries under --user, over --config; lines named in errors.
    const ha1 = (u: string, p: string) => digestHa1("SHA-256", u, "localhost", p);
    await Deno.writeTextFile(
      `${dir}/users`,
      `# users\nalice:localhost:${ha1("alice", "a")}\nbob:localhost:${ha1("bob", "b")}\n`,
    );
    const config = await relayConfigFrom({
      insecure: true,
      "users-file": `${dir}/users`,
      user: ["bob:flag"],
    });
    assert.deepEqual(config.users.alice.ha1, { "SHA-256": ha1("alice", "a") });
    assert.equal(config.users.bob.password, "flag");
    await Deno.writeTextFile(`${dir}/users`, "alice:localhost\n");
    await assert.rejects(
      relayConfigFrom({ insecure: true, "users-file": `${dir}/users` }),
      (e: unknown) =>
        e instanceof MsrpError && e.code === "bad-config" &&
        e.message === `${dir}/users line 1: expected user:realm:HA1`,
    );
    await assert.rejects(
      relayConfigFrom({ insecure: true, "users-file": `${dir}/none` }),
      /cannot read --users-file .*none: no such file or directory/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flags: --expires for the relay AUTH, --trace writes each frame after > or <", async () => {
  assert.equal(parseSeconds("600", "--expires"), 600);
  for (const bad of ["0", "-5", "1.5", "", "2147483648", "ten"]) {
    assert.throws(
      () => parseSeconds(bad, "--expires"),
      /--expires must be a whole number of seconds from 1 to 2147483647/,
    );
  }
  const env = (): string => "pw";
  const opts = await endpointOptions(
    { relay: "msrp://relay.example.com:2855;tcp", user: "alice", expires: "300" },
    env,
  );
  assert.equal(opts.relays?.[0].expires, 300);
  assert.equal(opts.trace, undefined);
  const noExpires = await endpointOptions({ relay: "msrp://r.example:2855;tcp", user: "a" }, env);
  assert.equal(noExpires.relays?.[0].expires, undefined);
  await assert.rejects(endpointOptions({ expires: "300" }), /--expires .*give --relay too/);
  await assert.rejects(
    endpointOptions({ relay: "msrp://r.example:2855;tcp", user: "a", expires: "0" }, env),
    /--expires must be/,
  );
  let written = "";
  const traced = await endpointOptions({ trace: true }, env, "send", (t) => (written += t));
  traced.trace!("debug", "frame out", {
    peer: "127.0.0.1:2855",
    direction: "out",
    frame: 'MSRP abcd SEND\nTo-Path: x\n\n[2 bytes: "hi"]\n-------abcd$',
  });
  traced.trace!("debug", "frame in", { direction: "in", frame: "MSRP abcd 200 OK\n-------abcd$" });
  assert.equal(
    written,
    "msrp send: frame out to 127.0.0.1:2855\n> MSRP abcd SEND\n> To-Path: x\n>\n" +
      '> [2 bytes: "hi"]\n> -------abcd$\n' +
      "msrp send: frame in\n< MSRP abcd 200 OK\n< -------abcd$\n",
  );
  assert.equal(
    formatTrace("relay", "frame in", {
      connection: 3,
      peer: "[::1]:4000",
      direction: "in",
      frame: "MSRP x 200 OK",
    }),
    "msrp relay: frame in conn=3 from [::1]:4000\n< MSRP x 200 OK\n",
  );
});

Deno.test("relay flags: realm, aliases, one listener per --bind, Expires bounds, limits, relay TLS", async () => {
  const base = { insecure: true, port: "0", user: ["a:b"] };
  const c = await relayConfigFrom({
    ...base,
    host: "relay.example.com",
    realm: "example.com",
    alias: ["Relay2.example.com", "relay3.example.com"],
    bind: ["127.0.0.1", "::1"],
    "advertise-port": "2856",
    expires: "120",
    "min-expires": "30",
    "max-expires": "600",
    "max-connections": "50",
    "max-registrations": "20",
    limit: ["idleMs=60000", "probationMs=5000"],
    "trusted-relay": ["peer.example.com"],
    algorithm: ["SHA-256"],
    "block-unknown-methods": true,
  });
  assert.deepEqual(c.algorithms, ["SHA-256"]);
  assert.equal(c.blockUnknownMethods, true);
  assert.equal(c.host, "relay.example.com");
  assert.equal(c.realm, "example.com");
  assert.deepEqual(c.aliases, ["relay2.example.com", "relay3.example.com"]);
  assert.deepEqual(c.listen, [
    { hostname: "127.0.0.1", port: 0, tls: false, advertisePort: 2856 },
    { hostname: "::1", port: 0, tls: false, advertisePort: 2856 },
  ]);
  assert.deepEqual(c.expires, { default: 120, min: 30, max: 600 });
  assert.equal(c.limits.maxConnections, 50);
  assert.equal(c.limits.maxRegistrations, 20);
  assert.equal(c.limits.idleMs, 60000);
  assert.equal(c.limits.probationMs, 5000);
  assert.equal(c.limits.transactionTimeoutMs, 30000);
  assert.deepEqual(c.trustedRelays, ["peer.example.com"]);
  // One bound alone: the default follows it into range.
  assert.deepEqual((await relayConfigFrom({ ...base, "max-expires": "30" })).expires, {
    default: 30,
    min: 30,
    max: 30,
  });
  assert.deepEqual((await relayConfigFrom({ ...base, "min-expires": "100000" })).expires, {
    default: 100000,
    min: 100000,
    max: 100000,
  });
  await assert.rejects(
    relayConfigFrom({ ...base, expires: "10", "min-expires": "60" }),
    /expires\.default must be an integer from 60/,
  );
  await assert.rejects(relayConfigFrom({ ...base, "max-expires": "0" }), /--max-expires must be/);
  await assert.rejects(relayConfigFrom({ ...base, "max-connections": "many" }), /whole number/);
  assert.throws(() => parseLimits(["idleMs"]), /--limit must be name=integer/);
  await assert.rejects(
    relayConfigFrom({ ...base, limit: ["idleMS=5"] }),
    /limits\.idleMS is not a known setting/,
  );
  await assert.rejects(relayConfigFrom({ ...base, "tls-ca": "ca.pem" }), /--tls-ca goes with/);
  await assert.rejects(
    relayConfigFrom({ ...base, algorithm: ["MD5-sess"] }),
    /algorithms\[0\] must be "SHA-256" or "MD5"/,
  );
  const tls = await relayConfigFrom({
    port: "0",
    "tls-cert": `${CERTS}server.pem`,
    "tls-key": `${CERTS}server.key`,
    "tls-ca": `${CERTS}ca.pem`,
  });
  assert.equal(tls.tls?.caFile, `${CERTS}ca.pem`);
  assert.equal(tls.allowInsecure, false);
});

Deno.test("media types by extension and back", () => {
  assert.equal(contentTypeForFile("photo.JPG"), "image/jpeg");
  assert.equal(contentTypeForFile("/tmp/notes.txt"), "text/plain;charset=UTF-8");
  assert.equal(contentTypeForFile("archive"), "application/octet-stream");
  assert.equal(contentTypeForFile(".hidden"), "application/octet-stream");
  assert.equal(extensionForType("image/jpeg"), "jpg");
  assert.equal(extensionForType("TEXT/HTML; charset=utf-8"), "html");
  assert.equal(extensionForType("application/x-nothing"), undefined);
});

Deno.test("chat prints each line of a received text after the prefix", () => {
  assert.equal(formatIncoming("one"), "peer> one\n");
  assert.equal(formatIncoming("a\r\nb\n"), "peer> a\npeer> b\n");
});

Deno.test("runCli: help, version, unknown commands and topics", async () => {
  const none = fakeIo();
  assert.equal(await runCli([], none), 2);
  assert.match(none.stdout, /^msrp: send and receive MSRP messages/);
  const version = fakeIo();
  assert.equal(await runCli(["--version"], version), 0);
  assert.equal(version.stdout, `msrp ${VERSION}\n`);
  const topic = fakeIo();
  assert.equal(await runCli(["help", "relay"], topic), 0);
  assert.match(topic.stdout, /^Usage: msrp relay/);
  const badTopic = fakeIo();
  assert.equal(await runCli(["help", "nope"], badTopic), 2);
  assert.match(badTopic.stderr, /no help on "nope"/);
  const badPort = fakeIo();
  assert.equal(await runCli(["listen", "--port", "http"], badPort), 2);
  assert.equal(
    badPort.stderr,
    `msrp listen: --port must be a port number from 0 to 65535, not "http"\nTry 'msrp listen --help'.\n`,
  );
  const notDir = fakeIo();
  assert.equal(await runCli(["listen", "--save", "/nonexistent/dir"], notDir), 2);
  assert.match(notDir.stderr, /--save \/nonexistent\/dir: not a directory/);
  const nothing = fakeIo();
  assert.equal(
    await runCli([
      "send",
      "--to",
      String(MsrpUri.parse("msrp://127.0.0.1:1/a;tcp")),
      "--file",
      "/nonexistent",
    ], nothing),
    2,
  );
  assert.match(nothing.stderr, /cannot read --file \/nonexistent: no such file or directory/);
});

Deno.test("forTerminal replaces control characters but keeps lines and tabs", () => {
  assert.equal(forTerminal("a\tb\r\nc\x1b[31mred\x07\x9b"), "a\tb\nc\ufffd[31mred\ufffd\ufffd");
});

Deno.test("nonEmpty: undefined for an empty stream, else the same bytes", async () => {
  assert.equal(await nonEmpty(ReadableStream.from<Uint8Array>([])), undefined);
  assert.equal(await nonEmpty(ReadableStream.from([new Uint8Array(0)])), undefined);
  const again = await nonEmpty(
    ReadableStream.from([new Uint8Array(0), new Uint8Array([1, 2]), new Uint8Array([3])]),
  );
  assert.deepEqual(
    new Uint8Array(await new Response(again).arrayBuffer()),
    new Uint8Array([1, 2, 3]),
  );
});

Deno.test("help texts name the relay, Expires and trace flags", () => {
  for (const help of [SEND_HELP, LISTEN_HELP, CHAT_HELP]) {
    assert.match(help, /--expires/);
    assert.match(help, /--trace/);
  }
  assert.doesNotMatch(SEND_HELP, /always done with\s+--relay/);
  for (const flag of Object.keys(RELAY_FLAGS)) {
    assert.match(RELAY_HELP, new RegExp(`--${flag}\\b`), `--${flag} in msrp relay --help`);
  }
  assert.match(RELAY_HELP, /--insecure[^]*prints a warning/);
});
