import * as tf from '@tensorflow/tfjs';
// The wasm backend registers itself on import; it must come after @tensorflow/tfjs, which registers the gradients.
import '@tensorflow/tfjs-backend-wasm';

let ready: Promise<void> | null = null;

/** Select the WebAssembly backend once (single-threaded in Node, shipped in the package, offline). */
export function initEngine(): Promise<void> {
  ready ??= (async () => {
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new Error('the tfjs WebAssembly backend failed to initialise');
    await tf.ready();
  })();
  return ready;
}

/** Live tfjs tensors (for leak checks and the soak test). */
export function tensorCount(): number {
  return tf.memory().numTensors;
}

export { tf };

/**
 * Matrix product (2-D, or batched 3-D with equal batch sizes) whose gradient transposes
 * explicitly. tfjs's own gradient calls matMul with transposeA/transposeB, which the wasm backend
 * runs an order of magnitude slower (measured: 112 of 140 ms of a training step).
 */
export const matMul = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      const perm = sa.rank === 3 ? [0, 2, 1] : [1, 0];
      return [tf.matMul(dy, tf.transpose(sb, perm)), tf.matMul(tf.transpose(sa, perm), dy)];
    },
  };
}) as <T extends tf.Tensor>(a: T, b: tf.Tensor) => T;
