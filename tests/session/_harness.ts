// Test harness for sessions: a connected pair of sessions over an in-memory
// pipe, and a raw peer that writes hand-made frames and reads decoded ones.

import {
  type Clock,
  type Frame,
  MsrpConnection,
  type MsrpRequest,
  type MsrpResponse,
  MsrpSession,
  type SessionOptions,
} from "../../mod.ts";
import {
  type DecodedFrame,
  FrameDecoderStream,
  FrameWriter,
  HeaderList,
} from "../../lib/wire/mod.ts";
import { SessionDirectory } from "../../lib/session/mod.ts";
import { memoryPipe } from "../../lib/transport/memory.ts";
import type { MsrpTransport } from "../../lib/transport/types.ts";

export const ALICE = "msrp://alice.example.com:7777/aliceSess01;tcp";
export const BOB = "msrp://bob.example.com:8888/bobSess0002;tcp";

export interface Pair {
  alice: MsrpSession;
  bob: MsrpSession;
  aliceConn: MsrpConnection;
  bobConn: MsrpConnection;
  close(): Promise<void>;
}

/** Alice connects (active), Bob listens (passive); both are bound when this resolves. */
export async function sessionPair(
  options: {
    alice?: Partial<SessionOptions>;
    bob?: Partial<SessionOptions>;
    clock?: Clock;
    pipe?: Parameters<typeof memoryPipe>[0];
  } = {},
): Promise<Pair> {
  const [a, b] = memoryPipe(options.pipe);
  const directory = new SessionDirectory();
  const alice = new MsrpSession({ localUri: ALICE, remotePath: [BOB], ...options.alice });
  const bob = new MsrpSession({ localUri: BOB, remotePath: [ALICE], ...options.bob });
  directory.add(bob);
  const aliceConn = new MsrpConnection(a, { clock: options.clock });
  const bobConn = new MsrpConnection(b, { directory, clock: options.clock });
  aliceConn.attach(alice);
  alice.sendBindRequest();
  await alice.ready;
  await bob.ready;
  return {
    alice,
    bob,
    aliceConn,
    bobConn,
    async close() {
      alice.close();
      bob.close();
      aliceConn.close();
      bobConn.close();
      await aliceConn.closed;
      await bobConn.closed;
    },
  };
}

/** A peer that speaks frames by hand. */
export class RawPeer {
  readonly transport: MsrpTransport;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #frames: AsyncIterator<DecodedFrame>;
  #encoder = new FrameWriter();
  #fence = 0;

  constructor(transport: MsrpTransport) {
    this.transport = transport;
    this.#writer = transport.writable.getWriter();
    this.#frames = transport.readable.pipeThrough(new FrameDecoderStream())[Symbol.asyncIterator]();
  }

  /** Writes frames (or pieces) as bytes. */
  async send(...frames: Frame[]): Promise<void> {
    for (const f of frames) {
      const parts: Uint8Array[] = [];
      this.#encoder.write(f, (b) => parts.push(b));
      for (const p of parts) await this.#writer.write(p);
    }
  }

  /** Ends our side of the stream (a TCP FIN): the peer reads what was sent, then the end. */
  async finish(): Promise<void> {
    await this.#writer.close();
  }

  /**
   * Sends a bodiless SEND that must be answered, then ends our side of the
   * stream; resolves with "answered" or, if the stream ends first, "ended".
   */
  async fenceAndFinish(to = BOB, from = ALICE): Promise<"answered" | "ended"> {
    const tid = `fence${this.#fence++}x`;
    await this.send(request(tid, to, from, null, [["Message-ID", "fenceMsg" + this.#fence]]));
    await this.finish();
    for (;;) {
      const r = await this.#frames.next();
      if (r.done) return "ended";
      if (r.value.kind === "response" && r.value.tid === tid) return "answered";
    }
  }

  /** Writes raw bytes. */
  async raw(bytes: Uint8Array | string): Promise<void> {
    await this.#writer.write(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
  }

  /** The next frame the other side wrote. */
  async next(): Promise<DecodedFrame> {
    const r = await this.#frames.next();
    if (r.done) throw new Error("stream ended");
    return r.value;
  }

  /** Whether the stream has ended (no more frames). */
  async ended(): Promise<boolean> {
    return (await this.#frames.next()).done === true;
  }

  /**
   * Sends a bodiless SEND that must be answered and collects every frame
   * that arrives before its 200: proof of what was (not) sent before it.
   */
  async fence(to = BOB, from = ALICE): Promise<DecodedFrame[]> {
    const tid = `fence${this.#fence++}x`;
    await this.send(request(tid, to, from, null, [["Message-ID", "fenceMsg" + this.#fence]]));
    const before: DecodedFrame[] = [];
    for (;;) {
      const f = await this.next();
      if (f.kind === "response" && f.tid === tid) return before;
      before.push(f);
    }
  }
}

/** A SEND (or another method) built by hand. */
export function request(
  tid: string,
  to: string,
  from: string,
  body: Uint8Array | string | null,
  extra: [string, string][] = [],
  end: "$" | "+" | "#" | "open" = "$",
  method = "SEND",
): MsrpRequest {
  const flag = end === "open" ? undefined : end;
  const headers = new HeaderList([["To-Path", to], ["From-Path", from], ...extra]);
  if (body !== null && !headers.has("Content-Type")) headers.append("Content-Type", "text/plain");
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  return { kind: "request", tid, method, headers, body: bytes, offset: 0, flag };
}

/** A passive Bob session behind a connection, and a raw Alice peer on the other end. */
export function rawToSession(
  bobOptions: Partial<SessionOptions> = {},
  clock?: Clock,
): { bob: MsrpSession; conn: MsrpConnection; peer: RawPeer; directory: SessionDirectory } {
  const [a, b] = memoryPipe();
  const directory = new SessionDirectory();
  const bob = new MsrpSession({ localUri: BOB, remotePath: [ALICE], ...bobOptions });
  directory.add(bob);
  const conn = new MsrpConnection(b, { directory, clock });
  return { bob, conn, peer: new RawPeer(a), directory };
}

/** A bound Alice session over a connection, and a raw Bob peer that answers by hand. */
export async function sessionToRaw(
  aliceOptions: Partial<SessionOptions> = {},
  clock?: Clock,
): Promise<{ alice: MsrpSession; conn: MsrpConnection; peer: RawPeer }> {
  const [a, b] = memoryPipe();
  const alice = new MsrpSession({ localUri: ALICE, remotePath: [BOB], ...aliceOptions });
  const conn = new MsrpConnection(a, { clock });
  const peer = new RawPeer(b);
  conn.attach(alice);
  alice.sendBindRequest();
  const bind = await peer.next();
  if (bind.kind !== "request") throw new Error("expected the binding SEND");
  await peer.send(response(bind, 200));
  await alice.ready;
  return { alice, conn, peer };
}

/** A response to `req` by hand. */
export function response(req: DecodedFrame, status: number, comment = ""): MsrpResponse {
  if (req.kind !== "request") throw new Error("not a request");
  const from = req.headers.get("From-Path")!.split(" ")[0];
  const to = req.headers.get("To-Path")!;
  return {
    kind: "response",
    tid: req.tid,
    status,
    comment,
    headers: new HeaderList([["To-Path", from], ["From-Path", to]]),
    flag: "$",
  };
}

export { randomBytes } from "../_util.ts";
