import type { DataRecord } from '../data/records.js';
import { DEFAULT_TASK_SPEC, SPLITS, TASKS, generateRecords, type Split, type TaskName } from '../data/tasks.js';
import { graphToJson } from '../graph/io.js';
import type { Graph } from '../graph/types.js';
import { out } from './io.js';
import type { Command } from './options.js';

/** The JSONL line of a record, in the format the readers read back. */
export function recordLine(r: DataRecord): string {
  if (r.kind === 'text') return JSON.stringify({ id: r.id, input: r.pair.input, target: r.pair.target });
  if (r.kind === 'graph') return JSON.stringify({ id: r.id, input: graphToJson(r.input), target: graphToJson(r.target) });
  if (r.kind === 'mixed') {
    const side = (v: string | Graph): unknown => (typeof v === 'string' ? v : graphToJson(v));
    return JSON.stringify({ id: r.id, input: side(r.input), target: side(r.target) });
  }
  return JSON.stringify(r.record);
}

export const dataCommand: Command = {
  name: 'data',
  usage: 'grapheme data --task NAME [--level N] [--count N] [--seed N] [--split train|val|test|all]',
  summary: 'Generate a built-in task as JSONL on stdout: text pairs for string tasks, GRAPHEME-Math records for math.',
  options: {
    task: { kind: 'choice', choices: TASKS, default: DEFAULT_TASK_SPEC.task, help: 'task to generate' },
    level: { kind: 'integer', min: 1, max: 7, default: 1, help: 'math curriculum level' },
    count: { kind: 'integer', min: 1, max: 10_000_000, default: 100, help: 'number of records' },
    seed: { kind: 'integer', min: 0, max: 2 ** 32 - 1, default: 0, help: 'random seed (same seed, same records on every machine)' },
    split: { kind: 'choice', choices: [...SPLITS, 'all'], default: 'all', help: 'draw only inputs of this split (splits never overlap)' },
    alphabet: { kind: 'string', default: DEFAULT_TASK_SPEC.alphabet, help: 'string tasks: graphemes to draw from', arg: 'CHARS' },
    'min-length': { kind: 'integer', min: 0, max: 10_000, default: DEFAULT_TASK_SPEC.minLength, help: 'string tasks: shortest input' },
    'max-length': { kind: 'integer', min: 0, max: 10_000, default: DEFAULT_TASK_SPEC.maxLength, help: 'string tasks: longest input' },
  },
  examples: ['grapheme data --task math --level 2 --count 5 --seed 7', 'grapheme data --task reverse --count 1000 > reverse.jsonl'],
  async run({ values }) {
    const records = generateRecords(
      {
        task: values.task as TaskName,
        levels: [values.level as number],
        alphabet: values.alphabet as string,
        minLength: values['min-length'] as number,
        maxLength: values['max-length'] as number,
      },
      values.count as number,
      values.seed as number,
      values.split as Split | 'all',
    );
    out(records.map(recordLine).join('\n'));
    return 0;
  },
};

