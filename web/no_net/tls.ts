/**
 * The browser bundle's stand-in for `lib/transport/tls.ts` (see
 * `unavailable.ts`): a page cannot open TLS connections or listen; the
 * browser does TLS for the WebSocket itself.
 *
 * @module
 */

import type * as tls from "../../lib/transport/tls.ts";
import { unavailable } from "./unavailable.ts";

export type { TlsTransport } from "../../lib/transport/tls.ts";

/** Throws: not in a browser. */
export const connectTls: typeof tls.connectTls = (): never =>
  unavailable("connect-failed", "TLS over TCP");
/** Throws: not in a browser. */
export const listenTls: typeof tls.listenTls = (): never =>
  unavailable("listen-failed", "Listening on TLS");
/** Throws: not in a browser (only a TLS listener has peers' certificates to check). */
export const checkPeerFingerprint: typeof tls.checkPeerFingerprint = (): never =>
  unavailable("fingerprint-unsupported", "Checking a TLS peer's certificate");
