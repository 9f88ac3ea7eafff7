/**
 * Media types and the accept-types rules of MSRP (RFC 4975 §8.6, §7.3.1).
 *
 * Each side of an MSRP session lists in SDP the media types it is willing to
 * receive:
 *
 * ```
 * a=accept-types:message/cpim text/plain text/*
 * a=accept-wrapped-types:*
 * ```
 *
 * - `a=accept-types` (§8.6) lists the types a SEND body may have at the top
 *   level. `*` means "anything, try it", `text/*` means "any text subtype".
 *   A peer that receives a type it cannot handle answers 415.
 * - `a=accept-wrapped-types` (§8.6) lists types that may only appear wrapped
 *   inside a container type listed in accept-types (for example inside a
 *   `message/cpim` envelope).
 * - Parameters never take part in the match: `text/plain;charset=utf-8`
 *   matches an entry `text/plain` and the other way round (§8.6, last
 *   paragraph). Type and subtype are tokens, compared case-insensitively.
 * - Every endpoint MUST be able to receive `multipart/mixed` and
 *   `multipart/alternative` (§7.3.1), whether or not it lists them.
 *
 * @module
 */

import { MsrpSyntaxError } from "../errors.ts";
import { scanToken } from "./token.ts";

/** A parsed media type: `type "/" subtype *( ";" parameter )`. */
export interface MediaType {
  /** The top-level type, lower-cased (`"text"`). */
  type: string;
  /** The subtype, lower-cased (`"plain"`), or `"*"` for a wildcard entry. */
  subtype: string;
  /** Parameters in order; names lower-cased, values as written (quotes removed, escapes undone). */
  parameters: [name: string, value: string][];
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && (text[i] === " " || text[i] === "\t")) i++;
  return i;
}

/**
 * Parses a media type such as `text/plain; charset=utf-8` (RFC 4975 §9
 * `media-type`, with the optional whitespace around `;` and `=` that MIME
 * writers commonly add).
 *
 * @param text the media type, e.g. a Content-Type value or an accept-types entry
 * @returns the type, subtype and parameters
 * @throws {MsrpSyntaxError} `bad-media-type` when the text is not `type/subtype[;params]`
 *
 * @example Parse a media type
 * ```ts
 * import { parseMediaType } from "@msrp/msrp/payload";
 *
 * const mt = parseMediaType("text/plain;charset=UTF-8");
 * console.log(mt.type, mt.subtype, mt.parameters); // "text" "plain" [["charset", "UTF-8"]]
 * ```
 */
export function parseMediaType(text: string): MediaType {
  const fail = (message: string, at: number): never => {
    throw new MsrpSyntaxError("bad-media-type", message, text, at);
  };
  let i = skipWhitespace(text, 0);
  const typeStart = i;
  i = scanToken(text, i);
  if (i === typeStart) fail("expected a media type token", i);
  const type = text.slice(typeStart, i).toLowerCase();
  if (text[i] !== "/") fail('expected "/" between type and subtype', i);
  i++;
  const subStart = i;
  i = scanToken(text, i);
  if (i === subStart) fail("expected a subtype token", i);
  const subtype = text.slice(subStart, i).toLowerCase();
  const parameters: [string, string][] = [];
  i = skipWhitespace(text, i);
  while (i < text.length) {
    if (text[i] !== ";") fail('expected ";" before a parameter', i);
    i = skipWhitespace(text, i + 1);
    const nameStart = i;
    i = scanToken(text, i);
    if (i === nameStart) fail("expected a parameter name", i);
    const name = text.slice(nameStart, i).toLowerCase();
    i = skipWhitespace(text, i);
    let value = "";
    if (text[i] === "=") {
      i = skipWhitespace(text, i + 1);
      if (text[i] === '"') {
        // quoted-string = DQUOTE *(qdtext / qd-esc) DQUOTE (§9)
        i++;
        let closed = false;
        while (i < text.length) {
          const ch = text[i];
          if (ch === "\\" && i + 1 < text.length) {
            value += text[i + 1];
            i += 2;
          } else if (ch === '"') {
            closed = true;
            i++;
            break;
          } else {
            value += ch;
            i++;
          }
        }
        if (!closed) fail("unterminated quoted parameter value", text.length);
      } else {
        const valueStart = i;
        i = scanToken(text, i);
        if (i === valueStart) fail("expected a parameter value", i);
        value = text.slice(valueStart, i);
      }
    }
    parameters.push([name, value]);
    i = skipWhitespace(text, i);
  }
  return { type, subtype, parameters };
}

/**
 * The `type/subtype` part of a media type, lower-cased, or `undefined` when
 * the text does not start with `type/subtype`. Parameters are dropped
 * without being checked, so that a sloppy parameter does not stop a match.
 *
 * @param contentType e.g. `"Text/Plain; charset=UTF-8"`
 * @returns e.g. `"text/plain"`
 */
export function mediaTypeEssence(contentType: string): string | undefined {
  let i = skipWhitespace(contentType, 0);
  const start = i;
  i = scanToken(contentType, i);
  if (i === start || contentType[i] !== "/") return undefined;
  const slash = i;
  i = scanToken(contentType, i + 1);
  if (i === slash + 1) return undefined;
  const end = i;
  i = skipWhitespace(contentType, i);
  if (i < contentType.length && contentType[i] !== ";") return undefined;
  return contentType.slice(start, end).toLowerCase();
}

/** One accept-types entry reduced to what the match looks at. */
function entryEssence(entry: string): string | undefined {
  const trimmed = entry.trim();
  if (trimmed === "*") return "*";
  const essence = mediaTypeEssence(trimmed);
  return essence === "*/*" ? "*" : essence; // the HTTP spelling of "anything"
}

/** True when `pattern` (`*`, `type/*` or `type/subtype`) covers `essence` (`type/subtype`). */
function covers(pattern: string, essence: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith("/*")) {
    return essence.startsWith(pattern.slice(0, -1)); // "text/" prefix
  }
  return pattern === essence;
}

/**
 * Whether a media type is listed in an accept-types (or accept-wrapped-types)
 * list, explicitly or through `*` or `type/*` (RFC 4975 §8.6).
 *
 * Matching is case-insensitive and ignores parameters on both sides. This
 * is the plain list match: it does not add the multipart types every
 * endpoint must take (see {@linkcode isAcceptable}).
 *
 * @param acceptTypes the entries of an `a=accept-types` attribute
 * @param contentType the Content-Type of a body, e.g. `"text/plain;charset=utf-8"`
 * @returns true when some entry covers the type; false also for a malformed type
 *
 * @example Match a type against a=accept-types
 * ```ts
 * import { matchesAcceptTypes } from "@msrp/msrp/payload";
 *
 * console.log(matchesAcceptTypes(["text/*", "message/cpim"], "text/html")); // true
 * console.log(matchesAcceptTypes(["text/plain"], "image/png")); // false
 * ```
 */
export function matchesAcceptTypes(acceptTypes: readonly string[], contentType: string): boolean {
  const essence = mediaTypeEssence(contentType);
  if (essence === undefined) return false;
  for (const entry of acceptTypes) {
    const pattern = entryEssence(entry);
    if (pattern !== undefined && covers(pattern, essence)) return true;
  }
  return false;
}

/** The types every MSRP endpoint MUST be able to receive (RFC 4975 §7.3.1). */
export const ALWAYS_ACCEPTED_TYPES: readonly string[] = Object.freeze([
  "multipart/mixed",
  "multipart/alternative",
]);

/**
 * Whether a media type is a multipart container (`multipart/*`).
 *
 * @param contentType a Content-Type value
 * @returns true for any `multipart/...` type
 */
export function isMultipart(contentType: string): boolean {
  const essence = mediaTypeEssence(contentType);
  return essence !== undefined && essence.startsWith("multipart/");
}

/**
 * Whether a media type is one of the two that every endpoint MUST accept
 * whatever its accept-types say: `multipart/mixed` and
 * `multipart/alternative` (RFC 4975 §7.3.1).
 *
 * @param contentType a Content-Type value
 * @returns true for multipart/mixed and multipart/alternative
 */
export function isAlwaysAccepted(contentType: string): boolean {
  const essence = mediaTypeEssence(contentType);
  return essence !== undefined && ALWAYS_ACCEPTED_TYPES.includes(essence);
}

/**
 * Whether a receiver that advertised `acceptTypes` must take a top-level
 * body of this type: listed (explicitly or by wildcard) or one of the
 * always-accepted multipart types (RFC 4975 §7.3.1, §8.6). A receiver
 * answers 415 when this is false.
 *
 * @param acceptTypes the receiver's `a=accept-types` entries
 * @param contentType the Content-Type of the body
 * @returns true when the body's type is acceptable at the top level
 *
 * @example May a session receive this type? (RFC 4975 §8.6)
 * ```ts
 * import { isAcceptable } from "@msrp/msrp/payload";
 *
 * console.log(isAcceptable(["text/plain"], "text/plain")); // true
 * console.log(isAcceptable(["text/plain"], "image/png")); // false: answer 415
 * ```
 */
export function isAcceptable(acceptTypes: readonly string[], contentType: string): boolean {
  return isAlwaysAccepted(contentType) || matchesAcceptTypes(acceptTypes, contentType);
}

/**
 * Whether a type may appear wrapped inside a container (RFC 4975 §8.6):
 * any type from accept-types may also be wrapped, and accept-wrapped-types
 * adds the types that may only be wrapped.
 *
 * @param acceptTypes the receiver's `a=accept-types` entries
 * @param acceptWrappedTypes the receiver's `a=accept-wrapped-types` entries
 * @param contentType the Content-Type of the wrapped part
 * @returns true when the wrapped part's type is acceptable
 *
 * @example May a wrapper carry this type? (RFC 4975 §8.6)
 * ```ts
 * import { isWrappedAcceptable } from "@msrp/msrp/payload";
 *
 * // a=accept-types:message/cpim  a=accept-wrapped-types:text/plain
 * console.log(isWrappedAcceptable(["message/cpim"], ["text/plain"], "text/plain")); // true
 * ```
 */
export function isWrappedAcceptable(
  acceptTypes: readonly string[],
  acceptWrappedTypes: readonly string[],
  contentType: string,
): boolean {
  return isAcceptable(acceptTypes, contentType) ||
    matchesAcceptTypes(acceptWrappedTypes, contentType);
}

/**
 * The entries of `local` that the other side's list also allows, keeping
 * `local`'s order (RFC 4975 §8.6; RFC 4976 §11 shows an answer that drops
 * an offered type it does not take).
 *
 * Wildcards narrow: a local `text/*` against an offered `text/plain` gives
 * `text/plain`, a local `text/plain` against an offered `*` gives
 * `text/plain`. Parameters on local entries are kept. Duplicates (case-
 * insensitive) are removed.
 *
 * @param offered the entries the other side advertised
 * @param local the entries this side is willing to receive
 * @returns the common entries; empty when nothing is common
 *
 * @example The types both sides accept
 * ```ts
 * import { intersectAcceptTypes } from "@msrp/msrp/payload";
 *
 * console.log(intersectAcceptTypes(["text/plain", "image/*"], ["text/*"])); // ["text/plain"]
 * ```
 */
export function intersectAcceptTypes(
  offered: readonly string[],
  local: readonly string[],
): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (entry: string) => {
    const key = entry.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      out.push(entry);
    }
  };
  const offeredPatterns = offered.map(entryEssence).filter((p): p is string => p !== undefined);
  for (const entry of local) {
    const mine = entryEssence(entry);
    if (mine === undefined) continue;
    if (offeredPatterns.some((theirs) => covers(theirs, mine))) {
      // The other side's list already covers this entry as a whole.
      add(entry.trim());
      continue;
    }
    // This entry is wider than what the other side lists: keep the
    // narrower offered entries that it covers.
    for (const theirs of offeredPatterns) {
      if (covers(mine, theirs)) add(theirs);
    }
  }
  return out;
}
