/**
 * The `msrp` command line: picks the command and turns what ends it into
 * an exit code and, on failure, one line on standard error (never a stack
 * trace). See `cli.ts` for the entry point and `help.ts` for the commands:
 * sessions and files (RFC 4975) and the relay (RFC 4976).
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import { chatCommand } from "./chat.ts";
import { type CliIo, describeFailure, EXIT_OK, EXIT_USAGE, UsageError } from "./common.ts";
import { CHAT_HELP, LISTEN_HELP, MAIN_HELP, RELAY_HELP, SEND_HELP } from "./help.ts";
import { listenCommand } from "./listen.ts";
import { relayCommand } from "./relay.ts";
import { sendCommand } from "./send.ts";

/** The package version, from deno.json. */
export const VERSION: string = denoJson.version;

const COMMANDS: Readonly<
  Record<string, { run: (args: string[], io: CliIo) => Promise<number>; help: string }>
> = {
  listen: { run: listenCommand, help: LISTEN_HELP },
  send: { run: sendCommand, help: SEND_HELP },
  chat: { run: chatCommand, help: CHAT_HELP },
  relay: { run: relayCommand, help: RELAY_HELP },
};

/**
 * Runs the command line and returns the exit code (0 success, 1 refused or
 * failed, 2 usage, 3 network).
 *
 * @param args the arguments, e.g. `Deno.args`
 * @param io standard streams and signals
 */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === "--help" || first === "-h") {
    io.out(MAIN_HELP);
    return first === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (first === "--version" || first === "-V" || first === "version") {
    io.out(`msrp ${VERSION}\n`);
    return EXIT_OK;
  }
  if (first === "help") {
    const topic = rest[0];
    if (topic === undefined) io.out(MAIN_HELP);
    else if (Object.hasOwn(COMMANDS, topic)) io.out(COMMANDS[topic].help);
    else {
      io.err(
        `msrp: no help on ${JSON.stringify(topic)}: the commands are listen, send, chat, relay\n`,
      );
      return EXIT_USAGE;
    }
    return EXIT_OK;
  }
  if (!Object.hasOwn(COMMANDS, first)) {
    io.err(
      `msrp: unknown command ${
        JSON.stringify(first)
      }: the commands are listen, send, chat, relay\n`,
    );
    io.err("Try 'msrp --help'.\n");
    return EXIT_USAGE;
  }
  try {
    return await COMMANDS[first].run(rest, io);
  } catch (e) {
    const { exitCode, line } = describeFailure(e);
    io.err(`msrp ${first}: ${line}\n`);
    if (e instanceof UsageError) io.err(`Try 'msrp ${first} --help'.\n`);
    if (exitCode !== EXIT_USAGE && isDebug()) io.err(`${(e as Error)?.stack ?? e}\n`);
    return exitCode;
  }
}

function isDebug(): boolean {
  try {
    return Deno.env.get("MSRP_DEBUG") !== undefined;
  } catch {
    return false;
  }
}
