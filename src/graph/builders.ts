import { UserError } from '../util/errors.js';
import { polishGraph, polishText } from './polish.js';
import { chainGraph, sequentialText, wordsGraph } from './text.js';
import type { Graph } from './types.js';

export const BUILDERS = ['words', 'chain', 'polish'] as const;
export type BuilderName = (typeof BUILDERS)[number];

/**
 * The builder of training targets given as text: `chain`. Word cliques in a target are O(m²) edges
 * to learn beside m labels, and every absent slot's must be learned off; as chains both modes
 * learned pronunciations 0.10 better and no text task measured lost (docs/experiments.md §21, §22).
 * Inputs keep `words`: there the cliques are information the encoder reads, not work.
 */
export const DEFAULT_TARGET_BUILDER: BuilderName = 'chain';

/** The builder of training inputs given as text: `words` (the design's). */
export const DEFAULT_INPUT_BUILDER: BuilderName = 'words';

/** Text → Graph with the named builder (default `words`). */
export function textToGraph(text: string, builder: BuilderName = 'words'): Graph {
  switch (builder) {
    case 'words':
      return wordsGraph(text);
    case 'chain':
      return chainGraph(text);
    case 'polish':
      return polishGraph(text);
    default:
      throw new UserError(`unknown builder ${JSON.stringify(builder)} (expected one of ${BUILDERS.join(', ')})`);
  }
}

/** Graph → text, the inverse of `textToGraph` for the same builder. */
export function graphToText(g: Graph, builder: BuilderName = 'words'): string {
  return builder === 'polish' ? polishText(g) : sequentialText(g);
}

export function isBuilderName(x: unknown): x is BuilderName {
  return typeof x === 'string' && (BUILDERS as readonly string[]).includes(x);
}
