import { readJsonFile } from '../util/files.js';
import { lossForMode } from '../loss/crossEntropy.js';
import type { LossResult } from '../loss/structural.js';
import { lossPairFromJson } from '../loss/io.js';
import { typesOf } from '../loss/softGraph.js';
import { UserError } from '../util/errors.js';
import { readJsonlPairs } from './pairs.js';
import { out } from './io.js';
import { lossConfigFromFlags, lossOptionSpecs } from './lossOptions.js';
import type { Command } from './options.js';

/** Rows of a row-major matrix as nested arrays: gradients come back in the shapes of the input. */
function rows(x: Float64Array, r: number, c: number): number[][] {
  return Array.from({ length: r }, (_, i) => Array.from(x.subarray(i * c, i * c + c)));
}

/** Gradients in the input's shapes: exist [K], labels [K][L], edges {type: [K][K]}, positions [K][K] when given. */
export function gradientsJson(r: LossResult, K: number, alphabet: string[]): Record<string, unknown> {
  const edges: Record<string, number[][]> = {};
  for (const t of typesOf(r.gradients.edges)) edges[t] = rows(r.gradients.edges[t]!, K, K);
  const g: Record<string, unknown> = { alphabet, exist: Array.from(r.gradients.exist), labels: rows(r.gradients.labels, K, alphabet.length), edges };
  if (r.gradients.positions) g.positions = rows(r.gradients.positions, K, K);
  return g;
}

function resultJson(r: LossResult, withGradients: boolean, K: number, alphabet: string[]): Record<string, unknown> {
  const o: Record<string, unknown> = { total: r.total, node: r.node, edge: r.edge, clique: r.clique, ce: r.ce, sinkhorn: r.sinkhorn };
  if (withGradients) o.gradients = gradientsJson(r, K, alphabet);
  return o;
}

/** Six significant digits; below 5e−7 (rounding noise of float64 kernels on unit-scale costs) a value prints as 0. --json keeps every digit. */
const fmt = (x: number | null): string => (x === null ? '—' : Math.abs(x) < 5e-7 ? '0' : x.toPrecision(6));

const norm = (x: Float64Array): string => Math.sqrt(x.reduce((a, v) => a + v * v, 0)).toPrecision(4);

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
  examples: ['grapheme graph hello > t.json && grapheme loss t.json t.json', 'grapheme graph helo > pred.json && grapheme graph hello > target.json && grapheme loss pred.json target.json --cost-form likelihood --gradients --json'],
  async run({ values, positionals, given }) {
    const cfg = lossConfigFromFlags(values, given);
    const withGradients = values.gradients === true;
    if (typeof values.pairs === 'string') {
      if (positionals.length > 0) throw new UserError('loss: give either PRED.json TARGET.json or --pairs FILE, not both');
      const outLines = readJsonlPairs(values.pairs, ['pred', 'target']).map(({ where, first, second }) => {
        const pair = lossPairFromJson(first, second, `${where}: pred`, `${where}: target`);
        return JSON.stringify(resultJson(lossForMode(pair.pred, pair.target, cfg), withGradients, pair.pred.K, pair.alphabet));
      });
      out(outLines.join('\n'));
      return 0;
    }
    if (positionals.length !== 2) throw new UserError('loss: give PRED.json and TARGET.json (or --pairs FILE.jsonl)');
    const [predPath, targetPath] = positionals as [string, string];
    const pair = lossPairFromJson(readJsonFile(predPath), readJsonFile(targetPath), predPath, targetPath);
    const r = lossForMode(pair.pred, pair.target, cfg);
    if (values.json) {
      out(JSON.stringify(resultJson(r, withGradients, pair.pred.K, pair.alphabet)));
      return 0;
    }
    const lines = [`total   ${fmt(r.total)}   (${cfg.loss_mode})`, `node    ${fmt(r.node)}`, `edge    ${fmt(r.edge)}`, `clique  ${fmt(r.clique)}`];
    if (r.ce !== null) lines.push(`ce      ${fmt(r.ce)}`);
    if (r.sinkhorn) lines.push(`sinkhorn: ${r.sinkhorn.iterations} iterations, marginal error ${r.sinkhorn.marginalError.toExponential(2)}, ${r.sinkhorn.converged ? 'converged' : 'NOT converged'} (${r.sinkhorn.kernel} kernel)`);
    if (withGradients) {
      const parts = [`exist ${norm(r.gradients.exist)}`, `labels ${norm(r.gradients.labels)}`];
      for (const t of typesOf(r.gradients.edges)) parts.push(`edges.${t} ${norm(r.gradients.edges[t]!)}`);
      if (r.gradients.positions) parts.push(`positions ${norm(r.gradients.positions)}`);
      lines.push(`gradient norms: ${parts.join(', ')} (--json prints the arrays, shaped as the input)`);
    }
    out(lines.join('\n'));
    return 0;
  },
};
