/**
 * msrp: the Message Session Relay Protocol (RFC 4975, RFC 4976) for Deno.
 *
 * The wire layer turns bytes into frames and back:
 *
 * ```ts
 * import { FrameDecoderStream } from "@msrp/msrp";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 2855 });
 * for await (const frame of conn.readable.pipeThrough(new FrameDecoderStream())) {
 *   console.log(frame.kind, frame.tid);
 * }
 * ```
 *
 * @module
 */

export * from "./lib/errors.ts";
export * from "./lib/wire/frame.ts";
export * from "./lib/wire/header_list.ts";
export * from "./lib/wire/ids.ts";
export * from "./lib/wire/decoder.ts";
export * from "./lib/wire/encoder.ts";
export * from "./lib/wire/frame_trace.ts";
export * from "./lib/wire/uri.ts";
export * from "./lib/wire/headers.ts";
export * from "./lib/wire/auth_headers.ts";
export * from "./lib/relay/digest.ts";
export * from "./lib/log.ts";
export * from "./lib/transport/mod.ts";
export * from "./lib/session/clock.ts";
export * from "./lib/session/body_source.ts";
export * from "./lib/session/reassembly.ts";
export * from "./lib/session/reports.ts";
export * from "./lib/session/ranges.ts";
export * from "./lib/session/transactions.ts";
export * from "./lib/session/outgoing.ts";
export * from "./lib/session/scheduler.ts";
export * from "./lib/session/connection.ts";
export * from "./lib/session/session.ts";
export * from "./lib/session/session_state.ts";
export * from "./lib/session/receive_checks.ts";
export * from "./lib/session/report_generator.ts";
export * from "./lib/session/stages.ts";
export * from "./lib/endpoint/mod.ts";
// SDP types that appear in the endpoint API (the rest is in "./payload").
export type {
  Direction,
  FileDate,
  FileHash,
  FileRange,
  FileSelector,
  FileTransferAttributes,
} from "./lib/payload/sdp.ts";
