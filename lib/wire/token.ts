/**
 * `token` of RFC 4975 §9, the word that media types, parameter names and
 * header field names are made of:
 *
 * ```
 * token = 1*(%x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E)
 * ```
 *
 * That is every visible US-ASCII character except `"`, `(`, `)`, `,`, `/`,
 * `:` to `@`, and `[`, `\`, `]`. (Digest parameters use HTTP's narrower
 * `tchar` instead, RFC 7616; CPIM has its own, RFC 3862 §3.6.)
 *
 * @module
 */

/**
 * Whether the character code `c` may appear in a `token` (§9).
 *
 * @param c a UTF-16 code unit or byte
 */
export function isTokenChar(c: number): boolean {
  if (c < 0x21 || c > 0x7e) return false;
  if (c === 0x22 || c === 0x28 || c === 0x29 || c === 0x2c || c === 0x2f) return false;
  if (c >= 0x3a && c <= 0x40) return false;
  return c < 0x5b || c > 0x5d;
}

/**
 * The index just past the token that starts at `i` in `s` (equal to `i`
 * when there is none), scanning no further than `end`.
 *
 * @param s the text
 * @param i where the token would start
 * @param end where to stop
 */
export function scanToken(s: string, i: number, end: number = s.length): number {
  while (i < end && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}
