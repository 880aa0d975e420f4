import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import cliProgress from 'cli-progress';
import { readCheckpoint } from '../train/checkpoint.js';
import { loadTrainingData } from '../train/data.js';
import { configToYaml, resolveTrainConfig, trainConfigSchema, type TrainConfig } from '../train/config.js';
import type { EpochMetrics } from '../train/metricsLog.js';
import { RESUMABLE_KEYS, checkpointPath, train, type TrainReporter } from '../train/trainer.js';
import { UserError } from '../util/errors.js';
import { info, out } from './io.js';
import type { Command, OptionSpecs, ParsedArgs } from './options.js';
import { flagName, optionSpecsFromSchema, partialFromFlags } from './schemaOptions.js';

/** Flags of every command that takes a training config: one per config key, plus --config. */
export function configOptionSpecs(): OptionSpecs {
  return {
    config: { kind: 'string', help: 'YAML config file (precedence: defaults < file < flags)', arg: 'FILE' },
    ...optionSpecsFromSchema(trainConfigSchema),
  };
}

/** The training config of a command line: defaults < --config file < flags; errors name the flag or the file's key. */
export function configFromArgs(args: ParsedArgs): TrainConfig {
  // resolveTrainConfig names each bad key by where it came from: --flag or FILE: key "name".
  return resolveTrainConfig({ file: typeof args.values.config === 'string' ? args.values.config : undefined, flags: partialFromFlags(trainConfigSchema, args.values, args.given) });
}

const fmt = (x: number, digits = 4): string => (Math.abs(x) >= 1000 ? x.toFixed(0) : x.toPrecision(digits));

/** One epoch as one line: what the plain log and the progress display print. */
export function epochLine(m: EpochMetrics, epochs: number): string {
  const width = String(epochs).length;
  const text = m.val.textExactMatch === null ? '' : `  text ${m.val.textExactMatch.toFixed(3)}`;
  return (
    `epoch ${String(m.epoch).padStart(width)}/${epochs}` +
    `  train ${fmt(m.train.loss)} (node ${fmt(m.train.node, 3)} edge ${fmt(m.train.edge, 3)} clique ${fmt(m.train.clique, 3)}${m.structuralTermsOn?.sample ? ` on ${m.structuralTermsOn.examples} examples` : ''} ce ${fmt(m.train.ce, 3)})` +
    `  val ${fmt(m.val.loss)}  exact ${m.val.exactMatch.toFixed(3)}${text}  GED ${m.val.ged.toFixed(2)}  WL ${m.val.wl.toFixed(3)}` +
    (m.matchingsChanged !== null ? `  reassigned ${m.matchingsChanged.toFixed(3)}` : '') +
    `  lr ${m.lr.toExponential(1)}  ${m.examplesPerSecond.toFixed(0)} ex/s  ${m.seconds.toFixed(1)}s` +
    (m.level !== null ? `  level ${m.level}` : '') +
    (m.skippedSteps > 0 ? `  skipped ${m.skippedSteps}` : '')
  );
}

/** Progress on a terminal (a bar with epoch, batch, loss and ETA), plain lines otherwise. */
export function makeReporter(json: boolean): TrainReporter {
  // With --json, stdout carries only the final object; the log goes to stderr.
  const log = json ? info : out;
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: 'epoch {epoch}/{epochs} |{bar}| {value}/{total} batches | loss {loss} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let barEpoch = 0;
  const withBarAside = (f: () => void): void => {
    if (bar && barEpoch > 0) bar.stop();
    f();
    barEpoch = 0;
  };
  return {
    start(s) {
      const c = s.config;
      log(
        [
          `${s.resumedAtEpoch !== null ? `resuming after epoch ${s.resumedAtEpoch}` : 'training'}: ${s.source}, ${s.trainExamples} training / ${s.valExamples} validation examples`,
          `model: ${s.parameters} parameters (d ${c.hidden_size}, ${c.encoder_layers}+${c.decoder_layers} layers, K ${c.max_nodes}); loss ${c.loss_mode}${c.loss_mode === 'hybrid' ? ` λ ${c.hybrid_lambda}` : ''}; ${c.epochs} epochs of batch ${c.batch_size}, lr ${c.lr}, seed ${c.seed}`,
          `output: ${s.outputDir}`,
        ].join('\n'),
      );
    },
    batch(b) {
      if (!bar) return;
      if (barEpoch !== b.epoch) {
        if (barEpoch > 0) bar.stop();
        bar.start(b.batches, 0, { epoch: b.epoch, epochs: b.epochs, loss: '—' });
        barEpoch = b.epoch;
      }
      bar.update(b.batch, { loss: fmt(b.loss) });
      if (b.batch === b.batches) {
        bar.stop();
        barEpoch = 0;
      }
    },
    epoch(m, epochs) {
      withBarAside(() => log(epochLine(m, epochs)));
    },
    note(text) {
      withBarAside(() => log(text));
    },
  };
}

/** Default output directory of a run: runs/<prefix><data|task>-<suffix>-<UTC time as YYYYMMDD-HHMMSS>. */
export function defaultRunDir(cfg: TrainConfig, prefix: string, suffix: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const base = join('runs', `${prefix}${cfg.data ? 'data' : cfg.task}${suffix ? `-${suffix}` : ''}-${stamp}`);
  // Two runs started in the same second get their own directories (-2, -3, …), not a refusal.
  let dir = base;
  for (let k = 2; existsSync(dir); k++) dir = `${base}-${k}`;
  return dir;
}

export const trainCommand: Command = {
  name: 'train',
  usage: 'grapheme train [--config F] [--task NAME | --data F] [--loss-mode structural|cross-entropy|hybrid] [config flags] [--output DIR] [--resume CKPT] [--dry-run] [--json]',
  summary: 'Train a graph-to-graph model (default: the reverse task with the structural loss).',
  options: {
    ...configOptionSpecs(),
    resume: { kind: 'string', help: 'continue a run from its checkpoint file or run directory', arg: 'CKPT' },
    'dry-run': { kind: 'boolean', help: 'print the resolved config as YAML and exit' },
    json: { kind: 'boolean', help: 'print one JSON summary object on stdout at the end (the log goes to stderr)' },
  },
  examples: [
    'grapheme train',
    'grapheme train --task math --levels 1,2 --loss-mode hybrid --epochs 10',
    'grapheme train --config configs/cross-entropy.yaml --seed 3 --output runs/ce3',
    'grapheme train --resume runs/ce3',
  ],
  async run(args) {
    const { values, given } = args;
    let cfg: TrainConfig;
    let resume;
    let outputDir: string;
    if (typeof values.resume === 'string') {
      const path = checkpointPath(values.resume);
      resume = readCheckpoint(path);
      if (typeof values.config === 'string') throw new UserError('train: --resume continues with the checkpoint\'s own config; --config cannot be combined with it');
      // The flags given, converted once: any that is not resumable must repeat the checkpoint's value.
      const overrides = partialFromFlags(trainConfigSchema, values, given);
      const k = Object.keys(overrides).find((key) => !RESUMABLE_KEYS.has(key) && JSON.stringify(overrides[key]) !== JSON.stringify(resume!.config[key as keyof TrainConfig]));
      if (k !== undefined) {
        throw new UserError(`train: --${flagName(k)} differs from the checkpoint (${JSON.stringify(resume.config[k as keyof TrainConfig])}); a resumed run keeps its config (only ${[...RESUMABLE_KEYS].map((x) => `--${flagName(x)}`).join(', ')} may change) — start a new run instead`);
      }
      const merged: Record<string, unknown> = { ...resume.config };
      // Checkpoints written before the onnxruntime engine carry the data-parallel `workers` key it replaced.
      delete merged['workers'];
      // Checkpoints written before the edge copy, the rank prior, the end positions, dropout, its sites, the unique labels' position weight, the detached rank head and the count attention existed have none of them: their config says so.
      if (!('edge_copy' in merged)) merged['edge_copy'] = resume.spec.edgeCopy === true;
      if (!('rank_detached' in merged)) merged['rank_detached'] = resume.spec.rankDetached === true;
      if (!('rank_prior' in merged)) merged['rank_prior'] = resume.spec.rankPrior ?? 0;
      if (!('end_positions' in merged)) merged['end_positions'] = resume.spec.endPositions === true;
      if (!('count_attention' in merged)) merged['count_attention'] = resume.spec.countAttention === true;
      if (!('dropout' in merged)) merged['dropout'] = 0;
      if (!('dropout_sites' in merged)) merged['dropout_sites'] = 'all';
      if (!('position_weight_unique' in merged)) merged['position_weight_unique'] = merged['position_weight'];
      for (const k of RESUMABLE_KEYS) if (k in overrides) merged[k] = overrides[k];
      cfg = resolveTrainConfig({ flags: merged });
      outputDir = cfg.output ?? dirname(path);
      // Extending a finished run by more epochs continues it; anything else that finished stays finished.
      if (resume.trainer.finished && cfg.epochs > resume.trainer.epoch && resume.trainer.stopReason?.startsWith('completed')) {
        resume.trainer.finished = false;
        resume.trainer.stopReason = null;
      }
    } else {
      cfg = configFromArgs(args);
      outputDir = cfg.output ?? defaultRunDir(cfg, '', cfg.loss_mode);
      if (existsSync(join(outputDir, 'checkpoint.ckpt'))) {
        throw new UserError(`train: ${outputDir} already holds a run (checkpoint.ckpt); continue it with --resume ${outputDir}, or choose another --output`);
      }
    }
    if (values['dry-run']) {
      // Everything a real run checks before training: the data loads (or generates) and fits the model.
      for (const n of loadTrainingData(cfg).notes) info(n);
      out(configToYaml(cfg));
      return 0;
    }
    const json = values.json === true;
    const summary = await train(cfg, outputDir, makeReporter(json), resume);
    const last = summary.metrics.at(-1) ?? null;
    if (json) {
      out(JSON.stringify({ outputDir: summary.outputDir, checkpoint: summary.checkpoint, epochs: summary.epochs, stopReason: summary.stopReason, interrupted: summary.interrupted, parameters: summary.parameters, seconds: summary.seconds, final: last, config: cfg }));
    } else {
      out(`checkpoint: ${summary.checkpoint}\ntry it: ${tryIt(cfg, summary)}`);
    }
    return summary.interrupted ? 130 : 0;
  },
};

/** The command that shows a trained model at work: predict on a text, or eval where its inputs are graphs. */
function tryIt(cfg: TrainConfig, summary: { checkpoint: string; textInputs: boolean }): string {
  if (!summary.textInputs) return `npx grapheme eval --checkpoint ${summary.checkpoint}${cfg.data ? ` --data ${cfg.data}` : ''}`;
  return `npx grapheme predict --checkpoint ${summary.checkpoint} ${cfg.task === 'math' ? '"(+ 2 3)"' : 'abcd'}`;
}
