// The relay as an MSRP WebSocket Server (RFC 7977): WebSocket listeners,
// Digest AUTH over them, forwarding between WebSocket and TCP/TLS clients,
// re-chunking to fit one chunk per WebSocket message (§5.1), the Origin
// allow-list and the subprotocol check (§4.1, §7), configuration and flags.

import assert from "node:assert/strict";
import { MsrpEndpoint, type MsrpSession } from "../../mod.ts";
import { relayConfigFrom, relayUris } from "../../lib/cli/relay.ts";
import { MsrpError } from "../../lib/errors.ts";
import { resolveRelayConfig, serveRelay } from "../../lib/relay/mod.ts";
import { relayOriginAllowed } from "../../lib/relay/config.ts";
import type { MsrpTransport } from "../../lib/transport/types.ts";
import { connectWebSocket } from "../../lib/transport/websocket.ts";
import { FrameWriter } from "../../lib/wire/encoder.ts";
import type { MsrpRequest } from "../../lib/wire/frame.ts";
import { randomBytes } from "../_util.ts";
import {
  ack,
  authenticate,
  collectLog,
  enc,
  memoryRelay,
  Peer,
  request,
  settle,
} from "./relay_harness.ts";

const CERTS = new URL("../fixtures/certs/", import.meta.url);
const read = (name: string) => Deno.readTextFileSync(new URL(name, CERTS));
const CA = read("ca.pem");
const USERS = { alice: { password: "alice-secret" }, bob: { password: "bob-secret" } };
/** The From-Path of RFC 7977 §8.1: a browser names itself with a random `.invalid` host. */
const BROWSER = "msrps://df7jal23ls0d.invalid:2855/98cjs;ws";

/**
 * A relay on loopback with a WSS listener (first, so that the relay must
 * skip it when it names itself in Use-Path) and a TLS listener (second).
 */
async function wsRelay(input: Record<string, unknown> = {}) {
  const config = resolveRelayConfig({
    host: "localhost",
    listen: [
      { hostname: "127.0.0.1", port: 0, tls: true, websocket: true },
      { hostname: "127.0.0.1", port: 0, tls: true },
    ],
    tls: {
      certFile: new URL("server.pem", CERTS).pathname,
      keyFile: new URL("server.key", CERTS).pathname,
    },
    users: USERS,
    ...input,
  });
  const { events: log, logger } = collectLog();
  const server = await serveRelay(config, { logger });
  const wsPort = server.listeners[0].addr!.port;
  const tlsPort = server.listeners[1].addr!.port;
  return {
    server,
    log,
    tlsPort,
    wsPort,
    tcpUri: `msrps://localhost:${tlsPort};tcp`,
    wsUri: `msrps://localhost:${wsPort};ws`,
  };
}

/** A transport that records the length of every message it reads. */
function recording(t: MsrpTransport, sizes: number[]): MsrpTransport {
  const readable = t.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        sizes.push(chunk.length);
        c.enqueue(chunk);
      },
    }),
  );
  return {
    readable,
    writable: t.writable,
    kind: t.kind,
    secure: t.secure,
    frameAligned: t.frameAligned,
    remoteAddr: t.remoteAddr,
    close: () => t.close(),
  };
}

async function negotiate(
  ea: MsrpEndpoint,
  a: MsrpSession,
  eb: MsrpEndpoint,
  b: MsrpSession,
): Promise<void> {
  const answer = await eb.answer(b, ea.offer(a));
  await ea.completeOffer(a, answer);
  await b.ready;
}

Deno.test("RFC 7977: a WebSocket client AUTHs, talks with a TLS client through the relay both ways; long TCP chunks are re-chunked to fit one message", async () => {
  const MAX = 32 * 1024;
  const { server, tlsPort, tcpUri, wsUri } = await wsRelay({
    websocket: { maxMessageSize: MAX },
  });
  const sizes: number[] = [];
  const alice = await MsrpEndpoint.start({
    host: "df7jal23ls0d.invalid", // RFC 7977 Appendix A
    webSocket: true,
    relays: [{ uri: wsUri, username: "alice", password: "alice-secret" }],
    connect: async (uri) => {
      assert.equal(uri.transport, "ws");
      return recording(
        await connectWebSocket(`wss://localhost:${uri.port}/`, { caCerts: [CA] }),
        sizes,
      );
    },
  });
  const bob = await MsrpEndpoint.start({
    relays: [{ uri: tcpUri, username: "bob", password: "bob-secret" }],
    caCerts: [CA],
    // Long chunks towards the relay: it must split them for the WebSocket side.
    session: { chunking: { maxChunkSize: 1 << 20 } },
  });
  try {
    // RFC 7977 §8.1: the Use-Path names the relay's TCP/TLS listener, even over WSS.
    assert.equal(alice.usePath.length, 1);
    assert.match(
      alice.usePath[0].toString(),
      new RegExp(`^msrps://localhost:${tlsPort}/\\w+;tcp$`),
    );
    const a = alice.createSession();
    const b = bob.createSession();
    assert.match(a.localUri.toString(), /^msrps:\/\/df7jal23ls0d\.invalid:9\/\w+;ws$/);
    await negotiate(alice, a, bob, b);

    const [sent, got] = await Promise.all([
      a.send("Hi Bob, from a browser", { successReport: true }),
      b.nextMessage().then((m) => m!.text()),
    ]);
    assert.equal(sent.confirmedBy, "report");
    assert.equal(got, "Hi Bob, from a browser");
    const [back, reply] = await Promise.all([
      b.send("Hi Alice, from TLS", { successReport: true }),
      a.nextMessage().then((m) => m!.text()),
    ]);
    assert.equal(back.confirmedBy, "report");
    assert.equal(reply, "Hi Alice, from TLS");

    // TCP → WebSocket: one 300 000-byte chunk from Bob arrives in chunks that
    // each fit one WebSocket message of at most MAX bytes (RFC 7977 §5.1).
    const file = randomBytes(300_000);
    sizes.length = 0;
    const [fileSent, fileGot] = await Promise.all([
      b.send(file, { successReport: true, contentType: "application/octet-stream" }),
      a.nextMessage().then((m) => m!.bytes()),
    ]);
    assert.equal(fileSent.bytesConfirmed, file.length);
    assert.deepEqual(fileGot, file);
    assert.ok(sizes.length >= Math.ceil(file.length / MAX), `${sizes.length} messages`);
    assert.ok(Math.max(...sizes) <= MAX, `largest message ${Math.max(...sizes)} > ${MAX}`);

    // WebSocket → TCP: a file the other way.
    const up = randomBytes(200_000);
    const [upSent, upGot] = await Promise.all([
      a.send(up, { successReport: true, contentType: "application/octet-stream" }),
      b.nextMessage().then((m) => m!.bytes()),
    ]);
    assert.equal(upSent.bytesConfirmed, up.length);
    assert.deepEqual(upGot, up);
  } finally {
    await alice.close();
    await bob.close();
    await server.close();
  }
});

Deno.test("RFC 7977 §8.3: two WebSocket clients of one relay talk through it (its URI twice in To-Path)", async () => {
  const { server, wsUri } = await wsRelay();
  const browser = (name: string, host: string) =>
    MsrpEndpoint.start({
      host,
      webSocket: true,
      relays: [{ uri: wsUri, username: name, password: `${name}-secret` }],
      caCerts: [CA],
    });
  const alice = await browser("alice", "df7jal23ls0d.invalid");
  const carol = await browser("bob", "jk9awp14vj8x.invalid");
  try {
    const a = alice.createSession();
    const c = carol.createSession();
    await negotiate(alice, a, carol, c);
    assert.equal(a.remotePath.length, 3, "To-Path: the relay, the relay again, Carol");
    const [sent, got] = await Promise.all([
      a.send("Hi Carol", { successReport: true }),
      c.nextMessage().then((m) => m!.text()),
    ]);
    assert.equal(sent.confirmedBy, "report");
    assert.equal(got, "Hi Carol");
    const file = randomBytes(100_000);
    const [back, bytes] = await Promise.all([
      c.send(file, { successReport: true, contentType: "application/octet-stream" }),
      a.nextMessage().then((m) => m!.bytes()),
    ]);
    assert.equal(back.bytesConfirmed, file.length);
    assert.deepEqual(bytes, file);
  } finally {
    await alice.close();
    await carol.close();
    await server.close();
  }
});

Deno.test("RFC 7977 §8.1.2: AUTH over WSS with a .invalid ;ws From-Path: 401, then 200 with a ;tcp Use-Path", async () => {
  const { server, tlsPort, wsPort } = await wsRelay();
  const peer = new Peer(await connectWebSocket(`wss://localhost:${wsPort}/`, { caCerts: [CA] }));
  try {
    const relayUri = `msrps://alice@localhost:${wsPort};ws`;
    const { challenge, ok, usePath } = await authenticate(peer, {
      to: relayUri,
      from: BROWSER,
      password: "alice-secret",
    });
    assert.deepEqual(
      [...challenge.headers].map(([n]) => n),
      ["To-Path", "From-Path", "WWW-Authenticate", "WWW-Authenticate"],
    );
    assert.equal(challenge.headers.get("To-Path"), BROWSER);
    assert.equal(challenge.headers.get("From-Path"), relayUri);
    assert.deepEqual(
      [...ok.headers].map(([n]) => n),
      ["To-Path", "From-Path", "Use-Path", "Authentication-Info", "Expires"],
    );
    assert.equal(ok.headers.get("To-Path"), BROWSER);
    assert.equal(ok.headers.get("From-Path"), relayUri);
    assert.match(usePath, new RegExp(`^msrps://localhost:${tlsPort}/\\w{22};tcp$`));
    // A SEND to an unknown peer through the relay: the relay answers, over WSS.
    await peer.send(request("SEND", "6aef", [
      ["To-Path", `${usePath} msrps://localhost:1/nobody;tcp`],
      ["From-Path", BROWSER],
      ["Message-ID", "87652"],
      ["Byte-Range", "1-2/2"],
      ["Content-Type", "text/plain"],
    ], "hi"));
    const res = await peer.response();
    assert.equal(res.tid, "6aef");
    assert.equal(res.headers.get("To-Path"), BROWSER);
  } finally {
    peer.close();
    await server.close();
  }
});

Deno.test("a whole SEND too long for one WebSocket message is split into chunks that fit (RFC 7977 §5.1)", async () => {
  const MAX = 32 * 1024;
  const RELAY = "msrps://relay.example.com:9000;tcp";
  const { relay, connect } = memoryRelay({
    host: "relay.example.com",
    websocket: { maxMessageSize: MAX },
    limits: { segmentSize: 1 << 20 }, // the 40 000-byte chunk arrives whole
  });
  const alice = connect(true);
  const bob = connect(true, { frameAligned: true });
  const ALICE = "msrps://alice.example.com:1/a;tcp";
  const ua = (await authenticate(alice, { to: RELAY, from: ALICE })).usePath;
  const ub = (await authenticate(bob, {
    to: RELAY,
    from: BROWSER,
    username: "bob",
    password: "hunter2",
  })).usePath;
  const body = randomBytes(40_000);
  await alice.send(request("SEND", "big1", [
    ["To-Path", `${ua} ${ub} ${BROWSER}`],
    ["From-Path", ALICE],
    ["Message-ID", "m40k"],
    ["Byte-Range", "1-40000/40000"],
    ["Content-Type", "application/octet-stream"],
  ], body));
  const res = await alice.response();
  assert.equal(`${res.tid} ${res.status}`, "big1 200");
  const got: MsrpRequest[] = [];
  for (;;) {
    const f = await bob.request();
    got.push(f);
    await ack(bob, f);
    if (f.flag !== "+") break;
  }
  assert.equal(alice.queued, 0, "one response to the sender, whatever the re-chunking");
  const first = got[0].body!.length;
  assert.deepEqual(
    got.map((f) => `${f.headers.get("Byte-Range")} ${f.flag}`),
    [`1-${first}/40000 +`, `${first + 1}-40000/40000 $`],
  );
  for (const f of got) {
    assert.ok(wireLength(f) <= MAX, `a chunk of ${wireLength(f)} bytes`);
    assert.equal(f.headers.get("To-Path"), BROWSER);
    assert.equal(f.headers.get("From-Path"), `${ub} ${ua} ${ALICE}`);
    assert.equal(f.headers.get("Message-ID"), "m40k");
  }
  assert.deepEqual(new Uint8Array([...got[0].body!, ...got[1].body!]), body);
  await relay.close();
});

Deno.test("chunks for a WebSocket client take turns, as on TCP (RFC 4975 §7.1.1 fairness)", async () => {
  const RELAY = "msrps://relay.example.com:9000;tcp";
  const { relay, connect } = memoryRelay({
    host: "relay.example.com",
    websocket: { maxMessageSize: 32 * 1024 },
    limits: { segmentSize: 4096, fairnessQuantum: 2048 },
  });
  const senders = [
    { peer: connect(true), from: "msrps://alice.example.com:1/a;tcp", user: "alice", pw: "secret" },
    { peer: connect(true), from: "msrps://carol.example.com:1/c;tcp", user: "carol", pw: "pw3" },
  ];
  const bob = connect(true, { frameAligned: true });
  const ub = (await authenticate(bob, {
    to: RELAY,
    from: BROWSER,
    username: "bob",
    password: "hunter2",
  })).usePath;
  const bodies = [randomBytes(65536), randomBytes(65536)];
  bob.pause(); // the writer to Bob blocks: both chunks queue up at the relay
  for (const [i, s] of senders.entries()) {
    const u = (await authenticate(s.peer, {
      to: RELAY,
      from: s.from,
      username: s.user,
      password: s.pw,
    })).usePath;
    const headers: [string, string][] = [
      ["To-Path", `${u} ${ub} ${BROWSER}`],
      ["From-Path", s.from],
      ["Message-ID", `msg${i}`],
      ["Byte-Range", "1-65536/65536"],
      ["Content-Type", "application/octet-stream"],
    ];
    for (let k = 0; k < 4; k++) {
      await s.peer.send({
        ...request("SEND", `turn${i}`, headers, bodies[i].subarray(k * 16384, (k + 1) * 16384)),
        offset: k * 16384,
        flag: k === 3 ? "$" : undefined,
      });
    }
    assert.equal((await s.peer.response()).status, 200); // the relay has the whole chunk
  }
  bob.resume();
  const order: string[] = [];
  const got = [[], []] as Uint8Array[][];
  const done = new Set<string>();
  while (done.size < 2) {
    const f = await bob.request();
    const id = f.headers.get("Message-ID")!;
    order.push(id);
    got[Number(id.slice(3))].push(f.body!);
    if (f.flag === "$") done.add(id);
    assert.ok(wireLength(f) <= 32 * 1024);
    await ack(bob, f);
  }
  // Neither chunk waits for the other to be written in full.
  assert.ok(order.indexOf("msg1") < order.lastIndexOf("msg0"), order.join(" "));
  assert.ok(order.indexOf("msg0") < order.lastIndexOf("msg1"), order.join(" "));
  for (const i of [0, 1]) {
    assert.deepEqual(new Uint8Array(got[i].flatMap((b) => [...b])), bodies[i]);
  }
  await relay.close();
});

/** The length of a frame on the wire. */
function wireLength(f: MsrpRequest): number {
  let n = 0;
  new FrameWriter().write(f, (b) => n += b.length);
  return n;
}

/** Sends a WebSocket handshake over TLS and returns the response head (RFC 6455 §4.1). */
async function handshake(port: number, extra: string): Promise<string> {
  const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [CA] });
  try {
    await conn.write(enc(
      `GET / HTTP/1.1\r\nHost: localhost:${port}\r\nUpgrade: websocket\r\n` +
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        `Sec-WebSocket-Version: 13\r\n${extra}\r\n`,
    ));
    let head = "";
    const buf = new Uint8Array(4096);
    const decoder = new TextDecoder();
    while (!head.includes("\r\n\r\n") && head.length < 16_384) {
      const n = await conn.read(buf);
      if (n === null) break;
      head += decoder.decode(buf.subarray(0, n));
    }
    return head.slice(0, head.indexOf("\r\n\r\n") + 2);
  } finally {
    conn.close();
  }
}

Deno.test("WebSocket handshakes: a disallowed Origin gets 403, no msrp subprotocol 400; allowed and Origin-less ones 101 with msrp", async () => {
  const { server, wsPort, log } = await wsRelay({
    websocket: { origins: ["https://chat.example.com"] },
  });
  try {
    const evil = await handshake(
      wsPort,
      "Origin: https://evil.example\r\nSec-WebSocket-Protocol: msrp\r\n",
    );
    assert.match(evil, /^HTTP\/1\.1 403 /);
    assert.ok(log.some((e) => e.event === "ws-origin-refused" && /evil\.example/.test(e.message)));
    const sip = await handshake(
      wsPort,
      "Origin: https://chat.example.com\r\nSec-WebSocket-Protocol: sip\r\n",
    );
    assert.match(sip, /^HTTP\/1\.1 400 /);
    const page = await handshake(
      wsPort,
      "Origin: https://Chat.Example.com\r\nSec-WebSocket-Protocol: sip, msrp\r\n",
    );
    assert.match(page, /^HTTP\/1\.1 101 /);
    assert.match(page, /\r\nsec-websocket-protocol: msrp\r\n/i);
    // RFC 7977 §7: CORS for a handshake with an Origin.
    assert.match(page, /\r\naccess-control-allow-origin: https:\/\/Chat\.Example\.com\r\n/i);
    const program = await handshake(wsPort, "Sec-WebSocket-Protocol: msrp\r\n");
    assert.match(program, /^HTTP\/1\.1 101 /);
    // The WebSocket client refuses a server that does not select msrp (§4.1).
    await assert.rejects(
      connectWebSocket(`wss://localhost:${wsPort}/`, { caCerts: [CA], protocols: ["sip"] }),
      (e: unknown) => e instanceof MsrpError,
    );
  } finally {
    await server.close();
  }
});

Deno.test("config: WebSocket listeners need TLS unless allowInsecure; origins are checked and normalized", () => {
  const base = { host: "relay.example.com", tls: { certFile: "c.pem", keyFile: "k.pem" } };
  assert.throws(
    () => resolveRelayConfig({ ...base, listen: [{ port: 0, tls: false, websocket: true }] }),
    (e: unknown) =>
      e instanceof MsrpError && e.code === "bad-config" && /listen\[0\]/.test(e.message) &&
      /RFC 7977 §5\.1/.test(e.message),
  );
  const plain = resolveRelayConfig({
    ...base,
    allowInsecure: true,
    listen: [{ port: 0, tls: false, websocket: true }],
  });
  assert.deepEqual(plain.listen, [{ hostname: "0.0.0.0", port: 0, tls: false, websocket: true }]);
  assert.deepEqual(plain.websocket, { origins: undefined, maxMessageSize: 256 * 1024 });
  const c = resolveRelayConfig({
    ...base,
    websocket: { origins: ["HTTPS://Chat.Example.com/", "http://localhost:8080"] },
  });
  assert.deepEqual(c.websocket.origins, ["https://chat.example.com", "http://localhost:8080"]);
  assert.equal(relayOriginAllowed(c.websocket, "https://chat.example.COM"), true);
  assert.equal(relayOriginAllowed(c.websocket, "https://chat.example.com:8443"), false);
  assert.equal(relayOriginAllowed(c.websocket, "null"), false);
  assert.equal(relayOriginAllowed(c.websocket, null), true, "no Origin: not a browser page");
  assert.equal(relayOriginAllowed(plain.websocket, "https://any.example"), true);
  for (
    const [websocket, what] of [
      [{ origins: ["chat.example.com"] }, /websocket\.origins\[0\]/],
      [{ origins: ["https://chat.example.com/page"] }, /origin only/],
      [{ origins: ["ftp://chat.example.com"] }, /http: or https:/],
      [{ maxMessageSize: 1000 }, /websocket\.maxMessageSize/],
      [{ origin: [] }, /websocket\.origin /],
    ] as const
  ) {
    assert.throws(
      () => resolveRelayConfig({ ...base, websocket }),
      (e: unknown) => e instanceof MsrpError && e.code === "bad-config" && what.test(e.message),
    );
  }
});

Deno.test("msrp relay --ws PORT --origin URL: a WebSocket listener beside the TCP one", async () => {
  const insecure = await relayConfigFrom({
    insecure: true,
    port: "0",
    ws: "0",
    origin: ["https://chat.example.com"],
  });
  assert.deepEqual(insecure.listen, [
    { hostname: "0.0.0.0", port: 0, tls: false },
    { hostname: "0.0.0.0", port: 0, tls: false, websocket: true },
  ]);
  assert.deepEqual(insecure.websocket.origins, ["https://chat.example.com"]);
  const ports = [2855, 8443];
  assert.deepEqual(
    relayUris({ ...insecure, listen: insecure.listen.map((l, i) => ({ ...l, port: ports[i] })) })
      .map(String),
    ["msrp://localhost:2855;tcp", "msrp://localhost:8443;ws"],
  );
  const secure = await relayConfigFrom({
    "tls-cert": new URL("server.pem", CERTS).pathname,
    "tls-key": new URL("server.key", CERTS).pathname,
    bind: ["127.0.0.1"],
    ws: "443",
  });
  assert.deepEqual(secure.listen[1], {
    hostname: "127.0.0.1",
    port: 443,
    tls: true,
    websocket: true,
  });
  assert.equal(secure.websocket.origins, undefined);
  await assert.rejects(relayConfigFrom({ insecure: true, ws: "70000" }), /--ws must be a port/);
});

Deno.test("a whole SEND re-chunked for a WebSocket client that leaves while the relay waits for room gets its failure, not a bare 200 (RFC 4976 §6.4.1)", async () => {
  const RELAY = "msrps://relay.example.com:9000;tcp";
  const ALICE = "msrps://alice.example.com:1/a;tcp";
  const { relay, connect } = memoryRelay({
    host: "relay.example.com",
    websocket: { maxMessageSize: 32 * 1024 },
    limits: { segmentSize: 1 << 20, maxBufferedBytesPerConnection: 16 * 1024 },
  });
  const alice = connect(true);
  const bob = connect(true, { frameAligned: true });
  const ua = (await authenticate(alice, { to: RELAY, from: ALICE })).usePath;
  const ub = (await authenticate(bob, {
    to: RELAY,
    from: BROWSER,
    username: "bob",
    password: "hunter2",
  })).usePath;
  bob.pause(); // Bob's queue fills: the relay waits for room before taking more
  const ids = ["msgA", "msgB", "msgC"];
  // One after the other (a frame's parts must not interleave), not waiting
  // for the relay to take them: it stops reading Alice while Bob is full.
  let sent = Promise.resolve();
  ids.forEach((id, i) =>
    sent = sent.then(() =>
      alice.send(request("SEND", `tx${i}abc`, [
        ["To-Path", `${ua} ${ub} ${BROWSER}`],
        ["From-Path", ALICE],
        ["Message-ID", id],
        ["Byte-Range", "1-40000/40000"],
        ["Content-Type", "application/octet-stream"],
      ], randomBytes(40_000)))
    )
  );
  await settle(200);
  bob.close(); // Bob leaves with chunks still queued for him
  await sent;
  await settle(200);
  // Every message either failed at once (408 while waiting, 481 once Bob's
  // registration is gone) or got its 200 and then failure REPORTs: none is
  // acknowledged and then lost without a word.
  const failed = new Set<string>();
  const acked = new Map<string, string>(ids.map((id, i) => [`tx${i}abc`, id]));
  while (alice.queued > 0) {
    const f = (await alice.next())!;
    if (f.kind === "response" && f.status >= 400) failed.add(acked.get(f.tid)!);
    if (
      f.kind === "request" && f.method === "REPORT" && /^000 4\d\d\b/.test(f.headers.get("Status")!)
    ) {
      failed.add(f.headers.get("Message-ID")!);
    }
  }
  assert.deepEqual([...failed].sort(), ids);
  await relay.close();
});
