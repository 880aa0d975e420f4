import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EDGE_TYPES } from '../src/graph/types.js';
import { wordsGraph } from '../src/graph/text.js';
import { resolveLossConfig, resolveTrainingLossConfig, type LossConfig } from '../src/loss/config.js';
import { crossEntropyLoss, hybridLoss } from '../src/loss/crossEntropy.js';
import { softGraphFromGraph, targetFromGraph, type SoftGraph, type TargetGraph } from '../src/loss/softGraph.js';
import { rankWeights, structuralLoss, structuralLossAtPlan } from '../src/loss/structural.js';
import { textToGraph } from '../src/graph/builders.js';
import { shuffleNodes } from '../src/data/records.js';
import { sinkhornAdjoint, sinkhornLog } from '../src/match/sinkhorn.js';
import { matmul, matmulNT, matmulTN } from '../src/loss/dense.js';
import { Rng } from '../src/util/rng.js';
import { exactGed } from '../src/metrics/ged.js';
import { Scratch } from '../src/util/scratch.js';
import {
  bruteForceGed, editPathCost, finiteDifference, maxRelErr, permuteSlots, randomPositions, randomSmallGraph, randomSoftGraph, randomTarget, type SmallGraph,
} from './fixtures.js';

function randomCost(rng: Rng, n: number, m: number, scale = 1): Float64Array {
  return Float64Array.from({ length: n * m }, () => scale * rng.next());
}

/** Positive marginals a (n) and b (m) of equal total. */
function randomMarginals(rng: Rng, n: number, m: number): { a: Float64Array; b: Float64Array } {
  const a = Float64Array.from({ length: n }, () => 0.5 + rng.next());
  const sa = a.reduce((x, y) => x + y, 0);
  const b = Float64Array.from({ length: m }, () => 0.5 + rng.next());
  const sb = b.reduce((x, y) => x + y, 0);
  b.forEach((v, j) => (b[j] = (v * sa) / sb));
  return { a, b };
}

test('dense products (blocked, transposed, symmetric) equal the textbook triple loop', () => {
  const rng = new Rng(2);
  const naive = (A: Float64Array, B: Float64Array, r: number, s: number, t: number): Float64Array => {
    const out = new Float64Array(r * t);
    for (let i = 0; i < r; i++) for (let j = 0; j < t; j++) for (let k = 0; k < s; k++) out[i * t + j] += A[i * s + k]! * B[k * t + j]!;
    return out;
  };
  const transposed = (A: Float64Array, r: number, s: number): Float64Array => {
    const out = new Float64Array(r * s);
    for (let i = 0; i < r; i++) for (let j = 0; j < s; j++) out[j * r + i] = A[i * s + j]!;
    return out;
  };
  let worst = 0;
  const check = (got: Float64Array, want: Float64Array): void => want.forEach((w, k) => { worst = Math.max(worst, Math.abs(got[k]! - w)); });
  // Every remainder of the 4-row and 8/4-inner blocking.
  for (let r = 1; r <= 11; r++) {
    for (const s of [1, 3, 4, 9, 13]) {
      for (const t of [1, 2, 5, 8, 11]) {
        const A = Float64Array.from({ length: r * s }, () => (rng.next() < 0.3 ? 0 : rng.normal()));
        const B = Float64Array.from({ length: s * t }, () => rng.normal());
        const want = naive(A, B, r, s, t);
        check(matmul(A, B, r, s, t), want);
        check(matmulTN(transposed(A, r, s), B, s, r, t), want);
        check(matmulNT(A, transposed(B, s, t), r, s, t), want);
      }
      const At = transposed(A4(r, s), r, s);
      const sym = naive(A4(r, s), At, r, s, r); // A·Aᵀ is symmetric
      check(matmul(A4(r, s), At, r, s, r, undefined, true), sym);
      check(matmulTN(At, At, s, r, r, undefined, true), sym);
      check(matmulNT(A4(r, s), A4(r, s), r, s, r, undefined, true), sym);
    }
  }
  assert.ok(worst < 1e-12, `largest difference ${worst}`);
  function A4(r: number, s: number): Float64Array {
    // The same pseudo-random matrix for each (r, s), so A and Aᵀ above match.
    return Float64Array.from({ length: r * s }, (_, k) => Math.sin(1 + k * 0.7 + r * 0.3 + s));
  }
});

test('sinkhorn: mat-vec kernel and log-sum-exp loop give the same plan (1e-12)', () => {
  const rng = new Rng(3);
  for (const [n, m] of [[1, 1], [3, 5], [9, 4], [17, 17]] as const) {
    const C = randomCost(rng, n, m, 3);
    const { a, b } = randomMarginals(rng, n, m);
    const opts = { tau: 0.1, maxIterations: 50, tolerance: 1e-300 };
    const fast = sinkhornLog(C, a, b, opts);
    const slow = sinkhornLog(C, a, b, { ...opts, forceLogSumExp: true });
    assert.equal(fast.kernel, 'matvec');
    assert.equal(slow.kernel, 'logsumexp');
    assert.ok(maxRelErr(fast.plan, slow.plan) < 1e-12, `${n}×${m}: ${maxRelErr(fast.plan, slow.plan)}`);
  }
});

test('sinkhorn: the sparse kernel (wide cost ranges) gives the log-sum-exp loop\'s plan (1e-12) and never NaN', () => {
  const rng = new Rng(31);
  for (const [n, m, tau] of [[2, 3, 0.01], [9, 4, 0.01], [17, 17, 0.005], [33, 29, 0.01], [41, 41, 0.002]] as const) {
    // Costs over [0, 10]: a range of 1000–5000 τ, past the mat-vec kernels' 350.
    const C = randomCost(rng, n, m, 10);
    const { a, b } = randomMarginals(rng, n, m);
    for (const maxIterations of [1, 7, 60]) {
      const opts = { tau, maxIterations, tolerance: 1e-300 };
      const sparse = sinkhornLog(C, a, b, opts);
      const lse = sinkhornLog(C, a, b, { ...opts, forceLogSumExp: true });
      assert.equal(sparse.kernel, 'sparse');
      assert.equal(lse.kernel, 'logsumexp');
      assert.equal(sparse.iterations, lse.iterations);
      let worst = 0;
      sparse.plan.forEach((x, k) => (worst = Math.max(worst, Math.abs(x - lse.plan[k]!))));
      assert.ok(worst < 1e-12, `${n}×${m} τ ${tau}, ${maxIterations} its: plans differ by ${worst}`);
      assert.ok(Math.abs(sparse.marginalError - lse.marginalError) < 1e-12 * (1 + lse.marginalError), `${n}×${m}: marginal errors ${sparse.marginalError} vs ${lse.marginalError}`);
      assert.ok(sparse.plan.every(Number.isFinite) && sparse.f.every(Number.isFinite) && sparse.g.every(Number.isFinite));
    }
  }
});

test('sinkhorn: converges, reports iterations and marginal error, stops early', () => {
  const rng = new Rng(4);
  const C = randomCost(rng, 6, 6);
  const ones = new Float64Array(6).fill(1);
  const r = sinkhornLog(C, ones, ones, { tau: 0.5, maxIterations: 500, tolerance: 1e-9 });
  assert.ok(r.converged && r.marginalError < 1e-9 && r.iterations < 500);
  let rowErr = 0;
  for (let i = 0; i < 6; i++) rowErr += Math.abs(r.plan.subarray(i * 6, i * 6 + 6).reduce((x, y) => x + y, 0) - 1);
  assert.ok(Math.abs(rowErr - r.marginalError) < 1e-12, 'reported error is ‖P·1 − a‖₁ of the returned plan');
  const capped = sinkhornLog(C, ones, ones, { tau: 0.01, maxIterations: 2, tolerance: 1e-12 });
  assert.equal(capped.iterations, 2);
  assert.equal(capped.converged, capped.marginalError < 1e-12);
});

test('sinkhorn: giveUpWhenSlow cuts only runs whose rate cannot reach the tolerance within the cap', () => {
  const rng = new Rng(12);
  // A well-conditioned problem converges long before the cap: the rule must not touch it.
  const C = randomCost(rng, 6, 6);
  const ones = new Float64Array(6).fill(1);
  const opts = { tau: 0.5, maxIterations: 500, tolerance: 1e-9 };
  const plain = sinkhornLog(C, ones, ones, opts);
  const guarded = sinkhornLog(C, ones, ones, { ...opts, giveUpWhenSlow: true });
  assert.ok(plain.converged && guarded.converged);
  assert.equal(guarded.iterations, plain.iterations);
  assert.deepEqual([...guarded.plan], [...plain.plan]);
  // One dummy per side at a small temperature, as in the loss: far from converged after 20.
  const K = 12;
  const m = 12;
  const D = randomCost(rng, K + 1, m + 1, 6);
  D[K * (m + 1) + m] = 0;
  const a = new Float64Array(K + 1).fill(1);
  a[K] = m;
  const b = new Float64Array(m + 1).fill(1);
  b[m] = K;
  const hard = { tau: 0.01, maxIterations: 20, tolerance: 1e-9 };
  const full = sinkhornLog(D, a, b, hard);
  const cut = sinkhornLog(D, a, b, { ...hard, giveUpWhenSlow: true });
  assert.ok(!full.converged && full.iterations === 20, `the full run: ${full.iterations} its, error ${full.marginalError}`);
  assert.equal(cut.iterations, 5);
  assert.ok(cut.plan.every(Number.isFinite));
});

test('sinkhorn adjoint equals finite differences of the unrolled iterations (both kernels)', () => {
  const rng = new Rng(5);
  for (const forceLogSumExp of [false, true]) {
    for (const [n, m] of [[2, 3], [5, 5], [7, 4]] as const) {
      const C = randomCost(rng, n, m, 2);
      const a = new Float64Array(n).fill(m);
      const b = new Float64Array(m).fill(n);
      const W = randomCost(rng, n, m);
      const opts = { tau: 0.3, maxIterations: 7, tolerance: 1e-300, forceLogSumExp };
      const value = (): number => {
        const P = sinkhornLog(C, a, b, opts).plan;
        return P.reduce((s, p, k) => s + p * W[k]! + 0.5 * p * p, 0);
      };
      const r = sinkhornLog(C, a, b, { ...opts, keepHistory: true });
      const gP = r.plan.map((p, k) => W[k]! + p);
      const g = sinkhornAdjoint(r, gP);
      const fd = finiteDifference(C, value);
      assert.ok(maxRelErr(g, fd) < 1e-6, `${n}×${m} lse=${forceLogSumExp}: ${maxRelErr(g, fd)}`);
    }
  }
});

test('sinkhorn: no NaN or Inf for tiny τ, huge cost ranges, and empty sides', () => {
  const rng = new Rng(6);
  for (const tau of [1e-6, 1e-3, 1, 1e6]) {
    for (const scale of [1e-9, 1, 1e8]) {
      const C = Float64Array.from({ length: 20 }, () => scale * 10 ** (4 * rng.next() - 2));
      for (const epsilonScaling of [false, true]) {
        const r = sinkhornLog(C, new Float64Array(4).fill(5), new Float64Array(5).fill(4), { tau, maxIterations: 20, tolerance: 1e-9, epsilonScaling });
        assert.ok(r.plan.every(Number.isFinite) && Number.isFinite(r.marginalError), `τ=${tau} scale=${scale} ε-scaling=${epsilonScaling}`);
      }
      const g = sinkhornAdjoint(sinkhornLog(C, new Float64Array(4).fill(5), new Float64Array(5).fill(4), { tau, maxIterations: 5, tolerance: 0, keepHistory: true }), C);
      assert.ok(g.every(Number.isFinite), `adjoint τ=${tau} scale=${scale}`);
    }
  }
  const empty = sinkhornLog(new Float64Array(0), new Float64Array(0), new Float64Array(3), { tau: 0.1, maxIterations: 5, tolerance: 1e-6 });
  assert.equal(empty.plan.length, 0);
});

const LABEL_ONLY = { context_weight: 0, structure_iterations: 1, sinkhorn_tolerance: 1e-300 };

function lossGradCheck(p: SoftGraph, t: TargetGraph, cfg: LossConfig, value: () => number, grads: ReturnType<typeof structuralLoss>['gradients'], what: string, h = 1e-4): void {
  const checks: Array<[string, Float64Array, Float64Array]> = [['exist', p.exist, grads.exist], ['labels', p.labels, grads.labels]];
  for (const r of EDGE_TYPES) if (p.edges[r]) checks.push([r, p.edges[r]!, grads.edges[r]!]);
  // Relative to the largest gradient entry over all inputs: entries far below it are dominated by
  // float64 rounding in any finite difference, and would make a per-entry ratio meaningless.
  const fds = checks.map(([, x]) => finiteDifference(x, value, h));
  let scale = 0;
  for (const [, , g] of checks) for (const v of g) scale = Math.max(scale, Math.abs(v));
  checks.forEach(([name, , g], c) => {
    let diff = 0;
    g.forEach((v, k) => (diff = Math.max(diff, Math.abs(v - fds[c]![k]!))));
    const err = scale === 0 ? diff : diff / scale;
    assert.ok(err <= 1e-6, `${what}: ∂/∂${name} relative error ${err.toExponential(2)} (K=${p.K}, m=${t.m}, ${cfg.gradient})`);
  });
}

/** Random gradient-check cases: K = 1…12 slots against 1–12 target nodes, some labels unknown. */
function gradientCases(seed: number, L: number): Array<{ p: SoftGraph; t: TargetGraph; trial: number }> {
  const rng = new Rng(seed);
  return Array.from({ length: 12 }, (_, trial) => {
    const p = randomSoftGraph(rng, 1 + trial, L);
    const t = randomTarget(rng, 1 + rng.int(0, 11), L, ['sequential', 'clique'], 0.3, 0.1);
    return { p, t, trial };
  });
}

/** t with its clique edges made undirected (B ∨ Bᵀ), as undirected graph data's edges are. */
function undirectedCliques(t: TargetGraph): TargetGraph {
  const B = Float64Array.from(t.edges.clique!);
  for (let j = 0; j < t.m; j++) for (let l = 0; l < t.m; l++) if (B[j * t.m + l]) B[l * t.m + j] = 1;
  return { ...t, edges: { ...t.edges, clique: B } };
}

test('unrolled gradient, label-only assignment: equals finite differences (1e-6) for every input, directed and undirected target edges', () => {
  // Undirected targets take the structure gradient's one-product path (A' + A'ᵀ)·S·B; the unrolled
  // gradient carries that gradient back through the final Sinkhorn, so an error there shows here.
  for (const { p, t: directed, trial } of gradientCases(11, 4)) {
    for (const t of [directed, undirectedCliques(directed)]) {
      const cfg = resolveLossConfig({ ...LABEL_ONLY, gradient: 'unrolled', sinkhorn_temperature: 0.5, sinkhorn_iterations: 10 });
      const r = structuralLoss(p, t, cfg);
      lossGradCheck(p, t, cfg, () => structuralLoss(p, t, cfg).total, r.gradients, `trial ${trial}`);
    }
  }
});

test('edge term at a plan: ⟨A\', S·B·Sᵀ⟩ summed directly, for a directed and an undirected type side by side', () => {
  // The value the gradient checks cannot see: they differentiate whatever the term computes.
  for (const { p, t: directed, trial } of gradientCases(13, 4)) {
    const t = undirectedCliques(directed);
    const cfg = resolveLossConfig({ cost_form: 'expected', gamma: 0 });
    const P = structuralLoss(p, t, cfg).assignment!;
    const { K } = p;
    const { m } = t;
    let expected = 0;
    for (const r of ['sequential', 'clique'] as const) {
      const A = p.edges[r]!;
      const B = t.edges[r]!;
      for (let i = 0; i < K; i++) {
        for (let k = 0; k < K; k++) {
          if (i === k) continue;
          const a = p.exist[i]! * p.exist[k]! * A[i * K + k]!;
          let T = 0;
          for (let j = 0; j < m; j++) for (let l = 0; l < m; l++) if (j !== l) T += P[i * (m + 1) + j]! * B[j * m + l]! * P[k * (m + 1) + l]!;
          expected += a - 2 * a * T;
        }
      }
      for (let j = 0; j < m; j++) for (let l = 0; l < m; l++) if (j !== l) expected += B[j * m + l]!;
    }
    const edge = structuralLossAtPlan(p, t, cfg, P).edge!;
    assert.ok(Math.abs(edge - Math.max(0, expected)) < 1e-9 * Math.max(1, expected), `trial ${trial}: edge ${edge}, summed directly ${expected}`);
  }
});

test('envelope gradient at the defaults: equals finite differences with the plan frozen (1e-6), directed and undirected target edges', () => {
  for (const { p, t: directed, trial } of gradientCases(12, 5)) {
    for (const t of [directed, undirectedCliques(directed)]) {
      const cfg = resolveLossConfig({});
      const r = structuralLoss(p, t, cfg);
      const P = r.assignment!;
      assert.ok(Math.abs(structuralLossAtPlan(p, t, cfg, P).total - r.total) < 1e-12);
      lossGradCheck(p, t, cfg, () => structuralLossAtPlan(p, t, cfg, P).total, r.gradients, `trial ${trial}`);
    }
  }
});

function asInputs(g1: SmallGraph, g2: SmallGraph, L: number): { p: SoftGraph; t: TargetGraph } {
  const K = g1.labels.length;
  const m = g2.labels.length;
  const labels = new Float64Array(K * L);
  g1.labels.forEach((l, i) => (labels[i * L + l] = 1));
  const edges: SoftGraph['edges'] = {};
  const tedges: TargetGraph['edges'] = {};
  for (const r of [0, 1]) {
    edges[EDGE_TYPES[r]!] = new Float64Array(K * K);
    tedges[EDGE_TYPES[r]!] = new Float64Array(m * m);
  }
  for (const [s, d, r] of g1.edges) edges[EDGE_TYPES[r]!]![s * K + d] = 1;
  for (const [s, d, r] of g2.edges) tedges[EDGE_TYPES[r]!]![s * m + d] = 1;
  return { p: { K, L, exist: new Float64Array(K).fill(1), labels, edges }, t: { m, labels: Int32Array.from(g2.labels), edges: tedges } };
}

test('hard limit: crisp inputs with a permutation plan cost exactly the induced edit path', () => {
  const rng = new Rng(21);
  const cfg = resolveLossConfig({ alpha: 1, beta: 1, gamma: 0 });
  for (let trial = 0; trial < 200; trial++) {
    const g1 = randomSmallGraph(rng, rng.int(0, 5), 3, [0, 1], 0.35);
    const g2 = randomSmallGraph(rng, rng.int(0, 5), 3, [0, 1], 0.35);
    const { p, t } = asInputs(g1, g2, 3);
    const K = p.K;
    const m = t.m;
    // A random injective partial map.
    const free = rng.shuffle([...Array(m).keys()]);
    const phi = g1.labels.map(() => (rng.next() < 0.7 && free.length > 0 ? free.pop()! : -1));
    const P = new Float64Array((K + 1) * (m + 1));
    const matched = new Set(phi.filter((j) => j >= 0));
    phi.forEach((j, i) => (P[i * (m + 1) + (j >= 0 ? j : m)] = 1));
    for (let j = 0; j < m; j++) if (!matched.has(j)) P[K * (m + 1) + j] = 1;
    P[K * (m + 1) + m] = K - phi.filter((j) => j < 0).length;
    const loss = structuralLossAtPlan(p, t, cfg, P);
    assert.ok(Math.abs(loss.total - editPathCost(g1, g2, phi)) < 1e-12, `trial ${trial}: ${loss.total} vs ${editPathCost(g1, g2, phi)}`);
  }
});

test('hard limit: with α = β = 1, γ = 0 the loss of a crisp prediction is ≥ the exact GED, converged or not', () => {
  // The terms are taken at a feasible plan (rounded onto the polytope), so no pair is excused for
  // a Sinkhorn run that stopped at its cap: every pair is judged, at a sharp and at the loss
  // command's τ.
  const rng = new Rng(22);
  let judged = 0;
  let optimal = 0;
  for (let trial = 0; trial < 150; trial++) {
    const g1 = randomSmallGraph(rng, rng.int(1, 5), 3, [0, 1], 0.3);
    const g2 = randomSmallGraph(rng, rng.int(1, 5), 3, [0, 1], 0.3);
    const { p, t } = asInputs(g1, g2, 3);
    const ged = bruteForceGed(g1, g2);
    for (const tau of [0.05, 0.1]) {
      const r = structuralLoss(p, t, resolveLossConfig({ alpha: 1, beta: 1, gamma: 0, sinkhorn_temperature: tau, sinkhorn_iterations: 200 }));
      judged++;
      assert.ok(r.total >= ged - 1e-9, `trial ${trial}, τ ${tau}: loss ${r.total} < GED ${ged} (${r.sinkhorn!.converged ? 'converged' : 'not converged'})`);
      if (r.total < ged + 1e-3) optimal++;
    }
  }
  // The assignment is a heuristic (three linearised refinements), not a GED solver: measured 54
  // of 300 at the optimum; the floor catches a regression of the refinement.
  assert.ok(optimal >= 0.15 * judged, `loss matched the exact GED on only ${optimal}/${judged} pairs`);
});

test('repeated letters: misspellings of "mississippi" never give a negative term, nor a loss below the exact GED', () => {
  const word = 'mississippi';
  const variants = new Set<string>(['misisipi', 'missisippi', 'mispissipi']);
  for (let i = 0; i < word.length; i++) {
    variants.add(word.slice(0, i) + word.slice(i + 1));
    variants.add(word.slice(0, i) + 's' + word.slice(i));
    variants.add(word.slice(0, i) + (word[i] === 'i' ? 's' : 'i') + word.slice(i + 1));
  }
  variants.delete(word);
  const target = textToGraph(word);
  // The loss command's defaults, the training settings, and both cost forms of each.
  const settings = [{}, { node_insertion_cost: 2, sinkhorn_temperature: 0.01, sinkhorn_iterations: 50, gamma: 0.5 }];
  for (const v of variants) {
    const pred = textToGraph(v);
    const alphabet = [...new Set(v + word)];
    const p = softGraphFromGraph(pred, alphabet);
    const t = targetFromGraph(target, alphabet);
    for (const s of settings) {
      for (const cost_form of ['expected', 'likelihood'] as const) {
        for (const assignment of ['soft', 'hard'] as const) {
          const r = structuralLoss(p, t, resolveLossConfig({ ...s, cost_form, assignment }));
          assert.ok(r.node! >= 0 && r.edge! >= 0 && r.clique! >= 0 && Number.isFinite(r.total), `${v} ${JSON.stringify(s)} ${cost_form}/${assignment}: terms ${r.node} ${r.edge} ${r.clique}`);
        }
      }
      const unit = structuralLoss(p, t, resolveLossConfig({ ...s, node_insertion_cost: 1, alpha: 1, beta: 1, gamma: 0 }));
      const ged = exactGed(pred, target, { timeMs: 5000 });
      assert.ok(ged.exact);
      assert.ok(unit.total >= ged.ged - 1e-9, `${v} ${JSON.stringify(s)}: loss ${unit.total} < GED ${ged.ged}`);
    }
  }
  // The value settles as Sinkhorn runs longer: 20, 200 and 2000 iterations agree to 1 %.
  const alphabet = [...new Set('misisipi' + word)];
  const p = softGraphFromGraph(textToGraph('misisipi'), alphabet);
  const t = targetFromGraph(target, alphabet);
  const totals = [20, 200, 2000].map((n) => structuralLoss(p, t, resolveLossConfig({ sinkhorn_iterations: n })).total);
  assert.ok(Math.max(...totals) - Math.min(...totals) <= 0.01 * Math.min(...totals), `totals ${totals.join(', ')}`);
});

test('a perfect prediction scores ≤ 0.01 per target node at the defaults', () => {
  const cfg = resolveLossConfig({});
  for (const text of ['hello', 'mississippi', '1000000', 'abababab', '(+ 16 9)', 'The quick brown fox jumps over the lazy dog']) {
    const g = wordsGraph(text);
    const alphabet = [...new Set(g.nodes.map((n) => n.label))];
    const r = structuralLoss(softGraphFromGraph(g, alphabet), targetFromGraph(g, alphabet), cfg);
    assert.ok(r.total / g.nodes.length <= 0.01, `${JSON.stringify(text)}: ${r.total / g.nodes.length} per node`);
    assert.ok(r.sinkhorn!.converged, `${text}: Sinkhorn converged`);
  }
  const long = wordsGraph('The quick brown fox jumps over the lazy.');
  assert.equal(long.nodes.length, 40);
});

test('the loss is invariant under any permutation of the slots (1e-9)', () => {
  const rng = new Rng(31);
  for (let trial = 0; trial < 30; trial++) {
    const K = rng.int(1, 9);
    const p = randomSoftGraph(rng, K, 4);
    const t = randomTarget(rng, rng.int(1, 9), 4);
    const cfg = resolveLossConfig({});
    const base = structuralLoss(p, t, cfg);
    const perm = rng.shuffle([...Array(K).keys()]);
    const moved = structuralLoss(permuteSlots(p, perm), t, cfg);
    assert.ok(Math.abs(base.total - moved.total) <= 1e-9 * Math.max(1, base.total), `trial ${trial}: ${base.total} vs ${moved.total}`);
    for (let i = 0; i < K; i++) assert.ok(Math.abs(base.gradients.exist[i]! - moved.gradients.exist[perm[i]!]!) < 1e-7);
  }
});

test('results never share memory with later evaluations (scratch temporaries stay inside a call)', () => {
  const rng = new Rng(41);
  const snapshot = (r: ReturnType<typeof structuralLoss>): number[] => [
    r.total, ...r.assignment!, ...r.gradients.exist, ...r.gradients.labels, ...Object.values(r.gradients.edges).flatMap((g) => [...g!]),
  ];
  const kept: Array<{ r: ReturnType<typeof structuralLoss>; before: number[] }> = [];
  for (const gradient of ['envelope', 'unrolled'] as const) {
    const r = structuralLoss(randomSoftGraph(rng, 6, 5), randomTarget(rng, 5, 5, ['sequential', 'clique'], 0.4, 0), resolveLossConfig({ gradient }));
    kept.push({ r, before: snapshot(r) });
  }
  const plain = sinkhornLog(randomCost(rng, 5, 4), new Float64Array(5).fill(4), new Float64Array(4).fill(5), { tau: 0.1, maxIterations: 20, tolerance: 1e-9, epsilonScaling: true });
  const planBefore = [...plain.plan, ...plain.f, ...plain.g];
  // Larger problems afterwards grow and reuse the scratch buffer.
  for (const K of [3, 20, 40]) structuralLoss(randomSoftGraph(rng, K, 5), randomTarget(rng, K, 5, ['sequential', 'clique'], 0.4, 0), resolveLossConfig({}));
  for (const { r, before } of kept) assert.deepEqual(snapshot(r), before);
  assert.deepEqual([...plain.plan, ...plain.f, ...plain.g], planBefore);
});

test('scratch: views are zeroed, scopes release in stack order, also when they throw', () => {
  const arena = new Scratch(8);
  const outer = arena.take(5);
  outer.fill(7);
  assert.throws(() => arena.scope(() => {
    arena.take(100).fill(3); // grows past the initial 8 doubles
    throw new Error('inside');
  }), /inside/);
  assert.equal(arena.mark(), 5, 'the throwing scope released what it took');
  const next = arena.take(4);
  assert.deepEqual([...next], [0, 0, 0, 0]);
  assert.deepEqual([...outer], [7, 7, 7, 7, 7], 'an outer view survives the growth and the inner scope');
});

test('K = 0 and m = 0 give the pure insertion and deletion costs', () => {
  const rng = new Rng(41);
  const cfg = resolveLossConfig({ node_insertion_cost: 1.5, node_deletion_cost: 0.7, edge_insertion_cost: 2, edge_deletion_cost: 0.3 });
  const t = randomTarget(rng, 5, 3);
  const nEdges = (t.edges.sequential!.reduce((a, b) => a + b, 0) + t.edges.clique!.reduce((a, b) => a + b, 0));
  const empty: SoftGraph = { K: 0, L: 3, exist: new Float64Array(0), labels: new Float64Array(0), edges: {} };
  const ins = structuralLoss(empty, t, cfg);
  assert.ok(Math.abs(ins.node! - 5 * 1.5) < 1e-12);
  assert.ok(Math.abs(ins.edge! - nEdges * 2) < 1e-12);
  const p = randomSoftGraph(rng, 4, 3);
  const del = structuralLoss(p, { m: 0, labels: new Int32Array(0), edges: {} }, cfg);
  const sumE = p.exist.reduce((a, b) => a + b, 0);
  let sumA = 0;
  for (const r of ['sequential', 'clique'] as const) for (let i = 0; i < 4; i++) for (let k = 0; k < 4; k++) sumA += p.exist[i]! * p.exist[k]! * p.edges[r]![i * 4 + k]!;
  assert.ok(Math.abs(del.node! - 0.7 * sumE) < 1e-12);
  assert.ok(Math.abs(del.edge! - 0.3 * sumA) < 1e-12);
  assert.equal(del.clique, 0);
});

test('fuzz: thousands of random cases, no NaN or Inf, every term ≥ 0', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      fc.constantFrom(1e-4, 0.01, 0.1, 1, 100), fc.constantFrom<'envelope' | 'unrolled'>('envelope', 'unrolled'),
      (K, m, seed, tau, gradient) => {
        const rng = new Rng(seed);
        const p = randomSoftGraph(rng, K, 3);
        if (rng.next() < 0.3) for (let i = 0; i < K; i++) p.exist[i] = rng.next() < 0.5 ? 0 : 1; // crisp extremes
        const t = randomTarget(rng, m, 3, ['sequential', 'clique'], 0.4, 0.2);
        const cost_form = rng.next() < 0.5 ? 'likelihood' : 'expected';
        const assignment = rng.next() < 0.5 ? 'hard' : 'soft';
        const r = structuralLoss(p, t, resolveLossConfig({ sinkhorn_temperature: tau, gradient, cost_form, assignment }));
        const all = [r.total, r.node!, r.edge!, r.clique!, ...r.gradients.exist, ...r.gradients.labels, ...Object.values(r.gradients.edges).flatMap((x) => [...x!])];
        assert.ok(all.every(Number.isFinite), 'finite');
        // At a feasible plan every term is ≥ 0 exactly, whether Sinkhorn converged or not.
        assert.ok(r.node! >= 0 && r.edge! >= 0 && r.clique! >= 0, `terms ${r.node} ${r.edge} ${r.clique} (${cost_form}, ${assignment})`);
      },
    ),
    { numRuns: 2000 },
  );
});

test('cross-entropy: position-aligned value and gradients; hybrid mixes by λ', () => {
  const p: SoftGraph = { K: 3, L: 2, exist: Float64Array.from([0.9, 0.8, 0.1]), labels: Float64Array.from([0.7, 0.3, 0.4, 0.6, 0.5, 0.5]), edges: { sequential: Float64Array.from([0, 0.6, 0.2, 0.1, 0, 0.3, 0.05, 0.02, 0]) } };
  const t: TargetGraph = { m: 2, labels: Int32Array.from([0, 1]), edges: { sequential: Float64Array.from([0, 1, 0, 0]) } };
  const r = crossEntropyLoss(p, t);
  const expected = -Math.log(0.7) - Math.log(0.6) - Math.log(0.9) - Math.log(0.8) - Math.log(0.9)
    - Math.log(0.6) - Math.log(0.8) - Math.log(0.9) - Math.log(0.7) - Math.log(0.95) - Math.log(0.98);
  assert.ok(Math.abs(r.total - expected) < 1e-9, `${r.total} vs ${expected}`);
  lossGradCheck(p, t, resolveLossConfig({}), () => crossEntropyLoss(p, t).total, r.gradients, 'cross-entropy');
  const cfg = resolveLossConfig({ hybrid_lambda: 0.25 });
  const h = hybridLoss(p, t, cfg);
  const s = structuralLoss(p, t, cfg);
  assert.ok(Math.abs(h.total - (0.25 * s.total + 0.75 * r.total)) < 1e-12);
  assert.ok(Math.abs(h.gradients.exist[1]! - (0.25 * s.gradients.exist[1]! + 0.75 * r.gradients.exist[1]!)) < 1e-12);
  assert.equal(h.ce, r.ce);
});

test('loss config: defaults of the design, errors that name the key', () => {
  const d = resolveLossConfig({});
  assert.deepEqual([d.alpha, d.beta, d.gamma, d.sinkhorn_iterations, d.sinkhorn_temperature, d.sinkhorn_tolerance, d.structure_iterations, d.context_hops, d.context_weight, d.gradient, d.hybrid_lambda, d.loss_mode],
    [1, 0.5, 2, 20, 0.1, 1e-6, 3, 3, 0.5, 'envelope', 0.5, 'structural']);
  assert.throws(() => resolveLossConfig({ sinkhorn_temperature: 0 }), /key "sinkhorn_temperature"/);
  assert.throws(() => resolveLossConfig({ alpha: -1 }), /key "alpha"/);
  assert.throws(() => resolveLossConfig({ hybrid_lambda: 1.5 }), /key "hybrid_lambda"/);
  assert.throws(() => resolveLossConfig({ sinkhorn_iterations: 0 }), /key "sinkhorn_iterations"/);
  assert.throws(() => resolveLossConfig({ alpah: 1 }), /unknown key "alpah"/);
});

test('likelihood form: gradients equal finite differences at a frozen plan; order-free; a perfect prediction scores ~0; never below the expected form', () => {
  const cfg = resolveLossConfig({ cost_form: 'likelihood' });
  const unit = resolveLossConfig({ cost_form: 'likelihood', gamma: 0 });
  for (const { p, t, trial } of gradientCases(31, 5)) {
    const r = structuralLoss(p, t, cfg);
    const P = r.assignment!;
    assert.ok(Number.isFinite(r.total) && r.node! >= 0 && r.edge! >= 0 && r.clique! >= 0, `trial ${trial}: ${r.node} ${r.edge} ${r.clique}`);
    assert.ok(Math.abs(structuralLossAtPlan(p, t, cfg, P).total - r.total) < 1e-9 * Math.max(1, r.total));
    // −log of probabilities near 0 curves sharply: the five-point stencil still holds at h = 1e-6.
    lossGradCheck(p, t, cfg, () => structuralLossAtPlan(p, t, cfg, P).total, r.gradients, `likelihood trial ${trial}`, 1e-6);
    // With unit edit costs every operation's −log p ≥ 1 − p: the likelihood form bounds the expected one.
    const e = structuralLossAtPlan(p, t, { ...unit, cost_form: 'expected' }, P);
    const l = structuralLossAtPlan(p, t, unit, P);
    assert.ok(l.node! >= e.node! - 1e-9 && l.edge! >= e.edge! - 1e-9, `trial ${trial}: likelihood ${l.node}/${l.edge} < expected ${e.node}/${e.edge}`);
  }
  // Order-free: permuting the slots, or the target's nodes, leaves the value unchanged.
  const rng = new Rng(4);
  const p = randomSoftGraph(rng, 7, 5);
  const t = randomTarget(rng, 5, 5);
  const base = structuralLoss(p, t, cfg).total;
  const perm = rng.shuffle([0, 1, 2, 3, 4, 5, 6]);
  assert.ok(Math.abs(structuralLoss(permuteSlots(p, perm), t, cfg).total - base) < 1e-9 * Math.max(1, base));
  for (const text of ['hello', 'mississippi', '1000000', 'abababab', '(+ 16 9)']) {
    const alphabet = [...new Set(text)];
    const target = targetFromGraph(textToGraph(text), alphabet);
    const perfect = structuralLoss(softGraphFromGraph(textToGraph(text), alphabet), target, cfg).total;
    assert.ok(perfect <= 0.01 * target.m, `perfect ${JSON.stringify(text)}: ${perfect}`);
    const shuffled = targetFromGraph(shuffleNodes(textToGraph(text), new Rng(9)), alphabet);
    assert.ok(Math.abs(structuralLoss(softGraphFromGraph(textToGraph(text), alphabet), shuffled, cfg).total - perfect) < 1e-6);
  }
});

/**
 * Four slots seeded from the letters of `seeds`, each sure of its label (0.9) and preferring its
 * own index as its rank (0.9), as the rank prior starts them; sequential edges undecided (0.5).
 */
function seededSlots(seeds: string, alphabet: string[]): SoftGraph {
  const K = seeds.length;
  const L = alphabet.length;
  const labels = new Float64Array(K * L).fill(0.1 / (L - 1));
  const positions = new Float64Array(K * K).fill(0.1 / (K - 1));
  [...seeds].forEach((c, i) => {
    labels[i * L + alphabet.indexOf(c)] = 0.9;
    positions[i * K + i] = 0.9;
  });
  const sequential = new Float64Array(K * K).map((_, k) => (k % (K + 1) === 0 ? 0 : 0.5));
  return { K, L, exist: new Float64Array(K).fill(0.9), labels, edges: { sequential }, positions };
}

test('position weights: a node whose label is its own goes to the slot with that label, not the slot with its rank; equal labels go by rank', () => {
  assert.deepEqual([...rankWeights(Int32Array.from([0, 1, 0, 2]), Int32Array.from([0, 1, 2, -1]), { position_weight: 1, position_weight_unique: 0.1 })], [1, 0.1, 1, 0]);
  // "knit" → "nIt": the k is silent. The slots seeded from n, i, t carry the three labels; slot k
  // prefers rank k. Labels decide at the training defaults (the k slot is deleted in place);
  // with ranks priced as heavily as labels, the k slot takes the n by its rank.
  const alphabet = ['k', 'n', 'i', 't', 'I'];
  const target = targetFromGraph(textToGraph('nIt', 'chain'), alphabet);
  const p = seededSlots('knIt', alphabet);
  assert.deepEqual([...structuralLoss(p, target, resolveTrainingLossConfig({})).matching!.slotToNode], [-1, 0, 1, 2]);
  assert.equal(structuralLoss(p, target, resolveTrainingLossConfig({ position_weight_unique: 1 })).matching!.slotToNode[0], 0);
  // Equal labels cannot tell the nodes apart: the slots' ranks do, at the training defaults too.
  const same = targetFromGraph(textToGraph('nnn', 'chain'), alphabet);
  assert.deepEqual([...structuralLoss(seededSlots('nnnn', alphabet), same, resolveTrainingLossConfig({})).matching!.slotToNode], [0, 1, 2, -1]);
});

test('positions: gradients equal finite differences in both forms; a perfect prediction with its ranks scores ~0; still order-free', () => {
  const rng = new Rng(41);
  for (let trial = 0; trial < 10; trial++) {
    const text = Array.from({ length: 2 + rng.int(0, 6) }, () => 'abc'[rng.int(0, 2)]).join('');
    const t = targetFromGraph(textToGraph(text), ['a', 'b', 'c']);
    assert.ok(t.ranks);
    const p = randomSoftGraph(rng, text.length + rng.int(0, 2), 3);
    p.positions = randomPositions(rng, p.K);
    for (const cost_form of ['likelihood', 'expected'] as const) {
      // Texts over 'abc' mix repeated and unique labels: both weights are in the check.
      const cfg = resolveLossConfig({ cost_form, position_weight: 0.7, position_weight_unique: 0.2 });
      const r = structuralLoss(p, t, cfg);
      const P = r.assignment!;
      lossGradCheck(p, t, cfg, () => structuralLossAtPlan(p, t, cfg, P).total, r.gradients, `positions ${cost_form} trial ${trial}`, 1e-6);
      const fd = finiteDifference(p.positions, () => structuralLossAtPlan(p, t, cfg, P).total, 1e-6);
      assert.ok(maxRelErr(r.gradients.positions!, fd) < 1e-6, `∂/∂positions ${cost_form} trial ${trial}: ${maxRelErr(r.gradients.positions!, fd)}`);
      const perm = rng.shuffle(Array.from({ length: p.K }, (_, i) => i));
      assert.ok(Math.abs(structuralLoss(permuteSlots(p, perm), t, cfg).total - r.total) < 1e-9 * Math.max(1, r.total));
      // Unrolled, label-only: the derivative through the matching's relative position price too.
      const un = resolveLossConfig({ ...LABEL_ONLY, cost_form, gradient: 'unrolled', position_weight: 0.7, position_weight_unique: 0.2 });
      const ru = structuralLoss(p, t, un);
      const fdu = finiteDifference(p.positions, () => structuralLoss(p, t, un).total, 1e-6);
      assert.ok(maxRelErr(ru.gradients.positions!, fdu) < 1e-5, `unrolled ∂/∂positions ${cost_form} trial ${trial}: ${maxRelErr(ru.gradients.positions!, fdu)}`);
    }
  }
  for (const text of ['hello', 'mississippi', 'abababab']) {
    const alphabet = [...new Set(text)];
    const t = targetFromGraph(textToGraph(text), alphabet);
    const p = softGraphFromGraph(textToGraph(text), alphabet);
    p.positions = new Float64Array(p.K * p.K);
    t.ranks!.forEach((r, j) => (p.positions![j * p.K + r] = 1));
    const perfect = structuralLoss(p, t, resolveLossConfig({ cost_form: 'likelihood', assignment: 'hard' })).total;
    assert.ok(perfect <= 0.01 * t.m, `perfect ${text} with positions: ${perfect}`);
    // Wrong positions cost more than right ones.
    const wrong = { ...p, positions: p.positions.map((_, k) => (k % p.K === (Math.floor(k / p.K) + 1) % p.K ? 1 : 0)) };
    assert.ok(structuralLoss(wrong, t, resolveLossConfig({ cost_form: 'likelihood', assignment: 'hard' })).total > perfect + 1);
  }
});
