import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './helpers.js';

test('grapheme --help lists commands; every command --help lists its options with defaults', () => {
  const top = cli(['--help']);
  assert.equal(top.code, 0);
  for (const name of ['graph', 'data', 'loss', 'ged', 'wl']) {
    assert.match(top.stdout, new RegExp(`\\n  ${name} `));
    const h = cli([name, '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: grapheme /);
    assert.match(h.stdout, /\(default: /);
  }
});

test('grapheme graph prints node-link JSON and DOT', () => {
  const r = cli(['graph', 'héllo 👍🏽 你好']);
  assert.equal(r.code, 0, r.stderr);
  const g = JSON.parse(r.stdout);
  assert.equal(g.nodes.length, 10);
  const dot = cli(['graph', '(+ (* 2 3) 4)', '--builder', 'polish', '--format', 'dot']);
  assert.equal(dot.code, 0);
  assert.match(dot.stdout, /digraph/);
});

test('grapheme data writes JSONL that is deterministic per seed', () => {
  const a = cli(['data', '--task', 'math', '--level', '2', '--count', '5', '--seed', '7']);
  assert.equal(a.code, 0, a.stderr);
  const lines = a.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 5);
  assert.ok(lines.every((l) => l.level === 2 && typeof l.input_polish === 'string' && Number.isInteger(l.expected_result)));
  assert.equal(cli(['data', '--task', 'math', '--level', '2', '--count', '5', '--seed', '7']).stdout, a.stdout);
});

test('bad flags and arguments: one line on stderr, non-zero exit, no stack trace', () => {
  const cases: Array<[string[], RegExp]> = [
    [['data', '--bogus'], /unknown option --bogus/],
    [['data', '--level', '9'], /--level: 9 is above the maximum 7/],
    [['data', '--count', 'many'], /--count: "many" is not a finite number/],
    [['data', '--task', 'nope'], /--task: "nope" is not one of/],
    [['graph'], /exactly one TEXT/],
    [['graph', '(+ 1', '--builder', 'polish'], /unclosed/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('grapheme loss: a perfect crisp prediction scores ~0; --json, --pairs and bad input', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'grapheme-loss-'));
  const hello = cli(['graph', 'hello']).stdout;
  const hallo = cli(['graph', 'hallo']).stdout;
  writeFileSync(join(dir, 'hello.json'), hello);
  writeFileSync(join(dir, 'hallo.json'), hallo);
  const same = cli(['loss', join(dir, 'hello.json'), join(dir, 'hello.json'), '--json']);
  assert.equal(same.code, 0, same.stderr);
  const r = JSON.parse(same.stdout);
  assert.ok(r.total < 1e-6 && r.sinkhorn.converged);
  const diff = JSON.parse(cli(['loss', join(dir, 'hallo.json'), join(dir, 'hello.json'), '--json', '--gradients']).stdout);
  assert.ok(Math.abs(diff.node - 1) < 1e-6, 'one substituted label costs one node edit');
  // Gradients come back in the input's shapes: exist [K], labels [K][L], edges [K][K] per type.
  assert.equal(diff.gradients.exist.length, 5);
  assert.deepEqual([diff.gradients.labels.length, diff.gradients.labels[0].length], [5, diff.gradients.alphabet.length]);
  assert.deepEqual([diff.gradients.edges.sequential.length, diff.gradients.edges.sequential[0].length], [5, 5]);
  // Text mode: a readable summary, no raw arrays; zero in exact arithmetic prints as 0.
  const text = cli(['loss', join(dir, 'hallo.json'), join(dir, 'hello.json'), '--gradients']).stdout;
  assert.match(text, /^gradient norms: exist [\d.]+, labels [\d.]+, edges\.sequential [\d.]+, edges\.clique [\d.]+/m);
  assert.doesNotMatch(text, /\[/);
  assert.match(cli(['loss', join(dir, 'hello.json'), join(dir, 'hello.json')]).stdout, /^total   0   \(structural\)$/m);
  writeFileSync(join(dir, 'pairs.jsonl'), `{"pred":${hello.trim()},"target":${hallo.trim()}}\n\n{"pred":${hello.trim()},"target":${hello.trim()}}\n`);
  const pairs = cli(['loss', '--pairs', join(dir, 'pairs.jsonl')]);
  assert.equal(pairs.code, 0, pairs.stderr);
  assert.equal(pairs.stdout.trim().split('\n').length, 2);
  writeFileSync(join(dir, 'soft.json'), JSON.stringify({ alphabet: ['a'], exist: [1.5], labels: [[1]], edges: {} }));
  const bad = cli(['loss', join(dir, 'soft.json'), join(dir, 'hello.json')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /soft\.json: exist\[0\] must be a probability/);
  const flag = cli(['loss', join(dir, 'hello.json'), join(dir, 'hello.json'), '--sinkhorn-temperature=0']);
  assert.match(flag.stderr, /--sinkhorn-temperature: Too small/);
  assert.notEqual(flag.code, 0);
});

test('grapheme ged and wl: files, --json, --pairs in order, and bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grapheme-ged-'));
  const write = (name: string, text: string): string => {
    const g = cli(['graph', text]);
    writeFileSync(join(dir, name), g.stdout);
    return join(dir, name);
  };
  const hello = write('hello.json', 'hello');
  const hallo = write('hallo.json', 'hallo');
  const helo = write('helo.json', 'helo');
  const exact = cli(['ged', hello, helo, '--json']);
  assert.equal(exact.code, 0, exact.stderr);
  const r = JSON.parse(exact.stdout);
  // hello → helo: one l becomes o, o and its 5 edges (4 clique, 1 sequential) deleted: 1 + 1 + 5.
  assert.deepEqual([r.ged, r.lowerBound, r.upperBound, r.exact], [7, 7, 7, true]);
  assert.equal(r.editPath.length, 7);
  assert.equal(cli(['ged', hello, hallo, '--method', 'bp', '--json']).stdout.includes('"ged":1'), true);
  const pairsFile = join(dir, 'pairs.jsonl');
  const g = (p: string): string => readFileSync(p, 'utf8').replace(/\n/g, '');
  writeFileSync(pairsFile, `{"g1":${g(hello)},"g2":${g(helo)}}\n\n{"g1":${g(hello)},"g2":${g(hello)}}\n`);
  const lines = cli(['ged', '--pairs', pairsFile]).stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.ged, l.exact]), [[7, true], [0, true]]);
  assert.deepEqual(Object.keys(lines[0]), ['ged', 'lowerBound', 'upperBound', 'exact', 'timeMs']);
  const wl = cli(['wl', '--pairs', pairsFile]).stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(wl[1].similarity, 1);
  assert.ok(wl[0].similarity > 0 && wl[0].similarity < 1);
  assert.match(cli(['wl', hello, hallo]).stdout, /^WL similarity 0\.272727/);
  writeFileSync(pairsFile, `{"g1":${g(hello)},"g2":${g(helo)}}\n{"g1": {"nodes": [}}\n`);
  for (const cmd of ['ged', 'wl']) {
    const bad = cli([cmd, '--pairs', pairsFile]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /pairs\.jsonl:2: not valid JSON/);
    assert.doesNotMatch(bad.stderr, /at .*\.js/);
  }
  const neg = cli(['ged', hello, helo, '--timeout-ms=-5']);
  assert.equal(neg.code, 2, neg.stderr);
  assert.match(neg.stderr, /--timeout-ms/);
});
