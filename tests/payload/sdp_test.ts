/**
 * Tests for lib/payload/sdp.ts: byte-exact round trips of the SDP examples of
 * RFC 4975, RFC 4976, RFC 5547 and RFC 7977 (lines joined where the RFC split
 * them for width, CRLF line ends), the MSRP fields read from them, building,
 * the offer/answer helpers and the RFC 4145 / RFC 6135 setup table.
 */

import assert from "node:assert/strict";
import { MsrpError, MsrpSyntaxError } from "../../lib/errors.ts";
import {
  answerSetup,
  buildMsrpSdp,
  formatSdp,
  makeAnswer,
  makeOffer,
  type MsrpMedia,
  parseAllMsrpMedia,
  parseMsrpMedia,
  parseSdp,
  type SetupRole,
  whoConnects,
} from "../../lib/payload/sdp.ts";
import { computeFingerprint, fingerprintMatches } from "../../lib/transport/fingerprint.ts";

// ---------------------------------------------------------------------------
// RFC examples (extracted from the RFC texts; page breaks removed, the lines
// the RFC split for width joined as the RFC notes say, CRLF line ends)
// ---------------------------------------------------------------------------

/** RFC 4975 lines 1631-1638 */
const RFC4975_FIG7 = [
  "v=0",
  "o=alice 2890844526 2890844527 IN IP4 alice.example.com",
  "s= -",
  "c=IN IP4 alice.example.com",
  "t=0 0",
  "m=message 7394 TCP/MSRP *",
  "a=accept-types:text/plain",
  "a=path:msrp://alice.example.com:7394/2s93i9ek2a;tcp",
].join("\r\n") + "\r\n";

/** RFC 4975 lines 1884-1891 */
const RFC4975_FIG9 = [
  "v=0",
  "o=usera 2890844526 2890844527 IN IP4 alice.example.com",
  "s= -",
  "c=IN IP4 alice.example.com",
  "t=0 0",
  "m=message 7394 TCP/MSRP *",
  "a=accept-types:message/cpim text/plain text/html",
  "a=path:msrp://alice.example.com:7394/2s93i93idj;tcp",
].join("\r\n") + "\r\n";

/** RFC 4975 lines 1913-1920 */
const RFC4975_FIG10 = [
  "v=0",
  "o=userb 2890844530 2890844532 IN IP4 bob.example.com",
  "s= -",
  "c=IN IP4 bob.example.com",
  "t=0 0",
  "m=message 8493 TCP/MSRP *",
  "a=accept-types:message/cpim text/plain",
  "a=path:msrp://bob.example.com:8493/si438dsaodes;tcp",
].join("\r\n") + "\r\n";

/** RFC 4975 lines 322-325 */
const RFC4975_S4 = [
  "c=IN IP4 atlanta.example.com",
  "m=message 7654 TCP/MSRP *",
  "a=accept-types:text/plain",
  "a=path:msrp://atlanta.example.com:7654/jshA7weztas;tcp",
].join("\r\n") + "\r\n";

/** RFC 4975 lines 2252-2259 */
const RFC4975_S11_1_OFFER = [
  "v=0",
  "o=alice 2890844557 2890844559 IN IP4 alicepc.example.com",
  "s= -",
  "c=IN IP4 alicepc.example.com",
  "t=0 0",
  "m=message 7777 TCP/MSRP *",
  "a=accept-types:text/plain",
  "a=path:msrp://alicepc.example.com:7777/iau39soe2843z;tcp",
].join("\r\n") + "\r\n";

/** RFC 4975 lines 2265-2272 */
const RFC4975_S11_1_ANSWER = [
  "v=0",
  "o=bob 2890844612 2890844616 IN IP4 bob.example.com",
  "s= -",
  "c=IN IP4 bob.example.com",
  "t=0 0",
  "m=message 8888 TCP/MSRP *",
  "a=accept-types:text/plain",
  "a=path:msrp://bob.example.com:8888/9di4eae923wzd;tcp",
].join("\r\n") + "\r\n";

/** RFC 4975 lines 2933-2938 */
const RFC4975_FIG19 = [
  "c=IN IP4 atlanta.example.com",
  "m=message 7654 TCP/TLS/MSRP *",
  "a=accept-types:text/plain",
  "a=path:msrps://atlanta.example.com:7654/jshA7weso3ks;tcp",
  "a=fingerprint:SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB",
].join("\r\n") + "\r\n";

/** RFC 4976 lines 1726-1729 */
const RFC4976_OFFER = [
  "c=IN IP4 a.example.com",
  "m=message 1234 TCP/MSRP *",
  "a=accept-types: message/cpim text/plain text/html",
  "a=path:msrp://a.example.com:1234/agic456;tcp",
].join("\r\n") + "\r\n";

/** RFC 4976 lines 1751-1755 */
const RFC4976_ANSWER = [
  "c=IN IP4 bob.example.com",
  "m=message 1234 TCP/TLS/MSRP *",
  "a=accept-types: message/cpim text/plain",
  "a=path:msrps://relay.example.com:9000/hjdhfha;tcp msrps://bob.example.com:1234/fuige;tcp",
].join("\r\n") + "\r\n";

/** RFC 5547 lines 649-667 */
const RFC5547_FIG2 = [
  "v=0",
  "o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com",
  "s=",
  "c=IN IP4 host.atlanta.example.com",
  "t=0 0",
  "m=message 7654 TCP/MSRP *",
  "i=This is my latest picture",
  "a=sendonly",
  "a=accept-types:message/cpim",
  "a=accept-wrapped-types:*",
  "a=path:msrp://atlanta.example.com:7654/jshA7we;tcp",
  'a=file-selector:name:"My cool picture.jpg" type:image/jpeg size:32349 hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E',
  "a=file-transfer-id:vBnG916bdberum2fFEABR1FR3ExZMUrd",
  "a=file-disposition:attachment",
  'a=file-date:creation:"Mon, 15 May 2006 15:01:31 +0300"',
  "a=file-icon:cid:id2@alicepc.example.com",
  "a=file-range:1-32349",
].join("\r\n") + "\r\n";

/** RFC 5547 lines 1647-1664 */
const RFC5547_FIG8 = [
  "v=0",
  "o=alice 2890844526 2890844526 IN IP4 alicepc.example.com",
  "s=",
  "c=IN IP4 alicepc.example.com",
  "t=0 0",
  "m=message 7654 TCP/MSRP *",
  "i=This is my latest picture",
  "a=sendonly",
  "a=accept-types:message/cpim",
  "a=accept-wrapped-types:*",
  "a=path:msrp://alicepc.example.com:7654/jshA7we;tcp",
  'a=file-selector:name:"My cool picture.jpg" type:image/jpeg size:4092 hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E',
  "a=file-transfer-id:Q6LMoGymJdh0IKIgD6wD0jkcfgva4xvE",
  "a=file-disposition:render",
  'a=file-date:creation:"Mon, 15 May 2006 15:01:31 +0300"',
  "a=file-icon:cid:id2@alicepc.example.com",
].join("\r\n") + "\r\n";

/** RFC 5547 lines 1699-1712 */
const RFC5547_FIG9 = [
  "v=0",
  "o=bob 2890844656 2890844656 IN IP4 bobpc.example.com",
  "s=",
  "c=IN IP4 bobpc.example.com",
  "t=0 0",
  "m=message 8888 TCP/MSRP *",
  "a=recvonly",
  "a=accept-types:message/cpim",
  "a=accept-wrapped-types:*",
  "a=path:msrp://bobpc.example.com:8888/9di4ea;tcp",
  'a=file-selector:name:"My cool picture.jpg" type:image/jpeg size:4092 hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E',
  "a=file-transfer-id:Q6LMoGymJdh0IKIgD6wD0jkcfgva4xvE",
].join("\r\n") + "\r\n";

/** RFC 5547 lines 1922-1934 */
const RFC5547_FIG15 = [
  "v=0",
  "o=alice 2890844526 2890844526 IN IP4 alicepc.example.com",
  "s=",
  "c=IN IP4 alicepc.example.com",
  "t=0 0",
  "m=message 7654 TCP/MSRP *",
  "a=recvonly",
  "a=accept-types:message/cpim",
  "a=accept-wrapped-types:*",
  "a=path:msrp://alicepc.example.com:7654/jshA7we;tcp",
  "a=file-selector:hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E",
  "a=file-transfer-id:aCQYuBRVoUPGVsFZkCK98vzcX2FXDIk2",
].join("\r\n") + "\r\n";

/** RFC 5547 lines 1967-1979 */
const RFC5547_FIG16 = [
  "v=0",
  "o=bob 2890844656 2890855439 IN IP4 bobpc.example.com",
  "s=",
  "c=IN IP4 bobpc.example.com",
  "t=0 0",
  "m=message 8888 TCP/MSRP *",
  "a=sendonly",
  "a=accept-types:message/cpim",
  "a=accept-wrapped-types:*",
  "a=path:msrp://bobpc.example.com:8888/9di4ea;tcp",
  "a=file-selector:type:image/jpeg hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E",
  "a=file-transfer-id:aCQYuBRVoUPGVsFZkCK98vzcX2FXDIk2",
].join("\r\n") + "\r\n";

/** RFC 5547 lines 2095-2112 */
const RFC5547_FIG19 = [
  "v=0",
  "o=alice 2890844526 2890844527 IN IP4 alicepc.example.com",
  "s=",
  "c=IN IP4 alicepc.example.com",
  "t=0 0",
  "m=message 7654 TCP/MSRP *",
  "i=This is my latest picture",
  "a=sendonly",
  "a=accept-types:message/cpim",
  "a=accept-wrapped-types:*",
  "a=path:msrp://alicepc.example.com:7654/iau39;tcp",
  'a=file-selector:name:"sunset.jpg" type:image/jpeg size:4096 hash:sha-1:58:23:1F:E8:65:3B:BC:F3:71:36:2F:86:D4:71:91:3E:E4:B1:DF:2F',
  "a=file-transfer-id:ZVE8MfI9mhAdZ8GyiNMzNN5dpqgzQlCO",
  "a=file-disposition:render",
  'a=file-date:creation:"Sun, 21 May 2006 13:02:15 +0300"',
  "a=file-icon:cid:id3@alicepc.example.com",
].join("\r\n") + "\r\n";

/** RFC 5547 lines 2146-2160 */
const RFC5547_FIG20 = [
  "v=0",
  "o=bob 2890844656 2890855440 IN IP4 bobpc.example.com",
  "s=",
  "c=IN IP4 bobpc.example.com",
  "t=0 0",
  "m=message 8888 TCP/MSRP *",
  "a=recvonly",
  "a=accept-types:message/cpim",
  "a=accept-wrapped-types:*",
  "a=path:msrp://bobpc.example.com:8888/eh10dsk;tcp",
  'a=file-selector:name:"sunset.jpg" type:image/jpeg size:4096 hash:sha-1:58:23:1F:E8:65:3B:BC:F3:71:36:2F:86:D4:71:91:3E:E4:B1:DF:2F',
  "a=file-transfer-id:ZVE8MfI9mhAdZ8GyiNMzNN5dpqgzQlCO",
  "a=file-disposition:render",
].join("\r\n") + "\r\n";

/** RFC 5547 lines 2259-2268 */
const RFC5547_FIG24 = [
  "v=0",
  "o=bob 2890844656 2890855439 IN IP4 bobpc.example.com",
  "s=-",
  "c=IN IP4 bobpc.example.com",
  "t=0 0",
  "m=message 0 TCP/MSRP *",
  "a=accept-types:message/cpim",
  "a=accept-wrapped-types:*",
  "a=max-size:20000",
  "a=file-selector",
].join("\r\n") + "\r\n";

/** RFC 7977 lines 755-759 */
const RFC7977_8_2_OFFER = [
  "c=IN IP4 a.example.com",
  "m=message 1234 TCP/TLS/MSRP *",
  "a=accept-types:message/cpim text/plain text/html",
  "a=path:msrps://a.example.com:2855/jui787s2f;tcp msrps://df7jal23ls0d.invalid:2855/98cjs;ws",
].join("\r\n") + "\r\n";

/** RFC 7977 lines 768-771 */
const RFC7977_8_2_ANSWER = [
  "c=IN IP4 bob.example.com",
  "m=message 1234 TCP/TLS/MSRP *",
  "a=accept-types:message/cpim text/plain",
  "a=path:msrps://bob.example.com:49154/foo;tcp",
].join("\r\n") + "\r\n";

/** RFC 7977 lines 993-997 */
const RFC7977_8_3_ANSWER = [
  "c=IN IP4 a.example.com",
  "m=message 1234 TCP/TLS/MSRP *",
  "a=accept-types:message/cpim text/plain",
  "a=path:msrps://a.example.com:2855/iwnslt;tcp msrps://jk9awp14vj8x.invalid:2855/76qwe;ws",
].join("\r\n") + "\r\n";

/** RFC 7977 lines 1143-1147 */
const RFC7977_8_4_ANSWER = [
  "c=IN IP4 bob.example.com",
  "m=message 1234 TCP/TLS/MSRP *",
  "a=accept-types:message/cpim text/plain",
  "a=path:msrps://relay.example.net:2855/kwvin5f;tcp msrps://bob.example.com:49154/foo;tcp",
].join("\r\n") + "\r\n";

/** RFC 4145 §7.3 (a non-MSRP TCP media fragment, for the generic parser). */
const RFC4145_S7_3 = [
  "m=image 54321 TCP t38",
  "c=IN IP4 192.0.2.1",
  "a=setup:passive",
  "a=connection:existing",
].join("\r\n") + "\r\n";

const FULL: Record<string, string> = {
  RFC4975_FIG7,
  RFC4975_FIG9,
  RFC4975_FIG10,
  RFC4975_S11_1_OFFER,
  RFC4975_S11_1_ANSWER,
  RFC5547_FIG2,
  RFC5547_FIG8,
  RFC5547_FIG9,
  RFC5547_FIG15,
  RFC5547_FIG16,
  RFC5547_FIG19,
  RFC5547_FIG20,
  RFC5547_FIG24,
};

const FRAGMENTS: Record<string, string> = {
  RFC4975_S4,
  RFC4975_FIG19,
  RFC4976_OFFER,
  RFC4976_ANSWER,
  RFC7977_8_2_OFFER,
  RFC7977_8_2_ANSWER,
  RFC7977_8_3_ANSWER,
  RFC7977_8_4_ANSWER,
  RFC4145_S7_3,
};

for (const [name, text] of Object.entries(FULL)) {
  Deno.test(`sdp: ${name} parses and formats back byte for byte`, () => {
    assert.equal(formatSdp(parseSdp(text)), text);
  });
}

for (const [name, text] of Object.entries(FRAGMENTS)) {
  Deno.test(`sdp: fragment ${name} parses and formats back byte for byte`, () => {
    assert.equal(formatSdp(parseSdp(text, { fragment: true })), text);
  });
}

Deno.test("sdp: a fragment is refused without fragment mode", () => {
  assert.throws(
    () => parseSdp(RFC4976_OFFER),
    (e: unknown) =>
      e instanceof MsrpSyntaxError && e.code === "sdp-missing-version" && e.offset === 0 &&
      e.input === "c=IN IP4 a.example.com",
  );
});

Deno.test("sdp: LF line ends are accepted and written back as CRLF", () => {
  const lf = RFC4975_FIG9.replaceAll("\r\n", "\n");
  assert.equal(formatSdp(parseSdp(lf)), RFC4975_FIG9);
});

Deno.test("sdp: the generic structure keeps lines and attributes in order", () => {
  const sdp = parseSdp(RFC5547_FIG2);
  assert.deepEqual(sdp.fields.map((f) => f.type), ["v", "o", "s", "c", "t"]);
  assert.equal(sdp.fields[2].value, "");
  assert.deepEqual(sdp.attributes, []);
  assert.equal(sdp.media.length, 1);
  const m = sdp.media[0];
  assert.deepEqual(
    { media: m.media, port: m.port, proto: m.proto, formats: m.formats },
    { media: "message", port: 7654, proto: "TCP/MSRP", formats: ["*"] },
  );
  assert.deepEqual(m.fields, [{ type: "i", value: "This is my latest picture" }]);
  assert.deepEqual(m.attributes.slice(0, 3), [
    { name: "sendonly", value: undefined },
    { name: "accept-types", value: "message/cpim" },
    { name: "accept-wrapped-types", value: "*" },
  ]);
  const frag = parseSdp(RFC4145_S7_3, { fragment: true });
  assert.deepEqual(frag.fields, []);
  assert.deepEqual(frag.media[0].fields, [{ type: "c", value: "IN IP4 192.0.2.1" }]);
});

Deno.test("sdp: a port count after the port is kept", () => {
  const text = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 49170/2 RTP/AVP 0 8\r\n";
  const sdp = parseSdp(text);
  assert.equal(sdp.media[0].portCount, 2);
  assert.deepEqual(sdp.media[0].formats, ["0", "8"]);
  assert.equal(formatSdp(sdp), text);
});

// ---------------------------------------------------------------------------
// MSRP fields
// ---------------------------------------------------------------------------

Deno.test("sdp: RFC 4975 §8.7 offer: MSRP fields", () => {
  const m = parseMsrpMedia(RFC4975_FIG9);
  assert.equal(m.index, 0);
  assert.equal(m.port, 7394);
  assert.equal(m.rejected, false);
  assert.equal(m.transport, "TCP/MSRP");
  assert.deepEqual(m.connection, { netType: "IN", addrType: "IP4", address: "alice.example.com" });
  assert.deepEqual(m.path, ["msrp://alice.example.com:7394/2s93i93idj;tcp"]);
  assert.deepEqual(m.acceptTypes, ["message/cpim", "text/plain", "text/html"]);
  assert.deepEqual(m.acceptWrappedTypes, []);
  assert.equal(m.maxSize, undefined);
  assert.equal(m.setup, undefined);
  assert.equal(m.direction, "sendrecv");
  assert.equal(m.cema, false);
  assert.deepEqual(m.fingerprints, []);
  assert.equal(m.fileSelector, undefined);
});

Deno.test("sdp: RFC 4975 §14.4 fingerprint example", () => {
  const m = parseMsrpMedia(RFC4975_FIG19, { fragment: true });
  assert.equal(m.transport, "TCP/TLS/MSRP");
  assert.deepEqual(m.path, ["msrps://atlanta.example.com:7654/jshA7weso3ks;tcp"]);
  assert.deepEqual(m.fingerprint, {
    hash: "SHA-1",
    value: "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB",
  });
  assert.equal(m.fingerprints.length, 1);
});

Deno.test("sdp: RFC 4976 §11 answer: relay path and a space after the colon", () => {
  const m = parseMsrpMedia(RFC4976_ANSWER, { fragment: true });
  assert.equal(m.transport, "TCP/TLS/MSRP");
  assert.deepEqual(m.path, [
    "msrps://relay.example.com:9000/hjdhfha;tcp",
    "msrps://bob.example.com:1234/fuige;tcp",
  ]);
  assert.deepEqual(m.acceptTypes, ["message/cpim", "text/plain"]);
  assert.equal(m.connection?.address, "bob.example.com");
});

Deno.test("sdp: RFC 7977 §8.2 offer: a ;ws endpoint behind a relay", () => {
  const m = parseMsrpMedia(RFC7977_8_2_OFFER, { fragment: true });
  assert.deepEqual(m.path, [
    "msrps://a.example.com:2855/jui787s2f;tcp",
    "msrps://df7jal23ls0d.invalid:2855/98cjs;ws",
  ]);
  assert.equal(m.transport, "TCP/TLS/MSRP");
});

Deno.test("sdp: TCP/WS/MSRP and TCP/WSS/MSRP spellings are read as MSRP", () => {
  for (const proto of ["TCP/WS/MSRP", "tcp/wss/msrp"]) {
    const m = parseMsrpMedia(
      `m=message 9 ${proto} *\r\na=accept-types:*\r\na=path:msrps://x.invalid:2855/a;ws\r\n`,
      { fragment: true },
    );
    assert.equal(m.transport, proto.toUpperCase());
  }
});

Deno.test("sdp: RFC 5547 §6 figure 2: file-transfer attributes", () => {
  const m = parseMsrpMedia(RFC5547_FIG2);
  assert.equal(m.information, "This is my latest picture");
  assert.equal(m.direction, "sendonly");
  assert.deepEqual(m.acceptTypes, ["message/cpim"]);
  assert.deepEqual(m.acceptWrappedTypes, ["*"]);
  assert.deepEqual(m.fileSelector, {
    name: "My cool picture.jpg",
    type: "image/jpeg",
    size: 32349,
    hashes: [{
      algorithm: "sha-1",
      value: "72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E",
    }],
  });
  assert.equal(m.fileTransferId, "vBnG916bdberum2fFEABR1FR3ExZMUrd");
  assert.equal(m.fileDisposition, "attachment");
  assert.deepEqual(m.fileDate, { creation: "Mon, 15 May 2006 15:01:31 +0300" });
  assert.equal(m.fileIcon, "cid:id2@alicepc.example.com");
  assert.deepEqual(m.fileRange, { start: 1, stop: 32349 });
  assert.equal(m.connection?.address, "host.atlanta.example.com");
});

Deno.test("sdp: RFC 5547 §9.2 pull offer: a hash-only selector", () => {
  const m = parseMsrpMedia(RFC5547_FIG15);
  assert.equal(m.direction, "recvonly");
  assert.deepEqual(m.fileSelector, {
    hashes: [{
      algorithm: "sha-1",
      value: "72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E",
    }],
  });
  assert.equal(m.fileRange, undefined);
});

Deno.test("sdp: RFC 5547 §9.3 capability SDP: port 0, bare file-selector", () => {
  const m = parseMsrpMedia(RFC5547_FIG24);
  assert.equal(m.rejected, true);
  assert.equal(m.port, 0);
  assert.deepEqual(m.path, []);
  assert.deepEqual(m.acceptTypes, ["message/cpim"]);
  assert.equal(m.maxSize, 20000);
  assert.deepEqual(m.fileSelector, { hashes: [] });
});

Deno.test("sdp: session-level direction, setup and fingerprint apply unless overridden", () => {
  const text = [
    "v=0",
    "o=- 1 1 IN IP4 h.example.com",
    "s=-",
    "c=IN IP4 h.example.com",
    "t=0 0",
    "a=recvonly",
    "a=setup:active",
    "a=fingerprint:sha-256 AB:CD",
    "m=message 9 TCP/TLS/MSRP *",
    "a=accept-types:text/plain",
    "a=path:msrps://h.example.com:9/s;tcp",
    "m=message 9 TCP/TLS/MSRP *",
    "a=accept-types:text/plain",
    "a=path:msrps://h.example.com:9/t;tcp",
    "a=inactive",
    "a=setup:passive",
    "a=fingerprint:sha-1 01:02",
    "a=msrp-cema",
    "",
  ].join("\r\n");
  const [a, b] = parseAllMsrpMedia(text);
  assert.deepEqual([a.direction, a.setup, a.fingerprint, a.cema], [
    "recvonly",
    "active",
    { hash: "sha-256", value: "AB:CD" },
    false,
  ]);
  assert.deepEqual([b.index, b.direction, b.setup, b.fingerprint, b.cema], [
    1,
    "inactive",
    "passive",
    { hash: "sha-1", value: "01:02" },
    true,
  ]);
});

Deno.test("sdp: a=connection is reported but does not matter (RFC 6135 §4.4)", () => {
  const m = parseMsrpMedia(
    "m=message 7 TCP/MSRP *\r\na=accept-types:*\r\na=path:msrp://h:7/s;tcp\r\na=connection:new\r\n",
    { fragment: true },
  );
  assert.equal(m.connectionMode, "new");
});

Deno.test("sdp: the first m=message section is used; other media are skipped", () => {
  const text = [
    "v=0",
    "o=- 1 1 IN IP4 h",
    "s=-",
    "c=IN IP4 h",
    "t=0 0",
    "m=audio 49170 RTP/AVP 0",
    "m=message 7 TCP/MSRP *",
    "a=accept-types:text/plain",
    "a=path:msrp://h:7/s;tcp",
    "",
  ].join("\r\n");
  assert.equal(parseMsrpMedia(text).index, 1);
});

// ---------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------

Deno.test("sdp: buildMsrpSdp reproduces RFC 4975 figures 7, 9 and 10", () => {
  assert.equal(
    buildMsrpSdp({
      path: ["msrp://alice.example.com:7394/2s93i9ek2a;tcp"],
      acceptTypes: ["text/plain"],
      origin: { username: "alice", sessionId: "2890844526", sessionVersion: "2890844527" },
      sessionName: " -",
    }),
    RFC4975_FIG7,
  );
  assert.equal(
    buildMsrpSdp({
      path: ["msrp://alice.example.com:7394/2s93i93idj;tcp"],
      acceptTypes: ["message/cpim", "text/plain", "text/html"],
      origin: { username: "usera", sessionId: "2890844526", sessionVersion: "2890844527" },
      sessionName: " -",
    }),
    RFC4975_FIG9,
  );
  assert.equal(
    buildMsrpSdp({
      path: ["msrp://bob.example.com:8493/si438dsaodes;tcp"],
      acceptTypes: ["message/cpim", "text/plain"],
      origin: { username: "userb", sessionId: "2890844530", sessionVersion: "2890844532" },
      sessionName: " -",
    }),
    RFC4975_FIG10,
  );
});

Deno.test("sdp: buildMsrpSdp reproduces RFC 5547 figures 2, 8 and 24", () => {
  const selector = {
    name: "My cool picture.jpg",
    type: "image/jpeg",
    hashes: [{
      algorithm: "sha-1",
      value: "72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E",
    }],
  };
  assert.equal(
    buildMsrpSdp({
      path: ["msrp://atlanta.example.com:7654/jshA7we;tcp"],
      address: "host.atlanta.example.com",
      acceptTypes: ["message/cpim"],
      acceptWrappedTypes: ["*"],
      direction: "sendonly",
      information: "This is my latest picture",
      origin: { username: "alice", sessionId: "2890844526" },
      sessionName: "",
      file: {
        selector: { ...selector, size: 32349 },
        transferId: "vBnG916bdberum2fFEABR1FR3ExZMUrd",
        disposition: "attachment",
        date: { creation: "Mon, 15 May 2006 15:01:31 +0300" },
        icon: "cid:id2@alicepc.example.com",
        range: { start: 1, stop: 32349 },
      },
    }),
    RFC5547_FIG2,
  );
  assert.equal(
    makeOffer({
      comedia: false,
      path: ["msrp://alicepc.example.com:7654/jshA7we;tcp"],
      acceptTypes: ["message/cpim"],
      acceptWrappedTypes: ["*"],
      direction: "sendonly",
      information: "This is my latest picture",
      origin: { username: "alice", sessionId: "2890844526" },
      sessionName: "",
      file: {
        selector: { ...selector, size: 4092 },
        transferId: "Q6LMoGymJdh0IKIgD6wD0jkcfgva4xvE",
        disposition: "render",
        date: { creation: "Mon, 15 May 2006 15:01:31 +0300" },
        icon: "cid:id2@alicepc.example.com",
      },
    }),
    RFC5547_FIG8,
  );
  assert.equal(
    buildMsrpSdp({
      port: 0,
      path: [],
      address: "bobpc.example.com",
      acceptTypes: ["message/cpim"],
      acceptWrappedTypes: ["*"],
      maxSize: 20000,
      origin: { username: "bob", sessionId: "2890844656", sessionVersion: "2890855439" },
      file: { selector: { hashes: [] } },
    }),
    RFC5547_FIG24,
  );
});

Deno.test("sdp: built SDP parses back to the same fields", () => {
  const text = buildMsrpSdp({
    path: ["msrps://relay.example.net:2855/kwvin5f;tcp", "msrps://[2001:db8::7]:49154/foo;tcp"],
    acceptTypes: ["message/cpim", "text/*"],
    acceptWrappedTypes: ["*"],
    maxSize: 1048576,
    setup: "actpass",
    fingerprints: [{ hash: "sha-256", value: "AB:CD:EF" }],
    direction: "sendonly",
    cema: true,
    file: {
      selector: { name: 'a "b"/c%.txt', size: 5, hashes: [] },
      transferId: "t1",
      range: { start: 2, stop: "*" },
    },
    origin: { sessionId: "7" },
  });
  assert.match(text, /\r\nc=IN IP4 relay\.example\.net\r\n/); // CEMA: the relay's address
  assert.match(text, /\r\nm=message 2855 TCP\/TLS\/MSRP \*\r\n/);
  assert.match(text, /\r\na=file-selector:name:"a %22b%22%2Fc%25\.txt" size:5\r\n/);
  const m = parseMsrpMedia(text);
  assert.deepEqual(m.path, [
    "msrps://relay.example.net:2855/kwvin5f;tcp",
    "msrps://[2001:db8::7]:49154/foo;tcp",
  ]);
  assert.deepEqual(m.acceptTypes, ["message/cpim", "text/*"]);
  assert.equal(m.maxSize, 1048576);
  assert.equal(m.setup, "actpass");
  assert.deepEqual(m.fingerprint, { hash: "sha-256", value: "AB:CD:EF" });
  assert.equal(m.direction, "sendonly");
  assert.equal(m.cema, true);
  assert.deepEqual(m.fileSelector, { name: 'a "b"/c%.txt', size: 5, hashes: [] });
  assert.deepEqual(m.fileRange, { start: 2, stop: "*" });
  // Without CEMA the endpoint (last URI) fills c= and m=; an IPv6 host gives IP6.
  const plain = buildMsrpSdp({
    path: ["msrps://relay.example.net:2855/kwvin5f;tcp", "msrps://[2001:db8::7]:49154/foo;tcp"],
    acceptTypes: ["text/plain"],
    origin: { sessionId: "7" },
  });
  assert.equal(
    plain,
    "v=0\r\no=- 7 7 IN IP6 2001:db8::7\r\ns=-\r\nc=IN IP6 2001:db8::7\r\nt=0 0\r\n" +
      "m=message 49154 TCP/TLS/MSRP *\r\na=accept-types:text/plain\r\n" +
      "a=path:msrps://relay.example.net:2855/kwvin5f;tcp msrps://[2001:db8::7]:49154/foo;tcp\r\n",
  );
});

Deno.test("sdp: building refuses a path URI without a port and values with CR/LF", () => {
  assert.throws(
    () => buildMsrpSdp({ path: ["msrp://h.example.com/s;tcp"], acceptTypes: ["*"] }),
    (e: unknown) => e instanceof MsrpSyntaxError && e.code === "bad-path",
  );
  assert.throws(
    () =>
      buildMsrpSdp({
        path: ["msrp://h:1/s;tcp"],
        acceptTypes: ["*"],
        information: "two\r\nlines",
      }),
    (e: unknown) => e instanceof MsrpSyntaxError && e.code === "sdp-bad-value" && e.offset === 3,
  );
  assert.throws(
    () => buildMsrpSdp({ path: [], acceptTypes: ["*"] }),
    (e: unknown) => e instanceof MsrpError && e.code === "bad-sdp-options",
  );
});

// ---------------------------------------------------------------------------
// Offer / answer
// ---------------------------------------------------------------------------

const BOB = {
  path: ["msrp://bob.example.com:8493/si438dsaodes;tcp"],
  acceptTypes: ["message/cpim", "text/plain"],
  origin: { username: "userb", sessionId: "2890844530", sessionVersion: "2890844532" },
  sessionName: " -",
};

Deno.test("sdp: makeAnswer reproduces RFC 4975 figure 10 from figure 9", () => {
  const offer = parseMsrpMedia(RFC4975_FIG9);
  assert.equal(makeAnswer(offer, { ...BOB, comedia: false }), RFC4975_FIG10);
});

Deno.test("sdp: makeAnswer reproduces RFC 5547 figure 9 (push) from figure 8", () => {
  const offer = parseMsrpMedia(RFC5547_FIG8);
  const answer = makeAnswer(offer, {
    comedia: false,
    path: ["msrp://bobpc.example.com:8888/9di4ea;tcp"],
    acceptTypes: ["message/cpim"],
    acceptWrappedTypes: ["*"],
    origin: { username: "bob", sessionId: "2890844656" },
    sessionName: "",
    // Ignored in a push answer: RFC 5547 §8.3.1 forbids icon, disposition and date.
    file: { disposition: "render", icon: "cid:x@y" },
  });
  assert.equal(answer, RFC5547_FIG9);
});

Deno.test("sdp: makeAnswer reproduces RFC 5547 figure 16 (pull) from figure 15", () => {
  const offer = parseMsrpMedia(RFC5547_FIG15);
  const answer = makeAnswer(offer, {
    comedia: false,
    path: ["msrp://bobpc.example.com:8888/9di4ea;tcp"],
    acceptTypes: ["message/cpim"],
    acceptWrappedTypes: ["*"],
    origin: { username: "bob", sessionId: "2890844656", sessionVersion: "2890855439" },
    sessionName: "",
    file: {
      selector: {
        type: "image/jpeg",
        hashes: [{
          algorithm: "sha-1",
          value: "72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E",
        }],
      },
    },
  });
  assert.equal(answer, RFC5547_FIG16);
});

Deno.test("sdp: makeAnswer narrows accept-types like RFC 4976 §11 and fails with none common", () => {
  const offer = parseMsrpMedia(RFC4976_OFFER, { fragment: true });
  const answer = parseMsrpMedia(
    makeAnswer(offer, {
      path: [
        "msrps://relay.example.com:9000/hjdhfha;tcp",
        "msrps://bob.example.com:1234/fuige;tcp",
      ],
      acceptTypes: ["message/cpim", "text/plain", "image/*"],
    }),
  );
  assert.deepEqual(answer.acceptTypes, ["message/cpim", "text/plain"]);
  assert.equal(answer.transport, "TCP/TLS/MSRP");
  assert.equal(answer.port, 1234);
  assert.equal(answer.connection?.address, "bob.example.com");
  assert.equal(answer.setup, "passive");
  assert.throws(
    () => makeAnswer(offer, { ...BOB, acceptTypes: ["image/png"] }),
    (e: unknown) => e instanceof MsrpError && e.code === "no-common-types",
  );
  // Without intersection the local list is advertised as is.
  const wide = parseMsrpMedia(
    makeAnswer(offer, { ...BOB, acceptTypes: ["image/png"], intersectAcceptTypes: false }),
  );
  assert.deepEqual(wide.acceptTypes, ["image/png"]);
});

Deno.test("sdp: a rejected answer has port 0 and mirrors the file attributes (RFC 5547 §8.3)", () => {
  const offer = parseMsrpMedia(RFC5547_FIG8);
  const text = makeAnswer(offer, {
    reject: true,
    path: ["msrp://bobpc.example.com:8888/9di4ea;tcp"],
    acceptTypes: ["message/cpim"],
    origin: { username: "bob", sessionId: "1" },
  });
  assert.equal(
    text,
    "v=0\r\no=bob 1 1 IN IP4 bobpc.example.com\r\ns=-\r\nc=IN IP4 bobpc.example.com\r\n" +
      "t=0 0\r\nm=message 0 TCP/MSRP *\r\n" +
      'a=file-selector:name:"My cool picture.jpg" type:image/jpeg size:4092 hash:sha-1:' +
      "72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E\r\n" +
      "a=file-transfer-id:Q6LMoGymJdh0IKIgD6wD0jkcfgva4xvE\r\n",
  );
  const m = parseMsrpMedia(text);
  assert.equal(m.rejected, true);
  assert.equal(m.fileTransferId, "Q6LMoGymJdh0IKIgD6wD0jkcfgva4xvE");
  assert.throws(
    () => whoConnects(offer, m),
    (e: unknown) => e instanceof MsrpError && e.code === "stream-rejected",
  );
});

Deno.test("sdp: makeOffer writes a=setup:actpass by default and refuses passive/holdconn", () => {
  const offer = parseMsrpMedia(makeOffer({ ...BOB }));
  assert.equal(offer.setup, "actpass");
  assert.equal(parseMsrpMedia(makeOffer({ ...BOB, setup: "active" })).setup, "active");
  for (const setup of ["passive", "holdconn"] as const) {
    assert.throws(
      () => makeOffer({ ...BOB, setup }),
      (e: unknown) => e instanceof MsrpError && e.code === "bad-setup-offer",
    );
  }
});

Deno.test("sdp: the answerer's setup for each offer (RFC 4145 §4.1, RFC 6135 §4.2)", () => {
  const table: [SetupRole | undefined, "active" | "passive" | undefined, string][] = [
    [undefined, undefined, "passive"],
    [undefined, "active", "passive"],
    ["active", undefined, "passive"],
    ["active", "active", "passive"],
    ["passive", undefined, "active"],
    ["passive", "passive", "active"],
    ["actpass", undefined, "passive"],
    ["actpass", "passive", "passive"],
    ["actpass", "active", "active"],
    ["holdconn", undefined, "passive"],
  ];
  for (const [offer, preference, expected] of table) {
    assert.equal(answerSetup(offer, preference), expected, `offer ${offer} / ${preference}`);
    const offerMedia = parseMsrpMedia(
      buildMsrpSdp({ path: ["msrp://a.example.com:7/s;tcp"], acceptTypes: ["*"], setup: offer }),
    );
    const answerMedia = parseMsrpMedia(
      makeAnswer(offerMedia, { ...BOB, acceptTypes: ["*"], setup: preference }),
    );
    assert.equal(answerMedia.setup, expected);
    // Whatever the answer, the negotiation is consistent.
    assert.equal(
      whoConnects(offerMedia, answerMedia),
      expected === "active" ? "answerer" : "offerer",
    );
  }
});

Deno.test("sdp: who connects, for every offer/answer pair of a=setup values", () => {
  const values: (SetupRole | undefined)[] = [undefined, "active", "passive", "actpass", "holdconn"];
  const expected = (off: SetupRole | undefined, ans: SetupRole | undefined): string => {
    if (ans === "actpass") return "bad-setup-answer";
    const o = off === "holdconn" ? undefined : off;
    if (ans === "active") return o === "passive" || o === "actpass" ? "answerer" : "setup-conflict";
    return o === "passive" ? "setup-conflict" : "offerer";
  };
  const results: string[] = [];
  for (const off of values) {
    for (const ans of values) {
      let got: string;
      try {
        got = whoConnects({ setup: off }, { setup: ans });
      } catch (e) {
        assert.ok(e instanceof MsrpError);
        got = e.code;
      }
      assert.equal(got, expected(off, ans), `offer ${off}, answer ${ans}`);
      results.push(got);
    }
  }
  // Spelled out once: rows are offers (none, active, passive, actpass, holdconn),
  // columns answers in the same order.
  assert.deepEqual(results, [
    ...["offerer", "setup-conflict", "offerer", "bad-setup-answer", "offerer"],
    ...["offerer", "setup-conflict", "offerer", "bad-setup-answer", "offerer"],
    ...["setup-conflict", "answerer", "setup-conflict", "bad-setup-answer", "setup-conflict"],
    ...["offerer", "answerer", "offerer", "bad-setup-answer", "offerer"],
    ...["offerer", "setup-conflict", "offerer", "bad-setup-answer", "offerer"],
  ]);
});

Deno.test("sdp: the answer's direction mirrors the offer's (RFC 3264 §6.1)", () => {
  const cases: [string, string | undefined, string][] = [
    ["sendonly", undefined, "recvonly"],
    ["recvonly", undefined, "sendonly"],
    ["inactive", undefined, "inactive"],
    ["sendrecv", undefined, "sendrecv"],
    ["sendrecv", "recvonly", "recvonly"],
    ["sendonly", "sendonly", "inactive"],
  ];
  for (const [offerDir, wish, expected] of cases) {
    const offer = parseMsrpMedia(
      buildMsrpSdp({
        path: ["msrp://a.example.com:7/s;tcp"],
        acceptTypes: ["*"],
        direction: offerDir as MsrpMedia["direction"],
      }),
    );
    const text = makeAnswer(offer, {
      ...BOB,
      direction: wish as MsrpMedia["direction"] | undefined,
    });
    assert.equal(parseMsrpMedia(text).direction, expected, `${offerDir} + ${wish}`);
    // sendrecv is the default and is not written.
    assert.equal(text.includes("a=sendrecv"), false);
  }
});

Deno.test("sdp: CEMA is answered only when both support it and no fall-back case holds", () => {
  const offer = (path: string[], setup: SetupRole) =>
    parseMsrpMedia(buildMsrpSdp({ path, acceptTypes: ["*"], setup, cema: true }));
  const direct = ["msrp://a.example.com:7/s;tcp"];
  const relayed = ["msrps://r.example.com:2855/r;tcp", "msrps://a.example.com:7/s;tcp"];
  const bobRelayed = ["msrps://r2.example.com:2855/q;tcp", "msrps://b.example.com:9/t;tcp"];
  const answerCema = (o: MsrpMedia, path: string[], cema = true) =>
    parseMsrpMedia(makeAnswer(o, { path, acceptTypes: ["*"], cema })).cema;
  assert.equal(answerCema(offer(direct, "actpass"), BOB.path), true);
  assert.equal(answerCema(offer(direct, "actpass"), BOB.path, false), false);
  assert.equal(answerCema(offer(relayed, "actpass"), bobRelayed), false); // both use relays
  assert.equal(answerCema(offer(relayed, "active"), BOB.path), false); // relayed offerer active
  // A CEMA answerer behind a relay advertises the relay in c= (RFC 6714 §4.3 item 3).
  const a = parseMsrpMedia(
    makeAnswer(offer(direct, "actpass"), { path: bobRelayed, acceptTypes: ["*"], cema: true }),
  );
  assert.equal(a.connection?.address, "r2.example.com");
  assert.equal(a.port, 2855);
});

// ---------------------------------------------------------------------------
// Fingerprints
// ---------------------------------------------------------------------------

Deno.test("sdp: certificate fingerprints (RFC 8122)", () => {
  const der = new Uint8Array([1, 2, 3]);
  assert.deepEqual(computeFingerprint(der), {
    hash: "sha-256",
    value:
      "03:90:58:C6:F2:C0:CB:49:2C:53:3B:0A:4D:14:EF:77:CC:0F:78:AB:CC:CE:D5:28:7D:84:A1:A2:01:1C:FB:81",
  });
  const sha1 = {
    hash: "SHA-1",
    value: "70:37:80:71:98:c2:2a:7d:2b:08:07:37:1d:76:37:79:a8:4f:df:cf",
  };
  assert.equal(fingerprintMatches(sha1, der), true);
  assert.equal(fingerprintMatches(sha1, new Uint8Array([1, 2, 4])), false);
  assert.equal(fingerprintMatches({ hash: "md2", value: "00" }, der), false);
  assert.throws(
    () => computeFingerprint(der, "md2"),
    (e: unknown) => e instanceof MsrpError && e.code === "unsupported-hash",
  );
});

// ---------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------

const HEAD = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\n";
const MSRP = "m=message 7 TCP/MSRP *\r\na=accept-types:text/plain\r\na=path:msrp://h:7/s;tcp\r\n";

function throwsSyntax(
  fn: () => unknown,
  code: string,
  input: string,
  offset: number,
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MsrpSyntaxError, `expected MsrpSyntaxError, got ${e}`);
    assert.equal(e.code, code);
    assert.equal(e.input, input);
    assert.equal(e.offset, offset);
    return true;
  });
}

Deno.test("sdp: malformed lines fail with a code, the line and the column", () => {
  throwsSyntax(
    () => parseSdp("o=- 1 1 IN IP4 h\r\n"),
    "sdp-missing-version",
    "o=- 1 1 IN IP4 h",
    0,
  );
  throwsSyntax(() => parseSdp("v=1\r\n"), "sdp-bad-version", "v=1", 2);
  throwsSyntax(() => parseSdp("v =0\r\n"), "sdp-bad-line", "v =0", 1);
  throwsSyntax(() => parseSdp(HEAD + "hello\r\n"), "sdp-bad-line", "hello", 1);
  throwsSyntax(() => parseSdp(HEAD + "V=0\r\n"), "sdp-bad-line", "V=0", 0);
  throwsSyntax(() => parseSdp(HEAD + "x=1\r\n"), "sdp-unknown-type", "x=1", 0);
  throwsSyntax(() => parseSdp(HEAD + "\r\n" + MSRP), "sdp-empty-line", "m=message 7 TCP/MSRP *", 0);
  throwsSyntax(() => parseSdp(HEAD + "a=x\ry\r\n"), "sdp-bad-char", "a=x\ry", 3);
  throwsSyntax(
    () => parseSdp(HEAD + "m=message 7 TCP/MSRP\r\n"),
    "sdp-bad-media",
    "m=message 7 TCP/MSRP",
    2,
  );
  throwsSyntax(
    () => parseSdp(HEAD + "m=message 70000 TCP/MSRP *\r\n"),
    "sdp-bad-port",
    "m=message 70000 TCP/MSRP *",
    10,
  );
  throwsSyntax(
    () => parseSdp("v=0\r\no=alice x 1 IN IP4 h\r\n"),
    "sdp-bad-origin",
    "o=alice x 1 IN IP4 h",
    2,
  );
  throwsSyntax(() => parseSdp(HEAD + "c=IN IP4\r\n"), "sdp-bad-connection", "c=IN IP4", 2);
  throwsSyntax(
    () => parseSdp("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=now 0\r\n"),
    "sdp-bad-time",
    "t=now 0",
    2,
  );
  throwsSyntax(
    () => parseSdp(HEAD + MSRP + "o=- 1 1 IN IP4 h\r\n"),
    "sdp-misplaced-field",
    "o=- 1 1 IN IP4 h",
    0,
  );
  throwsSyntax(() => parseSdp(HEAD + "s=again\r\n"), "sdp-duplicate-field", "s=again", 0);
  throwsSyntax(() => parseSdp(HEAD + "a=bad name:x\r\n"), "sdp-bad-attribute", "a=bad name:x", 2);
  const noTime = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n";
  throwsSyntax(() => parseSdp(noTime), "sdp-missing-field", noTime, noTime.length);
  assert.throws(
    () => parseSdp("v=0\r\n" + "a=x\r\n".repeat(20000)),
    (e: unknown) => e instanceof MsrpSyntaxError && e.code === "sdp-too-large",
  );
});

Deno.test("sdp: trailing blank lines and a missing final CRLF are tolerated", () => {
  assert.equal(formatSdp(parseSdp(HEAD + MSRP + "\r\n\r\n")), HEAD + MSRP);
  assert.equal(formatSdp(parseSdp((HEAD + MSRP).slice(0, -2))), HEAD + MSRP);
});

Deno.test("sdp: malformed MSRP attributes fail with a code and the attribute line", () => {
  const m = (lines: string) => () => parseMsrpMedia(HEAD + "m=message 7 TCP/MSRP *\r\n" + lines);
  const AT = "a=accept-types:text/plain\r\n";
  const PATH = "a=path:msrp://h:7/s;tcp\r\n";
  throwsSyntax(
    () => parseMsrpMedia(HEAD + "m=audio 5 RTP/AVP 0\r\n"),
    "no-msrp-media",
    HEAD + "m=audio 5 RTP/AVP 0\r\n",
    (HEAD + "m=audio 5 RTP/AVP 0\r\n").length,
  );
  throwsSyntax(m(AT), "missing-path", "m=message 7 TCP/MSRP *", 0);
  throwsSyntax(m(PATH), "missing-accept-types", "m=message 7 TCP/MSRP *", 0);
  throwsSyntax(
    m(AT + "a=path:msrp://h:7/s;tcp http://h/x\r\n"),
    "bad-path",
    "a=path:msrp://h:7/s;tcp http://h/x",
    24,
  );
  throwsSyntax(
    m(PATH + "a=accept-types:text/plain text\r\n"),
    "bad-accept-types",
    "a=accept-types:text/plain text",
    26,
  );
  throwsSyntax(
    m(AT + PATH + "a=accept-wrapped-types:\r\n"),
    "bad-accept-wrapped-types",
    "a=accept-wrapped-types:",
    23,
  );
  throwsSyntax(m(AT + PATH + "a=max-size:12k\r\n"), "bad-max-size", "a=max-size:12k", 11);
  throwsSyntax(m(AT + PATH + "a=setup:maybe\r\n"), "bad-setup", "a=setup:maybe", 8);
  throwsSyntax(
    m(AT + PATH + "a=fingerprint:sha-256 AB:C\r\n"),
    "bad-fingerprint",
    "a=fingerprint:sha-256 AB:C",
    22,
  );
  throwsSyntax(m(AT + PATH + PATH), "duplicate-attribute", "a=path:msrp://h:7/s;tcp", 2);
  throwsSyntax(
    m(AT + PATH + "a=file-selector:name:x.txt\r\n"),
    "bad-file-selector",
    "a=file-selector:name:x.txt",
    16,
  );
  throwsSyntax(
    m(AT + PATH + 'a=file-selector:size:1 name:"a%zz"\r\n'),
    "bad-file-selector",
    'a=file-selector:size:1 name:"a%zz"',
    23,
  );
  throwsSyntax(
    m(AT + PATH + 'a=file-selector:name:"open\r\n'),
    "bad-file-selector",
    'a=file-selector:name:"open',
    16,
  );
  throwsSyntax(m(AT + PATH + "a=file-range:5-3\r\n"), "bad-file-range", "a=file-range:5-3", 13);
  throwsSyntax(m(AT + PATH + "a=file-range:0-3\r\n"), "bad-file-range", "a=file-range:0-3", 13);
  throwsSyntax(
    m(AT + PATH + 'a=file-date:creation:"x" creation:"y"\r\n'),
    "bad-file-date",
    'a=file-date:creation:"x" creation:"y"',
    25,
  );
  throwsSyntax(
    m(AT + PATH + "a=file-icon:http://x\r\n"),
    "bad-file-icon",
    "a=file-icon:http://x",
    12,
  );
  throwsSyntax(
    m(AT + PATH + "a=file-transfer-id:a b\r\n"),
    "bad-file-transfer-id",
    "a=file-transfer-id:a b",
    19,
  );
});

Deno.test("building never writes file attributes the parser would refuse", () => {
  const base = { path: ["msrp://a.example.com:7777/s1;tcp"], acceptTypes: ["*"] };
  const sdp = buildMsrpSdp({ ...base, file: { date: {} } });
  assert.doesNotMatch(sdp, /a=file-date/, "an empty file-date is left out");
  parseMsrpMedia(sdp);
  for (
    const range of [{ start: 0, stop: 5 }, { start: 6, stop: 5 }, {
      start: 1.5,
      stop: "*" as const,
    }]
  ) {
    assert.throws(
      () => buildMsrpSdp({ ...base, file: { range } }),
      (e: unknown) => e instanceof MsrpError && e.code === "bad-file-range",
    );
  }
  assert.equal(
    parseMsrpMedia(buildMsrpSdp({ ...base, file: { range: { start: 1, stop: "*" } } })).fileRange
      ?.stop,
    "*",
  );
});
