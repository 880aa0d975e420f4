import type { LossConfig } from './config.js';
import { crossEntropyLoss, lossForMode } from './crossEntropy.js';
import type { SoftGraph, SoftGraphGradients, TargetGraph } from './softGraph.js';
import { structuralLoss, type LossResult } from './structural.js';

/** Running sums of the loss and every term over examples (means come from dividing by count). */
export interface TermSums {
  count: number;
  loss: number;
  /** Examples whose structural terms (node, edge, clique and the assignment diagnostics) are in the sums. */
  structuralCount: number;
  node: number;
  edge: number;
  clique: number;
  ce: number;
  /** Sinkhorn calls that stopped at the iteration cap without reaching the tolerance. */
  unconverged: number;
  /** Sum of the rounding gaps (soft plan vs its rounding) over the examples that have one. */
  roundingGap: number;
  /** Examples whose rounded assignment was compared with the previous epoch's, and those where it changed. */
  matchingsCompared: number;
  matchingsChanged: number;
}

export function emptySums(): TermSums {
  return { count: 0, loss: 0, structuralCount: 0, node: 0, edge: 0, clique: 0, ce: 0, unconverged: 0, roundingGap: 0, matchingsCompared: 0, matchingsChanged: 0 };
}

export function meanTerms(s: TermSums): { loss: number; node: number; edge: number; clique: number; ce: number } {
  const n = Math.max(1, s.count);
  const ns = Math.max(1, s.structuralCount);
  return { loss: s.loss / n, node: s.node / ns, edge: s.edge / ns, clique: s.clique / ns, ce: s.ce / n };
}

/** The assignment diagnostics of a set of sums: mean rounding gap, fraction of matchings changed since the previous epoch (null: none compared). */
export function assignmentDiagnostics(s: TermSums): { roundingGap: number; matchingsChanged: number | null } {
  return { roundingGap: s.roundingGap / Math.max(1, s.structuralCount), matchingsChanged: s.matchingsCompared > 0 ? s.matchingsChanged / s.matchingsCompared : null };
}

/**
 * What one example adds to a batch: its loss, cross-entropy, structural terms (null where they were
 * not computed) and gradients; plain numbers and typed arrays, so a helper thread can send it back.
 */
export interface ExampleScore {
  total: number;
  ce: number;
  structural: { node: number; edge: number; clique: number; converged: boolean | null; matching: { slotToNode: Int32Array; roundingGap: number } | null } | null;
  gradients: SoftGraphGradients;
}

/**
 * The loss of one prediction: the mode's value and gradients, the cross-entropy term (cheap,
 * always), and the structural terms when the mode computed them or `allTerms` asks for them
 * (validation; a cross-entropy training step leaves them out, since the whole structural loss
 * would cost as much as the network).
 */
export function scoreOne(pred: SoftGraph, target: TargetGraph, cfg: LossConfig, allTerms = true): ExampleScore {
  const r = lossForMode(pred, target, cfg);
  const ce = r.ce ?? crossEntropyLoss(pred, target).total;
  // The structural terms never enter a cross-entropy gradient: computed here for the log only.
  const s = r.node !== null ? r : allTerms ? structuralLoss(pred, target, { ...cfg, loss_mode: 'structural', gradient: 'envelope' }) : null;
  return { total: r.total, ce, structural: s ? structuralPart(s) : null, gradients: r.gradients };
}

function structuralPart(s: LossResult): NonNullable<ExampleScore['structural']> {
  return { node: s.node ?? 0, edge: s.edge ?? 0, clique: s.clique ?? 0, converged: s.sinkhorn ? s.sinkhorn.converged : null, matching: s.matching ?? null };
}

/**
 * Add one example's score to the sums. `previous` is this example's nearest edit path at its last
 * visit (slot → node), replaced by today's; a change is counted in the sums.
 */
export function addScore(score: ExampleScore, sums: TermSums, previous?: { matching: number[] | null }): void {
  sums.count++;
  sums.loss += score.total;
  sums.ce += score.ce;
  if (score.structural) addStructuralTerms(score.structural, sums, previous);
}

/** Score one prediction and add it to the sums (scoreOne, then addScore); returns its gradients. */
export function scoreExample(pred: SoftGraph, target: TargetGraph, cfg: LossConfig, sums: TermSums, previous?: { matching: number[] | null }, allTerms = true): SoftGraphGradients {
  const score = scoreOne(pred, target, cfg, allTerms);
  addScore(score, sums, previous);
  return score.gradients;
}

/** Add only the structural terms of a prediction (the other mode's terms of a cross-entropy run, on a sample). */
export function scoreStructuralTerms(pred: SoftGraph, target: TargetGraph, cfg: LossConfig, sums: TermSums, previous?: { matching: number[] | null }): void {
  addStructuralTerms(structuralPart(structuralLoss(pred, target, { ...cfg, loss_mode: 'structural', gradient: 'envelope' })), sums, previous);
}

function addStructuralTerms(s: NonNullable<ExampleScore['structural']>, sums: TermSums, previous?: { matching: number[] | null }): void {
  sums.structuralCount++;
  sums.node += s.node;
  sums.edge += s.edge;
  sums.clique += s.clique;
  if (s.converged === false) sums.unconverged++;
  if (s.matching) {
    sums.roundingGap += s.matching.roundingGap;
    if (previous) {
      const now = Array.from(s.matching.slotToNode);
      if (previous.matching) {
        sums.matchingsCompared++;
        if (previous.matching.some((j, i) => j !== now[i])) sums.matchingsChanged++;
      }
      previous.matching = now;
    }
  }
}

/** Scores of a batch's last examples, computed elsewhere (a helper thread) while the caller scores the first ones. */
export type RemoteScorer = (preds: SoftGraph[], targets: readonly TargetGraph[], allTerms: boolean) => Promise<ExampleScore[]>;

/**
 * The batch loss of a training step: mean over the batch, gradients of that mean, terms added to
 * `sums` in example order (`allTerms` false: the structural terms only where the mode computes them).
 */
export function batchLoss(targets: readonly TargetGraph[], cfg: LossConfig, sums: TermSums, previous?: Array<{ matching: number[] | null }>, allTerms = true): (preds: SoftGraph[]) => BatchLossResult {
  return (preds) => addBatch(preds.map((p, b) => scoreOne(p, targets[b]!, cfg, allTerms)), sums, previous);
}

/**
 * batchLoss with the second half of each batch scored by `remote` (a helper thread) while this
 * thread scores the first: the scores are added in example order, so the sums and gradients equal
 * batchLoss's to the bit.
 */
export function sharedBatchLoss(targets: readonly TargetGraph[], cfg: LossConfig, sums: TermSums, previous: Array<{ matching: number[] | null }> | undefined, allTerms: boolean, remote: RemoteScorer): (preds: SoftGraph[]) => Promise<BatchLossResult> {
  return async (preds) => {
    const half = preds.length >> 1;
    const there = remote(preds.slice(half), targets.slice(half, preds.length), allTerms);
    const here = preds.slice(0, half).map((p, b) => scoreOne(p, targets[b]!, cfg, allTerms));
    return addBatch([...here, ...(await there)], sums, previous);
  };
}

/** Add a batch's scores to the sums in example order; the gradients become those of the batch mean. */
function addBatch(scores: ExampleScore[], sums: TermSums, previous?: Array<{ matching: number[] | null }>): BatchLossResult {
  const B = scores.length;
  const before = sums.loss;
  const gradients = scores.map((score, b) => {
    addScore(score, sums, previous?.[b]);
    const g = score.gradients;
    for (const arr of [g.exist, g.labels, g.positions, ...Object.values(g.edges)]) if (arr) for (let i = 0; i < arr.length; i++) arr[i]! /= B;
    return g;
  });
  return { value: (sums.loss - before) / B, gradients };
}

/** A batch's mean loss and the gradients of that mean, one per example. */
export interface BatchLossResult {
  value: number;
  gradients: SoftGraphGradients[];
}
