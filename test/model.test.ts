import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chainGraph } from '../src/graph/text.js';
import { resolveLossConfig } from '../src/loss/config.js';
import { alphabetIndex, targetFromGraph } from '../src/loss/softGraph.js';
import { GraphModel, encodeBatch, initEngine, tensorCount, trainStep, AdamW, type ModelSpec } from '../src/model/index.js';
import { tf } from '../src/model/engine.js';
import { lossOp } from '../src/model/lossOp.js';
import { batchLoss, emptySums } from '../src/loss/batch.js';

const SPEC: ModelSpec = { alphabet: ['\uFFFD', 'a', 'b', 'c'], inputTypes: ['sequential'], outputTypes: ['sequential'], K: 4, d: 8, heads: 2, encoderLayers: 1, decoderLayers: 1, maxPositions: 8 };

async function setup() {
  await initEngine();
  const model = new GraphModel(SPEC, 3);
  const index = alphabetIndex(SPEC.alphabet);
  const batch = encodeBatch([chainGraph('abc'), chainGraph('ca')], index, SPEC.inputTypes, SPEC.maxPositions);
  const targets = [targetFromGraph(chainGraph('cba'), index), targetFromGraph(chainGraph('ac'), index)];
  return { model, batch, targets };
}

test("the loss op's gradient through a small model matches finite differences (cross-entropy, structural unrolled label-only, and the training form)", async () => {
  const { model, batch, targets } = await setup();
  const configs = [
    resolveLossConfig({ loss_mode: 'cross-entropy' }),
    // Label-only assignment with a fixed iteration count: the unrolled gradient is the exact derivative.
    resolveLossConfig({ loss_mode: 'structural', gradient: 'unrolled', context_weight: 0, structure_iterations: 1, sinkhorn_iterations: 30, sinkhorn_tolerance: 1e-300, sinkhorn_temperature: 0.5 }),
    // The training form: likelihood costs at the nearest edit path, whose plan does not move under
    // the finite difference's small steps.
    resolveLossConfig({ loss_mode: 'structural', cost_form: 'likelihood', assignment: 'hard' }),
  ];
  for (const cfg of configs) {
    const value = (): number =>
      tf.tidy(() => {
        const o = model.forward(batch);
        return lossOp(SPEC, batchLoss(targets, cfg, emptySums()))(o.exist, o.labels, o.edges, o.positions).dataSync()[0]!;
      });
    const { value: v, grads } = tf.variableGrads(() => {
      const o = model.forward(batch);
      return lossOp(SPEC, batchLoss(targets, cfg, emptySums()))(o.exist, o.labels, o.edges, o.positions);
    });
    v.dispose();
    let checked = 0;
    for (const name of ['head.Wlabel', 'head.Wexist', 'head.sequential.Wa', 'head.Wpos', 'enc0.Wmsg', 'embed.labels']) {
      const param = model.params.get(name)!;
      const g = grads[name]!.dataSync() as Float32Array;
      const original = param.dataSync().slice() as Float32Array;
      // The three entries with the largest gradient: where a wrong sign or scale would show.
      const top = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!)).slice(0, 3);
      for (const k of top) {
        const h = 1e-2;
        const at = (delta: number): number => {
          const w = original.slice();
          w[k] = w[k]! + delta;
          param.assign(tf.tensor(w, param.shape));
          return value();
        };
        const fd = (at(h) - at(-h)) / (2 * h);
        param.assign(tf.tensor(original, param.shape));
        const err = Math.abs(fd - g[k]!) / Math.max(Math.abs(g[k]!), 1e-3);
        assert.ok(err < 0.03, `${cfg.loss_mode} ${name}[${k}]: autodiff ${g[k]} vs finite difference ${fd} (rel. error ${err.toFixed(4)})`);
        checked++;
      }
    }
    tf.dispose(Object.values(grads));
    assert.equal(checked, 18);
  }
  model.dispose();
});

test('a step with a NaN loss is skipped: no weight changes, no NaN reaches the weights, no tensor leaks', async () => {
  const { model, batch, targets } = await setup();
  const opt = new AdamW(model.params, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 });
  const cfg = resolveLossConfig({});
  const good = batchLoss(targets, cfg, emptySums());
  trainStep(model, opt, batch, good, 1e-3, 1); // warm-up: tfjs allocates its kernels' tensors once
  const before = tensorCount();
  const weights = model.params.get('head.Wlabel')!.dataSync().slice();
  const nan = (preds: Parameters<typeof good>[0]) => {
    const r = good(preds);
    r.gradients[0]!.exist[0] = NaN;
    return r;
  };
  const out = trainStep(model, opt, batch, nan, 1e-3, 1);
  assert.equal(out.skipped, true);
  assert.deepEqual(model.params.get('head.Wlabel')!.dataSync(), weights);
  const out2 = trainStep(model, opt, batch, (p) => ({ ...good(p), value: Infinity }), 1e-3, 1);
  assert.equal(out2.skipped, true);
  for (const v of model.params.values()) assert.ok((v.dataSync() as Float32Array).every(Number.isFinite));
  const ok = trainStep(model, opt, batch, good, 1e-3, 1);
  assert.equal(ok.skipped, false);
  assert.equal(tensorCount(), before);
  opt.dispose();
  model.dispose();
});
