import { edgeTypeOrder, type EdgeType, type Graph } from '../graph/types.js';
import { edgeLabelProblem, validateGraph } from '../graph/validate.js';
import { batchLoss, emptySums } from '../loss/batch.js';
import { resolveTrainingLossConfig } from '../loss/config.js';
import { alphabetIndex, targetFromGraph } from '../loss/softGraph.js';
import { UserError } from '../util/errors.js';
import { tf } from './engine.js';
import { lossOp } from './lossOp.js';

/**
 * A batch of predicted graphs as tfjs tensors, all **probabilities** (the outputs of sigmoid and
 * softmax layers, not logits): the loss kernels take probabilities, clip them to [1e−12, 1 − 1e−12]
 * inside every logarithm, and hand back ∂loss/∂probability; tfjs carries that through the
 * sigmoid or softmax, where the likelihood form's gradient on the logits becomes p − y.
 */
export interface PredictionTensors {
  /** [B, K]: probability that slot i is a node. */
  exist: tf.Tensor;
  /** [B, K, L]: each slot's distribution over the L labels of `alphabet`. */
  labels: tf.Tensor;
  /** Per edge type, [B, K, K]: probability of an edge from slot i to slot k (the diagonal is ignored). */
  edges: Partial<Record<EdgeType, tf.Tensor>>;
  /** Optional [B, K, K]: each slot's distribution over the ranks 0..K−1 of the target's own order (docs/loss.md §6). */
  positions?: tf.Tensor;
}

function checkShape(t: tf.Tensor, want: number[], name: string): void {
  if (!(t instanceof tf.Tensor)) throw new UserError(`structuralLossOp: argument '${name}' must be a tf.Tensor`);
  if (t.rank !== want.length || t.shape.some((d, k) => d !== want[k])) throw new UserError(`structuralLossOp: argument '${name}' has shape [${t.shape.join(', ')}], expected [${want.join(', ')}]`);
}

function checkFinite(t: tf.Tensor, name: string): void {
  const v = t.dataSync();
  for (let k = 0; k < v.length; k++) {
    const x = v[k]!;
    if (!(x >= 0 && x <= 1)) throw new UserError(`structuralLossOp: argument '${name}' has ${Number.isNaN(x) ? 'NaN' : x} at flat index ${k}; expected probabilities in [0, 1]`);
  }
}

/**
 * The graph loss of a batch of predictions against target graphs, as one tfjs op: a scalar (the
 * mean over the batch) whose gradient reaches the model's weights through `tf.variableGrads`,
 * `tf.grads` or `optimizer.minimize`. The forward and backward passes are grapheme's float64
 * kernels (tfjs never differentiates through Sinkhorn).
 *
 * `config` takes the loss keys of `grapheme train` with its defaults (structural mode, likelihood
 * costs at the nearest edit path, docs/loss.md); `loss_mode` may be `structural`,
 * `cross-entropy` or `hybrid`. Unknown keys and out-of-range values are errors naming the key;
 * shape mismatches, NaN and target labels outside `alphabet` are errors naming the argument.
 */
export function structuralLossOp(pred: PredictionTensors, targets: readonly Graph[], alphabet: readonly string[], config: Record<string, unknown> = {}): tf.Scalar {
  const cfg = resolveTrainingLossConfig(config, 'structuralLossOp: config');
  if (!Array.isArray(alphabet) || alphabet.length === 0 || !alphabet.every((l) => typeof l === 'string')) throw new UserError("structuralLossOp: argument 'alphabet' must be a non-empty array of label strings");
  if (!(pred.exist instanceof tf.Tensor) || pred.exist.rank !== 2) throw new UserError(`structuralLossOp: argument 'pred.exist' must be a [B, K] tensor`);
  const [B, K] = pred.exist.shape as [number, number];
  const L = alphabet.length;
  checkShape(pred.labels, [B, K, L], 'pred.labels');
  if (typeof pred.edges !== 'object' || pred.edges === null) throw new UserError("structuralLossOp: argument 'pred.edges' must be an object of [B, K, K] tensors by edge type");
  for (const [type, t] of Object.entries(pred.edges)) {
    const problem = edgeLabelProblem(type);
    if (problem) throw new UserError(`structuralLossOp: argument 'pred.edges' ${problem}`);
    checkShape(t!, [B, K, K], `pred.edges.${type}`);
  }
  if (pred.positions !== undefined) checkShape(pred.positions, [B, K, K], 'pred.positions');
  if (!Array.isArray(targets) || targets.length !== B) throw new UserError(`structuralLossOp: argument 'targets' must hold one graph per prediction (${B}), got ${Array.isArray(targets) ? targets.length : typeof targets}`);
  const index = alphabetIndex(alphabet);
  const ts = (targets as readonly Graph[]).map((raw, b) => {
    const g = validateGraph(raw, `structuralLossOp: targets[${b}]`);
    const unknown = g.nodes.find((n) => !index.has(n.label));
    if (unknown) throw new UserError(`structuralLossOp: targets[${b}] has label ${JSON.stringify(unknown.label)}, which is not in 'alphabet'`);
    return targetFromGraph(g, index);
  });
  checkFinite(pred.exist, 'pred.exist');
  checkFinite(pred.labels, 'pred.labels');
  for (const [type, t] of Object.entries(pred.edges)) checkFinite(t!, `pred.edges.${type}`);
  if (pred.positions) checkFinite(pred.positions, 'pred.positions');
  // Every edge type of the prediction, in edgeTypeOrder; a type only the targets have is compared with no predicted edges.
  const outputTypes = edgeTypeOrder(Object.keys(pred.edges).filter((t) => pred.edges[t] !== undefined));
  const edges = outputTypes.length > 0 ? tf.stack(outputTypes.map((t) => pred.edges[t]!), 1) : tf.zeros([B, 0, K, K]);
  return lossOp({ K, alphabet: [...alphabet], outputTypes }, batchLoss(ts, cfg, emptySums()))(pred.exist, pred.labels, edges, pred.positions ?? null);
}
