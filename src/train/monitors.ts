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
  /** Exact match per target node count, sizes in increasing order. */
  exactMatchBySize: Record<string, { exactMatch: number; examples: number }>;
}

/** Graph monitors of one validation pass: exact match, GED (exact within budget, else the bracket), WL similarity. */
export function computeMonitors(req: MonitorRequest): MonitorResult {
  let exact = 0;
  let ged = 0;
  let lower = 0;
  let finished = 0;
  let wl = 0;
  const bySize = new Map<number, { hits: number; count: number }>();
  for (const { pred, target } of req.pairs) {
    const r = exactGed(pred, target, { timeMs: req.gedTimeoutMs });
    const hit = r.exact && r.ged === 0;
    const size = bySize.get(target.nodes.length) ?? { hits: 0, count: 0 };
    bySize.set(target.nodes.length, { hits: size.hits + (hit ? 1 : 0), count: size.count + 1 });
    if (hit) exact++;
    if (r.exact) finished++;
    ged += r.ged;
    lower += r.lowerBound;
    wl += wlSimilarity(pred, target, { iterations: req.wlIterations });
  }
  const n = Math.max(1, req.pairs.length);
  const exactMatchBySize = Object.fromEntries([...bySize].sort(([a], [b]) => a - b).map(([size, { hits, count }]) => [String(size), { exactMatch: hits / count, examples: count }]));
  return { epoch: req.epoch, exactMatch: exact / n, ged: ged / n, gedLowerBound: lower / n, gedExactFraction: finished / n, wl: wl / n, examples: req.pairs.length, exactMatchBySize };
}
