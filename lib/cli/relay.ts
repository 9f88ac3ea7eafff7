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
import {
  DEFAULT_RELAY_EXPIRES,
  loadRelayConfig,
  type RelayConfig,
  resolveRelayConfig,
} from "../relay/config.ts";
import type { RelayLogger } from "../relay/relay.ts";
import { serveRelay } from "../relay/server.ts";
import { MsrpUri } from "../wire/uri.ts";
import {
  type CliIo,
  EXIT_OK,
  ioReason,
  parseCommandArgs,
  parsePort,
  parseSeconds,
  str,
  strs,
  traceLogger,
  UsageError,
  waitForSignal,
} from "./common.ts";
import { RELAY_HELP } from "./help.ts";

/** The flags of `msrp relay`. */
export const RELAY_FLAGS = {
  config: { type: "string" },
  host: { type: "string" },
  bind: { type: "string", multiple: true },
  port: { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  user: { type: "string", multiple: true },
  insecure: { type: "boolean" },
  // The settings of lib/relay/config.ts that a test or a small deployment needs.
  realm: { type: "string" },
  alias: { type: "string", multiple: true },
  "advertise-port": { type: "string" },
  "tls-ca": { type: "string" },
  "trusted-relay": { type: "string", multiple: true },
  expires: { type: "string" },
  "min-expires": { type: "string" },
  "max-expires": { type: "string" },
  "max-connections": { type: "string" },
  "max-registrations": { type: "string" },
  limit: { type: "string", multiple: true },
  algorithm: { type: "string", multiple: true },
  "block-unknown-methods": { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  trace: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Parses `--limit name=value` values into `limits` settings (see
 * `RelayLimitsConfig` in `lib/relay/config.ts`; times are in milliseconds).
 * The names and ranges are checked with the rest of the configuration.
 *
 * @param specs the flag values
 * @throws {UsageError} for a value that is not `name=integer`
 */
export function parseLimits(specs: readonly string[]): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const spec of specs) {
    const m = /^([A-Za-z]+)=([0-9]{1,10})$/.exec(spec);
    if (m === null) {
      throw new UsageError(
        `--limit must be name=integer (e.g. idleMs=60000), not ${JSON.stringify(spec)}`,
      );
    }
    limits[m[1]] = Number(m[2]);
  }
  return limits;
}

/** A whole number from a flag; its range is checked with the configuration. */
function count(text: string, flag: string): number {
  if (!/^[0-9]{1,10}$/.test(text)) {
    throw new UsageError(`${flag} must be a whole number, not ${JSON.stringify(text)}`);
  }
  return Number(text);
}

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
 * `--port`, `--bind`, `--advertise-port` and `--insecure` replace the file's listeners
 * with one per `--bind` address; the Expires bounds and limits are merged key by key.
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
  const binds = strs(values, "bind");
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
  const advertise = str(values, "advertise-port");
  if (
    configPath === undefined || portText !== undefined || binds.length > 0 || insecure ||
    advertise !== undefined
  ) {
    const port = portText !== undefined
      ? parsePort(portText, "--port")
      : baseListen?.[0]?.port ?? 2855;
    // One listener per --bind address, all on the same port and kind.
    input.listen = (binds.length > 0 ? binds : [baseListen?.[0]?.hostname ?? "0.0.0.0"]).map((
      hostname,
    ) => ({
      hostname,
      port,
      tls: tlsListen,
      ...(advertise !== undefined
        ? { advertisePort: parsePort(advertise, "--advertise-port") }
        : {}),
    }));
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
  const realm = str(values, "realm");
  if (realm !== undefined) input.realm = realm;
  const aliases = strs(values, "alias");
  if (aliases.length > 0) input.aliases = aliases;
  const trusted = strs(values, "trusted-relay");
  if (trusted.length > 0) input.trustedRelays = trusted;
  const algorithms = strs(values, "algorithm");
  if (algorithms.length > 0) input.algorithms = algorithms;
  if (values["block-unknown-methods"] === true) input.blockUnknownMethods = true;
  const ca = str(values, "tls-ca");
  if (ca !== undefined) {
    if (input.tls === undefined) {
      throw new UsageError("--tls-ca goes with --tls-cert and --tls-key");
    }
    input.tls = { ...input.tls as Record<string, unknown>, caFile: ca };
  }
  input.expires = expiresFrom(values, base.expires as RelayConfig["expires"] | undefined);
  const limits: Record<string, number> = {
    ...(base.limits as Record<string, number> | undefined),
    ...parseLimits(strs(values, "limit")),
  };
  const maxConnections = str(values, "max-connections");
  if (maxConnections !== undefined) {
    limits.maxConnections = count(maxConnections, "--max-connections");
  }
  const maxRegistrations = str(values, "max-registrations");
  if (maxRegistrations !== undefined) {
    limits.maxRegistrations = count(maxRegistrations, "--max-registrations");
  }
  input.limits = limits;
  return resolveRelayConfig(input);
}

/**
 * The Expires bounds (RFC 4976 §6.3) from `--expires`, `--min-expires` and
 * `--max-expires` over those of the file: a bound the flags move past the
 * file's default (or the other bound) takes that one along, so that
 * `--max-expires 30` alone works.
 */
function expiresFrom(
  values: Record<string, unknown>,
  base: RelayConfig["expires"] | undefined,
): Record<string, number> {
  const flag = (name: string): number | undefined => {
    const text = str(values, name);
    return text === undefined ? undefined : parseSeconds(text, `--${name}`);
  };
  const dflt = flag("expires");
  const min = flag("min-expires");
  const max = flag("max-expires");
  const out: Record<string, number> = { ...base };
  if (min !== undefined) out.min = min;
  if (max !== undefined) out.max = max;
  if (dflt !== undefined) out.default = dflt;
  // Bounds given on the command line win over what they contradict in the file.
  if (min !== undefined && max === undefined && out.max !== undefined && out.max < min) {
    delete out.max;
  }
  if (max !== undefined && min === undefined && (out.min ?? DEFAULT_RELAY_EXPIRES.min) > max) {
    out.min = max;
  }
  if (
    dflt === undefined && out.default !== undefined &&
    ((out.min !== undefined && out.default < out.min) ||
      (out.max !== undefined && out.default > out.max))
  ) delete out.default;
  return out;
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
  const trace = values.trace === true ? traceLogger("relay", io.err) : undefined;
  const { signal, dispose } = waitForSignal(io);
  try {
    const server = await serveRelay(config, { logger, trace });
    for (const uri of relayUris(server.relay.config)) io.out(`${uri}\n`);
    if (config.allowInsecure || config.listen.some((l) => !l.tls)) {
      io.err(
        "msrp relay: WARNING: insecure: listening on plain TCP" +
          (config.allowInsecure ? " and accepting AUTH without TLS" : "") +
          "; user names, Digest exchanges and messages cross the network unencrypted " +
          "(RFC 4976 §9.2 requires TLS). For testing only.\n",
      );
    }
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
