import { tf } from './engine.js';
import { softGraphsFrom, type BatchLossFn, type ModelSpec } from './network.js';

/** Pack per-example gradients into the batched layouts of exist [B,K], labels [B,K,V], edges [B,E,K,K] and positions [B,K,K]. */
function packGradients(spec: ModelSpec, grads: ReturnType<BatchLossFn>['gradients']): [Float32Array, Float32Array, Float32Array, Float32Array] {
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

/**
 * The loss as one custom-gradient op: its forward and backward are the plain-TypeScript kernels
 * of `src/loss/` (through `lossFn`), so tfjs autodiff never runs through Sinkhorn iterations.
 * The op reads the model's probabilities once, and hands back ∂loss/∂probabilities.
 */
export function lossOp(spec: ModelSpec, lossFn: BatchLossFn): (exist: tf.Tensor, labels: tf.Tensor, edges: tf.Tensor, positions: tf.Tensor) => tf.Scalar {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [exist, labels, edges, positions] = args as [tf.Tensor2D, tf.Tensor3D, tf.Tensor4D, tf.Tensor3D];
    const B = exist.shape[0];
    const preds = softGraphsFrom(spec, B, exist.dataSync() as Float32Array, labels.dataSync() as Float32Array, edges.dataSync() as Float32Array, positions.dataSync() as Float32Array);
    const r = lossFn(preds);
    const [gExist, gLabels, gEdges, gPositions] = packGradients(spec, r.gradients);
    return {
      value: tf.scalar(r.value),
      gradFunc: (dy: tf.Tensor) => [
        tf.mul(dy, tf.tensor(gExist, exist.shape)), tf.mul(dy, tf.tensor(gLabels, labels.shape)), tf.mul(dy, tf.tensor(gEdges, edges.shape)), tf.mul(dy, tf.tensor(gPositions, positions.shape)),
      ],
    };
  });
  return (exist, labels, edges, positions) => op(exist, labels, edges, positions) as tf.Scalar;
}
