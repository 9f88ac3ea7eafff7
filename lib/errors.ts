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

/** Base class of every error thrown by this library. */
export class MsrpError extends Error {
  /** A short, stable, machine-readable name for the problem, e.g. `"bad-uri"`. */
  readonly code: string;

  /**
   * Makes an error with a code and a message.
   *
   * @param code a short machine-readable name for the problem
   * @param message a sentence a person can read
   * @param options the standard `cause`
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MsrpError";
    this.code = code;
  }
}

/**
 * A text value (URI, header field value, SDP attribute, payload) that does
 * not follow its grammar. `offset` is the index in `input` where parsing
 * stopped, so the message can point at the problem.
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
  constructor(code: string, message: string, input: string, offset: number) {
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
    code: string,
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
