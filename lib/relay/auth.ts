/**
 * AUTH at a relay: the Digest challenge, checking credentials, and handing
 * out a URI (RFC 4976 §4.1-§4.6, §5.1, §6.3, §9.1, §9.2; RFC 7616 §3.3).
 *
 * A client asks a relay for a URI with an `AUTH` request whose To-Path ends
 * at the relay (§5.1). The exchange is HTTP Digest:
 *
 * ```text
 * client                                  relay
 *   |--- AUTH (no Authorization) ---------->|
 *   |<-- 401, WWW-Authenticate: nonce ------|   one challenge per algorithm
 *   |--- AUTH, Authorization: response ---->|   digest-uri: the relay's URI
 *   |<-- 200, Use-Path, Expires, -----------|   rspauth in Authentication-Info:
 *   |         Authentication-Info           |   the relay knows the password too
 * ```
 *
 * The same client authenticating again (same user, binding and From-Path)
 * gets the same URI with a new Expires, so its sessions outlive the first
 * grant; so does an AUTH addressed to the URI itself.
 *
 * The relay answers 401 when credentials are missing, wrong or use an old
 * nonce (`stale=true`), 403 when the user is not allowed or may not refresh
 * that URI, and 423 with Min-Expires or Max-Expires when the requested
 * lifetime is out of bounds (§4.6, §6.3). AUTH must come over TLS (§9.2).
 * The URI handed out is valid on this connection only, or, for a relay known
 * by its TLS certificate, on any connection to that relay (§6.3). Failed
 * AUTHs are counted, and too many close the connection. A challenge costs
 * the relay no memory (its nonce is checked by MAC and time, digest.ts), and
 * a connection gets at most `maxChallengesPerConnection` of them between
 * successful AUTHs.
 *
 * @module
 */

import {
  type DigestCredentials,
  formatAuthenticationInfo,
  formatWwwAuthenticate,
  parseAuthorization,
  parseWwwAuthenticate,
} from "../wire/auth_headers.ts";
import type { MsrpRequest } from "../wire/frame.ts";
import type { HeaderList } from "../wire/header_list.ts";
import { formatExpires, formatPath, parseExpires } from "../wire/headers.ts";
import { parseUri } from "../wire/uri.ts";
import { relayUserHa1 } from "./config.ts";
import type { Conn } from "./connection.ts";
import { closeSoon, noteFailure, succeeded } from "./lifecycle.ts";
import type { RelayCore } from "./core.ts";
import { verifyCredentials, type VerifySuccess } from "./digest.ts";
import type { RouteDecision } from "./forwarding.ts";
import type { RegistrationBinding, RelayRegistration } from "./registrations.ts";
import { reply, type ReqInfo } from "./reply.ts";
import { describe } from "./services.ts";

/**
 * Whether a forwarded 401 carries a `stale=true` challenge (RFC 4976 §6.3).
 *
 * @param headers the 401's header fields
 */
export function hasStaleChallenge(headers: HeaderList): boolean {
  for (const value of headers.getAll("WWW-Authenticate")) {
    try {
      if (parseWwwAuthenticate(value).stale) return true;
    } catch {
      // A challenge we cannot read is not a stale one.
    }
  }
  return false;
}

/** URI equality for digest-uri checks (RFC 4975 §6.1), falling back to the text. */
function sameUriText(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return parseUri(a).equals(parseUri(b));
  } catch {
    return false;
  }
}

/** The local route decision of an AUTH: its To-Path ends at the relay. */
type LocalRoute = Extract<RouteDecision, { kind: "local" }>;

/**
 * §5.1, §6.3, §9.1: authenticate a client and hand it a URI. The steps, in
 * the order of RFC 4976 §6.3; each answers the AUTH itself when it refuses:
 *
 * 1. the AUTH came over TLS (§9.2), unless the relay allows otherwise;
 * 2. an AUTH to one of the relay's URIs refreshes that registration (481 if none);
 * 3. authenticate: 401 with a challenge until the credentials check (§5.1, §9.1);
 * 4. authorize: 403 for a user who may not use the relay (§6.3);
 * 5. the lifetime asked for in Expires is within bounds, else 423 (§6.3);
 * 6. grant the URI: bound to this connection, or to the relay known by its
 *    TLS certificate (§6.3); the same client asking again keeps its URI;
 * 7. answer 200 with Use-Path, Expires and Authentication-Info (§6.3, §9.1).
 *
 * @param core the relay
 * @param c the connection the AUTH came over
 * @param req the AUTH request
 * @param d the routing decision: the To-Path ends at the relay
 * @param info what is needed to answer it
 */
export function onAuth(
  core: RelayCore,
  c: Conn,
  req: MsrpRequest,
  d: LocalRoute,
  info: ReqInfo,
): void {
  if (!overTls(core, c, info)) return;
  const addressed = addressedRegistration(core, c, d, info);
  if (addressed === "unknown") return;
  const user = authenticate(core, c, req, d, info);
  if (user === undefined) return;
  if (!authorized(core, c, info, user.username)) return;
  const expires = acceptedExpires(core, c, req, info);
  if (expires === undefined) return;
  const grant = grantUri(core, c, info, user.username, expires, addressed);
  if (grant === undefined) return;
  answerGranted(core, c, info, user, grant, expires);
}

/** Step 1, §9.2: "Client-to-relay communications MUST use TLS for AUTH requests". */
function overTls(core: RelayCore, c: Conn, info: ReqInfo): boolean {
  if (c.secure || core.config.allowInsecure) return true;
  core.log("warn", "auth-insecure", "AUTH over a connection without TLS refused", c);
  reply(core, c, info, { status: 403, comment: "AUTH requires TLS" });
  noteFailure(core, c, true);
  return false;
}

/**
 * Step 2: an AUTH to one of the relay's URIs refreshes that registration;
 * one the relay does not know gets 481.
 *
 * @returns the registration, undefined for an AUTH to the relay itself, or
 *   "unknown" once answered
 */
function addressedRegistration(
  core: RelayCore,
  c: Conn,
  d: LocalRoute,
  info: ReqInfo,
): RelayRegistration | undefined | "unknown" {
  if (d.target.sessionId === undefined) return undefined;
  const reg = core.regs.get(d.target.sessionId);
  if (reg !== undefined) return reg;
  reply(core, c, info, { status: 481 });
  noteFailure(core, c, false);
  return "unknown";
}

/**
 * Step 3, §5.1 and §9.1: HTTP Digest. No Authorization: a 401 challenge;
 * credentials that do not check: a 401 again (`stale=true` for the right
 * password with an old nonce, RFC 7616 §3.3), counted as a failed AUTH.
 *
 * @returns the verified user, or undefined once answered
 */
function authenticate(
  core: RelayCore,
  c: Conn,
  req: MsrpRequest,
  d: LocalRoute,
  info: ReqInfo,
): VerifySuccess | undefined {
  const config = core.config;
  const values = req.headers.getAll("Authorization");
  if (values.length === 0) {
    // §5.1: "In response to an AUTH request that does not contain an
    // Authorization header, a relay MUST respond with a 401".
    challenge(core, c, info, false);
    return undefined;
  }
  let credentials: DigestCredentials;
  try {
    const parsed = values.map((v) => parseAuthorization(v, { requireUri: false }));
    credentials = parsed.find((p) => p.realm === config.realm) ?? parsed[0];
  } catch (e) {
    core.log("info", "auth-failed", `unreadable Authorization: ${describe(e)}`, c);
    challenge(core, c, info, false);
    noteFailure(core, c, true);
    return undefined;
  }
  const result = verifyCredentials({
    credentials,
    method: "AUTH",
    // §9.1: "The request-URI to be used in calculating H(A2) is the
    // rightmost URI in the To-Path header."
    expectedUri: d.target.toString(),
    realm: config.realm,
    lookupHa1: (user, realm, hash) => relayUserHa1(config, user, realm, hash),
    nonces: core.nonces,
    algorithms: config.algorithms,
    uriMatches: sameUriText,
    nextnonce: config.nextnonce,
  });
  if (result.ok) return result;
  if (result.reason === "stale") {
    // RFC 7616 §3.3: right password, old nonce: retry with a new one.
    challenge(core, c, info, true);
    return undefined;
  }
  core.log(
    "info",
    "auth-failed",
    `AUTH from ${JSON.stringify(credentials.username)} refused: ${result.reason}`,
    c,
  );
  challenge(core, c, info, false);
  noteFailure(core, c, true);
  return undefined;
}

/** Step 4, §6.3: "If the client is not authorized, the relay returns a 403 response." */
function authorized(core: RelayCore, c: Conn, info: ReqInfo, username: string): boolean {
  if (core.config.users[username]?.disabled !== true) return true;
  core.log("info", "auth-forbidden", `user ${username} is not authorized`, c);
  reply(core, c, info, { status: 403 });
  noteFailure(core, c, true);
  return false;
}

/**
 * Step 5, §6.3: check a requested Expires, "and, if not, return an error
 * containing a Min-Expires or Max-Expires header, as appropriate".
 *
 * @returns the lifetime to grant in seconds, or undefined once answered
 */
function acceptedExpires(
  core: RelayCore,
  c: Conn,
  req: MsrpRequest,
  info: ReqInfo,
): number | undefined {
  const bounds = core.config.expires;
  const requested = req.headers.get("Expires");
  if (requested === undefined) return bounds.default;
  let n: number;
  try {
    n = parseExpires(requested);
  } catch (e) {
    core.log("info", "bad-request", `bad Expires: ${describe(e)}`, c);
    reply(core, c, info, { status: 400 });
    noteFailure(core, c, false);
    return undefined;
  }
  if (n < bounds.min) {
    reply(core, c, info, { status: 423, headers: [["Min-Expires", formatExpires(bounds.min)]] });
    return undefined;
  }
  if (n > bounds.max) {
    reply(core, c, info, { status: 423, headers: [["Max-Expires", formatExpires(bounds.max)]] });
    return undefined;
  }
  return n;
}

/** A URI granted: the registration and whether it was refreshed rather than issued. */
interface Grant {
  readonly reg: RelayRegistration;
  readonly refreshed: boolean;
}

/**
 * Step 6, §6.3: a URI for a client is valid on this connection only; for a
 * relay authenticated by TLS, on any connection to that relay. The same
 * client asking again over the same binding keeps its URI: the
 * registration it holds is refreshed (RFC 4976 §6.3 leaves the URI's form
 * to the relay; peers hold it in their SDP, so a new one would break them).
 *
 * @returns the grant, or undefined once answered (403)
 */
function grantUri(
  core: RelayCore,
  c: Conn,
  info: ReqInfo,
  username: string,
  expires: number,
  addressed: RelayRegistration | undefined,
): Grant | undefined {
  const host = c.peer.host;
  const binding: RegistrationBinding = host !== undefined
    ? { kind: "relay", host }
    : { kind: "connection", connectionId: c.id };
  const via = info.fromPath.slice(0, -1);
  const client = info.fromPath.at(-1);
  const refreshing = addressed ?? core.regs.findSame({ binding, username, via, client });
  if (refreshing !== undefined) {
    if (refreshing.username !== username || !refreshing.boundTo(c.id, host)) {
      core.log("info", "auth-forbidden", "refresh of another client's registration", c);
      reply(core, c, info, { status: 403 });
      noteFailure(core, c, true);
      return undefined;
    }
    return { reg: core.regs.refresh(refreshing, expires), refreshed: true };
  }
  try {
    const reg = core.regs.issue({
      uri: (sid) => core.ownUri(c.secure || binding.kind === "relay", sid),
      username,
      binding,
      via,
      client,
      expiresSec: expires,
    });
    return { reg, refreshed: false };
  } catch (e) {
    core.log("warn", "registration-limit", describe(e), c, e);
    reply(core, c, info, { status: 403, comment: "Too many registrations" });
    return undefined;
  }
}

/**
 * Step 7: the 200 (§6.3: "returns a Use-Path header ... It also returns an
 * Expires header"; §9.1: "Relays MUST include rspauth, cnonce, nc, and qop
 * parameters in a Authentication-Info header for all 200 OK responses to an
 * AUTH request"). The connection's probation is over and its challenge
 * count starts again.
 */
function answerGranted(
  core: RelayCore,
  c: Conn,
  info: ReqInfo,
  user: VerifySuccess,
  grant: Grant,
  expires: number,
): void {
  const reg = grant.reg;
  reply(core, c, info, {
    status: 200,
    headers: [
      ["Use-Path", formatPath(reg.usePath)],
      ["Authentication-Info", formatAuthenticationInfo(user.authenticationInfo)],
      ["Expires", formatExpires(expires)],
    ],
  });
  succeeded(core, c);
  c.peer.challenges = 0;
  core.log(
    "info",
    grant.refreshed ? "auth-refreshed" : "auth-ok",
    `${user.username} registered ${reg.uri} for ${expires} s`,
    c,
  );
}

/**
 * A 401 with one challenge per configured algorithm (§5.1, §9.1). A
 * connection that keeps asking for challenges without ever authenticating
 * gets 403 past `maxChallengesPerConnection` and is closed.
 */
function challenge(core: RelayCore, c: Conn, info: ReqInfo, stale: boolean): void {
  if (c.peer.challenges >= core.config.limits.maxChallengesPerConnection) {
    core.log(
      "warn",
      "challenge-limit",
      `${c.peer.challenges} challenges without a successful AUTH`,
      c,
    );
    reply(core, c, info, { status: 403, comment: "Too many challenges" });
    closeSoon(core, c, "too many AUTH challenges without success");
    return;
  }
  c.peer.challenges++;
  const nonce = core.nonces.issue();
  const headers: [string, string][] = core.config.algorithms.map((algorithm) => [
    "WWW-Authenticate",
    formatWwwAuthenticate({ realm: core.config.realm, nonce, qop: ["auth"], algorithm, stale }),
  ]);
  reply(core, c, info, { status: 401, headers });
}
