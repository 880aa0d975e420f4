import { EDGE_TYPES, type EdgeType } from '../src/graph/types.js';
import type { SoftGraph, TargetGraph } from '../src/loss/softGraph.js';
import { Rng } from '../src/util/rng.js';

/** A random soft graph: K slots, L labels, the given edge types, values strictly inside (0, 1). */
export function randomSoftGraph(rng: Rng, K: number, L: number, types: readonly EdgeType[] = ['sequential', 'clique']): SoftGraph {
  const labels = new Float64Array(K * L);
  for (let i = 0; i < K; i++) {
    let z = 0;
    for (let l = 0; l < L; l++) z += labels[i * L + l] = Math.exp(1.5 * rng.normal());
    for (let l = 0; l < L; l++) labels[i * L + l]! /= z;
  }
  const exist = Float64Array.from({ length: K }, () => 0.05 + 0.9 * rng.next());
  const edges: SoftGraph['edges'] = {};
  for (const r of types) {
    const A = new Float64Array(K * K);
    for (let i = 0; i < K; i++) for (let k = 0; k < K; k++) if (i !== k) A[i * K + k] = 0.02 + 0.96 * rng.next() ** 2;
    edges[r] = A;
  }
  return { K, L, exist, labels, edges };
}

/** A random crisp target with m nodes over L labels (label −1 with probability pUnknown). */
export function randomTarget(rng: Rng, m: number, L: number, types: readonly EdgeType[] = ['sequential', 'clique'], density = 0.3, pUnknown = 0): TargetGraph {
  const labels = Int32Array.from({ length: m }, () => (rng.next() < pUnknown ? -1 : rng.int(0, L - 1)));
  const edges: TargetGraph['edges'] = {};
  for (const r of types) {
    const B = new Float64Array(m * m);
    for (let j = 0; j < m; j++) for (let l = 0; l < m; l++) if (j !== l && rng.next() < density) B[j * m + l] = 1;
    edges[r] = B;
  }
  return { m, labels, edges };
}

/** The same soft graph with its slots permuted: slot perm[i] of the result is slot i of p. */
export function permuteSlots(p: SoftGraph, perm: number[]): SoftGraph {
  const { K, L } = p;
  const exist = new Float64Array(K);
  const labels = new Float64Array(K * L);
  const edges: SoftGraph['edges'] = {};
  for (let i = 0; i < K; i++) {
    exist[perm[i]!] = p.exist[i]!;
    labels.set(p.labels.subarray(i * L, i * L + L), perm[i]! * L);
  }
  for (const r of EDGE_TYPES) {
    const A = p.edges[r];
    if (!A) continue;
    const B = new Float64Array(K * K);
    for (let i = 0; i < K; i++) for (let k = 0; k < K; k++) B[perm[i]! * K + perm[k]!] = A[i * K + k]!;
    edges[r] = B;
  }
  const out: SoftGraph = { K, L, exist, labels, edges };
  if (p.positions) {
    // Rows follow their slots; the columns are ranks, which a slot permutation leaves alone.
    const pos = new Float64Array(K * K);
    for (let i = 0; i < K; i++) pos.set(p.positions.subarray(i * K, i * K + K), perm[i]! * K);
    out.positions = pos;
  }
  return out;
}

/** Random position distributions (K×K, rows sum to 1) for a soft graph. */
export function randomPositions(rng: Rng, K: number): Float64Array {
  const pos = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    let z = 0;
    for (let r = 0; r < K; r++) z += pos[i * K + r] = Math.exp(1.5 * rng.normal());
    for (let r = 0; r < K; r++) pos[i * K + r]! /= z;
  }
  return pos;
}

export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(a[i]!), Math.abs(b[i]!));
  }
  return den === 0 ? num : num / den;
}

/**
 * Five-point central finite differences of f over every entry of x (mutated and restored):
 * truncation O(h⁴) and rounding O(ε·|f|/h), so h = 1e-4 keeps both far below 1e-6.
 */
export function finiteDifference(x: Float64Array, f: () => number, h = 1e-4): Float64Array {
  const g = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const x0 = x[k]!;
    const at = (d: number): number => {
      x[k] = x0 + d;
      return f();
    };
    const v = -at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h);
    x[k] = x0;
    g[k] = v / (12 * h);
  }
  return g;
}

/** A crisp labelled digraph with typed edges, for brute-force references. */
export interface SmallGraph {
  labels: number[];
  /** [source, target, typeIndex] */
  edges: Array<[number, number, number]>;
}

export interface EditCosts {
  sub: number;
  ins: number;
  del: number;
  eins: number;
  edel: number;
}

export const UNIT_COSTS: EditCosts = { sub: 1, ins: 1, del: 1, eins: 1, edel: 1 };

/** Cost of the edit path induced by a node map phi (g1 → g2 index, or −1 for deletion). */
export function editPathCost(g1: SmallGraph, g2: SmallGraph, phi: number[], c: EditCosts = UNIT_COSTS): number {
  let cost = 0;
  const used = new Set<number>();
  g1.labels.forEach((l, i) => {
    const j = phi[i]!;
    if (j < 0) cost += c.del;
    else {
      used.add(j);
      if (g2.labels[j] !== l) cost += c.sub;
    }
  });
  cost += (g2.labels.length - used.size) * c.ins;
  const e2 = new Set(g2.edges.map(([s, t, r]) => `${s},${t},${r}`));
  const covered = new Set<string>();
  for (const [s, t, r] of g1.edges) {
    const key = phi[s]! >= 0 && phi[t]! >= 0 ? `${phi[s]},${phi[t]},${r}` : '';
    if (key && e2.has(key)) covered.add(key);
    else cost += c.edel;
  }
  cost += (e2.size - covered.size) * c.eins;
  return cost;
}

/** Exact GED by enumerating every node map (all injective partial maps g1 → g2). */
export function bruteForceGed(g1: SmallGraph, g2: SmallGraph, c: EditCosts = UNIT_COSTS): number {
  const n = g1.labels.length;
  const m = g2.labels.length;
  let best = Infinity;
  const phi = new Array<number>(n).fill(-1);
  const used = new Array<boolean>(m).fill(false);
  const rec = (i: number): void => {
    if (i === n) {
      best = Math.min(best, editPathCost(g1, g2, phi, c));
      return;
    }
    phi[i] = -1;
    rec(i + 1);
    for (let j = 0; j < m; j++) {
      if (used[j]) continue;
      used[j] = true;
      phi[i] = j;
      rec(i + 1);
      used[j] = false;
    }
    phi[i] = -1;
  };
  rec(0);
  return best;
}

/** A random small graph: n nodes, labels in 0..L−1, each typed edge with probability density. */
export function randomSmallGraph(rng: Rng, n: number, L: number, types: number[], density: number): SmallGraph {
  const labels = Array.from({ length: n }, () => rng.int(0, L - 1));
  const edges: Array<[number, number, number]> = [];
  for (const r of types) for (let s = 0; s < n; s++) for (let t = 0; t < n; t++) if (s !== t && rng.next() < density) edges.push([s, t, r]);
  return { labels, edges };
}
