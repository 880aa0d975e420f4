import { graphToText, textToGraph } from '../graph/builders.js';
import type { Graph } from '../graph/types.js';
import { decodeSoftGraph, type GraphModel } from '../model/index.js';
import { UserError } from '../util/errors.js';
import type { Checkpoint } from './checkpoint.js';
import { buildersOf } from './data.js';

/** One prediction: the input, the decoded output text and graph, and the input's graphemes the model never saw. */
export interface Prediction<I extends string | Graph = string | Graph> {
  input: I;
  text: string;
  graph: Graph;
  unknown: string[];
  /** Input edges of types the model was not trained on (it reads the graph without them). */
  unreadEdges: number;
}

/** A prediction for a text input. */
export type TextPrediction = Prediction<string>;

/**
 * Run a loaded checkpoint's model (`loadModel`) on inputs: a text becomes a graph with the builder
 * the model was trained with, a graph goes in as it is; they go through the model in batches and
 * come back decoded (the text by the model's target builder).
 */
export async function predictInputs<I extends string | Graph>(loaded: { ckpt: Checkpoint; model: GraphModel }, inputs: readonly I[]): Promise<Array<Prediction<I>>> {
  const { ckpt, model } = loaded;
  const cfg = ckpt.config;
  const builders = buildersOf(cfg);
  // The alphabet's first label is the reserved "unknown" one.
  const known = new Set(model.spec.alphabet.slice(1));
  const readTypes = new Set(model.spec.inputTypes);
  const graphs = inputs.map((x: string | Graph, i): Graph => {
    const g = typeof x === 'string' ? textToGraph(x, builders.input) : x;
    if (g.nodes.length > cfg.max_input_nodes) throw new UserError(`input ${i + 1} has ${g.nodes.length} nodes, more than the model's max_input_nodes ${cfg.max_input_nodes}`);
    return g;
  });
  return (await model.predictGraphs(graphs, cfg.batch_size)).map((p, i) => {
    const graph = decodeSoftGraph(p, model.spec.alphabet, model.spec.outputTypes, model.spec.undirectedOutput);
    const g = graphs[i]!;
    return {
      input: inputs[i]!,
      text: graphToText(graph, builders.target),
      graph,
      unknown: [...new Set(g.nodes.map((n) => n.label).filter((l) => !known.has(l)))],
      unreadEdges: g.edges.filter((e) => !readTypes.has(e.type)).length,
    };
  });
}

/** Run a loaded checkpoint's model on texts (predictInputs for text inputs). */
export async function predictTexts(loaded: { ckpt: Checkpoint; model: GraphModel }, texts: readonly string[]): Promise<TextPrediction[]> {
  return predictInputs(loaded, texts);
}
