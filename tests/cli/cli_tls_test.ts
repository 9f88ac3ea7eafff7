// The `msrp` command and certificates, in process: `--fingerprint` pins a
// direct peer's or a relay's certificate (RFC 4975 §14.4, RFC 8122 §5),
// `listen --fingerprint` checks the connecting peer's certificate, and a
// refused certificate is one line naming the cause and the fix (exit 3).

import assert from "node:assert/strict";
import { MsrpEndpoint } from "../../mod.ts";
import type { CliIo } from "../../lib/cli/common.ts";
import { runCli } from "../../lib/cli/main.ts";
import { computeFingerprint } from "../../lib/transport/fingerprint.ts";
import { resolveRelayConfig, serveRelay } from "../../lib/relay/mod.ts";
import { type CertPair, OPENSSL_MISSING, testCerts } from "../_certs.ts";

const CERTS = new URL("../fixtures/certs/", import.meta.url).pathname;
const read = (name: string) => Deno.readTextFileSync(CERTS + name);
const SELF = { cert: read("selfsigned.pem"), key: read("selfsigned.key") };
const OTHER = { cert: read("other.pem"), key: read("other.key") };

function der(text: string): Uint8Array {
  const b64 = text.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0];
  return Uint8Array.from(atob(b64.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
}
/** The pin as a user writes it: `sha-256:AB:CD:…`. */
const pin = (pair: CertPair): string => `sha-256:${computeFingerprint(der(pair.cert)).value}`;

/** Standard streams in memory; `line()` waits for a line of stdout, `stop()` sends SIGTERM. */
function memoryIo(): CliIo & {
  stdout: string;
  stderr: string;
  line(): Promise<string>;
  stop(): void;
} {
  let onLine: ((l: string) => void) | undefined;
  let signal: ((s: string) => void) | undefined;
  const io = {
    stdout: "",
    stderr: "",
    out(text: string) {
      io.stdout += text;
      onLine?.(text.replace(/\n$/, ""));
    },
    err(text: string) {
      io.stderr += text;
    },
    stdin: new Blob([]).stream(),
    stdinIsTerminal: false,
    stdoutIsTerminal: false,
    stderrIsTerminal: false,
    onSignal(handler: (s: string) => void) {
      signal = handler;
      return () => signal = undefined;
    },
    line: () => new Promise<string>((resolve) => onLine = resolve),
    stop: () => signal?.("SIGTERM"),
  };
  return io;
}

async function msrp(...args: string[]): Promise<{ code: number; stderr: string }> {
  const io = memoryIo();
  const code = await runCli(args, io);
  return { code, stderr: io.stderr };
}

/** A listening endpoint with `pair`'s certificate, and a session waiting on it. */
async function peer(pair: CertPair) {
  const endpoint = await MsrpEndpoint.start({
    host: "localhost",
    bindAddress: "127.0.0.1",
    port: 0,
    tls: pair,
  });
  const session = endpoint.createSession();
  const bound = endpoint.accept(session, []);
  bound.catch(() => {});
  return { endpoint, session, bound, uri: session.localUri.toString() };
}

Deno.test({
  name: "msrp send to an `openssl req -x509` peer: the cause and fix, then --fingerprint",
  ignore: OPENSSL_MISSING !== undefined,
  fn: async () => {
    const { caSelfSigned } = await testCerts();
    const bob = await peer(caSelfSigned);
    const caFile = await Deno.makeTempFile({ suffix: ".pem" });
    await Deno.writeTextFile(caFile, caSelfSigned.cert);
    // Trusting it with --ca does not help: rustls refuses a CA certificate as a server's.
    const refused = await msrp("send", "--to", bob.uri, "--ca", caFile, "hi");
    await Deno.remove(caFile);
    assert.equal(refused.code, 3);
    assert.match(
      refused.stderr,
      /^msrp send: cannot connect to 127\.0\.0\.1:\d+ over TLS: the certificate is a CA certificate \(basicConstraints CA:TRUE.*make a leaf certificate \(CA:FALSE\) signed by a CA.*--fingerprint sha-256:<hex>.*\n$/,
    );
    // A wrong pin: refused, exit 3.
    const wrong = await msrp("send", "--to", bob.uri, "--fingerprint", pin(OTHER), "hi");
    assert.equal(wrong.code, 3);
    assert.match(wrong.stderr, /does not match the sha-256 fingerprint/);
    // The right pin, as openssl prints it: delivered.
    const openssl = `SHA256 Fingerprint=${computeFingerprint(der(caSelfSigned.cert)).value}`;
    const [sent, text] = await Promise.all([
      msrp("send", "--to", bob.uri, "--fingerprint", openssl, "pinned"),
      bob.bound.then(() => bob.session.nextMessage()).then((m) => m!.text()),
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(text, "pinned");
    await bob.endpoint.close();
  },
});

Deno.test("msrp send --fingerprint: bad values and plain msrp: are usage errors", async () => {
  const bad = await msrp(
    "send",
    "--to",
    "msrps://127.0.0.1:9/abcd;tcp",
    "--fingerprint",
    "xyz",
    "hi",
  );
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^msrp send: bad --fingerprint: bad fingerprint "xyz": write it as sha-256:AB:CD/,
  );
  const plain = await msrp(
    "send",
    "--to",
    "msrp://127.0.0.1:9/abcd;tcp",
    "--fingerprint",
    pin(SELF),
    "hi",
  );
  assert.equal(plain.code, 2);
  assert.match(
    plain.stderr,
    /--fingerprint pins a TLS certificate, but this connection is msrp: \(no TLS\)/,
  );
  const relay = await msrp(
    "send",
    "--to",
    "msrp://127.0.0.1:9/abcd;tcp",
    "--relay",
    "msrp://127.0.0.1:9;tcp",
    "--user",
    "a",
    "--password",
    "b",
    "--fingerprint",
    pin(SELF),
    "hi",
  );
  assert.equal(relay.code, 2);
  assert.match(relay.stderr, /the --relay URI is msrp: \(no TLS\)/);
  const listen = await msrp("listen", "--fingerprint", pin(SELF));
  assert.equal(listen.code, 2);
  assert.match(listen.stderr, /use an msrps: URI, or --tls-cert and --tls-key to listen/);
});

Deno.test({
  name: "msrp send --relay --fingerprint pins a relay whose certificate no CA vouches for",
  ignore: OPENSSL_MISSING !== undefined,
  fn: async () => {
    const { caSelfSigned } = await testCerts();
    const dir = await Deno.makeTempDir({ prefix: "msrp-relay-" });
    await Deno.writeTextFile(`${dir}/cert.pem`, caSelfSigned.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, caSelfSigned.key);
    const server = await serveRelay(
      resolveRelayConfig({
        host: "localhost",
        listen: [{ hostname: "127.0.0.1", port: 0, tls: true }],
        tls: { certFile: `${dir}/cert.pem`, keyFile: `${dir}/key.pem` },
        users: { alice: { password: "a" }, bob: { password: "b" } },
      }),
      { logger: () => {} },
    );
    await Deno.remove(dir, { recursive: true });
    const relay = `msrps://localhost:${server.listeners[0].addr!.port};tcp`;
    const bob = await MsrpEndpoint.start({
      relays: [{
        uri: relay,
        username: "bob",
        password: "b",
        fingerprints: [computeFingerprint(der(caSelfSigned.cert))],
      }],
    });
    const b = bob.createSession();
    const bound = bob.accept(b, []);
    const to = bob.path(b).join(" ");
    const args = ["send", "--to", to, "--relay", relay, "--user", "alice", "--password", "a"];
    const unpinned = await msrp(...args, "x");
    assert.equal(unpinned.code, 3);
    assert.match(unpinned.stderr, /is a CA certificate/);
    const [sent, text] = await Promise.all([
      msrp(...args, "--fingerprint", pin(caSelfSigned), "via a pinned relay"),
      bound.then(() => b.nextMessage()).then((m) => m!.text()),
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(text, "via a pinned relay");
    await bob.close();
    await server.close();
  },
});

Deno.test("msrp listen --fingerprint: only a peer presenting the pinned certificate binds", async () => {
  const io = memoryIo();
  const listening = runCli([
    "listen",
    "--host",
    "localhost",
    "--bind",
    "127.0.0.1",
    "--tls-cert",
    `${CERTS}selfsigned.pem`,
    "--tls-key",
    `${CERTS}selfsigned.key`,
    "--fingerprint",
    pin(OTHER),
  ], io);
  // A line of stdout, or a failure if listen exits first (so the test cannot hang).
  const exited = listening.then((code) => {
    throw new Error(`msrp listen exited with ${code}: ${io.stderr}`);
  });
  exited.catch(() => {});
  const nextLine = () => Promise.race([io.line(), exited]);
  const uri = await nextLine();
  const send = (pair: CertPair | undefined, text: string) =>
    msrp(
      "send",
      "--to",
      uri,
      "--fingerprint",
      pin(SELF),
      ...(pair === undefined ? [] : [
        "--tls-cert",
        `${CERTS}${pair === SELF ? "selfsigned" : "other"}.pem`,
        "--tls-key",
        `${CERTS}${pair === SELF ? "selfsigned" : "other"}.key`,
      ]),
      text,
    );
  // No client certificate, then the wrong one: the session is torn down (481 to the sender).
  const none = await send(undefined, "no certificate");
  assert.equal(none.code, 1, none.stderr);
  assert.match(io.stderr, /msrp listen: 127\.0\.0\.1:\d+ presented no TLS certificate/);
  const wrong = await send(SELF, "wrong certificate");
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.match(io.stderr, /msrp listen: the certificate of 127\.0\.0\.1:\d+ does not match/);
  // The pinned one binds, on the same URI.
  const [right, printed] = await Promise.all([send(OTHER, "pinned peer"), nextLine()]);
  assert.equal(right.code, 0, right.stderr);
  assert.equal(printed, "pinned peer");
  io.stop();
  assert.equal(await listening, 0);
});
