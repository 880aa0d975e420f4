import type { ExampleScore, RemoteScorer } from '../loss/batch.js';
import type { LossConfig } from '../loss/config.js';
import type { SoftGraph, TargetGraph } from '../loss/softGraph.js';
import { WorkerQueue } from './workerQueue.js';

/**
 * A worker thread that scores half of each training batch (sharedBatchLoss) while the main thread
 * scores the other half: the engine runs on one core and waits during the loss, so the second
 * core halves the loss's share of a step where it is large (structural loss at K ≥ 16).
 */
export class LossHelper extends WorkerQueue<{ preds: SoftGraph[]; targets: readonly TargetGraph[]; allTerms: boolean }, ExampleScore[]> {
  constructor(cfg: LossConfig) {
    super(new URL('./lossWorker.js', import.meta.url), 'loss worker', cfg);
  }

  /** Score predictions against targets on the helper thread (in order; one request at a time is the use). */
  readonly score: RemoteScorer = (preds, targets, allTerms) => this.run({ preds, targets, allTerms });
}
