import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compareGraphs, graphLoss, resolveTrainingLossConfig, softGraphFromGraph, structuralLoss, targetFromGraph, textToGraph, UserError } from '../src/index.js';
import { initEngine, structuralLossOp, tf } from '../src/tfjs.js';
import { Rng } from '../src/util/rng.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ALPHABET = ['a', 'b', 'c'];

function runExample(file: string, args: string[] = []): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'examples', file), ...args], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('examples/custom-model.mjs: a model of its own trains with structuralLossOp, and its loss falls', () => {
  const losses = [...runExample('custom-model.mjs', ['75']).matchAll(/^step (\d+)\s+loss ([\d.]+)$/gm)].map((m) => Number(m[2]));
  assert.ok(losses.length >= 3, 'a loss line per 25 steps');
  assert.ok(losses.at(-1)! < 0.6 * losses[0]!, `loss ${losses[0]} → ${losses.at(-1)}`);
});

test('examples/compare-texts.mjs: the README\'s array-API example runs and gives the known distances', () => {
  const out = runExample('compare-texts.mjs');
  assert.match(out, /^exact GED 37 \(proved optimal 37\.\.37\)/m);
  assert.match(out, /^structural loss [\d.]+ \(node/m);
});

/** A small batch: a dense layer from fixed inputs to every head (float32), and its text targets. */
function smallBatch(seed: number) {
  const rng = new Rng(seed);
  const texts = ['abc', 'cab', 'bb'];
  const B = texts.length;
  const K = 3;
  const L = ALPHABET.length;
  const din = 5;
  const x = tf.tensor2d(Float32Array.from({ length: B * din }, () => rng.normal()), [B, din]);
  const W = tf.variable(tf.tensor2d(Float32Array.from({ length: din * (K + K * L + 2 * K * K + K * K) }, () => 0.5 * rng.normal()), [din, K + K * L + 3 * K * K]));
  const forward = () => {
    const h = tf.matMul(x, W);
    let o = 0;
    const take = (n: number) => tf.slice(h, [0, (o += n) - n], [B, n]);
    return {
      exist: tf.sigmoid(take(K)),
      labels: tf.softmax(take(K * L).reshape([B, K, L])),
      edges: { sequential: tf.sigmoid(take(K * K).reshape([B, K, K])), clique: tf.sigmoid(take(K * K).reshape([B, K, K])) },
      positions: tf.softmax(take(K * K).reshape([B, K, K])),
    };
  };
  return { W, forward, targets: texts.map((t) => textToGraph(t)), B };
}

test('structuralLossOp: the batch mean of per-example structuralLoss (1e-6), gradients through a tfjs layer equal finite differences (1e-3, float32), every mode', async () => {
  await initEngine();
  for (const loss_mode of ['structural', 'cross-entropy', 'hybrid'] as const) {
    const { W, forward, targets, B } = smallBatch(3);
    const cfg = { loss_mode };
    const value = () => tf.tidy(() => structuralLossOp(forward(), targets, ALPHABET, cfg).dataSync()[0]!);
    // Value: the mean of the per-example losses, computed on the same float32 probabilities.
    const p = tf.tidy(() => {
      const o = forward();
      return { exist: o.exist.arraySync() as number[][], labels: o.labels.arraySync() as number[][][], seq: o.edges.sequential.arraySync() as number[][][], cl: o.edges.clique.arraySync() as number[][][], pos: o.positions.arraySync() as number[][][] };
    });
    let mean = 0;
    for (let b = 0; b < B; b++) {
      const sg = { K: 3, L: 3, exist: Float64Array.from(p.exist[b]!), labels: Float64Array.from(p.labels[b]!.flat()), edges: { sequential: Float64Array.from(p.seq[b]!.flat()), clique: Float64Array.from(p.cl[b]!.flat()) }, positions: Float64Array.from(p.pos[b]!.flat()) };
      mean += graphLoss(sg, targetFromGraph(targets[b]!, ALPHABET), resolveTrainingLossConfig(cfg)).total / B;
    }
    const v = value();
    assert.ok(Math.abs(v - mean) <= 1e-6 * Math.max(1, Math.abs(mean)), `${loss_mode}: op ${v} vs mean ${mean}`);
    // Gradient with respect to the layer's weights, against central differences on 12 of them.
    const { grads } = tf.variableGrads(() => structuralLossOp(forward(), targets, ALPHABET, cfg), [W]);
    const g = grads[W.name]!.dataSync() as Float32Array;
    tf.dispose(Object.values(grads));
    const w0 = W.dataSync().slice() as Float32Array;
    let scale = 0;
    for (const x of g) scale = Math.max(scale, Math.abs(x));
    const h = 2e-3;
    for (let k = 0; k < g.length; k += Math.floor(g.length / 12)) {
      const at = (d: number): number => {
        const w = w0.slice();
        w[k] += d;
        W.assign(tf.tensor(w, W.shape));
        return value();
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      W.assign(tf.tensor(w0, W.shape));
      assert.ok(Math.abs(fd - g[k]!) <= 1e-3 * scale + 2e-3 * Math.abs(g[k]!), `${loss_mode} W[${k}]: autodiff ${g[k]} vs finite difference ${fd} (scale ${scale})`);
    }
    W.dispose();
  }
});

test('structuralLossOp: shape mismatches, NaN, unknown labels and bad config keys are errors that name the argument', async () => {
  await initEngine();
  const { forward, targets, W } = smallBatch(4);
  const o = forward();
  const expectError = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof UserError && re.test(e.message));
  expectError(() => structuralLossOp({ ...o, labels: tf.zeros([3, 3, 4]) }, targets, ALPHABET), /argument 'pred\.labels' has shape \[3, 3, 4\], expected \[3, 3, 3\]/);
  expectError(() => structuralLossOp({ ...o, edges: { sequential: tf.zeros([3, 2, 2]) } }, targets, ALPHABET), /'pred\.edges\.sequential'/);
  expectError(() => structuralLossOp(o, targets.slice(1), ALPHABET), /argument 'targets' must hold one graph per prediction \(3\), got 2/);
  expectError(() => structuralLossOp({ ...o, exist: tf.fill([3, 3], NaN) }, targets, ALPHABET), /argument 'pred\.exist' has NaN/);
  expectError(() => structuralLossOp(o, [textToGraph('abz'), ...targets.slice(1)], ALPHABET), /targets\[0\] has label "z"/);
  expectError(() => structuralLossOp(o, targets, ALPHABET, { alpah: 1 }), /unknown key "alpah"/);
  expectError(() => structuralLossOp(o, targets, ALPHABET, { sinkhorn_temperature: 0 }), /key "sinkhorn_temperature"/);
  W.dispose();
});

test('array API: every config key optional, one entry point honours loss_mode, structuralLoss refuses another mode', () => {
  const pred = textToGraph('helo');
  const target = textToGraph('hello');
  const r = compareGraphs(pred, target);
  assert.deepEqual(r.alphabet, ['h', 'e', 'l', 'o']);
  assert.ok(r.total > 0 && r.node! > 0);
  const p = softGraphFromGraph(pred, r.alphabet);
  const t = targetFromGraph(target, r.alphabet);
  assert.equal(structuralLoss(p, t).total, r.total);
  const hybrid = graphLoss(p, t, { loss_mode: 'hybrid' });
  const ce = graphLoss(p, t, { loss_mode: 'cross-entropy' });
  assert.ok(Math.abs(hybrid.total - (0.5 * r.total + 0.5 * ce.total)) < 1e-9);
  assert.throws(() => structuralLoss(p, t, { loss_mode: 'hybrid' }), /call graphLoss/);
  assert.throws(() => graphLoss(p, t, { beta: -1 }), /key "beta"/);
});

test('npm pack: the tarball installs into an empty directory, and its bin, types and both entry points work there', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'grapheme-pack-'));
  // --ignore-scripts: `npm test` has built dist/ already, and pack's `prepare` would rebuild it while
  // tests running beside this one start the CLI from it (a half-written file: a spurious exit 1).
  execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');
  const app = join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
  // What the README tells library users: onnxruntime-node's CPU binaries ship in its package; its
  // install script's CUDA download is skipped.
  writeFileSync(join(app, '.npmrc'), 'onnxruntime-node-install=skip\n');
  // Dependencies come from the npm registry (or its cache); nothing else is fetched. tfjs is an
  // optional peer: an app that uses grapheme/tfjs installs it beside grapheme.
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball), '@tensorflow/tfjs@4.22.0', '@tensorflow/tfjs-backend-wasm@4.22.0'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  const bin = spawnSync(join(app, 'node_modules', '.bin', 'grapheme'), ['graph', 'ab'], { encoding: 'utf8' });
  assert.equal(bin.status, 0, bin.stderr);
  assert.match(bin.stdout, /"label":"a"/);
  writeFileSync(join(app, 'use.mjs'), "import { compareGraphs, textToGraph } from 'grapheme';\nimport { structuralLossOp, initEngine } from 'grapheme/tfjs';\nawait initEngine();\nconsole.log(typeof structuralLossOp, compareGraphs(textToGraph('ab'), textToGraph('ab')).total < 1e-6);\n");
  const use = spawnSync(process.execPath, [join(app, 'use.mjs')], { encoding: 'utf8', cwd: app });
  assert.equal(use.status, 0, use.stderr);
  assert.equal(use.stdout.trim(), 'function true');
  for (const f of ['index.d.ts', 'tfjs.d.ts']) assert.ok(readdirSync(join(app, 'node_modules', 'grapheme', 'dist', 'src')).includes(f), `types ${f} installed`);
  // The README's library example, copied into the app, runs against the installed package and trains.
  copyFileSync(join(ROOT, 'examples', 'custom-model.mjs'), join(app, 'example.mjs'));
  const example = spawnSync(process.execPath, [join(app, 'example.mjs'), '50'], { encoding: 'utf8', cwd: app });
  assert.equal(example.status, 0, example.stderr);
  const losses = [...example.stdout.matchAll(/loss ([\d.]+)/g)].map((m) => Number(m[1]));
  assert.ok(losses.at(-1)! < losses[0]!, `installed example: loss ${losses[0]} → ${losses.at(-1)}`);
});
