// Every example in examples/ runs to completion (exit 0) with exactly the
// permissions its header comment gives in its first `deno run` line, and
// with no arguments. This keeps the documented command lines honest: an
// example that needs more than it says fails here.

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const EXAMPLES = new URL("examples/", ROOT);

/** The first `deno run ...` command line in the example's leading comment. */
function commandLine(source: string, file: string): string[] {
  const header = source.slice(0, source.indexOf("*/"));
  const line = header.split("\n").map((l) => l.replace(/^\s*\*?\s*/, "").trim())
    .find((l) => l.startsWith("deno run "));
  assert.ok(line, `${file}: no "deno run" line in its header comment`);
  const args = line.split(/\s+/).slice(2);
  assert.equal(args.at(-1), `examples/${file}`, `${file}: the command line must end with the file`);
  return args;
}

/** Lines some examples must print: what shows they did their job. */
const EXPECTED: Record<string, string[]> = {
  // The stages answered a real `msrp send`: its message, 200s and success REPORT (§7.1.3).
  "pipeline.ts": [
    "received text/plain: hello through the stages",
    "confirmed by a success report",
    "msrp send exited 0",
  ],
};

const files = [...Deno.readDirSync(EXAMPLES)]
  .filter((e) => e.isFile && e.name.endsWith(".ts"))
  .map((e) => e.name)
  .sort();

Deno.test("every example runs with the permissions in its header and exits 0", async () => {
  assert.ok(files.length >= 5, `examples found: ${files.join(", ")}`);
  const runs = files.map(async (file) => {
    const args = commandLine(await Deno.readTextFile(new URL(file, EXAMPLES)), file);
    for (const a of args) {
      assert.ok(
        a !== "-A" && a !== "--allow-all" && !/^--allow-[a-z]+$/.test(a),
        `${file}: permission ${a} is not narrowed to hosts or paths`,
      );
    }
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...args],
      cwd: ROOT.pathname,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    // A safety net only: a hung example fails instead of hanging the suite.
    const watchdog = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const out = await child.output();
    clearTimeout(watchdog);
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    return { file, args, code: out.code, stdout, stderr };
  });
  for (const r of await Promise.all(runs)) {
    assert.equal(
      r.code,
      0,
      `deno run ${r.args.join(" ")} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
    );
    assert.notEqual(r.stdout, "", `${r.file} printed nothing`);
    for (const line of EXPECTED[r.file] ?? []) {
      assert.ok(r.stdout.includes(line), `${r.file} did not print ${line}:\n${r.stdout}`);
    }
  }
});
