import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chainGraph, textToGraph, wlKernel, wlSimilarity, type Graph } from '../src/index.js';
import { Rng } from '../src/util/rng.js';

test('WL kernel matches hand-computed values', () => {
  // "ab" vs "ab" (chain): it0 colours {a, b}: dot 2. it1: a→b (out b), b (in a): two new colours, dot 2.
  // Each further iteration again gives 2 distinct colours per graph: k = 2·(h+1).
  assert.equal(wlKernel(chainGraph('ab'), chainGraph('ab'), { iterations: 3 }), 8);
  // "aa": it0 one colour, count 2 → 4; it1 the two a's differ (one has an out-edge, one an in-edge) → 1 + 1 = 2.
  assert.equal(wlKernel(chainGraph('aa'), chainGraph('aa'), { iterations: 1 }), 6);
  // "ab" vs "ba": it0 share a and b (dot 2); it1 a(out b) vs a(in b) differ → 0.
  assert.equal(wlKernel(chainGraph('ab'), chainGraph('ba'), { iterations: 1 }), 2);
  assert.equal(wlKernel(chainGraph('ab'), chainGraph('ba'), { iterations: 1, undirected: true }), 4);
});

test('WL similarity: 1 for identical, direction matters, empty graphs', () => {
  assert.equal(wlSimilarity(textToGraph('hello'), textToGraph('hello')), 1);
  assert.ok(wlSimilarity(textToGraph('abc'), textToGraph('cba')) < 1);
  assert.ok(Math.abs(wlSimilarity(textToGraph('abc'), textToGraph('cba'), { undirected: true }) - 1) < 1e-12);
  const empty: Graph = { nodes: [], edges: [] };
  assert.equal(wlSimilarity(empty, empty), 1);
  assert.equal(wlSimilarity(empty, textToGraph('a')), 0);
  // hello/hallo (words graphs): iteration 0 dot 1+4+1 = 6, self 7 each; every later colour sees
  // the e/a through the clique, so cross dots are 0 and self dots 5 per iteration: 6/(7+15).
  assert.equal(wlSimilarity(textToGraph('hello'), textToGraph('hallo')), 6 / 22);
});

test('WL is symmetric and invariant under node renumbering', () => {
  const rng = new Rng(9);
  for (let trial = 0; trial < 50; trial++) {
    const a = textToGraph(Array.from({ length: rng.int(1, 10) }, () => 'abc '[rng.int(0, 3)]).join(''));
    const b = textToGraph(Array.from({ length: rng.int(1, 10) }, () => 'abc '[rng.int(0, 3)]).join(''));
    assert.equal(wlKernel(a, b), wlKernel(b, a));
    const perm = rng.shuffle(a.nodes.map((_, i) => i));
    const renumbered: Graph = {
      nodes: perm.map((i) => ({ id: `n${a.nodes[i]!.id}`, label: a.nodes[i]!.label })),
      edges: a.edges.map((e) => ({ ...e, source: `n${e.source}`, target: `n${e.target}` })),
    };
    assert.equal(wlSimilarity(renumbered, b), wlSimilarity(a, b));
  }
});
