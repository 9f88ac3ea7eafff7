import assert from "node:assert/strict";
import { MsrpError } from "../../lib/errors.ts";
import { computeFingerprint } from "../../lib/transport/fingerprint.ts";
import type { MsrpListener } from "../../lib/transport/tcp.ts";
import type { MsrpTransport } from "../../lib/transport/types.ts";
import { connectTls, listenTls, type TlsConnectOptions } from "../../lib/transport/tls.ts";
import { connectWebSocket } from "../../lib/transport/websocket.ts";
import { listenWebSocket } from "../../lib/transport/websocket_server.ts";
import {
  type CertificateProblem,
  TlsCertificateError,
  tlsError,
} from "../../lib/transport/tls_errors.ts";
import { type CertPair, OPENSSL_MISSING, testCerts } from "../_certs.ts";

const CERTS = new URL("../fixtures/certs/", import.meta.url);
const pem = (name: string): string => Deno.readTextFileSync(new URL(name, CERTS));
const CA = pem("ca.pem");
const SERVER = { cert: pem("server.pem"), key: pem("server.key") };
const SELF = { cert: pem("selfsigned.pem"), key: pem("selfsigned.key") };
const OTHER = { cert: pem("other.pem"), key: pem("other.key") };

function der(text: string): Uint8Array {
  const b64 = text.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0];
  return Uint8Array.from(atob(b64.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
}

/** Lets the server side of a refused handshake finish. */
/**
 * Takes whatever the listener accepts until it is closed: a handshake the
 * client refuses after it finished (node:tls) gives the server a connection,
 * one refused during the handshake (rustls) gives it none.
 */
function drainFailed(listener: MsrpListener): () => Promise<void> {
  const accepted: MsrpTransport[] = [];
  const taking = (async () => {
    try {
      for (;;) {
        const s = await listener.accept();
        accepted.push(s);
        s.readable.pipeTo(new WritableStream()).catch(() => {});
      }
    } catch {
      // the listener is closed
    }
  })();
  return async () => {
    listener.close();
    await taking;
    for (const s of accepted) s.close();
  };
}

/**
 * Connects to a server presenting `server` and expects a refusal for
 * `problem` whose message holds every one of `words`.
 */
async function refused(
  server: CertPair,
  options: TlsConnectOptions,
  problem: CertificateProblem,
  ...words: string[]
): Promise<void> {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...server });
  const done = drainFailed(listener);
  const where = `cannot connect to 127.0.0.1:${listener.addr.port} over TLS: `;
  await assert.rejects(
    connectTls({ hostname: "127.0.0.1", port: listener.addr.port }, options),
    (e: unknown) => {
      assert.ok(e instanceof TlsCertificateError, `expected a TlsCertificateError, got ${e}`);
      assert.equal(e.problem, problem, e.message);
      assert.equal(e.code, problem === "name-mismatch" ? "tls-name-mismatch" : "tls-untrusted");
      assert.ok(e.message.startsWith(where), e.message);
      for (const w of words) assert.ok(e.message.includes(w), `"${w}" not in: ${e.message}`);
      assert.ok(!e.message.includes("(Other)"), e.message);
      return true;
    },
  );
  await done();
}

// Each cause is tried on both TLS paths: Deno's own TLS (CA mode), and
// node:tls, which connectTls takes when we present a client certificate.
const PATHS = [
  { path: "Deno TLS", client: {} },
  { path: "node:tls", client: OTHER },
];

for (const { path, client } of PATHS) {
  Deno.test(`tls errors (${path}): an issuer we do not trust is named, with the fixes`, async () => {
    await refused(
      SERVER,
      { hostname: "localhost", ...client },
      "unknown-issuer",
      "its issuer is unknown",
      "--ca",
      "--fingerprint sha-256:",
    );
  });

  Deno.test(`tls errors (${path}): a name mismatch lists the names the certificate has`, async () => {
    await refused(
      SERVER,
      { hostname: "relay.example.com", caCerts: [CA], ...client },
      "name-mismatch",
      `the certificate is not valid for "relay.example.com" (it is valid for localhost, 127.0.0.1, ::1)`,
      `subjectAltName includes "relay.example.com"`,
    );
  });

  Deno.test({
    name: `tls errors (${path}): an expired certificate says when it expired`,
    ignore: OPENSSL_MISSING !== undefined,
    fn: async () => {
      const { expired } = await testCerts();
      await refused(
        expired,
        { hostname: "localhost", caCerts: [CA], ...client },
        "expired",
        "the certificate expired on 2001-01-01T00:00:00Z",
      );
    },
  });

  Deno.test({
    name: `tls errors (${path}): a certificate not valid yet says when it starts`,
    ignore: OPENSSL_MISSING !== undefined,
    fn: async () => {
      const { notYetValid } = await testCerts();
      await refused(
        notYetValid,
        { hostname: "localhost", caCerts: [CA], ...client },
        "not-yet-valid",
        "(it starts on 2100-01-01T00:00:00Z)",
      );
    },
  });
}

Deno.test({
  name:
    "tls errors: `openssl req -x509` (CA:TRUE) given as --ca is a CA used as a server certificate",
  ignore: OPENSSL_MISSING !== undefined,
  fn: async () => {
    const { caSelfSigned } = await testCerts();
    // rustls refuses a CA certificate as an end entity even when it is the trusted root.
    await refused(
      caSelfSigned,
      { hostname: "localhost", caCerts: [caSelfSigned.cert] },
      "ca-as-end-entity",
      "is a CA certificate (basicConstraints CA:TRUE",
      "make a leaf certificate (CA:FALSE) signed by a CA",
      "--fingerprint",
    );
  },
});

Deno.test({
  name: "tls errors: a certificate only for TLS clients is the wrong purpose",
  ignore: OPENSSL_MISSING !== undefined,
  fn: async () => {
    const { clientOnly } = await testCerts();
    await refused(
      clientOnly,
      { hostname: "localhost", caCerts: [CA] },
      "wrong-purpose",
      "extendedKeyUsage = serverAuth",
    );
  },
});

Deno.test({
  name: "tls errors: RFC 4975 §14.4, pinning accepts the CA:TRUE self-signed certificate",
  ignore: OPENSSL_MISSING !== undefined,
  fn: async () => {
    const { caSelfSigned } = await testCerts();
    const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...caSelfSigned });
    const accepted = listener.accept();
    const client = await connectTls({ hostname: "127.0.0.1", port: listener.addr.port }, {
      fingerprint: computeFingerprint(der(caSelfSigned.cert)),
    });
    assert.deepEqual(client.peerCertificate, der(caSelfSigned.cert));
    const server = await accepted;
    client.close();
    server.close();
    listener.close();
  },
});

Deno.test("tls errors: a wrong pin is refused as fingerprint-mismatch", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...SELF });
  const done = drainFailed(listener);
  await assert.rejects(
    connectTls({ hostname: "127.0.0.1", port: listener.addr.port }, {
      fingerprint: computeFingerprint(der(OTHER.cert)),
    }),
    (e: unknown) =>
      e instanceof MsrpError && e.code === "fingerprint-mismatch" &&
      e.message.includes("does not match the sha-256 fingerprint"),
  );
  await done();
});

Deno.test("tlsError: rustls' texts for causes a loopback test cannot make", () => {
  const cases: [string, CertificateProblem, string][] = [
    ["invalid peer certificate: Revoked", "revoked", "revoked by its issuer"],
    ["invalid peer certificate: BadSignature", "bad-signature", "a signature in the certificate"],
    ["invalid peer certificate: Expired", "expired", "the certificate expired;"],
    ["invalid peer certificate: NotValidYet", "not-yet-valid", "not valid yet;"],
    ["invalid peer certificate: NotValidForName", "name-mismatch", `not valid for "h";`],
    [
      "invalid peer certificate: Other(OtherError(PathLenConstraintViolated))",
      "other",
      "refused (Other(OtherError(PathLenConstraintViolated))); pin the certificate",
    ],
  ];
  for (const [text, problem, words] of cases) {
    const e = tlsError("h:1", "h", Object.assign(new Error(text), { name: "InvalidData" }));
    assert.ok(e instanceof TlsCertificateError, text);
    assert.equal(e.problem, problem, text);
    assert.ok(e.message.includes(words), e.message);
  }
  // Not about the certificate: the stack's words, as tls-failed.
  const alert = tlsError("h:1", "h", new Error("received fatal alert: HandshakeFailure"));
  assert.ok(!(alert instanceof TlsCertificateError));
  assert.equal(alert.code, "tls-failed");
  assert.equal(
    alert.message,
    "cannot connect to h:1 over TLS: received fatal alert: HandshakeFailure",
  );
});

Deno.test({
  name: "tls errors: wss (RFC 7977) names the cause too",
  ignore: OPENSSL_MISSING !== undefined,
  fn: async () => {
    const { caSelfSigned } = await testCerts();
    const listener = listenWebSocket({ hostname: "127.0.0.1", port: 0, ...caSelfSigned });
    await assert.rejects(
      connectWebSocket(`wss://localhost:${listener.addr.port}/`, { caCerts: [caSelfSigned.cert] }),
      (e: unknown) =>
        e instanceof TlsCertificateError && e.problem === "ca-as-end-entity" &&
        e.message.startsWith(
          `cannot open a WebSocket to wss://localhost:${listener.addr.port}/: `,
        ) &&
        e.message.includes("is a CA certificate"),
    );
    listener.close();
    await listener.finished;
  },
});
