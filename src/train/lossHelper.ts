import { Worker } from 'node:worker_threads';
import type { ExampleScore, RemoteScorer } from '../loss/batch.js';
import type { LossConfig } from '../loss/config.js';
import type { SoftGraph, TargetGraph } from '../loss/softGraph.js';

/**
 * A worker thread that scores half of each training batch (sharedBatchLoss) while the main thread
 * scores the other half: the engine runs on one core and waits during the loss, so the second
 * core halves the loss's share of a step where it is large (structural loss at K ≥ 16).
 */
export class LossHelper {
  private worker: Worker | null;
  private queue: Array<{ resolve: (r: ExampleScore[]) => void; reject: (e: Error) => void }> = [];

  constructor(cfg: LossConfig) {
    this.worker = new Worker(new URL('./lossWorker.js', import.meta.url), { workerData: cfg });
    this.worker.on('message', (msg: { ok: boolean; scores?: ExampleScore[]; error?: string }) => {
      const next = this.queue.shift();
      if (this.queue.length === 0) this.worker?.unref();
      if (!next) return;
      if (msg.ok) next.resolve(msg.scores!);
      else next.reject(new Error(`loss worker: ${msg.error}`));
    });
    this.worker.on('error', (err) => {
      for (const q of this.queue.splice(0)) q.reject(err);
    });
    // Referenced only while a request is pending: awaiting its reply must keep the process alive
    // (unreferenced, Node exits mid-step when nothing else is pending), and an idle helper must not.
    this.worker.unref();
  }

  /** Score predictions against targets on the helper thread (in order; one request at a time is the use). */
  readonly score: RemoteScorer = (preds: SoftGraph[], targets: readonly TargetGraph[], allTerms: boolean) => {
    if (!this.worker) return Promise.reject(new Error('loss helper is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.worker!.ref();
      this.worker!.postMessage({ preds, targets, allTerms });
    });
  };

  async close(): Promise<void> {
    if (this.worker) await this.worker.terminate();
    this.worker = null;
  }
}
