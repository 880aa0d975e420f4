import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseOptions } from '../src/cli/options.js';
import { configFromArgs, trainCommand } from '../src/cli/train.js';
import { readDataset } from '../src/data/jsonl.js';
import { parseExpr } from '../src/data/evaluate.js';
import { graphFromJson } from '../src/graph/io.js';
import { polishGraph } from '../src/graph/polish.js';
import { lossPairFromJson, softGraphFromJson } from '../src/loss/io.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { UserError } from '../src/util/errors.js';
import { cli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'grapheme-fuzz-'));
const CONFIGS = fileURLToPath(new URL('../../configs/', import.meta.url));

/** The contract of every reader: a result, or a UserError (one line, shown without a stack). Anything else fails. */
function resultOrUserError(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (!(err instanceof UserError)) throw new Error(`not a UserError: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    assert.ok(err.message.length > 0 && !err.message.includes('\n'), `multi-line message: ${err.message}`);
  }
}

/** Text mutated by a few random edits: deletions, insertions, duplications, byte-level noise. */
function mutated(base: string): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.nat(), fc.nat(8), fc.constantFrom('delete', 'insert', 'duplicate', 'truncate'), fc.string({ unit: 'binary', maxLength: 6 }));
  return fc.array(edit, { minLength: 1, maxLength: 5 }).map((edits) => {
    let s = base;
    for (const [at, len, kind, text] of edits) {
      const i = s.length === 0 ? 0 : at % s.length;
      if (kind === 'delete') s = s.slice(0, i) + s.slice(i + len);
      else if (kind === 'insert') s = s.slice(0, i) + text + s.slice(i);
      else if (kind === 'duplicate') s = s.slice(0, i) + s.slice(i, i + len) + s.slice(i);
      else s = s.slice(0, i);
    }
    return s;
  });
}

const VALID_LINES = {
  text: '{"input": "abc", "target": "cba"}\n{"input": "héllo 👍🏽", "target": "x"}\n',
  graph: '{"input": {"nodes": [{"id": 0, "label": "a"}, {"id": 1, "label": "b"}], "edges": [{"source": 0, "target": 1, "type": "sequential"}]}, "target": {"nodes": [{"id": "x", "label": "c"}], "edges": []}}\n',
  math: '{"id": "m1", "input_polish": "(+ x 3)", "expected_result": 8, "level": 3, "bindings": {"x": 5}}\n{"id": "m2", "input_polish": "(d/dx (^ x 2))", "expected_symbolic": "(* 2 x)", "level": 5}\n',
};

test('JSONL datasets in all three formats: 3000 generated and mutated files give a dataset or a one-line error', () => {
  let n = 0;
  const check = (text: string): void => {
    const path = join(dir, `d${n++ % 4}.jsonl`);
    writeFileSync(path, text);
    resultOrUserError(() => readDataset(path));
    resultOrUserError(() => readDataset(path, { skipInvalid: true }));
  };
  for (const base of Object.values(VALID_LINES)) fc.assert(fc.property(mutated(base), check), { numRuns: 700 });
  fc.assert(fc.property(fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 4 }), (xs) => check(xs.map((x) => JSON.stringify(x)).join('\n'))), { numRuns: 500 });
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), check), { numRuns: 400 });
});

test('graph JSON, SoftGraph JSON and loss pairs: 3000 arbitrary and mutated values give a result or a one-line error', () => {
  const graph = JSON.parse(VALID_LINES.graph).input;
  const soft = { alphabet: ['a', 'b'], exist: [0.9, 0.2], labels: [[0.8, 0.2], [0.5, 0.5]], edges: { sequential: [[0, 0.7], [0.1, 0]] } };
  const mutatedJson = (base: unknown): fc.Arbitrary<unknown> =>
    mutated(JSON.stringify(base)).map((s) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        return s;
      }
    });
  fc.assert(fc.property(fc.oneof(fc.jsonValue({ maxDepth: 5 }), mutatedJson(graph)), (x) => resultOrUserError(() => graphFromJson(x, 'fuzz'))), { numRuns: 1000 });
  fc.assert(fc.property(fc.oneof(fc.jsonValue({ maxDepth: 5 }), mutatedJson(soft)), (x) => resultOrUserError(() => softGraphFromJson(x, 'fuzz'))), { numRuns: 1000 });
  fc.assert(fc.property(fc.oneof(fc.jsonValue({ maxDepth: 3 }), mutatedJson(soft)), fc.oneof(fc.jsonValue({ maxDepth: 3 }), mutatedJson(graph)), (p, t) => resultOrUserError(() => lossPairFromJson(p, t, 'pred', 'target'))), { numRuns: 1000 });
  // Numbers a JSON reader must refuse for probabilities: NaN and infinities arrive as strings or nulls.
  for (const bad of [null, 'NaN', '1e999', -0.5, 1.5]) resultOrUserError(() => softGraphFromJson({ ...soft, exist: [bad, 0.2] }, 'fuzz'));
});

test('YAML configs: 2000 mutated and arbitrary files give a config or a one-line error naming the file', () => {
  const base = readFileSync(join(CONFIGS, 'default.yaml'), 'utf8');
  let n = 0;
  const check = (text: string): void => {
    const path = join(dir, `c${n++ % 4}.yaml`);
    writeFileSync(path, text);
    try {
      resolveTrainConfig({ file: path });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      assert.ok(err.message.includes(path) || /key|--/.test(err.message), err.message);
    }
  };
  fc.assert(fc.property(mutated(base), check), { numRuns: 1200 });
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 120 }), check), { numRuns: 800 });
  check('['.repeat(100_000));
});

test('Polish expressions: 3000 arbitrary and mutated strings give a tree or a one-line error; depth 100 000 is fine', () => {
  const alphabet = fc.string({ unit: fc.constantFrom('(', ')', ' ', '+', '-', '*', 'x', '1', '2', 'sin', '/'), maxLength: 60 });
  fc.assert(fc.property(fc.oneof(alphabet, mutated('(+ (* 2 3) (- x 4))'), fc.string({ maxLength: 40 })), (s) => {
    resultOrUserError(() => polishGraph(s));
    resultOrUserError(() => parseExpr(s));
  }), { numRuns: 3000 });
  const deep = '(+ 1 '.repeat(100_000) + '1' + ')'.repeat(100_000);
  assert.equal(polishGraph(deep).nodes.length, 200_001);
});

test('train flags: 2000 random argument lists parse to a config or a one-line error', () => {
  const names = Object.keys(trainCommand.options).map((n) => `--${n}`);
  const token = fc.oneof(fc.constantFrom(...names), fc.constantFrom('-1', '0', '1e9', 'NaN', 'abc', '', '1,2', 'structural', '=', '--'), fc.string({ maxLength: 8 }));
  fc.assert(fc.property(fc.array(token, { maxLength: 8 }), (argv) => {
    resultOrUserError(() => {
      const args = parseOptions('train', trainCommand.options, argv);
      if (typeof args.values.config === 'string') return;
      configFromArgs(args);
    });
  }), { numRuns: 2000 });
});

test('through the real CLI, malformed inputs exit 2 with one line on stderr and no stack trace', () => {
  const cases: string[][] = [];
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"input": "a", "target": 1}\n');
  cases.push(['train', '--data', bad, '--epochs', '1', '--output', join(dir, 'o0')], ['loss', bad, bad], ['ged', '--pairs', bad], ['wl', dir, dir], ['train', '--data', dir, '--epochs', '1']);
  const notUtf8 = join(dir, 'latin1.jsonl');
  writeFileSync(notUtf8, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d, 0x0a]));
  cases.push(['eval', '--checkpoint', notUtf8, '--data', notUtf8], ['train', '--data', notUtf8, '--epochs', '1', '--output', join(dir, 'o1')]);
  const big = join(dir, 'big.jsonl');
  writeFileSync(big, `${JSON.stringify({ input: 'x'.repeat(300), target: 'y' })}\n`.repeat(20));
  cases.push(['train', '--data', big, '--epochs', '1', '--output', join(dir, 'o2')]);
  for (const args of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at |Error:/);
  }
});
