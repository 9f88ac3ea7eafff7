/**
 * The transports of MSRP: TCP (RFC 4975 §6), TLS for `msrps:` (§14.2,
 * §14.4), WebSocket (RFC 7977), and an in-memory pipe for tests. Each gives
 * the protocol stages an {@link MsrpTransport}: a byte stream each way.
 *
 * @module
 */

export type { MsrpTransport, NetAddress } from "./types.ts";
export { memoryPipe, type MemoryPipeOptions, type MemoryTransport } from "./memory.ts";
export {
  bareHost,
  connectTcp,
  connTransport,
  type ConnTransportOptions,
  formatAddress,
  isIpLiteral,
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
  acceptWebSocket,
  connectWebSocket,
  isMsrpWebSocketRequest,
  listenWebSocket,
  MSRP_SUBPROTOCOL,
  type WebSocketAcceptOptions,
  type WebSocketConnectOptions,
  type WebSocketListener,
  type WebSocketListenOptions,
  type WebSocketTransport,
  webSocketTransport,
  type WebSocketTransportOptions,
} from "./websocket.ts";
