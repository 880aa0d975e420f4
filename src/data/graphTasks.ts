import type { Graph } from '../graph/types.js';
import { Rng } from '../util/rng.js';

/**
 * The order-free graph tasks: a random graph in, its image out, target nodes in a random order,
 * so that no position says which output node is which.
 * - `graphs`: directed; every node label moves one step along the alphabet, every edge reversed.
 * - `bonds`: undirected, edges labelled "1", "2" or "3" (a bond order); every node label moves one
 *   step along the alphabet, every bond order one step (1 → 2 → 3 → 1).
 */
export const GRAPH_TASKS = ['graphs', 'bonds'] as const;
export type GraphTask = (typeof GRAPH_TASKS)[number];

const BOND_ORDERS = ['1', '2', '3'];

/** A connected random graph on n nodes: a random tree plus about n/3 extra edges (no self-loops, no repeats). */
function randomEdges(rng: Rng, n: number, directed: boolean): Array<[number, number]> {
  const edges: Array<[number, number]> = [];
  const seen = new Set<string>();
  const add = (a: number, b: number): boolean => {
    const key = directed ? `${a},${b}` : `${Math.min(a, b)},${Math.max(a, b)}`;
    if (a === b || seen.has(key)) return false;
    seen.add(key);
    edges.push([a, b]);
    return true;
  };
  for (let v = 1; v < n; v++) {
    const u = rng.int(0, v - 1);
    if (rng.next() < 0.5) add(u, v);
    else add(v, u);
  }
  const extra = Math.floor(n / 3);
  for (let tries = 0, added = 0; added < extra && tries < 20 * n; tries++) if (add(rng.int(0, n - 1), rng.int(0, n - 1))) added++;
  return edges;
}

/** One input/target pair of a graph task with n nodes whose labels come from `alphabet` (≥ 1 grapheme). */
export function graphTaskPair(rng: Rng, task: GraphTask, alphabet: readonly string[], n: number): { input: Graph; target: Graph } {
  const directed = task === 'graphs';
  const labels = Array.from({ length: n }, () => rng.int(0, alphabet.length - 1));
  const edges = randomEdges(rng, n, directed);
  const orders = edges.map(() => rng.int(0, BOND_ORDERS.length - 1));
  const input: Graph = {
    nodes: labels.map((l, id) => ({ id, label: alphabet[l]! })),
    edges: edges.map(([s, t], i) => ({ source: s, target: t, type: directed ? 'structural' : BOND_ORDERS[orders[i]!]! })),
  };
  // The target's nodes are the input's in a random order, renumbered: its node list carries no order to learn.
  const order = rng.shuffle(labels.map((_, i) => i));
  const newId = new Map(order.map((old, i) => [old, i] as const));
  const target: Graph = {
    nodes: order.map((old, id) => ({ id, label: alphabet[(labels[old]! + 1) % alphabet.length]! })),
    edges: edges.map(([s, t], i) => (directed
      ? { source: newId.get(t)!, target: newId.get(s)!, type: 'structural' }
      : { source: newId.get(s)!, target: newId.get(t)!, type: BOND_ORDERS[(orders[i]! + 1) % BOND_ORDERS.length]! })),
  };
  if (!directed) {
    input.directed = false;
    target.directed = false;
  }
  return { input, target };
}
