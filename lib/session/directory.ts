/**
 * Where a connection finds a session for a request that names none of its
 * own (RFC 4975 §5.4, §7.3): the passive side's sessions waiting for their
 * first request, and URIs served to several peers, one session each.
 *
 * A URI served to several peers (`msrp listen` prints one URI that any
 * number of senders use) has one session per peer, all with that local URI:
 * a session is one pair of endpoints (§5.4), and its peer is the last URI of
 * the From-Path (relays come before it, RFC 4976 §6.4). Through a relay
 * every peer arrives on the one relay connection, and their first requests
 * may come in one read, back to back. So a session for a new peer is not
 * left waiting in advance (the second first request would find only the
 * session the first one bound, and get 403): the connection asks the
 * directory's {@linkcode PeerSessionFactory} for one as the request arrives,
 * in the same step as routing it (§7.3).
 *
 * @module
 */

import type { MsrpRequest } from "../wire/frame.ts";
import type { MsrpUri } from "../wire/uri.ts";
import type { MsrpConnection } from "./connection.ts";
import { PORTS } from "./internal.ts";
import type { MsrpSession } from "./session.ts";

/**
 * Makes the session of a new peer of a URI served to several peers, as its
 * first SEND arrives (§5.4): a session with that local URI, not bound to a
 * connection, whose peer is not known yet (it learns it from the request's
 * From-Path). The connection binds it and hands it the request at once.
 * Returns undefined to refuse the peer (it gets 481, §7.3).
 *
 * @param request the peer's first request (a SEND)
 * @param connection the connection it arrived on
 */
export type PeerSessionFactory = (
  request: MsrpRequest,
  connection: MsrpConnection,
) => MsrpSession | undefined;

/**
 * Sessions waiting for their first request, found by their local URI
 * (§5.4), and URIs served to several peers.
 *
 * @example Find sessions by the To-Path of their first request
 * ```ts
 * import { MsrpConnection, MsrpSession, SessionDirectory } from "@msrp/msrp/session";
 * import { listenTcp } from "@msrp/msrp/transport";
 *
 * const directory = new SessionDirectory();
 * directory.add(new MsrpSession({ localUri: "msrp://127.0.0.1:2855/9di4ea;tcp" }));
 * for await (const transport of listenTcp({ hostname: "127.0.0.1", port: 2855 })) {
 *   new MsrpConnection(transport, { directory }); // binds a session when its first request comes
 * }
 * ```
 *
 * @example Serve one URI to any number of peers, one session each
 * ```ts
 * import { MsrpSession, MsrpUri } from "@msrp/msrp";
 * import { SessionDirectory } from "@msrp/msrp/session";
 *
 * const uri = MsrpUri.parse("msrp://127.0.0.1:2855/9di4ea;tcp");
 * const directory = new SessionDirectory();
 * directory.servePerPeer(uri, () => {
 *   const session = new MsrpSession({ localUri: uri });
 *   (async () => {
 *     for await (const m of session.messages()) console.log(await m.text());
 *   })();
 *   return session;
 * });
 * ```
 */
export class SessionDirectory {
  #byKey = new Map<string, MsrpSession>();
  #perPeer = new Map<string, PeerSessionFactory>();

  /**
   * Makes an empty directory; a listening endpoint keeps one.
   */
  constructor() {}

  /**
   * Adds a session, so that the connection its first request arrives on can find it.
   *
   * @param session the session
   */
  add(session: MsrpSession): void {
    const port = PORTS.get(session);
    if (port === undefined) throw new TypeError("not an MSRP session");
    this.#byKey.set(port.localUri.key, session);
  }

  /**
   * Removes a session.
   *
   * @param session the session
   */
  delete(session: MsrpSession): void {
    const port = PORTS.get(session);
    if (port !== undefined && this.#byKey.get(port.localUri.key) === session) {
      this.#byKey.delete(port.localUri.key);
    }
  }

  /**
   * The session whose local URI equals `uri` (§6.1 comparison), if any.
   *
   * @param uri a To-Path URI
   */
  lookup(uri: MsrpUri): MsrpSession | undefined {
    return this.#byKey.get(uri.key);
  }

  /**
   * Serves `uri` to several peers: a SEND for it from a peer that has no
   * session of it on its connection gets a session from `newSession`, made
   * and bound as the request is routed (see the module comment).
   *
   * @param uri our URI, the one every peer puts last in its To-Path
   * @param newSession makes each new peer's session
   */
  servePerPeer(uri: MsrpUri, newSession: PeerSessionFactory): void {
    this.#perPeer.set(uri.key, newSession);
  }

  /**
   * Stops making sessions for new peers of `uri`; sessions made go on.
   *
   * @param uri a URI given to {@linkcode SessionDirectory.servePerPeer}
   */
  stopServing(uri: MsrpUri): void {
    this.#perPeer.delete(uri.key);
  }

  /**
   * What makes the sessions of new peers of `uri`, if it is served to several peers.
   *
   * @param uri a To-Path URI
   */
  perPeer(uri: MsrpUri): PeerSessionFactory | undefined {
    return this.#perPeer.get(uri.key);
  }

  /** Number of sessions in the directory. */
  get size(): number {
    return this.#byKey.size;
  }
}
