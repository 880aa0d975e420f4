/** The GRAPHEME edge types, in the fixed order used by every per-type array in the project. */
export const EDGE_TYPES = ['sequential', 'clique', 'skip', 'semantic', 'structural'] as const;
export type EdgeType = (typeof EDGE_TYPES)[number];

export type NodeId = number | string;

export interface GraphNode {
  id: NodeId;
  label: string;
  /** Order of the node in the text it came from (grapheme index), when it has one. */
  position?: number;
}

export interface GraphEdge {
  source: NodeId;
  target: NodeId;
  type: EdgeType;
}

/** A labelled graph with typed edges, directed unless `directed` is false. */
export interface Graph {
  nodes: GraphNode[];
  /** An undirected graph lists each edge once, in either direction. */
  edges: GraphEdge[];
  /** False for an undirected graph (absent: directed, as every text builder's graph). */
  directed?: boolean;
}

/** True for an undirected graph. */
export function isUndirected(g: Graph): boolean {
  return g.directed === false;
}

/** A Graph with nodes addressed by array index: the form every kernel works on. */
export interface IndexedGraph {
  labels: string[];
  /** Edges as [sourceIndex, targetIndex, typeIndex into EDGE_TYPES]. */
  edges: Array<[number, number, number]>;
}

export function isEdgeType(x: unknown): x is EdgeType {
  return typeof x === 'string' && (EDGE_TYPES as readonly string[]).includes(x);
}

/** Position of each node id in g.nodes (undefined for an id that names no node). */
function nodeIndexer(g: Graph): (id: NodeId) => number | undefined {
  const n = g.nodes.length;
  // Ids 0..n−1 in order (every built or generated graph) need no lookup table.
  if (g.nodes.every((node, i) => node.id === i)) return (id) => (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < n ? id : undefined);
  const at = new Map<NodeId, number>();
  g.nodes.forEach((node, i) => at.set(node.id, i));
  return (id) => at.get(id);
}

/** Index of each edge type in EDGE_TYPES. */
const EDGE_TYPE_INDEX: ReadonlyMap<string, number> = new Map(EDGE_TYPES.map((t, i) => [t, i]));

/**
 * Calls visit(sourceIndex, targetIndex, typeIndex) for each edge, and for an undirected graph
 * again in the reverse direction: every kernel then reads an undirected edge as the pair of
 * directed edges it stands for. Throws on an edge that names a missing node.
 */
export function forEachIndexedEdge(g: Graph, visit: (s: number, t: number, r: number) => void): void {
  const find = nodeIndexer(g);
  const both = isUndirected(g);
  for (const e of g.edges) {
    const s = find(e.source);
    const t = find(e.target);
    if (s === undefined || t === undefined) throw new Error(`edge ${String(e.source)}→${String(e.target)} names a missing node`);
    const r = EDGE_TYPE_INDEX.get(e.type)!;
    visit(s, t, r);
    if (both) visit(t, s, r);
  }
}

/** Index a validated graph: node ids become array positions, edge types become indices (an undirected edge both ways). */
export function indexGraph(g: Graph): IndexedGraph {
  const edges: Array<[number, number, number]> = [];
  forEachIndexedEdge(g, (s, t, r) => edges.push([s, t, r]));
  return { labels: g.nodes.map((n) => n.label), edges };
}

/** Build a Graph from indexed parts; node ids become 0..n−1. */
export function graphFromIndexed(ig: IndexedGraph): Graph {
  return {
    nodes: ig.labels.map((label, id) => ({ id, label })),
    edges: ig.edges.map(([s, t, r]) => ({ source: s, target: t, type: EDGE_TYPES[r]! })),
  };
}
