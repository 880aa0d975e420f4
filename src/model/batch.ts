import { indexGraph, type EdgeType, type Graph } from '../graph/types.js';

/** A padded batch of input graphs, as flat typed arrays ready to become tensors. */
export interface EncodedBatch {
  B: number;
  /** Padded node count (largest graph of the batch, at least 1). */
  N: number;
  /** Alphabet index per node (0, the unknown label, for padding). */
  labels: Int32Array;
  /** Position embedding index per node: its grapheme position, or `maxPositions` when it has none. */
  positions: Int32Array;
  /** The same counted from the end of its graph's text (the last grapheme 0), or `maxPositions`. */
  endPositions: Int32Array;
  /** 1 for real nodes, 0 for padding. */
  mask: Float32Array;
  /**
   * Row-normalised adjacency of every (type, direction) block side by side: [B, N, D·N] with D =
   * 2·inputTypes; block 2t holds out-neighbours of type t, block 2t+1 in-neighbours. One batched
   * matrix product then sums the messages of all blocks.
   */
  adjacency: Float32Array;
  blocks: number;
}

/** Encode input graphs over an alphabet (unknown labels → 0) for the model's edge types. */
export function encodeBatch(graphs: readonly Graph[], index: Map<string, number>, inputTypes: readonly EdgeType[], maxPositions: number): EncodedBatch {
  const B = graphs.length;
  // Edge types the model was not trained on are left out of its input.
  const indexed = graphs.map((g) => indexGraph(g, inputTypes));
  const N = Math.max(1, ...indexed.map((g) => g.labels.length));
  const D = 2 * inputTypes.length;
  const labels = new Int32Array(B * N);
  const positions = new Int32Array(B * N).fill(maxPositions);
  const endPositions = new Int32Array(B * N).fill(maxPositions);
  const mask = new Float32Array(B * N);
  const adjacency = new Float32Array(B * N * D * N);
  const degree = new Float32Array(N * D);
  for (let b = 0; b < B; b++) {
    const g = indexed[b]!;
    const nodes = graphs[b]!.nodes;
    // The text's last grapheme, from which end positions count.
    let last = -1;
    for (const n of nodes) if (n.position !== undefined && n.position > last) last = n.position;
    g.labels.forEach((l, i) => {
      labels[b * N + i] = index.get(l) ?? 0;
      const p = nodes[i]!.position;
      if (p !== undefined && p >= 0) {
        positions[b * N + i] = Math.min(p, maxPositions - 1);
        endPositions[b * N + i] = Math.min(last - p, maxPositions - 1);
      }
      mask[b * N + i] = 1;
    });
    degree.fill(0);
    const base = b * N * D * N;
    for (const [s, t, k] of g.edges) {
      adjacency[base + s * D * N + 2 * k * N + t] = 1;
      adjacency[base + t * D * N + (2 * k + 1) * N + s] = 1;
    }
    for (let i = 0; i < N; i++)
      for (let j = 0; j < D; j++) {
        let deg = 0;
        for (let k = 0; k < N; k++) deg += adjacency[base + i * D * N + j * N + k]!;
        if (deg > 1) for (let k = 0; k < N; k++) adjacency[base + i * D * N + j * N + k]! /= deg;
      }
  }
  return { B, N, labels, positions, endPositions, mask, adjacency, blocks: D };
}
