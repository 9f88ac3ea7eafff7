/**
 * Configuration of an MSRP relay (RFC 4976 §6, §8, §9).
 *
 * A relay needs to know who it is and whom it serves:
 *
 * - its **host name** (RFC 4976 §4.2: the URIs it hands out in Use-Path
 *   "MUST include a fully qualified domain name ... and an explicit port
 *   number"), and any other names it answers to;
 * - the **realm** of its Digest challenges (§5.1: "it is not unreasonable to
 *   always use the relay's hostname as the realm");
 * - where it **listens**: TLS ports for clients and other relays (§9.2:
 *   "Client-to-relay communications MUST use TLS for AUTH requests"), and
 *   optionally plain TCP ports for users without relays who connect straight
 *   to it (§9.2, last note);
 * - optionally **WebSocket listeners** (RFC 7977): browsers reach the relay
 *   over `wss:` with the subprotocol `msrp`; an Origin allow-list decides
 *   which web pages may open them (see {@linkcode RelayWebSocketConfig});
 * - its **users**, each with a password or with HA1 values computed ahead of
 *   time for each Digest hash (so that the configuration file need not hold
 *   passwords);
 * - the **bounds** of the Expires it grants (§4.6, §6.3: out of bounds is a
 *   423 with Min-Expires or Max-Expires);
 * - **limits**: connections, registrations, bytes buffered per connection,
 *   probation and idle times (§6.1, §6.5), the 30-second hop timer (§6.4.1).
 *
 * {@linkcode resolveRelayConfig} checks a plain object (for example parsed
 * JSON) and fills in defaults; {@linkcode loadRelayConfig} reads a JSON file.
 *
 * ```json
 * {
 *   "host": "relay.example.com",
 *   "listen": [{ "port": 2855, "tls": true }],
 *   "tls": { "certFile": "cert.pem", "keyFile": "key.pem" },
 *   "users": {
 *     "alice": { "password": "secret" },
 *     "bob": { "ha1": { "SHA-256": "5f1e...", "MD5": "9c3b..." } }
 *   },
 *   "expires": { "default": 1800, "min": 60, "max": 86400 }
 * }
 * ```
 *
 * @module
 */

import { MsrpError, MsrpSyntaxError } from "../errors.ts";
import { TRANSACTION_TIMEOUT_MS } from "../session/transactions.ts";
import { IDLE_CONNECTION_MS, PROBATION_MS } from "./peer.ts";
import { digestHa1, type DigestHash } from "./digest.ts";

/** One address the relay listens on. */
export interface RelayListenConfig {
  /** Address to bind; `"0.0.0.0"` when absent. */
  readonly hostname: string;
  /** TCP port; 0 picks a free one (the real port is then filled in at start). */
  readonly port: number;
  /** Whether connections on this port use TLS (msrps). */
  readonly tls: boolean;
  /**
   * The port written into the relay's URIs when it differs from `port`
   * (behind a port-forwarding NAT, for instance).
   */
  readonly advertisePort?: number;
  /**
   * An MSRP WebSocket Server listener (RFC 7977 §2.1): `wss:` when `tls`,
   * plain `ws:` otherwise, which needs `allowInsecure` (§5.1: MSRP over
   * WebSocket MUST use TLS). Clients reach it with the subprotocol `msrp`
   * and URIs with the `ws` transport (§5.2.1); the Use-Path URIs the relay
   * hands them still name a TCP listener (§8.1).
   */
  readonly websocket?: boolean;
}

/** Settings of the relay's WebSocket listeners (RFC 7977). */
export interface RelayWebSocketConfig {
  /**
   * Web origins (`https://chat.example.com`) whose pages may open a
   * WebSocket to the relay; a handshake with another `Origin` is refused
   * with HTTP 403 (RFC 7977 §7: the server MAY inspect Origin; RFC 6455
   * §4.2.2, §10.2). A handshake without `Origin` comes from a program, not
   * a browser page (browsers always send it), and is allowed: such a client
   * could send any Origin it likes anyway, and it still has to pass Digest
   * AUTH like every client. `undefined`: every origin is allowed.
   */
  readonly origins: readonly string[] | undefined;
  /**
   * The largest WebSocket message the relay sends, in bytes. One chunk goes
   * in one message (RFC 7977 §5.1), so a SEND chunk that would not fit,
   * e.g. a long chunk from a TCP peer, is split into smaller chunks (RFC
   * 7977 §5.1: "MSRP chunking ... MUST be used by the WebSocket MSRP
   * Servers"; RFC 4976 §6.4.1 lets relays re-chunk).
   */
  readonly maxMessageSize: number;
}

/** The defaults of {@linkcode RelayWebSocketConfig}. */
export const DEFAULT_RELAY_WEBSOCKET: RelayWebSocketConfig = Object.freeze({
  origins: undefined,
  maxMessageSize: 256 * 1024,
});

/**
 * The smallest `websocket.maxMessageSize`: room for the longest header
 * block the relay reads (16 KiB lines, see the decoder) and some body.
 */
export const MIN_WEBSOCKET_MESSAGE_SIZE = 32 * 1024;

/** Where the relay's certificate and key are (PEM files). */
export interface RelayTlsConfig {
  /** Certificate chain, PEM; its SubjectAltName holds the host name (RFC 4976 §9.2). */
  readonly certFile: string;
  /** Private key, PEM. */
  readonly keyFile: string;
  /** CA certificates trusted for relay-to-relay mutual TLS, PEM (optional). */
  readonly caFile?: string;
}

/**
 * A user of the relay: a password, or HA1 per hash computed as
 * `H(username ":" realm ":" password)` for the configured realm.
 */
export interface RelayUserConfig {
  /** The password in clear; or give `ha1`. */
  readonly password?: string;
  /** HA1 in lower-case hex per hash (32 hex digits for MD5, 64 for SHA-256). */
  readonly ha1?: Readonly<Partial<Record<DigestHash, string>>>;
  /**
   * A disabled user authenticates but is not authorized: the relay answers
   * 403 (RFC 4976 §6.3: "If the client is not authorized, the relay returns a
   * 403 response").
   */
  readonly disabled?: boolean;
}

/** The Expires values the relay grants, in seconds (RFC 4976 §4.6, §6.3). */
export interface RelayExpiresConfig {
  /** Granted when the AUTH has no Expires header. */
  readonly default: number;
  /** The smallest Expires accepted; smaller gets 423 with Min-Expires. */
  readonly min: number;
  /** The largest Expires accepted; larger gets 423 with Max-Expires. */
  readonly max: number;
}

/** Resource limits and timers. Times are in milliseconds. */
export interface RelayLimitsConfig {
  /**
   * Most connections open at once, inbound and outbound. At the limit a new
   * connection takes the place of the least recently used idle one, else of
   * the longest-quiet one without AUTH; it is refused only when every
   * connection is busy and authenticated (or opened by the relay).
   */
  readonly maxConnections: number;
  /** Most registrations (Use-Path URIs) alive at once. */
  readonly maxRegistrations: number;
  /** Most registrations bound to one connection or one peer relay. */
  readonly maxRegistrationsPerBinding: number;
  /**
   * Bytes queued for one connection before the relay stops reading the
   * connections that feed it (back-pressure).
   */
  readonly maxBufferedBytesPerConnection: number;
  /** A request body longer than this is forwarded in pieces as it arrives. */
  readonly segmentSize: number;
  /**
   * Body bytes one forwarded chunk may write before it is interrupted to let
   * another chunk waiting for the same connection take its turn (RFC 4975
   * §7.1.1 fairness). At least 2048.
   */
  readonly fairnessQuantum: number;
  /**
   * Body bytes of SEND chunks written to one connection whose 200 from the
   * next hop is still owed, before the relay ends the chunk it writes and
   * starts no other until answers come (bytes in flight, so a short message
   * does not wait behind megabytes in socket buffers). The window is
   * counted in time, what the next hop takes in 10 ms (at least 256 KiB):
   * this is the most it grows to.
   */
  readonly maxUnansweredBytesPerConnection: number;
  /** Failed AUTH requests from a directly connected client before it is disconnected (§6.3). */
  readonly maxAuthFailures: number;
  /**
   * 401 challenges one connection may get without a successful AUTH in
   * between; the next AUTH gets 403 and the connection is closed. Issuing a
   * challenge stores nothing (see `NonceManager`), so this bounds only the
   * work one peer can ask for.
   */
  readonly maxChallengesPerConnection: number;
  /** Failed requests during probation before the connection is closed (§6.1). */
  readonly maxProbationFailures: number;
  /** How long a new connection has to make a successful request (§6.1: 30 s). */
  readonly probationMs: number;
  /**
   * Connections without registrations unused for this long are closed (§6.5:
   * one hour). Counted from the last bytes read or written: a chunk whose
   * sender stopped mid-way does not keep a connection in use.
   */
  readonly idleMs: number;
  /** The hop timer for a forwarded SEND (§6.4.1: 30 s) and forwarded AUTH. */
  readonly transactionTimeoutMs: number;
  /**
   * A connection whose peer has not taken a single write for this long is
   * closed, so that a peer that stops reading cannot hold the relay's queues
   * (and, by back-pressure, its other connections) forever.
   */
  readonly writeStallMs: number;
  /** How long a Digest nonce stays fresh. */
  readonly nonceLifetimeMs: number;
  /** How often expired registrations and idle connections are swept. */
  readonly sweepIntervalMs: number;
}

/** A checked relay configuration with every default filled in. */
export interface RelayConfig {
  /** The relay's fully qualified host name, as written in its URIs (RFC 4976 §4.2). */
  readonly host: string;
  /** Other host names the relay answers to in To-Path (lower case). */
  readonly aliases: readonly string[];
  /** The Digest realm; the host name by default (RFC 4976 §5.1). */
  readonly realm: string;
  /** Listening addresses. */
  readonly listen: readonly RelayListenConfig[];
  /** WebSocket settings (RFC 7977), used by listeners with `websocket: true`. */
  readonly websocket: RelayWebSocketConfig;
  /** Certificate and key, required when a listener uses TLS. */
  readonly tls: RelayTlsConfig | undefined;
  /** Users by name. */
  readonly users: Readonly<Record<string, RelayUserConfig>>;
  /** Digest algorithms offered and accepted, strongest first (RFC 4976 §9.1 rules out MD5-sess). */
  readonly algorithms: readonly ("SHA-256" | "MD5")[];
  /** Accept AUTH over plain TCP (testing only; RFC 4976 §9.2 requires TLS). */
  readonly allowInsecure: boolean;
  /** Send a `nextnonce` in Authentication-Info (RFC 4976 §5.1 example, §9.1). */
  readonly nextnonce: boolean;
  /** Answer requests with unknown methods 501 instead of forwarding them (§6.4.2). */
  readonly blockUnknownMethods: boolean;
  /**
   * Host names of relays accepted as peers when the transport identifies
   * them by mutual TLS (§6.3: authorization of relays is local policy).
   * Empty: every relay that can be authenticated.
   */
  readonly trustedRelays: readonly string[];
  /** The Expires bounds. */
  readonly expires: RelayExpiresConfig;
  /** Limits and timers. */
  readonly limits: RelayLimitsConfig;
}

/** The defaults of {@linkcode RelayLimitsConfig}. */
export const DEFAULT_RELAY_LIMITS: RelayLimitsConfig = Object.freeze({
  maxConnections: 10_000,
  maxRegistrations: 100_000,
  maxRegistrationsPerBinding: 1_000,
  maxBufferedBytesPerConnection: 1 << 20,
  segmentSize: 64 * 1024,
  fairnessQuantum: 256 * 1024,
  maxUnansweredBytesPerConnection: 8 << 20,
  maxAuthFailures: 3,
  maxChallengesPerConnection: 10,
  maxProbationFailures: 3,
  probationMs: PROBATION_MS, // RFC 4976 §6.1
  idleMs: IDLE_CONNECTION_MS, // RFC 4976 §6.5
  transactionTimeoutMs: TRANSACTION_TIMEOUT_MS, // RFC 4976 §6.4.1
  writeStallMs: 60_000,
  nonceLifetimeMs: 300_000,
  sweepIntervalMs: 10_000,
});

/** The defaults of {@linkcode RelayExpiresConfig}. */
export const DEFAULT_RELAY_EXPIRES: RelayExpiresConfig = Object.freeze({
  default: 1800,
  min: 60,
  max: 86_400,
});

const HEX = /^[0-9a-fA-F]+$/;

function bad(path: string, what: string): never {
  throw new MsrpError("bad-config", `relay configuration: ${path} ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      bad(
        `${path}${path ? "." : ""}${key}`,
        `is not a known setting (known: ${allowed.join(", ")})`,
      );
    }
  }
}

function str(v: unknown, path: string): string {
  if (typeof v !== "string" || v === "") bad(path, "must be a non-empty string");
  return v;
}

function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") bad(path, "must be true or false");
  return v;
}

function int(v: unknown, path: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    bad(path, `must be an integer from ${min} to ${max}`);
  }
  return v;
}

/** Host names as RFC 4976 §4.2 wants them: letters, digits, dots and hyphens, not an IP address. */
function hostName(v: unknown, path: string): string {
  const s = str(v, path);
  if (
    !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(s)
  ) {
    bad(path, `must be a host name (letters, digits, "-" and "."), not ${JSON.stringify(s)}`);
  }
  if (/^[0-9.]+$/.test(s)) {
    bad(path, "must be a host name, not an IP address (RFC 4976 §4.2: Use-Path URIs name an FQDN)");
  }
  return s;
}

function listenEntry(v: unknown, path: string): RelayListenConfig {
  if (!isObject(v)) {
    bad(path, "must be an object { hostname?, port, tls?, websocket?, advertisePort? }");
  }
  checkKeys(v, path, ["hostname", "port", "tls", "websocket", "advertisePort"]);
  const hostname = v.hostname === undefined ? "0.0.0.0" : str(v.hostname, `${path}.hostname`);
  const port = int(v.port, `${path}.port`, 2855, 0, 65535);
  const tls = bool(v.tls, `${path}.tls`, true);
  const entry: RelayListenConfig = bool(v.websocket, `${path}.websocket`, false)
    ? { hostname, port, tls, websocket: true }
    : { hostname, port, tls };
  if (v.advertisePort !== undefined) {
    return { ...entry, advertisePort: int(v.advertisePort, `${path}.advertisePort`, 0, 1, 65535) };
  }
  return entry;
}

function userEntry(v: unknown, path: string): RelayUserConfig {
  if (!isObject(v)) bad(path, "must be an object { password } or { ha1 }");
  checkKeys(v, path, ["password", "ha1", "disabled"]);
  const user: { password?: string; ha1?: Partial<Record<DigestHash, string>>; disabled?: boolean } =
    {};
  if (v.password !== undefined) {
    if (typeof v.password !== "string") bad(`${path}.password`, "must be a string");
    user.password = v.password;
  }
  if (v.ha1 !== undefined) {
    if (!isObject(v.ha1)) bad(`${path}.ha1`, 'must be an object { "SHA-256"?: hex, "MD5"?: hex }');
    checkKeys(v.ha1, `${path}.ha1`, ["SHA-256", "MD5"]);
    const ha1: Partial<Record<DigestHash, string>> = {};
    for (const [hash, len] of [["SHA-256", 64], ["MD5", 32]] as const) {
      const h = v.ha1[hash];
      if (h === undefined) continue;
      if (typeof h !== "string" || h.length !== len || !HEX.test(h)) {
        bad(`${path}.ha1.${hash}`, `must be ${len} hex digits`);
      }
      ha1[hash] = h.toLowerCase();
    }
    user.ha1 = ha1;
  }
  if (
    user.password === undefined && (user.ha1 === undefined || Object.keys(user.ha1).length === 0)
  ) {
    bad(path, "needs a password or at least one HA1");
  }
  user.disabled = bool(v.disabled, `${path}.disabled`, false);
  return user;
}

/**
 * A web origin as browsers send it in `Origin` (RFC 6454 §6.1): scheme,
 * host and port only, in lower case, without a trailing slash.
 */
function originEntry(v: unknown, path: string): string {
  const s = str(v, path);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    bad(path, `must be a web origin such as "https://chat.example.com", not ${JSON.stringify(s)}`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    bad(path, `must be an http: or https: origin, not ${JSON.stringify(s)}`);
  }
  if (u.origin.toLowerCase() !== s.replace(/\/$/, "").toLowerCase()) {
    bad(path, `must be an origin only (scheme://host[:port]), not ${JSON.stringify(s)}`);
  }
  return u.origin.toLowerCase();
}

function websocketSettings(v: unknown): RelayWebSocketConfig {
  if (v === undefined) return DEFAULT_RELAY_WEBSOCKET;
  if (!isObject(v)) bad("websocket", "must be an object { origins?, maxMessageSize? }");
  checkKeys(v, "websocket", ["origins", "maxMessageSize"]);
  let origins: string[] | undefined;
  if (v.origins !== undefined) {
    if (!Array.isArray(v.origins)) bad("websocket.origins", "must be an array of web origins");
    origins = v.origins.map((o, i) => originEntry(o, `websocket.origins[${i}]`));
  }
  const maxMessageSize = int(
    v.maxMessageSize,
    "websocket.maxMessageSize",
    DEFAULT_RELAY_WEBSOCKET.maxMessageSize,
    MIN_WEBSOCKET_MESSAGE_SIZE,
    2 ** 31 - 1,
  );
  return { origins, maxMessageSize };
}

/**
 * Whether a WebSocket handshake's `Origin` may open a connection: no
 * `Origin` (not a browser page), no allow-list, or an origin on it
 * (compared as RFC 6454 §6.1 serializes it, without case).
 *
 * @param config the WebSocket settings
 * @param origin the handshake's `Origin` value, or `null` when it has none
 */
export function relayOriginAllowed(config: RelayWebSocketConfig, origin: string | null): boolean {
  if (origin === null || config.origins === undefined) return true;
  return config.origins.includes(origin.toLowerCase());
}

/**
 * Checks the `users` setting on its own, e.g. users reloaded while the relay
 * runs (see `MsrpRelay.setUsers`).
 *
 * @param input an object keyed by user name, each `{ password }` or `{ ha1 }`
 * @throws {MsrpError} `bad-config` naming the user and what is wrong
 */
export function resolveRelayUsers(input: unknown): Record<string, RelayUserConfig> {
  if (!isObject(input)) bad("users", "must be an object keyed by user name");
  const users: Record<string, RelayUserConfig> = {};
  for (const [name, u] of Object.entries(input)) users[name] = userEntry(u, `users.${name}`);
  return users;
}

/**
 * Checks a configuration object and fills in the defaults. Unknown settings
 * are refused so that a misspelt limit does not go unnoticed.
 *
 * @param input the configuration, e.g. parsed from JSON; only `host` is required
 * @throws {MsrpError} `bad-config` naming the setting and what is wrong with it
 *
 * @example Check a configuration and fill in its defaults
 * ```ts
 * import { resolveRelayConfig } from "@msrp/msrp/relay";
 *
 * const config = resolveRelayConfig({
 *   host: "relay.example.com",
 *   tls: { certFile: "relay.pem", keyFile: "relay.key" },
 *   users: { alice: { password: "alice-secret" } },
 * });
 * console.log(config.realm, config.listen); // the defaults: the host as realm, port 2855 over TLS
 * ```
 */
export function resolveRelayConfig(input: unknown): RelayConfig {
  if (!isObject(input)) bad("(top level)", "must be an object");
  checkKeys(input, "", [
    "host",
    "aliases",
    "realm",
    "listen",
    "websocket",
    "tls",
    "users",
    "algorithms",
    "allowInsecure",
    "nextnonce",
    "blockUnknownMethods",
    "trustedRelays",
    "expires",
    "limits",
  ]);
  const host = hostName(input.host, "host");
  const aliases: string[] = [];
  if (input.aliases !== undefined) {
    if (!Array.isArray(input.aliases)) bad("aliases", "must be an array of host names");
    input.aliases.forEach((a, i) => aliases.push(str(a, `aliases[${i}]`).toLowerCase()));
  }
  const realm = input.realm === undefined ? host : str(input.realm, "realm");

  let listen: RelayListenConfig[];
  if (input.listen === undefined) listen = [{ hostname: "0.0.0.0", port: 2855, tls: true }];
  else {
    if (!Array.isArray(input.listen) || input.listen.length === 0) {
      bad("listen", "must be a non-empty array");
    }
    listen = input.listen.map((l, i) => listenEntry(l, `listen[${i}]`));
  }

  let tls: RelayTlsConfig | undefined;
  if (input.tls !== undefined) {
    if (!isObject(input.tls)) bad("tls", "must be an object { certFile, keyFile, caFile? }");
    checkKeys(input.tls, "tls", ["certFile", "keyFile", "caFile"]);
    tls = {
      certFile: str(input.tls.certFile, "tls.certFile"),
      keyFile: str(input.tls.keyFile, "tls.keyFile"),
      ...(input.tls.caFile !== undefined ? { caFile: str(input.tls.caFile, "tls.caFile") } : {}),
    };
  }
  if (tls === undefined && listen.some((l) => l.tls)) {
    bad("tls", "is required when a listener has tls: true (certFile and keyFile)");
  }
  const allowInsecure = bool(input.allowInsecure, "allowInsecure", false);
  const plainWs = listen.findIndex((l) => l.websocket === true && !l.tls);
  if (plainWs >= 0 && !allowInsecure) {
    bad(
      `listen[${plainWs}]`,
      "is a plain ws: listener: MSRP over WebSocket MUST use TLS (RFC 7977 §5.1); " +
        "set tls: true, or allowInsecure: true for tests",
    );
  }
  const websocket = websocketSettings(input.websocket);

  const users = input.users === undefined ? {} : resolveRelayUsers(input.users);

  let algorithms: ("SHA-256" | "MD5")[] = ["SHA-256", "MD5"];
  if (input.algorithms !== undefined) {
    if (!Array.isArray(input.algorithms) || input.algorithms.length === 0) {
      bad("algorithms", 'must be a non-empty array of "SHA-256" and/or "MD5"');
    }
    algorithms = input.algorithms.map((a, i) => {
      // RFC 4976 §9.1: relays MUST NOT send challenges indicating MD5-sess.
      if (a !== "SHA-256" && a !== "MD5") {
        bad(`algorithms[${i}]`, `must be "SHA-256" or "MD5", not ${JSON.stringify(a)}`);
      }
      return a;
    });
  }

  const trustedRelays: string[] = [];
  if (input.trustedRelays !== undefined) {
    if (!Array.isArray(input.trustedRelays)) bad("trustedRelays", "must be an array of host names");
    input.trustedRelays.forEach((r, i) =>
      trustedRelays.push(str(r, `trustedRelays[${i}]`).toLowerCase())
    );
  }

  const e = input.expires ?? {};
  if (!isObject(e)) bad("expires", "must be an object { default, min, max }");
  checkKeys(e, "expires", ["default", "min", "max"]);
  const min = int(e.min, "expires.min", DEFAULT_RELAY_EXPIRES.min, 1, 2 ** 31 - 1);
  const max = int(e.max, "expires.max", Math.max(min, DEFAULT_RELAY_EXPIRES.max), min, 2 ** 31 - 1);
  const dflt = int(
    e.default,
    "expires.default",
    Math.min(max, Math.max(min, DEFAULT_RELAY_EXPIRES.default)),
    min,
    max,
  );

  const l = input.limits ?? {};
  if (!isObject(l)) bad("limits", "must be an object");
  const names = Object.keys(DEFAULT_RELAY_LIMITS) as (keyof RelayLimitsConfig)[];
  checkKeys(l, "limits", names);
  const limits = {} as Record<keyof RelayLimitsConfig, number>;
  for (const name of names) {
    const min = name === "fairnessQuantum" ? 2048 : name === "segmentSize" ? 512 : 1;
    limits[name] = int(l[name], `limits.${name}`, DEFAULT_RELAY_LIMITS[name], min, 2 ** 31 - 1);
  }

  return {
    host,
    aliases,
    realm,
    listen,
    websocket,
    tls,
    users,
    algorithms,
    allowInsecure,
    nextnonce: bool(input.nextnonce, "nextnonce", true),
    blockUnknownMethods: bool(input.blockUnknownMethods, "blockUnknownMethods", false),
    trustedRelays,
    expires: { default: dflt, min, max },
    limits,
  };
}

/** The directory part of a path, with its trailing separator ("" when there is none). */
function dirOf(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i < 0 ? "" : path.slice(0, i + 1);
}

function isAbsolute(path: string): boolean {
  return path.startsWith("/") || path.startsWith("\\") || /^[A-Za-z]:[\\/]/.test(path);
}

/**
 * Reads a relay configuration from a JSON file. TLS file paths that are
 * relative are taken relative to the configuration file.
 *
 * @param path the JSON file
 * @throws {MsrpSyntaxError} `bad-config-json` when the file is not JSON
 * @throws {MsrpError} `bad-config` when a setting is wrong (see {@linkcode resolveRelayConfig})
 *
 * @example Read a relay's JSON configuration file
 * ```ts
 * import { loadRelayConfig, serveRelay } from "@msrp/msrp/relay";
 *
 * const server = await serveRelay(await loadRelayConfig("relay.json"));
 * ```
 */
export async function loadRelayConfig(path: string): Promise<RelayConfig> {
  const text = await Deno.readTextFile(path);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec(String(e));
    throw new MsrpSyntaxError(
      "bad-config-json",
      `the relay configuration ${path} is not valid JSON (${(e as Error).message})`,
      text,
      m === null ? 0 : Number(m[1]),
    );
  }
  const config = resolveRelayConfig(data);
  if (config.tls === undefined) return config;
  const dir = dirOf(path);
  const fix = (p: string): string => (isAbsolute(p) ? p : dir + p);
  const tls: RelayTlsConfig = {
    certFile: fix(config.tls.certFile),
    keyFile: fix(config.tls.keyFile),
    ...(config.tls.caFile !== undefined ? { caFile: fix(config.tls.caFile) } : {}),
  };
  return { ...config, tls };
}

/**
 * The HA1 of a user for a hash in the relay's realm, or `undefined` for an
 * unknown user, another realm, or a hash the user has no HA1 for. This is
 * the `lookupHa1` that `verifyCredentials` (digest.ts) wants.
 *
 * @param config the relay configuration
 * @param username the user name from the credentials
 * @param realm the realm from the credentials
 * @param hash the hash of the algorithm in use
 *
 * @example The Digest HA1 of a configured user
 * ```ts
 * import { relayUserHa1, resolveRelayConfig } from "@msrp/msrp/relay";
 *
 * const config = resolveRelayConfig({
 *   host: "relay.example.com",
 *   tls: { certFile: "relay.pem", keyFile: "relay.key" },
 *   users: { alice: { password: "alice-secret" } },
 * });
 * console.log(relayUserHa1(config, "alice", config.realm, "SHA-256")); // hex digits
 * ```
 */
export function relayUserHa1(
  config: RelayConfig,
  username: string,
  realm: string,
  hash: DigestHash,
): string | undefined {
  if (realm !== config.realm || !Object.hasOwn(config.users, username)) return undefined;
  const user = config.users[username];
  if (user.password !== undefined) return digestHa1(hash, username, realm, user.password);
  return user.ha1?.[hash];
}
