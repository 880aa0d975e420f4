import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EDGE_TYPES, bpGed, exactGed, linearAssignment, textToGraph, type GedCosts, type Graph } from '../src/index.js';
import { Rng } from '../src/util/rng.js';
import { bruteForceGed, editPathCost, randomSmallGraph, type EditCosts, type SmallGraph } from './fixtures.js';

function toGraph(g: SmallGraph, ids: (i: number) => number | string = (i) => i): Graph {
  return {
    nodes: g.labels.map((l, i) => ({ id: ids(i), label: `L${l}` })),
    edges: g.edges.map(([s, t, r]) => ({ source: ids(s), target: ids(t), type: EDGE_TYPES[r]! })),
  };
}

const gedCosts = (c: EditCosts): GedCosts => ({ nodeSubstitution: c.sub, nodeInsertion: c.ins, nodeDeletion: c.del, edgeInsertion: c.eins, edgeDeletion: c.edel });

/** The node map of a result as g1 index → g2 index (−1 deleted), for graphs with ids 0..n−1. */
const phiOf = (map: Array<[unknown, unknown]>): number[] => map.map(([, k]) => (k === null ? -1 : Number(k)));

function bruteAssignment(c: number[][], n: number, m: number): number {
  let best = Infinity;
  const used = new Array<boolean>(m).fill(false);
  const rec = (i: number, acc: number): void => {
    if (i === n) return void (best = Math.min(best, acc));
    for (let j = 0; j < m; j++)
      if (!used[j]) {
        used[j] = true;
        rec(i + 1, acc + c[i]![j]!);
        used[j] = false;
      }
  };
  rec(0, 0);
  return best;
}

test('linear assignment is optimal on random square and rectangular matrices, with forbidden entries', () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 300; trial++) {
    const n = rng.int(1, 6);
    const m = rng.int(n, 7);
    const c = Array.from({ length: n }, (_, i) => Array.from({ length: m }, (_, j) => (j !== i && rng.next() < 0.2 ? Infinity : Math.round(rng.next() * 20) / 4)));
    const a = linearAssignment(Float64Array.from(c.flat()), n, m);
    assert.equal(a.cost, bruteAssignment(c, n, m), `trial ${trial}`);
    assert.equal(new Set(a.rowToColumn).size, n);
  }
  // Larger, continuous (tie-free) and negative costs, where most rows need a shortest path.
  for (let trial = 0; trial < 60; trial++) {
    const n = rng.int(6, 8);
    const m = rng.int(n, 9);
    const c = Array.from({ length: n }, () => Array.from({ length: m }, () => 10 * rng.next() - 6));
    const a = linearAssignment(Float64Array.from(c.flat()), n, m);
    assert.ok(Math.abs(a.cost - bruteAssignment(c, n, m)) < 1e-9, `continuous trial ${trial}`);
    assert.equal(new Set(a.rowToColumn).size, n);
  }
});

test('exact GED equals brute-force enumeration on 600 random pairs up to 5 nodes (typed and untyped), bounds bracket it', () => {
  const rng = new Rng(17);
  const costSets: EditCosts[] = [
    { sub: 1, ins: 1, del: 1, eins: 1, edel: 1 },
    { sub: 2, ins: 1, del: 1.5, eins: 0.5, edel: 2 },
    { sub: 3, ins: 1, del: 1, eins: 1, edel: 1 },
  ];
  for (let trial = 0; trial < 600; trial++) {
    const typed = trial % 2 === 0;
    const types = typed ? [0, 1, 4] : [0];
    const g1 = randomSmallGraph(rng, rng.int(0, 5), 3, types, rng.pick([0.2, 0.4, 0.7]));
    const g2 = randomSmallGraph(rng, rng.int(0, 5), 3, types, rng.pick([0.2, 0.4, 0.7]));
    const c = costSets[trial % costSets.length]!;
    const want = bruteForceGed(g1, g2, c);
    const r = exactGed(toGraph(g1), toGraph(g2), { costs: gedCosts(c), timeMs: 10_000 });
    const where = `trial ${trial}: ${JSON.stringify([g1, g2])}`;
    assert.ok(r.exact, where);
    assert.ok(Math.abs(r.ged - want) < 1e-9, `${where}: ${r.ged} ≠ ${want}`);
    assert.ok(Math.abs(editPathCost(g1, g2, phiOf(r.nodeMap), c) - r.ged) < 1e-9, `${where}: edit path does not cost ged`);
    const bp = bpGed(toGraph(g1), toGraph(g2), { costs: gedCosts(c) });
    assert.ok(bp.lowerBound <= want + 1e-9 && want <= bp.upperBound + 1e-9, `${where}: BP [${bp.lowerBound}, ${bp.upperBound}] misses ${want}`);
    assert.ok(Math.abs(editPathCost(g1, g2, phiOf(bp.nodeMap), c) - bp.upperBound) < 1e-9, where);
  }
});

test('the edit path lists exactly the operations of its cost under unit costs', () => {
  const r = exactGed(textToGraph('hello'), textToGraph('help'));
  assert.equal(r.editPath.length, r.ged);
  assert.ok(r.exact);
  // hello → help: substitute l→p, delete o, its clique edges and sequential edge, and so on; at most 1+1+edges.
  const ops = new Set(r.editPath.map((o) => o.op));
  assert.ok(ops.has('delete-node'));
});

test('identical graphs under renumbering have distance 0 at once; empty graphs cost pure insertion', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 50; trial++) {
    const g = randomSmallGraph(rng, 12, 4, [0, 1], 0.2);
    const perm = rng.shuffle(Array.from({ length: 12 }, (_, i) => i));
    const r = exactGed(toGraph(g), toGraph(g, (i) => `n${perm[i]}`));
    assert.equal(r.ged, 0);
    assert.ok(r.exact);
  }
  const empty: Graph = { nodes: [], edges: [] };
  assert.deepEqual([exactGed(empty, empty).ged, exactGed(empty, empty).exact], [0, true]);
  const abc = textToGraph('abc', 'chain');
  assert.equal(exactGed(empty, abc).ged, 3 + 2);
  assert.equal(exactGed(abc, empty).ged, 5);
  assert.equal(bpGed(abc, empty).ged, 5);
});

test('past its time budget exact GED returns a valid bracket, not a hang', () => {
  const rng = new Rng(8);
  const g1 = toGraph(randomSmallGraph(rng, 40, 6, [0, 1, 2], 0.15));
  const g2 = toGraph(randomSmallGraph(rng, 40, 6, [0, 1, 2], 0.15));
  const t0 = performance.now();
  const r = exactGed(g1, g2, { timeMs: 50 });
  assert.ok(performance.now() - t0 < 5000);
  assert.equal(r.exact, false);
  assert.ok(r.lowerBound <= r.upperBound && r.ged === r.upperBound && r.lowerBound > 0);
  assert.throws(() => exactGed(g1, g2, { costs: { nodeInsertion: -1 } }), /nodeInsertion/);
});
