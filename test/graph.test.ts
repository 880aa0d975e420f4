import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  EDGE_TYPES, chainGraph, graphFromJson, graphToDot, graphToJson, graphToText, graphemes, indexGraph, maximalCliques,
  polishGraph, polishText, structuralRanks, textToGraph, validateGraph, wordsGraph, type IndexedGraph,
} from '../src/index.js';
import { shuffleNodes } from '../src/data/records.js';
import { graphFingerprint } from '../src/graph/fingerprint.js';
import { Rng } from '../src/util/rng.js';

const SAMPLES: Record<string, string> = {
  ascii: 'hello world',
  accented: 'héllo café', // é precomposed
  combining: 'e\u0301te\u0301', // e + combining acute, twice
  cjk: '你好世界',
  rtl: 'שלום عالم',
  emoji: 'ok 👍🏽 👨‍👩‍👧 🇫🇷',
  empty: '',
};

test('graphemes: one node per extended grapheme cluster', () => {
  assert.equal(graphemes('héllo 👍🏽 你好').length, 10);
  assert.deepEqual(graphemes('e\u0301'), ['e\u0301']);
  assert.deepEqual(graphemes('👨‍👩‍👧🇫🇷'), ['👨‍👩‍👧', '🇫🇷']);
  assert.deepEqual(graphemes(''), []);
});

test('chain builder: sequential edges i→i+1 on every script', () => {
  for (const [name, text] of Object.entries(SAMPLES)) {
    const g = chainGraph(text);
    const n = graphemes(text).length;
    assert.equal(g.nodes.length, n, name);
    assert.equal(g.edges.length, Math.max(0, n - 1), name);
    assert.ok(g.edges.every((e, i) => e.source === i && e.target === i + 1 && e.type === 'sequential'), name);
    validateGraph(g);
  }
});

test('words builder: each maximal run of letters/marks/digits is a clique, stored once per pair', () => {
  const g = wordsGraph('(+ 16 9)');
  const cliques = g.edges.filter((e) => e.type === 'clique');
  assert.deepEqual(cliques, [{ source: 3, target: 4, type: 'clique' }]);
  const w = wordsGraph('héllo 👍🏽 你好');
  const c = w.edges.filter((e) => e.type === 'clique');
  assert.equal(c.length, 10 + 1); // C(5,2) for héllo, 1 for 你好, none for the emoji
  assert.ok(c.every((e) => (e.source as number) < (e.target as number)));
  const rtl = wordsGraph(SAMPLES.rtl!);
  assert.equal(rtl.edges.filter((e) => e.type === 'clique').length, 6 + 6); // 4 letters each side
  const comb = wordsGraph(SAMPLES.combining!);
  assert.equal(comb.nodes.length, 3);
  assert.equal(comb.edges.filter((e) => e.type === 'clique').length, 3);
  assert.deepEqual(wordsGraph(''), { nodes: [], edges: [] });
});

test('round trip text → graph → text is the identity for chain and words', () => {
  for (const text of Object.values(SAMPLES)) {
    assert.equal(graphToText(textToGraph(text, 'chain'), 'chain'), text);
    assert.equal(graphToText(textToGraph(text, 'words'), 'words'), text);
  }
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
      assert.equal(graphToText(textToGraph(text, 'words')), text);
    }),
    { numRuns: 500 },
  );
});

test('graph → text follows sequential edges, not node order', () => {
  const g = { nodes: [{ id: 'c', label: 'c' }, { id: 'a', label: 'a' }, { id: 'b', label: 'b' }], edges: [
    { source: 'a', target: 'b', type: 'sequential' as const }, { source: 'b', target: 'c', type: 'sequential' as const }] };
  assert.equal(graphToText(g), 'abc');
});

test('polish builder: expression tree with operand order in the graph', () => {
  const g = polishGraph('(+ (* 2 3) 4)');
  assert.deepEqual(g.nodes.map((n) => n.label), ['+', '*', '2', '3', '4']);
  const structural = g.edges.filter((e) => e.type === 'structural').map((e) => [e.source, e.target]);
  assert.deepEqual(structural, [[0, 1], [1, 2], [1, 3], [0, 4]]);
  const seq = g.edges.filter((e) => e.type === 'sequential').map((e) => [e.source, e.target]);
  assert.deepEqual(seq, [[2, 3], [1, 4]]);
  assert.equal(polishText(g), '(+ (* 2 3) 4)');
  assert.notDeepEqual(polishGraph('(- 2 3)').edges, polishGraph('(- 3 2)').edges.reverse());
  assert.equal(polishText(polishGraph('(- 3 2)')), '(- 3 2)');
  assert.equal(polishText(polishGraph('  ( +   16 9 ) ')), '(+ 16 9)');
  assert.equal(polishText(polishGraph('42')), '42');
  assert.throws(() => polishGraph('(+ 1 2'), /unclosed/);
  assert.throws(() => polishGraph('(+ 1 2))'), /unbalanced/);
  assert.throws(() => polishGraph('(f)'), /no operands/);
  assert.throws(() => polishGraph('1 2'), /more than one/);
});

test('polish builder: nesting depth 100 000 neither overflows nor slows', () => {
  const depth = 100_000;
  const text = '(- '.repeat(depth) + '1' + ')'.repeat(depth);
  const g = polishGraph(text);
  assert.equal(g.nodes.length, depth + 1);
  assert.equal(polishText(g).length, text.length);
});

test('polish round trip survives node shuffling (order lives in the edges)', () => {
  const text = '(+ (* 2 3) (- 10 (/ 8 4)))';
  const g = polishGraph(text);
  const perm = [6, 2, 0, 8, 4, 1, 7, 3, 5];
  const shuffled = { nodes: perm.map((i) => g.nodes[i]!), edges: g.edges };
  assert.equal(polishText(shuffled), text);
});

function bruteMaximalCliques(g: IndexedGraph): number[][] {
  const n = g.labels.length;
  const adj = Array.from({ length: n }, () => new Array<boolean>(n).fill(false));
  for (const [s, t] of g.edges) if (s !== t) adj[s]![t] = adj[t]![s] = true;
  const cliques: number[] = [];
  for (let m = 1; m < 1 << n; m++) {
    let ok = true;
    for (let i = 0; i < n && ok; i++) for (let j = i + 1; j < n && ok; j++) if (m & (1 << i) && m & (1 << j) && !adj[i]![j]) ok = false;
    if (ok) cliques.push(m);
  }
  const maximal = cliques.filter((m) => !cliques.some((o) => o !== m && (o & m) === m));
  return maximal.map((m) => [...Array(n).keys()].filter((i) => m & (1 << i)));
}

test('maximal cliques equal brute force on random small graphs', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 9 }), fc.array(fc.tuple(fc.nat(8), fc.nat(8), fc.nat(4)), { maxLength: 30 }), (n, raw) => {
      const g: IndexedGraph = { labels: Array(n).fill('x'), edges: raw.filter(([s, t]) => s < n && t < n && s !== t), types: EDGE_TYPES };
      const key = (cs: number[][]): string[] => cs.map((c) => c.join(',')).sort();
      assert.deepEqual(key(maximalCliques(g)), key(bruteMaximalCliques(g)));
    }),
    { numRuns: 400 },
  );
  assert.deepEqual(maximalCliques(indexGraph(wordsGraph('abc de'))), [[0, 1, 2], [2, 3], [3, 4], [4, 5]]);
});

test('graph JSON: node-link, NetworkX links and GRAPHEME-Math forms read the same graph', () => {
  const g = textToGraph('abc', 'chain');
  assert.deepEqual(graphFromJson(JSON.parse(JSON.stringify(graphToJson(g)))), g);
  const nx = { directed: true, multigraph: false, graph: {}, nodes: [{ id: 0, label: 'a' }, { id: 1, label: 'b' }], links: [{ source: 0, target: 1, type: 'clique' }] };
  assert.deepEqual(graphFromJson(nx).edges, [{ source: 0, target: 1, type: 'clique' }]);
  const math = { nodes: [{ id: 'n0', value: '+' }, { id: 'n1', value: 2 }], edges: [{ from: 'n0', to: 'n1' }] };
  const m = graphFromJson(math);
  assert.deepEqual(m.nodes.map((n) => n.label), ['+', '2']);
  assert.equal(m.edges[0]!.type, 'structural');
});

test('graph validation names the problem', () => {
  const nodes = [{ id: 0, label: 'a' }, { id: 1, label: 'b' }];
  assert.throws(() => graphFromJson({ nodes: [...nodes, { id: 0, label: 'c' }], edges: [] }, 'g.json'), /g\.json: duplicate node id 0/);
  assert.throws(() => graphFromJson({ nodes, edges: [{ source: 0, target: 7 }] }, 'g.json'), /g\.json: edge 0 ends at missing node 7/);
  assert.throws(() => graphFromJson({ nodes, edges: [{ source: 1, target: 1 }] }), /self-loop on node 1/);
  // Any non-empty label is an edge type; a number (a bond order) is read as its decimal text.
  assert.equal(graphFromJson({ nodes, edges: [{ source: 0, target: 1, type: 'friend' }] }).edges[0]!.type, 'friend');
  assert.equal(graphFromJson({ nodes, edges: [{ source: 0, target: 1, label: 2 }] }).edges[0]!.type, '2');
  assert.throws(() => graphFromJson({ nodes, edges: [{ source: 0, target: 1, type: '' }] }, 'g.json'), /g\.json: edge 0 has type "": an edge's type \(or label\) must be a non-empty string/);
  assert.throws(() => graphFromJson({ nodes, edges: [{ source: 0, target: 1, label: 'constructor' }] }), /edge 0 has type "constructor", a name reserved by JavaScript objects/);
  assert.throws(() => graphFromJson({ nodes, edges: [{ source: 0, target: 1, type: true }] }), /edge 0 has type true/);
  assert.throws(() => graphFromJson({ nodes: [{ id: 0, label: null }], edges: [] }), /non-string label/);
  assert.throws(() => graphFromJson([1, 2]), /must be a JSON object/);
  assert.throws(() => graphFromJson({ edges: [] }), /missing "nodes"/);
});

test('DOT export quotes labels and colours edge types', () => {
  const dot = graphToDot(textToGraph('a"b', 'words'));
  assert.match(dot, /^digraph "G" \{/);
  assert.match(dot, /label="a"/);
  assert.match(dot, /label="\\""/);
  assert.equal((dot.match(/->/g) ?? []).length, 2); // the quote splits two one-letter words: no clique edge
});

test('structural ranks: reading order of a text chain, pre-order of a Polish tree, the same after any node shuffle, null where the edges define no order', () => {
  assert.deepEqual(Array.from(structuralRanks(textToGraph('hello'))!), [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(structuralRanks(textToGraph('ab cd', 'chain'))!), [0, 1, 2, 3, 4]);
  const tree = polishGraph('(+ (* 2 3) 4)');
  const ranks = structuralRanks(tree)!;
  assert.deepEqual(tree.nodes.map((n, i) => [n.label, ranks[i]]).sort((a, b) => Number(a[1]) - Number(b[1])).map(([l]) => l), ['+', '*', '2', '3', '4']);
  fc.assert(
    fc.property(fc.constantFrom('mississippi', '(- (/ 8 2) (* x 3))', 'a b', '👍🏽é'), fc.integer({ min: 1, max: 1e6 }), (text, seed) => {
      const g = text.startsWith('(') ? polishGraph(text) : textToGraph(text);
      // The labels read in rank order (a permutation of 0..n−1) are the same however the nodes are stored.
      const inRankOrder = (h: typeof g): string[] => {
        const r = structuralRanks(h)!;
        assert.deepEqual([...r].sort((a, b) => a - b), h.nodes.map((_, i) => i));
        const out: string[] = [];
        h.nodes.forEach((n, i) => (out[r[i]!] = n.label));
        return out;
      };
      assert.deepEqual(inRankOrder(shuffleNodes(g, new Rng(seed))), inRankOrder(g));
    }),
    { numRuns: 50 },
  );
  const node = (id: number) => ({ id, label: 'a' });
  // Two chains (two heads), a cycle, a branch, two parents, no edges among several nodes.
  assert.equal(structuralRanks({ nodes: [0, 1, 2, 3].map(node), edges: [{ source: 0, target: 1, type: 'sequential' }, { source: 2, target: 3, type: 'sequential' }] }), null);
  assert.equal(structuralRanks({ nodes: [0, 1].map(node), edges: [{ source: 0, target: 1, type: 'sequential' }, { source: 1, target: 0, type: 'sequential' }] }), null);
  assert.equal(structuralRanks({ nodes: [0, 1, 2].map(node), edges: [{ source: 0, target: 1, type: 'sequential' }, { source: 0, target: 2, type: 'sequential' }] }), null);
  assert.equal(structuralRanks({ nodes: [0, 1, 2].map(node), edges: [{ source: 0, target: 2, type: 'structural' }, { source: 1, target: 2, type: 'structural' }] }), null);
  assert.equal(structuralRanks({ nodes: [0, 1].map(node), edges: [] }), null);
  assert.deepEqual(Array.from(structuralRanks({ nodes: [node(7)], edges: [] })!), [0]);
  assert.deepEqual(Array.from(structuralRanks({ nodes: [], edges: [] })!), []);
});

test('graphFingerprint: the same for every renumbering of a graph, different for another label, edge type or direction', () => {
  const rng = new Rng(3);
  for (const text of ['hello world', 'abcabc', '(+ 16 9)', 'mississippi']) {
    const g = wordsGraph(text);
    const key = graphFingerprint(g);
    for (let k = 0; k < 5; k++) assert.equal(graphFingerprint(shuffleNodes(g, rng)), key, text);
    const relabelled = { ...g, nodes: g.nodes.map((v, i) => (i === 0 ? { ...v, label: 'Z' } : v)) };
    assert.notEqual(graphFingerprint(relabelled), key, `${text}: a changed label`);
    const retyped = { ...g, edges: g.edges.map((e, i) => (i === 0 ? { ...e, type: 'skip' } : e)) };
    assert.notEqual(graphFingerprint(retyped), key, `${text}: a changed edge type`);
    const reversed = { ...g, edges: g.edges.map((e) => ({ ...e, source: e.target, target: e.source })) };
    assert.notEqual(graphFingerprint(reversed), key, `${text}: every edge reversed`);
  }
  // Undirected: an edge listed either way round is the same graph.
  const u = { directed: false, nodes: [{ id: 0, label: 'a' }, { id: 1, label: 'b' }, { id: 2, label: 'a' }], edges: [{ source: 0, target: 1, type: '1' }, { source: 1, target: 2, type: '2' }] };
  const relisted = { ...u, edges: [{ source: 1, target: 0, type: '1' }, { source: 2, target: 1, type: '2' }] };
  assert.equal(graphFingerprint(relisted), graphFingerprint(u));
  assert.notEqual(graphFingerprint({ ...u, directed: true }), graphFingerprint(u));
});
