import assert from "node:assert/strict";
import { MsrpSyntaxError } from "../../lib/errors.ts";
import { MsrpUri, parseUri, parseUriRange, uriEquals } from "../../lib/wire/uri.ts";
import { prng } from "../_util.ts";

/** Every distinct MSRP URI in the texts of RFC 4975, RFC 4976 and RFC 7977. */
const RFC_URIS = [
  // RFC 4975
  "msrp://atlanta.example.com:7654/jshA7weztas;tcp",
  "msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp",
  "msrp://host.example.com:8493/asfd34;tcp",
  "msrp://alice.example.com:7394/2s93i9ek2a;tcp",
  "msrp://alice.example.com:7394/2s93i93idj;tcp",
  "msrp://bob.example.com:8493/si438dsaodes;tcp",
  "msrp://alicepc.example.com:7777/iau39soe2843z;tcp",
  "msrp://bob.example.com:8888/9di4eae923wzd;tcp",
  "msrp://alice.example.com:7777/iau39soe2843z;tcp",
  "msrp://bobpc.example.com:8888/9di4eae923wzd;tcp",
  "msrp://alicepc.example.com:7654/iau39soe2843z;tcp",
  "msrp://alicepc.example.com:8888/9di4eae923wzd;tcp",
  "msrp://example.com:7777/iau39soe2843z;tcp",
  "msrps://atlanta.example.com:7654/jshA7weso3ks;tcp",
  // RFC 4976
  "msrps://B.example.com/bbb;tcp",
  "msrps://A.example.com/aaa;tcp",
  "msrps://Alice.example.com/alice;tcp",
  "msrps://Bob.example.com/bob;tcp",
  "msrps://R1;tcp",
  "msrps://R2;tcp",
  "msrps://a.example.org:9000/kjfjan;tcp",
  "msrps://alice.example.org:7965/bar;tcp",
  "msrps://b.example.net:9000/aeiug;tcp",
  "msrps://bob.example.net:8145/foo;tcp",
  "msrps://alice@intra.example.com;tcp",
  "msrps://alice.example.com:9892/98cjs;tcp",
  "msrps://intra.example.com:9000/jui787s2f;tcp",
  "msrps://extra.example.com;tcp",
  "msrps://extra.example.com:9000/mywdEe1233;tcp",
  "msrps://relay.example.com:9000/hjdhfha;tcp",
  "msrp://a.example.com:1234/agic456;tcp",
  "msrps://bob.example.com:1234/fuige;tcp",
  // RFC 7977
  "msrps://alice@a.example.com:443;ws",
  "msrps://df7jal23ls0d.invalid:2855/98cjs;ws",
  "msrps://df7jal23ls0d.invalid/98cjs;ws",
  "msrps://a.example.com:2855/jui787s2f;tcp",
  "msrps://bob.example.com:49154/foo;tcp",
  "msrps://a.example.com:2855/iwnslt;tcp",
  "msrps://jk9awp14vj8x.invalid:2855/76qwe;ws",
  "msrps://relay.example.net:2855/kwvin5f;tcp",
];

Deno.test("uri: every URI of RFC 4975, 4976 and 7977 parses and prints back exactly", () => {
  for (const text of RFC_URIS) {
    const uri = MsrpUri.parse(text);
    assert.equal(uri.toString(), text);
    assert.equal(`${uri}`, text);
    assert.equal(JSON.stringify(uri), JSON.stringify(text));
    assert.equal(uri.scheme, text.startsWith("msrps:") ? "msrps" : "msrp");
    assert.equal(uri.hostKind, "name");
    assert.ok(uri.equals(MsrpUri.parse(text)));
  }
});

interface Fields {
  scheme: "msrp" | "msrps";
  userinfo?: string;
  host: string;
  hostKind: "ipv4" | "ipv6" | "name";
  port?: number;
  sessionId?: string;
  transport: string;
  params?: [string, string | undefined][];
}

const FIELD_CASES: [string, Fields][] = [
  ["msrp://host.example.com:8493/asfd34;tcp", {
    scheme: "msrp",
    host: "host.example.com",
    hostKind: "name",
    port: 8493,
    sessionId: "asfd34",
    transport: "tcp",
  }],
  ["msrps://alice@intra.example.com;tcp", {
    scheme: "msrps",
    userinfo: "alice",
    host: "intra.example.com",
    hostKind: "name",
    transport: "tcp",
  }],
  ["msrps://df7jal23ls0d.invalid/98cjs;ws", {
    scheme: "msrps",
    host: "df7jal23ls0d.invalid",
    hostKind: "name",
    sessionId: "98cjs",
    transport: "ws",
  }],
  ["MSRPS://Alice.Example.COM:1/s;TCP", {
    scheme: "msrps",
    host: "Alice.Example.COM",
    hostKind: "name",
    port: 1,
    sessionId: "s",
    transport: "TCP",
  }],
  ["msrp://192.0.2.1:2855/abc;tcp", {
    scheme: "msrp",
    host: "192.0.2.1",
    hostKind: "ipv4",
    port: 2855,
    sessionId: "abc",
    transport: "tcp",
  }],
  ["msrp://0.0.0.0:0;tcp", {
    scheme: "msrp",
    host: "0.0.0.0",
    hostKind: "ipv4",
    port: 0,
    transport: "tcp",
  }],
  ["msrp://255.255.255.255:65535/x;tcp", {
    scheme: "msrp",
    host: "255.255.255.255",
    hostKind: "ipv4",
    port: 65535,
    sessionId: "x",
    transport: "tcp",
  }],
  ["msrp://[2001:db8::1]:2855/s1;tcp", {
    scheme: "msrp",
    host: "2001:db8::1",
    hostKind: "ipv6",
    port: 2855,
    sessionId: "s1",
    transport: "tcp",
  }],
  ["msrp://[::]:1;tcp", {
    scheme: "msrp",
    host: "::",
    hostKind: "ipv6",
    port: 1,
    transport: "tcp",
  }],
  ["msrp://[::ffff:192.0.2.1]:1;tcp", {
    scheme: "msrp",
    host: "::ffff:192.0.2.1",
    hostKind: "ipv6",
    port: 1,
    transport: "tcp",
  }],
  ["msrp://[1:2:3:4:5:6:7:8]:1;tcp", {
    scheme: "msrp",
    host: "1:2:3:4:5:6:7:8",
    hostKind: "ipv6",
    port: 1,
    transport: "tcp",
  }],
  ["msrp://[1:2:3:4:5:6:1.2.3.4]:1;tcp", {
    scheme: "msrp",
    host: "1:2:3:4:5:6:1.2.3.4",
    hostKind: "ipv6",
    port: 1,
    transport: "tcp",
  }],
  ["msrp://h.example:9/a+b=c/d-e.f_g~h%2F;tcp;foo=bar;flag", {
    scheme: "msrp",
    host: "h.example",
    hostKind: "name",
    port: 9,
    sessionId: "a+b=c/d-e.f_g~h%2F",
    transport: "tcp",
    params: [["foo", "bar"], ["flag", undefined]],
  }],
  ["msrp://us%40er!$&'()*+,=@host-1_x~y:0080;sctp2", {
    scheme: "msrp",
    userinfo: "us%40er!$&'()*+,=",
    host: "host-1_x~y",
    hostKind: "name",
    port: 80,
    transport: "sctp2",
  }],
  ["msrp://alice@[fe80::1]:2855/s;tcp", {
    scheme: "msrp",
    userinfo: "alice",
    host: "fe80::1",
    hostKind: "ipv6",
    port: 2855,
    sessionId: "s",
    transport: "tcp",
  }],
  ["msrp://%68ost:1;tcp", {
    scheme: "msrp",
    host: "%68ost",
    hostKind: "name",
    port: 1,
    transport: "tcp",
  }],
];

Deno.test("uri: fields of parsed URIs", () => {
  for (const [text, f] of FIELD_CASES) {
    const uri = MsrpUri.parse(text);
    assert.equal(uri.toString(), text, text);
    assert.deepEqual(
      {
        scheme: uri.scheme,
        userinfo: uri.userinfo,
        host: uri.host,
        hostKind: uri.hostKind,
        port: uri.port,
        sessionId: uri.sessionId,
        transport: uri.transport,
        params: uri.params,
      },
      {
        userinfo: undefined,
        port: undefined,
        sessionId: undefined,
        params: [],
        ...f,
      },
      text,
    );
  }
});

Deno.test("uri: accessors secure, authority, hostPort, connectionKey", () => {
  const a = MsrpUri.parse("msrps://alice@a.example.com:443;ws");
  assert.equal(a.secure, true);
  assert.equal(a.authority, "alice@a.example.com:443");
  assert.equal(a.hostPort, "a.example.com:443");
  assert.equal(a.connectionKey, "msrps://a.example.com:443");
  const b = MsrpUri.parse("msrp://[2001:DB8::1]:2855/s;tcp");
  assert.equal(b.secure, false);
  assert.equal(b.authority, "[2001:DB8::1]:2855");
  assert.equal(b.hostPort, "[2001:DB8::1]:2855");
  assert.equal(b.connectionKey, "msrp://[2001:db8:0:0:0:0:0:1]:2855");
  const c = MsrpUri.parse("msrps://Extra.Example.com;tcp");
  assert.equal(c.hostPort, "Extra.Example.com");
  assert.equal(c.connectionKey, "msrps://extra.example.com:");
  // §5.4: same host, port and scheme share a connection, whatever the session.
  assert.equal(
    MsrpUri.parse("msrp://[::1]:9/a;tcp").connectionKey,
    MsrpUri.parse("msrp://[0:0::1]:9/b;tcp").connectionKey,
  );
  assert.notEqual(
    MsrpUri.parse("msrp://h:9/a;tcp").connectionKey,
    MsrpUri.parse("msrps://h:9/a;tcp").connectionKey,
  );
  assert.notEqual(
    MsrpUri.parse("msrp://h:9/a;tcp").connectionKey,
    MsrpUri.parse("msrp://h:10/a;tcp").connectionKey,
  );
});

/** [a, b, equal?, the rule of RFC 4975 §6.1 being checked] */
const COMPARISONS: [string, string, boolean, string][] = [
  // Rule 1: scheme, case-insensitive.
  ["MSRP://h.example:1/s;tcp", "msrp://h.example:1/s;tcp", true, "scheme case"],
  ["msrpS://h.example:1/s;tcp", "MSRPs://h.example:1/s;tcp", true, "scheme case (msrps)"],
  ["msrp://h.example:1/s;tcp", "msrps://h.example:1/s;tcp", false, "msrp vs msrps"],
  // Rule 2: authority; userinfo ignored, %-decoding, addresses, names without case.
  ["msrp://HOST.Example.COM:1/s;tcp", "msrp://host.example.com:1/s;tcp", true, "host case"],
  ["msrp://%68ost:1/s;tcp", "msrp://host:1/s;tcp", true, "%-encoded unreserved in host"],
  ["msrp://%48ost:1/s;tcp", "msrp://host:1/s;tcp", true, "%48 is H, hosts ignore case"],
  ["msrp://a%2ab:1/s;tcp", "msrp://a%2Ab:1/s;tcp", true, "%-escape hex case in host"],
  ["msrp://a%2Ab:1/s;tcp", "msrp://a*b:1/s;tcp", false, "encoded sub-delim is not decoded"],
  ["msrp://alice@h:1/s;tcp", "msrp://h:1/s;tcp", true, "userinfo vs none"],
  ["msrp://alice@h:1/s;tcp", "msrp://bob@h:1/s;tcp", true, "different userinfo"],
  ["msrp://h1.example:1/s;tcp", "msrp://h2.example:1/s;tcp", false, "different host"],
  ["msrp://[::1]:1/s;tcp", "msrp://[0:0:0:0:0:0:0:1]:1/s;tcp", true, "IPv6 compressed"],
  ["msrp://[2001:DB8::A]:1/s;tcp", "msrp://[2001:db8:0:0:0:0:0:a]:1/s;tcp", true, "IPv6 hex case"],
  ["msrp://[2001:db8::0001]:1/s;tcp", "msrp://[2001:db8::1]:1/s;tcp", true, "IPv6 leading 0"],
  ["msrp://[2001:db8:0:0:1::]:1;tcp", "msrp://[2001:db8::1:0:0:0]:1;tcp", true, "IPv6 :: spot"],
  ["msrp://[::ffff:1.2.3.4]:1;tcp", "msrp://[::ffff:102:304]:1;tcp", true, "embedded IPv4"],
  ["msrp://[::1]:1/s;tcp", "msrp://[::2]:1/s;tcp", false, "different IPv6"],
  ["msrp://1.2.3.4:1;tcp", "msrp://[::ffff:1.2.3.4]:1;tcp", false, "IPv4 vs IPv4-mapped IPv6"],
  ["msrp://127.0.0.1:1;tcp", "msrp://localhost:1;tcp", false, "address vs name"],
  ["msrp://10.0.0.1:1;tcp", "msrp://10.0.0.2:1;tcp", false, "different IPv4"],
  // Rule 3: explicit port must match; explicit never equals absent.
  ["msrp://h:2855/s;tcp", "msrp://h/s;tcp", false, "explicit port vs none"],
  ["msrp://h:2855/s;tcp", "msrp://h:2856/s;tcp", false, "different port"],
  ["msrp://h:08493/s;tcp", "msrp://h:8493/s;tcp", true, "port leading zero"],
  ["msrp://h/s;tcp", "msrp://H/s;tcp", true, "no port on both"],
  // Rule 4: session-id case-sensitive; absent never equals present.
  ["msrp://h:1/abc;tcp", "msrp://h:1/ABC;tcp", false, "session-id case"],
  ["msrp://h:1/%41bc;tcp", "msrp://h:1/Abc;tcp", true, "%41 vs A in session-id"],
  ["msrp://h:1/%61bc;tcp", "msrp://h:1/Abc;tcp", false, "%61 is a, not A"],
  ["msrp://h:1/a%2fb;tcp", "msrp://h:1/a%2Fb;tcp", true, "%-escape hex case in session-id"],
  ["msrp://h:1/a%2Fb;tcp", "msrp://h:1/a/b;tcp", false, "encoded / is not /"],
  ["msrp://h:1/a%7Eb;tcp", "msrp://h:1/a~b;tcp", true, "encoded ~ is ~"],
  ["msrp://h:1;tcp", "msrp://h:1/s;tcp", false, "no session-id vs one"],
  ["msrp://h:1;tcp", "msrp://h:1;tcp", true, "no session-id on both"],
  // Rule 5: transport must match, case-insensitive.
  ["msrp://h:1/s;TCP", "msrp://h:1/s;tcp", true, "transport case"],
  ["msrps://h:1/s;WS", "msrps://h:1/s;ws", true, "ws transport case"],
  ["msrp://h:1/s;tcp", "msrp://h:1/s;ws", false, "different transport"],
  // Parameters other than the transport are not compared.
  ["msrp://h:1/s;tcp;foo=bar", "msrp://h:1/s;tcp", true, "extra parameter"],
  ["msrp://h:1/s;tcp;foo=bar", "msrp://h:1/s;tcp;foo=baz", true, "different parameter"],
  // The RFC's own URIs.
  [
    "msrps://alice@intra.example.com;tcp",
    "msrps://intra.example.com;tcp",
    true,
    "RFC 4976 AUTH To-Path",
  ],
  [
    "msrps://df7jal23ls0d.invalid/98cjs;ws",
    "msrps://df7jal23ls0d.invalid:2855/98cjs;ws",
    false,
    "RFC 7977 URIs with and without port",
  ],
];

Deno.test("uri: equality follows RFC 4975 §6.1, both ways, and key agrees", () => {
  for (const [a, b, equal, why] of COMPARISONS) {
    const ua = MsrpUri.parse(a);
    const ub = MsrpUri.parse(b);
    assert.equal(ua.equals(ub), equal, `${why}: ${a} vs ${b}`);
    assert.equal(ub.equals(ua), equal, `${why} (reversed)`);
    assert.equal(uriEquals(ua, ub), equal, why);
    assert.equal(ua.key === ub.key, equal, `${why}: keys ${ua.key} / ${ub.key}`);
  }
});

Deno.test("uri: key agrees with equals on every pair of every URI in these tests", () => {
  const texts = [
    ...RFC_URIS,
    ...FIELD_CASES.map(([t]) => t),
    ...COMPARISONS.flatMap(([a, b]) => [a, b]),
  ];
  const uris = texts.map((t) => MsrpUri.parse(t));
  let equalPairs = 0;
  for (const a of uris) {
    for (const b of uris) {
      const eq = a.equals(b);
      assert.equal(eq, a.key === b.key, `${a} vs ${b}`);
      assert.equal(eq, b.equals(a));
      if (eq) equalPairs++;
    }
  }
  assert.ok(equalPairs > uris.length, "some distinct texts compare equal");
  // A Map keyed by `key` finds a session by any equivalent To-Path URI.
  const sessions = new Map([[MsrpUri.parse("msrp://[::1]:7/%41b;tcp").key, "s1"]]);
  assert.equal(sessions.get(MsrpUri.parse("MSRP://[0:0:0::0:1]:7/Ab;TCP;x").key), "s1");
  assert.equal(sessions.get(MsrpUri.parse("msrp://[::1]:7/ab;tcp").key), undefined);
});

Deno.test("uri: key values are canonical", () => {
  assert.equal(
    MsrpUri.parse("MSRP://alice@Host.Example:0080/a%2fb%7E;TCP;x=y").key,
    "msrp://host.example:80/a%2Fb~;tcp",
  );
  assert.equal(
    MsrpUri.parse("msrp://[::FFFF:1.2.3.4]:1;ws").key,
    "msrp://[0:0:0:0:0:ffff:102:304]:1;ws",
  );
  assert.equal(MsrpUri.parse("msrps://R1;tcp").key, "msrps://r1;tcp");
});

/** [text, code, offset] */
const MALFORMED: [string, string, number][] = [
  ["", "empty", 0],
  ["http://h:1/s;tcp", "bad-scheme", 0],
  ["msrpx://h:1;tcp", "bad-scheme", 0],
  [" msrp://h:1;tcp", "bad-scheme", 0],
  ["msrp:/h:1;tcp", "bad-scheme", 4],
  ["msrp//h:1;tcp", "bad-scheme", 4],
  ["msrp", "bad-scheme", 4],
  ["msrp://;tcp", "bad-host", 7],
  ["msrp://:1;tcp", "bad-host", 7],
  ["msrp://", "bad-host", 7],
  ["msrp://ho st:1;tcp", "bad-host", 9],
  ["msrp://h?x:1;tcp", "bad-host", 8],
  ["msrp://h%4:1;tcp", "bad-host", 8],
  ["msrp://bücher.example:1;tcp", "bad-host", 8],
  ["msrp://a@b@c:1;tcp", "bad-host", 10],
  ["msrp://256.0.0.1:1;tcp", "bad-ipv4", 7],
  ["msrp://1.2.3.999:1;tcp", "bad-ipv4", 13],
  ["msrp://1.2.3:1;tcp", "bad-ipv4", 12],
  ["msrp://1.2.3.4.5:1;tcp", "bad-ipv4", 14],
  ["msrp://01.2.3.4:1;tcp", "bad-ipv4", 7],
  ["msrp://1..3.4:1;tcp", "bad-ipv4", 9],
  ["msrp://example.123:1;tcp", "bad-ipv4", 7],
  ["msrp://1.2.3.4;tcp", "missing-port", 14],
  ["msrp://1.2.3.4/s;tcp", "missing-port", 14],
  ["msrp://[::1];tcp", "missing-port", 12],
  ["msrp://[::1]", "missing-port", 12],
  ["msrp://[::1:80;tcp", "bad-ipv6", 18],
  ["msrp://[]:1;tcp", "bad-ipv6", 8],
  ["msrp://[1::2::3]:1;tcp", "bad-ipv6", 12],
  ["msrp://[12345::1]:1;tcp", "bad-ipv6", 12],
  ["msrp://[1:2:3:4:5:6:7]:1;tcp", "bad-ipv6", 21],
  ["msrp://[1:2:3:4:5:6:7:8:9]:1;tcp", "bad-ipv6", 24],
  ["msrp://[1:2:3:4:5:6:7:8::]:1;tcp", "bad-ipv6", 23],
  ["msrp://[::g]:1;tcp", "bad-ipv6", 10],
  ["msrp://[:1::2]:1;tcp", "bad-ipv6", 8],
  ["msrp://[1::2:]:1;tcp", "bad-ipv6", 12],
  ["msrp://[fe80::1%25eth0]:1;tcp", "bad-ipv6", 15],
  ["msrp://[::1.2.3.256]:1;tcp", "bad-ipv6", 16],
  ["msrp://[1:2:3:4:5:6:7:1.2.3.4]:1;tcp", "bad-ipv6", 22],
  ["msrp://[::1]x:1;tcp", "bad-ipv6", 12],
  ["msrp://h:;tcp", "bad-port", 9],
  ["msrp://h:65536;tcp", "bad-port", 9],
  ["msrp://h:99999999999999999999;tcp", "bad-port", 9],
  ["msrp://h:12ab;tcp", "bad-port", 11],
  ["msrp://h:-1;tcp", "bad-port", 9],
  ["msrp://h:1/;tcp", "bad-session-id", 11],
  ["msrp://h:1/a b;tcp", "bad-session-id", 12],
  ["msrp://h:1/a%zz;tcp", "bad-session-id", 12],
  ["msrp://h:1/a%4;tcp", "bad-session-id", 12],
  ["msrp://h:1/a@b;tcp", "bad-session-id", 12],
  ["msrp://h:1/abc", "missing-transport", 14],
  ["msrp://h:1", "missing-transport", 10],
  ["msrps://extra.example.com", "missing-transport", 25],
  ["msrp://h:1/s;", "bad-transport", 13],
  ["msrp://h:1/s;t-c", "bad-transport", 14],
  ["msrp://h:1/s;tcp ", "bad-transport", 16],
  ["msrp://h:1/s;=x", "bad-transport", 13],
  ["msrp://h:1/s;tcp;", "bad-parameter", 17],
  ["msrp://h:1/s;tcp;a=", "bad-parameter", 19],
  ["msrp://h:1/s;tcp;a=b=c", "bad-parameter", 20],
  ["msrp://h:1/s;tcp;a b", "bad-parameter", 18],
  ["msrp://h:1/s;tcp;=b", "bad-parameter", 17],
  ["msrp://user:pass@h:1/s;tcp", "password-in-userinfo", 11],
  ["msrp://user:@h:1/s;tcp", "password-in-userinfo", 11],
  ["msrp://@h:1;tcp", "bad-userinfo", 7],
  ["msrp://a%g1@h:1;tcp", "bad-userinfo", 8],
];

Deno.test("uri: malformed URIs fail with the right code and offset", () => {
  assert.ok(MALFORMED.length >= 20);
  for (const [text, code, offset] of MALFORMED) {
    assert.throws(
      () => MsrpUri.parse(text),
      (e: unknown) => {
        assert.ok(e instanceof MsrpSyntaxError, `${text}: ${e}`);
        assert.deepEqual([e.code, e.offset], [code, offset], `${text}: ${e.message}`);
        assert.equal(e.input, text);
        assert.ok(e.message.length > 20);
        return true;
      },
    );
  }
});

Deno.test("uri: parseUri and parseUriRange", () => {
  assert.equal(parseUri("msrp://h:1;tcp").port, 1);
  const value = "x msrp://h:1/s;tcp y";
  const uri = parseUriRange(value, 2, 18);
  assert.equal(uri.toString(), "msrp://h:1/s;tcp");
  assert.equal(uri.sessionId, "s");
  // Errors point into the whole input.
  assert.throws(
    () => parseUriRange("a msrp://h:x;tcp", 2, 16),
    (e: unknown) => e instanceof MsrpSyntaxError && e.code === "bad-port" && e.offset === 11,
  );
  assert.throws(
    () => parseUriRange("abc", 1, 1),
    (e: unknown) => e instanceof MsrpSyntaxError && e.code === "empty" && e.offset === 1,
  );
});

Deno.test("uri: from builds canonical URIs", () => {
  const cases: [Parameters<typeof MsrpUri.from>[0], string][] = [
    [
      { host: "bob.example.com", port: 8888, sessionId: "9di4eae923wzd" },
      "msrp://bob.example.com:8888/9di4eae923wzd;tcp",
    ],
    [{ scheme: "msrps", host: "relay.example.com" }, "msrps://relay.example.com;tcp"],
    [{ host: "2001:db8::1", port: 2855, sessionId: "s" }, "msrp://[2001:db8::1]:2855/s;tcp"],
    [{ host: "[::1]", port: 1 }, "msrp://[::1]:1;tcp"],
    [{ host: "192.0.2.1", port: 0, transport: "ws" }, "msrp://192.0.2.1:0;ws"],
    [
      { scheme: "msrps", userinfo: "alice", host: "a.example.com", port: 443, transport: "ws" },
      "msrps://alice@a.example.com:443;ws",
    ],
    [
      { host: "h", port: 1, sessionId: "a/b", params: [["x", "1"], ["y", undefined]] },
      "msrp://h:1/a/b;tcp;x=1;y",
    ],
  ];
  for (const [parts, text] of cases) {
    const uri = MsrpUri.from(parts);
    assert.equal(uri.toString(), text);
    const parsed = MsrpUri.parse(text);
    assert.ok(uri.equals(parsed));
    assert.deepEqual(
      [uri.scheme, uri.userinfo, uri.host, uri.hostKind, uri.port, uri.sessionId, uri.transport],
      [
        parsed.scheme,
        parsed.userinfo,
        parsed.host,
        parsed.hostKind,
        parsed.port,
        parsed.sessionId,
        parsed.transport,
      ],
    );
    assert.deepEqual(uri.params, parsed.params);
    assert.equal(uri.authority, parsed.authority);
  }
});

Deno.test("uri: from validates every part", () => {
  const cases: [Parameters<typeof MsrpUri.from>[0], string, number][] = [
    [{ host: "" }, "bad-host", 0],
    [{ host: "h/x" }, "bad-host", 1],
    [{ host: "h;tcp" }, "bad-host", 1],
    [{ host: "1.2.3.4" }, "missing-port", 7],
    [{ host: "::1" }, "missing-port", 5],
    [{ host: "1.2.3.400", port: 1 }, "bad-ipv4", 6],
    [{ host: "1::2::3", port: 1 }, "bad-ipv6", 5], // offset in "[1::2::3]"
    [{ host: "h", port: 65536 }, "bad-port", 0],
    [{ host: "h", port: 1.5 }, "bad-port", 0],
    [{ host: "h", sessionId: "" }, "bad-session-id", 0],
    [{ host: "h", sessionId: "a;b" }, "bad-session-id", 1],
    [{ host: "h", transport: "" }, "bad-transport", 0],
    [{ host: "h", transport: "t;x" }, "bad-transport", 1],
    [{ host: "h", userinfo: "a:b" }, "password-in-userinfo", 1],
    [{ host: "h", userinfo: "" }, "bad-userinfo", 0],
    [{ host: "h", userinfo: "a@b" }, "bad-userinfo", 1],
    [{ host: "h", params: [["a b", undefined]] }, "bad-parameter", 1],
    [{ host: "h", params: [["a", ""]] }, "bad-parameter", 0],
    [{ host: "h", scheme: "http" as "msrp" }, "bad-scheme", 0],
  ];
  for (const [parts, code, offset] of cases) {
    assert.throws(
      () => MsrpUri.from(parts),
      (e: unknown) => {
        assert.ok(e instanceof MsrpSyntaxError, String(e));
        assert.deepEqual([e.code, e.offset], [code, offset], JSON.stringify(parts));
        return true;
      },
    );
  }
});

Deno.test("uri: with replaces parts", () => {
  const uri = MsrpUri.parse("msrps://alice@relay.example.com:9000/abc;tcp;x=1");
  assert.equal(
    uri.with({ sessionId: "xyz" }).toString(),
    "msrps://alice@relay.example.com:9000/xyz;tcp;x=1",
  );
  assert.equal(
    uri.with({ sessionId: undefined, userinfo: undefined, params: [] }).toString(),
    "msrps://relay.example.com:9000;tcp",
  );
  assert.equal(
    uri.with({ transport: "ws", port: 443 }).toString(),
    "msrps://alice@relay.example.com:443/abc;ws;x=1",
  );
  assert.equal(uri.with({}).toString(), "msrps://alice@relay.example.com:9000/abc;tcp;x=1");
});

Deno.test("uri: objects are immutable", () => {
  const uri = MsrpUri.parse("msrp://h:1/s;tcp;a=b");
  assert.throws(() => (uri.params as [string, string][]).push(["c", "d"]));
});

Deno.test("uri: long and hostile inputs are handled in one pass", () => {
  const longHost = "a".repeat(100_000);
  assert.equal(MsrpUri.parse(`msrp://${longHost}:1/s;tcp`).host.length, 100_000);
  const longSid = "s".repeat(100_000);
  assert.equal(MsrpUri.parse(`msrp://h:1/${longSid};tcp`).sessionId, longSid);
  const manyParams = ";p=v".repeat(20_000);
  assert.equal(MsrpUri.parse(`msrp://h:1;tcp${manyParams}`).params.length, 20_000);
  const colons = "msrp://[" + ":".repeat(100_000) + "]:1;tcp";
  assert.throws(
    () => MsrpUri.parse(colons),
    (e: unknown) => (e as MsrpSyntaxError).code === "bad-ipv6",
  );
  const digits = "msrp://h:" + "9".repeat(100_000) + ";tcp";
  assert.throws(
    () => MsrpUri.parse(digits),
    (e: unknown) => (e as MsrpSyntaxError).code === "bad-port",
  );
  const ats = "msrp://" + "a".repeat(50_000) + "@".repeat(50_000) + ";tcp";
  assert.throws(
    () => MsrpUri.parse(ats),
    (e: unknown) => (e as MsrpSyntaxError).code === "bad-host",
  );
  const escapes = "msrp://h:1/" + "%41".repeat(30_000) + ";tcp";
  assert.equal(MsrpUri.parse(escapes).key, "msrp://h:1/" + "A".repeat(30_000) + ";tcp");
});

Deno.test("uri: one host grammar for parse and from (a last label of digits is an address)", () => {
  // A dotless number is read as an address by inet_aton (2130706433 is
  // 127.0.0.1), so it is refused like 127.1, not taken as a host name.
  for (
    const [text, offset] of [["msrp://2130706433:2855/s;tcp", 7], ["msrp://127.1:2855/s;tcp", 12]]
  ) {
    assert.throws(
      () => MsrpUri.parse(text as string),
      (e: unknown) => e instanceof MsrpSyntaxError && e.code === "bad-ipv4" && e.offset === offset,
      text as string,
    );
  }
  assert.throws(() => MsrpUri.from({ host: "2130706433", port: 2855 }), /bad-ipv4|IPv4/);
  // Hexadecimal, as inet_aton reads it (RFC 3986 §7.4), is a number too.
  for (const host of ["0x7f000001", "a.0X7F", "0x"]) {
    assert.throws(
      () => MsrpUri.parse(`msrp://${host}:2855/s;tcp`),
      (e: unknown) => e instanceof MsrpSyntaxError && e.code === "bad-ipv4",
      host,
    );
    assert.throws(() => MsrpUri.from({ host, port: 2855 }), MsrpSyntaxError, host);
  }
  for (const host of ["0xg", "x0x7f", "a.0x7fz", "0y7f"]) {
    assert.equal(MsrpUri.parse(`msrp://${host}:2855/s;tcp`).hostKind, "name", host);
  }
  // The check looks at the host, not at the start of the whole input.
  assert.throws(
    () => MsrpUri.parse("msrp://192.0.2.1@9/+b=c/d;tcp"),
    (e: unknown) => e instanceof MsrpSyntaxError && e.code === "bad-ipv4" && e.offset === 18,
  );
  const named = MsrpUri.parse("msrp://192.0.2.1@h9/+b=c/d;tcp");
  assert.equal(named.hostKind, "name");
  assert.equal(MsrpUri.from({ ...named, host: named.host }).key, named.key);
});

/** A random string shaped like an MSRP URI, from pieces that are often (not always) valid. */
function randomUriText(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const chars = (alphabet: string, max: number): string => {
    let s = "";
    const n = Math.floor(rand() * max);
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    return s;
  };
  const hostChars = "abz019.-_~!$&'()*+,=%2A:";
  const host = pick([
    () => chars(hostChars, 12),
    () => [0, 0, 0, 0].map(() => pick(["0", "1", "9", "10", "255", "256", "01"])).join("."),
    () => pick(["1", "127.1", "2130706433", "a.1", "1.a", "a1", "x.example", "%41b", "%4", "0x7f"]),
    () => `[${chars("0123456789abcdef:.", 16)}]`,
    () => pick(["[::1]", "[::ffff:1.2.3.4]", "[1:2:3:4:5:6:7:8]", "[fe80::1]"]),
  ])();
  let s = pick(["msrp", "msrps", "MSRP", "msrpx"]) + "://";
  if (rand() < 0.3) s += chars("abc019.-_~!$&'()*+,=%4:", 8) + "@";
  s += host;
  if (rand() < 0.7) s += ":" + pick(["0", "1", "2855", "65535", "65536", "", "x"]);
  if (rand() < 0.7) s += "/" + chars("aZ09-._~+=/%41@", 10);
  if (rand() < 0.95) s += ";" + pick(["tcp", "ws", "TCP", "t1", "", "t-c"]);
  while (rand() < 0.3) s += ";" + chars("ab=;!#", 5);
  return s;
}

Deno.test("uri: from(parse(s)) works for every s that parse accepts (seeded, 20000 strings)", () => {
  // About 1 in 20 strings parses; the rest check that parse fails cleanly.
  const rand = prng(4975);
  let accepted = 0;
  for (let n = 0; n < 20000; n++) {
    const text = randomUriText(rand);
    let uri: MsrpUri;
    try {
      uri = MsrpUri.parse(text);
    } catch (e) {
      assert.ok(e instanceof MsrpSyntaxError, `${text}: ${e}`);
      continue;
    }
    accepted++;
    let rebuilt: MsrpUri;
    try {
      rebuilt = MsrpUri.from({
        scheme: uri.scheme,
        userinfo: uri.userinfo,
        host: uri.host,
        port: uri.port,
        sessionId: uri.sessionId,
        transport: uri.transport,
        params: uri.params,
      });
    } catch (e) {
      throw new Error(`parse accepted ${JSON.stringify(text)} but from refused it: ${e}`);
    }
    assert.equal(rebuilt.key, uri.key, text);
    assert.equal(rebuilt.hostKind, uri.hostKind, text);
    assert.equal(MsrpUri.parse(rebuilt.toString()).key, uri.key, text);
  }
  assert.ok(accepted > 500, `only ${accepted} random URIs parsed`);
});
