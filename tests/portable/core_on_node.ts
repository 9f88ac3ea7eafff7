/**
 * The core's checks as a plain program, for runtimes other than Deno: wire
 * (RFC 4975 §7 framing, byte for byte), a session over the memory transport
 * (§7.1.1 chunking, §7.1.2 success REPORT), Digest (RFC 2617 §3.5 vector,
 * computed in plain TypeScript), and loading the WebSocket transport and the
 * relay client. portable_test.ts bundles it (`deno bundle --platform=node`)
 * and runs it with `node`; it prints `core-on-node: N checks ok` or exits 1.
 *
 * It imports only the portable modules, never `mod.ts` (whose TCP and TLS
 * transports need Deno).
 */

import { digestHa1, digestResponse } from "../../lib/wire/digest.ts";
import { FrameDecoderStream } from "../../lib/wire/decoder.ts";
import { encodeFrame } from "../../lib/wire/encoder.ts";
import { HeaderList } from "../../lib/wire/header_list.ts";
import { MsrpConnection, SessionDirectory } from "../../lib/session/connection.ts";
import { MsrpSession } from "../../lib/session/session.ts";
import { systemClock } from "../../lib/session/clock.ts";
import { memoryPipe } from "../../lib/transport/memory.ts";
import { connectWebSocket } from "../../lib/transport/websocket.ts";
import { RelayClient } from "../../lib/endpoint/relay_client.ts";
import { parseMsrpMedia } from "../../lib/payload/msrp_media.ts";

let checks = 0;
function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
  checks++;
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

// Wire: the SEND of RFC 4975 §7.1 encoded byte for byte, then decoded back.
const wire = "MSRP a786hjs2 SEND\r\n" +
  "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n" +
  "From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp\r\n" +
  "Message-ID: 87652491\r\n" +
  "Byte-Range: 1-25/25\r\n" +
  "Content-Type: text/plain\r\n" +
  "\r\n" +
  "Hey Bob, are you there?\r\n" + // the body: 25 octets, its own CRLF included
  "\r\n-------a786hjs2$\r\n";
const headers = new HeaderList();
headers.append("To-Path", "msrp://bob.example.com:8888/9di4eae923wzd;tcp");
headers.append("From-Path", "msrp://alice.example.com:7777/iau39soe2843z;tcp");
headers.append("Message-ID", "87652491");
headers.append("Byte-Range", "1-25/25");
headers.append("Content-Type", "text/plain");
const encoded = encodeFrame({
  kind: "request",
  tid: "a786hjs2",
  method: "SEND",
  headers,
  body: new TextEncoder().encode("Hey Bob, are you there?\r\n"),
  offset: 0,
  flag: "$",
});
check(text(encoded) === wire, "encodeFrame writes the RFC 4975 §7.1 example byte for byte");

const frames = [];
const source = ReadableStream.from([encoded.subarray(0, 7), encoded.subarray(7)]);
for await (const f of source.pipeThrough(new FrameDecoderStream())) frames.push(f);
check(frames.length === 1 && frames[0].kind === "request", "the decoder reads one request back");

// Payload: an SDP media line of RFC 4975 §7.1 read on this runtime.
const media = parseMsrpMedia(
  "v=0\r\no=bob 2890844526 2890844527 IN IP4 bob.example.com\r\ns= \r\n" +
    "c=IN IP4 bob.example.com\r\nt=0 0\r\nm=message 8888 TCP/MSRP *\r\n" +
    "a=accept-types:text/plain\r\na=path:msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n",
);
check(media.path[0].toString().endsWith("/9di4eae923wzd;tcp"), "the SDP a=path is read");

// Digest (RFC 2617 §3.5), MD5 in plain TypeScript.
const ha1 = digestHa1("MD5", "Mufasa", "testrealm@host.com", "Circle Of Life");
check(ha1 === "939e7578ed9e3c518a452acee763bce9", "HA1 of the RFC 2617 §3.5 example");
const response = digestResponse({
  algorithm: "MD5",
  ha1,
  method: "GET",
  uri: "/dir/index.html",
  nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
  nc: 1,
  cnonce: "0a4f113b",
  qop: "auth",
});
check(response === "6629fae49393a05397450978507c4ef1", "the RFC 2617 §3.5 response");

// Session: Alice sends to Bob over the memory transport with the real clock,
// asking for a success REPORT (RFC 4975 §7.1.2).
const ALICE = "msrp://alice.example.com:7777/aliceSess01;tcp";
const BOB = "msrp://bob.example.com:8888/bobSess0002;tcp";
const [a, b] = memoryPipe();
const directory = new SessionDirectory();
const alice = new MsrpSession({ localUri: ALICE, remotePath: [BOB] });
const bob = new MsrpSession({ localUri: BOB, remotePath: [ALICE] });
directory.add(bob);
const aliceConn = new MsrpConnection(a, { clock: systemClock });
const bobConn = new MsrpConnection(b, { directory, clock: systemClock });
aliceConn.attach(alice);
alice.sendBindRequest();
await alice.ready;
await bob.ready;
const body = "x".repeat(5000) + " from Node";
const sending = alice.send(body, { successReport: true });
const message = await bob.nextMessage();
check(message !== undefined && (await message.text()) === body, "Bob reads the whole message");
const result = await sending;
check(result.status === 200 && result.confirmedBy === "report", "Alice gets a success REPORT");
alice.close();
bob.close();
aliceConn.close();
bobConn.close();
await aliceConn.closed;
await bobConn.closed;

// The WebSocket transport and the relay client load here too.
check(typeof connectWebSocket === "function", "the WebSocket transport loads");
check(typeof RelayClient === "function", "the relay client loads");

console.log(`core-on-node: ${checks} checks ok`);
