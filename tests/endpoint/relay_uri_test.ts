// Behind a relay, the endpoint's own URI names the local end of its
// connection to the first relay, of the right address family (RFC 4976
// §5.1; issue 9 defect 3): not `<host>:9`, and not 127.0.0.1 over IPv6.

import assert from "node:assert/strict";
import { MsrpEndpoint } from "../../mod.ts";
import { resolveRelayConfig, serveRelay } from "../../lib/relay/mod.ts";

/** Why IPv6 loopback cannot be used here, or undefined when it can. */
function noIpv6(): string | undefined {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return undefined;
  } catch (e) {
    return `no IPv6 on loopback (${(e as Error).message})`;
  }
}

const IPV6_MISSING = noIpv6();
if (IPV6_MISSING !== undefined) console.log(`relay_uri_test: [::1] case skipped: ${IPV6_MISSING}`);

async function checkFamily(address: string, bracketed: string): Promise<void> {
  const server = await serveRelay(
    resolveRelayConfig({
      host: "localhost",
      aliases: [address], // the relay's URI names it by address
      allowInsecure: true,
      listen: [{ hostname: address, port: 0, tls: false }],
      users: { alice: { password: "alice-secret" }, bob: { password: "bob-secret" } },
    }),
    { logger: () => {} },
  );
  const uri = `msrp://${bracketed}:${server.listeners[0].addr!.port};tcp`;
  const alice = await MsrpEndpoint.start({
    relays: [{ uri, username: "alice", password: "alice-secret" }],
  });
  const bob = await MsrpEndpoint.start({
    relays: [{ uri, username: "bob", password: "bob-secret" }],
  });
  const [link] = alice.connections;
  const local = link.transport.localAddr!;
  assert.equal(
    local.hostname,
    address,
    "the relay connection's local end is of the relay's family",
  );
  const a = alice.createSession();
  assert.equal(a.localUri.host, address);
  assert.equal(a.localUri.port, local.port);
  assert.notEqual(a.localUri.port, 9);
  assert.equal(alice.path(a).at(-1)!.toString(), a.localUri.toString());
  // And sessions work with it, both ways.
  const b = bob.createSession();
  const answer = await bob.answer(b, alice.offer(a));
  await alice.completeOffer(a, answer);
  await b.ready;
  const [, got] = await Promise.all([a.send("hi"), b.nextMessage().then((m) => m!.text())]);
  assert.equal(got, "hi");
  const [, back] = await Promise.all([b.send("hey"), a.nextMessage().then((m) => m!.text())]);
  assert.equal(back, "hey");
  await alice.close();
  await bob.close();
  await server.close();
}

Deno.test("behind a relay on 127.0.0.1, our URI is the local address and port of the relay connection", async () => {
  await checkFamily("127.0.0.1", "127.0.0.1");
});

Deno.test({
  name:
    "behind a relay on [::1], our URI is the local IPv6 address and port of the relay connection",
  ignore: IPV6_MISSING !== undefined,
  fn: () => checkFamily("::1", "[::1]"),
});
