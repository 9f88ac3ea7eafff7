// A small throughput meter for the bench files: `deno bench` reports time per
// iteration; these helpers also print MB/s and frames/s, best of several runs.

/** One measured line of a throughput table. */
export interface Rate {
  name: string;
  mbPerS: number;
  framesPerS?: number;
}

/**
 * Runs `fn` (which processes `bytes` bytes and `frames` frames per call)
 * until `minMs` have passed, five times, and keeps the best run.
 */
export async function measure(
  name: string,
  bytes: number,
  frames: number | undefined,
  fn: () => unknown | Promise<unknown>,
  minMs = 300,
): Promise<Rate> {
  await fn(); // warm up
  let best = Infinity;
  for (let run = 0; run < 5; run++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < minMs) {
      await fn();
      n++;
      t = performance.now();
    }
    best = Math.min(best, (t - t0) / n);
  }
  const perS = 1000 / best;
  return {
    name,
    mbPerS: (bytes * perS) / 1e6,
    framesPerS: frames === undefined ? undefined : frames * perS,
  };
}

/** Prints rates as an aligned table, each also as a ratio of `base`. */
export function printTable(title: string, rates: Rate[], base?: Rate): void {
  console.log(`\n${title}`);
  for (const r of rates) {
    const frames = r.framesPerS === undefined
      ? ""
      : `${Math.round(r.framesPerS).toLocaleString("en")} frames/s`;
    const ratio = base ? `${(r.mbPerS / base.mbPerS).toFixed(2)}x ${base.name}` : "";
    console.log(
      `  ${r.name.padEnd(44)} ${r.mbPerS.toFixed(0).padStart(7)} MB/s  ${
        frames.padStart(20)
      }  ${ratio}`,
    );
  }
}
