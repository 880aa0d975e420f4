import { parentPort, workerData } from 'node:worker_threads';
import { initEngine } from './engine.js';
import { GraphModel, type ModelSpec } from './network.js';
import { setWeights, shardGradient } from './shard.js';
import type { ShardRequest } from './gradientPool.js';

// A worker thread of a data-parallel training step: its own tfjs engine and copy of the model,
// given the step's weights and its shard, answering with the shard's gradient.
await initEngine();
const { spec, seed } = workerData as { spec: ModelSpec; seed: number };
const model = new GraphModel(spec, seed);

parentPort!.on('message', (req: ShardRequest) => {
  try {
    setWeights(model, req.weights);
    const r = shardGradient(model, req.inputs, req.targets, req.cfg, req.previous);
    parentPort!.postMessage({ ok: true, result: r }, Object.values(r.grads).map((g) => g.buffer as ArrayBuffer));
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
