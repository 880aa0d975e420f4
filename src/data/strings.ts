import { graphemes } from '../graph/text.js';
import type { Rng } from '../util/rng.js';

export const STRING_TASKS = ['copy', 'reverse', 'sort', 'dedupe', 'reverse-words'] as const;
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
    case 'reverse-words':
      return input.split(' ').reverse().join(' ');
  }
}

/** Longest word of `reverse-words` inputs, in graphemes. */
const MAX_WORD = 6;

/**
 * A random input of `minLength`–`maxLength` graphemes drawn from `alphabet`, with its target
 * (`reverse-words`: words of 1–6 graphemes joined by single spaces, the spaces counted).
 */
export function stringTaskPair(rng: Rng, task: StringTask, alphabet: readonly string[], minLength: number, maxLength: number): TextPair {
  const n = rng.int(minLength, maxLength);
  const letters = (k: number): string => Array.from({ length: k }, () => rng.pick(alphabet)).join('');
  if (task !== 'reverse-words') {
    const input = letters(n);
    return { input, target: stringTaskTarget(task, input) };
  }
  const words: string[] = [];
  let used = 0;
  while (used < n) {
    const room = n - used - (words.length > 0 ? 1 : 0);
    // No room for a space and a letter: the last word takes the remaining grapheme.
    if (room <= 0) {
      words[words.length - 1] += letters(1);
      used++;
      continue;
    }
    const k = Math.min(room, rng.int(1, MAX_WORD));
    used += k + (words.length > 0 ? 1 : 0);
    words.push(letters(k));
  }
  const input = words.join(' ');
  return { input, target: stringTaskTarget(task, input) };
}
