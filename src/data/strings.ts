import { graphemes } from '../graph/text.js';
import type { Rng } from '../util/rng.js';

export const STRING_TASKS = ['copy', 'reverse', 'sort', 'dedupe'] as const;
export type StringTask = (typeof STRING_TASKS)[number];

/** A text pair record: what the string tasks generate and the text JSONL format holds. */
export interface TextPair {
  input: string;
  target: string;
}

/** The target of a string task for an input, grapheme by grapheme (so "👍🏽" moves as one). */
export function stringTaskTarget(task: StringTask, input: string): string {
  const gs = graphemes(input);
  switch (task) {
    case 'copy':
      return input;
    case 'reverse':
      return gs.reverse().join('');
    case 'sort':
      return gs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join('');
    case 'dedupe':
      return [...new Set(gs)].join('');
  }
}

/** A random input of `minLength`–`maxLength` graphemes drawn from `alphabet`, with its target. */
export function stringTaskPair(rng: Rng, task: StringTask, alphabet: readonly string[], minLength: number, maxLength: number): TextPair {
  const n = rng.int(minLength, maxLength);
  let input = '';
  for (let i = 0; i < n; i++) input += rng.pick(alphabet);
  return { input, target: stringTaskTarget(task, input) };
}
