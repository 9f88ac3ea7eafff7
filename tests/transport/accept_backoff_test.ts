// The retry policy of listeners after temporary accept failures (issue 8,
// defect 1): a fake Deno listener drives it on a manual clock.

import assert from "node:assert/strict";
import { MsrpError } from "../../lib/errors.ts";
import type { LogLevel } from "../../lib/log.ts";
import { ManualClock } from "../../lib/session/clock.ts";
import { AcceptBackoff, isTemporaryAcceptError } from "../../lib/transport/accept_backoff.ts";
import { acceptConn, DenoListener } from "../../lib/transport/tcp.ts";

function emfile(): Error {
  // How Deno 2.9 surfaces EMFILE from accept(): a plain Error with `code`.
  return Object.assign(new Error("Too many open files (os error 24)"), { code: "EMFILE" });
}

/** A listener whose accept() replays a script of failures and connections. */
function fakeListener(script: (Error | "conn")[]): Deno.Listener & { calls: number } {
  const conn = {
    localAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 2 },
    close() {},
  } as unknown as Deno.Conn;
  const l = {
    calls: 0,
    addr: { transport: "tcp", hostname: "127.0.0.1", port: 2855 },
    accept(): Promise<Deno.Conn> {
      const step = script[l.calls++];
      if (step === undefined) return new Promise(() => {});
      return step === "conn" ? Promise.resolve(conn) : Promise.reject(step);
    },
    close() {},
  };
  return l as unknown as Deno.Listener & { calls: number };
}

/** Lets pending promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

Deno.test("accept back-off: temporary errors are recognised however Deno surfaces them", () => {
  assert.ok(isTemporaryAcceptError(emfile()));
  for (const code of ["ENFILE", "ENOBUFS", "ENOMEM", "ECONNABORTED"]) {
    assert.ok(isTemporaryAcceptError(Object.assign(new Error("x"), { code })), code);
  }
  assert.ok(isTemporaryAcceptError(new Deno.errors.ConnectionAborted("aborted")));
  assert.ok(isTemporaryAcceptError(new Error("Too many open files (os error 24)")));
  assert.ok(!isTemporaryAcceptError(new Deno.errors.BadResource("closed")));
  assert.ok(!isTemporaryAcceptError(new Deno.errors.PermissionDenied("no")));
});

Deno.test("accept back-off: pauses double from 5 ms to 1 s and reset after a success", async () => {
  const clock = new ManualClock();
  const logged: [LogLevel, string, Record<string, unknown> | undefined][] = [];
  const backoff = new AcceptBackoff({
    clock,
    logger: (level, message, data) => logged.push([level, message, data]),
    where: "127.0.0.1:2855",
  });
  // Nine failures, then a connection, then one more failure.
  const script: (Error | "conn")[] = [...Array(9).fill(0).map(emfile), "conn", emfile(), "conn"];
  const listener = fakeListener(script);
  const addr = { hostname: "127.0.0.1", port: 2855 };
  /** Moves the clock 1 ms at a time until accept() is called again; returns how far. */
  async function pause(): Promise<number> {
    const before = listener.calls;
    for (let waited = 1; waited <= 2000; waited++) {
      clock.advance(1);
      await settle();
      if (listener.calls > before) return waited;
    }
    throw new Error("accept was not retried within 2 s");
  }
  const first = acceptConn(listener, backoff, () => false, addr);
  await settle();
  const delays: number[] = [];
  for (let i = 0; i < 9; i++) delays.push(await pause());
  await first;
  assert.deepEqual(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1000]);
  assert.equal(backoff.nextDelayMs, 5, "a success resets the pause");
  assert.equal(backoff.failures, 0);
  // The next failure waits 5 ms, not 1 s.
  const second = acceptConn(listener, backoff, () => false, addr);
  await settle();
  assert.equal(await pause(), 5);
  await second;
  // Logged: the first failure of each run, and each pause at the maximum; then "accepting again".
  const warns = logged.filter(([l]) => l === "warn").map(([, , d]) => d?.retryMs);
  assert.deepEqual(warns, [5, 1000, 5]);
  assert.equal(logged.filter(([, m]) => m === "accepting again").length, 2);
  assert.equal(logged[0][2]?.listener, "127.0.0.1:2855");
});

Deno.test("accept back-off: closing the listener ends a pause with listener-closed", async () => {
  const clock = new ManualClock();
  const listener = new DenoListener(fakeListener([emfile()]), () => {
    throw new Error("no connection expected");
  }, { clock });
  const accepted = listener.accept();
  await settle();
  assert.equal(clock.pending, 1);
  listener.close();
  await assert.rejects(
    accepted,
    (e: unknown) => e instanceof MsrpError && e.code === "listener-closed",
  );
  assert.equal(clock.pending, 0, "the pause's timer is cancelled");
});

Deno.test("accept back-off: other accept errors still end the listener with accept-failed", async () => {
  const listener = new DenoListener(
    fakeListener([new Deno.errors.PermissionDenied("denied")]),
    () => {
      throw new Error("no connection expected");
    },
    { clock: new ManualClock() },
  );
  await assert.rejects(
    listener.accept(),
    (e: unknown) => e instanceof MsrpError && e.code === "accept-failed",
  );
});
