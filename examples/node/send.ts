/**
 * Sending one MSRP message from a Node program (RFC 4975): the same core as
 * in Deno (wire, session), over a `node:net` socket (lib/transport/node.ts).
 *
 * It connects to the URI it is given (the active side, §5.4), binds its
 * session with a bodiless SEND, sends the text as a SEND with
 * `Content-Type: text/plain` asking for a success REPORT (§7.1.2), prints
 * how it was confirmed, and exits 0 (1 on a refusal, 2 on bad arguments).
 *
 * Node does not run TypeScript before version 22, so bundle it first:
 *
 *   msrp listen                      # prints msrp://127.0.0.1:PORT/ID;tcp
 *   deno bundle --platform=node examples/node/send.ts -o node_send.mjs
 *   node node_send.mjs msrp://127.0.0.1:PORT/ID;tcp "Hello from Node"
 *
 * @module
 */

import { MsrpConnection } from "../../lib/session/connection.ts";
import { MsrpSession } from "../../lib/session/session.ts";
import { newSessionId } from "../../lib/wire/ids.ts";
import { MsrpUri } from "../../lib/wire/uri.ts";
import { connectNodeTcp } from "../../lib/transport/node.ts";

/** The command line of a Node program: `process.argv` after the script's name. */
const args: string[] = (globalThis as unknown as { process: { argv: string[] } }).process.argv
  .slice(2);

function exit(code: number): never {
  return (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(code);
}

if (args.length < 2) {
  console.error("usage: node node_send.mjs <msrp://host:port/session;tcp> <text...>");
  exit(2);
}
const peer = MsrpUri.parse(args[0]);
if (peer.secure || peer.port === undefined) {
  console.error(`node_send: give an msrp: URI with a port, not ${args[0]}`);
  exit(2);
}

const transport = await connectNodeTcp({ hostname: peer.host, port: peer.port });
// Our own URI names the address the connection comes from (§6.1, §5.4).
const here = transport.localAddr!;
const host = here.hostname.includes(":") ? `[${here.hostname}]` : here.hostname;
const localUri = `msrp://${host}:${here.port}/${newSessionId()};tcp`;

const connection = new MsrpConnection(transport);
const session = new MsrpSession({ localUri, remotePath: [peer] });
connection.attach(session);
session.sendBindRequest();
await session.ready;

const text = args.slice(1).join(" ");
const result = await session.send(text, { successReport: true });
const how = result.confirmedBy === "report" ? "a success REPORT" : "a 200 response";
console.log(`node_send: ${result.status} for ${result.bytesSent} bytes, confirmed by ${how}`);
session.close();
connection.close();
await connection.closed;
exit(result.status === 200 ? 0 : 1);
