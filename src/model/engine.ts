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
 * The transpose of a matrix [R, C]. Large ones go through a rank-3 transpose of the same data
 * ([4, R/4, C] → [C, 4, R/4]), which the wasm backend runs about 4× faster than its rank-2
 * kernel (measured at 512×128: 327 → 77 µs; at 192×64 the rank-2 kernel is the faster one).
 */
export function transpose2d(x: tf.Tensor): tf.Tensor2D {
  const [R, C] = x.shape as [number, number];
  if (R * C < 16384 || R % 4 !== 0) return tf.transpose(x, [1, 0]) as tf.Tensor2D;
  return tf.reshape(tf.transpose(tf.reshape(x, [4, R / 4, C]), [2, 0, 1]), [C, R]);
}

/**
 * Sums over every axis but the last, as a vector [C] (the gradient of a bias broadcast over rows).
 * Large ones as a product with a row of ones: the wasm backend's axis-0 sum is 16–48× slower at
 * 512×128 to 512×256; below 16k entries the plain sum is as fast and one kernel fewer.
 */
export function columnSums(x: tf.Tensor): tf.Tensor1D {
  const C = x.shape[x.rank - 1]!;
  const rows = x.size / C;
  if (x.size < 16384) return tf.sum(tf.reshape(x, [rows, C]), 0);
  return tf.reshape(tf.matMul(tf.ones([1, rows]), tf.reshape(x, [rows, C])), [C]);
}

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
      const t = (x: tf.Tensor): tf.Tensor => (x.rank === 3 ? tf.transpose(x, [0, 2, 1]) : transpose2d(x));
      return [tf.matMul(dy, t(sb)), tf.matMul(t(sa), dy)];
    },
  };
}) as <T extends tf.Tensor>(a: T, b: tf.Tensor) => T;
