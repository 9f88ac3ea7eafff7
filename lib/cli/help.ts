/**
 * The help texts of the `msrp` command line (one per command), with
 * examples. MSRP itself is RFC 4975; relays are RFC 4976.
 *
 * @module
 */

/** `msrp --help`. */
export const MAIN_HELP =
  `msrp: send and receive MSRP messages and files (RFC 4975), run a relay (RFC 4976)

Usage:
  msrp listen [options]             wait for a peer; print what it sends, save files
  msrp send --to <uri> [options]    send a text, a file or standard input to a peer
  msrp chat (--listen | --to <uri>) interactive chat: lines typed are sent
  msrp relay [options]              run an MSRP relay
  msrp help [command]               show help (also: msrp <command> --help)
  msrp --version                    show the version

There is no SIP or SDP here: "listen" prints its MSRP URI, and you give it to
"send" or "chat" with --to.

Example:
  $ msrp listen --port 2855
  msrp://127.0.0.1:2855/k3P9bXaQ2mLw7s1Z;tcp
  $ msrp send --to 'msrp://127.0.0.1:2855/k3P9bXaQ2mLw7s1Z;tcp' Hello there

Exit codes:
  0  success
  1  the peer or a relay refused, or a message could not be delivered
  2  usage error: a bad flag, a bad URI, an unreadable file
  3  network error: unreachable host, refused connection, TLS failure
`;

/** `msrp listen --help`. */
export const LISTEN_HELP = `Usage: msrp listen [options]

Listens on a port, makes one MSRP session and prints its URI as the first line
of standard output. The first peer that connects to that URI binds the session
(RFC 4975 §5.4). Text messages (text/*) are printed to standard output as they
arrive; other messages, texts over 1 MiB, and messages sent as files
(Content-Disposition attachment or filename) are streamed to files named by
their filename or their Message-ID (existing files are never overwritten).

Any number of peers can use the printed URI (or, with --relay, the printed
path), at once or one after another: each gets a session of its own. Through a
relay nothing tells listen that a peer has gone, so it keeps at most 100
sessions and closes the one quiet the longest past that. With --once it exits
after the first message has been printed or saved.
SIGINT (Ctrl-C) or SIGTERM stops it with exit code 0.

Options:
  --host <name>         host name or IP address in the URI (default 127.0.0.1)
  --bind <address>      address to bind, when it differs from --host (e.g. 0.0.0.0)
  --port <n>            port to listen on; 0 picks a free one (default 0)
  --tls-cert <file>     listen with TLS (msrps:) with this certificate (PEM)...
  --tls-key <file>      ...and this private key (PEM)
  --save <dir>          save every message (texts too) into <dir> (default: texts
                        are printed, other messages saved in the current directory)
  --once                exit after the first message
  --relay <uri>         be reached through this relay (RFC 4976); prints the path
  --user <name>         user name at the relay
  --password-file <f>   read the password at the relay from the first line of <f>
  --password <secret>   password at the relay (or MSRP_RELAY_PASSWORD); visible to
                        other local users (ps): prefer --password-file
  --expires <seconds>   lifetime to ask the relay for in AUTH (RFC 4976 §6.3;
                        default: the relay's choice); renewed before it ends
  --ca <file>           extra trusted CA certificate (PEM), e.g. the relay's; repeatable
  --fingerprint <fp>    with --relay: pin the relay's certificate (see "msrp send");
                        with --tls-cert: accept only a peer presenting a certificate
                        with this fingerprint (RFC 4975 §14.4); repeatable
  -v, --verbose         log protocol events to standard error
  --trace               show every frame in and out on standard error: start
                        line, headers, body length and first 32 bytes, end-line
  -h, --help            show this help

Examples:
  msrp listen
  msrp listen --host 192.0.2.10 --bind 0.0.0.0 --port 2855 --save ./inbox
  msrp listen --tls-cert server.pem --tls-key server.key --once
`;

/** `msrp send --help`. */
export const SEND_HELP = `Usage: msrp send --to <uri> [options] [text...]

Connects to a peer's MSRP URI (as printed by "msrp listen"), sends one message
and waits until it is confirmed: by a 200 response, or with --success-report
by the receiver's success REPORT (RFC 4975 §7.1.3). Prints a one-line summary
on standard error. The message is the text given as arguments, or the file
given with --file, or else standard input.

Through a relay the 200 comes from the relay (RFC 4976 §6.4.1): it means the
relay has the message, not that the receiver got it (a later failure would come
back as a REPORT, which send does not wait for). Add --success-report to wait
for the receiver's own confirmation (only if it sends success REPORTs: many MSRP
clients never do).

A file is sent as Content-Disposition: attachment with its name, and shows a
progress bar when standard error is a terminal.

Options:
  --to <uri>            the peer's URI (msrp:// or msrps://); a path through
                        relays is several URIs separated by spaces
  --file <path>         send this file
  --content-type <t>    the Content-Type (default: text/plain;charset=UTF-8 for
                        text, by file extension for files, else
                        application/octet-stream)
  --success-report      ask the receiver for a success REPORT and wait for it
  --ca <file>           extra trusted CA certificate (PEM) for msrps; repeatable
  --fingerprint <fp>    pin the certificate of the peer (msrps:) or, with --relay,
                        of the relay: it must have this fingerprint, e.g.
                        sha-256:AB:CD:... (as "openssl x509 -noout -fingerprint
                        -sha256 -in cert.pem" prints it); no CA is needed then
                        (RFC 4975 §14.4); repeatable
  --tls-cert <file>     present this certificate (PEM) to a peer that checks it...
  --tls-key <file>      ...with this private key (PEM)
  --relay <uri>         send through this relay (RFC 4976), e.g. msrps://relay.example.com:2855;tcp
  --user <name>         user name at the relay
  --password-file <f>   read the password at the relay from the first line of <f>
  --password <secret>   password at the relay (or MSRP_RELAY_PASSWORD); visible to
                        other local users (ps): prefer --password-file
  --expires <seconds>   lifetime to ask the relay for in AUTH (RFC 4976 §6.3)
  -v, --verbose         log protocol events to standard error
  --trace               show every frame in and out on standard error: start
                        line, headers, body length and first 32 bytes, end-line
  -h, --help            show this help

Examples:
  msrp send --to 'msrp://127.0.0.1:2855/k3P9bXaQ2mLw7s1Z;tcp' Hello there
  msrp send --to "$URI" --file photo.jpg --success-report
  echo '{"a":1}' | msrp send --to "$URI" --content-type application/json
  msrp send --to "$URI" --ca ca.pem --relay 'msrps://relay.example.com:2855;tcp' \\
    --user alice --password-file ~/.msrp-password Hi
  msrp send --to "$URI" --trace Hi       # see the SEND and its 200 on the wire
`;

/** `msrp chat --help`. */
export const CHAT_HELP = `Usage: msrp chat --listen [options]
       msrp chat --to <uri> [options]

Interactive chat over one MSRP session: each line read from standard input is
sent as a text/plain message; messages received are printed to standard output
as "peer> text". Ends (exit 0) when standard input ends, when the peer leaves,
or on SIGINT/SIGTERM.

With --listen it prints its URI as the first line of standard output and waits
for one peer. It learns where to send from the peer's first message; the
"chat --to" side sends an RFC 3994 "idle" status message right after it
connects, so either side may speak first. (Another MSRP client must send
something first: lines typed before then wait.)

Options:
  --listen              wait for a peer (see "msrp listen" for --host, --bind,
                        --port, --tls-cert, --tls-key)
  --to <uri>            connect to a peer (see "msrp send" for --ca, --relay,
                        --user, --password-file, --password)
  --host, --bind, --port, --tls-cert, --tls-key, --ca, --fingerprint, --relay,
  --user, --password-file, --password, --expires
  -v, --verbose         log protocol events to standard error
  --trace               show every frame in and out on standard error
  -h, --help            show this help

Examples:
  msrp chat --listen --port 2855
  msrp chat --to 'msrp://127.0.0.1:2855/k3P9bXaQ2mLw7s1Z;tcp'
`;

/** `msrp relay --help`. */
export const RELAY_HELP = `Usage: msrp relay [options]

Runs an MSRP relay (RFC 4976): clients AUTH to it with HTTP Digest over TLS and
then send through it. Prints the relay's URIs on standard output, one per
listener, and runs until SIGINT (Ctrl-C) or SIGTERM, then exits 0.

Settings come from --config (a JSON file; see lib/relay/config.ts) and the
flags below, which override the file.

Users are best given in a users file (--users-file): one "user:realm:HA1" line
each, as htdigest writes them, where HA1 = hash of "user:realm:password" in hex:
32 digits for MD5, 64 for SHA-256 (the relay offers both: give a line for each).
The realm is the relay's host name. Lines starting with # are comments. On
SIGHUP the relay reads the file again; connections and registrations stay.

Options:
  --users-file <file>   users allowed to AUTH, "user:realm:HA1" per line
  --config <file>       a relay configuration file (JSON)
  --host <name>         the relay's host name, as written in its URIs; must be a
                        name, not an IP address (RFC 4976 §4.2) (default localhost)
  --alias <name>        another name the relay answers to in To-Path; repeatable
  --realm <realm>       the Digest realm of its challenges (default: --host, §5.1)
  --bind <address>      address to listen on; repeatable, one listener each
                        (default 0.0.0.0)
  --port <n>            port to listen on; 0 picks a free one (default 2855)
  --advertise-port <n>  port written in the relay's URIs when it differs from
                        --port (behind port forwarding)
  --tls-cert <file>     TLS certificate (PEM); its names must include --host
  --tls-key <file>      TLS private key (PEM)
  --tls-ca <file>       CA (PEM) for relay-to-relay mutual TLS: ask peers for a
                        certificate and check next hops against it
  --trusted-relay <name>  a relay accepted as a peer by its TLS certificate
                        (default: any that authenticates); repeatable
  --user <name:password>  a user allowed to AUTH; repeatable. The password is
                        visible to every local user (ps, /proc): for tests only
  --expires <s>         Expires granted when AUTH asks for none (default 1800)
  --min-expires <s>     shortest Expires granted, else 423 (default 60, §6.3)
  --max-expires <s>     longest Expires granted, else 423 (default 86400)
  --max-connections <n> connections open at once (default 10000)
  --max-registrations <n>  Use-Path URIs alive at once (default 100000)
  --limit <name=value>  any limit of lib/relay/config.ts (times in ms), e.g.
                        idleMs=60000 or probationMs=5000; repeatable
  --algorithm <name>    a Digest algorithm offered, SHA-256 or MD5, strongest
                        first; repeatable (default: both, RFC 4976 §9.1)
  --block-unknown-methods  answer unknown methods 501 instead of forwarding
                        them (RFC 4976 §6.4.2)
  --insecure            listen on plain TCP (msrp:) and accept AUTH over it:
                        for testing only (RFC 4976 §9.2 requires TLS); the relay
                        prints a warning when it starts
  --ws <port>           also listen for browsers: MSRP over WebSocket (RFC 7977),
                        wss: with subprotocol msrp; plain ws: with --insecure
  --origin <url>        a web origin (https://chat.example.com) whose pages may
                        use --ws; repeatable. Other origins get HTTP 403; programs
                        (no Origin header) are allowed. Default: every origin
  --web <dir>           serve the files in <dir> (the web chat page: web/ after
                        deno task build) on the --ws port: open https://host:port/
  --no-release-memory   keep the memory a burst or a load grew into; by default,
                        once the relay has been quiet for 5 s (no bytes read, no
                        connection opened or closed) it runs a full garbage
                        collection and, with glibc and --allow-ffi, malloc_trim
                        (at most once a minute)
  --release-memory-after <ms>  how long the relay is quiet before it gives memory
                        back (default 5000)
  -v, --verbose         log every relay event, including each frame forwarded
                        or dropped and why (default: warnings and errors)
  --trace               show every frame in and out on standard error
  -h, --help            show this help

Examples:
  printf 'alice:relay.example.com:%s\\n' \\
    "$(printf %s alice:relay.example.com:secret | sha256sum | cut -d' ' -f1)" \\
    "$(printf %s alice:relay.example.com:secret | md5sum | cut -d' ' -f1)" >> users.txt
  msrp relay --host relay.example.com --tls-cert cert.pem --tls-key key.pem \\
    --users-file users.txt
  kill -HUP <pid>       # after editing users.txt
  msrp relay --config relay.json
  msrp relay --insecure --port 0 --user test:test
  msrp relay --host relay.example.com --tls-cert cert.pem --tls-key key.pem \\
    --users-file users.txt --ws 443 --origin https://chat.example.com
`;
