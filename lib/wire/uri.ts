/**
 * MSRP URIs: parsing, printing and comparison (RFC 4975 §6, §6.1, §9;
 * RFC 4976 §4, §8; RFC 7977 §5).
 *
 * An MSRP URI names one participant of one session. It looks like
 *
 * ```text
 * msrp://bob.example.com:8888/9di4eae923wzd;tcp
 * \__/   \_______________/ \___________/ \_/
 * scheme     authority       session-id  transport
 * ```
 *
 * - The scheme is `msrp`, or `msrps` when the connection MUST use TLS (§6).
 * - The authority is that of RFC 3986 §3.2: `[userinfo "@"] host [":" port]`.
 *   The host is an IPv4 address, a bracketed IPv6 address or a host name;
 *   a host whose last label is a number (`127.1`, `2130706433`, `0x7f000001`)
 *   is taken as a malformed IPv4 address, never as a name, by parse and from
 *   alike (RFC 3986 §7.4). A
 *   numeric IP address MUST come with a port (§6); a userinfo MUST NOT carry a
 *   password (§6).
 * - The session-id (`1*( unreserved / "+" / "=" / "/" )`, §9) names a session
 *   at that authority. It is missing in a relay's own URI, e.g. the To-Path of
 *   an AUTH request (RFC 4976 §5.1, §8).
 * - The transport parameter is required: `tcp` (§6), or `ws` for MSRP over
 *   WebSocket (RFC 7977 §5), or any `1*ALPHANUM`. More `;name=value`
 *   parameters may follow.
 *
 * Two URIs name the same thing when they are equal under the rules of §6.1
 * (see {@link MsrpUri.equals}); {@link MsrpUri.key} gives a string with the
 * same notion of equality, for `Map` lookups such as matching a To-Path to a
 * session (§7.3). Parsing is a single left-to-right scan: linear time, no
 * regular expressions.
 *
 * @module
 */

import { type MsrpErrorCode, MsrpSyntaxError } from "../errors.ts";

// ---------------------------------------------------------------------------
// Character classes (ASCII only; anything at or above 0x80 is in no class).

const ALPHA = 1;
const DIGIT = 2;
/** `-` `.` `_` `~`: the punctuation of `unreserved` (RFC 3986 §2.3). */
const UNRESERVED_PUNCT = 4;
/** `sub-delims` of RFC 3986 §2.2, without `;` (MSRP uses `;` before the transport). */
const SUB_DELIM = 8;
/** `token` of RFC 4975 §9. */
const TOKEN = 16;
const HEX = 32;

const CLASS = new Uint8Array(128);
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] |= ALPHA;
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] |= ALPHA;
for (let c = 0x30; c <= 0x39; c++) CLASS[c] |= DIGIT | HEX;
for (const ch of "abcdefABCDEF") CLASS[ch.charCodeAt(0)] |= HEX;
for (const ch of "-._~") CLASS[ch.charCodeAt(0)] |= UNRESERVED_PUNCT;
for (const ch of "!$&'()*+,=") CLASS[ch.charCodeAt(0)] |= SUB_DELIM;
// token = 1*(%x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E)
for (let c = 0x21; c <= 0x7e; c++) {
  if (c === 0x22 || c === 0x28 || c === 0x29 || c === 0x2c || c === 0x2f) continue;
  if (c >= 0x3a && c <= 0x40) continue;
  if (c >= 0x5b && c <= 0x5d) continue;
  CLASS[c] |= TOKEN;
}

function is(c: number, mask: number): boolean {
  return c < 128 && (CLASS[c] & mask) !== 0;
}

const UNRESERVED = ALPHA | DIGIT | UNRESERVED_PUNCT;
const PERCENT = 0x25;

/** Checks `pct-encoded = "%" HEXDIG HEXDIG` at `i`; returns the index after it. */
function pct(input: string, i: number, end: number, code: MsrpErrorCode, what: string): number {
  if (i + 3 <= end && is(input.charCodeAt(i + 1), HEX) && is(input.charCodeAt(i + 2), HEX)) {
    return i + 3;
  }
  throw new MsrpSyntaxError(
    code,
    `${what}: "%" must be followed by two hexadecimal digits`,
    input,
    i,
  );
}

/**
 * Normalizes percent-encodings (RFC 3986 §6.2.2.1, §6.2.2.2): an encoded
 * unreserved character is decoded, any other keeps its encoding with
 * upper-case hex digits. Assumes every `%` starts a valid triplet.
 */
function normalizePct(s: string): string {
  if (s.indexOf("%") < 0) return s;
  let out = "";
  let last = 0;
  for (let i = s.indexOf("%"); i >= 0 && i + 2 < s.length; i = s.indexOf("%", i)) {
    const code = parseInt(s.slice(i + 1, i + 3), 16);
    out += s.slice(last, i);
    out += is(code, UNRESERVED) ? String.fromCharCode(code) : s.slice(i, i + 3).toUpperCase();
    i += 3;
    last = i;
  }
  return out + s.slice(last);
}

// ---------------------------------------------------------------------------
// The pieces of the grammar. Each scanner reads `input` from `i` (never past
// `end`), throws an MsrpSyntaxError pointing into `input`, and returns the
// index where it stopped.

/** What kind of host a URI names. */
export type HostKind = "ipv4" | "ipv6" | "name";

/**
 * `scheme "://"`: returns the lowercased scheme and the index where the
 * authority starts.
 */
function scanScheme(input: string, i: number, end: number): ["msrp" | "msrps", number] {
  let j = i;
  // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  while (j < end) {
    const c = input.charCodeAt(j);
    if (is(c, ALPHA | DIGIT) || c === 0x2b || c === 0x2d || c === 0x2e) j++;
    else break;
  }
  const scheme = input.slice(i, j).toLowerCase();
  // RFC 4975 §9: msrp-scheme = "msrp" / "msrps" (ABNF literals ignore case)
  if (scheme !== "msrp" && scheme !== "msrps") {
    throw new MsrpSyntaxError(
      "bad-scheme",
      `the scheme must be "msrp" or "msrps", not ${JSON.stringify(input.slice(i, j))}`,
      input,
      i,
    );
  }
  if (j + 3 > end || !input.startsWith("://", j)) {
    throw new MsrpSyntaxError("bad-scheme", `expected "://" after the scheme`, input, j);
  }
  return [scheme, j + 3];
}

/**
 * Looks for `userinfo "@"` at `i`. Returns the index of the `@`, or -1 when
 * the authority has no userinfo.
 */
function scanUserinfo(input: string, i: number, end: number): number {
  // RFC 3986 §3.2.1: userinfo = *( unreserved / pct-encoded / sub-delims / ":" )
  let j = i;
  let colon = -1;
  while (j < end) {
    const c = input.charCodeAt(j);
    if (is(c, UNRESERVED | SUB_DELIM) || c === PERCENT) j++;
    else if (c === 0x3a) {
      if (colon < 0) colon = j;
      j++;
    } else break;
  }
  if (j >= end || input.charCodeAt(j) !== 0x40) return -1;
  checkUserinfo(input, i, j, colon);
  return j;
}

/** Checks a userinfo that runs from `i` to `end` (exclusive). */
function checkUserinfo(input: string, i: number, end: number, colon = -1): void {
  if (i === end) {
    throw new MsrpSyntaxError("bad-userinfo", `the userinfo before "@" is empty`, input, i);
  }
  // RFC 4975 §6: "A userinfo part MUST NOT contain password information."
  // In RFC 3986 that is whatever follows a ":" in the userinfo (§3.2.1).
  if (colon >= 0) {
    throw new MsrpSyntaxError(
      "password-in-userinfo",
      `the userinfo has a ":" (a password), which MSRP URIs must not carry`,
      input,
      colon,
    );
  }
  for (let j = i; j < end;) {
    const c = input.charCodeAt(j);
    if (c === PERCENT) j = pct(input, j, end, "bad-userinfo", "bad userinfo");
    else if (c === 0x3a) {
      throw new MsrpSyntaxError(
        "password-in-userinfo",
        `the userinfo has a ":" (a password), which MSRP URIs must not carry`,
        input,
        j,
      );
    } else if (is(c, UNRESERVED | SUB_DELIM)) j++;
    else {
      throw new MsrpSyntaxError(
        "bad-userinfo",
        `the userinfo may only hold unreserved characters, %-escapes and sub-delimiters`,
        input,
        j,
      );
    }
  }
}

interface HostScan {
  /** Index after the host (after `]` for IPv6). */
  end: number;
  kind: HostKind;
  /** The host text, without brackets. */
  host: string;
  /** The canonical form used for comparison. */
  canonical: string;
}

/** `host = IP-literal / IPv4address / reg-name` (RFC 3986 §3.2.2). */
function scanHost(input: string, i: number, end: number): HostScan {
  if (i < end && input.charCodeAt(i) === 0x5b) {
    const close = input.indexOf("]", i + 1);
    if (close < 0 || close >= end) {
      throw new MsrpSyntaxError(
        "bad-ipv6",
        `the IPv6 address has no closing "]"`,
        input,
        end,
      );
    }
    const groups = parseIPv6(input, i + 1, close);
    return {
      end: close + 1,
      kind: "ipv6",
      host: input.slice(i + 1, close),
      canonical: "[" + groups.map((g) => g.toString(16)).join(":") + "]",
    };
  }
  let j = i;
  let lastDot = -1;
  while (j < end) {
    const c = input.charCodeAt(j);
    if (c === PERCENT) j = pct(input, j, end, "bad-host", "bad host name");
    else if (is(c, UNRESERVED | SUB_DELIM)) {
      if (c === 0x2e) lastDot = j;
      j++;
    } else break;
  }
  if (j === i) {
    throw new MsrpSyntaxError("bad-host", `the URI has no host`, input, i);
  }
  // RFC 3986 §3.2.2 prefers IPv4address over reg-name whenever the text
  // matches both. Top-level domain labels are never all digits (RFC 3696
  // §2), so a host whose last label is a number can only be meant as an
  // address (resolvers read `127.1`, `2130706433` and `0x7f000001` as
  // 127.0.0.1, the "rare IP address formats" of RFC 3986 §7.4): it must then
  // be a valid dotted quad. The same rule serves parse and from.
  const lastLabel = lastDot < 0 ? i : lastDot + 1; // the host starts at i, not at 0
  const host = input.slice(i, j);
  if (lastLabel < j && isNumberLabel(input, lastLabel, j)) {
    checkIPv4(input, i, j);
    return { end: j, kind: "ipv4", host, canonical: host };
  }
  // RFC 4975 §6.1 rule 2: decode %-escaped unreserved characters, then
  // compare case-insensitively.
  return { end: j, kind: "name", host, canonical: normalizePct(host).toLowerCase() };
}

/**
 * Whether `input[s..e)` (not empty) is a number as `inet_aton` reads one:
 * decimal digits, or `0x` and hexadecimal digits.
 */
function isNumberLabel(input: string, s: number, e: number): boolean {
  let k = s;
  let mask = DIGIT;
  if (e - s >= 2 && input.charCodeAt(s) === 0x30 && (input.charCodeAt(s + 1) | 0x20) === 0x78) {
    k = s + 2;
    mask = HEX;
  }
  for (; k < e; k++) if (!is(input.charCodeAt(k), mask)) return false;
  return true;
}

/**
 * `IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet`
 * (RFC 3986 §3.2.2): four decimal numbers 0-255 without leading zeros.
 */
function checkIPv4(input: string, i: number, end: number): void {
  let part = 0;
  let j = i;
  while (true) {
    const start = j;
    let value = 0;
    while (j < end && is(input.charCodeAt(j), DIGIT) && j - start < 4) {
      value = value * 10 + (input.charCodeAt(j) - 0x30);
      j++;
    }
    if (j === start) {
      throw new MsrpSyntaxError(
        "bad-ipv4",
        `an IPv4 address needs four decimal numbers separated by "."`,
        input,
        j,
      );
    }
    if (value > 255 || j - start > 3) {
      throw new MsrpSyntaxError(
        "bad-ipv4",
        `each number of an IPv4 address must be 0 to 255`,
        input,
        start,
      );
    }
    if (j - start > 1 && input.charCodeAt(start) === 0x30) {
      throw new MsrpSyntaxError(
        "bad-ipv4",
        `a number of an IPv4 address must not have a leading zero (it could be read as octal)`,
        input,
        start,
      );
    }
    part++;
    if (part === 4) break;
    if (j >= end || input.charCodeAt(j) !== 0x2e) {
      throw new MsrpSyntaxError(
        "bad-ipv4",
        `an IPv4 address needs four decimal numbers separated by "."`,
        input,
        j,
      );
    }
    j++;
  }
  if (j !== end) {
    throw new MsrpSyntaxError(
      "bad-ipv4",
      `an IPv4 address has exactly four numbers`,
      input,
      j,
    );
  }
}

/**
 * Parses the text between `[` and `]` as an IPv6 address (RFC 4291 §2.2,
 * RFC 3986 §3.2.2): eight groups of 1-4 hex digits, at most one `::`
 * standing for one or more zero groups, and optionally a dotted-quad IPv4
 * address in place of the last two groups. Returns the eight groups.
 */
function parseIPv6(input: string, i: number, end: number): number[] {
  const bad = (at: number, why: string): MsrpSyntaxError =>
    new MsrpSyntaxError("bad-ipv6", `bad IPv6 address: ${why}`, input, at);
  const groups: number[] = [];
  let gap = -1; // index in `groups` where "::" stands
  let gapAt = -1; // its offset in `input`
  let j = i;
  if (j === end) throw bad(j, "it is empty");
  if (input.charCodeAt(j) === 0x3a) {
    if (j + 1 >= end || input.charCodeAt(j + 1) !== 0x3a) throw bad(j, `it starts with a lone ":"`);
    gap = 0;
    gapAt = j;
    j += 2;
  }
  while (j < end) {
    if (groups.length === 8) throw bad(j, "it has more than eight groups");
    const start = j;
    let value = 0;
    while (j < end && is(input.charCodeAt(j), HEX) && j - start < 4) {
      value = value * 16 + parseInt(input[j], 16);
      j++;
    }
    if (j < end && input.charCodeAt(j) === 0x2e) {
      // The embedded IPv4 form (ls32) ends the address.
      try {
        checkIPv4(input, start, end);
      } catch (e) {
        const inner = e as MsrpSyntaxError;
        throw bad(inner.offset, "the embedded IPv4 address is not four numbers 0 to 255");
      }
      if (groups.length > 6) throw bad(start, "no room for an embedded IPv4 address");
      let a = 0;
      for (const n of input.slice(start, end).split(".")) a = a * 256 + Number(n);
      groups.push(Math.floor(a / 65536), a % 65536);
      j = end;
      break;
    }
    if (j === start) throw bad(j, "expected a group of hexadecimal digits");
    if (j < end && is(input.charCodeAt(j), HEX)) throw bad(j, "a group has more than four digits");
    groups.push(value);
    if (j === end) break;
    if (input.charCodeAt(j) !== 0x3a) throw bad(j, "unexpected character");
    j++;
    if (j < end && input.charCodeAt(j) === 0x3a) {
      if (gap >= 0) throw bad(j - 1, `"::" may appear only once`);
      gap = groups.length;
      gapAt = j - 1;
      j++;
    } else if (j === end) {
      throw bad(j - 1, `it ends with a lone ":"`);
    }
  }
  if (gap < 0) {
    if (groups.length !== 8) throw bad(end, 'it needs eight groups (or a "::")');
    return groups;
  }
  if (groups.length > 7) throw bad(gapAt, `"::" must stand for at least one group`);
  const zeros = new Array<number>(8 - groups.length).fill(0);
  return [...groups.slice(0, gap), ...zeros, ...groups.slice(gap)];
}

/** `":" port` at `i` (the colon included). Returns the index after the digits. */
function scanPort(input: string, i: number, end: number): [number, number] {
  let j = i + 1;
  let value = 0;
  while (j < end && is(input.charCodeAt(j), DIGIT)) {
    if (value <= 65535) value = value * 10 + (input.charCodeAt(j) - 0x30);
    j++;
  }
  if (j === i + 1) {
    throw new MsrpSyntaxError("bad-port", `expected a decimal port number after ":"`, input, j);
  }
  if (value > 65535) {
    throw new MsrpSyntaxError("bad-port", `the port must be 0 to 65535`, input, i + 1);
  }
  return [j, value];
}

/** `session-id = 1*( unreserved / "+" / "=" / "/" )` at `i`, %-escapes tolerated. */
function scanSessionId(input: string, i: number, end: number): number {
  let j = i;
  while (j < end) {
    const c = input.charCodeAt(j);
    if (is(c, UNRESERVED) || c === 0x2b || c === 0x3d || c === 0x2f) j++;
    else if (c === PERCENT) j = pct(input, j, end, "bad-session-id", "bad session-id");
    else break;
  }
  if (j === i) {
    throw new MsrpSyntaxError(
      "bad-session-id",
      `the session-id after "/" is empty or starts with a character it may not hold`,
      input,
      i,
    );
  }
  return j;
}

/** `transport = "tcp" / 1*ALPHANUM` at `i`. */
function scanTransport(input: string, i: number, end: number): number {
  let j = i;
  while (j < end && is(input.charCodeAt(j), ALPHA | DIGIT)) j++;
  if (j === i) {
    throw new MsrpSyntaxError(
      "bad-transport",
      `the transport (after ";") must be letters and digits, e.g. "tcp" or "ws"`,
      input,
      i,
    );
  }
  return j;
}

/** `token` at `i`; returns the index after it (== i when there is none). */
function scanToken(input: string, i: number, end: number): number {
  let j = i;
  while (j < end && is(input.charCodeAt(j), TOKEN)) j++;
  return j;
}

// ---------------------------------------------------------------------------

/** One URI parameter after the transport: `name` or `name=value`. */
export type UriParam = readonly [name: string, value: string | undefined];

/** The parts an MSRP URI is built from, see {@link MsrpUri.from}. */
export interface MsrpUriParts {
  /** `msrp` (the default) or `msrps` (TLS). */
  scheme?: "msrp" | "msrps";
  /** A user account, without password (RFC 4975 §6). */
  userinfo?: string;
  /** Host name, IPv4 address, or IPv6 address (with or without brackets). */
  host: string;
  /** Port 0-65535; required when the host is an IP address. */
  port?: number;
  /** Session id; absent for a relay's or a device's own URI. */
  sessionId?: string;
  /** Transport parameter, `tcp` by default (`ws` for RFC 7977). */
  transport?: string;
  /** Further URI parameters, in order. */
  params?: readonly UriParam[];
}

interface UriInit {
  text: string;
  scheme: "msrp" | "msrps";
  userinfo: string | undefined;
  host: string;
  hostKind: HostKind;
  canonicalHost: string;
  port: number | undefined;
  sessionId: string | undefined;
  transport: string;
  params: readonly UriParam[];
  authority: string;
}

let makeUri: (init: UriInit) => MsrpUri;

/**
 * An MSRP URI (RFC 4975 §6). Immutable; create one with
 * {@link MsrpUri.parse} or {@link MsrpUri.from}.
 *
 * ```ts
 * const uri = MsrpUri.parse("msrp://bob.example.com:8888/9di4eae923wzd;tcp");
 * uri.host; // "bob.example.com"
 * uri.port; // 8888
 * uri.sessionId; // "9di4eae923wzd"
 * uri.equals(MsrpUri.parse("MSRP://BOB.example.com:8888/9di4eae923wzd;TCP")); // true
 * ```
 */
export class MsrpUri {
  /** `msrp`, or `msrps` when the connection must use TLS; always lower case. */
  readonly scheme: "msrp" | "msrps";
  /** The user part before `@`, as written, or `undefined`. Ignored by {@link equals}. */
  readonly userinfo: string | undefined;
  /** The host as written; an IPv6 address without its brackets. */
  readonly host: string;
  /** Whether {@link host} is an IPv4 address, an IPv6 address or a name. */
  readonly hostKind: HostKind;
  /** The port, or `undefined` when the URI has none (only allowed for host names). */
  readonly port: number | undefined;
  /** The session-id as written (without the leading `/`), or `undefined`. */
  readonly sessionId: string | undefined;
  /** The transport parameter as written, e.g. `tcp` or `ws`. */
  readonly transport: string;
  /** The parameters after the transport, in order, as written. */
  readonly params: readonly UriParam[];
  readonly #text: string;
  readonly #canonicalHost: string;
  readonly #authority: string;
  #key: string | undefined;

  private constructor(init: UriInit) {
    this.#text = init.text;
    this.scheme = init.scheme;
    this.userinfo = init.userinfo;
    this.host = init.host;
    this.hostKind = init.hostKind;
    this.#canonicalHost = init.canonicalHost;
    this.port = init.port;
    this.sessionId = init.sessionId;
    this.transport = init.transport;
    this.params = init.params;
    this.#authority = init.authority;
    Object.freeze(this.params);
  }

  /**
   * Parses an MSRP URI (RFC 4975 §9).
   *
   * @param text the whole URI, e.g. `msrp://host.example.com:8493/asfd34;tcp`
   * @throws {MsrpSyntaxError} with a code such as `bad-scheme`, `bad-host`,
   *   `bad-ipv4`, `bad-ipv6`, `missing-port`, `bad-port`, `bad-session-id`,
   *   `missing-transport`, `bad-transport`, `bad-parameter`,
   *   `password-in-userinfo`, `bad-userinfo` or `empty`
   */
  static parse(text: string): MsrpUri {
    return parseUriRange(text, 0, text.length);
  }

  /**
   * Builds a URI from its parts, checking each against the grammar. The
   * result prints in canonical form: `scheme://[userinfo@]host[:port][/session-id];transport[;params]`.
   *
   * @param parts the pieces; `scheme` defaults to `msrp`, `transport` to `tcp`
   * @throws {MsrpSyntaxError} when a part is malformed; `input` and `offset`
   *   then refer to that part
   */
  static from(parts: MsrpUriParts): MsrpUri {
    const scheme = parts.scheme ?? "msrp";
    if (scheme !== "msrp" && scheme !== "msrps") {
      throw new MsrpSyntaxError("bad-scheme", `the scheme must be "msrp" or "msrps"`, scheme, 0);
    }
    if (parts.userinfo !== undefined) {
      checkUserinfo(parts.userinfo, 0, parts.userinfo.length, parts.userinfo.indexOf(":"));
    }
    let hostText = parts.host;
    if (hostText.includes(":") && !hostText.startsWith("[")) hostText = `[${hostText}]`;
    const h = scanHost(hostText, 0, hostText.length);
    if (h.end !== hostText.length) {
      throw new MsrpSyntaxError(
        h.kind === "ipv6" ? "bad-ipv6" : "bad-host",
        `the host may only hold unreserved characters, %-escapes and sub-delimiters`,
        hostText,
        h.end,
      );
    }
    const port = parts.port;
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
      throw new MsrpSyntaxError(
        "bad-port",
        `the port must be an integer 0 to 65535`,
        String(port),
        0,
      );
    }
    if (port === undefined && h.kind !== "name") {
      throw new MsrpSyntaxError(
        "missing-port",
        `a URI with a numeric IP address must have a port (RFC 4975 §6)`,
        hostText,
        hostText.length,
      );
    }
    const sid = parts.sessionId;
    if (sid !== undefined && scanSessionId(sid, 0, sid.length) !== sid.length) {
      throw badSessionIdChar(sid, scanSessionId(sid, 0, sid.length));
    }
    const transport = parts.transport ?? "tcp";
    if (scanTransport(transport, 0, transport.length) !== transport.length) {
      throw new MsrpSyntaxError(
        "bad-transport",
        `the transport must be letters and digits only`,
        transport,
        scanTransport(transport, 0, transport.length),
      );
    }
    const params: UriParam[] = [];
    for (const [name, value] of parts.params ?? []) {
      const n = scanToken(name, 0, name.length);
      if (n === 0 || n !== name.length) {
        throw new MsrpSyntaxError("bad-parameter", `a URI parameter name must be a token`, name, n);
      }
      if (value !== undefined) {
        const v = scanToken(value, 0, value.length);
        if (v === 0 || v !== value.length) {
          throw new MsrpSyntaxError(
            "bad-parameter",
            `a URI parameter value must be a token`,
            value,
            v,
          );
        }
      }
      params.push([name, value]);
    }
    const authority = (parts.userinfo !== undefined ? parts.userinfo + "@" : "") + hostText +
      (port !== undefined ? ":" + port : "");
    let text = `${scheme}://${authority}`;
    if (sid !== undefined) text += "/" + sid;
    text += ";" + transport;
    for (const [name, value] of params) {
      text += value === undefined ? `;${name}` : `;${name}=${value}`;
    }
    return new MsrpUri({
      text,
      scheme,
      userinfo: parts.userinfo,
      host: h.host,
      hostKind: h.kind,
      canonicalHost: h.canonical,
      port,
      sessionId: sid,
      transport,
      params,
      authority,
    });
  }

  static {
    // Lets the parser below call the private constructor.
    makeUri = (init) => new MsrpUri(init);
  }

  /**
   * A copy with some parts replaced (the copy prints in canonical form).
   *
   * @param changes the parts to replace; a key present with `undefined`
   *   removes that part
   */
  with(changes: Partial<MsrpUriParts>): MsrpUri {
    const base: MsrpUriParts = {
      scheme: this.scheme,
      userinfo: this.userinfo,
      host: this.host,
      port: this.port,
      sessionId: this.sessionId,
      transport: this.transport,
      params: this.params,
    };
    return MsrpUri.from({ ...base, ...changes, host: changes.host ?? this.host });
  }

  /** True for `msrps`: the connection MUST use TLS (RFC 4975 §6). */
  get secure(): boolean {
    return this.scheme === "msrps";
  }

  /** The authority as written: `[userinfo@]host[:port]`, IPv6 in brackets. */
  get authority(): string {
    return this.#authority;
  }

  /** `host[:port]` as written, IPv6 in brackets, without userinfo. */
  get hostPort(): string {
    const host = this.hostKind === "ipv6" ? `[${this.host}]` : this.host;
    return this.port === undefined ? host : `${host}:${this.port}`;
  }

  /**
   * A string naming the connection this URI would be reached over. RFC 4975
   * §5.4: a connection may be reused for a URI with the same host, port and
   * scheme. Host names are lowercased and IP addresses canonical, so
   * `msrp://[::1]:9/a;tcp` and `msrp://[0:0::1]:9/b;tcp` share a key. The
   * transport is not part of it.
   */
  get connectionKey(): string {
    return `${this.scheme}://${this.#canonicalHost}:${this.port ?? ""}`;
  }

  /**
   * A canonical string for the URI such that
   * `a.equals(b) === (a.key === b.key)`, to index sessions by URI.
   * It applies every rule of RFC 4975 §6.1 (see {@link equals}).
   */
  get key(): string {
    if (this.#key === undefined) {
      let k = `${this.scheme}://${this.#canonicalHost}`;
      if (this.port !== undefined) k += ":" + this.port;
      if (this.sessionId !== undefined) k += "/" + normalizePct(this.sessionId);
      this.#key = k + ";" + this.transport.toLowerCase();
    }
    return this.#key;
  }

  /**
   * Compares two URIs by RFC 4975 §6.1:
   * 1. the schemes match (case-insensitive);
   * 2. the hosts match: IP addresses as addresses (`::1` equals
   *    `0:0:0:0:0:0:0:1`), names case-insensitively after decoding
   *    %-escaped unreserved characters; userinfo is ignored;
   * 3. the ports match, and a URI with a port never equals one without;
   * 4. the session-ids match case-sensitively (after the same %-decoding),
   *    and a URI without one never equals one with one;
   * 5. the transports match case-insensitively.
   *
   * Other URI parameters are not compared.
   *
   * @param other the URI to compare with
   */
  equals(other: MsrpUri): boolean {
    return this === other || this.key === other.key;
  }

  /**
   * The URI as text: exactly the text it was parsed from, or the canonical
   * form for a URI built with {@link MsrpUri.from}.
   */
  toString(): string {
    return this.#text;
  }

  /** Same as {@link toString}, so that URIs serialize as strings. */
  toJSON(): string {
    return this.#text;
  }
}

function badSessionIdChar(input: string, at: number): MsrpSyntaxError {
  return new MsrpSyntaxError(
    "bad-session-id",
    `the session-id may only hold unreserved characters, "+", "=", "/" and %-escapes`,
    input,
    at,
  );
}

/**
 * Parses the MSRP URI in `input.slice(start, end)`. Errors point into the
 * whole `input`, so a header parser can report offsets within the header
 * value.
 *
 * @param input the text holding the URI
 * @param start index of the URI's first character
 * @param end index after its last character
 * @throws {MsrpSyntaxError} as {@link MsrpUri.parse}
 */
export function parseUriRange(input: string, start: number, end: number): MsrpUri {
  if (start >= end) {
    throw new MsrpSyntaxError("empty", "the URI is empty", input, start);
  }
  const [scheme, authStart] = scanScheme(input, start, end);
  let i = authStart;

  // authority = [ userinfo "@" ] host [ ":" port ]
  let userinfo: string | undefined;
  const at = scanUserinfo(input, i, end);
  if (at >= 0) {
    userinfo = input.slice(i, at);
    i = at + 1;
  }
  const h = scanHost(input, i, end);
  i = h.end;
  let port: number | undefined;
  let c = i < end ? input.charCodeAt(i) : -1;
  if (c === 0x3a) {
    [i, port] = scanPort(input, i, end);
    c = i < end ? input.charCodeAt(i) : -1;
    if (c !== -1 && c !== 0x2f && c !== 0x3b) {
      throw new MsrpSyntaxError("bad-port", `the port must be decimal digits only`, input, i);
    }
  } else if (c !== -1 && c !== 0x2f && c !== 0x3b) {
    throw new MsrpSyntaxError(
      h.kind === "ipv6" ? "bad-ipv6" : "bad-host",
      h.kind === "ipv6"
        ? `expected ":port", "/session-id" or ";transport" after the IPv6 address`
        : `the host may only hold unreserved characters, %-escapes and sub-delimiters`,
      input,
      i,
    );
  }
  // RFC 4975 §6: "If the authority field contains a numeric IP address, it
  // MUST also contain a port." (RFC 4976 §8 repeats it for msrps.)
  if (port === undefined && h.kind !== "name") {
    throw new MsrpSyntaxError(
      "missing-port",
      `a URI with a numeric IP address must have a port (RFC 4975 §6)`,
      input,
      i,
    );
  }
  const authority = input.slice(authStart, i);

  let sessionId: string | undefined;
  if (c === 0x2f) {
    const s = i + 1;
    i = scanSessionId(input, s, end);
    sessionId = input.slice(s, i);
    c = i < end ? input.charCodeAt(i) : -1;
    if (c !== -1 && c !== 0x3b) throw badSessionIdChar(input, i);
  }

  // RFC 4975 §9: the transport parameter is not optional.
  if (c === -1) {
    throw new MsrpSyntaxError(
      "missing-transport",
      `the URI has no ";transport" part (e.g. ";tcp")`,
      input,
      i,
    );
  }
  const ts = i + 1;
  i = scanTransport(input, ts, end);
  const transport = input.slice(ts, i);
  if (i < end && input.charCodeAt(i) !== 0x3b) {
    throw new MsrpSyntaxError(
      "bad-transport",
      `the transport must be letters and digits only`,
      input,
      i,
    );
  }

  // *( ";" URI-parameter ), URI-parameter = token ["=" token]
  const params: UriParam[] = [];
  while (i < end) {
    const ns = i + 1;
    i = scanToken(input, ns, end);
    if (i === ns) {
      throw new MsrpSyntaxError(
        "bad-parameter",
        `expected a parameter name (a token) after ";"`,
        input,
        i,
      );
    }
    const name = input.slice(ns, i);
    let value: string | undefined;
    if (i < end && input.charCodeAt(i) === 0x3d) {
      const vs = i + 1;
      i = scanToken(input, vs, end);
      if (i === vs) {
        throw new MsrpSyntaxError(
          "bad-parameter",
          `expected a parameter value (a token) after "="`,
          input,
          i,
        );
      }
      value = input.slice(vs, i);
    }
    if (i < end && input.charCodeAt(i) !== 0x3b) {
      throw new MsrpSyntaxError(
        "bad-parameter",
        `a URI parameter is "name" or "name=value" made of token characters`,
        input,
        i,
      );
    }
    params.push([name, value]);
  }

  return makeUri({
    text: start === 0 && end === input.length ? input : input.slice(start, end),
    scheme,
    userinfo,
    host: h.host,
    hostKind: h.kind,
    canonicalHost: h.canonical,
    port,
    sessionId,
    transport,
    params,
    authority,
  });
}

/**
 * Parses an MSRP URI; same as {@link MsrpUri.parse}.
 *
 * @param text the URI
 * @throws {MsrpSyntaxError} when it is malformed
 *
 * @example Parse an MSRP URI
 * ```ts
 * import { parseUri } from "@msrp/msrp";
 *
 * const uri = parseUri("msrps://bob.example.com:2855/9di4ea;tcp");
 * console.log(uri.secure, uri.host, uri.port, uri.sessionId); // true "bob.example.com" 2855 "9di4ea"
 * ```
 */
export function parseUri(text: string): MsrpUri {
  return parseUriRange(text, 0, text.length);
}

/**
 * Whether two URIs are equal by RFC 4975 §6.1; same as {@link MsrpUri.equals}.
 *
 * @param a one URI
 * @param b the other URI
 *
 * @example Compare two URIs as RFC 4975 §6.1 does
 * ```ts
 * import { parseUri, uriEquals } from "@msrp/msrp/wire";
 *
 * const a = parseUri("msrp://BOB.example.com:8888/9di4ea;tcp");
 * const b = parseUri("msrp://bob.example.com:8888/9di4ea;tcp");
 * console.log(uriEquals(a, b)); // true: the host is case-insensitive, the session id is not
 * ```
 */
export function uriEquals(a: MsrpUri, b: MsrpUri): boolean {
  return a.equals(b);
}
