/**
 * bench/step: where a training step's time goes, for the bench models (default, larger d 128, long
 * outputs K 32), on one fixed batch of the reverse task with the training loss: the step's parts
 * (median over rounds of 10 steps) at 1 and 2 engine threads, the loss on 1 or 2 threads
 * (loss_threads), and the PyTorch twin's whole step
 * (bench/reference/train_torch.py, 1 thread, its fastest here) in the same invocation. Prints
 * tables; never pass/fail.
 *
 *   npm run build && node dist/bench/step.js [--rounds 8]
 */
import { chainGraph } from '../src/graph/text.js';
import { batchLoss, emptySums, sharedBatchLoss } from '../src/loss/batch.js';
import { resolveTrainingLossConfig } from '../src/loss/config.js';
import { alphabetIndex, targetFromGraph } from '../src/loss/softGraph.js';
import { AdamW, GraphModel, encodeBatch, type ModelSpec } from '../src/model/index.js';
import type { AsyncBatchLossFn } from '../src/model/network.js';
import { LossHelper } from '../src/train/lossHelper.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { Rng } from '../src/util/rng.js';
import { BENCH_MODELS, runTwin, torchVersion } from './twin.js';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] ?? 8) || 8;
const B = 32;
const torchOk = torchVersion() !== null;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

console.log(`bench/step: one batch of ${B} reverse examples, training loss defaults; medians over ${rounds} rounds of 10 steps`);
console.log(torchOk ? 'reference: PyTorch twin, 1 thread, same invocation\n' : 'reference: PyTorch not available (apt-get install python3-torch)\n');

for (const m of BENCH_MODELS) {
  const alphabet = ['\uFFFD', ...'abcdefgh'];
  // The training defaults at this width (heads, layers, positions), as `grapheme train` builds the model.
  const cfg = resolveTrainConfig({ flags: { hidden_size: m.d } });
  const spec: ModelSpec = { alphabet, inputTypes: ['sequential', 'clique'], outputTypes: ['sequential', 'clique'], K: m.max, d: m.d, heads: cfg.heads, encoderLayers: cfg.encoder_layers, decoderLayers: cfg.decoder_layers, maxPositions: cfg.max_input_nodes, edgeCopy: cfg.edge_copy };
  const rng = new Rng(1);
  const texts = Array.from({ length: B }, () => Array.from({ length: rng.int(m.min, m.max) }, () => rng.pick([...'abcdefgh'])).join(''));
  const index = alphabetIndex(alphabet);
  const batch = encodeBatch(texts.map((t) => chainGraph(t)), index, spec.inputTypes, spec.maxPositions);
  const targets = texts.map((t) => targetFromGraph(chainGraph([...t].reverse().join('')), index));
  const rows: string[] = [];
  let parameters = 0;
  // Engine threads, and the threads that compute the loss (2: a helper thread takes half of each batch, as `loss_threads` 2 trains).
  for (const [threads, lossThreads] of [[1, 1], [1, 2], [2, 1]] as const) {
    const model = new GraphModel(spec, 1, { threads });
    parameters = model.parameterCount();
    const previous = targets.map(() => ({ matching: null as number[] | null }));
    const lossCfg = resolveTrainingLossConfig({});
    const helper = lossThreads > 1 ? new LossHelper(lossCfg) : null;
    const inner = helper ? sharedBatchLoss(targets, lossCfg, emptySums(), previous, true, helper.score) : batchLoss(targets, lossCfg, emptySums(), previous);
    let lossMs = 0;
    const lossFn: AsyncBatchLossFn = async (preds) => {
      const t = performance.now();
      const r = await inner(preds);
      lossMs += performance.now() - t;
      return r;
    };
    const optimizer = new AdamW(model.params, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 });
    const parts = { forward: [] as number[], gradients: [] as number[], loss: [] as number[], optimizer: [] as number[] };
    for (let r = -1; r < rounds; r++) {
      // Round −1 compiles the graphs and warms the JIT up and is not recorded.
      let tf0 = 0;
      let tg = 0;
      let to = 0;
      lossMs = 0;
      for (let s = 0; s < 10; s++) {
        let t = performance.now();
        await model.forward(batch);
        tf0 += performance.now() - t;
        t = performance.now();
        const { grads } = await model.gradients(batch, lossFn);
        tg += performance.now() - t;
        t = performance.now();
        optimizer.apply(grads, 1e-4, 1);
        to += performance.now() - t;
      }
      if (r < 0) continue;
      parts.forward.push(tf0 / 10);
      parts.gradients.push(tg / 10);
      parts.loss.push(lossMs / 10);
      parts.optimizer.push(to / 10);
    }
    const step = median(parts.gradients) + median(parts.optimizer);
    const g = median(parts.gradients);
    const l = median(parts.loss);
    rows.push(`| ${threads} | ${lossThreads} | ${median(parts.forward).toFixed(2)} | ${(g - l).toFixed(2)} | ${l.toFixed(2)} | ${median(parts.optimizer).toFixed(2)} | **${step.toFixed(2)}** (${((B / step) * 1000).toFixed(0)} ex/s) |`);
    await model.dispose();
    await helper?.close();
  }
  let twin = '';
  if (torchOk) {
    const o = runTwin(m.d, m.max, 1);
    twin = 'error' in o ? `failed: ${o.error}` : `${((B / o.examplesPerSecond) * 1000).toFixed(1)} ms (${o.examplesPerSecond.toFixed(0)} ex/s)`;
  }
  console.log(`**${m.name}**, ${parameters} parameters\n`);
  console.log('| engine threads | loss threads | forward alone (inference) ms | forward + backward runs, gradients read back ms | loss kernels (plain TypeScript) ms | norm, clipping, AdamW ms | whole step ms |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  if (torchOk) console.log(`\nPyTorch twin's whole step, 1 thread: ${twin}\n`);
}
