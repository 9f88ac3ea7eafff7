/**
 * HTTP Digest authentication as MSRP relays use it (RFC 4976 §5.1, §6.3,
 * §9.1; RFC 2617 §3.2; RFC 7616 §3.3-3.5, §5).
 *
 * A client proves to a relay that it knows a password without sending it:
 *
 * 1. The client sends `AUTH`. The relay answers `401` with a challenge
 *    holding a fresh `nonce` (RFC 4976 §5.1).
 * 2. The client answers with a `response` digest over its name, the realm,
 *    the password, the nonce, a nonce count `nc`, a client nonce `cnonce`,
 *    the method `AUTH` and the digest-uri, which for MSRP is the rightmost
 *    URI of the To-Path (RFC 4976 §9.1):
 *
 *    ```text
 *    HA1      = H(username ":" realm ":" password)
 *    HA2      = H("AUTH" ":" digest-uri)
 *    response = H(HA1 ":" nonce ":" nc ":" cnonce ":" "auth" ":" HA2)
 *    ```
 *
 *    where H is MD5 or SHA-256 written as lower-case hex (RFC 2617 §3.2.2.1,
 *    RFC 7616 §3.4.1). Relays store HA1, not passwords.
 * 3. The relay recomputes the digest, and answers `200` with an
 *    `Authentication-Info` whose `rspauth` is the same digest with
 *    `HA2 = H(":" digest-uri)`, proving that it knows HA1 too
 *    (RFC 2617 §3.2.3).
 *
 * This module is the computation and the client side ({@linkcode DigestClient}),
 * in plain TypeScript over `lib/wire/hash.ts` so that a relay client runs in
 * Deno, Node and browsers alike. The relay's side (nonces that expire and
 * cannot be forged, replay checks, verifying credentials) is in
 * `lib/relay/digest.ts`.
 *
 * MSRP narrows Digest (RFC 4976 §9.1): only `qop=auth` (no `auth-int`, no
 * RFC 2069 digests without qop), cnonce and nc always, and relays never
 * challenge with MD5-sess. The `-sess` variants are computed here for
 * completeness (RFC 7616 §3.4.2) but are not accepted by default.
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import {
  type AuthenticationInfo,
  type DigestChallenge,
  type DigestCredentials,
  formatAuthorization,
} from "./auth_headers.ts";
import { md5Hex, randomHex, sha256Hex, timingSafeEqualText } from "./hash.ts";

/** The Digest algorithms this module computes (RFC 7616 §3.3, §6.1). */
export type DigestAlgorithm = "MD5" | "MD5-sess" | "SHA-256" | "SHA-256-sess";

/** The hash under an algorithm, which is also what an HA1 is computed with. */
export type DigestHash = "MD5" | "SHA-256";

/** The method whose digest MSRP relay authentication computes (RFC 4976 §4.1). */
export const AUTH_METHOD = "AUTH";

/**
 * Reads an `algorithm` parameter value, case-insensitively (RFC 7616 §3.3:
 * absent means MD5).
 *
 * @param name the value as written, or undefined when absent
 * @returns the algorithm, or undefined for one this module does not know
 */
export function parseDigestAlgorithm(name: string | undefined): DigestAlgorithm | undefined {
  switch ((name ?? "MD5").toUpperCase()) {
    case "MD5":
      return "MD5";
    case "MD5-SESS":
      return "MD5-sess";
    case "SHA-256":
      return "SHA-256";
    case "SHA-256-SESS":
      return "SHA-256-sess";
    default:
      return undefined;
  }
}

/**
 * The hash an algorithm uses: `SHA-256-sess` hashes with SHA-256.
 *
 * @param algorithm the algorithm
 */
export function digestHashOf(algorithm: DigestAlgorithm): DigestHash {
  return algorithm.startsWith("SHA-256") ? "SHA-256" : "MD5";
}

function isSess(algorithm: DigestAlgorithm): boolean {
  return algorithm.endsWith("-sess");
}

/** H(data): the digest of the UTF-8 bytes of `data`, in lower-case hex (RFC 7616 §3.3). */
function h(hash: DigestHash, data: string): string {
  return hash === "MD5" ? md5Hex(data) : sha256Hex(data);
}

/**
 * HA1 = H(username ":" realm ":" password) in lower-case hex
 * (RFC 2617 §3.2.2.2, RFC 7616 §3.4.2). This is what a relay stores instead
 * of the password. For a `-sess` algorithm it is the same value (the hash of
 * the algorithm's family); {@linkcode digestResponse} adds the nonces.
 *
 * @param algorithm the algorithm (only its hash matters)
 * @param username the user name, as in the `username` parameter
 * @param realm the realm, as in the `realm` parameter
 * @param password the password
 *
 * @example A users-file line (`user:realm:HA1`, the htdigest convention)
 * ```ts
 * import { digestHa1 } from "@msrp/msrp/wire";
 *
 * console.log(`alice:relay.example.com:${digestHa1("SHA-256", "alice", "relay.example.com", "secret")}`);
 * ```
 */
export function digestHa1(
  algorithm: DigestAlgorithm,
  username: string,
  realm: string,
  password: string,
): string {
  return h(digestHashOf(algorithm), `${username}:${realm}:${password}`);
}

/** The inputs of a Digest response computation (RFC 2617 §3.2.2.1, RFC 7616 §3.4.1). */
export interface DigestResponseInput {
  /** The algorithm in use. */
  algorithm: DigestAlgorithm;
  /** HA1 in hex, from {@linkcode digestHa1} or an operator's store. */
  ha1: string;
  /** The request method; `"AUTH"` for MSRP (RFC 4976 §4.1). */
  method: string;
  /** The digest-uri; for MSRP the rightmost To-Path URI (RFC 4976 §9.1). */
  uri: string;
  /** The server nonce. */
  nonce: string;
  /** The nonce count, a number (written as 8 hex digits) or the text as sent. */
  nc: number | string;
  /** The client nonce. */
  cnonce: string;
  /** The qop; only `auth` is allowed in MSRP (RFC 4976 §9.1). */
  qop: string;
}

/** The inputs of an `rspauth` computation: those of a response without the method. */
export type DigestRspauthInput = Omit<DigestResponseInput, "method">;

function ncText(nc: number | string): string {
  if (typeof nc === "string") return nc;
  if (!Number.isInteger(nc) || nc < 0 || nc > 0xffffffff) {
    throw new MsrpError("bad-nc", `nc ${nc} is not an integer from 0 to ffffffff`);
  }
  return nc.toString(16).padStart(8, "0");
}

/** KD(HA1', nonce:nc:cnonce:qop:H(A2)), with HA1' per RFC 7616 §3.4.2. */
function kd(input: DigestRspauthInput, a2: string): string {
  if (input.qop.toLowerCase() !== "auth") {
    // RFC 4976 §9.1: auth-int makes no sense for MSRP; qop is mandatory.
    throw new MsrpError("unsupported-qop", `qop ${JSON.stringify(input.qop)} is not auth`);
  }
  const hash = digestHashOf(input.algorithm);
  let ha1 = input.ha1.toLowerCase();
  if (isSess(input.algorithm)) {
    // RFC 7616 §3.4.2: A1 = H(user:realm:passwd) ":" nonce-prime ":" cnonce-prime
    ha1 = h(hash, `${ha1}:${input.nonce}:${input.cnonce}`);
  }
  const nc = ncText(input.nc);
  return h(hash, `${ha1}:${input.nonce}:${nc}:${input.cnonce}:${input.qop}:${h(hash, a2)}`);
}

/**
 * The `response` of an `Authorization` with qop=auth: KD(HA1, nonce ":" nc
 * ":" cnonce ":" qop ":" H(method ":" digest-uri)) (RFC 2617 §3.2.2.1,
 * RFC 7616 §3.4.1, §3.4.3).
 *
 * @param input the algorithm, HA1, method, digest-uri, nonces, count and qop
 * @returns lower-case hex
 * @throws {MsrpError} `unsupported-qop` for a qop other than auth, `bad-nc`
 */
export function digestResponse(input: DigestResponseInput): string {
  return kd(input, `${input.method}:${input.uri}`);
}

/**
 * The `rspauth` of an `Authentication-Info`: the response computed with
 * A2 = ":" digest-uri, i.e. without the method (RFC 2617 §3.2.3,
 * RFC 7616 §3.5).
 *
 * @param input the algorithm, HA1, digest-uri, nonces, count and qop of the request it answers
 * @returns lower-case hex
 * @throws {MsrpError} `unsupported-qop` for a qop other than auth, `bad-nc`
 */
export function digestRspauth(input: DigestRspauthInput): string {
  return kd(input, `:${input.uri}`);
}

/**
 * The digest-uri of an MSRP AUTH: "the rightmost URI in the To-Path header"
 * (RFC 4976 §9.1), i.e. the relay being authenticated to.
 *
 * @param toPath the To-Path URIs, in order
 * @throws {MsrpError} `empty-to-path` when there is none
 */
export function authDigestUri(toPath: readonly string[]): string {
  const uri = toPath[toPath.length - 1];
  if (uri === undefined) throw new MsrpError("empty-to-path", "To-Path holds no URI");
  return uri;
}

// ---------------------------------------------------------------------------
// Client

/** Options for {@linkcode DigestClient}. */
export interface DigestClientOptions {
  /** The user name. */
  username: string;
  /** The password; or give `ha1`. */
  password?: string;
  /** Precomputed HA1 per hash (from {@linkcode digestHa1}), used when there is no password. */
  ha1?: Partial<Record<DigestHash, string>>;
  /** Makes a cnonce; 16 random bytes in hex by default. For tests. */
  cnonce?: () => string;
}

/** Preference among offered algorithms: strongest first. */
const PREFERENCE: readonly DigestAlgorithm[] = ["SHA-256", "SHA-256-sess", "MD5", "MD5-sess"];

interface Sent {
  challenge: DigestChallenge;
  algorithm: DigestAlgorithm;
  ha1: string;
  uri: string;
  nonce: string;
  nc: number;
  cnonce: string;
}

/**
 * The client side of MSRP relay authentication (RFC 4976 §5.1): answers a
 * relay's challenge with credentials and checks the relay's `rspauth`.
 * Use one per relay.
 *
 * @example Answering a relay's 401
 * ```ts
 * import { DigestClient, parseWwwAuthenticate } from "@msrp/msrp/wire";
 *
 * const header = 'Digest realm="relay.example.com", nonce="dcd98b7102dd2f0e", qop="auth"';
 * const client = new DigestClient({ username: "alice", password: "secret" });
 * const value = client.authorization(parseWwwAuthenticate(header), "msrps://relay.example.com;tcp");
 * console.log(value.startsWith("Digest ")); // true
 * ```
 */
export class DigestClient {
  #username: string;
  #password: string | undefined;
  #ha1: Partial<Record<DigestHash, string>>;
  #makeCnonce: () => string;
  #last: Sent | undefined;
  #nextnonce: string | undefined;

  /**
   * Makes a client for one user.
   *
   * @param options user name and password (or HA1)
   * @throws {MsrpError} `missing-password` when neither a password nor an HA1 is given
   */
  constructor(options: DigestClientOptions) {
    this.#username = options.username;
    this.#password = options.password;
    this.#ha1 = { ...options.ha1 };
    this.#makeCnonce = options.cnonce ?? (() => randomHex(16));
    if (this.#password === undefined && Object.keys(this.#ha1).length === 0) {
      throw new MsrpError("missing-password", "a DigestClient needs a password or an HA1");
    }
  }

  #ha1For(algorithm: DigestAlgorithm, realm: string): string | undefined {
    if (this.#password !== undefined) {
      return digestHa1(algorithm, this.#username, realm, this.#password);
    }
    return this.#ha1[digestHashOf(algorithm)];
  }

  /**
   * Credentials answering a challenge. Among several challenges (one per
   * algorithm), picks SHA-256 over MD5 (RFC 7616 §3.7 has the client take
   * the first one it supports "unless a local policy dictates otherwise";
   * this client's policy is the strongest hash) and ignores algorithms it
   * does not know (RFC 7616 §3.3).
   *
   * @param challenge the parsed `WWW-Authenticate` value(s) of the 401
   * @param uri the digest-uri: the rightmost To-Path URI of the AUTH (RFC 4976 §9.1)
   * @throws {MsrpError} `unsupported-qop` when no challenge offers qop auth,
   *   `unsupported-algorithm` when none has an algorithm this client can compute
   */
  respond(challenge: DigestChallenge | readonly DigestChallenge[], uri: string): DigestCredentials {
    const list: readonly DigestChallenge[] = Array.isArray(challenge) ? challenge : [challenge];
    // RFC 4976 §9.1: qop is mandatory and auth is the only one that fits MSRP.
    const withAuth = list.filter((c) => c.qop.some((q) => q.toLowerCase() === "auth"));
    if (withAuth.length === 0) {
      throw new MsrpError("unsupported-qop", "the challenge does not offer qop auth");
    }
    let best: { c: DigestChallenge; a: DigestAlgorithm; ha1: string; rank: number } | undefined;
    for (const c of withAuth) {
      const a = parseDigestAlgorithm(c.algorithm);
      if (a === undefined) continue;
      const rank = PREFERENCE.indexOf(a);
      if (best !== undefined && best.rank <= rank) continue;
      const ha1 = this.#ha1For(a, c.realm);
      if (ha1 !== undefined) best = { c, a, ha1, rank };
    }
    if (best === undefined) {
      throw new MsrpError(
        "unsupported-algorithm",
        `no offered algorithm can be used (${withAuth.map((c) => c.algorithm).join(", ")})`,
      );
    }
    const nc = this.#last !== undefined && this.#last.nonce === best.c.nonce
      ? this.#last.nc + 1
      : 1;
    this.#nextnonce = undefined;
    return this.#send({
      challenge: best.c,
      algorithm: best.a,
      ha1: best.ha1,
      uri,
      nonce: best.c.nonce,
      nc,
      cnonce: this.#makeCnonce(),
    });
  }

  /**
   * Credentials for another request to the same relay without a new
   * challenge, e.g. a refreshing AUTH: with the `nextnonce` of the last
   * verified `Authentication-Info` if there was one, else with the last nonce
   * and the next nonce count (RFC 2617 §3.2.3).
   *
   * @param uri the digest-uri of the new request
   * @throws {MsrpError} `no-challenge` before any {@linkcode DigestClient.respond}
   */
  renew(uri: string): DigestCredentials {
    const last = this.#last;
    if (last === undefined) throw new MsrpError("no-challenge", "no challenge has been answered");
    const next = this.#nextnonce;
    this.#nextnonce = undefined;
    const nonce = next ?? last.nonce;
    return this.#send({
      ...last,
      uri,
      nonce,
      nc: nonce === last.nonce ? last.nc + 1 : 1,
      cnonce: this.#makeCnonce(),
    });
  }

  #send(s: Sent): DigestCredentials {
    if (s.nc > 0xffffffff) {
      throw new MsrpError("nc-exhausted", "the nonce count is used up; a new challenge is needed");
    }
    this.#last = s;
    const qop = "auth";
    const credentials: DigestCredentials = {
      username: this.#username,
      realm: s.challenge.realm,
      nonce: s.nonce,
      uri: s.uri,
      // RFC 7616 §3.4: algorithm and opaque as supplied in the challenge.
      algorithm: s.challenge.algorithm,
      qop,
      nc: s.nc,
      cnonce: s.cnonce,
      response: digestResponse({ ...s, method: AUTH_METHOD, qop }),
    };
    if (s.challenge.opaque !== undefined) credentials.opaque = s.challenge.opaque;
    return credentials;
  }

  /**
   * The formatted `Authorization` value answering a challenge; see
   * {@linkcode DigestClient.respond}.
   *
   * @param challenge the parsed `WWW-Authenticate` value(s) of the 401
   * @param uri the digest-uri: the rightmost To-Path URI of the AUTH (RFC 4976 §9.1)
   * @throws {MsrpError} as {@linkcode DigestClient.respond}
   */
  authorization(challenge: DigestChallenge | readonly DigestChallenge[], uri: string): string {
    return formatAuthorization(this.respond(challenge, uri));
  }

  /**
   * Checks a relay's `Authentication-Info` against the last credentials
   * sent: rspauth must be the digest only a holder of HA1 can make, and
   * cnonce, nc and qop, when present, must echo the request (RFC 2617
   * §3.2.3, RFC 4976 §9.1). On success a `nextnonce` is kept for
   * {@linkcode DigestClient.renew}.
   *
   * @param info the parsed `Authentication-Info` of the 200
   * @returns true when the relay proved it knows the password
   */
  verifyRspauth(info: AuthenticationInfo): boolean {
    const s = this.#last;
    if (s === undefined || info.rspauth === undefined) return false;
    if (info.cnonce !== undefined && info.cnonce !== s.cnonce) return false;
    if (info.nc !== undefined && info.nc !== s.nc) return false;
    if (info.qop !== undefined && info.qop.toLowerCase() !== "auth") return false;
    const expected = digestRspauth({ ...s, qop: "auth" });
    if (!timingSafeEqualText(expected, info.rspauth.toLowerCase())) return false;
    if (info.nextnonce !== undefined) this.#nextnonce = info.nextnonce;
    return true;
  }
}
