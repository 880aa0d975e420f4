import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { ModelSpec, OptimizerState, SerializedTensor } from '../model/index.js';
import { UserError, describeError } from '../util/errors.js';
import type { TermSums } from '../loss/batch.js';
import type { TrainConfig } from './config.js';
import { writeFileAtomic } from './files.js';
import type { EpochMetrics, PendingEpoch } from './metricsLog.js';

export const CHECKPOINT_MAGIC = 'GRAPHEME-CHECKPOINT';
/** 2: the model has a rank head, the trainer state the per-example matchings (version 1 files are refused, not misread). */
export const CHECKPOINT_VERSION = 2;

/** Where the training loop stands: everything needed to continue exactly where it stopped. */
export interface TrainerState {
  /** Epochs fully trained. */
  epoch: number;
  /** Optimiser steps taken (skipped steps excluded). */
  step: number;
  /** Batches of the current epoch already trained (0 at an epoch boundary). */
  batchInEpoch: number;
  /** The current epoch's example order, when it is under way. */
  epochOrder: number[] | null;
  /** The current epoch's training sums so far. */
  partialSums: TermSums | null;
  /** Seconds spent training the current epoch so far. */
  partialSeconds: number;
  rngState: number;
  levelIndex: number;
  epochsOnLevel: number;
  bestValLoss: number | null;
  epochsSinceBest: number;
  consecutiveBadSteps: number;
  skippedSteps: number;
  /** Epoch whose validation monitors had not reported when this was written (recomputed on resume). */
  pendingMonitorEpoch: number | null;
  /** That epoch's metrics known without the monitors (training terms and timings). */
  pendingRecord: PendingEpoch | null;
  finished: boolean;
  stopReason: string | null;
  /** Each training example's nearest edit path (slot → node) at its last visit, for the assignment-change diagnostic; reset on a new curriculum level. */
  matchings: Array<number[] | null>;
}

export interface Checkpoint {
  format: 'grapheme-checkpoint';
  version: number;
  createdAt: string;
  config: TrainConfig;
  spec: ModelSpec;
  weights: Record<string, SerializedTensor>;
  optimizer: OptimizerState;
  trainer: TrainerState;
  metrics: EpochMetrics[];
}

/** Write a checkpoint atomically: a header line with version, byte count and SHA-256, then the JSON body. */
export function writeCheckpoint(path: string, ckpt: Checkpoint): void {
  const body = Buffer.from(JSON.stringify(ckpt), 'utf8');
  const sha = createHash('sha256').update(body).digest('hex');
  const header = Buffer.from(`${CHECKPOINT_MAGIC} ${CHECKPOINT_VERSION} bytes=${body.length} sha256=${sha}\n`, 'utf8');
  writeFileAtomic(path, Buffer.concat([header, body]));
}

/** Read and verify a checkpoint; a foreign, truncated, corrupt or newer file is a UserError saying which. */
export function readCheckpoint(path: string): Checkpoint {
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory()) throw new UserError(`${path}: is a directory, expected a checkpoint file`);
    bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${path}: cannot read checkpoint (${describeError(err)})`);
  }
  const nl = bytes.indexOf(10);
  const header = (nl >= 0 ? bytes.subarray(0, nl) : bytes.subarray(0, 200)).toString('utf8');
  const m = /^GRAPHEME-CHECKPOINT (\d+) bytes=(\d+) sha256=([0-9a-f]{64})$/.exec(header);
  if (!m) throw new UserError(`${path}: not a grapheme checkpoint (no ${CHECKPOINT_MAGIC} header)`);
  const version = Number(m[1]);
  if (version !== CHECKPOINT_VERSION) throw new UserError(`${path}: checkpoint format version ${version}; this grapheme reads version ${CHECKPOINT_VERSION}`);
  const body = bytes.subarray(nl + 1);
  const expected = Number(m[2]);
  if (body.length !== expected) throw new UserError(`${path}: checkpoint is truncated or padded (${body.length} of ${expected} bytes)`);
  if (createHash('sha256').update(body).digest('hex') !== m[3]) throw new UserError(`${path}: checkpoint is corrupt (SHA-256 mismatch)`);
  let ckpt: Checkpoint;
  try {
    ckpt = JSON.parse(body.toString('utf8')) as Checkpoint;
  } catch (err) {
    throw new UserError(`${path}: checkpoint body is not JSON (${describeError(err)})`);
  }
  if (ckpt.format !== 'grapheme-checkpoint' || !ckpt.spec || !ckpt.weights || !ckpt.trainer || !ckpt.config) throw new UserError(`${path}: checkpoint lacks model, optimiser or trainer state`);
  return ckpt;
}
