import { EDGE_TYPES } from '../graph/types.js';
import type { LossConfig } from './config.js';
import { zeroGradients, type SoftGraph, type TargetGraph } from './softGraph.js';
import { structuralAssignment, type LossResult } from './structural.js';

/** Probabilities are clipped to [EPS, 1 − EPS] so that −log never returns Inf (as in crossEntropyLoss). */
const EPS = 1e-12;

/**
 * Cross-entropy on the structural assignment (DETR's matching loss, with a soft plan): slot i
 * answers for target node j in proportion to P_ij — −log Π[i, y_j] − log e_i — and for nothing
 * in proportion to its deletion mass — −log(1 − e_i); each edge type is a binary cross-entropy
 * against the target's edges carried onto the slots, S·B·Sᵀ. Order-free like the structural
 * loss, logarithmic like cross-entropy. Gradients with the plan held fixed. Values in nats.
 */
export function matchedCrossEntropyAtPlan(p: SoftGraph, t: TargetGraph, P: Float64Array): LossResult {
  const { K, L } = p;
  const m = t.m;
  const m1 = m + 1;
  const g = zeroGradients(p);
  const clip = (x: number): number => Math.min(1 - EPS, Math.max(EPS, x));
  let node = 0;
  for (let i = 0; i < K; i++) {
    const e = clip(p.exist[i]!);
    for (let j = 0; j < m; j++) {
      const w = P[i * m1 + j]!;
      if (w === 0) continue;
      node -= w * Math.log(e);
      g.exist[i]! -= w / e;
      const y = t.labels[j]!;
      if (y < 0) continue;
      const q = clip(p.labels[i * L + y]!);
      node -= w * Math.log(q);
      g.labels[i * L + y]! -= w / q;
    }
    const d = P[i * m1 + m]!;
    node -= d * Math.log(1 - e);
    g.exist[i]! += d / (1 - e);
  }
  let edge = 0;
  for (const r of EDGE_TYPES) {
    const A = p.edges[r];
    if (!A) continue;
    const B = t.edges[r];
    const gA = g.edges[r]!;
    // T = S·B·Sᵀ: the probability that slots i and k carry a target edge of this type.
    const SB = new Float64Array(K * m);
    if (B) for (let i = 0; i < K; i++) for (let j = 0; j < m; j++) {
      const s = P[i * m1 + j]!;
      if (s === 0) continue;
      for (let l = 0; l < m; l++) if (B[j * m + l]) SB[i * m + l]! += s;
    }
    for (let i = 0; i < K; i++) {
      for (let k = 0; k < K; k++) {
        if (i === k) continue;
        let y = 0;
        for (let l = 0; l < m; l++) y += SB[i * m + l]! * P[k * m1 + l]!;
        y = Math.min(1, y);
        const a = clip(A[i * K + k]!);
        edge -= y * Math.log(a) + (1 - y) * Math.log(1 - a);
        gA[i * K + k] = -y / a + (1 - y) / (1 - a);
      }
    }
  }
  return { total: node + edge, node: null, edge: null, clique: null, ce: null, assignment: P, sinkhorn: null, gradients: g };
}

/** Matched cross-entropy at the structural loss's own assignment (same config keys for the matching). */
export function matchedCrossEntropy(p: SoftGraph, t: TargetGraph, cfg: LossConfig): LossResult {
  const { P, report } = structuralAssignment(p, t, cfg);
  const r = matchedCrossEntropyAtPlan(p, t, P);
  r.sinkhorn = report;
  return r;
}
