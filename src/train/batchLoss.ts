import type { LossConfig } from '../loss/config.js';
import { crossEntropyLoss, lossForMode } from '../loss/crossEntropy.js';
import type { SoftGraph, SoftGraphGradients, TargetGraph } from '../loss/softGraph.js';
import { structuralLoss } from '../loss/structural.js';

/** Running sums of the loss and every term over examples (means come from dividing by count). */
export interface TermSums {
  count: number;
  loss: number;
  node: number;
  edge: number;
  clique: number;
  ce: number;
  /** Sinkhorn calls that stopped at the iteration cap without reaching the tolerance. */
  unconverged: number;
}

export function emptySums(): TermSums {
  return { count: 0, loss: 0, node: 0, edge: 0, clique: 0, ce: 0, unconverged: 0 };
}

export function meanTerms(s: TermSums): { loss: number; node: number; edge: number; clique: number; ce: number } {
  const n = Math.max(1, s.count);
  return { loss: s.loss / n, node: s.node / n, edge: s.edge / n, clique: s.clique / n, ce: s.ce / n };
}

/** Add the loss of one prediction to the sums: the mode's value, and every term whatever the mode. */
export function scoreExample(pred: SoftGraph, target: TargetGraph, cfg: LossConfig, sums: TermSums): SoftGraphGradients {
  const r = lossForMode(pred, target, cfg);
  // Terms the mode did not compute are computed for the log (they never enter the gradient).
  const s = r.node === null ? structuralLoss(pred, target, { ...cfg, gradient: 'envelope' }) : r;
  const ce = r.ce ?? crossEntropyLoss(pred, target).total;
  sums.count++;
  sums.loss += r.total;
  sums.node += s.node ?? 0;
  sums.edge += s.edge ?? 0;
  sums.clique += s.clique ?? 0;
  sums.ce += ce;
  if (s.sinkhorn && !s.sinkhorn.converged) sums.unconverged++;
  return r.gradients;
}

/** The batch loss for the model's custom op: mean over the batch, gradients of that mean, terms added to `sums`. */
export function batchLoss(targets: readonly TargetGraph[], cfg: LossConfig, sums: TermSums): (preds: SoftGraph[]) => { value: number; gradients: SoftGraphGradients[] } {
  return (preds) => {
    const B = preds.length;
    const before = sums.loss;
    const gradients = preds.map((p, b) => {
      const g = scoreExample(p, targets[b]!, cfg, sums);
      for (const arr of [g.exist, g.labels, ...Object.values(g.edges)]) if (arr) for (let i = 0; i < arr.length; i++) arr[i]! /= B;
      return g;
    });
    return { value: (sums.loss - before) / B, gradients };
  };
}
