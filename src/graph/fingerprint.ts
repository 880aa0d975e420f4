import { hashString } from '../util/rng.js';
import { indexGraph, isUndirected, type Graph } from './types.js';

/**
 * An isomorphism-invariant key of a graph: its node labels refined by `iterations` (default 3)
 * rounds of Weisfeiler–Lehman colouring over typed, directed edges (an undirected edge counts
 * both ways), given as the sorted multiset of the final colours (32-bit hashes, base 36).
 * Isomorphic graphs always share a key, whatever their node numbering; graphs that WL cannot tell
 * apart (or whose hashes collide) share one too. Keeps renumbered copies of a graph in one split.
 */
export function graphFingerprint(g: Graph, iterations = 3): string {
  const ig = indexGraph(g);
  let colours = ig.labels.map((l) => hashString(`L${l}`).toString(36));
  for (let it = 0; it < iterations; it++) {
    const outN: string[][] = colours.map(() => []);
    const inN: string[][] = colours.map(() => []);
    for (const [s, t, r] of ig.edges) {
      outN[s]!.push(`${colours[t]}:${ig.types[r]}`);
      inN[t]!.push(`${colours[s]}:${ig.types[r]}`);
    }
    colours = colours.map((c, v) => hashString(`${c}|${outN[v]!.sort().join(',')}|${inN[v]!.sort().join(',')}`).toString(36));
  }
  return `${isUndirected(g) ? 'u' : 'd'}${ig.labels.length}:${colours.sort().join(',')}`;
}
