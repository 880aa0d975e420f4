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

/** A labelled directed graph with typed edges. */
export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
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

/** Index a validated graph: node ids become array positions, edge types become indices. */
export function indexGraph(g: Graph): IndexedGraph {
  // Ids 0..n−1 in order (every built or generated graph) need no lookup table.
  const dense = g.nodes.every((n, i) => n.id === i);
  const at = new Map<NodeId, number>();
  if (!dense) g.nodes.forEach((n, i) => at.set(n.id, i));
  const n = g.nodes.length;
  const find = (id: NodeId): number | undefined => (dense ? (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < n ? id : undefined) : at.get(id));
  const edges: Array<[number, number, number]> = [];
  for (const e of g.edges) {
    const s = find(e.source);
    const t = find(e.target);
    if (s === undefined || t === undefined) throw new Error(`edge ${String(e.source)}→${String(e.target)} names a missing node`);
    edges.push([s, t, EDGE_TYPES.indexOf(e.type)]);
  }
  return { labels: g.nodes.map((n) => n.label), edges };
}

/** Build a Graph from indexed parts; node ids become 0..n−1. */
export function graphFromIndexed(ig: IndexedGraph): Graph {
  return {
    nodes: ig.labels.map((label, id) => ({ id, label })),
    edges: ig.edges.map(([s, t, r]) => ({ source: s, target: t, type: EDGE_TYPES[r]! })),
  };
}
