/**
 * Computing and checking certificate fingerprints (RFC 8122 §5, RFC 4975
 * §14.4): the hash of a certificate's DER form, written as upper-case hex
 * pairs joined by colons. The TLS transports use it to check the certificate
 * a peer presented against the `a=fingerprint` of its SDP; the text forms
 * (reading `a=fingerprint`, parsing a pin) are in `lib/payload/fingerprint.ts`.
 *
 * It hashes with `node:crypto` (SHA-1, SHA-2 and MD5 all at once, and
 * synchronously), so, like the TLS transports, it runs in Deno and Node only.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { MsrpError } from "../errors.ts";
import type { Fingerprint } from "./types.ts";

const NODE_HASHES: Record<string, string> = {
  "sha-1": "sha1",
  "sha-224": "sha224",
  "sha-256": "sha256",
  "sha-384": "sha384",
  "sha-512": "sha512",
  "md5": "md5",
};

/**
 * Computes the fingerprint of a DER-encoded certificate for `a=fingerprint`
 * (RFC 8122 §5: upper-case hex pairs joined by colons).
 *
 * @param der the certificate in DER form
 * @param hash the hash function name, default `"sha-256"`
 * @returns the fingerprint
 * @throws {MsrpError} `unsupported-hash` for a hash function other than sha-1/224/256/384/512, md5
 *
 * @example The fingerprint of a certificate
 * ```ts
 * import { computeFingerprint } from "@msrp/msrp/transport";
 *
 * const der = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]); // a certificate, DER form
 * const fp = computeFingerprint(der);
 * console.log(`a=fingerprint:${fp.hash} ${fp.value}`);
 * ```
 */
export function computeFingerprint(der: Uint8Array, hash = "sha-256"): Fingerprint {
  const algorithm = NODE_HASHES[hash.toLowerCase()];
  if (algorithm === undefined) {
    throw new MsrpError("unsupported-hash", `unsupported fingerprint hash function "${hash}"`);
  }
  const digest = createHash(algorithm).update(der).digest("hex").toUpperCase();
  return { hash, value: digest.match(/../g)!.join(":") };
}

/**
 * Whether a certificate matches a fingerprint from the peer's SDP (RFC 4975
 * §14.4: on a mismatch the session MUST be torn down). The hash name and
 * the hex digits are compared case-insensitively.
 *
 * @param fingerprint the fingerprint from `a=fingerprint`
 * @param der the certificate the peer presented, DER form
 * @returns true on a match; false on a mismatch or an unsupported hash function
 *
 * @example Does a certificate match an a=fingerprint?
 * ```ts
 * import { computeFingerprint, fingerprintMatches } from "@msrp/msrp/transport";
 *
 * const der = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]);
 * console.log(fingerprintMatches(computeFingerprint(der, "sha-1"), der)); // true
 * ```
 */
export function fingerprintMatches(fingerprint: Fingerprint, der: Uint8Array): boolean {
  if (NODE_HASHES[fingerprint.hash.toLowerCase()] === undefined) return false;
  const computed = computeFingerprint(der, fingerprint.hash);
  return computed.value === fingerprint.value.toUpperCase();
}
