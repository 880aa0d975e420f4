import { Worker } from 'node:worker_threads';
import type { MonitorRequest, MonitorResult } from './monitors.js';

/** One worker thread scoring validation graphs while the main thread trains; requests are answered in order. */
export class MonitorPool {
  private worker: Worker | null = new Worker(new URL('./monitorWorker.js', import.meta.url));
  private queue: Array<{ resolve: (r: MonitorResult) => void; reject: (e: Error) => void }> = [];

  constructor() {
    this.worker?.on('message', (msg: { ok: boolean; result?: MonitorResult; error?: string }) => {
      const next = this.queue.shift();
      if (!next) return;
      if (msg.ok) next.resolve(msg.result!);
      else next.reject(new Error(`monitor worker: ${msg.error}`));
    });
    this.worker?.on('error', (err) => {
      for (const q of this.queue.splice(0)) q.reject(err);
    });
    // Not unref'd: while training awaits a monitor reply, the worker is what keeps the process
    // alive (measured: unref'd, Node exited mid-run). close() terminates it.
  }

  run(req: MonitorRequest): Promise<MonitorResult> {
    if (!this.worker) return Promise.reject(new Error('monitor pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.worker!.postMessage(req);
    });
  }

  async close(): Promise<void> {
    if (this.worker) await this.worker.terminate();
    this.worker = null;
  }
}
