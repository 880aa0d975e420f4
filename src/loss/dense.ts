/** Dense row-major Float64Array matrix helpers for the loss kernels (i-k-j loop order, contiguous inner loops). */

/** C = A·B for A (r×s), B (s×t). */
export function matmul(A: Float64Array, B: Float64Array, r: number, s: number, t: number, out = new Float64Array(r * t)): Float64Array {
  out.fill(0);
  for (let i = 0; i < r; i++) {
    const oi = i * t;
    const ai = i * s;
    for (let k = 0; k < s; k++) {
      const a = A[ai + k]!;
      if (a === 0) continue;
      const bk = k * t;
      for (let j = 0; j < t; j++) out[oi + j] += a * B[bk + j]!;
    }
  }
  return out;
}

/** Aᵀ for A (r×s). */
export function transpose(A: Float64Array, r: number, s: number): Float64Array {
  const out = new Float64Array(r * s);
  for (let i = 0; i < r; i++) for (let j = 0; j < s; j++) out[j * r + i] = A[i * s + j]!;
  return out;
}

/** Aᵀ·B for A (s×r), B (s×t): the sum of outer products of rows, without forming Aᵀ. */
export function matmulTN(A: Float64Array, B: Float64Array, s: number, r: number, t: number, out = new Float64Array(r * t)): Float64Array {
  out.fill(0);
  for (let k = 0; k < s; k++) {
    const ak = k * r;
    const bk = k * t;
    for (let i = 0; i < r; i++) {
      const a = A[ak + i]!;
      if (a === 0) continue;
      const oi = i * t;
      for (let j = 0; j < t; j++) out[oi + j] += a * B[bk + j]!;
    }
  }
  return out;
}

/** A·Bᵀ for A (r×s), B (t×s): row-by-row dot products. */
export function matmulNT(A: Float64Array, B: Float64Array, r: number, s: number, t: number, out = new Float64Array(r * t)): Float64Array {
  for (let i = 0; i < r; i++) {
    const ai = i * s;
    for (let j = 0; j < t; j++) {
      const bj = j * s;
      let acc = 0;
      for (let k = 0; k < s; k++) acc += A[ai + k]! * B[bj + k]!;
      out[i * t + j] = acc;
    }
  }
  return out;
}

export function sum(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s;
}

export function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

/** tr(X³) for a square n×n X, given X² already. */
export function traceCube(X: Float64Array, X2: Float64Array, n: number): number {
  let s = 0;
  for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) s += X2[j * n + k]! * X[k * n + j]!;
  return s;
}
