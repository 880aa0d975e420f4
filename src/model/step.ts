import type { Graph } from '../graph/types.js';
import type { TermSums } from '../loss/batch.js';
import type { LossConfig } from '../loss/config.js';
import type { TargetGraph } from '../loss/softGraph.js';
import type { EncodedBatch } from './batch.js';
import type { GradientPool } from './gradientPool.js';
import { batchGradients, shardGradient } from './shard.js';
import type { BatchLossFn, GraphModel } from './network.js';
import type { AdamW } from './optimizer.js';

export interface StepOutcome {
  /** Mean batch loss before the update (NaN/Inf when the step was skipped for it). */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** True when the loss or a gradient was not finite: no weight changed. */
  skipped: boolean;
}

/**
 * One optimiser step: forward, the loss op, backward into every parameter, a finiteness check,
 * global-norm clipping (clip ≤ 0: off), AdamW update. A non-finite loss or gradient skips the
 * update entirely, so NaN never reaches the weights.
 */
export function trainStep(model: GraphModel, optimizer: AdamW, batch: EncodedBatch, lossFn: BatchLossFn, lr: number, clip: number): StepOutcome {
  const { value, grads } = batchGradients(model, batch, lossFn);
  return applyGradients(optimizer, value, grads, lr, clip);
}

/** The finiteness check, global-norm clipping and the update, from a step's loss and gradients. */
function applyGradients(optimizer: AdamW, loss: number, grads: Record<string, Float32Array>, lr: number, clip: number): StepOutcome {
  let normSq = 0;
  for (const a of Object.values(grads)) for (let k = 0; k < a.length; k++) normSq += a[k]! * a[k]!;
  const gradNorm = Math.sqrt(normSq);
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) return { loss, gradNorm, skipped: true };
  const scale = clip > 0 && gradNorm > clip ? clip / gradNorm : 1;
  optimizer.apply(grads, lr, scale);
  return { loss, gradNorm, skipped: false };
}

/**
 * One data-parallel optimiser step: the batch split into 1 + pool.size contiguous shards, the
 * main thread computing the first while each worker computes one more with the same weights;
 * the shards' mean losses and gradients combined, weighted by shard size, into the batch mean's;
 * then the same check, clipping and update as `trainStep`. The terms go into `sums` and each
 * example's new assignment into `previous` (as `batchLoss` does). Deterministic for a fixed
 * number of workers: the combination order is fixed.
 */
export async function shardedTrainStep(
  model: GraphModel, optimizer: AdamW, pool: GradientPool, inputs: readonly Graph[], targets: readonly TargetGraph[], cfg: LossConfig,
  sums: TermSums, previous: Array<{ matching: number[] | null }>, lr: number, clip: number,
): Promise<StepOutcome> {
  const B = inputs.length;
  const parts = Math.min(B, pool.size + 1);
  const bounds = Array.from({ length: parts + 1 }, (_, s) => Math.round((s * B) / parts));
  const shard = (s: number) => ({ inputs: inputs.slice(bounds[s], bounds[s + 1]), targets: targets.slice(bounds[s], bounds[s + 1]), previous: previous.slice(bounds[s], bounds[s + 1]).map((p) => p.matching) });
  const weights: Record<string, Float32Array> = {};
  for (const [name, v] of model.params) weights[name] = Float32Array.from(v.dataSync() as Float32Array);
  const remote = Array.from({ length: parts - 1 }, (_, k) => {
    const sh = shard(k + 1);
    return pool.compute(k, { weights, inputs: sh.inputs, targets: sh.targets, cfg, previous: sh.previous });
  });
  const own = shard(0);
  const results = [shardGradient(model, own.inputs, own.targets, cfg, own.previous), ...(await Promise.all(remote))];
  const grads: Record<string, Float32Array> = {};
  let loss = 0;
  results.forEach((r, s) => {
    const w = (bounds[s + 1]! - bounds[s]!) / B;
    loss += w * r.value;
    for (const [name, g] of Object.entries(r.grads)) {
      const acc = (grads[name] ??= new Float32Array(g.length));
      for (let k = 0; k < g.length; k++) acc[k] += w * g[k]!;
    }
    for (const key of Object.keys(sums) as Array<keyof TermSums>) sums[key] += r.sums[key];
    r.matchings.forEach((m, b) => (previous[bounds[s]! + b]!.matching = m));
  });
  return applyGradients(optimizer, loss, grads, lr, clip);
}
