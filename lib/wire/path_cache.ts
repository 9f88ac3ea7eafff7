/**
 * The last To-Path or From-Path parsed on a connection (RFC 4975 §9:
 * `To-Path` and `From-Path` are lists of MSRP URIs).
 *
 * The chunks and responses of one session carry the same path text frame
 * after frame, so a connection keeps the text it parsed last and its URIs,
 * and parses again only when the text changes. The URIs returned are shared:
 * callers must not change the array.
 *
 * @module
 */

import { parsePath } from "./headers.ts";
import type { MsrpUri } from "./uri.ts";

/** Remembers the last path text parsed and its URIs. */
export class PathCache {
  #text = "";
  #uris: readonly MsrpUri[] = [];

  /**
   * The URIs of a path header value, parsed once per distinct text in a row.
   *
   * @param text the header value
   * @returns the URIs (shared; do not modify)
   * @throws {MsrpError} as {@linkcode parsePath}, for a bad path (not cached)
   */
  parse(text: string): readonly MsrpUri[] {
    if (text !== this.#text) {
      this.#uris = parsePath(text);
      this.#text = text;
    }
    return this.#uris;
  }
}
