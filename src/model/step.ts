import type { EncodedBatch } from './batch.js';
import { tf } from './engine.js';
import { lossOp } from './lossOp.js';
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
  const op = lossOp(model.spec, lossFn);
  const vars = [...model.params.values()];
  const { value, grads } = tf.variableGrads(() => {
    const o = model.forward(batch);
    return op(o.exist, o.labels, o.edges, o.positions);
  }, vars);
  try {
    const loss = value.dataSync()[0]!;
    // Gradients read once as plain arrays: the norm, the finiteness check and the update use them.
    const flat: Record<string, Float32Array> = {};
    let normSq = 0;
    for (const [name, g] of Object.entries(grads)) {
      const a = g.dataSync() as Float32Array;
      flat[name] = a;
      for (let k = 0; k < a.length; k++) normSq += a[k]! * a[k]!;
    }
    const gradNorm = Math.sqrt(normSq);
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) return { loss, gradNorm, skipped: true };
    const scale = clip > 0 && gradNorm > clip ? clip / gradNorm : 1;
    optimizer.apply(flat, lr, scale);
    return { loss, gradNorm, skipped: false };
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
}
