import type { EdgeType, Graph } from '../graph/types.js';
import type { SoftGraph } from '../loss/softGraph.js';

/**
 * The crisp graph a prediction stands for: slots with existence > 0.5 become nodes (ids 0..n−1 in
 * slot order) labelled by their most probable label, and an edge of type t joins two such nodes
 * where its probability is > 0.5. `undirected`: one edge i–k where the mean of both directions is
 * > 0.5 (the loss trains both directions of an undirected target edge), and the graph says so.
 */
export function decodeSoftGraph(p: SoftGraph, alphabet: readonly string[], types: readonly EdgeType[], undirected = false): Graph {
  const idOf = new Int32Array(p.K).fill(-1);
  const nodes: Graph['nodes'] = [];
  for (let i = 0; i < p.K; i++) {
    if (!(p.exist[i]! > 0.5)) continue;
    let best = 0;
    for (let l = 1; l < p.L; l++) if (p.labels[i * p.L + l]! > p.labels[i * p.L + best]!) best = l;
    idOf[i] = nodes.length;
    nodes.push({ id: nodes.length, label: alphabet[best]! });
  }
  const edges: Graph['edges'] = [];
  for (const t of types) {
    const A = p.edges[t];
    if (!A) continue;
    for (let i = 0; i < p.K; i++) {
      if (idOf[i]! < 0) continue;
      for (let k = undirected ? i + 1 : 0; k < p.K; k++) {
        if (k === i || idOf[k]! < 0) continue;
        const x = undirected ? (A[i * p.K + k]! + A[k * p.K + i]!) / 2 : A[i * p.K + k]!;
        if (x > 0.5) edges.push({ source: idOf[i]!, target: idOf[k]!, type: t });
      }
    }
  }
  return undirected ? { nodes, edges, directed: false } : { nodes, edges };
}
