import assert from "node:assert/strict";
import { MsrpError } from "../../lib/errors.ts";
import {
  authDigestUri,
  type DigestAlgorithm,
  DigestClient,
  digestHa1,
  type DigestHash,
  digestHashOf,
  digestResponse,
  digestRspauth,
  NonceManager,
  parseDigestAlgorithm,
  verifyCredentials,
  type VerifyCredentialsInput,
} from "../../lib/relay/digest.ts";
import {
  type DigestChallenge,
  type DigestCredentials,
  formatAuthenticationInfo,
  formatAuthorization,
  formatWwwAuthenticate,
  parseAuthenticationInfo,
  parseAuthorization,
  parseWwwAuthenticate,
} from "../../lib/wire/auth_headers.ts";

function msrpError(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MsrpError, `expected MsrpError, got ${e}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

// --- Test vectors ----------------------------------------------------------

Deno.test("RFC 2617 §3.5: Mufasa / Circle Of Life, MD5", () => {
  const ha1 = digestHa1("MD5", "Mufasa", "testrealm@host.com", "Circle Of Life");
  assert.equal(ha1, "939e7578ed9e3c518a452acee763bce9");
  const response = digestResponse({
    algorithm: "MD5",
    ha1,
    method: "GET",
    uri: "/dir/index.html",
    nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    nc: 1,
    cnonce: "0a4f113b",
    qop: "auth",
  });
  assert.equal(response, "6629fae49393a05397450978507c4ef1");
});

const RFC7616 = {
  realm: "http-auth@example.org",
  uri: "/dir/index.html",
  nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
  cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
};

Deno.test("RFC 7616 §3.9.1: Mufasa / Circle of Life, MD5 and SHA-256", () => {
  const expected: Record<DigestHash, string> = {
    "MD5": "8ca523f5e9506fed4657c9700eebdbec",
    "SHA-256": "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
  };
  for (const algorithm of ["MD5", "SHA-256"] as const) {
    const ha1 = digestHa1(algorithm, "Mufasa", RFC7616.realm, "Circle of Life");
    const response = digestResponse({
      algorithm,
      ha1,
      method: "GET",
      uri: RFC7616.uri,
      nonce: RFC7616.nonce,
      nc: "00000001",
      cnonce: RFC7616.cnonce,
      qop: "auth",
    });
    assert.equal(response, expected[algorithm], algorithm);
  }
});

Deno.test("RFC 7616 §3.9.1: the SHA-256 Authorization header verifies as parsed", () => {
  // The header as in the RFC, with its folded response joined.
  const value = 'Digest username="Mufasa", realm="http-auth@example.org", ' +
    'uri="/dir/index.html", algorithm=SHA-256, ' +
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, ' +
    'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ' +
    'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", ' +
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
  const c = parseAuthorization(value);
  const algorithm = parseDigestAlgorithm(c.algorithm)!;
  assert.equal(algorithm, "SHA-256");
  const ha1 = digestHa1(algorithm, c.username, c.realm, "Circle of Life");
  const response = digestResponse({
    algorithm,
    ha1,
    method: "GET",
    uri: c.uri!,
    nonce: c.nonce,
    nc: c.nc!,
    cnonce: c.cnonce!,
    qop: c.qop!,
  });
  assert.equal(response, c.response);
});

Deno.test("rspauth and -sess: values cross-checked with Python hashlib", () => {
  // No RFC gives these; they were computed independently with Python's
  // hashlib from the RFC 2617 §3.2.3 / RFC 7616 §3.4.2 formulas.
  const md5Ha1 = "939e7578ed9e3c518a452acee763bce9";
  const rfc2617 = {
    ha1: md5Ha1,
    uri: "/dir/index.html",
    nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    nc: 1,
    cnonce: "0a4f113b",
    qop: "auth",
  };
  assert.equal(
    digestRspauth({ ...rfc2617, algorithm: "MD5" }),
    "376602cfd2f4e8e5e78b948a85263e85",
  );
  assert.equal(
    digestResponse({ ...rfc2617, algorithm: "MD5-sess", method: "GET" }),
    "8e3825c57e897f5a0dec6c2d4e5059d0",
  );
  const shaHa1 = digestHa1("SHA-256-sess", "Mufasa", RFC7616.realm, "Circle of Life");
  assert.equal(shaHa1, digestHa1("SHA-256", "Mufasa", RFC7616.realm, "Circle of Life"));
  const rfc7616 = { ...RFC7616, ha1: shaHa1, nc: 1, qop: "auth" };
  assert.equal(
    digestRspauth({ ...rfc7616, algorithm: "SHA-256" }),
    "86d3b25618d41854ca5039a5d7e53ff6355d5134a9b1fb088a78ac3c462195a0",
  );
  assert.equal(
    digestResponse({ ...rfc7616, algorithm: "SHA-256-sess", method: "GET" }),
    "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7",
  );
  // MSRP: method AUTH, digest-uri the relay's URI (RFC 4976 §9.1).
  assert.equal(
    digestResponse({
      algorithm: "MD5",
      ha1: digestHa1("MD5", "Alice", "intra.example.com", "secret"),
      method: "AUTH",
      uri: "msrps://alice@intra.example.com;tcp",
      nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
      nc: 1,
      cnonce: "0a4f113b",
      qop: "auth",
    }),
    "750e4fd73ea1221cef6d74424f4cd590",
  );
});

Deno.test("digestResponse: nc forms, HA1 case, and qop other than auth", () => {
  const base = {
    algorithm: "MD5" as const,
    ha1: "939E7578ED9E3C518A452ACEE763BCE9",
    method: "GET",
    uri: "/dir/index.html",
    nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    nc: 1,
    cnonce: "0a4f113b",
    qop: "auth",
  };
  assert.equal(digestResponse(base), "6629fae49393a05397450978507c4ef1");
  assert.equal(digestResponse({ ...base, nc: "00000001" }), "6629fae49393a05397450978507c4ef1");
  msrpError(() => digestResponse({ ...base, qop: "auth-int" }), "unsupported-qop");
  msrpError(() => digestRspauth({ ...base, qop: "" }), "unsupported-qop");
  msrpError(() => digestResponse({ ...base, nc: 2 ** 32 }), "bad-nc");
});

Deno.test("parseDigestAlgorithm, digestHashOf and authDigestUri", () => {
  assert.equal(parseDigestAlgorithm(undefined), "MD5");
  assert.equal(parseDigestAlgorithm("md5"), "MD5");
  assert.equal(parseDigestAlgorithm("MD5-SESS"), "MD5-sess");
  assert.equal(parseDigestAlgorithm("sha-256"), "SHA-256");
  assert.equal(parseDigestAlgorithm("SHA-256-sess"), "SHA-256-sess");
  assert.equal(parseDigestAlgorithm("SHA-512-256"), undefined);
  assert.equal(digestHashOf("SHA-256-sess"), "SHA-256");
  assert.equal(digestHashOf("MD5-sess"), "MD5");
  // RFC 4976 §5.1: the AUTH to the outer relay is routed through the inner one.
  assert.equal(
    authDigestUri([
      "msrps://intra.example.com:9000/jui787s2f;tcp",
      "msrps://extra.example.com;tcp",
    ]),
    "msrps://extra.example.com;tcp",
  );
  msrpError(() => authDigestUri([]), "empty-to-path");
});

// --- NonceManager ----------------------------------------------------------

function clock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

function decode(nonce: string): Uint8Array {
  const bin = atob(nonce.replaceAll("-", "+").replaceAll("_", "/") + "==");
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

function encode(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

Deno.test("NonceManager: nonces are 54 base64url letters carrying the issue time", () => {
  const c = clock();
  const nonces = new NonceManager({ now: c.now });
  const a = nonces.issue();
  const b = nonces.issue();
  assert.match(a, /^[A-Za-z0-9_-]{54}$/);
  assert.notEqual(a, b);
  const bytes = decode(a);
  assert.equal(bytes.length, 40);
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(0) * 2 ** 32 + view.getUint32(4), 1_700_000_000_000);
});

Deno.test("NonceManager: counts must increase; repeats and going back are replays", () => {
  const nonces = new NonceManager();
  const nonce = nonces.issue();
  assert.equal(nonces.check(nonce, 1), "ok");
  assert.equal(nonces.check(nonce, 1), "replay");
  assert.equal(nonces.check(nonce, 2), "ok");
  assert.equal(nonces.check(nonce, 5), "ok");
  assert.equal(nonces.check(nonce, 4), "replay");
  assert.equal(nonces.check(nonce, 0), "replay");
  assert.equal(nonces.check(nonce, 5.5), "replay");
  assert.equal(nonces.check(nonce, 6), "ok");
  // validate() never uses up a count.
  assert.equal(nonces.validate(nonce), "ok");
  assert.equal(nonces.check(nonce, 7), "ok");
  // Each nonce has its own count.
  assert.equal(nonces.check(nonces.issue(), 1), "ok");
});

Deno.test("NonceManager: forged MAC, tampered time and foreign nonces are invalid", () => {
  const c = clock();
  const secret = new Uint8Array(32).fill(7);
  const nonces = new NonceManager({ secret, now: c.now });
  const nonce = nonces.issue();

  const forged = decode(nonce);
  forged[39] ^= 1;
  assert.equal(nonces.check(encode(forged), 1), "invalid");

  // Moving the time forward (to dodge expiry) breaks the MAC.
  const tampered = decode(nonce);
  tampered[7] ^= 0x10;
  assert.equal(nonces.check(encode(tampered), 1), "invalid");

  const random = decode(nonce);
  random[10] ^= 0xff;
  assert.equal(nonces.check(encode(random), 1), "invalid");

  const other = new NonceManager({ now: c.now });
  assert.equal(other.check(nonce, 1), "invalid");
  assert.equal(nonces.check(other.issue(), 1), "invalid");

  for (
    const bad of ["", "x", nonce + "A", nonce.slice(1), nonce.slice(0, 53) + "+", "!".repeat(54)]
  ) {
    assert.equal(nonces.check(bad, 1), "invalid", JSON.stringify(bad));
  }
  // A second spelling of the same bytes (spare bits of the last letter set).
  const last = nonce.charCodeAt(53);
  const alias = nonce.slice(0, 53) + String.fromCharCode(last + 1);
  assert.equal(nonces.check(alias, 1), "invalid");

  // The untouched nonce still works.
  assert.equal(nonces.check(nonce, 1), "ok");
});

Deno.test("NonceManager: expiry makes a nonce stale, never ok again", () => {
  const c = clock();
  const nonces = new NonceManager({ now: c.now, lifetimeMs: 60_000 });
  const nonce = nonces.issue();
  c.advance(59_999);
  assert.equal(nonces.check(nonce, 1), "ok");
  c.advance(1);
  assert.equal(nonces.validate(nonce), "stale");
  assert.equal(nonces.check(nonce, 2), "stale");
  c.advance(-60_000);
  assert.equal(nonces.check(nonce, 3), "stale");
});

Deno.test("NonceManager: a clock that goes back makes newer nonces stale", () => {
  const c = clock();
  const nonces = new NonceManager({ now: c.now });
  const nonce = nonces.issue();
  c.advance(-1);
  assert.equal(nonces.check(nonce, 1), "stale");
});

Deno.test("NonceManager: issuing stores nothing; a flood leaves an earlier nonce good", () => {
  const c = clock();
  const nonces = new NonceManager({ now: c.now, maxTracked: 3 });
  const first = nonces.issue();
  for (let i = 0; i < 20_000; i++) nonces.issue();
  assert.equal(nonces.size, 0);
  c.advance(1000);
  assert.equal(nonces.check(first, 1), "ok");
  assert.equal(nonces.size, 1);
  assert.equal(nonces.check(first, 1), "replay");
});

Deno.test("NonceManager: at most maxTracked used nonces remembered; evicted ones read stale", () => {
  const c = clock();
  const nonces = new NonceManager({ now: c.now, maxTracked: 3 });
  const first = nonces.issue();
  const rest = [nonces.issue(), nonces.issue(), nonces.issue()];
  const unused = nonces.issue();
  c.advance(1);
  const later = nonces.issue();
  assert.equal(nonces.check(first, 1), "ok");
  for (const n of rest) assert.equal(nonces.check(n, 1), "ok");
  assert.equal(nonces.size, 3);
  // Its MAC is still good, but its counts are forgotten: stale, not ok, not replayable.
  assert.equal(nonces.validate(first), "stale");
  assert.equal(nonces.check(first, 2), "stale");
  assert.equal(nonces.check(first, 1), "stale");
  // So is an unused nonce issued no later than it (its counts cannot be told apart)...
  assert.equal(nonces.check(unused, 1), "stale");
  for (const n of rest) assert.equal(nonces.check(n, 2), "ok");
  // ...but a nonce issued after it is still good.
  assert.equal(nonces.check(later, 1), "ok");
  assert.equal(nonces.size, 3);
  for (let i = 0; i < 100; i++) {
    c.advance(1);
    assert.equal(nonces.check(nonces.issue(), 1), "ok");
  }
  assert.equal(nonces.size, 3);
});

Deno.test("NonceManager: used nonces are forgotten once expired; a restart reads old nonces stale", () => {
  const c = clock();
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const nonces = new NonceManager({ secret, now: c.now, lifetimeMs: 1000 });
  assert.equal(nonces.check(nonces.issue(), 1), "ok");
  assert.equal(nonces.check(nonces.issue(), 1), "ok");
  c.advance(1000);
  assert.equal(nonces.check(nonces.issue(), 1), "ok");
  assert.equal(nonces.size, 1);
  // A restarted relay with the same secret knows the MAC but not the counts.
  const old = nonces.issue();
  c.advance(1);
  const restarted = new NonceManager({ secret, now: c.now, lifetimeMs: 1000 });
  assert.equal(restarted.check(old, 1), "stale");
  assert.equal(restarted.check(restarted.issue(), 1), "ok");
  msrpError(() => new NonceManager({ secret: new Uint8Array(8) }), "weak-secret");
});

// --- Client and server end to end ----------------------------------------

const REALM = "relay.example.com";
const RELAY_URI = "msrps://relay.example.com:2855;tcp";
const PASSWORDS: Record<string, string> = { alice: "wonderland", bob: "builder" };

function lookup(
  calls?: [string, string, DigestHash][],
): (username: string, realm: string, hash: DigestHash) => string | undefined {
  return (username, realm, hash) => {
    calls?.push([username, realm, hash]);
    const password = PASSWORDS[username];
    return password === undefined ? undefined : digestHa1(hash, username, realm, password);
  };
}

function challenge(nonce: string, algorithm = "MD5", extra: Partial<DigestChallenge> = {}): string {
  return formatWwwAuthenticate({
    realm: REALM,
    nonce,
    qop: ["auth"],
    algorithm,
    stale: false,
    ...extra,
  });
}

function serverInput(
  credentials: DigestCredentials,
  nonces: NonceManager,
  more: Partial<VerifyCredentialsInput> = {},
): VerifyCredentialsInput {
  return {
    credentials,
    expectedUri: RELAY_URI,
    realm: REALM,
    lookupHa1: lookup(),
    nonces,
    ...more,
  };
}

for (const algorithm of ["MD5", "SHA-256"] as const) {
  Deno.test(`end to end over the wire text: ${algorithm}`, () => {
    const nonces = new NonceManager();
    const wwwAuthenticate = challenge(nonces.issue(), algorithm, { opaque: "xyz" });

    const client = new DigestClient({ username: "alice", password: "wonderland" });
    const authorization = client.authorization(parseWwwAuthenticate(wwwAuthenticate), RELAY_URI);
    assert.match(authorization, /^Digest username="alice", realm="relay\.example\.com", /);
    assert.ok(authorization.includes(`, algorithm=${algorithm}, qop=auth, nc=00000001, `));
    assert.ok(authorization.endsWith(', opaque="xyz"'));

    const credentials = parseAuthorization(authorization);
    assert.match(credentials.cnonce!, /^[0-9a-f]{32}$/);
    assert.equal(credentials.response.length, algorithm === "MD5" ? 32 : 64);
    const result = verifyCredentials(serverInput(credentials, nonces, { nextnonce: true }));
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.username, "alice");
    assert.equal(result.algorithm, algorithm);
    assert.equal(result.authenticationInfo.rspauth, result.rspauth);
    assert.equal(result.authenticationInfo.cnonce, credentials.cnonce);
    assert.equal(result.authenticationInfo.nc, 1);
    assert.equal(result.authenticationInfo.qop, "auth");

    const info = formatAuthenticationInfo(result.authenticationInfo);
    assert.match(
      info,
      /^nextnonce="[\w-]{54}", rspauth="[0-9a-f]+", cnonce="[0-9a-f]{32}", nc=00000001, qop=auth$/,
    );
    assert.equal(client.verifyRspauth(parseAuthenticationInfo(info)), true);

    // A refreshing AUTH uses the nextnonce with nc=1.
    const renewed = parseAuthorization(formatAuthorization(client.renew(RELAY_URI)));
    assert.equal(renewed.nonce, result.authenticationInfo.nextnonce);
    assert.equal(renewed.nc, 1);
    assert.ok(verifyCredentials(serverInput(renewed, nonces)).ok);
    // And then the same nonce with nc=2.
    const again = client.renew(RELAY_URI);
    assert.equal(again.nonce, renewed.nonce);
    assert.equal(again.nc, 2);
    assert.ok(verifyCredentials(serverInput(again, nonces)).ok);
  });
}

Deno.test("client: verifyRspauth refuses wrong proofs and mismatched echoes", () => {
  const nonces = new NonceManager();
  const client = new DigestClient({ username: "alice", password: "wonderland" });
  assert.equal(client.verifyRspauth({ rspauth: "00" }), false); // nothing sent yet
  const credentials = client.respond(parseWwwAuthenticate(challenge(nonces.issue())), RELAY_URI);
  const result = verifyCredentials(serverInput(credentials, nonces));
  assert.ok(result.ok);
  const info = result.authenticationInfo;
  assert.equal(client.verifyRspauth({ ...info, rspauth: undefined }), false);
  assert.equal(client.verifyRspauth({ ...info, rspauth: "0".repeat(32) }), false);
  assert.equal(client.verifyRspauth({ ...info, rspauth: info.rspauth!.slice(1) }), false);
  assert.equal(client.verifyRspauth({ ...info, cnonce: "other" }), false);
  assert.equal(client.verifyRspauth({ ...info, nc: 2 }), false);
  assert.equal(client.verifyRspauth({ ...info, qop: "auth-int" }), false);
  // An rspauth made with the request's method (the classic mistake) is wrong.
  const withMethod = digestResponse({
    algorithm: "MD5",
    ha1: digestHa1("MD5", "alice", REALM, "wonderland"),
    method: "AUTH",
    uri: RELAY_URI,
    nonce: credentials.nonce,
    nc: 1,
    cnonce: credentials.cnonce!,
    qop: "auth",
  });
  assert.equal(client.verifyRspauth({ ...info, rspauth: withMethod }), false);
  // Upper-case hex and absent echoes are accepted.
  assert.equal(client.verifyRspauth({ rspauth: info.rspauth!.toUpperCase() }), true);
  // A relay that does not know the password cannot make it.
  const impostor = new DigestClient({ username: "alice", password: "guess" });
  impostor.respond(parseWwwAuthenticate(challenge(credentials.nonce)), RELAY_URI);
  assert.equal(impostor.verifyRspauth(info), false);
});

Deno.test("client: algorithm choice among several challenges", () => {
  const md5 = parseWwwAuthenticate(challenge("n1", "MD5"));
  const sha = parseWwwAuthenticate(challenge("n2", "SHA-256"));
  const odd = parseWwwAuthenticate(challenge("n3", "SHA-512-256"));
  const sess = parseWwwAuthenticate(challenge("n4", "MD5-sess"));
  const password = new DigestClient({ username: "alice", password: "wonderland" });
  assert.equal(password.respond([md5, sha], RELAY_URI).algorithm, "SHA-256");
  assert.equal(password.respond([odd, md5], RELAY_URI).algorithm, "MD5");
  assert.equal(password.respond([sess, md5], RELAY_URI).algorithm, "MD5");
  assert.equal(password.respond(sess, RELAY_URI).algorithm, "MD5-sess");
  // With only an MD5 HA1 stored, SHA-256 cannot be answered.
  const stored = new DigestClient({
    username: "alice",
    ha1: { "MD5": digestHa1("MD5", "alice", REALM, "wonderland") },
  });
  const c = stored.respond([sha, md5], RELAY_URI);
  assert.equal(c.algorithm, "MD5");
  assert.equal(
    c.response,
    digestResponse({
      algorithm: "MD5",
      ha1: digestHa1("MD5", "alice", REALM, "wonderland"),
      method: "AUTH",
      uri: RELAY_URI,
      nonce: "n1",
      nc: c.nc!,
      cnonce: c.cnonce!,
      qop: "auth",
    }),
  );
  msrpError(() => stored.respond(sha, RELAY_URI), "unsupported-algorithm");
  msrpError(() => password.respond(odd, RELAY_URI), "unsupported-algorithm");
  // RFC 4976 §9.1: qop auth is required.
  const noQop = parseWwwAuthenticate(`Digest realm="${REALM}", nonce="n"`);
  msrpError(() => password.respond(noQop, RELAY_URI), "unsupported-qop");
  const authInt = parseWwwAuthenticate(`Digest realm="${REALM}", nonce="n", qop="auth-int"`);
  msrpError(() => password.respond([authInt, noQop], RELAY_URI), "unsupported-qop");
  assert.equal(
    password.respond(parseWwwAuthenticate(`Digest realm="r", nonce="n", qop="AUTH-INT,Auth"`), "u")
      .qop,
    "auth",
  );
  msrpError(() => new DigestClient({ username: "alice" }), "missing-password");
});

Deno.test("client: an HA1-only client verifies like a password client", () => {
  const nonces = new NonceManager();
  const client = new DigestClient({
    username: "bob",
    ha1: { "SHA-256": digestHa1("SHA-256", "bob", REALM, "builder") },
  });
  const credentials = client.respond(
    parseWwwAuthenticate(challenge(nonces.issue(), "SHA-256")),
    RELAY_URI,
  );
  const result = verifyCredentials(serverInput(credentials, nonces));
  assert.ok(result.ok);
  assert.equal(client.verifyRspauth(result.authenticationInfo), true);
});

Deno.test("client: nc counts per nonce, cnonce is fresh, renew needs a challenge", () => {
  let n = 0;
  const client = new DigestClient({
    username: "alice",
    password: "wonderland",
    cnonce: () => `c${++n}`,
  });
  msrpError(() => client.renew(RELAY_URI), "no-challenge");
  const first = parseWwwAuthenticate(challenge("nonce-1"));
  assert.deepEqual([client.respond(first, RELAY_URI).nc, client.respond(first, RELAY_URI).nc], [
    1,
    2,
  ]);
  const stale = parseWwwAuthenticate(challenge("nonce-2", "MD5", { stale: true }));
  const c = client.respond(stale, RELAY_URI);
  assert.equal(c.nc, 1);
  assert.equal(c.cnonce, "c3");
  const r = client.renew("msrps://other.example.com;tcp");
  assert.deepEqual([r.nonce, r.nc, r.cnonce, r.uri], [
    "nonce-2",
    2,
    "c4",
    "msrps://other.example.com;tcp",
  ]);
  const random = new DigestClient({ username: "alice", password: "wonderland" });
  assert.notEqual(
    random.respond(first, RELAY_URI).cnonce,
    random.respond(first, RELAY_URI).cnonce,
  );
});

Deno.test("client: a nextnonce is taken only from a verified Authentication-Info", () => {
  const nonces = new NonceManager();
  const client = new DigestClient({ username: "alice", password: "wonderland" });
  const credentials = client.respond(parseWwwAuthenticate(challenge(nonces.issue())), RELAY_URI);
  const result = verifyCredentials(serverInput(credentials, nonces));
  assert.ok(result.ok);
  assert.equal(client.verifyRspauth({ rspauth: "00", nextnonce: "evil" }), false);
  assert.equal(client.renew(RELAY_URI).nonce, credentials.nonce);
});

// --- Every failure reason --------------------------------------------------

function setup(algorithm: DigestAlgorithm = "MD5", username = "alice", password = "wonderland") {
  const c = clock();
  const nonces = new NonceManager({ now: c.now, lifetimeMs: 10_000 });
  const client = new DigestClient({ username, password });
  const credentials = client.respond(
    parseWwwAuthenticate(challenge(nonces.issue(), algorithm)),
    RELAY_URI,
  );
  return { clock: c, nonces, client, credentials };
}

Deno.test("verifyCredentials: unknown-user and bad-response take the same path", () => {
  const calls: [string, string, DigestHash][] = [];
  const unknown = setup("SHA-256", "mallory", "x");
  const r1 = verifyCredentials(
    serverInput(unknown.credentials, unknown.nonces, { lookupHa1: lookup(calls) }),
  );
  assert.deepEqual(r1, { ok: false, reason: "unknown-user" });
  const wrong = setup("SHA-256", "alice", "not-wonderland");
  const r2 = verifyCredentials(
    serverInput(wrong.credentials, wrong.nonces, { lookupHa1: lookup(calls) }),
  );
  assert.deepEqual(r2, { ok: false, reason: "bad-response" });
  // One lookup each, with the hash the algorithm needs.
  assert.deepEqual(calls, [["mallory", REALM, "SHA-256"], ["alice", REALM, "SHA-256"]]);
});

Deno.test("verifyCredentials: stale only for a correct digest on an expired nonce", () => {
  const s = setup();
  s.clock.advance(10_000);
  assert.deepEqual(verifyCredentials(serverInput(s.credentials, s.nonces)), {
    ok: false,
    reason: "stale",
  });
  const wrong = setup("MD5", "alice", "nope");
  wrong.clock.advance(10_000);
  assert.deepEqual(verifyCredentials(serverInput(wrong.credentials, wrong.nonces)), {
    ok: false,
    reason: "bad-response",
  });
});

Deno.test("verifyCredentials: invalid-nonce, replay, and forged counts do not burn the nonce", () => {
  const s = setup();
  const foreign = new NonceManager();
  assert.deepEqual(verifyCredentials(serverInput(s.credentials, foreign)), {
    ok: false,
    reason: "invalid-nonce",
  });
  // A forged request with a high nc and a wrong digest is refused...
  const forged = { ...s.credentials, nc: 99, response: "0".repeat(32) };
  assert.deepEqual(verifyCredentials(serverInput(forged, s.nonces)), {
    ok: false,
    reason: "bad-response",
  });
  // ...and has not used up the real client's count.
  assert.ok(verifyCredentials(serverInput(s.credentials, s.nonces)).ok);
  assert.deepEqual(verifyCredentials(serverInput(s.credentials, s.nonces)), {
    ok: false,
    reason: "replay",
  });
});

Deno.test("verifyCredentials: missing-qop, wrong-uri, wrong-realm, unsupported-algorithm", () => {
  const s = setup();
  const fail = (credentials: DigestCredentials, more: Partial<VerifyCredentialsInput> = {}) =>
    verifyCredentials(serverInput(credentials, s.nonces, more));
  assert.deepEqual(fail({ ...s.credentials, qop: undefined }), {
    ok: false,
    reason: "missing-qop",
  });
  assert.deepEqual(fail({ ...s.credentials, qop: "auth-int" }), {
    ok: false,
    reason: "missing-qop",
  });
  assert.deepEqual(fail({ ...s.credentials, cnonce: undefined }), {
    ok: false,
    reason: "missing-qop",
  });
  assert.deepEqual(fail({ ...s.credentials, nc: undefined }), { ok: false, reason: "missing-qop" });
  assert.deepEqual(fail(s.credentials, { expectedUri: "msrps://elsewhere.example.com;tcp" }), {
    ok: false,
    reason: "wrong-uri",
  });
  assert.deepEqual(fail(s.credentials, { realm: "other.example.com" }), {
    ok: false,
    reason: "wrong-realm",
  });
  assert.deepEqual(fail({ ...s.credentials, algorithm: "SHA-512-256" }), {
    ok: false,
    reason: "unsupported-algorithm",
  });
  assert.deepEqual(fail(s.credentials, { algorithms: ["SHA-256"] }), {
    ok: false,
    reason: "unsupported-algorithm",
  });
  // None of these used up the count.
  assert.ok(fail(s.credentials).ok);
});

Deno.test("verifyCredentials: -sess only when allowed (RFC 4976 §9.1 rules out MD5-sess)", () => {
  const s = setup("SHA-256-sess");
  assert.deepEqual(verifyCredentials(serverInput(s.credentials, s.nonces)), {
    ok: false,
    reason: "unsupported-algorithm",
  });
  const result = verifyCredentials(
    serverInput(s.credentials, s.nonces, { algorithms: ["SHA-256-sess"] }),
  );
  assert.ok(result.ok);
  assert.equal(s.client.verifyRspauth(result.authenticationInfo), true);
});

Deno.test("verifyCredentials: credentials without uri (RFC 4976 §5.1 style) and uriMatches", () => {
  const s = setup();
  const { uri: _uri, ...withoutUri } = s.credentials;
  assert.ok(verifyCredentials(serverInput(withoutUri, s.nonces)).ok);

  const t = setup();
  const loose = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const upper = RELAY_URI.toUpperCase();
  assert.deepEqual(
    verifyCredentials(serverInput(t.credentials, t.nonces, { expectedUri: upper })),
    {
      ok: false,
      reason: "wrong-uri",
    },
  );
  // The digest is over the uri as the client sent it.
  assert.ok(
    verifyCredentials(
      serverInput(t.credentials, t.nonces, { expectedUri: upper, uriMatches: loose }),
    ).ok,
  );
});

Deno.test("verifyCredentials: upper-case response hex and a non-AUTH method", () => {
  const s = setup();
  const upper = { ...s.credentials, response: s.credentials.response.toUpperCase() };
  assert.ok(verifyCredentials(serverInput(upper, s.nonces)).ok);
  const t = setup();
  assert.deepEqual(verifyCredentials(serverInput(t.credentials, t.nonces, { method: "SEND" })), {
    ok: false,
    reason: "bad-response",
  });
});
