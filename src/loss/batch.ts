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
 * Add the loss of one prediction to the sums: the mode's value, the cross-entropy term (cheap,
 * always), and the structural terms when the mode computed them or `allTerms` asks for them
 * (validation; a cross-entropy training step leaves them out, since the whole structural loss
 * would cost as much as the network). `previous` is this example's nearest edit path at its last
 * visit (slot → node), replaced by today's; a change is counted in the sums.
 */
export function scoreExample(pred: SoftGraph, target: TargetGraph, cfg: LossConfig, sums: TermSums, previous?: { matching: number[] | null }, allTerms = true): SoftGraphGradients {
  const r = lossForMode(pred, target, cfg);
  sums.count++;
  sums.loss += r.total;
  sums.ce += r.ce ?? crossEntropyLoss(pred, target).total;
  // The structural terms never enter a cross-entropy gradient: computed here for the log only.
  const s = r.node !== null ? r : allTerms ? structuralLoss(pred, target, { ...cfg, loss_mode: 'structural', gradient: 'envelope' }) : null;
  if (s) addStructuralTerms(s, sums, previous);
  return r.gradients;
}

/** Add only the structural terms of a prediction (the other mode's terms of a cross-entropy run, on a sample). */
export function scoreStructuralTerms(pred: SoftGraph, target: TargetGraph, cfg: LossConfig, sums: TermSums, previous?: { matching: number[] | null }): void {
  addStructuralTerms(structuralLoss(pred, target, { ...cfg, loss_mode: 'structural', gradient: 'envelope' }), sums, previous);
}

function addStructuralTerms(s: LossResult, sums: TermSums, previous?: { matching: number[] | null }): void {
  sums.structuralCount++;
  sums.node += s.node ?? 0;
  sums.edge += s.edge ?? 0;
  sums.clique += s.clique ?? 0;
  if (s.sinkhorn && !s.sinkhorn.converged) sums.unconverged++;
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

/**
 * The batch loss of a training step: mean over the batch, gradients of that mean, terms added to
 * `sums` (`allTerms` false: the structural terms only where the mode computes them).
 */
export function batchLoss(targets: readonly TargetGraph[], cfg: LossConfig, sums: TermSums, previous?: Array<{ matching: number[] | null }>, allTerms = true): (preds: SoftGraph[]) => { value: number; gradients: SoftGraphGradients[] } {
  return (preds) => {
    const B = preds.length;
    const before = sums.loss;
    const gradients = preds.map((p, b) => {
      const g = scoreExample(p, targets[b]!, cfg, sums, previous?.[b], allTerms);
      for (const arr of [g.exist, g.labels, g.positions, ...Object.values(g.edges)]) if (arr) for (let i = 0; i < arr.length; i++) arr[i]! /= B;
      return g;
    });
    return { value: (sums.loss - before) / B, gradients };
  };
}
