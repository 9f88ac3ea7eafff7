// Test helpers for the relay tests: a fake clock, in-memory and loopback TCP
// transports, a hand-written MSRP peer, and the AUTH exchange.

import assert from "node:assert/strict";
import type { MsrpTransport } from "../../lib/transport/types.ts";
import { FrameParser } from "../../lib/wire/decoder.ts";
import { FrameWriter } from "../../lib/wire/encoder.ts";
import type {
  ContinuationFlag,
  DecodedFrame,
  Frame,
  MsrpRequest,
  MsrpResponse,
} from "../../lib/wire/frame.ts";
import { HeaderList } from "../../lib/wire/header_list.ts";
import { parseAuthenticationInfo, parseWwwAuthenticate } from "../../lib/wire/auth_headers.ts";
import { DigestClient } from "../../lib/relay/digest.ts";
import { resolveRelayConfig } from "../../lib/relay/config.ts";
import {
  MsrpRelay,
  type MsrpRelayOptions,
  type RelayClock,
  type RelayLogEvent,
} from "../../lib/relay/relay.ts";
import type { MsrpUri } from "../../lib/wire/uri.ts";

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A clock whose time only moves when the test says so. */
export class FakeClock implements RelayClock {
  #now: number;
  #id = 1;
  #timers = new Map<number, { at: number; fn: () => void; ms: number }>();

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#id++;
    this.#timers.set(id, { at: this.#now + ms, fn, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Timers that will fire within `ms` from now. */
  due(ms: number): number {
    let n = 0;
    for (const t of this.#timers.values()) if (t.at <= this.#now + ms) n++;
    return n;
  }

  /** Timers armed now whose delay was exactly `ms`. */
  armed(ms: number): number {
    let n = 0;
    for (const t of this.#timers.values()) if (t.ms === ms) n++;
    return n;
  }

  /** Moves time forward, running each timer that comes due, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void; ms: number }] | undefined;
      for (const e of this.#timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
    }
    this.#now = end;
  }
}

/** Lets pending promise callbacks and stream work run (no timer involved). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** Two transports joined back to back through TransformStreams. */
export function memoryPair(
  options: { secure?: boolean; frameAligned?: boolean } = {},
): [MsrpTransport, MsrpTransport] {
  let abc!: TransformStreamDefaultController<Uint8Array>;
  let bac!: TransformStreamDefaultController<Uint8Array>;
  const ab = new TransformStream<Uint8Array, Uint8Array>({ start: (c) => void (abc = c) });
  const ba = new TransformStream<Uint8Array, Uint8Array>({ start: (c) => void (bac = c) });
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const c of [abc, bac]) {
      try {
        c.terminate();
      } catch {
        // already done
      }
    }
  };
  const secure = options.secure ?? true;
  const base = { kind: "memory", secure, frameAligned: options.frameAligned, close };
  return [
    { ...base, readable: ba.readable, writable: ab.writable },
    { ...base, readable: ab.readable, writable: ba.writable },
  ];
}

/** An MsrpTransport over a Deno TCP connection. */
export function tcpTransport(conn: Deno.Conn, secure = false): MsrpTransport {
  const remote = conn.remoteAddr as Deno.NetAddr;
  let closed = false;
  return {
    readable: conn.readable,
    writable: conn.writable,
    kind: "tcp",
    secure,
    remoteAddr: { hostname: remote.hostname, port: remote.port },
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}

/** A hand-written MSRP node: writes frames, and queues the frames it reads. */
export class Peer {
  readonly transport: MsrpTransport;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #fw = new FrameWriter();
  readonly #queue: DecodedFrame[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;
  /** Resolves when the peer's reading side has ended (the other side closed). */
  readonly ended: Promise<void>;
  /** Called for each frame instead of queueing it, when set. */
  onFrame: ((f: DecodedFrame) => void) | undefined;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  /** Bytes read so far. */
  bytesRead = 0;
  /** Chunks read so far (each one write of the other side, on memory transports). */
  reads = 0;

  constructor(transport: MsrpTransport, segmentSize = 1 << 30) {
    this.transport = transport;
    this.#writer = transport.writable.getWriter();
    this.ended = this.#read(segmentSize);
  }

  async #read(segmentSize: number): Promise<void> {
    const parser = new FrameParser({ segmentSize });
    const emit = (f: DecodedFrame): void => {
      if (this.onFrame) this.onFrame(f);
      else this.#queue.push(f);
      this.#wake();
    };
    const reader = this.transport.readable.getReader();
    try {
      for (;;) {
        if (this.#gate !== undefined) await this.#gate;
        const { value, done } = await reader.read();
        if (done) break;
        this.bytesRead += value.length;
        this.reads++;
        parser.push(value, emit);
      }
      parser.finish(emit);
    } catch {
      // closed under us
    } finally {
      this.#ended = true;
      this.#wake();
    }
  }

  /** Stops reading (the other side then feels back-pressure). */
  pause(): void {
    if (this.#gate === undefined) this.#gate = new Promise((r) => (this.#open = r));
  }

  /** Reads again. */
  resume(): void {
    const open = this.#open;
    this.#gate = undefined;
    this.#open = undefined;
    open?.();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /** Writes one frame (or one piece of a request). */
  async send(frame: Frame): Promise<void> {
    const parts: Uint8Array[] = [];
    this.#fw.write(frame, (b) => parts.push(b));
    for (const p of parts) await this.#writer.write(p);
  }

  /** Writes raw bytes. */
  async raw(bytes: Uint8Array | string): Promise<void> {
    await this.#writer.write(typeof bytes === "string" ? enc(bytes) : bytes);
  }

  /** The next frame read, or undefined once the connection has ended. */
  async next(): Promise<DecodedFrame | undefined> {
    while (this.#queue.length === 0) {
      if (this.#ended) return undefined;
      await new Promise<void>((r) => (this.#waiter = r));
    }
    return this.#queue.shift();
  }

  /** Frames read so far and not taken. */
  get queued(): number {
    return this.#queue.length;
  }

  /** The next frame, which must be a response. */
  async response(): Promise<MsrpResponse> {
    const f = await this.next();
    assert.ok(f !== undefined, "connection ended while waiting for a response");
    assert.equal(f.kind, "response", `expected a response, got ${JSON.stringify(f)}`);
    return f as MsrpResponse;
  }

  /** The next frame, which must be a whole request. */
  async request(): Promise<MsrpRequest> {
    const f = await this.next();
    assert.ok(f !== undefined, "connection ended while waiting for a request");
    assert.equal(f.kind, "request", `expected a request, got ${JSON.stringify(f)}`);
    return f as MsrpRequest;
  }

  /** Resolves true once the connection has ended (every queued frame is dropped). */
  async closedByPeer(): Promise<boolean> {
    await this.ended;
    return true;
  }

  close(): void {
    this.transport.close();
  }
}

/** A request frame from header pairs. */
export function request(
  method: string,
  tid: string,
  headers: [string, string][],
  body?: string | Uint8Array | null,
  flag: ContinuationFlag = "$",
): MsrpRequest {
  return {
    kind: "request",
    tid,
    method,
    headers: new HeaderList(headers),
    body: body === undefined || body === null ? null : typeof body === "string" ? enc(body) : body,
    offset: 0,
    flag,
  };
}

/** A response frame from header pairs. */
export function response(
  tid: string,
  status: number,
  headers: [string, string][],
  comment = "",
): MsrpResponse {
  return { kind: "response", tid, status, comment, headers: new HeaderList(headers), flag: "$" };
}

/** A frame as text, for exact comparisons. */
export function text(frame: Frame): string {
  const parts: Uint8Array[] = [];
  new FrameWriter().write(frame, (b) => parts.push(b));
  return parts.map(dec).join("");
}

/** The result of {@linkcode authenticate}. */
export interface AuthResult {
  usePath: string;
  challenge: MsrpResponse;
  ok: MsrpResponse;
  client: DigestClient;
}

/**
 * The AUTH exchange of RFC 4976 §5.1: AUTH, 401, AUTH with credentials, 200.
 */
export async function authenticate(
  peer: Peer,
  opts: {
    to: string;
    from: string;
    username?: string;
    password?: string;
    expires?: number;
    client?: DigestClient;
  },
): Promise<AuthResult> {
  const base: [string, string][] = [["To-Path", opts.to], ["From-Path", opts.from]];
  if (opts.expires !== undefined) base.push(["Expires", String(opts.expires)]);
  await peer.send(request("AUTH", "auth" + crypto.randomUUID().slice(0, 8), base));
  const challenge = await peer.response();
  assert.equal(challenge.status, 401, text(challenge));
  const client = opts.client ??
    new DigestClient({ username: opts.username ?? "alice", password: opts.password ?? "secret" });
  const uris = opts.to.split(" ");
  const authorization = client.authorization(
    challenge.headers.getAll("WWW-Authenticate").map(parseWwwAuthenticate),
    uris[uris.length - 1],
  );
  await peer.send(
    request("AUTH", "auth" + crypto.randomUUID().slice(0, 8), [
      ...base,
      ["Authorization", authorization],
    ]),
  );
  const ok = await peer.response();
  assert.equal(ok.status, 200, text(ok));
  assert.ok(client.verifyRspauth(parseAuthenticationInfo(ok.headers.get("Authentication-Info")!)));
  return { usePath: ok.headers.get("Use-Path")!, challenge, ok, client };
}

/** Collects log events. */
export function collectLog(): { events: RelayLogEvent[]; logger: (e: RelayLogEvent) => void } {
  const events: RelayLogEvent[] = [];
  return { events, logger: (e) => void events.push(e) };
}

/** Default users of the tests. */
export const USERS = {
  alice: { password: "secret" },
  bob: { password: "hunter2" },
  carol: { password: "pw3" },
  mallory: { password: "evil" },
};

/** A relay over in-memory transports with a fake clock. */
export function memoryRelay(
  input: Record<string, unknown>,
  options: Partial<Omit<MsrpRelayOptions, "config">> = {},
): {
  relay: MsrpRelay;
  clock: FakeClock;
  log: RelayLogEvent[];
  connect: (secure?: boolean, opts?: { segmentSize?: number; frameAligned?: boolean }) => Peer;
} {
  const clock = (options.clock as FakeClock | undefined) ?? new FakeClock();
  const { events, logger } = collectLog();
  const config = resolveRelayConfig({
    users: USERS,
    listen: [{ port: 9000, tls: true }, { port: 9001, tls: false }],
    tls: { certFile: "c.pem", keyFile: "k.pem" },
    ...input,
  });
  const relay = new MsrpRelay({ logger, ...options, clock, config });
  const connect = (
    secure = true,
    opts: { segmentSize?: number; frameAligned?: boolean } = {},
  ): Peer => {
    const [mine, theirs] = memoryPair({ secure, frameAligned: opts.frameAligned });
    relay.accept(theirs);
    return new Peer(mine, opts.segmentSize);
  };
  return { relay, clock, log: events, connect };
}

/** A relay on a loopback TCP port. */
export function tcpRelay(
  input: Record<string, unknown>,
  options: Partial<Omit<MsrpRelayOptions, "config">> = {},
): Promise<{ relay: MsrpRelay; port: number; log: RelayLogEvent[]; close: () => Promise<void> }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const { events, logger } = collectLog();
  const config = resolveRelayConfig({
    users: USERS,
    allowInsecure: true,
    ...input,
    listen: [{ hostname: "127.0.0.1", port, tls: false }],
  });
  const relay = new MsrpRelay({ logger, clock: new FakeClock(), ...options, config });
  const serving = (async () => {
    try {
      for await (const conn of listener) relay.accept(tcpTransport(conn));
    } catch {
      // listener closed
    }
  })();
  return Promise.resolve({
    relay,
    port,
    log: events,
    close: async () => {
      listener.close();
      await serving;
      await relay.close();
    },
  });
}

/** A connect function for tests: host names to loopback ports. */
export function loopbackConnect(
  ports: Record<string, number>,
): (uri: MsrpUri) => Promise<MsrpTransport> {
  return async (uri) => {
    const port = ports[uri.host.toLowerCase()];
    if (port === undefined) throw new Error(`no test port for ${uri.host}`);
    return tcpTransport(await Deno.connect({ hostname: "127.0.0.1", port }));
  };
}

/** Connects a peer to a loopback port. */
export async function tcpPeer(port: number, segmentSize?: number): Promise<Peer> {
  return new Peer(tcpTransport(await Deno.connect({ hostname: "127.0.0.1", port })), segmentSize);
}

/** Answers a received request as its final target would (RFC 4975 §7.2). */
export async function ack(
  peer: Peer,
  req: MsrpRequest,
  status = 200,
  comment = "OK",
): Promise<void> {
  const from = req.headers.get("From-Path")!.split(" ");
  const to = req.headers.get("To-Path")!;
  await peer.send(
    response(req.tid, status, [
      ["To-Path", req.method === "SEND" ? from[0] : from.join(" ")],
      ["From-Path", to],
    ], comment),
  );
}

/** Runs pending promise work until `cond` holds (no timers involved). */
export async function until(cond: () => boolean, rounds = 10_000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return;
    await Promise.resolve();
  }
  throw new Error("condition not reached");
}
