// The Node transport (lib/transport/node.ts: node:net and node:tls) on
// loopback, run here through Deno's node: modules; under Node itself it is
// exercised by tests/portable (examples/node_send.ts against msrp listen).

import assert from "node:assert/strict";
import { MsrpError } from "../../lib/errors.ts";
import { connectNodeTcp, connectNodeTls, listenNodeTcp } from "../../lib/transport/node.ts";
import { listenTls } from "../../lib/transport/tls.ts";
import type { MsrpListener } from "../../lib/transport/address.ts";
import { concatBytes, randomBytes } from "../_util.ts";

const CERTS = new URL("../fixtures/certs/", import.meta.url);
const pem = (name: string): string => Deno.readTextFileSync(new URL(name, CERTS));

async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of r) parts.push(chunk);
  return concatBytes(parts);
}

/**
 * Echoes every accepted connection: what is read is written back, a FIN
 * answered by a FIN. Resolves to how each connection ended.
 */
async function echo(listener: MsrpListener): Promise<string[]> {
  const conns: Promise<string>[] = [];
  for await (const t of listener) {
    conns.push(
      t.readable.pipeTo(t.writable).then(() => "ok", (e) => (e as MsrpError).code ?? String(e)),
    );
  }
  return await Promise.all(conns);
}

Deno.test("node: 1 MiB of random bytes echo exactly over node:net, then both sides end", async () => {
  const listener = await listenNodeTcp({ hostname: "127.0.0.1", port: 0 });
  const server = echo(listener);
  const t = await connectNodeTcp(listener.addr);
  assert.equal(t.kind, "tcp");
  assert.equal(t.secure, false);
  assert.deepEqual(t.remoteAddr, listener.addr);
  const data = randomBytes(1 << 20);
  const [, back] = await Promise.all([
    (async () => {
      const w = t.writable.getWriter();
      for (let i = 0; i < data.length; i += 65536) await w.write(data.subarray(i, i + 65536));
      await w.close(); // FIN: the echo answers with its own once it has written everything
    })(),
    readAll(t.readable),
  ]);
  assert.deepEqual(back, data);
  listener.close();
  assert.deepEqual(await server, ["ok"]);
});

Deno.test("node: a refused connection is connect-refused naming host:port", async () => {
  const listener = await listenNodeTcp({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  await assert.rejects(connectNodeTcp({ hostname: "127.0.0.1", port }), (e) => {
    assert.ok(e instanceof MsrpError);
    assert.equal(e.code, "connect-refused");
    assert.ok(e.message.includes(`127.0.0.1:${port}`), e.message);
    return true;
  });
});

Deno.test("node: a closed listener's accept is listener-closed; a port in use is listen-failed", async () => {
  const listener = await listenNodeTcp({ hostname: "127.0.0.1", port: 0 });
  await assert.rejects(
    listenNodeTcp({ hostname: "127.0.0.1", port: listener.addr.port }),
    (e) => e instanceof MsrpError && e.code === "listen-failed",
  );
  const waiting = listener.accept();
  listener.close();
  await assert.rejects(waiting, (e) => e instanceof MsrpError && e.code === "listener-closed");
});

Deno.test("node: TLS to a server whose CA is given echoes; without it the certificate is tls-untrusted", async () => {
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: pem("server.pem"),
    key: pem("server.key"),
  });
  const server = echo(listener);
  const address = { hostname: "localhost", port: listener.addr.port };
  const t = await connectNodeTls(address, { caCerts: [pem("ca.pem")] });
  assert.equal(t.kind, "tls");
  assert.equal(t.secure, true);
  const w = t.writable.getWriter();
  await w.write(new TextEncoder().encode("MSRP over node:tls"));
  await w.close();
  assert.equal(new TextDecoder().decode(await readAll(t.readable)), "MSRP over node:tls");
  await assert.rejects(connectNodeTls(address), (e) => {
    assert.ok(e instanceof MsrpError, String(e));
    assert.equal(e.code, "tls-untrusted", e.message);
    return true;
  });
  listener.close();
  // The second client gave up on the certificate during the handshake, which
  // the listener runs itself: it never became a connection.
  assert.deepEqual(await server, ["ok"]);
});
