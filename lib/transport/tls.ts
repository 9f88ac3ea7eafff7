/**
 * MSRP over TLS, the `msrps:` scheme (RFC 4975 §5.4, §6, §14.2, §14.4;
 * RFC 4976 §6.1, §9 for relays).
 *
 * "Connections using the msrps scheme MUST use TLS" (RFC 4975 §5.4). There
 * are two ways to know that the host at the other end is the right one:
 *
 * 1. **Certificates from a CA (§5.4, §14.2).** The SubjectAltName of the
 *    server's certificate MUST match the host part of the URI, and the
 *    certificate MUST chain up to a trusted certification authority. This is
 *    how clients reach relays and relays reach each other. The client sends
 *    the host name in the TLS Server Name Indication extension (§14.2).
 * 2. **Peer to peer with self-signed certificates (§14.4).** Endpoints rarely
 *    have CA certificates, so each one puts a fingerprint (a hash of its
 *    certificate in DER form, RFC 8122) in its SDP as `a=fingerprint`. Name
 *    and CA checks are relaxed; instead the certificate presented in the
 *    handshake MUST hash to the fingerprint, or the session MUST be torn down.
 *
 * ## What Deno allows, and what this module uses
 *
 * Deno's own TLS (`Deno.connectTls`, `Deno.startTls`, `Deno.listenTls`,
 * rustls underneath) verifies the chain against the Mozilla roots plus the
 * `caCerts` you give, and checks the name; `Deno.TlsConn.handshake()` only
 * reports the ALPN protocol. It cannot hand out the peer's certificate, cannot
 * skip the chain check for one connection (only the process-wide
 * `--unsafely-ignore-certificate-errors` flag), cannot ask a client for its
 * certificate on the server side, and `Deno.startTls` cannot present a client
 * certificate. So:
 *
 * - **CA mode, no client certificate:** {@link connectTls} opens TCP itself
 *   (address order of §6.2, typed errors of `tcp.ts`), then runs
 *   `Deno.startTls` with the URI host for SNI and the name check, and waits
 *   for the handshake so that a bad certificate fails the connect.
 * - **Fingerprint mode (§14.4), or a client certificate:** `node:tls`, which
 *   Deno implements and which can do both things Deno's API cannot: connect
 *   without the chain check (`rejectUnauthorized: false`) and read the peer's
 *   certificate (`getPeerCertificate(true).raw`, the DER bytes). The
 *   fingerprint is checked right after the handshake, before a single MSRP
 *   byte is sent; a mismatch closes the connection and throws
 *   `fingerprint-mismatch`. With a client certificate but no fingerprint,
 *   the chain and the name are verified as in mode 1: `node:tls` judges them
 *   (`authorized`, with our `checkServerIdentity`), and the connection is
 *   refused after the handshake, when the certificate is at hand to say what
 *   is wrong with it (`tls_errors.ts`).
 *
 *   One limit on the client side of this path: in Deno 2.9, pausing a
 *   `node:tls` socket (`pause()`, or reading it in paused mode with `read()`
 *   or async iteration) can lose received bytes and the end of the stream
 *   (found by the tests of this module). So the socket is never paused:
 *   received bytes wait in a queue, and a reader that falls more than
 *   `maxBufferedBytes` (default 16 MiB) behind gets `receive-overflow`. The
 *   Deno-native path (CA mode) has full TCP backpressure.
 * - **Servers:** {@link listenTls} accepts TCP itself and runs the server
 *   side of TLS with `node:tls` over each socket it owns (`conn_duplex.ts`),
 *   for two reasons. `Deno.listenTls` hides the socket: a client that never
 *   sends a ClientHello holds a descriptor for as long as it likes, since
 *   `close()` during the handshake does not release it; owning the socket,
 *   the listener enforces a handshake deadline and always frees the
 *   descriptor. And `node:tls` can send a CertificateRequest (RFC 4976 §6.1)
 *   and expose the client's certificate as
 *   {@link TlsTransport.peerCertificate}. Received bytes are read from the
 *   socket only while the reader keeps up (the socket, not the TLS stream,
 *   is paused), so accepted connections keep TCP backpressure. The listening
 *   side learns which session (and so which SDP fingerprint) a connection
 *   belongs to only when the first SEND arrives (§5.4), so it checks the
 *   fingerprint then, with {@link checkPeerFingerprint}.
 *   {@link TlsTransport.peerCertificateVisible} tells a peer that sent no
 *   certificate from a connection that cannot see it.
 *
 * RFC 4975 §14.2 also names TLS_RSA_WITH_AES_128_CBC_SHA as the suite every
 * element MUST support. rustls (Deno's TLS) offers neither RSA key exchange
 * nor CBC suites, so a peer has to share a modern suite (TLS 1.2 ECDHE with
 * AES-GCM or ChaCha20, or TLS 1.3), which every current TLS stack does.
 *
 * Sources: the `Deno.ConnectTlsOptions`, `Deno.StartTlsOptions`,
 * `Deno.TlsConn` and `Deno.TlsHandshakeInfo` declarations of Deno 2.9
 * (`deno types`; https://docs.deno.com/api/deno/~/Deno.connectTls), denoland/deno
 * issue #31111 (no peer certificate on `Deno.TlsConn`), and denoland/deno pull
 * request #30146 (`TLSSocket.getPeerCertificate` with `raw` in `node:tls`).
 *
 * Errors are {@link MsrpError}s: those of `tcp.ts` for the TCP part, then
 * a `TlsCertificateError` (`tls-untrusted` for the chain or the
 * validity, `tls-name-mismatch`; its `problem` and message name the cause and
 * the fix, see `tls_errors.ts`), `tls-failed` (any other handshake failure),
 * `fingerprint-mismatch`,
 * `fingerprint-unsupported` (no fingerprint uses a hash function we know),
 * `no-peer-certificate`, and on an open connection `connection-reset`,
 * `connection-failed`, `connection-closed` and `receive-overflow`.
 *
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import * as nodeTls from "node:tls";
import { duplexPair } from "node:stream";
import { MsrpError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type Clock, systemClock } from "../session/clock.ts";
import { AcceptBackoff } from "./accept_backoff.ts";
import { connDuplex, ReadGate } from "./conn_duplex.ts";
import {
  acceptConn,
  acceptUntilClosed,
  bareHost,
  connTransport,
  formatAddress,
  isIpLiteral,
  listenerClosed,
  type ListenerServices,
  type MsrpListener,
  openTcp,
  resolveHost,
  type TcpConnectOptions,
  tryAddresses,
} from "./tcp.ts";
import { fingerprintMatches } from "./fingerprint.ts";
import { NodeSocketTransport } from "./node_socket.ts";
import { type CertificateFacts, tlsError } from "./tls_errors.ts";
import type { Fingerprint, MsrpTransport, NetAddress } from "./types.ts";

export type { Fingerprint };

/** A TLS connection as an {@link MsrpTransport}. */
export interface TlsTransport extends MsrpTransport {
  /** Always `"tls"`. */
  readonly kind: "tls";
  /** Always true. */
  readonly secure: true;
  /**
   * The certificate the peer presented, DER form, when it is known: after
   * {@link connectTls} with a fingerprint or a client certificate, and on a
   * {@link listenTls} server with `requestClientCertificate` when the client
   * sent one.
   */
  readonly peerCertificate?: Uint8Array;
  /**
   * True when this connection can see the peer's certificate (the cases
   * listed for {@link TlsTransport.peerCertificate}): then an undefined
   * `peerCertificate` means the peer presented none. Deno's own TLS cannot
   * see it, and leaves this undefined.
   */
  readonly peerCertificateVisible?: boolean;
  /**
   * On a server with `requestClientCertificate`: whether the client's
   * certificate chains up to one of `caCerts` (RFC 4976 §6.1).
   */
  readonly peerAuthorized?: boolean;
}

/** Options of {@link connectTls}. */
export interface TlsConnectOptions extends TcpConnectOptions {
  /**
   * The name the certificate must carry, also sent as SNI: the host part of
   * the MSRP URI (default: `address.hostname`).
   */
  hostname?: string;
  /**
   * Trusted root certificates (PEM) in addition to the default roots. (On the
   * `node:tls` path, taken by a client certificate, they are Node's `ca`
   * option, which in Node replaces the default roots.)
   */
  caCerts?: string[];
  /**
   * The peer's `a=fingerprint` value(s) from SDP (RFC 4975 §14.4). When set,
   * the chain and name are not checked; the certificate must match.
   */
  fingerprint?: Fingerprint | readonly Fingerprint[];
  /** Our certificate chain (PEM), for mutual TLS. Needs `key`. */
  cert?: string;
  /** Our private key (PEM). Needs `cert`. */
  key?: string;
  /**
   * On the `node:tls` path (fingerprint or client certificate): most received
   * bytes kept unread before the connection fails with `receive-overflow`
   * (default 16 MiB). See the module comment.
   */
  maxBufferedBytes?: number;
}

/** Default bound of unread bytes on the `node:tls` path. */
const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;
/** On an accepted socket: unread bytes past which the socket is not read. */
const READ_PAUSE_BYTES = 256 * 1024;

// ---------------------------------------------------------------------------
// Fingerprints (RFC 4975 §14.4, RFC 8122 §5)

/** Hash functions we can compute, strongest first. */
const HASH_RANK = ["sha-512", "sha-384", "sha-256", "sha-224", "sha-1", "md5"];

/**
 * Checks a certificate against the peer's SDP fingerprints.
 *
 * RFC 8122 §5: take the fingerprints that use the strongest hash function we
 * support; the certificate must match one of them.
 *
 * @param der the certificate, DER form
 * @param fingerprints the `a=fingerprint` values
 * @param where who presented it, for the message
 * @throws {MsrpError} `fingerprint-unsupported` when no fingerprint uses a
 *   hash function we know; `fingerprint-mismatch` when none matches
 *
 * @example Check a certificate against SDP a=fingerprint
 * ```ts
 * import { checkFingerprint, computeFingerprint } from "@msrp/msrp/transport";
 *
 * const der = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]); // a certificate, DER form
 * checkFingerprint(der, computeFingerprint(der)); // throws `fingerprint-mismatch` when it differs
 * ```
 */
export function checkFingerprint(
  der: Uint8Array,
  fingerprints: Fingerprint | readonly Fingerprint[],
  where = "the peer",
): void {
  const list: readonly Fingerprint[] = Array.isArray(fingerprints)
    ? fingerprints
    : [fingerprints as Fingerprint];
  let best = HASH_RANK.length;
  for (const f of list) {
    const rank = HASH_RANK.indexOf(f.hash.toLowerCase());
    if (rank >= 0 && rank < best) best = rank;
  }
  if (best === HASH_RANK.length) {
    const hashes = list.map((f) => f.hash).join(", ") || "none";
    throw new MsrpError(
      "fingerprint-unsupported",
      `cannot check the certificate of ${where}: no supported fingerprint hash function (${hashes})`,
    );
  }
  const chosen = list.filter((f) => f.hash.toLowerCase() === HASH_RANK[best]);
  if (!chosen.some((f) => fingerprintMatches(f, der))) {
    throw new MsrpError(
      "fingerprint-mismatch",
      `the certificate of ${where} does not match the ${HASH_RANK[best]} fingerprint in the SDP`,
    );
  }
}

/**
 * Checks the certificate a connected peer presented against its SDP
 * fingerprints (RFC 4975 §14.4). The listening side calls this once the first
 * request tells which session the connection belongs to (§5.4).
 *
 * @param transport a connection from {@link connectTls} or {@link listenTls}
 * @param fingerprints the peer's `a=fingerprint` values
 * @throws {MsrpError} `no-peer-certificate` when the transport has no peer
 *   certificate (the peer sent none, or the transport cannot see it: not
 *   TLS, or Deno's own TLS; the message says which); otherwise as
 *   {@link checkFingerprint}
 *
 * @example Check the peer of a TLS connection (RFC 4975 §14.4)
 * ```ts
 * import { checkPeerFingerprint, connectTls } from "@msrp/msrp/transport";
 * import { parseFingerprint } from "@msrp/msrp/payload";
 *
 * const transport = await connectTls({ hostname: "bob.example.com", port: 2855 });
 * const sdpFingerprint = "SHA-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF";
 * checkPeerFingerprint(transport, parseFingerprint(sdpFingerprint)); // throws when it differs
 * ```
 */
export function checkPeerFingerprint(
  transport: MsrpTransport,
  fingerprints: Fingerprint | readonly Fingerprint[],
): void {
  const where = transport.remoteAddr ? formatAddress(transport.remoteAddr) : "the peer";
  const tls = transport as Partial<TlsTransport>;
  const der = tls.peerCertificate;
  if (der === undefined && tls.peerCertificateVisible !== true) {
    throw new MsrpError(
      "no-peer-certificate",
      `cannot check the certificate of ${where} against the SDP fingerprint: this connection ` +
        "cannot see it (not TLS, or Deno's own TLS, which does not expose the peer certificate)",
    );
  }
  if (der === undefined) {
    throw new MsrpError(
      "no-peer-certificate",
      `${where} presented no TLS certificate to check against the SDP fingerprint`,
    );
  }
  checkFingerprint(der, fingerprints, where);
}

// ---------------------------------------------------------------------------
// Errors

/** Socket-level error codes: the next address may work (RFC 4975 §6.2). */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EADDRNOTAVAIL",
  "ECONNRESET",
]);

// ---------------------------------------------------------------------------
// Connecting

/**
 * Opens a TLS connection for an `msrps:` URI (RFC 4975 §5.4, §14.2, §14.4).
 *
 * Without `fingerprint`, the peer's certificate must chain up to a trusted
 * root (the default roots plus `caCerts`) and carry `hostname`. With
 * `fingerprint`, it must hash to one of the SDP fingerprints instead, and may
 * be self-signed. The handshake is complete when the promise resolves.
 *
 * @param address where to connect: host name or IP literal, and port
 * @param options the name to check, trusted roots, SDP fingerprint, our own
 *   certificate, and the TCP options (signal, resolver)
 * @returns the connection (`kind` `"tls"`, `secure` true)
 * @throws {MsrpError} the codes of {@link connectTcp}, then `tls-untrusted`,
 *   `tls-name-mismatch`, `tls-failed`, `fingerprint-mismatch`,
 *   `fingerprint-unsupported`, or `bad-tls-options`
 *
 * @example Connect to an msrps: URI (RFC 4975 §14.2)
 * ```ts
 * import { connectTls } from "@msrp/msrp/transport";
 *
 * const transport = await connectTls(
 *   { hostname: "relay.example.com", port: 2855 },
 *   { caCerts: [await Deno.readTextFile("ca.pem")] },
 * );
 * console.log(transport.secure);
 * ```
 */
export async function connectTls(
  address: NetAddress,
  options: TlsConnectOptions = {},
): Promise<TlsTransport> {
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new MsrpError("bad-tls-options", "a client certificate needs both cert and key");
  }
  const name = bareHost(options.hostname ?? address.hostname);
  if (options.fingerprint !== undefined || options.cert !== undefined) {
    return await connectNode(address, name, options);
  }
  const tcp = await openTcp(address, options);
  const where = formatAddress({ hostname: tcp.remoteAddr.hostname, port: address.port });
  let conn: Deno.TlsConn;
  try {
    // RFC 4975 §14.2: SNI carries the URI host; §5.4: the name must match.
    conn = await Deno.startTls(tcp, { hostname: name, caCerts: options.caCerts });
  } catch (e) {
    tcp.close();
    throw tlsError(where, name, e);
  }
  try {
    await conn.handshake();
  } catch (e) {
    conn.close();
    throw tlsError(where, name, e);
  }
  return connTransport(conn, { kind: "tls", secure: true }) as TlsTransport;
}

/** The `node:tls` path: fingerprints (§14.4) and client certificates. */
async function connectNode(
  address: NetAddress,
  name: string,
  options: TlsConnectOptions,
): Promise<TlsTransport> {
  const { signal, fingerprint } = options;
  if (fingerprint !== undefined) {
    // Fail before connecting when the fingerprint cannot be checked at all.
    checkFingerprintUsable(fingerprint);
  }
  const addresses = await resolveHost(address.hostname, address.port, options.resolve);
  const socket = await tryAddresses(address, addresses, (ip) => {
    const where = formatAddress({ hostname: ip, port: address.port });
    return new Promise<nodeTls.TLSSocket>((resolve, reject) => {
      const connectOptions: nodeTls.ConnectionOptions & { allowHalfOpen: boolean } = {
        host: ip,
        port: address.port,
        // SNI must be a name, never an address (RFC 6066 §3).
        servername: isIpLiteral(name) ? undefined : name,
        ca: options.caCerts,
        cert: options.cert,
        key: options.key,
        allowHalfOpen: true,
        // The chain and the name are checked below, with the certificate at
        // hand to say what is wrong with it (tls_errors.ts).
        rejectUnauthorized: false,
        checkServerIdentity: (_host, cert) => nodeTls.checkServerIdentity(name, cert),
      };
      const s = nodeTls.connect(connectOptions);
      const onAbort = () => s.destroy(new DOMException("aborted", "AbortError"));
      signal?.addEventListener("abort", onAbort, { once: true });
      s.once("secureConnect", () => {
        signal?.removeEventListener("abort", onAbort);
        s.removeListener("error", onError);
        if (fingerprint === undefined && !s.authorized) {
          // §5.4, §14.2: without a fingerprint the chain and the name must hold.
          const why = s.authorizationError as unknown;
          const code = typeof why === "string" ? why : (why as { code?: string })?.code;
          const der = peerDer(s);
          s.destroy();
          const error = Object.assign(new Error(String(why)), { code });
          reject(tlsError(where, name, error, certificateFacts(der)));
          return;
        }
        resolve(s);
      });
      const onError = (e: Error & { code?: string }) => {
        signal?.removeEventListener("abort", onAbort);
        s.destroy();
        // A socket error lets the next address be tried; a TLS error does not.
        if (signal?.aborted || (e.code !== undefined && SOCKET_CODES.has(e.code))) reject(e);
        else reject(tlsError(where, name, e));
      };
      s.once("error", onError);
    });
  }, signal);
  socket.setNoDelay(true);
  const where = formatAddress({ hostname: socket.remoteAddress ?? name, port: address.port });
  const der = peerDer(socket);
  if (fingerprint !== undefined) {
    try {
      if (der === undefined) {
        throw new MsrpError("no-peer-certificate", `${where} presented no TLS certificate`);
      }
      checkFingerprint(der, fingerprint, where);
    } catch (e) {
      socket.destroy();
      throw e;
    }
  }
  return new NodeTlsTransport(
    socket,
    der,
    undefined,
    options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED,
  );
}

function checkFingerprintUsable(fingerprints: Fingerprint | readonly Fingerprint[]): void {
  const list: readonly Fingerprint[] = Array.isArray(fingerprints)
    ? fingerprints
    : [fingerprints as Fingerprint];
  if (!list.some((f) => HASH_RANK.includes(f.hash.toLowerCase()))) {
    const hashes = list.map((f) => f.hash).join(", ") || "none";
    throw new MsrpError(
      "fingerprint-unsupported",
      `cannot check a certificate against the SDP: no supported fingerprint hash function (${hashes})`,
    );
  }
}

function peerDer(socket: nodeTls.TLSSocket): Uint8Array | undefined {
  const raw = socket.getPeerCertificate(true)?.raw as Uint8Array | undefined;
  return raw === undefined || raw.length === 0 ? undefined : new Uint8Array(raw);
}

// ---------------------------------------------------------------------------
// A node:tls socket as an MsrpTransport

/** A `node:tls` socket as a {@link TlsTransport}: a {@link NodeSocketTransport} that knows the peer's certificate. */
class NodeTlsTransport extends NodeSocketTransport implements TlsTransport {
  override readonly kind = "tls" as const;
  override readonly secure = true as const;
  readonly peerCertificate?: Uint8Array;
  readonly peerCertificateVisible: boolean;
  readonly peerAuthorized?: boolean;
  readonly #conn: Deno.Conn | undefined;

  /**
   * @param socket the TLS socket, its handshake done
   * @param der the peer's certificate, when known
   * @param authorized whether it chains up to the trusted roots, when checked
   * @param maxBuffered most unread bytes before `receive-overflow`
   * @param gate on an accepted socket: stops reading it while the reader is behind
   * @param conn on an accepted socket: the TCP connection, closed on release
   */
  constructor(
    socket: nodeTls.TLSSocket,
    der: Uint8Array | undefined,
    authorized: boolean | undefined,
    maxBuffered: number,
    gate?: ReadGate,
    conn?: Deno.Conn,
  ) {
    super(socket, {
      kind: "tls",
      secure: true,
      maxBufferedBytes: maxBuffered,
      // An accepted socket: TLS runs over a stream we own (conn_duplex.ts), so
      // the addresses are the Deno.Conn's, the socket is read only while the
      // reader keeps up (TCP flow control), and it goes when its TLS socket
      // closed (after sending its last bytes).
      ...(conn === undefined ? {} : {
        remoteAddr: connAddr(conn.remoteAddr),
        localAddr: connAddr(conn.localAddr),
        readGate: gate,
        pauseAtBytes: Math.min(Math.floor(maxBuffered / 2), READ_PAUSE_BYTES),
        ownedStream: true,
      }),
    });
    this.#conn = conn;
    this.peerCertificate = der;
    this.peerAuthorized = authorized;
    // A client sees the server's certificate; a server sees the client's
    // only when it asked for one (then it has a verdict, or the certificate).
    this.peerCertificateVisible = conn === undefined || der !== undefined ||
      authorized !== undefined;
  }

  /** Destroys the TLS socket and, on an accepted one, closes the TCP connection under it. */
  protected override releaseSocket(): void {
    super.releaseSocket();
    try {
      this.#conn?.close(); // the descriptor goes, whatever the TLS stream's state
    } catch {
      // already closed
    }
  }
}

function connAddr(addr: Deno.Addr): NetAddress | undefined {
  const a = addr as Partial<Deno.NetAddr>;
  return a.hostname === undefined || a.port === undefined
    ? undefined
    : { hostname: a.hostname, port: a.port };
}

// ---------------------------------------------------------------------------
// Listening

/** Options of {@link listenTls}. */
export interface TlsListenOptions extends ListenerServices {
  /** The address to bind (default `"0.0.0.0"`). */
  hostname?: string;
  /** The port to bind; 0 picks a free one. */
  port: number;
  /** Our certificate chain (PEM). */
  cert: string;
  /** Our private key (PEM). */
  key: string;
  /**
   * Ask each client for its certificate (RFC 4976 §6.1; §14.4 peer to peer)
   * and expose it as {@link TlsTransport.peerCertificate}. A client without a
   * certificate is still accepted.
   */
  requestClientCertificate?: boolean;
  /**
   * With `requestClientCertificate`: the roots a client certificate must
   * chain up to for {@link TlsTransport.peerAuthorized} to be true.
   */
  caCerts?: string[];
  /**
   * Most received bytes kept unread per connection before it fails with
   * `receive-overflow` (default 16 MiB). The socket is not read while half
   * of that (at most 256 KiB) waits, so TCP flow control slows a peer down
   * long before.
   */
  maxBufferedBytes?: number;
  /**
   * Milliseconds a client gets to complete its TLS handshake; then it is
   * disconnected (default {@link DEFAULT_HANDSHAKE_TIMEOUT_MS}, 10 s).
   */
  handshakeTimeoutMs?: number;
  /**
   * Most connections in their TLS handshake at once; one more disconnects
   * the oldest (default {@link DEFAULT_MAX_PENDING_HANDSHAKES}).
   */
  maxPendingHandshakes?: number;
}

/** How long a client gets to finish its TLS handshake, by default. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Connections in their TLS handshake at once, by default. */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 256;

/**
 * Listens for `msrps:` connections (RFC 4975 §5.4, §14.2; RFC 4976 §6.1).
 *
 * The listener accepts TCP connections itself (riding out failed accepts
 * with back-off, see `accept_backoff.ts`) and runs the server side of TLS
 * with `node:tls` over each socket (see `conn_duplex.ts`), so it owns every
 * descriptor: a client that does not finish its handshake within
 * `handshakeTimeoutMs` is disconnected and its descriptor released, and at
 * most `maxPendingHandshakes` handshakes run at once (a new connection past
 * that disconnects the oldest one still in its handshake). Received bytes
 * are read from the socket only as fast as the connection's reader takes
 * them (TCP flow control).
 *
 * A client's {@link connectTls} resolves only after the TLS handshake, which
 * the server runs once it accepted the connection: keep accepting (iterate
 * the listener) while clients connect.
 *
 * @param options the address to bind, our certificate and key, whether to
 *   ask clients for their certificates, the handshake deadline, clock and logger
 * @returns the listener; its connections are {@link TlsTransport}s
 * @throws {MsrpError} `listen-failed` when the address cannot be bound or the
 *   certificate or key cannot be used
 *
 * @example Accept msrps: connections
 * ```ts
 * import { listenTls } from "@msrp/msrp/transport";
 *
 * const listener = await listenTls({
 *   port: 2855,
 *   cert: await Deno.readTextFile("cert.pem"),
 *   key: await Deno.readTextFile("key.pem"),
 * });
 * for await (const transport of listener) console.log(transport.remoteAddr);
 * ```
 */
export function listenTls(options: TlsListenOptions): Promise<MsrpListener> {
  const hostname = bareHost(options.hostname ?? "0.0.0.0");
  const where = formatAddress({ hostname, port: options.port });
  let context: nodeTls.SecureContext;
  try {
    // Fail here rather than in every handshake.
    new X509Certificate(options.cert);
    createPrivateKey(options.key);
    context = nodeTls.createSecureContext({
      cert: options.cert,
      key: options.key,
      ca: options.requestClientCertificate ? options.caCerts : undefined,
    });
  } catch (e) {
    return Promise.reject(
      new MsrpError(
        "listen-failed",
        `cannot listen on ${where} over TLS: unusable certificate or key (${(e as Error).message})`,
        { cause: e },
      ),
    );
  }
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ hostname, port: options.port, transport: "tcp" });
  } catch (e) {
    return Promise.reject(
      new MsrpError(
        "listen-failed",
        `cannot listen on ${where} over TLS: ${(e as Error).message}`,
        { cause: e },
      ),
    );
  }
  return warmUp(context, options.requestClientCertificate === true).then(() =>
    new TlsListener(listener, context, options)
  );
}

/**
 * Runs one TLS handshake in memory, at once. The first handshake of a
 * process sets up process-wide state: among others it reads the root and
 * extra CA certificates (`NODE_EXTRA_CA_CERTS`) from files, and in Deno 2.9 a
 * read that fails for want of descriptors only logs "Ignoring extra certs".
 * So it is done when the listener is made, while descriptors are surely
 * available, not at the first client (who may come in a burst).
 */
async function warmUp(context: nodeTls.SecureContext, requestCert: boolean): Promise<void> {
  const [near, far] = duplexPair();
  const server = new nodeTls.TLSSocket(near, {
    isServer: true,
    secureContext: context,
    requestCert,
    rejectUnauthorized: false,
  });
  const client = nodeTls.connect({ socket: far, rejectUnauthorized: false });
  let timer: ReturnType<typeof setTimeout> | undefined;
  await new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 2000); // a warm-up that cannot finish does not stop listening
    server.once("secure", () => resolve());
    server.once("error", () => resolve());
    client.once("error", () => resolve());
  });
  clearTimeout(timer);
  client.destroy();
  server.destroy();
}

/** One accepted connection still in its TLS handshake. */
interface PendingHandshake {
  readonly conn: Deno.Conn;
  readonly socket: nodeTls.TLSSocket;
  timer: unknown;
}

/** TCP accepted here, TLS by `node:tls` over each socket; see {@link listenTls}. */
class TlsListener implements MsrpListener {
  readonly addr: NetAddress;
  readonly #listener: Deno.Listener;
  readonly #context: nodeTls.SecureContext;
  readonly #requestCert: boolean;
  readonly #maxBuffered: number;
  readonly #handshakeMs: number;
  readonly #maxPending: number;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #backoff: AcceptBackoff;
  /** In their handshake, oldest first. */
  readonly #pending = new Set<PendingHandshake>();
  readonly #ready: TlsTransport[] = [];
  readonly #waiting: {
    resolve: (t: TlsTransport) => void;
    reject: (e: Error) => void;
  }[] = [];
  #closed = false;
  #failure: Error | undefined;
  /** Connections done with their handshake that nobody took yet, at most this many (then dropped). */
  static readonly BACKLOG = 128;

  constructor(listener: Deno.Listener, context: nodeTls.SecureContext, options: TlsListenOptions) {
    this.#listener = listener;
    this.#context = context;
    this.#requestCert = options.requestClientCertificate === true;
    this.#maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
    this.#handshakeMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.#maxPending = options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    const a = listener.addr as Deno.NetAddr;
    this.addr = { hostname: a.hostname, port: a.port };
    this.#backoff = new AcceptBackoff({ ...options, where: formatAddress(this.addr) });
    this.#acceptLoop();
  }

  /** Handshakes in progress (for tests and monitoring). */
  get pendingHandshakes(): number {
    return this.#pending.size;
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await acceptConn(this.#listener, this.#backoff, () => this.#closed, this.addr);
      } catch (e) {
        if (!this.#closed) {
          this.#failure = e as Error;
          this.#closed = true;
          for (const w of this.#waiting.splice(0)) w.reject(e as Error);
        }
        return;
      }
      this.#handshake(conn);
    }
  }

  #handshake(conn: Deno.Conn): void {
    (conn as Deno.TcpConn).setNoDelay(true);
    const gate = new ReadGate();
    const socket = new nodeTls.TLSSocket(connDuplex(conn, gate), {
      isServer: true,
      secureContext: this.#context,
      requestCert: this.#requestCert,
      rejectUnauthorized: false, // the relay decides what an unknown certificate means
    });
    const entry: PendingHandshake = { conn, socket, timer: undefined };
    this.#pending.add(entry);
    entry.timer = this.#clock.setTimer(() => {
      entry.timer = undefined;
      this.#logger?.("debug", "TLS handshake timed out", {
        peer: describePeer(conn),
        timeoutMs: this.#handshakeMs,
      });
      this.#drop(entry);
    }, this.#handshakeMs);
    // A client whose handshake fails, or who leaves before it is done,
    // never becomes a connection.
    const onError = () => this.#drop(entry);
    socket.once("error", onError);
    socket.once("end", onError);
    socket.once("close", onError);
    socket.once("secure", () => {
      socket.removeListener("error", onError);
      socket.removeListener("end", onError);
      socket.removeListener("close", onError);
      this.#settle(entry);
      if (this.#closed) return this.#release(entry);
      const transport = new NodeTlsTransport(
        socket,
        this.#requestCert ? peerDer(socket) : undefined,
        this.#requestCert ? clientAuthorized(socket) : undefined,
        this.#maxBuffered,
        gate,
        conn,
      );
      const w = this.#waiting.shift();
      if (w !== undefined) w.resolve(transport);
      else if (this.#ready.length < TlsListener.BACKLOG) this.#ready.push(transport);
      else transport.close();
    });
    // Too many at once: the oldest handshake goes (a real client's takes milliseconds).
    if (this.#pending.size > this.#maxPending) {
      const oldest = this.#pending.values().next().value!;
      this.#logger?.("debug", "too many TLS handshakes at once; dropping the oldest", {
        peer: describePeer(oldest.conn),
        limit: this.#maxPending,
      });
      this.#drop(oldest);
    }
  }

  /** The handshake is over (done or failed): stop its deadline. */
  #settle(entry: PendingHandshake): void {
    if (entry.timer !== undefined) this.#clock.clearTimer(entry.timer);
    entry.timer = undefined;
    this.#pending.delete(entry);
  }

  /** Closes the socket under a connection, whatever state its TLS stream is in. */
  #release(entry: PendingHandshake): void {
    entry.socket.destroy();
    try {
      entry.conn.close();
    } catch {
      // already closed
    }
  }

  #drop(entry: PendingHandshake): void {
    if (!this.#pending.has(entry)) return;
    this.#settle(entry);
    this.#release(entry);
  }

  accept(): Promise<MsrpTransport> {
    const t = this.#ready.shift();
    if (t !== undefined) return Promise.resolve(t);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(listenerClosed(this.addr));
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<MsrpTransport> {
    return acceptUntilClosed(this);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#backoff.cancel();
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    for (const entry of [...this.#pending]) this.#drop(entry);
    // Done with their handshake but never taken: nobody can take them now.
    for (const t of this.#ready.splice(0)) t.close();
    for (const w of this.#waiting.splice(0)) w.reject(listenerClosed(this.addr));
  }
}

/** The certificate's dates and names for tls_errors.ts, or undefined when it does not parse. */
function certificateFacts(der: Uint8Array | undefined): CertificateFacts | undefined {
  if (der === undefined) return undefined;
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

/**
 * Whether the client's certificate chains up to the listener's `caCerts`
 * (RFC 4976 §6.1). `TLSSocket.authorized` is set by a `node:tls` Server,
 * not on a socket made directly, so this asks the handshake's verification
 * result, as the Server does (`verifyError()` is empty when the chain is
 * good). Without that API, nobody is authorized.
 */
function clientAuthorized(socket: nodeTls.TLSSocket): boolean {
  if (peerDer(socket) === undefined) return false;
  const handle = (socket as unknown as { _handle?: { verifyError?: () => unknown } })._handle;
  if (typeof handle?.verifyError !== "function") return false;
  const error = handle.verifyError();
  return error === null || error === undefined || error === "";
}

function describePeer(conn: Deno.Conn): string {
  const a = conn.remoteAddr as Partial<Deno.NetAddr>;
  return a.hostname !== undefined && a.port !== undefined
    ? formatAddress({ hostname: a.hostname, port: a.port })
    : "the peer";
}
