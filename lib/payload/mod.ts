/**
 * Payloads that travel in MSRP and the SDP that sets MSRP up:
 * SDP media descriptions (RFC 4975 §8, RFC 4145, RFC 6135, RFC 5547),
 * media-type negotiation (RFC 4975 §8.6), Message/CPIM (RFC 3862),
 * IMDN (RFC 5438) and isComposing (RFC 3994).
 *
 * ```ts
 * import { parseMsrpMedia } from "@msrp/msrp/payload";
 *
 * const sdpText = [
 *   "v=0",
 *   "o=bob 2890844526 2890844527 IN IP4 bob.example.com",
 *   "s= ",
 *   "c=IN IP4 bob.example.com",
 *   "t=0 0",
 *   "m=message 8888 TCP/MSRP *",
 *   "a=accept-types:text/plain",
 *   "a=path:msrp://bob.example.com:8888/9di4ea;tcp",
 *   "",
 * ].join("\r\n");
 * const media = parseMsrpMedia(sdpText);
 * console.log(media.path, media.acceptTypes);
 * ```
 *
 * @module
 */

// SDP (RFC 4566, RFC 4975 §8, RFC 4145, RFC 6135, RFC 5547): one list, in sdp.ts.
export * from "./sdp.ts";
export {
  ALWAYS_ACCEPTED_TYPES,
  intersectAcceptTypes,
  isAcceptable,
  isWrappedAcceptable,
  matchesAcceptTypes,
  type MediaType,
  parseMediaType,
} from "./media_types.ts";
export {
  buildCpim,
  CPIM_NAMESPACE,
  type CpimAddress,
  type CpimHeader,
  type CpimMessage,
  type CpimMessageOptions,
  type CpimParameter,
  type CpimParseOptions,
  findCpimHeaders,
  formatCpimAddress,
  formatCpimDateTime,
  getContentHeader,
  getCpimHeader,
  makeCpimMessage,
  type MimeHeader,
  parseCpim,
  parseCpimAddress,
} from "./cpim.ts";
export {
  buildImdn,
  type DispositionRequest,
  formatDispositionNotification,
  IMDN_CONTENT_TYPE,
  IMDN_NAMESPACE,
  IMDN_STATUSES,
  IMDN_XML_NAMESPACE,
  type ImdnDocument,
  type ImdnNotificationOptions,
  type ImdnRequest,
  imdnRequestHeaders,
  type ImdnStatus,
  isImdn,
  makeImdnNotification,
  type NotificationKind,
  parseDispositionNotification,
  parseImdn,
  readImdn,
  readImdnRequest,
  type XmlParseOptions,
} from "./imdn.ts";
export * from "./iscomposing.ts";
