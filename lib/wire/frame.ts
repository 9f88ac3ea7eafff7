/**
 * What an MSRP frame is, as data (RFC 4975 §7.1, §7.2, §9).
 *
 * ```
 * MSRP a786hjs2 SEND                      <- start line: transaction id, method
 * To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
 * From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
 * Message-ID: 87652491
 * Byte-Range: 1-25/25
 * Content-Type: text/plain                <- last header when there is a body
 *                                         <- blank line
 * Hey Bob, are you there?                 <- body (any bytes)
 * -------a786hjs2$                        <- end-line: 7 dashes, id, flag
 * ```
 *
 * A request's body can be arbitrarily large (a chunk of a 1 GB file), so the
 * decoder may deliver one request as several {@linkcode MsrpRequest} values,
 * "pieces", that share the start line and headers: each carries the next run
 * of body bytes and its `offset` within the chunk's body, and only the last
 * one has the end-line `flag`. Small requests arrive as a single value with
 * `offset` 0 and a flag. The encoder accepts the same pieces, so a relay can
 * pass a chunk through as it arrives.
 *
 * @module
 */

import type { FrameError } from "../errors.ts";
import type { HeaderList } from "./header_list.ts";

/**
 * The flag that ends the end-line (§7.1):
 * `$` last chunk of the message, `+` more chunks follow, `#` message aborted.
 */
export type ContinuationFlag = "$" | "+" | "#";

/** A request (SEND, REPORT, AUTH or an extension method), or one piece of one. */
export interface MsrpRequest {
  /** Discriminates requests from responses. */
  readonly kind: "request";
  /** The transaction identifier from the start line (§7.1, `ident`). */
  readonly tid: string;
  /** The method name, `1*UPALPHA`: `SEND`, `REPORT`, `AUTH`, ... */
  readonly method: string;
  /** The header fields in wire order. */
  readonly headers: HeaderList;
  /**
   * Body bytes carried by this value. `null` means the request has no body
   * section at all (a "bodiless" request, §7.1), which differs from an empty
   * body (Content-Type present, zero octets).
   */
  readonly body: Uint8Array | null;
  /** Position of `body` within the chunk's body; 0 for the first piece. */
  readonly offset: number;
  /** The end-line flag; `undefined` while more pieces of this request follow. */
  readonly flag: ContinuationFlag | undefined;
}

/** A transaction response (§7.2). Responses never carry a body. */
export interface MsrpResponse {
  /** Discriminates responses from requests. */
  readonly kind: "response";
  /** The transaction identifier of the request being answered. */
  readonly tid: string;
  /** The three-digit status code (§10). */
  readonly status: number;
  /** The optional reason phrase after the status code; `""` when absent. */
  readonly comment: string;
  /** The header fields in wire order. */
  readonly headers: HeaderList;
  /** The end-line flag; always `$` from compliant senders. */
  readonly flag: ContinuationFlag;
}

/** A request or a response: what the encoder accepts and the decoder yields. */
export type Frame = MsrpRequest | MsrpResponse;

/**
 * What the decoder yields in place of a frame it could not read (§9).
 *
 * Errors travel in-band, after every frame that came before them, so nothing
 * already decoded is lost. When `error.fatal` is false the decoder has skipped
 * to the frame's end-line and goes on with the next frame; a session answers
 * `error.status` (usually 400) to `tid`. When it is true the stream ends here.
 */
export interface InvalidFrame {
  /** Discriminates the in-band error from frames. */
  readonly kind: "invalid";
  /** What was wrong, where, and the status code to answer with. */
  readonly error: FrameError;
  /** The transaction id, when the start line was read. */
  readonly tid: string | undefined;
  /** The method, when the start line was a request. */
  readonly method: string | undefined;
  /** The status code, when the start line was a response. */
  readonly status: number | undefined;
  /** The header fields read before the problem (From-Path is needed to answer). */
  readonly headers: HeaderList;
}

/** What {@linkcode FrameDecoderStream} yields. */
export type DecodedFrame = Frame | InvalidFrame;

/**
 * A request given to the encoder with a body still to be read from a stream.
 * The encoder writes the head, then the stream's bytes as they come, then the
 * end-line with `flag`.
 */
export interface StreamingRequest {
  /** Discriminates the streaming form. */
  readonly kind: "request";
  /** The transaction identifier (§7.1). */
  readonly tid: string;
  /** The method name. */
  readonly method: string;
  /** The header fields; Content-Type must be present for a body (§7.1). */
  readonly headers: HeaderList;
  /** The body, read to its end. */
  readonly body: ReadableStream<Uint8Array>;
  /** Must be 0: a streamed body is always a whole chunk. */
  readonly offset: 0;
  /** The flag written after the last byte of the stream. */
  readonly flag: ContinuationFlag;
}

/** What {@linkcode FrameEncoderStream} accepts. */
export type OutgoingFrame = Frame | StreamingRequest;

/** The letters allowed in a transaction id or Message-ID (`ident`, §9). */
const IDENT = /^[A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31}$/;

/**
 * Whether `s` is a valid `ident` (§9): an alphanumeric followed by 3 to 31 of
 * alphanumerics and `. - + % =`. Transaction ids and Message-IDs are idents.
 *
 * @param s the candidate identifier
 */
export function isIdent(s: string): boolean {
  return IDENT.test(s);
}
