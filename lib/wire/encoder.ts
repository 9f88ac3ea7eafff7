/**
 * Frames to bytes (RFC 4975 §7.1, §7.2, §9).
 *
 * The encoder writes exactly what §9 prescribes: the start line, To-Path and
 * From-Path first, the other header fields in order, Content-Type last when a
 * body follows (§7.1), then either the end-line directly (no body) or a blank
 * line, the body, CRLF and the end-line.
 *
 * §7.1 requires that the end-line never appears inside the body. The encoder
 * scans every body for `------- tid flag`; when it is there before anything
 * was written it picks a new transaction id, and when it turns up in a later
 * piece of a streamed SEND it interrupts the chunk there with `+` and carries
 * on in a new transaction whose Byte-Range starts at the next byte, the second
 * strategy §7.1 describes. Either way `onTransactionIdChange` is told, so the
 * sender can match responses to the new id.
 *
 * Bodies are never copied when large: up to `coalesceLimit` octets the head,
 * body and end-line are written as one buffer (one copy of a small body is
 * cheaper than three writes); above it the body buffer is passed on as is.
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import { BytePattern } from "./byte_search.ts";
import type {
  ContinuationFlag,
  Frame,
  MsrpRequest,
  OutgoingFrame,
  StreamingRequest,
} from "./frame.ts";
import type { HeaderList } from "./header_list.ts";
import { newTransactionId } from "./ids.ts";
import { encodeUtf8 } from "./text.ts";

/** A transaction id the encoder replaced because the body contained the end-line (§7.1). */
export interface TransactionIdChange {
  /** The id the frame was given. */
  readonly from: string;
  /** The id written instead, from this point on. */
  readonly to: string;
  /** Body offset (within the original request's body) where the new id takes over. */
  readonly byteOffset: number;
  /** True when a chunk was already on the wire and was interrupted with `+`. */
  readonly interrupted: boolean;
}

/** Options of {@linkcode FrameEncoderStream} and {@linkcode FrameWriter}. */
export interface FrameEncoderOptions {
  /** Called whenever a transaction id had to change (§7.1). */
  onTransactionIdChange?: (change: TransactionIdChange) => void;
  /** Largest body written in the same buffer as its head. Default 16384. */
  coalesceLimit?: number;
}

const CRLF = "\r\n";
const TID = /^[A-Za-z0-9][A-Za-z0-9.\-+%=]{0,63}$/;
const METHOD = /^[A-Z]+$/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const FLAG_BYTES = new Set([0x24, 0x2b, 0x23]);
const BYTE_RANGE = /^(\d+)-(\d+|\*)\/(\d+|\*)$/;

function misuse(message: string): MsrpError {
  return new MsrpError("bad-frame", message);
}

function checkStart(frame: Frame): void {
  if (!TID.test(frame.tid)) {
    throw misuse(`transaction id ${JSON.stringify(frame.tid)} is not an ident (§9)`);
  }
  if (frame.kind === "request") {
    if (!METHOD.test(frame.method)) {
      throw misuse(`method ${JSON.stringify(frame.method)} is not 1*UPALPHA (§9)`);
    }
  } else {
    if (!Number.isInteger(frame.status) || frame.status < 0 || frame.status > 999) {
      throw misuse(`status ${frame.status} is not three digits (§9)`);
    }
    if (CONTROL.test(frame.comment)) throw misuse("response comment contains a control character");
  }
}

function sameName(a: string, b: string): boolean {
  return a.length === b.length && (a === b || a.toLowerCase() === b.toLowerCase());
}

/**
 * The start line and header section of a frame, each line ending in CRLF.
 * To-Path and From-Path go first; Content-Type goes last when a body follows.
 *
 * @param frame the frame (its body is not read)
 * @param tid the transaction id to write
 * @param withBody whether a body section follows
 */
export function formatHead(frame: Frame, tid: string, withBody: boolean): string {
  let s = frame.kind === "request"
    ? `MSRP ${tid} ${frame.method}\r\n`
    : `MSRP ${tid} ${String(frame.status).padStart(3, "0")}${
      frame.comment ? " " + frame.comment : ""
    }\r\n`;
  const names = frame.headers.names();
  const values = frame.headers.values();
  const n = names.length;
  const inOrder = n >= 2 && sameName(names[0], "To-Path") && sameName(names[1], "From-Path") &&
    (!withBody || sameName(names[n - 1], "Content-Type"));
  if (inOrder) {
    for (let i = 0; i < n; i++) s += names[i] + ": " + values[i] + CRLF;
    return s;
  }
  const rank = (name: string): number =>
    sameName(name, "To-Path")
      ? 0
      : sameName(name, "From-Path")
      ? 1
      : withBody && sameName(name, "Content-Type")
      ? 3
      : 2;
  for (let r = 0; r <= 3; r++) {
    for (let i = 0; i < n; i++) if (rank(names[i]) === r) s += names[i] + ": " + values[i] + CRLF;
  }
  return s;
}

function endLine(tid: string, flag: ContinuationFlag): string {
  return `-------${tid}${flag}\r\n`;
}

/** `------- tid`: the part of the end-line that must not occur in a body (§7.1). */
function endLinePattern(tid: string): BytePattern {
  return new BytePattern(encodeUtf8("-------" + tid));
}

/**
 * Index in `body` where `------- tid flag` starts, or `undefined`. `before`
 * holds the bytes written just before `body` in the same chunk, so a match
 * that straddles the two is found too (its start is then negative).
 */
function findEndLine(
  pattern: BytePattern,
  body: Uint8Array,
  before?: Uint8Array,
): number | undefined {
  const m = pattern.length;
  if (before && before.length > 0) {
    const head = body.subarray(0, m);
    const w = new Uint8Array(before.length + head.length);
    w.set(before);
    w.set(head, before.length);
    for (
      let s = pattern.find(w, 0, before.length - 1);
      s >= 0;
      s = pattern.find(w, s + 1, before.length - 1)
    ) {
      if (s + m < w.length && FLAG_BYTES.has(w[s + m])) return s - before.length;
    }
  }
  for (
    let s = pattern.find(body, 0, body.length - m - 1);
    s >= 0;
    s = pattern.find(body, s + 1, body.length - m - 1)
  ) {
    if (FLAG_BYTES.has(body[s + m])) return s;
  }
  return undefined;
}

/** The last bytes of a written body that could begin a straddling end-line. */
function keepTail(
  pattern: BytePattern,
  prev: Uint8Array | undefined,
  body: Uint8Array,
): Uint8Array {
  const keep = pattern.length; // pattern + flag - 1
  if (body.length >= keep) return body.slice(body.length - keep);
  const joined = new Uint8Array((prev?.length ?? 0) + body.length);
  if (prev) joined.set(prev);
  joined.set(body, prev?.length ?? 0);
  return joined.slice(Math.max(0, joined.length - keep));
}

interface OpenRequest {
  /** The id the caller uses for this request. */
  readonly callerTid: string;
  /** The id on the wire now (differs after an interruption). */
  tid: string;
  readonly request: MsrpRequest;
  /** Body bytes of the caller's request written so far. */
  offset: number;
  /** Body offset at which the current wire transaction started. */
  wireStart: number;
  pattern: BytePattern;
  tail: Uint8Array | undefined;
}

/**
 * The encoder as a synchronous state machine with no streams: give it frames
 * or pieces of requests in order, and it hands the bytes to `out`.
 */
export class FrameWriter {
  readonly #onChange: ((change: TransactionIdChange) => void) | undefined;
  readonly #coalesce: number;
  #open: OpenRequest | undefined;

  /**
   * Makes a writer with no request open.
   *
   * @param options see {@linkcode FrameEncoderOptions}
   */
  constructor(options: FrameEncoderOptions = {}) {
    this.#onChange = options.onTransactionIdChange;
    this.#coalesce = options.coalesceLimit ?? 16384;
  }

  /** True while a request has been started but its end-line not yet written. */
  get busy(): boolean {
    return this.#open !== undefined;
  }

  /**
   * Encodes a frame, or the next piece of the request being written.
   *
   * @param frame a whole frame, the first piece of a request (`flag`
   *   undefined), or a later piece with the same `tid` and the next `offset`
   * @param out receives the bytes, in order; it may keep them
   * @throws {MsrpError} `bad-frame` for a malformed frame or a piece out of order
   */
  write(frame: Frame, out: (bytes: Uint8Array) => void): void {
    const open = this.#open;
    if (open !== undefined) {
      if (frame.kind !== "request" || frame.tid !== open.callerTid) {
        throw misuse(`a frame cannot start while request ${open.callerTid} is still being written`);
      }
      if (frame.offset !== open.offset || frame.body === null) {
        throw misuse(`piece of ${frame.tid} at offset ${frame.offset}, expected ${open.offset}`);
      }
      this.#continue(open, frame.body, frame.flag, out);
      return;
    }
    checkStart(frame);
    if (frame.kind === "response") {
      out(encodeUtf8(formatHead(frame, frame.tid, false) + endLine(frame.tid, frame.flag)));
      return;
    }
    if (frame.offset !== 0) {
      throw misuse(`request ${frame.tid} starts at offset ${frame.offset}, not 0`);
    }
    if (frame.body === null) {
      if (frame.flag === undefined) throw misuse("a bodiless request cannot be sent in pieces");
      out(encodeUtf8(formatHead(frame, frame.tid, false) + endLine(frame.tid, frame.flag)));
      return;
    }
    // Nothing is written yet: if the body holds the end-line, just pick another id.
    let tid = frame.tid;
    let pattern = endLinePattern(tid);
    while (findEndLine(pattern, frame.body) !== undefined) {
      const next = newTransactionId();
      this.#onChange?.({ from: frame.tid, to: next, byteOffset: 0, interrupted: false });
      tid = next;
      pattern = endLinePattern(tid);
    }
    const head = formatHead(frame, tid, true) + CRLF;
    if (frame.flag !== undefined) {
      this.#whole(head, frame.body, endLine(tid, frame.flag), out);
      return;
    }
    out(encodeUtf8(head));
    if (frame.body.length > 0) out(frame.body);
    this.#open = {
      callerTid: frame.tid,
      tid,
      request: frame,
      offset: frame.body.length,
      wireStart: 0,
      pattern,
      tail: keepTail(pattern, undefined, frame.body),
    };
  }

  #whole(head: string, body: Uint8Array, end: string, out: (bytes: Uint8Array) => void): void {
    if (body.length > this.#coalesce) {
      out(encodeUtf8(head));
      out(body);
      out(encodeUtf8(CRLF + end));
      return;
    }
    // One buffer: head, body, CRLF, end-line. Head and end-line are ASCII
    // unless a header value is not, so size the buffer for the worst case.
    const headBytes = encodeUtf8(head);
    const endBytes = encodeUtf8(CRLF + end);
    const buf = new Uint8Array(headBytes.length + body.length + endBytes.length);
    buf.set(headBytes);
    buf.set(body, headBytes.length);
    buf.set(endBytes, headBytes.length + body.length);
    out(buf);
  }

  #continue(
    open: OpenRequest,
    body: Uint8Array,
    flag: ContinuationFlag | undefined,
    out: (bytes: Uint8Array) => void,
  ): void {
    let rest = body;
    for (;;) {
      const at = findEndLine(open.pattern, rest, open.tail);
      if (at === undefined) break;
      // The end-line of the wire transaction turned up in a later piece:
      // interrupt the chunk before it and go on under a new id (§7.1).
      const cut = Math.max(0, at);
      if (cut > 0) out(rest.subarray(0, cut));
      open.offset += cut;
      this.#interrupt(open, out);
      rest = rest.subarray(cut);
    }
    if (rest.length > 0) out(rest);
    open.offset += rest.length;
    open.tail = keepTail(open.pattern, open.tail, rest);
    if (flag !== undefined) {
      out(encodeUtf8(CRLF + endLine(open.tid, flag)));
      this.#open = undefined;
    }
  }

  #interrupt(open: OpenRequest, out: (bytes: Uint8Array) => void): void {
    const request = open.request;
    const range = request.headers.get("Byte-Range");
    const parsed = range === undefined ? null : BYTE_RANGE.exec(range);
    if (request.method !== "SEND" || parsed === null) {
      throw new MsrpError(
        "end-line-in-body",
        `the body of ${request.method} ${open.callerTid} contains its end-line and cannot be interrupted (§7.1)`,
      );
    }
    out(encodeUtf8(CRLF + endLine(open.tid, "+")));
    const next = newTransactionId();
    this.#onChange?.({
      from: open.callerTid,
      to: next,
      byteOffset: open.offset,
      interrupted: true,
    });
    open.tid = next;
    open.pattern = endLinePattern(next);
    open.tail = undefined;
    open.wireStart = open.offset;
    const headers: HeaderList = request.headers.clone();
    headers.set("Byte-Range", `${Number(parsed[1]) + open.offset}-*/${parsed[3]}`);
    out(encodeUtf8(formatHead({ ...request, headers }, next, true) + CRLF));
  }
}

/**
 * Encodes one whole frame into a single buffer.
 *
 * @param frame a response, or a request with its whole body and a flag
 * @throws {MsrpError} `bad-frame` for a malformed frame or a piece
 */
export function encodeFrame(frame: Frame): Uint8Array {
  if (frame.kind === "request" && frame.flag === undefined) {
    throw misuse("encodeFrame takes whole frames only");
  }
  const parts: Uint8Array[] = [];
  new FrameWriter({ coalesceLimit: Infinity }).write(frame, (b) => parts.push(b));
  return parts.length === 1 ? parts[0] : concatAll(parts);
}

function concatAll(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * A transform stream from MSRP frames to the bytes of a connection.
 *
 * ```ts
 * const encoder = new FrameEncoderStream();
 * encoder.readable.pipeTo(conn.writable);
 * const writer = encoder.writable.getWriter();
 * await writer.write(response);
 * ```
 *
 * It accepts whole frames, the pieces of a request in order (as the decoder
 * yields them), and requests whose body is a `ReadableStream`. Like
 * `TextEncoderStream` it is a `{ readable, writable }` pair rather than a
 * `TransformStream` subclass, because a streamed body must wait for the
 * reader between its chunks: a write resolves only once the bytes fit in the
 * readable side's queue, so a 1 GB body streams through in bounded memory.
 */
export class FrameEncoderStream {
  /** The encoded bytes. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Frames to encode. */
  readonly writable: WritableStream<OutgoingFrame>;

  /**
   * Makes an encoder stream.
   *
   * @param options see {@linkcode FrameEncoderOptions}
   */
  constructor(options: FrameEncoderOptions = {}) {
    const writer = new FrameWriter(options);
    let rc!: ReadableStreamDefaultController<Uint8Array>;
    let wake: (() => void) | undefined;
    let cancelled = false;
    let cancelReason: unknown;
    this.readable = new ReadableStream<Uint8Array>({
      start(controller) {
        rc = controller;
      },
      pull() {
        const w = wake;
        wake = undefined;
        w?.();
      },
      cancel(reason) {
        cancelled = true;
        cancelReason = reason;
        const w = wake;
        wake = undefined;
        w?.();
      },
    }, { highWaterMark: 4 });

    const out = (bytes: Uint8Array): void => {
      if (!cancelled) rc.enqueue(bytes);
    };
    /** Resolves once the reader has made room (the readable's pull). */
    const room = async (): Promise<void> => {
      while (!cancelled && (rc.desiredSize ?? 0) <= 0) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (cancelled) {
        throw cancelReason ?? new MsrpError("cancelled", "the encoded stream was cancelled");
      }
    };

    this.writable = new WritableStream<OutgoingFrame>({
      async write(frame) {
        if (cancelled) {
          throw cancelReason ?? new MsrpError("cancelled", "the encoded stream was cancelled");
        }
        try {
          if (frame.kind === "request" && frame.body instanceof ReadableStream) {
            await writeStreamed(writer, frame as StreamingRequest, out, room);
            return;
          }
          writer.write(frame as Frame, out);
          if ((rc.desiredSize ?? 0) <= 0) await room();
        } catch (error) {
          // A failed write errors the writable side; the reader must learn too.
          if (!cancelled) rc.error(error);
          throw error;
        }
      },
      close() {
        if (!cancelled) rc.close();
      },
      abort(reason) {
        if (!cancelled) rc.error(reason);
      },
    }, { highWaterMark: 1 });
  }
}

/** Writes a request whose body is a stream, piece by piece, waiting for room between pieces. */
async function writeStreamed(
  writer: FrameWriter,
  frame: StreamingRequest,
  out: (bytes: Uint8Array) => void,
  room: () => Promise<void>,
): Promise<void> {
  const reader = frame.body.getReader();
  const base = {
    kind: "request" as const,
    tid: frame.tid,
    method: frame.method,
    headers: frame.headers,
  };
  let offset = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      writer.write({ ...base, body: value, offset, flag: undefined }, out);
      offset += value.length;
      await room();
    }
  } catch (error) {
    // The body failed: end the chunk as aborted so the wire stays valid (§7.1 "#").
    if (writer.busy) writer.write({ ...base, body: new Uint8Array(0), offset, flag: "#" }, out);
    throw error;
  } finally {
    reader.releaseLock();
  }
  writer.write({ ...base, body: new Uint8Array(0), offset, flag: frame.flag }, out);
}
