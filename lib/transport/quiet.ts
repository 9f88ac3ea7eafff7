/**
 * Ending a stream that may already have ended: a transport closes or
 * errors its streams from several places (the peer's FIN, a local close,
 * a failure), and only the first of them counts (RFC 4975 §5.4: a failed
 * connection fails its sessions once).
 *
 * @module
 */

import type { MsrpError } from "../errors.ts";

/**
 * Closes a readable stream unless it is already closed, errored or cancelled.
 *
 * @param c the stream's controller
 */
export function closeQuietly(c: ReadableStreamDefaultController<Uint8Array>): void {
  try {
    c.close();
  } catch {
    // already closed, errored or cancelled
  }
}

/**
 * Errors a stream unless it is already closed or errored.
 *
 * @param c the stream's controller
 * @param error the error its reader or writer will see
 */
export function errorQuietly(
  c: ReadableStreamDefaultController<Uint8Array> | WritableStreamDefaultController,
  error: MsrpError,
): void {
  try {
    c.error(error);
  } catch {
    // already closed or errored
  }
}
