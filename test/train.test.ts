import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultTrainConfig, resolveTrainConfig } from '../src/train/config.js';
import { BIN, cli } from './helpers.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'grapheme-train-'));
const CONFIGS = fileURLToPath(new URL('../../configs/', import.meta.url));
/** A run small enough for CI: 96 examples, tiny model. */
const TINY = ['--train-size', '96', '--val-size', '24', '--batch-size', '16', '--hidden-size', '16', '--heads', '2', '--max-nodes', '8', '--ged-timeout-ms', '2000', '--monitor-examples', '24', '--warmup-steps', '0'];

test('config precedence: built-in defaults < --config file < flags', () => {
  const dir = tmp();
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'lr: 0.01\nepochs: 5\nloss_mode: hybrid\n');
  const c = resolveTrainConfig({ file, flags: { epochs: 7 } });
  assert.equal(c.lr, 0.01);
  assert.equal(c.epochs, 7);
  assert.equal(c.loss_mode, 'hybrid');
  assert.equal(c.batch_size, defaultTrainConfig().batch_size);
  const dry = cli(['train', '--config', file, '--epochs', '9', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^epochs: 9$/m);
  assert.match(dry.stdout, /^lr: 0\.01$/m);
  // A switch that is on by default: the file turns it off, --edge-copy back on, --no-edge-copy off.
  writeFileSync(file, 'edge_copy: false\n');
  assert.match(cli(['train', '--config', file, '--dry-run']).stdout, /^edge_copy: false$/m);
  assert.match(cli(['train', '--config', file, '--edge-copy', '--dry-run']).stdout, /^edge_copy: true$/m);
  assert.match(cli(['train', '--no-edge-copy', '--dry-run']).stdout, /^edge_copy: false$/m);
  const both = cli(['train', '--edge-copy', '--no-edge-copy', '--dry-run']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--edge-copy and --no-edge-copy contradict/);
});

test('config errors name the file, line or key, exit 2, no stack trace', () => {
  const dir = tmp();
  const cases: Array<[string, RegExp]> = [
    ['lr: 0.01\nlearning_rate: 3\n', /c\.yaml: unknown key "learning_rate"/],
    ['epochs: -1\n', /c\.yaml: key "epochs": .*>=\s*1/i],
    ['epochs: [1, 2\n', /c\.yaml:\d+:\d+: invalid YAML/],
    ['- 1\n- 2\n', /c\.yaml: expected a mapping of config keys/],
    ['heads: 3\n', /heads.*does not divide hidden_size 128/],
  ];
  for (const [text, want] of cases) {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, text);
    const r = cli(['train', '--config', file, '--dry-run']);
    assert.equal(r.code, 2, text);
    assert.match(r.stderr, want);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  const flag = cli(['train', '--sinkhorn-temperature', '0', '--dry-run']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--sinkhorn-temperature/);
  const missing = cli(['train', '--config', join(dir, 'nope.yaml')]);
  assert.match(missing.stderr, /nope\.yaml: cannot read/);
});

test('configs/ files are valid, and default.yaml is exactly the built-in defaults', () => {
  const def = resolveTrainConfig({ file: join(CONFIGS, 'default.yaml') });
  assert.deepEqual(def, defaultTrainConfig());
  for (const [name, mode] of [['structural', 'structural'], ['cross-entropy', 'cross-entropy'], ['hybrid', 'hybrid']] as const) {
    assert.equal(resolveTrainConfig({ file: join(CONFIGS, `${name}.yaml`) }).loss_mode, mode);
  }
});

test('a tiny end-to-end run: loss falls, metrics files and checkpoint are written, predict and eval use it', () => {
  const dir = join(tmp(), 'run');
  const r = cli(['train', ...TINY, '--epochs', '4', '--lr', '0.01', '--output', dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.epochs, 4);
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 4);
  assert.deepEqual(Object.keys(lines[0]).slice(0, 6), ['epoch', 'train', 'val', 'lr', 'examplesPerSecond', 'seconds']);
  assert.deepEqual(Object.keys(lines[0].val).slice(0, 8), ['loss', 'node', 'edge', 'clique', 'ce', 'exactMatch', 'ged', 'wl']);
  assert.ok(lines[3].train.loss < 0.85 * lines[0].train.loss, `train loss ${lines[0].train.loss} → ${lines[3].train.loss}`);
  assert.equal(readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').length, 5);
  const p = cli(['predict', '--checkpoint', dir, '--json', 'abc', 'hgfe']);
  assert.equal(p.code, 0, p.stderr);
  const preds = p.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(preds.map((x) => x.input), ['abc', 'hgfe']);
  assert.ok(Array.isArray(preds[0].graph.nodes));
  const e = cli(['eval', '--checkpoint', join(dir, 'checkpoint.ckpt'), '--task', 'reverse', '--count', '20', '--json']);
  assert.equal(e.code, 0, e.stderr);
  const ev = JSON.parse(e.stdout);
  assert.equal(ev.examples, 20);
  assert.ok(ev.wl >= 0 && ev.wl <= 1 && ev.ged >= 0);
  const again = cli(['train', ...TINY, '--output', dir]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already holds a run/);
});

test('the default structural mode trains to exact outputs, in storage order or shuffled, with twice the slots the targets need', () => {
  // Reverse of 3–4 letters over "abcdef", K = 8 (twice the longest target): the regression this
  // guards against is a structural loss that learns labels but never the sequential chain
  // (exact match 0 where cross-entropy reaches 1), or an existence collapse with spare slots.
  // Measured: 1.000 in both orders at epoch 12 (0.75 at epoch 10 with lr 0.001).
  const small = ['--alphabet', 'abcdef', '--min-length', '3', '--max-length', '4', '--train-size', '800', '--val-size', '40', '--hidden-size', '32', '--max-nodes', '8', '--epochs', '12', '--lr', '0.003', '--monitor-examples', '40', '--json'];
  for (const extra of [[], ['--shuffle-target-nodes']]) {
    const dir = join(tmp(), `exact${extra.length}`);
    const r = cli(['train', ...small, ...extra, '--output', dir]);
    assert.equal(r.code, 0, r.stderr);
    const last = JSON.parse(r.stdout).final;
    assert.ok(last.val.exactMatch >= 0.9, `${extra.join(' ') || 'storage order'}: validation exact match ${last.val.exactMatch} after 12 epochs`);
  }
});

test('order-free graph tasks: the default structural mode learns random graphs of 3–8 nodes exactly, directed and reversed, undirected with bond labels', () => {
  // Targets list their nodes in a random order, so only an order-free loss can learn them; the
  // edges need the copy of the input's edges (edge_copy, the default): measured 1.000 on both
  // tasks from epoch 6, and 0.225 on graphs at epoch 10 with --no-edge-copy.
  const small = ['--min-length', '3', '--max-length', '8', '--train-size', '800', '--val-size', '40', '--hidden-size', '32', '--epochs', '10', '--lr', '0.003', '--monitor-examples', '40', '--json'];
  for (const task of ['graphs', 'bonds']) {
    const r = cli(['train', '--task', task, ...small, '--output', join(tmp(), `order-free-${task}`)]);
    assert.equal(r.code, 0, r.stderr);
    const last = JSON.parse(r.stdout).final;
    assert.ok(last.val.exactMatch >= 0.95, `${task}: validation exact match ${last.val.exactMatch} after 10 epochs`);
    assert.ok(last.val.wl >= 0.99, `${task}: validation WL similarity ${last.val.wl}`);
  }
});

test('--threads 2: the same metrics on every run, a falling loss, and --resume reaching the uninterrupted run exactly', async () => {
  const base = tmp();
  const args = [...TINY, '--threads', '2', '--lr', '0.01'];
  const a = cli(['train', ...args, '--epochs', '3', '--output', join(base, 'a')]);
  assert.equal(a.code, 0, a.stderr);
  const b = cli(['train', ...args, '--epochs', '3', '--output', join(base, 'b')]);
  assert.equal(b.code, 0, b.stderr);
  const ma = metricsWithoutTimes(join(base, 'a')) as Array<{ train: { loss: number } }>;
  assert.deepEqual(metricsWithoutTimes(join(base, 'b')), ma);
  assert.ok(ma[2]!.train.loss < ma[0]!.train.loss, `loss ${ma[0]!.train.loss} → ${ma[2]!.train.loss}`);
  // Interrupted in its second epoch, then resumed: the same metrics as the uninterrupted run.
  const cut = join(base, 'c');
  assert.equal(await interruptAfterFirstEpoch([...args, '--epochs', '3', '--output', cut]), 130);
  const resumed = cli(['train', '--resume', cut]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(metricsWithoutTimes(cut), ma);
});

test('--loss-threads: a helper thread scoring half of each batch gives the same metrics to the bit as one thread, structural and hybrid, and an interrupted run resumes with the other setting', async () => {
  // Outputs of 8-12 graphemes (K 12), where the structural loss is a large part of a step.
  const args = [...TINY, '--min-length', '8', '--max-length', '12', '--max-nodes', '12', '--epochs', '3'];
  for (const mode of ['structural', 'hybrid']) {
    const base = tmp();
    for (const n of ['1', '2']) {
      const r = cli(['train', ...args, '--loss-mode', mode, '--loss-threads', n, '--output', join(base, n)]);
      assert.equal(r.code, 0, r.stderr);
    }
    const one = metricsWithoutTimes(join(base, '1')) as Array<{ train: { loss: number; edge: number } }>;
    assert.equal(one.length, 3);
    assert.ok(one[0]!.train.edge > 0, `${mode}: the structural terms were computed`);
    assert.deepEqual(metricsWithoutTimes(join(base, '2')), one, `${mode}: loss_threads 2 differs from 1`);
    if (mode !== 'structural') continue;
    const cut = join(base, 'cut');
    assert.equal(await interruptAfterFirstEpoch([...args, '--loss-threads', '1', '--output', cut]), 130);
    const resumed = cli(['train', '--resume', cut, '--loss-threads', '2']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(metricsWithoutTimes(cut), one);
  }
});

/** Run `grapheme train ARGS`, send SIGINT once its first epoch line appears (of 3), and resolve with its exit code. */
function interruptAfterFirstEpoch(args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'train', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      if (!sent && /epoch 1\/3/.test(d.toString())) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('exit', (c) => resolve(c));
  });
}

/** metrics.jsonl without the wall-clock fields, which differ between any two runs. */
function metricsWithoutTimes(dir: string): unknown[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const m = JSON.parse(l);
    delete m.seconds;
    delete m.examplesPerSecond;
    return m;
  });
}

test('SIGINT writes a checkpoint and --resume continues to exactly the metrics of an uninterrupted run', async () => {
  const base = tmp();
  const args = [...TINY, '--epochs', '3', '--seed', '5'];
  const full = cli(['train', ...args, '--output', join(base, 'full')]);
  assert.equal(full.code, 0, full.stderr);
  const cut = join(base, 'cut');
  assert.equal(await interruptAfterFirstEpoch([...args, '--output', cut]), 130);
  const resumed = cli(['train', '--resume', cut]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /resuming after epoch [12]/);
  assert.deepEqual(metricsWithoutTimes(cut), metricsWithoutTimes(join(base, 'full')));
  const changed = cli(['train', '--resume', cut, '--lr', '0.1']);
  assert.equal(changed.code, 2);
  assert.match(changed.stderr, /--lr differs from the checkpoint/);
});

test('corrupt, truncated and foreign checkpoints are refused with a message that says which', () => {
  const dir = join(tmp(), 'run');
  assert.equal(cli(['train', ...TINY, '--epochs', '1', '--output', dir]).code, 0);
  const ckpt = join(dir, 'checkpoint.ckpt');
  const bytes = readFileSync(ckpt);
  const cases: Array<[Buffer, RegExp]> = [
    [Buffer.concat([bytes.subarray(0, bytes.length - 200)]), /truncated/],
    [Buffer.from(bytes.map((b, i) => (i === bytes.length - 500 ? b ^ 0x01 : b))), /corrupt \(SHA-256 mismatch\)/],
    [Buffer.from('{"weights": {}}'), /not a grapheme checkpoint/],
    [Buffer.from(bytes.toString('latin1').replace('GRAPHEME-CHECKPOINT 2 ', 'GRAPHEME-CHECKPOINT 9 '), 'latin1'), /version 9/],
    // A checkpoint of the format before the rank head: refused by version, not misread.
    [Buffer.from(bytes.toString('latin1').replace('GRAPHEME-CHECKPOINT 2 ', 'GRAPHEME-CHECKPOINT 1 '), 'latin1'), /version 1; this grapheme reads version 2/],
  ];
  for (const [data, want] of cases) {
    const bad = join(dir, 'bad.ckpt');
    writeFileSync(bad, data);
    for (const args of [['predict', '--checkpoint', bad, 'abc'], ['train', '--resume', bad]]) {
      const r = cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, want);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  }
});
