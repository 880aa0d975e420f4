import { BUILDERS, textToGraph, type BuilderName } from '../graph/builders.js';
import { graphToDot, graphToJson, readGraphFile } from '../graph/io.js';
import { UserError } from '../util/errors.js';
import { out } from './io.js';
import type { Command } from './options.js';

export const graphCommand: Command = {
  name: 'graph',
  positionals: true,
  usage: 'grapheme graph TEXT [--builder words|chain|polish] [--format json|dot]  |  grapheme graph --from G.json [--format json|dot]',
  summary: 'Turn text into a graph of graphemes (or read a graph file: node-link, NetworkX, GRAPHEME-Math) and print it as node-link JSON or Graphviz DOT.',
  options: {
    builder: { kind: 'choice', choices: BUILDERS, default: 'words', help: 'text → graph builder' },
    format: { kind: 'choice', choices: ['json', 'dot'], default: 'json', help: 'output format' },
    from: { kind: 'string', help: 'read this graph JSON file instead of a TEXT (validated; an undirected graph stays undirected)', arg: 'G.json' },
  },
  examples: ['grapheme graph "héllo 👍🏽"', 'grapheme graph "(+ (* 2 3) 4)" --builder polish --format dot > tree.dot'],
  async run({ values, positionals }) {
    if (typeof values.from === 'string' && positionals.length > 0) throw new UserError('graph: give either TEXT or --from G.json, not both');
    if (typeof values.from !== 'string' && positionals.length !== 1) throw new UserError('graph: give exactly one TEXT argument (quote it if it has spaces), or --from G.json');
    const g = typeof values.from === 'string' ? readGraphFile(values.from) : textToGraph(positionals[0]!, values.builder as BuilderName);
    out(values.format === 'dot' ? graphToDot(g) : JSON.stringify(graphToJson(g)));
    return 0;
  },
};
