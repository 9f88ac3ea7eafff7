/**
 * Tests for lib/payload/imdn.ts: the IMDN documents and CPIM messages of
 * RFC 5438 (page breaks removed, CRLF line ends), the Disposition-Notification
 * rules of §7, and the small XML reader.
 */

import assert from "node:assert/strict";
import { MsrpError, MsrpSyntaxError } from "../../lib/errors.ts";
import { buildCpim, type CpimMessage, makeCpimMessage, parseCpim } from "../../lib/payload/cpim.ts";
import {
  buildImdn,
  formatDispositionNotification,
  type ImdnDocument,
  imdnRequestHeaders,
  isImdn,
  makeImdnNotification,
  parseDispositionNotification,
  parseImdn,
  parseXml,
  readImdn,
  readImdnRequest,
  xmlText,
} from "../../lib/payload/imdn.ts";
import {
  RFC5438_7_1_1_3,
  RFC5438_7_2_1_1,
  RFC5438_7_2_1_2,
  RFC5438_8_1,
  RFC5438_8_3,
} from "../fixtures/rfc5438_examples.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

const EXPECTED_BASE = {
  messageId: "34jk324j",
  dateTime: "2008-04-04T12:16:49-05:00",
  recipientUri: "im:bob@example.com",
  originalRecipientUri: "im:bob@example.com",
};

Deno.test("imdn: the RFC 5438 notifications are read from their CPIM messages", () => {
  const cases: [string, ImdnDocument][] = [
    [RFC5438_7_2_1_1, { ...EXPECTED_BASE, notification: "delivery", status: "delivered" }],
    [RFC5438_7_2_1_2, { ...EXPECTED_BASE, notification: "display", status: "displayed" }],
    [RFC5438_8_1, { ...EXPECTED_BASE, notification: "processing", status: "processed" }],
  ];
  for (const [text, expected] of cases) {
    const bytes = enc(text);
    const message = parseCpim(bytes);
    assert.equal(isImdn(message), true);
    assert.deepEqual(readImdn(message), expected);
    assert.deepEqual(buildCpim(message), bytes); // the CPIM wrapper round-trips byte for byte
  }
});

Deno.test("imdn: the two parts of the RFC 5438 §8.3 aggregate", () => {
  const body = dec(parseCpim(enc(RFC5438_8_3)).body);
  const parts = body.split("--imdn-boundary\r\nContent-type: message/imdn+xml\r\n\r\n").slice(1)
    .map((p) => p.replace(/\r\n\r\n--imdn-boundary(\r\n)?$/, ""));
  assert.equal(parts.length, 2);
  assert.deepEqual(parseImdn(parts[0]), {
    ...EXPECTED_BASE,
    notification: "delivery",
    status: "delivered",
  });
  assert.deepEqual(parseImdn(enc(parts[1])), {
    ...EXPECTED_BASE,
    notification: "display",
    status: "displayed",
  });
});

Deno.test("imdn: buildImdn output, and parse(build(doc)) gives doc back", () => {
  const doc: ImdnDocument = {
    messageId: "34jk324j",
    dateTime: "2008-04-04T12:16:49-05:00",
    recipientUri: "im:bob@example.com",
    subject: `Tom & Jerry <"quoted" 'single'>`,
    notification: "delivery",
    status: "failed",
  };
  const xml = buildImdn(doc);
  assert.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<imdn xmlns="urn:ietf:params:xml:ns:imdn">\n' +
      "  <message-id>34jk324j</message-id>\n" +
      "  <datetime>2008-04-04T12:16:49-05:00</datetime>\n" +
      "  <recipient-uri>im:bob@example.com</recipient-uri>\n" +
      "  <subject>Tom &amp; Jerry &lt;&quot;quoted&quot; &apos;single&apos;&gt;</subject>\n" +
      "  <delivery-notification>\n" +
      "    <status>\n" +
      "      <failed/>\n" +
      "    </status>\n" +
      "  </delivery-notification>\n" +
      "</imdn>\n",
  );
  assert.deepEqual(parseImdn(xml), doc);
  for (
    const [notification, statuses] of [
      ["delivery", ["delivered", "failed", "forbidden", "error"]],
      ["display", ["displayed", "forbidden", "error"]],
      ["processing", ["processed", "stored", "forbidden", "error"]],
    ] as const
  ) {
    for (const status of statuses) {
      const d: ImdnDocument = { messageId: "m", dateTime: "d", notification, status };
      assert.deepEqual(parseImdn(buildImdn(d)), d);
    }
  }
  assert.throws(
    () => buildImdn({ ...doc, notification: "display", status: "delivered" }),
    (e: unknown) => e instanceof MsrpError && e.code === "imdn-bad-status",
  );
});

Deno.test("imdn: prefixes, entities, CDATA, comments and extensions", () => {
  const xml = `<?xml version='1.0' encoding='utf-8'?>
<!-- a comment -->
<i:imdn xmlns:i="urn:ietf:params:xml:ns:imdn" xmlns:x="urn:example:ext">
  <i:message-id> abc </i:message-id>
  <x:extra i:attr="1">ignored</x:extra>
  <i:datetime>2008-04-04T12:16:49Z</i:datetime>
  <i:subject>&#72;&#x69; &amp; <![CDATA[<b>bye</b>]]></i:subject>
  <i:display-notification><i:status><x:vendor-status/></i:status></i:display-notification>
</i:imdn>
`;
  assert.deepEqual(parseImdn(xml), {
    messageId: "abc",
    dateTime: "2008-04-04T12:16:49Z",
    subject: "Hi & <b>bye</b>",
    notification: "display",
    status: "vendor-status",
  });
});

Deno.test("imdn: the XML reader", () => {
  const root = parseXml(
    '\ufeff<a xmlns="urn:x" b="1 &lt;\t2" xml:lang="en"><c>t&#x1F600;</c>tail<?pi x?></a>',
  );
  assert.equal(root.localName, "a");
  assert.equal(root.namespace, "urn:x");
  assert.deepEqual(root.attributes, [
    { name: "b", localName: "b", value: "1 < 2" },
    {
      name: "xml:lang",
      localName: "lang",
      namespace: "http://www.w3.org/XML/1998/namespace",
      value: "en",
    },
  ]);
  assert.equal(xmlText(root), "t😀tail");
  assert.equal((root.children[0] as { namespace?: string }).namespace, "urn:x");
  assert.equal(xmlText(parseXml("<a>x\r\ny</a>")), "x\ny");
});

function throwsCode(fn: () => unknown, code: string, offset?: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MsrpSyntaxError, `expected MsrpSyntaxError, got ${e}`);
    assert.equal(e.code, code);
    if (offset !== undefined) assert.equal(e.offset, offset);
    return true;
  });
}

Deno.test("imdn: malformed or hostile XML fails with a code and an offset", () => {
  const lol = '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]><imdn>&lol;</imdn>';
  throwsCode(() => parseXml(lol), "xml-doctype", 22);
  throwsCode(() => parseXml("<a>&lol;</a>"), "xml-unknown-entity", 3);
  throwsCode(() => parseXml("<a>&#0;</a>"), "xml-bad-char-ref", 3);
  throwsCode(() => parseXml("<a>&#xD800;</a>"), "xml-bad-char-ref", 3);
  throwsCode(() => parseXml("<a>fish & chips</a>"), "xml-bad-reference", 8);
  throwsCode(() => parseXml("<a><b></a>"), "xml-mismatched-tag", 8);
  throwsCode(() => parseXml("<a>"), "xml-unterminated", 0);
  throwsCode(() => parseXml('<a b="1" b="2"/>'), "xml-duplicate-attribute", 9);
  throwsCode(() => parseXml("<a b=1/>"), "xml-bad-tag", 5);
  throwsCode(() => parseXml("<p:a/>"), "xml-unbound-prefix", 1);
  throwsCode(
    () => parseXml('<?xml version="1.0" encoding="ISO-8859-1"?><a/>'),
    "xml-bad-encoding",
    20,
  );
  throwsCode(() => parseXml("<a/><b/>"), "xml-trailing-content", 4);
  throwsCode(() => parseXml("text"), "xml-no-root", 0);
  throwsCode(() => parseXml("<a>\u0001</a>"), "xml-bad-char", 3);
  throwsCode(() => parseXml(new Uint8Array([0x3c, 0x61, 0xff, 0x2f, 0x3e])), "xml-bad-utf8", 0);
  throwsCode(() => parseXml("<a>" + "x".repeat(70000) + "</a>"), "xml-too-large");
  throwsCode(() => parseXml("<a>".repeat(40) + "</a>".repeat(40)), "xml-too-deep", 96);
  // Deep nesting within the limit is fine; the limit can be raised.
  assert.equal(parseXml("<a>".repeat(40) + "</a>".repeat(40), { maxDepth: 40 }).localName, "a");
});

Deno.test("imdn: malformed IMDN documents fail with a code", () => {
  const doc = (inner: string) => `<imdn xmlns="urn:ietf:params:xml:ns:imdn">${inner}</imdn>`;
  const ok = "<message-id>m</message-id><datetime>d</datetime>";
  const status = (kind: string, s: string) =>
    `<${kind}-notification><status><${s}/></status></${kind}-notification>`;
  throwsCode(() => parseImdn("<imdn><message-id>m</message-id></imdn>"), "imdn-bad-root");
  throwsCode(
    () => parseImdn(doc("<datetime>d</datetime>" + status("delivery", "delivered"))),
    "imdn-missing-element",
  );
  throwsCode(
    () => parseImdn(doc("<message-id>m</message-id>" + status("delivery", "delivered"))),
    "imdn-missing-element",
  );
  throwsCode(
    () => parseImdn(doc(ok + "<message-id>n</message-id>" + status("delivery", "delivered"))),
    "imdn-duplicate-element",
  );
  throwsCode(() => parseImdn(doc(ok)), "imdn-bad-notification");
  throwsCode(
    () => parseImdn(doc(ok + status("delivery", "delivered") + status("display", "displayed"))),
    "imdn-bad-notification",
  );
  throwsCode(
    () => parseImdn(doc(ok + "<delivery-notification><status/></delivery-notification>")),
    "imdn-missing-status",
  );
  throwsCode(() => parseImdn(doc(ok + status("delivery", "displayed"))), "imdn-bad-status");
  throwsCode(() => parseImdn(doc(ok + status("processing", "delivered"))), "imdn-bad-status");
});

// ---------------------------------------------------------------------------
// CPIM headers and the recipient's behaviour (§6, §7)
// ---------------------------------------------------------------------------

Deno.test("imdn: Disposition-Notification values (§10)", () => {
  assert.deepEqual(parseDispositionNotification("positive-delivery, negative-delivery"), [
    "positive-delivery",
    "negative-delivery",
  ]);
  assert.deepEqual(parseDispositionNotification("display;x=1 ,processing"), [
    "display",
    "processing",
  ]);
  assert.deepEqual(parseDispositionNotification(""), []);
  assert.deepEqual(parseDispositionNotification("  "), []);
  throwsCode(() => parseDispositionNotification("display,,processing"), "imdn-bad-disposition", 8);
  throwsCode(() => parseDispositionNotification("dis play"), "imdn-bad-disposition", 0);
  assert.equal(
    formatDispositionNotification(["positive-delivery", "display"]),
    "positive-delivery, display",
  );
});

Deno.test("imdn: readImdnRequest on the RFC 5438 §7.1.1.3 IM, and with another prefix", () => {
  assert.deepEqual(readImdnRequest(parseCpim(enc(RFC5438_7_1_1_3))), {
    messageId: "34jk324j",
    dateTime: "2006-04-04T12:16:49-05:00",
    dispositions: ["positive-delivery", "negative-delivery"],
    recordRoutes: [],
  });
  const other = parseCpim(
    enc(RFC5438_7_1_1_3.replaceAll("imdn.", "zz.").replace("NS: imdn", "NS: zz")),
  );
  assert.equal(readImdnRequest(other).messageId, "34jk324j");
  assert.equal(isImdn(parseCpim(enc(RFC5438_7_1_1_3))), false);
});

const IM = (extra: { name: string; value: string }[] = []): CpimMessage =>
  makeCpimMessage({
    from: { name: "Alice", uri: "im:alice@example.com" },
    to: { name: "Bob", uri: "im:bob@example.com" },
    dateTime: "2006-04-04T12:16:49-05:00",
    subject: "Lunch?",
    headers: [
      ...imdnRequestHeaders({
        messageId: "34jk324j",
        dispositions: ["positive-delivery", "negative-delivery", "display"],
      }),
      ...extra,
    ],
    contentType: "text/plain",
    body: "Hello World",
  });

Deno.test("imdn: an IM asking for notifications", () => {
  assert.equal(
    dec(buildCpim(IM())),
    "From: Alice <im:alice@example.com>\r\n" +
      "To: Bob <im:bob@example.com>\r\n" +
      "DateTime: 2006-04-04T12:16:49-05:00\r\n" +
      "Subject: Lunch?\r\n" +
      "NS: imdn <urn:ietf:params:imdn>\r\n" +
      "imdn.Message-ID: 34jk324j\r\n" +
      "imdn.Disposition-Notification: positive-delivery, negative-delivery, display\r\n" +
      "\r\n" +
      "Content-Type: text/plain\r\n" +
      "\r\n" +
      "Hello World",
  );
  const random = imdnRequestHeaders({ dispositions: ["display"] });
  assert.match(random[1].value, /^[A-Za-z0-9]{16}$/);
});

Deno.test("imdn: makeImdnNotification builds the delivery notification (§7.2.1.1)", () => {
  const im = parseCpim(buildCpim(IM([
    { name: "imdn.IMDN-Record-Route", value: "<im:list@example.com>" },
    { name: "imdn.IMDN-Record-Route", value: "<im:store@example.com>" },
    { name: "imdn.Original-To", value: "<im:bob-alias@example.com>" },
  ])));
  const n = makeImdnNotification(im, {
    kind: "delivery",
    status: "delivered",
    messageId: "d834jied93rf",
    includeSubject: true,
  })!;
  assert.equal(
    dec(buildCpim(n)),
    "From: Bob <im:bob@example.com>\r\n" +
      "To: Alice <im:alice@example.com>\r\n" +
      "NS: imdn <urn:ietf:params:imdn>\r\n" +
      "imdn.Message-ID: d834jied93rf\r\n" +
      "imdn.IMDN-Route: <im:list@example.com>\r\n" +
      "imdn.IMDN-Route: <im:store@example.com>\r\n" +
      "\r\n" +
      "Content-Type: message/imdn+xml\r\n" +
      "Content-Disposition: notification\r\n" +
      "\r\n" +
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<imdn xmlns="urn:ietf:params:xml:ns:imdn">\n' +
      "  <message-id>34jk324j</message-id>\n" +
      "  <datetime>2006-04-04T12:16:49-05:00</datetime>\n" +
      "  <recipient-uri>im:bob@example.com</recipient-uri>\n" +
      "  <original-recipient-uri>im:bob-alias@example.com</original-recipient-uri>\n" +
      "  <subject>Lunch?</subject>\n" +
      "  <delivery-notification>\n" +
      "    <status>\n" +
      "      <delivered/>\n" +
      "    </status>\n" +
      "  </delivery-notification>\n" +
      "</imdn>\n",
  );
  const back = parseCpim(buildCpim(n));
  assert.equal(isImdn(back), true);
  assert.equal(readImdn(back).status, "delivered");
  // Never an IMDN for an IMDN (§7.2.1).
  assert.equal(makeImdnNotification(back, { kind: "delivery", status: "delivered" }), undefined);
});

Deno.test("imdn: notifications are only made when asked for (§7.1.1.3, §7.2.1)", () => {
  const onlyNegative = makeCpimMessage({
    from: { uri: "im:a@x" },
    to: { uri: "im:b@x" },
    dateTime: "2020-01-01T00:00:00Z",
    headers: imdnRequestHeaders({ messageId: "m1", dispositions: ["negative-delivery"] }),
    contentType: "text/plain",
    body: "x",
  });
  assert.equal(
    makeImdnNotification(onlyNegative, { kind: "delivery", status: "delivered" }),
    undefined,
  );
  assert.equal(
    makeImdnNotification(onlyNegative, { kind: "display", status: "displayed" }),
    undefined,
  );
  assert.equal(
    makeImdnNotification(onlyNegative, { kind: "processing", status: "processed" }),
    undefined,
  );
  const failed = makeImdnNotification(onlyNegative, {
    kind: "delivery",
    status: "failed",
    dateTime: new Date(Date.UTC(2020, 0, 1, 0, 0, 5)),
  })!;
  assert.equal(readImdn(failed).status, "failed");
  assert.equal(failed.headers[4].name, "DateTime");
  assert.equal(failed.headers[4].value, "2020-01-01T00:00:05Z");
  assert.match(failed.headers[3].value, /^[A-Za-z0-9]{16}$/);
  const display = makeImdnNotification(IM(), { kind: "display", status: "displayed" })!;
  assert.deepEqual(readImdn(display), {
    messageId: "34jk324j",
    dateTime: "2006-04-04T12:16:49-05:00",
    recipientUri: "im:bob@example.com",
    notification: "display",
    status: "displayed",
  });
  // No Disposition-Notification at all: nothing owed.
  const plain = makeCpimMessage({
    from: { uri: "im:a@x" },
    to: { uri: "im:b@x" },
    contentType: "text/plain",
    body: "x",
  });
  assert.equal(makeImdnNotification(plain, { kind: "delivery", status: "delivered" }), undefined);
});

Deno.test("imdn: makeImdnNotification errors", () => {
  const noId = makeCpimMessage({
    from: { uri: "im:a@x" },
    to: { uri: "im:b@x" },
    headers: [
      { name: "NS", value: "imdn <urn:ietf:params:imdn>" },
      { name: "imdn.Disposition-Notification", value: "display" },
    ],
    contentType: "text/plain",
    body: "x",
  });
  assert.throws(
    () => makeImdnNotification(noId, { kind: "display", status: "displayed" }),
    (e: unknown) => e instanceof MsrpError && e.code === "imdn-incomplete-request",
  );
  assert.throws(
    () => makeImdnNotification(IM(), { kind: "display", status: "stored" }),
    (e: unknown) => e instanceof MsrpError && e.code === "imdn-bad-status",
  );
  assert.throws(
    () => readImdn(IM()),
    (e: unknown) => e instanceof MsrpError && e.code === "not-imdn",
  );
});
