/**
 * An instant-messaging session as chat applications use it: messages
 * wrapped in Message/CPIM (RFC 3862, RFC 4975 §13) that ask for delivery
 * and display notifications (IMDN, RFC 5438), and "is typing" indications
 * (isComposing, RFC 3994), all carried in MSRP SENDs.
 *
 *   deno run --allow-net=127.0.0.1 examples/im_features.ts
 *
 * @module
 */

import { MsrpEndpoint } from "../mod.ts";
import {
  buildCpim,
  buildIsComposing,
  imdnRequestHeaders,
  isImdn,
  makeCpimMessage,
  makeImdnNotification,
  parseCpim,
  parseIsComposing,
  readImdn,
} from "../lib/payload/mod.ts";

const CPIM = "message/cpim";
const IS_COMPOSING = "application/im-iscomposing+xml";
const ACCEPT = [CPIM, IS_COMPOSING];

const alice = await MsrpEndpoint.start({ port: 0 });
const bob = await MsrpEndpoint.start({ port: 0 });
const a = alice.createSession({ acceptTypes: ACCEPT });
const b = bob.createSession({ acceptTypes: ACCEPT });
// accept-types lists the wrappers; accept-wrapped-types what goes inside (RFC 4975 §8.6).
const options = { acceptTypes: ACCEPT, acceptWrappedTypes: ["text/plain", "message/imdn+xml"] };
await alice.completeOffer(a, await bob.answer(b, alice.offer(a, options), options));
await b.ready;

// 1. Alice starts typing: an isComposing "active" status message (RFC 3994 §3.2).
await a.send(buildIsComposing({ state: "active", contentType: "text", refresh: 60 }), {
  contentType: IS_COMPOSING,
});
const typing = parseIsComposing(await (await b.nextMessage())!.bytes());
console.log(
  `bob    sees alice is ${
    typing.state === "active" ? "typing" : "idle"
  } (refresh ${typing.refresh} s)`,
);

// 2. Alice sends a CPIM-wrapped text asking for delivery and display notifications (RFC 5438 §7.1).
const im = makeCpimMessage({
  from: { name: "Alice", uri: "im:alice@example.com" },
  to: { name: "Bob", uri: "im:bob@example.com" },
  dateTime: new Date(),
  headers: imdnRequestHeaders({ dispositions: ["positive-delivery", "display"] }),
  contentType: "text/plain;charset=UTF-8",
  body: "Lunch at noon?",
});
await a.send(buildCpim(im), { contentType: CPIM });

// 3. Bob unwraps it, and answers with the two notifications Alice asked for.
const received = parseCpim(await (await b.nextMessage())!.bytes());
console.log(
  `bob    <- ${received.headers.find((h) => h.name === "From")?.value}: ${
    new TextDecoder().decode(received.body)
  }`,
);
for (const [kind, status] of [["delivery", "delivered"], ["display", "displayed"]] as const) {
  const notification = makeImdnNotification(received, { kind, status, dateTime: new Date() });
  if (notification !== undefined) await b.send(buildCpim(notification), { contentType: CPIM });
}

// 4. Alice reads them: each is a CPIM message carrying an IMDN document.
for (let i = 0; i < 2; i++) {
  const cpim = parseCpim(await (await a.nextMessage())!.bytes());
  if (!isImdn(cpim)) throw new Error("expected an IMDN");
  const imdn = readImdn(cpim);
  console.log(`alice  <- ${imdn.notification} notification for ${imdn.messageId}: ${imdn.status}`);
}

await alice.close();
await bob.close();
