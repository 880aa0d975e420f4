import { graphFromJson } from '../graph/io.js';
import type { Graph } from '../graph/types.js';
import { edgeLabelProblem } from '../graph/validate.js';
import { UserError } from '../util/errors.js';
import { softGraphFromGraph, targetFromGraph, typesOf, type EdgeMatrices, type SoftGraph, type TargetGraph } from './softGraph.js';

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function probability(x: unknown, where: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > 1) throw new UserError(`${where} must be a probability in [0, 1], got ${JSON.stringify(x)}`);
  return x;
}

/** True when parsed JSON looks like a SoftGraph rather than a crisp graph. */
export function isSoftGraphJson(x: unknown): boolean {
  return isObject(x) && ('exist' in x || 'alphabet' in x);
}

/** Parse SoftGraph JSON `{"alphabet", "exist", "labels", "edges", "positions"?}`; errors name the key and index. */
export function softGraphFromJson(x: unknown, where = 'soft graph'): { graph: SoftGraph; alphabet: string[] } {
  if (!isObject(x)) throw new UserError(`${where}: must be a JSON object`);
  const { alphabet, exist, labels, edges } = x;
  if (!Array.isArray(alphabet) || !alphabet.every((l) => typeof l === 'string')) throw new UserError(`${where}: "alphabet" must be an array of strings`);
  if (new Set(alphabet).size !== alphabet.length) throw new UserError(`${where}: "alphabet" has a repeated label`);
  if (!Array.isArray(exist)) throw new UserError(`${where}: "exist" must be an array of probabilities`);
  const K = exist.length;
  const L = alphabet.length;
  const e = Float64Array.from(exist, (v, i) => probability(v, `${where}: exist[${i}]`));
  if (!Array.isArray(labels) || labels.length !== K) throw new UserError(`${where}: "labels" must have one row per slot (${K})`);
  const pi = new Float64Array(K * L);
  labels.forEach((row: unknown, i: number) => {
    if (!Array.isArray(row) || row.length !== L) throw new UserError(`${where}: labels[${i}] must have one entry per alphabet label (${L})`);
    row.forEach((v: unknown, l: number) => (pi[i * L + l] = probability(v, `${where}: labels[${i}][${l}]`)));
  });
  const mats: EdgeMatrices = {};
  if (edges !== undefined) {
    if (!isObject(edges)) throw new UserError(`${where}: "edges" must be an object of K×K matrices by edge type`);
    for (const [type, mat] of Object.entries(edges)) {
      const problem = edgeLabelProblem(type);
      if (problem) throw new UserError(`${where}: edges ${problem}`);
      if (!Array.isArray(mat) || mat.length !== K) throw new UserError(`${where}: edges.${type} must be a ${K}×${K} matrix`);
      const A = new Float64Array(K * K);
      mat.forEach((row: unknown, i: number) => {
        if (!Array.isArray(row) || row.length !== K) throw new UserError(`${where}: edges.${type}[${i}] must have ${K} entries`);
        row.forEach((v: unknown, k: number) => (A[i * K + k] = i === k ? 0 : probability(v, `${where}: edges.${type}[${i}][${k}]`)));
      });
      mats[type] = A;
    }
  }
  const graph: SoftGraph = { K, L, exist: e, labels: pi, edges: mats };
  const { positions } = x;
  if (positions !== undefined) {
    if (!Array.isArray(positions) || positions.length !== K) throw new UserError(`${where}: "positions" must have one row per slot (${K})`);
    const q = new Float64Array(K * K);
    positions.forEach((row: unknown, i: number) => {
      if (!Array.isArray(row) || row.length !== K) throw new UserError(`${where}: positions[${i}] must have one entry per rank (${K})`);
      row.forEach((v: unknown, r: number) => (q[i * K + r] = probability(v, `${where}: positions[${i}][${r}]`)));
    });
    graph.positions = q;
  }
  return { graph, alphabet: alphabet as string[] };
}

/** SoftGraph → JSON object (the format `softGraphFromJson` reads). */
export function softGraphToJson(p: SoftGraph, alphabet: readonly string[]): Record<string, unknown> {
  const rows = (x: Float64Array, r: number, c: number): number[][] => Array.from({ length: r }, (_, i) => Array.from(x.subarray(i * c, i * c + c)));
  const edges: Record<string, number[][]> = {};
  for (const r of typesOf(p.edges)) edges[r] = rows(p.edges[r]!, p.K, p.K);
  const out: Record<string, unknown> = { alphabet: [...alphabet], exist: Array.from(p.exist), labels: rows(p.labels, p.K, p.L), edges };
  if (p.positions) out.positions = rows(p.positions, p.K, p.K);
  return out;
}

/**
 * A loss input pair from parsed JSON: the prediction is a SoftGraph, or a crisp graph read as its
 * one-hot SoftGraph over the labels of both graphs; the target is a crisp graph.
 */
export function lossPairFromJson(pred: unknown, target: unknown, wherePred: string, whereTarget: string): { pred: SoftGraph; target: TargetGraph; alphabet: string[]; targetGraph: Graph } {
  const targetGraph = graphFromJson(target, whereTarget);
  if (isSoftGraphJson(pred)) {
    const { graph, alphabet } = softGraphFromJson(pred, wherePred);
    return { pred: graph, target: targetFromGraph(targetGraph, alphabet), alphabet, targetGraph };
  }
  const predGraph = graphFromJson(pred, wherePred);
  const alphabet = [...new Set([...predGraph.nodes, ...targetGraph.nodes].map((n) => n.label))];
  return { pred: softGraphFromGraph(predGraph, alphabet), target: targetFromGraph(targetGraph, alphabet), alphabet, targetGraph };
}
