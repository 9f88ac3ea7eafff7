/**
 * The MSRP relay (RFC 4976): Digest authentication of clients (§5.1, §9.1),
 * the Use-Path URIs handed out to them (§6.3), the hop-by-hop forwarding
 * rules (§6.4), and a relay server built from them (§6).
 *
 * ```ts
 * import { resolveRelayConfig, serveRelay } from "@msrp/msrp/relay";
 *
 * const server = await serveRelay(resolveRelayConfig({
 *   host: "relay.example.com",
 *   listen: [{ hostname: "0.0.0.0", port: 2855, tls: true }],
 *   tls: { certFile: "relay.pem", keyFile: "relay.key" },
 *   users: { alice: { password: "alice-secret" }, bob: { password: "bob-secret" } },
 * }));
 * console.log(server.relay.stats());
 * await server.close();
 * ```
 *
 * @module
 */

export {
  DEFAULT_RELAY_EXPIRES,
  DEFAULT_RELAY_LIMITS,
  DEFAULT_RELAY_WEBSOCKET,
  loadRelayConfig,
  MIN_WEBSOCKET_MESSAGE_SIZE,
  type RelayConfig,
  type RelayExpiresConfig,
  type RelayLimitsConfig,
  type RelayListenConfig,
  type RelayTlsConfig,
  type RelayUserConfig,
  relayUserHa1,
  type RelayWebSocketConfig,
  resolveRelayConfig,
} from "./config.ts";
export {
  type DigestAlgorithm,
  digestHa1,
  type DigestHash,
  type NonceCheck,
  NonceManager,
  type NonceManagerOptions,
} from "./digest.ts";
export type { RegistrationBinding, RelayRegistration } from "./registrations.ts";
export { isRelayUri, type RelayIdentity } from "./forwarding.ts";
export {
  MsrpRelay,
  type MsrpRelayOptions,
  type RelayListener,
  type RelayServer,
  type RelayStats,
  startRelay,
  type StartRelayOptions,
} from "./relay.ts";
export {
  MSRP_PORT,
  RELEASE_MEMORY_MIN_GAP_MS,
  RELEASE_MEMORY_QUIET_MS,
  serveRelay,
  type ServeRelayOptions,
} from "./server.ts";
export {
  loadUsersFile,
  parseUsersFile,
  type RealmUsers,
  type UsersFileEntry,
  usersForRealm,
} from "./users_file.ts";
