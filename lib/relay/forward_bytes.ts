/**
 * A whole SEND chunk forwarded by the relay, written straight into its
 * bytes (RFC 4976 §6.4, §6.4.1; RFC 4975 §7.1).
 *
 * Forwarding changes only the transaction id, To-Path and From-Path; every
 * other header field goes on as it came. Most SENDs the relay forwards are
 * whole chunks whose fields already stand in wire order (To-Path, From-Path,
 * ..., Content-Type), so their bytes are written here at once: start line,
 * the new paths (their text kept per connection, since a connection's SENDs
 * mostly take one path), the other fields, the body and the end-line, byte
 * for byte what the general encoder (`lib/wire/encoder.ts`) writes. Anything
 * else (fields out of order, text that is not printable ASCII, a body with
 * seven dashes in a row, where an end-line could hide, §7.1) returns
 * `undefined` and takes the general path.
 *
 * @module
 */

import { putAscii } from "../wire/bytes.ts";
import type { MsrpRequest } from "../wire/frame.ts";
import type { MsrpUri } from "../wire/uri.ts";

/** The last path text written on a connection, for each of To-Path and From-Path. */
interface PathText {
  uris: readonly MsrpUri[];
  text: string;
}

const toTexts = new WeakMap<object, PathText>();
const fromTexts = new WeakMap<object, PathText>();

/** `formatPath(uris)`, reusing the text of the last path on `c` when its URIs are the same objects. */
function pathText(cache: WeakMap<object, PathText>, c: object, uris: readonly MsrpUri[]): string {
  const last = cache.get(c);
  if (last !== undefined && last.uris.length === uris.length) {
    let same = true;
    for (let i = 0; i < uris.length; i++) {
      if (last.uris[i] !== uris[i]) {
        same = false;
        break;
      }
    }
    if (same) return last.text;
  }
  const text = uris.join(" ");
  cache.set(c, { uris: uris.slice(), text });
  return text;
}

const CR = 13;
const LF = 10;
const SP = 32;
const COLON = 58;
const DASH = 45;
/** Header text may hold spaces: SP to "~". */
const PRINTABLE = 0x20;
const ascii = new TextEncoder();
const MSRP_SP = ascii.encode("MSRP ");
const SEND_TO = ascii.encode(" SEND\r\nTo-Path: ");
const CRLF_FROM = ascii.encode("\r\nFrom-Path: ");
const CRLF_DASHES = ascii.encode("\r\n-------");

/**
 * Whether `body` holds seven dashes in a row (where an end-line could start,
 * §7.1). Such a run covers a position that is a multiple of 7 (counting
 * from 6), so only every seventh byte is looked at first.
 */
function hasDashRun(body: Uint8Array): boolean {
  const n = body.length;
  for (let i = 6; i < n; i += 7) {
    if (body[i] !== DASH) continue;
    let lo = i;
    while (lo > 0 && i - lo < 6 && body[lo - 1] === DASH) lo--;
    let hi = i;
    while (hi + 1 < n && hi - lo < 6 && body[hi + 1] === DASH) hi++;
    if (hi - lo >= 6) return true;
  }
  return false;
}

/**
 * The bytes of a whole SEND chunk forwarded to `target` under `tid` with new
 * paths, or `undefined` when the general encoder must write it (see the
 * module documentation).
 *
 * @param target the connection it goes to (its last paths are kept)
 * @param req the SEND as received, whole (flag set)
 * @param tid the new transaction id
 * @param toPath the To-Path to send
 * @param fromPath the From-Path to send
 */
export function forwardedSendBytes(
  target: object,
  req: MsrpRequest,
  tid: string,
  toPath: readonly MsrpUri[],
  fromPath: readonly MsrpUri[],
): Uint8Array | undefined {
  const body = req.body;
  const flag = req.flag;
  if (body === null || flag === undefined || req.method !== "SEND") return undefined;
  const names = req.headers.names();
  const values = req.headers.values();
  const n = names.length;
  if (
    n < 3 || names[0] !== "To-Path" || names[1] !== "From-Path" ||
    names[n - 1] !== "Content-Type" || hasDashRun(body)
  ) return undefined;
  const to = pathText(toTexts, target, toPath);
  const from = pathText(fromTexts, target, fromPath);
  // "MSRP " tid " SEND" CRLF, the fields, CRLF, body, CRLF "-------" tid flag CRLF
  let size = 5 + tid.length + SEND_TO.length + to.length + CRLF_FROM.length + from.length + 2 +
    2 + body.length + CRLF_DASHES.length + tid.length + 3;
  for (let i = 2; i < n; i++) size += names[i].length + 2 + values[i].length + 2;
  const buf = new Uint8Array(size);
  buf.set(MSRP_SP);
  let at = putAscii(tid, buf, 5, PRINTABLE);
  if (at < 0) return undefined;
  buf.set(SEND_TO, at);
  at = putAscii(to, buf, at + SEND_TO.length, PRINTABLE);
  if (at < 0) return undefined;
  buf.set(CRLF_FROM, at);
  at = putAscii(from, buf, at + CRLF_FROM.length, PRINTABLE);
  if (at < 0) return undefined;
  buf[at++] = CR;
  buf[at++] = LF;
  for (let i = 2; i < n; i++) {
    at = putAscii(names[i], buf, at, PRINTABLE);
    if (at < 0) return undefined;
    buf[at++] = COLON;
    buf[at++] = SP;
    at = putAscii(values[i], buf, at, PRINTABLE);
    if (at < 0) return undefined;
    buf[at++] = CR;
    buf[at++] = LF;
  }
  buf[at++] = CR;
  buf[at++] = LF;
  buf.set(body, at);
  at += body.length;
  buf.set(CRLF_DASHES, at);
  at = putAscii(tid, buf, at + CRLF_DASHES.length, PRINTABLE);
  if (at < 0) return undefined;
  buf[at++] = flag.charCodeAt(0);
  buf[at++] = CR;
  buf[at++] = LF;
  return at === size ? buf : undefined;
}
