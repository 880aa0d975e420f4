import { graphFromJson, readGraphFile } from '../graph/io.js';
import { isUndirected } from '../graph/types.js';
import { bpGed, exactGed, type EditOperation, type GedCosts, type GedResult } from '../metrics/ged.js';
import { UserError } from '../util/errors.js';
import { out } from './io.js';
import type { Command, OptionValues } from './options.js';
import { readJsonlPairs, withLine } from './pairs.js';

const COST_FLAGS: Array<[string, keyof GedCosts]> = [
  ['node-substitution-cost', 'nodeSubstitution'],
  ['node-insertion-cost', 'nodeInsertion'],
  ['node-deletion-cost', 'nodeDeletion'],
  ['edge-insertion-cost', 'edgeInsertion'],
  ['edge-deletion-cost', 'edgeDeletion'],
];

function costsFrom(values: OptionValues): GedCosts {
  return Object.fromEntries(COST_FLAGS.map(([flag, key]) => [key, values[flag] as number])) as unknown as GedCosts;
}

function formatOperation(op: EditOperation, arrow: string): string {
  switch (op.op) {
    case 'substitute-node':
      return `substitute node ${String(op.from)} ${JSON.stringify(op.fromLabel)} → ${String(op.to)} ${JSON.stringify(op.toLabel)}`;
    case 'delete-node':
      return `delete node ${String(op.node)}`;
    case 'insert-node':
      return `insert node ${String(op.node)}`;
    case 'delete-edge':
      return `delete ${op.type} edge ${String(op.source)} ${arrow} ${String(op.target)}`;
    case 'insert-edge':
      return `insert ${op.type} edge ${String(op.source)} ${arrow} ${String(op.target)}`;
  }
}

const bracket = (r: GedResult): Record<string, unknown> => ({ ged: r.ged, lowerBound: r.lowerBound, upperBound: r.upperBound, exact: r.exact, timeMs: r.timeMs });

export const gedCommand: Command = {
  name: 'ged',
  positionals: true,
  usage: 'grapheme ged G1.json G2.json [--method exact|bp] [--timeout-ms N] [--json]  |  grapheme ged --pairs FILE.jsonl',
  summary: 'Graph edit distance between two graphs: exact (branch and bound, time-limited) or bipartite approximation.',
  options: {
    method: { kind: 'choice', choices: ['exact', 'bp'], default: 'exact', help: 'exact search, or the Riesen–Bunke bipartite upper bound (fast)' },
    'timeout-ms': { kind: 'number', min: 0, default: 1000, help: 'time budget of the exact search; past it the best bracket is returned with exact: false', arg: 'N' },
    ...Object.fromEntries(COST_FLAGS.map(([flag]) => [flag, { kind: 'number' as const, min: 0, default: 1, help: `cost of one ${flag.replace(/-cost$/, '').replace('-', ' ')}`, arg: 'C' }])),
    pairs: { kind: 'string', help: 'JSONL of {"g1","g2"} lines; prints one JSON line per pair, in order', arg: 'FILE' },
    json: { kind: 'boolean', help: 'print one JSON object (with the node map and edit path) on stdout' },
  },
  examples: ['grapheme graph hello > a.json && grapheme graph hallo > b.json && grapheme ged a.json b.json', 'grapheme ged a.json b.json --method bp --json'],
  async run({ values, positionals }) {
    const costs = costsFrom(values);
    const compute = (g1: Parameters<typeof exactGed>[0], g2: Parameters<typeof exactGed>[1]): GedResult =>
      values.method === 'bp' ? bpGed(g1, g2, { costs }) : exactGed(g1, g2, { costs, timeMs: values['timeout-ms'] as number });
    if (typeof values.pairs === 'string') {
      if (positionals.length > 0) throw new UserError('ged: give either G1.json G2.json or --pairs FILE, not both');
      const pairs = readJsonlPairs(values.pairs, ['g1', 'g2']).map(({ where, first, second }) => [graphFromJson(first, `${where}: g1`), graphFromJson(second, `${where}: g2`), where] as const);
      out(pairs.map(([a, b, where]) => JSON.stringify(bracket(withLine(where, () => compute(a, b))))).join('\n'));
      return 0;
    }
    if (positionals.length !== 2) throw new UserError('ged: give G1.json and G2.json (or --pairs FILE.jsonl)');
    const g1 = readGraphFile(positionals[0]!);
    const r = compute(g1, readGraphFile(positionals[1]!));
    if (values.json) {
      out(JSON.stringify({ ...bracket(r), nodeMap: r.nodeMap, editPath: r.editPath }));
      return 0;
    }
    const how = values.method === 'bp' ? 'bipartite approximation' : 'exact search';
    const status = r.exact ? (values.method === 'bp' ? 'bounds meet, so exact' : 'exact') : `true distance in [${r.lowerBound}, ${r.upperBound}]${values.method === 'bp' ? '' : `, not proven within ${String(values['timeout-ms'])} ms`}`;
    const lines = [`ged ${r.ged}   (${how}: ${status}; ${r.timeMs.toFixed(2)} ms)`, ...r.editPath.map((op) => `  ${formatOperation(op, isUndirected(g1) ? '–' : '→')}`)];
    out(lines.join('\n'));
    return 0;
  },
};
