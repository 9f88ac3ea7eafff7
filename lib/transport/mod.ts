/**
 * The transports of MSRP: TCP (RFC 4975 §6), TLS for `msrps:` (§14.2,
 * §14.4), WebSocket (RFC 7977), and an in-memory pipe for tests. Each gives
 * the protocol stages an {@link MsrpTransport}: a byte stream each way.
 *
 * ```ts
 * import { connectTcp, listenTcp } from "@msrp/msrp/transport";
 *
 * const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
 * const client = await connectTcp(listener.addr);
 * const server = await listener.accept();
 * const writer = client.writable.getWriter();
 * await writer.write(new TextEncoder().encode("MSRP ..."));
 * const { value } = await server.readable.getReader().read();
 * console.log(new TextDecoder().decode(value)); // "MSRP ..."
 * client.close();
 * server.close();
 * listener.close();
 * ```
 *
 * @module
 */

export type { MsrpTransport, NetAddress } from "./types.ts";
export { computeFingerprint, fingerprintMatches } from "./fingerprint.ts";
export { memoryPipe, type MemoryPipeOptions, type MemoryTransport } from "./memory.ts";
export {
  connectTcp,
  connTransport,
  type ConnTransportOptions,
  type ListenerServices,
  listenTcp,
  type MsrpListener,
  type Resolver,
  type TcpConnectOptions,
  type TcpListenOptions,
} from "./tcp.ts";
export {
  checkFingerprint,
  checkPeerFingerprint,
  connectTls,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_PENDING_HANDSHAKES,
  type Fingerprint,
  listenTls,
  type TlsConnectOptions,
  type TlsListenOptions,
  type TlsTransport,
} from "./tls.ts";
export { type CertificateProblem, TlsCertificateError } from "./tls_errors.ts";
export {
  connectWebSocket,
  MSRP_SUBPROTOCOL,
  type WebSocketConnectOptions,
  type WebSocketTransport,
  webSocketTransport,
  type WebSocketTransportOptions,
} from "./websocket.ts";
export {
  acceptWebSocket,
  isMsrpWebSocketRequest,
  listenWebSocket,
  type WebSocketAcceptOptions,
  type WebSocketListener,
  type WebSocketListenOptions,
} from "./websocket_server.ts";
