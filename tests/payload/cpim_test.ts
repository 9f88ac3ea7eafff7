/**
 * Tests for lib/payload/cpim.ts: byte-exact round trips of the message/cpim
 * examples of RFC 3862 §5.1, RFC 4975 §11.4, RFC 5438 §7-8 and RFC 5547 §9
 * (page breaks removed, CRLF line ends), the header model, escapes,
 * addresses, namespaces and malformed input.
 */

import assert from "node:assert/strict";
import { MsrpSyntaxError } from "../../lib/errors.ts";
import {
  buildCpim,
  CPIM_NAMESPACE,
  escapeCpimText,
  findCpimHeaders,
  formatCpimAddress,
  formatCpimDateTime,
  getContentHeader,
  getCpimHeader,
  makeCpimMessage,
  parseCpim,
  parseCpimAddress,
  quoteCpimString,
  unescapeCpimText,
} from "../../lib/payload/cpim.ts";
import {
  RFC5438_7_1_1_3,
  RFC5438_7_2_1_1,
  RFC5438_7_2_1_2,
  RFC5438_8_1,
  RFC5438_8_3,
} from "../fixtures/rfc5438_examples.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

// ---------------------------------------------------------------------------
// RFC examples
// ---------------------------------------------------------------------------

/** RFC 3862 §5.1 (the h:/e: lines; the m: line is the outer MIME header). */
const RFC3862_5_1 = [
  "From: MR SANDERS <im:piglet@100akerwood.com>",
  "To: Depressed Donkey <im:eeyore@100akerwood.com>",
  "DateTime: 2000-12-13T13:40:00-08:00",
  "Subject: the weather will be fine today",
  "Subject:;lang=fr beau temps prevu pour aujourd'hui",
  "NS: MyFeatures <mid:MessageFeatures@id.foo.com>",
  "Require: MyFeatures.VitalMessageOption",
  "MyFeatures.VitalMessageOption: Confirmation-requested",
  "MyFeatures.WackyMessageOption: Use-silly-font",
  "",
  "Content-type: text/xml; charset=utf-8",
  "Content-ID: <1234567890@foo.com>",
  "",
  "<body>",
  "Here is the text of my message.",
  "</body>",
].join("\r\n");

/** RFC 5547 §9.1 figure 10: the CPIM part of the first chunk. */
const RFC5547_FIG10 = [
  "To: Bob <sip:bob@example.com>",
  "From: Alice <sip:alice@example.com>",
  "DateTime: 2006-05-15T15:02:31-03:00",
  'Content-Disposition: render; filename="My cool picture.jpg";',
  '                   creation-date="Mon, 15 May 2006 15:01:31 +0300";',
  "                   size=4092",
  "Content-Type: image/jpeg",
  "",
  "... first set of bytes of the JPEG image ...",
].join("\r\n");

/** RFC 5547 §9.2 figure 17. */
const RFC5547_FIG17 = [
  "To: Bob <sip:bob@example.com>",
  "From: Alice <sip:alice@example.com>",
  "DateTime: 2006-05-15T15:02:31-03:00",
  'Content-Disposition: render; filename="My cool photo.jpg";',
  '               creation-date="Mon, 15 May 2006 15:01:31 +0300";',
  '               modification-date="Mon, 15 May 2006 16:04:53 +0300";',
  '               read-date="Mon, 16 May 2006 09:12:27 +0300";',
  "               size=1931",
  "Content-Type: image/jpeg",
  "",
  "...binary JPEG image...",
].join("\r\n");

/** RFC 5547 §9.2 figure 21. */
const RFC5547_FIG21 = [
  "To: Bob <sip:bob@example.com>",
  "From: Alice <sip:alice@example.com>",
  "DateTime: 2006-05-21T13:02:15-03:00",
  'Content-Disposition: render; filename="Sunset.jpg";',
  '                   creation-date="Sun, 21 May 2006 13:02:15 -0300";',
  "                   size=1931",
  "Content-Type: image/jpeg",
  "",
  "...binary JPEG image...",
].join("\r\n");

/**
 * RFC 4975 §11.4: the CPIM message carried in two chunks (figures 14 and
 * 15), put back together. The first chunk holds bytes 1-137.
 */
const RFC4975_11_4_CHUNK1 = [
  "To: Bob <sip:bob@example.com>",
  "From: Alice <sip:alice@example.com>",
  "DateTime: 2006-05-15T15:02:31-03:00",
  "Content-Type: text/plain",
  "",
  "ABCD",
].join("\r\n");
const RFC4975_11_4 = RFC4975_11_4_CHUNK1 + "1234567890";

const EXAMPLES: Record<string, string> = {
  RFC3862_5_1,
  RFC4975_11_4,
  RFC5438_7_1_1_3,
  RFC5438_7_2_1_1,
  RFC5438_7_2_1_2,
  RFC5438_8_1,
  RFC5438_8_3,
  RFC5547_FIG10,
  RFC5547_FIG17,
  RFC5547_FIG21,
};

for (const [name, text] of Object.entries(EXAMPLES)) {
  Deno.test(`cpim: ${name} parses and builds back byte for byte`, () => {
    const bytes = enc(text);
    assert.deepEqual(buildCpim(parseCpim(bytes)), bytes);
  });
}

Deno.test("cpim: RFC 3862 §5.1 headers, parameters, namespaces and content", () => {
  const m = parseCpim(enc(RFC3862_5_1));
  assert.equal(m.separated, undefined);
  assert.deepEqual(m.headers.map((h) => h.name), [
    "From",
    "To",
    "DateTime",
    "Subject",
    "Subject",
    "NS",
    "Require",
    "MyFeatures.VitalMessageOption",
    "MyFeatures.WackyMessageOption",
  ]);
  assert.deepEqual(m.headers[0], {
    name: "From",
    value: "MR SANDERS <im:piglet@100akerwood.com>",
    localName: "From",
    namespace: CPIM_NAMESPACE,
  });
  assert.deepEqual(m.headers[4], {
    name: "Subject",
    value: "beau temps prevu pour aujourd'hui",
    params: [{ name: "lang", value: "fr" }],
    localName: "Subject",
    namespace: CPIM_NAMESPACE,
  });
  assert.deepEqual(m.headers[7], {
    name: "MyFeatures.VitalMessageOption",
    value: "Confirmation-requested",
    prefix: "MyFeatures",
    localName: "VitalMessageOption",
    namespace: "mid:MessageFeatures@id.foo.com",
  });
  assert.deepEqual(m.contentHeaders, [
    { name: "Content-type", value: "text/xml; charset=utf-8" },
    { name: "Content-ID", value: "<1234567890@foo.com>" },
  ]);
  assert.equal(dec(m.body), "<body>\r\nHere is the text of my message.\r\n</body>");
  assert.equal(getContentHeader(m, "content-type"), "text/xml; charset=utf-8");
  assert.deepEqual(
    findCpimHeaders(m.headers, "mid:MessageFeatures@id.foo.com", "WackyMessageOption").map((h) =>
      h.value
    ),
    ["Use-silly-font"],
  );
  assert.deepEqual(parseCpimAddress(m.headers[1].value), {
    name: "Depressed Donkey",
    uri: "im:eeyore@100akerwood.com",
  });
});

Deno.test("cpim: RFC 4975 §11.4 shape: content headers without a blank line before them", () => {
  assert.equal(enc(RFC4975_11_4_CHUNK1).length, 137); // "Byte-Range: 1-137/148"
  const m = parseCpim(enc(RFC4975_11_4));
  assert.equal(m.separated, false);
  assert.deepEqual(m.headers.map((h) => [h.name, h.value]), [
    ["To", "Bob <sip:bob@example.com>"],
    ["From", "Alice <sip:alice@example.com>"],
    ["DateTime", "2006-05-15T15:02:31-03:00"],
  ]);
  assert.deepEqual(m.contentHeaders, [{ name: "Content-Type", value: "text/plain" }]);
  assert.equal(dec(m.body), "ABCD1234567890");
});

Deno.test("cpim: RFC 5438 §7.1.1.3: IMDN headers in their namespace", () => {
  const m = parseCpim(enc(RFC5438_7_1_1_3));
  assert.equal(m.separated, false);
  assert.equal(getCpimHeader(m.headers, "urn:ietf:params:imdn", "Message-ID"), "34jk324j");
  assert.equal(
    getCpimHeader(m.headers, "urn:ietf:params:imdn", "Disposition-Notification"),
    "positive-delivery, negative-delivery",
  );
  assert.equal(getCpimHeader(m.headers, CPIM_NAMESPACE, "DateTime"), "2006-04-04T12:16:49-05:00");
  assert.deepEqual(m.contentHeaders, [
    { name: "Content-type", value: "text/plain" },
    { name: "Content-length", value: "12" },
  ]);
  assert.equal(dec(m.body), "Hello World");
});

Deno.test("cpim: folded content headers are kept as written and unfolded on request", () => {
  const m = parseCpim(enc(RFC5438_8_3));
  assert.deepEqual(m.contentHeaders[0], {
    name: "Content-type",
    value: 'multipart/mixed;\r\n                   boundary="imdn-boundary"',
  });
  assert.equal(
    getContentHeader(m, "Content-Type"),
    'multipart/mixed;                   boundary="imdn-boundary"',
  );
  assert.ok(dec(m.body).startsWith("--imdn-boundary\r\nContent-type: message/imdn+xml\r\n\r\n"));
});

Deno.test("cpim: the body stays bytes, blank lines and invalid UTF-8 included", () => {
  const head = enc(
    "From: <im:a@x>\r\nTo: <im:b@x>\r\n\r\nContent-Type: application/octet-stream\r\n\r\n",
  );
  const body = new Uint8Array([0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a, 0xc3, 0x28, 0x0d, 0x0a]);
  const bytes = new Uint8Array([...head, ...body]);
  const m = parseCpim(bytes);
  assert.deepEqual(m.body, body);
  assert.deepEqual(buildCpim(m), bytes);
  // An empty content header section and an empty body are allowed.
  const bare = enc("From: <im:a@x>\r\n\r\n\r\n");
  assert.deepEqual(parseCpim(bare).contentHeaders, []);
  assert.equal(parseCpim(bare).body.length, 0);
  assert.deepEqual(buildCpim(parseCpim(bare)), bare);
});

Deno.test("cpim: UTF-8 header values", () => {
  const text =
    "From: Zoë <im:zoe@example.com>\r\nSubject: 日本語\r\n\r\nContent-Type: text/plain\r\n\r\nx";
  const m = parseCpim(enc(text));
  assert.deepEqual(parseCpimAddress(m.headers[0].value), {
    name: "Zoë",
    uri: "im:zoe@example.com",
  });
  assert.equal(m.headers[1].value, "日本語");
  assert.deepEqual(buildCpim(m), enc(text));
});

// ---------------------------------------------------------------------------
// Namespaces, escapes, addresses
// ---------------------------------------------------------------------------

Deno.test("cpim: namespaces follow the NS declarations, whatever the prefix", () => {
  const m = parseCpim(enc([
    "From: <im:a@x>",
    "NS: x <urn:ietf:params:imdn>",
    "x.Message-ID: one",
    "y.Message-ID: undeclared",
    "NS: <http://id.acme.widgets/wily-headers/>",
    "runner-trap: set",
    "",
    "Content-Type: text/plain",
    "",
    "",
  ].join("\r\n")));
  assert.deepEqual(findCpimHeaders(m.headers, "urn:ietf:params:imdn", "Message-ID"), [
    m.headers[2],
  ]);
  assert.equal(m.headers[3].namespace, undefined);
  assert.equal(m.headers[3].prefix, "y");
  assert.equal(m.headers[5].namespace, "http://id.acme.widgets/wily-headers/");
  assert.equal(
    getCpimHeader(m.headers, "http://id.acme.widgets/wily-headers/", "runner-trap"),
    "set",
  );
  assert.equal(getCpimHeader(m.headers, CPIM_NAMESPACE, "runner-trap"), undefined);
  // Lookups work on built (unparsed) headers too.
  assert.equal(
    getCpimHeader(
      [{ name: "NS", value: "i <urn:ietf:params:imdn>" }, { name: "i.Message-ID", value: "z" }],
      "urn:ietf:params:imdn",
      "Message-ID",
    ),
    "z",
  );
});

Deno.test("cpim: escapes (RFC 3862 §2.3)", () => {
  assert.equal(escapeCpimText("a\\b\b\t\n\r\x07\x7f\"'"), "a\\\\b\\b\\t\\n\\r\\u0007\\u007f\"'");
  assert.equal(quoteCpimString('say "hi"\n'), '"say \\"hi\\"\\n"');
  for (const s of ["plain", "q\"uo'te", "\\\b\t\n\r\x00\x1f\x7f", "ünï ☃ 😀"]) {
    assert.equal(unescapeCpimText(escapeCpimText(s)), s);
  }
  assert.equal(unescapeCpimText("\\u00e9\\u00E9\\ud83d\\ude00"), "éé😀");
  assert.equal(unescapeCpimText("\\q\\u12"), "qu12"); // unknown escape, short \u
  assert.equal(unescapeCpimText("end\\"), "end"); // isolated trailing backslash dropped
});

Deno.test("cpim: address values (RFC 3862 §4.1)", () => {
  assert.deepEqual(parseCpimAddress("<im:tigger@100akerwood.com>"), {
    uri: "im:tigger@100akerwood.com",
  });
  assert.deepEqual(parseCpimAddress("Winnie the Pooh <im:pooh@100akerwood.com>"), {
    name: "Winnie the Pooh",
    uri: "im:pooh@100akerwood.com",
  });
  assert.deepEqual(parseCpimAddress('"Bob \\"B\\" <x>" <im:bob@example.com>'), {
    name: 'Bob "B" <x>',
    uri: "im:bob@example.com",
  });
  assert.equal(
    formatCpimAddress({ name: "Alice", uri: "im:alice@example.com" }),
    "Alice <im:alice@example.com>",
  );
  assert.equal(formatCpimAddress({ uri: "im:a@x" }), "<im:a@x>");
  assert.equal(formatCpimAddress({ name: "Doe, Jane", uri: "im:j@x" }), '"Doe, Jane" <im:j@x>');
  assert.deepEqual(parseCpimAddress(formatCpimAddress({ name: "Doe, Jane", uri: "im:j@x" })), {
    name: "Doe, Jane",
    uri: "im:j@x",
  });
  const bad: [string, number][] = [
    ["im:alice@example.com", 20],
    ["Alice<im:a@x>", 5],
    ["Doe, Jane <im:j@x>", 0],
    ['"open <im:a@x>', 14],
    ["<im:a@x> trailing", 8],
    ["<>", 1],
    ["<im:a@x", 7],
  ];
  for (const [value, offset] of bad) {
    assert.throws(
      () => parseCpimAddress(value),
      (e: unknown) =>
        e instanceof MsrpSyntaxError && e.code === "cpim-bad-address" && e.offset === offset,
      value,
    );
  }
});

Deno.test("cpim: makeCpimMessage and buildCpim", () => {
  const message = makeCpimMessage({
    from: { name: "Alice", uri: "sip:alice@example.com" },
    to: [{ name: "Bob", uri: "sip:bob@example.com" }],
    cc: [{ uri: "sip:carol@example.com" }],
    dateTime: new Date(Date.UTC(2006, 4, 15, 18, 2, 31, 250)),
    subject: "line one\nline two",
    headers: [{ name: "NS", value: "x <urn:example:x>" }, {
      name: "x.Flag",
      value: "on",
      params: [{ name: "lang", value: "en" }],
    }],
    contentType: "text/plain;charset=UTF-8",
    contentHeaders: [{ name: "Content-ID", value: "<1@x>" }],
    body: "Hello",
  });
  assert.equal(
    dec(buildCpim(message)),
    "From: Alice <sip:alice@example.com>\r\n" +
      "To: Bob <sip:bob@example.com>\r\n" +
      "cc: <sip:carol@example.com>\r\n" +
      "DateTime: 2006-05-15T18:02:31Z\r\n" +
      "Subject: line one\\nline two\r\n" +
      "NS: x <urn:example:x>\r\n" +
      "x.Flag:;lang=en on\r\n" +
      "\r\n" +
      "Content-Type: text/plain;charset=UTF-8\r\n" +
      "Content-ID: <1@x>\r\n" +
      "\r\n" +
      "Hello",
  );
  assert.equal(formatCpimDateTime(new Date(0)), "1970-01-01T00:00:00Z");
  assert.equal(parseCpim(buildCpim(message)).headers[6].params?.[0].value, "en");
});

// ---------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------

function throwsSyntax(fn: () => unknown, code: string, input: string, offset: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MsrpSyntaxError, `expected MsrpSyntaxError, got ${e}`);
    assert.equal(e.code, code);
    assert.equal(e.input, input);
    assert.equal(e.offset, offset);
    return true;
  });
}

Deno.test("cpim: malformed messages fail with a code, the line and the column", () => {
  const CT = "Content-Type: text/plain\r\n\r\nbody";
  const p = (s: string) => () => parseCpim(enc(s));
  throwsSyntax(
    p("From: <im:a@x>\nTo: <im:b@x>\r\n\r\n" + CT),
    "cpim-bare-lf",
    "From: <im:a@x>",
    14,
  );
  throwsSyntax(p("From: <im:a@x>\r\nTo: <im:b@x>\r\n"), "cpim-unterminated-headers", "", 0);
  throwsSyntax(
    p("From: <im:a@x>\r\n\r\nContent-Type: text/plain"),
    "cpim-unterminated-headers",
    "Content-Type: text/plain",
    24,
  );
  throwsSyntax(p("From : <im:a@x>\r\n\r\n" + CT), "cpim-bad-header-name", "From : <im:a@x>", 0);
  throwsSyntax(p("a.b.c: x\r\n\r\n" + CT), "cpim-bad-header-name", "a.b.c: x", 0);
  throwsSyntax(p("Subject:;lang en\r\n\r\n" + CT), "cpim-bad-parameter", "Subject:;lang en", 9);
  throwsSyntax(p('Subject:;a="x y\r\n\r\n' + CT), "cpim-bad-parameter", 'Subject:;a="x y', 11);
  throwsSyntax(p("From:<im:a@x>\r\n\r\n" + CT), "cpim-missing-space", "From:<im:a@x>", 5);
  throwsSyntax(p("Subject: a\tb\r\n\r\n" + CT), "cpim-control-char", "Subject: a\tb", 10);
  throwsSyntax(
    p("NS: imdn urn:ietf:params:imdn\r\n\r\n" + CT),
    "cpim-bad-ns",
    "NS: imdn urn:ietf:params:imdn",
    4,
  );
  throwsSyntax(
    p("From: <im:a@x>\r\n\r\nHello there\r\n"),
    "cpim-bad-content-header",
    "Hello there",
    0,
  );
  throwsSyntax(
    p("From: <im:a@x>\r\n\r\n nope: x\r\n\r\n"),
    "cpim-bad-content-header",
    " nope: x",
    0,
  );
  throwsSyntax(
    () =>
      parseCpim(enc("From: <im:a@x>\r\nSubject: " + "x".repeat(100) + "\r\n\r\n" + CT), {
        maxHeaderBytes: 64,
      }),
    "cpim-headers-too-large",
    "Subject: " + "x".repeat(100),
    0,
  );
  assert.throws(
    () => parseCpim(new Uint8Array([0x46, 0x3a, 0x20, 0xff, 0x0d, 0x0a, 0x0d, 0x0a])),
    (e: unknown) => e instanceof MsrpSyntaxError && e.code === "cpim-bad-utf8",
  );
});

Deno.test("cpim: building refuses values that would break the format", () => {
  const base = {
    contentHeaders: [{ name: "Content-Type", value: "text/plain" }],
    body: new Uint8Array(),
  };
  throwsSyntax(
    () => buildCpim({ ...base, headers: [{ name: "Subject", value: "two\r\nlines" }] }),
    "cpim-control-char",
    "two\r\nlines",
    3,
  );
  throwsSyntax(
    () => buildCpim({ ...base, headers: [{ name: "Bad Name", value: "x" }] }),
    "cpim-bad-header-name",
    "Bad Name",
    0,
  );
  throwsSyntax(
    () =>
      buildCpim({
        ...base,
        headers: [{ name: "S", value: "x", params: [{ name: "l", value: "a b" }] }],
      }),
    "cpim-bad-parameter",
    "l=a b",
    0,
  );
  throwsSyntax(
    () =>
      buildCpim({
        headers: [],
        contentHeaders: [{ name: "Content-Type", value: "a\nb" }],
        body: new Uint8Array(),
      }),
    "cpim-control-char",
    "a\nb",
    1,
  );
});
