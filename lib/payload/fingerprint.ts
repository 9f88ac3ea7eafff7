/**
 * Certificate fingerprints in SDP (RFC 8122 §5, RFC 4975 §14.4).
 *
 * An `msrps:` endpoint may use a self-signed TLS certificate when the SDP
 * vouches for it: the SDP carries `a=fingerprint:<hash-func> <fingerprint>`,
 * a one-way hash of the certificate's DER form written as upper-case hex
 * pairs joined by colons (RFC 8122 §5), e.g.
 *
 * ```
 * a=fingerprint:SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB
 * ```
 *
 * RFC 4975 §14.4: the endpoint MUST include it in its SDP, the certificate
 * presented in the TLS handshake needs to match it, and on a mismatch the
 * endpoint MUST tear the media session down immediately. The integrity of
 * the SDP itself comes from SIP (the Identity mechanism), not from here.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { MsrpError } from "../errors.ts";
import { attrError, isSdpToken, type SdpAttribute } from "./sdp_syntax.ts";

/** A certificate fingerprint, `a=fingerprint:<hash-func> <hex:pairs>` (RFC 8122 §5). */
export interface Fingerprint {
  /** The hash function name as written, e.g. `"sha-256"` or `"SHA-1"`. */
  hash: string;
  /** Colon-separated hex pairs, as written, e.g. `"4A:AD:B9"`. */
  value: string;
}

/** Colon-separated hex pairs, the fingerprint syntax of RFC 8122 §5 (also RFC 5547 hashes). */
export const HEX_PAIRS: RegExp = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*$/;

/**
 * Reads an `a=fingerprint` attribute (RFC 8122 §5).
 *
 * @param a the attribute
 * @returns the hash function name and the hex pairs, as written
 * @throws {MsrpSyntaxError} `bad-fingerprint`
 */
export function readFingerprint(a: SdpAttribute): Fingerprint {
  // fingerprint-attribute = "fingerprint" ":" hash-func SP fingerprint (RFC 8122 §5)
  const value = a.value ?? "";
  const space = value.indexOf(" ");
  const hash = space < 0 ? value : value.slice(0, space);
  const hex = space < 0 ? "" : value.slice(space + 1);
  if (!isSdpToken(hash)) attrError("bad-fingerprint", "the hash function is not a token", a, 0);
  if (!HEX_PAIRS.test(hex)) {
    attrError("bad-fingerprint", "the fingerprint is not colon-separated hex pairs", a, space + 1);
  }
  return { hash, value: hex };
}

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
 */
export function fingerprintMatches(fingerprint: Fingerprint, der: Uint8Array): boolean {
  if (NODE_HASHES[fingerprint.hash.toLowerCase()] === undefined) return false;
  const computed = computeFingerprint(der, fingerprint.hash);
  return computed.value === fingerprint.value.toUpperCase();
}

/** Digest lengths in octets of the hash functions {@link computeFingerprint} knows. */
const HASH_OCTETS: Record<string, number> = {
  "sha-1": 20,
  "sha-224": 28,
  "sha-256": 32,
  "sha-384": 48,
  "sha-512": 64,
  "md5": 16,
};

/**
 * Reads a certificate fingerprint as a person writes it to pin a certificate
 * (RFC 4975 §14.4 and RFC 8122 §5 use the same value in SDP):
 *
 * - `sha-256:AB:CD:…` (the `msrp --fingerprint` form),
 * - `sha-256 AB:CD:…` (the SDP form, `a=fingerprint:` left out),
 * - `SHA256 Fingerprint=AB:CD:…` (what `openssl x509 -fingerprint -sha256` prints),
 * - `AB:CD:…` alone, taken as SHA-256.
 *
 * Hex digits may be of either case, with or without the colons; the hash
 * name is written `sha-256` or `sha256` (any case). The result uses the
 * RFC 8122 spelling: lower-case hash name, upper-case hex pairs with colons.
 *
 * @param text the fingerprint as given
 * @returns the fingerprint
 * @throws {MsrpError} `bad-fingerprint` when it is not one of these forms,
 *   names a hash function other than sha-1/224/256/384/512 or md5, or has the
 *   wrong length for its hash function
 */
export function parseFingerprint(text: string): Fingerprint {
  const m =
    /^\s*(?:([A-Za-z][A-Za-z0-9-]+[0-9])(?:\s+Fingerprint=|[:= ]\s*))?((?:[0-9A-Fa-f]{2}:?)+)\s*$/
      .exec(text);
  const hex = m?.[2].replace(/:/g, "");
  if (m === null || hex === undefined || /::|:$/.test(m[2])) {
    throw new MsrpError(
      "bad-fingerprint",
      `bad fingerprint "${text}": write it as sha-256:AB:CD:… (hex pairs, as ` +
        "`openssl x509 -noout -fingerprint -sha256 -in cert.pem` prints them)",
    );
  }
  const name = (m[1] ?? "sha-256").toLowerCase().replace(
    /^(sha|md)-?(\d+)$/,
    (_, a, n) => a === "md" ? `md${n}` : `sha-${n}`,
  );
  const octets = HASH_OCTETS[name];
  if (octets === undefined) {
    throw new MsrpError(
      "bad-fingerprint",
      `bad fingerprint "${text}": unknown hash function "${m[1]}" ` +
        "(use sha-256; sha-1, sha-224, sha-384, sha-512 and md5 are known too)",
    );
  }
  if (hex.length !== octets * 2) {
    throw new MsrpError(
      "bad-fingerprint",
      `bad fingerprint "${text}": a ${name} fingerprint has ${octets} hex pairs, not ${
        hex.length / 2
      }`,
    );
  }
  return { hash: name, value: hex.toUpperCase().match(/../g)!.join(":") };
}
