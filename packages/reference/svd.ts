/**
 * The thin singular value decomposition of a float64 matrix by one-sided (Hestenes) Jacobi
 * rotations, accurate to a small multiple of u·‖m‖_F (docs/lora.md eq. (8)).
 *
 * @module
 */
import { checkFinite, norm2 } from "./_linalg.ts";
import { multiply, qr, transpose } from "./linalg.ts";
import type { Matrix } from "./matrix.ts";

/** The result of {@linkcode svd}: m = u·diag(s)·vᵀ. */
export interface SvdResult {
  /** (rows, k) with orthonormal columns, k = min(rows, cols). */
  u: Matrix;
  /** The k singular values, descending and non-negative. */
  s: Float64Array;
  /** (cols, k) with orthonormal columns. */
  v: Matrix;
}

const EPS = 2 ** -52;
const MAX_SWEEPS = 100;

/**
 * The thin SVD m = u·diag(s)·vᵀ (oracle-protocol.md "svd").
 *
 * Method, all in float64 (nearest-even):
 * 1. the matrix is scaled by an exact power of two so that its largest magnitude lies in [1, 2)
 *    (no overflow or underflow of squared norms), and transposed when wide;
 * 2. a tall matrix is first reduced by Householder QR (m = q·r), and the square r is decomposed;
 * 3. one-sided Jacobi: columns p < q of the working matrix G are rotated, cyclically by rows of
 *    pairs, while `|g_p·g_q| > tol·‖g_p‖·‖g_q‖` with `tol = sqrt(rows)·2⁻⁵²`; the rotations are
 *    accumulated in v (Rutishauser's formulas `ζ = (‖g_q‖² − ‖g_p‖²)/(2·g_p·g_q)`,
 *    `t = sign(ζ)/(|ζ| + hypot(1, ζ))`, `c = 1/sqrt(1 + t²)`, `s = c·t`);
 * 4. `σ_j = ‖g_j‖₂`, sorted descending; `u_j = g_j/σ_j`, re-orthogonalised by two passes of
 *    modified Gram–Schmidt in that order; columns of a zero σ are completed with unit vectors, so
 *    u has orthonormal columns also for rank-deficient inputs;
 * 5. the sign of each pair (u_j, v_j) is fixed so that the entry of u_j of largest magnitude
 *    (the first one on a tie) is positive.
 *
 * Guarantees checked by the tests: ‖u·diag(s)·vᵀ − m‖_F ≤ 1e-12·‖m‖_F, ‖uᵀu − I‖ and
 * ‖vᵀv − I‖ ≤ 1e-12 (elementwise), s descending and non-negative. Shapes 0×n and m×0 give
 * k = 0 (empty u, s, v).
 *
 * @param m (rows, cols), finite.
 * @returns u (rows, k), s (k), v (cols, k), k = min(rows, cols).
 * @throws {LoraquantRangeError} `E_RANGE` when an element of m is NaN or infinite.
 *
 * @example The singular values of a diagonal matrix are its absolute entries, sorted
 * ```ts
 * import { svd } from "@loraquant/reference/svd";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertAlmostEquals, assertEquals } from "@std/assert";
 *
 * const { u, s, v } = svd(matrix([2, 2], [1, 0, 0, -3]));
 * assertEquals([...s], [3, 1]);
 * assertAlmostEquals(Math.abs(u.data[1]!), 1); // u_0 = ±e_1
 * assertAlmostEquals(Math.abs(v.data[1]!), 1);
 * ```
 */
export function svd(m: Matrix): SvdResult {
  checkFinite(m, "m", "compute the SVD");
  if (m.rows < m.cols) {
    const t = svdTall(transpose(m));
    return { u: t.v, s: t.s, v: t.u };
  }
  return svdTall(m);
}

/** rows ≥ cols. */
function svdTall(m: Matrix): SvdResult {
  const rows = m.rows;
  const n = m.cols;
  let amax = 0;
  for (const x of m.data) amax = Math.max(amax, Math.abs(x));
  if (n === 0 || amax === 0) {
    // Every σ is 0: u = the first n unit vectors, v = I.
    const u = new Float64Array(rows * n);
    const v = new Float64Array(n * n);
    for (let j = 0; j < n; j++) {
      u[j * n + j] = 1;
      v[j * n + j] = 1;
    }
    return {
      u: { rows, cols: n, data: u },
      s: new Float64Array(n),
      v: { rows: n, cols: n, data: v },
    };
  }
  // Exact scaling by 2^−e, e = floor(log2(amax)), done in two steps to stay in range.
  const e = Math.floor(Math.log2(amax));
  const h1 = Math.trunc(-e / 2);
  const h2 = -e - h1;
  const f1 = 2 ** h1;
  const f2 = 2 ** h2;
  const scaled = Float64Array.from(m.data, (x) => x * f1 * f2); // (rows, n)
  let q: Matrix | undefined;
  let square: Matrix = { rows, cols: n, data: scaled };
  if (rows > n) {
    const f = qr(square);
    q = f.q;
    square = f.r;
  }
  const { uCols, sigma, vCols } = jacobi(square);
  // Undo the scaling exactly: σ·2^e.
  const g1 = 2 ** -h1;
  const g2 = 2 ** -h2;
  const s = Float64Array.from(sigma, (x) => x * g1 * g2);
  const k = n;
  const ur = new Float64Array(square.rows * k); // (square.rows, k)
  const v = new Float64Array(n * k); // (n, k)
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < square.rows; i++) ur[i * k + j] = uCols[j]![i]!;
    for (let i = 0; i < n; i++) v[i * k + j] = vCols[j]![i]!;
  }
  let u: Matrix = { rows: square.rows, cols: k, data: ur };
  if (q !== undefined) u = multiply(q, u);
  return { u, s, v: { rows: n, cols: k, data: v } };
}

/** One-sided Jacobi on a (rows, n) matrix, rows ≥ n; returns columns of u, σ, columns of v. */
function jacobi(a: Matrix): { uCols: Float64Array[]; sigma: Float64Array; vCols: Float64Array[] } {
  const rows = a.rows;
  const n = a.cols;
  const g: Float64Array[] = []; // column j of the working matrix, length rows
  const v: Float64Array[] = []; // column j of V, length n
  for (let j = 0; j < n; j++) {
    const col = new Float64Array(rows);
    for (let i = 0; i < rows; i++) col[i] = a.data[i * n + j]!;
    g.push(col);
    const vj = new Float64Array(n);
    vj[j] = 1;
    v.push(vj);
  }
  const tol = Math.sqrt(Math.max(rows, 1)) * EPS;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let qq = p + 1; qq < n; qq++) {
        const gp = g[p]!;
        const gq = g[qq]!;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < rows; i++) {
          const x = gp[i]!;
          const y = gq[i]!;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (alpha === 0 || beta === 0 || gamma === 0) continue;
        if (Math.abs(gamma) <= tol * Math.sqrt(alpha) * Math.sqrt(beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.hypot(1, zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < rows; i++) {
          const x = gp[i]!;
          const y = gq[i]!;
          gp[i] = c * x - s * y;
          gq[i] = s * x + c * y;
        }
        const vp = v[p]!;
        const vq = v[qq]!;
        for (let i = 0; i < n; i++) {
          const x = vp[i]!;
          const y = vq[i]!;
          vp[i] = c * x - s * y;
          vq[i] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = g.map((col) => norm2(col, 0, rows));
  const order = [...norms.keys()].sort((i, j) => norms[j]! - norms[i]! || i - j);
  const sigma = Float64Array.from(order, (j) => norms[j]!);
  const uCols: Float64Array[] = [];
  const vCols: Float64Array[] = [];
  for (let idx = 0; idx < n; idx++) {
    const j = order[idx]!;
    const sj = sigma[idx]!;
    let u: Float64Array | undefined;
    if (sj > 0) {
      u = Float64Array.from(g[j]!, (x) => x / sj);
      u = orthogonalize(u, uCols);
    }
    if (u === undefined) u = complete(rows, uCols);
    const vj = Float64Array.from(v[j]!);
    // Sign: the entry of u of largest magnitude (first on a tie) is positive.
    let best = 0;
    for (let i = 1; i < rows; i++) if (Math.abs(u[i]!) > Math.abs(u[best]!)) best = i;
    if (u[best]! < 0) {
      for (let i = 0; i < rows; i++) u[i] = -u[i]!;
      for (let i = 0; i < n; i++) vj[i] = -vj[i]!;
    }
    uCols.push(u);
    vCols.push(vj);
  }
  return { uCols, sigma, vCols };
}

/**
 * Two passes of modified Gram–Schmidt of `x` against orthonormal `basis`, then normalisation;
 * undefined when less than 1/2 of x's norm is left (x was not independent of the basis).
 */
function orthogonalize(x: Float64Array, basis: Float64Array[]): Float64Array | undefined {
  const before = norm2(x, 0, x.length);
  for (let pass = 0; pass < 2; pass++) {
    for (const b of basis) {
      let dot = 0;
      for (let i = 0; i < x.length; i++) dot += b[i]! * x[i]!;
      if (dot === 0) continue;
      for (let i = 0; i < x.length; i++) x[i] = x[i]! - dot * b[i]!;
    }
  }
  const after = norm2(x, 0, x.length);
  if (!(after > 0.5 * before) || after === 0) return undefined;
  for (let i = 0; i < x.length; i++) x[i] = x[i]! / after;
  return x;
}

/** A unit vector orthogonal to `basis` (fewer than `len` vectors), from the unit vectors e_i. */
function complete(len: number, basis: Float64Array[]): Float64Array {
  let best: Float64Array | undefined;
  let bestNorm = -1;
  for (let i = 0; i < len; i++) {
    const x = new Float64Array(len);
    x[i] = 1;
    for (let pass = 0; pass < 2; pass++) {
      for (const b of basis) {
        const dot = dotOf(b, x);
        for (let t = 0; t < len; t++) x[t] = x[t]! - dot * b[t]!;
      }
    }
    const nx = norm2(x, 0, len);
    if (nx > bestNorm) {
      best = x;
      bestNorm = nx;
    }
    if (nx > 0.5) break;
  }
  const out = best!;
  for (let t = 0; t < len; t++) out[t] = out[t]! / bestNorm;
  return out;
}

function dotOf(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
