/**
 * An accepted TCP socket as a `node:stream` Duplex, so that `node:tls` can
 * run the server side of TLS over a socket we own (RFC 4975 §14.2; RFC 4976
 * §6.1).
 *
 * Deno's own TLS server (`Deno.listenTls`) hides the TCP socket: a client that
 * connects and never sends a ClientHello holds a descriptor until it goes
 * away, and `close()` during the handshake does not release it. Owning the
 * socket means closing it always releases it, whatever state the TLS stream
 * is in.
 *
 * Reading is gated: while the connection's reader is behind (its
 * {@linkcode ReadGate} is paused), the socket is not read, the kernel's
 * receive window fills, and TCP flow control slows the peer down, instead
 * of decrypted bytes piling up in memory.
 *
 * @module
 */

import { Duplex } from "node:stream";

/** Bytes asked of the socket per read: a whole TLS record and its overhead. */
const READ_SIZE = 32 * 1024;

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await conn.write(bytes.subarray(done));
}

/** Stops and restarts reading from a socket (receive back-pressure). */
export class ReadGate {
  #paused = false;
  #waiters: (() => void)[] = [];

  /** Whether reading is stopped. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Stops reading after the read in progress. */
  pause(): void {
    this.#paused = true;
  }

  /** Reads again. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves once reading may go on (at once when not paused). */
  wait(): Promise<void> | undefined {
    return this.#paused ? new Promise((resolve) => this.#waiters.push(resolve)) : undefined;
  }
}

/**
 * Wraps an accepted connection as a Duplex: reads through `gate`, writes
 * whole chunks, `end()` half-closes, `destroy()` closes the socket.
 *
 * @param conn the connection; the Duplex owns it from now on
 * @param gate stops reading while paused
 * @returns the Duplex
 */
export function connDuplex(conn: Deno.Conn, gate: ReadGate): Duplex {
  let reading = false;
  return new Duplex({
    allowHalfOpen: true,
    read(this: Duplex): void {
      if (reading) return;
      reading = true;
      (async () => {
        try {
          for (;;) {
            await gate.wait();
            const buf = new Uint8Array(READ_SIZE);
            const n = await conn.read(buf);
            if (n === null) {
              this.push(null);
              return;
            }
            // A false push: the TLS layer has enough for now; it calls read() again.
            if (!this.push(n * 2 >= buf.length ? buf.subarray(0, n) : buf.slice(0, n))) return;
          }
        } catch (e) {
          this.destroy(e as Error);
        } finally {
          reading = false;
        }
      })();
    },
    write(chunk: Uint8Array, _encoding: string, callback: (e?: Error | null) => void): void {
      writeAll(conn, chunk).then(() => callback(), (e) => callback(e as Error));
    },
    // TLS hands over one record at a time: what piled up meanwhile goes out in one write.
    writev(
      chunks: { chunk: Uint8Array }[],
      callback: (e?: Error | null) => void,
    ): void {
      let n = 0;
      for (const c of chunks) n += c.chunk.length;
      const all = new Uint8Array(n);
      let at = 0;
      for (const c of chunks) {
        all.set(c.chunk, at);
        at += c.chunk.length;
      }
      writeAll(conn, all).then(() => callback(), (e) => callback(e as Error));
    },
    final(callback: (e?: Error | null) => void): void {
      (conn as Deno.TcpConn).closeWrite().then(() => callback(), () => callback());
    },
    destroy(error: Error | null, callback: (e?: Error | null) => void): void {
      try {
        conn.close();
      } catch {
        // already closed
      }
      callback(error);
    },
  });
}
