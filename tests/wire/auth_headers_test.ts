import assert from "node:assert/strict";
import { MsrpError, MsrpSyntaxError } from "../../lib/errors.ts";
import {
  type AuthenticationInfo,
  type DigestChallenge,
  type DigestCredentials,
  formatAuthenticationInfo,
  formatAuthorization,
  formatWwwAuthenticate,
  parseAuthenticationInfo,
  parseAuthorization,
  parseWwwAuthenticate,
} from "../../lib/wire/auth_headers.ts";

// The RFC 4976 §5.1 example values, with the "\" line continuations joined
// (the backslash, the CRLF and the next line's indentation removed).
const RFC4976_CHALLENGE_INTRA =
  'Digest realm="intra.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"';
const RFC4976_CHALLENGE_EXTRA =
  'Digest realm="extra.example.com", qop="auth", nonce="Uumu8cAV38FGsEF31VLevIbNXj9HWO"';
const RFC4976_AUTHORIZATION_INTRA = 'Digest username="Alice", realm="intra.example.com", ' +
  'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop=auth, nc=00000001, cnonce="0a4f113b", ' +
  'response="6629fae49393a05397450978507c4ef1"';
const RFC4976_AUTHORIZATION_EXTRA = 'Digest username="Alice", realm="extra.example.com", ' +
  'nonce="Uumu8cAV38FGsEF31VLevIbNXj9HWO", qop=auth, nc=00000001, cnonce="85a0dca8", ' +
  'response="cb06c4a77cd90918cd7914432032e0e6"';
// The first Authentication-Info example has no space after its first comma
// (`...370a",\`); the second has ", " throughout.
const RFC4976_INFO_INTRA = 'nextnonce="40f2e879449675f288476d772627370a",' +
  'rspauth="7327570c586207eca2afae94fc20903d", cnonce="0a4f113b", nc=00000001, qop=auth';
const RFC4976_INFO_EXTRA = 'nextnonce="bz8V080GEA2sLyEDpITF2AZCq7gIkc", ' +
  'rspauth="72f109ed2755d7ed0d0a213ec653b3f2", cnonce="85a0dca8", nc=00000001, qop=auth';

// RFC 2617 §3.5 and RFC 7616 §3.9.1, joined with ", ".
const RFC2617_CHALLENGE = 'Digest realm="testrealm@host.com", qop="auth,auth-int", ' +
  'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"';
const RFC2617_AUTHORIZATION = 'Digest username="Mufasa", realm="testrealm@host.com", ' +
  'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, ' +
  'cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", ' +
  'opaque="5ccc069c403ebaf9f0171e9517f40e41"';
const RFC7616_CHALLENGE_SHA256 = 'Digest realm="http-auth@example.org", qop="auth, auth-int", ' +
  'algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
  'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
const RFC7616_AUTHORIZATION_MD5 = 'Digest username="Mufasa", realm="http-auth@example.org", ' +
  'uri="/dir/index.html", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
  'nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ' +
  'response="8ca523f5e9506fed4657c9700eebdbec", ' +
  'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';

function syntaxError(fn: () => unknown, code: string, offset: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MsrpSyntaxError, `expected MsrpSyntaxError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.offset, offset, e.message);
    return true;
  });
}

function msrpError(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MsrpError, `expected MsrpError, got ${e}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

// --- RFC examples ----------------------------------------------------------

Deno.test("WWW-Authenticate: RFC 4976 §5.1 challenges parse and re-format byte for byte", () => {
  const intra = parseWwwAuthenticate(RFC4976_CHALLENGE_INTRA);
  assert.deepEqual(intra, {
    realm: "intra.example.com",
    nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    qop: ["auth"],
    algorithm: "MD5",
    stale: false,
    params: [],
    order: ["realm", "qop", "nonce"],
  });
  assert.equal(formatWwwAuthenticate(intra), RFC4976_CHALLENGE_INTRA);
  const extra = parseWwwAuthenticate(RFC4976_CHALLENGE_EXTRA);
  assert.equal(extra.nonce, "Uumu8cAV38FGsEF31VLevIbNXj9HWO");
  assert.equal(formatWwwAuthenticate(extra), RFC4976_CHALLENGE_EXTRA);
});

Deno.test("WWW-Authenticate: a built challenge without order takes the RFC 4976 order", () => {
  const challenge: DigestChallenge = {
    realm: "intra.example.com",
    nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    qop: ["auth"],
    algorithm: "MD5",
    stale: false,
  };
  assert.equal(formatWwwAuthenticate(challenge), RFC4976_CHALLENGE_INTRA + ", algorithm=MD5");
  // The same with the parsed order: the default MD5 is left out.
  assert.equal(
    formatWwwAuthenticate({ ...challenge, order: ["realm", "qop", "nonce"] }),
    RFC4976_CHALLENGE_INTRA,
  );
  assert.equal(
    formatWwwAuthenticate({
      ...challenge,
      algorithm: "SHA-256",
      opaque: "op",
      stale: true,
      params: [{ name: "charset", value: "UTF-8", quoted: false }],
    }),
    'Digest realm="intra.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ' +
      'opaque="op", algorithm=SHA-256, stale=true, charset=UTF-8',
  );
});

Deno.test("WWW-Authenticate: RFC 2617 §3.5 and RFC 7616 §3.9.1 challenges", () => {
  const c2617 = parseWwwAuthenticate(RFC2617_CHALLENGE);
  assert.deepEqual(c2617.qop, ["auth", "auth-int"]);
  assert.equal(c2617.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
  assert.equal(formatWwwAuthenticate(c2617), RFC2617_CHALLENGE);

  const c7616 = parseWwwAuthenticate(RFC7616_CHALLENGE_SHA256);
  assert.equal(c7616.algorithm, "SHA-256");
  assert.deepEqual(c7616.qop, ["auth", "auth-int"]);
  assert.deepEqual(c7616.order, ["realm", "qop", "algorithm", "nonce", "opaque"]);
  // qop-list is written without spaces (RFC 4976 §7), the rest is kept.
  assert.equal(
    formatWwwAuthenticate(c7616),
    RFC7616_CHALLENGE_SHA256.replace('"auth, auth-int"', '"auth,auth-int"'),
  );
});

Deno.test("Authorization: RFC 4976 §5.1 credentials lack uri; accepted with requireUri false", () => {
  // RFC 2617 §3.2.2 makes uri mandatory, so the strict default refuses them.
  syntaxError(
    () => parseAuthorization(RFC4976_AUTHORIZATION_INTRA),
    "missing-uri",
    RFC4976_AUTHORIZATION_INTRA.length,
  );
  const intra = parseAuthorization(RFC4976_AUTHORIZATION_INTRA, { requireUri: false });
  assert.deepEqual(intra, {
    username: "Alice",
    realm: "intra.example.com",
    nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    response: "6629fae49393a05397450978507c4ef1",
    cnonce: "0a4f113b",
    qop: "auth",
    nc: 1,
    params: [],
    order: ["username", "realm", "nonce", "qop", "nc", "cnonce", "response"],
  });
  assert.equal(formatAuthorization(intra), RFC4976_AUTHORIZATION_INTRA);
  const extra = parseAuthorization(RFC4976_AUTHORIZATION_EXTRA, { requireUri: false });
  assert.equal(extra.cnonce, "85a0dca8");
  assert.equal(formatAuthorization(extra), RFC4976_AUTHORIZATION_EXTRA);
});

Deno.test("Authorization: RFC 2617 §3.5 and RFC 7616 §3.9.1 credentials round-trip", () => {
  const a2617 = parseAuthorization(RFC2617_AUTHORIZATION);
  assert.equal(a2617.uri, "/dir/index.html");
  assert.equal(a2617.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
  assert.equal(a2617.algorithm, undefined);
  assert.equal(formatAuthorization(a2617), RFC2617_AUTHORIZATION);
  const a7616 = parseAuthorization(RFC7616_AUTHORIZATION_MD5);
  assert.equal(a7616.algorithm, "MD5");
  assert.equal(a7616.cnonce, "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
  assert.equal(formatAuthorization(a7616), RFC7616_AUTHORIZATION_MD5);
});

Deno.test("Authorization: built credentials take the canonical order and quoting", () => {
  const credentials: DigestCredentials = {
    username: "Mufasa",
    realm: "testrealm@host.com",
    nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    uri: "/dir/index.html",
    response: "6629fae49393a05397450978507c4ef1",
    algorithm: "MD5",
    cnonce: "0a4f113b",
    opaque: "5ccc069c403ebaf9f0171e9517f40e41",
    qop: "auth",
    nc: 0x1a,
    params: [{ name: "userhash", value: "false", quoted: false }],
  };
  assert.equal(
    formatAuthorization(credentials),
    'Digest username="Mufasa", realm="testrealm@host.com", ' +
      'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", algorithm=MD5, ' +
      'qop=auth, nc=0000001a, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", ' +
      'opaque="5ccc069c403ebaf9f0171e9517f40e41", userhash=false',
  );
});

Deno.test("Authentication-Info: RFC 4976 §5.1 values", () => {
  const extra = parseAuthenticationInfo(RFC4976_INFO_EXTRA);
  assert.deepEqual(extra, {
    nextnonce: "bz8V080GEA2sLyEDpITF2AZCq7gIkc",
    rspauth: "72f109ed2755d7ed0d0a213ec653b3f2",
    cnonce: "85a0dca8",
    nc: 1,
    qop: "auth",
    params: [],
    order: ["nextnonce", "rspauth", "cnonce", "nc", "qop"],
  });
  assert.equal(formatAuthenticationInfo(extra), RFC4976_INFO_EXTRA);
  // The comma without a space (RFC 4976 §7 allows it) parses; output uses ", ".
  const intra = parseAuthenticationInfo(RFC4976_INFO_INTRA);
  assert.equal(intra.rspauth, "7327570c586207eca2afae94fc20903d");
  assert.equal(
    formatAuthenticationInfo(intra),
    RFC4976_INFO_INTRA.replace('",rspauth', '", rspauth'),
  );
  // Built without order: nextnonce, rspauth, cnonce, nc, qop.
  const built: AuthenticationInfo = {
    qop: "auth",
    nc: 1,
    cnonce: "85a0dca8",
    rspauth: "72f109ed2755d7ed0d0a213ec653b3f2",
    nextnonce: "bz8V080GEA2sLyEDpITF2AZCq7gIkc",
  };
  assert.equal(formatAuthenticationInfo(built), RFC4976_INFO_EXTRA);
});

// --- Liberal input ---------------------------------------------------------

Deno.test("liberal: case, whitespace, empty elements, bare and quoted values", () => {
  const c = parseWwwAuthenticate(
    '  digest\tREALM = "r" ,, Nonce=abc/def== ,qop=auth,ALGORITHM="sha-256", Stale=TRUE,\t',
  );
  assert.equal(c.realm, "r");
  assert.equal(c.nonce, "abc/def==");
  assert.deepEqual(c.qop, ["auth"]);
  assert.equal(c.algorithm, "sha-256");
  assert.equal(c.stale, true);
  assert.deepEqual(c.order, ["realm", "nonce", "qop", "algorithm", "stale"]);
  // Exact on output: canonical names and quoting, input order.
  assert.equal(
    formatWwwAuthenticate(c),
    'Digest realm="r", nonce="abc/def==", qop="auth", algorithm=sha-256, stale=true',
  );

  const a = parseAuthorization(
    'Digest Username = "u" , REALM="r",nonce="n",URI="msrps://x.example.com;tcp",' +
      'response="ABCDEF0123",qop="auth",nc="0000000A",cnonce=xyz',
  );
  assert.equal(a.username, "u");
  assert.equal(a.uri, "msrps://x.example.com;tcp");
  assert.equal(a.response, "ABCDEF0123");
  assert.equal(a.qop, "auth");
  assert.equal(a.nc, 10);
  assert.equal(a.cnonce, "xyz");
  assert.equal(
    parseAuthorization('Digest username="u",realm="r",nonce="n",uri="/",response=0,nc=1')
      .nc,
    1,
  );
});

Deno.test("liberal: stale other than true is false, and re-formats as written", () => {
  const c = parseWwwAuthenticate('Digest realm="r", nonce="n", stale=no');
  assert.equal(c.stale, false);
  assert.equal(formatWwwAuthenticate(c), 'Digest realm="r", nonce="n", stale=false');
  assert.equal(parseWwwAuthenticate('Digest realm="r", nonce="n", stale="True"').stale, true);
});

Deno.test("liberal: backslash escapes in quoted strings, and their re-formatting", () => {
  const c = parseWwwAuthenticate('Digest realm="a\\"b\\\\c\\d", nonce="\\n"');
  assert.equal(c.realm, 'a"b\\cd');
  assert.equal(c.nonce, "n");
  // Output escapes exactly `"` and `\`.
  assert.equal(formatWwwAuthenticate(c), 'Digest realm="a\\"b\\\\cd", nonce="n"');
  assert.equal(parseWwwAuthenticate(formatWwwAuthenticate(c)).realm, 'a"b\\cd');
  // Non-ASCII (UTF-8 text, RFC 4975 §9 utf8text) and tabs are kept.
  const u = parseWwwAuthenticate('Digest realm="réseau\tété", nonce=""');
  assert.equal(u.realm, "réseau\tété");
  assert.equal(u.nonce, "");
});

Deno.test("liberal: unknown parameters are kept in order and re-formatted", () => {
  const value = 'Digest realm="r", domain="msrps://a.example.com", nonce="n", ' +
    'x-ext=tok, userhash=true, x-ext="again"';
  const c = parseWwwAuthenticate(value);
  assert.deepEqual(c.params, [
    { name: "domain", value: "msrps://a.example.com", quoted: true },
    { name: "x-ext", value: "tok", quoted: false },
    { name: "userhash", value: "true", quoted: false },
    { name: "x-ext", value: "again", quoted: true },
  ]);
  assert.equal(formatWwwAuthenticate(c), value);
  const a = parseAuthorization(
    'Digest username*=UTF-8\'\'J%C3%A4s, username="u", realm="r", nonce="n", uri="/", response="00"',
  );
  assert.deepEqual(a.params, [{ name: "username*", value: "UTF-8''J%C3%A4s", quoted: false }]);
});

Deno.test("parsing is linear: 20 000 parameters and a 200 000-letter quoted string", () => {
  const many = 'Digest realm="r", nonce="n"' + ", x=1".repeat(20_000);
  const c = parseWwwAuthenticate(many);
  assert.equal(c.params?.length, 20_000);
  assert.equal(formatWwwAuthenticate(c), many);
  const long = "\\a".repeat(100_000);
  assert.equal(parseWwwAuthenticate(`Digest realm="${long}", nonce="n"`).realm.length, 100_000);
  syntaxError(
    () => parseWwwAuthenticate(`Digest realm="${long}`),
    "unterminated-quoted-string",
    200_014,
  );
  syntaxError(
    () => parseWwwAuthenticate("Digest " + ",".repeat(100_000)),
    "missing-realm",
    100_007,
  );
});

// --- Malformed values ------------------------------------------------------

const MALFORMED_CHALLENGES: [value: string, code: string, offset: number][] = [
  ["", "empty-value", 0],
  ["   ", "empty-value", 3],
  ['Basic realm="x"', "unsupported-scheme", 0],
  ['realm="x", nonce="y"', "missing-scheme", 0],
  ['Digest,realm="x", nonce="y"', "bad-scheme", 6],
  ['Digest nonce="n"', "missing-realm", 16],
  ['Digest realm="r"', "missing-nonce", 16],
  ["Digest", "missing-realm", 6],
  ["Digest realm", "expected-equals", 12],
  ['Digest realm=, nonce="n"', "missing-value", 13],
  ['Digest realm="r', "unterminated-quoted-string", 15],
  ['Digest realm="r\\', "unterminated-quoted-string", 16],
  ['Digest realm="r" nonce="n"', "expected-comma", 17],
  ['Digest realm="r"x, nonce="n"', "expected-comma", 16],
  ['Digest realm="r", nonce="n", REALM="s"', "duplicate-param", 29],
  ['Digest realm="r\x01", nonce="n"', "bad-char", 15],
  ['Digest realm="r", nonce="n"\r\n', "bad-char", 27],
  ['Digest realm="r", nonce=\x7f', "bad-char", 24],
  ['Digest realm="r", nonce="n", qop=""', "bad-qop", 33],
  ['Digest realm="r", nonce="n", qop="auth int"', "bad-qop", 33],
  ['Digest realm="r", nonce="n", =x', "expected-param-name", 29],
  ['Digest realm="r", nonce="n", @=x', "expected-param-name", 29],
  ['Digest realm="r", nonce="n", algorithm="MD 5"', "bad-algorithm", 39],
];

Deno.test("WWW-Authenticate: malformed values fail with their code and offset", () => {
  for (const [value, code, offset] of MALFORMED_CHALLENGES) {
    syntaxError(() => parseWwwAuthenticate(value), code, offset);
  }
});

const OK_CREDENTIALS = 'username="u", realm="r", nonce="n", uri="/", response="0f"';

const MALFORMED_CREDENTIALS: [value: string, code: string, offset: number][] = [
  ["Basic dXNlcjpwYXNz", "unsupported-scheme", 0],
  ['Digest realm="r", nonce="n", uri="/", response="0f"', "missing-username", 51],
  ['Digest username="u", nonce="n", uri="/", response="0f"', "missing-realm", 54],
  ['Digest username="u", realm="r", uri="/", response="0f"', "missing-nonce", 54],
  ['Digest username="u", realm="r", nonce="n", response="0f"', "missing-uri", 56],
  ['Digest username="u", realm="r", nonce="n", uri="/"', "missing-response", 50],
  ['Digest username="u", realm="r", nonce="n", uri="/", response="xyz"', "bad-response", 61],
  ['Digest username="u", realm="r", nonce="n", uri="/", response=""', "bad-response", 61],
  [`Digest ${OK_CREDENTIALS}, nc=123456789`, "bad-nc", 70],
  [`Digest ${OK_CREDENTIALS}, nc=0000000g`, "bad-nc", 70],
  [`Digest ${OK_CREDENTIALS}, nc=""`, "bad-nc", 70],
  [`Digest ${OK_CREDENTIALS}, qop="auth,auth-int"`, "bad-qop", 71],
  [`Digest ${OK_CREDENTIALS}, username="v"`, "duplicate-param", 67],
];

Deno.test("Authorization: malformed values fail with their code and offset", () => {
  for (const [value, code, offset] of MALFORMED_CREDENTIALS) {
    syntaxError(() => parseAuthorization(value), code, offset);
  }
});

Deno.test("Authentication-Info: malformed values fail with their code and offset", () => {
  syntaxError(() => parseAuthenticationInfo(""), "empty-value", 0);
  syntaxError(() => parseAuthenticationInfo(" , ,"), "empty-value", 1);
  syntaxError(() => parseAuthenticationInfo('rspauth="xyz"'), "bad-rspauth", 8);
  syntaxError(() => parseAuthenticationInfo("qop=auth, nc=0000000g"), "bad-nc", 13);
  syntaxError(() => parseAuthenticationInfo('qop="a b"'), "bad-qop", 4);
  syntaxError(() => parseAuthenticationInfo("qop=auth qop=auth"), "expected-comma", 9);
  syntaxError(() => parseAuthenticationInfo("nc=00000001, NC=00000002"), "duplicate-param", 13);
  // An empty rspauth is allowed by RFC 4976 §7 `response-digest = DQUOTE *LHEX DQUOTE`.
  assert.equal(parseAuthenticationInfo('rspauth=""').rspauth, "");
});

Deno.test("error messages say what is wrong and where", () => {
  try {
    parseWwwAuthenticate('Digest realm="r" nonce="n"');
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof MsrpSyntaxError);
    assert.equal(
      e.message,
      'expected "," after parameter "realm" at offset 17 in "Digest realm=\\"r\\" nonce=\\"n\\""',
    );
    assert.equal(e.input, 'Digest realm="r" nonce="n"');
  }
});

// --- Formatting errors -----------------------------------------------------

Deno.test("formatting refuses values that cannot be written", () => {
  const challenge: DigestChallenge = {
    realm: "r",
    nonce: "n",
    qop: ["auth"],
    algorithm: "MD5",
    stale: false,
  };
  msrpError(
    () => formatWwwAuthenticate({ ...challenge, realm: "a\r\nInjected: x" }),
    "bad-param-value",
  );
  msrpError(() => formatWwwAuthenticate({ ...challenge, algorithm: "MD 5" }), "bad-param-value");
  msrpError(
    () => formatWwwAuthenticate({ ...challenge, qop: ["auth,auth-int"] }),
    "bad-param-value",
  );
  msrpError(
    () =>
      formatWwwAuthenticate({ ...challenge, params: [{ name: "a b", value: "x", quoted: false }] }),
    "bad-param-value",
  );
  const credentials: DigestCredentials = {
    username: "u",
    realm: "r",
    nonce: "n",
    uri: "/",
    response: "00",
  };
  msrpError(() => formatAuthorization({ ...credentials, nc: 0x1_0000_0000 }), "bad-nc");
  msrpError(() => formatAuthorization({ ...credentials, nc: 1.5 }), "bad-nc");
  msrpError(() => formatAuthorization({ ...credentials, qop: "auth auth" }), "bad-param-value");
  msrpError(() => formatAuthenticationInfo({}), "empty-value");
  msrpError(() => formatAuthenticationInfo({ nc: -1 }), "bad-nc");
  // A non-token value of an unknown parameter is quoted even when marked bare.
  assert.equal(
    formatAuthenticationInfo({ params: [{ name: "x", value: "a b", quoted: false }] }),
    'x="a b"',
  );
  assert.equal(formatAuthenticationInfo({ nc: 0xffffffff }), "nc=ffffffff");
});
