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
  /**
   * Give memory back once the relay has been quiet (no bytes read, no
   * connection opened or closed) for `quietMs` (default
   * {@linkcode RELEASE_MEMORY_QUIET_MS}), once per quiet stretch and at most
   * once per {@linkcode RELEASE_MEMORY_MIN_GAP_MS}: V8's
   * "last resort" garbage collection (full collections, then the pages V8
   * pools for reuse handed back), then glibc's `malloc_trim(0)` through FFI
   * where the process may use it (`--allow-ffi`). After a burst or a load
   * V8 and the C allocator otherwise keep the memory they grew into (issue
   * 10: 1000 idle clients gone, 124 MB stayed of a 58 MB start; with this,
   * 70 MB). The collection pauses the relay for tens to a few hundred ms,
   * when it has nothing to do. `gc()` is the global one with
   * `--v8-flags=--expose-gc`, else it is found by setting that flag at run
   * time (`node:v8`, for the whole process) and reading it from a new
   * `node:vm` context. What is not available is skipped, said once in a
   * `debug` log event; each release is logged at `debug` (`memory-release`)
   * with its cost and RSS before and after. `true` for the default period.
   * Default: off (`msrp relay` turns it on).
   */
  releaseMemory?: boolean | { quietMs?: number };
}

/** How long a relay is quiet before it gives memory back (`ServeRelayOptions.releaseMemory`), ms. */
export const RELEASE_MEMORY_QUIET_MS = 5_000;

/**
 * The least time between two releases of memory, ms: after one, the next
 * traffic runs slower for a moment (1 pair of clients: 50-60 µs of CPU per
 * message for the first 2000 instead of 15-25), so that traffic in bursts a
 * little more than the quiet period apart does not pay it after each.
 */
export const RELEASE_MEMORY_MIN_GAP_MS = 60_000;

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
  const release = options.releaseMemory;
  const quiet = release === undefined || release === false ? undefined : {
    afterMs: (release === true ? undefined : release.quietMs) ?? RELEASE_MEMORY_QUIET_MS,
    minGapMs: RELEASE_MEMORY_MIN_GAP_MS,
    onQuiet: memoryReleaser(logger),
  };
  return await startRelay(config, {
    clock: options.clock,
    logger,
    trace: options.trace,
    quiet,
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

/** V8's `gc()` (its options: `type`, `execution`, `flavor`). */
type Gc = (options?: { type: string; execution: string; flavor: string }) => void;

/** The options of `gc()` that ask V8 for all it can give back. */
const LAST_RESORT_GC = { type: "major", execution: "sync", flavor: "last-resort" };

/**
 * The V8 `gc()` function: the global one when the process runs with
 * `--v8-flags=--expose-gc`, else the one V8 installs in contexts made after
 * `--expose-gc` is set at run time (`node:v8`, `node:vm`). Undefined when
 * neither works.
 */
async function findGc(): Promise<Gc | undefined> {
  const global = (globalThis as { gc?: Gc }).gc;
  if (typeof global === "function") return global;
  try {
    const { setFlagsFromString } = await import("node:v8");
    const { runInNewContext } = await import("node:vm");
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("typeof gc === 'function' ? gc : undefined") as Gc | undefined;
    return typeof gc === "function" ? gc : undefined;
  } catch {
    return undefined;
  }
}

/** glibc's `malloc_trim(0)` through FFI, or undefined (no FFI permission, no glibc). */
function openMallocTrim(): { trim?: () => Promise<unknown>; why?: string } {
  if (Deno.build.os !== "linux") return { why: "not Linux" };
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return { why: "no FFI permission (--allow-ffi)" };
  }
  try {
    // Kept open for the life of the process: one handle, used now and then.
    const libc = Deno.dlopen("libc.so.6", {
      // On a thread of its own: the trim walks every arena (tens of ms, over
      // 100 on a busy machine), which the relay's thread need not wait for.
      malloc_trim: { parameters: ["usize"], result: "i32", nonblocking: true },
    });
    return { trim: () => libc.symbols.malloc_trim(0n) };
  } catch (e) {
    return { why: `no glibc (${e instanceof Error ? e.message : String(e)})` };
  }
}

/**
 * What a quiet relay runs to give memory back: a full V8 garbage collection,
 * then glibc's `malloc_trim(0)`; each step is skipped where it is not
 * available (said once, at `debug`). Each release is logged at `debug` with
 * the resident set size before and after and the time it took.
 */
function memoryReleaser(logger: Logger): () => void {
  let gc: Gc | undefined;
  let trim: (() => Promise<unknown>) | undefined;
  let ready = false;
  const log = (message: string) => {
    try {
      logger("debug", message, { event: "memory-release" });
    } catch {
      // A failing logger must not take the relay down.
    }
  };
  const release = async (): Promise<void> => {
    const before = Deno.memoryUsage().rss;
    const t0 = performance.now();
    // V8's "last resort" collection: full collections until nothing more is
    // freed, then the pages it pools for reuse go back to the system too (a
    // plain gc() keeps them: RSS stays where the load left it).
    gc?.(LAST_RESORT_GC);
    const t1 = performance.now();
    await trim?.();
    const t2 = performance.now();
    const after = Deno.memoryUsage().rss;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    log(
      `quiet: memory released (gc ${(t1 - t0).toFixed(1)} ms, malloc_trim ${
        (t2 - t1).toFixed(1)
      } ms on another thread), RSS ${mb(before)} -> ${mb(after)} MB`,
    );
  };
  let running = false;
  return () => {
    if (running) return; // one release at a time
    running = true;
    (async () => {
      if (!ready) {
        gc = await findGc();
        if (gc === undefined) log("cannot release V8 memory: no gc() (--v8-flags=--expose-gc)");
        const found = openMallocTrim();
        trim = found.trim;
        if (trim === undefined) log(`cannot release C allocator memory: ${found.why}`);
        ready = true;
      }
      await release();
    })().catch((e) => log(`memory release failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => running = false);
  };
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
