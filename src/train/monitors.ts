import type { Graph } from '../graph/types.js';
import { exactGed } from '../metrics/ged.js';
import { wlSimilarity } from '../metrics/wl.js';

export interface MonitorRequest {
  epoch: number;
  pairs: Array<{ pred: Graph; target: Graph }>;
  gedTimeoutMs: number;
  wlIterations: number;
}

export interface MonitorResult {
  epoch: number;
  /** Fraction of predictions equal to their target up to node renumbering (exact GED 0). */
  exactMatch: number;
  /** Mean GED (upper bound where the search ran out of time). */
  ged: number;
  gedLowerBound: number;
  gedExactFraction: number;
  wl: number;
  examples: number;
}

/** Graph monitors of one validation pass: exact match, GED (exact within budget, else the bracket), WL similarity. */
export function computeMonitors(req: MonitorRequest): MonitorResult {
  let exact = 0;
  let ged = 0;
  let lower = 0;
  let finished = 0;
  let wl = 0;
  for (const { pred, target } of req.pairs) {
    const r = exactGed(pred, target, { timeMs: req.gedTimeoutMs });
    if (r.exact && r.ged === 0) exact++;
    if (r.exact) finished++;
    ged += r.ged;
    lower += r.lowerBound;
    wl += wlSimilarity(pred, target, { iterations: req.wlIterations });
  }
  const n = Math.max(1, req.pairs.length);
  return { epoch: req.epoch, exactMatch: exact / n, ged: ged / n, gedLowerBound: lower / n, gedExactFraction: finished / n, wl: wl / n, examples: req.pairs.length };
}
