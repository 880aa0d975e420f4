import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { chainGraph } from '../src/graph/text.js';
import { resolveLossConfig } from '../src/loss/config.js';
import { alphabetIndex, targetFromGraph } from '../src/loss/softGraph.js';
import { AdamW, GraphModel, encodeBatch, trainStep } from '../src/model/index.js';
import { readCheckpoint } from '../src/train/checkpoint.js';
import { batchLoss, emptySums } from '../src/loss/batch.js';
import { Rng } from '../src/util/rng.js';
import { BIN, cli } from './helpers.js';

const TINY = ['--train-size', '64', '--val-size', '16', '--batch-size', '16', '--hidden-size', '16', '--heads', '2', '--max-nodes', '8', '--ged-timeout-ms', '2000', '--monitor-examples', '16', '--warmup-steps', '0', '--lr', '0.01', '--seed', '11'];

function metricsWithoutTimes(dir: string): unknown[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').filter((l) => l).map((l) => {
    const m = JSON.parse(l);
    delete m.seconds;
    delete m.examplesPerSecond;
    return m;
  });
}

/** Run `f` and report its wall time in milliseconds. */
function timed<T>(f: () => T): { result: T; ms: number } {
  const t0 = performance.now();
  const result = f();
  return { result, ms: performance.now() - t0 };
}

/** Start a training child and SIGKILL it after `ms` milliseconds (or let it finish); resolves to its exit code or signal. */
function runAndKill(args: string[], ms: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(signal ?? String(code));
    });
  });
}

test('SIGKILL at 20+ random moments: the last checkpoint stays valid, metrics.jsonl has no torn line, and resuming reaches the uninterrupted metrics', async () => {
  const base = mkdtempSync(join(tmpdir(), 'grapheme-kill-'));
  const args = [...TINY, '--epochs', '80'];
  // Kill moments scale with this machine's speed: start-up (a one-epoch run) and the whole run's
  // work are measured, so that 20 rounds cannot finish the 80 epochs however fast the engine is.
  const startup = timed(() => cli(['train', ...args, '--epochs', '1', '--output', join(base, 'one')]));
  const fullRun = timed(() => cli(['train', ...args, '--output', join(base, 'full')]));
  assert.equal(fullRun.result.code, 0, fullRun.result.stderr);
  const work = Math.max(0, fullRun.ms - startup.ms);
  const dir = join(base, 'killed');
  const rng = new Rng(2026);
  let kills = 0;
  for (let round = 0; round < 200; round++) {
    const ckpt = join(dir, 'checkpoint.ckpt');
    const started = existsSync(ckpt);
    const runArgs = started ? ['train', '--resume', dir] : ['train', ...args, '--output', dir];
    // Before 20 kills, always kill: from half-way through start-up to a 30th of the run's work
    // past it (start-up, mid-epoch, validation or checkpoint write; 20 rounds advance at most
    // two thirds of the epochs); then let it finish.
    const outcome = await runAndKill(runArgs, kills < 20 ? Math.round(startup.ms * (0.5 + 0.5 * rng.next()) + (work / 30) * rng.next()) : 600_000);
    if (outcome === 'SIGKILL') kills++;
    if (existsSync(ckpt)) {
      const c = readCheckpoint(ckpt); // throws on a torn or corrupt file
      assert.ok(c.trainer.epoch >= 0);
    }
    if (existsSync(join(dir, 'metrics.jsonl'))) {
      const text = readFileSync(join(dir, 'metrics.jsonl'), 'utf8');
      assert.ok(text === '' || text.endsWith('\n'), 'metrics.jsonl ends mid-line');
      for (const line of text.split('\n').filter((l) => l)) JSON.parse(line);
    }
    if (outcome === '0') break;
    if (outcome !== 'SIGKILL') assert.fail(`run ended with ${outcome}`);
  }
  assert.ok(kills >= 20, `only ${kills} kills`);
  assert.deepEqual(metricsWithoutTimes(dir), metricsWithoutTimes(join(base, 'full')));
});

test('a full disk fails with a clear error and leaves the previous checkpoint intact', (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'grapheme-full-'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=400k', 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status !== 0) {
    t.skip(`cannot mount a small tmpfs here (${m.stderr.trim()}); run the tests as root to exercise a full disk`);
    return;
  }
  try {
    const out = join(mnt, 'run');
    // A checkpoint of this model is ~250 KB: the first fits, the second's temporary copy does not.
    const r = cli(['train', ...TINY, '--epochs', '5', '--output', out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot write .*(ENOSPC|no space)/i);
    assert.match(r.stderr, /previous version, if any, is intact/);
    const c = readCheckpoint(join(out, 'checkpoint.ckpt'));
    assert.ok(c.trainer.epoch >= 1 && c.trainer.epoch < 5);
  } finally {
    spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

test('closing a worker thread is awaited to its end, idle, mid-request or as its reply arrives (the process does not exit mid-close)', () => {
  // A full-disk run once exited with code 13 and no message: its checkpoint failed as the graph
  // monitors' reply was arriving, the reply unreferenced the thread, and the close's wait for the
  // thread's exit then held nothing alive.
  const dir = mkdtempSync(join(tmpdir(), 'grapheme-worker-'));
  const worker = pathToFileURL(join(dir, 'echo.mjs')).href;
  writeFileSync(join(dir, 'echo.mjs'), "import { parentPort } from 'node:worker_threads';\n"
    + "parentPort.on('message', (m) => { const reply = () => parentPort.postMessage({ ok: true, result: m.x * 2 });\n"
    + "  if (m.waitMs) setTimeout(reply, m.waitMs); else reply(); });\n");
  const queue = new URL('../src/train/workerQueue.js', import.meta.url).href;
  const script = `import { WorkerQueue } from ${JSON.stringify(queue)};
    const open = (name) => new WorkerQueue(new URL(${JSON.stringify(worker)}), name);
    const idle = open('idle');
    console.log('answer', await idle.run({ x: 21 }));
    await idle.close();
    const waiting = open('waiting');
    void waiting.run({ x: 1, waitMs: 60000 });
    await waiting.close();
    // The reply is posted while this thread is busy, so that it is delivered during the close.
    const replying = open('replying');
    await replying.run({ x: 0 });
    void replying.run({ x: 1 });
    const t = Date.now();
    while (Date.now() - t < 200);
    await replying.close();
    console.log('all closed');`;
  try {
    writeFileSync(join(dir, 'close.mjs'), script);
    const r = spawnSync(process.execPath, [join(dir, 'close.mjs')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `exit code ${r.status}: ${r.stderr}`);
    assert.deepEqual(r.stdout.trim().split('\n'), ['answer 42', 'all closed']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an output path that cannot be a directory is a one-line error', () => {
  // A regular file where the output directory's parent should be: root cannot write there either.
  const file = join(mkdtempSync(join(tmpdir(), 'grapheme-ro-')), 'file');
  writeFileSync(file, 'not a directory\n');
  const r = cli(['train', ...TINY, '--epochs', '1', '--output', join(file, 'run')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cannot create the output directory/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('soak: 2000 training steps of a tiny model (10 000 scaled down for CI), no growth of the heap or of the process memory (the engine\'s native buffers) after warm-up', async () => {
  // A forced collection before each sample, so that the heap figure is live data, not GC timing.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const spec = { alphabet: ['\uFFFD', 'a', 'b', 'c', 'd'], inputTypes: ['sequential' as const], outputTypes: ['sequential' as const], K: 5, d: 8, heads: 2, encoderLayers: 1, decoderLayers: 1, maxPositions: 8 };
  const model = new GraphModel(spec, 1);
  const opt = new AdamW(model.params, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 });
  const index = alphabetIndex(spec.alphabet);
  const texts = ['abc', 'dcba', 'bd', 'cab', 'aadd'];
  const batch = encodeBatch(texts.map((t) => chainGraph(t)), index, spec.inputTypes, spec.maxPositions);
  const targets = texts.map((t) => targetFromGraph(chainGraph([...t].reverse().join('')), index));
  const cfg = resolveLossConfig({});
  const samples: Array<{ step: number; rss: number; heap: number }> = [];
  for (let step = 1; step <= 2000; step++) {
    await trainStep(model, opt, batch, batchLoss(targets, cfg, emptySums()), 3e-3, 1);
    if (step % 200 === 0) {
      gc();
      samples.push({ step, rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed });
    }
  }
  const warm = samples[1]!;
  const last = samples.at(-1)!;
  assert.ok(last.heap - warm.heap < 4 * 2 ** 20, `heap grew ${((last.heap - warm.heap) / 2 ** 20).toFixed(1)} MB after warm-up`);
  // A leak of one batch's engine buffers per step would add well over 50 MB in 1800 steps.
  assert.ok(last.rss - warm.rss < 48 * 2 ** 20, `process memory grew ${((last.rss - warm.rss) / 2 ** 20).toFixed(1)} MB after warm-up: ${JSON.stringify(samples.map((x) => Math.round(x.rss / 2 ** 20)))}`);
  await model.dispose();
});
