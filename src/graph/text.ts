import { MinHeap } from '../util/heap.js';
import type { Graph, GraphEdge } from './types.js';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Split text into extended grapheme clusters ("👍🏽", "é", "你" are one each). */
export function graphemes(text: string): string[] {
  const out: string[] = [];
  for (const s of segmenter.segment(text)) out.push(s.segment);
  return out;
}

const WORD_GRAPHEME = /^[\p{L}\p{M}\p{N}]/u;

/** True when a grapheme belongs to a word: it starts with a letter, mark or digit. */
export function isWordGrapheme(g: string): boolean {
  return WORD_GRAPHEME.test(g);
}

/** `chain` builder: one node per grapheme, sequential edges i → i+1. */
export function chainGraph(text: string): Graph {
  const gs = graphemes(text);
  const nodes = gs.map((label, i) => ({ id: i, label, position: i }));
  const edges: GraphEdge[] = [];
  for (let i = 0; i + 1 < gs.length; i++) edges.push({ source: i, target: i + 1, type: 'sequential' });
  return { nodes, edges };
}

/** `words` builder: the chain plus a clique over each maximal run of word graphemes (edges earlier → later). */
export function wordsGraph(text: string): Graph {
  const g = chainGraph(text);
  const labels = g.nodes.map((n) => n.label);
  let start = 0;
  while (start < labels.length) {
    if (!isWordGrapheme(labels[start]!)) {
      start++;
      continue;
    }
    let end = start;
    while (end < labels.length && isWordGrapheme(labels[end]!)) end++;
    for (let i = start; i < end; i++) {
      for (let k = i + 1; k < end; k++) g.edges.push({ source: i, target: k, type: 'clique' });
    }
    start = end;
  }
  return g;
}

/**
 * Graph → text: labels in topological order of the sequential edges, ties (and cycles)
 * broken by node order. Nodes with no sequential edge keep their place in that order.
 */
export function sequentialText(g: Graph): string {
  const n = g.nodes.length;
  const at = new Map(g.nodes.map((node, i) => [node.id, i] as const));
  const indeg = new Int32Array(n);
  const out: number[][] = Array.from({ length: n }, () => []);
  for (const e of g.edges) {
    if (e.type !== 'sequential') continue;
    const s = at.get(e.source);
    const t = at.get(e.target);
    if (s === undefined || t === undefined || s === t) continue;
    out[s]!.push(t);
    indeg[t]!++;
  }
  const done = new Uint8Array(n);
  const ready = new MinHeap();
  for (let i = 0; i < n; i++) if (indeg[i] === 0) ready.push(i);
  const parts: string[] = [];
  let lowestLeft = 0;
  for (let step = 0; step < n; step++) {
    let pick = ready.pop();
    while (pick !== undefined && done[pick]) pick = ready.pop();
    if (pick === undefined) {
      // A cycle: release the lowest remaining node.
      while (done[lowestLeft]) lowestLeft++;
      pick = lowestLeft;
    }
    done[pick] = 1;
    parts.push(g.nodes[pick]!.label);
    for (const t of out[pick]!) if (--indeg[t]! === 0 && !done[t]) ready.push(t);
  }
  return parts.join('');
}
