import { graphToText, type BuilderName } from '../graph/builders.js';
import { indexGraph, type Graph } from '../graph/types.js';
import { esc } from './svg.js';

// Marker ids must be unique within one HTML page; a counter keeps reports reproducible.
let markerCount = 0;

const EDGE_COLOURS: Readonly<Record<string, string>> = { sequential: '#333', clique: '#9467bd', skip: '#8c564b', semantic: '#e377c2', structural: '#17becf' };
/** A dataset's own edge labels share one colour; the label is in the edge's data-type. */
const OTHER_COLOUR = '#ff7f0e';

/**
 * A graph as inline SVG: nodes on a circle in their text order, directed edges as arrows coloured
 * by type. `matched[i]` marks node i as matched to the other graph (green) or not (red).
 */
export function graphSvg(g: Graph, opts: { matched?: boolean[]; size?: number; builder?: BuilderName } = {}): string {
  const S = opts.size ?? 170;
  const ig = indexGraph(g);
  const n = ig.labels.length;
  const cx = S / 2;
  const cy = S / 2;
  const r = n <= 1 ? 0 : S / 2 - 20;
  const pos = ig.labels.map((_, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, n);
    return [cx + r * Math.cos(a), cy + r * Math.sin(a)] as const;
  });
  const id = `arrow${++markerCount}`;
  const parts = [`<svg class="graph" data-nodes="${n}" xmlns="http://www.w3.org/2000/svg" width="${S}" height="${S}" viewBox="0 0 ${S} ${S}">`];
  parts.push(`<defs><marker id="${id}" viewBox="0 0 10 10" refX="18" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>`);
  for (const [s, t, k] of ig.edges) {
    const [x1, y1] = pos[s]!;
    const [x2, y2] = pos[t]!;
    parts.push(`<line class="edge" data-type="${esc(ig.types[k]!)}" x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${Object.hasOwn(EDGE_COLOURS, ig.types[k]!) ? EDGE_COLOURS[ig.types[k]!] : OTHER_COLOUR}" stroke-width="1.2" marker-end="url(#${id})"/>`);
  }
  ig.labels.forEach((label, i) => {
    const [x, y] = pos[i]!;
    const m = opts.matched?.[i];
    const fill = m === undefined ? '#fff' : m ? '#d8f5d0' : '#fbd5d5';
    parts.push(`<g class="node"><circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="11" fill="${fill}" stroke="#333"/><text x="${x.toFixed(1)}" y="${(y + 4).toFixed(1)}" text-anchor="middle" class="node-label">${esc(label)}</text></g>`);
  });
  if (n === 0) parts.push(`<text x="${cx}" y="${cy}" text-anchor="middle" class="tick">(empty)</text>`);
  parts.push('</svg>');
  const text = opts.builder ? graphToText(g, opts.builder) : undefined;
  return text === undefined ? parts.join('') : `${parts.join('')}<div class="decoded">${esc(text || '∅')}</div>`;
}
