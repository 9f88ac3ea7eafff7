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
 * This module reads and writes the text forms only, so that it loads on
 * every runtime; hashing a certificate belongs to the TLS transports
 * (`lib/transport/fingerprint.ts`).
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import type { Fingerprint } from "../transport/types.ts";
import { attrError, isSdpToken, type SdpAttribute } from "./sdp_syntax.ts";

export type { Fingerprint };

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

/** Digest lengths in octets of the hash functions a fingerprint may name (RFC 8122 §5). */
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
 *
 * @example Parse an a=fingerprint value (RFC 8122)
 * ```ts
 * import { parseFingerprint } from "@msrp/msrp/payload";
 *
 * const fp = parseFingerprint("SHA-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF");
 * console.log(fp.hash); // "sha-256"
 * ```
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
