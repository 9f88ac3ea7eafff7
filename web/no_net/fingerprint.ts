/**
 * The browser bundle's stand-in for `lib/transport/fingerprint.ts` (see
 * `unavailable.ts`): a page has no certificate of its own to hash for SDP
 * `a=fingerprint` (RFC 4975 §14.4).
 *
 * @module
 */

import type * as fingerprint from "../../lib/transport/fingerprint.ts";
import { unavailable } from "./unavailable.ts";

/** Throws: not in a browser. */
export const computeFingerprint: typeof fingerprint.computeFingerprint = (): never =>
  unavailable("fingerprint-unsupported", "Hashing a certificate");
/** Throws: not in a browser. */
export const fingerprintMatches: typeof fingerprint.fingerprintMatches = (): never =>
  unavailable("fingerprint-unsupported", "Hashing a certificate");
