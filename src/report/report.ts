import type { BuilderName } from '../graph/builders.js';
import type { Graph } from '../graph/types.js';
import type { EpochMetrics } from '../train/metricsLog.js';
import { graphSvg } from './graphSvg.js';
import { MODE_COLOURS, esc, lineChart, type Series } from './svg.js';

export interface RunMetrics {
  mode: string;
  seed: number;
  metrics: EpochMetrics[];
}

export interface GalleryItem {
  input: string;
  target: Graph;
  /** Per mode: the seed-0 model's decoded prediction and which of its nodes the exact GED matched to the target. */
  predictions: Array<{ mode: string; graph: Graph; matched: boolean[] }>;
}

export interface ReportInput {
  title: string;
  commandLine: string;
  machine: string;
  budget: string;
  modes: string[];
  runs: RunMetrics[];
  gallery: GalleryItem[];
  builder: BuilderName;
}

interface Row {
  mode: string;
  runs: number;
  exactMatch: [number, number];
  textExactMatch: [number, number] | null;
  ged: [number, number];
  wl: [number, number];
  valLoss: [number, number];
}

/** Mean and sample standard deviation (0 for a single value), as every seed table reports them. */
export const meanStd = (xs: number[]): [number, number] => {
  const m = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1);
  return [m, xs.length > 1 ? Math.sqrt(v) : 0];
};

/** Final-epoch validation figures per mode: mean and standard deviation over seeds. */
export function finalTable(modes: string[], runs: RunMetrics[]): Row[] {
  return modes.map((mode) => {
    const finals = runs.filter((r) => r.mode === mode && r.metrics.length > 0).map((r) => r.metrics.at(-1)!);
    const text = finals.map((f) => f.val.textExactMatch).filter((x): x is number => x !== null);
    return {
      mode,
      runs: finals.length,
      exactMatch: meanStd(finals.map((f) => f.val.exactMatch)),
      textExactMatch: text.length === finals.length && text.length > 0 ? meanStd(text) : null,
      ged: meanStd(finals.map((f) => f.val.ged)),
      wl: meanStd(finals.map((f) => f.val.wl)),
      valLoss: meanStd(finals.map((f) => f.val.loss)),
    };
  });
}

/** A Markdown table of this module's own making as an HTML table (cells are escaped). */
function markdownToHtmlTable(md: string): string {
  const rows = md.split('\n').filter((l, i) => l && i !== 1).map((l) => l.slice(2, -2).split(' | '));
  if (rows.length === 0) return '';
  const [head, ...body] = rows;
  return `<table class="final"><thead><tr>${head!.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** "mean ± sd" with `digits` decimals (default 3). */
export const plusMinus = ([m, s]: [number, number], digits = 3): string => `${m.toFixed(digits)} ± ${s.toFixed(digits)}`;

/** The final table as Markdown (report.md, and the README's Results). */
export function markdownTable(rows: Row[]): string {
  const lines = ['| loss mode | runs | val exact match | val text exact match | val mean GED | val WL similarity | val loss (own mode) |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.mode} | ${r.runs} | ${plusMinus(r.exactMatch)} | ${r.textExactMatch ? plusMinus(r.textExactMatch) : '—'} | ${plusMinus(r.ged, 2)} | ${plusMinus(r.wl)} | ${plusMinus(r.valLoss, 4)} |`);
  return lines.join('\n');
}

function seriesOf(modes: string[], runs: RunMetrics[], pick: (m: EpochMetrics) => number | null): Series[] {
  return modes.map((mode) => {
    const rs = runs.filter((r) => r.mode === mode);
    const n = Math.max(0, ...rs.map((r) => r.metrics.length));
    const mean: number[] = [];
    const min: number[] = [];
    const max: number[] = [];
    for (let e = 0; e < n; e++) {
      const vs = rs.map((r) => r.metrics[e]).filter((m): m is EpochMetrics => m !== undefined).map(pick).filter((v): v is number => v !== null && Number.isFinite(v));
      mean.push(vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : NaN);
      min.push(vs.length ? Math.min(...vs) : NaN);
      max.push(vs.length ? Math.max(...vs) : NaN);
    }
    return { mode, mean, min, max };
  });
}

/** Every run's final validation figures, one row each: the seeds behind a mean, the runs that lost included. */
export function runsTable(runs: RunMetrics[]): string {
  const lines = ['| loss mode | seed | val exact match | val text exact match | val mean GED | reassigned (last epoch) |', '|---|---|---|---|---|---|'];
  for (const r of runs) {
    const f = r.metrics.at(-1);
    if (!f) continue;
    // Cross-entropy trains on no assignment: the one behind its logged structural terms is not its own.
    const reassigned = r.mode === 'cross-entropy' ? null : f.matchingsChanged;
    lines.push(`| ${r.mode} | ${r.seed} | ${f.val.exactMatch.toFixed(3)} | ${f.val.textExactMatch?.toFixed(3) ?? '—'} | ${f.val.ged.toFixed(2)} | ${reassigned?.toFixed(3) ?? '—'} |`);
  }
  return lines.join('\n');
}

/** Final validation exact match per target node count: mean over seeds per mode (examples per size in the header). */
export function sizeTable(modes: string[], runs: RunMetrics[]): string {
  const sizes = new Map<string, number>();
  for (const r of runs) for (const [k, v] of Object.entries(r.metrics.at(-1)?.val.exactMatchBySize ?? {})) sizes.set(k, v.examples);
  const keys = [...sizes.keys()].sort((a, b) => Number(a) - Number(b));
  if (keys.length === 0) return '';
  const lines = [`| loss mode | ${keys.map((k) => `${k} nodes (${sizes.get(k)})`).join(' | ')} |`, `|---|${keys.map(() => '---|').join('')}`];
  for (const mode of modes) {
    const finals = runs.filter((r) => r.mode === mode).map((r) => r.metrics.at(-1)?.val.exactMatchBySize ?? {});
    const cells = keys.map((k) => {
      const xs = finals.map((f) => f[k]?.exactMatch).filter((x): x is number => x !== undefined);
      return xs.length ? (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(3) : '—';
    });
    lines.push(`| ${mode} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Where each mode's terms were measured, one sentence (the structural terms of a cross-entropy run come from a sample). */
export function termsSentence(runs: RunMetrics[]): string {
  const sampled = runs.flatMap((r) => (r.metrics.at(-1)?.structuralTermsOn?.sample ? [`${r.mode} (${r.metrics.at(-1)!.structuralTermsOn!.examples} examples)`] : []));
  const modes = [...new Set(sampled)];
  return (
    'Validation terms are measured on every validation example. ' +
    (modes.length === 0
      ? 'Training terms are measured on every training example as it is trained.'
      : `Training terms are measured as each example is trained, except the structural terms and assignment diagnostics of ${modes.join(', ')}: those come from a fixed sample of training examples after each epoch, since its steps do not compute them.`)
  );
}

/** report.md: the command line, budget, machine, the final table, every run, and exact match by target size. */
export function reportMarkdown(r: ReportInput): string {
  const bySize = sizeTable(r.modes, r.runs);
  return [
    `# ${r.title}`, '', '```', r.commandLine, '```', '', `Budget: ${r.budget}. Machine: ${r.machine}.`, '', markdownTable(finalTable(r.modes, r.runs)), '', termsSentence(r.runs), '',
    '## Every run', '', runsTable(r.runs), '',
    ...(bySize ? ['## Validation exact match by target size (mean over seeds)', '', bySize, ''] : []),
  ].join('\n');
}

/**
 * report.html: one self-contained page (inline CSS and SVG, no script, no external resource; a
 * Content-Security-Policy forbids any fetch): per-epoch curves per mode with their spread over
 * seeds, the final table, and a gallery of validation examples drawn as graphs.
 */
export function reportHtml(r: ReportInput): string {
  const charts: Array<[string, (m: EpochMetrics) => number | null]> = [
    ['validation loss (own mode)', (m) => m.val.loss],
    ['validation node term', (m) => m.val.node],
    ['validation edge term', (m) => m.val.edge],
    ['validation clique term', (m) => m.val.clique],
    ['validation mean GED', (m) => m.val.ged],
    ['validation WL similarity', (m) => m.val.wl],
    ['validation exact match', (m) => m.val.exactMatch],
    ['training loss (own mode)', (m) => m.train.loss],
    ['training examples reassigned since their last epoch', (m) => m.matchingsChanged ?? null],
    ['training rounding gap (soft plan vs edit path)', (m) => m.roundingGap ?? null],
  ];
  // The assignment diagnostics belong to the modes that train on an assignment.
  const assignmentChart = (title: string): boolean => /reassigned|rounding gap/.test(title);
  const rows = finalTable(r.modes, r.runs);
  const legend = r.modes.map((m) => `<span class="key"><span class="swatch" style="background:${MODE_COLOURS[m] ?? '#555'}"></span>${esc(m)}</span>`).join(' ');
  const table = [
    '<table class="final"><thead><tr><th>loss mode</th><th>runs</th><th>exact match</th><th>text exact match</th><th>mean GED</th><th>WL similarity</th><th>val loss</th></tr></thead><tbody>',
    ...rows.map((x) => `<tr data-mode="${esc(x.mode)}"><td>${esc(x.mode)}</td><td>${x.runs}</td><td>${plusMinus(x.exactMatch)}</td><td>${x.textExactMatch ? plusMinus(x.textExactMatch) : '—'}</td><td>${plusMinus(x.ged, 2)}</td><td>${plusMinus(x.wl)}</td><td>${plusMinus(x.valLoss, 4)}</td></tr>`),
    '</tbody></table>',
  ].join('');
  const gallery = r.gallery
    .map((item) => {
      const cells = [`<div class="cell"><div class="caption">target</div>${graphSvg(item.target, { builder: r.builder })}</div>`];
      for (const p of item.predictions) cells.push(`<div class="cell" data-mode="${esc(p.mode)}"><div class="caption" style="color:${MODE_COLOURS[p.mode] ?? '#555'}">${esc(p.mode)}</div>${graphSvg(p.graph, { matched: p.matched, builder: r.builder })}</div>`);
      return `<div class="example"><div class="input">input: <code>${esc(item.input)}</code></div><div class="cells">${cells.join('')}</div></div>`;
    })
    .join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(r.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
code,pre{background:#f4f4f4;padding:2px 4px}
.charts{display:flex;flex-wrap:wrap;gap:12px}
.chart-title{font-size:12px;font-weight:600}.tick{font-size:10px;fill:#555}
.key{margin-right:12px}.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
table.final{border-collapse:collapse;margin:12px 0}table.final td,table.final th{border:1px solid #ccc;padding:4px 8px;text-align:right}
.example{border-top:1px solid #ddd;padding:8px 0}.cells{display:flex;flex-wrap:wrap;gap:10px}
.cell{text-align:center}.caption{font-size:12px;font-weight:600}.node-label{font-size:11px}.decoded{font-family:monospace;font-size:12px}
</style></head><body>
<h1>${esc(r.title)}</h1>
<pre>${esc(r.commandLine)}</pre>
<p>Budget: ${esc(r.budget)}. Machine: ${esc(r.machine)}. Curves: mean over seeds, band: min–max over seeds. ${esc(termsSentence(r.runs))}</p>
<p>${legend}</p>
<div class="charts">${charts.map(([t, f]) => lineChart(t, seriesOf(assignmentChart(t) ? r.modes.filter((m) => m !== 'cross-entropy') : r.modes, r.runs, f))).join('')}</div>
<h2>Final epoch (validation; mean ± standard deviation over seeds)</h2>
${table}
<h2>Every run, and exact match by target size</h2>
${markdownToHtmlTable(runsTable(r.runs))}
${markdownToHtmlTable(sizeTable(r.modes, r.runs))}
<h2>Validation examples</h2>
<p>Predictions of each mode's first seed. Green nodes are matched to a target node by the exact GED's edit path, red ones are not; the line under a graph is its decoded text.</p>
<div class="gallery">${gallery}</div>
</body></html>
`;
}
