/**
 * Payloads that travel in MSRP and the SDP that sets MSRP up:
 * SDP media descriptions (RFC 4975 §8, RFC 4145, RFC 6135, RFC 5547),
 * media-type negotiation (RFC 4975 §8.6), Message/CPIM (RFC 3862),
 * IMDN (RFC 5438) and isComposing (RFC 3994).
 *
 * ```ts
 * import { parseMsrpMedia } from "@msrp/msrp/payload";
 * const media = parseMsrpMedia(sdpText);
 * console.log(media.path, media.acceptTypes);
 * ```
 *
 * @module
 */

export * from "./sdp.ts";
export * from "./media_types.ts";
export * from "./cpim.ts";
export * from "./imdn.ts";
export * from "./iscomposing.ts";
