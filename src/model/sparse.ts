/**
 * A batch of sparse matrices [B, R, C] by rows: the nonzeros of row r of matrix b are
 * cols/values[start[b·R + r] .. start[b·R + r + 1]).
 */
export interface SparseRows {
  B: number;
  R: number;
  C: number;
  start: Int32Array;
  cols: Int32Array;
  values: Float32Array;
}

/** The nonzeros of dense row-major matrices [B, R, C]. */
export function sparseRows(dense: Float32Array, B: number, R: number, C: number): SparseRows {
  let nnz = 0;
  for (let k = 0; k < dense.length; k++) if (dense[k] !== 0) nnz++;
  const start = new Int32Array(B * R + 1);
  const cols = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let n = 0;
  for (let row = 0; row < B * R; row++) {
    start[row] = n;
    for (let c = 0, off = row * C; c < C; c++) {
      const v = dense[off + c]!;
      if (v !== 0) {
        cols[n] = c;
        values[n++] = v;
      }
    }
  }
  start[B * R] = n;
  return { B, R, C, start, cols, values };
}

/**
 * S[b] · X[b] for every b (X [B, C, d] → [B, R, d]), or with `transposed` Sᵀ[b] · X[b]
 * (X [B, R, d] → [B, C, d]); row-major float32, nonzeros taken in row order.
 */
export function sparseProduct(S: SparseRows, X: Float32Array, d: number, transposed = false): Float32Array {
  const { B, R, C, start, cols, values } = S;
  const out = new Float32Array(B * (transposed ? C : R) * d);
  for (let row = 0; row < B * R; row++) {
    const b = Math.floor(row / R);
    for (let n = start[row]!; n < start[row + 1]!; n++) {
      const v = values[n]!;
      const col = b * C + cols[n]!;
      const to = (transposed ? col : row) * d;
      const from = (transposed ? row : col) * d;
      for (let j = 0; j < d; j++) out[to + j] += v * X[from + j]!;
    }
  }
  return out;
}
