import { graphemes } from '../graph/text.js';
import { UserError } from '../util/errors.js';
import { Rng, hashString } from '../util/rng.js';
import { mathRecord } from './math.js';
import { GRAPH_TASKS, graphTaskPair, type GraphTask } from './graphTasks.js';
import { splitKey, type DataRecord } from './records.js';
import { stringTaskPair, type StringTask } from './strings.js';

/**
 * Built-in tasks. `tree` is the order-ambiguous one: math level 6 (antiderivatives) as expression
 * trees, inputs and targets through the Polish builder, target nodes stored in a random order.
 * `graphs` and `bonds` are graph → graph tasks with no text at all (graphTasks.ts): random graphs
 * of min–max length nodes, target nodes in a random order.
 */
export const TASKS = ['reverse', 'copy', 'sort', 'dedupe', 'reverse-words', 'math', 'tree', ...GRAPH_TASKS] as const;
export type TaskName = (typeof TASKS)[number];
export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** What a built-in task generates. */
export interface TaskSpec {
  task: TaskName;
  /** Math curriculum levels to draw from (1–7). */
  levels: number[];
  /** String and graph tasks: the graphemes inputs (node labels) are drawn from. */
  alphabet: string;
  /** String tasks: string length; graph tasks: node count. */
  minLength: number;
  maxLength: number;
}

export const DEFAULT_TASK_SPEC: TaskSpec = { task: 'reverse', levels: [1], alphabet: 'abcdefgh', minLength: 3, maxLength: 6 };

/** The math level of the `tree` task. */
export const TREE_LEVEL = 6;

export function isTaskName(x: unknown): x is TaskName {
  return typeof x === 'string' && (TASKS as readonly string[]).includes(x);
}

/**
 * The split an input belongs to, by a hash of its text: 80% train, 10% val, 10% test. Splits
 * made this way never overlap, however many records each one draws.
 */
export function splitOf(inputText: string): Split {
  const bucket = hashString(inputText) % 10;
  return bucket < 8 ? 'train' : bucket === 8 ? 'val' : 'test';
}

function draw(spec: TaskSpec, rng: Rng, id: string): DataRecord {
  if (spec.task === 'math' || spec.task === 'tree') {
    const level = spec.task === 'tree' ? TREE_LEVEL : rng.pick(spec.levels);
    return { kind: 'math', id, record: mathRecord(rng, level, id) };
  }
  const alphabet = graphemes(spec.alphabet);
  if (alphabet.length === 0) throw new UserError('alphabet: must contain at least one grapheme');
  if (isGraphTask(spec.task)) return { kind: 'graph', id, ...graphTaskPair(rng, spec.task, alphabet, rng.int(spec.minLength, spec.maxLength)) };
  return { kind: 'text', id, pair: stringTaskPair(rng, spec.task as StringTask, alphabet, spec.minLength, spec.maxLength) };
}

/** True for the tasks whose records are graph pairs with no text. */
export function isGraphTask(task: TaskName): task is GraphTask {
  return (GRAPH_TASKS as readonly string[]).includes(task);
}

/**
 * `count` distinct records of a task for one split, deterministic for (spec, seed, split).
 * Throws when the task has too few distinct inputs in that split, unless `allowFewer` (then it
 * returns all it found, at least one).
 */
export function generateRecords(spec: TaskSpec, count: number, seed: number, split: Split | 'all' = 'all', opts: { allowFewer?: boolean } = {}): DataRecord[] {
  if (!isTaskName(spec.task)) throw new UserError(`unknown task ${JSON.stringify(spec.task)}`);
  if (spec.minLength < 0 || spec.maxLength < spec.minLength) throw new UserError(`length range ${spec.minLength}..${spec.maxLength} is empty`);
  const rng = new Rng(seed);
  const seen = new Set<string>();
  const out: DataRecord[] = [];
  const maxAttempts = 200 * count + 10_000;
  for (let attempt = 0; out.length < count; attempt++) {
    if (attempt >= maxAttempts) {
      if (opts.allowFewer && out.length > 0) return out;
      throw new UserError(`task ${spec.task}${spec.task === 'math' ? ` level ${spec.levels.join(',')}` : ''} has only ${out.length} distinct examples in split "${split}" (asked for ${count}); lower the count or widen the task`);
    }
    const r = draw(spec, rng, `${spec.task}-${seed}-${out.length}`);
    const key = splitKey(r);
    if (seen.has(key)) continue;
    if (split !== 'all' && splitOf(key) !== split) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}
