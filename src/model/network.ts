import type { Graph } from '../graph/types.js';
import type { SoftGraph, SoftGraphGradients } from '../loss/softGraph.js';
import { alphabetIndex } from '../loss/softGraph.js';
import { Rng } from '../util/rng.js';
import { encodeBatch, type EncodedBatch } from './batch.js';
import { forwardGraph, INPUT_NAMES, parameterShapes, type DropoutSites, type ForwardGraph, type ModelSpec } from './forward.js';
import { backwardGraph } from './onnx/ops.js';
import { resolveShape, type Value } from './onnx/graph.js';
import { defaultThreads, EngineSession, type Feed } from './runtime.js';

export type { ModelSpec } from './forward.js';

/** A batch loss on plain arrays: mean value over the batch and the gradient of that mean per example. */
export type BatchLossFn = (preds: SoftGraph[]) => { value: number; gradients: SoftGraphGradients[] };
/** A batch loss the training step may wait for (part of it computed on another thread). */
export type AsyncBatchLossFn = (preds: SoftGraph[]) => ReturnType<BatchLossFn> | Promise<ReturnType<BatchLossFn>>;

/** A parameter: its shape and float32 values (row-major), owned by grapheme (the optimiser updates them in place). */
export interface Parameter {
  shape: number[];
  data: Float32Array;
}

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

export interface EngineOptions {
  /** The engine's intra-op threads (default: `defaultThreads()`). */
  threads?: number;
  /** Dropout probability of training steps (default 0); predictions never drop. */
  dropout?: number;
  /** Where that dropout applies (`DROPOUT_SITES`; forwardGraph's default `transforms` when absent). */
  dropoutSites?: DropoutSites;
}

/** Backward graphs kept compiled at once (one per batch size and padded node count). */
const BACKWARD_CACHE = 64;

/**
 * The model of `forward.ts` on onnxruntime: parameters in grapheme's own arrays, one compiled
 * forward graph for every batch shape, and a backward graph compiled per (batch size, padded
 * node count) on first use. A training step is two engine runs with the plain-TypeScript loss
 * between them: the forward run returns the SoftGraph and the intermediates the backward needs,
 * the backward run turns ∂loss/∂SoftGraph into ∂loss/∂every parameter.
 */
export class GraphModel {
  readonly spec: ModelSpec;
  readonly params = new Map<string, Parameter>();
  readonly threads: number;
  readonly dropout: number;
  /** The graph training steps run (with dropout masks when dropout > 0). */
  private readonly net: ForwardGraph;
  /** The graph predictions run: `net` itself when there is no dropout. */
  private readonly inference: ForwardGraph;
  private inferenceSession: Promise<EngineSession> | null = null;
  /** Forward intermediates the backward graphs read (the forward graph returns them). */
  private readonly saved: Value[];
  private forwardSession: Promise<EngineSession> | null = null;
  private readonly backward = new Map<string, Promise<EngineSession>>();
  private readonly index: Map<string, number>;

  constructor(spec: ModelSpec, seed: number, options: EngineOptions = {}) {
    this.spec = spec;
    this.threads = options.threads ?? defaultThreads();
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new Error(`dropout must be in [0, 1), got ${this.dropout}`);
    this.index = alphabetIndex(spec.alphabet);
    const rng = new Rng(seed);
    // Own RNG, drawn in a fixed order: the same seed gives the same weights on every engine.
    for (const p of parameterShapes(spec)) {
      const n = p.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      if ('normal' in p.init) for (let i = 0; i < n; i++) data[i] = p.init.normal * rng.normal();
      else data.fill(p.init.fill);
      this.params.set(p.name, { shape: p.shape, data });
    }
    this.net = forwardGraph(spec, { dropout: this.dropout > 0, dropoutSites: options.dropoutSites });
    this.inference = this.dropout > 0 ? forwardGraph(spec) : this.net;
    // Which intermediates the backward reads does not depend on the sizes: any binding tells.
    this.saved = backwardGraph(this.net.graph, this.seeds(), this.net.params, { B: 1, N: 1 }).saved;
    for (const v of this.saved) this.net.graph.output(v);
  }

  private seeds(): Value[] {
    const o = this.net.outputs;
    return [o.exist, o.labels, o.positions, ...o.edges];
  }

  private forwardRunner(): Promise<EngineSession> {
    this.forwardSession ??= EngineSession.create(this.net.graph.encode({ name: 'grapheme-forward' }), { threads: this.threads });
    return this.forwardSession;
  }

  private inferenceRunner(): Promise<EngineSession> {
    if (this.inference === this.net) return this.forwardRunner();
    this.inferenceSession ??= EngineSession.create(this.inference.graph.encode({ name: 'grapheme-predict' }), { threads: this.threads });
    return this.inferenceSession;
  }

  /** Inverted-dropout masks for one training step, drawn from `seed`: each entry 0 with probability p, else 1/(1 − p). */
  private dropoutFeeds(batch: EncodedBatch, seed: number): Record<string, Feed> {
    const feeds: Record<string, Feed> = {};
    const keep = 1 - this.dropout;
    const rng = new Rng(seed);
    for (const m of this.net.dropoutMasks) {
      const rows = m.rows === 'N' ? batch.N : m.rows;
      const data = new Float32Array(batch.B * rows * this.spec.d);
      rng.fillWhereBelow(data, keep, 1 / keep);
      feeds[m.name] = { data, dims: [batch.B, rows, this.spec.d] };
    }
    return feeds;
  }

  private backwardRunner(B: number, N: number): Promise<EngineSession> {
    const key = `${B}x${N}`;
    let s = this.backward.get(key);
    if (!s) {
      if (this.backward.size >= BACKWARD_CACHE) {
        const [oldest, session] = this.backward.entries().next().value as [string, Promise<EngineSession>];
        this.backward.delete(oldest);
        void session.then((x) => x.release());
      }
      const { graph } = backwardGraph(this.net.graph, this.seeds(), this.net.params, { B, N });
      s = EngineSession.create(graph.encode({ name: 'grapheme-backward' }), { threads: this.threads });
      this.backward.set(key, s);
    }
    return s;
  }

  private feeds(batch: EncodedBatch): Record<string, Feed> {
    const { B, N, blocks: D } = batch;
    const feeds: Record<string, Feed> = {
      [INPUT_NAMES.labels]: { data: BigInt64Array.from(batch.labels, (x) => BigInt(x)), dims: [B, N] },
      [INPUT_NAMES.positions]: { data: BigInt64Array.from(batch.positions, (x) => BigInt(x)), dims: [B, N] },
      [INPUT_NAMES.mask]: { data: batch.mask, dims: [B, N] },
    };
    if (this.spec.endPositions) feeds[INPUT_NAMES.endPositions] = { data: BigInt64Array.from(batch.endPositions, (x) => BigInt(x)), dims: [B, N] };
    if (D > 0) feeds[INPUT_NAMES.adjacency] = { data: batch.adjacency, dims: [B, N, D * N] };
    for (const [name, p] of this.params) feeds[name] = { data: p.data, dims: p.shape };
    return feeds;
  }

  private outputNames(): string[] {
    return this.seeds().map((v) => v.name);
  }

  /** Forward pass on an encoded batch: the per-example SoftGraphs (Float64 copies). */
  async forward(batch: EncodedBatch): Promise<SoftGraph[]> {
    const out = await (await this.inferenceRunner()).run(this.feeds(batch), this.outputNames());
    return this.softGraphs(batch.B, out);
  }

  private softGraphs(B: number, out: Record<string, Float32Array>): SoftGraph[] {
    const o = this.net.outputs;
    return softGraphsFrom(this.spec, B, out[o.exist.name]!, out[o.labels.name]!, o.edges.map((e) => out[e.name]!), out[o.positions.name]!);
  }

  /**
   * Forward, the loss and backward on one encoded batch: the mean loss and ∂loss/∂every parameter,
   * as plain arrays. `dropoutSeed` draws the step's dropout masks (default 0; the trainer passes one per step).
   */
  async gradients(batch: EncodedBatch, lossFn: AsyncBatchLossFn, dropoutSeed = 0): Promise<{ value: number; grads: Record<string, Float32Array> }> {
    const { B, N } = batch;
    const backward = this.backwardRunner(B, N);
    const feeds = { ...this.feeds(batch), ...this.dropoutFeeds(batch, dropoutSeed) };
    const out = await (await this.forwardRunner()).run(feeds, [...this.outputNames(), ...this.saved.map((v) => v.name)]);
    const r = await lossFn(this.softGraphs(B, out));
    const o = this.net.outputs;
    const { K } = this.spec;
    const L = this.spec.alphabet.length;
    const dExist = new Float32Array(B * K);
    const dLabels = new Float32Array(B * K * L);
    const dPositions = new Float32Array(B * K * K);
    const dEdges = this.spec.outputTypes.map(() => new Float32Array(B * K * K));
    r.gradients.forEach((g, b) => {
      dExist.set(g.exist, b * K);
      dLabels.set(g.labels, b * K * L);
      if (g.positions) dPositions.set(g.positions, b * K * K);
      this.spec.outputTypes.forEach((t, e) => {
        const m = g.edges[t];
        if (m) dEdges[e]!.set(m, b * K * K);
      });
    });
    feeds[`grad:${o.exist.name}`] = { data: dExist, dims: [B, K] };
    feeds[`grad:${o.labels.name}`] = { data: dLabels, dims: [B, K, L] };
    feeds[`grad:${o.positions.name}`] = { data: dPositions, dims: [B, K, K] };
    o.edges.forEach((e, k) => (feeds[`grad:${e.name}`] = { data: dEdges[k]!, dims: [B, K, K] }));
    for (const v of this.saved) feeds[v.name] = { data: out[v.name]!, dims: resolveShape(v.shape, { B, N }) };
    const session = await backward;
    const wanted = new Set(session.inputNames);
    for (const name of Object.keys(feeds)) if (!wanted.has(name)) delete feeds[name];
    const grads = await session.run(feeds, [...this.params.keys()].map((n) => `grad:${n}`));
    const byName: Record<string, Float32Array> = {};
    for (const name of this.params.keys()) byName[name] = grads[`grad:${name}`]!;
    return { value: r.value, grads: byName };
  }

  /** Predictions for input graphs as plain SoftGraphs (Float64), in padded batches of `batchSize`. */
  async predictGraphs(graphs: readonly Graph[], batchSize = 32): Promise<SoftGraph[]> {
    const out: SoftGraph[] = [];
    for (let b = 0; b < graphs.length; b += batchSize) out.push(...(await this.forward(this.encode(graphs.slice(b, b + batchSize)))));
    return out;
  }

  /** Input graphs as one padded batch for this model. */
  encode(graphs: readonly Graph[]): EncodedBatch {
    return encodeBatch(graphs, this.index, this.spec.inputTypes, this.spec.maxPositions);
  }

  /** The trained network as a standalone ONNX model: weights as initialisers, inputs and outputs as in the README's "ONNX export". */
  exportOnnx(metadata: Record<string, string>): Uint8Array {
    const weights = new Map([...this.params].map(([name, p]) => [name, p.data]));
    return forwardGraph(this.spec).graph.encode({ name: 'grapheme', docString: 'grapheme set-prediction graph transformer: input graphs → SoftGraph probabilities', metadata, weights });
  }

  /** Every parameter as plain arrays (for checkpoints), in a fixed order. */
  exportWeights(): Record<string, SerializedTensor> {
    const out: Record<string, SerializedTensor> = {};
    for (const [name, p] of this.params) out[name] = serializeArray(p.shape, p.data);
    return out;
  }

  /** Load parameters saved by exportWeights; names and shapes must match exactly. */
  importWeights(w: Record<string, SerializedTensor>): void {
    const names = Object.keys(w);
    if (names.length !== this.params.size) throw new Error(`checkpoint has ${names.length} parameters, the model has ${this.params.size}`);
    for (const [name, p] of this.params) {
      const t = w[name];
      if (!t) throw new Error(`checkpoint lacks parameter ${name}`);
      if (JSON.stringify(t.shape) !== JSON.stringify(p.shape)) throw new Error(`parameter ${name} has shape ${JSON.stringify(t.shape)} in the checkpoint, ${JSON.stringify(p.shape)} in the model`);
      p.data.set(deserializeArray(t));
    }
  }

  parameterCount(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.data.length;
    return n;
  }

  /** Release the compiled graphs. */
  async dispose(): Promise<void> {
    const sessions = [this.forwardSession, this.inferenceSession, ...this.backward.values()].filter((s): s is Promise<EngineSession> => s !== null);
    this.forwardSession = null;
    this.inferenceSession = null;
    this.backward.clear();
    await Promise.all(sessions.map(async (s) => (await s).release()));
  }
}

/** Split batched model outputs into per-example SoftGraphs (Float64 copies for the loss kernels); `edges` has one [B,K,K] array per output type. */
export function softGraphsFrom(spec: Pick<ModelSpec, 'K' | 'alphabet' | 'outputTypes'>, B: number, exist: Float32Array, labels: Float32Array, edges: Float32Array[], positions: Float32Array | null): SoftGraph[] {
  const { K } = spec;
  const L = spec.alphabet.length;
  const out: SoftGraph[] = [];
  for (let b = 0; b < B; b++) {
    const g: SoftGraph = { K, L, exist: Float64Array.from(exist.subarray(b * K, (b + 1) * K)), labels: Float64Array.from(labels.subarray(b * K * L, (b + 1) * K * L)), edges: {} };
    if (positions) g.positions = Float64Array.from(positions.subarray(b * K * K, (b + 1) * K * K));
    spec.outputTypes.forEach((t, e) => {
      g.edges[t] = Float64Array.from(edges[e]!.subarray(b * K * K, (b + 1) * K * K));
    });
    out.push(g);
  }
  return out;
}
