import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cli } from './helpers.js';

test('grapheme --help lists commands; every command --help lists its options with defaults', () => {
  const top = cli(['--help']);
  assert.equal(top.code, 0);
  for (const name of ['graph', 'data']) {
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
