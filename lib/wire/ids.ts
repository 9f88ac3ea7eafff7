/**
 * Random identifiers (RFC 4975 §7.1, §7.1.1, §14.1; RFC 4976 §6.3).
 *
 * - Transaction ids need at least 64 bits of randomness (§7.1).
 * - Message-IDs must be "highly unlikely to be repeated" (§7.1.1).
 * - Session ids in MSRP URIs need at least 80 bits (§14.1), and so do the
 *   relay URIs handed out in Use-Path (RFC 4976 §6.3 asks for 64).
 *
 * All are drawn from `crypto.getRandomValues` over the 62 alphanumerics, with
 * rejection sampling so that every letter is equally likely. Alphanumerics
 * are valid in an `ident` (§9) and in a URI `session-id` alike.
 *
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Random bytes are drawn in batches; one `getRandomValues` call serves many ids. */
const pool = new Uint8Array(4096);
let poolPos = pool.length;

function randomByte(): number {
  if (poolPos === pool.length) {
    crypto.getRandomValues(pool);
    poolPos = 0;
  }
  return pool[poolPos++];
}

/**
 * A random alphanumeric string of `length` letters: about 5.95 bits each.
 *
 * @param length number of letters
 */
export function randomAlphanumeric(length: number): string {
  // Char codes gathered first and made a string at once: a transaction id
  // is made per chunk, and 32 concatenations cost more than the random bytes.
  const codes = length <= CODES.length ? CODES : new Array<number>(length);
  let n = 0;
  while (n < length) {
    const b = randomByte();
    // 248 = 4 * 62: bytes at or above it would favour the first letters.
    if (b < 248) codes[n++] = ALPHABET_CODES[b % 62];
  }
  if (n === codes.length) return String.fromCharCode.apply(null, codes);
  return String.fromCharCode.apply(null, codes.slice(0, n));
}

/** The alphabet's char codes. */
const ALPHABET_CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));
/** Room for the char codes of an id of up to 32 letters (the longest transaction id). */
const CODES = new Array<number>(32).fill(0);

/**
 * A new transaction id: 32 alphanumerics, 190 random bits (§7.1 asks for
 * 64). The longest `ident` §9 allows, on purpose: the receiver finds the end
 * of a body by searching for `CRLF ------- tid`, and a skip search moves by
 * up to the pattern's length at each step, so a long id makes the search of
 * a large body (and our own §7.1 check that it does not contain the
 * end-line) about twice as fast as a 12-letter one would.
 *
 * @example A fresh transaction id
 * ```ts
 * import { newTransactionId } from "@msrp/msrp/wire";
 *
 * console.log(newTransactionId().length); // 32
 * ```
 */
export function newTransactionId(): string {
  return randomAlphanumeric(32);
}

/**
 * A new Message-ID: 16 alphanumerics, 95 random bits (§7.1.1).
 *
 * @example A fresh Message-ID
 * ```ts
 * import { newMessageId } from "@msrp/msrp/wire";
 *
 * console.log(newMessageId().length); // 16
 * ```
 */
export function newMessageId(): string {
  return randomAlphanumeric(16);
}

/**
 * A new session id for an MSRP URI: 16 alphanumerics, 95 random bits (§14.1 asks for 80).
 *
 * @example A fresh session id for an MSRP URI
 * ```ts
 * import { newSessionId } from "@msrp/msrp/wire";
 *
 * console.log(`msrp://alice.example.com:7777/${newSessionId()};tcp`);
 * ```
 */
export function newSessionId(): string {
  return randomAlphanumeric(16);
}
