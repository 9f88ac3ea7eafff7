// Issue 8, defect 9: `msrp listen` must keep answering when nobody reads its
// standard output, and exit promptly on SIGTERM. The listener runs as a
// subprocess whose stdout pipe is read only for the first line (the URI);
// a library client then sends more text than the pipe and the output queue
// hold together, and every message must get its 200.

import assert from "node:assert/strict";
import { MsrpEndpoint } from "../../lib/endpoint/endpoint.ts";

const ROOT = new URL("../../", import.meta.url);
const CLI = new URL("cli.ts", ROOT).pathname;

/** 200 messages of 8 KiB: 1.6 MB, more than a pipe (64 KiB) and the 1 MiB output queue. */
const MESSAGES = 200;
const SIZE = 8 * 1024;

Deno.test("msrp listen answers every message while nobody reads its stdout, and exits on SIGTERM", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "listen"],
    cwd: ROOT.pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  // A safety net only: a wedged process fails the test instead of hanging it.
  const watchdog = setTimeout(() => child.kill("SIGKILL"), 30_000);
  let stderr = "";
  const errDone = (async () => {
    for await (const s of child.stderr.pipeThrough(new TextDecoderStream())) stderr += s;
  })();
  // The URI is the first line; after it, stdout is never read again.
  const reader = child.stdout.getReader();
  let first = "";
  while (!first.includes("\n")) {
    const { value, done } = await reader.read();
    assert.ok(!done, `no URI printed; stderr: ${stderr}`);
    first += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const uri = first.slice(0, first.indexOf("\n"));

  const endpoint = await MsrpEndpoint.start();
  try {
    const session = endpoint.createSession();
    await endpoint.connect(session, uri.split(" "));
    const line = "x".repeat(SIZE - 1) + "\n";
    let ok = 0;
    for (let i = 0; i < MESSAGES; i++) {
      const result = await session.send(line, { contentType: "text/plain" });
      if (result.confirmedBy === "response") ok++;
    }
    assert.equal(ok, MESSAGES, "every message got its 200");
    session.close();
  } finally {
    await endpoint.close();
  }

  child.kill("SIGTERM");
  const status = await child.status;
  clearTimeout(watchdog);
  await errDone;
  await child.stdout.cancel().catch(() => {});
  assert.equal(status.signal, null, `killed by ${status.signal}, not exited; stderr: ${stderr}`);
  assert.equal(status.code, 0, stderr);
  assert.match(stderr, /standard output is not being read; dropping output/);
});
