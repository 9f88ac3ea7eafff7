import assert from "node:assert/strict";
import { MsrpError } from "../../lib/errors.ts";
import { computeFingerprint } from "../../lib/transport/fingerprint.ts";
import type { Fingerprint } from "../../lib/transport/types.ts";
import {
  checkFingerprint,
  checkPeerFingerprint,
  connectTls,
  listenTls,
  type TlsTransport,
} from "../../lib/transport/tls.ts";
import type { MsrpTransport } from "../../lib/transport/types.ts";
import { prng, randomBytes, writeInPieces } from "../_util.ts";

const CERTS = new URL("../fixtures/certs/", import.meta.url);
const pem = (name: string): string => Deno.readTextFileSync(new URL(name, CERTS));
const CA = pem("ca.pem");
const SERVER = { cert: pem("server.pem"), key: pem("server.key") };
const SELF = { cert: pem("selfsigned.pem"), key: pem("selfsigned.key") };
const OTHER = { cert: pem("other.pem"), key: pem("other.key") };

/** The DER bytes of the first certificate in a PEM text. */
function der(text: string): Uint8Array {
  const b64 = text.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0];
  return Uint8Array.from(atob(b64.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
}

const fp = (text: string, hash = "sha-256"): Fingerprint => computeFingerprint(der(text), hash);

const IPV6_REASON: string | undefined = (() => {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return undefined;
  } catch (e) {
    return `IPv6 loopback unavailable: ${(e as Error).message}`;
  }
})();

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of r) parts.push(chunk);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function rejectsWith(p: Promise<unknown>, code: string, text?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MsrpError, `expected an MsrpError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (text !== undefined) assert.ok(e.message.includes(text), e.message);
    return true;
  });
}

/**
 * The server must be accepting while the client connects: `connectTls`
 * resolves only after the handshake, which the server runs once it accepted.
 *
 * Sends `text` from the client, half-closes, and reads the server's echo;
 * returns the echo and the server side of the connection.
 */
async function roundTrip(
  accepted: Promise<MsrpTransport>,
  client: MsrpTransport,
  text: string,
): Promise<{ echoed: string; server: MsrpTransport }> {
  const server = await accepted;
  const echo = server.readable.pipeTo(server.writable);
  const w = client.writable.getWriter();
  await w.write(enc(text));
  await w.close();
  const echoed = dec(await readAll(client.readable));
  await echo;
  return { echoed, server };
}

Deno.test("tls: a server certificate from a trusted CA, name checked (RFC 4975 §5.4)", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...SERVER });
  const accepted = listener.accept();
  const client = await connectTls(
    { hostname: "127.0.0.1", port: listener.addr.port },
    { hostname: "localhost", caCerts: [CA] },
  );
  assert.equal(client.kind, "tls");
  assert.equal(client.secure, true);
  assert.equal(client.peerCertificate, undefined); // Deno's TLS does not expose it
  assert.deepEqual(client.remoteAddr, { hostname: "127.0.0.1", port: listener.addr.port });
  const { echoed, server } = await roundTrip(accepted, client, "MSRP a8 SEND\r\n-------a8$\r\n");
  assert.equal(echoed, "MSRP a8 SEND\r\n-------a8$\r\n");
  assert.equal(server.kind, "tls");
  assert.equal(server.secure, true);
  client.close();
  server.close();
  listener.close();
});

Deno.test("tls: the name defaults to the address, and may be an IP in the certificate", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...SERVER });
  const accepted = listener.accept();
  const client = await connectTls(
    { hostname: "127.0.0.1", port: listener.addr.port },
    { caCerts: [CA] },
  );
  const { echoed, server } = await roundTrip(accepted, client, "x");
  assert.equal(echoed, "x");
  client.close();
  server.close();
  listener.close();
});

Deno.test({
  name: "tls: over the IPv6 loopback",
  ignore: IPV6_REASON !== undefined,
  fn: async () => {
    const listener = await listenTls({ hostname: "::1", port: 0, ...SERVER });
    const accepted = listener.accept();
    const client = await connectTls({ hostname: "::1", port: listener.addr.port }, {
      caCerts: [CA],
    });
    const { echoed, server } = await roundTrip(accepted, client, "over ::1");
    assert.equal(echoed, "over ::1");
    client.close();
    server.close();
    listener.close();
  },
});

Deno.test("tls: a certificate for another name is tls-name-mismatch", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...SERVER });
  await rejectsWith(
    connectTls(
      { hostname: "127.0.0.1", port: listener.addr.port },
      { hostname: "relay.example.com", caCerts: [CA] },
    ),
    "tls-name-mismatch",
    `cannot connect to 127.0.0.1:${listener.addr.port} over TLS: the certificate is not valid for "relay.example.com"`,
  );
  listener.close();
});

Deno.test("tls: a CA we do not trust is tls-untrusted", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...SERVER });
  await rejectsWith(
    connectTls({ hostname: "127.0.0.1", port: listener.addr.port }, { hostname: "localhost" }),
    "tls-untrusted",
    "the certificate is not trusted: its issuer is unknown",
  );
  listener.close();
});

Deno.test("tls: a self-signed certificate without a fingerprint is refused", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...SELF });
  await rejectsWith(
    connectTls({ hostname: "127.0.0.1", port: listener.addr.port }, {
      hostname: "localhost",
      caCerts: [CA],
    }),
    "tls-untrusted",
  );
  listener.close();
});

Deno.test("tls: RFC 4975 §14.4, a self-signed certificate matching the SDP fingerprint", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...SELF });
  // Hash name and hex digits as a peer might write them: compared case-insensitively.
  const f = fp(SELF.cert);
  const accepted = listener.accept();
  const client = await connectTls({ hostname: "127.0.0.1", port: listener.addr.port }, {
    fingerprint: { hash: "SHA-256", value: f.value.toLowerCase() },
  });
  assert.equal(client.kind, "tls");
  assert.equal(client.secure, true);
  assert.deepEqual(client.peerCertificate, der(SELF.cert));
  assert.equal(client.remoteAddr?.port, listener.addr.port);
  const { echoed, server } = await roundTrip(accepted, client, "peer to peer");
  assert.equal(echoed, "peer to peer");
  client.close();
  server.close();
  listener.close();
});

Deno.test("tls: a certificate that does not match the fingerprint is fingerprint-mismatch", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...SELF });
  await rejectsWith(
    connectTls({ hostname: "127.0.0.1", port: listener.addr.port }, {
      fingerprint: fp(OTHER.cert),
    }),
    "fingerprint-mismatch",
    `the certificate of 127.0.0.1:${listener.addr.port} does not match the sha-256 fingerprint in the SDP`,
  );
  listener.close();
});

Deno.test("tls: the fingerprint rule also holds for a CA-signed certificate", async () => {
  // With a fingerprint, only the fingerprint counts (§14.4: mismatch MUST tear down).
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...SERVER });
  await rejectsWith(
    connectTls({ hostname: "127.0.0.1", port: listener.addr.port }, {
      hostname: "localhost",
      caCerts: [CA],
      fingerprint: fp(SELF.cert),
    }),
    "fingerprint-mismatch",
  );
  listener.close();
});

Deno.test("tls: an unknown hash function is fingerprint-unsupported, before connecting", async () => {
  await rejectsWith(
    connectTls({ hostname: "127.0.0.1", port: 9 }, {
      fingerprint: { hash: "sha3-256", value: "AB:CD" },
    }),
    "fingerprint-unsupported",
    "(sha3-256)",
  );
});

Deno.test("checkFingerprint: RFC 8122 §5, only the strongest offered hash counts", () => {
  const cert = der(SELF.cert);
  const wrong256 = fp(OTHER.cert, "sha-256");
  const right1 = fp(SELF.cert, "sha-1");
  const right256 = fp(SELF.cert, "sha-256");
  const wrong1 = fp(OTHER.cert, "sha-1");
  checkFingerprint(cert, right256);
  checkFingerprint(cert, [wrong1, right256]);
  checkFingerprint(cert, [wrong256, right256]);
  checkFingerprint(cert, right1);
  checkFingerprint(cert, [{ hash: "sha3-512", value: "00" }, right1]);
  assert.throws(
    () => checkFingerprint(cert, [right1, wrong256], "bob"),
    (e: unknown) =>
      e instanceof MsrpError && e.code === "fingerprint-mismatch" &&
      e.message === "the certificate of bob does not match the sha-256 fingerprint in the SDP",
  );
  assert.throws(
    () => checkFingerprint(cert, []),
    (e: unknown) => e instanceof MsrpError && e.code === "fingerprint-unsupported",
  );
});

Deno.test("tls: a server asking for client certificates sees ours (§14.4 both ways)", async () => {
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    ...SELF,
    requestClientCertificate: true,
    caCerts: [CA],
  });
  const accepted = listener.accept();
  const client = await connectTls({ hostname: "127.0.0.1", port: listener.addr.port }, {
    fingerprint: fp(SELF.cert),
    ...OTHER,
  });
  const { echoed, server } = await roundTrip(accepted, client, "both ways");
  assert.equal(echoed, "both ways");
  const s = server as TlsTransport;
  assert.equal(s.kind, "tls");
  assert.deepEqual(s.peerCertificate, der(OTHER.cert));
  assert.equal(s.peerAuthorized, false); // self-signed: not under the CA
  assert.equal(s.remoteAddr?.port, client.localAddr?.port);
  // The listening side checks once the first SEND named the session (§5.4).
  checkPeerFingerprint(s, fp(OTHER.cert));
  assert.throws(
    () => checkPeerFingerprint(s, fp(SELF.cert)),
    (e: unknown) => e instanceof MsrpError && e.code === "fingerprint-mismatch",
  );
  client.close();
  server.close();
  listener.close();
});

Deno.test("tls: a client without a certificate has none to check", async () => {
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    ...SELF,
    requestClientCertificate: true,
  });
  const accepted = listener.accept();
  const client = await connectTls({ hostname: "127.0.0.1", port: listener.addr.port }, {
    fingerprint: fp(SELF.cert),
  });
  const { server } = await roundTrip(accepted, client, "");
  assert.equal((server as TlsTransport).peerCertificate, undefined);
  assert.throws(
    () => checkPeerFingerprint(server, fp(OTHER.cert)),
    (e: unknown) =>
      e instanceof MsrpError && e.code === "no-peer-certificate" &&
      e.message.includes("presented no TLS certificate"),
  );
  client.close();
  server.close();
  listener.close();
});

Deno.test("tls: mutual TLS under a CA (RFC 4976 §6.1, relay to relay)", async () => {
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    ...SERVER,
    requestClientCertificate: true,
    caCerts: [CA],
  });
  const accepted = listener.accept();
  const client = await connectTls({ hostname: "127.0.0.1", port: listener.addr.port }, {
    hostname: "localhost",
    caCerts: [CA],
    ...SERVER, // the test CA's certificate doubles as the client's
  });
  assert.deepEqual(client.peerCertificate, der(SERVER.cert));
  const { echoed, server } = await roundTrip(accepted, client, "relay");
  assert.equal(echoed, "relay");
  assert.equal((server as TlsTransport).peerAuthorized, true);
  assert.deepEqual((server as TlsTransport).peerCertificate, der(SERVER.cert));
  client.close();
  server.close();
  listener.close();
});

Deno.test("tls: with a client certificate, the name and the CA are still checked", async () => {
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    ...SERVER,
    requestClientCertificate: true,
  });
  await rejectsWith(
    connectTls({ hostname: "127.0.0.1", port: listener.addr.port }, {
      hostname: "relay.example.com",
      caCerts: [CA],
      ...OTHER,
    }),
    "tls-name-mismatch",
    `"relay.example.com"`,
  );
  await rejectsWith(
    connectTls({ hostname: "127.0.0.1", port: listener.addr.port }, {
      hostname: "localhost",
      ...OTHER,
    }),
    "tls-untrusted",
  );
  listener.close();
});

Deno.test("tls: a refused connection keeps the TCP error codes", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await rejectsWith(
    connectTls({ hostname: "127.0.0.1", port }, { caCerts: [CA] }),
    "connect-refused",
    `127.0.0.1:${port}`,
  );
  await rejectsWith(
    connectTls({ hostname: "127.0.0.1", port }, { fingerprint: fp(SELF.cert) }),
    "connect-refused",
    `127.0.0.1:${port}`,
  );
});

Deno.test("tls: a certificate without its key is bad-tls-options", async () => {
  await rejectsWith(
    connectTls({ hostname: "127.0.0.1", port: 9 }, { cert: SELF.cert }),
    "bad-tls-options",
  );
});

Deno.test("tls: a listener that cannot use its key is listen-failed", async () => {
  await rejectsWith(
    listenTls({ hostname: "127.0.0.1", port: 0, cert: SELF.cert, key: "not a key" }),
    "listen-failed",
  );
  await rejectsWith(
    listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: SELF.cert,
      key: "not a key",
      requestClientCertificate: true,
    }),
    "listen-failed",
  );
});

Deno.test("tls: a port in use is listen-failed, with or without client certificates", async () => {
  const first = await listenTls({ hostname: "127.0.0.1", port: 0, ...SELF });
  for (const requestClientCertificate of [false, true]) {
    await rejectsWith(
      listenTls({
        hostname: "127.0.0.1",
        port: first.addr.port,
        ...SELF,
        requestClientCertificate,
      }),
      "listen-failed",
      `127.0.0.1:${first.addr.port}`,
    );
  }
  first.close();
});

for (const mode of ["CA (Deno TLS)", "fingerprint (node:tls)"]) {
  Deno.test(`tls: 2 MiB of random bytes both ways at once, ${mode}`, async () => {
    const fingerprint = mode.startsWith("fingerprint");
    const listener = await listenTls({
      hostname: "127.0.0.1",
      port: 0,
      ...(fingerprint ? SELF : SERVER),
      requestClientCertificate: fingerprint,
    });
    const accepted = listener.accept();
    const client = await connectTls(
      { hostname: "127.0.0.1", port: listener.addr.port },
      fingerprint ? { fingerprint: fp(SELF.cert), ...OTHER } : { caCerts: [CA] },
    );
    const server = await accepted;
    const up = randomBytes(2 * 1024 * 1024, prng(1));
    const down = randomBytes(2 * 1024 * 1024 + 17, prng(2));
    const [, , gotUp, gotDown] = await Promise.all([
      writeInPieces(client.writable, up, prng(3), 20000),
      writeInPieces(server.writable, down, prng(4), 20000),
      readAll(server.readable),
      readAll(client.readable),
    ]);
    assert.deepEqual(gotUp, up);
    assert.deepEqual(gotDown, down);
    client.close();
    server.close();
    listener.close();
  });
}

Deno.test("tls: close() ends a waiting read on both TLS paths", async () => {
  for (const fingerprint of [false, true]) {
    const listener = await listenTls({
      hostname: "127.0.0.1",
      port: 0,
      ...(fingerprint ? SELF : SERVER),
      requestClientCertificate: fingerprint,
    });
    const accepted = listener.accept();
    const client = await connectTls(
      { hostname: "127.0.0.1", port: listener.addr.port },
      fingerprint ? { fingerprint: fp(SELF.cert) } : { caCerts: [CA] },
    );
    const server = await accepted;
    const pending = client.readable.getReader().read();
    client.close();
    assert.deepEqual(await pending, { done: true, value: undefined });
    await rejectsWith(client.writable.getWriter().write(enc("x")), "connection-closed");
    assert.deepEqual(await readAll(server.readable), new Uint8Array(0));
    server.close();
    listener.close();
  }
});

Deno.test("tls: on the node:tls client path a reader too far behind gets receive-overflow", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...SELF });
  const accepted = listener.accept();
  const client = await connectTls({ hostname: "127.0.0.1", port: listener.addr.port }, {
    fingerprint: fp(SELF.cert),
    maxBufferedBytes: 100000,
  });
  const server = await accepted;
  // The client reads nothing; the server's bytes pile up past the bound and
  // the client drops the connection, which the server sees as the end.
  const w = server.writable.getWriter();
  const sent = (async () => {
    for (let i = 0; i < 40; i++) await w.write(new Uint8Array(10000));
  })().catch(() => {});
  await readAll(server.readable).catch(() => {});
  await sent;
  await rejectsWith(
    client.readable.getReader().read(),
    "receive-overflow",
    "more than 100000 bytes",
  );
  client.close();
  server.close();
  listener.close();
});

Deno.test("tls: an accepted connection whose reader lags is not read ahead (no overflow)", async () => {
  // The listener stops reading the socket while its reader is behind, so a
  // slow reader never trips the 100 kB bound: TCP flow control holds the rest.
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    ...SERVER,
    maxBufferedBytes: 100000,
  });
  const accepted = listener.accept();
  const client = await connectTls(
    { hostname: "127.0.0.1", port: listener.addr.port },
    { hostname: "localhost", caCerts: [CA] },
  );
  const server = await accepted;
  const data = randomBytes(8 * 1024 * 1024, prng(7));
  const sent = writeInPieces(client.writable, data, prng(8), 256 * 1024);
  // A slow reader: one macrotask between chunks.
  const got = new Uint8Array(data.length);
  let at = 0;
  for await (const chunk of server.readable) {
    got.set(chunk, at);
    at += chunk.length;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await sent;
  assert.equal(at, data.length);
  assert.deepEqual(got, data);
  client.close();
  server.close();
  listener.close();
});
