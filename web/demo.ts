/**
 * The web chat page on loopback, with no set-up: a relay (RFC 4976) with a
 * TLS listener for the CLI and a WSS listener (RFC 7977) that also serves
 * the page, and three users. It prints the page's address and the `msrp`
 * commands that talk to it, and runs until Ctrl-C.
 *
 *   deno task web-demo
 *   deno run --allow-net=127.0.0.1,localhost --allow-read=web,tests/fixtures/certs web/demo.ts
 *
 * `deno task web-demo` builds the browser bundle first (`deno task build`).
 * The relay's certificate is the test CA's (tests/fixtures/certs): the
 * browser warns about it once; accept it to go on.
 *
 * @module
 */

import { resolveRelayConfig, serveRelay } from "../lib/relay/mod.ts";

const web = new URL("./", import.meta.url).pathname;
const certs = new URL("../tests/fixtures/certs/", import.meta.url).pathname;
try {
  await Deno.stat(`${web}msrp.js`);
} catch {
  console.error("web/msrp.js is missing: run `deno task build` first (or `deno task web-demo`)");
  Deno.exit(1);
}

const users = { alice: "alice-secret", bob: "bob-secret", carol: "carol-secret" };
const relay = await serveRelay(
  resolveRelayConfig({
    host: "localhost",
    listen: [
      { hostname: "127.0.0.1", port: 0, tls: true },
      { hostname: "127.0.0.1", port: 0, tls: true, websocket: true },
    ],
    tls: { certFile: `${certs}server.pem`, keyFile: `${certs}server.key` },
    users: Object.fromEntries(Object.entries(users).map(([u, password]) => [u, { password }])),
  }),
  {
    webRoot: web,
    logger: (level, message) => {
      if (level === "warn" || level === "error") console.error(`relay: ${message}`);
    },
  },
);
const [tcp, wss] = relay.listeners;
const relayUri = `msrps://localhost:${tcp.addr!.port};tcp`;
const ca = "tests/fixtures/certs/ca.pem";
const cli = (user: keyof typeof users) =>
  `deno task msrp COMMAND --relay '${relayUri}' --user ${user} --password ${
    users[user]
  } --ca ${ca}`;

console.log(`msrp web demo: a relay serving the web chat page (RFC 4976, RFC 7977)

Open the page (the certificate is the test CA's: accept the browser's warning):

  https://localhost:${wss.addr!.port}/?user=alice      password alice-secret
  https://localhost:${wss.addr!.port}/?user=bob        password bob-secret

Two pages: sign in as alice in one and bob in another (a private window),
copy alice's address into bob's "Peer's address", and chat.

From a terminal (in this directory), as carol:

  # send to a page: paste the page's address after --to
  ${cli("carol").replace("COMMAND", "send")} --to '<the page's address>' hello

  # receive from a page: this prints an address to paste into the page
  ${cli("carol").replace("COMMAND", "listen")}

Ctrl-C stops the relay.`);

await new Promise<void>((resolve) => Deno.addSignalListener("SIGINT", () => resolve()));
await relay.close();
