import { tf } from './engine.js';
import { softGraphsFrom, type BatchLossFn, type ModelSpec } from '../model/network.js';

/** Pack per-example gradients into the batched layouts of exist [B,K], labels [B,K,V], edges [B,E,K,K] and positions [B,K,K]. */
function packGradients(spec: LossSpec, grads: ReturnType<BatchLossFn>['gradients']): [Float32Array, Float32Array, Float32Array, Float32Array] {
  const B = grads.length;
  const { K } = spec;
  const L = spec.alphabet.length;
  const E = spec.outputTypes.length;
  const gExist = new Float32Array(B * K);
  const gLabels = new Float32Array(B * K * L);
  const gEdges = new Float32Array(B * E * K * K);
  const gPositions = new Float32Array(B * K * K);
  grads.forEach((g, b) => {
    gExist.set(g.exist, b * K);
    gLabels.set(g.labels, b * K * L);
    if (g.positions) gPositions.set(g.positions, b * K * K);
    spec.outputTypes.forEach((t, e) => {
      const m = g.edges[t];
      if (m) gEdges.set(m, (b * E + e) * K * K);
    });
  });
  return [gExist, gLabels, gEdges, gPositions];
}

/** What the op needs to know of a model's outputs: slots, alphabet, predicted edge types. */
export type LossSpec = Pick<ModelSpec, 'K' | 'alphabet' | 'outputTypes'>;

/**
 * The loss as one custom-gradient op: its forward and backward are the plain-TypeScript kernels
 * of `src/loss/` (through `lossFn`), so tfjs autodiff never runs through Sinkhorn iterations.
 * The op reads the model's probabilities once, and hands back ∂loss/∂probabilities. `positions`
 * is null for a model without a rank head (the position term is then left out).
 */
export function lossOp(spec: LossSpec, lossFn: BatchLossFn): (exist: tf.Tensor, labels: tf.Tensor, edges: tf.Tensor, positions: tf.Tensor | null) => tf.Scalar {
  // One op for both arities: with a rank head the inputs are (exist, labels, edges, positions).
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const inputs = args.slice(0, -1) as tf.Tensor[];
    const [exist, labels, edges, positions] = inputs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const B = exist.shape[0]!;
    const K = spec.K;
    const all = edges.dataSync() as Float32Array;
    // [B, E, K, K] → one [B, K, K] array per edge type.
    const perType = spec.outputTypes.map((_, e) => {
      const m = new Float32Array(B * K * K);
      for (let b = 0; b < B; b++) m.set(all.subarray((b * spec.outputTypes.length + e) * K * K, (b * spec.outputTypes.length + e + 1) * K * K), b * K * K);
      return m;
    });
    const preds = softGraphsFrom(spec, B, exist.dataSync() as Float32Array, labels.dataSync() as Float32Array, perType, positions ? (positions.dataSync() as Float32Array) : null);
    const r = lossFn(preds);
    const grads = packGradients(spec, r.gradients);
    return { value: tf.scalar(r.value), gradFunc: (dy: tf.Tensor) => inputs.map((x, k) => tf.mul(dy, tf.tensor(grads[k]!, x.shape))) };
  });
  return (exist, labels, edges, positions) => (positions ? op(exist, labels, edges, positions) : op(exist, labels, edges)) as tf.Scalar;
}
