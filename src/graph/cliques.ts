import type { IndexedGraph } from './types.js';

/** Undirected neighbour sets of an indexed graph (all edge types pooled, self-loops dropped). */
export function undirectedNeighbours(g: IndexedGraph): Array<Set<number>> {
  const nb = g.labels.map(() => new Set<number>());
  for (const [s, t] of g.edges) {
    if (s === t) continue;
    nb[s]!.add(t);
    nb[t]!.add(s);
  }
  return nb;
}

/**
 * All maximal cliques of the undirected view, by Bron–Kerbosch with Tomita pivoting
 * (the pivot maximises |P ∩ N(u)|). Each clique is sorted ascending; isolated nodes are
 * 1-cliques. Recursion depth is at most the largest clique size.
 */
export function maximalCliques(g: IndexedGraph): number[][] {
  const nb = undirectedNeighbours(g);
  const out: number[][] = [];
  const expand = (r: number[], p: Set<number>, x: Set<number>): void => {
    if (p.size === 0) {
      if (x.size === 0 && r.length > 0) out.push([...r].sort((a, b) => a - b));
      return;
    }
    let pivot = -1;
    let best = -1;
    for (const u of [...p, ...x]) {
      let c = 0;
      for (const v of nb[u]!) if (p.has(v)) c++;
      if (c > best) {
        best = c;
        pivot = u;
      }
    }
    const candidates = [...p].filter((v) => !nb[pivot]!.has(v));
    for (const v of candidates) {
      const nv = nb[v]!;
      const p2 = new Set<number>();
      for (const w of p) if (nv.has(w)) p2.add(w);
      const x2 = new Set<number>();
      for (const w of x) if (nv.has(w)) x2.add(w);
      r.push(v);
      expand(r, p2, x2);
      r.pop();
      p.delete(v);
      x.add(v);
    }
  };
  expand([], new Set(g.labels.map((_, i) => i)), new Set());
  return out.sort((a, b) => {
    if (a.length !== b.length) return b.length - a.length;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return 0;
  });
}
