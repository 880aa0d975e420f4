import { UserError } from '../util/errors.js';
import { type Graph, type NodeId } from './types.js';

/** Check a graph's invariants; throws a UserError naming the first problem, prefixed by `where`. */
export function validateGraph(g: Graph, where = 'graph'): Graph {
  const ids = new Set<NodeId>();
  g.nodes.forEach((n, i) => {
    if (typeof n.id !== 'number' && typeof n.id !== 'string') {
      throw new UserError(`${where}: node ${i} has an id that is neither a number nor a string`);
    }
    if (typeof n.id === 'number' && !Number.isFinite(n.id)) {
      throw new UserError(`${where}: node ${i} has a non-finite id`);
    }
    if (ids.has(n.id)) throw new UserError(`${where}: duplicate node id ${JSON.stringify(n.id)}`);
    ids.add(n.id);
    if (typeof n.label !== 'string') {
      throw new UserError(`${where}: node ${JSON.stringify(n.id)} has a non-string label (${JSON.stringify(n.label)})`);
    }
  });
  if (g.directed !== undefined && typeof g.directed !== 'boolean') throw new UserError(`${where}: "directed" must be true or false`);
  const undirected = g.directed === false;
  const seen = new Set<string>();
  const keyOf = (id: NodeId): string => `${typeof id}:${String(id)}`;
  g.edges.forEach((e, i) => {
    const problem = edgeLabelProblem(e.type);
    if (problem) throw new UserError(`${where}: edge ${i} ${problem}`);
    if (!ids.has(e.source)) throw new UserError(`${where}: edge ${i} starts at missing node ${JSON.stringify(e.source)}`);
    if (!ids.has(e.target)) throw new UserError(`${where}: edge ${i} ends at missing node ${JSON.stringify(e.target)}`);
    if (e.source === e.target) throw new UserError(`${where}: edge ${i} is a self-loop on node ${JSON.stringify(e.source)}`);
    // An undirected edge is the same edge written either way round.
    const [a, b] = [keyOf(e.source), keyOf(e.target)];
    const key = `${undirected && b < a ? `${b}\u0000${a}` : `${a}\u0000${b}`}\u0000${e.type}`;
    if (seen.has(key)) {
      throw new UserError(`${where}: edge ${i} repeats ${JSON.stringify(e.source)}${undirected ? '–' : '→'}${JSON.stringify(e.target)} (${e.type})${undirected ? ' in an undirected graph, where each edge is listed once' : ''}`);
    }
    seen.add(key);
  });
  return g;
}

/**
 * Why a value cannot be an edge label, or undefined when it can: any non-empty string except the
 * property names of a plain JavaScript object (`constructor`, `__proto__`, …), which per-type
 * records would read as inherited members.
 */
export function edgeLabelProblem(type: unknown): string | undefined {
  if (typeof type !== 'string' || type === '') return `has type ${JSON.stringify(type ?? null)}: an edge's type (or label) must be a non-empty string`;
  if (type in Object.prototype) return `has type ${JSON.stringify(type)}, a name reserved by JavaScript objects; rename it`;
  return undefined;
}
