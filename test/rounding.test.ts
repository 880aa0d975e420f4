import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linearAssignment } from '../src/match/assignment.js';
import { nearestPermutationPlan, roundToPolytope, roundToPolytopeAdjoint } from '../src/match/rounding.js';
import { Rng } from '../src/util/rng.js';
import { finiteDifference, maxRelErr } from './fixtures.js';

/** A random problem of 1–`max` slots K against 1–`max` nodes m: its BP marginals (1,…,1, m) and (1,…,1, K), and the plan's shape n1 × m1. */
function randomProblem(rng: Rng, max: number): { K: number; m: number; a: Float64Array; b: Float64Array; n1: number; m1: number } {
  const K = rng.int(1, max);
  const m = rng.int(1, max);
  const a = new Float64Array(K + 1).fill(1);
  a[K] = m;
  const b = new Float64Array(m + 1).fill(1);
  b[m] = K;
  return { K, m, a, b, n1: K + 1, m1: m + 1 };
}

test('rounding: any non-negative plan lands on the polytope, a feasible one is unchanged, and the L1 move is bounded', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 200; trial++) {
    const { a, b, n1, m1 } = randomProblem(rng, 8);
    // Random masses up to 3× too large or too small: Sinkhorn stopped early is never this far off.
    const P = Float64Array.from({ length: n1 * m1 }, () => rng.next() * rng.next() * 3);
    const { plan } = roundToPolytope(P, a, b, n1, m1);
    let errIn = 0;
    for (let i = 0; i < n1; i++) {
      let s = 0;
      let sIn = 0;
      for (let j = 0; j < m1; j++) {
        assert.ok(plan[i * m1 + j]! >= 0);
        s += plan[i * m1 + j]!;
        sIn += P[i * m1 + j]!;
      }
      assert.ok(Math.abs(s - a[i]!) < 1e-9, `trial ${trial}: row ${i} sums to ${s}, not ${a[i]}`);
      errIn += Math.abs(sIn - a[i]!);
    }
    for (let j = 0; j < m1; j++) {
      let s = 0;
      let sIn = 0;
      for (let i = 0; i < n1; i++) {
        s += plan[i * m1 + j]!;
        sIn += P[i * m1 + j]!;
      }
      assert.ok(Math.abs(s - b[j]!) < 1e-9, `trial ${trial}: column ${j} sums to ${s}, not ${b[j]}`);
      errIn += Math.abs(sIn - b[j]!);
    }
    let moved = 0;
    for (let k = 0; k < P.length; k++) moved += Math.abs(plan[k]! - P[k]!);
    assert.ok(moved <= 2 * errIn + 1e-9, `trial ${trial}: moved ${moved} for a marginal error ${errIn}`);
    // Already feasible: unchanged.
    const again = roundToPolytope(plan, a, b, n1, m1).plan;
    assert.ok(maxRelErr(again, plan) < 1e-12);
  }
});

test('rounding adjoint: equals finite differences of a loss through the rounding', () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 30; trial++) {
    const { K, m, a, b, n1, m1 } = randomProblem(rng, 6);
    // Entries away from the kinks of min(1, a/r): every row and column strictly over or under.
    const P = Float64Array.from({ length: n1 * m1 }, () => 0.05 + rng.next() * 1.5);
    const W = Float64Array.from({ length: n1 * m1 }, () => rng.next() * 2 - 1);
    const f = (): number => {
      const { plan } = roundToPolytope(P, a, b, n1, m1);
      let v = 0;
      for (let k = 0; k < plan.length; k++) v += W[k]! * plan[k]! + 0.5 * plan[k]! * plan[k]!;
      return v;
    };
    const { plan, tape } = roundToPolytope(P, a, b, n1, m1);
    const gX = Float64Array.from(plan, (x, k) => W[k]! + x);
    const g = roundToPolytopeAdjoint(tape, gX);
    const fd = finiteDifference(P, f, 1e-6);
    assert.ok(maxRelErr(g, fd) < 1e-6, `trial ${trial} (K=${K}, m=${m}): relative error ${maxRelErr(g, fd).toExponential(2)}`);
  }
});

/** Every complete edit path between K slots and m nodes as a slot → node map (−1: deleted). */
function* editPaths(K: number, m: number, i = 0, used: boolean[] = [], phi: number[] = []): Generator<number[]> {
  if (i === K) {
    yield phi.slice();
    return;
  }
  for (let j = -1; j < m; j++) {
    if (j >= 0 && used[j]) continue;
    if (j >= 0) used[j] = true;
    phi.push(j);
    yield* editPaths(K, m, i + 1, used, phi);
    phi.pop();
    if (j >= 0) used[j] = false;
  }
}

test('nearest permutation plan: a complete edit path that maximises ⟨P, X⟩ (brute force)', () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 150; trial++) {
    const K = rng.int(0, 5);
    const m = rng.int(0, 5);
    const m1 = m + 1;
    const P = Float64Array.from({ length: (K + 1) * m1 }, () => rng.next());
    const X = nearestPermutationPlan(P, K, m);
    const score = (x: Float64Array): number => x.reduce((s, v, k) => s + v * P[k]!, 0);
    let best = -Infinity;
    for (const phi of editPaths(K, m)) {
      const Y = new Float64Array(P.length);
      const taken = new Set(phi);
      phi.forEach((j, i) => (Y[i * m1 + (j < 0 ? m : j)] = 1));
      for (let j = 0; j < m; j++) if (!taken.has(j)) Y[K * m1 + j] = 1;
      best = Math.max(best, score(Y));
    }
    if (K === 0 || m === 0) continue;
    // X is an edit path: each slot row holds one 1, each node column one 1 (from a slot or the insertion row).
    for (let i = 0; i < K; i++) assert.equal(X.subarray(i * m1, i * m1 + m1).reduce((s, v) => s + v, 0), 1);
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let i = 0; i <= K; i++) s += X[i * m1 + j]!;
      assert.equal(s, 1);
    }
    assert.ok(Math.abs(score(X) - best) < 1e-12, `trial ${trial}: ${score(X)} vs best ${best}`);
  }
});

test('nearest permutation plan: the rectangular problem reaches the optimum of the (K+m)² expansion at long-output sizes', () => {
  const rng = new Rng(19);
  for (const [K, m] of [[12, 9], [9, 12], [33, 30], [40, 40], [64, 50]] as const) {
    const m1 = m + 1;
    // Sharp plans with spread-out mass, as Sinkhorn gives at small τ.
    const P = Float64Array.from({ length: (K + 1) * m1 }, () => rng.next() ** 6);
    // The Riesen–Bunke expansion: slots then insertion dummies × nodes then deletion dummies.
    const N = K + m;
    const cost = new Float64Array(N * N);
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < m; j++) cost[i * N + j] = -P[i * m1 + j]!;
      for (let k = 0; k < K; k++) cost[i * N + m + k] = k === i ? -P[i * m1 + m]! : Infinity;
    }
    for (let k = 0; k < m; k++) for (let j = 0; j < m; j++) cost[(K + k) * N + j] = j === k ? -P[K * m1 + j]! : Infinity;
    const best = -linearAssignment(cost, N, N).cost;
    const X = nearestPermutationPlan(P, K, m);
    const score = X.reduce((s, v, k) => s + v * P[k]!, 0);
    assert.ok(Math.abs(score - best) < 1e-9, `${K}×${m}: ${score} vs the expansion's ${best}`);
    for (let i = 0; i < K; i++) assert.equal(X.subarray(i * m1, i * m1 + m1).reduce((s, v) => s + v, 0), 1);
  }
});
