/**
 * The browser bundle's stand-in for `lib/transport/tcp.ts` (see
 * `unavailable.ts`): a page cannot open TCP connections or listen.
 *
 * @module
 */

import type * as tcp from "../../lib/transport/tcp.ts";
import { unavailable } from "./unavailable.ts";

export type { MsrpListener } from "../../lib/transport/tcp.ts";

/** Throws: not in a browser. */
export const connectTcp: typeof tcp.connectTcp = (): never => unavailable("connect-failed", "TCP");
/** Throws: not in a browser. */
export const listenTcp: typeof tcp.listenTcp = (): never =>
  unavailable("listen-failed", "Listening on TCP");
