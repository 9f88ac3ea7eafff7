import assert from "node:assert/strict";
import { MsrpError } from "../../lib/errors.ts";
import { connectWebSocket, type WebSocketTransport } from "../../lib/transport/websocket.ts";
import {
  acceptWebSocket,
  isMsrpWebSocketRequest,
  listenWebSocket,
} from "../../lib/transport/websocket_server.ts";
import type { MsrpTransport } from "../../lib/transport/types.ts";

const CERTS = new URL("../fixtures/certs/", import.meta.url);
const pem = (name: string): string => Deno.readTextFileSync(new URL(name, CERTS));
const CA = pem("ca.pem");
const SERVER = { cert: pem("server.pem"), key: pem("server.key") };

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Three MSRP frames, the last with a body that is not valid UTF-8. */
const FRAMES: Uint8Array[] = [
  enc(
    "MSRP a786hjs2 SEND\r\nTo-Path: msrps://a.example.com:2855/jui787s2f;tcp\r\n" +
      "From-Path: msrps://df7jal23ls0d.invalid:2855/98cjs;ws\r\nMessage-ID: 87652\r\n" +
      "Byte-Range: 1-5/5\r\nContent-Type: text/plain\r\n\r\nHello\r\n-------a786hjs2$\r\n",
  ),
  enc(
    "MSRP a786hjs2 200 OK\r\nTo-Path: msrps://df7jal23ls0d.invalid:2855/98cjs;ws\r\n" +
      "From-Path: msrps://a.example.com:2855/jui787s2f;tcp\r\n-------a786hjs2$\r\n",
  ),
  new Uint8Array([
    ...enc("MSRP b1 SEND\r\nContent-Type: application/octet-stream\r\n\r\n"),
    0xff,
    0x00,
    0xfe,
    0x80,
    ...enc("\r\n-------b1$\r\n"),
  ]),
];

async function rejectsWith(p: Promise<unknown>, code: string, text?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MsrpError, `expected an MsrpError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (text !== undefined) assert.ok(e.message.includes(text), e.message);
    return true;
  });
}

/** Reads `n` chunks. */
async function readChunks(t: MsrpTransport, n: number): Promise<Uint8Array[]> {
  const reader = t.readable.getReader();
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const r = await reader.read();
    assert.equal(r.done, false);
    out.push(r.value!);
  }
  reader.releaseLock();
  return out;
}

async function writeChunks(t: MsrpTransport, chunks: readonly Uint8Array[]): Promise<void> {
  const writer = t.writable.getWriter();
  for (const c of chunks) await writer.write(c);
  writer.releaseLock();
}

/** Closes the client, waits until the server sees the end, then stops the server. */
async function finish(
  client: MsrpTransport,
  server: MsrpTransport,
  listener: { close(): void; finished: Promise<void> },
): Promise<void> {
  const reader = server.readable.getReader();
  client.close();
  assert.equal((await reader.read()).done, true);
  server.close();
  listener.close();
  await listener.finished;
}

Deno.test("ws: MSRP frames go both ways, one WebSocket message per frame (RFC 7977 §5.1)", async () => {
  const listener = listenWebSocket({ hostname: "127.0.0.1", port: 0, insecure: true });
  const accepted = listener.accept();
  const client = await connectWebSocket(`ws://127.0.0.1:${listener.addr.port}/`, {
    insecure: true,
  });
  const server = await accepted as WebSocketTransport;
  assert.equal(client.kind, "ws");
  assert.equal(client.secure, false);
  assert.equal(client.frameAligned, true);
  assert.equal(client.protocol, "msrp");
  assert.equal(server.kind, "ws");
  assert.equal(server.frameAligned, true);
  assert.equal(server.protocol, "msrp");
  assert.equal(server.remoteAddr?.hostname, "127.0.0.1");
  // Each written frame is read as one chunk on the other side, byte for byte.
  await writeChunks(client, FRAMES);
  assert.deepEqual(await readChunks(server, FRAMES.length), FRAMES);
  await writeChunks(server, [...FRAMES].reverse());
  assert.deepEqual(await readChunks(client, FRAMES.length), [...FRAMES].reverse());
  await finish(client, server, listener);
});

Deno.test("ws: the wire carries exactly one binary message per written chunk", async () => {
  const received: (string | ArrayBuffer)[] = [];
  const allIn = Promise.withResolvers<void>();
  const closed = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req, { protocol: "msrp" });
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) => {
      received.push(e.data);
      if (received.length === FRAMES.length) {
        // RFC 7977 §4.2: text frames are MSRP too; answer with one.
        socket.send("MSRP x 200 OK\r\n-------x$\r\n");
        allIn.resolve();
      }
    };
    socket.onclose = () => closed.resolve();
    return response;
  });
  const client = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/`, {
    insecure: true,
  });
  await writeChunks(client, [...FRAMES, new Uint8Array(0)]); // an empty chunk sends nothing
  await allIn.promise;
  assert.equal(received.length, FRAMES.length);
  for (let i = 0; i < FRAMES.length; i++) {
    assert.ok(received[i] instanceof ArrayBuffer, "sent as a binary message");
    assert.deepEqual(new Uint8Array(received[i] as ArrayBuffer), FRAMES[i]);
  }
  const [text] = await readChunks(client, 1);
  assert.deepEqual(text, enc("MSRP x 200 OK\r\n-------x$\r\n"));
  client.close();
  await closed.promise;
  await server.shutdown();
});

Deno.test("ws: wss with a trusted CA (RFC 7977 §5.1, §9)", async () => {
  const listener = listenWebSocket({ hostname: "127.0.0.1", port: 0, path: "/msrp", ...SERVER });
  const accepted = listener.accept();
  const client = await connectWebSocket(`wss://localhost:${listener.addr.port}/msrp`, {
    caCerts: [CA],
  });
  const server = await accepted;
  assert.equal(client.kind, "wss");
  assert.equal(client.secure, true);
  assert.equal(server.kind, "wss");
  assert.equal(server.secure, true);
  await writeChunks(client, FRAMES.slice(0, 1));
  assert.deepEqual(await readChunks(server, 1), FRAMES.slice(0, 1));
  await finish(client, server, listener);
});

Deno.test("ws: wss with an untrusted certificate is tls-untrusted", async () => {
  const listener = listenWebSocket({ hostname: "127.0.0.1", port: 0, ...SERVER });
  await rejectsWith(
    connectWebSocket(`wss://localhost:${listener.addr.port}/`),
    "tls-untrusted",
    "its issuer is unknown",
  );
  listener.close();
  await listener.finished;
});

Deno.test("ws: a plain ws: URL is refused unless insecure is asked for", async () => {
  await rejectsWith(
    connectWebSocket("ws://127.0.0.1:9/"),
    "insecure-websocket",
    "MUST use wss: (RFC 7977 §5.1)",
  );
  await rejectsWith(connectWebSocket("http://127.0.0.1:9/"), "bad-url");
  await rejectsWith(connectWebSocket("not a url"), "bad-url");
  assert.throws(
    () => listenWebSocket({ hostname: "127.0.0.1", port: 0 }),
    (e: unknown) => e instanceof MsrpError && e.code === "insecure-websocket",
  );
});

Deno.test("ws: a server that does not select msrp is ws-subprotocol (RFC 7977 §4.1)", async () => {
  const closed = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req); // no protocol selected
    socket.onclose = () => closed.resolve();
    return response;
  });
  await rejectsWith(
    connectWebSocket(`ws://127.0.0.1:${server.addr.port}/`, { insecure: true }),
    "ws-subprotocol",
    `did not select the "msrp" WebSocket subprotocol`,
  );
  await closed.promise;
  await server.shutdown();
});

Deno.test("ws: the listener answers requests that are not msrp upgrades", async () => {
  const listener = listenWebSocket({
    hostname: "127.0.0.1",
    port: 0,
    path: "/msrp",
    insecure: true,
  });
  const base = `http://127.0.0.1:${listener.addr.port}`;
  const plain = await fetch(`${base}/msrp`);
  assert.equal(plain.status, 426);
  await plain.body?.cancel();
  const other = await fetch(`${base}/elsewhere`);
  assert.equal(other.status, 404);
  await other.body?.cancel();
  await rejectsWith(
    connectWebSocket(`ws://127.0.0.1:${listener.addr.port}/msrp`, {
      insecure: true,
      protocols: ["sip"],
    }),
    "connect-failed",
  );
  listener.close();
  await listener.finished;
  await rejectsWith(listener.accept(), "listener-closed");
});

Deno.test("ws: a refused connection is connect-failed naming the URL", async () => {
  // The WebSocket API does not say why the TCP connect failed.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await rejectsWith(
    connectWebSocket(`ws://127.0.0.1:${port}/`, { insecure: true }),
    "connect-failed",
    `cannot open a WebSocket to ws://127.0.0.1:${port}/: the TCP connection failed`,
  );
});

Deno.test("ws: when the server closes, the client's reader ends and its writes fail", async () => {
  const listener = listenWebSocket({ hostname: "127.0.0.1", port: 0, insecure: true });
  const accepted = listener.accept();
  const client = await connectWebSocket(`ws://127.0.0.1:${listener.addr.port}/`, {
    insecure: true,
  });
  const server = await accepted;
  await writeChunks(server, FRAMES.slice(0, 2));
  const serverWriter = server.writable.getWriter();
  await serverWriter.close(); // the closing handshake
  const reader = client.readable.getReader();
  assert.deepEqual((await reader.read()).value, FRAMES[0]);
  assert.deepEqual((await reader.read()).value, FRAMES[1]);
  assert.equal((await reader.read()).done, true);
  await rejectsWith(client.writable.getWriter().write(FRAMES[0]), "connection-reset");
  client.close();
  server.close();
  listener.close();
  await listener.finished;
});

Deno.test("ws: close() ends our waiting reader at once", async () => {
  const listener = listenWebSocket({ hostname: "127.0.0.1", port: 0, insecure: true });
  const accepted = listener.accept();
  const client = await connectWebSocket(`ws://127.0.0.1:${listener.addr.port}/`, {
    insecure: true,
  });
  const server = await accepted;
  const reader = client.readable.getReader();
  const pending = reader.read();
  const serverReader = server.readable.getReader();
  client.close();
  assert.deepEqual(await pending, { done: true, value: undefined });
  await rejectsWith(client.writable.getWriter().write(FRAMES[0]), "connection-closed");
  assert.equal((await serverReader.read()).done, true);
  server.close();
  listener.close();
  await listener.finished;
});

Deno.test("ws: a reader that falls too far behind gets ws-overflow", async () => {
  const listener = listenWebSocket({
    hostname: "127.0.0.1",
    port: 0,
    insecure: true,
    maxBufferedBytes: 1000,
  });
  const accepted = listener.accept();
  const client = await connectWebSocket(`ws://127.0.0.1:${listener.addr.port}/`, {
    insecure: true,
  });
  const server = await accepted;
  // The server reads nothing: the second message overflows its queue, and it
  // closes the connection, which the client sees as the end.
  await writeChunks(client, [new Uint8Array(600), new Uint8Array(600)]);
  await client.readable.pipeTo(new WritableStream());
  await rejectsWith(server.readable.getReader().read(), "ws-overflow", "more than 1000 bytes");
  client.close();
  server.close();
  listener.close();
  await listener.finished;
});

Deno.test("acceptWebSocket: refuses requests without the msrp subprotocol", () => {
  const plain = new Request("http://example.com/");
  assert.equal(isMsrpWebSocketRequest(plain), false);
  assert.throws(
    () => acceptWebSocket(plain),
    (e: unknown) => e instanceof MsrpError && e.code === "ws-not-upgrade",
  );
  const sip = new Request("http://example.com/", {
    headers: { upgrade: "websocket", "sec-websocket-protocol": "sip, xmpp" },
  });
  assert.equal(isMsrpWebSocketRequest(sip), false);
  assert.throws(
    () => acceptWebSocket(sip),
    (e: unknown) => e instanceof MsrpError && e.code === "ws-subprotocol",
  );
  const msrp = new Request("http://example.com/", {
    headers: { upgrade: "WebSocket", "sec-websocket-protocol": "sip, msrp" },
  });
  assert.equal(isMsrpWebSocketRequest(msrp), true);
});

Deno.test("ws: the 101 reply selects msrp and answers an Origin with CORS (§4.1, §7)", async () => {
  const listener = listenWebSocket({ hostname: "127.0.0.1", port: 0, insecure: true });
  const accepted = listener.accept();
  // The handshake of RFC 7977 §4.1, sent by hand to see the reply's headers.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  await conn.write(enc(
    "GET / HTTP/1.1\r\nHost: a.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: https://www.example.com\r\n" +
      "Sec-WebSocket-Protocol: msrp\r\nSec-WebSocket-Version: 13\r\n\r\n",
  ));
  let head = "";
  const buf = new Uint8Array(4096);
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    head += new TextDecoder().decode(buf.subarray(0, n));
  }
  const lines = head.split("\r\n").map((l) => l.toLowerCase());
  assert.equal(lines[0], "http/1.1 101 switching protocols");
  assert.ok(lines.includes("sec-websocket-protocol: msrp"), head);
  assert.ok(lines.includes("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="), head);
  assert.ok(lines.includes("access-control-allow-origin: https://www.example.com"), head);
  const server = await accepted;
  const serverReader = server.readable.getReader();
  conn.close();
  await serverReader.read().catch(() => {}); // the abrupt end, clean or not
  server.close();
  listener.close();
  await listener.finished;
});

Deno.test("ws: frames of random sizes up to 1 MiB arrive whole and in order", async () => {
  let seed = 99;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 4294967296;
  };
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    const size = i === 0 ? 1024 * 1024 : 1 + ((rand() * 70000) | 0);
    frames.push(Uint8Array.from({ length: size }, () => (rand() * 256) | 0));
  }
  const listener = listenWebSocket({ hostname: "127.0.0.1", port: 0, insecure: true });
  const accepted = listener.accept();
  const client = await connectWebSocket(`ws://127.0.0.1:${listener.addr.port}/`, {
    insecure: true,
    sendHighWaterMark: 64 * 1024,
  });
  const server = await accepted;
  const [, got] = await Promise.all([
    writeChunks(client, frames),
    readChunks(server, frames.length),
  ]);
  assert.equal(got.length, frames.length);
  for (let i = 0; i < frames.length; i++) assert.deepEqual(got[i], frames[i], `frame ${i}`);
  await finish(client, server, listener);
});

Deno.test("ws: upgraded connections nobody accepts are capped at 128; the next handshake gets 503", async () => {
  const listener = listenWebSocket({ hostname: "127.0.0.1", port: 0, insecure: true });
  const url = `ws://127.0.0.1:${listener.addr.port}/`;
  const clients: MsrpTransport[] = [];
  for (let i = 0; i < 128; i++) clients.push(await connectWebSocket(url, { insecure: true }));
  // The 129th, by hand: its status line.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  await conn.write(
    new TextEncoder().encode(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Protocol: msrp\r\n\r\n`,
    ),
  );
  const buf = new Uint8Array(256);
  const n = await conn.read(buf);
  assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 503 /);
  conn.close();
  // Taking one makes room again.
  const taken = await listener.accept();
  clients.push(await connectWebSocket(url, { insecure: true }));
  taken.close();
  for (const c of clients) c.close();
  listener.close();
});
