import { BUILDERS, textToGraph, type BuilderName } from '../graph/builders.js';
import { graphToDot, graphToJson } from '../graph/io.js';
import { UserError } from '../util/errors.js';
import { out } from './io.js';
import type { Command } from './options.js';

export const graphCommand: Command = {
  name: 'graph',
  positionals: true,
  usage: 'grapheme graph TEXT [--builder words|chain|polish] [--format json|dot]',
  summary: 'Turn text into a graph of graphemes and print it as node-link JSON or Graphviz DOT.',
  options: {
    builder: { kind: 'choice', choices: BUILDERS, default: 'words', help: 'text → graph builder' },
    format: { kind: 'choice', choices: ['json', 'dot'], default: 'json', help: 'output format' },
  },
  examples: ['grapheme graph "héllo 👍🏽"', 'grapheme graph "(+ (* 2 3) 4)" --builder polish --format dot > tree.dot'],
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UserError('graph: give exactly one TEXT argument (quote it if it has spaces)');
    const g = textToGraph(positionals[0]!, values.builder as BuilderName);
    out(values.format === 'dot' ? graphToDot(g) : JSON.stringify(graphToJson(g)));
    return 0;
  },
};
