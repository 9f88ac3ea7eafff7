/**
 * Addresses and listeners, the parts every transport shares and that need no
 * runtime API: IP literals and `host:port` text (RFC 4975 §6.2: a literal in
 * a URI "MUST be used as listed"; IPv6 in brackets, RFC 3986 §3.2.2), and the
 * {@link MsrpListener} contract with its async iteration. The TCP, TLS and
 * WebSocket transports import them from here, so the WebSocket transport
 * does not load the TCP one (which needs Deno and `node:dns`).
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Clock } from "../session/clock.ts";
import type { MsrpTransport, NetAddress } from "./types.ts";

/** What every listener takes besides its address: see `accept_backoff.ts`. */
export interface ListenerServices {
  /** Where the pauses after a failed accept run (default: `setTimeout`). */
  clock?: Clock;
  /** Where failed accepts are reported (default: nowhere). */
  logger?: Logger;
}

/** An accepting socket that yields one {@link MsrpTransport} per connection. */
export interface MsrpListener extends AsyncIterable<MsrpTransport> {
  /** The address the listener is bound to (the real port when 0 was asked). */
  readonly addr: NetAddress;
  /**
   * Waits for the next connection.
   *
   * @throws {MsrpError} `listener-closed` once {@link MsrpListener.close} was called
   */
  accept(): Promise<MsrpTransport>;
  /** Stops listening. Connections already accepted stay open. */
  close(): void;
}

/** Whether `host` is an IPv4 literal (four dot-separated decimal numbers). */
function isIPv4(host: string): boolean {
  const parts = host.split(".");
  if (parts.length !== 4) return false;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3) return false;
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return false;
    }
    if (Number(p) > 255) return false;
  }
  return true;
}

/**
 * The host without URI brackets: `"[::1]"` becomes `"::1"`.
 *
 * @param hostname a host name or an IP literal, maybe bracketed
 * @returns the bare host
 */
export function bareHost(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}

/**
 * Whether a host is an IP literal rather than a name (RFC 4975 §6.2: a
 * literal "MUST be used as listed").
 *
 * @param hostname a host name or IP literal, IPv6 maybe bracketed
 * @returns true for an IPv4 or IPv6 literal
 */
export function isIpLiteral(hostname: string): boolean {
  const h = bareHost(hostname);
  return h.includes(":") || isIPv4(h);
}

/**
 * Formats `host:port` for messages, with brackets around an IPv6 address.
 *
 * @param address the address
 * @returns e.g. `"127.0.0.1:2855"` or `"[::1]:2855"`
 */
export function formatAddress(address: NetAddress): string {
  const h = bareHost(address.hostname);
  return `${h.includes(":") ? `[${h}]` : h}:${address.port}`;
}

/**
 * The error for accepting on a closed listener.
 *
 * @param addr the listener's address
 * @returns an `MsrpError` with code `listener-closed`
 */
export function listenerClosed(addr: NetAddress): Error {
  return new MsrpError("listener-closed", `the listener on ${formatAddress(addr)} is closed`);
}

/**
 * Yields what `listener.accept()` gives until the listener is closed: the
 * async iteration every {@link MsrpListener} offers.
 *
 * @param listener a listener
 * @returns an async iterator of accepted transports
 */
export async function* acceptUntilClosed(
  listener: Pick<MsrpListener, "accept">,
): AsyncGenerator<MsrpTransport> {
  for (;;) {
    try {
      yield await listener.accept();
    } catch (e) {
      if (e instanceof MsrpError && e.code === "listener-closed") return;
      throw e;
    }
  }
}
