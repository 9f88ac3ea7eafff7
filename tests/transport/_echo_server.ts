// A small echo server for the descriptor-exhaustion test (issue 8, defect 1):
// `deno run -A _echo_server.ts tcp|tls|ws` listens on a free loopback port,
// prints `port N` on stdout, echoes every connection, and logs accept
// failures (and the end of its accept loop) on stderr.

import { consoleLogger } from "../../lib/log.ts";
import { listenTcp, type MsrpListener } from "../../lib/transport/tcp.ts";
import { listenTls } from "../../lib/transport/tls.ts";
import { listenWebSocket } from "../../lib/transport/websocket_server.ts";

const kind = Deno.args[0] ?? "tcp";
const certs = new URL("../fixtures/certs/", import.meta.url);
const logger = consoleLogger(true);
const listener: MsrpListener = kind === "tls"
  ? await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(new URL("server.pem", certs)),
    key: await Deno.readTextFile(new URL("server.key", certs)),
    requestClientCertificate: Deno.args[1] === "mutual",
    logger,
  })
  : kind === "ws"
  ? listenWebSocket({ hostname: "127.0.0.1", port: 0, insecure: true, logger })
  : listenTcp({ hostname: "127.0.0.1", port: 0, logger });
// Like msrp relay and msrp listen, stop on SIGTERM. (Registering a signal
// handler at start also sets up Deno's signal machinery while descriptors
// are available: Deno 2.9 panics when it first does so out of descriptors.)
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
console.log(`port ${listener.addr.port}`);
try {
  for await (const t of listener) t.readable.pipeTo(t.writable).catch(() => {});
  console.error("listener ended");
} catch (e) {
  console.error(`listener ended: ${e}`);
}
