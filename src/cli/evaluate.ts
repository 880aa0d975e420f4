import { hasTargetTexts, readDataset } from '../data/jsonl.js';
import { recordToExample } from '../data/records.js';
import { generateRecords, isGraphTask, isTaskName, TASKS } from '../data/tasks.js';
import { targetFromGraph, alphabetIndex } from '../loss/softGraph.js';
import { meanTerms } from '../loss/batch.js';
import { computeMonitors } from '../train/monitors.js';
import { loadModel, validate } from '../train/trainer.js';
import { buildOptions } from '../train/data.js';
import { UserError } from '../util/errors.js';
import { info, out } from './io.js';
import type { Command } from './options.js';

export const evalCommand: Command = {
  name: 'eval',
  usage: 'grapheme eval --checkpoint F (--data F | --task NAME) [--count N] [--json]',
  summary: "Score a trained model: loss terms, exact match, GED and WL similarity on a dataset or a task's test split.",
  options: {
    checkpoint: { kind: 'string', help: 'checkpoint file or run directory', arg: 'F' },
    data: { kind: 'string', help: 'JSONL dataset to score (every record)', arg: 'F' },
    task: { kind: 'choice', choices: TASKS, help: "built-in task: its held-out test split, generated with the checkpoint's task settings" },
    count: { kind: 'integer', min: 1, default: 200, help: 'test examples to generate with --task', arg: 'N' },
    json: { kind: 'boolean', help: 'print one JSON object on stdout' },
  },
  examples: ['grapheme eval --checkpoint runs/ce3', 'grapheme eval --checkpoint runs/ce3/checkpoint.ckpt --task copy --count 50'],
  async run({ values }) {
    if (typeof values.checkpoint !== 'string') throw new UserError('eval: --checkpoint F is required');
    if (typeof values.data === 'string' && typeof values.task === 'string') throw new UserError('eval: give one of --data F or --task NAME, not both');
    const { ckpt, model } = loadModel(values.checkpoint);
    const cfg = ckpt.config;
    // Neither given: the checkpoint's own data, a task's held-out test split or its dataset file.
    if (values.data === undefined && values.task === undefined) {
      if (cfg.data) values.data = cfg.data;
      else values.task = cfg.task;
      info(`eval: ${cfg.data ? `the checkpoint's dataset ${cfg.data}` : `the test split of the checkpoint's task ${cfg.task}`}`);
    }
    try {
      let examples;
      let hasTexts = true;
      if (typeof values.data === 'string') {
        const ds = readDataset(values.data);
        hasTexts = hasTargetTexts(ds.format);
        examples = ds.records.map((r) => recordToExample(r, buildOptions(cfg, 3)));
      } else {
        const task = values.task;
        if (!isTaskName(task)) throw new UserError(`eval: unknown task ${String(task)}`);
        hasTexts = !isGraphTask(task);
        const spec = { task, levels: cfg.levels, alphabet: cfg.alphabet, minLength: cfg.min_length, maxLength: cfg.max_length };
        examples = generateRecords(spec, values.count as number, cfg.seed * 1000 + 999, 'test').map((r) => recordToExample(r, buildOptions(cfg, 3)));
      }
      const K = model.spec.K;
      const tooBig = examples.find((e) => e.target.nodes.length > K);
      if (tooBig) throw new UserError(`eval: example ${tooBig.id} has ${tooBig.target.nodes.length} target nodes, more than the model's K = ${K}`);
      const index = alphabetIndex(model.spec.alphabet);
      const labels = examples.flatMap((e) => [...e.input.nodes, ...e.target.nodes].map((n) => n.label));
      const outside = labels.filter((l) => !index.has(l)).length;
      if (outside > labels.length / 2) info(`eval: ${outside} of ${labels.length} labels in this data are outside the checkpoint's alphabet (it was trained on ${cfg.data ?? `task ${cfg.task}`}); the scores say little`);
      const targets = examples.map((e) => targetFromGraph(e.target, index));
      const v = await validate(model, examples, targets, cfg, hasTexts, cfg.batch_size);
      const mon = computeMonitors({ epoch: 0, pairs: v.decoded.map((pred, i) => ({ pred, target: examples[i]!.target })), gedTimeoutMs: cfg.ged_timeout_ms, wlIterations: cfg.wl_iterations });
      const result = { examples: examples.length, lossMode: cfg.loss_mode, ...meanTerms(v.sums), exactMatch: mon.exactMatch, textExactMatch: v.textExactMatch, ged: mon.ged, gedLowerBound: mon.gedLowerBound, wl: mon.wl };
      if (values.json) out(JSON.stringify(result));
      else
        out(
          [
            `${examples.length} examples, ${cfg.loss_mode} loss ${result.loss.toPrecision(5)} (node ${result.node.toPrecision(4)}, edge ${result.edge.toPrecision(4)}, clique ${result.clique.toPrecision(4)}, ce ${result.ce.toPrecision(4)})`,
            `exact match ${result.exactMatch.toFixed(3)}${result.textExactMatch === null ? '' : `, text exact match ${result.textExactMatch.toFixed(3)}`}, GED ${result.ged.toFixed(3)} (lower bound ${result.gedLowerBound.toFixed(3)}), WL ${result.wl.toFixed(3)}`,
          ].join('\n'),
        );
      return 0;
    } finally {
      await model.dispose();
    }
  },
};
