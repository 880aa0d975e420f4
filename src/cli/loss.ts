import { readJsonFile } from '../util/files.js';
import { lossForMode } from '../loss/crossEntropy.js';
import type { LossResult } from '../loss/structural.js';
import { lossPairFromJson } from '../loss/io.js';
import { EDGE_TYPES } from '../graph/types.js';
import { UserError } from '../util/errors.js';
import { readJsonlPairs } from './pairs.js';
import { out } from './io.js';
import { lossConfigFromFlags, lossOptionSpecs } from './lossOptions.js';
import type { Command } from './options.js';

function resultJson(r: LossResult, withGradients: boolean, alphabet: string[]): Record<string, unknown> {
  const o: Record<string, unknown> = { total: r.total, node: r.node, edge: r.edge, clique: r.clique, ce: r.ce, sinkhorn: r.sinkhorn };
  if (withGradients) {
    const edges: Record<string, number[]> = {};
    for (const t of EDGE_TYPES) if (r.gradients.edges[t]) edges[t] = Array.from(r.gradients.edges[t]!);
    o.gradients = { alphabet, exist: Array.from(r.gradients.exist), labels: Array.from(r.gradients.labels), edges };
  }
  return o;
}

const fmt = (x: number | null): string => (x === null ? '—' : x.toPrecision(6));

export const lossCommand: Command = {
  name: 'loss',
  positionals: true,
  usage: 'grapheme loss PRED.json TARGET.json [loss flags] [--gradients] [--json]  |  grapheme loss --pairs FILE.jsonl',
  summary: 'Structural loss of a predicted graph (SoftGraph JSON or a crisp graph) against a target graph.',
  options: {
    ...lossOptionSpecs(),
    gradients: { kind: 'boolean', help: 'include the gradients with respect to exist, labels and edges' },
    pairs: { kind: 'string', help: 'JSONL of {"pred","target"} lines; prints one JSON result per line', arg: 'FILE' },
    json: { kind: 'boolean', help: 'print one JSON object on stdout' },
  },
  examples: ['grapheme graph hello > t.json && grapheme loss t.json t.json', 'grapheme loss pred.json target.json --gradient unrolled --json'],
  async run({ values, positionals, given }) {
    const cfg = lossConfigFromFlags(values, given);
    const withGradients = values.gradients === true;
    if (typeof values.pairs === 'string') {
      if (positionals.length > 0) throw new UserError('loss: give either PRED.json TARGET.json or --pairs FILE, not both');
      const outLines = readJsonlPairs(values.pairs, ['pred', 'target']).map(({ where, first, second }) => {
        const pair = lossPairFromJson(first, second, `${where}: pred`, `${where}: target`);
        return JSON.stringify(resultJson(lossForMode(pair.pred, pair.target, cfg), withGradients, pair.alphabet));
      });
      out(outLines.join('\n'));
      return 0;
    }
    if (positionals.length !== 2) throw new UserError('loss: give PRED.json and TARGET.json (or --pairs FILE.jsonl)');
    const [predPath, targetPath] = positionals as [string, string];
    const pair = lossPairFromJson(readJsonFile(predPath), readJsonFile(targetPath), predPath, targetPath);
    const r = lossForMode(pair.pred, pair.target, cfg);
    if (values.json) {
      out(JSON.stringify(resultJson(r, withGradients, pair.alphabet)));
      return 0;
    }
    const lines = [`total   ${fmt(r.total)}   (${cfg.loss_mode})`, `node    ${fmt(r.node)}`, `edge    ${fmt(r.edge)}`, `clique  ${fmt(r.clique)}`];
    if (r.ce !== null) lines.push(`ce      ${fmt(r.ce)}`);
    if (r.sinkhorn) lines.push(`sinkhorn: ${r.sinkhorn.iterations} iterations, marginal error ${r.sinkhorn.marginalError.toExponential(2)}, ${r.sinkhorn.converged ? 'converged' : 'NOT converged'} (${r.sinkhorn.kernel} kernel)`);
    if (withGradients) lines.push(JSON.stringify(resultJson(r, true, pair.alphabet).gradients));
    out(lines.join('\n'));
    return 0;
  },
};
