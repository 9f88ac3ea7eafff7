// Responses to forwarded requests go back to the hop the request came from
// (RFC 4976 §6.4.3; issue 9 defect 2), over in-memory transports with a
// fake clock: an outer relay that addresses its answers to this relay alone.

import assert from "node:assert/strict";
import { DigestClient } from "../../lib/relay/digest.ts";
import { parseWwwAuthenticate } from "../../lib/wire/auth_headers.ts";
import type { MsrpRequest } from "../../lib/wire/frame.ts";
import {
  authenticate,
  memoryPair,
  memoryRelay,
  Peer,
  request,
  response,
  until,
} from "./relay_harness.ts";

const ALICE = "msrps://alice.example.com:1234/a1;tcp";
const OUTER = "msrps://outer.example.net;tcp";
const OUTER_URI = "msrps://outer.example.net:2855/0uterGrant4Alice;tcp";

Deno.test("a two-relay chain whose outer relay answers AUTH with To-Path = the inner relay only: the client gets the 401 and completes AUTH", async () => {
  let outer: Peer | undefined;
  const inner = memoryRelay({ host: "intra.example.com" }, {
    connect: () => {
      const [mine, theirs] = memoryPair();
      outer = new Peer(theirs);
      return Promise.resolve(mine);
    },
  });
  const alice = inner.connect();
  const ui = (await authenticate(alice, { to: "msrps://intra.example.com;tcp", from: ALICE }))
    .usePath;

  // The outer relay (scripted) answers as a deployed relay does: To-Path is
  // the previous hop only, here the inner relay's URI for Alice.
  const answer = (req: MsrpRequest, status: number, headers: [string, string][]) =>
    outer!.send(response(req.tid, status, [["To-Path", ui], ["From-Path", OUTER], ...headers]));

  await alice.send(
    request("AUTH", "chain01", [["To-Path", `${ui} ${OUTER}`], ["From-Path", ALICE]]),
  );
  await until(() => outer !== undefined);
  const first = await outer!.request();
  assert.equal(first.headers.get("To-Path"), OUTER);
  assert.equal(first.headers.get("From-Path"), `${ui} ${ALICE}`);
  const digest = new DigestClient({ username: "alice", password: "outer-secret" });
  await answer(first, 401, [[
    "WWW-Authenticate",
    'Digest realm="outer.example.net", nonce="0uterN0nce", qop="auth", algorithm=MD5',
  ]]);
  const challenge = await alice.response();
  assert.equal(challenge.tid, "chain01");
  assert.equal(challenge.status, 401);
  assert.equal(challenge.headers.get("To-Path"), ALICE, "back along the AUTH's From-Path");
  assert.equal(challenge.headers.get("From-Path"), `${ui} ${OUTER}`);
  assert.ok(
    inner.log.some((e) => e.event === "response-readdressed" && e.message.includes("ends at")),
    "the readdressing is logged at verbose level",
  );

  const challenges = challenge.headers.getAll("WWW-Authenticate").map(parseWwwAuthenticate);
  await alice.send(request("AUTH", "chain02", [
    ["To-Path", `${ui} ${OUTER}`],
    ["From-Path", ALICE],
    ["Authorization", digest.authorization(challenges, OUTER)],
  ]));
  const second = await outer!.request();
  assert.ok(second.headers.has("Authorization"));
  await answer(second, 200, [
    ["Use-Path", `${ui} ${OUTER_URI}`],
    ["Expires", "600"],
  ]);
  const ok = await alice.response();
  assert.equal(ok.tid, "chain02");
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("To-Path"), ALICE);
  assert.equal(ok.headers.get("Use-Path"), `${ui} ${OUTER_URI}`);
  await inner.relay.close();
});

Deno.test("a response matching no forwarded transaction is dropped and logged with the reason", async () => {
  const inner = memoryRelay({ host: "intra.example.com" });
  const alice = inner.connect();
  await authenticate(alice, { to: "msrps://intra.example.com;tcp", from: ALICE });
  await alice.send(response("nosuchtx1", 200, [
    ["To-Path", "msrps://intra.example.com;tcp"],
    ["From-Path", ALICE],
  ]));
  await until(() => inner.log.some((e) => e.event === "response-unmatched"));
  const e = inner.log.find((e) => e.event === "response-unmatched")!;
  assert.equal(e.level, "debug");
  assert.match(e.message, /nosuchtx1 matches no transaction/);
  await inner.relay.close();
});
