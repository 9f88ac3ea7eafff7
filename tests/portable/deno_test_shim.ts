/**
 * Just enough of `Deno.test` for the core's test files to run under Node:
 * tests register here and {@linkcode runRegistered} runs them one by one.
 * Imported first by node_tests.ts, so that it is in place before the test
 * modules load. Only `Deno.test` (and `Deno.memoryUsage`, which two tests
 * read) is defined; the library itself never looks for `Deno` beyond
 * feature detection (see portable_test.ts).
 */

interface TestDefinition {
  name: string;
  fn: () => void | Promise<void>;
  ignore?: boolean;
}

const tests: TestDefinition[] = [];

function register(
  a: string | TestDefinition,
  b?: Partial<TestDefinition> | (() => void | Promise<void>),
  c?: () => void | Promise<void>,
): void {
  if (typeof a !== "string") tests.push(a);
  else if (typeof b === "function") tests.push({ name: a, fn: b });
  else tests.push({ ...b, name: a, fn: c! });
}

const g = globalThis as unknown as { Deno?: Record<string, unknown>; process?: NodeProcess };
interface NodeProcess {
  memoryUsage(): { rss: number; heapTotal: number; heapUsed: number; external: number };
}
if (g.Deno === undefined) {
  g.Deno = { test: register, memoryUsage: () => g.process!.memoryUsage() };
}

/**
 * Runs the registered tests in order, each within `limitMs`.
 *
 * @param limitMs how long one test may take
 * @param skip names of tests that need Deno itself (its TCP transport), not run here
 * @returns how many passed, failed and were skipped, and the failures' names
 */
export async function runRegistered(
  limitMs: number,
  skip: RegExp,
): Promise<{ passed: number; failed: string[]; ignored: number }> {
  let passed = 0;
  let ignored = 0;
  const failed: string[] = [];
  for (const t of tests) {
    if (t.ignore || skip.test(t.name)) {
      ignored++;
      continue;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        t.fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`longer than ${limitMs} ms`)), limitMs);
        }),
      ]);
      passed++;
    } catch (e) {
      failed.push(`${t.name}: ${(e as Error)?.message ?? e}`);
    } finally {
      clearTimeout(timer);
    }
  }
  return { passed, failed, ignored };
}
