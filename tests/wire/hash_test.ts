// MD5 and SHA-256 in plain TypeScript, against the published test vectors
// and against node:crypto over random inputs of every length around the
// padding boundaries.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { md5Hex, sha256Hex } from "../../lib/wire/hash.ts";

Deno.test("md5Hex: the RFC 1321 §A.5 test suite", () => {
  const suite: [string, string][] = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    [
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      "d174ab98d277d9f5a5611c2c9f419d9f",
    ],
    ["1234567890".repeat(8), "57edf4a22be3c955ac49da2e2107b67a"],
  ];
  for (const [input, digest] of suite) assert.equal(md5Hex(input), digest, input);
});

Deno.test("sha256Hex: the FIPS 180-4 examples (one and two blocks)", () => {
  assert.equal(
    sha256Hex("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.equal(
    sha256Hex(""),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});

Deno.test("md5Hex and sha256Hex agree with node:crypto for 0-300 random bytes and UTF-8 text", () => {
  let seed = 7;
  const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  for (let n = 0; n <= 300; n++) {
    const bytes = Uint8Array.from({ length: n }, next);
    assert.equal(md5Hex(bytes), createHash("md5").update(bytes).digest("hex"), `md5 ${n}`);
    assert.equal(sha256Hex(bytes), createHash("sha256").update(bytes).digest("hex"), `sha ${n}`);
  }
  const text = "Mufasa:http-auth@example.org:Circle of Life ✓ ünïcödé";
  assert.equal(md5Hex(text), createHash("md5").update(text, "utf8").digest("hex"));
  assert.equal(sha256Hex(text), createHash("sha256").update(text, "utf8").digest("hex"));
});
