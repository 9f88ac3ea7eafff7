// The relay serving the web chat page on its WebSocket listener (`webRoot`,
// `msrp relay --web DIR`): files under the directory only, MSRP WebSocket
// upgrades still reach the relay (RFC 7977 §4.1).

import assert from "node:assert/strict";
import { resolveRelayConfig } from "../../lib/relay/config.ts";
import { serveRelay } from "../../lib/relay/server.ts";
import { connectWebSocket } from "../../lib/transport/websocket.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

async function withWebRelay(fn: (base: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "msrp-webroot-" });
  await Deno.writeTextFile(`${dir}/index.html`, "<!doctype html><title>chat</title>\n");
  await Deno.writeTextFile(`${dir}/app.js`, "export {};\n");
  await Deno.writeTextFile(`${dir}/.secret`, "no\n");
  await Deno.mkdir(`${dir}/sub`);
  await Deno.writeTextFile(`${dir}/sub/index.html`, "sub\n");
  await Deno.writeTextFile(`${dir}.outside`, "outside\n");
  const server = await serveRelay(
    resolveRelayConfig({
      host: "localhost",
      listen: [{ hostname: "127.0.0.1", port: 0, tls: false, websocket: true }],
      allowInsecure: true,
      users: { alice: { password: "alice-secret" } },
    }),
    { logger: () => {}, webRoot: dir },
  );
  try {
    await fn(`http://127.0.0.1:${server.listeners[0].addr!.port}`);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(`${dir}.outside`);
  }
}

async function get(url: string, init?: RequestInit): Promise<[number, string, Headers]> {
  const r = await fetch(url, { redirect: "manual", ...init });
  return [r.status, await r.text(), r.headers];
}

Deno.test("relay webRoot: serves the page's files beside the MSRP WebSocket listener, nothing outside", async () => {
  await withWebRelay(async (base) => {
    const [status, body, headers] = await get(`${base}/`);
    assert.equal(status, 200);
    assert.equal(body, "<!doctype html><title>chat</title>\n");
    assert.equal(headers.get("content-type"), "text/html; charset=utf-8");
    const [s2, , h2] = await get(`${base}/app.js`);
    assert.equal(s2, 200);
    assert.equal(h2.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal((await get(`${base}/sub/`))[1], "sub\n");
    const [s3, , h3] = await get(`${base}/sub`);
    assert.equal(s3, 301);
    assert.equal(h3.get("location"), "/sub/");
    // Dot-files, "..", missing files and other methods.
    assert.equal((await get(`${base}/.secret`))[0], 404);
    assert.equal((await get(`${base}/%2e%2e/${base.length}`))[0], 404);
    assert.equal((await get(`${base}/..%2f.outside`))[0], 404);
    assert.equal((await get(`${base}/missing.js`))[0], 404);
    assert.equal((await get(`${base}/%E0%A4%A`))[0], 400);
    assert.equal((await get(`${base}/`, { method: "POST", body: "x" }))[0], 405);
    // An MSRP WebSocket still reaches the relay on the same port (RFC 7977 §4.1).
    const ws = await connectWebSocket(base.replace("http:", "ws:") + "/", { insecure: true });
    ws.close();
  });
});

Deno.test("msrp relay --web needs --ws and a directory with index.html", async () => {
  const run = async (args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "relay", "--insecure", "--port", "0", "--user", "a:b", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  };
  const web = new URL("../../web/", import.meta.url).pathname;
  const [noWs, noIndex] = await Promise.all([
    run(["--web", web]),
    run(["--ws", "0", "--web", new URL("../", import.meta.url).pathname]),
  ]);
  assert.equal(noWs.code, 2);
  assert.match(noWs.stderr, /--web needs --ws <port>/);
  assert.equal(noIndex.code, 2);
  assert.match(noIndex.stderr, /no index\.html there/);
});
