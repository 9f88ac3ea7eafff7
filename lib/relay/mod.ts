/**
 * The MSRP relay (RFC 4976): Digest authentication of clients (§5.1, §9.1),
 * the Use-Path URIs handed out to them (§6.3), the hop-by-hop forwarding
 * rules (§6.4), and a relay server built from them (§6).
 *
 * ```ts
 * import { loadRelayConfig, startRelay } from "@msrp/msrp/relay";
 *
 * const config = await loadRelayConfig("relay.json");
 * const server = await startRelay(config, { listen, connect });
 * ```
 *
 * @module
 */

export * from "./config.ts";
export * from "./digest.ts";
export * from "./forwarding.ts";
export * from "./registrations.ts";
export * from "./relay.ts";
export * from "./server.ts";
export * from "./users_file.ts";
