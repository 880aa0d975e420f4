import { edgeTypesOf, indexGraph, isUndirected, type Graph } from '../graph/types.js';
import { UserError } from '../util/errors.js';

export interface WlOptions {
  /** Refinement iterations h (default 3). */
  iterations?: number;
  /** Pool in- and out-neighbours (default false: direction matters; undirected graphs have no direction to lose). */
  undirected?: boolean;
}

/** Colour histograms of two graphs after each WL iteration 0..h, with colours compressed jointly. */
function wlHistograms(g1: Graph, g2: Graph, h: number, undirected: boolean): Array<[Map<number, number>, Map<number, number>]> {
  // An undirected graph's edges come both ways from indexGraph, so each node sees every neighbour.
  if (isUndirected(g1) !== isUndirected(g2)) throw new UserError(`WL similarity between a directed and an undirected graph is not defined (graph ${isUndirected(g1) ? 1 : 2} has "directed": false); give both graphs the same "directed" (or compare with --undirected after making both directed)`);
  // One type index for both graphs, so that an edge label means the same in each.
  const types = edgeTypesOf([g1, g2]);
  const graphs = [indexGraph(g1, types), indexGraph(g2, types)];
  const dict = new Map<string, number>();
  const compress = (sig: string): number => {
    let c = dict.get(sig);
    if (c === undefined) {
      c = dict.size;
      dict.set(sig, c);
    }
    return c;
  };
  let colours = graphs.map((g) => g.labels.map((l) => compress(`L${l}`)));
  const hist = (cs: number[]): Map<number, number> => {
    const m = new Map<number, number>();
    for (const c of cs) m.set(c, (m.get(c) ?? 0) + 1);
    return m;
  };
  const out: Array<[Map<number, number>, Map<number, number>]> = [[hist(colours[0]!), hist(colours[1]!)]];
  for (let it = 1; it <= h; it++) {
    colours = graphs.map((g, gi) => {
      const cs = colours[gi]!;
      const outN: string[][] = g.labels.map(() => []);
      const inN: string[][] = g.labels.map(() => []);
      for (const [s, t, r] of g.edges) {
        outN[s]!.push(`${cs[t]}:${r}`);
        (undirected ? outN : inN)[t]!.push(`${cs[s]}:${r}`);
      }
      // The iteration number keeps colours of different depths apart in the shared dictionary.
      return cs.map((c, v) => compress(`${it}|${c}|${outN[v]!.sort().join(',')}|${inN[v]!.sort().join(',')}`));
    });
    out.push([hist(colours[0]!), hist(colours[1]!)]);
  }
  return out;
}

function dot(a: Map<number, number>, b: Map<number, number>): number {
  let s = 0;
  for (const [c, n] of a) s += n * (b.get(c) ?? 0);
  return s;
}

/** WL subtree kernel value k(G, H) (Shervashidze et al. 2011): Σ over iterations 0..h of colour-count dot products. */
export function wlKernel(g1: Graph, g2: Graph, opts: WlOptions = {}): number {
  return wlHistograms(g1, g2, opts.iterations ?? 3, opts.undirected ?? false).reduce((s, [a, b]) => s + dot(a, b), 0);
}

/** Normalised WL similarity k(G,H)/√(k(G,G)·k(H,H)) in [0, 1]; 1 for two empty graphs, 0 if exactly one is empty. */
export function wlSimilarity(g1: Graph, g2: Graph, opts: WlOptions = {}): number {
  const n1 = g1.nodes.length;
  const n2 = g2.nodes.length;
  if (n1 === 0 && n2 === 0) return 1;
  if (n1 === 0 || n2 === 0) return 0;
  let kgh = 0;
  let kgg = 0;
  let khh = 0;
  for (const [a, b] of wlHistograms(g1, g2, opts.iterations ?? 3, opts.undirected ?? false)) {
    kgh += dot(a, b);
    kgg += dot(a, a);
    khh += dot(b, b);
  }
  return kgh / Math.sqrt(kgg * khh);
}
