import { forEachIndexedEdge, type Graph } from './types.js';

/**
 * Each node's position in the order its own edges define, or null where they define none.
 *
 * The order is the pre-order of the graph read as a left-child right-sibling tree: `structural`
 * edges go from a node to its children, `sequential` edges from a node to its next sibling. A text
 * chain (sequential edges only) is one row of siblings, so its order is the reading order; a
 * Polish tree (operator → operands, consecutive operands chained) is read as its expression.
 * Other edge types are ignored. Node storage order never enters: shuffling a graph's nodes
 * permutes the ranks with them. The order must be unique: where a set of siblings is not one
 * chain (two heads, a cycle, a branch), a node has two parents, or a node is not reached, the
 * result is null. Returned by node index (the order of `g.nodes`).
 */
export function structuralRanks(g: Graph): Int32Array | null {
  const n = g.nodes.length;
  const next = new Int32Array(n).fill(-1);
  const hasPrev = new Uint8Array(n);
  const parent = new Int32Array(n).fill(-1);
  const children: number[][] = Array.from({ length: n }, () => []);
  let unique = true;
  forEachIndexedEdge(g, (s, t, r) => {
    if (s === t) return;
    if (r === 'sequential') {
      if (next[s] !== -1 || hasPrev[t]) unique = false;
      next[s] = t;
      hasPrev[t] = 1;
    } else if (r === 'structural') {
      if (parent[t] !== -1) unique = false;
      parent[t] = s;
      children[s]!.push(t);
    }
  });
  if (!unique) return null;
  const roots: number[] = [];
  for (let v = 0; v < n; v++) if (parent[v] === -1) roots.push(v);
  const ranks = new Int32Array(n).fill(-1);
  let count = 0;
  // Siblings in chain order: the one head among them, then its next pointers, which must stay
  // inside the set and cover it.
  const ordered = (set: number[]): number[] | null => {
    if (set.length === 0) return [];
    const inSet = new Set(set);
    const heads = set.filter((v) => !hasPrev[v]);
    if (heads.length !== 1) return null;
    const out: number[] = [];
    for (let v = heads[0]!; v !== -1; v = next[v]!) {
      if (!inSet.has(v) || out.length > set.length) return null;
      out.push(v);
    }
    return out.length === set.length ? out : null;
  };
  // Iterative pre-order: a stack of sibling lists still to visit.
  const top = ordered(roots);
  if (!top) return null;
  const stack: number[][] = [top.reverse()];
  while (stack.length > 0) {
    const level = stack[stack.length - 1]!;
    const v = level.pop();
    if (v === undefined) {
      stack.pop();
      continue;
    }
    if (ranks[v] !== -1) return null;
    ranks[v] = count++;
    const kids = ordered(children[v]!);
    if (!kids) return null;
    if (kids.length > 0) stack.push(kids.reverse());
  }
  return count === n ? ranks : null;
}
