/**
 * One endpoint, one port, many sessions: an echo service (RFC 4975 §5.4, §7.3).
 *
 * The server listens on a single TCP port. For each client it makes a new
 * session (a new URI, `msrp://127.0.0.1:<port>/<session-id>;tcp`) and
 * answers the client's SDP offer with it; every message the session
 * receives is sent back. Requests are routed to the right session by the
 * session id in their To-Path (§7.3), so ten sessions share the port, and
 * sessions of one client share one connection (§5.4: a connection is reused
 * for sessions to the same host and port).
 *
 * Here 10 client sessions come from 2 client endpoints (5 each), so the
 * server sees 2 connections carrying 10 sessions.
 *
 * Run it:
 *
 *   deno run --allow-net=127.0.0.1 examples/server.ts
 *
 * It prints each echo and a summary, and exits 0.
 *
 * @module
 */

import { MsrpEndpoint, type MsrpSession } from "../mod.ts";

const server = await MsrpEndpoint.start({ host: "127.0.0.1", port: 0 });
console.log(`echo server on port ${server.address!.port}`);

/** The server's side of one client: a session that sends back whatever it receives. */
async function echo(session: MsrpSession): Promise<void> {
  for await (const message of session.messages()) {
    const body = await message.bytes().catch(() => undefined);
    if (body === undefined) continue; // aborted or cut off: nothing to echo
    await session.send(body, { contentType: message.contentType }).catch(() => {});
  }
}

/** The server answers an offer: a new session on the same port. */
async function serve(offer: string): Promise<string> {
  const session = server.createSession();
  const answer = await server.answer(session, offer);
  echo(session); // runs until the session ends
  return answer;
}

const clients = await Promise.all([MsrpEndpoint.start(), MsrpEndpoint.start()]);
try {
  const results = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
    const client = clients[i % 2];
    const session = client.createSession();
    await client.completeOffer(session, await serve(client.offer(session)));
    const text = `message ${i + 1} from client session ${session.localUri.sessionId}`;
    const [, reply] = await Promise.all([session.send(text), session.nextMessage()]);
    const echoed = await reply!.text();
    console.log(
      `session ${String(i + 1).padStart(2)}: ${echoed === text ? "echoed" : "WRONG"}: ${echoed}`,
    );
    return echoed === text;
  }));
  const connections = server.connections.length;
  console.log(
    `${results.filter(Boolean).length}/10 echoed, over ${connections} connections to one port`,
  );
  if (!results.every(Boolean)) Deno.exitCode = 1;
} finally {
  await Promise.all(clients.map((c) => c.close()));
  await server.close();
}
