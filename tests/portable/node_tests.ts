/**
 * The core's own test files (wire, session over the memory transport,
 * payload), run under Node: portable_test.ts bundles this program
 * (`deno bundle --platform=node`) and runs it with `node`. It prints
 * `node-tests: N passed, 0 failed, M skipped` and exits 0, or lists the
 * failures and exits 1. The tests that need Deno's TCP transport are skipped.
 */

import { runRegistered } from "./deno_test_shim.ts";
import "../wire/auth_headers_test.ts";
import "../wire/decoder_test.ts";
import "../wire/encoder_test.ts";
import "../wire/frame_trace_test.ts";
import "../wire/hash_test.ts";
import "../wire/headers_test.ts";
import "../wire/path_cache_test.ts";
import "../wire/uri_test.ts";
import "../session/body_source_test.ts";
import "../session/bounds_test.ts";
import "../session/fuzz_test.ts";
import "../session/receive_test.ts";
import "../session/send_test.ts";
import "../session/sharing_test.ts";
import "../session/shuffle_test.ts";
import "../session/timer_queue_test.ts";
import "../transport/memory_test.ts";
import "../payload/cpim_test.ts";
import "../payload/fingerprint_test.ts";
import "../payload/imdn_test.ts";
import "../payload/iscomposing_test.ts";
import "../payload/media_types_test.ts";
import "../payload/sdp_test.ts";

// These run a session over Deno's TCP transport (lib/transport/tcp.ts), not the core alone.
const DENO_TCP = /^over TCP: |over loopback TCP/;
const { passed, failed, ignored } = await runRegistered(20_000, DENO_TCP);
for (const f of failed) console.log(`FAILED ${f}`);
console.log(`node-tests: ${passed} passed, ${failed.length} failed, ${ignored} skipped`);
(globalThis as unknown as { process: { exit(code: number): void } }).process.exit(
  failed.length === 0 ? 0 : 1,
);
