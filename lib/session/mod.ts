/**
 * The session layer of MSRP (RFC 4975 §5, §7, §8): connections that carry
 * sessions, sessions that send and receive messages in chunks, the
 * Success-Report / Failure-Report rules (§7.1), and the injected clock all
 * timers run on.
 *
 * ```ts
 * import { MsrpConnection, MsrpSession, SessionDirectory } from "@msrp/msrp/session";
 * import { memoryPipe } from "@msrp/msrp/transport";
 *
 * const ALICE = "msrp://alice.example.com:7777/iau39;tcp";
 * const BOB = "msrp://bob.example.com:8888/9di4ea;tcp";
 * const [a, b] = memoryPipe();
 * // Bob's side finds his session by the To-Path of the first request (§5.4).
 * const directory = new SessionDirectory();
 * const bob = new MsrpSession({ localUri: BOB, remotePath: [ALICE] });
 * directory.add(bob);
 * new MsrpConnection(b, { directory });
 * const alice = new MsrpSession({ localUri: ALICE, remotePath: [BOB] });
 * new MsrpConnection(a).attach(alice);
 * await alice.send("Hello");
 * const message = await bob.nextMessage();
 * console.log(await message?.text()); // "Hello"
 * ```
 *
 * @module
 */

export { type ConnectionEnd, type ConnectionOptions, MsrpConnection } from "./connection.ts";
export { type PeerSessionFactory, SessionDirectory } from "./directory.ts";
export { MsrpSession, type SendOptions, type SessionEnd, type SessionOptions } from "./session.ts";
export { type Clock, ManualClock, systemClock } from "./clock.ts";
export { type Refusal, SessionState, type SessionStateOptions } from "./session_state.ts";
export {
  ReassemblyStream,
  type ReassemblyStreamOptions,
  type ReceiveStep,
  ReportStream,
  SessionStateStream,
  type SessionStateStreamOptions,
} from "./stages.ts";
export type { ReceiveLimits } from "./receive_checks.ts";
export type { AnsweredRequest, ReceiveOutcome } from "./report_generator.ts";
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
  MsrpSendError,
  type SendProgress,
  type SendResult,
} from "./outgoing.ts";
export {
  type BodySource,
  bodySource,
  defaultContentType,
  type MessageBody,
} from "./body_source.ts";
