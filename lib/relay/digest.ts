/**
 * The relay's side of HTTP Digest authentication (RFC 4976 §5.1, §6.3,
 * §9.1; RFC 7616 §3.3-3.5, §5): nonces that expire and cannot be forged
 * ({@linkcode NonceManager}), each nonce count usable once and increasing
 * (RFC 7616 §3.4 `nc`, §5.4, §5.5), and checking a client's credentials
 * ({@linkcode verifyCredentials}).
 *
 * The digest computation and the client side are in `lib/wire/digest.ts`
 * (re-exported here), below the relay, so that relay clients need neither
 * this module nor `node:crypto`. Nonces are MACed with `node:crypto`'s HMAC.
 *
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import { MsrpError } from "../errors.ts";
import {
  AUTH_METHOD,
  type DigestAlgorithm,
  type DigestHash,
  digestHashOf,
  digestResponse,
  digestRspauth,
  parseDigestAlgorithm,
} from "../wire/digest.ts";
import type { AuthenticationInfo, DigestCredentials } from "../wire/auth_headers.ts";
import { randomHex, timingSafeEqualText } from "../wire/hash.ts";

export * from "../wire/digest.ts";

// ---------------------------------------------------------------------------
// Nonces

/** Options for {@linkcode NonceManager}. */
export interface NonceManagerOptions {
  /** The HMAC key; 32 random bytes by default. Share it to accept nonces across restarts. */
  secret?: Uint8Array;
  /** How long a nonce stays good, in milliseconds (default 300 000, five minutes). */
  lifetimeMs?: number;
  /**
   * How many used nonces' counts are remembered at most (default 10 000).
   * Issuing a nonce remembers nothing; only a nonce that came back with a
   * correct digest takes a place. When the table is full the least recently
   * used entry goes, and every nonce issued no later than it then reads as
   * stale (never as ok again).
   */
  maxTracked?: number;
  /** The clock, in milliseconds; injectable for tests. */
  now?: () => number;
}

/**
 * What {@linkcode NonceManager.check} found:
 * - `ok`: issued here, fresh, and the count is new;
 * - `stale`: issued here but too old, or its counts may have been forgotten
 *   (the client should retry with a new nonce: answer with `stale=true`);
 * - `invalid`: not a nonce this manager issued (bad form or MAC);
 * - `replay`: the nonce count is not above the highest seen for it.
 */
export type NonceCheck = "ok" | "stale" | "invalid" | "replay";

/** Issue time (8 bytes) + random (16) + truncated HMAC-SHA256 (16). */
const NONCE_BYTES = 40;
/** base64url without padding of 40 bytes. */
const NONCE_CHARS = 54;
const MAC_START = 24;

function base64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function isBase64urlChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x2d || c === 0x5f;
}

/**
 * The server side of nonces: issues nonces that cannot be forged and checks
 * them with replay protection (RFC 7616 §3.3 `nonce`, §5.4, §5.5).
 *
 * A nonce is base64url(issue time ‖ 16 random bytes ‖ HMAC-SHA256(secret,
 * time ‖ random) cut to 16 bytes), the construction RFC 7616 §3.3 suggests
 * ("timestamp H(timestamp ":" ETag ":" secret-data)") with a keyed MAC.
 * So issuing a nonce stores nothing: the MAC tells the relay's own nonces
 * from forgeries, and the time inside tells whether one has expired. A flood
 * of challenges therefore costs no memory and cannot push a slow client's
 * nonce out of a table.
 *
 * Replay protection (RFC 7616 §3.4 `nc`) needs state only for nonces that
 * were actually used: the highest count seen per nonce, kept from its first
 * use until it expires. That table is bounded; when it is full the least
 * recently used entry goes and a horizon moves up to that entry's issue
 * time, so that a nonce issued no later than the horizon and no longer
 * remembered reads as stale (the client just retries with a fresh nonce),
 * never as ok. The horizon starts at the manager's creation, so a manager
 * restarted with the same secret does not accept old nonces afresh.
 *
 * ```ts
 * const nonces = new NonceManager();
 * const nonce = nonces.issue();
 * nonces.check(nonce, 1); // "ok"
 * nonces.check(nonce, 1); // "replay"
 * ```
 */
export class NonceManager {
  #secret: Uint8Array;
  #lifetimeMs: number;
  #maxTracked: number;
  #now: () => number;
  /** Used nonce -> issue time and highest nc seen, least recently used first. */
  #tracked = new Map<string, { issued: number; nc: number }>();
  /** Nonces issued at or before this time and not in the table read as stale. */
  #horizon: number;

  /**
   * Makes a manager with its own secret unless one is given.
   *
   * @param options secret, lifetime, memory bound and clock
   */
  constructor(options: NonceManagerOptions = {}) {
    this.#secret = options.secret ?? crypto.getRandomValues(new Uint8Array(32));
    if (this.#secret.length < 16) {
      throw new MsrpError("weak-secret", "the nonce secret must be at least 16 bytes");
    }
    this.#lifetimeMs = options.lifetimeMs ?? 300_000;
    this.#maxTracked = Math.max(1, Math.floor(options.maxTracked ?? 10_000));
    this.#now = options.now ?? Date.now;
    // Nonces issued before this manager existed (an earlier run sharing the
    // secret) may have been used already: they read as stale.
    this.#horizon = Math.floor(this.#now()) - 1;
  }

  /** How many used nonces' counts are remembered now (at most `maxTracked`). */
  get size(): number {
    return this.#tracked.size;
  }

  #mac(body: Uint8Array): Uint8Array {
    const mac = createHmac("sha256", this.#secret).update(body).digest();
    return new Uint8Array(mac.buffer, mac.byteOffset, 16);
  }

  /** Issues a fresh nonce. Nothing is stored until it comes back in use. */
  issue(): string {
    const bytes = new Uint8Array(NONCE_BYTES);
    // Never at or below the horizon, where an unused nonce reads stale. The
    // horizon passes the clock only if the clock went back, or if more than
    // maxTracked nonces were used within a millisecond; the nonce then reads
    // as from the future (stale) until the clock catches up.
    const t = Math.max(0, Math.floor(this.#now()), this.#horizon + 1);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, Math.floor(t / 2 ** 32));
    view.setUint32(4, t >>> 0);
    crypto.getRandomValues(bytes.subarray(8, MAC_START));
    bytes.set(this.#mac(bytes.subarray(0, MAC_START)), MAC_START);
    return base64url(bytes);
  }

  #expired(issued: number, now: number): boolean {
    const age = now - issued;
    // A nonce from the future means the clock went back: treat it as stale.
    return age < 0 || age >= this.#lifetimeMs;
  }

  /** The issue time of a well-formed nonce with a good MAC, else undefined. */
  #open(nonce: string): number | undefined {
    if (nonce.length !== NONCE_CHARS) return undefined;
    for (let i = 0; i < nonce.length; i++) {
      if (!isBase64urlChar(nonce.charCodeAt(i))) return undefined;
    }
    const bin = atob(nonce.replaceAll("-", "+").replaceAll("_", "/") + "==");
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    // One spelling per nonce: the last letter's spare bits must be zero.
    if (bytes.length !== NONCE_BYTES || base64url(bytes) !== nonce) return undefined;
    const expected = this.#mac(bytes.subarray(0, MAC_START));
    if (!timingSafeEqual(expected, bytes.subarray(MAC_START))) return undefined;
    const view = new DataView(bytes.buffer);
    return view.getUint32(0) * 2 ** 32 + view.getUint32(4);
  }

  /**
   * Checks a nonce without using up a nonce count: `ok`, `stale` or
   * `invalid` as in {@linkcode NonceCheck}. Records nothing.
   *
   * @param nonce the nonce from the credentials
   */
  validate(nonce: string): "ok" | "stale" | "invalid" {
    return this.#validate(nonce).state;
  }

  #validate(nonce: string): { state: "ok" | "stale" | "invalid"; issued: number } {
    const issued = this.#open(nonce);
    if (issued === undefined) return { state: "invalid", issued: 0 };
    if (this.#expired(issued, this.#now())) {
      if (this.#tracked.delete(nonce)) this.#forgot(issued);
      return { state: "stale", issued };
    }
    // Below the horizon, only a nonce still remembered is known not to be a replay.
    if (issued <= this.#horizon && !this.#tracked.has(nonce)) return { state: "stale", issued };
    return { state: "ok", issued };
  }

  /**
   * Checks a nonce and its count, and records the count when it is new
   * (RFC 7616 §3.4 `nc`: "if the same nc value is seen twice, then the
   * request is a replay"). The first use of a nonce takes a place in the
   * bounded table of used nonces.
   *
   * @param nonce the nonce from the credentials
   * @param nc the nonce count from the credentials
   */
  check(nonce: string, nc: number): NonceCheck {
    const { state, issued } = this.#validate(nonce);
    if (state !== "ok") return state;
    const entry = this.#tracked.get(nonce);
    if (!Number.isInteger(nc) || !(nc > (entry?.nc ?? 0))) return "replay";
    // Most recently used last.
    this.#tracked.delete(nonce);
    this.#tracked.set(nonce, { issued, nc });
    this.#trim(this.#now());
    return "ok";
  }

  /** Drops expired entries at the front, then the least recently used past the bound. */
  #trim(now: number): void {
    for (const [nonce, entry] of this.#tracked) {
      if (!this.#expired(entry.issued, now)) break;
      this.#tracked.delete(nonce);
      this.#forgot(entry.issued);
    }
    while (this.#tracked.size > this.#maxTracked) {
      const [nonce, entry] = this.#tracked.entries().next().value!;
      this.#tracked.delete(nonce);
      this.#forgot(entry.issued);
    }
  }

  /**
   * The counts of a nonce issued at `issued` are forgotten: from now on every
   * nonce issued then or earlier and not in the table reads as stale, even if
   * the clock goes back.
   */
  #forgot(issued: number): void {
    if (issued > this.#horizon) this.#horizon = issued;
  }
}

// ---------------------------------------------------------------------------
// Server

/** Why {@linkcode verifyCredentials} refused credentials. */
export type VerifyFailureReason =
  | "unknown-user"
  | "bad-response"
  | "stale"
  | "invalid-nonce"
  | "replay"
  | "missing-qop"
  | "wrong-uri"
  | "wrong-realm"
  | "unsupported-algorithm";

/** The inputs of {@linkcode verifyCredentials}. */
export interface VerifyCredentialsInput {
  /** The parsed `Authorization` value. */
  credentials: DigestCredentials;
  /** The request method (default `"AUTH"`). */
  method?: string;
  /** The digest-uri the request must carry: the rightmost To-Path URI (RFC 4976 §9.1). */
  expectedUri: string;
  /** The realm this relay challenged with. */
  realm: string;
  /**
   * Finds the stored HA1 of a user for a hash, or undefined for an unknown
   * user. Its own timing is the caller's concern.
   */
  lookupHa1: (username: string, realm: string, hash: DigestHash) => string | undefined;
  /** The relay's nonces. */
  nonces: NonceManager;
  /** Algorithms accepted (default SHA-256 and MD5; RFC 4976 §9.1 rules out MD5-sess). */
  algorithms?: readonly DigestAlgorithm[];
  /**
   * Whether the request's `uri` parameter names the expected URI (default:
   * the same text). Pass a URI comparison (RFC 4975 §6.1) to be liberal.
   */
  uriMatches?: (uri: string, expected: string) => boolean;
  /** Whether to issue a `nextnonce` in the Authentication-Info (default false). */
  nextnonce?: boolean;
}

/** Accepted credentials. */
export interface VerifySuccess {
  /** Always true. */
  ok: true;
  /** The authenticated user. */
  username: string;
  /** The algorithm used. */
  algorithm: DigestAlgorithm;
  /** The server's proof for `Authentication-Info`. */
  rspauth: string;
  /**
   * The `Authentication-Info` to send with the 200: rspauth, cnonce, nc and
   * qop, which RFC 4976 §9.1 requires, and `nextnonce` when asked for.
   */
  authenticationInfo: AuthenticationInfo;
}

/** Refused credentials. */
export interface VerifyFailure {
  /** Always false. */
  ok: false;
  /** Why. For `stale` the relay answers 401 with `stale=true` and a new nonce. */
  reason: VerifyFailureReason;
}

/** The outcome of {@linkcode verifyCredentials}. */
export type VerifyResult = VerifySuccess | VerifyFailure;

/** Stand-in HA1 values for unknown users, so that they cost as much as known ones. */
const DUMMY_HA1: Record<DigestHash, string> = { "MD5": randomHex(16), "SHA-256": randomHex(32) };

/**
 * Checks the credentials of an AUTH request as a relay (RFC 4976 §6.3,
 * §9.1; RFC 7616 §3.4). In order: the algorithm is accepted; qop is auth
 * with cnonce and nc; realm and uri are the expected ones; the nonce was
 * issued here; the response digest matches (compared in constant time, and
 * computed against a stand-in HA1 for an unknown user so that timing does
 * not tell which users exist); the nonce is still fresh (RFC 7616 §3.3:
 * stale only when the digest is right); the nonce count is new. The count
 * is recorded only for a correct digest, so forged requests cannot use up a
 * client's counts.
 *
 * @param input the credentials, what they must match, and where HA1 and nonces come from
 */
export function verifyCredentials(input: VerifyCredentialsInput): VerifyResult {
  const c = input.credentials;
  const algorithm = parseDigestAlgorithm(c.algorithm);
  const accepted = input.algorithms ?? ["SHA-256", "MD5"];
  if (algorithm === undefined || !accepted.includes(algorithm)) {
    return { ok: false, reason: "unsupported-algorithm" };
  }
  // RFC 4976 §9.1: qop is mandatory, and cnonce and nc come with it.
  const { qop, cnonce, nc } = c;
  if (
    qop === undefined || qop.toLowerCase() !== "auth" || cnonce === undefined || nc === undefined
  ) {
    return { ok: false, reason: "missing-qop" };
  }
  if (c.realm !== input.realm) return { ok: false, reason: "wrong-realm" };
  // RFC 4976 §5.1 examples omit uri; the digest is then over the URI the
  // request was sent to.
  const uri = c.uri ?? input.expectedUri;
  const matches = input.uriMatches ?? ((a: string, b: string) => a === b);
  if (!matches(uri, input.expectedUri)) return { ok: false, reason: "wrong-uri" };
  const nonceState = input.nonces.validate(c.nonce);
  if (nonceState === "invalid") return { ok: false, reason: "invalid-nonce" };

  const hash = digestHashOf(algorithm);
  const stored = input.lookupHa1(c.username, c.realm, hash);
  // The same work whether or not the user exists.
  const expected = digestResponse({
    algorithm,
    ha1: stored ?? DUMMY_HA1[hash],
    method: input.method ?? AUTH_METHOD,
    uri,
    nonce: c.nonce,
    nc,
    cnonce,
    qop,
  });
  const good = timingSafeEqualText(expected, c.response.toLowerCase());
  if (stored === undefined) return { ok: false, reason: "unknown-user" };
  if (!good) return { ok: false, reason: "bad-response" };

  if (nonceState === "stale") return { ok: false, reason: "stale" };
  const counted = input.nonces.check(c.nonce, nc);
  if (counted === "replay") return { ok: false, reason: "replay" };
  if (counted === "stale") return { ok: false, reason: "stale" };
  if (counted === "invalid") return { ok: false, reason: "invalid-nonce" };

  const rspauth = digestRspauth({ algorithm, ha1: stored, uri, nonce: c.nonce, nc, cnonce, qop });
  const authenticationInfo: AuthenticationInfo = { rspauth, cnonce, nc, qop };
  if (input.nextnonce === true) authenticationInfo.nextnonce = input.nonces.issue();
  return { ok: true, username: c.username, algorithm, rspauth, authenticationInfo };
}
