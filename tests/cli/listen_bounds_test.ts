// `msrp listen` reads a text of unknown total ("*", RFC 4975 §7.1.1) within a
// bound: printed if it ends within 1 MiB, else streamed to a file like any
// large message (issue 8, defect 6). Driven as subprocesses; no sleeps.

import assert from "node:assert/strict";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

function spawn(args: string[], cwd: string, stdin: "piped" | "null"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    cwd,
    stdin,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

/** The first line of a stream, and a promise of everything after it. */
async function firstLine(
  stream: ReadableStream<Uint8Array>,
): Promise<{ line: string; rest: Promise<string> }> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
  }
  const nl = text.indexOf("\n");
  const rest = (async () => {
    let more = text.slice(nl + 1);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return more;
      more += value;
    }
  })();
  return { line: text.slice(0, nl), rest };
}

async function sendFromStdin(uri: string, cwd: string, body: Uint8Array): Promise<string> {
  const sender = spawn(["send", "--to", uri], cwd, "piped");
  const writer = sender.stdin.getWriter();
  await writer.write(body);
  await writer.close();
  const [status, , stderr] = await Promise.all([
    sender.status,
    new Response(sender.stdout).text(),
    new Response(sender.stderr).text(),
  ]);
  assert.equal(status.code, 0, stderr);
  return stderr;
}

Deno.test("msrp listen: a text of unknown total over 1 MiB goes to a file, not to memory and stdout", async () => {
  const dir = await Deno.makeTempDir({ prefix: "msrp_listen_bounds_" });
  const listener = spawn(["listen", "--once"], dir, "null");
  try {
    const out = await firstLine(listener.stdout);
    const err = new Response(listener.stderr).text();
    const body = new TextEncoder().encode("0123456789abcdef".repeat(3 * 65536)); // 3 MiB
    await sendFromStdin(out.line, dir, body);
    const status = await listener.status;
    const stderr = await err;
    assert.equal(status.code, 0, stderr);
    assert.equal(await out.rest, "", "nothing printed after the URI");
    assert.match(stderr, /saved 3145728 bytes \(text\/plain[^)]*\) to /);
    const files = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.equal(files.length, 1, files.join());
    assert.deepEqual(await Deno.readFile(`${dir}/${files[0]}`), body);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("msrp listen: a short text of unknown total is still printed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "msrp_listen_bounds_" });
  const listener = spawn(["listen", "--once"], dir, "null");
  try {
    const out = await firstLine(listener.stdout);
    const err = new Response(listener.stderr).text();
    await sendFromStdin(out.line, dir, new TextEncoder().encode("piped line\n"));
    const status = await listener.status;
    assert.equal(status.code, 0, await err);
    assert.equal(await out.rest, "piped line\n");
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
