/**
 * Frames as a person reads them, for a trace of the wire (RFC 4975 §7.1,
 * §7.2, §9).
 *
 * A {@linkcode FrameTrace} watches the bytes of one direction of one
 * connection, exactly as they are written or read, runs them through its own
 * {@linkcode FrameParser} and renders each frame when its end-line has
 * passed:
 *
 * ```
 * MSRP a786hjs2 SEND
 * To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
 * From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
 * Message-ID: 87652491
 * Byte-Range: 1-25/25
 * Content-Type: text/plain
 *
 * [25 bytes: "Hey Bob, are you there?"]
 * -------a786hjs2$
 * ```
 *
 * The start line and header fields are shown whole; the body by its length
 * and its first {@linkcode TRACE_BODY_BYTES} octets. Everything that came
 * from the network is escaped (control characters as `\xNN`), so a trace is
 * safe to print on a terminal. Because the trace parses the real bytes, it
 * shows what was on the wire, including a chunk the writer interrupted
 * (§7.1.1) and a frame the parser could not read (§9).
 *
 * Tracing is off unless a trace logger is given (the `trace` option of
 * `MsrpConnection`, `MsrpEndpoint` and `MsrpRelay`); each frame goes to it
 * as one `debug` event (see {@linkcode frameTracer}). A trace keeps at most
 * the head of one frame and {@linkcode TRACE_BODY_BYTES} body octets.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import { FrameParser } from "./decoder.ts";
import type { DecodedFrame } from "./frame.ts";

/** How many octets of a body a trace shows. */
export const TRACE_BODY_BYTES = 32;

/** Which way a traced frame went. */
export type TraceDirection = "in" | "out";

/** One frame of a trace. */
export interface TracedFrame {
  /** `in`: read from the peer; `out`: written to it. */
  readonly direction: TraceDirection;
  /** The frame rendered as lines (no trailing line end), escaped for a terminal. */
  readonly text: string;
  /** The transaction id, when the start line was read. */
  readonly tid: string | undefined;
  /** The method of a request. */
  readonly method: string | undefined;
  /** The status of a response. */
  readonly status: number | undefined;
  /** Body octets of the frame (0 for a bodiless request or a response). */
  readonly bodyLength: number;
}

/**
 * Text from the wire made safe to print: every control character is
 * escaped (`\r`, `\n`, `\t`, else `\xNN`), the rest is left as it is.
 *
 * @param text a start line or a header field
 */
export function escapeTraceText(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (ch) => {
    if (ch === "\r") return "\\r";
    if (ch === "\n") return "\\n";
    if (ch === "\t") return "\\t";
    return "\\x" + ch.charCodeAt(0).toString(16).padStart(2, "0");
  });
}

/**
 * The first octets of a body, quoted: printable ASCII as it is, the rest
 * escaped (bytes above 0x7e as `\xNN`, so nothing is decoded).
 *
 * @param bytes the octets to show
 */
export function escapeTraceBytes(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    if (b === 0x5c) out += "\\\\";
    else if (b === 0x22) out += '\\"';
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x09) out += "\\t";
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += "\\x" + b.toString(16).padStart(2, "0");
  }
  return out;
}

/**
 * Watches one direction of a connection and renders each frame that passes.
 *
 * @example Trace the bytes of one direction
 * ```ts
 * import { FrameTrace } from "@msrp/msrp/wire";
 *
 * const trace = new FrameTrace("in", (frame) => console.log(frame.text));
 * trace.push(new TextEncoder().encode(
 *   "MSRP a786hjs2 200 OK\r\nTo-Path: msrp://alice.example.com:7777/iau39;tcp\r\n" +
 *     "From-Path: msrp://bob.example.com:8888/9di4ea;tcp\r\n-------a786hjs2$\r\n",
 * ));
 * trace.end();
 * ```
 */
export class FrameTrace {
  readonly #direction: TraceDirection;
  readonly #emit: (frame: TracedFrame) => void;
  readonly #parser = new FrameParser();
  #sink = (f: DecodedFrame): void => this.#onFrame(f);
  // The request whose pieces are passing (RFC 4975 §7.1: a chunk may be long).
  #head: string[] | undefined;
  #tid = "";
  #method = "";
  #hasBody = false;
  #bodyLength = 0;
  #first = new Uint8Array(TRACE_BODY_BYTES);
  #firstLength = 0;
  #stopped = false;

  /**
   * Makes a trace of one direction.
   *
   * @param direction `in` or `out`
   * @param emit called with each frame once its end-line has passed
   */
  constructor(direction: TraceDirection, emit: (frame: TracedFrame) => void) {
    this.#direction = direction;
    this.#emit = emit;
  }

  /**
   * The next bytes of the stream, as written or read. They are copied, so
   * the caller may reuse the buffer.
   *
   * @param bytes the octets
   */
  push(bytes: Uint8Array): void {
    if (this.#stopped || bytes.length === 0) return;
    this.#parser.push(bytes.slice(), this.#sink);
    if (this.#parser.failed) this.#stopped = true;
  }

  /** The stream ended: a frame cut off in the middle is shown as far as it came. */
  end(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#parser.finish(this.#sink);
    if (this.#head !== undefined) this.#finishRequest("[no end-line]");
  }

  #onFrame(f: DecodedFrame): void {
    if (f.kind === "invalid") {
      if (this.#head !== undefined) this.#finishRequest("[no end-line]");
      const e = f.error;
      const what = e.fatal
        ? "framing lost, nothing more is traced here"
        : "skipped to its end-line";
      this.#out(
        [
          `[unreadable frame${f.tid === undefined ? "" : ` ${escapeTraceText(f.tid)}`}: ` +
          `${escapeTraceText(e.message)} (${e.code}); ${what}]`,
        ],
        f.tid,
        f.method,
        f.status,
        0,
      );
      return;
    }
    if (f.kind === "response") {
      const comment = f.comment === "" ? "" : " " + f.comment;
      const lines = [`MSRP ${f.tid} ${f.status}${comment}`, ...headerLines(f.headers)];
      lines.push(`-------${f.tid}${f.flag}`);
      this.#out(lines.map(escapeTraceText), f.tid, undefined, f.status, 0);
      return;
    }
    if (f.offset === 0) {
      if (this.#head !== undefined) this.#finishRequest("[no end-line]");
      this.#head = [`MSRP ${f.tid} ${f.method}`, ...headerLines(f.headers)].map(escapeTraceText);
      this.#tid = f.tid;
      this.#method = f.method;
      this.#hasBody = f.body !== null;
      this.#bodyLength = 0;
      this.#firstLength = 0;
    } else if (this.#head === undefined || f.tid !== this.#tid) return;
    if (f.body !== null) {
      this.#bodyLength += f.body.length;
      const take = Math.min(f.body.length, TRACE_BODY_BYTES - this.#firstLength);
      if (take > 0) {
        this.#first.set(f.body.subarray(0, take), this.#firstLength);
        this.#firstLength += take;
      }
    }
    if (f.flag !== undefined) this.#finishRequest(escapeTraceText(`-------${f.tid}${f.flag}`));
  }

  #finishRequest(endLine: string): void {
    const lines = this.#head!;
    this.#head = undefined;
    if (this.#hasBody) {
      const first = escapeTraceBytes(this.#first.subarray(0, this.#firstLength));
      const more = this.#bodyLength > this.#firstLength ? "..." : "";
      const bytes = `${this.#bodyLength} byte${this.#bodyLength === 1 ? "" : "s"}`;
      lines.push("", this.#bodyLength === 0 ? `[${bytes}]` : `[${bytes}: "${first}"${more}]`);
    }
    lines.push(endLine);
    this.#out(lines, this.#tid, this.#method, undefined, this.#bodyLength);
  }

  #out(
    lines: string[],
    tid: string | undefined,
    method: string | undefined,
    status: number | undefined,
    bodyLength: number,
  ): void {
    this.#emit({
      direction: this.#direction,
      text: lines.join("\n"),
      tid,
      method,
      status,
      bodyLength,
    });
  }
}

function headerLines(headers: Iterable<[string, string]>): string[] {
  const lines: string[] = [];
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  return lines;
}

/**
 * A trace that sends each frame to `logger` as a `debug` event named
 * `frame in` or `frame out`, with the rendered frame in `data.frame` and the
 * peer (and, for a relay, the connection id) beside it.
 *
 * @param logger where frames go
 * @param direction `in` or `out`
 * @param where who is at the other end, e.g. `{ peer: "127.0.0.1:2855" }`
 *
 * @example A trace that writes to a logger
 * ```ts
 * import { consoleLogger } from "@msrp/msrp";
 * import { frameTracer, traceStream } from "@msrp/msrp/wire";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 2855 });
 * const input = conn.readable.pipeThrough(
 *   traceStream(frameTracer(consoleLogger(true), "in", { peer: "127.0.0.1:2855" })),
 * );
 * ```
 */
export function frameTracer(
  logger: Logger,
  direction: TraceDirection,
  where: Record<string, unknown> = {},
): FrameTrace {
  return new FrameTrace(direction, (f) => {
    try {
      logger("debug", `frame ${direction}`, {
        ...where,
        direction,
        tid: f.tid,
        ...(f.method !== undefined ? { method: f.method } : {}),
        ...(f.status !== undefined ? { status: f.status } : {}),
        bodyLength: f.bodyLength,
        frame: f.text,
      });
    } catch {
      // a failing logger must not break the connection it watches
    }
  });
}

/**
 * A traced frame for a terminal: each of its lines after `> ` when it went
 * out and `< ` when it came in (a blank line gets the mark alone).
 *
 * @param frame the rendered frame (`TracedFrame.text`, or `data.frame` of a trace event)
 * @param direction `in` or `out`
 * @returns the lines, each ending in a line feed
 */
export function markTraceLines(frame: string, direction: TraceDirection): string {
  const mark = direction === "in" ? "<" : ">";
  return frame.split("\n").map((l) => (l === "" ? mark : `${mark} ${l}`) + "\n").join("");
}

/**
 * A pass-through stream that shows `trace` every chunk going by.
 *
 * @param trace the trace of this direction
 *
 * @example Watch bytes pass through a stream
 * ```ts
 * import { FrameTrace, traceStream } from "@msrp/msrp/wire";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 2855 });
 * const trace = new FrameTrace("in", (frame) => console.log(frame.method ?? frame.status));
 * const bytes = conn.readable.pipeThrough(traceStream(trace)); // the same bytes, traced
 * ```
 */
export function traceStream(trace: FrameTrace): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      trace.push(chunk);
      controller.enqueue(chunk);
    },
    flush() {
      trace.end();
    },
  });
}
