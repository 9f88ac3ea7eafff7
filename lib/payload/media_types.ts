/**
 * Media types and Accept-Types matching (RFC 4975 §6, §8.6; RFC 2045 §5.1),
 * kept here for the `./payload` entry point. The code lives in
 * `lib/wire/media_types.ts`, below the session layer, which checks a
 * request's Content-Type against the session's accept-types (§7.3.1).
 *
 * @module
 */

export * from "../wire/media_types.ts";
