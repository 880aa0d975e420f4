import { graphFromJson, readGraphFile } from '../graph/io.js';
import { wlSimilarity } from '../metrics/wl.js';
import { UserError } from '../util/errors.js';
import { out } from './io.js';
import type { Command } from './options.js';
import { readJsonlPairs, withLine } from './pairs.js';

export const wlCommand: Command = {
  name: 'wl',
  positionals: true,
  usage: 'grapheme wl G1.json G2.json [--iterations N] [--undirected] [--json]  |  grapheme wl --pairs FILE.jsonl',
  summary: 'Weisfeiler–Lehman subtree kernel similarity of two graphs, in [0, 1].',
  options: {
    iterations: { kind: 'integer', min: 0, max: 1000, default: 3, help: 'WL refinement iterations h', arg: 'N' },
    undirected: { kind: 'boolean', help: 'pool in- and out-neighbours (by default direction matters)' },
    pairs: { kind: 'string', help: 'JSONL of {"g1","g2"} lines; prints one {"similarity"} line per pair', arg: 'FILE' },
    json: { kind: 'boolean', help: 'print one JSON object on stdout' },
  },
  examples: ['grapheme graph abc > a.json && grapheme graph cba > b.json && grapheme wl a.json b.json'],
  async run({ values, positionals }) {
    const opts = { iterations: values.iterations as number, undirected: values.undirected === true };
    if (typeof values.pairs === 'string') {
      if (positionals.length > 0) throw new UserError('wl: give either G1.json G2.json or --pairs FILE, not both');
      const pairs = readJsonlPairs(values.pairs, ['g1', 'g2']).map(({ where, first, second }) => [graphFromJson(first, `${where}: g1`), graphFromJson(second, `${where}: g2`), where] as const);
      out(pairs.map(([a, b, where]) => JSON.stringify({ similarity: withLine(where, () => wlSimilarity(a, b, opts)) })).join('\n'));
      return 0;
    }
    if (positionals.length !== 2) throw new UserError('wl: give G1.json and G2.json (or --pairs FILE.jsonl)');
    const s = wlSimilarity(readGraphFile(positionals[0]!), readGraphFile(positionals[1]!), opts);
    out(values.json ? JSON.stringify({ similarity: s, iterations: opts.iterations, undirected: opts.undirected }) : `WL similarity ${s.toFixed(6)} (h = ${opts.iterations}${opts.undirected ? ', undirected' : ''})`);
    return 0;
  },
};
