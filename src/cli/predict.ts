import { readFileSync } from 'node:fs';
import { graphToText, textToGraph } from '../graph/builders.js';
import { graphToJson } from '../graph/io.js';
import { decodeSoftGraph } from '../model/index.js';
import { initEngine } from '../model/engine.js';
import { loadModel } from '../train/trainer.js';
import { buildersOf } from '../train/data.js';
import { UserError } from '../util/errors.js';
import { info, out } from './io.js';
import type { Command } from './options.js';

export const predictCommand: Command = {
  name: 'predict',
  positionals: true,
  usage: 'grapheme predict --checkpoint F [TEXT...]   (lines of stdin when no TEXT)',
  summary: 'Run a trained model on texts: prints the predicted text and graph for each.',
  options: {
    checkpoint: { kind: 'string', help: 'checkpoint file or run directory', arg: 'F' },
    json: { kind: 'boolean', help: 'one JSON object per input: {"input", "text", "graph"}' },
  },
  examples: ['grapheme predict --checkpoint runs/reverse/checkpoint.ckpt abcd', 'printf "abc\\nhgf\\n" | grapheme predict --checkpoint runs/reverse'],
  async run({ values, positionals }) {
    if (typeof values.checkpoint !== 'string') throw new UserError('predict: --checkpoint F is required');
    // The checkpoint is read (and a missing or corrupt one reported) before anything waits on stdin.
    await initEngine();
    const { ckpt, model } = loadModel(values.checkpoint);
    try {
      const texts = positionals.length > 0 ? positionals : readFileSync(0, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
      if (texts.length === 0) throw new UserError('predict: no input (give TEXT arguments or lines on stdin)');
      const cfg = ckpt.config;
      const known = new Set(model.spec.alphabet.slice(1));
      const graphs = texts.map((t, i) => {
        const g = textToGraph(t, buildersOf(cfg).input);
        if (g.nodes.length > cfg.max_input_nodes) throw new UserError(`predict: input ${i + 1} has ${g.nodes.length} graphemes, more than the model's max_input_nodes ${cfg.max_input_nodes}`);
        if (g.nodes.length === 0) info(`predict: input ${i + 1} is empty; the model answers it anyway`);
        const unknown = [...new Set(g.nodes.map((n) => n.label).filter((l) => !known.has(l)))];
        if (unknown.length > 0) info(`predict: input ${i + 1} has graphemes the model never saw in training (${unknown.map((l) => JSON.stringify(l)).join(', ')}); it reads them as one unknown label`);
        return g;
      });
      const lines = model.predictGraphs(graphs, cfg.batch_size).map((p, i) => {
        const g = decodeSoftGraph(p, model.spec.alphabet, model.spec.outputTypes);
        const text = graphToText(g, buildersOf(cfg).target);
        const input = texts[i]!;
        return values.json ? JSON.stringify({ input, text, graph: graphToJson(g) }) : `${input}\t→\t${text}`;
      });
      out(lines.join('\n'));
      return 0;
    } finally {
      model.dispose();
    }
  },
};
