import { readFileSync } from 'node:fs';
import { graphToJson } from '../graph/io.js';
import { loadModel } from '../train/trainer.js';
import { predictTexts } from '../train/predict.js';
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
  examples: ['grapheme predict --checkpoint runs/ce3/checkpoint.ckpt abcd', 'printf "abc\\nhgf\\n" | grapheme predict --checkpoint runs/ce3'],
  async run({ values, positionals }) {
    if (typeof values.checkpoint !== 'string') throw new UserError('predict: --checkpoint F is required');
    // The checkpoint is read (and a missing or corrupt one reported) before anything waits on stdin.
    const { ckpt, model } = loadModel(values.checkpoint);
    try {
      const texts = positionals.length > 0 ? positionals : readFileSync(0, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
      if (texts.length === 0) throw new UserError('predict: no input (give TEXT arguments or lines on stdin)');
      const results = await predictTexts({ ckpt, model }, texts);
      results.forEach((r, i) => {
        if (r.input.length === 0) info(`predict: input ${i + 1} is empty; the model answers it anyway`);
        if (r.unknown.length > 0) info(`predict: input ${i + 1} has graphemes the model never saw in training (${r.unknown.map((l) => JSON.stringify(l)).join(', ')}); it reads them as one unknown label`);
      });
      const lines = results.map((r) => (values.json ? JSON.stringify({ input: r.input, text: r.text, graph: graphToJson(r.graph) }) : `${r.input}\t→\t${r.text}`));
      out(lines.join('\n'));
      return 0;
    } finally {
      await model.dispose();
    }
  },
};
