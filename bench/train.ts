/**
 * bench/train: training throughput (examples per second) and peak memory per loss mode, each
 * mode in its own child process so that peaks do not mix, for the default model and a larger one
 * (d 128, strings of 12–16 letters), beside a PyTorch twin of the same architecture and parameter
 * count (bench/reference/train_torch.py, float32, position-aligned cross-entropy, AdamW) run in the
 * same invocation with 1 and 2 threads. grapheme's structural rows run with and without the loss
 * helper thread (loss_threads). Prints a table; never pass/fail.
 *
 *   npm run build && node dist/bench/train.js [--epochs 3] [--train-size 1024]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_MODELS, runTwin, torchVersion } from './twin.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { HELPER_MIN_SLOTS, train } from '../src/train/trainer.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

if (process.argv[2] === '--child') {
  // Child: train one mode silently, sampling memory, and print one JSON line.
  const [, , , mode, epochs, size, out, hidden, minLength, maxLength, threads, lossThreads] = process.argv;
  let peakRss = 0;
  const sample = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 50);
  const cfg = resolveTrainConfig({ flags: { loss_mode: mode, epochs: Number(epochs), train_size: Number(size), val_size: 64, output: out, hidden_size: Number(hidden), min_length: Number(minLength), max_length: Number(maxLength), threads: Number(threads), loss_threads: Number(lossThreads) } });
  const silent = { start() {}, batch() { sample(); }, epoch() {}, note() {} };
  const s = await train(cfg, out!, silent);
  clearInterval(timer);
  const eps = s.metrics.map((m) => m.examplesPerSecond);
  console.log(JSON.stringify({ mode, parameters: s.parameters, examplesPerSecond: eps.reduce((a, b) => a + b, 0) / eps.length, peakRssMb: peakRss / 2 ** 20, finalTrainLoss: s.metrics.at(-1)?.train.loss }));
  process.exit(0);
}

const epochs = arg('--epochs', '3');
// Both sides drop as a default run does.
const { dropout, dropout_sites: dropoutSites } = resolveTrainConfig({});
const size = arg('--train-size', '1024');
const self = fileURLToPath(import.meta.url);
const torch = torchVersion();
console.log(`bench/train: reverse task, ${size} training examples × ${epochs} epochs, batch 32, one process per run`);
console.log('examples/s is the training loop alone (validation and monitors excluded); peak RSS of the whole process');
console.log(torch ? `reference: PyTorch ${torch} twin (same layers and parameter count, float32, cross-entropy, AdamW, dropout ${dropout} on the ${dropoutSites === 'all' ? 'embeddings and every residual branch' : 'message-passing and feed-forward branches'}, as grapheme's), same invocation\n` : 'reference: PyTorch not available (apt-get install python3-torch): twin rows empty\n');
console.log('| model | run | parameters | examples/s | peak RSS MB | final train loss |');
console.log('|---|---|---|---|---|---|');
for (const m of BENCH_MODELS) {
  // [mode, engine threads, loss threads]: structural with and without the loss helper thread (loss_threads).
  const runs = [['structural', 1, 2], ['structural', 1, 1], ['cross-entropy', 1, 1], ['structural', 2, 1], ['cross-entropy', 2, 1]] as const;
  // Below HELPER_MIN_SLOTS the trainer never starts the helper: a "loss on 2" row would repeat "loss on 1".
  for (const [mode, threads, lossThreads] of runs.filter(([, , lt]) => lt === 1 || m.max >= HELPER_MIN_SLOTS)) {
    const dir = mkdtempSync(join(tmpdir(), 'grapheme-bench-'));
    const r = spawnSync(process.execPath, [self, '--child', mode, epochs, size, join(dir, 'run'), String(m.d), String(m.min), String(m.max), String(threads), String(lossThreads)], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    const run = `grapheme ${mode}, ${threads} engine thread${threads > 1 ? 's' : ''}${mode === 'structural' ? `, loss on ${lossThreads}` : ''}`;
    if (r.status !== 0) {
      console.log(`| ${m.name} | ${run} | failed: ${r.stderr.trim().split('\n').pop()} | | | |`);
      continue;
    }
    const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as { parameters: number; examplesPerSecond: number; peakRssMb: number; finalTrainLoss: number };
    console.log(`| ${m.name} | ${run} | ${o.parameters} | ${o.examplesPerSecond.toFixed(0)} | ${o.peakRssMb.toFixed(0)} | ${o.finalTrainLoss.toPrecision(4)} |`);
  }
  if (!torch) continue;
  for (const threads of [1, 2]) {
    const o = runTwin(m.d, m.max, threads, dropout, 1, dropoutSites);
    const run = `PyTorch twin, ${threads} thread${threads > 1 ? 's' : ''}`;
    console.log('error' in o ? `| ${m.name} | ${run} | failed: ${o.error} | | | |` : `| ${m.name} | ${run} | ${o.parameters} | ${o.examplesPerSecond.toFixed(0)} | | |`);
  }
}
