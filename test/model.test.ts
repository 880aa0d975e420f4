import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chainGraph } from '../src/graph/text.js';
import { resolveLossConfig } from '../src/loss/config.js';
import { alphabetIndex, targetFromGraph, zeroGradients, type SoftGraph } from '../src/loss/softGraph.js';
import { GraphModel, encodeBatch, forwardGraph, trainStep, AdamW, type DropoutSites, type ModelSpec } from '../src/model/index.js';
import { batchLoss, emptySums } from '../src/loss/batch.js';
import { Rng } from '../src/util/rng.js';

const SPEC: ModelSpec = { alphabet: ['\uFFFD', 'a', 'b', 'c'], inputTypes: ['sequential'], outputTypes: ['sequential'], K: 4, d: 8, heads: 2, encoderLayers: 1, decoderLayers: 1, maxPositions: 8, edgeCopy: true };

function setup() {
  const model = new GraphModel(SPEC, 3);
  const index = alphabetIndex(SPEC.alphabet);
  const batch = encodeBatch([chainGraph('abc'), chainGraph('ca')], index, SPEC.inputTypes, SPEC.maxPositions);
  const targets = [targetFromGraph(chainGraph('cba'), index), targetFromGraph(chainGraph('ac'), index)];
  return { model, batch, targets };
}

test("the loss's gradient through the model (forward and backward graphs on onnxruntime) matches finite differences (cross-entropy, structural unrolled label-only, and the training form)", async () => {
  const { model, batch, targets } = setup();
  const configs = [
    resolveLossConfig({ loss_mode: 'cross-entropy' }),
    // Label-only assignment with a fixed iteration count: the unrolled gradient is the exact derivative.
    resolveLossConfig({ loss_mode: 'structural', gradient: 'unrolled', context_weight: 0, structure_iterations: 1, sinkhorn_iterations: 30, sinkhorn_tolerance: 1e-300, sinkhorn_temperature: 0.5 }),
    // The training form: likelihood costs at the nearest edit path, whose plan does not move under
    // the finite difference's small steps.
    resolveLossConfig({ loss_mode: 'structural', cost_form: 'likelihood', assignment: 'hard' }),
  ];
  for (const cfg of configs) {
    const value = async (): Promise<number> => (await model.gradients(batch, batchLoss(targets, cfg, emptySums()))).value;
    const { grads } = await model.gradients(batch, batchLoss(targets, cfg, emptySums()));
    let checked = 0;
    for (const name of ['head.Wlabel', 'head.Wexist', 'head.sequential.Wa', 'head.sequential.copy', 'head.Wpos', 'enc0.Wmsg', 'embed.labels', 'dec.slots', 'enc0.norm.gain']) {
      // Cross-entropy trains no rank head, so head.Wpos has no gradient there; every other parameter must have one.
      const mayBeZero = cfg.loss_mode === 'cross-entropy' && name === 'head.Wpos';
      checked += await assertLargestAgreeWithDifferences(model, name, grads[name]!, value, { label: `${cfg.loss_mode} ${name}`, mayBeZero });
    }
    // Three entries of each of 8 parameters, and both of the copy weights (one input type, two directions).
    assert.equal(checked, 26);
  }
  await model.dispose();
});

test('endPositions: each input node embeds its position from the end of its text (last grapheme 0, padding none), trained with the gradient finite differences give', async () => {
  const spec: ModelSpec = { ...SPEC, endPositions: true };
  const index = alphabetIndex(spec.alphabet);
  const batch = encodeBatch([chainGraph('abc'), chainGraph('ca')], index, spec.inputTypes, spec.maxPositions);
  // Two texts padded to 3 nodes: "abc" counts 2, 1, 0; "ca" 1, 0 and the padding has none (8).
  assert.deepEqual([...batch.endPositions], [2, 1, 0, 1, 0, 8]);
  assert.equal(new GraphModel(SPEC, 3).params.has('embed.endPositions'), false);
  const model = new GraphModel(spec, 3);
  const targets = [targetFromGraph(chainGraph('cba'), index), targetFromGraph(chainGraph('ac'), index)];
  const cfg = resolveLossConfig({ loss_mode: 'cross-entropy' });
  const value = async (): Promise<number> => (await model.gradients(batch, batchLoss(targets, cfg, emptySums()))).value;
  const { grads } = await model.gradients(batch, batchLoss(targets, cfg, emptySums()));
  const g = grads['embed.endPositions']!;
  await assertLargestAgreeWithDifferences(model, 'embed.endPositions', g, value);
  // Row 8 (no position) is read only by the padding, whose output is masked: untouched.
  for (let c = 0; c < spec.d; c++) assert.equal(g[8 * spec.d + c], 0);
  await model.dispose();
});

test('rankDetached: the rank head trains its own weights and no slot encoding; attached, its loss reaches the slots', async () => {
  const { model: attached, batch } = setup();
  // A loss on the rank head alone: −log q_k[k] for every slot.
  const rankOnly = (preds: SoftGraph[]) => {
    let value = 0;
    const gradients = preds.map((p) => {
      const g = zeroGradients(p);
      for (let k = 0; k < p.K; k++) {
        const q = p.positions![k * p.K + k]!;
        value -= Math.log(q);
        g.positions![k * p.K + k] = -1 / q;
      }
      return g;
    });
    return { value, gradients };
  };
  const norm = (x: Float32Array | undefined): number => Math.hypot(...(x ?? []));
  const detached = new GraphModel({ ...SPEC, rankDetached: true }, 3);
  const a = await attached.gradients(batch, rankOnly);
  const d = await detached.gradients(batch, rankOnly);
  // Same weights, same forward pass: the same loss and the same gradient on the head itself.
  assert.equal(d.value, a.value);
  for (const name of ['head.Wpos', 'head.bpos']) {
    assert.ok(norm(d.grads[name]) > 1e-3);
    assert.ok(Math.abs(norm(d.grads[name]) - norm(a.grads[name])) < 1e-6 * norm(a.grads[name]), name);
  }
  const trunk = ['dec.slots', 'dec0.ffn.W1', 'embed.positions'];
  for (const name of trunk) assert.ok(norm(a.grads[name]) > 1e-4, `attached: ${name} gets no gradient`);
  for (const name of [...trunk, 'head.Wlabel']) assert.equal(norm(d.grads[name]), 0, `detached: ${name}`);
  await attached.dispose();
  await detached.dispose();
});

test('countAttention: padding adds nothing to the count, and its weights train with the gradient finite differences give', async () => {
  const spec: ModelSpec = { ...SPEC, countAttention: true };
  const index = alphabetIndex(spec.alphabet);
  const model = new GraphModel(spec, 3);
  assert.equal(new GraphModel(SPEC, 3).params.has('dec0.count.Wq'), false);
  // "ca" alone and padded to three nodes beside "abc": the same outputs, so padding is not counted.
  const alone = (await model.forward(encodeBatch([chainGraph('ca')], index, spec.inputTypes, spec.maxPositions)))[0]!;
  const batch = encodeBatch([chainGraph('abc'), chainGraph('ca')], index, spec.inputTypes, spec.maxPositions);
  const padded = (await model.forward(batch))[1]!;
  for (let i = 0; i < alone.labels.length; i++) assert.ok(Math.abs(alone.labels[i]! - padded.labels[i]!) < 1e-6, `labels[${i}]`);
  const targets = [targetFromGraph(chainGraph('abc'), index), targetFromGraph(chainGraph('ac'), index)];
  const cfg = resolveLossConfig({ loss_mode: 'cross-entropy' });
  const value = async (): Promise<number> => (await model.gradients(batch, batchLoss(targets, cfg, emptySums()))).value;
  const { grads } = await model.gradients(batch, batchLoss(targets, cfg, emptySums()));
  for (const name of ['dec0.count.Wq', 'dec0.count.Wk', 'dec0.count.Wv', 'dec0.count.Wo']) await assertLargestAgreeWithDifferences(model, name, grads[name]!, value);
  await model.dispose();
});

/**
 * A parameter's largest gradient entries (default 3; unless `mayBeZero`, the largest at least
 * 1e-4) against central differences of `value` (default step 1e-2; 3 % relative): where a wrong
 * sign or scale would show. Returns how many entries it checked.
 */
async function assertLargestAgreeWithDifferences(model: GraphModel, name: string, g: Float32Array, value: () => Promise<number>, options: { entries?: number; step?: number; label?: string; mayBeZero?: boolean } = {}): Promise<number> {
  const { entries = 3, step = 1e-2, label = name, mayBeZero = false } = options;
  const param = model.params.get(name)!;
  const original = param.data.slice();
  const top = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!)).slice(0, entries);
  if (!mayBeZero) assert.ok(Math.abs(g[top[0]!]!) > 1e-4, `${label} gets no gradient`);
  for (const k of top) {
    const at = async (delta: number): Promise<number> => {
      param.data.set(original);
      param.data[k] = original[k]! + delta;
      return value();
    };
    const fd = ((await at(step)) - (await at(-step))) / (2 * step);
    param.data.set(original);
    const err = Math.abs(fd - g[k]!) / Math.max(Math.abs(g[k]!), 1e-3);
    assert.ok(err < 0.03, `${label}[${k}]: backward graph ${g[k]} vs finite difference ${fd} (rel. error ${err.toFixed(4)})`);
  }
  return top.length;
}

test('a step with a NaN loss is skipped: no weight changes, no NaN reaches the weights', async () => {
  const { model, batch, targets } = setup();
  const opt = new AdamW(model.params, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 });
  const cfg = resolveLossConfig({});
  const good = batchLoss(targets, cfg, emptySums());
  await trainStep(model, opt, batch, good, 1e-3, 1);
  const weights = model.params.get('head.Wlabel')!.data.slice();
  const nan = (preds: Parameters<typeof good>[0]) => {
    const r = good(preds);
    r.gradients[0]!.exist[0] = NaN;
    return r;
  };
  const out = await trainStep(model, opt, batch, nan, 1e-3, 1);
  assert.equal(out.skipped, true);
  assert.deepEqual(model.params.get('head.Wlabel')!.data, weights);
  const out2 = await trainStep(model, opt, batch, (p) => ({ ...good(p), value: Infinity }), 1e-3, 1);
  assert.equal(out2.skipped, true);
  for (const v of model.params.values()) assert.ok(v.data.every(Number.isFinite));
  const ok = await trainStep(model, opt, batch, good, 1e-3, 1);
  assert.equal(ok.skipped, false);
  assert.notDeepEqual(model.params.get('head.Wlabel')!.data, weights);
  await model.dispose();
});

test('rankPrior: an untrained model\'s slot k prefers rank k (the input order it is seeded in); without it the preferences are the random initial ones', async () => {
  const spec: ModelSpec = { ...SPEC, K: 6, rankPrior: 4 };
  const index = alphabetIndex(spec.alphabet);
  const batch = encodeBatch([chainGraph('abcab'), chainGraph('cba')], index, spec.inputTypes, spec.maxPositions);
  const argmaxRanks = async (s: ModelSpec): Promise<number[][]> => {
    const model = new GraphModel(s, 5);
    const preds = await model.forward(batch);
    await model.dispose();
    return preds.map((p) => Array.from({ length: p.K }, (_, k) => {
      let best = 0;
      for (let r = 1; r < p.K; r++) if (p.positions![k * p.K + r]! > p.positions![k * p.K + best]!) best = r;
      return best;
    }));
  };
  for (const ranks of await argmaxRanks(spec)) assert.deepEqual(ranks, [0, 1, 2, 3, 4, 5]);
  const without = await argmaxRanks({ ...spec, rankPrior: undefined });
  assert.ok(without.some((ranks) => ranks.some((r, k) => r !== k)), 'without the prior every slot already preferred its own rank: the test shows nothing');
});

/** Each named parameter's largest gradient entry against central differences of `loss` (the same masks every call). */
async function assertMaskedGradient(model: GraphModel, grads: Record<string, Float32Array>, names: readonly string[], loss: () => Promise<number>): Promise<void> {
  // A small step: a dropped mask puts ReLU kinks near the weights (at 1e-2 the differences bend by 4%).
  for (const name of names) await assertLargestAgreeWithDifferences(model, name, grads[name]!, loss, { entries: 1, step: 3e-3 });
}

/**
 * A model with dropout 0.3 at `sites` beside the same weights without it (the same seed): asserts
 * both predict the same, then gives the cross-entropy loss at a step seed, the loss without
 * dropout, the gradients at step seed 11, and what disposes both models.
 */
async function droppedBesidePlain(sites: DropoutSites) {
  const { model: plain, batch, targets } = setup();
  const dropped = new GraphModel(SPEC, 3, { dropout: 0.3, dropoutSites: sites });
  const cfg = resolveLossConfig({ loss_mode: 'cross-entropy' });
  // Same seed, same weights: the prediction graph is the one without masks.
  const [a, b] = [await plain.forward(batch), await dropped.forward(batch)];
  // (Within float32 rounding: the two graphs are compiled separately.)
  for (let i = 0; i < a.length; i++) for (let k = 0; k < a[i]!.labels.length; k++) assert.ok(Math.abs(b[i]!.labels[k]! - a[i]!.labels[k]!) < 1e-6);
  const loss = async (seed: number): Promise<number> => (await dropped.gradients(batch, batchLoss(targets, cfg, emptySums()), seed)).value;
  const clean = (await plain.gradients(batch, batchLoss(targets, cfg, emptySums()))).value;
  const { grads } = await dropped.gradients(batch, batchLoss(targets, cfg, emptySums()), 11);
  return { dropped, loss, clean, grads, dispose: () => Promise.all([plain.dispose(), dropped.dispose()]) };
}

test('dropout: training steps drop with masks drawn from the step seed (gradient exact for that mask), predictions never drop', async () => {
  const { dropped, loss, clean, grads, dispose } = await droppedBesidePlain('all');
  assert.equal(await loss(11), await loss(11));
  assert.notEqual(await loss(11), await loss(12));
  assert.notEqual(await loss(11), clean);
  // The backward graph sees the same masks as the forward: central differences at a fixed seed agree.
  await assertMaskedGradient(dropped, grads, ['embed.labels', 'embed.positions', 'dec0.ffn.W1', 'head.Wlabel'], () => loss(11));
  await dispose();
});

test('dropout sites: `transforms` masks only the message-passing and feed-forward branches, its gradient is exact for its masks, and predictions are the same', async () => {
  const masked = (sites: DropoutSites): string[] => forwardGraph(SPEC, { dropout: true, dropoutSites: sites }).dropoutMasks.map((m) => m.name);
  // all: the embeddings, each message-passing layer, the encoder's attention and feed-forward, and three branches per decoder layer.
  assert.equal(masked('all').length, 1 + SPEC.encoderLayers + 2 + 3 * SPEC.decoderLayers);
  // transforms: each message-passing layer, the encoder's feed-forward and each decoder layer's feed-forward.
  assert.equal(masked('transforms').length, SPEC.encoderLayers + 1 + SPEC.decoderLayers);
  const { dropped, loss, clean, grads, dispose } = await droppedBesidePlain('transforms');
  assert.notEqual(await loss(11), clean);
  await assertMaskedGradient(dropped, grads, ['embed.labels', 'dec0.cross.Wo', 'dec0.ffn.W1'], () => loss(11));
  await dispose();
});

test("dropout masks come from the run's own stream: fillWhereBelow equals next() draw by draw, and leaves the same state", () => {
  for (const seed of [0, 7, 2 ** 31 + 5]) {
    const fast = new Rng(seed);
    const slow = new Rng(seed);
    const out = new Float32Array(20_000);
    fast.fillWhereBelow(out, 0.9, 2);
    for (let i = 0; i < out.length; i++) assert.equal(out[i], slow.next() < 0.9 ? 2 : 0, `seed ${seed}, draw ${i}`);
    assert.equal(fast.state, slow.state);
    // About 10 % dropped.
    const dropped = out.filter((x) => x === 0).length / out.length;
    assert.ok(Math.abs(dropped - 0.1) < 0.01, `dropped ${dropped}`);
  }
});
