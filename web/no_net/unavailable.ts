/**
 * What the browser bundle has in place of the TCP and TLS transports and of
 * certificate hashing: a page reaches MSRP only over WebSocket (RFC 7977
 * §3), through a relay, and has no certificate of its own. `web/bundle.json`
 * maps the library's modules to these for `deno bundle` only, so the
 * library's endpoint loads in a browser without `node:` imports; anything
 * that would open TCP or TLS throws a clear error instead.
 *
 * @module
 */

import { MsrpError, type MsrpErrorCode } from "../../lib/errors.ts";

/**
 * Throws: `what` needs a runtime with sockets.
 *
 * @param code the error's code (what the real function would fail with)
 * @param what the missing facility, for the message
 * @throws {MsrpError} with `code`, always
 */
export function unavailable(code: MsrpErrorCode, what: string): never {
  throw new MsrpError(
    code,
    `${what} is not available in a browser: a page reaches MSRP peers over WebSocket only (RFC 7977)`,
  );
}
