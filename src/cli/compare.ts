import { cpus } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { LOSS_MODES, type LossMode } from '../loss/config.js';
import { exactGed } from '../metrics/ged.js';
import { decodeSoftGraph, engineName } from '../model/index.js';
import { reportHtml, reportMarkdown, finalTable, type GalleryItem, type RunMetrics } from '../report/report.js';
import { resolveTrainConfig, type TrainConfig } from '../train/config.js';
import { buildersOf, loadTrainingData } from '../train/data.js';
import { writeFileAtomic } from '../train/files.js';
import { loadModel, train, type TrainReporter } from '../train/trainer.js';
import { UserError } from '../util/errors.js';
import { info, out } from './io.js';
import type { Command } from './options.js';
import { configFromArgs, configOptionSpecs, defaultRunDir, epochLine } from './train.js';

const GALLERY_SIZE = 6;

function parseModes(text: string): LossMode[] {
  const modes = text.split(',').map((s) => s.trim()).filter((s) => s);
  for (const m of modes) if (!(LOSS_MODES as readonly string[]).includes(m)) throw new UserError(`--modes: ${JSON.stringify(m)} is not one of ${LOSS_MODES.join(', ')}`);
  if (modes.length === 0) throw new UserError('--modes: give at least one loss mode');
  return [...new Set(modes)] as LossMode[];
}

/** Validation examples drawn with each mode's first-seed model, matched nodes marked by exact GED. */
async function gallery(cfg: TrainConfig, runDirs: Map<LossMode, string>): Promise<GalleryItem[]> {
  const data = loadTrainingData(cfg);
  const val = data.stages[0]!.val.slice(0, GALLERY_SIZE);
  const items: GalleryItem[] = val.map((e) => ({ input: e.inputText ?? e.id, target: e.target, predictions: [] }));
  for (const [mode, dir] of runDirs) {
    const { model } = loadModel(dir);
    try {
      (await model.predictGraphs(val.map((e) => e.input))).forEach((p, i) => {
        const graph = decodeSoftGraph(p, model.spec.alphabet, model.spec.outputTypes, model.spec.undirectedOutput);
        const matched = exactGed(graph, val[i]!.target, { timeMs: 200 }).nodeMap.map(([, to]) => to !== null);
        items[i]!.predictions.push({ mode, graph, matched });
      });
    } finally {
      await model.dispose();
    }
  }
  return items;
}

export const compareCommand: Command = {
  name: 'compare',
  usage: 'grapheme compare [--config F] (--task NAME | --data F) [--modes structural,cross-entropy,hybrid] [--seeds N] [--epochs N] [--output DIR] [config flags]',
  summary: 'Train one model per loss mode and seed on the same data and budget; write report.html, report.md and summary.json.',
  options: {
    ...configOptionSpecs(),
    output: { kind: 'string', help: 'output directory (default runs/compare-<task or data>-<time>)', arg: 'DIR' },
    modes: { kind: 'string', default: 'structural,cross-entropy,hybrid', help: 'loss modes to compare, comma-separated', arg: 'LIST' },
    seeds: { kind: 'integer', min: 1, max: 100, default: 3, help: 'seeds per mode (seed, seed+1, …); at least 3 before a claim', arg: 'N' },
  },
  examples: ['grapheme compare --task reverse --output runs/compare-reverse', 'grapheme compare --task tree --epochs 30 --modes structural,cross-entropy'],
  async run(args) {
    const base = configFromArgs(args);
    const modes = parseModes(String(args.values.modes));
    const seeds = args.values.seeds as number;
    const outputDir = base.output ?? defaultRunDir(base, 'compare-', '');
    if (existsSync(join(outputDir, 'summary.json'))) throw new UserError(`compare: ${outputDir} already holds a comparison (summary.json); choose another --output`);
    const runs: RunMetrics[] = [];
    const firstSeedDirs = new Map<LossMode, string>();
    const total = modes.length * seeds;
    const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'compare |{bar}| {value}/{total} epochs | {run}', stream: process.stderr, clearOnComplete: true }, cliProgress.Presets.shades_classic) : null;
    bar?.start(total * base.epochs, 0, { run: '' });
    let done = 0;
    const t0 = performance.now();
    for (const mode of modes) {
      for (let k = 0; k < seeds; k++) {
        const seed = base.seed + k;
        const cfg = resolveTrainConfig({ flags: { ...base, loss_mode: mode, seed, output: null } });
        const dir = join(outputDir, 'runs', `${mode}-seed${seed}`);
        const tag = `[${done + 1}/${total} ${mode} seed ${seed}]`;
        const reporter: TrainReporter = {
          start: () => bar?.update({ run: tag }),
          batch: () => {},
          epoch: (m, epochs) => {
            bar?.increment();
            if (!bar) out(`${tag} ${epochLine(m, epochs)}`);
          },
          note: (text) => (bar ? undefined : info(`${tag} ${text}`)),
        };
        const s = await train(cfg, dir, reporter);
        if (s.interrupted) {
          bar?.stop();
          throw new UserError(`compare: interrupted during ${tag}; finished runs are in ${outputDir}/runs`);
        }
        runs.push({ mode, seed, metrics: s.metrics });
        if (k === 0) firstSeedDirs.set(mode, dir);
        done++;
      }
    }
    bar?.stop();
    const commandLine = `grapheme compare ${process.argv.slice(3).join(' ')}`.trim();
    const title = `grapheme compare: ${base.data ?? `task ${base.task}`}`;
    const data = loadTrainingData(base);
    const examples = data.stages.map((st) => `${st.train.length}${st.level !== null ? ` (level ${st.level})` : ''}`).join(' + ');
    const budget = `${base.epochs} epoch${base.epochs === 1 ? '' : 's'} × ${examples} training examples, ${data.stages.map((st) => st.val.length).join(' + ')} validation, batch ${base.batch_size}, lr ${base.lr}, seeds ${base.seed}…${base.seed + seeds - 1}`;
    const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${engineName()}`;
    const input = { title, commandLine, machine, budget, modes, runs, gallery: await gallery(base, firstSeedDirs), builder: buildersOf(base).target };
    writeFileAtomic(join(outputDir, 'report.html'), reportHtml(input));
    writeFileAtomic(join(outputDir, 'report.md'), reportMarkdown(input));
    const table = finalTable(modes, runs);
    writeFileAtomic(join(outputDir, 'summary.json'), JSON.stringify({ commandLine, budget, machine, seconds: (performance.now() - t0) / 1000, config: base, table, runs: runs.map((r) => ({ mode: r.mode, seed: r.seed, metricsFile: join('runs', `${r.mode}-seed${r.seed}`, 'metrics.jsonl'), final: r.metrics.at(-1) ?? null })) }, null, 2) + '\n');
    out(`${reportMarkdown(input)}\nreport: ${join(outputDir, 'report.html')}`);
    return 0;
  },
};
