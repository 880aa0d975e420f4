import { tf } from './engine.js';
import { deserializeArray, serializeArray, type SerializedTensor } from './network.js';

export interface AdamWSettings {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay per step, scaled by the learning rate (AdamW). */
  weightDecay: number;
}

export interface OptimizerState {
  step: number;
  m: Record<string, SerializedTensor>;
  v: Record<string, SerializedTensor>;
}

/**
 * AdamW over named tfjs variables. Written here rather than tf.train.adam because checkpoints
 * need its moments as plain arrays (exact resume), the weight decay must be decoupled and limited
 * to weight matrices, and the learning rate changes every step.
 */
export class AdamW {
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    private readonly params: Map<string, tf.Variable>,
    private readonly s: AdamWSettings,
  ) {
    for (const [name, p] of params) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  /** One update with learning rate lr; every gradient is first multiplied by `scale` (clipping). */
  apply(grads: Record<string, tf.Tensor>, lr: number, scale: number): void {
    this.step++;
    const { beta1, beta2, epsilon, weightDecay } = this.s;
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g0 = grads[name];
        if (!g0) continue;
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        let update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), epsilon));
        // Decay weight matrices only: embeddings, biases and layer-norm gains keep their scale.
        if (weightDecay > 0 && /\.W[a-z0-9]*$/i.test(name)) update = tf.add(update, tf.mul(p, weightDecay));
        p.assign(tf.sub(p, tf.mul(update, lr)));
      }
    });
  }

  exportState(): OptimizerState {
    const dump = (map: Map<string, tf.Variable>): Record<string, SerializedTensor> => Object.fromEntries([...map].map(([k, t]) => [k, serializeArray(t.shape, t.dataSync() as Float32Array)]));
    return { step: this.step, m: dump(this.m), v: dump(this.v) };
  }

  importState(s: OptimizerState): void {
    this.step = s.step;
    for (const [which, map] of [[s.m, this.m], [s.v, this.v]] as const) {
      for (const [name, t] of map) {
        const saved = which[name];
        if (!saved) throw new Error(`optimizer state lacks ${name}`);
        t.assign(tf.tensor(deserializeArray(saved), t.shape));
      }
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
