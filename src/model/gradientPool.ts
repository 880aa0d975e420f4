import { Worker } from 'node:worker_threads';
import type { Graph } from '../graph/types.js';
import type { LossConfig } from '../loss/config.js';
import type { TargetGraph } from '../loss/softGraph.js';
import type { ModelSpec } from './network.js';
import type { ShardGradient } from './shard.js';

/** What a worker is asked for one step: the weights to use and its shard of the batch. */
export interface ShardRequest {
  weights: Record<string, Float32Array>;
  inputs: Graph[];
  targets: TargetGraph[];
  cfg: LossConfig;
  previous: Array<number[] | null>;
}

/**
 * Worker threads for data-parallel training steps, one model copy each. Each request is
 * answered by its own worker, so the results come back in a fixed order: a step's arithmetic
 * depends on the number of workers, never on timing.
 */
export class GradientPool {
  private readonly workers: Worker[];
  private readonly pending: Array<{ resolve: (r: ShardGradient) => void; reject: (e: Error) => void } | null>;

  constructor(spec: ModelSpec, seed: number, count: number) {
    this.workers = Array.from({ length: count }, () => new Worker(new URL('./gradientWorker.js', import.meta.url), { workerData: { spec, seed } }));
    this.pending = this.workers.map(() => null);
    this.workers.forEach((w, k) => {
      w.on('message', (msg: { ok: boolean; result?: ShardGradient; error?: string }) => {
        const p = this.pending[k];
        this.pending[k] = null;
        if (!p) return;
        if (msg.ok) p.resolve(msg.result!);
        else p.reject(new Error(`gradient worker ${k + 1}: ${msg.error}`));
      });
      w.on('error', (err) => {
        const p = this.pending[k];
        this.pending[k] = null;
        p?.reject(err);
      });
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** Worker k's gradient for its shard. */
  compute(k: number, req: ShardRequest): Promise<ShardGradient> {
    return new Promise((resolve, reject) => {
      this.pending[k] = { resolve, reject };
      this.workers[k]!.postMessage(req);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
