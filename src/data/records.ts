import { DEFAULT_INPUT_BUILDER, DEFAULT_TARGET_BUILDER, textToGraph, type BuilderName } from '../graph/builders.js';
import { graphFingerprint } from '../graph/fingerprint.js';
import type { Graph } from '../graph/types.js';
import { mathInputText, mathTargetText, type MathRecord } from './math.js';
import type { TextPair } from './strings.js';
import type { Rng } from '../util/rng.js';

/** One record of a dataset: text pairs, graph pairs, text → graph or graph → text (`mixed`), or GRAPHEME-Math. */
export type DataRecord =
  | { kind: 'text'; id: string; pair: TextPair }
  | { kind: 'graph'; id: string; input: Graph; target: Graph }
  | { kind: 'mixed'; id: string; input: string | Graph; target: string | Graph }
  | { kind: 'math'; id: string; record: MathRecord };

/** A training example: input and target graphs, with texts where the data has them. */
export interface Example {
  id: string;
  input: Graph;
  target: Graph;
  inputText?: string;
  targetText?: string;
  level?: number;
}

export interface BuildOptions {
  /** Builder for input texts (default `words`, DEFAULT_INPUT_BUILDER). */
  inputBuilder?: BuilderName;
  /** Builder for target texts (default `chain`, DEFAULT_TARGET_BUILDER). */
  targetBuilder?: BuilderName;
  /** Permute target node order (ids and array order) with this RNG: order-ambiguous data. */
  shuffleTargetNodes?: Rng;
}

/** The input and target texts of a record, or undefined unless both sides are text. */
export function recordTexts(r: DataRecord): { input: string; target: string } | undefined {
  if (r.kind === 'text') return r.pair;
  if (r.kind === 'math') return { input: mathInputText(r.record), target: mathTargetText(r.record) };
  return undefined;
}

/** The text the train/validation split hashes: the input text, or the input graph's isomorphism fingerprint (graphFingerprint). */
export function splitKey(r: DataRecord): string {
  if (r.kind === 'math') return mathInputText(r.record);
  if (r.kind === 'text') return r.pair.input;
  // A graph input by its isomorphism class: a renumbered copy of a training graph is not held out.
  return typeof r.input === 'string' ? r.input : graphFingerprint(r.input);
}

/** Turn a record into an example with the given builders. */
export function recordToExample(r: DataRecord, opts: BuildOptions = {}): Example {
  const texts = recordTexts(r);
  let ex: Example;
  if (texts) {
    ex = {
      id: r.id,
      input: textToGraph(texts.input, opts.inputBuilder ?? DEFAULT_INPUT_BUILDER),
      target: textToGraph(texts.target, opts.targetBuilder ?? DEFAULT_TARGET_BUILDER),
      inputText: texts.input,
      targetText: texts.target,
    };
    if (r.kind === 'math') ex.level = r.record.level;
  } else if (r.kind === 'graph') {
    ex = { id: r.id, input: r.input, target: r.target };
  } else if (r.kind === 'mixed') {
    ex = {
      id: r.id,
      input: typeof r.input === 'string' ? textToGraph(r.input, opts.inputBuilder ?? DEFAULT_INPUT_BUILDER) : r.input,
      target: typeof r.target === 'string' ? textToGraph(r.target, opts.targetBuilder ?? DEFAULT_TARGET_BUILDER) : r.target,
    };
    if (typeof r.input === 'string') ex.inputText = r.input;
    if (typeof r.target === 'string') ex.targetText = r.target;
  } else {
    throw new Error('unreachable');
  }
  if (opts.shuffleTargetNodes) ex.target = shuffleNodes(ex.target, opts.shuffleTargetNodes);
  return ex;
}

/** The same graph with its nodes in a random order and renumbered 0..n−1 (positions dropped, direction kept). */
export function shuffleNodes(g: Graph, rng: Rng): Graph {
  const order = rng.shuffle(g.nodes.map((_, i) => i));
  const newId = new Map(order.map((old, i) => [g.nodes[old]!.id, i] as const));
  const shuffled: Graph = {
    nodes: order.map((old, i) => ({ id: i, label: g.nodes[old]!.label })),
    edges: g.edges.map((e) => ({ source: newId.get(e.source)!, target: newId.get(e.target)!, type: e.type })),
  };
  if (g.directed === false) shuffled.directed = false;
  return shuffled;
}
