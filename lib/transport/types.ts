/**
 * What a transport hands to the protocol stages (RFC 4975 §5.4, §6.2).
 *
 * The protocol never touches a socket: a transport connects or accepts, then
 * gives the stages a byte stream in each direction. TCP, TLS and WebSocket
 * connections and in-memory pipes in tests all take this one shape.
 *
 * @module
 */

/** An endpoint address on the network. */
export interface NetAddress {
  /** IP address or host name. */
  readonly hostname: string;
  /** TCP port. */
  readonly port: number;
}

/** A certificate fingerprint, `a=fingerprint:<hash-func> <hex:pairs>` (RFC 8122 §5). */
export interface Fingerprint {
  /** The hash function name as written, e.g. `"sha-256"` or `"SHA-1"`. */
  hash: string;
  /** Colon-separated hex pairs, as written, e.g. `"4A:AD:B9"`. */
  value: string;
}

/** One established connection, as the protocol stages see it. */
export interface MsrpTransport {
  /** Bytes from the peer. Ends when the peer closes. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. Closing it closes the connection for writing. */
  readonly writable: WritableStream<Uint8Array>;
  /** `"tcp"`, `"tls"`, `"ws"`, `"wss"` or `"memory"`. */
  readonly kind: string;
  /** Whether the bytes are protected by TLS (msrps, RFC 4975 §14.2). */
  readonly secure: boolean;
  /** The peer's address, when the transport has one. */
  readonly remoteAddr?: NetAddress;
  /** Our address, when the transport has one. */
  readonly localAddr?: NetAddress;
  /**
   * When true, every chunk written to `writable` must be one whole MSRP
   * frame (RFC 7977 §5.1: one chunk per WebSocket message).
   */
  readonly frameAligned?: boolean;
  /**
   * When true, small chunks written to `writable` one after the other go to
   * the network together (one system call), so a writer may hand over a
   * frame as several chunks (head, body, end-line) rather than copy them
   * into one buffer first.
   */
  readonly gathersWrites?: boolean;
  /**
   * The certificate the peer presented in the TLS handshake (DER), when the
   * transport can read it; checked against the SDP `a=fingerprint` in
   * peer-to-peer TLS (RFC 4975 §14.4).
   */
  readonly peerCertificate?: Uint8Array;
  /**
   * A fast path some transports offer (TCP and TLS over a `Deno.Conn`):
   * the next bytes from the peer, or null at the end, without the machinery
   * of `readable` (a stream read costs several promises). A consumer reads
   * either this way or through `readable`, never both.
   */
  readChunk?(): Promise<Uint8Array | null>;
  /**
   * A fast path for writing, with the meaning of a `writable` writer's
   * `write`: the bytes are taken (the caller must not change them), and a
   * promise comes back only when the caller should wait for the socket
   * before writing more. A consumer writes either this way or through
   * `writable`, never both.
   */
  writeChunk?(bytes: Uint8Array): Promise<void> | undefined;
  /** Closes both directions at once and releases the connection. */
  close(): void;
}
