import type { Graph } from '../graph/types.js';
import { resolveLossConfig, type LossConfig } from './config.js';
import { lossForMode } from './crossEntropy.js';
import { softGraphFromGraph, targetFromGraph } from './softGraph.js';
import type { LossResult } from './structural.js';

/**
 * The loss between two crisp graphs in one call: `pred` read as its one-hot SoftGraph, the
 * alphabet made of the labels of both graphs (returned, in the order the gradients use). Every
 * config key is optional (the `grapheme loss` defaults), `loss_mode` is honoured.
 * Example: `compareGraphs(textToGraph('helo'), textToGraph('hello')).total`.
 */
export function compareGraphs(pred: Graph, target: Graph, cfg: Partial<LossConfig> = {}): LossResult & { alphabet: string[] } {
  const alphabet = [...new Set([...pred.nodes, ...target.nodes].map((n) => n.label))];
  const r = lossForMode(softGraphFromGraph(pred, alphabet), targetFromGraph(target, alphabet), resolveLossConfig(cfg));
  return { ...r, alphabet };
}
