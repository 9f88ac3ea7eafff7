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
 * The relay must also refuse replays: its nonces expire and cannot be
 * forged ({@linkcode NonceManager}), and each nonce count may be used once,
 * increasing (RFC 7616 §3.4 `nc`, §5.4, §5.5).
 *
 * MSRP narrows Digest (RFC 4976 §9.1): only `qop=auth` (no `auth-int`, no
 * RFC 2069 digests without qop), cnonce and nc always, and relays never
 * challenge with MD5-sess. The `-sess` variants are computed here for
 * completeness (RFC 7616 §3.4.2) but are not accepted by default.
 *
 * @module
 */

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { MsrpError } from "../errors.ts";
import {
  type AuthenticationInfo,
  type DigestChallenge,
  type DigestCredentials,
  formatAuthorization,
} from "../wire/auth_headers.ts";

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
  return createHash(hash === "MD5" ? "md5" : "sha256").update(data, "utf8").digest("hex");
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
 * @example HA1 = H(username:realm:password) (RFC 7616 §3.4.2)
 * ```ts
 * import { digestHa1 } from "@msrp/msrp/relay";
 *
 * // A line of a users file, so the relay never holds the password.
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

const encoder = new TextEncoder();

/** Constant-time equality of two strings (the length is not secret). */
function sameText(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

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

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  let out = "";
  for (const x of b) out += x.toString(16).padStart(2, "0");
  return out;
}

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
 * ```ts
 * import { DigestClient } from "./digest.ts";
 * import { parseWwwAuthenticate } from "@msrp/msrp/wire";
 *
 * const header = 'Digest realm="relay.example.com", nonce="dcd98b7102dd2f0e", qop="auth"';
 * const client = new DigestClient({ username: "alice", password: "secret" });
 * const value = client.authorization(parseWwwAuthenticate(header), "msrps://relay.example.com;tcp");
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
    if (!sameText(expected, info.rspauth.toLowerCase())) return false;
    if (info.nextnonce !== undefined) this.#nextnonce = info.nextnonce;
    return true;
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
  const good = sameText(expected, c.response.toLowerCase());
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
