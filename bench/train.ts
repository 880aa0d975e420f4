/**
 * bench/train: training throughput (examples per second) and peak memory per loss mode, each
 * mode in its own child process so that peaks do not mix. Prints a table; never pass/fail.
 *
 *   npm run build && node dist/bench/train.js [--epochs 3] [--train-size 1024]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

if (process.argv[2] === '--child') {
  // Child: train one mode silently, sampling memory, and print one JSON line.
  const { initEngine } = await import('../src/model/engine.js');
  const { tf } = await import('../src/model/engine.js');
  const { resolveTrainConfig } = await import('../src/train/config.js');
  const { train } = await import('../src/train/trainer.js');
  await initEngine();
  const [, , , mode, epochs, size, out] = process.argv;
  let peakRss = 0;
  let peakTensorBytes = 0;
  const sample = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    peakTensorBytes = Math.max(peakTensorBytes, tf.memory().numBytes);
  };
  const timer = setInterval(sample, 50);
  const cfg = resolveTrainConfig({ flags: { loss_mode: mode, epochs: Number(epochs), train_size: Number(size), val_size: 64, output: out } });
  const silent = { start() {}, batch() { sample(); }, epoch() {}, note() {} };
  const s = await train(cfg, out!, silent);
  clearInterval(timer);
  const eps = s.metrics.map((m) => m.examplesPerSecond);
  console.log(JSON.stringify({ mode, examplesPerSecond: eps.reduce((a, b) => a + b, 0) / eps.length, peakRssMb: peakRss / 2 ** 20, peakTensorMb: peakTensorBytes / 2 ** 20, finalTrainLoss: s.metrics.at(-1)?.train.loss }));
  process.exit(0);
}

const epochs = arg('--epochs', '3');
const size = arg('--train-size', '1024');
const self = fileURLToPath(import.meta.url);
console.log(`bench/train: reverse task, ${size} training examples × ${epochs} epochs, default model (d 64, K sized to the data: 6), batch 32, one process per mode`);
console.log('examples/s is the training loop alone (validation and monitors excluded); peak RSS of the whole process\n');
console.log('| loss mode | examples/s | peak RSS MB | peak tfjs tensor MB | final train loss |');
console.log('|---|---|---|---|---|');
for (const mode of ['structural', 'cross-entropy', 'hybrid']) {
  const dir = mkdtempSync(join(tmpdir(), 'grapheme-bench-'));
  const r = spawnSync(process.execPath, [self, '--child', mode, epochs, size, join(dir, 'run')], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) {
    console.log(`| ${mode} | failed: ${r.stderr.trim().split('\n').pop()} | | | |`);
    continue;
  }
  const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as { examplesPerSecond: number; peakRssMb: number; peakTensorMb: number; finalTrainLoss: number };
  console.log(`| ${mode} | ${o.examplesPerSecond.toFixed(0)} | ${o.peakRssMb.toFixed(0)} | ${o.peakTensorMb.toFixed(1)} | ${o.finalTrainLoss.toPrecision(4)} |`);
}
