import { UserError, describeError } from '../util/errors.js';
import { readJsonFile, readTextFile } from '../util/files.js';
import { type EdgeType, type Graph, type GraphEdge, type GraphNode, type NodeId } from './types.js';
import { validateGraph } from './validate.js';

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Read a graph from parsed JSON: node-link (`nodes`, `edges`), NetworkX `node_link_data`
 * (`links`), or GRAPHEME-Math (`value` labels, `from`/`to` edges). An edge's type is its `type`,
 * else its `label` (any non-empty string, or a number read as its decimal text); a missing one is
 * `sequential`, except in GRAPHEME-Math graphs, whose edges are expression-tree edges
 * (`structural`). Throws a UserError prefixed by `where`.
 */
export function graphFromJson(x: unknown, where = 'graph'): Graph {
  if (!isObject(x)) throw new UserError(`${where}: a graph must be a JSON object with "nodes" and "edges"`);
  if (!Array.isArray(x.nodes)) throw new UserError(`${where}: missing "nodes" array`);
  const rawEdges = x.edges ?? x.links ?? [];
  if (!Array.isArray(rawEdges)) throw new UserError(`${where}: "edges" must be an array`);
  const nodes: GraphNode[] = x.nodes.map((n: unknown, i: number) => {
    if (!isObject(n)) throw new UserError(`${where}: node ${i} is not an object`);
    const id = n.id ?? i;
    if (typeof id !== 'number' && typeof id !== 'string') {
      throw new UserError(`${where}: node ${i} has an id that is neither a number nor a string`);
    }
    const label = 'label' in n ? n.label : n.value;
    if (typeof label !== 'string') {
      // Numbers are common in GRAPHEME-Math values; anything else is a mistake.
      if (typeof label === 'number' && Number.isFinite(label)) return nodeOf(id, String(label), n.position);
      throw new UserError(`${where}: node ${JSON.stringify(id)} has a non-string label (${JSON.stringify(label ?? null)})`);
    }
    return nodeOf(id, label, n.position);
  });
  const edges: GraphEdge[] = rawEdges.map((e: unknown, i: number) => {
    if (!isObject(e)) throw new UserError(`${where}: edge ${i} is not an object`);
    const mathStyle = !('source' in e) && 'from' in e;
    const source = (mathStyle ? e.from : e.source) as NodeId;
    const target = (mathStyle ? e.to : e.target) as NodeId;
    if ((typeof source !== 'number' && typeof source !== 'string') || (typeof target !== 'number' && typeof target !== 'string')) {
      throw new UserError(`${where}: edge ${i} needs "source" and "target" (or "from" and "to") node ids`);
    }
    const type = edgeLabelOf(e.type ?? e.label, mathStyle);
    return { source, target, type };
  });
  if (x.directed !== undefined && typeof x.directed !== 'boolean') throw new UserError(`${where}: "directed" must be true or false`);
  return validateGraph(x.directed === false ? { nodes, edges, directed: false } : { nodes, edges }, where);
}

/** An edge's type from its `type` (else `label`) field: numbers (a bond order) become their decimal text. */
function edgeLabelOf(raw: unknown, mathStyle: boolean): EdgeType {
  if (raw === undefined || raw === null) return mathStyle ? 'structural' : 'sequential';
  return (typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw) as EdgeType;
}

function nodeOf(id: NodeId, label: string, position: unknown): GraphNode {
  return typeof position === 'number' && Number.isFinite(position) ? { id, label, position } : { id, label };
}

/** Read and validate a graph JSON file; errors name the file. */
export function readGraphFile(path: string): Graph {
  return graphFromJson(readJsonFile(path), path);
}

/**
 * Read the graphs of a file: one JSON graph (pretty-printed or not), or JSON Lines with a graph on
 * each non-blank line. A bad line is a UserError naming the file and line.
 */
export function readGraphsFile(path: string): Graph[] {
  const text = readTextFile(path, 'graph file');
  try {
    return [graphFromJson(JSON.parse(text), path)];
  } catch (err) {
    if (err instanceof UserError) throw err;
  }
  const graphs: Graph[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let x: unknown;
    try {
      x = JSON.parse(line);
    } catch (err) {
      throw new UserError(`${path}:${i + 1}: not valid JSON (${describeError(err)})`);
    }
    graphs.push(graphFromJson(x, `${path}:${i + 1}`));
  });
  if (graphs.length === 0) throw new UserError(`${path}: no graphs (expected a JSON graph, or one per line)`);
  return graphs;
}

/** The node-link JSON object of a graph (what `graphFromJson` reads back; an undirected graph keeps each edge once). */
export function graphToJson(g: Graph): { directed: boolean; nodes: GraphNode[]; edges: GraphEdge[] } {
  return { directed: g.directed !== false, nodes: g.nodes.map((n) => ({ ...n })), edges: g.edges.map((e) => ({ ...e })) };
}

const DOT_STYLE: Readonly<Record<string, string>> = {
  sequential: 'color="#333333"',
  clique: 'color="#1f77b4", dir=none, style=dashed',
  skip: 'color="#2ca02c", style=dotted',
  semantic: 'color="#9467bd"',
  structural: 'color="#d62728"',
};

function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Graphviz DOT text of a graph (a `graph` with `--` edges when undirected): one colour per GRAPHEME edge type, any other type written as the edge's label. */
export function graphToDot(g: Graph, name = 'G'): string {
  const undirected = g.directed === false;
  const lines = [`${undirected ? 'graph' : 'digraph'} ${dotString(name)} {`, '  node [shape=circle];'];
  for (const n of g.nodes) lines.push(`  ${dotString(String(n.id))} [label=${dotString(n.label)}];`);
  for (const e of g.edges) {
    lines.push(`  ${dotString(String(e.source))} ${undirected ? '--' : '->'} ${dotString(String(e.target))} [${Object.hasOwn(DOT_STYLE, e.type) ? `${DOT_STYLE[e.type]}, tooltip=${dotString(e.type)}` : `label=${dotString(e.type)}`}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

