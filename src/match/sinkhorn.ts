/**
 * Log-domain Sinkhorn between two discrete measures, with its exact adjoint.
 *
 * Potentials are kept as u = f/τ, v = g/τ on L = −C/τ. One iteration updates u (rows) then
 * v (columns); the plan is P = exp(L + u ⊕ v). The fast kernel exponentiates L once,
 * shifted by its row maxima and (transposed) by its column maxima, and evaluates each half step
 * as a matrix–vector product: N exponentials per half step instead of N². It is exact while
 * exp(L − rowmax) cannot underflow, i.e. (max L − min L) < FAST_RANGE; otherwise the textbook
 * log-sum-exp loop runs. The choice is made per call and reported.
 */

/** Largest (max C − min C)/τ for the mat-vec kernel: e^−350 ≈ 1e−152 stays a normal double even after the v shift. */
export const FAST_RANGE = 350;

export interface SinkhornOptions {
  /** Temperature τ > 0, in cost units (default 0.1). */
  tau: number;
  /** Iteration cap ≥ 1 (default 20). */
  maxIterations: number;
  /** Stop once ‖P·1 − a‖₁ < tolerance after a column update (default 1e-6). */
  tolerance: number;
  /**
   * Start of the column potential g (cost units, length m). Default: the balanced start
   * g_j = ½·min_i C_ij + ½·τ·log b_j, which splits every cheap entry's cost evenly between its
   * row and column. From g = 0 instead, a plan whose dummy rows and columns are tied to the rest
   * only through costly entries (insert/delete) converges at a rate of 1 − O(e^(−cost/τ)): its
   * potentials start in the wrong gauge and Sinkhorn barely moves them.
   */
  initialG?: Float64Array;
  /** Keep every iteration's potentials, needed by `sinkhornAdjoint`. */
  keepHistory?: boolean;
  /**
   * Find the starting potentials by ε-scaling: short Sinkhorn runs at temperatures halving from
   * the cost range down to τ, each warm-started from the last. Not with keepHistory (the adjoint
   * would not see the warm-up). See `epsilonScaledStart`.
   */
  epsilonScaling?: boolean;
  /** Use the log-sum-exp loop even where the mat-vec kernel is valid (for cross-checks). */
  forceLogSumExp?: boolean;
}

export interface SinkhornReport {
  /** Iterations at the target temperature (the capped ones). */
  iterations: number;
  /** Iterations spent by ε-scaling before them (0 without it). */
  warmupIterations?: number;
  marginalError: number;
  converged: boolean;
  kernel: 'matvec' | 'logsumexp';
}

export interface SinkhornResult extends SinkhornReport {
  /** n×m plan, row-major. */
  plan: Float64Array;
  /** Row and column potentials in cost units (f = τu, g = τv). */
  f: Float64Array;
  g: Float64Array;
  /** Internal state for the adjoint (present with keepHistory). */
  tape?: SinkhornTape;
}

export interface SinkhornTape {
  n: number;
  m: number;
  tau: number;
  L: Float64Array;
  logA: Float64Array;
  logB: Float64Array;
  /** us[k], vs[k] after iteration k; v0 is the warm start (v before iteration 0). */
  us: Float64Array[];
  vs: Float64Array[];
  v0: Float64Array;
  /** For the balanced start: the row whose cost set v0[j]; v0 then depends on C. */
  argminRow?: Int32Array;
  kernels?: Kernels;
}

interface Kernels {
  rowMax: Float64Array;
  colMax: Float64Array;
  /** exp(L − rowMax), n×m row-major. */
  E: Float64Array;
  /** exp(Lᵀ − colMax), m×n row-major (so the column pass is contiguous too). */
  Et: Float64Array;
}

function maxOf(x: Float64Array): number {
  let mx = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i]! > mx) mx = x[i]!;
  return mx;
}

function buildKernels(L: Float64Array, n: number, m: number): Kernels {
  const rowMax = new Float64Array(n).fill(-Infinity);
  const colMax = new Float64Array(m).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    const o = i * m;
    for (let j = 0; j < m; j++) {
      const x = L[o + j]!;
      if (x > rowMax[i]!) rowMax[i] = x;
      if (x > colMax[j]!) colMax[j] = x;
    }
  }
  const E = new Float64Array(n * m);
  const Et = new Float64Array(m * n);
  for (let i = 0; i < n; i++) {
    const o = i * m;
    const r = rowMax[i]!;
    for (let j = 0; j < m; j++) {
      const x = L[o + j]!;
      E[o + j] = Math.exp(x - r);
      Et[j * n + i] = Math.exp(x - colMax[j]!);
    }
  }
  return { rowMax, colMax, E, Et };
}

/**
 * out[i] = lse_j(K[i,j] + w[j]) for a kernel stored as exp(K − shift) row-major (rows × cols).
 * Mat-vec form: shift[i] + wm + log Σ_j Ek[i,j]·exp(w[j] − wm).
 */
function lseMatvec(Ek: Float64Array, shift: Float64Array, rows: number, cols: number, w: Float64Array, out: Float64Array, scratch: Float64Array): void {
  const wm = maxOf(w);
  for (let j = 0; j < cols; j++) scratch[j] = Math.exp(w[j]! - wm);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += Ek[o + j]! * scratch[j]!;
    out[i] = shift[i]! + wm + Math.log(s);
  }
}

/** Row log-sum-exp of L + w (n×m), the textbook stable loop. */
function lseRows(L: Float64Array, n: number, m: number, w: Float64Array, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const o = i * m;
    let mx = -Infinity;
    for (let j = 0; j < m; j++) {
      const x = L[o + j]! + w[j]!;
      if (x > mx) mx = x;
    }
    let s = 0;
    for (let j = 0; j < m; j++) s += Math.exp(L[o + j]! + w[j]! - mx);
    out[i] = mx + Math.log(s);
  }
}

/** Column log-sum-exp of L + w (w indexed by row). */
function lseCols(L: Float64Array, n: number, m: number, w: Float64Array, out: Float64Array): void {
  const mx = new Float64Array(m).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    const o = i * m;
    for (let j = 0; j < m; j++) {
      const x = L[o + j]! + w[i]!;
      if (x > mx[j]!) mx[j] = x;
    }
  }
  const s = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const o = i * m;
    for (let j = 0; j < m; j++) s[j] += Math.exp(L[o + j]! + w[i]! - mx[j]!);
  }
  for (let j = 0; j < m; j++) out[j] = mx[j]! + Math.log(s[j]!);
}

/**
 * Entropic optimal transport plan between marginals a (n) and b (m), all positive, for cost C
 * (n×m row-major) at temperature τ. Never returns NaN or Inf for finite C and τ > 0.
 */
export function sinkhornLog(C: Float64Array, a: Float64Array, b: Float64Array, opts: SinkhornOptions): SinkhornResult {
  const n = a.length;
  const m = b.length;
  const { tau, maxIterations, tolerance } = opts;
  if (!(tau > 0) || !Number.isFinite(tau)) throw new RangeError(`sinkhorn: temperature must be a positive finite number, got ${tau}`);
  if (C.length !== n * m) throw new RangeError(`sinkhorn: cost has ${C.length} entries, expected ${n}×${m}`);
  if (n === 0 || m === 0) {
    return { plan: new Float64Array(0), f: new Float64Array(n), g: new Float64Array(m), iterations: 0, marginalError: 0, converged: true, kernel: 'matvec' };
  }
  if (opts.epsilonScaling) {
    if (opts.keepHistory) throw new Error('sinkhorn: epsilonScaling and keepHistory cannot be combined (the adjoint would miss the warm-up)');
    // The balanced start is exact for crisp, well-separated costs (a perfect prediction converges
    // in one iteration); ε-scaling is for the rest. Try the first, fall back to the second, keep
    // the better plan, and report every iteration spent.
    const plain = sinkhornLog(C, a, b, { ...opts, epsilonScaling: false });
    if (plain.converged) return plain;
    const warm = epsilonScaledStart(C, a, b, tau);
    const scaled = sinkhornLog(C, a, b, { ...opts, initialG: warm.g, epsilonScaling: false });
    const best = scaled.marginalError <= plain.marginalError ? scaled : plain;
    best.warmupIterations = warm.iterations + (best === scaled ? plain.iterations : 0);
    return best;
  }
  const L = new Float64Array(n * m);
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < L.length; k++) {
    const x = -C[k]! / tau;
    if (!Number.isFinite(x)) throw new RangeError('sinkhorn: cost matrix has a non-finite entry (or τ is too small for it)');
    L[k] = x;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const logA = a.map(Math.log);
  const logB = b.map(Math.log);
  const fast = hi - lo < FAST_RANGE && !opts.forceLogSumExp;
  const kernels = fast ? buildKernels(L, n, m) : undefined;
  const scratch = new Float64Array(Math.max(n, m));
  const rowLse = (v: Float64Array, out: Float64Array): void => {
    if (kernels) lseMatvec(kernels.E, kernels.rowMax, n, m, v, out, scratch);
    else lseRows(L, n, m, v, out);
  };
  const colLse = (u: Float64Array, out: Float64Array): void => {
    if (kernels) lseMatvec(kernels.Et, kernels.colMax, m, n, u, out, scratch);
    else lseCols(L, n, m, u, out);
  };

  const v0 = new Float64Array(m);
  let argminRow: Int32Array | undefined;
  if (opts.initialG) {
    for (let j = 0; j < m; j++) v0[j] = opts.initialG[j]! / tau;
  } else {
    // L = −C/τ, so ½·min_i C_ij/τ = −½·max_i L_ij; the argmax is kept for the adjoint.
    argminRow = new Int32Array(m);
    const best = new Float64Array(m).fill(-Infinity);
    for (let i = 0; i < n; i++) {
      const o = i * m;
      for (let j = 0; j < m; j++) {
        if (L[o + j]! > best[j]!) {
          best[j] = L[o + j]!;
          argminRow[j] = i;
        }
      }
    }
    for (let j = 0; j < m; j++) v0[j] = -0.5 * best[j]! + 0.5 * logB[j]!;
  }
  let u = new Float64Array(n);
  let v = Float64Array.from(v0);
  const us: Float64Array[] = [];
  const vs: Float64Array[] = [];
  const lse = new Float64Array(n);
  const clse = new Float64Array(m);
  let iterations = 0;
  let marginalError = Infinity;
  // The row half step's log-sum-exp also gives the row sums of the previous plan:
  // P·1 = a ∘ exp(u_prev + lse), so each marginal check costs nothing extra.
  for (;;) {
    rowLse(v, lse);
    if (iterations > 0) {
      let err = 0;
      for (let i = 0; i < n; i++) err += Math.abs(Math.exp(u[i]! + lse[i]!) - a[i]!);
      marginalError = err;
      if (err < tolerance || iterations >= maxIterations) break;
    }
    const un = new Float64Array(n);
    for (let i = 0; i < n; i++) un[i] = logA[i]! - lse[i]!;
    colLse(un, clse);
    const vn = new Float64Array(m);
    for (let j = 0; j < m; j++) vn[j] = logB[j]! - clse[j]!;
    u = un;
    v = vn;
    iterations++;
    if (opts.keepHistory) {
      us.push(un);
      vs.push(vn);
    }
  }
  const plan = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const o = i * m;
    for (let j = 0; j < m; j++) plan[o + j] = Math.exp(L[o + j]! + u[i]! + v[j]!);
  }
  const f = u.map((x) => x * tau);
  const g = v.map((x) => x * tau);
  const result: SinkhornResult = {
    plan, f, g, iterations,
    marginalError: Number.isFinite(marginalError) ? marginalError : Number.MAX_VALUE,
    converged: marginalError < tolerance,
    kernel: fast ? 'matvec' : 'logsumexp',
  };
  if (opts.keepHistory) {
    const tape: SinkhornTape = { n, m, tau, L, logA, logB, us, vs, v0 };
    if (kernels) tape.kernels = kernels;
    if (argminRow) tape.argminRow = argminRow;
    result.tape = tape;
  }
  return result;
}

/** Iterations per ε-scaling stage: enough to move the potentials, few enough to stay cheap. */
const STAGE_ITERATIONS = 8;

/**
 * Starting column potentials for Sinkhorn at temperature τ, by ε-scaling: stages at τ·2^s for
 * s = S…1 (the first near the cost range), each a short Sinkhorn warm-started from the previous
 * stage's potentials. At small τ a plan whose optimum must route mass through a costly entry (an
 * insertion instead of an overloaded substitution) moves its potentials by ~τ per iteration, so
 * from a cold start 20 or even 200 iterations left marginal errors of 2 (measured in training);
 * annealed, the potentials arrive nearly in place and the final stage converges.
 */
export function epsilonScaledStart(C: Float64Array, a: Float64Array, b: Float64Array, tau: number): { g: Float64Array; iterations: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of C) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const range = hi - lo;
  let g: Float64Array | undefined;
  let iterations = 0;
  const stages = range > tau ? Math.min(30, Math.ceil(Math.log2(range / tau))) : 0;
  for (let s = stages; s >= 1; s--) {
    const r = sinkhornLog(C, a, b, { tau: tau * 2 ** s, maxIterations: STAGE_ITERATIONS, tolerance: 1e-9, ...(g ? { initialG: g } : {}) });
    g = r.g;
    iterations += r.iterations;
  }
  return { g: g ?? new Float64Array(b.length), iterations };
}

/**
 * Exact adjoint of the unrolled iterations: given gP = ∂ℓ/∂P, returns ∂ℓ/∂C (n×m) through
 * every half step that ran, the warm start held constant. Needs a result with keepHistory.
 */
export function sinkhornAdjoint(result: SinkhornResult, gP: Float64Array): Float64Array {
  const tape = result.tape;
  if (!tape) throw new Error('sinkhornAdjoint needs a Sinkhorn result computed with keepHistory');
  const { n, m, tau, L, logA, logB, us, vs, v0, kernels, argminRow } = tape;
  const gC = new Float64Array(n * m);
  if (n === 0 || m === 0) return gC;
  const P = result.plan;
  const gL = new Float64Array(n * m);
  const gLt = kernels ? new Float64Array(m * n) : gL; // column-step contributions, transposed in the fast path
  let gu = new Float64Array(n);
  let gv = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const o = i * m;
    for (let j = 0; j < m; j++) {
      const G = gP[o + j]! * P[o + j]!;
      gL[o + j] = G;
      gu[i] += G;
      gv[j] += G;
    }
  }
  const w = new Float64Array(Math.max(n, m));
  for (let k = us.length - 1; k >= 0; k--) {
    const uk = us[k]!;
    const vk = vs[k]!;
    const vPrev = k > 0 ? vs[k - 1]! : v0;
    // Column half step v_k = log b − lse_i(L + u_k): softmax weights S_ij over i.
    if (kernels) {
      const um = maxOf(uk);
      for (let i = 0; i < n; i++) w[i] = Math.exp(uk[i]! - um);
      for (let j = 0; j < m; j++) {
        const o = j * n;
        let s = 0;
        for (let i = 0; i < n; i++) s += kernels.Et[o + i]! * w[i]!;
        const c = gv[j]! / s;
        for (let i = 0; i < n; i++) {
          const t = c * kernels.Et[o + i]! * w[i]!;
          gLt[o + i] -= t;
          gu[i] -= t;
        }
      }
    } else {
      for (let i = 0; i < n; i++) {
        const o = i * m;
        for (let j = 0; j < m; j++) {
          const t = gv[j]! * Math.exp(L[o + j]! + uk[i]! + vk[j]! - logB[j]!);
          gL[o + j] -= t;
          gu[i] -= t;
        }
      }
    }
    gv = new Float64Array(m);
    // Row half step u_k = log a − lse_j(L + v_{k−1}): softmax weights R_ij over j.
    if (kernels) {
      const vm = maxOf(vPrev);
      for (let j = 0; j < m; j++) w[j] = Math.exp(vPrev[j]! - vm);
      for (let i = 0; i < n; i++) {
        const o = i * m;
        let s = 0;
        for (let j = 0; j < m; j++) s += kernels.E[o + j]! * w[j]!;
        const c = gu[i]! / s;
        for (let j = 0; j < m; j++) {
          const t = c * kernels.E[o + j]! * w[j]!;
          gL[o + j] -= t;
          gv[j] -= t;
        }
      }
    } else {
      for (let i = 0; i < n; i++) {
        const o = i * m;
        for (let j = 0; j < m; j++) {
          const t = gu[i]! * Math.exp(L[o + j]! + vPrev[j]! + uk[i]! - logA[i]!);
          gL[o + j] -= t;
          gv[j] -= t;
        }
      }
    }
    gu = new Float64Array(n);
  }
  // gv now holds ∂ℓ/∂v0; the balanced start v0_j = −½·L[argmin_j, j] + const passes it on to L.
  if (argminRow) for (let j = 0; j < m; j++) gL[argminRow[j]! * m + j] -= 0.5 * gv[j]!;
  for (let i = 0; i < n; i++) {
    const o = i * m;
    for (let j = 0; j < m; j++) {
      const total = gL[o + j]! + (kernels ? gLt[j * n + i]! : 0);
      gC[o + j] = -total / tau;
    }
  }
  return gC;
}
