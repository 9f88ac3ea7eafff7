/**
 * The three HTTP Digest header fields MSRP borrows for relay authentication
 * (RFC 4976 §4.3-4.5, §7; RFC 2617 §3.2; RFC 7616 §3.3-3.5).
 *
 * A client that wants a relay's services sends `AUTH`; the relay answers
 * `401` with a challenge, the client retries with credentials, and the relay
 * answers `200` with proof that it knew the password too (RFC 4976 §5.1):
 *
 * ```text
 * WWW-Authenticate: Digest realm="intra.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"
 * Authorization: Digest username="Alice", realm="intra.example.com", nonce="...", uri="...", qop=auth, nc=00000001, cnonce="0a4f113b", response="..."
 * Authentication-Info: nextnonce="...", rspauth="...", cnonce="0a4f113b", nc=00000001, qop=auth
 * ```
 *
 * Each value is a comma-separated list of `name=value` parameters, the value
 * a token or a quoted-string (`"..."`, where `\` escapes the next character).
 * The first two start with the scheme name; MSRP allows only `Digest`, never
 * `Basic` (RFC 4976 §9.1).
 *
 * Parsing is liberal, as deployed peers differ: parameters in any order,
 * names in any case, spaces or tabs around `=` and `,`, empty list elements,
 * and a token where the grammar wants a quoted-string (or the reverse).
 * Formatting is exact: the quoting rules of RFC 7616 §3.3/§3.4 (only
 * `algorithm`, `stale`, `qop` in credentials and `nc` go bare), `", "`
 * between parameters as in the RFC 4976 §5.1 examples, and the parameter
 * order kept from parsing so that a parsed value formats back to the same
 * text. Both run in one pass over the text, with no regular expressions.
 *
 * @module
 */

import { MsrpError, type MsrpErrorCode, MsrpSyntaxError } from "../errors.ts";

/** A parameter this module has no field for, kept as it came (RFC 2617 §1.2 `auth-param`). */
export interface AuthParam {
  /** The name as written (compare it case-insensitively). */
  name: string;
  /** The value, unquoted and unescaped. */
  value: string;
  /** Whether it was (or is to be) written as a quoted-string. */
  quoted: boolean;
}

/**
 * A Digest challenge, the value of `WWW-Authenticate` (RFC 4976 §7,
 * RFC 7616 §3.3).
 */
export interface DigestChallenge {
  /** The protection space; for a relay usually its hostname (RFC 4976 §5.1). */
  realm: string;
  /** The server's nonce, opaque to the client. */
  nonce: string;
  /**
   * The qop options offered, e.g. `["auth"]`; empty when the parameter is
   * absent. An MSRP relay must offer `auth` and never `auth-int` (RFC 4976 §9.1).
   */
  qop: string[];
  /** The algorithm as written, e.g. `"MD5"` or `"SHA-256"`; `"MD5"` when absent (RFC 7616 §3.3). */
  algorithm: string;
  /** Data the client must echo unchanged in its credentials. */
  opaque?: string;
  /** True when the previous credentials failed only because their nonce was stale. */
  stale: boolean;
  /** Every other parameter (`domain`, `charset`, `userhash`, extensions), in order. */
  params?: AuthParam[];
  /**
   * Lower-case names of the parameters in the order to write them; parsing
   * records the input's order here. Without it the order is realm, qop,
   * nonce, opaque, algorithm, stale, then `params`.
   */
  order?: string[];
}

/**
 * Digest credentials, the value of `Authorization` (RFC 4976 §7,
 * RFC 2617 §3.2.2, RFC 7616 §3.4).
 */
export interface DigestCredentials {
  /** The user name. */
  username: string;
  /** The realm from the challenge. */
  realm: string;
  /** The nonce from the challenge (or from a `nextnonce`). */
  nonce: string;
  /**
   * The digest-uri: for MSRP the rightmost URI of the To-Path (RFC 4976
   * §9.1). Required unless parsed with `requireUri: false` (the RFC 4976
   * §5.1 examples leave it out).
   */
  uri?: string;
  /** The request digest in hex. */
  response: string;
  /** The algorithm as written; MD5 when absent. */
  algorithm?: string;
  /** The client nonce; required with `qop` (RFC 4976 §9.1). */
  cnonce?: string;
  /** The challenge's `opaque`, echoed. */
  opaque?: string;
  /** The chosen qop, a single token such as `auth`. */
  qop?: string;
  /** The nonce count: 8 hex digits on the wire, a number here. */
  nc?: number;
  /** Every other parameter (`userhash`, `username*`, extensions), in order. */
  params?: AuthParam[];
  /**
   * Lower-case names of the parameters in the order to write them. Without
   * it: username, realm, nonce, uri, algorithm, qop, nc, cnonce, response,
   * opaque, then `params`.
   */
  order?: string[];
}

/** The value of `Authentication-Info` (RFC 4976 §7, RFC 2617 §3.2.3, RFC 7616 §3.5). */
export interface AuthenticationInfo {
  /** The nonce the client should use next time. */
  nextnonce?: string;
  /** The server's proof that it knows the password, in hex. */
  rspauth?: string;
  /** The client's cnonce, echoed. */
  cnonce?: string;
  /** The client's nonce count, echoed. */
  nc?: number;
  /** The qop of the client's request, echoed. */
  qop?: string;
  /** Every other parameter, in order. */
  params?: AuthParam[];
  /**
   * Lower-case names of the parameters in the order to write them. Without
   * it: nextnonce, rspauth, cnonce, nc, qop, then `params`.
   */
  order?: string[];
}

/** Options for {@linkcode parseAuthorization}. */
export interface ParseAuthorizationOptions {
  /**
   * Whether a missing `uri` is an error (default true). RFC 2617 §3.2.2
   * makes it mandatory, but the RFC 4976 §5.1 examples and §7 grammar omit
   * it; set false to accept such credentials (a relay then knows the URI
   * anyway: the rightmost To-Path URI, RFC 4976 §9.1).
   */
  requireUri?: boolean;
}

// ---------------------------------------------------------------------------
// Scanning

const SP = 0x20;
const HTAB = 0x09;
const DQUOTE = 0x22;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;

/** `tchar` of RFC 7230 §3.2.6: the letters of a token. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = TCHAR[c + 0x20] = 1;

function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTchar(s.charCodeAt(i))) return false;
  return true;
}

/** Control characters other than HTAB, which no header value may hold (RFC 4975 §9 `utf8text`). */
function isControl(c: number): boolean {
  return (c < 0x20 && c !== HTAB) || c === 0x7f;
}

/**
 * A bare value: liberal, since deployed peers send things such as
 * `nonce=abc/def==` unquoted. Any visible ASCII except `"`, `,` and `\`.
 */
function isBareChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== DQUOTE && c !== COMMA && c !== BACKSLASH;
}

interface RawParam {
  lname: string;
  name: string;
  value: string;
  quoted: boolean;
  offset: number;
  valueOffset: number;
}

function fail(code: MsrpErrorCode, message: string, input: string, offset: number): never {
  throw new MsrpSyntaxError(code, message, input, offset);
}

function skipOws(input: string, i: number): number {
  while (i < input.length) {
    const c = input.charCodeAt(i);
    if (c !== SP && c !== HTAB) break;
    i++;
  }
  return i;
}

/**
 * Reads a quoted-string starting at the `"` at `start` (RFC 7230 §3.2.6:
 * `qdtext` and `quoted-pair`). Returns the unescaped text and the index
 * after the closing quote.
 */
function readQuoted(input: string, start: number): [string, number] {
  let i = start + 1;
  let out = "";
  let runStart = i;
  while (i < input.length) {
    const c = input.charCodeAt(i);
    if (c === DQUOTE) {
      out += input.slice(runStart, i);
      return [out, i + 1];
    }
    if (isControl(c)) fail("bad-char", "control character in a quoted-string", input, i);
    if (c === BACKSLASH) {
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      out += input.slice(runStart, i);
      if (i + 1 >= input.length) break;
      const e = input.charCodeAt(i + 1);
      if (isControl(e)) fail("bad-char", "control character after a backslash", input, i + 1);
      out += input[i + 1];
      i += 2;
      runStart = i;
      continue;
    }
    i++;
  }
  return fail(
    "unterminated-quoted-string",
    "quoted-string has no closing quote",
    input,
    input.length,
  );
}

/**
 * Reads `#( token BWS "=" BWS ( token / quoted-string ) )` from `start` to
 * the end of `input` (RFC 7235 §2.1 `auth-param`, with the RFC 7230 §7
 * list rule: empty elements are skipped).
 */
function readParams(input: string, start: number): RawParam[] {
  const params: RawParam[] = [];
  let i = start;
  const n = input.length;
  while (true) {
    i = skipOws(input, i);
    if (i >= n) break;
    let c = input.charCodeAt(i);
    if (c === COMMA) {
      i++;
      continue;
    }
    const offset = i;
    while (i < n && isTchar(input.charCodeAt(i))) i++;
    if (i === offset) {
      if (isControl(c)) fail("bad-char", "control character in a header value", input, i);
      fail("expected-param-name", "expected a parameter name", input, i);
    }
    const name = input.slice(offset, i);
    i = skipOws(input, i);
    if (i >= n || input.charCodeAt(i) !== EQUALS) {
      fail("expected-equals", `expected "=" after parameter ${JSON.stringify(name)}`, input, i);
    }
    i = skipOws(input, i + 1);
    const valueOffset = i;
    let value: string;
    let quoted = false;
    if (i < n && input.charCodeAt(i) === DQUOTE) {
      [value, i] = readQuoted(input, i);
      quoted = true;
    } else {
      while (i < n && isBareChar(input.charCodeAt(i))) i++;
      if (i === valueOffset) {
        if (i < n && isControl(input.charCodeAt(i))) {
          fail("bad-char", "control character in a header value", input, i);
        }
        fail("missing-value", `parameter ${JSON.stringify(name)} has no value`, input, i);
      }
      value = input.slice(valueOffset, i);
    }
    i = skipOws(input, i);
    if (i < n) {
      c = input.charCodeAt(i);
      if (c !== COMMA) {
        if (isControl(c)) fail("bad-char", "control character in a header value", input, i);
        fail("expected-comma", `expected "," after parameter ${JSON.stringify(name)}`, input, i);
      }
      i++;
    }
    params.push({ lname: name.toLowerCase(), name, value, quoted, offset, valueOffset });
  }
  return params;
}

/**
 * Reads the auth-scheme at the start of a `WWW-Authenticate` or
 * `Authorization` value and returns where the parameters begin. Only
 * `Digest` is allowed (RFC 4976 §9.1: no Basic).
 */
function readScheme(input: string): number {
  let i = skipOws(input, 0);
  if (i >= input.length) fail("empty-value", "the header value is empty", input, i);
  const start = i;
  while (i < input.length && isTchar(input.charCodeAt(i))) i++;
  if (i === start) fail("missing-scheme", "expected the auth-scheme Digest", input, i);
  const after = skipOws(input, i);
  if (after < input.length && input.charCodeAt(after) === EQUALS) {
    fail("missing-scheme", "expected the auth-scheme Digest before the parameters", input, start);
  }
  if (input.slice(start, i).toLowerCase() !== "digest") {
    fail(
      "unsupported-scheme",
      `auth-scheme ${JSON.stringify(input.slice(start, i))} is not Digest`,
      input,
      start,
    );
  }
  if (i < input.length && after === i) {
    fail("bad-scheme", "expected a space after Digest", input, i);
  }
  return after;
}

/** Splits raw parameters into the known ones (by lower-case name, no repeats) and the rest. */
function sortParams(
  input: string,
  raw: RawParam[],
  known: readonly string[],
): { found: Map<string, RawParam>; params: AuthParam[]; order: string[] } {
  const found = new Map<string, RawParam>();
  const params: AuthParam[] = [];
  const order: string[] = [];
  for (const p of raw) {
    order.push(p.lname);
    if (known.includes(p.lname)) {
      if (found.has(p.lname)) {
        fail(
          "duplicate-param",
          `parameter ${JSON.stringify(p.name)} appears twice`,
          input,
          p.offset,
        );
      }
      found.set(p.lname, p);
    } else {
      params.push({ name: p.name, value: p.value, quoted: p.quoted });
    }
  }
  return { found, params, order };
}

/** The Digest parameters that must be present (RFC 2617 §3.2.1, §3.2.2). */
type RequiredParam = "realm" | "nonce" | "username" | "uri" | "response";

function required(input: string, found: Map<string, RawParam>, name: RequiredParam): string {
  const p = found.get(name);
  if (p === undefined) {
    fail(`missing-${name}`, `the mandatory parameter ${name} is missing`, input, input.length);
  }
  return p.value;
}

/** `nc-value = 8LHEX` (RFC 2617 §3.2.2); liberal: 1 to 8 hex digits of either case. */
function readNc(input: string, p: RawParam): number {
  const v = p.value;
  if (v.length === 0 || v.length > 8) {
    fail("bad-nc", "nc must be 8 hexadecimal digits", input, p.valueOffset);
  }
  for (let i = 0; i < v.length; i++) {
    if (hexValue(v.charCodeAt(i)) < 0) {
      fail("bad-nc", "nc must be 8 hexadecimal digits", input, p.valueOffset);
    }
  }
  return parseInt(v, 16);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** `request-digest` / `response-digest`: hex digits (RFC 4976 §7). */
function readHex(input: string, p: RawParam, code: MsrpErrorCode, allowEmpty: boolean): string {
  const v = p.value;
  if (v.length === 0 && !allowEmpty) {
    fail(code, `${p.lname} must be hexadecimal digits`, input, p.valueOffset);
  }
  for (let i = 0; i < v.length; i++) {
    if (hexValue(v.charCodeAt(i)) < 0) {
      fail(code, `${p.lname} must be hexadecimal digits`, input, p.valueOffset);
    }
  }
  return v;
}

/** A single qop token (credentials and Authentication-Info: `message-qop`). */
function readQopToken(input: string, p: RawParam): string {
  if (!isToken(p.value)) fail("bad-qop", "qop must be a single token", input, p.valueOffset);
  return p.value;
}

function readAlgorithm(input: string, p: RawParam): string {
  if (!isToken(p.value)) fail("bad-algorithm", "algorithm must be a token", input, p.valueOffset);
  return p.value;
}

// ---------------------------------------------------------------------------
// Parsing

const CHALLENGE_KNOWN = ["realm", "nonce", "qop", "algorithm", "opaque", "stale"] as const;
const CREDENTIALS_KNOWN = [
  "username",
  "realm",
  "nonce",
  "uri",
  "response",
  "algorithm",
  "cnonce",
  "opaque",
  "qop",
  "nc",
] as const;
const INFO_KNOWN = ["nextnonce", "rspauth", "cnonce", "nc", "qop"] as const;

/**
 * Parses a `WWW-Authenticate` value (RFC 4976 §7 `WWW-Authenticate`,
 * RFC 7616 §3.3).
 *
 * ```ts
 * parseWwwAuthenticate('Digest realm="r", qop="auth", nonce="n"').qop; // ["auth"]
 * ```
 *
 * @param value the text after `WWW-Authenticate: `
 * @throws {MsrpSyntaxError} `unsupported-scheme`, `missing-realm`, `missing-nonce`,
 *   `bad-qop`, `duplicate-param` and the syntax codes of the parameter list
 */
export function parseWwwAuthenticate(value: string): DigestChallenge {
  const start = readScheme(value);
  const { found, params, order } = sortParams(value, readParams(value, start), CHALLENGE_KNOWN);
  const realm = required(value, found, "realm");
  const nonce = required(value, found, "nonce");
  const challenge: DigestChallenge = {
    realm,
    nonce,
    qop: [],
    algorithm: "MD5",
    stale: false,
    params,
    order,
  };
  const qop = found.get("qop");
  if (qop !== undefined) {
    // qop-options = "qop=" DQUOTE qop-value *("," qop-value) DQUOTE; RFC 7616
    // §3.9.1 writes `"auth, auth-int"`, so spaces around the commas are allowed.
    for (const item of qop.value.split(",")) {
      const t = item.trim();
      if (t !== "") challenge.qop.push(t);
    }
    if (challenge.qop.length === 0 || !challenge.qop.every(isToken)) {
      fail("bad-qop", "qop must be a list of tokens", value, qop.valueOffset);
    }
  }
  const algorithm = found.get("algorithm");
  if (algorithm !== undefined) challenge.algorithm = readAlgorithm(value, algorithm);
  const opaque = found.get("opaque");
  if (opaque !== undefined) challenge.opaque = opaque.value;
  // RFC 7616 §3.3: stale is a case-insensitive flag; "anything other than
  // true" means false.
  const stale = found.get("stale");
  if (stale !== undefined) challenge.stale = stale.value.toLowerCase() === "true";
  return challenge;
}

/**
 * Parses an `Authorization` value (RFC 4976 §7 `credentials`, RFC 7616 §3.4).
 *
 * @param value the text after `Authorization: `
 * @param options whether a missing `uri` is an error
 * @throws {MsrpSyntaxError} `unsupported-scheme`, `missing-username`, `missing-realm`,
 *   `missing-nonce`, `missing-uri`, `missing-response`, `bad-response`, `bad-nc`,
 *   `bad-qop`, `duplicate-param` and the syntax codes of the parameter list
 *
 * @example Parse a client's Authorization (the relay side)
 * ```ts
 * import { parseAuthorization } from "@msrp/msrp/wire";
 *
 * const credentials = parseAuthorization(
 *   'Digest username="alice", realm="relay.example.com", nonce="dcd98b7102dd2f0e",' +
 *     ' uri="msrps://relay.example.com:2855;tcp", response="6629fae49393a05397450978507c4ef1"',
 * );
 * console.log(credentials.username, credentials.realm); // "alice" "relay.example.com"
 * ```
 */
export function parseAuthorization(
  value: string,
  options: ParseAuthorizationOptions = {},
): DigestCredentials {
  const start = readScheme(value);
  const { found, params, order } = sortParams(value, readParams(value, start), CREDENTIALS_KNOWN);
  const username = required(value, found, "username");
  const realm = required(value, found, "realm");
  const nonce = required(value, found, "nonce");
  const uri = found.get("uri");
  if (uri === undefined && options.requireUri !== false) required(value, found, "uri");
  const response = readHex(
    value,
    found.get("response") ?? missing(value, "response"),
    "bad-response",
    false,
  );
  const credentials: DigestCredentials = { username, realm, nonce, response, params, order };
  if (uri !== undefined) credentials.uri = uri.value;
  const algorithm = found.get("algorithm");
  if (algorithm !== undefined) credentials.algorithm = readAlgorithm(value, algorithm);
  const cnonce = found.get("cnonce");
  if (cnonce !== undefined) credentials.cnonce = cnonce.value;
  const opaque = found.get("opaque");
  if (opaque !== undefined) credentials.opaque = opaque.value;
  const qop = found.get("qop");
  if (qop !== undefined) credentials.qop = readQopToken(value, qop);
  const nc = found.get("nc");
  if (nc !== undefined) credentials.nc = readNc(value, nc);
  return credentials;
}

function missing(input: string, name: RequiredParam): never {
  return fail(`missing-${name}`, `the mandatory parameter ${name} is missing`, input, input.length);
}

/**
 * Parses an `Authentication-Info` value (RFC 4976 §7 `Authentication-Info`,
 * RFC 7616 §3.5). Every parameter is optional in the grammar; RFC 4976 §9.1
 * has relays send rspauth, cnonce, nc and qop, which the client checks
 * (`DigestClient.verifyRspauth` in `lib/relay/digest.ts`).
 *
 * @param value the text after `Authentication-Info: `
 * @throws {MsrpSyntaxError} `empty-value`, `bad-rspauth`, `bad-nc`, `bad-qop`,
 *   `duplicate-param` and the syntax codes of the parameter list
 *
 * @example Parse a relay's Authentication-Info
 * ```ts
 * import { parseAuthenticationInfo } from "@msrp/msrp/wire";
 *
 * const info = parseAuthenticationInfo('nextnonce="47364c23432d2e131a5fb210812c"');
 * console.log(info.nextnonce);
 * ```
 */
export function parseAuthenticationInfo(value: string): AuthenticationInfo {
  const start = skipOws(value, 0);
  const raw = readParams(value, start);
  if (raw.length === 0) fail("empty-value", "the header value has no parameters", value, start);
  const { found, params, order } = sortParams(value, raw, INFO_KNOWN);
  const info: AuthenticationInfo = { params, order };
  const nextnonce = found.get("nextnonce");
  if (nextnonce !== undefined) info.nextnonce = nextnonce.value;
  const rspauth = found.get("rspauth");
  if (rspauth !== undefined) info.rspauth = readHex(value, rspauth, "bad-rspauth", true);
  const cnonce = found.get("cnonce");
  if (cnonce !== undefined) info.cnonce = cnonce.value;
  const nc = found.get("nc");
  if (nc !== undefined) info.nc = readNc(value, nc);
  const qop = found.get("qop");
  if (qop !== undefined) info.qop = readQopToken(value, qop);
  return info;
}

// ---------------------------------------------------------------------------
// Formatting

function badValue(name: string, why: string): never {
  throw new MsrpError("bad-param-value", `cannot write parameter ${name}: ${why}`);
}

/** `quoted-string`, escaping `"` and `\` (RFC 7230 §3.2.6). */
function quote(name: string, value: string): string {
  let out = '"';
  let runStart = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (isControl(c)) badValue(name, "the value holds a control character");
    if (c === DQUOTE || c === BACKSLASH) {
      out += value.slice(runStart, i) + "\\";
      runStart = i;
    }
  }
  return out + value.slice(runStart) + '"';
}

function bare(name: string, value: string): string {
  if (!isToken(value)) badValue(name, `${JSON.stringify(value)} is not a token`);
  return value;
}

/** `nc-value = 8LHEX` (RFC 2617 §3.2.2). */
function formatNc(nc: number): string {
  if (!Number.isInteger(nc) || nc < 0 || nc > 0xffffffff) {
    throw new MsrpError("bad-nc", `nc ${nc} is not an integer from 0 to ffffffff`);
  }
  return nc.toString(16).padStart(8, "0");
}

/**
 * Writes `name=value` entries: first those named in `order` (each name takes
 * the next unused entry of that name), then the rest in canonical order.
 */
function joinParams(entries: [string, string][], order: readonly string[] | undefined): string {
  const used = new Array<boolean>(entries.length).fill(false);
  const out: string[] = [];
  if (order !== undefined) {
    // Entries of each name, in turn, so that the walk stays linear.
    const byName = new Map<string, number[]>();
    for (let j = entries.length - 1; j >= 0; j--) {
      const list = byName.get(entries[j][0]);
      if (list === undefined) byName.set(entries[j][0], [j]);
      else list.push(j);
    }
    for (const name of order) {
      const k = byName.get(name.toLowerCase())?.pop();
      if (k !== undefined) {
        used[k] = true;
        out.push(entries[k][1]);
      }
    }
  }
  for (let j = 0; j < entries.length; j++) if (!used[j]) out.push(entries[j][1]);
  return out.join(", ");
}

function extraEntries(params: readonly AuthParam[] | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const p of params ?? []) {
    const name = bare("name", p.name);
    const value = p.quoted || !isToken(p.value) ? quote(name, p.value) : p.value;
    out.push([name.toLowerCase(), `${name}=${value}`]);
  }
  return out;
}

/**
 * Writes a `WWW-Authenticate` value. With the `order` that parsing recorded,
 * the RFC 4976 §5.1 challenge comes out byte for byte:
 * `Digest realm="intra.example.com", qop="auth", nonce="dcd98b..."`.
 * `algorithm` is written unless it is the default MD5 and `order` leaves it
 * out; `stale` only when true or named in `order`.
 *
 * @param challenge the challenge
 * @throws {MsrpError} `bad-param-value` for a value that cannot be written
 *
 * @example Write a relay's challenge
 * ```ts
 * import { formatWwwAuthenticate } from "@msrp/msrp/wire";
 *
 * console.log(formatWwwAuthenticate({
 *   realm: "relay.example.com",
 *   nonce: "dcd98b7102dd2f0e",
 *   qop: ["auth"],
 *   algorithm: "SHA-256",
 *   stale: false,
 * }));
 * ```
 */
export function formatWwwAuthenticate(challenge: DigestChallenge): string {
  const { order } = challenge;
  const named = (n: string): boolean => order !== undefined && order.includes(n);
  const entries: [string, string][] = [["realm", `realm=${quote("realm", challenge.realm)}`]];
  if (challenge.qop.length > 0) {
    for (const q of challenge.qop) bare("qop", q);
    // RFC 4976 §9.1: the challenge's qop is quoted; §7 `qop-list` has no spaces.
    entries.push(["qop", `qop=${quote("qop", challenge.qop.join(","))}`]);
  }
  entries.push(["nonce", `nonce=${quote("nonce", challenge.nonce)}`]);
  if (challenge.opaque !== undefined) {
    entries.push(["opaque", `opaque=${quote("opaque", challenge.opaque)}`]);
  }
  // RFC 7616 §3.3: algorithm and stale are never quoted.
  if (
    order === undefined || named("algorithm") || challenge.algorithm.toUpperCase() !== "MD5"
  ) {
    entries.push(["algorithm", `algorithm=${bare("algorithm", challenge.algorithm)}`]);
  }
  if (challenge.stale || named("stale")) {
    entries.push(["stale", `stale=${challenge.stale ? "true" : "false"}`]);
  }
  entries.push(...extraEntries(challenge.params));
  return `Digest ${joinParams(entries, order)}`;
}

/**
 * Writes an `Authorization` value, quoting exactly the parameters RFC 7616
 * §3.4 quotes (username, realm, nonce, uri, response, cnonce, opaque).
 *
 * @param credentials the credentials
 * @throws {MsrpError} `bad-param-value` or `bad-nc` for a value that cannot be written
 *
 * @example Write a client's Authorization
 * ```ts
 * import { formatAuthorization } from "@msrp/msrp/wire";
 *
 * console.log(formatAuthorization({
 *   username: "alice",
 *   realm: "relay.example.com",
 *   nonce: "dcd98b7102dd2f0e",
 *   uri: "msrps://relay.example.com:2855;tcp",
 *   response: "6629fae49393a05397450978507c4ef1",
 * }));
 * ```
 */
export function formatAuthorization(credentials: DigestCredentials): string {
  const c = credentials;
  const entries: [string, string][] = [
    ["username", `username=${quote("username", c.username)}`],
    ["realm", `realm=${quote("realm", c.realm)}`],
    ["nonce", `nonce=${quote("nonce", c.nonce)}`],
  ];
  if (c.uri !== undefined) entries.push(["uri", `uri=${quote("uri", c.uri)}`]);
  if (c.algorithm !== undefined) {
    entries.push(["algorithm", `algorithm=${bare("algorithm", c.algorithm)}`]);
  }
  if (c.qop !== undefined) entries.push(["qop", `qop=${bare("qop", c.qop)}`]);
  if (c.nc !== undefined) entries.push(["nc", `nc=${formatNc(c.nc)}`]);
  if (c.cnonce !== undefined) entries.push(["cnonce", `cnonce=${quote("cnonce", c.cnonce)}`]);
  entries.push(["response", `response=${quote("response", c.response)}`]);
  if (c.opaque !== undefined) entries.push(["opaque", `opaque=${quote("opaque", c.opaque)}`]);
  entries.push(...extraEntries(c.params));
  return `Digest ${joinParams(entries, c.order)}`;
}

/**
 * Writes an `Authentication-Info` value (no scheme name; RFC 4976 §9.1:
 * parameters separated by commas, qop and nc bare).
 *
 * @param info the parameters
 * @throws {MsrpError} `empty-value` when there is no parameter, `bad-param-value` or `bad-nc`
 *
 * @example Write a relay's Authentication-Info
 * ```ts
 * import { formatAuthenticationInfo } from "@msrp/msrp/wire";
 *
 * console.log(formatAuthenticationInfo({ nextnonce: "47364c23432d2e131a5fb210812c" }));
 * ```
 */
export function formatAuthenticationInfo(info: AuthenticationInfo): string {
  const entries: [string, string][] = [];
  if (info.nextnonce !== undefined) {
    entries.push(["nextnonce", `nextnonce=${quote("nextnonce", info.nextnonce)}`]);
  }
  if (info.rspauth !== undefined) {
    entries.push(["rspauth", `rspauth=${quote("rspauth", info.rspauth)}`]);
  }
  if (info.cnonce !== undefined) {
    entries.push(["cnonce", `cnonce=${quote("cnonce", info.cnonce)}`]);
  }
  if (info.nc !== undefined) entries.push(["nc", `nc=${formatNc(info.nc)}`]);
  if (info.qop !== undefined) entries.push(["qop", `qop=${bare("qop", info.qop)}`]);
  entries.push(...extraEntries(info.params));
  if (entries.length === 0) {
    throw new MsrpError("empty-value", "Authentication-Info needs at least one parameter");
  }
  return joinParams(entries, info.order);
}
