import { z } from 'zod';
import YAML from 'yaml';
import { BUILDERS, DEFAULT_INPUT_BUILDER, DEFAULT_TARGET_BUILDER } from '../graph/builders.js';
import { TASKS } from '../data/tasks.js';
import { lossConfigSchema, trainingLossConfigSchema, type LossConfig } from '../loss/config.js';
import { readTextFile } from '../util/files.js';
import { UserError } from '../util/errors.js';
import { nearestName } from '../util/nearest.js';
import { DROPOUT_SITES } from '../model/forward.js';

/** Training keys beside the loss keys: data, model, optimiser, schedule, monitors. One flat namespace, one schema. */
export const trainKeysSchema = z.object({
  task: z.enum(TASKS).default('reverse').describe('built-in task (ignored when data is given)'),
  data: z.string().min(1).nullable().default(null).describe('JSONL dataset (text pairs, graph pairs, text → graph, graph → text or GRAPHEME-Math records) instead of a built-in task'),
  levels: z.array(z.number().int().min(1).max(7)).min(1).default([1]).describe('math levels, in curriculum order'),
  alphabet: z.string().min(1).default('abcdefgh').describe('graphemes of the string tasks (graph tasks: node labels)'),
  min_length: z.number().int().min(0).max(1000).default(3).describe('shortest string of the string tasks (graph tasks: fewest nodes)'),
  max_length: z.number().int().min(0).max(1000).default(6).describe('longest string of the string tasks (graph tasks: most nodes)'),
  train_size: z.number().int().min(1).max(10_000_000).default(2000).describe('generated training examples (built-in tasks)'),
  val_size: z.number().int().min(1).max(1_000_000).default(200).describe('generated validation examples (built-in tasks)'),
  input_builder: z.enum(BUILDERS).default(DEFAULT_INPUT_BUILDER).describe('text → graph builder for inputs'),
  target_builder: z.enum(BUILDERS).default(DEFAULT_TARGET_BUILDER).describe('text → graph builder for targets (chain: the graphemes in order; words adds a clique per word)'),
  shuffle_target_nodes: z.boolean().default(false).describe('store target nodes in a random order (order-ambiguous data)'),
  max_nodes: z.number().int().min(0).max(512).default(0).describe('K: output slots, the largest target the model can produce (0: the largest target in the data)'),
  max_input_nodes: z.number().int().min(1).max(4096).default(128).describe('largest input graph accepted'),
  // Width 128 with dropout 0.1: on real words (3,200 training pairs) width is what raised exact
  // match and dropout what closed the train/validation gap (docs/experiments.md §19).
  hidden_size: z.number().int().min(4).max(1024).default(128).describe('model width d'),
  heads: z.number().int().min(1).max(32).default(4).describe('attention heads (must divide hidden_size)'),
  encoder_layers: z.number().int().min(0).max(16).default(2).describe('typed message-passing layers'),
  decoder_layers: z.number().int().min(1).max(16).default(2).describe('slot decoder layers (cross-attention, self-attention, feed-forward)'),
  rank_prior: z.number().min(0).max(100).default(4).describe('added to slot k\'s logit for rank k: slots start preferring the input order they are seeded in (0: no preference)'),
  rank_detached: z.boolean().default(true).describe('the rank head reads the slot encodings without training them'),
  count_attention: z.boolean().default(false).describe('each decoder layer also counts input nodes (sigmoid attention weights summed, on one scale at every input length)'),
  end_positions: z.boolean().default(false).describe('each input node also embeds its position counted from the end of its text (the last grapheme 0)'),
  edge_copy: z.boolean().default(true).describe("edge heads also read the input's edges between the nodes the slots are seeded from (one weight per input edge type and direction)"),
  dropout: z.number().min(0).max(0.9).default(0.1).describe('probability of zeroing each entry at the dropout sites (dropout_sites) in a training step (inverted dropout; predictions never drop)'),
  // `transforms` keeps the counts sort needs (sort at 24-32, 3 seeds: 0.712 → 0.865 structural,
  // 0.788 → 0.880 cross-entropy) and cost no Results table more than its spread (docs/experiments.md §26–27).
  dropout_sites: z.enum(DROPOUT_SITES).default('transforms').describe('where dropout applies: all (the embeddings and every residual branch) | transforms (only the message-passing and feed-forward branches; the embeddings and attention outputs, which slots count with, stay whole)'),
  epochs: z.number().int().min(1).max(100_000).default(15).describe('training epochs'),
  batch_size: z.number().int().min(1).max(4096).default(32).describe('examples per optimiser step'),
  lr: z.number().gt(0).max(10).default(0.001).describe('peak learning rate'),
  beta1: z.number().min(0).lt(1).default(0.9).describe('Adam β1'),
  beta2: z.number().min(0).lt(1).default(0.999).describe('Adam β2'),
  adam_epsilon: z.number().gt(0).default(1e-8).describe('Adam ε'),
  weight_decay: z.number().min(0).default(0.01).describe('decoupled weight decay (AdamW) on weight matrices'),
  warmup_steps: z.number().int().min(0).default(50).describe('linear warm-up steps before the cosine decay'),
  min_lr_ratio: z.number().min(0).max(1).default(0.05).describe('cosine floor as a fraction of lr'),
  grad_clip: z.number().min(0).default(1.0).describe('clip the global gradient norm to this (0: off)'),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(1).describe('seed of data generation, initialisation and shuffling'),
  patience: z.number().int().min(0).default(0).describe('stop after this many epochs without a better validation loss (0: never)'),
  advance_threshold: z.number().min(0).max(1).default(0.9).describe('curriculum: validation exact match that advances to the next level'),
  min_epochs_per_level: z.number().int().min(1).default(2).describe('curriculum: epochs on a level before it may advance'),
  term_sample: z.number().int().min(1).max(100_000).default(64).describe('cross-entropy runs: training examples on which the structural terms are measured after each epoch (the training steps skip them)'),
  monitor_examples: z.number().int().min(1).default(200).describe('validation examples the GED/WL monitors score each epoch'),
  // 200: with the clock read by work done (src/metrics/ged.ts), 20 ms left 21 of 200 sort outputs of 24–32 graphemes
  // unsolved (mean GED 0.755 against the exact 0.170), 200 ms none, in 2.1 s for the 200 pairs.
  ged_timeout_ms: z.number().min(0).default(200).describe('exact GED time budget per pair; past it the bracket is reported'),
  wl_iterations: z.number().int().min(0).max(100).default(3).describe('WL iterations of the similarity monitor'),
  threads: z.number().int().min(1).max(64).default(1).describe("the engine's intra-op threads (1: measured fastest at the built-in sizes on 2 cores, bench/step)"),
  loss_threads: z.number().int().min(1).max(2).default(2).describe('threads that compute a structural or hybrid training batch\'s loss (2: where outputs have 10 slots or more, a helper thread takes half of each batch; the results are the same to the bit)'),
  max_bad_steps: z.number().int().min(1).default(20).describe('stop after this many consecutive steps with NaN/Inf loss or gradients'),
  output: z.string().min(1).nullable().default(null).describe('output directory (default runs/<task>-<loss mode>-<time>)'),
});

export const trainConfigSchema = trainKeysSchema.extend(trainingLossConfigSchema.shape).strict();
export type TrainConfig = z.infer<typeof trainConfigSchema>;

export function defaultTrainConfig(): TrainConfig {
  return trainConfigSchema.parse({});
}

/** Cross-key rules the per-key schema cannot state. */
function checkConsistency(c: TrainConfig, name: (key: string) => string): void {
  if (c.max_length < c.min_length) throw new UserError(`${name('max_length')}: ${c.max_length} is below min_length ${c.min_length}`);
  if (c.hidden_size % c.heads !== 0) throw new UserError(`${name('heads')}: ${c.heads} does not divide hidden_size ${c.hidden_size}`);
}

/** Read a YAML config file: a mapping of config keys. Syntax errors name the file, line and column. */
export function readConfigFile(path: string): Record<string, unknown> {
  const text = readTextFile(path, 'YAML config file');
  let doc: unknown;
  try {
    doc = YAML.parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    const e = err as { linePos?: Array<{ line: number; col: number }>; message?: string };
    const pos = e.linePos?.[0];
    const msg = (e.message ?? String(err)).split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new UserError(`${path}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML (${msg})`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new UserError(`${path}: expected a mapping of config keys, got ${Array.isArray(doc) ? 'a list' : typeof doc}`);
  return doc as Record<string, unknown>;
}

export interface ConfigSources {
  /** Path of a YAML config file, if any. */
  file?: string | undefined;
  /** Keys given as command-line flags (already converted to their types). */
  flags?: Record<string, unknown>;
}

/**
 * Resolve the training config with precedence built-in defaults < file < flags. Errors name the
 * source: `--flag` for flags, `FILE: key "name"` for file keys.
 */
export function resolveTrainConfig(src: ConfigSources = {}): TrainConfig {
  const fromFile = src.file ? readConfigFile(src.file) : {};
  const flags = src.flags ?? {};
  const merged = { ...fromFile, ...flags };
  const r = trainConfigSchema.safeParse(merged);
  const name = (key: string): string => (key in flags ? `--${key.replace(/_/g, '-')}` : src.file && key in fromFile ? `${src.file}: key "${key}"` : `key "${key}"`);
  if (!r.success) {
    const parts = r.error.issues.map((iss) => {
      if (iss.code === 'unrecognized_keys') {
        const known = Object.keys(trainConfigSchema.shape);
        const hints = iss.keys.map((k) => {
          const near = nearestName(k.replace(/-/g, '_'), known);
          return `"${k}"${near ? ` (did you mean "${near}"?)` : ''}`;
        });
        return `${src.file ?? 'config'}: unknown key${iss.keys.length > 1 ? 's' : ''} ${hints.join(', ')}; YAML keys are written with underscores (loss_mode: hybrid), and configs/default.yaml lists them all`;
      }
      const key = String(iss.path[0] ?? '');
      return `${key ? `${name(key)}${iss.path.length > 1 ? `[${iss.path.slice(1).join('.')}]` : ''}: ` : ''}${iss.message}`;
    });
    throw new UserError(parts.join('; '));
  }
  checkConsistency(r.data, name);
  return r.data;
}

/** The loss keys of a training config. */
export function lossConfigOf(c: TrainConfig): LossConfig {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(lossConfigSchema.shape)) out[k] = c[k as keyof TrainConfig];
  return lossConfigSchema.parse(out);
}

/** The config as YAML with every key, for --dry-run and configs/default.yaml. */
export function configToYaml(c: TrainConfig): string {
  const lines: string[] = [];
  const shape = trainConfigSchema.shape as Record<string, z.ZodType>;
  for (const [k, v] of Object.entries(c)) {
    const desc = shape[k]?.description;
    if (desc) lines.push(`# ${desc}`);
    lines.push(YAML.stringify({ [k]: v }, { lineWidth: 0 }).trimEnd());
  }
  return lines.join('\n') + '\n';
}

