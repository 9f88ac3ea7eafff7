/**
 * "Is typing" indications (RFC 3994): the `application/im-iscomposing+xml`
 * status message and the state machines of its sender and receiver.
 *
 * A status message says whether the peer is composing (RFC 3994 §3.4, §6):
 *
 * ```xml
 * <?xml version="1.0" encoding="UTF-8"?>
 * <isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing">
 *   <state>active</state>                  <- "active" or "idle"
 *   <lastactive>2003-01-27T10:43:00Z</lastactive>   <- optional
 *   <contenttype>text/plain</contenttype>  <- optional: what is being composed
 *   <refresh>90</refresh>                  <- optional: seconds until the next "active"
 * </isComposing>
 * ```
 *
 * The composer (§3.2) goes `active` when the user starts typing and sends
 * an "active" message; while active it re-sends "active" every refresh
 * interval (SHOULD be at least 60 s; none at all when the refresh is
 * omitted); after the idle timeout (default 15 s) without typing it goes
 * `idle` and sends "idle"; sending the actual message makes it idle with no
 * status message. The receiver (§3.3) shows "active" until an "idle"
 * message, a content message, or the refresh interval (120 s when the
 * message had no `<refresh>`) runs out; unknown states count as idle
 * (§3.5).
 *
 * Both state machines take the clock and the timer functions as options, so
 * they can be driven by a fake clock.
 *
 * @module
 */

import { type MsrpErrorCode, MsrpSyntaxError } from "../errors.ts";
import { escapeXml, parseXml, type XmlElement, type XmlParseOptions, xmlText } from "./imdn.ts";

/** The XML namespace of the status message (RFC 3994 §6). */
export const ISCOMPOSING_NAMESPACE = "urn:ietf:params:xml:ns:im-iscomposing";
/** The media type of the status message (RFC 3994 §8.1). */
export const ISCOMPOSING_CONTENT_TYPE = "application/im-iscomposing+xml";

/** The receiver's refresh time-out when the message has no `<refresh>` (RFC 3994 §3.3). */
export const DEFAULT_REFRESH_SECONDS = 120;
/** The default idle time-out of the composer (RFC 3994 §3.2). */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 15;

/** A status message (RFC 3994 §3.4, §6.1). */
export interface IsComposingDocument {
  /**
   * `<state>`: `"active"` or `"idle"`; other tokens are extensions, which a
   * receiver MUST treat as idle (§3.5).
   */
  state: "active" | "idle" | (string & Record<never, never>);
  /** `<lastactive>`: when the user last edited content (an xs:dateTime). */
  lastActive?: string;
  /** `<contenttype>`: what is being composed: `"text"`, `"audio"`, `"text/html"`, ... */
  contentType?: string;
  /** `<refresh>`: seconds until the next "active" message (a positive integer). */
  refresh?: number;
}

const DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$/;

/**
 * Parses an `application/im-iscomposing+xml` document (RFC 3994 §6).
 * Elements of other namespaces (extensions, §3.5) are ignored.
 *
 * @param input the document, text or UTF-8 bytes
 * @param options XML size and depth limits
 * @returns the status message's fields
 * @throws {MsrpSyntaxError} `iscomposing-bad-root`, `iscomposing-missing-state`,
 *   `iscomposing-duplicate-element`, `iscomposing-bad-refresh`, `iscomposing-bad-lastactive`,
 *   or an XML error of {@linkcode parseXml}
 *
 * @example Read an isComposing document (RFC 3994)
 * ```ts
 * import { buildIsComposing, parseIsComposing } from "@msrp/msrp/payload";
 *
 * const doc = parseIsComposing(buildIsComposing({ state: "active", refresh: 60 }));
 * console.log(doc.state, doc.refresh); // "active" 60
 * ```
 */
export function parseIsComposing(
  input: string | Uint8Array,
  options?: XmlParseOptions,
): IsComposingDocument {
  const root = parseXml(input, options);
  const text = typeof input === "string" ? input : new TextDecoder().decode(input);
  const fail = (code: MsrpErrorCode, message: string): never => {
    throw new MsrpSyntaxError(code, message, text, 0);
  };
  if (root.localName !== "isComposing" || root.namespace !== ISCOMPOSING_NAMESPACE) {
    fail(
      "iscomposing-bad-root",
      `the root element is not <isComposing xmlns="${ISCOMPOSING_NAMESPACE}">`,
    );
  }
  const fields = new Map<string, string>();
  for (const child of root.children) {
    if (typeof child === "string" || child.namespace !== ISCOMPOSING_NAMESPACE) continue;
    const name = (child as XmlElement).localName;
    if (!["state", "lastactive", "contenttype", "refresh"].includes(name)) continue;
    if (fields.has(name)) fail("iscomposing-duplicate-element", `<${name}> appears twice`);
    fields.set(name, xmlText(child).trim());
  }
  const state = fields.get("state");
  if (!state) fail("iscomposing-missing-state", "<state> is missing or empty (RFC 3994 §6.1)");
  const doc: IsComposingDocument = { state: state! };
  const lastActive = fields.get("lastactive");
  if (lastActive !== undefined) {
    if (!DATE_TIME.test(lastActive)) {
      fail("iscomposing-bad-lastactive", "<lastactive> is not an xs:dateTime");
    }
    doc.lastActive = lastActive;
  }
  const contentType = fields.get("contenttype");
  if (contentType !== undefined) doc.contentType = contentType;
  const refresh = fields.get("refresh");
  if (refresh !== undefined) {
    // xs:positiveInteger
    if (!/^\+?0*[1-9][0-9]{0,8}$/.test(refresh)) {
      fail("iscomposing-bad-refresh", "<refresh> is not a positive integer of seconds");
    }
    doc.refresh = Number(refresh);
  }
  return doc;
}

/**
 * Builds an `application/im-iscomposing+xml` document (RFC 3994 §6), with
 * the elements in schema order and LF line ends.
 *
 * @param doc the status message's fields
 * @returns the XML text
 * @throws {RangeError} when `refresh` is not a positive integer or `state` is empty
 *
 * @example Write an isComposing document
 * ```ts
 * import { buildIsComposing, ISCOMPOSING_CONTENT_TYPE } from "@msrp/msrp/payload";
 *
 * const body = buildIsComposing({ state: "idle", lastActive: "2026-01-02T03:04:05Z" });
 * console.log(ISCOMPOSING_CONTENT_TYPE, body);
 * ```
 */
export function buildIsComposing(doc: IsComposingDocument): string {
  if (doc.state.trim() === "") throw new RangeError("state must not be empty");
  if (doc.refresh !== undefined && !(Number.isInteger(doc.refresh) && doc.refresh > 0)) {
    throw new RangeError("refresh must be a positive integer of seconds");
  }
  const el = (name: string, value: string | undefined) =>
    value === undefined ? "" : `  <${name}>${escapeXml(value)}</${name}>\n`;
  return '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<isComposing xmlns="${ISCOMPOSING_NAMESPACE}">\n` +
    el("state", doc.state) +
    el("lastactive", doc.lastActive) +
    el("contenttype", doc.contentType) +
    el("refresh", doc.refresh === undefined ? undefined : String(doc.refresh)) +
    "</isComposing>\n";
}

/** A clock and timers; defaults are `Date.now`, `setTimeout` and `clearTimeout`. */
export interface ComposingTimers {
  /** The current time in milliseconds. */
  now?: () => number;
  /** Runs `fn` once after `ms` milliseconds; returns a handle for `clearTimer`. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  /** Cancels a timer started by `setTimer`. */
  clearTimer?: (handle: unknown) => void;
}

/** Options for {@linkcode ComposingIndicator}. */
export interface ComposingIndicatorOptions extends ComposingTimers {
  /** Called with each status message to send. */
  send: (doc: IsComposingDocument) => void;
  /**
   * Seconds between "active" refreshes, advertised in `<refresh>` (RFC 3994
   * §3.2: SHOULD be at least 60). Default 120. `false` sends no refreshes
   * and omits `<refresh>`; the receiver then assumes 120 s.
   */
  refresh?: number | false;
  /** Seconds without typing before going idle (RFC 3994 §3.2 default 15). */
  idleTimeout?: number;
  /** The `<contenttype>` to advertise, e.g. `"text/plain"`. */
  contentType?: string;
  /** Put `<lastactive>` in "idle" messages (default true). */
  sendLastActive?: boolean;
}

function toDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The composer's side of RFC 3994 §3.2 (Figure 1):
 *
 * - idle → active on {@linkcode ComposingIndicator.typing}: sends "active";
 * - while active, typing only pushes the idle deadline back: no message;
 *   the refresh timer re-sends "active" every `refresh` seconds (each
 *   status message restarts it), so at most one message per refresh
 *   interval while the user keeps typing;
 * - active → idle after `idleTimeout` seconds without typing: sends "idle";
 * - active → idle on {@linkcode ComposingIndicator.messageSent}: no message
 *   (the receiver goes idle on the content message, §3.3).
 *
 * @example Tell the peer we are typing
 * ```ts
 * import { buildIsComposing, ComposingIndicator } from "@msrp/msrp/payload";
 *
 * const indicator = new ComposingIndicator({
 *   send: (doc) => console.log(buildIsComposing(doc)), // send with ISCOMPOSING_CONTENT_TYPE
 * });
 * indicator.typing(); // sends "active", then "idle" after 15 s without typing
 * indicator.messageSent(); // the message went: back to idle, nothing sent
 * indicator.close();
 * ```
 */
export class ComposingIndicator {
  #send: (doc: IsComposingDocument) => void;
  #now: () => number;
  #setTimer: (fn: () => void, ms: number) => unknown;
  #clearTimer: (handle: unknown) => void;
  #refresh: number | false;
  #idleMs: number;
  #contentType: string | undefined;
  #sendLastActive: boolean;
  #state: "active" | "idle" = "idle";
  #lastTyped: number | undefined;
  #idleTimer: unknown;
  #refreshTimer: unknown;

  /**
   * Creates an idle composer.
   *
   * @param options where to send status messages, the intervals, and the clock
   * @throws {RangeError} for a refresh or idle timeout that is not a positive number
   */
  constructor(options: ComposingIndicatorOptions) {
    this.#send = options.send;
    this.#now = options.now ?? Date.now;
    this.#setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.#clearTimer = options.clearTimer ??
      ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    const refresh = options.refresh ?? DEFAULT_REFRESH_SECONDS;
    if (refresh !== false && !(Number.isInteger(refresh) && refresh > 0)) {
      throw new RangeError("refresh must be a positive integer of seconds or false");
    }
    this.#refresh = refresh;
    const idle = options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_SECONDS;
    if (!(idle > 0)) throw new RangeError("idleTimeout must be positive");
    this.#idleMs = idle * 1000;
    this.#contentType = options.contentType;
    this.#sendLastActive = options.sendLastActive ?? true;
  }

  /** The composer's state. */
  get state(): "active" | "idle" {
    return this.#state;
  }

  /** The user produced content (a key press, an edit). */
  typing(): void {
    this.#lastTyped = this.#now();
    this.#restartIdleTimer();
    if (this.#state === "idle") {
      this.#state = "active";
      this.#emitActive();
    }
  }

  /** The content message was sent: back to idle without a status message (§3.2). */
  messageSent(): void {
    this.#stop();
  }

  /** Stops the timers; no more status messages are sent. */
  close(): void {
    this.#stop();
  }

  #stop(): void {
    this.#state = "idle";
    this.#clear();
  }

  #clear(): void {
    if (this.#idleTimer !== undefined) this.#clearTimer(this.#idleTimer);
    if (this.#refreshTimer !== undefined) this.#clearTimer(this.#refreshTimer);
    this.#idleTimer = undefined;
    this.#refreshTimer = undefined;
  }

  #restartIdleTimer(): void {
    if (this.#idleTimer !== undefined) this.#clearTimer(this.#idleTimer);
    this.#idleTimer = this.#setTimer(() => {
      this.#idleTimer = undefined;
      this.#goIdle();
    }, this.#idleMs);
  }

  #emitActive(): void {
    const doc: IsComposingDocument = { state: "active" };
    if (this.#contentType !== undefined) doc.contentType = this.#contentType;
    if (this.#refresh !== false) doc.refresh = this.#refresh;
    this.#send(doc);
    // "Each transmission of the isComposing message resets the timer." (§3.2)
    if (this.#refreshTimer !== undefined) this.#clearTimer(this.#refreshTimer);
    this.#refreshTimer = undefined;
    if (this.#refresh !== false) {
      this.#refreshTimer = this.#setTimer(() => {
        this.#refreshTimer = undefined;
        if (this.#state === "active") this.#emitActive();
      }, this.#refresh * 1000);
    }
  }

  #goIdle(): void {
    if (this.#state !== "active") return;
    this.#state = "idle";
    this.#clear();
    const doc: IsComposingDocument = { state: "idle" };
    if (this.#sendLastActive && this.#lastTyped !== undefined) {
      doc.lastActive = toDateTime(this.#lastTyped);
    }
    if (this.#contentType !== undefined) doc.contentType = this.#contentType;
    this.#send(doc);
  }
}

/** Options for {@linkcode ComposingReceiver}. */
export interface ComposingReceiverOptions extends ComposingTimers {
  /** Called when the peer's state changes. */
  onChange?: (state: "active" | "idle", doc: IsComposingDocument | undefined) => void;
  /**
   * Extra time granted past the refresh interval before an "active" state
   * expires, to absorb network delay (not in the RFC). Default 5000 ms.
   */
  marginMs?: number;
}

/**
 * The receiver's side of RFC 3994 §3.3 (Figure 2): the peer is `active`
 * from an "active" message until an "idle" message, a content message, or
 * the refresh interval of the last "active" message (120 s without
 * `<refresh>`) plus `marginMs` runs out. States other than "active" count
 * as idle (§3.5). Repeated "active" messages just restart the expiry.
 *
 * @example Show whether the peer is typing
 * ```ts
 * import { ComposingReceiver, parseIsComposing } from "@msrp/msrp/payload";
 *
 * const receiver = new ComposingReceiver({ onChange: (state) => console.log(`peer is ${state}`) });
 * receiver.statusReceived(parseIsComposing('<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state></isComposing>'));
 * receiver.contentReceived(); // a message arrived: idle again
 * receiver.close();
 * ```
 */
export class ComposingReceiver {
  #now: () => number;
  #setTimer: (fn: () => void, ms: number) => unknown;
  #clearTimer: (handle: unknown) => void;
  #onChange: ((state: "active" | "idle", doc: IsComposingDocument | undefined) => void) | undefined;
  #marginMs: number;
  #state: "active" | "idle" = "idle";
  #expiry: unknown;
  #expiresAt: number | undefined;
  #last: IsComposingDocument | undefined;

  /**
   * Creates a receiver that starts idle.
   *
   * @param options the change callback, the margin and the clock
   */
  constructor(options: ComposingReceiverOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.#clearTimer = options.clearTimer ??
      ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    this.#onChange = options.onChange;
    this.#marginMs = options.marginMs ?? 5000;
  }

  /** The peer's state as far as this side knows. */
  get state(): "active" | "idle" {
    return this.#state;
  }

  /** The last status message received, if any. */
  get lastStatus(): IsComposingDocument | undefined {
    return this.#last;
  }

  /** When the current "active" state expires (ms on the clock), if active. */
  get expiresAt(): number | undefined {
    return this.#expiresAt;
  }

  /**
   * A status message arrived.
   *
   * @param doc the parsed status message
   */
  statusReceived(doc: IsComposingDocument): void {
    this.#last = doc;
    this.#cancel();
    if (doc.state === "active") {
      const ms = (doc.refresh ?? DEFAULT_REFRESH_SECONDS) * 1000 + this.#marginMs;
      this.#expiresAt = this.#now() + ms;
      this.#expiry = this.#setTimer(() => {
        this.#expiry = undefined;
        this.#set("idle", undefined);
      }, ms);
      this.#set("active", doc);
    } else {
      this.#set("idle", doc); // "idle", or an unknown state (§3.5)
    }
  }

  /** A content message arrived from the peer: it is idle (§3.3). */
  contentReceived(): void {
    this.#cancel();
    this.#set("idle", undefined);
  }

  /** Stops the expiry timer. */
  close(): void {
    this.#cancel();
  }

  #cancel(): void {
    if (this.#expiry !== undefined) this.#clearTimer(this.#expiry);
    this.#expiry = undefined;
    this.#expiresAt = undefined;
  }

  #set(state: "active" | "idle", doc: IsComposingDocument | undefined): void {
    const changed = state !== this.#state;
    this.#state = state;
    if (state === "idle") this.#expiresAt = undefined;
    if (changed) this.#onChange?.(state, doc);
  }
}
