/**
 * Endpoints: sessions over real connections, found through SDP, directly or
 * through relays (RFC 4975 §5.4, §8; RFC 4976 §5).
 *
 * @module
 */

export * from "./endpoint.ts";
export * from "./relay_client.ts";
