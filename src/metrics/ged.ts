import { edgeTypesOf, forEachIndexedEdge, isUndirected, type EdgeType, type Graph, type NodeId } from '../graph/types.js';
import { UserError } from '../util/errors.js';
import { linearAssignment } from '../match/assignment.js';

/** Edit operation costs (all ≥ 0; default 1 each). An edge is (source, target, type): a type change is a deletion plus an insertion. */
export interface GedCosts {
  nodeSubstitution: number;
  nodeInsertion: number;
  nodeDeletion: number;
  edgeInsertion: number;
  edgeDeletion: number;
}

export const UNIT_GED_COSTS: Readonly<GedCosts> = Object.freeze({ nodeSubstitution: 1, nodeInsertion: 1, nodeDeletion: 1, edgeInsertion: 1, edgeDeletion: 1 });

export type EditOperation =
  | { op: 'substitute-node'; from: NodeId; to: NodeId; fromLabel: string; toLabel: string }
  | { op: 'delete-node'; node: NodeId }
  | { op: 'insert-node'; node: NodeId }
  | { op: 'delete-edge'; source: NodeId; target: NodeId; type: string }
  | { op: 'insert-edge'; source: NodeId; target: NodeId; type: string };

export interface GedResult {
  /** The distance found: exact when `exact`, otherwise the best upper bound. */
  ged: number;
  lowerBound: number;
  upperBound: number;
  exact: boolean;
  /** Wall time of the call in milliseconds. */
  timeMs: number;
  /** Image of each node of g1 in g2 (by id), or null where the node is deleted. */
  nodeMap: Array<[NodeId, NodeId | null]>;
  /** The edit path of cost `upperBound`; identical-label substitutions and kept edges are omitted. */
  editPath: EditOperation[];
}

export interface GedOptions {
  costs?: Partial<GedCosts>;
  /** Time budget of the exact search in milliseconds (default 1000); past it the best bracket is returned. */
  timeMs?: number;
}

interface Workspace {
  rem1: Int32Array;
  rem2: Int32Array;
  deletion: Float64Array;
  insertion: Float64Array;
  saving: Float64Array;
  clamped: Float64Array;
  cols: Int32Array;
  decided: Int32Array;
  usedCols: Int32Array;
  images: Int32Array;
  /** pathCost's inverse map, and the root call's empty partial map. */
  inverse: Int32Array;
  noneDecided: Uint8Array;
  noneUsed: Uint8Array;
}

let sharedWork: Workspace & { n1: number; n2: number; D: number } = { ...makeWorkspace(16, 16, 10), n1: 16, n2: 16, D: 10 };
function makeWorkspace(n1: number, n2: number, D: number): Workspace {
  return {
    rem1: new Int32Array(n1 * D), rem2: new Int32Array(n2 * D), deletion: new Float64Array(n1), insertion: new Float64Array(n2),
    saving: new Float64Array(n1 * n2), clamped: new Float64Array(n1 * n2), cols: new Int32Array(n2), decided: new Int32Array(n1), usedCols: new Int32Array(n2), images: new Int32Array(n1),
    inverse: new Int32Array(n2), noneDecided: new Uint8Array(n1), noneUsed: new Uint8Array(n2),
  };
}
/**
 * Scratch for `completionBound` and `pathCost`, shared by all calls and grown on demand:
 * allocating ten typed arrays per GED call cost more than the bound itself. Safe because every
 * GED call runs to completion synchronously and uses the buffers only within one of those calls.
 */
function workspace(n1: number, n2: number, D: number): Workspace {
  if (n1 > sharedWork.n1 || n2 > sharedWork.n2 || D > sharedWork.D) {
    const a = Math.max(n1, sharedWork.n1, n2, sharedWork.n2);
    sharedWork = { ...makeWorkspace(a, a, 10), n1: a, n2: a, D: 10 };
  }
  return sharedWork;
}

/** Two graphs in the kernels' form: shared integer labels, edge-type bitmasks per ordered node pair. */
interface GedProblem {
  n1: number;
  n2: number;
  l1: Int32Array;
  l2: Int32Array;
  labelCount: number;
  /** a1[i*n1+j]: bitmask of the types of edges i→j in g1 (bit s: types[s]). */
  a1: EdgeMasks;
  a2: EdgeMasks;
  /** The edge types present in either graph, in edgeTypeOrder: bit s of a mask is types[s]. */
  types: EdgeType[];
  presentTypes: number;
  costs: GedCosts;
  /** Both graphs undirected: adjacency symmetric, each direction at half the edge costs. */
  undirected: boolean;
  /** Scratch buffers of `completionBound`, allocated once per problem (typed-array allocation dominates small bounds). */
  work: Workspace;
  g1: Graph;
  g2: Graph;
}

/** Edge-type bitmasks per ordered node pair: 16 bits, so up to MAX_EDGE_TYPES types between two graphs. */
type EdgeMasks = Uint16Array;
export const MAX_EDGE_TYPES = 16;

const POPCOUNT = Uint8Array.from({ length: 1 << MAX_EDGE_TYPES }, (_, b) => {
  let c = 0;
  for (let x = b; x; x >>= 1) c += x & 1;
  return c;
});

function resolveCosts(c: Partial<GedCosts> | undefined): GedCosts {
  if (c === undefined) return UNIT_GED_COSTS;
  const costs = { ...UNIT_GED_COSTS, ...c };
  for (const [k, v] of Object.entries(costs)) if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`GED cost ${k} must be a finite number ≥ 0, got ${v}`);
  return costs;
}

/**
 * Two graphs in the kernels' form. Undirected graphs come as symmetric adjacency (each edge both
 * ways, from forEachIndexedEdge) with half the edge costs per direction: a node map maps both
 * directions of an edge alike, so every edit path and every bound costs each undirected edge
 * operation exactly once.
 */
function prepare(g1: Graph, g2: Graph, fullCosts: GedCosts): GedProblem {
  const undirected = isUndirected(g1);
  if (undirected !== isUndirected(g2)) throw new UserError(`GED between a directed and an undirected graph is not defined (graph ${undirected ? 1 : 2} has "directed": false); give both graphs the same "directed"`);
  const costs = undirected ? { ...fullCosts, edgeInsertion: fullCosts.edgeInsertion / 2, edgeDeletion: fullCosts.edgeDeletion / 2 } : fullCosts;
  const dict = new Map<string, number>();
  const labelIds = (g: Graph): Int32Array => {
    const out = new Int32Array(g.nodes.length);
    for (let i = 0; i < out.length; i++) {
      const l = g.nodes[i]!.label;
      let k = dict.get(l);
      if (k === undefined) dict.set(l, (k = dict.size));
      out[i] = k;
    }
    return out;
  };
  const l1 = labelIds(g1);
  const l2 = labelIds(g2);
  const n1 = l1.length;
  const n2 = l2.length;
  const types = edgeTypesOf([g1, g2]);
  if (types.length > MAX_EDGE_TYPES) throw new UserError(`GED handles at most ${MAX_EDGE_TYPES} distinct edge types between two graphs; these have ${types.length}`);
  const bit = new Map(types.map((t, s) => [t, 1 << s] as const));
  // The typed adjacency bitmask straight from the edge list: no intermediate edge tuples (for
  // 190-edge graphs their allocation was a tenth of a BP call).
  const adj = (g: Graph, n: number): EdgeMasks => {
    const a: EdgeMasks = new Uint16Array(n * n);
    forEachIndexedEdge(g, (s, t, r) => (a[s * n + t]! |= bit.get(r)!));
    return a;
  };
  const a1 = adj(g1, n1);
  const a2 = adj(g2, n2);
  const work = workspace(n1, n2, 2 * types.length);
  return { n1, n2, l1, l2, labelCount: dict.size, a1, a2, types, presentTypes: types.length, costs, undirected, work, g1, g2 };
}

/** Cost of the edge pair (mask in g1, mask in g2) under matched endpoints. */
function edgePairCost(e1: number, e2: number, c: GedCosts): number {
  return POPCOUNT[e1 & ~e2 & 0xffff]! * c.edgeDeletion + POPCOUNT[e2 & ~e1 & 0xffff]! * c.edgeInsertion;
}

/** Exact cost of the edit path induced by phi (g1 index → g2 index or −1). */
function pathCost(p: GedProblem, phi: Int32Array): number {
  const { n1, n2, a1, a2, costs: c } = p;
  let cost = 0;
  const inverse = p.work.inverse.fill(-1, 0, n2);
  for (let i = 0; i < n1; i++) {
    const k = phi[i]!;
    if (k < 0) cost += c.nodeDeletion;
    else {
      inverse[k] = i;
      if (p.l1[i] !== p.l2[k]) cost += c.nodeSubstitution;
    }
  }
  for (let k = 0; k < n2; k++) if (inverse[k]! < 0) cost += c.nodeInsertion;
  for (let i = 0; i < n1; i++)
    for (let j = 0; j < n1; j++) {
      const e1 = a1[i * n1 + j]!;
      const k = phi[i]!;
      const l = phi[j]!;
      if (k >= 0 && l >= 0) cost += edgePairCost(e1, a2[k * n2 + l]!, c);
      else cost += POPCOUNT[e1]! * c.edgeDeletion;
    }
  for (let k = 0; k < n2; k++)
    for (let l = 0; l < n2; l++) if (inverse[k]! < 0 || inverse[l]! < 0) cost += POPCOUNT[a2[k * n2 + l]!]! * c.edgeInsertion;
  return cost;
}

/** A partial node map during the search: the decided g1 nodes, their images (−1: deleted) and the used g2 nodes. */
interface PartialMap {
  phi: Int32Array;
  decided: Uint8Array;
  used: Uint8Array;
}

interface CompletionBound {
  /** Lower bound on the cost of every completion of the partial map (edges among decided nodes excluded: already paid). */
  bound: number;
  /** The completion attaining the bound: image of each undecided row (a free g2 node, or −1 for deletion); a scratch view, valid until the next call. */
  images: Int32Array;
}

/** Per-type out- and in-degree counts (2S per node, S present types) of the subgraph induced on `nodes`. */
function localDegrees(a: EdgeMasks, n: number, nodes: Int32Array, r: number, S: number, deg: Int32Array): Int32Array {
  deg.fill(0, 0, r * 2 * S);
  for (let x = 0; x < r; x++) {
    const row = nodes[x]! * n;
    for (let y = 0; y < r; y++) {
      let e = a[row + nodes[y]!]!;
      while (e) {
        const t = 31 - Math.clz32(e & -e);
        deg[x * 2 * S + t]!++;
        deg[y * 2 * S + S + t]!++;
        e &= e - 1;
      }
    }
  }
  return deg;
}

/**
 * Cost of inserting (or deleting) each of `count` nodes: the node cost, every edge to the
 * `nfixed` already-placed nodes, and half of its local typed degree among the open ones. Written
 * into `out`; returns the sum.
 */
function dummyCosts(adj: EdgeMasks, n: number, nodes: Int32Array, count: number, fixed: Int32Array, nfixed: number, rem: Int32Array, D: number, nodeCost: number, edgeCost: number, out: Float64Array): number {
  let total = 0;
  for (let a = 0; a < count; a++) {
    const u = nodes[a]!;
    let edges = 0;
    for (let x = 0; x < nfixed; x++) edges += POPCOUNT[adj[u * n + fixed[x]!]!]! + POPCOUNT[adj[fixed[x]! * n + u]!]!;
    let local = 0;
    for (let t = 0; t < D; t++) local += rem[a * D + t]!;
    total += out[a] = nodeCost + (edges + 0.5 * local) * edgeCost;
  }
  return total;
}

/**
 * Lower bound on the cost of completing a partial node map, and the completion attaining it: a
 * linear assignment of the undecided g1 nodes (`rows`) to free g2 nodes or to deletion, each pair
 * priced at its node cost, the exact cost of its edges to decided nodes, and half the typed-degree
 * mismatch of its edges among undecided nodes (each such edge is seen from both ends, so the sum
 * never exceeds the true cost). With nothing decided this is the Riesen–Bunke bipartite problem.
 *
 * Its (n+m)² matrix is solved in an equivalent min(r1,r2)² form: with every row deleted and every
 * column inserted as the baseline, substituting u → k changes the cost by
 * s(u,k) = sub(u,k) − del(u) − ins(k), and the best set of substitutions is a partial matching
 * that uses only s < 0, i.e. a full assignment on the costs min(s, 0) (a matched pair with s ≥ 0
 * stands for "delete and insert"). Four to eight times less work than the padded square matrix.
 */
function completionBound(p: GedProblem, s: PartialMap, rows: Int32Array): CompletionBound {
  const { n1, n2, a1, a2, costs: c, work } = p;
  const r1 = rows.length;
  const { decided, usedCols, cols, rem1, rem2, insertion, deletion, saving, clamped, images } = work;
  let nd = 0;
  for (let v = 0; v < n1; v++) if (s.decided[v]) decided[nd++] = v;
  let nu = 0;
  let r2 = 0;
  for (let k = 0; k < n2; k++) {
    if (s.used[k]) usedCols[nu++] = k;
    else cols[r2++] = k;
  }
  const S = p.presentTypes;
  const D = 2 * S;
  localDegrees(a1, n1, rows, r1, S, rem1);
  localDegrees(a2, n2, cols, r2, S, rem2);
  const edel = c.edgeDeletion;
  const eins = c.edgeInsertion;
  const sub = c.nodeSubstitution;
  const baseline =
    dummyCosts(a2, n2, cols, r2, usedCols, nu, rem2, D, c.nodeInsertion, eins, insertion) +
    dummyCosts(a1, n1, rows, r1, decided, nd, rem1, D, c.nodeDeletion, edel, deletion);
  images.fill(-1, 0, r1);
  if (r1 === 0 || r2 === 0) return { bound: baseline, images };
  // saving[a*r2+b] = s(u,k): negative when substituting beats deleting u and inserting k.
  for (let a = 0; a < r1; a++) {
    const u = rows[a]!;
    const lu = p.l1[u]!;
    for (let b = 0; b < r2; b++) {
      const k = cols[b]!;
      let cost = lu !== p.l2[k] ? sub : 0;
      for (let x = 0; x < nd; x++) {
        const v = decided[x]!;
        const q = s.phi[v]!;
        if (q >= 0) cost += edgePairCost(a1[u * n1 + v]!, a2[k * n2 + q]!, c) + edgePairCost(a1[v * n1 + u]!, a2[q * n2 + k]!, c);
        else cost += (POPCOUNT[a1[u * n1 + v]!]! + POPCOUNT[a1[v * n1 + u]!]!) * edel;
      }
      let half = 0;
      if (edel === eins) {
        // Equal edge costs (the usual case): the typed-degree mismatch is an L1 distance.
        for (let t = 0; t < D; t++) half += Math.abs(rem1[a * D + t]! - rem2[b * D + t]!);
        half *= edel;
      } else {
        for (let t = 0; t < D; t++) {
          const d = rem1[a * D + t]! - rem2[b * D + t]!;
          half += Math.max(d, 0) * edel - Math.min(d, 0) * eins;
        }
      }
      saving[a * r2 + b] = cost + 0.5 * half - deletion[a]! - insertion[b]!;
    }
  }
  const transposed = r1 > r2;
  const R = transposed ? r2 : r1;
  const C = transposed ? r1 : r2;
  for (let a = 0; a < r1; a++)
    for (let b = 0; b < r2; b++) clamped[transposed ? b * C + a : a * C + b] = Math.min(0, saving[a * r2 + b]!);
  const lap = linearAssignment(clamped.subarray(0, R * C), R, C);
  for (let x = 0; x < R; x++) {
    const y = lap.rowToColumn[x]!;
    const a = transposed ? y : x;
    const b = transposed ? x : y;
    if (saving[a * r2 + b]! < 0) images[a] = cols[b]!;
  }
  return { bound: baseline + lap.cost, images };
}

interface Bracket {
  lowerBound: number;
  upperBound: number;
  phi: Int32Array;
}

/** Write the completion's images of `rows` into phi. */
function applyCompletion(cb: CompletionBound, rows: Int32Array, phi: Int32Array): void {
  for (let a = 0; a < rows.length; a++) phi[rows[a]!] = cb.images[a]!;
}

function bipartiteBracket(p: GedProblem): Bracket {
  const phi = new Int32Array(p.n1).fill(-1);
  const rows = new Int32Array(p.n1);
  for (let i = 0; i < rows.length; i++) rows[i] = i;
  const cb = completionBound(p, { phi, decided: p.work.noneDecided.fill(0, 0, p.n1), used: p.work.noneUsed.fill(0, 0, p.n2) }, rows);
  applyCompletion(cb, rows, phi);
  const upperBound = pathCost(p, phi);
  // Rounding in the assignment sum must never lift the bound above the path it certifies.
  return { lowerBound: Math.min(cb.bound, upperBound), upperBound, phi };
}

function editPathOf(p: GedProblem, phi: Int32Array): { nodeMap: Array<[NodeId, NodeId | null]>; editPath: EditOperation[] } {
  const ids1 = p.g1.nodes.map((n) => n.id);
  const ids2 = p.g2.nodes.map((n) => n.id);
  const nodeMap: Array<[NodeId, NodeId | null]> = [];
  const ops: EditOperation[] = [];
  const inverse = new Int32Array(p.n2).fill(-1);
  for (let i = 0; i < p.n1; i++) {
    const k = phi[i]!;
    nodeMap.push([ids1[i]!, k >= 0 ? ids2[k]! : null]);
    if (k < 0) ops.push({ op: 'delete-node', node: ids1[i]! });
    else {
      inverse[k] = i;
      if (p.l1[i] !== p.l2[k]) ops.push({ op: 'substitute-node', from: ids1[i]!, to: ids2[k]!, fromLabel: p.g1.nodes[i]!.label, toLabel: p.g2.nodes[k]!.label });
    }
  }
  for (let k = 0; k < p.n2; k++) if (inverse[k]! < 0) ops.push({ op: 'insert-node', node: ids2[k]! });
  const T = p.types.length;
  // An undirected edge is listed once, from its lower-index end.
  for (let i = 0; i < p.n1; i++)
    for (let j = p.undirected ? i + 1 : 0; j < p.n1; j++) {
      const k = phi[i]!;
      const l = phi[j]!;
      const e1 = p.a1[i * p.n1 + j]!;
      const e2 = k >= 0 && l >= 0 ? p.a2[k * p.n2 + l]! : 0;
      for (let r = 0; r < T; r++) if (e1 & ~e2 & (1 << r)) ops.push({ op: 'delete-edge', source: ids1[i]!, target: ids1[j]!, type: p.types[r]! });
    }
  for (let k = 0; k < p.n2; k++)
    for (let l = p.undirected ? k + 1 : 0; l < p.n2; l++) {
      const i = inverse[k]!;
      const j = inverse[l]!;
      const e2 = p.a2[k * p.n2 + l]!;
      const e1 = i >= 0 && j >= 0 ? p.a1[i * p.n1 + j]! : 0;
      for (let r = 0; r < T; r++) if (e2 & ~e1 & (1 << r)) ops.push({ op: 'insert-edge', source: ids2[k]!, target: ids2[l]!, type: p.types[r]! });
    }
  return { nodeMap, editPath: ops };
}

function result(p: GedProblem, lowerBound: number, upperBound: number, exact: boolean, phi: Int32Array, start: number): GedResult {
  const timeMs = performance.now() - start;
  // The node map and edit path are built on first access: monitors read only the numbers, and
  // listing an edit path's operations cost more than the bipartite bound itself.
  let path: ReturnType<typeof editPathOf> | undefined;
  const built = (): ReturnType<typeof editPathOf> => (path ??= editPathOf(p, Int32Array.from(phi)));
  // Getters in the literal are own, enumerable properties (as JSON.stringify needs) without
  // Object.defineProperty's cost.
  return {
    ged: upperBound, lowerBound, upperBound, exact, timeMs,
    get nodeMap() {
      return built().nodeMap;
    },
    get editPath() {
      return built().editPath;
    },
  };
}

/** Riesen–Bunke bipartite GED approximation: one linear assignment; `ged` is the upper bound, with the matching's lower bound beside it. */
export function bpGed(g1: Graph, g2: Graph, opts: { costs?: Partial<GedCosts> } = {}): GedResult {
  const start = performance.now();
  const p = prepare(g1, g2, resolveCosts(opts.costs));
  const b = bipartiteBracket(p);
  return result(p, b.lowerBound, b.upperBound, b.lowerBound === b.upperBound, b.phi, start);
}

/** The two bound values only (no edit path): the cheap form used by monitors. */
export function bpGedBounds(g1: Graph, g2: Graph, costs?: Partial<GedCosts>): { lowerBound: number; upperBound: number } {
  const b = bipartiteBracket(prepare(g1, g2, resolveCosts(costs)));
  return { lowerBound: b.lowerBound, upperBound: b.upperBound };
}

/**
 * Search order of g1's nodes: start from the highest degree, then always the node with the most
 * edges to nodes already placed, so edge costs enter the decided part early and prune.
 */
function searchOrder(p: GedProblem): Int32Array {
  const { n1, a1 } = p;
  const link = (i: number, j: number): number => POPCOUNT[a1[i * n1 + j]!]! + POPCOUNT[a1[j * n1 + i]!]!;
  const degree = Array.from({ length: n1 }, (_, i) => {
    let d = 0;
    for (let j = 0; j < n1; j++) d += link(i, j);
    return d;
  });
  const placed = new Uint8Array(n1);
  const toPlaced = new Float64Array(n1);
  const order = new Int32Array(n1);
  for (let d = 0; d < n1; d++) {
    let best = -1;
    for (let i = 0; i < n1; i++) if (!placed[i] && (best < 0 || toPlaced[i]! > toPlaced[best]! || (toPlaced[i] === toPlaced[best] && degree[i]! > degree[best]!))) best = i;
    order[d] = best;
    placed[best] = 1;
    for (let i = 0; i < n1; i++) toPlaced[i] += link(i, best);
  }
  return order;
}

/**
 * Exact GED by depth-first branch and bound over the images of g1's nodes (a g2 node or
 * deletion), seeded with the bipartite upper bound. Each search node is bounded by the exact cost
 * of its decided part plus `completionBound`, whose assignment is also costed as a complete edit
 * path, so good upper bounds appear early. Past `timeMs` the best bracket found is returned.
 */
export function exactGed(g1: Graph, g2: Graph, opts: GedOptions = {}): GedResult {
  const start = performance.now();
  const budget = opts.timeMs ?? 1000;
  if (!(budget >= 0)) throw new RangeError(`GED time budget must be ≥ 0 ms, got ${budget}`);
  const p = prepare(g1, g2, resolveCosts(opts.costs));
  const seed = bipartiteBracket(p);
  if (seed.lowerBound >= seed.upperBound - SEARCH_EPS) return result(p, seed.lowerBound, seed.upperBound, true, Int32Array.from(seed.phi), start);
  const search = new BranchAndBound(p, seed, start + budget);
  search.greedyDive();
  search.search(0, 0);
  const exact = !search.timedOut;
  const lowerBound = exact ? search.ub : Math.min(seed.lowerBound, search.ub);
  return result(p, lowerBound, search.ub, exact, search.bestPhi, start);
}

/** Units of search work (assignment cells) between two reads of the clock. */
const CLOCK_EVERY = 4096;

/** Costs closer than this are equal to the search (float sums of edit costs). */
const SEARCH_EPS = 1e-9;

/** The state of one exact GED search: the partial map, the best edit path so far (ub, bestPhi) and the clock. */
class BranchAndBound {
  ub: number;
  readonly bestPhi: Int32Array;
  timedOut = false;
  private readonly order: Int32Array;
  private readonly state: PartialMap;
  /** g2 edges in all, and those with both endpoints used (paid for by the decided part); the rest are inserted at the end. */
  private readonly g2Edges: number;
  private usedEdges = 0;
  private readonly trial: Int32Array;
  /** Work done, in units of one assignment cell (a completion bound costs about n1·n2), and when to read the clock next. */
  private work = 0;
  private nextClock = 0;
  /** The root bound is the bipartite lower bound: an edit path that reaches it ends the search. */
  private readonly floor: number;

  constructor(
    private readonly p: GedProblem,
    seed: Bracket,
    private readonly deadline: number,
  ) {
    this.ub = seed.upperBound;
    this.bestPhi = Int32Array.from(seed.phi);
    this.floor = seed.lowerBound;
    this.order = searchOrder(p);
    this.state = { phi: new Int32Array(p.n1).fill(-1), decided: new Uint8Array(p.n1), used: new Uint8Array(p.n2) };
    let edges = 0;
    for (let x = 0; x < p.n2 * p.n2; x++) edges += POPCOUNT[p.a2[x]!]!;
    this.g2Edges = edges;
    this.trial = new Int32Array(p.n1);
  }

  private done(): boolean {
    return this.timedOut || this.ub <= this.floor + SEARCH_EPS;
  }

  /**
   * Charges one child's completion bound and reads the clock once per CLOCK_EVERY units of work:
   * on small graphs about every hundred bounds, from ~64 nodes every bound. Counting expansions
   * instead (one clock read per 64) let a 64-node search run 0.7 s past a 20 ms budget, each
   * expansion bounding 65 children at ~0.3 ms each (measured in training's GED monitor).
   */
  private clockRunsOut(): boolean {
    this.work += this.p.n1 * this.p.n2 + 1;
    if (this.work >= this.nextClock) {
      this.nextClock = this.work + CLOCK_EVERY;
      if (performance.now() > this.deadline) this.timedOut = true;
    }
    return this.timedOut;
  }

  /** Exact cost added by deciding node u → k (k = −1: deletion) next to the d decided nodes. */
  private stepCost(d: number, u: number, k: number): number {
    const { n1, n2, a1, a2, l1, l2, costs: c } = this.p;
    const phi = this.state.phi;
    let s = k < 0 ? c.nodeDeletion + POPCOUNT[a1[u * n1 + u]!]! * c.edgeDeletion : (l1[u] !== l2[k] ? c.nodeSubstitution : 0) + edgePairCost(a1[u * n1 + u]!, a2[k * n2 + k]!, c);
    for (let e = 0; e < d; e++) {
      const v = this.order[e]!;
      const q = phi[v]!;
      const out1 = a1[u * n1 + v]!;
      const in1 = a1[v * n1 + u]!;
      if (k >= 0 && q >= 0) s += edgePairCost(out1, a2[k * n2 + q]!, c) + edgePairCost(in1, a2[q * n2 + k]!, c);
      else s += (POPCOUNT[out1]! + POPCOUNT[in1]!) * c.edgeDeletion;
    }
    return s;
  }

  /** g2 edges between node k and the used nodes (its loop included). */
  private edgesToUsed(k: number): number {
    const { n2, a2 } = this.p;
    const used = this.state.used;
    let e = POPCOUNT[a2[k * n2 + k]!]!;
    for (let q = 0; q < n2; q++) if (used[q] && q !== k) e += POPCOUNT[a2[k * n2 + q]!]! + POPCOUNT[a2[q * n2 + k]!]!;
    return e;
  }

  /**
   * A first edit path in O(n1·n2·n1), before any completion bound: each node of the search order
   * takes its cheapest image given those already taken. On a 64-node chain prediction near its
   * target this costs about a millisecond, where the bounded search needs one completion bound per
   * child just to reach its first leaf (~1 s); with the clock kept, the bipartite bound alone was
   * all a 20 ms budget returned there (mean GED 104 against 35).
   */
  greedyDive(): void {
    const { n1, n2 } = this.p;
    const used = this.state.used;
    const taken: Array<[number, number, number]> = [];
    for (let d = 0; d < n1; d++) {
      const u = this.order[d]!;
      let best = -1;
      let bestCost = this.stepCost(d, u, -1);
      for (let k = 0; k < n2; k++) {
        if (used[k]) continue;
        const c = this.stepCost(d, u, k);
        if (c < bestCost) {
          bestCost = c;
          best = k;
        }
      }
      taken.push([u, best, this.decide(u, best)]);
    }
    const cost = pathCost(this.p, this.state.phi);
    if (cost < this.ub - SEARCH_EPS) {
      this.ub = cost;
      this.bestPhi.set(this.state.phi);
    }
    for (let t = taken.length - 1; t >= 0; t--) this.undo(taken[t]![0], taken[t]![1], taken[t]![2]);
  }

  /** Bound the current partial map and cost its completion as an edit path (which may lower ub). */
  private bounded(d: number): CompletionBound {
    const rows = this.order.subarray(d);
    const cb = completionBound(this.p, this.state, rows);
    this.trial.set(this.state.phi);
    applyCompletion(cb, rows, this.trial);
    const completed = pathCost(this.p, this.trial);
    if (completed < this.ub - SEARCH_EPS) {
      this.ub = completed;
      this.bestPhi.set(this.trial);
    }
    return cb;
  }

  private decide(u: number, k: number): number {
    const { phi, decided, used } = this.state;
    phi[u] = k;
    decided[u] = 1;
    if (k < 0) return 0;
    used[k] = 1;
    const added = this.edgesToUsed(k);
    this.usedEdges += added;
    return added;
  }

  private undo(u: number, k: number, added: number): void {
    const { phi, decided, used } = this.state;
    if (k >= 0) {
      this.usedEdges -= added;
      used[k] = 0;
    }
    decided[u] = 0;
    phi[u] = -1;
  }

  /** Search below a partial map of the first d nodes of the order, whose exact cost is g. */
  search(d: number, g: number): void {
    const { n1, n2, costs: c } = this.p;
    const used = this.state.used;
    if (this.done()) return;
    if (d === n1) {
      let free = 0;
      for (let k = 0; k < n2; k++) if (!used[k]) free++;
      const cost = g + free * c.nodeInsertion + (this.g2Edges - this.usedEdges) * c.edgeInsertion;
      if (cost < this.ub - SEARCH_EPS) {
        this.ub = cost;
        this.bestPhi.set(this.state.phi);
      }
      return;
    }
    const u = this.order[d]!;
    // Bound every child first, then descend best-first: the search dives straight to tight paths.
    const kids: Array<[number, number, number]> = [];
    for (let k = -1; k < n2; k++) {
      if (k >= 0 && used[k]) continue;
      const gk = g + this.stepCost(d, u, k);
      if (gk >= this.ub - SEARCH_EPS) continue;
      if (this.clockRunsOut()) return;
      const added = this.decide(u, k);
      const f = d + 1 === n1 ? gk : gk + this.bounded(d + 1).bound;
      this.undo(u, k, added);
      if (f < this.ub - SEARCH_EPS) kids.push([f, k, gk]);
    }
    kids.sort((x, y) => x[0] - y[0]);
    for (const [f, k, gk] of kids) {
      if (this.done() || f >= this.ub - SEARCH_EPS) return;
      const added = this.decide(u, k);
      this.search(d + 1, gk);
      this.undo(u, k, added);
    }
  }
}
