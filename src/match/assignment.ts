export interface Assignment {
  /** Column assigned to each row. */
  rowToColumn: Int32Array;
  /** Total cost of the assignment. */
  cost: number;
}

interface Scratch {
  size: number;
  rows: number;
  u: Float64Array;
  v: Float64Array;
  rowOf: Int32Array;
  way: Int32Array;
  minv: Float64Array;
  used: Uint8Array;
}
function makeScratch(size: number): Scratch {
  return { size, rows: size, u: new Float64Array(size), v: new Float64Array(size), rowOf: new Int32Array(size), way: new Int32Array(size), minv: new Float64Array(size), used: new Uint8Array(size) };
}
let scratch = makeScratch(64);

/**
 * Minimum-cost assignment of every row of an n×m cost matrix (row-major, n ≤ m) to a distinct
 * column: the shortest-augmenting-path Hungarian method with potentials (Jonker–Volgenant style),
 * O(n²·m). Entries may be +Infinity (forbidden) as long as a finite assignment exists.
 */
export function linearAssignment(cost: Float64Array, n: number, m: number): Assignment {
  if (n > m) throw new Error(`linearAssignment: ${n} rows exceed ${m} columns`);
  if (cost.length !== n * m) throw new Error(`linearAssignment: cost has ${cost.length} entries, expected ${n * m}`);
  // 1-based internals: column 0 is the virtual start of each augmenting path.
  // Scratch is reused across calls (allocating typed arrays costs more than solving a 20×20
  // problem); the function is synchronous and not re-entrant, so sharing is safe.
  if (scratch.size < m + 1 || scratch.rows < n + 1) scratch = makeScratch(Math.max(n, m) + 1);
  const { u, v, rowOf, way, minv, used } = scratch;
  u.fill(0, 0, n + 1);
  v.fill(0, 0, m + 1);
  rowOf.fill(0, 0, m + 1);
  // Start from row minima (feasible duals with v = 0) and give each row its cheapest column when
  // that column is still free: most rows are then matched without an augmenting path.
  const pending: number[] = [];
  for (let i = 1; i <= n; i++) {
    let best = Infinity;
    let bj = 0;
    const base = (i - 1) * m - 1;
    // Among equal minima prefer a free column (clamped GED matrices are full of ties at 0).
    for (let j = 1; j <= m; j++) {
      const x = cost[base + j]!;
      if (x < best || (x === best && rowOf[bj] !== 0 && rowOf[j] === 0)) {
        best = x;
        bj = j;
      }
    }
    if (best === Infinity) throw new Error('linearAssignment: no finite assignment exists');
    u[i] = best;
    if (rowOf[bj] === 0) rowOf[bj] = i;
    else pending.push(i);
  }
  for (const i of pending) {
    rowOf[0] = i;
    let j0 = 0;
    minv.fill(Infinity, 0, m + 1);
    used.fill(0, 0, m + 1);
    do {
      used[j0] = 1;
      const i0 = rowOf[j0]!;
      const base = (i0 - 1) * m - 1;
      const ui0 = u[i0]!;
      let delta = Infinity;
      let j1 = -1;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const c = cost[base + j]! - ui0 - v[j]!;
        if (c < minv[j]!) {
          minv[j] = c;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      if (j1 < 0 || delta === Infinity) throw new Error('linearAssignment: no finite assignment exists');
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[rowOf[j]!] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    do {
      const j1 = way[j0]!;
      rowOf[j0] = rowOf[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const rowToColumn = new Int32Array(n);
  let total = 0;
  for (let j = 1; j <= m; j++) {
    const i = rowOf[j]!;
    if (i > 0) {
      rowToColumn[i - 1] = j - 1;
      total += cost[(i - 1) * m + j - 1]!;
    }
  }
  return { rowToColumn, cost: total };
}
