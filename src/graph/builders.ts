import { UserError } from '../util/errors.js';
import { polishGraph, polishText } from './polish.js';
import { chainGraph, sequentialText, wordsGraph } from './text.js';
import type { Graph } from './types.js';

export const BUILDERS = ['words', 'chain', 'polish'] as const;
export type BuilderName = (typeof BUILDERS)[number];

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
