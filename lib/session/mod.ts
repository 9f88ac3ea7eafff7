/**
 * The session layer of MSRP (RFC 4975 §5, §7, §8): connections that carry
 * sessions, sessions that send and receive messages in chunks, the
 * Success-Report / Failure-Report rules (§7.1), and the injected clock all
 * timers run on.
 *
 * ```ts
 * import { MsrpConnection, MsrpSession } from "@msrp/msrp/session";
 * import { memoryPipe } from "@msrp/msrp/transport";
 *
 * const [a, b] = memoryPipe();
 * const alice = new MsrpSession(new MsrpConnection(a), {
 *   localPath: ["msrp://alice.example.com:7777/iau39;tcp"],
 *   remotePath: ["msrp://bob.example.com:8888/9di4ea;tcp"],
 * });
 * const bob = new MsrpSession(new MsrpConnection(b), {
 *   localPath: ["msrp://bob.example.com:8888/9di4ea;tcp"],
 *   remotePath: ["msrp://alice.example.com:7777/iau39;tcp"],
 * });
 * bob.onMessage = (message) => console.log(message.text());
 * await alice.send("Hello");
 * ```
 *
 * @module
 */

export { type ConnectionEnd, type ConnectionOptions, MsrpConnection } from "./connection.ts";
export { SessionDirectory } from "./connection.ts";
export { MsrpSession, type SendOptions, type SessionEnd, type SessionOptions } from "./session.ts";
export { type Clock, ManualClock, systemClock } from "./clock.ts";
export * from "./reports.ts";
export {
  IncomingMessage,
  type IncomingOptions,
  type IncomingState,
  IncompleteMessageError,
  type ReceiveProgress,
} from "./reassembly.ts";
export {
  type ChunkingOptions,
  type MessageContext,
  MsrpSendError,
  OutgoingMessage,
  type OutgoingOptions,
  type SendProgress,
  type SendResult,
} from "./outgoing.ts";
export {
  type BodySource,
  bodySource,
  defaultContentType,
  type MessageBody,
} from "./body_source.ts";
