/**
 * What the browser tests share: the page built into a temporary directory
 * (the bundle from web/browser.ts, as `deno task build` makes it), a relay
 * that serves it on its WebSocket listener (RFC 7977) with a TLS listener
 * for the CLI (RFC 4976 §9.2), Chromium driven by puppeteer-core, and
 * `msrp` CLI processes.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Browser, Page } from "puppeteer-core";
import { resolveRelayConfig, serveRelay } from "../../lib/relay/mod.ts";
import type { RelayServer } from "../../lib/relay/relay.ts";
import { Lines } from "../_lines.ts";

export const ROOT: URL = new URL("../../", import.meta.url);
export const CERTS: string = new URL("tests/fixtures/certs/", ROOT).pathname;
const CLI = new URL("cli.ts", ROOT).pathname;

/** Where screenshots go (ignored by git). */
export const SHOTS: string = new URL(".tmp/web/", ROOT).pathname;

/** The Chromium binary: `$CHROMIUM`, else Debian's. */
export const CHROMIUM: string = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  try {
    if (!Deno.statSync(CHROMIUM).isFile) return `${CHROMIUM} is not a file`;
  } catch {
    return `no Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run does it)`;
  }
  return undefined;
}

/** Users of the test relay: name → password. */
export const USERS: Record<string, string> = {
  alice: "alice-secret",
  bob: "bob-secret",
  carol: "carol-secret",
  dave: "dave-secret",
};

/**
 * Builds the page into a fresh directory: the static files of web/ and the
 * browser bundle, made as `deno task build` makes it.
 */
export async function buildPage(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "msrp-web-" });
  for (const name of ["index.html", "app.js", "style.css"]) {
    await Deno.copyFile(new URL(`web/${name}`, ROOT), `${dir}/${name}`);
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--config",
      new URL("web/bundle.json", ROOT).pathname,
      "--platform=browser",
      "-o",
      `${dir}/msrp.js`,
      new URL("web/browser.ts", ROOT).pathname,
    ],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, `deno bundle failed: ${new TextDecoder().decode(out.stderr)}`);
  return dir;
}

/**
 * Why the built bundle cannot load in a browser, or undefined: Chromium
 * refuses `node:` imports (issue 12 item 2 removes them from the core).
 *
 * @param dir the directory made by {@linkcode buildPage}
 */
export async function bundleProblem(dir: string): Promise<string | undefined> {
  const js = await Deno.readTextFile(`${dir}/msrp.js`);
  const nodeImports = [...js.matchAll(/^import .* from "(node:[^"]+)";$/gm)].map((m) => m[1]);
  if (nodeImports.length === 0) return undefined;
  return `the browser bundle still imports ${[...new Set(nodeImports)].join(", ")}`;
}

/** A relay on loopback: TLS for the CLI, WSS serving the page for browsers. */
export interface TestRelay {
  readonly server: RelayServer;
  /** The relay's msrps: TCP URI, for `msrp send/listen --relay`. */
  readonly tcpUri: string;
  /** The page's URL (https, same origin as the WebSocket listener). */
  readonly pageUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the relay, serving the page in `webRoot`.
 *
 * @param webRoot the directory made by {@linkcode buildPage}
 */
export async function startRelay(webRoot: string): Promise<TestRelay> {
  const server = await serveRelay(
    resolveRelayConfig({
      host: "localhost",
      listen: [
        { hostname: "127.0.0.1", port: 0, tls: true },
        { hostname: "127.0.0.1", port: 0, tls: true, websocket: true },
      ],
      tls: { certFile: `${CERTS}server.pem`, keyFile: `${CERTS}server.key` },
      users: Object.fromEntries(
        Object.entries(USERS).map(([name, password]) => [name, { password }]),
      ),
    }),
    { logger: () => {}, webRoot },
  );
  const [tcp, ws] = server.listeners;
  return {
    server,
    tcpUri: `msrps://localhost:${tcp.addr!.port};tcp`,
    pageUrl: `https://localhost:${ws.addr!.port}/`,
    close: () => server.close(),
  };
}

/** Chromium, headless; the test CA is not installed, so certificate errors are ignored. */
export async function launchBrowser(): Promise<Browser> {
  const { default: puppeteer } = await import("puppeteer-core");
  return await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--ignore-certificate-errors", "--disable-gpu"],
  });
}

/** A page of the chat, signed in. */
export interface ChatPage {
  readonly page: Page;
  /** The address the page shows (its path through the relay). */
  readonly address: string;
}

/**
 * Opens the page, signs in and reads the address it shows.
 *
 * @param browser the browser
 * @param url the page's URL
 * @param user a user of {@linkcode USERS}
 */
export async function signIn(browser: Browser, url: string, user: string): Promise<ChatPage> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.setViewport({ width: 900, height: 1000 });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${url}?user=${user}`);
  await page.waitForSelector("body[data-ready=yes]").catch((e) => {
    throw new Error(`the page did not start: ${errors.join("; ") || e}`);
  });
  await page.type("#password", USERS[user]);
  await page.click("#signin-button");
  await page.waitForFunction(
    `document.body.dataset.signedIn === "yes" || document.querySelector("#status.error")`,
  );
  const address = await page.$eval("#my-address", (el) => (el as { value: string }).value);
  assert.ok(address, `sign-in failed: ${await text(page, "#status")}`);
  return { page, address };
}

/**
 * The text of the first element matching `selector`.
 *
 * @param page the page
 * @param selector a CSS selector
 */
export async function text(page: Page, selector: string): Promise<string> {
  return await page.$eval(selector, (el) => el.textContent ?? "");
}

/**
 * Waits until an element matching `selector` contains `wanted`.
 *
 * @param page the page
 * @param selector a CSS selector
 * @param wanted the text to find
 */
export async function waitForText(page: Page, selector: string, wanted: string): Promise<void> {
  await page.waitForFunction(
    `[...document.querySelectorAll(${JSON.stringify(selector)})].some((e) => ` +
      `e.textContent.includes(${JSON.stringify(wanted)}))`,
  );
}

/**
 * Runs `step`; on failure saves a screenshot of each page first.
 *
 * @param name the step, for the screenshot's file name
 * @param pages the pages to photograph
 * @param step the step
 */
export async function shotOnFailure<T>(
  name: string,
  pages: () => Page[],
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (e) {
    await Deno.mkdir(SHOTS, { recursive: true });
    let i = 0;
    for (const page of pages()) {
      const path = `${SHOTS}failure-${name}-${i++}.png`;
      try {
        await page.screenshot({ path: path as `${string}.png`, fullPage: true });
        console.error(`screenshot of the failure: ${path}`);
      } catch {
        // the page is gone
      }
    }
    throw e;
  }
}

/** A running `msrp` process. */
export class Cli {
  readonly child: Deno.ChildProcess;
  readonly out: Lines;
  readonly err: Lines;
  readonly #watchdog: ReturnType<typeof setTimeout>;

  constructor(args: string[], options: { cwd?: string } = {}) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, ...args],
      cwd: options.cwd ?? ROOT.pathname,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.out = new Lines(this.child.stdout);
    this.err = new Lines(this.child.stderr);
    // A safety net only: a wedged process fails the test instead of hanging it.
    this.#watchdog = setTimeout(() => this.kill("SIGKILL"), 90_000);
  }

  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
  }

  /** Waits for the exit; returns the code and everything printed. */
  async finish(): Promise<{ code: number; stdout: string; stderr: string }> {
    const status = await this.child.status;
    clearTimeout(this.#watchdog);
    await Promise.all([this.out.done, this.err.done]);
    return { code: status.code, stdout: this.out.text, stderr: this.err.text };
  }
}

/**
 * The `--relay` flags of a CLI user of the test relay.
 *
 * @param relay the relay
 * @param user a user of {@linkcode USERS}
 */
export function relayFlags(relay: TestRelay, user: string): string[] {
  return [
    "--relay",
    relay.tcpUri,
    "--user",
    user,
    "--password",
    USERS[user],
    "--ca",
    `${CERTS}ca.pem`,
  ];
}

/**
 * The SHA-256 of some bytes, in hex.
 *
 * @param bytes the bytes
 */
export async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}
