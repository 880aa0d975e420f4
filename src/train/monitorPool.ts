import type { MonitorRequest, MonitorResult } from './monitors.js';
import { WorkerQueue } from './workerQueue.js';

/** One worker thread scoring validation graphs while the main thread trains; requests are answered in order. */
export class MonitorPool extends WorkerQueue<MonitorRequest, MonitorResult> {
  constructor() {
    super(new URL('./monitorWorker.js', import.meta.url), 'monitor worker');
  }
}
