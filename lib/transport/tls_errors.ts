/**
 * Why a TLS connection for `msrps:` failed, in words a user can act on
 * (RFC 4975 §5.4, §14.2: the certificate must chain up to a trusted root and
 * carry the URI's host; §14.4: or match the fingerprint in the peer's SDP).
 *
 * The two TLS stacks Deno offers report a refused certificate differently:
 *
 * - **Deno's own TLS** (`Deno.startTls`, rustls underneath) fails with an
 *   `InvalidData` error whose message is rustls' `Display` of
 *   `Error::InvalidCertificate`: `invalid peer certificate: ` followed by the
 *   `CertificateError`, e.g. `UnknownIssuer`; `certificate expired:
 *   verification time … (UNIX), but certificate is not valid after …`;
 *   `certificate not valid yet: …`; `certificate not valid for name "x";
 *   certificate is only valid for DnsName("localhost") or
 *   IpAddress(127.0.0.1)`; `certificate does not allow extended key usage
 *   for server authentication, …`; `BadSignature`; and
 *   `Other(OtherError(CaUsedAsEndEntity))` for a CA certificate presented as
 *   a server certificate (what `openssl req -x509` makes by default, since it
 *   sets `basicConstraints = CA:TRUE`; webpki refuses it as an end entity
 *   even when it is one of the trusted roots). These texts were read off
 *   Deno 2.9.6 by the tests in tests/transport/tls_errors_test.ts.
 * - **`node:tls`** (used for fingerprints and client certificates) gives a
 *   Node error code (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`,
 *   `DEPTH_ZERO_SELF_SIGNED_CERT`, `ERR_TLS_CERT_ALTNAME_INVALID`, …). In
 *   Deno 2.9 an expired certificate also reads
 *   `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, so on that path the certificate's
 *   dates are read to tell the cause.
 *
 * Both end up here as a {@link TlsCertificateError} whose
 * {@link TlsCertificateError.problem} names the cause and whose message says
 * what to do about it. Other handshake failures (a fatal alert from the
 * peer, no common cipher suite) stay `tls-failed` with the stack's text.
 *
 * @module
 */

import { MsrpError } from "../errors.ts";

/**
 * What a diagnosis reads off the certificate a peer presented: the fields of
 * `node:crypto`'s `X509Certificate` that matter here. The caller parses it
 * (`lib/transport/tls.ts`), so that this module loads on every runtime; the
 * WebSocket transport uses it in browsers too.
 */
export interface CertificateFacts {
  /** Start of the validity period, a date string `Date.parse` reads. */
  readonly validFrom: string;
  /** End of the validity period, a date string `Date.parse` reads. */
  readonly validTo: string;
  /** `DNS:a, IP Address:b, …`, when the certificate has a subjectAltName. */
  readonly subjectAltName?: string;
}

/** What is wrong with the certificate a peer presented. */
export type CertificateProblem =
  /** It does not chain up to a trusted root: self-signed, or issued by a CA we do not trust. */
  | "unknown-issuer"
  /** It is a CA certificate (CA:TRUE) presented as a server certificate. */
  | "ca-as-end-entity"
  /** It does not carry the host name or address of the URI (RFC 4975 §5.4). */
  | "name-mismatch"
  /** Its validity period has ended. */
  | "expired"
  /** Its validity period has not begun. */
  | "not-yet-valid"
  /** Its extended key usage does not allow a TLS server. */
  | "wrong-purpose"
  /** A signature in the chain is wrong or uses an algorithm the stack refuses. */
  | "bad-signature"
  /** Its issuer revoked it. */
  | "revoked"
  /** Anything else the TLS stack refused it for (the message quotes the stack). */
  | "other";

/**
 * A peer's certificate was refused. `code` is `tls-name-mismatch` for
 * {@link CertificateProblem} `name-mismatch`, else `tls-untrusted`.
 *
 * @example Why a certificate was refused
 * ```ts
 * import { TlsCertificateError } from "@msrp/msrp";
 * import { connectTls } from "@msrp/msrp/transport";
 *
 * try {
 *   await connectTls({ hostname: "relay.example.com", port: 2855 });
 * } catch (e) {
 *   if (e instanceof TlsCertificateError) console.error(e.problem, e.message); // e.g. "unknown-issuer"
 *   else throw e;
 * }
 * ```
 */
export class TlsCertificateError extends MsrpError {
  /** Why the certificate was refused. */
  readonly problem: CertificateProblem;

  /**
   * Makes the error.
   *
   * @param problem why the certificate was refused
   * @param message the whole sentence: where, what is wrong, how to fix it
   * @param options the TLS stack's own error as `cause`
   */
  constructor(problem: CertificateProblem, message: string, options?: ErrorOptions) {
    super(problem === "name-mismatch" ? "tls-name-mismatch" : "tls-untrusted", message, options);
    this.name = "TlsCertificateError";
    this.problem = problem;
  }
}

/** How a user makes a peer trusted without a public CA. */
const PIN_HINT = "pin the certificate by its SHA-256 fingerprint " +
  "(msrp --fingerprint sha-256:<hex>; library: fingerprints)";
const CA_HINT = "trust the CA that issued it (msrp --ca <ca.pem>; library: caCerts)";

/** What the stack said, read into a problem and its details. */
interface Diagnosis {
  problem: CertificateProblem;
  /** Names the certificate is valid for, when known. */
  names?: string[];
  /** The end of the validity period, for `expired`. */
  notAfter?: Date;
  /** The start of the validity period, for `not-yet-valid`. */
  notBefore?: Date;
  /** The stack's own words, for `other`. */
  detail?: string;
}

/**
 * Reads rustls' `invalid peer certificate: …` text (Deno's own TLS).
 *
 * @returns the diagnosis, or undefined when the text is not about the
 *   peer's certificate
 */
function fromRustls(text: string): Diagnosis | undefined {
  const m = /invalid peer certificate: (.*)$/is.exec(text);
  if (m === null) return undefined;
  const detail = m[1].trim();
  const name = /^certificate not valid for name "(.*?)"(?:; certificate is only valid for (.*))?/is
    .exec(detail);
  if (name !== null || /^NotValidForName/.test(detail)) {
    const names = name?.[2] === undefined ? undefined : [
      ...name[2].matchAll(/(?:DnsName|IpAddress)\(("?)(.*?)\1\)/g),
    ].map((x) => canonicalIp(x[2]));
    return { problem: "name-mismatch", names };
  }
  const expired = /^certificate expired:.*not valid after (\d+)/is.exec(detail);
  if (expired !== null || /^Expired/.test(detail)) {
    return { problem: "expired", notAfter: unixDate(expired?.[1]) };
  }
  const early = /^certificate not valid yet:.*not valid before (\d+)/is.exec(detail);
  if (early !== null || /^NotValidYet/.test(detail)) {
    return { problem: "not-yet-valid", notBefore: unixDate(early?.[1]) };
  }
  if (/CaUsedAsEndEntity/.test(detail)) return { problem: "ca-as-end-entity" };
  if (/^UnknownIssuer/.test(detail)) return { problem: "unknown-issuer" };
  if (/^InvalidPurpose|RequiredEkuNotFound|extended key usage/i.test(detail)) {
    return { problem: "wrong-purpose" };
  }
  if (/^BadSignature|UnsupportedSignatureAlgorithm/.test(detail)) {
    return { problem: "bad-signature" };
  }
  if (/^Revoked/.test(detail)) return { problem: "revoked" };
  return { problem: "other", detail };
}

/** An IPv6 address as usually written (rustls writes `0::1` for `::1`); anything else as is. */
function canonicalIp(name: string): string {
  if (!name.includes(":")) return name;
  try {
    return new URL(`http://[${name}]/`).hostname.slice(1, -1);
  } catch {
    return name;
  }
}

function unixDate(seconds: string | undefined): Date | undefined {
  return seconds === undefined ? undefined : new Date(Number(seconds) * 1000);
}

/** Node's certificate verification codes (`node:tls`) and what they mean. */
const NODE_CODES: Record<string, CertificateProblem> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unknown-issuer",
  UNABLE_TO_GET_ISSUER_CERT: "unknown-issuer",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unknown-issuer",
  DEPTH_ZERO_SELF_SIGNED_CERT: "unknown-issuer",
  SELF_SIGNED_CERT_IN_CHAIN: "unknown-issuer",
  CERT_UNTRUSTED: "unknown-issuer",
  INVALID_CA: "unknown-issuer",
  CERT_HAS_EXPIRED: "expired",
  CERT_NOT_YET_VALID: "not-yet-valid",
  CERT_SIGNATURE_FAILURE: "bad-signature",
  CERT_REVOKED: "revoked",
  INVALID_PURPOSE: "wrong-purpose",
  ERR_TLS_CERT_ALTNAME_INVALID: "name-mismatch",
};

/**
 * Reads a `node:tls` verification failure, with the certificate when the
 * handshake got that far: its dates and names say more than the code does.
 */
function fromNode(
  code: string,
  text: string,
  cert: CertificateFacts | undefined,
): Diagnosis | undefined {
  let problem = NODE_CODES[code];
  if (problem === undefined) return undefined;
  if (cert !== undefined && problem !== "name-mismatch") {
    const now = Date.now();
    if (Date.parse(cert.validTo) < now) problem = "expired";
    else if (Date.parse(cert.validFrom) > now) problem = "not-yet-valid";
  }
  const altNames = /altnames: (.*)$/i.exec(text)?.[1];
  const names = altNames !== undefined
    ? altNames.split(/,\s*/).map((n) => n.replace(/^(DNS|IP Address):/, ""))
    : cert?.subjectAltName?.split(/,\s*/).map((n) => n.replace(/^(DNS|IP Address):/, ""));
  return {
    problem,
    names: problem === "name-mismatch" ? names : undefined,
    notAfter: cert === undefined ? undefined : new Date(cert.validTo),
    notBefore: cert === undefined ? undefined : new Date(cert.validFrom),
  };
}

function sentence(d: Diagnosis, name: string): string {
  switch (d.problem) {
    case "unknown-issuer":
      return "the certificate is not trusted: its issuer is unknown (it is self-signed, or " +
        `issued by a CA we do not trust); ${CA_HINT}, or ${PIN_HINT}`;
    case "ca-as-end-entity":
      return "the certificate is a CA certificate (basicConstraints CA:TRUE, as " +
        "`openssl req -x509` makes by default) and cannot be a server certificate; make a leaf " +
        `certificate (CA:FALSE) signed by a CA and trust that CA, or ${PIN_HINT}`;
    case "name-mismatch": {
      const valid = d.names !== undefined && d.names.length > 0
        ? ` (it is valid for ${d.names.join(", ")})`
        : "";
      return `the certificate is not valid for "${name}"${valid}; use a URI host the ` +
        `certificate names, or a certificate whose subjectAltName includes "${name}"`;
    }
    case "expired":
      return `the certificate expired${d.notAfter ? ` on ${isoDate(d.notAfter)}` : ""}; ` +
        "the peer needs a new certificate (or this machine's clock is wrong)";
    case "not-yet-valid":
      return "the certificate is not valid yet" +
        `${d.notBefore ? ` (it starts on ${isoDate(d.notBefore)})` : ""}; check the clocks of ` +
        "this machine and of the machine that made the certificate";
    case "wrong-purpose":
      return "the certificate's extended key usage does not allow a TLS server " +
        "(serverAuth); make one with extendedKeyUsage = serverAuth";
    case "bad-signature":
      return "a signature in the certificate chain is wrong or uses an algorithm that is " +
        "refused; make the certificate again (ECDSA P-256 or RSA 2048+ with SHA-256)";
    case "revoked":
      return "the certificate was revoked by its issuer";
    case "other":
      return `the certificate was refused (${d.detail}); ${PIN_HINT}`;
  }
}

function isoDate(d: Date): string {
  return Number.isNaN(d.getTime()) ? "an unknown date" : d.toISOString().replace(".000Z", "Z");
}

/**
 * Reads what a TLS stack threw while connecting: when the peer's
 * certificate was refused, the {@link CertificateProblem} and a sentence
 * saying what is wrong and how to fix it.
 *
 * @param e what the stack threw: rustls' error text through Deno's TLS (or
 *   Deno's `WebSocket`), or a `node:tls` error with a `code`
 * @param name the name the certificate had to carry (the URI host)
 * @param cert the certificate the peer presented, when known (`node:tls`)
 * @returns the problem and the sentence, or undefined when the failure is
 *   not about the certificate
 */
export function diagnoseCertificate(
  e: unknown,
  name: string,
  cert?: CertificateFacts,
): { problem: CertificateProblem; reason: string } | undefined {
  const code = (e as { code?: unknown })?.code;
  const text = e instanceof Error ? e.message : String(e);
  const d = (typeof code === "string" ? fromNode(code, text, cert) : undefined) ?? fromRustls(text);
  return d === undefined ? undefined : { problem: d.problem, reason: sentence(d, name) };
}

/**
 * Turns what a TLS stack threw while connecting into a {@link MsrpError}
 * that names the cause and the fix.
 *
 * @param where the address connected to, for the message
 * @param name the name the certificate had to carry (the URI host)
 * @param e what the stack threw (see {@link diagnoseCertificate})
 * @param cert the certificate the peer presented, when known (`node:tls`)
 * @returns a {@link TlsCertificateError} for a refused certificate, else an
 *   `MsrpError` `tls-failed` quoting the stack
 */
export function tlsError(
  where: string,
  name: string,
  e: unknown,
  cert?: CertificateFacts,
): MsrpError {
  if (e instanceof MsrpError) return e;
  const d = diagnoseCertificate(e, name, cert);
  if (d !== undefined) {
    return new TlsCertificateError(d.problem, `cannot connect to ${where} over TLS: ${d.reason}`, {
      cause: e,
    });
  }
  const text = e instanceof Error ? e.message : String(e);
  return new MsrpError("tls-failed", `cannot connect to ${where} over TLS: ${text}`, {
    cause: e,
  });
}
