import { parentPort } from 'node:worker_threads';
import { computeMonitors, type MonitorRequest } from './monitors.js';

// Runs the graph monitors off the training thread: one request in, one result out, in order.
parentPort!.on('message', (req: MonitorRequest) => {
  try {
    parentPort!.postMessage({ ok: true, result: computeMonitors(req) });
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
