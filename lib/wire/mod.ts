/**
 * The wire layer of MSRP, sans I/O: bytes to frames and back (RFC 4975 §7,
 * §9), `msrp:` / `msrps:` URIs (§9, §6), the typed header fields (§9) and
 * the Digest authentication headers of RFC 4976 §5.1 and §9.
 *
 * ```ts
 * import { encodeFrame, FrameParser, getByteRange, HeaderList } from "@msrp/msrp/wire";
 *
 * const bytes = encodeFrame({
 *   kind: "request",
 *   tid: "a786hjs2",
 *   method: "SEND",
 *   headers: new HeaderList([
 *     ["To-Path", "msrp://bob.example.com:8888/9di4ea;tcp"],
 *     ["From-Path", "msrp://alice.example.com:7777/iau39;tcp"],
 *     ["Message-ID", "87652"],
 *     ["Byte-Range", "1-5/5"],
 *     ["Content-Type", "text/plain"],
 *   ]),
 *   body: new TextEncoder().encode("Hello"),
 *   offset: 0,
 *   flag: "$",
 * });
 * new FrameParser().push(bytes, (frame) => {
 *   if (frame.kind === "request") console.log(frame.method, getByteRange(frame.headers));
 * });
 * ```
 *
 * @module
 */

export { FrameError, type MsrpErrorCode, MsrpSyntaxError } from "../errors.ts";
export type {
  ContinuationFlag,
  DecodedFrame,
  Frame,
  InvalidFrame,
  MsrpRequest,
  MsrpResponse,
  OutgoingFrame,
  StreamingRequest,
} from "./frame.ts";
export { HeaderList } from "./header_list.ts";
export { newMessageId, newSessionId, newTransactionId } from "./ids.ts";
export {
  type FrameDecoderOptions,
  FrameDecoderStream,
  FrameParser,
  type FrameSink,
} from "./decoder.ts";
export {
  encodeFrame,
  type FrameEncoderOptions,
  FrameEncoderStream,
  FrameWriter,
  type TransactionIdChange,
} from "./encoder.ts";
export {
  FrameTrace,
  frameTracer,
  type TracedFrame,
  type TraceDirection,
  traceStream,
} from "./frame_trace.ts";
export {
  type HostKind,
  MsrpUri,
  type MsrpUriParts,
  parseUri,
  uriEquals,
  type UriParam,
} from "./uri.ts";
// The typed header fields (§9); the field names are plain strings ("To-Path", ...).
export {
  type ByteRange,
  type ContentDisposition,
  type ContentType,
  type FailureReport,
  formatByteRange,
  formatContentDisposition,
  formatContentId,
  formatContentType,
  formatExpires,
  formatPath,
  formatStatus,
  getByteRange,
  getContentDescription,
  getContentDisposition,
  getContentId,
  getContentType,
  getExpires,
  getFailureReport,
  getFromPath,
  getMaxExpires,
  getMessageId,
  getMinExpires,
  getStatus,
  getSuccessReport,
  getToPath,
  getUsePath,
  type MimeParam,
  paramValue,
  parseByteRange,
  parseContentDisposition,
  parseContentId,
  parseContentType,
  parseExpires,
  parseFailureReport,
  parseMessageId,
  parsePath,
  parseStatus,
  parseSuccessReport,
  type Status,
  STATUS_TEXT,
  type SuccessReport,
} from "./headers.ts";
export * from "./auth_headers.ts";
export {
  type DigestAlgorithm,
  DigestClient,
  type DigestClientOptions,
  digestHa1,
  type DigestHash,
} from "./digest.ts";
