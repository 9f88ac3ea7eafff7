/**
 * SDP for MSRP: a small generic parser and formatter (RFC 8866), the MSRP
 * media description (RFC 4975 §8, RFC 4976, RFC 7977), the connection model
 * of RFC 6135 / RFC 4145, CEMA (RFC 6714), certificate fingerprints
 * (RFC 8122, RFC 4975 §14.4) and the file-transfer attributes of RFC 5547,
 * with helpers for the offer/answer exchange (RFC 3264).
 *
 * An MSRP session is set up by an SDP offer and answer, usually carried in
 * SIP. Each side describes itself with one media section:
 *
 * ```
 * v=0
 * o=alice 2890844526 2890844527 IN IP4 alice.example.com
 * s= -
 * c=IN IP4 alice.example.com
 * t=0 0
 * m=message 7394 TCP/MSRP *              <- media "message", protocol TCP/MSRP or
 * a=accept-types:message/cpim text/plain    TCP/TLS/MSRP, format list "*" (§8.1)
 * a=path:msrp://alice.example.com:7394/2s93i93idj;tcp
 * ```
 *
 * - `a=path` (§8.2, §8.3) is what matters for connecting: a space-separated
 *   list of MSRP URIs, leftmost the first hop (a relay, or the endpoint
 *   itself), rightmost the endpoint. The c= address and m= port only repeat
 *   the endpoint's address for old SDP tools (§8.1), except with CEMA
 *   (RFC 6714), where middleboxes rewrite them and they are used.
 * - `a=accept-types` (required) and `a=accept-wrapped-types` (§8.6) list
 *   the media types this side takes; `a=max-size` the largest message.
 * - Who opens the TCP connection: in RFC 4975 (§8.5) always the offerer.
 *   RFC 6135 lets `a=setup` (RFC 4145) choose: the offerer says `actpass`
 *   (either way) or `active` (I connect), never `passive`; the answerer
 *   picks `active` or `passive`. See {@linkcode whoConnects}.
 * - `a=sendonly` / `a=recvonly` / `a=inactive` (§8.9) only restrict SEND
 *   requests with regular message content.
 * - RFC 5547 file transfer adds `a=file-selector` (name, type, size, hash
 *   of the file), `a=file-transfer-id`, `a=file-disposition`,
 *   `a=file-date`, `a=file-icon` and `a=file-range`.
 *
 * Path values are kept here as arrays of URI strings; parse each with the
 * MSRP URI parser to use them.
 *
 * This module gathers the pieces, each in its own file:
 *
 * - `sdp_syntax.ts`: generic SDP lines, parse and format (RFC 8866 §5, §9).
 * - `msrp_media.ts`: reading the MSRP media description (RFC 4975 §8,
 *   RFC 4145, RFC 6135, RFC 6714).
 * - `msrp_sdp_builder.ts`: writing an MSRP media description or whole SDP.
 * - `file_transfer.ts`: the RFC 5547 `a=file-*` attributes.
 * - `fingerprint.ts`: `a=fingerprint` (RFC 8122, RFC 4975 §14.4).
 * - `offer_answer.ts`: offers, answers and who connects (RFC 3264,
 *   RFC 4145, RFC 6135, RFC 5547 §8.3, RFC 6714 §4.3).
 *
 * @module
 */

export {
  formatSdp,
  formatSdpMedia,
  parseSdp,
  type SdpAttribute,
  type SdpField,
  type SdpMediaDescription,
  type SdpParseOptions,
  type SessionDescription,
} from "./sdp_syntax.ts";
export {
  type ConnectionData,
  type Direction,
  type MsrpMedia,
  parseAllMsrpMedia,
  parseMsrpMedia,
  type SdpTransportProtocol,
  type SetupRole,
} from "./msrp_media.ts";
export {
  buildMsrpMediaDescription,
  buildMsrpSdp,
  type MsrpSdpOptions,
  type SdpOrigin,
} from "./msrp_sdp_builder.ts";
export type {
  FileDate,
  FileHash,
  FileRange,
  FileSelector,
  FileTransferAttributes,
} from "./file_transfer.ts";
export { type Fingerprint, parseFingerprint } from "./fingerprint.ts";
export {
  type AnswerOptions,
  answerSetup,
  makeAnswer,
  makeOffer,
  type OfferOptions,
  type SetupInfo,
  whoConnects,
} from "./offer_answer.ts";
