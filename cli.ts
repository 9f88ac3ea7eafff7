/**
 * The `msrp` command: send and receive MSRP messages and files (RFC 4975)
 * and run a relay (RFC 4976) from a shell.
 *
 * ```sh
 * deno install -g -A -n msrp cli.ts
 * msrp listen                      # prints its URI, then what arrives
 * msrp send --to '<uri>' Hello     # in another terminal
 * msrp chat --listen | msrp chat --to '<uri>'
 * msrp relay --host relay.example.com --tls-cert cert.pem --tls-key key.pem --user alice:secret
 * ```
 *
 * Exit codes: 0 success, 1 refused or not delivered, 2 usage error (bad
 * flag, bad URI), 3 network error (unreachable, TLS). `msrp help <command>`
 * shows each command's options and examples.
 *
 * @module
 */

import { denoIo } from "./lib/cli/common.ts";
import { runCli } from "./lib/cli/main.ts";

if (import.meta.main) {
  const io = denoIo();
  const code = await runCli(Deno.args, io);
  await io.flush?.(); // what was printed goes out first (unless a signal said stop)
  Deno.exit(code);
}
