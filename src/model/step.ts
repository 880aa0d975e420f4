import type { EncodedBatch } from './batch.js';
import type { AsyncBatchLossFn, GraphModel } from './network.js';
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
 * One optimiser step: forward, the loss, backward into every parameter, a finiteness check,
 * global-norm clipping (clip ≤ 0: off), AdamW update. A non-finite loss or gradient skips the
 * update entirely, so NaN never reaches the weights. `dropoutSeed` draws the step's dropout masks.
 */
export async function trainStep(model: GraphModel, optimizer: AdamW, batch: EncodedBatch, lossFn: AsyncBatchLossFn, lr: number, clip: number, dropoutSeed = 0): Promise<StepOutcome> {
  const { value, grads } = await model.gradients(batch, lossFn, dropoutSeed);
  let normSq = 0;
  for (const a of Object.values(grads)) for (let k = 0; k < a.length; k++) normSq += a[k]! * a[k]!;
  const gradNorm = Math.sqrt(normSq);
  if (!Number.isFinite(value) || !Number.isFinite(gradNorm)) return { loss: value, gradNorm, skipped: true };
  const scale = clip > 0 && gradNorm > clip ? clip / gradNorm : 1;
  optimizer.apply(grads, lr, scale);
  return { loss: value, gradNorm, skipped: false };
}
