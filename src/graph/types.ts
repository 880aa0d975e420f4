/** The GRAPHEME edge types the text builders make; they come first, in this order, in every list of edge types. */
export const EDGE_TYPES = ['sequential', 'clique', 'skip', 'semantic', 'structural'] as const;
export type TextEdgeType = (typeof EDGE_TYPES)[number];
/** An edge's label: one of EDGE_TYPES, or any other non-empty string a dataset uses (a bond order, a relation's name). */
export type EdgeType = string;

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
  /** Edges as [sourceIndex, targetIndex, index into types]. */
  edges: Array<[number, number, number]>;
  /** The edge types the indices name. */
  types: readonly EdgeType[];
}

const TEXT_TYPE_RANK: ReadonlyMap<string, number> = new Map(EDGE_TYPES.map((t, i) => [t, i]));

/** Edge types in the project's order: the GRAPHEME types first in EDGE_TYPES order, then the others by code point, each once. */
export function edgeTypeOrder(types: Iterable<EdgeType>): EdgeType[] {
  const unique = [...new Set(types)];
  const text = EDGE_TYPES.filter((t) => unique.includes(t));
  const other = unique.filter((t) => !TEXT_TYPE_RANK.has(t)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...text, ...other];
}

/** The edge types present in a set of graphs, in edgeTypeOrder. */
export function edgeTypesOf(graphs: Iterable<Graph>): EdgeType[] {
  const seen = new Set<EdgeType>();
  for (const g of graphs) for (const e of g.edges) seen.add(e.type);
  return edgeTypeOrder(seen);
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

/**
 * Calls visit(sourceIndex, targetIndex, type) for each edge, and for an undirected graph again in
 * the reverse direction: every kernel then reads an undirected edge as the pair of directed edges
 * it stands for. Throws on an edge that names a missing node.
 */
export function forEachIndexedEdge(g: Graph, visit: (s: number, t: number, type: EdgeType) => void): void {
  const find = nodeIndexer(g);
  const both = isUndirected(g);
  for (const e of g.edges) {
    const s = find(e.source);
    const t = find(e.target);
    if (s === undefined || t === undefined) throw new Error(`edge ${String(e.source)}→${String(e.target)} names a missing node`);
    visit(s, t, e.type);
    if (both) visit(t, s, e.type);
  }
}

/**
 * Index a validated graph: node ids become array positions, edge types indices into `types`
 * (default: the graph's own, in edgeTypeOrder), an undirected edge both ways. Edges of a type
 * not in `types` are left out: a model reads only the input types it was trained on.
 */
export function indexGraph(g: Graph, types: readonly EdgeType[] = edgeTypesOf([g])): IndexedGraph {
  const at = new Map(types.map((t, i) => [t, i] as const));
  const edges: Array<[number, number, number]> = [];
  forEachIndexedEdge(g, (s, t, type) => {
    const r = at.get(type);
    if (r !== undefined) edges.push([s, t, r]);
  });
  return { labels: g.nodes.map((n) => n.label), edges, types };
}

/** Build a Graph from indexed parts; node ids become 0..n−1. */
export function graphFromIndexed(ig: IndexedGraph): Graph {
  return {
    nodes: ig.labels.map((label, id) => ({ id, label })),
    edges: ig.edges.map(([s, t, r]) => ({ source: s, target: t, type: ig.types[r]! })),
  };
}
