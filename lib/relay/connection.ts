/**
 * One connection of a relay (RFC 4975 §5.4; RFC 4976 §6).
 *
 * {@linkcode Conn} holds what the relay knows about a connection, each part
 * with one owner: its transport and its open/closing/closed state (here),
 * who the peer is and its probation (`peer.ts`), what is queued to be
 * written on it (`outbound.ts`), the chunk being received on it
 * (`forwarder.ts`), and the forwarded transactions waiting for an answer
 * over it (`transactions.ts`). The rules of its life (probation, failures,
 * idle, closing once written) are in `lifecycle.ts`.
 *
 * @module
 */

import type { FrameWriter } from "../wire/encoder.ts";
import { PathCache } from "../wire/path_cache.ts";
import type { FrameTrace } from "../wire/frame_trace.ts";
import type { MsrpTransport } from "../transport/types.ts";
import type { Incoming } from "./forwarder.ts";
import { type ControlJob, type OpenWire, type OutStream, WriteBatch } from "./outbound.ts";
import { Peer } from "./peer.ts";
import type { Pending } from "./transactions.ts";

/** The state of one connection, accepted or opened by the relay. */
export class Conn {
  readonly id: number;
  readonly outbound: boolean;
  /** `connectionKey` of the URI an outbound connection was opened for. */
  readonly key: string | undefined;
  transport: MsrpTransport | undefined;
  state: "connecting" | "open" | "closed";
  /** Who the peer is and how far it is trusted: the identity and probation owner. */
  readonly peer: Peer;
  /** Will close once the frames queued now are written. */
  closing = false;
  closingReason = "";
  closeTimer: unknown;
  // output
  control: ControlJob[] = [];
  streams: OutStream[] = [];
  active: OutStream | undefined;
  activeBytes = 0;
  buffered = 0;
  wake: (() => void) | undefined;
  roomWaiters: (() => void)[] = [];
  /** What the writer task has encoded for its next write. */
  batch = new WriteBatch();
  /** When the write in progress started; undefined between writes. */
  writingSince: number | undefined;
  writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  frameWriter: FrameWriter | undefined;
  currentWire: OpenWire | undefined;
  /** The trace of what is written, when the relay traces the wire. */
  traceOut: FrameTrace | undefined;
  /** The trace of what is read. */
  traceIn: FrameTrace | undefined;
  // input
  /** The last To-Path and From-Path texts parsed on this connection. */
  readonly toPaths = new PathCache();
  readonly fromPaths = new PathCache();
  incoming: Incoming | undefined;
  pending = new Map<string, Pending>();

  constructor(id: number, outbound: boolean, key: string | undefined, now: number) {
    this.id = id;
    this.outbound = outbound;
    this.key = key;
    this.state = outbound ? "connecting" : "open";
    this.peer = new Peer(now);
  }

  get secure(): boolean {
    return this.transport?.secure ?? false;
  }

  /** Read through a getter so that checks after an `await` are not narrowed away. */
  get closed(): boolean {
    return this.state === "closed";
  }
}

/**
 * Closes a transport, ignoring one that is already closed.
 *
 * @param t the transport
 */
export function closeTransport(t: MsrpTransport): void {
  try {
    t.close();
  } catch {
    // already closed
  }
}
