/**
 * The browser entry point: what a web page needs to be an MSRP endpoint
 * behind a relay that speaks WebSocket (RFC 7977 §3, §8; RFC 4976 §5.1
 * AUTH with Digest; RFC 4975 §7.1.3 success REPORTs; RFC 3994
 * isComposing; RFC 2183 Content-Disposition for files).
 *
 * `deno task build` bundles this module for browsers into `web/msrp.js`
 * (`deno bundle --platform=browser`); the chat page (`web/index.html`,
 * `web/app.js`) imports only that bundle.
 *
 * ```ts ignore
 * import { MsrpEndpoint } from "./msrp.js";
 * const me = await MsrpEndpoint.start({
 *   relays: [{ uri: "msrps://relay.example.com:443;ws", username: "alice", password: "…" }],
 * });
 * const session = me.createSession();
 * console.log(me.path(session).join(" ")); // the address peers send to
 * ```
 *
 * @module
 */

export { MsrpError } from "../lib/errors.ts";
export { MsrpEndpoint } from "../lib/endpoint/endpoint.ts";
export type { EndpointOptions } from "../lib/endpoint/endpoint.ts";
export type { RelayAccount } from "../lib/endpoint/relay_client.ts";
export type { MsrpSession, SendOptions } from "../lib/session/session.ts";
export type { IncomingMessage } from "../lib/session/reassembly.ts";
export type { SendProgress, SendResult } from "../lib/session/outgoing.ts";
export { MsrpUri } from "../lib/wire/uri.ts";
export {
  formatContentDisposition,
  getContentDisposition,
  paramValue,
  parseContentDisposition,
} from "../lib/wire/headers.ts";
export {
  buildIsComposing,
  ComposingIndicator,
  ComposingReceiver,
  ISCOMPOSING_CONTENT_TYPE,
  parseIsComposing,
} from "../lib/payload/iscomposing.ts";
