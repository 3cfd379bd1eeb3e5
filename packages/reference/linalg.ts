/**
 * Dense float64 linear algebra on the row-major {@linkcode Matrix}: products, transposes, norms
 * and a Householder QR. Everything here is plain float64 arithmetic (each operation rounded to
 * nearest-even), with the summation order of every reduction stated, so the error bounds of
 * docs/lora.md follow from it.
 *
 * @module
 */
import { argError, shapeError, show } from "./_fail.ts";
import { exponentOf, pow2 } from "./_exact.ts";
import { checkFinite, norm2 } from "./_linalg.ts";
import type { Matrix } from "./matrix.ts";

/** Options of {@linkcode multiply}. */
export interface MultiplyOptions {
  /**
   * Use aᵀ instead of a.
   *
   * @default {false}
   */
  transposeA?: boolean;
  /**
   * Use bᵀ instead of b (x·wᵀ without building wᵀ).
   *
   * @default {false}
   */
  transposeB?: boolean;
}

/** Columns of the output handled per pass; keeps a block of b's rows in cache. */
const BLOCK = 256;

/**
 * The matrix product c = op(a)·op(b) in float64 (op is the identity or the transpose).
 *
 * Summation order: every element is `c_ij = fl(…fl(fl(0 + a_i0·b_0j) + a_i1·b_1j)… + a_i,k−1·b_k−1,j)`,
 * k ascending, each product and each sum rounded to nearest-even float64 (no fused multiply-add).
 * The blocking over columns only changes which elements are computed when, never the order of
 * one element's sum; the error is therefore `|ĉ_ij − c_ij| ≤ γ_k·Σ_l |a_il||b_lj|`,
 * `γ_k = k·u/(1 − k·u)`, `u = 2⁻⁵³`.
 *
 * @param a (m, k) row-major, or (k, m) with `transposeA`.
 * @param b (k, n) row-major, or (n, k) with `transposeB`.
 * @param options Which operands to transpose.
 * @returns c, (m, n) row-major.
 * @throws {LoraquantTypeError} `E_SHAPE` when the inner dimensions differ.
 *
 * @example A 2×2 product, and x·wᵀ without a transposed copy
 * ```ts
 * import { multiply } from "@loraquant/reference/linalg";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const a = matrix([2, 2], [1, 2, 3, 4]);
 * assertEquals([...multiply(a, a).data], [7, 10, 15, 22]);
 * assertEquals([...multiply(a, a, { transposeB: true }).data], [5, 11, 11, 25]);
 * ```
 */
export function multiply(a: Matrix, b: Matrix, options: MultiplyOptions = {}): Matrix {
  const ta = options.transposeA ?? false;
  const tb = options.transposeB ?? false;
  const m = ta ? a.cols : a.rows;
  const k = ta ? a.rows : a.cols;
  const kb = tb ? b.cols : b.rows;
  const n = tb ? b.rows : b.cols;
  if (k !== kb) {
    throw shapeError(
      `Cannot multiply: op(a) is ${m}×${k} but op(b) is ${kb}×${n} (inner dimensions differ)`,
    );
  }
  const c = new Float64Array(m * n); // (m, n) row-major
  const ad = a.data;
  const bd = b.data;
  if (tb) {
    // c_ij = Σ_l a_il·b_jl: a dot product of two contiguous rows, l ascending.
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        const bo = j * k;
        if (ta) { for (let l = 0; l < k; l++) s += ad[l * m + i]! * bd[bo + l]!; }
        else {
          const ao = i * k;
          for (let l = 0; l < k; l++) s += ad[ao + l]! * bd[bo + l]!;
        }
        c[i * n + j] = s;
      }
    }
    return { rows: m, cols: n, data: c };
  }
  // i–l–j order over column blocks: c_ij accumulates a_il·b_lj for l ascending.
  for (let j0 = 0; j0 < n; j0 += BLOCK) {
    const j1 = Math.min(n, j0 + BLOCK);
    for (let i = 0; i < m; i++) {
      const co = i * n;
      for (let l = 0; l < k; l++) {
        const ail = ta ? ad[l * m + i]! : ad[i * k + l]!;
        const bo = l * n;
        for (let j = j0; j < j1; j++) c[co + j] = c[co + j]! + ail * bd[bo + j]!;
      }
    }
  }
  // The first addition 0 + p of each element gives +0 for p = −0, as the stated order says.
  return { rows: m, cols: n, data: c };
}

/**
 * The transpose mᵀ.
 *
 * @param m (rows, cols) row-major.
 * @returns (cols, rows) row-major; exact.
 *
 * @example
 * ```ts
 * import { transpose } from "@loraquant/reference/linalg";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals([...transpose(matrix([2, 3], [1, 2, 3, 4, 5, 6])).data], [1, 4, 2, 5, 3, 6]);
 * ```
 */
export function transpose(m: Matrix): Matrix {
  const out = new Float64Array(m.rows * m.cols); // (cols, rows)
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) out[j * m.rows + i] = m.data[i * m.cols + j]!;
  }
  return { rows: m.cols, cols: m.rows, data: out };
}

/**
 * The element-wise combination a + factor·b: the product `factor·b_ij` and the sum are each
 * rounded to nearest-even float64.
 *
 * @param a (m, n).
 * @param b (m, n).
 * @param options `factor`, the multiplier of b.
 * @returns a + factor·b, (m, n).
 * @throws {LoraquantTypeError} `E_SHAPE` when the shapes differ.
 *
 * @example
 * ```ts
 * import { addScaled } from "@loraquant/reference/linalg";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const a = matrix([1, 2], [1, 2]);
 * assertEquals([...addScaled(a, a, { factor: -0.5 }).data], [0.5, 1]);
 * ```
 */
export function addScaled(a: Matrix, b: Matrix, options: { factor?: number } = {}): Matrix {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw shapeError(`Cannot add: a is ${a.rows}×${a.cols} but b is ${b.rows}×${b.cols}`);
  }
  const f = options.factor ?? 1;
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i]! + f * b.data[i]!;
  return { rows: a.rows, cols: a.cols, data: out };
}

/**
 * The identity matrix I_n.
 *
 * @param n The order, a non-negative integer.
 * @returns (n, n) with ones on the diagonal.
 * @throws {LoraquantTypeError} `E_ARG` when n is not a non-negative integer.
 *
 * @example
 * ```ts
 * import { identity } from "@loraquant/reference/linalg";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals([...identity(2).data], [1, 0, 0, 1]);
 * ```
 */
export function identity(n: number): Matrix {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw argError(`identity: n must be a non-negative integer, got ${show(n)}`);
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return { rows: n, cols: n, data: out };
}

/**
 * The Frobenius norm ‖m‖_F = sqrt(Σ m_ij²).
 *
 * Computed as `2^e · sqrt(Σ (m_ij·2^−e)²)` with 2^e ≤ max|m_ij| < 2^(e+1) (exact scalings), the
 * sum in row-major order in float64, so it neither overflows nor underflows for any finite input;
 * relative error ≤ (rows·cols/2 + 2)·u.
 *
 * @param m The matrix.
 * @returns ‖m‖_F (0 for an empty matrix; NaN if an element is NaN; Infinity if one is infinite).
 *
 * @example
 * ```ts
 * import { frobeniusNorm } from "@loraquant/reference/linalg";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(frobeniusNorm(matrix([2, 2], [3, 0, 0, 4])), 5);
 * assertEquals(frobeniusNorm(matrix([1, 2], [3 * 2 ** 600, 4 * 2 ** 600])), 5 * 2 ** 600);
 * ```
 */
export function frobeniusNorm(m: Matrix): number {
  for (const v of m.data) if (Number.isNaN(v)) return NaN;
  return norm2(m.data, 0, m.data.length);
}

/**
 * The Euclidean norm of every row, ‖m_i,:‖₂ (DoRA's magnitude of a weight, row i = output i).
 *
 * Each row as in {@linkcode frobeniusNorm}: scaled by an exact power of two, summed in column
 * order in float64, one square root.
 *
 * @param m (rows, cols).
 * @returns A vector of length rows.
 *
 * @example
 * ```ts
 * import { rowNorms } from "@loraquant/reference/linalg";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals([...rowNorms(matrix([2, 2], [3, 4, 0, -2]))], [5, 2]);
 * ```
 */
export function rowNorms(m: Matrix): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let nan = false;
    for (let j = 0; j < m.cols; j++) if (Number.isNaN(m.data[i * m.cols + j]!)) nan = true;
    out[i] = nan ? NaN : norm2(m.data, i * m.cols, m.cols);
  }
  return out;
}

/** The result of {@linkcode qr}. */
export interface QrResult {
  /** (m, k) with orthonormal columns, k = min(m, n). */
  q: Matrix;
  /** (k, n) upper triangular (trapezoidal when m < n). */
  r: Matrix;
}

/**
 * The thin QR factorisation m = q·r by Householder reflections (Golub & Van Loan, Alg. 5.2.1),
 * in float64.
 *
 * Each reflection is `H = I − 2·v·vᵀ/(vᵀv)` with `v = x + sign(x₀)·‖x‖·e₀` (‖x‖ as in
 * {@linkcode frobeniusNorm}), applied column by column; q is accumulated by applying the
 * reflections to the first k columns of the identity in reverse order. Backward stable:
 * ‖q·r − m‖_F and ‖qᵀq − I‖_F are a small multiple of u·‖m‖_F and u.
 *
 * @param m (rows, cols), finite.
 * @returns q (rows, k) and r (k, cols), k = min(rows, cols).
 * @throws {LoraquantRangeError} `E_RANGE` when an element is not finite.
 *
 * @example
 * ```ts
 * import { multiply, qr } from "@loraquant/reference/linalg";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertAlmostEquals } from "@std/assert";
 *
 * const m = matrix([3, 2], [1, 2, 3, 4, 5, 6]);
 * const { q, r } = qr(m);
 * const back = multiply(q, r);
 * m.data.forEach((v, i) => assertAlmostEquals(back.data[i]!, v, 1e-14));
 * ```
 */
export function qr(m: Matrix): QrResult {
  checkFinite(m, "m", "qr");
  const rows = m.rows;
  const cols = m.cols;
  const k = Math.min(rows, cols);
  const work = Float64Array.from(m.data); // (rows, cols) row-major, becomes R
  const vs: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const len = rows - j;
    const v = new Float64Array(len);
    let big = 0;
    for (let i = 0; i < len; i++) big = Math.max(big, Math.abs(work[(j + i) * cols + j]!));
    if (big === 0) {
      vs.push(new Float64Array(len)); // H = I
      continue;
    }
    // H depends only on v's direction: scale the column by an exact power of two first, so
    // that neither subnormals nor huge values spoil the norms.
    const e = exponentOf(big);
    const s1 = pow2(-Math.trunc(e / 2));
    const s2 = pow2(-(e - Math.trunc(e / 2)));
    for (let i = 0; i < len; i++) v[i] = work[(j + i) * cols + j]! * s1 * s2;
    const norm = norm2(v, 0, len);
    if (norm === 0) {
      vs.push(new Float64Array(len)); // H = I
      continue;
    }
    const x0 = v[0]!;
    v[0] = x0 + (x0 >= 0 ? norm : -norm);
    const vnorm = norm2(v, 0, len);
    for (let i = 0; i < len; i++) v[i] = v[i]! / vnorm; // unit: H = I − 2vvᵀ
    vs.push(v);
    for (let c = j; c < cols; c++) {
      let dot = 0;
      for (let i = 0; i < len; i++) dot += v[i]! * work[(j + i) * cols + c]!;
      for (let i = 0; i < len; i++) {
        work[(j + i) * cols + c] = work[(j + i) * cols + c]! - 2 * dot * v[i]!;
      }
    }
    for (let i = 1; i < len; i++) work[(j + i) * cols + j] = 0;
  }
  const r = new Float64Array(k * cols); // (k, cols)
  for (let i = 0; i < k; i++) {
    for (let c = i; c < cols; c++) r[i * cols + c] = work[i * cols + c]!;
  }
  const q = new Float64Array(rows * k); // (rows, k): H_0·H_1·…·H_{k−1}·[I_k; 0]
  for (let i = 0; i < k; i++) q[i * k + i] = 1;
  for (let j = k - 1; j >= 0; j--) {
    const v = vs[j]!;
    const len = rows - j;
    for (let c = 0; c < k; c++) {
      let dot = 0;
      for (let i = 0; i < len; i++) dot += v[i]! * q[(j + i) * k + c]!;
      if (dot === 0) continue;
      for (let i = 0; i < len; i++) q[(j + i) * k + c] = q[(j + i) * k + c]! - 2 * dot * v[i]!;
    }
  }
  return { q: { rows, cols: k, data: q }, r: { rows: k, cols, data: r } };
}
