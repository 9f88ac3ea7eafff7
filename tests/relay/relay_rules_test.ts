// The pure parts of the relay: configuration, registrations and the
// forwarding rules (RFC 4976 §4.2, §6.2-§6.4; RFC 4975 §7.1.2, §7.1.4, §7.2).

import assert from "node:assert/strict";
import { MsrpError, MsrpSyntaxError } from "../../lib/errors.ts";
import {
  DEFAULT_RELAY_LIMITS,
  loadRelayConfig,
  relayUserHa1,
  resolveRelayConfig,
} from "../../lib/relay/config.ts";
import { digestHa1 } from "../../lib/relay/digest.ts";
import { failureReportOwed, responseOwed } from "../../lib/session/reports.ts";
import {
  forwardedHeaders,
  isRelayUri,
  relayFailureReport,
  relayResponse,
  reportedRange,
  type RouteInput,
  routeRequest,
} from "../../lib/relay/forwarding.ts";
import {
  newRelaySessionId,
  type RegistrationBinding,
  RegistrationTable,
} from "../../lib/relay/registrations.ts";
import { encodeFrame } from "../../lib/wire/encoder.ts";
import { HeaderList } from "../../lib/wire/header_list.ts";
import { MsrpUri } from "../../lib/wire/uri.ts";

const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const u = (s: string) => MsrpUri.parse(s);
const path = (s: string) => s.split(" ").map(u);

function configError(input: unknown, pattern: RegExp): void {
  assert.throws(() => resolveRelayConfig(input), (e: unknown) => {
    assert.ok(e instanceof MsrpError);
    assert.equal(e.code, "bad-config");
    assert.match(e.message, pattern);
    return true;
  });
}

// --- config -----------------------------------------------------------------

Deno.test("config: defaults are filled in", () => {
  const c = resolveRelayConfig({ host: "Relay.Example.com", listen: [{ port: 2855, tls: false }] });
  assert.equal(c.host, "Relay.Example.com");
  assert.equal(c.realm, "Relay.Example.com");
  assert.deepEqual(c.listen, [{ hostname: "0.0.0.0", port: 2855, tls: false }]);
  assert.deepEqual(c.algorithms, ["SHA-256", "MD5"]);
  assert.deepEqual(c.expires, { default: 1800, min: 60, max: 86400 });
  assert.deepEqual(c.limits, DEFAULT_RELAY_LIMITS);
  assert.equal(c.limits.transactionTimeoutMs, 30_000); // RFC 4976 §6.4.1
  assert.equal(c.limits.probationMs, 30_000); // §6.1
  assert.equal(c.allowInsecure, false);
  assert.equal(c.nextnonce, true);
  assert.equal(c.tls, undefined);
});

const PLAIN = { listen: [{ port: 1, tls: false }] };

Deno.test("config: wrong settings are named", () => {
  configError({ host: "relay.example.com" }, /^relay configuration: tls is required/);
  configError(
    { host: "192.0.2.1", listen: [{ port: 1, tls: false }] },
    /host must be a host name, not an IP/,
  );
  configError(
    { ...PLAIN, host: "relay.example.com", limits: { maxConections: 1 } },
    /limits\.maxConections is not a known/,
  );
  configError(
    { ...PLAIN, host: "relay.example.com", limits: { segmentSize: 10 } },
    /limits\.segmentSize must be an integer from 512/,
  );
  configError(
    { ...PLAIN, host: "relay.example.com", algorithms: ["MD5-sess"] },
    /algorithms\[0\] must be "SHA-256" or "MD5"/,
  );
  configError(
    {
      host: "relay.example.com",
      users: { a: { ha1: { MD5: "abc" } } },
      listen: [{ port: 1, tls: false }],
    },
    /users\.a\.ha1\.MD5 must be 32 hex digits/,
  );
  configError(
    { ...PLAIN, host: "relay.example.com", users: { a: {} } },
    /users\.a needs a password or at least one HA1/,
  );
  configError(
    { ...PLAIN, host: "relay.example.com", expires: { min: 100, max: 50 } },
    /expires\.max must be an integer from 100/,
  );
  configError([], /must be an object/);
});

Deno.test("config: user HA1 from a password or precomputed, only in the relay's realm", () => {
  const md5 = digestHa1("MD5", "bob", "relay.example.com", "pw");
  const c = resolveRelayConfig({
    host: "relay.example.com",
    listen: [{ port: 1, tls: false }],
    users: { alice: { password: "secret" }, bob: { ha1: { MD5: md5.toUpperCase() } } },
  });
  assert.equal(
    relayUserHa1(c, "alice", "relay.example.com", "SHA-256"),
    digestHa1("SHA-256", "alice", "relay.example.com", "secret"),
  );
  assert.equal(relayUserHa1(c, "bob", "relay.example.com", "MD5"), md5);
  assert.equal(relayUserHa1(c, "bob", "relay.example.com", "SHA-256"), undefined);
  assert.equal(relayUserHa1(c, "alice", "other.example.com", "MD5"), undefined);
  assert.equal(relayUserHa1(c, "nobody", "relay.example.com", "MD5"), undefined);
  assert.equal(relayUserHa1(c, "constructor", "relay.example.com", "MD5"), undefined);
});

Deno.test("config: loaded from JSON, TLS paths relative to the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/relay.json`,
      JSON.stringify({
        host: "relay.example.com",
        tls: { certFile: "cert.pem", keyFile: "/etc/relay/key.pem" },
        users: { alice: { password: "secret" } },
      }),
    );
    const c = await loadRelayConfig(`${dir}/relay.json`);
    assert.equal(c.tls!.certFile, `${dir}/cert.pem`);
    assert.equal(c.tls!.keyFile, "/etc/relay/key.pem");
    await Deno.writeTextFile(`${dir}/bad.json`, '{ "host": "x", }');
    await assert.rejects(loadRelayConfig(`${dir}/bad.json`), (e: unknown) => {
      assert.ok(e instanceof MsrpSyntaxError);
      assert.equal(e.code, "bad-config-json");
      assert.equal(e.offset, 15);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- registrations -----------------------------------------------------------

function table(now: { t: number }, opts: { max?: number; perBinding?: number } = {}) {
  return new RegistrationTable({
    now: () => now.t,
    maxRegistrations: opts.max,
    maxPerBinding: opts.perBinding,
  });
}

const build = (sid: string) =>
  MsrpUri.from({ scheme: "msrps", host: "relay.example.com", port: 2855, sessionId: sid });
const conn = (id: number): RegistrationBinding => ({ kind: "connection", connectionId: id });

Deno.test("registrations: random session ids, Use-Path in To-Path order", () => {
  const now = { t: 1000 };
  const t = table(now);
  const via = path("msrps://b2.example.com:1/x;tcp msrps://b1.example.com:1/y;tcp");
  const reg = t.issue({ uri: build, username: "alice", binding: conn(7), via, expiresSec: 60 });
  assert.match(reg.sessionId, /^[A-Za-z0-9]{22}$/);
  assert.equal(reg.uri.toString(), `msrps://relay.example.com:2855/${reg.sessionId};tcp`);
  assert.deepEqual(reg.usePath.map(String), [
    "msrps://b1.example.com:1/y;tcp",
    "msrps://b2.example.com:1/x;tcp",
    reg.uri.toString(),
  ]);
  assert.equal(reg.expiresAt, 61_000);
  assert.ok(reg.boundTo(7, undefined));
  assert.ok(!reg.boundTo(8, undefined));
  const ids = new Set(Array.from({ length: 2000 }, newRelaySessionId));
  assert.equal(ids.size, 2000);
});

Deno.test("registrations: expiry, refresh, sweep and removal by connection", () => {
  const now = { t: 0 };
  const t = table(now);
  const a = t.issue({ uri: build, username: "a", binding: conn(1), via: [], expiresSec: 10 });
  const b = t.issue({ uri: build, username: "b", binding: conn(2), via: [], expiresSec: 10 });
  const c = t.issue({ uri: build, username: "c", binding: conn(1), via: [], expiresSec: 100 });
  now.t = 9_999;
  assert.equal(t.get(a.sessionId), a);
  t.refresh(b, 20);
  now.t = 10_000;
  assert.equal(t.get(a.sessionId), undefined); // expired: gone for good
  assert.equal(t.size, 2);
  assert.equal(t.get(b.sessionId), b);
  now.t = 30_000;
  assert.deepEqual(t.sweep().map((r) => r.username), ["b"]);
  assert.deepEqual(t.removeConnection(1).map((r) => r.username), ["c"]);
  assert.equal(t.size, 0);
  assert.equal(t.remove(c.sessionId), false);
});

Deno.test("registrations: limits in all and per binding", () => {
  const now = { t: 0 };
  const t = table(now, { max: 3, perBinding: 2 });
  t.issue({ uri: build, username: "a", binding: conn(1), via: [], expiresSec: 10 });
  t.issue({ uri: build, username: "a", binding: conn(1), via: [], expiresSec: 10 });
  assert.throws(
    () => t.issue({ uri: build, username: "a", binding: conn(1), via: [], expiresSec: 10 }),
    (e: unknown) => e instanceof MsrpError && e.code === "registration-limit",
  );
  const relay: RegistrationBinding = { kind: "relay", host: "intra.example.com" };
  const r = t.issue({ uri: build, username: "a", binding: relay, via: [], expiresSec: 10 });
  assert.ok(r.boundTo(99, "intra.example.com"));
  assert.ok(!r.boundTo(99, undefined));
  assert.throws(
    () => t.issue({ uri: build, username: "a", binding: conn(2), via: [], expiresSec: 10 }),
    /the relay holds 3 registrations/,
  );
  now.t = 10_000; // all expired: room again
  t.issue({ uri: build, username: "a", binding: conn(1), via: [], expiresSec: 10 });
  assert.equal(t.countFor(conn(1)), 1);
});

// --- routing -----------------------------------------------------------------

const ID = { hosts: ["relay.example.com", "relay-alias.example.com"], ports: [2855, 2856] };

function routed(
  t: RegistrationTable,
  to: string,
  from: string,
  arrival: Partial<RouteInput["arrival"]> = {},
) {
  return routeRequest({
    toPath: path(to),
    fromPath: path(from),
    arrival: { connectionId: 1, peerHost: undefined, identifiedRelay: false, ...arrival },
    identity: ID,
    lookup: (sid) => t.get(sid),
  });
}

Deno.test("isRelayUri: host without case, port optional but ours when present", () => {
  assert.ok(isRelayUri(u("msrps://RELAY.example.com:2855/x;tcp"), ID));
  assert.ok(isRelayUri(u("msrps://alice@relay-alias.example.com;tcp"), ID));
  assert.ok(!isRelayUri(u("msrps://relay.example.com:9999/x;tcp"), ID));
  assert.ok(!isRelayUri(u("msrps://other.example.com:2855/x;tcp"), ID));
});

Deno.test("routeRequest: the decisions of RFC 4976 §6.2 and §6.4", () => {
  const now = { t: 0 };
  const t = table(now);
  const alice = t.issue({ uri: build, username: "a", binding: conn(1), via: [], expiresSec: 60 });
  const bob = t.issue({ uri: build, username: "b", binding: conn(2), via: [], expiresSec: 60 });
  const A = alice.uri.toString();
  const B = bob.uri.toString();
  const far = "msrp://far.example.com:7/f;tcp";
  const me = "msrp://alice.example.com:1/a;tcp";

  let d = routed(t, `msrps://other.example.com:2855/x;tcp ${far}`, me);
  assert.equal(d.kind, "not-addressed");
  d = routed(t, "msrps://relay.example.com;tcp", me);
  assert.equal(d.kind, "local");
  d = routed(t, `msrps://relay.example.com:2855;tcp ${far}`, me);
  assert.deepEqual([d.kind, (d as { status: number }).status], ["reject", 403]);
  d = routed(t, `msrps://relay.example.com:2855/unknown;tcp ${far}`, me);
  assert.deepEqual([d.kind, (d as { status: number }).status], ["reject", 481]);
  // From the client on its own connection, to anywhere.
  d = routed(t, `${A} ${far}`, me, { connectionId: 1 });
  assert.equal(d.kind, "from-client");
  if (d.kind === "from-client") {
    assert.deepEqual(d.toPath.map(String), [far]);
    assert.deepEqual(d.fromPath.map(String), [A, me]);
  }
  // A spoofed From-Path on the client's own connection.
  d = routed(t, `${A} ${far}`, `${far} ${me}`, { connectionId: 1 });
  assert.deepEqual([d.kind, (d as { status: number }).status], ["reject", 403]);
  // From anyone, to the client.
  d = routed(t, `${A} ${me}`, far, { connectionId: 5 });
  assert.equal(d.kind, "toward-client");
  // From someone else, to a third party: an open relay would do it.
  d = routed(t, `${A} ${far} ${me}`, far, { connectionId: 5 });
  assert.deepEqual([d.kind, (d as { status: number }).status], ["reject", 403]);
  // Alice to Bob, both clients of this relay: two of our URIs in a row.
  d = routed(t, `${A} ${B} ${far}`, me, { connectionId: 1 });
  assert.equal(d.kind, "toward-client");
  if (d.kind === "toward-client") {
    assert.equal(d.registration, bob);
    assert.equal(d.ourUri.toString(), A);
    assert.deepEqual(d.fromPath.map(String), [B, A, me]);
  }
  // Expired: 481.
  now.t = 60_000;
  d = routed(t, `${A} ${far}`, me, { connectionId: 1 });
  assert.deepEqual([d.kind, (d as { status: number }).status], ["reject", 481]);
});

Deno.test("routeRequest: clients behind another relay (via), and identified relays (§6.3)", () => {
  const t = table({ t: 0 });
  const UI = "msrps://intra.example.com:9000/in;tcp";
  const reg = t.issue({
    uri: build,
    username: "a",
    binding: { kind: "relay", host: "intra.example.com" },
    via: path(UI),
    expiresSec: 60,
  });
  const E = reg.uri.toString();
  const me = "msrp://alice.example.com:1/a;tcp";
  const peer = { connectionId: 9, peerHost: "intra.example.com", identifiedRelay: true };
  // From Alice through intra, on any connection authenticated as intra.
  let d = routed(t, `${E} msrp://bob.example.com:2/b;tcp`, `${UI} ${me}`, peer);
  assert.equal(d.kind, "from-client");
  // Towards Alice: the rest of the path must go back through intra.
  d = routed(t, `${E} ${UI} ${me}`, "msrp://bob.example.com:2/b;tcp", { connectionId: 4 });
  assert.equal(d.kind, "toward-client");
  d = routed(t, `${E} ${me}`, "msrp://bob.example.com:2/b;tcp", { connectionId: 4 });
  assert.equal(d.kind, "reject");
  // An identified relay must name itself first in From-Path.
  d = routed(
    t,
    `${E} msrp://bob.example.com:2/b;tcp`,
    `msrps://evil.example.com:1/e;tcp ${me}`,
    peer,
  );
  assert.deepEqual([d.kind, (d as { status: number }).status], ["reject", 403]);
});

// --- frames the relay makes --------------------------------------------------

Deno.test("relayResponse: to the previous hop for SEND, along the path otherwise (RFC 4975 §7.2)", () => {
  const fromPath = path(
    "msrps://a.example.org:9000/kjfjan;tcp msrps://alice.example.org:7965/bar;tcp",
  );
  const ourUri = u("msrps://b.example.net:9000/aeiug;tcp");
  assert.equal(
    dec(encodeFrame(relayResponse({
      tid: "juh76",
      method: "SEND",
      status: 200,
      fromPath,
      ourUri,
      headers: [["Message-ID", "87652"]],
    }))),
    "MSRP juh76 200 OK\r\nTo-Path: msrps://a.example.org:9000/kjfjan;tcp\r\n" +
      "From-Path: msrps://b.example.net:9000/aeiug;tcp\r\nMessage-ID: 87652\r\n-------juh76$\r\n",
  );
  assert.equal(
    dec(
      encodeFrame(relayResponse({ tid: "m2nbvw", method: "AUTH", status: 403, fromPath, ourUri })),
    ),
    "MSRP m2nbvw 403 Forbidden\r\nTo-Path: msrps://a.example.org:9000/kjfjan;tcp " +
      "msrps://alice.example.org:7965/bar;tcp\r\nFrom-Path: msrps://b.example.net:9000/aeiug;tcp\r\n" +
      "-------m2nbvw$\r\n",
  );
});

Deno.test("relayFailureReport and reportedRange (RFC 4975 §7.1.2, §7.1.4)", () => {
  const report = relayFailureReport({
    tid: "fail0001",
    toPath: path("msrps://alice.example.org:7965/bar;tcp"),
    ourUri: u("msrps://a.example.org:9000/kjfjan;tcp"),
    messageId: "87652",
    byteRange: reportedRange({ start: 1, end: "*", total: 39 }, 0, 39),
    status: 408,
  });
  assert.equal(
    dec(encodeFrame(report)),
    "MSRP fail0001 REPORT\r\nTo-Path: msrps://alice.example.org:7965/bar;tcp\r\n" +
      "From-Path: msrps://a.example.org:9000/kjfjan;tcp\r\nMessage-ID: 87652\r\n" +
      "Byte-Range: 1-39/39\r\nStatus: 000 408 Request Timeout\r\n-------fail0001$\r\n",
  );
  assert.deepEqual(reportedRange({ start: 101, end: "*", total: "*" }, 50, 10), {
    start: 151,
    end: 160,
    total: "*",
  });
  assert.deepEqual(reportedRange(undefined, 0, 5), { start: 1, end: 5, total: 5 });
  assert.deepEqual(reportedRange(undefined, 0, 0), { start: 1, end: 0, total: 0 });
});

Deno.test("who gets answers: responseOwed and failureReportOwed", () => {
  assert.deepEqual(
    (["yes", "partial", "no"] as const).map((fr) => [
      responseOwed("SEND", fr, 200),
      responseOwed("SEND", fr, 403),
      failureReportOwed(fr, false),
      failureReportOwed(fr, true),
    ]),
    [[true, true, true, true], [false, true, true, false], [false, false, false, false]],
  );
  assert.equal(responseOwed("REPORT", "yes", 403), false);
  assert.equal(responseOwed("AUTH", "yes", 200), true);
});

Deno.test("the relay and the endpoints answer by one table: a non-SEND is answered unless Failure-Report is no", () => {
  // RFC 4975 §7.1.4's `partial` row is about SEND; the relay used to apply it
  // to AUTH too and withhold the 200 an endpoint would send.
  for (const method of ["AUTH", "NICKNAME"]) {
    assert.equal(responseOwed(method, "partial", 200), true, method);
    assert.equal(responseOwed(method, "no", 403), false, method);
  }
});

Deno.test("forwardedHeaders: new paths and Byte-Range, everything else as received", () => {
  const h = new HeaderList([
    ["To-Path", "msrps://a.example.org:9000/x;tcp msrps://bob.example.net:8145/foo;tcp"],
    ["From-Path", "msrps://alice.example.org:7965/bar;tcp"],
    ["Success-Report", "yes"],
    ["Byte-Range", "1-100/100"],
    ["X-Custom", "kept"],
    ["Content-Type", "text/plain"],
  ]);
  const out = forwardedHeaders(
    h,
    path("msrps://bob.example.net:8145/foo;tcp"),
    path("msrps://a.example.org:9000/x;tcp msrps://alice.example.org:7965/bar;tcp"),
    { start: 1, end: "*", total: 100 },
  );
  assert.deepEqual([...out], [
    ["To-Path", "msrps://bob.example.net:8145/foo;tcp"],
    ["From-Path", "msrps://a.example.org:9000/x;tcp msrps://alice.example.org:7965/bar;tcp"],
    ["Success-Report", "yes"],
    ["Byte-Range", "1-*/100"],
    ["X-Custom", "kept"],
    ["Content-Type", "text/plain"],
  ]);
  assert.equal(h.get("Byte-Range"), "1-100/100"); // the original is untouched
});
