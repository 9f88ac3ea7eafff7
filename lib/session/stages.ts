/**
 * The receive side of a session as Web Streams `TransformStream` stages,
 * each a thin adapter over the sans-I/O core that {@linkcode MsrpSession}
 * and {@linkcode MsrpConnection} use too (RFC 4975 §5.4, §7.1.1-§7.1.4,
 * §7.2, §7.3, §7.3.1):
 *
 * ```
 * conn.readable                                  bytes
 *   -> FrameDecoderStream     (FrameParser)      frames                         §7, §9
 *   -> SessionStateStream     (SessionState)     requests for the session,      §5.4, §7.2, §7.3
 *                                                answers 400/403/481/501/506
 *   -> ReassemblyStream       (ChunkReceiver)    chunk outcomes and answers;    §7.1.1, §7.3.1, §10.5
 *                                                messages on `.messages`
 *   -> ReportStream           (ReportGenerator)  responses and REPORTs          §7.1.2-§7.1.4, §7.2
 *   -> FrameEncoderStream     (FrameWriter)      bytes                          §7.1
 *   -> conn.writable
 * ```
 *
 * Between the stages flow {@linkcode ReceiveStep}s: a request (or a piece of
 * one) for the session, or a {@linkcode ReceiveOutcome} saying what the
 * sender must hear. Each stage handles what it owns and passes the rest on,
 * so a stage can be left out or tested alone. New messages leave the chain
 * sideways, on {@linkcode ReassemblyStream.messages}, as soon as their first
 * chunk arrives; reading them is what lets the chain go on (back-pressure).
 *
 * A connection built by {@linkcode MsrpConnection} composes the same cores
 * without the streams in between (no promise per frame), and routes among
 * many sessions; these stages serve one session on one connection.
 *
 * @module
 */

import type { DecodedFrame, MsrpRequest, MsrpResponse } from "../wire/frame.ts";
import { PathCache } from "../wire/path_cache.ts";
import type { MsrpUri } from "../wire/uri.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { IncomingMessage } from "./reassembly.ts";
import { ChunkReceiver, type ReceiveLimits } from "./receive_checks.ts";
import {
  answerToInvalid,
  type ReceiveOutcome,
  ReportGenerator,
  type ReportGeneratorOptions,
} from "./report_generator.ts";
import { BOUND_ELSEWHERE, type Refusal, type SessionState } from "./session_state.ts";

/** What flows between the receive stages: a request for the session, or an outcome to answer. */
export type ReceiveStep = MsrpRequest | ReceiveOutcome;

/** Options of a {@linkcode SessionStateStream}. */
export interface SessionStateStreamOptions {
  /** Where responses to our own requests go, by transaction id; without it they are dropped. */
  transactions?: { resolve(response: MsrpResponse): boolean };
}

/**
 * Frames → the requests of one session (§5.4, §7.2, §7.3), over
 * {@linkcode SessionState}:
 *
 * - a response goes to its transaction in `transactions`;
 * - a request's first piece is checked: To-Path one URI, ours (481), the
 *   sender our peer (403), the session not bound to another stream or
 *   connection (506); a session that does not know its peer learns it. SEND
 *   and REPORT go on, other methods get 501 (§10.9). Later pieces follow
 *   their first piece;
 * - a frame the decoder could not read gets 400 when it can be addressed;
 *   broken framing ends the stream after that answer.
 *
 * Refusals go on as `answer` outcomes, for {@linkcode ReportStream}.
 *
 * @example Checking requests for one session
 * ```ts
 * import { FrameDecoderStream } from "@msrp/msrp/wire";
 * import { SessionState, SessionStateStream } from "@msrp/msrp/session";
 *
 * const state = new SessionState({ localUri: "msrp://127.0.0.1:2855/s1;tcp" });
 * const wire = "MSRP t1aa SEND\r\nTo-Path: msrp://127.0.0.1:2855/other;tcp\r\n" +
 *   "From-Path: msrp://127.0.0.1:9/p;tcp\r\n-------t1aa$\r\n";
 * const steps = ReadableStream.from([new TextEncoder().encode(wire)])
 *   .pipeThrough(new FrameDecoderStream())
 *   .pipeThrough(new SessionStateStream(state));
 * for await (const step of steps) console.log(step.kind); // "answer" (481)
 * ```
 */
export class SessionStateStream extends TransformStream<DecodedFrame, ReceiveStep> {
  /**
   * Makes the stage for one session.
   *
   * @param state the session's paths and binding (shared with other stages or connections: 506)
   * @param options where responses go
   */
  constructor(state: SessionState, options: SessionStateStreamOptions = {}) {
    let inbound: { tid: string; accepted: boolean } | undefined;
    const owner = {};
    // The chunks of one message carry the same paths: parse each text once.
    const toCache = new PathCache();
    const fromCache = new PathCache();
    super({
      transform(frame, controller) {
        const answer = (request: MsrpRequest, refusal: Refusal) =>
          controller.enqueue({ kind: "answer", request, ...refusal });
        if (frame.kind === "response") {
          options.transactions?.resolve(frame);
          return;
        }
        if (frame.kind === "invalid") {
          // §7.3, §10.2: an unintelligible request gets 400, if it can be addressed.
          const answer = answerToInvalid(frame, () => state.localUri);
          if (typeof answer !== "string") controller.enqueue(answer);
          if (frame.error.fatal) controller.terminate();
          return;
        }
        if (frame.offset > 0) {
          // A later piece follows its first piece.
          const open = inbound;
          if (open === undefined || open.tid !== frame.tid) return;
          if (frame.flag !== undefined) inbound = undefined;
          if (open.accepted) controller.enqueue(frame);
          return;
        }
        const accepted = firstPiece(frame);
        inbound = frame.flag === undefined ? { tid: frame.tid, accepted } : undefined;
        if (accepted) controller.enqueue(frame);

        function firstPiece(request: MsrpRequest): boolean {
          let toPath: readonly MsrpUri[];
          let fromPath: readonly MsrpUri[];
          try {
            toPath = toCache.parse(request.headers.get("To-Path")!);
            fromPath = fromCache.parse(request.headers.get("From-Path")!);
          } catch {
            answer(request, {
              status: 400,
              comment: "Bad Request: malformed To-Path or From-Path",
            });
            return false;
          }
          const refusal = state.check(toPath, fromPath, request.method);
          if (refusal !== undefined) {
            answer(request, refusal);
            return false;
          }
          if (!state.bind(owner)) {
            answer(request, BOUND_ELSEWHERE);
            return false;
          }
          state.learnPeer(request);
          if (request.method !== "SEND" && request.method !== "REPORT") {
            answer(request, { status: 501 }); // §10.9
            return false;
          }
          return true;
        }
      },
    });
  }
}

/** Options of a {@linkcode ReassemblyStream}. */
export interface ReassemblyStreamOptions extends ReceiveLimits {
  /** Where time comes from (the `incompleteTimeout` timers). Default: the system clock. */
  clock?: Clock;
  /** Most messages held unread on `messages` before the chain waits. Default 16. */
  maxQueuedMessages?: number;
}

/**
 * SEND chunks → messages, reassembled by Byte-Range in order or not
 * (§7.3.1), over {@linkcode ChunkReceiver}: each chunk is checked (400, 413,
 * 415, see `receive_checks.ts`) and its bytes go into an
 * {@linkcode IncomingMessage}, offered on {@linkcode ReassemblyStream.messages}
 * when its first chunk arrives. What happened to each chunk goes on as a
 * {@linkcode ReceiveOutcome}; other steps pass through.
 *
 * When the stream ends, messages still incomplete end too.
 *
 * @example Two chunks out of order make one message
 * ```ts
 * import { FrameDecoderStream } from "@msrp/msrp/wire";
 * import { ReassemblyStream, SessionState, SessionStateStream } from "@msrp/msrp/session";
 *
 * const chunk = (tid: string, range: string, body: string) =>
 *   `MSRP ${tid} SEND\r\nTo-Path: msrp://127.0.0.1:2855/s1;tcp\r\n` +
 *   `From-Path: msrp://127.0.0.1:9/p;tcp\r\nMessage-ID: m1\r\nByte-Range: ${range}\r\n` +
 *   `Content-Type: text/plain\r\n\r\n${body}\r\n-------${tid}$\r\n`;
 * const wire = chunk("t2bb", "7-11/11", "world") + chunk("t1aa", "1-6/11", "hello ");
 * const reassembly = new ReassemblyStream();
 * ReadableStream.from([new TextEncoder().encode(wire)])
 *   .pipeThrough(new FrameDecoderStream())
 *   .pipeThrough(new SessionStateStream(new SessionState({ localUri: "msrp://127.0.0.1:2855/s1;tcp" })))
 *   .pipeThrough(reassembly)
 *   .pipeTo(new WritableStream());
 * for await (const message of reassembly.messages) console.log(await message.text()); // "hello world"
 * ```
 */
export class ReassemblyStream extends TransformStream<ReceiveStep, ReceiveStep> {
  /** The messages, each as soon as its first chunk arrives; it ends with the stream. */
  readonly messages: ReadableStream<IncomingMessage>;

  /**
   * Makes the stage for one session.
   *
   * @param options accepted types, limits, clock
   */
  constructor(options: ReassemblyStreamOptions = {}) {
    let steps!: TransformStreamDefaultController<ReceiveStep>;
    let out!: ReadableStreamDefaultController<IncomingMessage>;
    let wake: (() => void) | undefined;
    let waiting = 0;
    const messages = new ReadableStream<IncomingMessage>({
      start(c) {
        out = c;
      },
      pull() {
        const w = wake;
        wake = undefined;
        w?.();
      },
    }, { highWaterMark: options.maxQueuedMessages ?? 16 });
    const receiver = new ChunkReceiver({
      clock: options.clock ?? systemClock,
      outcome: (outcome) => steps.enqueue(outcome),
      deliver: (message) => out.enqueue(message),
      room: () =>
        (out.desiredSize ?? 1) > 0 ? undefined : new Promise<void>((resolve) => (wake = resolve)),
      paused: () => waiting > 0,
    }, options);
    const end = () => {
      receiver.close();
      try {
        out.close();
      } catch { /* already closed */ }
      wake?.();
    };
    super({
      start(controller) {
        steps = controller;
      },
      transform(step, controller) {
        if (step.kind !== "request" || step.method !== "SEND") {
          controller.enqueue(step);
          return;
        }
        const wait = receiver.receive(step);
        if (wait === undefined) return;
        waiting++;
        return wait.finally(() => {
          waiting--;
          receiver.resumed();
        });
      },
      flush: end,
      cancel: end,
    });
    this.messages = messages;
  }
}

/**
 * Outcomes → responses and REPORTs (§7.1.2-§7.1.4, §7.2), over
 * {@linkcode ReportGenerator}: the Failure-Report / Success-Report table of
 * `reports.ts`. Requests that reach it (a REPORT about a message of ours)
 * are dropped: this chain only receives.
 *
 * @example The response a SEND chunk is owed
 * ```ts
 * import { HeaderList, MsrpUri } from "@msrp/msrp/wire";
 * import { ReportStream } from "@msrp/msrp/session";
 *
 * const reports = new ReportStream({ localUri: MsrpUri.parse("msrp://127.0.0.1:2855/s1;tcp") });
 * const writer = reports.writable.getWriter();
 * const headers = new HeaderList([
 *   ["To-Path", "msrp://127.0.0.1:2855/s1;tcp"],
 *   ["From-Path", "msrp://127.0.0.1:9/p;tcp"],
 * ]);
 * writer.write({ kind: "answer", request: { tid: "t1aa", headers }, status: 415 });
 * writer.close();
 * for await (const frame of reports.readable) console.log(frame); // a 415 response to t1aa
 * ```
 */
export class ReportStream extends TransformStream<ReceiveStep, MsrpRequest | MsrpResponse> {
  /**
   * Makes the stage for one session.
   *
   * @param options our URI (the From-Path of REPORTs), success REPORTs per message or per chunk
   */
  constructor(options: ReportGeneratorOptions) {
    const generator = new ReportGenerator(options);
    super({
      transform(step, controller) {
        if (step.kind === "request") return;
        generator.answer(step, (frame) => controller.enqueue(frame));
      },
    });
  }
}
