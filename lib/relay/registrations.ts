/**
 * The URIs a relay hands out in Use-Path, and what each is bound to
 * (RFC 4976 §3.1, §6.3, §9.4, Appendix A).
 *
 * When a client authenticates with AUTH, the relay creates an MSRP URI for
 * it, e.g. `msrps://relay.example.com:2855/hYt6Xq0pLm3sWv9eRk2aZb;tcp`, and
 * returns it in the `Use-Path` header of the 200. The URI is a secret token
 * (§3.1, §9.4): the relay forwards a request only when the first URI of its
 * To-Path is such a token and the request either comes from the client that
 * obtained it or goes towards that client (§6.4). So the token must not be
 * guessable ("at least 64 bits of cryptographically random material", §6.3;
 * here 22 alphanumerics, about 131 bits), and it is bound:
 *
 * - to the **connection** the AUTH arrived on when the previous hop is a
 *   client: "the URI MUST only be valid to route across the same connection
 *   over which the AUTH request was received. If the client's connection is
 *   closed and then reopened, the URI MUST be invalidated" (§6.3);
 * - to the **peer relay** when the previous hop is a relay authenticated by
 *   mutual TLS: "the URI MUST be valid to route across any connection the
 *   relay has to the previous hop relay" (§6.3).
 *
 * A registration also remembers `via`, the relays between this relay and the
 * client (the AUTH's From-Path without its last URI, nearest first), so the
 * relay can tell a request that really comes from or goes to the client, and
 * it expires: "If the AUTH request contains an Expires header, the relay MUST
 * ensure that the URI is invalidated after the expiry time" (§6.3). An
 * expired registration is never returned, whether or not the periodic sweep
 * has removed it yet.
 *
 * A client keeps its URI by authenticating again before it expires. RFC 4976
 * leaves the URI's form to the relay, and peers hold the old one in their
 * SDP, so an AUTH from the same user, over the same binding, with the same
 * From-Path (the client's own URI and the relays before it) refreshes the
 * registration it already has: same Use-Path, new Expires
 * ({@linkcode RegistrationTable.findSame}). A client that wants another URI
 * asks from another From-Path (e.g. per session, as RFC 4976 §3.1 suggests
 * for URIs that must not be shared between sessions).
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import { randomAlphanumeric } from "../wire/ids.ts";
import type { MsrpUri } from "../wire/uri.ts";

/** Length of a relay session id: 22 alphanumerics, about 131 random bits (§6.3 asks for 64). */
export const RELAY_SESSION_ID_LENGTH = 22;

/**
 * A new session id for a Use-Path URI: random alphanumerics from
 * `crypto.getRandomValues` (RFC 4976 §6.3).
 */
export function newRelaySessionId(): string {
  return randomAlphanumeric(RELAY_SESSION_ID_LENGTH);
}

/**
 * What a registration is bound to (RFC 4976 §6.3): the connection its AUTH
 * came over (a client), or a peer relay known by its authenticated host name.
 */
export type RegistrationBinding =
  | { readonly kind: "connection"; readonly connectionId: number }
  | { readonly kind: "relay"; readonly host: string };

/** The `via` of every client connected directly: shared, so it costs nothing per registration. */
const NO_URIS: readonly MsrpUri[] = Object.freeze([]);

/**
 * One Use-Path URI handed out by the relay.
 *
 * @example The Use-Path grants a relay holds
 * ```ts
 * import type { MsrpRelay } from "@msrp/msrp/relay";
 *
 * function listGrants(relay: MsrpRelay): void {
 *   for (const reg of relay.registrations()) console.log(reg.username, reg.uri.toString(), reg.expiresAt);
 * }
 * ```
 */
export class RelayRegistration {
  /** The random session id: the secret part of {@linkcode RelayRegistration.uri}. */
  readonly sessionId: string;
  /** The relay's URI for this client, as written in Use-Path. */
  readonly uri: MsrpUri;
  /** The authenticated user. */
  readonly username: string;
  /** Where requests towards the client go, and where requests from the client come from. */
  readonly binding: RegistrationBinding;
  /**
   * The relays between this relay and the client, nearest first: the AUTH's
   * From-Path without its last URI (the client's own). Empty for a client
   * connected directly.
   */
  readonly via: readonly MsrpUri[];
  /** The client's own URI: the AUTH's last From-Path URI (undefined when not known). */
  readonly client: MsrpUri | undefined;
  /**
   * The Use-Path of the 200: the relays from the client to here in To-Path
   * order, ending with {@linkcode RelayRegistration.uri} (RFC 4976 §5.1:
   * "Use-Path returned by C: B C").
   */
  readonly usePath: readonly MsrpUri[];
  /** When it was issued (clock milliseconds). */
  readonly createdAt: number;
  #expiresAt: number;

  /**
   * Makes a registration; {@linkcode RegistrationTable.issue} is the usual way.
   *
   * @param init the fields
   */
  constructor(init: {
    sessionId: string;
    uri: MsrpUri;
    username: string;
    binding: RegistrationBinding;
    via: readonly MsrpUri[];
    client?: MsrpUri;
    createdAt: number;
    expiresAt: number;
  }) {
    this.sessionId = init.sessionId;
    this.uri = init.uri;
    this.username = init.username;
    this.binding = init.binding;
    this.via = init.via.length === 0 ? NO_URIS : Object.freeze([...init.via]);
    this.client = init.client;
    this.usePath = Object.freeze([...init.via].reverse().concat([init.uri]));
    this.createdAt = init.createdAt;
    this.#expiresAt = init.expiresAt;
  }

  /** When it stops being valid (clock milliseconds). */
  get expiresAt(): number {
    return this.#expiresAt;
  }

  /**
   * Moves the expiry (used by {@linkcode RegistrationTable.refresh}).
   *
   * @param at the new expiry, clock milliseconds
   */
  setExpiry(at: number): void {
    this.#expiresAt = at;
  }

  /**
   * Whether the binding admits a connection (RFC 4976 §6.3): the same
   * connection, or any connection authenticated as the bound relay.
   *
   * @param connectionId the connection's id
   * @param peerHost the host name the connection's peer is authenticated as, if any
   */
  boundTo(connectionId: number, peerHost: string | undefined): boolean {
    const b = this.binding;
    return b.kind === "connection"
      ? b.connectionId === connectionId
      : peerHost !== undefined && peerHost === b.host;
  }
}

/** Options of {@linkcode RegistrationTable}. */
export interface RegistrationTableOptions {
  /** The clock in milliseconds; injectable for tests. */
  now?: () => number;
  /** Most registrations alive at once (default 100 000). */
  maxRegistrations?: number;
  /** Most registrations per connection or peer relay (default 1 000). */
  maxPerBinding?: number;
}

function bindingKey(b: RegistrationBinding): string {
  return b.kind === "connection" ? `c:${b.connectionId}` : `r:${b.host}`;
}

/**
 * The relay's registrations by session id, with expiry and per-binding
 * counts. Lookups are O(1); expired entries are dropped when looked up and
 * by {@linkcode RegistrationTable.sweep}.
 *
 * ```ts
 * import { RegistrationTable } from "./registrations.ts";
 * import { MsrpUri } from "@msrp/msrp";
 *
 * const table = new RegistrationTable();
 * const reg = table.issue({
 *   uri: (sid) => MsrpUri.from({ scheme: "msrps", host: "relay.example.com", port: 2855, sessionId: sid }),
 *   username: "alice",
 *   binding: { kind: "connection", connectionId: 1 },
 *   via: [],
 *   expiresSec: 900,
 * });
 * table.get(reg.sessionId) === reg; // true until 900 s have passed
 * ```
 */
export class RegistrationTable {
  #now: () => number;
  #max: number;
  #maxPerBinding: number;
  #bySession = new Map<string, RelayRegistration>();
  /**
   * Session ids by binding: one id alone (the rule: one registration per
   * client connection), a set only when a binding holds more.
   */
  #byBinding = new Map<string, string | Set<string>>();

  /**
   * Makes an empty table.
   *
   * @param options clock and limits
   */
  constructor(options: RegistrationTableOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#max = options.maxRegistrations ?? 100_000;
    this.#maxPerBinding = options.maxPerBinding ?? 1_000;
  }

  /** Number of registrations held (expired ones not yet swept included). */
  get size(): number {
    return this.#bySession.size;
  }

  /**
   * Issues a registration with a fresh random session id.
   *
   * @param init `uri` builds the URI from the session id; the rest as in {@linkcode RelayRegistration}
   * @throws {MsrpError} `registration-limit` when the table or the binding is full
   */
  issue(init: {
    uri: (sessionId: string) => MsrpUri;
    username: string;
    binding: RegistrationBinding;
    via: readonly MsrpUri[];
    client?: MsrpUri;
    expiresSec: number;
  }): RelayRegistration {
    if (this.#bySession.size >= this.#max) this.sweep();
    if (this.#bySession.size >= this.#max) {
      throw new MsrpError("registration-limit", `the relay holds ${this.#max} registrations`);
    }
    const key = bindingKey(init.binding);
    if (this.#countOf(key) >= this.#maxPerBinding) {
      for (const sid of this.#idsOf(key)) this.get(sid); // drops expired ones
      if (this.#countOf(key) >= this.#maxPerBinding) {
        throw new MsrpError(
          "registration-limit",
          `${this.#maxPerBinding} registrations are bound to this ${init.binding.kind} already`,
        );
      }
    }
    let sessionId = newRelaySessionId();
    while (this.#bySession.has(sessionId)) sessionId = newRelaySessionId();
    const now = this.#now();
    const reg = new RelayRegistration({
      sessionId,
      uri: init.uri(sessionId),
      username: init.username,
      binding: init.binding,
      via: init.via,
      client: init.client,
      createdAt: now,
      expiresAt: now + init.expiresSec * 1000,
    });
    this.#bySession.set(sessionId, reg);
    const mine = this.#byBinding.get(key);
    if (mine === undefined) this.#byBinding.set(key, sessionId);
    else if (typeof mine === "string") this.#byBinding.set(key, new Set([mine, sessionId]));
    else mine.add(sessionId);
    return reg;
  }

  /**
   * The live registration with this session id, or `undefined` (unknown or
   * expired; an expired one is removed).
   *
   * @param sessionId the session id of a relay URI
   */
  get(sessionId: string): RelayRegistration | undefined {
    const reg = this.#bySession.get(sessionId);
    if (reg === undefined) return undefined;
    if (this.#now() >= reg.expiresAt) {
      this.#delete(reg);
      return undefined;
    }
    return reg;
  }

  /**
   * The live registration a repeated AUTH refreshes: bound the same way,
   * for the same user, asked for from the same From-Path (the relays `via`
   * and the client's URI). Looks only at the binding's own registrations.
   *
   * @param init who asks, and over what
   */
  findSame(init: {
    binding: RegistrationBinding;
    username: string;
    via: readonly MsrpUri[];
    client: MsrpUri | undefined;
  }): RelayRegistration | undefined {
    if (init.client === undefined) return undefined;
    for (const sid of this.#idsOf(bindingKey(init.binding))) {
      const reg = this.get(sid); // drops an expired one
      if (
        reg !== undefined && reg.username === init.username && reg.client !== undefined &&
        reg.client.equals(init.client) && reg.via.length === init.via.length &&
        reg.via.every((u, i) => u.equals(init.via[i]))
      ) {
        return reg;
      }
    }
    return undefined;
  }

  /**
   * Extends a registration: it now expires `expiresSec` from now.
   *
   * @param reg a registration of this table
   * @param expiresSec seconds from now
   */
  refresh(reg: RelayRegistration, expiresSec: number): RelayRegistration {
    reg.setExpiry(this.#now() + expiresSec * 1000);
    return reg;
  }

  /**
   * Removes a registration.
   *
   * @param sessionId its session id
   * @returns whether it was there
   */
  remove(sessionId: string): boolean {
    const reg = this.#bySession.get(sessionId);
    if (reg === undefined) return false;
    this.#delete(reg);
    return true;
  }

  /**
   * Removes every registration bound to a connection (RFC 4976 §6.3: "If the
   * client's connection is closed ... the URI MUST be invalidated").
   *
   * @param connectionId the closed connection
   * @returns the registrations removed
   */
  removeConnection(connectionId: number): RelayRegistration[] {
    const out: RelayRegistration[] = [];
    for (const sid of this.#idsOf(bindingKey({ kind: "connection", connectionId }))) {
      const reg = this.#bySession.get(sid);
      if (reg !== undefined) {
        out.push(reg);
        this.#delete(reg);
      }
    }
    return out;
  }

  /**
   * Number of live registrations bound to a connection or peer relay.
   *
   * @param binding the binding
   */
  countFor(binding: RegistrationBinding): number {
    let n = 0;
    for (const sid of this.#idsOf(bindingKey(binding))) if (this.get(sid) !== undefined) n++;
    return n;
  }

  /**
   * Removes every expired registration.
   *
   * @returns the registrations removed
   */
  sweep(): RelayRegistration[] {
    const now = this.#now();
    const out: RelayRegistration[] = [];
    for (const reg of this.#bySession.values()) {
      if (now >= reg.expiresAt) out.push(reg);
    }
    for (const reg of out) this.#delete(reg);
    return out;
  }

  /** The live registrations. */
  *[Symbol.iterator](): Iterator<RelayRegistration> {
    const now = this.#now();
    for (const reg of this.#bySession.values()) if (now < reg.expiresAt) yield reg;
  }

  #delete(reg: RelayRegistration): void {
    this.#bySession.delete(reg.sessionId);
    const key = bindingKey(reg.binding);
    const mine = this.#byBinding.get(key);
    if (mine === reg.sessionId) this.#byBinding.delete(key);
    else if (typeof mine === "object") {
      mine.delete(reg.sessionId);
      if (mine.size === 0) this.#byBinding.delete(key);
    }
  }

  /** The session ids bound under `key`, as a copy. */
  #idsOf(key: string): string[] {
    const mine = this.#byBinding.get(key);
    return mine === undefined ? [] : typeof mine === "string" ? [mine] : [...mine];
  }

  /** How many session ids are bound under `key` (expired ones not yet dropped included). */
  #countOf(key: string): number {
    const mine = this.#byBinding.get(key);
    return mine === undefined ? 0 : typeof mine === "string" ? 1 : mine.size;
  }
}
