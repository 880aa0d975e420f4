import type { EdgeType } from '../graph/types.js';
import { OnnxGraph, type Dim, type Value } from './onnx/graph.js';
import * as op from './onnx/ops.js';
import { DataType } from './onnx/proto.js';

/** Everything that fixes the shapes of a model: saved with it, checked on load. */
export interface ModelSpec {
  alphabet: string[];
  /** Edge types the encoder passes messages along. */
  inputTypes: EdgeType[];
  /** Edge types the model predicts (one matrix each). */
  outputTypes: EdgeType[];
  /** K: output slots. */
  K: number;
  d: number;
  heads: number;
  encoderLayers: number;
  decoderLayers: number;
  /** Position embeddings 0..maxPositions−1, plus one for "no position". */
  maxPositions: number;
  /** The targets are undirected graphs: predictions decode as undirected (absent: directed). */
  undirectedOutput?: boolean;
  /**
   * Edge heads also read the input's edges between the nodes the slots were seeded from (one
   * weight per input type and direction per output type); absent in models saved before it existed.
   */
  edgeCopy?: boolean;
  /**
   * A constant added to slot k's logit for rank k (absent: 0, as in models saved before it): each
   * slot starts preferring the rank of the input node it was seeded from.
   */
  rankPrior?: number;
  /**
   * Each input node also embeds its position counted from the end of its text (absent: no such
   * embedding, as in models saved before it).
   */
  endPositions?: boolean;
  /** The rank head reads the slot encodings without training them (absent: its gradient reaches the whole model). */
  rankDetached?: boolean;
  /** Each decoder layer also counts input nodes: sigmoid attention weights summed over the nodes, divided by maxPositions (absent: no such sublayer). */
  countAttention?: boolean;
}

/** The forward graph's named inputs and outputs. */
export interface ForwardGraph {
  graph: OnnxGraph;
  /** Parameters in creation order (graph inputs named as the parameters). */
  params: Value[];
  /** The SoftGraph outputs: exist [B,K], labels [B,K,V], positions [B,K,K], one edge matrix [B,K,K] per output type. */
  outputs: { exist: Value; labels: Value; positions: Value; edges: Value[] };
  /** Dropout mask inputs, [B, rows, d] each (none unless built for training with dropout). */
  dropoutMasks: Array<{ name: string; rows: 'N' | number }>;
}

/**
 * Where a training step's dropout applies: `all`, the embeddings and every residual branch;
 * `transforms`, only the message-passing and feed-forward branches.
 */
export const DROPOUT_SITES = ['all', 'transforms'] as const;
export type DropoutSites = (typeof DROPOUT_SITES)[number];

/** Names of the forward graph's data inputs (the input encoding of the README's "ONNX export"). */
export const INPUT_NAMES = { labels: 'node_labels', positions: 'node_positions', endPositions: 'node_end_positions', mask: 'node_mask', adjacency: 'adjacency' } as const;

/** How a parameter starts: normal with a standard deviation, or filled with a value. */
export type ParameterInit = { normal: number } | { fill: number };

/** Parameter names and shapes of a spec, in the order initialisation draws them. */
export function parameterShapes(spec: ModelSpec): Array<{ name: string; shape: number[]; init: ParameterInit }> {
  const { d, K, encoderLayers, decoderLayers, maxPositions } = spec;
  const V = spec.alphabet.length;
  const D = 2 * spec.inputTypes.length;
  const out: Array<{ name: string; shape: number[]; init: ParameterInit }> = [];
  const normal = (name: string, shape: number[], std: number): void => void out.push({ name, shape, init: { normal: std } });
  const filled = (name: string, shape: number[], value: number): void => void out.push({ name, shape, init: { fill: value } });
  const linear = (name: string, din: number, dout: number): void => normal(name, [din, dout], 1 / Math.sqrt(din));
  const norm = (name: string): void => {
    filled(`${name}.gain`, [d], 1);
    filled(`${name}.bias`, [d], 0);
  };
  const attention = (name: string): void => {
    for (const w of ['Wq', 'Wk', 'Wv', 'Wo']) linear(`${name}.${w}`, d, d);
    norm(`${name}.norm`);
  };
  const feedForward = (name: string): void => {
    linear(`${name}.W1`, d, 2 * d);
    filled(`${name}.b1`, [2 * d], 0);
    linear(`${name}.W2`, 2 * d, d);
    filled(`${name}.b2`, [d], 0);
    norm(`${name}.norm`);
  };
  normal('embed.labels', [V, d], 1);
  normal('embed.positions', [maxPositions + 1, d], 1);
  for (let l = 0; l < encoderLayers; l++) {
    linear(`enc${l}.Wself`, d, d);
    if (D > 0) normal(`enc${l}.Wmsg`, [d, D * d], 1 / Math.sqrt(d));
    filled(`enc${l}.bias`, [d], 0);
    norm(`enc${l}.norm`);
  }
  attention('enc.attn');
  feedForward('enc.ffn');
  normal('dec.slots', [K, d], 0.1);
  for (let l = 0; l < decoderLayers; l++) {
    attention(`dec${l}.cross`);
    if (spec.countAttention) attention(`dec${l}.count`);
    attention(`dec${l}.self`);
    feedForward(`dec${l}.ffn`);
  }
  linear('head.Wexist', d, 1);
  // Slots start present: an absent slot sits at the deletion dummy, where the envelope gradient
  // only pushes its existence further down (measured: training from e ≈ 0.5 collapsed to an empty output).
  filled('head.bexist', [1], 2);
  linear('head.Wlabel', d, V);
  filled('head.blabel', [V], 0);
  // The rank head: it asks each slot's encoding to carry the position its target takes in the
  // output's own order, which is what a bilinear sequential-edge head needs to join rank r to r + 1.
  linear('head.Wpos', d, K);
  filled('head.bpos', [K], 0);
  for (const t of spec.outputTypes) {
    // Edges start sparse and nearly uniform (p ≈ 0.12): dense random edges at initialisation
    // make every existing slot expensive, and the loss then pushes all existence down.
    normal(`head.${t}.Wa`, [d, d], 0.3 / Math.sqrt(d));
    normal(`head.${t}.Wb`, [d, d], 0.3 / Math.sqrt(d));
    filled(`head.${t}.bias`, [1], -2);
  }
  if (copies(spec)) {
    // Zero: the copy channel starts silent, the bilinear head as it was, and grows where it pays.
    for (const t of spec.outputTypes) filled(`head.${t}.copy`, [D, 1], 0);
  }
  // Drawn last, so a model with it starts with every other parameter as one without it.
  if (spec.endPositions) normal('embed.endPositions', [maxPositions + 1, d], 1);
  return out;
}

/**
 * The copy weights' scale. Adam moves a weight by about lr a step, so the weights reach about
 * ±0.5 in a default run: at gain 8 that outvoted the bilinear logits too weakly (graphs task,
 * 3–12 nodes, 3 seeds: exact 0.80–0.85), at 32 it settles (1.000 at every size; docs/experiments.md §15).
 */
const COPY_GAIN = 32;

/** True when a spec's edge heads read the input's edges (edgeCopy, and the input has edge types). */
function copies(spec: ModelSpec): boolean {
  return spec.edgeCopy === true && spec.inputTypes.length > 0;
}

/**
 * The set-prediction graph transformer of the design as one ONNX graph over a batch of B padded
 * input graphs of N nodes (both symbolic): label + position embeddings, typed message passing
 * (separate weights per edge type and direction, residual, layer norm), one global self-attention
 * block; K learned slot queries decoded by cross-attention to the nodes (with countAttention
 * also a second cross-attention whose weights are sigmoids, so that it sums, a count), self-attention among
 * slots and a feed-forward block; heads for existence (sigmoid), label (softmax), rank (softmax
 * over K) and one bilinear edge matrix per output edge type (sigmoid, zero diagonal), with edgeCopy
 * plus a weighted copy of the input's edges among the slots' seed nodes. Built with `dropout`, the
 * residual branches `dropoutSites` names (default `transforms`: the message-passing and
 * feed-forward branches; `all`: every one, and the embeddings) are
 * multiplied by a mask the caller feeds (training only).
 */
export function forwardGraph(spec: ModelSpec, options: { dropout?: boolean; dropoutSites?: DropoutSites } = {}): ForwardGraph {
  const g = new OnnxGraph();
  const { d, K, heads } = spec;
  const D = 2 * spec.inputTypes.length;
  const dh = d / heads;
  const labelsIn = g.input(INPUT_NAMES.labels, ['B', 'N'], DataType.INT64);
  const positionsIn = g.input(INPUT_NAMES.positions, ['B', 'N'], DataType.INT64);
  const endPositionsIn = spec.endPositions ? g.input(INPUT_NAMES.endPositions, ['B', 'N'], DataType.INT64) : null;
  const mask = g.input(INPUT_NAMES.mask, ['B', 'N']);
  const adjacency = D > 0 ? g.input(INPUT_NAMES.adjacency, ['B', 'N', `${D}*N`]) : null;
  const params = parameterShapes(spec).map((p) => g.input(p.name, p.shape, DataType.FLOAT, true));
  const byName = new Map(params.map((p) => [p.name, p]));
  const p = (name: string): Value => {
    const v = byName.get(name);
    if (!v) throw new Error(`model has no parameter ${name}`);
    return v;
  };
  const linear = (x: Value, name: string): Value => op.matmul(g, x, p(name));
  const norm = (x: Value, name: string): Value => op.layerNorm(g, x, p(`${name}.gain`), p(`${name}.bias`));
  const mask3 = op.plain.reshape(g, mask, [0, 0, 1], ['B', 'N', 1]);
  // One score bias for every attention over the nodes: −1e9 at padding, broadcast over heads and queries.
  const padding = op.plain.reshape(g, op.plain.mul(g, op.plain.sub(g, g.scalar(1), mask), g.scalar(-1e9)), [0, 1, 1, -1], ['B', 1, 1, 'N']);
  /** [B, n, d] → [B, heads, n, dh]. */
  const split = (x: Value, n: Dim, perm: number[]): Value => op.transpose(g, op.reshape(g, x, [0, 0, heads, dh], ['B', n, heads, dh]), perm);
  // Count weights are in [0, 1] each, not a softmax: their sum over the nodes is a count on one
  // scale at every input length (countAttention; padding masked, divided by maxPositions).
  const countMask = spec.countAttention ? op.plain.reshape(g, op.plain.mul(g, mask, g.scalar(1 / spec.maxPositions)), [0, 1, 1, -1], ['B', 1, 1, 'N']) : null;
  /** Multi-head attention of q over kv (null: over q itself): softmax weights with a score bias, or with `count` sigmoid weights times countMask. */
  const attention = (q: Value, kv: Value | null, bias: Value | null, name: string, count = false): Value => {
    const nq = q.shape[1]!;
    const source = kv ?? q;
    const nk = source.shape[1]!;
    const Q = split(linear(q, `${name}.Wq`), nq, [0, 2, 1, 3]);
    const Kt = split(linear(source, `${name}.Wk`), nk, [0, 2, 3, 1]);
    const Vh = split(linear(source, `${name}.Wv`), nk, [0, 2, 1, 3]);
    let scores = op.mul(g, op.matmul(g, Q, Kt), g.scalar(1 / Math.sqrt(dh)));
    if (bias) scores = op.add(g, scores, bias);
    const A = count ? op.mul(g, op.sigmoid(g, scores), countMask!) : op.softmax(g, scores);
    const merged = op.reshape(g, op.transpose(g, op.matmul(g, A, Vh), [0, 2, 1, 3]), [0, 0, d], ['B', nq, d]);
    return linear(merged, `${name}.Wo`);
  };
  const dropoutMasks: ForwardGraph['dropoutMasks'] = [];
  /** x times a fed dropout mask (0 or 1/(1 − p) per entry) where the graph is built for training with dropout. */
  const drop = (x: Value, rows: 'N' | number): Value => {
    if (!options.dropout) return x;
    const mask = g.input(`dropout_${dropoutMasks.length}`, ['B', rows, d]);
    dropoutMasks.push({ name: mask.name, rows });
    return op.mul(g, x, mask);
  };
  // The embeddings and the attention outputs carry the sums a slot counts with (how many inputs
  // precede a letter, for sort): `transforms` leaves them whole (docs/experiments.md §26).
  const dropMixing = (x: Value, rows: 'N' | number): Value => ((options.dropoutSites ?? 'transforms') === 'all' ? drop(x, rows) : x);
  const feedForward = (x: Value, name: string): Value => op.add(g, linear(op.relu(g, op.add(g, linear(x, `${name}.W1`), p(`${name}.b1`))), `${name}.W2`), p(`${name}.b2`));

  let embedded = op.add(g, op.gather(g, p('embed.labels'), labelsIn), op.gather(g, p('embed.positions'), positionsIn));
  if (endPositionsIn) embedded = op.add(g, embedded, op.gather(g, p('embed.endPositions'), endPositionsIn));
  let x = dropMixing(embedded, 'N');
  for (let l = 0; l < spec.encoderLayers; l++) {
    let pre = op.add(g, linear(x, `enc${l}.Wself`), p(`enc${l}.bias`));
    if (adjacency) {
      // All (type, direction) transforms in one product, laid out as D blocks of N rows, then
      // every block's messages in one product with the side-by-side adjacency.
      const H = op.reshape(g, op.transpose(g, op.reshape(g, linear(x, `enc${l}.Wmsg`), [0, 0, D, d], ['B', 'N', D, d]), [0, 2, 1, 3]), [0, -1, d], ['B', `${D}*N`, d]);
      pre = op.add(g, pre, op.matmul(g, adjacency, H));
    }
    x = op.mul(g, norm(op.add(g, x, drop(op.relu(g, pre), 'N')), `enc${l}.norm`), mask3);
  }
  x = norm(op.add(g, x, dropMixing(attention(x, null, padding, 'enc.attn'), 'N')), 'enc.attn.norm');
  x = op.mul(g, norm(op.add(g, x, drop(feedForward(x, 'enc.ffn'), 'N')), 'enc.ffn.norm'), mask3);
  // Slot k starts from a learned query plus the encoding of input node k (zero past the input):
  // slots begin distinct and tied to input nodes. A permutation-invariant loss cannot break the
  // symmetry between interchangeable slots by itself: with learned queries alone, the structural
  // loss drove every existence to zero on reverse (measured); seeded, it trains.
  let z = op.add(g, op.takeRows(g, x, K), p('dec.slots'));
  for (let l = 0; l < spec.decoderLayers; l++) {
    z = norm(op.add(g, z, dropMixing(attention(z, x, padding, `dec${l}.cross`), K)), `dec${l}.cross.norm`);
    if (spec.countAttention) z = norm(op.add(g, z, attention(z, x, null, `dec${l}.count`, true)), `dec${l}.count.norm`);
    z = norm(op.add(g, z, dropMixing(attention(z, null, null, `dec${l}.self`), K)), `dec${l}.self.norm`);
    z = norm(op.add(g, z, drop(feedForward(z, `dec${l}.ffn`), K)), `dec${l}.ffn.norm`);
  }
  const exist = op.named(g, op.reshape(g, op.sigmoid(g, op.add(g, linear(z, 'head.Wexist'), p('head.bexist'))), [0, K], ['B', K]), 'exist');
  const labels = op.named(g, op.softmax(g, op.add(g, linear(z, 'head.Wlabel'), p('head.blabel'))), 'labels');
  /** A constant K×K matrix: `on` on the diagonal, `off` elsewhere. */
  const diagonal = (on: number, off: number): Value => g.floats(Array.from({ length: K * K }, (_, k) => (k % (K + 1) === 0 ? on : off)), [K, K]);
  // Detached, the rank head is a probe: its loss trains its own weights and no slot encoding. A
  // plain op is not on the tape, so the backward graph stops at it.
  const rankInput = spec.rankDetached ? op.plain.mul(g, z, g.scalar(1)) : z;
  let rankLogits = op.add(g, linear(rankInput, 'head.Wpos'), p('head.bpos'));
  if (spec.rankPrior) rankLogits = op.add(g, rankLogits, diagonal(spec.rankPrior, 0));
  const positions = op.named(g, op.softmax(g, rankLogits), 'positions');
  const offDiagonal = diagonal(0, 1);
  const copied = copies(spec) && adjacency ? inputEdgesAtSlots(g, adjacency, K, D) : null;
  const edges = spec.outputTypes.map((t) => {
    const a = linear(z, `head.${t}.Wa`);
    const b = op.transpose(g, linear(z, `head.${t}.Wb`), [0, 2, 1]);
    let logits = op.add(g, op.mul(g, op.matmul(g, a, b), g.scalar(1 / Math.sqrt(d))), p(`head.${t}.bias`));
    if (copied) logits = op.add(g, logits, op.mul(g, op.reshape(g, op.matmul(g, copied, p(`head.${t}.copy`)), [0, K, K], ['B', K, K]), g.scalar(COPY_GAIN)));
    return op.named(g, op.mul(g, op.sigmoid(g, logits), offDiagonal), `edges_${t}`);
  });
  for (const v of [exist, labels, positions, ...edges]) g.output(v);
  return { graph: g, params, outputs: { exist, labels, positions, edges }, dropoutMasks };
}

/**
 * The input's edges between the nodes the slots were seeded from, [B, K, K, D]: entry (i, j, c)
 * is input node i's adjacency to node j in (type, direction) block c (zero past the input). Slot k
 * starts as input node k (forwardGraph), so "slots i and j are joined because the input nodes they
 * come from are" is one weight per block, at any graph size, and twins (nodes of equal label and
 * neighbourhood, which no content pointer tells apart) keep their own edges.
 */
function inputEdgesAtSlots(g: OnnxGraph, adjacency: Value, K: number, D: number): Value {
  // Sign: the encoder's adjacency is divided by degree; the copy reads each edge as 1.
  const rows = op.plain.firstAlong(g, op.plain.sign(g, adjacency), 1, K);
  const stacked = op.plain.reshape(g, rows, [0, K * D, -1], ['B', K * D, 'N']);
  const both = op.plain.reshape(g, op.plain.firstAlong(g, stacked, 2, K), [0, K, D, K], ['B', K, D, K]);
  return op.plain.transpose(g, both, [0, 1, 3, 2]);
}
