// The receive stages wired by hand (lib/session/stages.ts): byte-exact
// responses and REPORTs for what arrives, at every split point of the input.

import assert from "node:assert/strict";
import { FrameDecoderStream, FrameEncoderStream } from "../../lib/wire/mod.ts";
import {
  type IncomingMessage,
  ManualClock,
  ReassemblyStream,
  type ReassemblyStreamOptions,
  ReportStream,
  SessionState,
  SessionStateStream,
} from "../../lib/session/mod.ts";
import { TransactionTable } from "../../lib/session/transactions.ts";
import { dec, enc } from "../_util.ts";

const LOCAL = "msrp://127.0.0.1:7777/s1;tcp";
const PEER = "msrp://127.0.0.1:9999/p1;tcp";

function send(
  tid: string,
  body: string,
  range: string,
  flag: string,
  extra = "",
  to = LOCAL,
  from = PEER,
): string {
  return `MSRP ${tid} SEND\r\nTo-Path: ${to}\r\nFrom-Path: ${from}\r\nMessage-ID: m1x2\r\n` +
    `Byte-Range: ${range}\r\n${extra}Content-Type: text/plain\r\n\r\n${body}\r\n-------${tid}${flag}\r\n`;
}

function response(tid: string, status: string, to = PEER, from = LOCAL): string {
  return `MSRP ${tid} ${status}\r\nTo-Path: ${to}\r\nFrom-Path: ${from}\r\n-------${tid}$\r\n`;
}

/** REPORT transaction ids are random: show them as `T`. */
function anonymize(wire: string): string {
  return wire.replace(/MSRP (\w+) REPORT\r\n([^]*?)-------\1\$/g, "MSRP T REPORT\r\n$2-------T$");
}

interface Run {
  out: string;
  messages: IncomingMessage[];
  texts: (string | Error)[];
}

/** Pipes `pieces` through decoder → session state → reassembly → reports → encoder. */
async function run(
  pieces: readonly Uint8Array[],
  state = new SessionState({ localUri: LOCAL }),
  options: ReassemblyStreamOptions = {},
  onMessage?: (m: IncomingMessage) => void,
): Promise<Run> {
  const reassembly = new ReassemblyStream({ clock: new ManualClock(), ...options });
  const bytes = ReadableStream.from(pieces)
    .pipeThrough(new FrameDecoderStream())
    .pipeThrough(new SessionStateStream(state))
    .pipeThrough(reassembly)
    .pipeThrough(new ReportStream({ localUri: state.localUri }))
    .pipeThrough(new FrameEncoderStream());
  const messages: IncomingMessage[] = [];
  const texts: Promise<string | Error>[] = [];
  const reading = (async () => {
    for await (const m of reassembly.messages) {
      messages.push(m);
      texts.push(m.text().catch((e: Error) => e));
      onMessage?.(m);
    }
  })();
  const out = anonymize(dec(await new Response(bytes).bytes()));
  await reading;
  return { out, messages, texts: await Promise.all(texts) };
}

Deno.test("stages: a message in two chunks out of order gets its 200s and one success REPORT", async () => {
  const wire = send("t1aa", "world", "7-11/11", "$", "Success-Report: yes\r\n") +
    send("t2bb", "hello ", "1-6/11", "+", "Success-Report: yes\r\n");
  const r = await run([enc(wire)]);
  assert.deepEqual(r.texts, ["hello world"]);
  assert.equal(
    r.out,
    response("t1aa", "200 OK") + response("t2bb", "200 OK") +
      `MSRP T REPORT\r\nTo-Path: ${PEER}\r\nFrom-Path: ${LOCAL}\r\nMessage-ID: m1x2\r\n` +
      `Byte-Range: 1-11/11\r\nStatus: 000 200 OK\r\n-------T$\r\n`,
  );
});

Deno.test("stages: the same answers at every split point of the input", async () => {
  const wire = enc(
    send("t1aa", "hello ", "1-6/11", "+", "Success-Report: yes\r\n") +
      send("t2bb", "world", "7-11/11", "$", "Success-Report: yes\r\n") +
      send("t3cc", "x", "1-1/1", "$", "", "msrp://127.0.0.1:7777/nobody;tcp"),
  );
  const whole = await run([wire]);
  assert.deepEqual(whole.texts, ["hello world"]);
  assert.match(whole.out, /MSRP t3cc 481 /);
  for (let cut = 1; cut < wire.length; cut++) {
    const r = await run([wire.subarray(0, cut), wire.subarray(cut)]);
    assert.equal(r.out, whole.out, `cut at ${cut}`);
    assert.deepEqual(r.texts, whole.texts, `cut at ${cut}`);
  }
});

Deno.test("stages: session state answers 481, 403, 501 and 506 (§5.4, §7.3, §10.9)", async () => {
  const other = "msrp://127.0.0.1:1111/x;tcp";
  const state = new SessionState({ localUri: LOCAL, remotePath: [PEER] });
  const wire = send("t1aa", "a", "1-1/1", "$", "", `${LOCAL} ${LOCAL}`) + // two URIs: 481
    send("t2bb", "a", "1-1/1", "$", "", other) + // not our URI: 481
    send("t3cc", "a", "1-1/1", "$", "", LOCAL, other) + // not our peer: 403
    `MSRP t4dd NICKNAME\r\nTo-Path: ${LOCAL}\r\nFrom-Path: ${PEER}\r\n-------t4dd$\r\n`; // 501
  const r = await run([enc(wire)], state);
  assert.equal(
    r.out,
    response("t1aa", "481 Session Does Not Exist: To-Path must hold exactly one URI") +
      response("t2bb", "481 Session Does Not Exist", PEER, other) + // §7.2: From-Path its To-Path
      response("t3cc", "403 Forbidden: From-Path is not the peer of this session", other) +
      `MSRP t4dd 501 Not Implemented\r\nTo-Path: ${PEER}\r\nFrom-Path: ${LOCAL}\r\n-------t4dd$\r\n`,
  );
  assert.deepEqual(r.texts, []);
  // The session is bound to the first stream that carried a request for it: a second gets 506.
  const second = await run([enc(send("t5ee", "a", "1-1/1", "$"))], state);
  assert.equal(second.out, response("t5ee", "506 Session Bound To Another Connection"));
});

Deno.test("stages: a session learns its peer from the first request (§7.2)", async () => {
  const state = new SessionState({ localUri: LOCAL });
  const r = await run([enc(send("t1aa", "hi", "1-2/2", "$"))], state);
  assert.equal(r.out, response("t1aa", "200 OK"));
  assert.deepEqual(state.remotePath.map(String), [PEER]);
});

Deno.test("stages: reassembly refuses what the receive checks refuse (415, 413, 400)", async () => {
  const wire = send("t1aa", "a", "1-1/1", "$").replace("text/plain", "image/png") +
    send("t2bb", "abcdef", "1-6/6", "$") +
    send("t3cc", "a", "1-1/1", "$").replace("Message-ID: m1x2\r\n", "");
  const r = await run([enc(wire)], undefined, { acceptTypes: ["text/plain"], maxSize: 4 });
  assert.equal(
    r.out,
    response("t1aa", "415 Unsupported Media Type: image/png") +
      response("t2bb", "413 Message Too Large: limit is 4 octets") +
      response("t3cc", "400 Bad Request: a SEND needs a Message-ID (§7.1.1)"),
  );
});

Deno.test("stages: a message refused between chunks gets a failure REPORT on the last chunk (§7.1.4)", async () => {
  const wire = send("t1aa", "hello ", "1-6/11", "+") + send("t2bb", "world", "7-11/11", "$");
  let refused = false;
  const r = await run([enc(wire)], undefined, {}, (m) => {
    // After its first chunk (the chain waits for this reader before going on).
    m.reject(415, "Unsupported Media Type");
    refused = true;
  });
  assert.ok(refused);
  assert.equal(
    r.out,
    response("t1aa", "200 OK") +
      `MSRP T REPORT\r\nTo-Path: ${PEER}\r\nFrom-Path: ${LOCAL}\r\nMessage-ID: m1x2\r\n` +
      `Byte-Range: 1-6/11\r\nStatus: 000 415 Unsupported Media Type\r\n-------T$\r\n` +
      response("t2bb", "415 Unsupported Media Type"),
  );
});

Deno.test("stages: Failure-Report no and partial silence the 200s; errors still go back for partial (§7.1.4)", async () => {
  const wire = send("t1aa", "a", "1-1/1", "$", "Failure-Report: no\r\n") +
    send("t2bb", "b", "1-1/1", "$", "Failure-Report: partial\r\n").replace("m1x2", "m2x2") +
    send("t3cc", "c", "1-1/1", "$", "Failure-Report: partial\r\n")
      .replace("m1x2", "m3x3").replace("text/plain", "image/png") +
    send("t4dd", "d", "1-1/1", "$", "Failure-Report: no\r\n")
      .replace("m1x2", "m4x4").replace("text/plain", "image/png");
  const r = await run([enc(wire)], undefined, { acceptTypes: ["text/plain"] });
  assert.equal(r.out, response("t3cc", "415 Unsupported Media Type: image/png"));
  assert.deepEqual(r.texts, ["a", "b"]);
});

Deno.test("stages: a message idle past incompleteTimeout gets a 408 failure REPORT, from a timer (§7.1.4)", async () => {
  const clock = new ManualClock();
  const input = new TransformStream<Uint8Array, Uint8Array>();
  const reassembly = new ReassemblyStream({ clock, incompleteTimeout: 1000 });
  const state = new SessionState({ localUri: LOCAL });
  const bytes = input.readable
    .pipeThrough(new FrameDecoderStream())
    .pipeThrough(new SessionStateStream(state))
    .pipeThrough(reassembly)
    .pipeThrough(new ReportStream({ localUri: state.localUri }))
    .pipeThrough(new FrameEncoderStream());
  const reader = bytes.getReader();
  const writer = input.writable.getWriter();
  writer.write(enc(send("t1aa", "hello ", "1-6/11", "+")));
  const message = (await reassembly.messages.getReader().read()).value!;
  const failed = message.bytes().catch((e: Error) => e);
  assert.equal(dec((await reader.read()).value!), response("t1aa", "200 OK"));
  clock.advance(1000);
  assert.equal(
    anonymize(dec((await reader.read()).value!)),
    `MSRP T REPORT\r\nTo-Path: ${PEER}\r\nFrom-Path: ${LOCAL}\r\nMessage-ID: m1x2\r\n` +
      `Byte-Range: 1-6/11\r\nStatus: 000 408 Request Timeout: nothing arrived for 1000 ms\r\n` +
      `-------T$\r\n`,
  );
  assert.ok(await failed instanceof Error);
  await writer.close();
  assert.equal((await reader.read()).done, true);
});

Deno.test("stages: the pieces of a refused long request are dropped with it", async () => {
  const big = "x".repeat(200 * 1024); // decoded in pieces (64 KiB each)
  const wire = send("t1aa", big, "1-204800/204800", "$", "", "msrp://127.0.0.1:7777/nobody;tcp") +
    send("t2bb", big, "1-204800/204800", "$");
  const r = await run([enc(wire)]);
  assert.equal(
    r.out,
    response("t1aa", "481 Session Does Not Exist", PEER, "msrp://127.0.0.1:7777/nobody;tcp") +
      response("t2bb", "200 OK"),
  );
  assert.deepEqual(r.texts, [big]);
});

Deno.test("stages: a request the decoder could not read gets 400, answered from our URI without a To-Path", async () => {
  const noTo = `MSRP t1aa SEND\r\nFrom-Path: ${PEER}\r\nMessage-ID: m1x2\r\n-------t1aa$\r\n`;
  const noFrom = `MSRP t2bb SEND\r\nTo-Path: ${LOCAL}\r\nMessage-ID: m1x2\r\n-------t2bb$\r\n`;
  const r = await run([enc(noTo + noFrom + send("t3cc", "ok", "1-2/2", "$"))]);
  assert.match(r.out, /^MSRP t1aa 400 [^\r]*\r\nTo-Path: msrp:\/\/127.0.0.1:9999\/p1;tcp\r\n/);
  assert.ok(r.out.includes(`From-Path: ${LOCAL}\r\n-------t1aa$\r\n`));
  assert.ok(!r.out.includes("t2bb"), "no From-Path: nothing can be sent (§7.2)");
  assert.ok(r.out.endsWith(response("t3cc", "200 OK")));
  assert.deepEqual(r.texts, ["ok"]);
});

Deno.test("stages: success REPORTs per chunk, and responses go to their transactions", async () => {
  const clock = new ManualClock();
  const transactions = new TransactionTable(clock, 30_000);
  const answered: number[] = [];
  transactions.add("ours1", { onResponse: (r) => answered.push(r.status), onTimeout: () => {} });
  const state = new SessionState({ localUri: LOCAL });
  const reassembly = new ReassemblyStream({ clock });
  const wire = `MSRP ours1 200 OK\r\nTo-Path: ${LOCAL}\r\nFrom-Path: ${PEER}\r\n-------ours1$\r\n` +
    send("t1aa", "hello ", "1-6/11", "+", "Success-Report: yes\r\n") +
    send("t2bb", "world", "7-11/11", "$", "Success-Report: yes\r\n");
  const bytes = ReadableStream.from([enc(wire)])
    .pipeThrough(new FrameDecoderStream())
    .pipeThrough(new SessionStateStream(state, { transactions }))
    .pipeThrough(reassembly)
    .pipeThrough(new ReportStream({ localUri: state.localUri, successReports: "chunk" }))
    .pipeThrough(new FrameEncoderStream());
  const text = (async () => {
    for await (const m of reassembly.messages) return await m.text();
  })();
  const out = anonymize(dec(await new Response(bytes).bytes()));
  assert.equal(await text, "hello world");
  assert.deepEqual(answered, [200]);
  const report = (range: string) =>
    `MSRP T REPORT\r\nTo-Path: ${PEER}\r\nFrom-Path: ${LOCAL}\r\nMessage-ID: m1x2\r\n` +
    `Byte-Range: ${range}\r\nStatus: 000 200 OK\r\n-------T$\r\n`;
  assert.equal(
    out,
    response("t1aa", "200 OK") + report("1-6/11") + response("t2bb", "200 OK") + report("7-11/11"),
  );
});
