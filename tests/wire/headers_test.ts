import assert from "node:assert/strict";
import { MsrpSyntaxError } from "../../lib/errors.ts";
import { HeaderList } from "../../lib/wire/header_list.ts";
import {
  BYTE_RANGE,
  type ByteRange,
  CONTENT_DESCRIPTION,
  CONTENT_DISPOSITION,
  CONTENT_ID,
  CONTENT_TYPE,
  EXPIRES,
  FAILURE_REPORT,
  formatByteRange,
  formatContentDisposition,
  formatContentId,
  formatContentType,
  formatExpires,
  formatPath,
  formatStatus,
  FROM_PATH,
  getByteRange,
  getContentDescription,
  getContentDisposition,
  getContentId,
  getContentType,
  getExpires,
  getFailureReport,
  getFromPath,
  getMaxExpires,
  getMessageId,
  getMinExpires,
  getStatus,
  getSuccessReport,
  getToPath,
  getUsePath,
  MAX_EXPIRES,
  MESSAGE_ID,
  MIN_EXPIRES,
  paramValue,
  parseByteRange,
  parseContentDisposition,
  parseContentId,
  parseContentType,
  parseExpires,
  parseFailureReport,
  parseMessageId,
  parsePath,
  parseStatus,
  parseSuccessReport,
  STATUS,
  STATUS_TEXT,
  SUCCESS_REPORT,
  TO_PATH,
  USE_PATH,
} from "../../lib/wire/headers.ts";
import { MsrpUri } from "../../lib/wire/uri.ts";

/** Asserts that `fn` throws an MsrpSyntaxError with this code and offset. */
function throwsSyntax(fn: () => unknown, code: string, offset: number, label: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MsrpSyntaxError, `${label}: ${e}`);
    assert.deepEqual([e.code, e.offset], [code, offset], `${label}: ${e.message}`);
    return true;
  });
}

// ---------------------------------------------------------------------------
// Paths

/** Multi-hop path values from the examples of RFC 4976 and RFC 7977 (continuations joined). */
const RFC_PATHS = [
  "msrps://B.example.com/bbb;tcp msrps://Bob.example.com/bob;tcp",
  "msrps://B.example.com/bbb;tcp msrps://A.example.com/aaa;tcp msrps://Alice.example.com/alice;tcp",
  "msrps://a.example.org:9000/kjfjan;tcp msrps://b.example.net:9000/aeiug;tcp msrps://bob.example.net:8145/foo;tcp",
  "msrps://intra.example.com:9000/jui787s2f;tcp msrps://extra.example.com:9000/mywdEe1233;tcp",
  "msrps://intra.example.com:9000/jui787s2f;tcp msrps://alice.example.com:9892/98cjs;tcp",
  "msrps://a.example.com:2855/jui787s2f;tcp msrps://a.example.com:2855/iwnslt;tcp msrps://jk9awp14vj8x.invalid:2855/76qwe;ws",
  "msrps://a.example.com:2855/iwnslt;tcp msrps://a.example.com:2855/jui787s2f;tcp msrps://df7jal23ls0d.invalid/98cjs;ws",
  "msrps://alice@a.example.com:443;ws",
  "msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp",
];

Deno.test("headers: RFC paths parse and format back exactly", () => {
  for (const value of RFC_PATHS) {
    const uris = parsePath(value);
    assert.equal(uris.length, value.split(" ").length);
    assert.ok(uris.every((u) => u instanceof MsrpUri));
    assert.deepEqual(uris.map(String), value.split(" "));
    assert.equal(formatPath(uris), value);
  }
});

Deno.test("headers: paths tolerate extra spaces and tabs but not emptiness", () => {
  // RFC 7977 §8 writes "From-Path:  msrps://..." with two spaces.
  assert.deepEqual(
    parsePath(" msrps://a.example.com:2855/jui787s2f;tcp  \t msrps://b;ws ").map(String),
    ["msrps://a.example.com:2855/jui787s2f;tcp", "msrps://b;ws"],
  );
  throwsSyntax(() => parsePath(""), "empty-path", 0, "empty");
  throwsSyntax(() => parsePath("   "), "empty-path", 3, "spaces");
  throwsSyntax(() => formatPath([]), "empty-path", 0, "format empty");
  // URI errors point into the field value.
  throwsSyntax(() => parsePath("msrp://a:1;tcp msrp://1.2.3.4;tcp"), "missing-port", 29, "ip");
  throwsSyntax(() => parsePath("msrp://a:1;tcp  x"), "bad-scheme", 16, "junk");
  throwsSyntax(() => parsePath("msrp://a:1;tcp,msrp://b;tcp"), "bad-transport", 14, "comma");
});

// ---------------------------------------------------------------------------
// Message-ID

Deno.test("headers: Message-ID", () => {
  for (const id of ["87652491", "12339sdqwer", "a.b-c+d%e=f", "abcd", "x".repeat(64)]) {
    assert.equal(parseMessageId(id), id);
  }
  assert.equal(parseMessageId(" 4dsd9 "), "4dsd9");
  const bad: [string, number][] = [
    ["", 0],
    ["abc", 3],
    [".abc", 0],
    ["ab cd", 2],
    ["abc_d", 3],
    ["x".repeat(65), 64],
    ["abcé", 3],
  ];
  for (const [value, offset] of bad) {
    throwsSyntax(() => parseMessageId(value), "bad-message-id", offset, value);
  }
});

// ---------------------------------------------------------------------------
// Byte-Range

Deno.test("headers: Byte-Range values", () => {
  const good: [string, ByteRange][] = [
    ["1-0/0", { start: 1, end: 0, total: 0 }],
    ["1-*/*", { start: 1, end: "*", total: "*" }],
    ["1-2048/5000", { start: 1, end: 2048, total: 5000 }],
    ["2049-5000/5000", { start: 2049, end: 5000, total: 5000 }],
    ["2049-*/5000", { start: 2049, end: "*", total: 5000 }],
    ["1-100/*", { start: 1, end: 100, total: "*" }],
    ["101-100/*", { start: 101, end: 100, total: "*" }],
    ["5001-5000/5000", { start: 5001, end: 5000, total: 5000 }],
    ["01-0010/0010", { start: 1, end: 10, total: 10 }],
    ["1-9007199254740991/9007199254740991", {
      start: 1,
      end: Number.MAX_SAFE_INTEGER,
      total: Number.MAX_SAFE_INTEGER,
    }],
  ];
  for (const [value, range] of good) {
    assert.deepEqual(parseByteRange(value), range, value);
  }
  for (const [value, range] of good.slice(0, 8)) {
    assert.equal(formatByteRange(range), value);
  }
  assert.equal(formatByteRange({ start: 1, end: 10, total: 10 }), "1-10/10");
});

Deno.test("headers: bad Byte-Range values", () => {
  const bad: [string, string, number][] = [
    ["", "bad-byte-range", 0],
    ["1", "bad-byte-range", 1],
    ["1-", "bad-byte-range", 2],
    ["1-5", "bad-byte-range", 3],
    ["1-5/", "bad-byte-range", 4],
    ["*-5/5", "bad-byte-range", 0],
    ["a-5/5", "bad-byte-range", 0],
    ["1-b/5", "bad-byte-range", 2],
    ["1-5/c", "bad-byte-range", 4],
    ["1-5/5x", "bad-byte-range", 5],
    ["1 -5/5", "bad-byte-range", 1],
    ["1-5/5 6", "bad-byte-range", 5],
    ["-1-5/5", "bad-byte-range", 0],
    ["1-5/**", "bad-byte-range", 5],
    ["0-0/0", "range-start-zero", 0],
    ["0-5/5", "range-start-zero", 0],
    ["5-3/10", "range-end-before-start", 2],
    ["10-1/*", "range-end-before-start", 3],
    ["1-11/10", "range-end-beyond-total", 2],
    ["1-1/0", "range-end-beyond-total", 2],
    ["12-*/10", "range-start-beyond-total", 0],
    ["9007199254740992-*/*", "range-number-too-large", 0],
    ["1-99999999999999999999/*", "range-number-too-large", 2],
    ["1-*/" + "9".repeat(10_000), "range-number-too-large", 4],
  ];
  for (const [value, code, offset] of bad) {
    throwsSyntax(() => parseByteRange(value), code, offset, value);
  }
});

Deno.test("headers: formatByteRange refuses ranges the parser would refuse", () => {
  const bad: [ByteRange, string][] = [
    [{ start: 0, end: 0, total: 0 }, "range-start-zero"],
    [{ start: 5, end: 3, total: 10 }, "range-end-before-start"],
    [{ start: 1, end: 11, total: 10 }, "range-end-beyond-total"],
    [{ start: 1.5, end: 2, total: 3 }, "bad-byte-range"],
    [{ start: 1, end: -1, total: 3 }, "bad-byte-range"],
    [{ start: 1, end: 2 ** 53, total: "*" }, "bad-byte-range"],
    [{ start: 1, end: NaN, total: "*" }, "bad-byte-range"],
  ];
  for (const [range, code] of bad) {
    assert.throws(
      () => formatByteRange(range),
      (e: unknown) => e instanceof MsrpSyntaxError && e.code === code,
      JSON.stringify(range),
    );
  }
});

// ---------------------------------------------------------------------------
// Success-Report, Failure-Report

Deno.test("headers: Success-Report and Failure-Report values", () => {
  assert.equal(parseSuccessReport("yes"), "yes");
  assert.equal(parseSuccessReport("no"), "no");
  assert.equal(parseSuccessReport("YES"), "yes");
  assert.equal(parseFailureReport("yes"), "yes");
  assert.equal(parseFailureReport("no"), "no");
  assert.equal(parseFailureReport("partial"), "partial");
  assert.equal(parseFailureReport("Partial"), "partial");
  throwsSyntax(() => parseSuccessReport("partial"), "bad-success-report", 0, "partial");
  throwsSyntax(() => parseSuccessReport(""), "bad-success-report", 0, "empty");
  throwsSyntax(() => parseSuccessReport("yess"), "bad-success-report", 0, "yess");
  throwsSyntax(() => parseFailureReport("maybe"), "bad-failure-report", 0, "maybe");
  throwsSyntax(() => parseFailureReport(" y"), "bad-failure-report", 1, "y");
});

Deno.test("headers: report defaults of RFC 4975 §7.1.1", () => {
  const none = new HeaderList();
  assert.equal(getSuccessReport(none), "no");
  assert.equal(getFailureReport(none), "yes");
  const set = new HeaderList([["success-report", "yes"], ["FAILURE-REPORT", "partial"]]);
  assert.equal(getSuccessReport(set), "yes");
  assert.equal(getFailureReport(set), "partial");
  const bad = new HeaderList([[SUCCESS_REPORT, "sure"], [FAILURE_REPORT, "never"]]);
  throwsSyntax(() => getSuccessReport(bad), "bad-success-report", 0, "success");
  throwsSyntax(() => getFailureReport(bad), "bad-failure-report", 0, "failure");
});

// ---------------------------------------------------------------------------
// Status

Deno.test("headers: Status values", () => {
  assert.deepEqual(parseStatus("000 200 OK"), { namespace: "000", code: 200, comment: "OK" });
  assert.deepEqual(parseStatus("000 413 Message too large, stop"), {
    namespace: "000",
    code: 413,
    comment: "Message too large, stop",
  });
  assert.deepEqual(parseStatus("000 481"), { namespace: "000", code: 481, comment: "" });
  assert.deepEqual(parseStatus("123 099 x"), { namespace: "123", code: 99, comment: "x" });
  assert.deepEqual(parseStatus("000 200 Grüße"), {
    namespace: "000",
    code: 200,
    comment: "Grüße",
  });
  const bad: [string, number][] = [
    ["", 0],
    ["200", 3],
    ["00 200", 0],
    ["0000 200", 3],
    ["000", 3],
    ["000 ", 4],
    ["000 20", 4],
    ["000 2000", 4],
    ["000 20x OK", 4],
    ["abc 200", 0],
    ["000-200", 3],
  ];
  for (const [value, offset] of bad) {
    throwsSyntax(() => parseStatus(value), "bad-status", offset, value);
  }
});

Deno.test("headers: formatStatus", () => {
  assert.equal(formatStatus({ code: 200, comment: "OK" }), "000 200 OK");
  assert.equal(formatStatus({ code: 481 }), "000 481");
  assert.equal(formatStatus({ namespace: "001", code: 7, comment: "" }), "001 007");
  assert.equal(formatStatus({ code: 413, comment: STATUS_TEXT[413] }), "000 413 Message Too Large");
  for (const s of [{ code: 1000 }, { code: -1 }, { code: 2.5 }, { namespace: "0", code: 200 }]) {
    assert.throws(
      () => formatStatus(s),
      (e: unknown) => (e as MsrpSyntaxError).code === "bad-status",
    );
  }
  throwsSyntax(() => formatStatus({ code: 200, comment: "a\r\nb" }), "bad-status", 1, "crlf");
  for (const s of [{ code: 200, comment: "OK" }, { code: 481 }, { namespace: "999", code: 0 }]) {
    const parsed = parseStatus(formatStatus(s));
    assert.equal(parsed.code, s.code);
  }
});

Deno.test("headers: STATUS_TEXT has a comment for every code of RFC 4975 §10 and RFC 4976", () => {
  assert.deepEqual(Object.keys(STATUS_TEXT).map(Number), [
    200,
    400,
    401,
    403,
    408,
    413,
    415,
    423,
    481,
    501,
    506,
  ]);
  assert.equal(STATUS_TEXT[200], "OK");
  assert.equal(STATUS_TEXT[401], "Unauthorized");
  assert.equal(STATUS_TEXT[423], "Interval Out-of-Bounds");
  assert.equal(STATUS_TEXT[481], "Session Does Not Exist");
  assert.ok(Object.isFrozen(STATUS_TEXT));
});

// ---------------------------------------------------------------------------
// Content-Type, Content-Disposition, Content-ID

Deno.test("headers: Content-Type values", () => {
  assert.deepEqual(parseContentType("text/plain"), {
    type: "text",
    subtype: "plain",
    mediaType: "text/plain",
    params: [],
  });
  assert.deepEqual(parseContentType("Message/CPIM"), {
    type: "message",
    subtype: "cpim",
    mediaType: "message/cpim",
    params: [],
  });
  assert.deepEqual(parseContentType("application/xhtml+xml"), {
    type: "application",
    subtype: "xhtml+xml",
    mediaType: "application/xhtml+xml",
    params: [],
  });
  const ct = parseContentType('text/plain;Charset=UTF-8; format="flowed" ;q="a \\"b\\" \\\\c";x');
  assert.equal(ct.mediaType, "text/plain");
  assert.deepEqual(ct.params, [
    ["charset", "UTF-8"],
    ["format", "flowed"],
    ["q", 'a "b" \\c'],
    ["x", undefined],
  ]);
  assert.equal(paramValue(ct.params, "CHARSET"), "UTF-8");
  assert.equal(paramValue(ct.params, "x"), undefined);
  assert.equal(paramValue(ct.params, "missing"), undefined);
  assert.deepEqual(parseContentType('multipart/mixed; boundary="a;b=c d"').params, [
    ["boundary", "a;b=c d"],
  ]);
  assert.deepEqual(parseContentType('a/b;n=""').params, [["n", ""]]);
  assert.deepEqual(parseContentType('a/b;n="é\t"').params, [["n", "é\t"]]);
  // Leniencies: spaces around "=", a trailing ";", any escaped character.
  assert.deepEqual(parseContentType("a/b; n = v ;").params, [["n", "v"]]);
  assert.deepEqual(parseContentType('a/b;n="\\x"').params, [["n", "x"]]);
});

Deno.test("headers: bad Content-Type values", () => {
  const bad: [string, number][] = [
    ["", 0],
    ["text", 4],
    ["text/", 5],
    ["/plain", 0],
    ["text /plain", 4],
    ["text/plain charset=x", 11],
    ["text/plain;=x", 11],
    ["text/plain;a=", 13],
    ["text/plain;a=b c", 15],
    ['text/plain;a="b', 13],
    ['text/plain;a="b\\', 15],
    ['text/plain;a="b\x01"', 15],
    ["text/pl@in", 7],
    ["text/plain;;a=b", 11],
  ];
  for (const [value, offset] of bad) {
    throwsSyntax(() => parseContentType(value), "bad-content-type", offset, value);
  }
});

Deno.test("headers: formatContentType quotes what is not a token", () => {
  assert.equal(formatContentType({ type: "text", subtype: "plain" }), "text/plain");
  assert.equal(
    formatContentType({
      type: "text",
      subtype: "plain",
      params: [["charset", "utf-8"], ["name", "a b.txt"], ["q", 'x"\\y'], ["e", ""], [
        "f",
        undefined,
      ]],
    }),
    'text/plain;charset=utf-8;name="a b.txt";q="x\\"\\\\y";e="";f',
  );
  const original = parseContentType('message/cpim;a=1;b="2 3";c="\\"";d');
  const again = parseContentType(formatContentType(original));
  assert.deepEqual(again, original);
  throwsSyntax(
    () => formatContentType({ type: "te xt", subtype: "plain" }),
    "bad-content-type",
    2,
    "type",
  );
  throwsSyntax(
    () => formatContentType({ type: "text", subtype: "" }),
    "bad-content-type",
    0,
    "subtype",
  );
  throwsSyntax(
    () => formatContentType({ type: "a", subtype: "b", params: [["n;", "v"]] }),
    "bad-content-type",
    1,
    "name",
  );
  throwsSyntax(
    () => formatContentType({ type: "a", subtype: "b", params: [["n", "v\nw"]] }),
    "bad-content-type",
    1,
    "value",
  );
});

Deno.test("headers: Content-Disposition", () => {
  assert.deepEqual(parseContentDisposition('attachment; filename="a.txt"'), {
    type: "attachment",
    params: [["filename", "a.txt"]],
  });
  assert.deepEqual(parseContentDisposition("Inline"), { type: "inline", params: [] });
  assert.deepEqual(
    parseContentDisposition(
      'render; filename="My Photo.jpg"; size=1024; creation-date="Mon, 1 Jan 2024 00:00:00 GMT"',
    ).params,
    [["filename", "My Photo.jpg"], ["size", "1024"], [
      "creation-date",
      "Mon, 1 Jan 2024 00:00:00 GMT",
    ]],
  );
  assert.deepEqual(parseContentDisposition("attachment; filename*=utf-8''a%20b").params, [
    ["filename*", "utf-8''a%20b"],
  ]);
  assert.equal(
    formatContentDisposition({
      type: "attachment",
      params: [["filename", "a b.txt"], ["size", "3"]],
    }),
    'attachment;filename="a b.txt";size=3',
  );
  assert.equal(formatContentDisposition({ type: "inline" }), "inline");
  throwsSyntax(() => parseContentDisposition(""), "bad-content-disposition", 0, "empty");
  throwsSyntax(() => parseContentDisposition(";a=b"), "bad-content-disposition", 0, "no type");
  throwsSyntax(
    () => parseContentDisposition('attachment; filename="a.txt'),
    "bad-content-disposition",
    21,
    "open quote",
  );
  throwsSyntax(
    () => formatContentDisposition({ type: "at tach" }),
    "bad-content-disposition",
    2,
    "format",
  );
});

Deno.test("headers: Content-ID", () => {
  assert.equal(parseContentId("<part1@example.com>"), "part1@example.com");
  assert.equal(parseContentId(" <abc> "), "abc");
  assert.equal(formatContentId("x@y"), "<x@y>");
  const bad: [string, number][] = [
    ["", 0],
    ["abc", 0],
    ["<>", 1],
    ["<abc", 4],
    ["<a b>", 2],
    ["<a<b>", 2],
    ["<ab>c", 4],
  ];
  for (const [value, offset] of bad) {
    throwsSyntax(() => parseContentId(value), "bad-content-id", offset, value);
  }
  throwsSyntax(() => formatContentId("a>b"), "bad-content-id", 3, "format");
});

// ---------------------------------------------------------------------------
// Expires

Deno.test("headers: Expires, Min-Expires, Max-Expires values", () => {
  assert.equal(parseExpires("900"), 900);
  assert.equal(parseExpires("0"), 0);
  assert.equal(parseExpires("0001800"), 1800);
  assert.equal(parseExpires(" 1800 "), 1800);
  assert.equal(parseExpires("2147483647"), 2147483647);
  throwsSyntax(() => parseExpires("2147483648"), "expires-too-large", 0, "2^31");
  throwsSyntax(() => parseExpires("9".repeat(10_000)), "expires-too-large", 0, "huge");
  throwsSyntax(() => parseExpires(""), "bad-expires", 0, "empty");
  throwsSyntax(() => parseExpires("-1"), "bad-expires", 0, "negative");
  throwsSyntax(() => parseExpires("1.5"), "bad-expires", 1, "fraction");
  throwsSyntax(() => parseExpires("12s"), "bad-expires", 2, "unit");
  assert.equal(formatExpires(1800), "1800");
  assert.equal(formatExpires(0), "0");
  for (const n of [-1, 1.5, 2 ** 31, NaN]) {
    assert.throws(
      () => formatExpires(n),
      (e: unknown) => (e as MsrpSyntaxError).code === "bad-expires",
    );
  }
});

// ---------------------------------------------------------------------------
// Accessors on a HeaderList

Deno.test("headers: accessors read a HeaderList (RFC 4976 §5.1 AUTH response)", () => {
  const headers = new HeaderList([
    [TO_PATH, "msrps://alice.example.com:9892/98cjs;tcp"],
    [FROM_PATH, "msrps://alice@intra.example.com;tcp"],
    [USE_PATH, "msrps://intra.example.com:9000/jui787s2f;tcp"],
    [EXPIRES, "900"],
  ]);
  assert.deepEqual(getToPath(headers)?.map(String), ["msrps://alice.example.com:9892/98cjs;tcp"]);
  assert.deepEqual(getFromPath(headers)?.map(String), ["msrps://alice@intra.example.com;tcp"]);
  assert.deepEqual(getUsePath(headers)?.map(String), [
    "msrps://intra.example.com:9000/jui787s2f;tcp",
  ]);
  assert.equal(getExpires(headers), 900);
  assert.equal(getMinExpires(headers), undefined);
  assert.equal(getMaxExpires(headers), undefined);
  assert.equal(getMessageId(headers), undefined);
  assert.equal(getByteRange(headers), undefined);
  assert.equal(getStatus(headers), undefined);
  assert.equal(getContentType(headers), undefined);
  assert.equal(getContentId(headers), undefined);
  assert.equal(getContentDescription(headers), undefined);
  assert.equal(getContentDisposition(headers), undefined);
  assert.equal(getSuccessReport(headers), "no");
  assert.equal(getFailureReport(headers), "yes");
});

Deno.test("headers: accessors read a SEND and a REPORT (RFC 4975 §7.1)", () => {
  const send = new HeaderList([
    ["to-path", "msrp://bob.example.com:8888/9di4eae923wzd;tcp"],
    ["FROM-PATH", "msrp://alicepc.example.com:7777/iau39soe2843z;tcp"],
    [MESSAGE_ID, "12339sdqwer"],
    [BYTE_RANGE, "1-16/16"],
    [SUCCESS_REPORT, "yes"],
    [FAILURE_REPORT, "no"],
    [CONTENT_ID, "<m1@example.com>"],
    [CONTENT_DESCRIPTION, " A greeting "],
    [CONTENT_DISPOSITION, 'inline; filename="hi.txt"'],
    [CONTENT_TYPE, "text/plain; charset=utf-8"],
  ]);
  assert.equal(getToPath(send)?.[0].port, 8888);
  assert.equal(getFromPath(send)?.[0].sessionId, "iau39soe2843z");
  assert.equal(getMessageId(send), "12339sdqwer");
  assert.deepEqual(getByteRange(send), { start: 1, end: 16, total: 16 });
  assert.equal(getSuccessReport(send), "yes");
  assert.equal(getFailureReport(send), "no");
  assert.equal(getContentId(send), "m1@example.com");
  assert.equal(getContentDescription(send), " A greeting ");
  assert.deepEqual(getContentDisposition(send), {
    type: "inline",
    params: [["filename", "hi.txt"]],
  });
  assert.equal(getContentType(send)?.mediaType, "text/plain");
  assert.equal(paramValue(getContentType(send)!.params, "charset"), "utf-8");

  const report = new HeaderList([
    [TO_PATH, "msrp://alicepc.example.com:7777/iau39soe2843z;tcp"],
    [FROM_PATH, "msrp://bob.example.com:8888/9di4eae923wzd;tcp"],
    [MESSAGE_ID, "12339sdqwer"],
    [BYTE_RANGE, "1-106/106"],
    [STATUS, "000 200 OK"],
  ]);
  assert.deepEqual(getStatus(report), { namespace: "000", code: 200, comment: "OK" });

  const relay = new HeaderList([[MIN_EXPIRES, "60"], [MAX_EXPIRES, "3600"]]);
  assert.equal(getMinExpires(relay), 60);
  assert.equal(getMaxExpires(relay), 3600);
});

Deno.test("headers: accessors throw for present but malformed values", () => {
  const cases: [string, string, (h: HeaderList) => unknown, string][] = [
    [TO_PATH, "", getToPath, "empty-path"],
    [FROM_PATH, "msrp://h;tcp x", getFromPath, "bad-scheme"],
    [USE_PATH, "msrps://1.2.3.4;tcp", getUsePath, "missing-port"],
    [MESSAGE_ID, "a", getMessageId, "bad-message-id"],
    [BYTE_RANGE, "3-1/5", getByteRange, "range-end-before-start"],
    [STATUS, "200 OK", getStatus, "bad-status"],
    [CONTENT_TYPE, "text", getContentType, "bad-content-type"],
    [CONTENT_ID, "x", getContentId, "bad-content-id"],
    [CONTENT_DISPOSITION, "", getContentDisposition, "bad-content-disposition"],
    [EXPIRES, "soon", getExpires, "bad-expires"],
    [MIN_EXPIRES, "4294967296", getMinExpires, "expires-too-large"],
    [MAX_EXPIRES, "x", getMaxExpires, "bad-expires"],
  ];
  for (const [name, value, get, code] of cases) {
    assert.throws(
      () => get(new HeaderList([[name, value]])),
      (e: unknown) => e instanceof MsrpSyntaxError && e.code === code && e.input === value,
      `${name}: ${value}`,
    );
  }
});

Deno.test("headers: accessors read the first of repeated fields", () => {
  const h = new HeaderList([[EXPIRES, "10"], [EXPIRES, "20"]]);
  assert.equal(getExpires(h), 10);
});
