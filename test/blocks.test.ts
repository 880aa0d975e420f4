import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attention, feedForward, layerNorm, messageLayer } from '../src/model/blocks.js';
import { columnSums, initEngine, tf, transpose2d } from '../src/model/engine.js';
import { sparseRows } from '../src/model/sparse.js';
import { Rng } from '../src/util/rng.js';

// Each block's hand-written backward against tfjs autodiff of the same composition written with
// plain ops: value and every input's gradient, for a random cotangent.

const rng = new Rng(7);
const randn = (shape: number[], scale = 1): tf.Tensor => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * rng.normal()), shape);

/** Largest |a − b| relative to the largest |b|. */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  assert.deepEqual(a.shape, b.shape);
  let num = 0;
  let den = 1e-12;
  for (let k = 0; k < y.length; k++) {
    num = Math.max(num, Math.abs(x[k]! - y[k]!));
    den = Math.max(den, Math.abs(y[k]!));
  }
  return num / den;
}

/** `activations`: how many leading inputs are activations (the rest are weights, which stay alive as variables do). */
function check(name: string, inputs: tf.Tensor[], block: (...xs: tf.Tensor[]) => tf.Tensor, reference: (...xs: tf.Tensor[]) => tf.Tensor, activations = 1): void {
  const out = block(...inputs);
  const cot = randn(out.shape);
  // Activations enter as intermediates, as in the model: tfjs disposes those before the backward pass.
  const custom = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(block(...xs.map((x, k) => (k < activations ? tf.mul(x, 1) : x))), cot)))(inputs);
  const auto = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(reference(...xs), cot)))(inputs);
  assert.ok(relDiff(out, reference(...inputs)) < 1e-6, `${name}: value`);
  custom.forEach((g, k) => {
    const r = relDiff(g, auto[k]!);
    assert.ok(r < 1e-5, `${name}: gradient of input ${k} differs from autodiff by ${r.toExponential(2)} of its largest entry`);
  });
}

// Small shapes, and shapes large enough for the rank-3 transpose and the ones-product column sums.
for (const [B, N, Nk, d, h] of [[3, 5, 4, 8, 2], [8, 16, 12, 128, 4]] as const) {
  test(`every block’s backward equals autodiff of its forward (layer norm, feed-forward, message passing, self- and cross-attention with padding; B ${B}, N ${N}, d ${d})`, async () => {
    await initEngine();
    const refLayerNorm = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
    };
    check('layer norm', [randn([B, N, d]), randn([d]), randn([d])], (x, g, b) => layerNorm(x!, g!, b!), refLayerNorm);

    const refFeedForward = (x: tf.Tensor, W1: tf.Tensor, b1: tf.Tensor, W2: tf.Tensor, b2: tf.Tensor): tf.Tensor =>
      tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x.reshape([B * N, d]), W1), b1)), W2), b2).reshape([B, N, d]);
    check('feed-forward', [randn([B, N, d]), randn([d, 2 * d]), randn([2 * d]), randn([2 * d, d]), randn([d])], (x, W1, b1, W2, b2) => feedForward(x as tf.Tensor3D, W1!, b1!, W2!, b2!), refFeedForward);

    // Two edge blocks (a type in both directions) on a random 0/1 adjacency.
    const D = 2;
    const A = tf.tensor3d(Float32Array.from({ length: B * N * D * N }, () => (rng.next() < 0.3 ? 1 : 0)), [B, N, D * N]);
    const sparse = sparseRows(A.dataSync() as Float32Array, B, N, D * N);
    const refMessages = (x: tf.Tensor, Ws: tf.Tensor, bias: tf.Tensor, Wm: tf.Tensor): tf.Tensor => {
      const H = tf.transpose(tf.matMul(x.reshape([B * N, d]), Wm).reshape([B, N, D, d]), [0, 2, 1, 3]).reshape([B, D * N, d]);
      return tf.relu(tf.add(tf.add(tf.matMul(x.reshape([B * N, d]), Ws).reshape([B, N, d]), bias), tf.matMul(A, H)));
    };
    check('message passing', [randn([B, N, d]), randn([d, d]), randn([d]), randn([d, D * d])], (x, Ws, b, Wm) => messageLayer(x as tf.Tensor3D, Ws!, b!, Wm!, sparse), refMessages);
    check('message passing without edge types', [randn([B, N, d]), randn([d, d]), randn([d])], (x, Ws, b) => messageLayer(x as tf.Tensor3D, Ws!, b!, null, null), (x, Ws, b) =>
      tf.relu(tf.add(tf.matMul(x!.reshape([B * N, d]), Ws!).reshape([B, N, d]), b!)));

    const refAttention = (q: tf.Tensor, kv: tf.Tensor, Wq: tf.Tensor, Wk: tf.Tensor, Wv: tf.Tensor, Wo: tf.Tensor, bias: tf.Tensor | null): tf.Tensor => {
      const [b, nq] = q.shape as [number, number];
      const nk = kv.shape[1]!;
      const dh = d / h;
      const split = (x: tf.Tensor, n: number): tf.Tensor => tf.transpose(x.reshape([b, n, h, dh]), [0, 2, 1, 3]).reshape([b * h, n, dh]);
      const Q = split(tf.matMul(q.reshape([b * nq, d]), Wq), nq);
      const K = split(tf.matMul(kv.reshape([b * nk, d]), Wk), nk);
      const V = split(tf.matMul(kv.reshape([b * nk, d]), Wv), nk);
      let s = tf.mul(tf.matMul(Q, K, false, true), 1 / Math.sqrt(dh));
      if (bias) s = tf.add(s, bias);
      const o = tf.transpose(tf.matMul(tf.softmax(s), V).reshape([b, h, nq, dh]), [0, 2, 1, 3]).reshape([b * nq, d]);
      return tf.matMul(o, Wo).reshape([b, nq, d]);
    };
    // Padding: the last key of every example but the first is hidden.
    const mask = tf.tensor2d(Array.from({ length: B * Nk }, (_, k) => (k % Nk === Nk - 1 && k >= Nk ? 0 : 1)), [B, Nk]);
    const bias = tf.mul(tf.sub(1, mask), -1e9).reshape([B, 1, 1, Nk]).tile([1, h, 1, 1]).reshape([B * h, 1, Nk]);
    const weights = [randn([d, d], 0.5), randn([d, d], 0.5), randn([d, d], 0.5), randn([d, d], 0.5)];
    check('cross-attention with padding', [randn([B, N, d]), randn([B, Nk, d]), ...weights], (q, kv, Wq, Wk, Wv, Wo) => attention(q as tf.Tensor3D, kv as tf.Tensor3D, { q: Wq!, k: Wk!, v: Wv!, o: Wo! }, h, bias), (q, kv, Wq, Wk, Wv, Wo) =>
      refAttention(q!, kv!, Wq!, Wk!, Wv!, Wo!, bias), 2);
    check('self-attention', [randn([B, N, d]), ...weights], (x, Wq, Wk, Wv, Wo) => attention(x as tf.Tensor3D, null, { q: Wq!, k: Wk!, v: Wv!, o: Wo! }, h, null), (x, Wq, Wk, Wv, Wo) =>
      refAttention(x!, x!, Wq!, Wk!, Wv!, Wo!, null));
  });
}

test('transpose2d and columnSums equal tfjs transpose and sum on both sides of their 16k-entry switch', async () => {
  await initEngine();
  for (const [R, C] of [[512, 128], [132, 128], [130, 128], [64, 64], [4, 4100]]) {
    const x = randn([R!, C!]);
    assert.equal(relDiff(transpose2d(x), tf.transpose(x)), 0, `transpose of ${R}×${C}`);
    assert.ok(relDiff(columnSums(x), tf.sum(x, 0)) < 1e-6, `column sums of ${R}×${C}`);
  }
  const x3 = randn([8, 40, 64]);
  assert.ok(relDiff(columnSums(x3), tf.sum(x3, [0, 1])) < 1e-6, 'column sums of a rank-3 tensor');
});
