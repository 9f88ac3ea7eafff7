/**
 * Joining byte arrays, for the few places that must hand out one buffer
 * made of several reads (RFC 4975 §7.3.1: a body that spans reads).
 *
 * @module
 */

/**
 * The parts one after the other in one new buffer; a single part is
 * returned as is, without a copy.
 *
 * @param parts the arrays to join
 * @param total their summed length, when the caller knows it
 */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  let n = total ?? 0;
  if (total === undefined) { for (const p of parts) n += p.length; }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
