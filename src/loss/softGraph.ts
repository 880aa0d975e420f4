import { edgeTypeOrder, indexGraph, type EdgeType, type Graph } from '../graph/types.js';
import { UserError } from '../util/errors.js';
import { structuralRanks } from '../graph/ranks.js';

/** Per-edge-type square matrices (row-major); a missing type is all zeros. Keys are edge types (any string validateGraph accepts). */
export type EdgeMatrices = Partial<Record<EdgeType, Float64Array>>;

/**
 * A predicted graph with K slots over an alphabet of L labels, all probabilities:
 * exist[K], labels[K×L] (rows are distributions), edges[type][K×K] (zero diagonal), and
 * optionally positions[K×K]: row i is slot i's distribution over the ranks 0..K−1 that a target
 * node's own edges give it (`structuralRanks`).
 */
export interface SoftGraph {
  K: number;
  L: number;
  exist: Float64Array;
  labels: Float64Array;
  edges: EdgeMatrices;
  positions?: Float64Array;
}

/**
 * A crisp target: m nodes with label indices into the alphabet (−1: not in it), 0/1 edges, and
 * each node's rank in the order its edges define (null where they define none).
 */
export interface TargetGraph {
  m: number;
  labels: Int32Array;
  edges: EdgeMatrices;
  ranks?: Int32Array | null;
}

/** Gradients of a loss with respect to every input of a SoftGraph. */
export interface SoftGraphGradients {
  exist: Float64Array;
  labels: Float64Array;
  edges: EdgeMatrices;
  positions?: Float64Array;
}

/** Index of each label of an alphabet. */
export function alphabetIndex(alphabet: readonly string[]): Map<string, number> {
  return new Map(alphabet.map((l, i) => [l, i] as const));
}

/** A crisp Graph as a target over an alphabet (labels outside it get −1 and are never matched). */
export function targetFromGraph(g: Graph, alphabet: readonly string[] | Map<string, number>): TargetGraph {
  const index = alphabet instanceof Map ? alphabet : alphabetIndex(alphabet);
  const ig = indexGraph(g);
  const m = ig.labels.length;
  const labels = Int32Array.from(ig.labels, (l) => index.get(l) ?? -1);
  const edges: EdgeMatrices = {};
  for (const [s, t, r] of ig.edges) {
    if (s === t) continue;
    const type = ig.types[r]!;
    const B = (edges[type] ??= new Float64Array(m * m));
    B[s * m + t] = 1;
  }
  return { m, labels, edges, ranks: structuralRanks(g) };
}

/** A crisp Graph as its one-hot SoftGraph (every node exists; labels outside the alphabet are an error). */
export function softGraphFromGraph(g: Graph, alphabet: readonly string[]): SoftGraph {
  const index = alphabetIndex(alphabet);
  const t = targetFromGraph(g, index);
  const K = t.m;
  const L = alphabet.length;
  const labels = new Float64Array(K * L);
  t.labels.forEach((y, i) => {
    if (y < 0) throw new UserError(`label ${JSON.stringify(g.nodes[i]!.label)} is not in the alphabet`);
    labels[i * L + y] = 1;
  });
  return { K, L, exist: new Float64Array(K).fill(1), labels, edges: t.edges };
}

/** Zero gradients shaped like a SoftGraph (edge types as in the graph). */
export function zeroGradients(p: SoftGraph): SoftGraphGradients {
  const edges: EdgeMatrices = {};
  for (const r of typesOf(p.edges)) edges[r] = new Float64Array(p.K * p.K);
  const g: SoftGraphGradients = { exist: new Float64Array(p.K), labels: new Float64Array(p.K * p.L), edges };
  if (p.positions) g.positions = new Float64Array(p.positions.length);
  return g;
}

/** The edge types that have a matrix, in edgeTypeOrder. */
export function typesOf(m: EdgeMatrices): EdgeType[] {
  return edgeTypeOrder(Object.keys(m).filter((r) => m[r] !== undefined));
}

/** The edge types present in either graph, in edgeTypeOrder. */
export function presentTypes(p: SoftGraph, t: TargetGraph): EdgeType[] {
  return edgeTypeOrder([...typesOf(p.edges), ...typesOf(t.edges)]);
}
