import { parentPort, workerData } from 'node:worker_threads';
import { scoreOne, type ExampleScore } from '../loss/batch.js';
import type { LossConfig } from '../loss/config.js';
import type { SoftGraph, TargetGraph } from '../loss/softGraph.js';

// Scores the second half of each training batch while the main thread scores the first.
const cfg = workerData as LossConfig;

parentPort!.on('message', (req: { preds: SoftGraph[]; targets: TargetGraph[]; allTerms: boolean }) => {
  try {
    const scores: ExampleScore[] = req.preds.map((p, b) => scoreOne(p, req.targets[b]!, cfg, req.allTerms));
    // The gradients are this thread's own arrays: moved to the main thread, not copied.
    const moved = scores.flatMap((s) => [s.gradients.exist, s.gradients.labels, s.gradients.positions, ...Object.values(s.gradients.edges)].filter((a): a is Float64Array => a !== undefined).map((a) => a.buffer as ArrayBuffer));
    parentPort!.postMessage({ ok: true, result: scores }, [...new Set(moved)]);
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
