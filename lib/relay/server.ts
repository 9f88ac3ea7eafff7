/**
 * The relay on real sockets (RFC 4976 §6.1, §8, §9.2; RFC 7977 §2.1, §4.1, §7).
 *
 * {@linkcode MsrpRelay} is handed connections and knows nothing of sockets;
 * this module gives it TCP and TLS listeners as configured, and WebSocket
 * listeners (`websocket: true`) that make it an MSRP WebSocket Server for
 * browsers (RFC 7977: subprotocol `msrp`, `wss:` unless `allowInsecure`,
 * handshakes from pages whose Origin is not allowed refused), opens next-hop
 * connections (TLS for `msrps:` URIs, port 2855 when a URI has none,
 * §8), and names a peer relay by the DNS name in its client certificate when
 * that certificate chains up to the configured CA (mutual TLS, §6.1).
 *
 * ```ts
 * import { loadRelayConfig, serveRelay } from "@msrp/msrp/relay";
 * const server = await serveRelay(await loadRelayConfig("relay.json"));
 * ```
 *
 * @module
 */

import { X509Certificate } from "node:crypto";
import { consoleLogger, type Logger } from "../log.ts";
import type { Clock } from "../session/clock.ts";
import { connectTcp, listenTcp } from "../transport/tcp.ts";
import { connectTls, listenTls, type TlsTransport } from "../transport/tls.ts";
import type { MsrpTransport } from "../transport/types.ts";
import { listenWebSocket } from "../transport/websocket_server.ts";
import { serveWebFiles } from "./web_files.ts";
import type { MsrpUri } from "../wire/uri.ts";
import { type RelayConfig, relayOriginAllowed } from "./config.ts";
import { type RelayServer, startRelay } from "./relay.ts";

/** The MSRP port registered with IANA (RFC 4975 §15.4), used when a URI names none. */
export const MSRP_PORT = 2855;

/** Options of {@linkcode serveRelay}. */
export interface ServeRelayOptions {
  /** Extra roots (PEM) trusted when connecting to next-hop relays. */
  caCerts?: string[];
  /** Where log events go (see `MsrpRelayOptions.logger`). Default: warnings and errors to stderr. */
  logger?: Logger;
  /** Where a trace of every frame in and out goes (see `MsrpRelayOptions.trace`). Default: none. */
  trace?: Logger;
  /** Where time comes from (tests). */
  clock?: Clock;
  /**
   * A directory of static files (the web chat page, `web/`) served over
   * HTTP(S) on every WebSocket listener, so the page and the MSRP WebSocket
   * Server share one origin. Default: none (plain requests get 426).
   */
  webRoot?: string;
}

/**
 * The DNS names in a certificate's SubjectAltName.
 *
 * @param der the certificate, DER form
 */
export function certificateDnsNames(der: Uint8Array): string[] {
  const alt = new X509Certificate(der).subjectAltName ?? "";
  return alt.split(/,\s*/).filter((n) => n.startsWith("DNS:")).map((n) => n.slice(4).toLowerCase());
}

/**
 * Starts a relay on the configured addresses.
 *
 * @param config a checked configuration (see `resolveRelayConfig`, `loadRelayConfig`)
 * @param options trusted roots for next hops, logger, clock
 * @throws {MsrpError} `listen-failed` when an address cannot be bound
 *
 * @example Run a relay on the configured addresses
 * ```ts
 * import { resolveRelayConfig, serveRelay } from "@msrp/msrp/relay";
 *
 * const server = await serveRelay(resolveRelayConfig({
 *   host: "relay.example.com",
 *   tls: { certFile: "relay.pem", keyFile: "relay.key" },
 *   users: { alice: { password: "alice-secret" } },
 * }));
 * Deno.addSignalListener("SIGTERM", () => server.close());
 * ```
 */
export async function serveRelay(
  config: RelayConfig,
  options: ServeRelayOptions = {},
): Promise<RelayServer> {
  const tls = config.tls === undefined ? undefined : {
    cert: await Deno.readTextFile(config.tls.certFile),
    key: await Deno.readTextFile(config.tls.keyFile),
    ca: config.tls.caFile === undefined ? undefined : await Deno.readTextFile(config.tls.caFile),
  };
  const serveHttp = options.webRoot === undefined ? undefined : serveWebFiles(options.webRoot);
  const caCerts = [...(options.caCerts ?? []), ...(tls?.ca ? [tls.ca] : [])];
  const logger = options.logger ?? consoleLogger();
  const originAllowed = (origin: string | null): boolean => {
    if (relayOriginAllowed(config.websocket, origin)) return true;
    try {
      logger(
        "info",
        `WebSocket handshake from origin ${JSON.stringify(origin)} refused with 403`,
        { event: "ws-origin-refused" },
      );
    } catch {
      // A failing logger must not take the relay down.
    }
    return false;
  };
  // The listeners ride out failed accepts (out of descriptors, ...) with
  // back-off on the relay's clock, and say so in the relay's log.
  const services = { clock: options.clock, logger: listenerLogger(logger) };
  return await startRelay(config, {
    clock: options.clock,
    logger,
    trace: options.trace,
    listen: async (listen) => {
      if (listen.websocket === true) {
        if (listen.tls && tls === undefined) {
          throw new Error("a wss listener needs tls.certFile and tls.keyFile");
        }
        // RFC 7977 §5.1: wss; plain ws only when the configuration allows
        // insecure listeners (resolveRelayConfig checks that).
        return listenWebSocket({
          hostname: listen.hostname,
          port: listen.port,
          cert: listen.tls ? tls?.cert : undefined,
          key: listen.tls ? tls?.key : undefined,
          insecure: !listen.tls,
          allowOrigin: originAllowed,
          serveHttp,
          ...services,
        });
      }
      if (!listen.tls) {
        return listenTcp({ hostname: listen.hostname, port: listen.port, ...services });
      }
      if (tls === undefined) throw new Error("a TLS listener needs tls.certFile and tls.keyFile");
      // Ask peers for certificates only when there is a CA to check relays against.
      return await listenTls({
        ...services,
        hostname: listen.hostname,
        port: listen.port,
        cert: tls.cert,
        key: tls.key,
        requestClientCertificate: tls.ca !== undefined,
        caCerts: tls.ca === undefined ? undefined : [tls.ca],
      });
    },
    connect: (uri: MsrpUri): Promise<MsrpTransport> => {
      const address = { hostname: uri.host, port: uri.port ?? MSRP_PORT };
      if (!uri.secure) return connectTcp(address);
      // Relay to relay over TLS, presenting our certificate (RFC 4976 §9.2).
      return connectTls(address, {
        hostname: uri.host,
        caCerts: caCerts.length > 0 ? caCerts : undefined,
        cert: tls?.ca !== undefined ? tls.cert : undefined,
        key: tls?.ca !== undefined ? tls.key : undefined,
      });
    },
    identifyPeer: (transport: MsrpTransport): string | undefined => {
      const t = transport as Partial<TlsTransport>;
      if (t.peerAuthorized !== true || t.peerCertificate === undefined) return undefined;
      return certificateDnsNames(t.peerCertificate)[0];
    },
  });
}

/** The transport listeners' log events, named like the relay's (`listener-*`). */
function listenerLogger(logger: Logger): Logger {
  return (level, message, data) => {
    const event = message === "accept failed; retrying"
      ? "listener-accept-failed"
      : message === "accepting again"
      ? "listener-accepting"
      : "listener";
    // The details (which listener, the error, the pause) go into the message,
    // so that a one-line log (`msrp relay -v`) keeps them.
    const details = data === undefined ? "" : ` ${JSON.stringify(data)}`;
    logger(level, `${message}${details}`, { ...data, event });
  };
}
