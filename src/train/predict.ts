import { graphToText, textToGraph } from '../graph/builders.js';
import type { Graph } from '../graph/types.js';
import { decodeSoftGraph, type GraphModel } from '../model/index.js';
import { UserError } from '../util/errors.js';
import type { Checkpoint } from './checkpoint.js';
import { buildersOf } from './data.js';

/** One prediction: the input text, the decoded output text and graph, and the input's graphemes the model never saw. */
export interface TextPrediction {
  input: string;
  text: string;
  graph: Graph;
  unknown: string[];
}

/**
 * Run a loaded checkpoint's model (`loadModel`) on texts: each becomes a graph with the builder
 * the model was trained with, goes through the model in batches, and comes back decoded.
 */
export async function predictTexts(loaded: { ckpt: Checkpoint; model: GraphModel }, texts: readonly string[]): Promise<TextPrediction[]> {
  const { ckpt, model } = loaded;
  const cfg = ckpt.config;
  const builders = buildersOf(cfg);
  // The alphabet's first label is the reserved "unknown" one.
  const known = new Set(model.spec.alphabet.slice(1));
  const graphs = texts.map((t, i) => {
    const g = textToGraph(t, builders.input);
    if (g.nodes.length > cfg.max_input_nodes) throw new UserError(`input ${i + 1} has ${g.nodes.length} graphemes, more than the model's max_input_nodes ${cfg.max_input_nodes}`);
    return g;
  });
  return (await model.predictGraphs(graphs, cfg.batch_size)).map((p, i) => {
    const graph = decodeSoftGraph(p, model.spec.alphabet, model.spec.outputTypes, model.spec.undirectedOutput);
    return { input: texts[i]!, text: graphToText(graph, builders.target), graph, unknown: [...new Set(graphs[i]!.nodes.map((n) => n.label).filter((l) => !known.has(l)))] };
  });
}
