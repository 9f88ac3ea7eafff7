/**
 * The typed errors of the library.
 *
 * Every bad input ends in one of these (or in an MSRP status code sent to the
 * peer, RFC 4975 §10), never in a silent loss. Each error names what was wrong
 * and, where it makes sense, the MSRP status code that a session should answer
 * with and the place in the input where the problem was found.
 *
 * @module
 */

/** The status codes RFC 4975 §10 and RFC 4976 §10.3 define. */
export type MsrpStatusCode =
  | 200
  | 400
  | 401
  | 403
  | 408
  | 413
  | 415
  | 423
  | 481
  | 501
  | 506;

/**
 * The `code` of every {@linkcode MsrpError} the library throws: a short,
 * stable, machine-readable name for the problem. Grouped by where they come
 * from; the grammar each parser follows is cited at the parser.
 */
export type MsrpErrorCode =
  // The wire layer: frames (RFC 4975 §7, §9), URIs (§6, §9), header fields (§9), Digest headers (RFC 4976 §5.1).
  | "bad-algorithm"
  | "bad-byte-range"
  | "bad-char"
  | "bad-comment"
  | "bad-content-disposition"
  | "bad-content-id"
  | "bad-content-type"
  | "bad-end-line"
  | "bad-expires"
  | "bad-failure-report"
  | "bad-frame"
  | "bad-header"
  | "bad-header-name"
  | "bad-header-value"
  | "bad-host"
  | "bad-ipv4"
  | "bad-ipv6"
  | "bad-line-ending"
  | "bad-message-id"
  | "bad-method"
  | "bad-nc"
  | "bad-param-value"
  | "bad-parameter"
  | "bad-port"
  | "bad-qop"
  | "bad-response"
  | "bad-rspauth"
  | "bad-scheme"
  | "bad-session-id"
  | "bad-start-line"
  | "bad-status"
  | "bad-success-report"
  | "bad-transaction-id"
  | "bad-transport"
  | "bad-userinfo"
  | "blank-limit"
  | "body-too-large"
  | "cancelled"
  | "duplicate-param"
  | "empty"
  | "empty-path"
  | "empty-value"
  | "end-line-in-body"
  | "expected-comma"
  | "expected-equals"
  | "expected-param-name"
  | "expires-too-large"
  | "line-too-long"
  | "missing-accept-types"
  | "missing-nonce"
  | "missing-password"
  | "missing-path"
  | "missing-port"
  | "missing-realm"
  | "missing-response"
  | "missing-scheme"
  | "missing-transport"
  | "missing-uri"
  | "missing-username"
  | "missing-value"
  | "password-in-userinfo"
  | "range-end-before-start"
  | "range-end-beyond-total"
  | "range-number-too-large"
  | "range-start-beyond-total"
  | "range-start-zero"
  | "response-with-body"
  | "skip-limit"
  | "too-many-headers"
  | "truncated"
  | "unsupported-scheme"
  | "unterminated-quoted-string"
  // Sessions and messages (RFC 4975 §5, §7).
  | "aborted"
  | "bind-failed"
  | "bind-refused"
  | "bind-timeout"
  | "body-used"
  | "closed"
  | "connection-closed"
  | "message-aborted"
  | "message-incomplete"
  | "message-timeout"
  | "not-bound"
  | "reassembly-fragmented"
  | "reassembly-overflow"
  | "rejected"
  | "session-bound"
  | "session-closed"
  | "source-failed"
  | "timeout"
  // Transports: TCP, TLS (RFC 4975 §14), WebSocket (RFC 7977).
  | "accept-failed"
  | "bad-tls-options"
  | "bad-url"
  | "connect-aborted"
  | "connect-failed"
  | "connect-refused"
  | "connection-failed"
  | "connection-reset"
  | "dns-failed"
  | "fingerprint-mismatch"
  | "fingerprint-unsupported"
  | "insecure-websocket"
  | "listen-failed"
  | "listener-closed"
  | "no-peer-certificate"
  | "receive-overflow"
  | "tls-failed"
  | "tls-name-mismatch"
  | "tls-untrusted"
  | "ws-not-upgrade"
  | "ws-overflow"
  | "ws-subprotocol"
  | "ws-ca-unsupported"
  // Endpoints and relay clients (RFC 4975 §8, RFC 4976 §5).
  | "auth-failed"
  | "auth-forbidden"
  | "auth-rejected"
  | "bad-certificate"
  | "bad-relay-response"
  | "endpoint-closed"
  | "no-relays"
  | "not-listening"
  | "relay-reconnecting"
  | "rspauth-mismatch"
  // Payloads: SDP (RFC 8866, RFC 4975 §8, RFC 4145, RFC 5547), CPIM (RFC 3862), IMDN (RFC 5438), isComposing (RFC 3994), XML.
  | "bad-accept-types"
  | "bad-accept-wrapped-types"
  | "bad-file-date"
  | "bad-file-disposition"
  | "bad-file-icon"
  | "bad-file-range"
  | "bad-file-selector"
  | "bad-file-transfer-id"
  | "bad-fingerprint"
  | "bad-max-size"
  | "bad-media-type"
  | "bad-path"
  | "bad-sdp-options"
  | "bad-setup"
  | "bad-setup-answer"
  | "bad-setup-offer"
  | "cpim-bad-address"
  | "cpim-bad-content-header"
  | "cpim-bad-header-name"
  | "cpim-bad-ns"
  | "cpim-bad-parameter"
  | "cpim-bad-utf8"
  | "cpim-bare-lf"
  | "cpim-control-char"
  | "cpim-headers-too-large"
  | "cpim-missing-space"
  | "cpim-unterminated-headers"
  | "duplicate-attribute"
  | "imdn-bad-disposition"
  | "imdn-bad-notification"
  | "imdn-bad-root"
  | "imdn-bad-status"
  | "imdn-duplicate-element"
  | "imdn-incomplete-request"
  | "imdn-missing-element"
  | "imdn-missing-status"
  | "iscomposing-bad-lastactive"
  | "iscomposing-bad-refresh"
  | "iscomposing-bad-root"
  | "iscomposing-duplicate-element"
  | "iscomposing-missing-state"
  | "no-common-types"
  | "no-msrp-media"
  | "not-imdn"
  | "sdp-bad-attribute"
  | "sdp-bad-char"
  | "sdp-bad-connection"
  | "sdp-bad-line"
  | "sdp-bad-media"
  | "sdp-bad-origin"
  | "sdp-bad-port"
  | "sdp-bad-time"
  | "sdp-bad-value"
  | "sdp-bad-version"
  | "sdp-duplicate-field"
  | "sdp-empty-line"
  | "sdp-misplaced-field"
  | "sdp-missing-field"
  | "sdp-missing-version"
  | "sdp-too-large"
  | "sdp-unknown-type"
  | "setup-conflict"
  | "stream-rejected"
  | "unsupported-hash"
  | "xml-bad-char"
  | "xml-bad-char-ref"
  | "xml-bad-encoding"
  | "xml-bad-name"
  | "xml-bad-reference"
  | "xml-bad-tag"
  | "xml-bad-utf8"
  | "xml-doctype"
  | "xml-duplicate-attribute"
  | "xml-mismatched-tag"
  | "xml-no-root"
  | "xml-too-deep"
  | "xml-too-large"
  | "xml-trailing-content"
  | "xml-unbound-prefix"
  | "xml-unknown-entity"
  | "xml-unterminated"
  // The relay (RFC 4976).
  | "bad-config"
  | "bad-config-json"
  | "empty-to-path"
  | "nc-exhausted"
  | "no-challenge"
  | "registration-limit"
  | "unsupported-algorithm"
  | "unsupported-qop"
  | "weak-secret"
  // The `msrp` command.
  | "usage";

/**
 * Base class of every error thrown by this library.
 *
 * @example Tell problems apart by code
 * ```ts
 * import { MsrpEndpoint, MsrpError } from "@msrp/msrp";
 *
 * const first = await MsrpEndpoint.start({ host: "127.0.0.1", port: 0 });
 * try {
 *   await MsrpEndpoint.start({ host: "127.0.0.1", port: first.address!.port }); // taken
 * } catch (e) {
 *   if (e instanceof MsrpError && e.code === "listen-failed") console.error(e.message);
 *   else throw e;
 * }
 * await first.close();
 * ```
 */
export class MsrpError extends Error {
  /** A short, stable, machine-readable name for the problem, e.g. `"bad-uri"`. */
  readonly code: MsrpErrorCode;

  /**
   * Makes an error with a code and a message.
   *
   * @param code a short machine-readable name for the problem
   * @param message a sentence a person can read
   * @param options the standard `cause`
   */
  constructor(code: MsrpErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MsrpError";
    this.code = code;
  }
}

/**
 * A text value (URI, header field value, SDP attribute, payload) that does
 * not follow its grammar. `offset` is the index in `input` where parsing
 * stopped, so the message can point at the problem.
 *
 * @example Point at the problem in the input
 * ```ts
 * import { MsrpSyntaxError, parseUri } from "@msrp/msrp";
 *
 * try {
 *   parseUri("msrp://bob.example.com:99999/9di4ea;tcp");
 * } catch (e) {
 *   if (!(e instanceof MsrpSyntaxError)) throw e;
 *   console.log(e.code, e.offset, e.input.slice(e.offset)); // "bad-port" and where it starts
 * }
 * ```
 */
export class MsrpSyntaxError extends MsrpError {
  /** The text that failed to parse. */
  readonly input: string;
  /** Index into `input` where the problem was found. */
  readonly offset: number;

  /**
   * Makes a syntax error pointing at `offset` in `input`.
   *
   * @param code a short machine-readable name, e.g. `"bad-port"`
   * @param message what is wrong, in words
   * @param input the text being parsed
   * @param offset where in `input` the problem is
   */
  constructor(code: MsrpErrorCode, message: string, input: string, offset: number) {
    super(code, `${message} at offset ${offset} in ${JSON.stringify(input)}`);
    this.name = "MsrpSyntaxError";
    this.input = input;
    this.offset = offset;
  }
}

/**
 * Bytes on the wire that do not form a valid MSRP frame (RFC 4975 §9), or a
 * frame that breaks a limit.
 *
 * `transactionId` is set whenever the start line was read, so that a session
 * can answer with `status` (usually 400). When `fatal` is true the byte stream
 * lost its framing and the connection cannot be used any more.
 *
 * @example Answer a frame that could not be read
 * ```ts
 * import { FrameDecoderStream } from "@msrp/msrp/wire";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 2855 });
 * for await (const frame of conn.readable.pipeThrough(new FrameDecoderStream())) {
 *   if (frame.kind !== "invalid") continue;
 *   const error = frame.error; // a FrameError
 *   if (error.fatal) break; // framing lost: the connection cannot be used any more
 *   console.log(`answer ${error.transactionId} with ${error.status}`, error.code);
 * }
 * ```
 */
export class FrameError extends MsrpError {
  /** The transaction id from the start line, when one was read. */
  readonly transactionId: string | undefined;
  /** The MSRP status code a receiver should answer with. */
  readonly status: MsrpStatusCode;
  /** True when framing is lost: the stream ends with this error. */
  readonly fatal: boolean;
  /** Offset in the byte stream (counted from its first byte) of the problem. */
  readonly streamOffset: number;

  /**
   * Makes a framing error.
   *
   * @param code a short machine-readable name, e.g. `"line-too-long"`
   * @param message what is wrong, in words
   * @param details where it happened and how a receiver should react
   */
  constructor(
    code: MsrpErrorCode,
    message: string,
    details: {
      transactionId?: string;
      status?: MsrpStatusCode;
      fatal: boolean;
      streamOffset: number;
    },
  ) {
    const where = details.transactionId === undefined
      ? `at byte ${details.streamOffset}`
      : `in transaction ${details.transactionId} at byte ${details.streamOffset}`;
    super(code, `${message} (${where})`);
    this.name = "FrameError";
    this.transactionId = details.transactionId;
    this.status = details.status ?? 400;
    this.fatal = details.fatal;
    this.streamOffset = details.streamOffset;
  }
}
