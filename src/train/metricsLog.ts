import { join } from 'node:path';
import { writeFileAtomic } from './files.js';
import type { MonitorResult } from './monitors.js';

export interface TermMeans {
  loss: number;
  node: number;
  edge: number;
  clique: number;
  ce: number;
}

/** One line of metrics.jsonl: the shape the issue fixes, plus the extra monitors after it. */
export interface EpochMetrics {
  epoch: number;
  train: TermMeans;
  val: TermMeans & {
    /** Decoded graph equal to the target up to node renumbering (exact GED 0). */
    exactMatch: number;
    /** Mean GED, exact where the search finished within its budget, else the upper bound. */
    ged: number;
    wl: number;
    /** Decoded text equal to the target text (text tasks; null for graph data). */
    textExactMatch: number | null;
    /** Mean GED lower bound (equal to ged when every search finished). */
    gedLowerBound: number;
    /** Fraction of GED searches that finished within the budget. */
    gedExactFraction: number;
    /** Validation examples scored. */
    examples: number;
    /** Exact match per target node count: where a model stops being right as outputs grow. */
    exactMatchBySize: Record<string, { exactMatch: number; examples: number }>;
  };
  lr: number;
  examplesPerSecond: number;
  seconds: number;
  /** Curriculum level trained this epoch (math tasks), else null. */
  level: number | null;
  /** Steps skipped for a non-finite loss or gradient, this epoch. */
  skippedSteps: number;
  /**
   * Where the training row's structural terms and the assignment diagnostics below were measured:
   * on every training example as it was trained (`sample` false), or, for a mode that does not
   * train on them (cross-entropy), on a fixed sample of `examples` training examples after the epoch.
   * Absent in epochs written before the sample existed (their terms were measured on every example).
   */
  structuralTermsOn?: { examples: number; sample: boolean };
  /** Fraction of training examples whose final Sinkhorn stopped at the iteration cap. */
  sinkhornUnconverged: number;
  /** Mean rounding gap of the training assignments: 1 − ⟨P, X⟩/ΣX between the soft plan and its nearest edit path (0: already a permutation). */
  roundingGap: number;
  /** Fraction of training examples whose nearest edit path changed since their previous epoch (null in the first epoch). */
  matchingsChanged: number | null;
}

/** The part of an epoch's metrics known before its graph monitors report. */
export type PendingEpoch = Omit<EpochMetrics, 'val'> & { val: Omit<EpochMetrics['val'], 'exactMatch' | 'ged' | 'wl' | 'gedLowerBound' | 'gedExactFraction' | 'examples' | 'exactMatchBySize'> };

/** An epoch's full metrics: its known part and what the graph monitors reported, in the published key order (epoch, train, val, lr, examplesPerSecond, seconds, then extras). */
export function completeEpoch(record: PendingEpoch, r: MonitorResult): EpochMetrics {
  const v = record.val;
  return {
    epoch: record.epoch, train: record.train,
    val: { loss: v.loss, node: v.node, edge: v.edge, clique: v.clique, ce: v.ce, exactMatch: r.exactMatch, ged: r.ged, wl: r.wl, textExactMatch: v.textExactMatch, gedLowerBound: r.gedLowerBound, gedExactFraction: r.gedExactFraction, examples: r.examples, exactMatchBySize: r.exactMatchBySize },
    lr: record.lr, examplesPerSecond: record.examplesPerSecond, seconds: record.seconds, level: record.level, skippedSteps: record.skippedSteps, sinkhornUnconverged: record.sinkhornUnconverged,
    roundingGap: record.roundingGap, matchingsChanged: record.matchingsChanged, structuralTermsOn: record.structuralTermsOn,
  };
}

const CSV_COLUMNS: Array<[string, (m: EpochMetrics) => number | null]> = [
  ['epoch', (m) => m.epoch],
  ['level', (m) => m.level],
  ['train_loss', (m) => m.train.loss],
  ['train_node', (m) => m.train.node],
  ['train_edge', (m) => m.train.edge],
  ['train_clique', (m) => m.train.clique],
  ['train_ce', (m) => m.train.ce],
  ['val_loss', (m) => m.val.loss],
  ['val_node', (m) => m.val.node],
  ['val_edge', (m) => m.val.edge],
  ['val_clique', (m) => m.val.clique],
  ['val_ce', (m) => m.val.ce],
  ['val_exact_match', (m) => m.val.exactMatch],
  ['val_text_exact_match', (m) => m.val.textExactMatch],
  ['val_ged', (m) => m.val.ged],
  ['val_ged_lower_bound', (m) => m.val.gedLowerBound],
  ['val_wl', (m) => m.val.wl],
  ['lr', (m) => m.lr],
  ['examples_per_second', (m) => m.examplesPerSecond],
  ['seconds', (m) => m.seconds],
  ['skipped_steps', (m) => m.skippedSteps],
  ['sinkhorn_unconverged', (m) => m.sinkhornUnconverged],
  ['rounding_gap', (m) => m.roundingGap],
  ['matchings_changed', (m) => m.matchingsChanged],
  ['structural_terms_examples', (m) => m.structuralTermsOn?.examples ?? null],
  ['structural_terms_on_sample', (m) => (m.structuralTermsOn ? Number(m.structuralTermsOn.sample) : null)],
];

/**
 * Rewrite metrics.jsonl and metrics.csv from the full list, each atomically: a kill at any moment
 * leaves complete files (never a torn line), and a resumed run's files hold exactly the
 * checkpoint's epochs. The files are small (one line per epoch), so rewriting costs nothing.
 */
export function writeMetrics(dir: string, metrics: readonly EpochMetrics[]): void {
  writeFileAtomic(join(dir, 'metrics.jsonl'), metrics.map((m) => JSON.stringify(m) + '\n').join(''));
  const rows = [CSV_COLUMNS.map(([h]) => h).join(',')];
  for (const m of metrics) rows.push(CSV_COLUMNS.map(([, f]) => String(f(m) ?? '')).join(','));
  writeFileAtomic(join(dir, 'metrics.csv'), rows.join('\n') + '\n');
}
