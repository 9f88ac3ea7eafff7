// Endpoints and certificates (RFC 4975 §14.4, RFC 8122): the SDP fingerprint
// is checked whether or not the certificate is CA-valid, on the connecting
// side and on the listening side; a relay's certificate can be pinned.

import assert from "node:assert/strict";
import { MsrpEndpoint, MsrpError, type MsrpSession } from "../../mod.ts";
import { computeFingerprint } from "../../lib/transport/fingerprint.ts";
import type { Fingerprint } from "../../lib/transport/types.ts";
import { resolveRelayConfig, serveRelay } from "../../lib/relay/mod.ts";
import { type CertPair, OPENSSL_MISSING, testCerts } from "../_certs.ts";

const CERTS = new URL("../fixtures/certs/", import.meta.url);
const read = (name: string) => Deno.readTextFileSync(new URL(name, CERTS));
const CA = read("ca.pem");
const SERVER = { cert: read("server.pem"), key: read("server.key") };
const SELF = { cert: read("selfsigned.pem"), key: read("selfsigned.key") };
const OTHER = { cert: read("other.pem"), key: read("other.key") };

function der(text: string): Uint8Array {
  const b64 = text.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0];
  return Uint8Array.from(atob(b64.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
}
const fp = (pair: CertPair): Fingerprint => computeFingerprint(der(pair.cert));

/** SDP with its `a=fingerprint` lines replaced by one for `pair`'s certificate. */
function withFingerprint(sdp: string, pair: CertPair): string {
  return sdp.replace(/^a=fingerprint:[^\r\n]*/m, `a=fingerprint:sha-256 ${fp(pair).value}`);
}

function rejectsWithCode(p: Promise<unknown>, code: string, text?: string): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MsrpError, `expected an MsrpError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (text !== undefined) assert.ok(e.message.includes(text), e.message);
    return true;
  });
}

Deno.test("§14.4: a CA-valid certificate that does not match the SDP fingerprint is refused", async () => {
  // Bob's certificate chains up to a CA Alice trusts, but his SDP vouches for another one.
  const bob = await MsrpEndpoint.start({
    host: "localhost",
    bindAddress: "127.0.0.1",
    port: 0,
    tls: SERVER,
  });
  const alice = await MsrpEndpoint.start({ host: "localhost", caCerts: [CA] });
  const a = alice.createSession();
  const b = bob.createSession();
  const answer = await bob.answer(b, alice.offer(a));
  await rejectsWithCode(
    alice.completeOffer(a, withFingerprint(answer, OTHER)),
    "fingerprint-mismatch",
    "does not match the sha-256 fingerprint in the SDP",
  );
  await rejectsWithCode(a.ready, "fingerprint-mismatch");
  // The right fingerprint works on a new session.
  const a2 = alice.createSession();
  const b2 = bob.createSession();
  await alice.completeOffer(a2, await bob.answer(b2, alice.offer(a2)));
  await b2.ready;
  await alice.close();
  await bob.close();
});

Deno.test("§14.4: the listening side refuses a peer whose certificate does not match its SDP", async () => {
  const bob = await MsrpEndpoint.start({
    host: "localhost",
    bindAddress: "127.0.0.1",
    port: 0,
    tls: SELF,
  });
  // Alice presents OTHER; her offer (as Bob receives it) claims SERVER.
  const alice = await MsrpEndpoint.start({ host: "localhost", tls: OTHER });
  const a = alice.createSession();
  const b = bob.createSession();
  const answer = await bob.answer(b, withFingerprint(alice.offer(a), SERVER));
  const bound = alice.completeOffer(a, answer);
  await rejectsWithCode(b.ready, "fingerprint-mismatch", "does not match the sha-256 fingerprint");
  // Bob tore the session down; Alice's binding SEND found no session there.
  await rejectsWithCode(bound, "bind-refused", "481");
  // With her real fingerprint she binds.
  const a2 = alice.createSession();
  const b2 = bob.createSession();
  await alice.completeOffer(a2, await bob.answer(b2, alice.offer(a2)));
  await b2.ready;
  assert.equal(b2.connection!.transport.secure, true);
  await alice.close();
  await bob.close();
});

Deno.test("§14.4: the listening side refuses a peer that presents no certificate its SDP promised", async () => {
  const bob = await MsrpEndpoint.start({
    host: "localhost",
    bindAddress: "127.0.0.1",
    port: 0,
    tls: SELF,
  });
  const alice = await MsrpEndpoint.start({ host: "localhost" }); // no certificate of her own
  const a = alice.createSession();
  const b = bob.createSession();
  const offer = alice.offer(a).replace(/\r\n$/, `\r\na=fingerprint:sha-256 ${fp(OTHER).value}\r\n`);
  const answer = await bob.answer(b, offer);
  const bound = alice.completeOffer(a, answer);
  await rejectsWithCode(b.ready, "no-peer-certificate", "presented no TLS certificate");
  await rejectsWithCode(bound, "bind-refused");
  await alice.close();
  await bob.close();
});

async function tlsRelay(pair: CertPair) {
  const dir = await Deno.makeTempDir({ prefix: "msrp-relay-" });
  await Deno.writeTextFile(`${dir}/cert.pem`, pair.cert);
  await Deno.writeTextFile(`${dir}/key.pem`, pair.key);
  const config = resolveRelayConfig({
    host: "localhost",
    listen: [{ hostname: "127.0.0.1", port: 0, tls: true }],
    tls: { certFile: `${dir}/cert.pem`, keyFile: `${dir}/key.pem` },
    users: { alice: { password: "alice-secret" } },
  });
  const server = await serveRelay(config, { logger: () => {} });
  await Deno.remove(dir, { recursive: true });
  return { server, uri: `msrps://localhost:${server.listeners[0].addr!.port};tcp` };
}

Deno.test({
  name: "a relay with an `openssl req -x509` certificate: refused with the cause, accepted pinned",
  ignore: OPENSSL_MISSING !== undefined,
  fn: async () => {
    const { caSelfSigned } = await testCerts();
    const { server, uri } = await tlsRelay(caSelfSigned);
    const account = { uri, username: "alice", password: "alice-secret" };
    // Given as a trusted root it is still refused (a CA used as a server certificate).
    await rejectsWithCode(
      MsrpEndpoint.start({ relays: [account], caCerts: [caSelfSigned.cert] }),
      "tls-untrusted",
      "is a CA certificate",
    );
    // A wrong pin is refused.
    await rejectsWithCode(
      MsrpEndpoint.start({ relays: [{ ...account, fingerprints: [fp(OTHER)] }] }),
      "fingerprint-mismatch",
    );
    // The right pin works.
    const alice = await MsrpEndpoint.start({
      relays: [{ ...account, fingerprints: [fp(caSelfSigned)] }],
    });
    assert.equal(alice.usePath.length, 1);
    await alice.close();
    await server.close();
  },
});

Deno.test("a pinned direct peer: connect() with the fingerprint of its CA-less certificate", async () => {
  const bob = await MsrpEndpoint.start({
    host: "localhost",
    bindAddress: "127.0.0.1",
    port: 0,
    tls: SELF,
  });
  const alice = await MsrpEndpoint.start({ host: "localhost" });
  const b: MsrpSession = bob.createSession();
  const accepted = bob.accept(b, []);
  await rejectsWithCode(
    alice.connect(alice.createSession(), [b.localUri], { fingerprints: [fp(OTHER)] }),
    "fingerprint-mismatch",
  );
  await alice.connect(alice.createSession(), [b.localUri], { fingerprints: [fp(SELF)] });
  await accepted;
  await alice.close();
  await bob.close();
});

Deno.test("a pinned relay reached without TLS is bad-tls-options, before connecting", async () => {
  await rejectsWithCode(
    MsrpEndpoint.start({
      relays: [{
        uri: "msrp://127.0.0.1:9;tcp",
        username: "a",
        password: "b",
        fingerprints: [fp(SELF)],
      }],
    }),
    "bad-tls-options",
    "its fingerprints cannot be checked",
  );
});
