/**
 * Instant Message Disposition Notification, IMDN (RFC 5438): "delivered",
 * "displayed" and "processed" receipts for messages wrapped in CPIM.
 *
 * The sender asks for receipts with CPIM headers in the `urn:ietf:params:imdn`
 * namespace (§6, §7.1.1):
 *
 * ```
 * From: Alice <im:alice@example.com>
 * To: Bob <im:bob@example.com>
 * NS: imdn <urn:ietf:params:imdn>
 * imdn.Message-ID: 34jk324j                                <- correlates the receipts
 * DateTime: 2006-04-04T12:16:49-05:00                      <- returned in the receipt
 * imdn.Disposition-Notification: positive-delivery, display
 * ```
 *
 * The recipient answers each requested disposition at most once (§7.2.1)
 * with a CPIM message of its own whose content is a `message/imdn+xml`
 * document (§11) and whose `Content-Disposition` is `notification`:
 *
 * ```xml
 * <imdn xmlns="urn:ietf:params:xml:ns:imdn">
 *   <message-id>34jk324j</message-id>
 *   <datetime>2006-04-04T12:16:49-05:00</datetime>
 *   <recipient-uri>im:bob@example.com</recipient-uri>
 *   <delivery-notification><status><delivered/></status></delivery-notification>
 * </imdn>
 * ```
 *
 * Status values (§11.1.7): delivery-notification takes delivered, failed,
 * forbidden or error; display-notification displayed, forbidden or error;
 * processing-notification processed, stored, forbidden or error. Other
 * values are extensions and are passed through.
 *
 * This module also holds the small XML reader the payload modules share:
 * UTF-8 only, namespaces resolved, the five predefined entities and
 * character references, no DOCTYPE (so no entity expansion), and bounded
 * size and depth.
 *
 * @module
 */

import { MsrpError, type MsrpErrorCode, MsrpSyntaxError } from "../errors.ts";
import { randomAlphanumeric } from "../wire/ids.ts";
import {
  CPIM_NAMESPACE,
  type CpimHeader,
  type CpimMessage,
  findCpimHeaders,
  formatCpimDateTime,
  getContentHeader,
  getCpimHeader,
  parseCpimAddress,
  unescapeCpimText,
} from "./cpim.ts";

// ---------------------------------------------------------------------------
// Minimal XML reader
// ---------------------------------------------------------------------------

/** An attribute of an {@linkcode XmlElement}. */
export interface XmlAttribute {
  /** The name as written, e.g. `"xml:lang"`. */
  name: string;
  /** The name without prefix. */
  localName: string;
  /** The namespace URI: that of the prefix; none for unprefixed attributes. */
  namespace?: string;
  /** The value with references replaced and whitespace normalized. */
  value: string;
}

/** An element: its names, attributes and children (elements and text). */
export interface XmlElement {
  /** The name as written, e.g. `"imdn"` or `"x:imdn"`. */
  name: string;
  /** The name without prefix. */
  localName: string;
  /** The namespace URI, from the prefix or the default namespace in scope. */
  namespace?: string;
  /** Attributes in order, namespace declarations excluded. */
  attributes: XmlAttribute[];
  /** Child elements and text runs (references replaced, CDATA included), in order. */
  children: (XmlElement | string)[];
}

/** Limits for {@linkcode parseXml}. */
export interface XmlParseOptions {
  /** Largest input, in bytes for byte input or UTF-16 units for text. Default 65536. */
  maxLength?: number;
  /** Deepest element nesting. Default 32. */
  maxDepth?: number;
}

const XML_NS = "http://www.w3.org/XML/1998/namespace";
const PREDEFINED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

function isNameStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x3a ||
    c >= 0xc0;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0xb7;
}

function isXmlChar(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** A one-pass reader over the document text. */
class XmlReader {
  readonly text: string;
  pos = 0;
  readonly maxDepth: number;

  constructor(text: string, maxDepth: number) {
    this.text = text;
    this.maxDepth = maxDepth;
  }

  fail(code: MsrpErrorCode, message: string, at = this.pos): never {
    throw new MsrpSyntaxError(code, message, this.text, at);
  }

  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && isSpace(this.text.charCodeAt(this.pos))) this.pos++;
  }

  /** Index of `s` at or after the position, or a failure. */
  find(s: string, what: string): number {
    const i = this.text.indexOf(s, this.pos);
    if (i < 0) this.fail("xml-unterminated", `unterminated ${what}`);
    return i;
  }

  name(): string {
    const start = this.pos;
    if (start >= this.text.length || !isNameStart(this.text.charCodeAt(start))) {
      this.fail("xml-bad-name", "expected a name");
    }
    this.pos++;
    while (this.pos < this.text.length && isNameChar(this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** Replaces entity and character references in `raw`, which starts at `base`. */
  decode(raw: string, base: number): string {
    if (!raw.includes("&")) return raw;
    let out = "";
    let i = 0;
    for (;;) {
      const amp = raw.indexOf("&", i);
      if (amp < 0) return out + raw.slice(i);
      out += raw.slice(i, amp);
      const semi = raw.indexOf(";", amp);
      if (semi < 0 || semi - amp > 12) {
        this.fail("xml-bad-reference", 'a "&" that does not start a reference', base + amp);
      }
      const ref = raw.slice(amp + 1, semi);
      if (ref.startsWith("#")) {
        const num = /^#x[0-9A-Fa-f]{1,6}$/.test(ref)
          ? parseInt(ref.slice(2), 16)
          : /^#[0-9]{1,7}$/.test(ref)
          ? parseInt(ref.slice(1), 10)
          : NaN;
        if (!isXmlChar(num)) {
          this.fail(
            "xml-bad-char-ref",
            "a character reference to a character XML does not allow",
            base + amp,
          );
        }
        out += String.fromCodePoint(num);
      } else if (Object.hasOwn(PREDEFINED, ref)) {
        out += PREDEFINED[ref];
      } else {
        this.fail(
          "xml-unknown-entity",
          `unknown entity "&${ref};" (only the five predefined entities are allowed)`,
          base + amp,
        );
      }
      i = semi + 1;
    }
  }

  /** Skips comments, processing instructions and whitespace; rejects a DOCTYPE. */
  misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.startsWith("<!--")) {
        this.pos = this.find("-->", "comment") + 3;
      } else if (this.startsWith("<?")) {
        this.pos = this.find("?>", "processing instruction") + 2;
      } else if (this.startsWith("<!")) {
        this.fail(
          "xml-doctype",
          "DOCTYPE and other declarations are not accepted (no entity expansion)",
        );
      } else {
        return;
      }
    }
  }

  element(scope: Map<string, string>, depth: number): XmlElement {
    if (depth > this.maxDepth) {
      this.fail("xml-too-deep", `elements nest deeper than ${this.maxDepth}`);
    }
    const open = this.pos;
    this.pos++; // "<"
    const name = this.name();
    const raw: { name: string; value: string; at: number }[] = [];
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      if (this.startsWith("/>") || this.startsWith(">")) break;
      if (this.pos === before) this.fail("xml-bad-tag", "expected a space, an attribute, > or />");
      const at = this.pos;
      const attrName = this.name();
      this.skipSpace();
      if (this.text[this.pos] !== "=") this.fail("xml-bad-tag", 'expected "=" after an attribute');
      this.pos++;
      this.skipSpace();
      const quote = this.text[this.pos];
      if (quote !== '"' && quote !== "'") this.fail("xml-bad-tag", "expected a quoted value");
      const end = this.text.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail("xml-unterminated", "unterminated attribute value");
      const rawValue = this.text.slice(this.pos + 1, end);
      const lt = rawValue.indexOf("<");
      if (lt >= 0) this.fail("xml-bad-tag", '"<" inside an attribute value', this.pos + 1 + lt);
      if (raw.some((r) => r.name === attrName)) {
        this.fail("xml-duplicate-attribute", `attribute "${attrName}" appears twice`, at);
      }
      // Attribute-value normalization (XML 1.0 §3.3.3): literal whitespace becomes a space.
      const value = this.decode(rawValue.replace(/[\t\n\r]/g, " "), this.pos + 1);
      raw.push({ name: attrName, value, at });
      this.pos = end + 1;
    }
    // Namespace declarations first (Namespaces in XML §6).
    let inner = scope;
    for (const a of raw) {
      if (a.name === "xmlns" || a.name.startsWith("xmlns:")) {
        if (inner === scope) inner = new Map(scope);
        inner.set(a.name === "xmlns" ? "" : a.name.slice(6), a.value);
      }
    }
    const resolve = (qname: string, at: number, isAttribute: boolean) => {
      const colon = qname.indexOf(":");
      if (colon < 0) {
        const ns = isAttribute ? undefined : inner.get("");
        return { localName: qname, namespace: ns === "" ? undefined : ns };
      }
      const prefix = qname.slice(0, colon);
      const ns = prefix === "xml" ? XML_NS : inner.get(prefix);
      if (ns === undefined || ns === "") {
        this.fail("xml-unbound-prefix", `the prefix "${prefix}" is not declared`, at);
      }
      return { localName: qname.slice(colon + 1), namespace: ns };
    };
    const el: XmlElement = {
      name,
      ...resolve(name, open + 1, false),
      attributes: [],
      children: [],
    };
    if (el.namespace === undefined) delete el.namespace;
    for (const a of raw) {
      if (a.name === "xmlns" || a.name.startsWith("xmlns:")) continue;
      const attr: XmlAttribute = { name: a.name, ...resolve(a.name, a.at, true), value: a.value };
      if (attr.namespace === undefined) delete attr.namespace;
      el.attributes.push(attr);
    }
    if (this.startsWith("/>")) {
      this.pos += 2;
      return el;
    }
    this.pos++; // ">"
    for (;;) {
      const lt = this.text.indexOf("<", this.pos);
      if (lt < 0) this.fail("xml-unterminated", `element <${name}> is not closed`, open);
      if (lt > this.pos) {
        const rawText = this.text.slice(this.pos, lt);
        el.children.push(this.decode(rawText, this.pos));
        this.pos = lt;
      }
      if (this.startsWith("</")) {
        this.pos += 2;
        const at = this.pos;
        const closing = this.name();
        if (closing !== name) {
          this.fail("xml-mismatched-tag", `</${closing}> does not close <${name}>`, at);
        }
        this.skipSpace();
        if (this.text[this.pos] !== ">") this.fail("xml-bad-tag", 'expected ">"');
        this.pos++;
        return el;
      }
      if (this.startsWith("<!--")) {
        this.pos = this.find("-->", "comment") + 3;
      } else if (this.startsWith("<![CDATA[")) {
        const end = this.find("]]>", "CDATA section");
        el.children.push(this.text.slice(this.pos + 9, end));
        this.pos = end + 3;
      } else if (this.startsWith("<?")) {
        this.pos = this.find("?>", "processing instruction") + 2;
      } else if (this.startsWith("<!")) {
        this.fail("xml-doctype", "declarations are not accepted inside elements");
      } else {
        el.children.push(this.element(inner, depth + 1));
      }
    }
  }
}

/**
 * Parses a small XML document (XML 1.0 with namespaces) into its root
 * element. Meant for the payload formats (IMDN, isComposing): UTF-8 only,
 * no DOCTYPE (so no entity declarations and no expansion attacks), only
 * the predefined entities and character references, bounded size and depth.
 * Comments and processing instructions are skipped; CRLF becomes LF.
 *
 * @param input the document, as text or UTF-8 bytes
 * @param options size and depth limits
 * @returns the root element
 * @throws {MsrpSyntaxError} `xml-too-large`, `xml-bad-utf8`, `xml-bad-encoding`, `xml-bad-char`,
 *   `xml-doctype`, `xml-no-root`, `xml-bad-name`, `xml-bad-tag`, `xml-unterminated`,
 *   `xml-mismatched-tag`, `xml-duplicate-attribute`, `xml-unbound-prefix`,
 *   `xml-bad-reference`, `xml-bad-char-ref`, `xml-unknown-entity`, `xml-too-deep`,
 *   `xml-trailing-content`
 */
export function parseXml(input: string | Uint8Array, options: XmlParseOptions = {}): XmlElement {
  const maxLength = options.maxLength ?? 65536;
  if (input.length > maxLength) {
    const preview = typeof input === "string"
      ? input.slice(0, 64)
      : new TextDecoder().decode(input.subarray(0, 64));
    throw new MsrpSyntaxError(
      "xml-too-large",
      `the XML document is larger than ${maxLength}`,
      preview,
      preview.length,
    );
  }
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else {
    try {
      text = utf8.decode(input);
    } catch {
      throw new MsrpSyntaxError(
        "xml-bad-utf8",
        "the XML document is not valid UTF-8",
        new TextDecoder().decode(input),
        0,
      );
    }
  }
  if (text.startsWith("\ufeff")) text = text.slice(1);
  text = text.replace(/\r\n?/g, "\n"); // XML 1.0 §2.11
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i)!;
    if (!isXmlChar(c)) {
      throw new MsrpSyntaxError("xml-bad-char", "a character XML does not allow", text, i);
    }
    if (c > 0xffff) i++;
  }
  const reader = new XmlReader(text, options.maxDepth ?? 32);
  if (reader.startsWith("<?xml")) {
    const end = reader.find("?>", "XML declaration");
    const decl = text.slice(0, end);
    const enc = /\bencoding\s*=\s*["']([^"']*)["']/.exec(decl);
    if (enc && enc[1].toLowerCase() !== "utf-8") {
      reader.fail("xml-bad-encoding", `only UTF-8 is accepted, not "${enc[1]}"`, enc.index);
    }
    reader.pos = end + 2;
  }
  reader.misc();
  if (reader.text[reader.pos] !== "<") reader.fail("xml-no-root", "expected the root element");
  const root = reader.element(new Map(), 1);
  reader.misc();
  if (reader.pos < text.length) {
    reader.fail("xml-trailing-content", "content after the root element");
  }
  return root;
}

/**
 * Escapes text for XML content or a double- or single-quoted attribute:
 * `& < > " '` become `&amp; &lt; &gt; &quot; &apos;`.
 *
 * @param text the text
 * @returns the escaped text
 */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      `&${c === "&" ? "amp" : c === "<" ? "lt" : c === ">" ? "gt" : c === '"' ? "quot" : "apos"};`,
  );
}

/**
 * The text content of an element: its text runs and those of its
 * descendants, concatenated.
 *
 * @param el the element
 * @returns the text
 */
export function xmlText(el: XmlElement): string {
  let out = "";
  for (const c of el.children) out += typeof c === "string" ? c : xmlText(c);
  return out;
}

/** Child elements of `el` in namespace `ns`. */
function childrenIn(el: XmlElement, ns: string): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== "string" && c.namespace === ns);
}

// ---------------------------------------------------------------------------
// The IMDN document (RFC 5438 §11)
// ---------------------------------------------------------------------------

/** The CPIM header namespace of IMDN (RFC 5438 §6.1). */
export const IMDN_NAMESPACE = "urn:ietf:params:imdn";
/** The XML namespace of the IMDN document (RFC 5438 §11.1). */
export const IMDN_XML_NAMESPACE = "urn:ietf:params:xml:ns:imdn";
/** The media type of the IMDN document (RFC 5438 §11.1.8). */
export const IMDN_CONTENT_TYPE = "message/imdn+xml";

/** The three disposition types (RFC 5438 §5). */
export type NotificationKind = "delivery" | "display" | "processing";

/** Status values of RFC 5438 §11.1.7; other strings are extensions. */
export type ImdnStatus =
  | "delivered"
  | "failed"
  | "forbidden"
  | "error"
  | "displayed"
  | "processed"
  | "stored";

/** Which statuses each notification takes (RFC 5438 §11.1.7). */
export const IMDN_STATUSES: Readonly<Record<NotificationKind, readonly ImdnStatus[]>> = {
  delivery: ["delivered", "failed", "forbidden", "error"],
  display: ["displayed", "forbidden", "error"],
  processing: ["processed", "stored", "forbidden", "error"],
};

const KNOWN_STATUSES = new Set<string>(Object.values(IMDN_STATUSES).flat());

/** The content of a `message/imdn+xml` document. */
export interface ImdnDocument {
  /** `<message-id>`: the Message-ID of the IM being reported on. */
  messageId: string;
  /** `<datetime>`: the DateTime of that IM (not of the notification). */
  dateTime: string;
  /** `<recipient-uri>`: the final recipient. */
  recipientUri?: string;
  /** `<original-recipient-uri>`: from the IM's Original-To header. */
  originalRecipientUri?: string;
  /** `<subject>`: one of the IM's Subject values. */
  subject?: string;
  /** Which notification element is present. */
  notification: NotificationKind;
  /**
   * The element inside `<status>`: a value of {@linkcode ImdnStatus}, or the
   * local name of an extension status element.
   */
  status: ImdnStatus | (string & Record<never, never>);
}

const NOTIFICATION_ELEMENTS: Record<string, NotificationKind> = {
  "delivery-notification": "delivery",
  "display-notification": "display",
  "processing-notification": "processing",
};

function checkStatus(kind: NotificationKind, status: string): boolean {
  return !KNOWN_STATUSES.has(status) || IMDN_STATUSES[kind].includes(status as ImdnStatus);
}

/**
 * Parses a `message/imdn+xml` document (RFC 5438 §11). Elements from other
 * namespaces (extensions) are ignored.
 *
 * @param input the document, text or UTF-8 bytes
 * @param options XML size and depth limits
 * @returns the notification's fields
 * @throws {MsrpSyntaxError} `imdn-bad-root`, `imdn-missing-element`, `imdn-duplicate-element`,
 *   `imdn-bad-notification`, `imdn-missing-status`, `imdn-bad-status`, or an XML error of
 *   {@linkcode parseXml}
 *
 * @example Read an IMDN document
 * ```ts
 * import { buildImdn, parseImdn } from "@msrp/msrp/payload";
 *
 * const doc = parseImdn(buildImdn({
 *   messageId: "34jk324j",
 *   dateTime: "2026-01-02T03:04:05Z",
 *   notification: "display",
 *   status: "displayed",
 * }));
 * console.log(doc.messageId, doc.notification, doc.status); // "34jk324j" "display" "displayed"
 * ```
 */
export function parseImdn(input: string | Uint8Array, options?: XmlParseOptions): ImdnDocument {
  const root = parseXml(input, options);
  const text = typeof input === "string" ? input : new TextDecoder().decode(input);
  const fail = (code: MsrpErrorCode, message: string): never => {
    throw new MsrpSyntaxError(code, message, text, 0);
  };
  if (root.localName !== "imdn" || root.namespace !== IMDN_XML_NAMESPACE) {
    fail("imdn-bad-root", `the root element is not <imdn xmlns="${IMDN_XML_NAMESPACE}">`);
  }
  const fields = new Map<string, XmlElement>();
  let notification: XmlElement | undefined;
  for (const child of childrenIn(root, IMDN_XML_NAMESPACE)) {
    const name = child.localName;
    if (name in NOTIFICATION_ELEMENTS) {
      if (notification) {
        fail("imdn-bad-notification", "more than one notification element (RFC 5438 §11.1.6)");
      }
      notification = child;
    } else if (
      ["message-id", "datetime", "recipient-uri", "original-recipient-uri", "subject"].includes(
        name,
      )
    ) {
      if (fields.has(name)) fail("imdn-duplicate-element", `<${name}> appears twice`);
      fields.set(name, child);
    }
  }
  const value = (name: string) => {
    const el = fields.get(name);
    return el === undefined ? undefined : xmlText(el);
  };
  const messageId = value("message-id")?.trim();
  if (!messageId) fail("imdn-missing-element", "<message-id> is missing or empty (§11.1.1)");
  const dateTime = value("datetime")?.trim();
  if (!dateTime) fail("imdn-missing-element", "<datetime> is missing or empty (§11.1.2)");
  if (!notification) {
    fail(
      "imdn-bad-notification",
      "no <delivery-notification>, <display-notification> or <processing-notification>",
    );
  }
  const kind = NOTIFICATION_ELEMENTS[notification!.localName];
  const statusEl = childrenIn(notification!, IMDN_XML_NAMESPACE).find((e) =>
    e.localName === "status"
  );
  const statusChild = statusEl?.children.find((c): c is XmlElement => typeof c !== "string");
  if (!statusChild) fail("imdn-missing-status", "the notification has no <status> with a value");
  const status = statusChild!.localName;
  if (!checkStatus(kind, status)) {
    fail("imdn-bad-status", `<${status}/> is not a status of a ${kind} notification (§11.1.7)`);
  }
  const doc: ImdnDocument = {
    messageId: messageId!,
    dateTime: dateTime!,
    notification: kind,
    status,
  };
  const recipient = value("recipient-uri")?.trim();
  if (recipient !== undefined) doc.recipientUri = recipient;
  const original = value("original-recipient-uri")?.trim();
  if (original !== undefined) doc.originalRecipientUri = original;
  const subject = value("subject");
  if (subject !== undefined) doc.subject = subject;
  return doc;
}

/**
 * Builds a `message/imdn+xml` document (RFC 5438 §11) with two-space
 * indentation and LF line ends.
 *
 * @param doc the notification's fields
 * @returns the XML text
 * @throws {MsrpError} `imdn-bad-status` when the status does not belong to the notification kind
 *   or is not an XML name
 *
 * @example Write an IMDN document (RFC 5438)
 * ```ts
 * import { buildImdn } from "@msrp/msrp/payload";
 *
 * const xml = buildImdn({
 *   messageId: "34jk324j",
 *   dateTime: "2026-01-02T03:04:05Z",
 *   notification: "delivery",
 *   status: "delivered",
 * });
 * ```
 */
export function buildImdn(doc: ImdnDocument): string {
  if (!checkStatus(doc.notification, doc.status) || !/^[A-Za-z_][\w.-]*$/.test(doc.status)) {
    throw new MsrpError(
      "imdn-bad-status",
      `"${doc.status}" is not a status of a ${doc.notification} notification (RFC 5438 §11.1.7)`,
    );
  }
  const el = (name: string, value: string | undefined) =>
    value === undefined ? "" : `  <${name}>${escapeXml(value)}</${name}>\n`;
  const kind = `${doc.notification}-notification`;
  return '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<imdn xmlns="${IMDN_XML_NAMESPACE}">\n` +
    el("message-id", doc.messageId) +
    el("datetime", doc.dateTime) +
    el("recipient-uri", doc.recipientUri) +
    el("original-recipient-uri", doc.originalRecipientUri) +
    el("subject", doc.subject) +
    `  <${kind}>\n    <status>\n      <${doc.status}/>\n    </status>\n  </${kind}>\n` +
    "</imdn>\n";
}

// ---------------------------------------------------------------------------
// CPIM headers (RFC 5438 §6, §7, §10)
// ---------------------------------------------------------------------------

/** The Disposition-Notification values of RFC 5438 §7.1.1.3. */
export type DispositionRequest =
  | "positive-delivery"
  | "negative-delivery"
  | "processing"
  | "display";

/**
 * Parses a Disposition-Notification value (RFC 5438 §10):
 * `[notify-req *(COMMA notify-req)]`, each `token *(SEMI param)`. The
 * parameters are dropped; an empty value gives an empty list (no IMDN
 * requested, §7.1.1.3).
 *
 * @param value the header value
 * @returns the requested dispositions, in order, as written
 * @throws {MsrpSyntaxError} `imdn-bad-disposition` for an empty or malformed entry
 *
 * @example Read a Disposition-Notification value
 * ```ts
 * import { parseDispositionNotification } from "@msrp/msrp/payload";
 *
 * console.log(parseDispositionNotification("positive-delivery, display")); // ["positive-delivery", "display"]
 * ```
 */
export function parseDispositionNotification(value: string): string[] {
  if (value.trim() === "") return [];
  const out: string[] = [];
  let at = 0;
  for (const part of value.split(",")) {
    const name = part.split(";")[0].trim();
    if (!/^[!#-'*+\-.0-9A-Z^-~]+$/.test(name)) {
      throw new MsrpSyntaxError(
        "imdn-bad-disposition",
        "a Disposition-Notification entry is not a token",
        value,
        at,
      );
    }
    out.push(name);
    at += part.length + 1;
  }
  return out;
}

/**
 * Formats a Disposition-Notification value: entries joined by `", "`, as in
 * RFC 5438 §7.1.1.3.
 *
 * @param requests the dispositions to request
 * @returns the header value
 *
 * @example Write a Disposition-Notification value
 * ```ts
 * import { formatDispositionNotification } from "@msrp/msrp/payload";
 *
 * console.log(formatDispositionNotification(["positive-delivery", "display"]));
 * // "positive-delivery, display"
 * ```
 */
export function formatDispositionNotification(requests: readonly string[]): string {
  return requests.join(", ");
}

/**
 * The headers that ask for IMDNs (RFC 5438 §7.1.1): an NS declaration, the
 * Message-ID and the Disposition-Notification. Put them after From and To;
 * the message also needs a DateTime (§7.1.1.2).
 *
 * @param options the Message-ID (default: 16 random alphanumerics, 95 bits, §6.3 asks for 64),
 *   the dispositions, and the prefix (default `"imdn"`)
 * @returns the headers, in order
 *
 * @example Ask for notifications in a CPIM message
 * ```ts
 * import { buildCpim, imdnRequestHeaders, makeCpimMessage } from "@msrp/msrp/payload";
 *
 * const bytes = buildCpim(makeCpimMessage({
 *   from: { uri: "im:alice@example.com" },
 *   to: { uri: "im:bob@example.com" },
 *   headers: imdnRequestHeaders({ dispositions: ["positive-delivery", "display"] }),
 *   contentType: "text/plain",
 *   body: "Hello",
 * }));
 * ```
 */
export function imdnRequestHeaders(options: {
  messageId?: string;
  dispositions: readonly DispositionRequest[];
  prefix?: string;
}): CpimHeader[] {
  const prefix = options.prefix ?? "imdn";
  return [
    { name: "NS", value: `${prefix} <${IMDN_NAMESPACE}>` },
    { name: `${prefix}.Message-ID`, value: options.messageId ?? randomAlphanumeric(16) },
    {
      name: `${prefix}.Disposition-Notification`,
      value: formatDispositionNotification(options.dispositions),
    },
  ];
}

/** What an IM asks for, read from its CPIM headers. */
export interface ImdnRequest {
  /** `imdn.Message-ID`. */
  messageId?: string;
  /** The CPIM DateTime. */
  dateTime?: string;
  /** `imdn.Disposition-Notification` entries, all headers together. */
  dispositions: string[];
  /** `imdn.IMDN-Record-Route` values, in order (§6.5). */
  recordRoutes: string[];
  /** `imdn.Original-To` (§6.4). */
  originalTo?: string;
}

/**
 * Reads the IMDN headers of a CPIM message, whatever prefix it declared for
 * `urn:ietf:params:imdn`.
 *
 * @param message the CPIM message
 * @returns what it asks for
 * @throws {MsrpSyntaxError} `imdn-bad-disposition` for a malformed Disposition-Notification
 *
 * @example What notifications a received message asks for
 * ```ts
 * import { parseCpim, readImdnRequest } from "@msrp/msrp/payload";
 *
 * function asked(bytes: Uint8Array): string[] {
 *   return readImdnRequest(parseCpim(bytes)).dispositions; // e.g. ["positive-delivery"]
 * }
 * ```
 */
export function readImdnRequest(message: CpimMessage): ImdnRequest {
  const h = message.headers;
  const request: ImdnRequest = {
    dispositions: findCpimHeaders(h, IMDN_NAMESPACE, "Disposition-Notification")
      .flatMap((x) => parseDispositionNotification(x.value)),
    recordRoutes: findCpimHeaders(h, IMDN_NAMESPACE, "IMDN-Record-Route").map((x) => x.value),
  };
  const messageId = getCpimHeader(h, IMDN_NAMESPACE, "Message-ID");
  if (messageId !== undefined) request.messageId = messageId;
  const dateTime = getCpimHeader(h, CPIM_NAMESPACE, "DateTime");
  if (dateTime !== undefined) request.dateTime = dateTime;
  const originalTo = getCpimHeader(h, IMDN_NAMESPACE, "Original-To");
  if (originalTo !== undefined) request.originalTo = originalTo;
  return request;
}

/**
 * Whether a CPIM message is an IMDN (RFC 5438 §9): content type
 * `message/imdn+xml` and Content-Disposition `notification`.
 *
 * @param message the CPIM message
 * @returns true for a disposition notification
 *
 * @example Is a CPIM message a notification?
 * ```ts
 * import { isImdn, parseCpim, readImdn } from "@msrp/msrp/payload";
 *
 * function onCpim(bytes: Uint8Array): void {
 *   const cpim = parseCpim(bytes);
 *   if (isImdn(cpim)) console.log(readImdn(cpim).status);
 * }
 * ```
 */
export function isImdn(message: CpimMessage): boolean {
  const type = getContentHeader(message, "Content-Type")?.split(";")[0].trim().toLowerCase();
  const disposition = getContentHeader(message, "Content-Disposition")?.split(";")[0].trim()
    .toLowerCase();
  return type === IMDN_CONTENT_TYPE && disposition === "notification";
}

/** Options for {@linkcode makeImdnNotification}. */
export interface ImdnNotificationOptions {
  /** The disposition being reported. */
  kind: NotificationKind;
  /** The status to report (see {@linkcode IMDN_STATUSES}). */
  status: ImdnStatus | (string & Record<never, never>);
  /** The notification's own Message-ID (§7.2.1: required, unrelated to the IM's). Default random. */
  messageId?: string;
  /** A DateTime header for the notification itself (optional). */
  dateTime?: Date | string;
  /** Copy the IM's first Subject into `<subject>` (§11.1.5). Default false. */
  includeSubject?: boolean;
  /** The prefix to declare for the IMDN namespace. Default `"imdn"`. */
  prefix?: string;
}

/**
 * Makes the notification for a received IM (RFC 5438 §7.2.1), or
 * `undefined` when none is owed:
 *
 * - the IM is itself an IMDN (§7.2.1: never an IMDN for an IMDN);
 * - the IM did not ask for this disposition: a `delivered` status needs
 *   `positive-delivery`, `failed` / `forbidden` / `error` on delivery need
 *   `negative-delivery`, a display notification needs `display`, a
 *   processing notification `processing` (sent by intermediaries only).
 *
 * The notification goes from the IM's To to its From; IMDN-Record-Route
 * values become IMDN-Route headers in the same order; the content is the
 * XML document with Content-Disposition `notification`. Send at most one
 * notification per disposition type (§7.2.1).
 *
 * @param im the received IM (a parsed CPIM message)
 * @param options the disposition and status, and the notification's headers
 * @returns the notification as a CPIM message, or undefined
 * @throws {MsrpError} `imdn-incomplete-request` when the IM asks for IMDNs without a Message-ID
 *   or DateTime (§7.1.1), `imdn-bad-status` for a status of another kind
 * @throws {MsrpSyntaxError} `cpim-bad-address` when the IM's From or To is malformed
 *
 * @example Answer a message that asked for a delivery notification
 * ```ts
 * import { makeImdnNotification, parseCpim } from "@msrp/msrp/payload";
 *
 * function deliveryNotice(bytes: Uint8Array): ReturnType<typeof makeImdnNotification> {
 *   // undefined when the message did not ask for this kind of notification
 *   return makeImdnNotification(parseCpim(bytes), { kind: "delivery", status: "delivered" });
 * }
 * ```
 */
export function makeImdnNotification(
  im: CpimMessage,
  options: ImdnNotificationOptions,
): CpimMessage | undefined {
  if (isImdn(im)) return undefined;
  const request = readImdnRequest(im);
  const { kind, status } = options;
  if (!checkStatus(kind, status)) {
    throw new MsrpError(
      "imdn-bad-status",
      `"${status}" is not a status of a ${kind} notification (RFC 5438 §11.1.7)`,
    );
  }
  const needed: DispositionRequest = kind === "display"
    ? "display"
    : kind === "processing"
    ? "processing"
    : status === "delivered"
    ? "positive-delivery"
    : "negative-delivery";
  if (!request.dispositions.includes(needed)) return undefined;
  if (request.messageId === undefined || request.dateTime === undefined) {
    throw new MsrpError(
      "imdn-incomplete-request",
      "the IM asks for an IMDN but lacks imdn.Message-ID or DateTime (RFC 5438 §7.1.1)",
    );
  }
  const from = getCpimHeader(im.headers, CPIM_NAMESPACE, "From");
  const to = getCpimHeader(im.headers, CPIM_NAMESPACE, "To");
  if (from === undefined || to === undefined) {
    throw new MsrpError("imdn-incomplete-request", "the IM lacks a From or To header");
  }
  const subject = options.includeSubject
    ? getCpimHeader(im.headers, CPIM_NAMESPACE, "Subject")
    : undefined;
  const body = buildImdn({
    messageId: request.messageId,
    dateTime: request.dateTime,
    recipientUri: parseCpimAddress(to).uri,
    originalRecipientUri: request.originalTo === undefined
      ? undefined
      : parseCpimAddress(request.originalTo).uri,
    subject: subject === undefined ? undefined : unescapeCpimText(subject),
    notification: kind,
    status,
  });
  const prefix = options.prefix ?? "imdn";
  const headers: CpimHeader[] = [
    { name: "From", value: to },
    { name: "To", value: from },
    { name: "NS", value: `${prefix} <${IMDN_NAMESPACE}>` },
    { name: `${prefix}.Message-ID`, value: options.messageId ?? randomAlphanumeric(16) },
  ];
  if (options.dateTime !== undefined) {
    headers.push({
      name: "DateTime",
      value: typeof options.dateTime === "string"
        ? options.dateTime
        : formatCpimDateTime(options.dateTime),
    });
  }
  // §7.2.1: copy IMDN-Record-Route values into IMDN-Route headers, keeping their order.
  for (const route of request.recordRoutes) {
    headers.push({ name: `${prefix}.IMDN-Route`, value: route });
  }
  return {
    headers,
    contentHeaders: [
      { name: "Content-Type", value: IMDN_CONTENT_TYPE },
      { name: "Content-Disposition", value: "notification" },
    ],
    body: new TextEncoder().encode(body),
  };
}

/**
 * Reads the IMDN document of a notification.
 *
 * @param message a CPIM message for which {@linkcode isImdn} is true
 * @param options XML limits
 * @returns the document's fields
 * @throws {MsrpError} `not-imdn` when the message is not a disposition notification
 * @throws {MsrpSyntaxError} the errors of {@linkcode parseImdn}
 *
 * @example Read the notification in a CPIM message
 * ```ts
 * import { parseCpim, readImdn } from "@msrp/msrp/payload";
 *
 * function onNotification(bytes: Uint8Array): void {
 *   const doc = readImdn(parseCpim(bytes)); // throws `not-imdn` for other content
 *   console.log(`${doc.messageId}: ${doc.status}`);
 * }
 * ```
 */
export function readImdn(message: CpimMessage, options?: XmlParseOptions): ImdnDocument {
  if (!isImdn(message)) {
    throw new MsrpError(
      "not-imdn",
      "not a disposition notification (needs message/imdn+xml and Content-Disposition: notification)",
    );
  }
  return parseImdn(message.body, options);
}
