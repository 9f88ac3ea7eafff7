// The transaction response a receiver sends (RFC 4975 §7.2), byte for byte:
// a SEND is answered to the previous hop only (the first From-Path URI), from
// the first To-Path URI; other methods along the whole From-Path.

import assert from "node:assert/strict";
import { responseTo } from "../../lib/session/report_generator.ts";
import { encodeFrame, HeaderList } from "../../lib/wire/mod.ts";

const A = "msrp://a.example.com:7777/aaaa;tcp";
const R = "msrp://relay.example.com:2855/rrrr;tcp";
const B = "msrp://b.example.com:8888/bbbb;tcp";

function answer(method: string, to: string, from: string): string {
  const r = responseTo(
    { tid: "tid12345", method, headers: new HeaderList([["To-Path", to], ["From-Path", from]]) },
    200,
  );
  return new TextDecoder().decode(encodeFrame(r!));
}

Deno.test("responseTo: one URI each way, as it stands", () => {
  assert.equal(
    answer("SEND", B, A),
    `MSRP tid12345 200 OK\r\nTo-Path: ${A}\r\nFrom-Path: ${B}\r\n-------tid12345$\r\n`,
  );
});

Deno.test("responseTo: a SEND through a relay is answered to the previous hop only (§7.2)", () => {
  assert.equal(
    answer("SEND", `${B} ${R}`, `${R} ${A}`),
    `MSRP tid12345 200 OK\r\nTo-Path: ${R}\r\nFrom-Path: ${B}\r\n-------tid12345$\r\n`,
  );
  // Tabs, runs of spaces and leading or trailing blanks separate URIs too.
  assert.equal(
    answer("SEND", ` ${B}\t${R} `, `\t${R}  ${A} `),
    `MSRP tid12345 200 OK\r\nTo-Path: ${R}\r\nFrom-Path: ${B}\r\n-------tid12345$\r\n`,
  );
});

Deno.test("responseTo: other methods are answered along the whole From-Path (§7.2)", () => {
  assert.equal(
    answer("NICKNAME", B, `${R} ${A}`),
    `MSRP tid12345 200 OK\r\nTo-Path: ${R} ${A}\r\nFrom-Path: ${B}\r\n-------tid12345$\r\n`,
  );
});
