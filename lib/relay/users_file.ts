/**
 * The relay's users file: Digest HA1 values in the `htdigest` convention
 * (RFC 2617 §3.2.2.2, RFC 7616 §3.4.2; RFC 4976 §5.1, §9.1).
 *
 * A relay need not know its users' passwords, only HA1 = H(username ":"
 * realm ":" password) for each hash it challenges with. The file holds one
 * such value per line, as Apache's `htdigest` writes them:
 *
 * ```text
 * # user:realm:HA1
 * alice:relay.example.com:5a8b0a7f4b0b4f4c1f0e6b1d8e7c2a90
 * alice:relay.example.com:0fd1b1e6...64 hex digits...
 * ```
 *
 * The hash is told by the HA1's length: 32 hex digits are MD5 (RFC 2617),
 * 64 are SHA-256 (RFC 7616). A user may have one line per hash. Blank lines
 * and lines starting with `#` are ignored; so are lines for other realms
 * (one file may serve several services), which {@linkcode usersForRealm}
 * reports. Anything else wrong is an error naming the line. An HA1 line can
 * be made with, for instance:
 *
 * ```sh
 * printf '%s' 'alice:relay.example.com:secret' | sha256sum
 * ```
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import type { RelayUserConfig } from "./config.ts";
import type { DigestHash } from "./digest.ts";

/** One line of a users file. */
export interface UsersFileEntry {
  /** The user name, as the client sends it in `username`. */
  readonly username: string;
  /** The realm the HA1 was computed for. */
  readonly realm: string;
  /** MD5 for 32 hex digits, SHA-256 for 64. */
  readonly hash: DigestHash;
  /** HA1 in lower-case hex. */
  readonly ha1: string;
  /** The line it came from, counted from 1. */
  readonly line: number;
}

const HEX = /^[0-9a-fA-F]+$/;

/**
 * Reads the text of a users file (`user:realm:HA1` per line).
 *
 * @param text the file's content
 * @param name how to name the file in error messages
 * @throws {MsrpError} `bad-config` naming the file and line: a line without
 *   two colons, an empty user or realm, an HA1 that is not 32 or 64 hex
 *   digits, or the same user, realm and hash twice
 *
 * @example Read user:realm:HA1 lines
 * ```ts
 * import { parseUsersFile } from "@msrp/msrp/relay";
 *
 * const entries = parseUsersFile("alice:relay.example.com:0123456789abcdef0123456789abcdef\n");
 * console.log(entries[0].username, entries[0].hash); // "alice" "MD5"
 * ```
 */
export function parseUsersFile(text: string, name = "users file"): UsersFileEntry[] {
  const entries: UsersFileEntry[] = [];
  const seen = new Map<string, number>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const bad = (what: string): never => {
      throw new MsrpError("bad-config", `${name} line ${n}: ${what}`);
    };
    // The user name ends at the first colon, the HA1 starts after the last.
    const first = line.indexOf(":");
    const last = line.lastIndexOf(":");
    if (first < 0 || first === last) bad("expected user:realm:HA1");
    const username = line.slice(0, first);
    const realm = line.slice(first + 1, last);
    const ha1 = line.slice(last + 1);
    if (username === "") bad("the user name is empty");
    if (realm === "") bad("the realm is empty");
    if (!HEX.test(ha1) || (ha1.length !== 32 && ha1.length !== 64)) {
      bad("the HA1 must be 32 hex digits (MD5) or 64 (SHA-256)");
    }
    const hash: DigestHash = ha1.length === 32 ? "MD5" : "SHA-256";
    const key = JSON.stringify([username, realm, hash]);
    const before = seen.get(key);
    if (before !== undefined) {
      bad(`${username} already has a ${hash} HA1 for realm ${realm} (line ${before})`);
    }
    seen.set(key, n);
    entries.push({ username, realm, hash, ha1: ha1.toLowerCase(), line: n });
  }
  return entries;
}

/** The users of one realm from a users file, and the lines for other realms. */
export interface RealmUsers {
  /** Users by name, each with the HA1 values it has. */
  readonly users: Record<string, RelayUserConfig>;
  /** Line numbers of entries for other realms (skipped). */
  readonly otherRealmLines: readonly number[];
}

/**
 * The users of the relay's realm, in the form of the configuration's
 * `users` setting (HA1 per hash).
 *
 * @param entries the parsed file
 * @param realm the relay's Digest realm
 *
 * @example Keep the users of one realm
 * ```ts
 * import { parseUsersFile, usersForRealm } from "@msrp/msrp/relay";
 *
 * const entries = parseUsersFile("alice:relay.example.com:0123456789abcdef0123456789abcdef\n");
 * const { users, otherRealmLines } = usersForRealm(entries, "relay.example.com");
 * console.log(Object.keys(users), otherRealmLines); // ["alice"] []
 * ```
 */
export function usersForRealm(entries: readonly UsersFileEntry[], realm: string): RealmUsers {
  const ha1s = new Map<string, Partial<Record<DigestHash, string>>>();
  const otherRealmLines: number[] = [];
  for (const e of entries) {
    if (e.realm !== realm) {
      otherRealmLines.push(e.line);
      continue;
    }
    const own = ha1s.get(e.username) ?? {};
    own[e.hash] = e.ha1;
    ha1s.set(e.username, own);
  }
  const users: Record<string, RelayUserConfig> = {};
  for (const [username, ha1] of ha1s) users[username] = { ha1 };
  return { users, otherRealmLines };
}

/**
 * Reads a users file from disk for the relay's realm.
 *
 * @param path the file
 * @param realm the relay's Digest realm
 * @throws {MsrpError} `bad-config` for a wrong line (see {@linkcode parseUsersFile})
 * @throws {Deno.errors.NotFound} and other file-system errors when it cannot be read
 *
 * @example Load a users file for the relay's realm
 * ```ts
 * import { loadUsersFile } from "@msrp/msrp/relay";
 *
 * const { users } = await loadUsersFile("users.txt", "relay.example.com");
 * ```
 */
export async function loadUsersFile(path: string, realm: string): Promise<RealmUsers> {
  return usersForRealm(parseUsersFile(await Deno.readTextFile(path), path), realm);
}
