/**
 * Self time by function in V8 `.cpuprofile` files (as written by
 * `deno run --cpu-prof`, e.g. the relay of `_relay_shapes.ts --cpu-prof=DIR`),
 * to see where a relay's time goes per forwarded frame (RFC 4976 §6.4).
 *
 *   deno run -R bench/_profile_summary.ts DIR_OR_FILE... [--top=30]
 *
 * Prints, per profile, the sampled time, the share that was idle, and the
 * functions with the most self time (function, file:line, ms, % of the
 * non-idle time).
 *
 * @module
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time (µs) by function key in one profile, and the total. */
export function selfTimes(p: CpuProfile): { total: number; byFunction: Map<string, number> } {
  const byNode = new Map<number, ProfileNode>();
  for (const n of p.nodes) byNode.set(n.id, n);
  const byFunction = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    const n = byNode.get(p.samples[i]);
    if (n === undefined) continue;
    const f = n.callFrame;
    const file = f.url.replace(/^.*\/(lib|bench|tests|ext)\//, "$1/");
    const key = `${f.functionName || "(anonymous)"} ${file}${file ? `:${f.lineNumber + 1}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + dt);
    total += dt;
  }
  return { total, byFunction };
}

async function files(args: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    const info = await Deno.stat(a);
    if (info.isDirectory) {
      for await (const e of Deno.readDir(a)) {
        if (e.name.endsWith(".cpuprofile")) out.push(`${a}/${e.name}`);
      }
    } else out.push(a);
  }
  return out.sort();
}

if (import.meta.main) {
  const top = Number(Deno.args.find((a) => a.startsWith("--top="))?.slice(6) ?? 30);
  for (const file of await files(Deno.args.filter((a) => !a.startsWith("--")))) {
    const { total, byFunction } = selfTimes(JSON.parse(await Deno.readTextFile(file)));
    const idle = (byFunction.get("(idle) ") ?? 0) + (byFunction.get("(program) ") ?? 0);
    const busy = total - (byFunction.get("(idle) ") ?? 0);
    console.log(
      `\n${file}: ${(total / 1000).toFixed(0)} ms sampled, ${
        (100 * (byFunction.get("(idle) ") ?? 0) / total).toFixed(0)
      }% idle, ${(busy / 1000).toFixed(0)} ms busy (${(idle / 1000).toFixed(0)} ms idle+program)`,
    );
    const rows = [...byFunction].filter(([k]) => k !== "(idle) ").sort((a, b) => b[1] - a[1]);
    for (const [k, us] of rows.slice(0, top)) {
      console.log(
        `  ${(us / 1000).toFixed(1).padStart(8)} ms ${
          (100 * us / busy).toFixed(1).padStart(5)
        }%  ${k}`,
      );
    }
  }
}
