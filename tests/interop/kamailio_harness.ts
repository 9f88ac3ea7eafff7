/**
 * Kamailio's `msrp` module as an MSRP relay (RFC 4976 §5.1 AUTH, §6.4
 * forwarding), started on loopback for the interop test and the relay bench.
 *
 * Kamailio is a SIP server; its `msrp` module turns each MSRP frame into an
 * `event_route[msrp:frame-in]` run of the config script, which decides what
 * to do. There is no built-in relay policy, so this module writes a config
 * of its own into a temporary directory, after the relay example of the
 * module's documentation (README.msrp, "Event Route (using htable for MSRP
 * connection tracking)"):
 *
 * - **AUTH** to Kamailio itself (no further To-Path hop) is checked with
 *   Digest (`pv_www_authenticate`, the `auth` module) against static test
 *   credentials kept in an `htable`; a 401 carries the challenge. Once it
 *   passes, the script makes a session id, remembers the connection it came
 *   on under that id, and answers 200 with `Use-Path: <scheme>://<ip>:<port>/<id>;tcp`
 *   and `Expires` (RFC 4976 §6.3, with a 423 for an Expires out of bounds).
 *   An AUTH that came through one inner relay gets that relay's URI first
 *   in the Use-Path (RFC 4976 §5.1: "Use-Path returned by C: B C"); the
 *   documented example leaves it out. More than one inner relay is not
 *   handled.
 * - **SEND** with more than one hop left is answered 200 at once (Kamailio
 *   answers hop by hop) and relayed to the next To-Path URI, by its address
 *   (RFC 4976 §6.4). When the next hop is the last one, the To-Path URI
 *   Kamailio is at names one of its own session ids, and the frame goes over
 *   the connection remembered for it. REPORTs go the same way, unanswered.
 * - **Responses** are relayed towards the next To-Path URI by its address.
 * - AUTH with hops left is relayed (a client reaching an outer relay through
 *   Kamailio, RFC 4976 §5.1).
 *
 * Kamailio runs in the foreground (`-DD -E`) with a pid file, working and
 * runtime directory in the temporary directory, and stops on SIGTERM. Its
 * log (stderr) is kept, the last 64 KiB of it, to explain a failure.
 *
 * Kamailio resolves host names with its own DNS resolver unless
 * `use_dns_cache=off`; the config turns it off so that `localhost` (this
 * project's relay, whose URIs need a host name) resolves from /etc/hosts.
 *
 * @module
 */

const CERTS = new URL("../fixtures/certs/", import.meta.url);

/** The users Kamailio accepts (Digest, static test credentials). */
export const KAMAILIO_USERS: Readonly<Record<string, string>> = {
  alice: "alice-secret",
  bob: "bob-secret",
};

/** The Digest realm of the generated config. */
export const KAMAILIO_REALM = "kamailio.test";

/** The Expires Kamailio grants when the AUTH asks for none, and its bounds (seconds). */
export const KAMAILIO_EXPIRES = { default: 600, min: 60, max: 3600 } as const;

/** What is installed: the binary, its version and whether TLS can be used. */
export interface KamailioInstall {
  /** Path of the `kamailio` binary. */
  readonly binary: string;
  /** e.g. `5.6.3`. */
  readonly version: string;
  /** The module directory. */
  readonly modules: string;
  /** Whether `tls.so` is there (Debian: package `kamailio-tls-modules`). */
  readonly tls: boolean;
}

async function findBinary(): Promise<string | undefined> {
  const fromEnv = Deno.env.get("KAMAILIO");
  const dirs = (Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "");
  const candidates = fromEnv !== undefined
    ? [fromEnv]
    : [...dirs, "/usr/sbin", "/usr/local/sbin"].map((d) => `${d}/kamailio`);
  for (const c of candidates) {
    try {
      if ((await Deno.stat(c)).isFile) return c;
    } catch {
      // not there
    }
  }
  return undefined;
}

async function output(binary: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(binary, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return dec.decode(out.stdout) + dec.decode(out.stderr);
}

/**
 * Looks for Kamailio; the reason it cannot be used when it cannot.
 *
 * @returns the installation, or a sentence saying what is missing
 */
export async function findKamailio(): Promise<KamailioInstall | string> {
  const binary = await findBinary();
  if (binary === undefined) {
    return "kamailio is not installed (Debian: apt-get install kamailio kamailio-tls-modules)";
  }
  try {
    const version = /kamailio (\d+\.\d+\.\d+)/.exec(await output(binary, ["-v"]))?.[1];
    // `kamailio -h` names the compiled-in module directory ("-L path ... (default: DIR)").
    const modules = /-L path[^(]*\(default: ([^)]+)\)/.exec(await output(binary, ["-h"]))?.[1];
    if (version === undefined || modules === undefined) {
      return `${binary} did not say its version and module directory`;
    }
    const has = async (name: string) => {
      try {
        return (await Deno.stat(`${modules}/${name}`)).isFile;
      } catch {
        return false;
      }
    };
    if (!(await has("msrp.so"))) return `${modules}/msrp.so is missing`;
    return { binary, version, modules, tls: await has("tls.so") };
  } catch (error) {
    return `${binary} cannot be run: ${(error as Error).message}`;
  }
}

/** Options of {@linkcode startKamailio}. */
export interface KamailioOptions {
  /** Also listen with TLS, with the `localhost` / 127.0.0.1 test certificate. Default false. */
  tls?: boolean;
  /**
   * TCP worker processes (`tcp_children`). Default 1: with 2, Kamailio 5.6
   * once (in a loaded CI run) did not find the receiver's connection from
   * the worker forwarding to it, "quick connected" to the receiver's address
   * instead, and dropped the frames queued meanwhile ("write queue full",
   * "forwarding frame failed") after answering them 200 hop by hop. The
   * bench runs with 2 (`bench/_relay_setup.ts`).
   */
  tcpChildren?: number;
  /**
   * The most bytes queued for writing on one connection
   * (`tcp_conn_wq_max`; Kamailio's default is 32 KiB, and a frame that does
   * not fit is dropped after it was answered 200). The bench gives it as
   * much as this project's relay buffers per connection.
   */
  writeQueueMax?: number;
}

/** A running Kamailio. */
export interface Kamailio {
  /** Its relay URI over TCP, e.g. `msrp://127.0.0.1:40123;tcp`. */
  readonly tcpUri: string;
  /** Its relay URI over TLS (when started with `tls`). */
  readonly tlsUri: string | undefined;
  /** The process id of Kamailio's main process. */
  readonly pid: number;
  /** The process ids of the main process and its workers (for measuring their memory). */
  pids(): Promise<number[]>;
  /** The last 64 KiB of its log. */
  log(): string;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and removes its directory. */
  close(): Promise<void>;
}

/** Free TCP ports on 127.0.0.1 (bound and released; another process could take one first). */
async function freePorts(n: number): Promise<number[]> {
  const listeners = Array.from(
    { length: n },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  await Promise.resolve();
  return ports;
}

function config(
  dir: string,
  install: KamailioInstall,
  tcpPort: number,
  tlsPort: number | undefined,
  tcpChildren: number,
  writeQueueMax: number | undefined,
): string {
  const users = Object.entries(KAMAILIO_USERS)
    .map(([u, p]) => `  $sht(users=>${u}) = "${p}";`)
    .join("\n");
  const tls = tlsPort !== undefined;
  const usePath = (scheme: string, port: number) =>
    `"Use-Path: " + $var(inner) + "${scheme}://127.0.0.1:${port}/" + $var(sessid) + ";tcp\\r\\nExpires: " + $var(expires) + "\\r\\n"`;
  return `#!KAMAILIO
# Generated by tests/interop/kamailio_harness.ts: an MSRP relay on loopback.
debug=2
log_stderror=yes
fork=yes
children=1
tcp_children=${tcpChildren}
auto_aliases=no
use_dns_cache=off
tcp_accept_no_cl=yes
${
    writeQueueMax === undefined
      ? ""
      : `tcp_conn_wq_max=${writeQueueMax}\ntcp_wq_max=${Math.max(writeQueueMax * 64, 1 << 26)}\n`
  }mpath="${install.modules}/"
listen=tcp:127.0.0.1:${tcpPort}
${tls ? `enable_tls=yes\nlisten=tls:127.0.0.1:${tlsPort}\nloadmodule "tls.so"` : ""}
loadmodule "kex.so"
loadmodule "cfgutils.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "auth.so"
loadmodule "htable.so"
loadmodule "msrp.so"
${tls ? `modparam("tls", "config", "${dir}/tls.cfg")` : ""}
modparam("auth", "nonce_count", 1)
modparam("auth", "qop", "auth")
modparam("htable", "htable", "msrp=>size=10;autoexpire=${KAMAILIO_EXPIRES.max + 5};")
modparam("htable", "htable", "users=>size=4;")

# No SIP here.
request_route { sl_send_reply("403", "No SIP Here"); exit; }
reply_route { drop; }

event_route[htable:mod-init] {
${users}
}

event_route[msrp:frame-in] {
  msrp_reply_flags("1");
  if (msrp_is_reply()) { msrp_relay(); exit; }
  if ($msrp(method) == "AUTH") {
    if ($msrp(nexthops) > 0) { msrp_relay(); exit; }
    $var(passwd) = $sht(users=>$au);
    if (!pv_www_authenticate("${KAMAILIO_REALM}", "$var(passwd)", "0", "$msrp(method)")) {
      if (auth_get_www_authenticate("${KAMAILIO_REALM}", "1", "$var(wauth)")) {
        msrp_reply("401", "Unauthorized", "$var(wauth)");
      } else {
        msrp_reply("500", "Server Error");
      }
      exit;
    }
    $var(expires) = ${KAMAILIO_EXPIRES.default};
    if ($hdr(Expires) != $null) {
      $var(expires) = (int) $hdr(Expires);
      if ($var(expires) < ${KAMAILIO_EXPIRES.min}) {
        msrp_reply("423", "Interval Out-of-Bounds", "Min-Expires: ${KAMAILIO_EXPIRES.min}\\r\\n");
        exit;
      }
      if ($var(expires) > ${KAMAILIO_EXPIRES.max}) {
        msrp_reply("423", "Interval Out-of-Bounds", "Max-Expires: ${KAMAILIO_EXPIRES.max}\\r\\n");
        exit;
      }
    }
    $var(cnt) = $var(cnt) + 1;
    pv_printf("$var(sessid)", "s.$(pp).$(var(cnt)).$(RANDOM)");
    $sht(msrp=>$var(sessid)::srcaddr) = $msrp(srcaddr);
    $sht(msrp=>$var(sessid)::srcsock) = $msrp(srcsock);
    $shtex(msrp=>$var(sessid)) = $var(expires) + 5;
    # Through an inner relay (From-Path: that relay, then the client), the
    # Use-Path starts with it (RFC 4976 §5.1: "Use-Path returned by C: B C").
    $var(inner) = "";
    if ($msrp(prevhops) > 1) { $var(inner) = $msrp(prevhop) + " "; }
    ${
    tls
      ? `if ($Rp == ${tlsPort}) { $var(hdrs) = ${
        usePath("msrps", tlsPort)
      }; } else { $var(hdrs) = ${usePath("msrp", tcpPort)}; }`
      : `$var(hdrs) = ${usePath("msrp", tcpPort)};`
  }
    msrp_reply("200", "OK", "$var(hdrs)");
    exit;
  }
  if ($msrp(method) == "SEND" || $msrp(method) == "REPORT") {
    if ($msrp(nexthops) > 1) {
      if ($msrp(method) != "REPORT") { msrp_reply("200", "OK"); }
      msrp_relay();
      exit;
    }
    $var(sessid) = $msrp(sessid);
    if ($sht(msrp=>$var(sessid)::srcaddr) == $null) {
      if ($msrp(method) != "REPORT") { msrp_reply("481", "Session-does-not-exist"); }
      exit;
    }
    if ($msrp(method) != "REPORT") { msrp_reply("200", "OK"); }
    msrp_relay_flags("1");
    msrp_set_dst("$sht(msrp=>$var(sessid)::srcaddr)", "$sht(msrp=>$var(sessid)::srcsock)");
    msrp_relay();
    exit;
  }
  msrp_reply("501", "Request-method-not-understood");
}
`;
}

function tlsConfig(): string {
  const path = (name: string) => new URL(name, CERTS).pathname;
  return `[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
certificate = ${path("server.pem")}
private_key = ${path("server.key")}

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
`;
}

/** Keeps the last `max` characters of a text stream. */
async function keepTail(stream: ReadableStream<Uint8Array>, into: { text: string }, max: number) {
  for await (const piece of stream.pipeThrough(new TextDecoderStream())) {
    into.text = (into.text + piece).slice(-max);
  }
}

async function canConnect(port: number): Promise<boolean> {
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts Kamailio on free loopback ports and waits until it accepts
 * connections (at most 10 s).
 *
 * @param install what {@linkcode findKamailio} found
 * @param options TLS, worker count
 * @throws {Error} with Kamailio's log when it does not come up
 */
export async function startKamailio(
  install: KamailioInstall,
  options: KamailioOptions = {},
): Promise<Kamailio> {
  if (options.tls && !install.tls) throw new Error("kamailio's tls module is not installed");
  const dir = await Deno.makeTempDir({ prefix: "msrp-kamailio-" });
  const [tcpPort, tlsPort] = await freePorts(2);
  const tls = options.tls ? tlsPort : undefined;
  await Deno.writeTextFile(
    `${dir}/kamailio.cfg`,
    config(dir, install, tcpPort, tls, options.tcpChildren ?? 1, options.writeQueueMax),
  );
  if (tls !== undefined) await Deno.writeTextFile(`${dir}/tls.cfg`, tlsConfig());
  const child = new Deno.Command(install.binary, {
    args: [
      "-f",
      `${dir}/kamailio.cfg`,
      "-DD", // do not daemonize: the process we started stays Kamailio's main process
      "-E", // log to stderr
      "-w",
      dir,
      "-Y",
      dir, // runtime directory (control sockets)
      "-P",
      `${dir}/kamailio.pid`,
      "-m",
      "64", // MB of shared memory
      "-M",
      "8", // MB of private memory per process
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logText = { text: "" };
  const draining = Promise.all([
    keepTail(child.stdout, logText, 65536),
    keepTail(child.stderr, logText, 65536),
  ]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      if (!exited) {
        child.kill("SIGTERM");
        let timer: ReturnType<typeof setTimeout> | undefined;
        const killed = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            if (!exited) child.kill("SIGKILL");
            resolve();
          }, 5000);
        });
        await Promise.race([status, killed]);
        clearTimeout(timer);
      }
      await status;
      await draining;
      await Deno.remove(dir, { recursive: true });
    })();
  // Up when both ports take connections; bounded in time.
  const until = performance.now() + 10_000;
  const ports = tls === undefined ? [tcpPort] : [tcpPort, tls];
  for (;;) {
    let up = true;
    for (const p of ports) up &&= await canConnect(p);
    if (up) break;
    if (exited || performance.now() > until) {
      await close();
      throw new Error(
        `kamailio did not start (${
          exited ? "it exited" : "not listening after 10 s"
        }):\n${logText.text}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    tcpUri: `msrp://127.0.0.1:${tcpPort};tcp`,
    tlsUri: tls === undefined ? undefined : `msrps://127.0.0.1:${tls};tcp`,
    pid: child.pid,
    pids: async () => {
      // The main process and its children (from /proc, Linux).
      const out = [child.pid];
      for await (const e of Deno.readDir("/proc")) {
        if (!/^\d+$/.test(e.name)) continue;
        try {
          const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
          const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
          if (ppid === child.pid) out.push(Number(e.name));
        } catch {
          // gone
        }
      }
      return out;
    },
    log: () => logText.text,
    close,
  };
}
