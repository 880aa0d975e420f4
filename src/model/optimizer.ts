import { deserializeArray, serializeArray, type Parameter, type SerializedTensor } from './network.js';

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
 * AdamW over the model's parameter arrays, updated in place, one pass per parameter. Written here
 * because checkpoints need its moments as plain arrays (exact resume), the weight decay must be
 * decoupled and limited to weight matrices, and the learning rate changes every step; the
 * weights live in grapheme's arrays and are fed to the engine on each run, so the update never
 * crosses into the engine (bench/step measures its share of a step).
 */
export class AdamW {
  step = 0;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  /** Parameters the decay applies to: weight matrices only (embeddings, biases and layer-norm gains keep their scale). */
  private readonly decayed = new Set<string>();

  constructor(
    private readonly params: Map<string, Parameter>,
    private readonly s: AdamWSettings,
  ) {
    for (const [name, p] of params) {
      this.m.set(name, new Float32Array(p.data.length));
      this.v.set(name, new Float32Array(p.data.length));
      if (/\.W[a-z0-9]*$/i.test(name)) this.decayed.add(name);
    }
  }

  /** One update with learning rate lr; every gradient (plain arrays by parameter name) is first multiplied by `scale` (clipping). */
  apply(grads: Record<string, Float32Array>, lr: number, scale: number): void {
    this.step++;
    const { beta1, beta2, epsilon, weightDecay } = this.s;
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    for (const [name, p] of this.params) {
      const g = grads[name];
      if (!g) continue;
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const w = p.data;
      const wd = this.decayed.has(name) ? weightDecay : 0;
      for (let k = 0; k < w.length; k++) {
        const gk = g[k]! * scale;
        const mk = (m[k] = beta1 * m[k]! + (1 - beta1) * gk);
        const vk = (v[k] = beta2 * v[k]! + (1 - beta2) * gk * gk);
        w[k] -= lr * (mk / c1 / (Math.sqrt(vk / c2) + epsilon) + wd * w[k]!);
      }
    }
  }

  exportState(): OptimizerState {
    const dump = (map: Map<string, Float32Array>): Record<string, SerializedTensor> => Object.fromEntries([...map].map(([k, a]) => [k, serializeArray(this.params.get(k)!.shape, a)]));
    return { step: this.step, m: dump(this.m), v: dump(this.v) };
  }

  importState(s: OptimizerState): void {
    this.step = s.step;
    for (const [which, map] of [[s.m, this.m], [s.v, this.v]] as const) {
      for (const [name, a] of map) {
        const saved = which[name];
        if (!saved) throw new Error(`optimizer state lacks ${name}`);
        const values = deserializeArray(saved);
        if (values.length !== a.length) throw new Error(`optimizer state of ${name} has ${values.length} values, the parameter ${a.length}`);
        a.set(values);
      }
    }
  }
}
