// The relay's modules and who imports whom (issue 10, "no import cycle in
// lib/relay"): no module may import, directly or not, one that imports it back
// (type-only imports count too). `connection.ts` declares the records that
// point back at connections and imports none of the modules that act on them.

import assert from "node:assert/strict";

const DIR = new URL("../../lib/relay/", import.meta.url);

/** The relay's modules and the relay modules each imports (types included). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const entry of Deno.readDirSync(DIR)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    // Comments left out: a doc example's import is not the module's.
    const text = Deno.readTextFileSync(new URL(entry.name, DIR))
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    const deps = [...text.matchAll(/(?:from|import)\s+"\.\/([\w.-]+\.ts)"/g)].map((m) => m[1]);
    graph.set(entry.name, [...new Set(deps)]);
  }
  return graph;
}

/** The modules that lie on some import cycle (Tarjan's strongly connected components). */
function modulesOnCycles(graph: Map<string, string[]>): Set<string> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const result = new Set<string>();
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next), low.set(v, next), next++;
    stack.push(v), onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) visit(w), low.set(v, Math.min(low.get(v)!, low.get(w)!));
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    for (let w = stack.pop()!;; w = stack.pop()!) {
      onStack.delete(w), scc.push(w);
      if (w === v) break;
    }
    const selfLoop = (graph.get(v) ?? []).includes(v);
    if (scc.length > 1 || selfLoop) { for (const m of scc) result.add(m); }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return result;
}

Deno.test("lib/relay: no module is on an import cycle", () => {
  const graph = importGraph();
  assert.ok(graph.has("relay.ts") && graph.has("connection.ts"), "the relay's modules were read");
  assert.deepEqual([...modulesOnCycles(graph)].sort(), []);
});

Deno.test("lib/relay: the cycle finder sees a cycle and a self-import, and not a diamond", () => {
  const cyclic = new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]], [
    "d.ts",
    [],
  ]]);
  assert.deepEqual([...modulesOnCycles(cyclic)].sort(), ["a.ts", "b.ts", "c.ts"]);
  assert.deepEqual([...modulesOnCycles(new Map([["a.ts", ["a.ts"]]]))], ["a.ts"]);
  const diamond = new Map([["a.ts", ["b.ts", "c.ts"]], ["b.ts", ["d.ts"]], ["c.ts", ["d.ts"]]]);
  assert.deepEqual([...modulesOnCycles(diamond)], []);
});
