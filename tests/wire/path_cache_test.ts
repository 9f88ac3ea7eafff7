import assert from "node:assert/strict";
import { MsrpError } from "../../lib/errors.ts";
import { PathCache } from "../../lib/wire/path_cache.ts";

const A = "msrp://a.example.com:7654/jshA7we;tcp";
const B = "msrp://relay.example.com:2855/9di4ea;tcp";

Deno.test("path cache: the same text is parsed once, a new text again", () => {
  const cache = new PathCache();
  const first = cache.parse(`${B} ${A}`);
  assert.deepEqual(first.map(String), [B, A]);
  assert.equal(cache.parse(`${B} ${A}`), first); // the very same array
  const other = cache.parse(A);
  assert.notEqual(other, first);
  assert.deepEqual(other.map(String), [A]);
});

Deno.test("path cache: a bad path throws every time and is not remembered", () => {
  const cache = new PathCache();
  const good = cache.parse(A);
  for (let i = 0; i < 2; i++) {
    assert.throws(() => cache.parse("msrp://"), (e: unknown) => e instanceof MsrpError);
  }
  assert.equal(cache.parse(A), good);
});
