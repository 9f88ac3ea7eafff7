/**
 * `msrp relay`: an MSRP relay on real sockets (RFC 4976).
 *
 * Clients AUTH to the relay with HTTP Digest (RFC 4976 §5.1, §9.1) over TLS
 * (§9.2) and get a Use-Path; messages then travel through it hop by hop
 * (§6.4). The settings are those of `lib/relay/config.ts`, read from a JSON
 * file with `--config` and overridden by flags. The relay's own URIs
 * (`msrps://host:port;tcp`, §4.2: a host name and an explicit port) are
 * printed one per listener; the relay runs until SIGINT or SIGTERM.
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import { loadRelayConfig, type RelayConfig, resolveRelayConfig } from "../relay/config.ts";
import type { RelayLogger } from "../relay/relay.ts";
import { serveRelay } from "../relay/server.ts";
import { MsrpUri } from "../wire/uri.ts";
import {
  type CliIo,
  EXIT_OK,
  ioReason,
  parseCommandArgs,
  parsePort,
  str,
  strs,
  UsageError,
  waitForSignal,
} from "./common.ts";
import { RELAY_HELP } from "./help.ts";

/** The flags of `msrp relay`. */
export const RELAY_FLAGS = {
  config: { type: "string" },
  host: { type: "string" },
  bind: { type: "string" },
  port: { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  user: { type: "string", multiple: true },
  insecure: { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Parses `--user name:password` values into the `users` setting.
 *
 * @param specs the flag values
 * @throws {UsageError} for a value without a name or without `:`
 */
export function parseUsers(specs: readonly string[]): Record<string, { password: string }> {
  const users: Record<string, { password: string }> = {};
  for (const spec of specs) {
    const colon = spec.indexOf(":");
    if (colon <= 0) {
      throw new UsageError(`--user must be name:password, not ${JSON.stringify(spec)}`);
    }
    users[spec.slice(0, colon)] = { password: spec.slice(colon + 1) };
  }
  return users;
}

/**
 * The relay configuration from `--config` and the flags, flags winning.
 * `--port`, `--bind` and `--insecure` replace the file's listeners with one.
 *
 * @param values parsed flags
 * @throws {UsageError} for contradictory flags; {@linkcode MsrpError}
 *   `bad-config` naming a wrong setting
 */
export async function relayConfigFrom(values: Record<string, unknown>): Promise<RelayConfig> {
  const configPath = str(values, "config");
  const cert = str(values, "tls-cert");
  const key = str(values, "tls-key");
  const insecure = values.insecure === true;
  const portText = str(values, "port");
  const bind = str(values, "bind");
  const host = str(values, "host");
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  if (insecure && cert !== undefined) {
    throw new UsageError("--insecure listens on plain TCP: leave out --tls-cert and --tls-key");
  }
  let base: Record<string, unknown> = {};
  if (configPath !== undefined) {
    try {
      base = { ...await loadRelayConfig(configPath) };
    } catch (e) {
      if (e instanceof MsrpError) throw e;
      throw new UsageError(`cannot read --config ${configPath}: ${ioReason(e)}`);
    }
  }
  const input: Record<string, unknown> = { ...base };
  if (host !== undefined) {
    if (base.realm === undefined || base.realm === base.host) input.realm = host;
    input.host = host;
  } else if (base.host === undefined) input.host = "localhost";
  const tlsListen = !insecure;
  if (cert !== undefined && key !== undefined) {
    for (const [flag, file] of [["--tls-cert", cert], ["--tls-key", key]]) {
      const info = await Deno.stat(file).catch((e) => e as Error);
      if (info instanceof Error) {
        throw new UsageError(`cannot read ${flag} ${file}: ${ioReason(info)}`);
      }
    }
    input.tls = { certFile: cert, keyFile: key };
  }
  const baseListen = base.listen as RelayConfig["listen"] | undefined;
  if (configPath === undefined || portText !== undefined || bind !== undefined || insecure) {
    input.listen = [{
      hostname: bind ?? baseListen?.[0]?.hostname ?? "0.0.0.0",
      port: portText !== undefined ? parsePort(portText, "--port") : baseListen?.[0]?.port ?? 2855,
      tls: tlsListen,
    }];
  }
  if (insecure) input.allowInsecure = true;
  if (tlsListen && input.tls === undefined && configPath === undefined) {
    throw new UsageError(
      "a relay listens with TLS (RFC 4976 §9.2): give --tls-cert and --tls-key, " +
        "or --insecure for plain TCP (testing only)",
    );
  }
  input.users = {
    ...(base.users as Record<string, unknown> ?? {}),
    ...parseUsers(strs(values, "user")),
  };
  return resolveRelayConfig(input);
}

/**
 * The URIs of a running relay's listeners (RFC 4976 §4.2).
 *
 * @param config the configuration the relay runs with (ports filled in)
 */
export function relayUris(config: RelayConfig): MsrpUri[] {
  return config.listen.map((l) =>
    MsrpUri.from({
      scheme: l.tls ? "msrps" : "msrp",
      host: config.host,
      port: l.advertisePort ?? l.port,
      transport: "tcp",
    })
  );
}

/**
 * Runs `msrp relay`.
 *
 * @param args the arguments after `relay`
 * @param io standard streams and signals
 * @returns the exit code
 */
export async function relayCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, RELAY_FLAGS);
  if (values.help === true) {
    io.out(RELAY_HELP);
    return EXIT_OK;
  }
  const config = await relayConfigFrom(values);
  const verbose = values.verbose === true;
  const logger: RelayLogger = (e) => {
    if (!verbose && e.level !== "warn" && e.level !== "error") return;
    const conn = e.connection === undefined ? "" : ` conn=${e.connection}`;
    io.err(`msrp relay: ${e.level} ${e.event}${conn}: ${e.message}\n`);
  };
  const { signal, dispose } = waitForSignal(io);
  try {
    const server = await serveRelay(config, { logger });
    for (const uri of relayUris(server.relay.config)) io.out(`${uri}\n`);
    if (Object.keys(config.users).length === 0) {
      io.err("msrp relay: no users configured (--user name:password): every AUTH will fail\n");
    }
    io.err("msrp relay: running (Ctrl-C to stop)\n");
    const name = await signal;
    io.err(`msrp relay: ${name}: stopping\n`);
    await server.close();
    return EXIT_OK;
  } finally {
    dispose();
  }
}
