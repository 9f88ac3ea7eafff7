/**
 * msrp: the Message Session Relay Protocol (RFC 4975, RFC 4976) for Deno.
 *
 * This root holds what an application needs: the {@linkcode MsrpEndpoint}
 * that sets sessions up through SDP (RFC 4975 §8), directly or through relays
 * (RFC 4976), the {@linkcode MsrpSession} that sends and receives messages
 * (§7), the typed errors, and the transports. The layers below have their own
 * entry points: `@msrp/msrp/wire` (frames, URIs, header fields),
 * `@msrp/msrp/session` (connections, sessions, report rules),
 * `@msrp/msrp/transport` (TCP, TLS, WebSocket, memory),
 * `@msrp/msrp/payload` (SDP, CPIM, IMDN, isComposing) and
 * `@msrp/msrp/relay` (the relay).
 *
 * ```ts
 * import { MsrpEndpoint } from "@msrp/msrp";
 *
 * const alice = await MsrpEndpoint.start({ host: "127.0.0.1", port: 0 });
 * const bob = await MsrpEndpoint.start({ host: "127.0.0.1", port: 0 });
 * const a = alice.createSession();
 * const b = bob.createSession();
 * // The SDP offer and answer would travel in SIP (RFC 4975 §8).
 * await alice.completeOffer(a, await bob.answer(b, alice.offer(a)));
 * await a.send("Hello Bob");
 * const message = await b.nextMessage();
 * console.log(await message?.text()); // "Hello Bob"
 * await alice.close();
 * await bob.close();
 * ```
 *
 * @module
 */

export {
  FrameError,
  MsrpError,
  type MsrpErrorCode,
  type MsrpStatusCode,
  MsrpSyntaxError,
} from "./lib/errors.ts";
export type { Frame, MsrpRequest, MsrpResponse } from "./lib/wire/frame.ts";
export { MsrpUri, parseUri } from "./lib/wire/uri.ts";
export { consoleLogger, type Logger, type LogLevel, silentLogger } from "./lib/log.ts";
export { type Clock, ManualClock } from "./lib/session/clock.ts";
export type { MessageBody } from "./lib/session/body_source.ts";
export {
  IncomingMessage,
  IncompleteMessageError,
  type ReceiveProgress,
} from "./lib/session/reassembly.ts";
export { MsrpSendError, type SendProgress, type SendResult } from "./lib/session/outgoing.ts";
export { MsrpConnection } from "./lib/session/connection.ts";
export {
  MsrpSession,
  type SendOptions,
  type SessionEnd,
  type SessionOptions,
} from "./lib/session/session.ts";
export {
  type AcceptEachOptions,
  type AcceptOptions,
  type ConnectOptions,
  type EndpointOptions,
  MsrpEndpoint,
  type SdpOptions,
  type ServedUri,
  type TlsIdentity,
} from "./lib/endpoint/endpoint.ts";
export {
  type RelayAccount,
  RelayAuthError,
  type RelayGrant,
  type UsePathChange,
} from "./lib/endpoint/relay_client.ts";
export {
  connectTcp,
  connectTls,
  connectWebSocket,
  listenTcp,
  listenTls,
  listenWebSocket,
  memoryPipe,
  type MsrpListener,
  type MsrpTransport,
  type NetAddress,
  TlsCertificateError,
} from "./lib/transport/mod.ts";
// SDP types that appear in the endpoint API (the rest is in "./payload").
export type {
  Direction,
  FileDate,
  FileHash,
  FileRange,
  FileSelector,
  FileTransferAttributes,
} from "./lib/payload/sdp.ts";
