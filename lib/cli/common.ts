/**
 * What every `msrp` command shares (RFC 4975 sessions, RFC 4976 relays): exit codes, usage errors, turning a
 * library error into one clear line, the process's standard streams, and the
 * options that build an {@linkcode EndpointOptions} (TLS identity, trusted
 * roots, relays).
 *
 * Exit codes:
 *
 * | code | meaning                                                           |
 * | ---- | ----------------------------------------------------------------- |
 * | 0    | success                                                           |
 * | 1    | the peer or a relay refused, or a send failed (status and comment) |
 * | 2    | usage: a bad flag, a bad URI (RFC 4975 §9 syntax), an unreadable file |
 * | 3    | network: unreachable host, refused connection, TLS failure (§14.2) |
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { MsrpError, MsrpSyntaxError } from "../errors.ts";
import { consoleLogger, type Logger, silentLogger } from "../log.ts";
import type { EndpointOptions, TlsIdentity } from "../endpoint/endpoint.ts";
import type { RelayAccount } from "../endpoint/relay_client.ts";
import { type Fingerprint, parseFingerprint } from "../payload/fingerprint.ts";
import { MsrpSendError } from "../session/outgoing.ts";
import { markTraceLines } from "../wire/frame_trace.ts";
import { MsrpUri } from "../wire/uri.ts";
import { BoundedOutput } from "./output.ts";

/** Everything went well. */
export const EXIT_OK = 0;
/** The peer (or a relay) refused, or a send failed. */
export const EXIT_FAILED = 1;
/** The command line was wrong: a flag, a value, a URI, a file. */
export const EXIT_USAGE = 2;
/** The network failed: DNS, a refused or unreachable address, TLS. */
export const EXIT_NETWORK = 3;

/** The longest a timer may wait (`setTimeout` fires at once beyond 2^31 - 1 ms). */
export const FOREVER_MS = 2 ** 31 - 1;

/** A mistake on the command line; the command's `--help` explains the right form. */
export class UsageError extends MsrpError {
  /**
   * Makes a usage error.
   *
   * @param message what is wrong, in words
   */
  constructor(message: string) {
    super("usage", message);
    this.name = "UsageError";
  }
}

/** The process's standard streams and signals, injectable for tests. */
export interface CliIo {
  /**
   * Writes text to standard output as it is (add the line end yourself).
   *
   * @param text the text
   */
  out(text: string): void;
  /**
   * Writes text to standard error as it is.
   *
   * @param text the text
   */
  err(text: string): void;
  /** Standard input. */
  readonly stdin: ReadableStream<Uint8Array>;
  /** Whether standard input is a terminal (a person typing). */
  readonly stdinIsTerminal: boolean;
  /** Whether standard output is a terminal (received text is then cleaned of control characters). */
  readonly stdoutIsTerminal: boolean;
  /** Whether standard error is a terminal (progress bars are drawn only then). */
  readonly stderrIsTerminal: boolean;
  /**
   * Calls `handler` on SIGINT or SIGTERM; returns a function that stops listening.
   *
   * @param handler called with the signal's name
   */
  onSignal(handler: (signal: string) => void): () => void;
  /**
   * Calls `handler` on SIGHUP (where there is one); returns a function that
   * stops listening. `msrp relay` reloads its users file then.
   *
   * @param handler called on each SIGHUP
   */
  onHangup?(handler: () => void): () => void;
  /**
   * Resolves once what `out` and `err` queued was written; after SIGINT or
   * SIGTERM, within 2 s even when nobody reads (the rest is then dropped).
   */
  flush?(): Promise<void>;
}

/** After SIGINT or SIGTERM, how long output may take to drain before the process exits anyway. */
const STOP_FLUSH_MS = 2000;

let stderrQueue: BoundedOutput | undefined;

/** This process's standard error, as one bounded background queue shared by every writer. */
function stderrOutput(): BoundedOutput {
  return stderrQueue ??= new BoundedOutput((b) => Deno.stderr.write(b));
}

/**
 * The real standard streams of this process. Output goes through a bounded
 * queue written in the background (`output.ts`): a reader that does not keep
 * up loses text, never stalls the protocol, and is told so on stderr.
 */
export function denoIo(): CliIo {
  let stdin: ReadableStream<Uint8Array> | undefined;
  let stop = (): void => {};
  const stopped = new Promise<void>((resolve) => stop = resolve);
  const err = stderrOutput();
  const out = new BoundedOutput((b) => Deno.stdout.write(b), {
    onDrop: ({ started, lines, bytes }) =>
      err.write(
        started
          ? "msrp: standard output is not being read; dropping output until it is\n"
          : `msrp: dropped ${lines} line(s), ${bytes} bytes, of output nobody read\n`,
      ),
    onError: (e) =>
      err.write(`msrp: cannot write to standard output: ${e instanceof Error ? e.message : e}\n`),
  });
  return {
    out: (text) => out.write(text),
    err: (text) => err.write(text),
    get stdin() {
      return stdin ??= Deno.stdin.readable;
    },
    stdinIsTerminal: Deno.stdin.isTerminal(),
    stdoutIsTerminal: Deno.stdout.isTerminal(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    onSignal(handler) {
      const signals: Deno.Signal[] = Deno.build.os === "windows"
        ? ["SIGINT", "SIGBREAK"]
        : ["SIGINT", "SIGTERM"];
      const listeners = signals.map((s) =>
        [s, () => {
          stop();
          handler(s);
        }] as const
      );
      for (const [s, l] of listeners) Deno.addSignalListener(s, l);
      return () => {
        for (const [s, l] of listeners) Deno.removeSignalListener(s, l);
      };
    },
    onHangup(handler) {
      if (Deno.build.os === "windows") return () => {};
      const listener = (): void => handler();
      Deno.addSignalListener("SIGHUP", listener);
      return () => Deno.removeSignalListener("SIGHUP", listener);
    },
    flush(): Promise<void> {
      // Asked to stop: output nobody reads must not keep the process for long.
      const gaveUp = stopped.then(() =>
        new Promise<void>((resolve) => setTimeout(resolve, STOP_FLUSH_MS))
      );
      return Promise.race([Promise.all([out.flush(), err.flush()]).then(() => {}), gaveUp]);
    },
  };
}

/**
 * Text from the network made safe to show on a terminal: control
 * characters other than line feed and tab (which could move the cursor,
 * change colours or retitle the window) become U+FFFD.
 *
 * @param text received text
 */
export function forTerminal(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\r\n/g, "\n").replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, "\ufffd");
}

/**
 * Resolves with the signal's name on the first SIGINT or SIGTERM.
 *
 * @param io where signals come from
 * @returns the promise and a function that stops listening
 */
export function waitForSignal(io: CliIo): { signal: Promise<string>; dispose: () => void } {
  let dispose = (): void => {};
  const signal = new Promise<string>((resolve) => {
    dispose = io.onSignal((s) => resolve(s));
  });
  return { signal, dispose: () => dispose() };
}

/**
 * Parses a command's arguments with `node:util` `parseArgs` (strict: unknown
 * flags and missing values are usage errors).
 *
 * @param args the arguments after the command name
 * @param options the flags the command knows
 * @param allowPositionals whether plain arguments are allowed
 * @throws {UsageError} for an unknown flag or a missing value
 */
export function parseCommandArgs(
  args: string[],
  options: NonNullable<ParseArgsConfig["options"]>,
  allowPositionals = false,
): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals, strict: true });
    return { values, positionals };
  } catch (e) {
    // node's messages go on with advice about "--"; the first sentence says what is wrong.
    const text = e instanceof Error ? e.message : String(e);
    throw new UsageError(text.split(/\. (?=[A-Z])/)[0].replace(/\.$/, ""));
  }
}

/**
 * A string flag's value, or `undefined`.
 *
 * @param values parsed flags
 * @param name the flag's name without dashes
 */
export function str(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/**
 * A repeatable string flag's values (empty when absent).
 *
 * @param values parsed flags
 * @param name the flag's name without dashes
 */
export function strs(values: Record<string, unknown>, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/**
 * A TCP port from a flag value: an integer from 0 (any free port) to 65535.
 *
 * @param text the flag's value
 * @param flag the flag's name, for the message
 * @throws {UsageError} when it is not such an integer
 */
export function parsePort(text: string, flag: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError(
      `${flag} must be a port number from 0 to 65535, not ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}

/**
 * The peer's path from `--to`: one URI, or several separated by spaces (a
 * path through relays, RFC 4976 §5.1, as `msrp listen` prints it).
 *
 * @param text the flag's value
 * @throws {UsageError} naming the URI and what is wrong with it (the
 *   {@linkcode MsrpSyntaxError} message says where, RFC 4975 §9)
 */
export function parseUriList(text: string): MsrpUri[] {
  const parts = text.trim().split(/\s+/).filter((p) => p !== "");
  if (parts.length === 0) throw new UsageError("--to needs an msrp: or msrps: URI");
  return parts.map((p) => {
    try {
      return MsrpUri.parse(p);
    } catch (e) {
      if (e instanceof MsrpSyntaxError) throw new UsageError(`bad URI in --to: ${e.message}`);
      throw e;
    }
  });
}

/**
 * Reads a text file named on the command line.
 *
 * @param path the file
 * @param flag the flag that named it, for the message
 * @throws {UsageError} when the file cannot be read
 */
export async function readTextArg(path: string, flag: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new UsageError(`cannot read ${flag} ${path}: ${ioReason(e)}`);
  }
}

/**
 * A short reason for a file-system error ("no such file", "permission denied").
 *
 * @param e the error
 */
export function ioReason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.NotCapable) {
    return "not allowed (run with --allow-read/--allow-write)";
  }
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  return e instanceof Error ? e.message : String(e);
}

/** The flags shared by commands that make an endpoint. */
export const ENDPOINT_FLAGS = {
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  ca: { type: "string", multiple: true },
  fingerprint: { type: "string", multiple: true },
  relay: { type: "string" },
  user: { type: "string" },
  password: { type: "string" },
  "password-file": { type: "string" },
  expires: { type: "string" },
  verbose: { type: "boolean", short: "v" },
  trace: { type: "boolean" },
} as const;

/**
 * The password in a `--password-file`: its first line, without the line
 * end. Unlike `--password`, it is not visible to other local users (in
 * `/proc/PID/cmdline` or `ps`).
 *
 * @param path the file
 * @throws {UsageError} when it cannot be read or its first line is empty
 */
export async function readPasswordFile(path: string): Promise<string> {
  const text = await readTextArg(path, "--password-file");
  const nl = text.indexOf("\n");
  const line = (nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, "");
  if (line === "") throw new UsageError(`--password-file ${path}: the first line is empty`);
  return line;
}

/**
 * A positive whole number of seconds from a flag value, e.g. `--expires`.
 *
 * @param text the flag's value
 * @param flag the flag's name, for the message
 * @throws {UsageError} when it is not an integer from 1 to 2^31 - 1
 */
export function parseSeconds(text: string, flag: string): number {
  if (!/^[0-9]{1,10}$/.test(text) || Number(text) < 1 || Number(text) > 2 ** 31 - 1) {
    throw new UsageError(
      `${flag} must be a whole number of seconds from 1 to ${2 ** 31 - 1}, not ${
        JSON.stringify(text)
      }`,
    );
  }
  return Number(text);
}

/**
 * The text of one traced frame (a `frame in` or `frame out` event of a
 * trace logger, see `lib/wire/frame_trace.ts`) for standard error: a line
 * naming the direction and the peer, then the frame, each line after `> `
 * (written) or `< ` (read). Other events as one line.
 *
 * @param command the command's name, e.g. `send` (`""` for plain `msrp`)
 * @param message the event's message
 * @param data the event's data
 */
export function formatTrace(
  command: string,
  message: string,
  data: Record<string, unknown> | undefined,
): string {
  const who = command === "" ? "msrp" : `msrp ${command}`;
  const frame = data?.frame;
  if (typeof frame !== "string") {
    return `${who}: ${message}${data ? " " + JSON.stringify(data) : ""}\n`;
  }
  const incoming = data!.direction === "in";
  const conn = data!.connection === undefined ? "" : ` conn=${data!.connection}`;
  const peer = typeof data!.peer === "string" ? ` ${incoming ? "from" : "to"} ${data!.peer}` : "";
  return `${who}: ${message}${conn}${peer}\n` + markTraceLines(frame, incoming ? "in" : "out");
}

/**
 * The logger behind `--trace`: every frame in and out, written by `write`.
 *
 * @param command the command's name, e.g. `send`
 * @param write writes text to standard error
 */
export function traceLogger(command: string, write: (text: string) => void): Logger {
  return (_level, message, data) => write(formatTrace(command, message, data));
}

/**
 * Writes to this process's standard error, through the same bounded queue
 * as {@linkcode denoIo}'s `err`: a stalled reader never blocks the protocol.
 *
 * @param text what to write
 */
export function writeStderr(text: string): void {
  stderrOutput().write(text);
}

/**
 * Builds endpoint options from the shared flags: `--tls-cert`/`--tls-key`
 * (listen with msrps, RFC 4975 §14.2), `--ca` (extra trusted roots),
 * `--relay`/`--user`/`--password` (a relay that acts for us, RFC 4976 §5.1;
 * the password may come from `--password-file` or `MSRP_RELAY_PASSWORD`
 * instead), `--expires` (the lifetime asked of the relay, §6.3), `--verbose`,
 * `--trace` (every frame in and out on standard error).
 * With `--relay`, `--fingerprint` pins the relay's certificate; without, the
 * command passes {@linkcode peerPins} to `connect` or `accept`.
 *
 * @param values parsed flags
 * @param env reads an environment variable (`MSRP_RELAY_PASSWORD`)
 * @param command the command's name, for `--trace` lines
 * @param err where `--trace` writes (default: standard error)
 * @throws {UsageError} for half-given pairs, unreadable files or a bad relay URI
 */
export async function endpointOptions(
  values: Record<string, unknown>,
  env: (name: string) => string | undefined = safeEnv,
  command = "",
  err: (text: string) => void = writeStderr,
): Promise<EndpointOptions> {
  const options: EndpointOptions = {};
  const cert = str(values, "tls-cert");
  const key = str(values, "tls-key");
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  if (cert !== undefined && key !== undefined) {
    const tls: TlsIdentity = {
      cert: await readTextArg(cert, "--tls-cert"),
      key: await readTextArg(key, "--tls-key"),
    };
    options.tls = tls;
  }
  const ca = strs(values, "ca");
  if (ca.length > 0) {
    options.caCerts = await Promise.all(ca.map((f) => readTextArg(f, "--ca")));
  }
  const relay = str(values, "relay");
  const user = str(values, "user");
  const passwordFile = str(values, "password-file");
  if (passwordFile !== undefined && str(values, "password") !== undefined) {
    throw new UsageError("give --password or --password-file, not both");
  }
  if (relay !== undefined) {
    const password = str(values, "password") ??
      (passwordFile !== undefined ? await readPasswordFile(passwordFile) : undefined) ??
      env("MSRP_RELAY_PASSWORD");
    if (user === undefined || password === undefined) {
      throw new UsageError(
        "--relay needs --user and --password (or --password-file FILE, " +
          "or MSRP_RELAY_PASSWORD in the environment)",
      );
    }
    let uri: MsrpUri;
    try {
      uri = MsrpUri.parse(relay);
    } catch (e) {
      if (e instanceof MsrpSyntaxError) throw new UsageError(`bad URI in --relay: ${e.message}`);
      throw e;
    }
    const fingerprints = fingerprintFlags(values);
    if (fingerprints !== undefined && !uri.secure) {
      throw new UsageError(
        "--fingerprint pins a TLS certificate, but the --relay URI is msrp: (no TLS)",
      );
    }
    const expiresText = str(values, "expires");
    const account: RelayAccount = {
      uri,
      username: user,
      password,
      fingerprints,
      ...(expiresText !== undefined ? { expires: parseSeconds(expiresText, "--expires") } : {}),
    };
    options.relays = [account];
  } else if (
    user !== undefined || str(values, "password") !== undefined ||
    passwordFile !== undefined
  ) {
    throw new UsageError("--user and --password are for a relay: give --relay too");
  } else if (str(values, "expires") !== undefined) {
    throw new UsageError("--expires is the lifetime asked of a relay: give --relay too");
  }
  // MSRP_DEBUG (read here, not by the library) turns the protocol log on as --verbose does.
  const debug = values.verbose === true || envIsSet("MSRP_DEBUG");
  options.logger = debug ? consoleLogger(true) : silentLogger as Logger;
  if (values.trace === true) options.trace = traceLogger(command, err);
  return options;
}

/**
 * The certificate fingerprints given with `--fingerprint` (RFC 4975 §14.4,
 * RFC 8122 §5), e.g. `sha-256:AB:CD:…`; undefined when none.
 *
 * @param values parsed flags
 * @throws {UsageError} for a fingerprint that does not parse
 */
export function fingerprintFlags(values: Record<string, unknown>): Fingerprint[] | undefined {
  const texts = strs(values, "fingerprint");
  if (texts.length === 0) return undefined;
  return texts.map((t) => {
    try {
      return parseFingerprint(t);
    } catch (e) {
      throw new UsageError(`bad --fingerprint: ${(e as Error).message}`);
    }
  });
}

/**
 * The pins for a direct peer's certificate: `--fingerprint` without
 * `--relay` (with a relay they pin the relay, in {@linkcode endpointOptions}).
 * For `connect` they pin the peer's server certificate; for `accept`, the
 * client certificate of the peer that connects (it must present one).
 *
 * @param values parsed flags
 * @param secure whether the connection to the peer is TLS (an `msrps:` URI,
 *   or listening with `--tls-cert`)
 * @throws {UsageError} for a pin on a connection without TLS
 */
export function peerPins(
  values: Record<string, unknown>,
  secure: boolean,
): { fingerprints?: Fingerprint[] } {
  if (str(values, "relay") !== undefined) return {};
  const fingerprints = fingerprintFlags(values);
  if (fingerprints !== undefined && !secure) {
    throw new UsageError(
      "--fingerprint pins a TLS certificate, but this connection is msrp: (no TLS): " +
        "use an msrps: URI, or --tls-cert and --tls-key to listen",
    );
  }
  return { fingerprints };
}

function safeEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: as if unset
  }
}

/** Error codes of the network and TLS layers (see `lib/transport`): exit code 3. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  "dns-failed",
  "connect-refused",
  "connect-failed",
  "connect-aborted",
  "connection-reset",
  "connection-failed",
  "receive-overflow",
  "listen-failed",
  "tls-failed",
  "tls-untrusted",
  "tls-name-mismatch",
  "fingerprint-mismatch",
  "fingerprint-unsupported",
  "no-peer-certificate",
]);

/** Error codes that mean "the command line was wrong": exit code 2. */
const USAGE_CODES: ReadonlySet<string> = new Set(["usage", "bad-config", "bad-config-json"]);

function isNetwork(e: unknown, depth = 0): boolean {
  if (depth > 4 || !(e instanceof Error)) return false;
  if (e instanceof MsrpError && NETWORK_CODES.has(e.code)) return true;
  return isNetwork(e.cause, depth + 1);
}

/**
 * The exit code and the one line to print for an error that ended a
 * command: never a stack trace.
 *
 * @param e what was thrown
 * @returns the exit code (1, 2 or 3) and the line, without the command's prefix
 */
export function describeFailure(e: unknown): { exitCode: number; line: string } {
  if (e instanceof MsrpSyntaxError) return { exitCode: EXIT_USAGE, line: e.message };
  if (e instanceof MsrpError && USAGE_CODES.has(e.code)) {
    return { exitCode: EXIT_USAGE, line: e.message };
  }
  if (e instanceof MsrpSendError) {
    if (isNetwork(e.cause)) {
      return { exitCode: EXIT_NETWORK, line: `${e.message}: ${(e.cause as Error).message}` };
    }
    const status = e.status === 0 ? "" : ` (status ${e.status}${e.comment ? " " + e.comment : ""})`;
    return { exitCode: EXIT_FAILED, line: `not delivered: ${e.message}${status}` };
  }
  if (isNetwork(e)) return { exitCode: EXIT_NETWORK, line: oneLine(e) };
  if (e instanceof MsrpError) return { exitCode: EXIT_FAILED, line: oneLine(e) };
  if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
    return { exitCode: EXIT_USAGE, line: `not allowed: ${oneLine(e)}` };
  }
  return { exitCode: EXIT_FAILED, line: `unexpected error: ${oneLine(e)}` };
}

function oneLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n")[0];
}

/** Whether an environment variable is set; false when env access is not granted. */
function envIsSet(name: string): boolean {
  try {
    return Deno.env.get(name) !== undefined;
  } catch {
    return false;
  }
}
