import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { textToGraph } from '../src/graph/builders.js';
import type { Graph } from '../src/graph/types.js';
import { batchLoss, emptySums } from '../src/loss/batch.js';
import { resolveLossConfig, type LossConfig } from '../src/loss/config.js';
import { alphabetIndex, targetFromGraph } from '../src/loss/softGraph.js';
import { GraphModel, INPUT_NAMES, deserializeArray, type ModelSpec, type SerializedTensor } from '../src/model/index.js';
import { OnnxGraph, resolveShape, type Value } from '../src/model/onnx/graph.js';
import * as op from '../src/model/onnx/ops.js';
import { DataType } from '../src/model/onnx/proto.js';
import { EngineSession } from '../src/model/runtime.js';
import { loadModel } from '../src/train/trainer.js';
import { predictTexts } from '../src/train/predict.js';
import { buildersOf } from '../src/train/data.js';
import { Rng } from '../src/util/rng.js';
import { BIN } from './helpers.js';

const FIXTURES = new URL('../../test/fixtures/', import.meta.url);

/**
 * Check one op's gradient rule: a graph y = f(params) with symbolic batch B, its backward graph
 * at B = 2, and Σ y∘r (r random) differentiated by central differences in float32.
 */
async function checkRule(name: string, build: (g: OnnxGraph, ps: Value[]) => Value, shapes: number[][], options: { positive?: boolean } = {}): Promise<void> {
  const g = new OnnxGraph();
  const ps = shapes.map((s, i) => g.input(`p${i}`, s, DataType.FLOAT, true));
  const y = build(g, ps);
  g.output(y);
  const binding = { B: 2, N: 3 };
  const { graph, saved } = op.backwardGraph(g, [y], ps, binding);
  for (const v of saved) g.output(v);
  const fwd = await EngineSession.create(g.encode(), { threads: 1 });
  const bwd = await EngineSession.create(graph.encode(), { threads: 1 });
  const rng = new Rng(shapes.length * 31 + name.length);
  const values = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => (options.positive ? 0.5 + rng.next() : rng.normal())));
  const feeds = (vs: Float32Array[]) => Object.fromEntries(vs.map((v, i) => [`p${i}`, { data: v, dims: shapes[i]! }]));
  const ydims = resolveShape(y.shape, binding);
  const r = Float32Array.from({ length: ydims.reduce((a, b) => a * b, 1) }, () => rng.normal());
  const objective = async (vs: Float32Array[]): Promise<number> => {
    const out = (await fwd.run(feeds(vs), [y.name]))[y.name]!;
    let s = 0;
    out.forEach((v, i) => (s += v * r[i]!));
    return s;
  };
  const out = await fwd.run(feeds(values), [y.name, ...saved.map((v) => v.name)]);
  const bfeeds: Record<string, { data: Float32Array; dims: number[] }> = { ...feeds(values), [`grad:${y.name}`]: { data: r, dims: ydims } };
  for (const v of saved) bfeeds[v.name] = { data: out[v.name]!, dims: resolveShape(v.shape, binding) };
  for (const k of Object.keys(bfeeds)) if (!bwd.inputNames.includes(k)) delete bfeeds[k];
  const grads = await bwd.run(bfeeds, ps.map((p) => `grad:${p.name}`));
  for (let i = 0; i < ps.length; i++) {
    const gi = grads[`grad:${ps[i]!.name}`]!;
    const scale = Math.max(1, ...Array.from(gi, Math.abs));
    for (let k = 0; k < values[i]!.length; k++) {
      const h = 1e-2;
      const plus = values.map((v) => v.slice());
      plus[i]![k]! += h;
      const minus = values.map((v) => v.slice());
      minus[i]![k]! -= h;
      const fd = ((await objective(plus)) - (await objective(minus))) / (2 * h);
      assert.ok(Math.abs(fd - gi[k]!) < 0.02 * scale, `${name}: ∂/∂p${i}[${k}] rule ${gi[k]} vs central difference ${fd}`);
    }
  }
}

test('every gradient rule of the model\'s ops matches central differences (broadcasting, batched products, reshapes, normalisation, softmax, lookups, row selection)', async () => {
  await checkRule('matmul x·W', (g, [x, W]) => op.matmul(g, x!, W!), [[2, 3, 4], [4, 5]]);
  await checkRule('batched matmul', (g, [a, b]) => op.matmul(g, a!, b!), [[2, 3, 4], [2, 4, 2]]);
  await checkRule('add with broadcast', (g, [a, b]) => op.add(g, a!, b!), [[2, 3, 4], [4]]);
  await checkRule('sub with broadcast', (g, [a, b]) => op.sub(g, a!, b!), [[2, 3], [1, 3]]);
  await checkRule('mul with broadcast', (g, [a, b]) => op.mul(g, a!, b!), [[2, 3, 4], [3, 1]]);
  await checkRule('div', (g, [a, b]) => op.div(g, a!, b!), [[2, 3], [2, 3]], { positive: true });
  await checkRule('relu', (g, [a]) => op.relu(g, a!), [[3, 5]]);
  await checkRule('sigmoid', (g, [a]) => op.sigmoid(g, a!), [[3, 5]]);
  await checkRule('softmax', (g, [a]) => op.softmax(g, a!), [[3, 5]]);
  await checkRule('layerNorm', (g, [x, gain, bias]) => op.layerNorm(g, x!, gain!, bias!), [[2, 3, 6], [6], [6]]);
  await checkRule('reshape', (g, [x]) => op.mul(g, op.reshape(g, x!, [0, 3, 2], [2, 3, 2]), g.floats([1, 2, 3, 4, 5, 6], [3, 2])), [[2, 6]]);
  await checkRule('transpose', (g, [x]) => op.mul(g, op.transpose(g, x!, [1, 0, 2]), g.floats([1, 2, 3, 4, 5, 6], [1, 1, 6])), [[2, 3, 6]]);
  await checkRule('takeRows past N', (g, [x]) => op.takeRows(g, x!, 5), [[2, 3, 2]]);
  await checkRule('takeRows within N', (g, [x]) => op.takeRows(g, x!, 2), [[2, 3, 2]]);
  // A lookup with repeated indices: the rows' gradients add up.
  await checkRule('gather', (g, [table]) => {
    g.initializers.push({ name: 'idx', dims: [2, 3], type: DataType.INT64, ints: [0, 2, 2, 3, 0, 1] });
    return op.gather(g, table!, { name: 'idx', shape: [2, 3], type: DataType.INT64 });
  }, [[4, 3]]);
});

interface StepFixture {
  spec: ModelSpec;
  loss: LossConfig;
  inputs: Graph[];
  targets: Graph[];
  value: number;
  weights: Record<string, SerializedTensor>;
  gradients: Record<string, SerializedTensor>;
}

test("a training step's gradients equal the tfjs engine's on the same weights and batch (structural and cross-entropy; fixtures written by that engine before it left the model)", async () => {
  for (const mode of ['structural', 'cross-entropy']) {
    const f = JSON.parse(readFileSync(new URL(`tfjs-step-${mode}.json`, FIXTURES), 'utf8')) as StepFixture;
    const model = new GraphModel(f.spec, 7);
    model.importWeights(f.weights);
    const index = alphabetIndex(f.spec.alphabet);
    const { value, grads } = await model.gradients(model.encode(f.inputs), batchLoss(f.targets.map((t) => targetFromGraph(t, index)), resolveLossConfig(f.loss), emptySums()));
    assert.ok(Math.abs(value - f.value) < 1e-4 * Math.abs(f.value), `${mode}: loss ${value} vs ${f.value}`);
    let largest = 0;
    let worst = 0;
    let where = '';
    for (const [name, ser] of Object.entries(f.gradients)) {
      const want = deserializeArray(ser);
      const got = grads[name]!;
      assert.equal(got.length, want.length, name);
      for (let i = 0; i < want.length; i++) {
        largest = Math.max(largest, Math.abs(want[i]!));
        const e = Math.abs(want[i]! - got[i]!);
        if (e > worst) [worst, where] = [e, `${name}[${i}]`];
      }
    }
    assert.ok(worst <= 1e-4 * largest, `${mode}: largest difference ${worst} at ${where}, largest entry ${largest}`);
    await model.dispose();
  }
});

test('a checkpoint written with the tfjs engine loads and predicts the same texts and probabilities', async () => {
  const f = JSON.parse(readFileSync(new URL('tfjs-reverse-d16.predictions.json', FIXTURES), 'utf8')) as { texts: string[]; predictions: string[]; exist: number[][]; labels: number[][] };
  const loaded = loadModel(new URL('tfjs-reverse-d16.ckpt', FIXTURES).pathname);
  const preds = await predictTexts(loaded, f.texts);
  assert.deepEqual(preds.map((p) => p.text), f.predictions);
  const soft = await loaded.model.predictGraphs(f.texts.map((t) => textToGraph(t, buildersOf(loaded.ckpt.config).input)));
  soft.forEach((s, i) => {
    s.exist.forEach((p, k) => assert.ok(Math.abs(p - f.exist[i]![k]!) < 1e-4, `exist ${i}/${k}: ${p} vs ${f.exist[i]![k]}`));
    s.labels.forEach((p, k) => assert.ok(Math.abs(p - f.labels[i]![k]!) < 1e-4, `labels ${i}/${k}: ${p} vs ${f.labels[i]![k]}`));
  });
  await loaded.model.dispose();
});

test('a checkpoint written before the rank prior, the end positions, dropout, its sites, the unique labels\' position weight and the detached rank head resumes with what it trained with', () => {
  const r = spawnSync(process.execPath, [BIN, 'train', '--resume', new URL('tfjs-reverse-d16.ckpt', FIXTURES).pathname, '--dry-run'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const line of ['rank_prior: 0', 'rank_detached: false', 'end_positions: false', 'dropout: 0', 'dropout_sites: all', 'position_weight: 1', 'position_weight_unique: 1']) assert.match(r.stdout, new RegExp(`^${line}$`, 'm'));
});

test('grapheme export writes an ONNX model that onnxruntime runs on its own and that answers as grapheme predict does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'grapheme-export-'));
  const ck = new URL('tfjs-reverse-d16.ckpt', FIXTURES).pathname;
  const file = join(dir, 'model.onnx');
  const r = spawnSync(process.execPath, [BIN, 'export', '--checkpoint', ck, '--onnx', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const session = await ort.InferenceSession.create(file);
  // A model without end positions (this one predates them) takes every other input.
  assert.deepEqual([...session.inputNames].sort(), Object.values(INPUT_NAMES).filter((n) => n !== INPUT_NAMES.endPositions).sort());
  assert.ok(session.outputNames.includes('exist') && session.outputNames.includes('labels') && session.outputNames.includes('edges_sequential'));
  const loaded = loadModel(ck);
  const texts = ['abcd', 'hgfe', 'badcfe', 'h'];
  const batch = loaded.model.encode(texts.map((t) => textToGraph(t, buildersOf(loaded.ckpt.config).input)));
  const { B, N } = batch;
  const int64 = (a: Int32Array) => new ort.Tensor('int64', BigInt64Array.from(a, (x) => BigInt(x)), [B, N]);
  const out = await session.run({
    [INPUT_NAMES.labels]: int64(batch.labels), [INPUT_NAMES.positions]: int64(batch.positions), [INPUT_NAMES.mask]: new ort.Tensor('float32', batch.mask, [B, N]),
    [INPUT_NAMES.adjacency]: new ort.Tensor('float32', batch.adjacency, [B, N, batch.blocks * N]),
  });
  const want = await loaded.model.forward(batch);
  const exist = out['exist']!.data as Float32Array;
  const labels = out['labels']!.data as Float32Array;
  const { K } = loaded.model.spec;
  const L = loaded.model.spec.alphabet.length;
  want.forEach((s, b) => {
    s.exist.forEach((p, k) => assert.ok(Math.abs(p - exist[b * K + k]!) < 1e-5));
    s.labels.forEach((p, k) => assert.ok(Math.abs(p - labels[b * K * L + k]!) < 1e-5));
  });
  await loaded.model.dispose();
});

test('an exported model with end positions takes node_end_positions and answers as the model does', async () => {
  const spec: ModelSpec = { alphabet: ['\uFFFD', 'a', 'b', 'c'], inputTypes: ['sequential'], outputTypes: ['sequential'], K: 4, d: 8, heads: 2, encoderLayers: 1, decoderLayers: 1, maxPositions: 8, endPositions: true };
  const model = new GraphModel(spec, 4);
  const session = await ort.InferenceSession.create(model.exportOnnx({}));
  assert.ok(session.inputNames.includes(INPUT_NAMES.endPositions));
  const batch = model.encode(['abc', 'ca', 'b'].map((t) => textToGraph(t, 'chain')));
  const { B, N } = batch;
  const int64 = (a: Int32Array) => new ort.Tensor('int64', BigInt64Array.from(a, (x) => BigInt(x)), [B, N]);
  const feeds = {
    [INPUT_NAMES.labels]: int64(batch.labels), [INPUT_NAMES.positions]: int64(batch.positions), [INPUT_NAMES.endPositions]: int64(batch.endPositions),
    [INPUT_NAMES.mask]: new ort.Tensor('float32', batch.mask, [B, N]), [INPUT_NAMES.adjacency]: new ort.Tensor('float32', batch.adjacency, [B, N, batch.blocks * N]),
  };
  const exist = (await session.run(feeds))['exist']!.data as Float32Array;
  const want = await model.forward(batch);
  want.forEach((s, b) => s.exist.forEach((p, k) => assert.ok(Math.abs(p - exist[b * spec.K + k]!) < 1e-5)));
  // The same texts with their end positions swapped answer otherwise: the input is read.
  const swapped = Int32Array.from(batch.endPositions, (x) => (x === spec.maxPositions ? x : (x + 1) % 3));
  const other = (await session.run({ ...feeds, [INPUT_NAMES.endPositions]: int64(swapped) }))['exist']!.data as Float32Array;
  assert.ok(other.some((p, k) => Math.abs(p - exist[k]!) > 1e-4), 'the end positions change nothing');
  await model.dispose();
});
