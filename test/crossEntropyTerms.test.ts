import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sinkhornCallCount } from '../src/match/sinkhorn.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { train, type TrainReporter } from '../src/train/trainer.js';

const quiet: TrainReporter = { start() {}, batch() {}, epoch() {}, note() {} };

/** Sinkhorn calls of one tiny training run, and its metrics. */
async function runCounting(flags: Record<string, unknown>) {
  const cfg = resolveTrainConfig({ flags: { val_size: 16, batch_size: 16, hidden_size: 16, heads: 2, epochs: 2, warmup_steps: 0, monitor_examples: 16, term_sample: 24, ...flags } });
  const before = sinkhornCallCount();
  const summary = await train(cfg, mkdtempSync(join(tmpdir(), 'grapheme-terms-')), quiet);
  return { calls: sinkhornCallCount() - before, metrics: summary.metrics };
}

test('a cross-entropy step does no structural work: more training examples add no Sinkhorn call, and the terms come from a fixed sample', async () => {
  const small = await runCounting({ loss_mode: 'cross-entropy', train_size: 64 });
  const large = await runCounting({ loss_mode: 'cross-entropy', train_size: 192 });
  // Validation (16 examples) and the sample (24) per epoch are the same in both runs; the
  // training batches (64 vs 192 examples) must not call Sinkhorn at all.
  assert.equal(large.calls, small.calls);
  assert.ok(small.calls > 0, 'validation and the sample are scored structurally');
  for (const m of large.metrics) {
    assert.deepEqual(m.structuralTermsOn, { examples: 24, sample: true });
    for (const k of ['node', 'edge', 'clique', 'ce'] as const) assert.ok(Number.isFinite(m.train[k]) && m.train[k] > 0, `train.${k} is measured`);
    assert.ok(m.sinkhornUnconverged >= 0 && m.sinkhornUnconverged <= 1);
  }
  // The sample is fixed, so its reassignments are counted from the second epoch on.
  assert.equal(large.metrics[0]!.matchingsChanged, null);
  assert.ok(large.metrics[1]!.matchingsChanged !== null);

  // A structural run scores every training example as it trains on it.
  const structural = await runCounting({ loss_mode: 'structural', train_size: 64 });
  assert.ok(structural.calls > small.calls, 'a structural run calls Sinkhorn on its training batches');
  assert.deepEqual(structural.metrics[0]!.structuralTermsOn, { examples: 64, sample: false });
});
