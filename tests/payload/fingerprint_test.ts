import assert from "node:assert/strict";
import { MsrpError } from "../../lib/errors.ts";
import { parseFingerprint } from "../../lib/payload/sdp.ts";

const HEX =
  "28:66:BE:D0:7F:23:C3:2B:2F:99:DD:FD:21:10:62:07:36:C5:A9:E6:17:6D:E3:FF:85:2C:FB:65:DF:23:00:A5";

Deno.test("parseFingerprint: the pin forms people write, in RFC 8122 §5 spelling", () => {
  const want = { hash: "sha-256", value: HEX };
  for (
    const text of [
      `sha-256:${HEX}`,
      `SHA-256:${HEX.toLowerCase()}`,
      `sha-256 ${HEX}`, // SDP
      `sha256 Fingerprint=${HEX}`, // openssl x509 -fingerprint -sha256
      `SHA256 Fingerprint=${HEX}`,
      `sha256:${HEX.replace(/:/g, "")}`,
      HEX, // taken as SHA-256
      ` ${HEX.replace(/:/g, "").toLowerCase()}\n`,
    ]
  ) {
    assert.deepEqual(parseFingerprint(text), want, text);
  }
  assert.deepEqual(parseFingerprint("sha1:" + "AB:".repeat(19) + "CD"), {
    hash: "sha-1",
    value: "AB:".repeat(19) + "CD",
  });
});

Deno.test("parseFingerprint: bad forms are bad-fingerprint with the reason", () => {
  const cases: [string, string][] = [
    ["", "write it as sha-256:AB:CD"],
    ["sha-256:", "write it as sha-256:AB:CD"],
    [`sha-256:${HEX}:`, "write it as sha-256:AB:CD"],
    [`sha-256:${HEX.replace("28:66", "28::66")}`, "write it as sha-256:AB:CD"],
    [`sha-256:${HEX.replace("28", "2G")}`, "write it as sha-256:AB:CD"],
    [`sha3-256:${HEX}`, `unknown hash function "sha3-256"`],
    [`sha-256:${HEX.slice(3)}`, "a sha-256 fingerprint has 32 hex pairs, not 31"],
    [`sha-1:${HEX}`, "a sha-1 fingerprint has 20 hex pairs, not 32"],
  ];
  for (const [text, words] of cases) {
    assert.throws(
      () => parseFingerprint(text),
      (e: unknown) =>
        e instanceof MsrpError && e.code === "bad-fingerprint" && e.message.includes(words),
      text,
    );
  }
});
