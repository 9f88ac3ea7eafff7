/**
 * The state of one session that decides whether a request is for it
 * (RFC 4975 §5.4, §7.2, §7.3; RFC 4976 §6.4): a sans-I/O core that
 * {@linkcode MsrpSession}, {@linkcode MsrpConnection} and the
 * `SessionStateStream` stage (`stages.ts`) share.
 *
 * - §7.3: a To-Path holds exactly one URI, ours, else 481.
 * - §5.4: a session is bound to the connection its first request arrives on
 *   (or that the active side connected); a request on another connection
 *   gets 506.
 * - The original sender is the last From-Path URI (relays come before it,
 *   RFC 4976 §6.4); it must be the peer, else 403. A relay on our path may
 *   send us a failure REPORT (RFC 4976 §6.4.1).
 * - A session that does not know its peer yet learns the way back from the
 *   first request: its From-Path, relays first, is the To-Path of our
 *   requests (§7.2 builds responses the same way).
 *
 * @module
 */

import { parsePath } from "../wire/headers.ts";
import type { MsrpRequest } from "../wire/frame.ts";
import { MsrpUri } from "../wire/uri.ts";

/** A refusal: the status and reason phrase to answer a request with. */
export interface Refusal {
  /** The status code (§10). */
  readonly status: number;
  /** The reason phrase; default the status's own text. */
  readonly comment?: string;
}

/** The 481 for a To-Path that does not hold exactly one URI (§7.3). */
export const NOT_ONE_URI: Refusal = Object.freeze({
  status: 481,
  comment: "Session Does Not Exist: To-Path must hold exactly one URI",
});
/** The 403 for a request whose sender is not the session's peer. */
export const NOT_THE_PEER: Refusal = Object.freeze({
  status: 403,
  comment: "Forbidden: From-Path is not the peer of this session",
});
/** The 506 for a request for a session bound to another connection (§5.4). */
export const BOUND_ELSEWHERE: Refusal = Object.freeze({ status: 506 });

/**
 * §7.3: the To-Path of a request received must hold exactly one URI.
 *
 * @param toPath the parsed To-Path
 * @returns the 481 refusal, or undefined when the path has one URI
 */
export function checkToPath(toPath: readonly MsrpUri[]): Refusal | undefined {
  return toPath.length === 1 ? undefined : NOT_ONE_URI;
}

/** Options of a {@linkcode SessionState}. */
export interface SessionStateOptions {
  /** Our URI in the session (what the peer puts in its To-Path). */
  localUri: MsrpUri | string;
  /** The peer's path (our To-Path); empty until learnt from the first request. */
  remotePath?: readonly (MsrpUri | string)[];
  /** Whether a request's From-Path must end in the peer's URI. Default true. */
  checkFromPath?: boolean;
}

function toUri(u: MsrpUri | string): MsrpUri {
  return typeof u === "string" ? MsrpUri.parse(u) : u;
}

/**
 * One session's paths and binding: who may send to it, and over what
 * (RFC 4975 §5.4, §7.3): the sans-I/O core of {@linkcode SessionStateStream}
 * and of `MsrpSession`.
 *
 * @example A session learns its peer from the first request
 * ```ts
 * import { SessionState } from "@msrp/msrp/session";
 *
 * const state = new SessionState({ localUri: "msrp://127.0.0.1:2855/s1;tcp" });
 * console.log(state.localUri.toString(), state.remotePath.length); // no peer yet
 * ```
 */
export class SessionState {
  /** Our URI in the session. */
  readonly localUri: MsrpUri;
  #remotePath: MsrpUri[];
  readonly #checkFromPath: boolean;
  #owner: object | undefined;

  /**
   * Makes the state of a session not yet bound to a connection.
   *
   * @param options our URI, the peer's path if known, the From-Path check
   */
  constructor(options: SessionStateOptions) {
    this.localUri = toUri(options.localUri);
    this.#remotePath = (options.remotePath ?? []).map(toUri);
    this.#checkFromPath = options.checkFromPath ?? true;
  }

  /** The peer's path (the To-Path of our requests); empty while unknown. */
  get remotePath(): readonly MsrpUri[] {
    return this.#remotePath;
  }

  set remotePath(path: readonly (MsrpUri | string)[]) {
    this.#remotePath = path.map(toUri);
  }

  /** What the session is bound to (a connection), if anything yet. */
  get owner(): object | undefined {
    return this.#owner;
  }

  /**
   * Binds the session to `owner` (§5.4). False when it is bound to another:
   * a request arriving there gets {@linkcode BOUND_ELSEWHERE} (506).
   *
   * @param owner the connection
   */
  bind(owner: object): boolean {
    if (this.#owner !== undefined && this.#owner !== owner) return false;
    this.#owner = owner;
    return true;
  }

  /** Unbinds the session (its connection ended or it closed). */
  unbind(): void {
    this.#owner = undefined;
  }

  /**
   * Whether a request's From-Path fits the session: its last URI is the
   * peer itself (relays come before it, RFC 4976 §6.4); a REPORT may also
   * come from a relay on our path (RFC 4976 §6.4.1). Anything fits while the
   * peer is unknown, or with the check turned off.
   *
   * @param fromPath the request's parsed From-Path
   * @param method the request's method
   */
  acceptsFrom(fromPath: readonly MsrpUri[], method: string): boolean {
    if (!this.#checkFromPath || this.#remotePath.length === 0) return true;
    if (fromPath.length === 0) return false;
    const sender = fromPath[fromPath.length - 1];
    const path = this.#remotePath;
    if (sender.equals(path[path.length - 1])) return true;
    return method === "REPORT" && path.some((hop) => hop.equals(sender));
  }

  /**
   * The checks of a request's first piece that this session makes, in the
   * order §7.3 gives: To-Path (481), From-Path (403). Binding (506) is the
   * caller's, who knows the connection.
   *
   * @param toPath the request's parsed To-Path
   * @param fromPath the request's parsed From-Path
   * @param method the request's method
   * @returns the refusal, or undefined when the request is for this session
   */
  check(
    toPath: readonly MsrpUri[],
    fromPath: readonly MsrpUri[],
    method: string,
  ): Refusal | undefined {
    const notOne = checkToPath(toPath);
    if (notOne !== undefined) return notOne;
    if (!toPath[0].equals(this.localUri)) return { status: 481 };
    return this.acceptsFrom(fromPath, method) ? undefined : NOT_THE_PEER;
  }

  /**
   * A first piece of a request accepted for this session: a session that
   * does not know its peer yet learns its path from the From-Path (§7.2).
   *
   * @param request the request
   */
  learnPeer(request: MsrpRequest): void {
    if (this.#remotePath.length > 0) return;
    try {
      this.#remotePath = parsePath(request.headers.get("From-Path")!);
    } catch { /* routed here, so it parsed once already */ }
  }
}
