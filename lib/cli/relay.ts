/**
 * `msrp relay`: an MSRP relay on real sockets (RFC 4976).
 *
 * Clients AUTH to the relay with HTTP Digest (RFC 4976 §5.1, §9.1) over TLS
 * (§9.2) and get a Use-Path; messages then travel through it hop by hop
 * (§6.4). The settings are those of `lib/relay/config.ts`, read from a JSON
 * file with `--config` and overridden by flags. The relay's own URIs
 * (`msrps://host:port;tcp`, §4.2: a host name and an explicit port;
 * `msrps://host:port;ws` for a WebSocket listener, RFC 7977 §5.2.1) are
 * printed one per listener; the relay runs until SIGINT or SIGTERM.
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import type { Logger } from "../log.ts";
import {
  DEFAULT_RELAY_EXPIRES,
  loadRelayConfig,
  type RelayConfig,
  type RelayUserConfig,
  resolveRelayConfig,
  resolveRelayUsers,
} from "../relay/config.ts";
import type { MsrpRelay } from "../relay/relay.ts";
import { serveRelay } from "../relay/server.ts";
import { loadUsersFile } from "../relay/users_file.ts";
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
  "users-file": { type: "string" },
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
  // RFC 7977: a WebSocket listener for browsers, and the pages allowed to use it.
  ws: { type: "string" },
  origin: { type: "string", multiple: true },
  // The web chat page (web/), served on the --ws port.
  web: { type: "string" },
  // Memory given back once the relay is quiet (serveRelay's releaseMemory): on by default.
  "no-release-memory": { type: "boolean" },
  "release-memory-after": { type: "string" },
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
 * `--no-release-memory` and `--release-memory-after MS`: whether and after
 * how long a quiet relay gives memory back (`serveRelay`'s `releaseMemory`;
 * on by default, after `RELEASE_MEMORY_QUIET_MS`).
 *
 * @param values the parsed flags
 * @throws {UsageError} for both flags together, or a period that is not a whole number of ms
 */
export function releaseMemoryFrom(values: Record<string, unknown>): false | { quietMs?: number } {
  const after = values["release-memory-after"];
  if (values["no-release-memory"] === true) {
    if (after !== undefined) {
      throw new UsageError("--release-memory-after and --no-release-memory contradict each other");
    }
    return false;
  }
  if (typeof after !== "string") return {};
  const ms = count(after, "--release-memory-after");
  if (ms < 1 || ms > 2 ** 31 - 1) {
    throw new UsageError(`--release-memory-after must be from 1 to ${2 ** 31 - 1} ms`);
  }
  return { quietMs: ms };
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
 * Where a relay's users come from, so that they can be read again on
 * SIGHUP: the `--config` file's users, under those of `--users-file`, under
 * those of `--user` (a later source wins for the same name).
 */
export interface RelayUsersSource {
  /** The `--users-file` (htdigest `user:realm:HA1` lines), read again on each reload. */
  readonly usersFile: string | undefined;
  /** Users from `--config`, read once at start. */
  readonly configUsers: Readonly<Record<string, RelayUserConfig>>;
  /** Users from `--user name:password`. */
  readonly flagUsers: Readonly<Record<string, RelayUserConfig>>;
}

/** The users of a source for a realm, and warnings worth showing the operator. */
export interface RelayUsersRead {
  /** The users, checked. */
  readonly users: Record<string, RelayUserConfig>;
  /** Lines skipped (other realms) and users that some challenges cannot serve. */
  readonly warnings: string[];
}

/**
 * Reads the users of a source: the users file now, merged with the others.
 *
 * @param source where the users come from
 * @param realm the relay's Digest realm (users-file lines for other realms are skipped)
 * @param algorithms the algorithms the relay challenges with
 * @throws {UsageError} when the users file cannot be read; {@linkcode MsrpError}
 *   `bad-config` naming the file and line of a wrong entry
 */
export async function readRelayUsers(
  source: RelayUsersSource,
  realm: string,
  algorithms: readonly ("SHA-256" | "MD5")[],
): Promise<RelayUsersRead> {
  const warnings: string[] = [];
  let fileUsers: Record<string, RelayUserConfig> = {};
  const path = source.usersFile;
  if (path !== undefined) {
    let read;
    try {
      read = await loadUsersFile(path, realm);
    } catch (e) {
      if (e instanceof MsrpError) throw e;
      throw new UsageError(`cannot read --users-file ${path}: ${ioReason(e)}`);
    }
    fileUsers = read.users;
    if (read.otherRealmLines.length > 0) {
      warnings.push(
        `${path}: line(s) ${read.otherRealmLines.join(", ")} are for another realm than ` +
          `${JSON.stringify(realm)}; skipped`,
      );
    }
    for (const [name, user] of Object.entries(fileUsers)) {
      const missing = algorithms.filter((a) => user.ha1?.[a] === undefined);
      if (missing.length > 0) {
        warnings.push(
          `${path}: ${name} has no ${missing.join(" or ")} HA1; a client choosing ` +
            `${missing.join(" or ")} cannot authenticate (add a line with that hash)`,
        );
      }
    }
  }
  const users = resolveRelayUsers({ ...source.configUsers, ...fileUsers, ...source.flagUsers });
  return { users, warnings };
}

/**
 * Reads the users again and gives them to a running relay (on SIGHUP):
 * connections and registrations stay (see `MsrpRelay.setUsers`). When the
 * file cannot be read or has a wrong line, the relay keeps its users.
 *
 * @param relay the running relay
 * @param source where the users come from
 * @returns warnings about the file, and the number of users now
 * @throws {UsageError} or {@linkcode MsrpError} `bad-config` as {@linkcode readRelayUsers}
 */
export async function reloadRelayUsers(
  relay: MsrpRelay,
  source: RelayUsersSource,
): Promise<{ users: number; warnings: string[] }> {
  const config = relay.config;
  const { users, warnings } = await readRelayUsers(source, config.realm, config.algorithms);
  relay.setUsers(users);
  return { users: Object.keys(users).length, warnings };
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
  return (await relaySetupFrom(values)).config;
}

/**
 * The relay configuration as {@linkcode relayConfigFrom} makes it, with
 * where its users came from (for reloading) and warnings about them.
 *
 * @param values parsed flags
 * @throws as {@linkcode relayConfigFrom}
 */
export async function relaySetupFrom(
  values: Record<string, unknown>,
): Promise<{ config: RelayConfig; users: RelayUsersSource; warnings: string[] }> {
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
  // RFC 7977: --ws PORT adds an MSRP WebSocket listener (wss:, or ws: with
  // --insecure); --origin limits the web pages that may open it.
  const wsPort = str(values, "ws");
  if (wsPort !== undefined) {
    const port = parsePort(wsPort, "--ws");
    const hosts = binds.length > 0 ? binds : [baseListen?.[0]?.hostname ?? "0.0.0.0"];
    input.listen = [
      ...(input.listen as unknown[] ?? baseListen ?? []),
      ...hosts.map((hostname) => ({ hostname, port, tls: tlsListen, websocket: true })),
    ];
  }
  const origins = strs(values, "origin");
  if (origins.length > 0) {
    input.websocket = { ...(base.websocket as object | undefined), origins };
  }
  if (tlsListen && input.tls === undefined && configPath === undefined) {
    throw new UsageError(
      "a relay listens with TLS (RFC 4976 §9.2): give --tls-cert and --tls-key, " +
        "or --insecure for plain TCP (testing only)",
    );
  }
  const source: RelayUsersSource = {
    usersFile: str(values, "users-file"),
    configUsers: (base.users as Record<string, RelayUserConfig> | undefined) ?? {},
    flagUsers: parseUsers(strs(values, "user")),
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
  input.users = { ...source.configUsers, ...source.flagUsers };
  const config = resolveRelayConfig(input);
  const { users, warnings } = await readRelayUsers(source, config.realm, config.algorithms);
  return { config: { ...config, users }, users: source, warnings };
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
      transport: l.websocket === true ? "ws" : "tcp", // RFC 7977 §5.2.1
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
  const { config, users: usersSource, warnings } = await relaySetupFrom(values);
  for (const w of warnings) io.err(`msrp relay: warning: ${w}\n`);
  const verbose = values.verbose === true;
  // One line per relay log event: `msrp relay: LEVEL EVENT conn=ID: MESSAGE`.
  const logger: Logger = (level, message, data) => {
    if (!verbose && level !== "warn" && level !== "error") return;
    const conn = data?.connection === undefined ? "" : ` conn=${data.connection}`;
    io.err(`msrp relay: ${level} ${data?.event ?? "relay"}${conn}: ${message}\n`);
  };
  const trace = values.trace === true ? traceLogger("relay", io.err) : undefined;
  const webRoot = await webRootFrom(values, config);
  const { signal, dispose } = waitForSignal(io);
  let stopHangup = (): void => {};
  try {
    const server = await serveRelay(config, {
      logger,
      trace,
      webRoot,
      releaseMemory: releaseMemoryFrom(values),
    });
    for (const uri of relayUris(server.relay.config)) io.out(`${uri}\n`);
    if (webRoot !== undefined) {
      for (const l of server.relay.config.listen.filter((l) => l.websocket === true)) {
        const scheme = l.tls ? "https" : "http";
        io.err(`msrp relay: web chat page at ${scheme}://${config.host}:${l.port}/\n`);
      }
    }
    if (config.allowInsecure || config.listen.some((l) => !l.tls)) {
      io.err(
        "msrp relay: WARNING: insecure: listening on plain TCP" +
          (config.allowInsecure ? " and accepting AUTH without TLS" : "") +
          "; user names, Digest exchanges and messages cross the network unencrypted " +
          "(RFC 4976 §9.2 requires TLS). For testing only.\n",
      );
    }
    if (Object.keys(config.users).length === 0) {
      io.err("msrp relay: no users configured (--users-file FILE): every AUTH will fail\n");
    }
    if (io.onHangup !== undefined) {
      // SIGHUP: read the users file again, one reload at a time (and never
      // the default action, which would end the relay).
      let reloading = Promise.resolve();
      stopHangup = io.onHangup(() => {
        reloading = reloading.then(() => reloadOnHangup(server.relay, usersSource, io));
      });
    }
    io.err("msrp relay: running (Ctrl-C to stop)\n");
    const name = await signal;
    io.err(`msrp relay: ${name}: stopping\n`);
    await server.close();
    return EXIT_OK;
  } finally {
    stopHangup();
    dispose();
  }
}

/**
 * `--web DIR`: the directory of the web chat page, checked before the relay
 * starts (it needs a `--ws` listener to be served on).
 */
async function webRootFrom(
  values: Record<string, unknown>,
  config: RelayConfig,
): Promise<string | undefined> {
  const dir = str(values, "web");
  if (dir === undefined) return undefined;
  if (!config.listen.some((l) => l.websocket === true)) {
    throw new UsageError("--web needs --ws <port>: the page is served on the WebSocket listener");
  }
  let index: Deno.FileInfo | undefined;
  try {
    index = await Deno.stat(`${dir.replace(/\/+$/, "")}/index.html`);
  } catch {
    index = undefined;
  }
  if (index?.isFile !== true) {
    throw new UsageError(`--web ${dir}: no index.html there (the page is in web/ of the source)`);
  }
  return dir;
}

/** SIGHUP: reloads the users, saying what happened on standard error; never throws. */
async function reloadOnHangup(
  relay: MsrpRelay,
  source: RelayUsersSource,
  io: CliIo,
): Promise<void> {
  if (source.usersFile === undefined) {
    io.err("msrp relay: SIGHUP: no --users-file to reload; nothing changed\n");
    return;
  }
  try {
    const { users, warnings } = await reloadRelayUsers(relay, source);
    for (const w of warnings) io.err(`msrp relay: warning: ${w}\n`);
    io.err(`msrp relay: SIGHUP: ${users} user(s) loaded from ${source.usersFile}\n`);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    io.err(`msrp relay: SIGHUP: users not reloaded, the old ones stay: ${why}\n`);
  }
}
