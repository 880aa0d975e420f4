import { columnSums, transpose2d, tf } from './engine.js';
import { sparseProduct, type SparseRows } from './sparse.js';

// The model's blocks as single tape entries with hand-written backward passes. tfjs's autodiff
// records every small op of a block, clones each op's saved inputs and adds broadcast reductions
// and reshapes on the way back: about 3.4 backward kernels per forward kernel (measured on the
// default model: 454 forward, 1983 in a whole step). A block's own backward needs a fraction of
// them. Each block keeps its forward ops as before, but message passing's sparse product rounds
// each term once where the dense one rounded twice: predictions move by float32 rounding. Only
// what `save` keeps survives into the backward pass (tfjs disposes the forward's tensors first),
// so a block saves the activations its backward needs rather than closing over them; weights
// are read from the closure, which is right for variables (they outlive every pass).
// test/blocks.test.ts checks every backward against autodiff of the same composition.

type Tensor = tf.Tensor;
type Saver = tf.GradSaveFunc;

const t2 = transpose2d;
const tLast = (x: Tensor): Tensor => tf.transpose(x, [0, 2, 1]);

const layerNormOp = tf.customGrad((...args: Array<Tensor | Saver>) => {
  const [x, gain, bias, save] = args as [Tensor, Tensor, Tensor, Saver];
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const std = tf.sqrt(tf.add(tf.mean(tf.square(centred), -1, true), 1e-5));
  const xhat = tf.div(centred, std);
  save([xhat, std]);
  return {
    value: tf.add(tf.mul(xhat, gain), bias),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [xh, sd] = saved as [Tensor, Tensor];
      const g = tf.mul(dy, gain);
      // d x̂ / d x applied to g: (g − mean(g) − x̂·mean(g·x̂)) / std.
      const dx = tf.div(tf.sub(tf.sub(g, tf.mean(g, -1, true)), tf.mul(xh, tf.mean(tf.mul(g, xh), -1, true))), sd);
      return [dx, columnSums(tf.mul(dy, xh)), columnSums(dy)];
    },
  };
});

/** Layer normalisation over the last axis (ε 1e-5) with gain and bias [d]. */
export function layerNorm<T extends Tensor>(x: T, gain: Tensor, bias: Tensor): T {
  return layerNormOp(x, gain, bias) as T;
}

const feedForwardOp = tf.customGrad((...args: Array<Tensor | Saver>) => {
  const [x, W1, b1, W2, b2, save] = args as [Tensor, Tensor, Tensor, Tensor, Tensor, Saver];
  const [B, N, d] = x.shape as [number, number, number];
  const x2 = tf.reshape(x, [B * N, d]);
  const hidden = tf.relu(tf.add(tf.matMul(x2, W1), b1));
  save([hidden, x2]);
  return {
    value: tf.reshape(tf.add(tf.matMul(hidden, W2), b2), [B, N, d]),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [h, xs] = saved as [Tensor, Tensor];
      const dy2 = tf.reshape(dy, [B * N, d]);
      const dz = tf.mul(tf.matMul(dy2, t2(W2)), tf.step(h));
      return [tf.reshape(tf.matMul(dz, t2(W1)), [B, N, d]), tf.matMul(t2(xs), dz), columnSums(dz), tf.matMul(t2(h), dy2), columnSums(dy2)];
    },
  };
});

/** relu(x·W1 + b1)·W2 + b2 on x [B, N, d]. */
export function feedForward(x: tf.Tensor3D, W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor): tf.Tensor3D {
  return feedForwardOp(x, W1, b1, W2, b2) as tf.Tensor3D;
}

/**
 * One message-passing layer: relu(x·Wself + bias + A·H), H the (type, direction) transforms of x
 * by Wmsg laid out as D blocks of N rows; A [B, N, D·N] the batch's typed adjacency, given by its
 * nonzeros (a node has a few neighbours: as a dense batched product on wasm, 2.8 ms of a 155 ms
 * step of the larger model; by rows, a fraction of that). Without edge types A and Wmsg are null.
 */
export function messageLayer(x: tf.Tensor3D, Wself: Tensor, bias: Tensor, Wmsg: Tensor | null, A: SparseRows | null): tf.Tensor3D {
  const [B, N, d] = x.shape;
  const D = A ? A.C / N : 0;
  const op = tf.customGrad((...args: Array<Tensor | Saver>) => {
    const save = args.at(-1) as Saver;
    const x2 = tf.reshape(x, [B * N, d]);
    let pre = tf.add(tf.reshape(tf.matMul(x2, Wself), [B, N, d]), bias);
    if (Wmsg && A) {
      const H = tf.transpose(tf.reshape(tf.matMul(x2, Wmsg), [B, N, D, d]), [0, 2, 1, 3]);
      pre = tf.add(pre, tf.tensor3d(sparseProduct(A, H.dataSync() as Float32Array, d), [B, N, d]));
    }
    const out = tf.relu(pre);
    save([out, x2]);
    return {
      value: out,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [o, xs] = saved as [Tensor, Tensor];
        const dPre = tf.reshape(tf.mul(dy, tf.step(o)), [B * N, d]);
        const xT = t2(xs);
        let dx = tf.matMul(dPre, t2(Wself));
        const grads = [tf.matMul(xT, dPre), columnSums(dPre)];
        if (Wmsg && A) {
          const dH = tf.tensor4d(sparseProduct(A, dPre.dataSync() as Float32Array, d, true), [B, D, N, d]);
          const dHm = tf.reshape(tf.transpose(dH, [0, 2, 1, 3]), [B * N, D * d]);
          grads.push(tf.matMul(xT, dHm));
          dx = tf.add(dx, tf.matMul(dHm, t2(Wmsg)));
        }
        return [tf.reshape(dx, [B, N, d]), ...grads];
      },
    };
  });
  return (Wmsg ? op(x, Wself, bias, Wmsg) : op(x, Wself, bias)) as tf.Tensor3D;
}

/**
 * Multi-head attention of queries q [B, Nq, d] over keys/values kv [B, Nk, d] (kv null: self-
 * attention on q) with projections Wq, Wk, Wv, Wo [d, d]; `bias` [B·heads, 1, Nk] is added to the
 * scores (−1e9 hides padding) or null.
 */
export function attention(q: tf.Tensor3D, kv: tf.Tensor3D | null, W: { q: Tensor; k: Tensor; v: Tensor; o: Tensor }, heads: number, bias: Tensor | null): tf.Tensor3D {
  const [B, Nq, d] = q.shape;
  const Nk = (kv ?? q).shape[1];
  const dh = d / heads;
  const scale = 1 / Math.sqrt(dh);
  const split = (x2: Tensor, n: number): Tensor => tf.reshape(tf.transpose(tf.reshape(x2, [B, n, heads, dh]), [0, 2, 1, 3]), [B * heads, n, dh]);
  const merge = (x: Tensor, n: number): Tensor => tf.reshape(tf.transpose(tf.reshape(x, [B, heads, n, dh]), [0, 2, 1, 3]), [B * n, d]);
  const op = tf.customGrad((...args: Array<Tensor | Saver>) => {
    const save = args.at(-1) as Saver;
    const q2 = tf.reshape(q, [B * Nq, d]);
    const kv2 = kv ? tf.reshape(kv, [B * Nk, d]) : q2;
    const Q = split(tf.matMul(q2, W.q), Nq);
    const K = split(tf.matMul(kv2, W.k), Nk);
    const V = split(tf.matMul(kv2, W.v), Nk);
    // Explicit transposes throughout: transposeA/B in matMul are an order of magnitude slower on wasm.
    let scores = tf.mul(tf.matMul(Q, tLast(K)), scale);
    if (bias) scores = tf.add(scores, bias);
    const A = tf.softmax(scores);
    const M = merge(tf.matMul(A, V), Nq);
    save(kv ? [Q, K, V, A, M, q2, kv2] : [Q, K, V, A, M, q2]);
    return {
      value: tf.reshape(tf.matMul(M, W.o), [B, Nq, d]),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [Qs, Ks, Vs, As, Ms, qs, kvs] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor | undefined];
        const dy2 = tf.reshape(dy, [B * Nq, d]);
        const dO = split(tf.matMul(dy2, t2(W.o)), Nq);
        const dA = tf.matMul(dO, tLast(Vs));
        // Softmax backward: A ∘ (dA − rowsum(dA ∘ A)), then the score scale.
        const dS = tf.mul(tf.mul(As, tf.sub(dA, tf.sum(tf.mul(dA, As), -1, true))), scale);
        const dQ = merge(tf.matMul(dS, Ks), Nq);
        const dK = merge(tf.matMul(tLast(dS), Qs), Nk);
        const dV = merge(tf.matMul(tLast(As), dO), Nk);
        const qT = t2(qs);
        const kvT = kvs ? t2(kvs) : qT;
        const dWeights = [tf.matMul(qT, dQ), tf.matMul(kvT, dK), tf.matMul(kvT, dV), tf.matMul(t2(Ms), dy2)];
        const dq = tf.matMul(dQ, t2(W.q));
        const dkv = tf.add(tf.matMul(dK, t2(W.k)), tf.matMul(dV, t2(W.v)));
        if (!kv) return [tf.reshape(tf.add(dq, dkv), [B, Nq, d]), ...dWeights];
        return [tf.reshape(dq, [B, Nq, d]), tf.reshape(dkv, [B, Nk, d]), ...dWeights];
      },
    };
  });
  return (kv ? op(q, kv, W.q, W.k, W.v, W.o) : op(q, W.q, W.k, W.v, W.o)) as tf.Tensor3D;
}
