// Loggers say which levels they want (lib/log.ts, `Logger.wants`), so that
// the relay builds no debug line per forwarded request (RFC 4976 §6.4) for a
// logger that drops them; a logger that does not say gets everything.

import assert from "node:assert/strict";
import { consoleLogger, silentLogger } from "../../lib/log.ts";

Deno.test("loggers: the console logger wants warnings and errors, and everything when verbose; the silent one nothing", () => {
  const quiet = consoleLogger();
  assert.equal(quiet.wants?.("debug"), false);
  assert.equal(quiet.wants?.("info"), false);
  assert.equal(quiet.wants?.("warn"), true);
  assert.equal(quiet.wants?.("error"), true);
  const verbose = consoleLogger(true);
  for (const level of ["debug", "info", "warn", "error"] as const) {
    assert.equal(verbose.wants?.(level), true);
    assert.equal(silentLogger.wants?.(level), false);
  }
});
