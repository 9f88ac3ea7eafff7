/**
 * The worker of `_loadgen.ts`: pairs of MSRP clients on raw `Deno.connect`
 * sockets, path `relay/sidA relay/sidB B` (RFC 4976 §5.1, §6.4), with a
 * hand-rolled data path (RFC 4975 §7.1, §7.2, §7.3.1):
 *
 * - each client AUTHs once (RFC 4976 §5.1, §9.1; `DigestClient`);
 * - A sends SEND chunks encoded straight into one output buffer (constant
 *   header bytes copied, transaction id, Message-ID and Byte-Range written as
 *   digits), at most `window` chunks (and `window` chunks' worth of body
 *   bytes) in flight: sent but not yet both answered by the relay and
 *   received at B;
 * - B scans what arrives with a minimal frame scanner (start line, the
 *   Byte-Range and Message-ID header fields, the end-line), checks every
 *   body byte against what A sent at that Byte-Range position (whatever
 *   re-chunking the relay did), and answers each SEND with a 200 (§7.2).
 *
 * One worker runs any number of pairs concurrently on its event loop. It is
 * bench code only; nothing in `lib/` imports it.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { DigestClient } from "../lib/wire/digest.ts";
import { parseWwwAuthenticate } from "../lib/wire/auth_headers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CR = 13;
const LF = 10;
const DASH = 0x2d;

/** What the main thread asks. */
export type WorkerRequest =
  | {
    op: "setup";
    /** Relay URI as the clients name it (To-Path of AUTH). */
    relayUri: string;
    /** Where to connect. */
    hostname: string;
    port: number;
    users: { a: [string, string]; b: [string, string] };
    pairs: number;
    kind: "messages" | "bulk";
    messageSize: number;
    chunkSize: number;
    window: number;
  }
  | { op: "run"; messagesPerPair: number; runNo: number; limitMs: number }
  | { op: "close" };

/** What the worker answers. */
export type WorkerReply =
  | { op: "ready" }
  | {
    op: "done";
    t0: number;
    t1: number;
    messages: number;
    latencies: number[];
    error?: string;
  }
  | { op: "closed" }
  | { op: "error"; error: string };

// ---------------------------------------------------------------------------
// Bytes

function ascii(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Writes `n` in decimal at `pos`; returns the position after it. */
function putNum(buf: Uint8Array, pos: number, n: number): number {
  if (n === 0) {
    buf[pos] = 0x30;
    return pos + 1;
  }
  let digits = 0;
  for (let m = n; m > 0; m = Math.floor(m / 10)) digits++;
  let p = pos + digits;
  for (let m = n; m > 0; m = Math.floor(m / 10)) buf[--p] = 0x30 + (m % 10);
  return pos + digits;
}

/** Writes `n` as exactly `width` decimal digits. */
function putPadded(buf: Uint8Array, pos: number, n: number, width: number): number {
  for (let i = width - 1; i >= 0; i--) {
    buf[pos + i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return pos + width;
}

function putBytes(buf: Uint8Array, pos: number, b: Uint8Array): number {
  buf.set(b, pos);
  return pos + b.length;
}

/** Decimal digits at [from, to); -1 when one is not a digit. */
function readNum(buf: Uint8Array, from: number, to: number): number {
  let n = 0;
  if (from >= to) return -1;
  for (let i = from; i < to; i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function startsWith(buf: Uint8Array, at: number, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

/** The bulk content: the same pseudo-random bytes in every worker. */
function bulkContent(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The scanner

const BYTE_RANGE = ascii("Byte-Range: ");
const MESSAGE_ID = ascii("Message-ID: M");
const SEND = ascii("SEND");

/** One frame found by the scanner; offsets are into `Scanner.buf`, valid until its next read. */
class Frame {
  response = false;
  status = 0;
  send = false;
  method = "";
  tidStart = 0;
  tidEnd = 0;
  /** Byte-Range start, or -1. */
  rangeStart = -1;
  /** Byte-Range end, or -1 (absent or `*`). */
  rangeEnd = -1;
  /** Byte-Range total, or -1 (absent or `*`). */
  total = -1;
  /** The run number and message index of Message-ID `M<run><9 digits>`, or -1. */
  run = -1;
  message = -1;
  bodyStart = 0;
  bodyEnd = 0;
  flag = 0;
  /** Header lines as text, when the scanner captures them (setup only). */
  headers: string[] = [];
}

/** Reads a socket into one buffer and finds whole frames in it. */
class Scanner {
  buf = new Uint8Array(1 << 18);
  start = 0;
  end = 0;
  /** Where the search for the current frame's end-line resumes, from `start`. */
  scanned = 0;
  capture = false;
  readonly frame = new Frame();

  constructor(readonly conn: Deno.Conn) {}

  /** Reads more bytes; false at the end of the stream. */
  async read(): Promise<boolean> {
    if (this.end === this.buf.length) {
      if (this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      } else {
        const bigger = new Uint8Array(this.buf.length * 2);
        bigger.set(this.buf.subarray(0, this.end));
        this.buf = bigger;
      }
    }
    const n = await this.conn.read(this.buf.subarray(this.end));
    if (n === null) return false;
    this.end += n;
    return true;
  }

  /** After the frames of a read were taken: keep the unfinished one at the front. */
  compact(): void {
    if (this.start === this.end) {
      this.start = this.end = 0;
    } else if (this.start > this.buf.length / 2) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
  }

  #crlf(from: number): number {
    const buf = this.buf;
    for (;;) {
      const i = buf.indexOf(CR, from);
      if (i < 0 || i + 1 >= this.end) return -1;
      if (buf[i + 1] === LF) return i;
      from = i + 1;
    }
  }

  /** The next whole frame into `frame`, or false when it has not all arrived. */
  next(): boolean {
    const buf = this.buf;
    const f = this.frame;
    const s = this.start;
    const lineEnd = this.#crlf(s);
    if (lineEnd < 0) return false;
    if (buf[s] !== 0x4d || buf[s + 4] !== 0x20) throw new Error("not an MSRP start line");
    const tidStart = s + 5;
    const sp = buf.indexOf(0x20, tidStart);
    if (sp < 0 || sp >= lineEnd) throw new Error("no transaction id");
    f.tidStart = tidStart;
    f.tidEnd = sp;
    const status = readNum(buf, sp + 1, Math.min(sp + 4, lineEnd));
    f.response = status >= 0 && (sp + 4 === lineEnd || buf[sp + 4] === 0x20);
    f.status = f.response ? status : 0;
    f.send = !f.response && lineEnd - sp - 1 === 4 && startsWith(buf, sp + 1, SEND);
    f.method = f.response || f.send ? "" : decoder.decode(buf.subarray(sp + 1, lineEnd));
    f.rangeStart = -1;
    f.rangeEnd = -1;
    f.total = -1;
    f.run = -1;
    f.message = -1;
    if (this.capture) f.headers = [];
    const tidLen = sp - tidStart;
    let q = lineEnd + 2;
    for (;;) {
      const le = this.#crlf(q);
      if (le < 0) return false;
      if (le === q) {
        f.bodyStart = q + 2;
        break;
      }
      if (buf[q] === DASH && buf[q + 1] === DASH && le - q === 8 + tidLen) {
        // An end-line straight after the header fields: no body.
        f.bodyStart = f.bodyEnd = q;
        f.flag = buf[le - 1];
        this.start = le + 2;
        this.scanned = 0;
        return true;
      }
      if (startsWith(buf, q, BYTE_RANGE)) {
        const from = q + BYTE_RANGE.length;
        const dash = buf.indexOf(DASH, from);
        const slash = buf.indexOf(0x2f, from);
        f.rangeStart = readNum(buf, from, dash);
        f.rangeEnd = readNum(buf, dash + 1, slash);
        f.total = readNum(buf, slash + 1, le);
      } else if (startsWith(buf, q, MESSAGE_ID) && le - q === MESSAGE_ID.length + 10) {
        const from = q + MESSAGE_ID.length;
        f.run = buf[from] - 0x30;
        f.message = readNum(buf, from + 1, le);
      }
      if (this.capture) f.headers.push(decoder.decode(buf.subarray(q, le)));
      q = le + 2;
    }
    // The body ends at CRLF "-------" tid flag CRLF (RFC 4975 §7.1). With
    // a Byte-Range end, look there first.
    if (f.rangeStart > 0 && f.rangeEnd >= f.rangeStart - 1) {
      const i = f.bodyStart + f.rangeEnd - f.rangeStart + 1;
      const tail = i + 2 + 7 + tidLen + 1 + 2;
      if (tail > this.end) return false;
      if (this.#endLineAt(i, tidStart, tidLen)) {
        f.bodyEnd = i;
        f.flag = buf[tail - 3];
        this.start = tail;
        this.scanned = 0;
        return true;
      }
    }
    let p = Math.max(f.bodyStart, s + this.scanned);
    for (;;) {
      const i = buf.indexOf(CR, p);
      if (i < 0 || i >= this.end) {
        this.scanned = this.end - s;
        return false;
      }
      const tail = i + 2 + 7 + tidLen + 1 + 2;
      if (tail > this.end) {
        this.scanned = i - s;
        return false;
      }
      if (this.#endLineAt(i, tidStart, tidLen)) {
        f.bodyEnd = i;
        f.flag = buf[tail - 3];
        this.start = tail;
        this.scanned = 0;
        return true;
      }
      p = i + 1;
    }
  }

  /** Whether CRLF "-------" tid flag CRLF stands at `i` (all of it has arrived). */
  #endLineAt(i: number, tidStart: number, tidLen: number): boolean {
    const buf = this.buf;
    const tail = i + 2 + 7 + tidLen + 1 + 2;
    if (
      buf[i] !== CR || buf[i + 1] !== LF || buf[i + 2] !== DASH || buf[i + 8] !== DASH ||
      buf[i + 3] !== DASH || buf[i + 4] !== DASH || buf[i + 5] !== DASH ||
      buf[i + 6] !== DASH || buf[i + 7] !== DASH || buf[tail - 2] !== CR ||
      buf[tail - 1] !== LF
    ) return false;
    for (let k = 0; k < tidLen; k++) if (buf[i + 9 + k] !== buf[tidStart + k]) return false;
    return true;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

// ---------------------------------------------------------------------------
// Setup: connect and AUTH (RFC 4976 §5.1)

interface Client {
  conn: Deno.Conn;
  scanner: Scanner;
  /** The client's own URI. */
  uri: string;
  /** The Use-Path the relay gave. */
  usePath: string;
}

function randomId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 16);
}

async function nextFrame(sc: Scanner): Promise<Frame> {
  while (!sc.next()) {
    sc.compact();
    if (!(await sc.read())) throw new Error("the relay closed the connection during AUTH");
  }
  return sc.frame;
}

async function authenticate(
  hostname: string,
  port: number,
  relayUri: string,
  [username, password]: [string, string],
): Promise<Client> {
  const conn = await Deno.connect({ hostname, port });
  conn.setNoDelay(true);
  const sc = new Scanner(conn);
  sc.capture = true;
  const uri = `msrp://127.0.0.1:${(conn.localAddr as Deno.NetAddr).port}/${randomId()};tcp`;
  const digest = new DigestClient({ username, password });
  const auth = async (extra: string) => {
    const tid = randomId();
    await writeAll(
      conn,
      ascii(
        `MSRP ${tid} AUTH\r\nTo-Path: ${relayUri}\r\nFrom-Path: ${uri}\r\n${extra}` +
          `-------${tid}$\r\n`,
      ),
    );
    for (;;) {
      const f = await nextFrame(sc);
      const ftid = decoder.decode(sc.buf.subarray(f.tidStart, f.tidEnd));
      if (f.response && ftid === tid) return f;
    }
  };
  let f = await auth("");
  if (f.status === 401) {
    const challenges = f.headers
      .filter((h) => h.toLowerCase().startsWith("www-authenticate:"))
      .map((h) => parseWwwAuthenticate(h.slice(h.indexOf(":") + 1).trim()));
    const value = digest.authorization(challenges, relayUri);
    f = await auth(`Authorization: ${value}\r\n`);
  }
  if (f.status !== 200) throw new Error(`AUTH got ${f.status}`);
  const usePath = f.headers.find((h) => h.toLowerCase().startsWith("use-path:"));
  if (usePath === undefined) throw new Error("no Use-Path in the 200 to AUTH");
  sc.capture = false;
  sc.compact();
  return { conn, scanner: sc, uri, usePath: usePath.slice(usePath.indexOf(":") + 1).trim() };
}

// ---------------------------------------------------------------------------
// One pair's load

interface PairResult {
  latencies: number[];
}

class Pair {
  readonly a: Client;
  readonly b: Client;
  readonly kind: "messages" | "bulk";
  readonly size: number;
  readonly chunk: number;
  readonly window: number;
  readonly content: Uint8Array;
  /** Constant parts of A's SEND: after the tid up to Message-ID's digits. */
  readonly #head: Uint8Array;
  readonly #contentType: Uint8Array;
  /** B's 200: "MSRP ", tid, this, tid, "$\r\n". */
  readonly #okMid: Uint8Array;
  #out: Uint8Array;
  #bOut: Uint8Array;
  #seq = 0;
  // the run
  #count = 0;
  #run = 0;
  #sentAt = new Float64Array(0);
  #received = new Int32Array(0);
  #latencies: number[] = [];
  #chunksTotal = 0;
  #sent = 0;
  #acked = 0;
  #sentBytes = 0;
  #receivedBytes = 0;
  #done = 0;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  #finish: (() => void) | undefined;

  constructor(
    a: Client,
    b: Client,
    kind: "messages" | "bulk",
    size: number,
    chunk: number,
    window: number,
    content: Uint8Array,
  ) {
    this.a = a;
    this.b = b;
    this.kind = kind;
    this.size = size;
    this.chunk = chunk;
    this.window = window;
    this.content = content;
    // RFC 4976 §6.4: through A's relay URI, then B's, to B.
    this.#head = ascii(
      ` SEND\r\nTo-Path: ${a.usePath} ${b.usePath} ${b.uri}\r\nFrom-Path: ${a.uri}\r\n` +
        `Message-ID: M`,
    );
    this.#contentType = ascii(
      `Content-Type: ${kind === "messages" ? "text/plain" : "application/octet-stream"}\r\n\r\n`,
    );
    // §7.2: a response goes to the previous hop, the first From-Path URI.
    this.#okMid = ascii(` 200 OK\r\nTo-Path: ${b.usePath}\r\nFrom-Path: ${b.uri}\r\n-------`);
    this.#out = new Uint8Array(window * (chunk + this.#head.length + 256));
    this.#bOut = new Uint8Array(1 << 16);
  }

  /** Runs `count` messages; resolves with B's latencies (message shapes). */
  async run(count: number, runNo: number): Promise<PairResult> {
    this.#count = count;
    this.#run = runNo;
    this.#sentAt = new Float64Array(count);
    this.#received = new Int32Array(count);
    this.#latencies = [];
    const perMessage = Math.ceil(this.size / this.chunk);
    this.#chunksTotal = count * perMessage;
    this.#sent =
      this.#acked =
      this.#sentBytes =
      this.#receivedBytes =
      this.#done =
        0;
    const finished = new Promise<void>((resolve) => this.#finish = resolve);
    await Promise.race([this.#send(), this.#failed()]);
    await Promise.race([finished, this.#failed()]);
    return { latencies: this.#latencies };
  }

  #failedPromise: Promise<never> | undefined;
  #fail: ((e: Error) => void) | undefined;
  #failed(): Promise<never> {
    return this.#failedPromise ??= new Promise<never>((_, reject) => {
      this.#fail = reject;
      if (this.#error !== undefined) reject(this.#error);
    });
  }

  error(e: Error): void {
    if (this.#error !== undefined) return;
    this.#error = e;
    this.#fail?.(e);
    this.#wake?.();
  }

  #progress(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
    if (
      this.#done === this.#count && this.#acked === this.#chunksTotal &&
      this.#sent === this.#chunksTotal
    ) {
      const f = this.#finish;
      this.#finish = undefined;
      f?.();
    }
  }

  #room(): boolean {
    return this.#sent - this.#acked < this.window &&
      this.#sentBytes - this.#receivedBytes < this.window * this.chunk;
  }

  async #send(): Promise<void> {
    const perMessage = Math.ceil(this.size / this.chunk);
    while (this.#sent < this.#chunksTotal) {
      while (!this.#room()) {
        if (this.#error !== undefined) throw this.#error;
        await new Promise<void>((r) => this.#wake = r);
      }
      if (this.#error !== undefined) throw this.#error;
      const out = this.#out;
      let pos = 0;
      const now = performance.now();
      while (this.#sent < this.#chunksTotal && this.#room()) {
        const message = Math.floor(this.#sent / perMessage);
        const k = this.#sent % perMessage;
        const start = k * this.chunk;
        const end = Math.min(this.size, start + this.chunk);
        if (k === 0) this.#sentAt[message] = now;
        pos = this.#frame(out, pos, message, start, end, k === perMessage - 1);
        this.#sent++;
        this.#sentBytes += end - start;
      }
      await writeAll(this.a.conn, out.subarray(0, pos));
    }
  }

  /** Encodes one SEND chunk (RFC 4975 §7.1) at `pos`. */
  #frame(
    out: Uint8Array,
    pos: number,
    message: number,
    start: number,
    end: number,
    last: boolean,
  ): number {
    const tid = this.#seq++;
    pos = putBytes(out, pos, MSRP_T);
    const tidAt = pos;
    pos = putPadded(out, pos, tid, 10);
    pos = putBytes(out, pos, this.#head);
    out[pos++] = 0x30 + this.#run;
    pos = putPadded(out, pos, message, 9);
    pos = putBytes(out, pos, BR);
    pos = putNum(out, pos, start + 1);
    out[pos++] = DASH;
    pos = putNum(out, pos, end);
    out[pos++] = 0x2f;
    pos = putNum(out, pos, this.size);
    out[pos++] = CR;
    out[pos++] = LF;
    pos = putBytes(out, pos, this.#contentType);
    pos = putBytes(out, pos, this.content.subarray(start, end));
    pos = putBytes(out, pos, END_T);
    out.copyWithin(pos, tidAt, tidAt + 10);
    pos += 10;
    out[pos++] = last ? 0x24 : 0x2b;
    out[pos++] = CR;
    out[pos++] = LF;
    return pos;
  }

  /** A's side: the relay's responses to A's SENDs. */
  async readA(): Promise<void> {
    const sc = this.a.scanner;
    while (await sc.read()) {
      while (sc.next()) {
        const f = sc.frame;
        if (f.response) {
          if (f.status !== 200) throw new Error(`a SEND got ${f.status}`);
          this.#acked++;
        } else if (!f.send && f.method === "REPORT") {
          throw new Error("A got a REPORT (a failure report from the relay)");
        }
      }
      sc.compact();
      this.#progress();
    }
  }

  /** B's side: check every body byte, answer every SEND with 200. */
  async readB(): Promise<void> {
    const sc = this.b.scanner;
    const content = this.content;
    while (await sc.read()) {
      let o = 0;
      while (sc.next()) {
        const f = sc.frame;
        if (!f.send) continue;
        const buf = sc.buf;
        const len = f.bodyEnd - f.bodyStart;
        if (len > 0) {
          if (f.run !== this.#run || f.message < 0 || f.message >= this.#count) {
            throw new Error("B got a SEND without a known Message-ID");
          }
          if (f.total !== this.size || f.rangeStart < 1) {
            throw new Error("B got a SEND with an unexpected Byte-Range");
          }
          const at = f.rangeStart - 1;
          if (at + len > this.size) throw new Error("B got bytes past the end");
          for (let i = 0; i < len; i++) {
            if (buf[f.bodyStart + i] !== content[at + i]) {
              throw new Error(`B got a byte altered (message ${f.message}, offset ${at + i})`);
            }
          }
          this.#receivedBytes += len;
          const got = this.#received[f.message] += len;
          if (got === this.size) {
            this.#done++;
            if (this.kind === "messages") {
              this.#latencies.push(performance.now() - this.#sentAt[f.message]);
            }
          } else if (got > this.size) throw new Error("B got bytes twice");
        }
        // §7.2: 200 to the previous hop.
        const tidLen = f.tidEnd - f.tidStart;
        const need = 5 + 2 * tidLen + this.#okMid.length + 3;
        if (o + need > this.#bOut.length) {
          const bigger = new Uint8Array(this.#bOut.length * 2 + need);
          bigger.set(this.#bOut.subarray(0, o));
          this.#bOut = bigger;
        }
        const out = this.#bOut;
        o = putBytes(out, o, MSRP_);
        out.set(buf.subarray(f.tidStart, f.tidEnd), o);
        o += tidLen;
        o = putBytes(out, o, this.#okMid);
        out.set(buf.subarray(f.tidStart, f.tidEnd), o);
        o += tidLen;
        out[o++] = 0x24;
        out[o++] = CR;
        out[o++] = LF;
      }
      sc.compact();
      this.#progress();
      if (o > 0) await writeAll(this.b.conn, this.#bOut.subarray(0, o));
    }
  }

  /** Where the run stands, for an error message. */
  state(): string {
    return `sent ${this.#sent}/${this.#chunksTotal} chunks, ${this.#acked} answered, ` +
      `${this.#sentBytes} bytes sent, ${this.#receivedBytes} at B, ${this.#done} messages done`;
  }

  close(): void {
    for (const c of [this.a.conn, this.b.conn]) {
      try {
        c.close();
      } catch {
        // closed
      }
    }
  }
}

const MSRP_ = ascii("MSRP ");
const MSRP_T = ascii("MSRP T");
const BR = ascii("\r\nByte-Range: ");
const END_T = ascii("\r\n-------T");

// ---------------------------------------------------------------------------
// The worker's loop

let pairs: Pair[] = [];
let readers: Promise<void>[] = [];

function post(m: WorkerReply): void {
  self.postMessage(m);
}

async function setup(m: Extract<WorkerRequest, { op: "setup" }>): Promise<void> {
  const content = m.kind === "messages"
    ? new Uint8Array(m.messageSize).fill(0x78)
    : bulkContent(m.messageSize);
  pairs = await Promise.all(Array.from({ length: m.pairs }, async () => {
    const a = await authenticate(m.hostname, m.port, m.relayUri, m.users.a);
    const b = await authenticate(m.hostname, m.port, m.relayUri, m.users.b);
    return new Pair(a, b, m.kind, m.messageSize, m.chunkSize, m.window, content);
  }));
  readers = pairs.flatMap((p) => [
    p.readA().catch((e) => p.error(e)),
    p.readB().catch((e) => p.error(e)),
  ]).map((r) => r.then(() => {}));
}

async function run(m: Extract<WorkerRequest, { op: "run" }>): Promise<WorkerReply> {
  const t0 = performance.timeOrigin + performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${m.limitMs} ms`)), m.limitMs);
  });
  try {
    const results = await Promise.race([
      limit,
      Promise.all(pairs.map((p) => p.run(m.messagesPerPair, m.runNo))),
    ]);
    const t1 = performance.timeOrigin + performance.now();
    return {
      op: "done",
      t0,
      t1,
      messages: m.messagesPerPair * pairs.length,
      latencies: results.flatMap((r) => r.latencies),
    };
  } catch (e) {
    const states = pairs.map((p) => p.state());
    for (const p of pairs) p.close();
    return {
      op: "done",
      t0,
      t1: t0,
      messages: 0,
      latencies: [],
      error: `${(e as Error).message} (first pair: ${states[0]})`,
    };
  } finally {
    clearTimeout(timer);
  }
}

self.onmessage = async (e: MessageEvent<WorkerRequest>) => {
  const m = e.data;
  try {
    if (m.op === "setup") {
      await setup(m);
      post({ op: "ready" });
    } else if (m.op === "run") {
      post(await run(m));
    } else if (m.op === "close") {
      for (const p of pairs) p.close();
      await Promise.allSettled(readers);
      post({ op: "closed" });
      self.close();
    }
  } catch (error) {
    for (const p of pairs) p.close();
    post({ op: "error", error: (error as Error).message });
  }
};
