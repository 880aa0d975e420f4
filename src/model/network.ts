import type { EdgeType } from '../graph/types.js';
import type { SoftGraph, SoftGraphGradients } from '../loss/softGraph.js';
import { Rng } from '../util/rng.js';
import type { Graph } from '../graph/types.js';
import { alphabetIndex } from '../loss/softGraph.js';
import { attention, feedForward, layerNorm, messageLayer } from './blocks.js';
import { encodeBatch, type EncodedBatch } from './batch.js';
import { sparseRows } from './sparse.js';
import { matMul, tf } from './engine.js';

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
}

/** The model's output for a batch: probabilities, as tensors. */
export interface ModelOutput {
  exist: tf.Tensor2D; // [B, K]
  labels: tf.Tensor3D; // [B, K, V]
  edges: tf.Tensor4D; // [B, E, K, K]
  /** Row i: slot i's distribution over the ranks 0..K−1 of the target's own order. */
  positions: tf.Tensor3D; // [B, K, K]
}

/** A batch loss on plain arrays: mean value over the batch and the gradient of that mean per example. */
export type BatchLossFn = (preds: SoftGraph[]) => { value: number; gradients: SoftGraphGradients[] };

export interface SerializedTensor {
  shape: number[];
  /** Float32 little-endian bytes, base64. */
  data: string;
}

export function serializeArray(shape: number[], values: Float32Array): SerializedTensor {
  return { shape, data: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64') };
}

export function deserializeArray(t: SerializedTensor): Float32Array {
  const bytes = Buffer.from(t.data, 'base64');
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== n * 4) throw new Error(`tensor data has ${bytes.length} bytes, shape ${JSON.stringify(t.shape)} needs ${n * 4}`);
  const out = new Float32Array(n);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/**
 * The set-prediction graph transformer of the design: label + position embeddings, typed
 * message passing (separate weights per edge type and direction, residual, layer norm), one
 * global self-attention block; K learned slot queries decoded by cross-attention to the nodes,
 * self-attention among slots and a feed-forward block; heads for existence (sigmoid), label
 * (softmax) and one bilinear edge matrix per output edge type (sigmoid, zero diagonal).
 */
export class GraphModel {
  readonly spec: ModelSpec;
  readonly params = new Map<string, tf.Variable>();

  constructor(spec: ModelSpec, seed: number) {
    this.spec = spec;
    const { d, K, encoderLayers, decoderLayers, maxPositions } = spec;
    const V = spec.alphabet.length;
    const D = 2 * spec.inputTypes.length;
    const rng = new Rng(seed);
    // Own RNG rather than tfjs initialisers: the same seed gives the same weights on every backend.
    const normal = (name: string, shape: number[], std: number): void => {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = std * rng.normal();
      this.params.set(name, tf.variable(tf.tensor(v, shape), true, name));
    };
    const filled = (name: string, shape: number[], value: number): void => {
      this.params.set(name, tf.variable(tf.fill(shape, value), true, name));
    };
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
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`model has no parameter ${name}`);
    return v;
  }

  /** x [B, N, din] · W [din, dout] as one 2-D product. */
  private linear(x: tf.Tensor3D, name: string): tf.Tensor3D {
    const [B, N, din] = x.shape;
    const W = this.p(name);
    return matMul(tf.reshape(x, [B * N, din]), W).reshape([B, N, W.shape[1]!]);
  }

  private layerNorm(x: tf.Tensor3D, name: string): tf.Tensor3D {
    return layerNorm(x, this.p(`${name}.gain`), this.p(`${name}.bias`));
  }

  /** Multi-head attention of queries q over keys/values kv (null: self-attention); `bias` [B·heads, 1, Nk] hides padding. */
  private attention(q: tf.Tensor3D, kv: tf.Tensor3D | null, bias: tf.Tensor | null, name: string): tf.Tensor3D {
    return attention(q, kv, { q: this.p(`${name}.Wq`), k: this.p(`${name}.Wk`), v: this.p(`${name}.Wv`), o: this.p(`${name}.Wo`) }, this.spec.heads, bias);
  }

  private feedForward(x: tf.Tensor3D, name: string): tf.Tensor3D {
    return feedForward(x, this.p(`${name}.W1`), this.p(`${name}.b1`), this.p(`${name}.W2`), this.p(`${name}.b2`));
  }

  /** Forward pass on an encoded batch: one padded tensor pass for the whole batch. */
  forward(batch: EncodedBatch): ModelOutput {
    const { B, N, blocks: D } = batch;
    const { d, K } = this.spec;
    const mask = tf.tensor2d(batch.mask, [B, N]);
    const mask3 = mask.reshape([B, N, 1]);
    // Embedding lookups as one-hot products: the gradient of tf.gather needs a kernel
    // (UnsortedSegmentSum) that the wasm backend does not have.
    const oneHot = (idx: Int32Array, n: number): tf.Tensor2D => {
      const h = new Float32Array(idx.length * n);
      idx.forEach((k, i) => (h[i * n + k] = 1));
      return tf.tensor2d(h, [idx.length, n]);
    };
    const V = this.spec.alphabet.length;
    const P = this.spec.maxPositions + 1;
    let x = tf.add(matMul(oneHot(batch.labels, V), this.p('embed.labels')), matMul(oneHot(batch.positions, P), this.p('embed.positions'))).reshape([B, N, d]) as tf.Tensor3D;
    const adjacency = D > 0 ? sparseRows(batch.adjacency, B, N, D * N) : null;
    for (let l = 0; l < this.spec.encoderLayers; l++) {
      // All (type, direction) transforms in one product, then all messages over the adjacency's nonzeros.
      const messages = messageLayer(x, this.p(`enc${l}.Wself`), this.p(`enc${l}.bias`), adjacency ? this.p(`enc${l}.Wmsg`) : null, adjacency);
      x = tf.mul(this.layerNorm(tf.add(x, messages), `enc${l}.norm`), mask3);
    }
    // One score bias for every attention over the nodes: −1e9 at padding, per head.
    const h = this.spec.heads;
    const padding = tf.mul(tf.sub(1, mask), -1e9).reshape([B, 1, 1, N]).tile([1, h, 1, 1]).reshape([B * h, 1, N]);
    x = this.layerNorm(tf.add(x, this.attention(x, null, padding, 'enc.attn')), 'enc.attn.norm');
    x = tf.mul(this.layerNorm(tf.add(x, this.feedForward(x, 'enc.ffn')), 'enc.ffn.norm'), mask3);
    // Slot k starts from a learned query plus the encoding of input node k (zero past the input):
    // slots begin distinct and tied to input nodes. A permutation-invariant loss cannot break the
    // symmetry between interchangeable slots by itself: with learned queries alone, the structural
    // loss drove every existence to zero on reverse (measured); seeded, it trains.
    const seeds = N >= K ? tf.slice(x, [0, 0, 0], [B, K, d]) : tf.concat([x, tf.zeros([B, K - N, d])], 1);
    let z = tf.add(seeds, this.p('dec.slots').reshape([1, K, d])) as tf.Tensor3D;
    for (let l = 0; l < this.spec.decoderLayers; l++) {
      z = this.layerNorm(tf.add(z, this.attention(z, x, padding, `dec${l}.cross`)), `dec${l}.cross.norm`);
      z = this.layerNorm(tf.add(z, this.attention(z, null, null, `dec${l}.self`)), `dec${l}.self.norm`);
      z = this.layerNorm(tf.add(z, this.feedForward(z, `dec${l}.ffn`)), `dec${l}.ffn.norm`);
    }
    const exist = tf.sigmoid(tf.add(this.linear(z, 'head.Wexist'), this.p('head.bexist'))).reshape([B, K]) as tf.Tensor2D;
    const labels = tf.softmax(tf.add(this.linear(z, 'head.Wlabel'), this.p('head.blabel'))) as tf.Tensor3D;
    const offDiagonal = tf.sub(1, tf.eye(K)).reshape([1, K, K]);
    const edgeList = this.spec.outputTypes.map((t) => {
      const a = this.linear(z, `head.${t}.Wa`);
      const b = tf.transpose(this.linear(z, `head.${t}.Wb`), [0, 2, 1]);
      return tf.mul(tf.sigmoid(tf.add(tf.mul(matMul(a, b), 1 / Math.sqrt(d)), this.p(`head.${t}.bias`))), offDiagonal);
    });
    const edges = (edgeList.length > 0 ? tf.stack(edgeList, 1) : tf.zeros([B, 0, K, K])) as tf.Tensor4D;
    const positions = tf.softmax(tf.add(this.linear(z, 'head.Wpos'), this.p('head.bpos'))) as tf.Tensor3D;
    return { exist, labels, edges, positions };
  }

  /** Predictions for input graphs as plain SoftGraphs (Float64), in padded batches of `batchSize`; no gradient tape. */
  predictGraphs(graphs: readonly Graph[], batchSize = 32): SoftGraph[] {
    this.index ??= alphabetIndex(this.spec.alphabet);
    const out: SoftGraph[] = [];
    for (let b = 0; b < graphs.length; b += batchSize) out.push(...this.predict(encodeBatch(graphs.slice(b, b + batchSize), this.index, this.spec.inputTypes, this.spec.maxPositions)));
    return out;
  }

  private index: Map<string, number> | undefined;

  /** Predictions for one encoded batch. */
  private predict(batch: EncodedBatch): SoftGraph[] {
    const [e, l, g, q] = tf.tidy(() => {
      const o = this.forward(batch);
      return [o.exist, o.labels, o.edges, o.positions];
    });
    const out = softGraphsFrom(this.spec, batch.B, e!.dataSync() as Float32Array, l!.dataSync() as Float32Array, g!.dataSync() as Float32Array, q!.dataSync() as Float32Array);
    tf.dispose([e!, l!, g!, q!]);
    return out;
  }

  /** Every parameter as plain arrays (for checkpoints), in a fixed order. */
  exportWeights(): Record<string, SerializedTensor> {
    const out: Record<string, SerializedTensor> = {};
    for (const [name, v] of this.params) out[name] = serializeArray(v.shape, v.dataSync() as Float32Array);
    return out;
  }

  /** Load parameters saved by exportWeights; names and shapes must match exactly. */
  importWeights(w: Record<string, SerializedTensor>): void {
    const names = Object.keys(w);
    if (names.length !== this.params.size) throw new Error(`checkpoint has ${names.length} parameters, the model has ${this.params.size}`);
    for (const [name, v] of this.params) {
      const t = w[name];
      if (!t) throw new Error(`checkpoint lacks parameter ${name}`);
      if (JSON.stringify(t.shape) !== JSON.stringify(v.shape)) throw new Error(`parameter ${name} has shape ${JSON.stringify(t.shape)} in the checkpoint, ${JSON.stringify(v.shape)} in the model`);
      v.assign(tf.tensor(deserializeArray(t), v.shape));
    }
  }

  parameterCount(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}

/** Split batched model outputs into per-example SoftGraphs (Float64 copies for the loss kernels). */
export function softGraphsFrom(spec: Pick<ModelSpec, 'K' | 'alphabet' | 'outputTypes'>, B: number, exist: Float32Array, labels: Float32Array, edges: Float32Array, positions: Float32Array | null): SoftGraph[] {
  const { K } = spec;
  const L = spec.alphabet.length;
  const E = spec.outputTypes.length;
  const out: SoftGraph[] = [];
  for (let b = 0; b < B; b++) {
    const g: SoftGraph = { K, L, exist: Float64Array.from(exist.subarray(b * K, (b + 1) * K)), labels: Float64Array.from(labels.subarray(b * K * L, (b + 1) * K * L)), edges: {} };
    if (positions) g.positions = Float64Array.from(positions.subarray(b * K * K, (b + 1) * K * K));
    spec.outputTypes.forEach((t, e) => {
      const off = (b * E + e) * K * K;
      g.edges[t] = Float64Array.from(edges.subarray(off, off + K * K));
    });
    out.push(g);
  }
  return out;
}
