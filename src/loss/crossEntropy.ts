import { resolveLossConfig, type LossConfig } from './config.js';
import { typesOf, zeroGradients, type SoftGraph, type TargetGraph } from './softGraph.js';
import { structuralLoss, type LossResult } from './structural.js';

/** Probabilities are clipped to [EPS, 1 − EPS] so that −log never returns Inf. */
const EPS = 1e-12;
function clip(x: number): number {
  return Math.min(1 - EPS, Math.max(EPS, x));
}

/**
 * Position-aligned cross-entropy (docs/loss.md §7): slot i answers for target node i; slots ≥ m must
 * be absent. Target nodes beyond K and labels outside the alphabet have no slot to learn from and
 * are skipped. Values in nats.
 */
export function crossEntropyLoss(p: SoftGraph, t: TargetGraph): LossResult {
  const { K, L } = p;
  const m = t.m;
  const grads = zeroGradients(p);
  let ce = 0;
  for (let i = 0; i < Math.min(K, m); i++) {
    const y = t.labels[i]!;
    if (y < 0) continue;
    const q = clip(p.labels[i * L + y]!);
    ce -= Math.log(q);
    grads.labels[i * L + y] = -1 / q;
  }
  for (let i = 0; i < K; i++) {
    const q = clip(p.exist[i]!);
    const present = i < m;
    ce -= Math.log(present ? q : 1 - q);
    grads.exist[i] = present ? -1 / q : 1 / (1 - q);
  }
  // Every entry of every K×K matrix: written without per-entry allocations, since at K 32 this
  // loop is the whole of a cross-entropy step's loss.
  for (const r of typesOf(p.edges)) {
    const A = p.edges[r]!;
    const B = t.edges[r];
    const gA = grads.edges[r]!;
    for (let i = 0; i < K; i++) {
      for (let k = 0; k < K; k++) {
        if (i === k) continue;
        const q = clip(A[i * K + k]!);
        if (B && i < m && k < m && B[i * m + k] === 1) {
          ce -= Math.log(q);
          gA[i * K + k] = -1 / q;
        } else {
          ce -= Math.log(1 - q);
          gA[i * K + k] = 1 / (1 - q);
        }
      }
    }
  }
  return { total: ce, node: null, edge: null, clique: null, ce, assignment: null, sinkhorn: null, gradients: grads };
}

/** λ·structural + (1−λ)·cross-entropy, values and gradients mixed the same way. */
export function hybridLoss(p: SoftGraph, t: TargetGraph, cfg: LossConfig): LossResult {
  const lambda = cfg.hybrid_lambda;
  const s = structuralLoss(p, t, { ...cfg, loss_mode: 'structural' });
  const c = crossEntropyLoss(p, t);
  const mix = (x: Float64Array, y: Float64Array): Float64Array => x.map((v, k) => lambda * v + (1 - lambda) * y[k]!);
  const edges: typeof s.gradients.edges = {};
  for (const r of typesOf(s.gradients.edges)) {
    const gs = s.gradients.edges[r];
    const gc = c.gradients.edges[r];
    if (gs && gc) edges[r] = mix(gs, gc);
  }
  const gradients: typeof s.gradients = { exist: mix(s.gradients.exist, c.gradients.exist), labels: mix(s.gradients.labels, c.gradients.labels), edges };
  if (s.gradients.positions && c.gradients.positions) gradients.positions = mix(s.gradients.positions, c.gradients.positions);
  return { ...s, total: lambda * s.total + (1 - lambda) * c.total, ce: c.ce, gradients };
}

/** The loss of the configured mode: structural, cross-entropy or hybrid (training uses this; `cfg` as for structuralLoss). */
export function lossForMode(p: SoftGraph, t: TargetGraph, cfg: LossConfig): LossResult {
  if (cfg.loss_mode === 'cross-entropy') return crossEntropyLoss(p, t);
  if (cfg.loss_mode === 'hybrid') return hybridLoss(p, t, cfg);
  return structuralLoss(p, t, cfg);
}

/**
 * The one entry point of the array API: the loss of `cfg.loss_mode` (default structural) between
 * a SoftGraph and a target, with every config key optional (the `grapheme loss` defaults).
 */
export function graphLoss(p: SoftGraph, t: TargetGraph, cfg: Partial<LossConfig> = {}): LossResult {
  return lossForMode(p, t, resolveLossConfig(cfg));
}
