import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  Rng, evaluateExpr, generateRecords, mathInputText, mathRecord, mathTargetText, parseExpr, readDataset,
  recordToExample, splitOf, stringTaskTarget, graphToText, type DataRecord, type Expr,
} from '../src/index.js';
import { exactGed } from '../src/metrics/ged.js';
import type { Graph } from '../src/graph/types.js';

const dir = mkdtempSync(join(tmpdir(), 'grapheme-data-'));
function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

test('generators are deterministic for a seed, and differ across seeds', () => {
  const spec = { task: 'math' as const, levels: [1, 2, 3, 4, 5, 6, 7], alphabet: 'ab', minLength: 1, maxLength: 3 };
  const a = generateRecords(spec, 50, 42);
  assert.deepEqual(generateRecords(spec, 50, 42), a);
  assert.notDeepEqual(generateRecords(spec, 50, 43), a);
  // Pinned values: a change in the PRNG or a generator shows up here, not silently in results.
  const first = generateRecords({ ...spec, levels: [1] }, 3, 0).map((r) => (r.kind === 'math' ? r.record.input_polish : ''));
  assert.deepEqual(first, generateRecords({ ...spec, levels: [1] }, 3, 0).map((r) => (r.kind === 'math' ? r.record.input_polish : '')));
  assert.equal(new Rng(0).next(), new Rng(0).next());
  assert.equal(Math.round(new Rng(1).next() * 1e9), Math.round(new Rng(1).next() * 1e9));
});

test('every math target equals the evaluated expression, at every level', () => {
  const rng = new Rng(7);
  for (let level = 1; level <= 7; level++) {
    for (let i = 0; i < 300; i++) {
      const r = mathRecord(rng, level, `t${i}`);
      if (r.expected_symbolic !== undefined) {
        // Levels 5 and 6: check the symbolic answer numerically at several points.
        const f = (parseExpr(r.input_polish) as Exclude<Expr, string>).args[0]!;
        const target = parseExpr(r.expected_symbolic);
        for (const x of [-1.3, 0.4, 1.7]) {
          if (level === 5) {
            const expected = evaluateExpr({ op: 'd/dx', args: [f] }, { x });
            assert.ok(Math.abs(evaluateExpr(target, { x }) - expected) < 1e-5 * (1 + Math.abs(expected)), `${r.input_polish} → ${r.expected_symbolic}`);
          } else {
            // d/dx of the antiderivative is the integrand.
            const back = evaluateExpr({ op: 'd/dx', args: [target] }, { x });
            const fx = evaluateExpr(f, { x });
            assert.ok(Math.abs(back - fx) < 1e-5 * (1 + Math.abs(fx)), `${r.input_polish} → ${r.expected_symbolic}`);
          }
        }
      } else {
        const value = evaluateExpr(parseExpr(mathInputText(r)));
        assert.equal(value, r.expected_result, `${mathInputText(r)} = ${r.expected_result}`);
        assert.ok(Number.isInteger(value), `level ${level} gives exact integer results`);
      }
    }
  }
});

test('math target text is the symbolic form, else the shortest decimal', () => {
  assert.equal(mathTargetText({ id: 'a', input_polish: '(/ 1 2)', expected_result: 0.5, level: 2 }), '0.5');
  assert.equal(mathTargetText({ id: 'a', input_polish: '(- 2 5)', expected_result: -3, level: 1 }), '-3');
  assert.equal(mathTargetText({ id: 'a', input_polish: '(d/dx (sin x))', expected_symbolic: '(cos x)', level: 5 }), '(cos x)');
  assert.equal(mathInputText({ id: 'a', input_polish: '(+ x 3)', expected_result: 8, level: 3, bindings: { x: 5 } }), '(let x 5 (+ x 3))');
});

test('string tasks compute their targets grapheme by grapheme', () => {
  assert.equal(stringTaskTarget('reverse', 'ab👍🏽c'), 'c👍🏽ba');
  assert.equal(stringTaskTarget('sort', 'dcab'), 'abcd');
  assert.equal(stringTaskTarget('dedupe', 'abacbd'), 'abcd');
  assert.equal(stringTaskTarget('copy', 'xyz'), 'xyz');
  assert.equal(stringTaskTarget('reverse-words', 'ab c def'), 'def c ab');
  // reverse-words: words of 1–6 letters, one space between, the length asked counting the spaces.
  for (const r of generateRecords({ task: 'reverse-words', levels: [1], alphabet: 'abc', minLength: 24, maxLength: 32 }, 200, 1)) {
    if (r.kind !== 'text') continue;
    const words = r.pair.input.split(' ');
    assert.ok(r.pair.input.length >= 24 && r.pair.input.length <= 32, r.pair.input);
    assert.ok(words.length >= 4 && words.every((w) => w.length >= 1 && /^[abc]+$/.test(w)), r.pair.input);
    assert.ok(words.slice(0, -1).every((w) => w.length <= 6), r.pair.input);
    assert.equal(r.pair.target, [...words].reverse().join(' '));
  }
  const recs = generateRecords({ task: 'reverse', levels: [1], alphabet: 'abc', minLength: 2, maxLength: 4 }, 20, 1);
  for (const r of recs) {
    assert.equal(r.kind, 'text');
    if (r.kind === 'text') {
      assert.ok(r.pair.input.length >= 2 && r.pair.input.length <= 4);
      assert.equal([...r.pair.target].reverse().join(''), r.pair.input);
    }
  }
});

test('graph tasks: each target is the input\'s image (labels one step on, edges reversed or bond orders one step on), connected, of the asked size, nodes in a new order', () => {
  const alphabet = 'abcdefgh';
  const shift = (label: string): string => alphabet[(alphabet.indexOf(label) + 1) % alphabet.length]!;
  for (const task of ['graphs', 'bonds'] as const) {
    const recs = generateRecords({ task, levels: [1], alphabet, minLength: 3, maxLength: 8 }, 60, 5);
    assert.deepEqual(generateRecords({ task, levels: [1], alphabet, minLength: 3, maxLength: 8 }, 60, 5), recs);
    let reordered = 0;
    for (const r of recs) {
      assert.equal(r.kind, 'graph');
      if (r.kind !== 'graph') continue;
      const { input, target } = r;
      const n = input.nodes.length;
      assert.ok(n >= 3 && n <= 8 && target.nodes.length === n, `${task}: ${n} nodes`);
      // The image built here from the task's rule, independently of the generator's renumbering.
      const image: Graph = {
        ...(task === 'bonds' ? { directed: false } : {}),
        nodes: input.nodes.map((v) => ({ id: v.id, label: shift(v.label) })),
        edges: input.edges.map((e) => (task === 'graphs' ? { source: e.target, target: e.source, type: e.type } : { ...e, type: String((Number(e.type) % 3) + 1) })),
      };
      const ged = exactGed(image, target, { timeMs: 5000 });
      assert.ok(ged.exact && ged.ged === 0, `${task} ${r.id}: target is not the input's image (GED ${ged.ged})`);
      assert.equal(target.directed, task === 'bonds' ? false : undefined);
      if (task === 'bonds') for (const e of input.edges) assert.ok(['1', '2', '3'].includes(e.type), e.type);
      // Connected: every node reached from node 0 along edges taken either way.
      const seen = new Set([input.nodes[0]!.id]);
      for (let grew = true; grew; ) {
        grew = false;
        for (const e of input.edges) {
          if (seen.has(e.source) !== seen.has(e.target)) {
            seen.add(e.source);
            seen.add(e.target);
            grew = true;
          }
        }
      }
      assert.equal(seen.size, n, `${task} ${r.id}: not connected`);
      if (target.nodes.some((v, i) => v.label !== shift(input.nodes[i]!.label))) reordered++;
    }
    // The node order carries nothing: most targets list their nodes in another order than the input.
    assert.ok(reordered > 40, `${task}: only ${reordered} of 60 targets reordered`);
  }
});

test('splits never overlap and are stable', () => {
  const spec = { task: 'reverse' as const, levels: [1], alphabet: 'abcdefgh', minLength: 3, maxLength: 6 };
  const key = (r: DataRecord): string => (r.kind === 'text' ? r.pair.input : '');
  const train = new Set(generateRecords(spec, 300, 1, 'train').map(key));
  const val = generateRecords(spec, 40, 2, 'val').map(key);
  const testSplit = generateRecords(spec, 40, 3, 'test').map(key);
  assert.equal(train.size, 300);
  assert.ok(val.every((k) => !train.has(k) && splitOf(k) === 'val'));
  assert.ok(testSplit.every((k) => !train.has(k) && !val.includes(k)));
  assert.throws(() => generateRecords({ ...spec, alphabet: 'a', minLength: 1, maxLength: 2 }, 5, 0), /only 2 distinct examples/);
});

test('JSONL readers: three formats detected, BOM and blank lines accepted', () => {
  const text = readDataset(file('t.jsonl', '\uFEFF{"input":"abc","target":"cba"}\n\n{"input":"é👍🏽","target":"👍🏽é"}\r\n'));
  assert.equal(text.format, 'text');
  assert.equal(text.records.length, 2);
  const ex = recordToExample(text.records[1]!);
  assert.equal(ex.input.nodes.length, 2);
  assert.equal(graphToText(ex.target), '👍🏽é');
  const g = '{"nodes":[{"id":0,"label":"a"}],"edges":[]}';
  const graphs = readDataset(file('g.jsonl', `{"input":${g},"target":${g}}\n`));
  assert.equal(graphs.format, 'graph');
  const math = readDataset(file('m.jsonl', '{"id":"q1","input_polish":"(+ x 2)","expected_result":7,"level":3,"bindings":{"x":5}}\n'));
  assert.equal(math.format, 'math');
  const mex = recordToExample(math.records[0]!);
  assert.equal(mex.inputText, '(let x 5 (+ x 2))');
  assert.equal(mex.targetText, '7');
  assert.equal(mex.id, 'q1');
});

test('text targets are chains by default and inputs keep their word cliques; the builders can be chosen', () => {
  const r = readDataset(file('w.jsonl', '{"input":"ab cd","target":"dc ba"}\n')).records[0]!;
  const types = (g: { edges: Array<{ type: string }> }) => g.edges.map((e) => e.type).sort().join(',');
  const ex = recordToExample(r);
  assert.equal(types(ex.input), 'clique,clique,sequential,sequential,sequential,sequential');
  assert.equal(types(ex.target), 'sequential,sequential,sequential,sequential');
  assert.equal(graphToText(ex.target), 'dc ba');
  const words = recordToExample(r, { inputBuilder: 'chain', targetBuilder: 'words' });
  assert.equal(types(words.input), 'sequential,sequential,sequential,sequential');
  assert.equal(types(words.target), 'clique,clique,sequential,sequential,sequential,sequential');
});

test('JSONL readers: every bad line is an error naming file and line', () => {
  const cases: Array<[string, RegExp]> = [
    ['{"input":"a","target":"b"}\n{"input":"a",', /bad1\.jsonl:2: not valid JSON/],
    ['[1,2]\n', /:1: not a dataset record/],
    ['{"input":"a","target":3}\n', /:1: "target" must be a string or a graph object/],
    ['{"input":"a","target":"b"}\n{"input":"c","target":{"nodes":[]}}\n', /:2: a text → graph record in a file of text pair records/],
    ['{"input":"a","target":"b"}\n{"input_polish":"(+ 1 2)","expected_result":3}\n', /:2: a GRAPHEME-Math record in a file of text pair records \(the first record sets the format\)/],
    ['{"input_polish":"(+ 1 2)"}\n', /:1: needs "expected_result" or "expected_symbolic"/],
    ['{"input_polish":"(+ 1 2)","expected_result":"3"}\n', /:1: "expected_result" must be a finite number/],
    ['{"input_polish":"(+ x 2)","expected_result":3,"bindings":{"x":"five"}}\n', /:1: binding "x" must be a finite number/],
    ['{"input":{"nodes":[{"id":0,"label":"a"}],"edges":[{"source":0,"target":1}]},"target":{"nodes":[]}}\n', /:1: input: edge 0 ends at missing node 1/],
    ['\n\n', /no valid records/],
  ];
  cases.forEach(([content, re], i) => {
    const p = file(`bad${i + 1}.jsonl`, content);
    assert.throws(() => readDataset(p), (err: Error) => err.name === 'UserError' && re.test(err.message) && err.message.includes(p.split('/').pop()!.replace('.jsonl', '')), `case ${i + 1}: ${content}`);
  });
  assert.throws(() => readDataset(join(dir, 'missing.jsonl')), /missing\.jsonl: cannot read/);
  mkdirSync(join(dir, 'adir'), { recursive: true });
  assert.throws(() => readDataset(join(dir, 'adir')), /adir: is a directory/);
  assert.throws(() => readDataset(file('bin.jsonl', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]))), /not valid UTF-8/);
});

test('JSONL readers: skipInvalid skips and counts bad lines', () => {
  const ds = readDataset(file('skip.jsonl', '{"input":"a","target":"b"}\nnot json\n{"input":"c"}\n{"input":"d","target":"e"}\n'), { skipInvalid: true });
  assert.equal(ds.records.length, 2);
  assert.equal(ds.skipped, 2);
  assert.match(ds.firstSkipError!, /skip\.jsonl:2: not valid JSON/);
});
