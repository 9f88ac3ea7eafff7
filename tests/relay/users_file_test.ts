// The relay's users file (htdigest `user:realm:HA1`, RFC 7616 §3.4.2) and
// reloading users into a running relay without dropping its connections.

import assert from "node:assert/strict";
import { MsrpError } from "../../lib/errors.ts";
import { DigestClient, digestHa1 } from "../../lib/relay/digest.ts";
import { parseUsersFile, usersForRealm } from "../../lib/relay/users_file.ts";
import { reloadRelayUsers } from "../../lib/cli/relay.ts";
import { authenticate, memoryRelay } from "./relay_harness.ts";

const REALM = "relay.example.com";
const RELAY = "msrps://relay.example.com:9000;tcp";

function line(user: string, password: string, hash: "MD5" | "SHA-256", realm = REALM): string {
  return `${user}:${realm}:${digestHa1(hash, user, realm, password)}`;
}

function badLine(text: string, message: RegExp): void {
  assert.throws(() => parseUsersFile(text, "users.txt"), (e: unknown) => {
    assert.ok(e instanceof MsrpError);
    assert.equal(e.code, "bad-config");
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("users file: MD5 and SHA-256 by HA1 length; comments, blanks, CRLF; other realms set aside", () => {
  const md5 = digestHa1("MD5", "alice", REALM, "secret");
  const sha = digestHa1("SHA-256", "alice", REALM, "secret");
  assert.equal(md5.length, 32);
  const text = [
    "# relay users",
    "",
    `alice:${REALM}:${md5.toUpperCase()}\r`,
    `  alice:${REALM}:${sha}  `,
    line("bob", "x", "SHA-256", "other.example.com"),
    "   # indented comment",
    line("carol", "pw", "SHA-256"),
  ].join("\n");
  const entries = parseUsersFile(text);
  assert.deepEqual(entries.map((e) => [e.username, e.realm, e.hash, e.line]), [
    ["alice", REALM, "MD5", 3],
    ["alice", REALM, "SHA-256", 4],
    ["bob", "other.example.com", "SHA-256", 5],
    ["carol", REALM, "SHA-256", 7],
  ]);
  assert.equal(entries[0].ha1, md5);
  const { users, otherRealmLines } = usersForRealm(entries, REALM);
  assert.deepEqual(users, {
    alice: { ha1: { "MD5": md5, "SHA-256": sha } },
    carol: { ha1: { "SHA-256": digestHa1("SHA-256", "carol", REALM, "pw") } },
  });
  assert.deepEqual(otherRealmLines, [5]);
  assert.deepEqual(parseUsersFile(""), []);
});

Deno.test("users file: each wrong line is an error naming the file and the line", () => {
  const ok = line("alice", "secret", "MD5");
  badLine(`${ok}\nbob`, /^users\.txt line 2: expected user:realm:HA1$/);
  badLine("bob:0123456789abcdef0123456789abcdef", /line 1: expected user:realm:HA1/);
  badLine(`:${REALM}:${"a".repeat(32)}`, /line 1: the user name is empty/);
  badLine(`bob::${"a".repeat(32)}`, /line 1: the realm is empty/);
  badLine(`bob:${REALM}:${"a".repeat(40)}`, /line 1: the HA1 must be 32 hex digits \(MD5\) or 64/);
  badLine(`bob:${REALM}:${"g".repeat(32)}`, /line 1: the HA1 must be/);
  badLine(`bob:${REALM}:secret`, /line 1: the HA1 must be/);
  badLine(
    `# c\n${ok}\n${line("alice", "other", "MD5")}`,
    /line 3: alice already has a MD5 HA1 for realm relay\.example\.com \(line 2\)/,
  );
});

Deno.test("reloading users: new users AUTH, removed ones cannot, connections stay", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/users.txt`;
    await Deno.writeTextFile(path, line("alice", "secret", "SHA-256") + "\n");
    const { relay, connect } = memoryRelay({ host: REALM, users: {} });
    const source = { usersFile: path, configUsers: {}, flagUsers: {} };
    const first = await reloadRelayUsers(relay, source);
    assert.deepEqual(first, {
      users: 1,
      warnings: [
        `${path}: alice has no MD5 HA1; a client choosing MD5 cannot authenticate ` +
        "(add a line with that hash)",
      ],
    });
    const alice = connect();
    const a = await authenticate(alice, { to: RELAY, from: "msrps://a.example.com:1/a;tcp" });

    // The operator adds Bob and removes Alice, then reloads.
    await Deno.writeTextFile(
      path,
      [line("bob", "hunter2", "SHA-256"), line("bob", "hunter2", "MD5")].join("\n"),
    );
    assert.deepEqual(await reloadRelayUsers(relay, source), { users: 1, warnings: [] });
    const bob = connect();
    await authenticate(bob, {
      to: RELAY,
      from: "msrps://b.example.com:1/b;tcp",
      username: "bob",
      password: "hunter2",
    });
    // Alice's connection and Use-Path stay; she can no longer authenticate.
    assert.equal(relay.stats().connections, 2);
    assert.equal(relay.registrations().length, 2);
    await assert.rejects(
      authenticate(alice, {
        to: a.usePath,
        from: "msrps://a.example.com:1/a;tcp",
        client: new DigestClient({ username: "alice", password: "secret" }),
      }),
      /MSRP \S+ 401 Unauthorized/,
    );

    // A broken file leaves the users as they were.
    await Deno.writeTextFile(path, "bob\n");
    await assert.rejects(reloadRelayUsers(relay, source), /users\.txt line 1: expected/);
    const bob2 = connect();
    await authenticate(bob2, {
      to: RELAY,
      from: "msrps://b.example.com:1/b2;tcp",
      username: "bob",
      password: "hunter2",
    });
    await relay.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
