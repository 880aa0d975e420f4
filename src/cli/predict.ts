import { readFileSync } from 'node:fs';
import { graphToJson, readGraphsFile } from '../graph/io.js';
import type { Graph } from '../graph/types.js';
import { loadModel } from '../train/trainer.js';
import { predictInputs, type Prediction } from '../train/predict.js';
import { UserError } from '../util/errors.js';
import { info, out } from './io.js';
import type { Command } from './options.js';

export const predictCommand: Command = {
  name: 'predict',
  positionals: true,
  usage: 'grapheme predict --checkpoint F [TEXT...]   (lines of stdin when no TEXT)  |  grapheme predict --checkpoint F --graphs G.jsonl',
  summary: 'Run a trained model on texts (or on graphs, for a model trained on graph inputs): prints the predicted text and graph for each.',
  options: {
    checkpoint: { kind: 'string', help: 'checkpoint file or run directory', arg: 'F' },
    graphs: { kind: 'string', help: 'read input graphs from this file (one JSON graph, or one per line) instead of texts', arg: 'G.jsonl' },
    json: { kind: 'boolean', help: 'one JSON object per input: {"input", "text", "graph"}' },
  },
  examples: ['grapheme predict --checkpoint runs/ce3/checkpoint.ckpt abcd', 'printf "abc\\nhgf\\n" | grapheme predict --checkpoint runs/ce3'],
  async run({ values, positionals }) {
    if (typeof values.checkpoint !== 'string') throw new UserError('predict: --checkpoint F is required');
    if (typeof values.graphs === 'string' && positionals.length > 0) throw new UserError('predict: give either TEXT arguments or --graphs G.jsonl, not both');
    // The checkpoint is read (and a missing or corrupt one reported) before anything waits on stdin.
    const { ckpt, model } = loadModel(values.checkpoint);
    try {
      const inputs: Array<string | Graph> = typeof values.graphs === 'string' ? readGraphsFile(values.graphs) : positionals.length > 0 ? positionals : readFileSync(0, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
      if (inputs.length === 0) throw new UserError('predict: no input (give TEXT arguments, lines on stdin, or --graphs G.jsonl)');
      const results = await predictInputs({ ckpt, model }, inputs);
      results.forEach((r, i) => warnAbout(r, i, model.spec.inputTypes));
      const shown = (x: string | Graph, i: number): string => (typeof x === 'string' ? x : `graph ${i + 1}`);
      const lines = results.map((r, i) => (values.json ? JSON.stringify({ input: typeof r.input === 'string' ? r.input : graphToJson(r.input), text: r.text, graph: graphToJson(r.graph) }) : `${shown(r.input, i)}\t→\t${r.text}`));
      out(lines.join('\n'));
      return 0;
    } finally {
      await model.dispose();
    }
  },
};

/** Tell the user, on stderr, where an input is one the model reads only in part. */
function warnAbout(r: Prediction, i: number, inputTypes: readonly string[]): void {
  const nodes = typeof r.input === 'string' ? r.input.length : r.input.nodes.length;
  if (nodes === 0) info(`predict: input ${i + 1} is empty; the model answers it anyway`);
  if (r.unknown.length > 0) info(`predict: input ${i + 1} has graphemes the model never saw in training (${r.unknown.map((l) => JSON.stringify(l)).join(', ')}); it reads them as one unknown label`);
  if (r.unreadEdges > 0) {
    const hint = typeof r.input === 'string' ? ' (a model trained on graph inputs takes them with --graphs)' : '';
    info(`predict: input ${i + 1} has ${r.unreadEdges} edges of types the model was not trained on (it reads ${inputTypes.length > 0 ? inputTypes.join(', ') : 'no edges'}); it ignores them${hint}`);
  }
}
