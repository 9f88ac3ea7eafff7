/**
 * Certificates made with openssl while the tests run, for the ways a
 * certificate goes wrong (RFC 4975 §5.4, §14.2, §14.4). The fixed ones under
 * tests/fixtures/certs (made by .ci/make_certs.sh) cover the good cases; the
 * ones here need dates in the past or the future, or openssl's defaults.
 *
 * Leaves are signed by the fixture CA (tests/fixtures/certs/ca.pem), so a test
 * trusts them with `caCerts: [CA]` and sees only the one thing that is wrong.
 */

const CERTS = new URL("./fixtures/certs/", import.meta.url);

/** A certificate (PEM) and its private key (PEM). */
export interface CertPair {
  cert: string;
  key: string;
}

/** The certificates made for the tests. */
export interface TestCerts {
  /**
   * Self-signed the common way, `openssl req -x509` with openssl's default
   * extensions: basicConstraints CA:TRUE. Names localhost, 127.0.0.1, ::1.
   */
  caSelfSigned: CertPair;
  /** Signed by the fixture CA; valid in 2000 only. */
  expired: CertPair;
  /** Signed by the fixture CA; valid from 2100. */
  notYetValid: CertPair;
  /** Signed by the fixture CA; extendedKeyUsage clientAuth only. */
  clientOnly: CertPair;
}

/** Why these tests cannot make certificates, or undefined when they can. */
export const OPENSSL_MISSING: string | undefined = (() => {
  try {
    const out = new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync();
    return out.success ? undefined : "openssl does not run";
  } catch (e) {
    return `openssl is not available: ${(e as Error).message}`;
  }
})();

let made: Promise<TestCerts> | undefined;

/** Makes the certificates once per test process (openssl must be on PATH). */
export function testCerts(): Promise<TestCerts> {
  return made ??= make();
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

const LEAF_NAMES = "subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1";

async function make(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "msrp-certs-" });
  try {
    const write = (name: string, text: string) => Deno.writeTextFile(`${dir}/${name}`, text);
    const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
    await Deno.copyFile(new URL("ca.pem", CERTS), `${dir}/ca.pem`);
    await Deno.copyFile(new URL("ca.key", CERTS), `${dir}/ca.key`);
    await openssl(
      dir,
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-out",
      "leaf.key",
    );
    const key = await read("leaf.key");
    // What `openssl req -x509` does with the stock openssl.cnf (v3_ca), written
    // out so that the test does not depend on the system's configuration.
    await write(
      "req.cnf",
      [
        "[req]",
        "distinguished_name = dn",
        "x509_extensions = v3_ca",
        "prompt = no",
        "[dn]",
        "CN = localhost",
        "[v3_ca]",
        "subjectKeyIdentifier = hash",
        "authorityKeyIdentifier = keyid:always,issuer",
        "basicConstraints = critical, CA:true",
        LEAF_NAMES,
        "",
      ].join("\n"),
    );
    await openssl(
      dir,
      "req",
      "-x509",
      "-config",
      "req.cnf",
      "-key",
      "leaf.key",
      "-days",
      "3650",
      "-out",
      "ca_self.pem",
    );
    await openssl(
      dir,
      "req",
      "-new",
      "-key",
      "leaf.key",
      "-subj",
      "/CN=localhost",
      "-out",
      "leaf.csr",
    );
    await write(
      "leaf.ext",
      `basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n` +
        `extendedKeyUsage = serverAuth, clientAuth\n${LEAF_NAMES}\n`,
    );
    await write(
      "client.ext",
      `basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n` +
        `extendedKeyUsage = clientAuth\n${LEAF_NAMES}\n`,
    );
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-days",
      "3650",
      "-extfile",
      "client.ext",
      "-set_serial",
      "10",
      "-out",
      "client.pem",
    );
    // `openssl ca` can set any validity period; it needs a small database.
    await Deno.mkdir(`${dir}/db`);
    await write("db/index.txt", "");
    await write("db/serial", "20\n");
    await write(
      "ca.cnf",
      [
        "[ca]",
        "default_ca = c",
        "[c]",
        "database = db/index.txt",
        "new_certs_dir = db",
        "serial = db/serial",
        "default_md = sha256",
        "policy = p",
        "unique_subject = no",
        "[p]",
        "commonName = supplied",
        "",
      ].join("\n"),
    );
    for (
      const [out, start, end] of [
        ["expired.pem", "20000101000000Z", "20010101000000Z"],
        ["future.pem", "21000101000000Z", "21010101000000Z"],
      ]
    ) {
      await openssl(
        dir,
        "ca",
        "-batch",
        "-config",
        "ca.cnf",
        "-cert",
        "ca.pem",
        "-keyfile",
        "ca.key",
        "-in",
        "leaf.csr",
        "-startdate",
        start,
        "-enddate",
        end,
        "-extfile",
        "leaf.ext",
        "-notext",
        "-out",
        out,
      );
    }
    return {
      caSelfSigned: { cert: await read("ca_self.pem"), key },
      expired: { cert: await read("expired.pem"), key },
      notYetValid: { cert: await read("future.pem"), key },
      clientOnly: { cert: await read("client.pem"), key },
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
