/** Tests for lib/payload/media_types.ts: accept-types matching (RFC 4975 §8.6, §7.3.1). */

import assert from "node:assert/strict";
import { MsrpSyntaxError } from "../../lib/errors.ts";
import {
  ALWAYS_ACCEPTED_TYPES,
  intersectAcceptTypes,
  isAcceptable,
  isAlwaysAccepted,
  isMultipart,
  isWrappedAcceptable,
  matchesAcceptTypes,
  mediaTypeEssence,
  parseMediaType,
} from "../../lib/payload/media_types.ts";

Deno.test("media types: parseMediaType reads type, subtype and parameters", () => {
  assert.deepEqual(parseMediaType("text/plain"), {
    type: "text",
    subtype: "plain",
    parameters: [],
  });
  assert.deepEqual(parseMediaType('Text/HTML; Charset=UTF-8;q="a \\"b\\"";flag'), {
    type: "text",
    subtype: "html",
    parameters: [["charset", "UTF-8"], ["q", 'a "b"'], ["flag", ""]],
  });
  assert.deepEqual(parseMediaType("text/*").subtype, "*");
  assert.equal(mediaTypeEssence("Message/CPIM"), "message/cpim");
  assert.equal(mediaTypeEssence("nonsense"), undefined);
});

Deno.test("media types: malformed media types fail with bad-media-type and an offset", () => {
  const cases: [string, number][] = [
    ["", 0],
    ["text", 4],
    ["text/", 5],
    ["/plain", 0],
    ["text/plain;", 11],
    ["text/plain x", 11],
    ['text/plain;a="x', 15],
    ["text/plain;a=", 13],
  ];
  for (const [input, offset] of cases) {
    assert.throws(
      () => parseMediaType(input),
      (e: unknown) =>
        e instanceof MsrpSyntaxError && e.code === "bad-media-type" && e.input === input &&
        e.offset === offset,
      input,
    );
  }
});

Deno.test("media types: exact entries match case-insensitively, parameters ignored", () => {
  const accept = ["message/cpim", "text/plain;charset=utf-8"];
  assert.equal(matchesAcceptTypes(accept, "text/plain"), true);
  assert.equal(matchesAcceptTypes(accept, "TEXT/Plain; charset=ISO-8859-1"), true);
  assert.equal(matchesAcceptTypes(accept, "Message/CPIM"), true);
  assert.equal(matchesAcceptTypes(accept, "text/html"), false);
  assert.equal(matchesAcceptTypes(accept, "message/imdn+xml"), false);
  assert.equal(matchesAcceptTypes(accept, "garbage"), false);
  assert.equal(matchesAcceptTypes([], "text/plain"), false);
});

Deno.test("media types: * and type/* wildcards (RFC 4975 §8.6)", () => {
  assert.equal(matchesAcceptTypes(["*"], "application/octet-stream"), true);
  assert.equal(matchesAcceptTypes(["*/*"], "image/png"), true);
  assert.equal(matchesAcceptTypes(["text/*"], "text/html"), true);
  assert.equal(matchesAcceptTypes(["TEXT/*"], "text/x-markdown;variant=gfm"), true);
  assert.equal(matchesAcceptTypes(["text/*"], "textual/html"), false);
  assert.equal(matchesAcceptTypes(["image/*"], "text/plain"), false);
  assert.equal(matchesAcceptTypes(["not a type", "image/*"], "image/jpeg"), true);
});

Deno.test("media types: multipart/mixed and multipart/alternative are always acceptable (§7.3.1)", () => {
  assert.deepEqual(ALWAYS_ACCEPTED_TYPES, ["multipart/mixed", "multipart/alternative"]);
  assert.equal(isAlwaysAccepted("multipart/mixed; boundary=x"), true);
  assert.equal(isAlwaysAccepted("Multipart/Alternative"), true);
  assert.equal(isAlwaysAccepted("multipart/related"), false);
  assert.equal(isMultipart("multipart/related; type=text/html"), true);
  assert.equal(isMultipart("message/cpim"), false);
  assert.equal(isAcceptable(["text/plain"], "multipart/mixed;boundary=b"), true);
  assert.equal(isAcceptable(["text/plain"], "multipart/related"), false);
  assert.equal(isAcceptable(["text/plain"], "text/plain"), true);
  assert.equal(isAcceptable(["text/plain"], "text/html"), false);
});

Deno.test("media types: wrapped types (§8.6)", () => {
  const accept = ["message/cpim"];
  const wrapped = ["text/plain", "image/*"];
  assert.equal(isWrappedAcceptable(accept, wrapped, "image/gif"), true);
  assert.equal(isWrappedAcceptable(accept, wrapped, "text/plain"), true);
  assert.equal(isWrappedAcceptable(accept, wrapped, "message/cpim"), true); // any root type
  assert.equal(isWrappedAcceptable(accept, wrapped, "multipart/mixed"), true);
  assert.equal(isWrappedAcceptable(accept, wrapped, "text/html"), false);
  // ...but a wrapped-only type is not acceptable at the top level.
  assert.equal(isAcceptable(accept, "image/gif"), false);
});

Deno.test("media types: intersecting accept-types narrows wildcards and keeps local order", () => {
  assert.deepEqual(
    intersectAcceptTypes(["message/cpim", "text/plain", "text/html"], [
      "message/cpim",
      "text/plain",
    ]),
    ["message/cpim", "text/plain"],
  );
  assert.deepEqual(intersectAcceptTypes(["*"], ["text/plain", "image/png"]), [
    "text/plain",
    "image/png",
  ]);
  assert.deepEqual(intersectAcceptTypes(["text/plain", "text/html", "image/png"], ["text/*"]), [
    "text/plain",
    "text/html",
  ]);
  assert.deepEqual(intersectAcceptTypes(["text/*"], ["*"]), ["text/*"]);
  assert.deepEqual(intersectAcceptTypes(["*"], ["*"]), ["*"]);
  assert.deepEqual(intersectAcceptTypes(["text/*"], ["text/*", "Text/Plain;charset=utf-8"]), [
    "text/*",
    "Text/Plain;charset=utf-8",
  ]);
  assert.deepEqual(intersectAcceptTypes(["text/plain"], ["TEXT/PLAIN", "text/plain"]), [
    "TEXT/PLAIN",
  ]);
  assert.deepEqual(intersectAcceptTypes(["image/png"], ["text/*"]), []);
});
