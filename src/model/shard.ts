import type { Graph } from '../graph/types.js';
import { batchLoss, emptySums, type TermSums } from '../loss/batch.js';
import type { LossConfig } from '../loss/config.js';
import type { TargetGraph } from '../loss/softGraph.js';
import { alphabetIndex } from '../loss/softGraph.js';
import { encodeBatch, type EncodedBatch } from './batch.js';
import { tf } from './engine.js';
import { lossOp } from './lossOp.js';
import type { BatchLossFn, GraphModel } from './network.js';

/** One shard's part of a training step: the mean loss over its examples and the gradient of that mean, as plain arrays. */
export interface ShardGradient {
  value: number;
  grads: Record<string, Float32Array>;
  sums: TermSums;
  /** Each example's rounded assignment after this visit (slot → node), for the reassignment diagnostic. */
  matchings: Array<number[] | null>;
}

/**
 * Forward, loss and backward of one shard of a batch on `model`, read back as plain arrays: what
 * every worker thread of a data-parallel step computes (and the main thread for its own shard).
 */
export function shardGradient(model: GraphModel, inputs: readonly Graph[], targets: readonly TargetGraph[], cfg: LossConfig, previous: Array<number[] | null>): ShardGradient {
  const spec = model.spec;
  const batch = encodeBatch(inputs, alphabetIndex(spec.alphabet), spec.inputTypes, spec.maxPositions);
  const sums = emptySums();
  const prev = previous.map((matching) => ({ matching }));
  const { value, grads } = batchGradients(model, batch, batchLoss(targets, cfg, sums, prev));
  return { value, grads, sums, matchings: prev.map((p) => p.matching) };
}

/** Forward, the loss op and backward on one encoded batch: the mean loss and ∂loss/∂every parameter, read back as plain arrays. */
export function batchGradients(model: GraphModel, batch: EncodedBatch, lossFn: BatchLossFn): { value: number; grads: Record<string, Float32Array> } {
  const op = lossOp(model.spec, lossFn);
  const { value, grads } = tf.variableGrads(() => {
    const o = model.forward(batch);
    return op(o.exist, o.labels, o.edges, o.positions);
  }, [...model.params.values()]);
  try {
    const out: Record<string, Float32Array> = {};
    for (const [name, g] of Object.entries(grads)) out[name] = Float32Array.from(g.dataSync() as Float32Array);
    return { value: value.dataSync()[0]!, grads: out };
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
}

/** Load plain-array weights (by parameter name) into a model. */
export function setWeights(model: GraphModel, weights: Record<string, Float32Array>): void {
  for (const [name, v] of model.params) {
    const w = weights[name];
    if (!w) throw new Error(`weights lack ${name}`);
    const t = tf.tensor(w, v.shape);
    v.assign(t);
    t.dispose();
  }
}
