import { UserError } from '../util/errors.js';
import type { Graph, GraphEdge, GraphNode } from './types.js';

/** Split a Polish-notation expression into "(", ")" and atom tokens. */
export function tokenizePolish(text: string): string[] {
  return text.replace(/[()]/g, (p) => ` ${p} `).split(/\s+/u).filter((t) => t.length > 0);
}

/**
 * `polish` builder: "(+ (* 2 3) 4)" → its expression tree. Node ids are pre-order indices;
 * `structural` edges go parent → operand, and `sequential` edges join consecutive operands
 * so that operand order is part of the graph itself (it decides "(- 2 3)" from "(- 3 2)").
 * Iterative, so nesting depth is bounded only by memory.
 */
export function polishGraph(text: string): Graph {
  const tokens = tokenizePolish(text);
  if (tokens.length === 0) return { nodes: [], edges: [] };
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  // Each open form: its operator node and the last operand attached so far.
  const open: Array<{ op: number; last: number; operands: number }> = [];
  let rootDone = false;
  const attach = (child: number): void => {
    const top = open[open.length - 1];
    if (!top) {
      if (rootDone) throw new UserError(`polish: more than one expression at top level in ${JSON.stringify(clip(text))}`);
      rootDone = true;
      return;
    }
    edges.push({ source: top.op, target: child, type: 'structural' });
    if (top.last >= 0) edges.push({ source: top.last, target: child, type: 'sequential' });
    top.last = child;
    top.operands++;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '(') {
      const head = tokens[i + 1];
      if (head === undefined || head === '(' || head === ')') {
        throw new UserError(`polish: "(" must be followed by an operator atom in ${JSON.stringify(clip(text))}`);
      }
      const id = nodes.length;
      nodes.push({ id, label: head, position: id });
      attach(id);
      open.push({ op: id, last: -1, operands: 0 });
      i++;
    } else if (t === ')') {
      const top = open.pop();
      if (!top) throw new UserError(`polish: unbalanced ")" in ${JSON.stringify(clip(text))}`);
      if (top.operands === 0) {
        throw new UserError(`polish: operator ${JSON.stringify(nodes[top.op]!.label)} has no operands in ${JSON.stringify(clip(text))}`);
      }
    } else {
      const id = nodes.length;
      nodes.push({ id, label: t, position: id });
      attach(id);
    }
  }
  if (open.length > 0) throw new UserError(`polish: ${open.length} unclosed "(" in ${JSON.stringify(clip(text))}`);
  return { nodes, edges };
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Expression tree → canonical Polish text "(op a b)". The root is the first node with no
 * incoming structural edge; operands follow their sequential chain, ties by node order.
 * Nodes the tree does not reach are ignored.
 */
export function polishText(g: Graph): string {
  const n = g.nodes.length;
  if (n === 0) return '';
  const at = new Map(g.nodes.map((node, i) => [node.id, i] as const));
  const children: number[][] = Array.from({ length: n }, () => []);
  const hasParent = new Uint8Array(n);
  const nextSibling = new Map<number, number>();
  for (const e of g.edges) {
    const s = at.get(e.source);
    const t = at.get(e.target);
    if (s === undefined || t === undefined || s === t) continue;
    if (e.type === 'structural') {
      if (hasParent[t]) continue;
      hasParent[t] = 1;
      children[s]!.push(t);
    } else if (e.type === 'sequential' && !nextSibling.has(s)) {
      nextSibling.set(s, t);
    }
  }
  let root = 0;
  while (root < n && hasParent[root]) root++;
  if (root === n) root = 0;
  const ordered = children.map((cs) => orderOperands(cs, nextSibling));
  const out: string[] = [];
  const visited = new Uint8Array(n);
  // Explicit stack of (node, next operand index) so deep trees cannot overflow the call stack.
  const stack: Array<[number, number]> = [[root, -1]];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const [v, k] = frame;
    const cs = ordered[v]!;
    if (k === -1) {
      visited[v] = 1;
      if (cs.length === 0) {
        out.push(g.nodes[v]!.label);
        stack.pop();
        continue;
      }
      out.push(`(${g.nodes[v]!.label}`);
      frame[1] = 0;
      continue;
    }
    if (k < cs.length) {
      frame[1] = k + 1;
      const c = cs[k]!;
      if (!visited[c]) stack.push([c, -1]);
      continue;
    }
    out.push(')');
    stack.pop();
  }
  return out.join(' ').replace(/\( /g, '(').replace(/ \)/g, ')');
}

/** Order operands by their sequential chain: first the one no sibling points to, then follow. */
function orderOperands(cs: number[], next: Map<number, number>): number[] {
  if (cs.length < 2) return cs;
  const inSet = new Set(cs);
  const pointedTo = new Set<number>();
  for (const c of cs) {
    const t = next.get(c);
    if (t !== undefined && inSet.has(t)) pointedTo.add(t);
  }
  const out: number[] = [];
  const used = new Set<number>();
  for (const start of cs) {
    if (pointedTo.has(start) || used.has(start)) continue;
    for (let c: number | undefined = start; c !== undefined && inSet.has(c) && !used.has(c); c = next.get(c)) {
      out.push(c);
      used.add(c);
    }
  }
  for (const c of cs) if (!used.has(c)) out.push(c);
  return out;
}
