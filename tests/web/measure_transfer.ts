/**
 * The README's browser figure, one run: a 20 MB file from the web page
 * through the relay to `msrp listen` (WSS in, TLS out), beside the same file
 * from `msrp send` through the relay to `msrp listen` (TLS both ways).
 *
 *   deno run -A tests/web/measure_transfer.ts
 *
 * Page: from the click on "Send file" to the success REPORT's delivery mark
 * (RFC 4975 §7.1.3). CLI: `msrp send --file --success-report` minus a
 * one-word send (process start and AUTH). Needs Chromium, as the browser
 * tests do.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  buildPage,
  bundleProblem,
  Cli,
  launchBrowser,
  relayFlags,
  signIn,
  skipReason,
  startRelay,
} from "./web_harness.ts";

const SIZE = 20 * 1024 * 1024;
const skip = skipReason();
if (skip !== undefined) {
  console.log(`cannot measure: ${skip}`);
  Deno.exit(0);
}
const dir = await buildPage();
const problem = await bundleProblem(dir);
if (problem !== undefined) {
  console.log(`cannot measure: ${problem}`);
  Deno.exit(0);
}
const relay = await startRelay(dir);
const browser = await launchBrowser();
const save = await Deno.makeTempDir({ prefix: "msrp-measure-" });
const file = `${save}.bin`;
const bytes = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
await Deno.writeFile(file, bytes);
const mbps = (ms: number) => (SIZE / 1e6 / (ms / 1000)).toFixed(1);

try {
  const listener = new Cli(["listen", ...relayFlags(relay, "dave")], { cwd: save });
  const path = await listener.out.waitFor(() => true);
  assert.ok(path, listener.err.text);

  // CLI → relay → CLI over TLS: a big send minus a small one.
  const send = async (args: string[]) => {
    const t0 = performance.now();
    const r = await new Cli(["send", ...relayFlags(relay, "carol"), "--to", path, ...args])
      .finish();
    assert.equal(r.code, 0, r.stderr);
    return performance.now() - t0;
  };
  const small = await send(["--success-report", "warm-up"]);
  const big = await send(["--success-report", "--file", file]);
  const cliMs = big - small;

  // Page → relay → CLI.
  const alice = await signIn(browser, relay.pageUrl, "alice");
  await alice.page.type("#peer-address", path);
  await alice.page.click("#start-button");
  await alice.page.waitForSelector(".chat .file");
  const input = await alice.page.$(".chat .file");
  await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(file);
  const t0 = performance.now();
  await alice.page.click(".chat .send-file");
  await alice.page.waitForFunction(
    `[...document.querySelectorAll(".chat .log li.out")].some((li) => ` +
      `li.textContent.includes(".bin") && li.querySelector(".mark.delivered"))`,
    { timeout: 120_000 },
  );
  const pageMs = performance.now() - t0;
  listener.kill("SIGTERM");
  await listener.finish();

  console.log(`20 MB through the relay, one run:`);
  console.log(
    `  page (WSS) → relay → msrp listen (TLS): ${pageMs.toFixed(0)} ms, ${mbps(pageMs)} MB/s`,
  );
  console.log(
    `  msrp send (TLS) → relay → msrp listen (TLS): ${cliMs.toFixed(0)} ms, ${mbps(cliMs)} MB/s`,
  );
  console.log(`  page / CLI: ${(100 * cliMs / pageMs).toFixed(0)} %`);
} finally {
  await browser.close();
  await relay.close();
  await Deno.remove(save, { recursive: true });
  await Deno.remove(file);
  await Deno.remove(dir, { recursive: true });
}
