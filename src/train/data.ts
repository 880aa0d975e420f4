import { hasTargetTexts, readDataset } from '../data/jsonl.js';
import { recordToExample, splitKey, type BuildOptions, type DataRecord, type Example } from '../data/records.js';
import { generateRecords, isGraphTask, splitOf, type TaskSpec } from '../data/tasks.js';
import type { BuilderName } from '../graph/builders.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { TrainConfig } from './config.js';

/** The examples of a run, per curriculum stage, and where they came from. */
export interface TrainingData {
  /** One entry per curriculum stage (a single stage without a curriculum). */
  stages: Array<{ level: number | null; train: Example[]; val: Example[] }>;
  /** "task reverse" or the dataset path, for logs and reports. */
  source: string;
  /** Graph targets have no texts: exact match is then judged on graphs only. */
  hasTexts: boolean;
  /** Things worth a line in the log (a task with fewer distinct examples than asked for). */
  notes: string[];
}

/** Salt of the target-shuffling stream, so shuffling does not change which records are drawn. */
const SHUFFLE_SALT = 0x5eed;

/** The text builders of a config's inputs and targets (the `tree` task uses Polish trees for both). */
export function buildersOf(cfg: TrainConfig): { input: BuilderName; target: BuilderName } {
  const tree = cfg.task === 'tree' && !cfg.data;
  return { input: tree ? 'polish' : cfg.input_builder, target: tree ? 'polish' : cfg.target_builder };
}

/** The builders and shuffling a config implies: the `tree` task fixes them (Polish trees, shuffled targets). */
export function buildOptions(cfg: TrainConfig, salt: number): BuildOptions {
  const b = buildersOf(cfg);
  const opts: BuildOptions = { inputBuilder: b.input, targetBuilder: b.target };
  if ((cfg.task === 'tree' && !cfg.data) || cfg.shuffle_target_nodes) opts.shuffleTargetNodes = new Rng((cfg.seed ^ SHUFFLE_SALT) + salt);
  return opts;
}

function toExamples(records: DataRecord[], cfg: TrainConfig, salt: number, where: (r: DataRecord) => string): Example[] {
  const opts = buildOptions(cfg, salt);
  return records.map((r) => {
    const ex = recordToExample(r, opts);
    const n = ex.input.nodes.length;
    if (n > cfg.max_input_nodes) throw new UserError(`${where(r)}: input has ${n} nodes, more than max_input_nodes ${cfg.max_input_nodes}; raise --max-input-nodes or shorten the input`);
    const m = ex.target.nodes.length;
    if (cfg.max_nodes > 0 && m > cfg.max_nodes) throw new UserError(`${where(r)}: target has ${m} nodes, more than max_nodes K = ${cfg.max_nodes}; raise --max-nodes to at least ${m} or drop the example`);
    return ex;
  });
}

/** Load or generate the examples a config asks for, validated against its size limits. */
export function loadTrainingData(cfg: TrainConfig): TrainingData {
  if (cfg.data) {
    const ds = readDataset(cfg.data);
    const train = ds.records.filter((r) => splitOf(splitKey(r)) === 'train');
    let val = ds.records.filter((r) => splitOf(splitKey(r)) === 'val');
    // Tiny datasets may hash nothing into val: then every record validates too, and the log says so.
    if (val.length === 0) val = train.length > 0 ? train : ds.records;
    const where = (r: DataRecord): string => `${cfg.data}: record ${r.id}`;
    if (train.length === 0) throw new UserError(`${cfg.data}: no record falls in the training split (80% by input hash); the file has ${ds.records.length} records`);
    return {
      stages: [{ level: null, train: toExamples(train, cfg, 1, where), val: toExamples(val, cfg, 2, where) }],
      source: cfg.data,
      hasTexts: hasTargetTexts(ds.format),
      notes: val === train ? [`${cfg.data}: no record falls in the validation split (10% by input hash); validating on the training records`] : [],
    };
  }
  const levels = cfg.task === 'math' ? cfg.levels : [null];
  const notes: string[] = [];
  const stages = levels.map((level, s) => {
    const spec: TaskSpec = { task: cfg.task, levels: level === null ? [1] : [level], alphabet: cfg.alphabet, minLength: cfg.min_length, maxLength: cfg.max_length };
    const name = `task ${cfg.task}${level === null ? '' : ` level ${level}`}`;
    const where = (r: DataRecord): string => `${name}: example ${r.id}`;
    // Distinct seeds per stage and split; splitOf keeps train and val inputs disjoint. A task
    // smaller than the sizes asked for trains on all it has.
    const train = generateRecords(spec, cfg.train_size, cfg.seed * 1000 + 2 * s, 'train', { allowFewer: true });
    const val = generateRecords(spec, cfg.val_size, cfg.seed * 1000 + 2 * s + 1, 'val', { allowFewer: true });
    for (const [split, got, asked] of [['training', train.length, cfg.train_size], ['validation', val.length, cfg.val_size]] as const) {
      if (got < asked) notes.push(`${name} has ${got} distinct ${split} examples (asked for ${asked}): using all ${got}`);
    }
    return { level, train: toExamples(train, cfg, 10 * s + 1, where), val: toExamples(val, cfg, 10 * s + 2, where) };
  });
  return { notes, stages, source: `task ${cfg.task}${cfg.task === 'math' ? ` levels ${cfg.levels.join(',')}` : cfg.task === 'tree' ? ' (math level 6 as Polish trees, target nodes shuffled)' : isGraphTask(cfg.task) ? ` (random graphs of ${cfg.min_length}–${cfg.max_length} nodes, target nodes shuffled)` : ''}`, hasTexts: !isGraphTask(cfg.task) };
}

