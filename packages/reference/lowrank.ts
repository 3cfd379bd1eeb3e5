/**
 * The best rank-r approximation of a matrix (Eckart–Young–Mirsky), split evenly into LoRA
 * factors b·a (docs/lora.md eq. (9)–(10)).
 *
 * @module
 */
import { checkRank, norm2 } from "./_linalg.ts";
import type { Matrix } from "./matrix.ts";
import { svd } from "./svd.ts";

/** The result of {@linkcode lowRank}. */
export interface LowRankResult {
  /** (rows, rank): U_r·diag(sqrt σ). */
  b: Matrix;
  /** (rank, cols): diag(sqrt σ)·V_rᵀ. */
  a: Matrix;
  /** All min(rows, cols) singular values of m, descending. */
  s: Float64Array;
  /** ‖m − b·a‖_F = sqrt(Σ_{i>rank} σ_i²), from the spectrum. */
  error: number;
}

/**
 * The best approximation of m of rank at most `rank` in the Frobenius (and spectral) norm,
 * `b·a = U_r·diag(σ_1..σ_r)·V_rᵀ` (Eckart–Young, docs/lora.md eq. (9)), split evenly:
 * `b = U_r·diag(sqrt σ)`, `a = diag(sqrt σ)·V_rᵀ`, so ‖b_{:,i}‖² = ‖a_{i,:}‖² = σ_i.
 *
 * Arithmetic: the {@linkcode svd} of m (float64); `sqrt σ_i` and each product `u_ji·sqrt σ_i`
 * rounded to nearest-even; `error` is `sqrt(Σ_{i>r} σ_i²)` summed over i ascending after
 * scaling by the largest term (eq. (10)), never ‖m − b·a‖_F computed by subtraction.
 *
 * @param m (rows, cols), finite.
 * @param rank An integer, 1 ≤ rank ≤ min(rows, cols).
 * @returns b (rows, rank), a (rank, cols), the spectrum s and the error.
 * @throws {LoraquantTypeError} `E_ARG` when rank is not an integer.
 * @throws {LoraquantRangeError} `E_RANGE` when rank < 1 or rank > min(rows, cols), or m is not
 * finite.
 *
 * @example A rank-1 approximation of diag(3, 1) keeps the 3 and reports the 1 as the error
 * ```ts
 * import { lowRank } from "@loraquant/reference/lowrank";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertAlmostEquals, assertEquals } from "@std/assert";
 *
 * const { b, a, s, error } = lowRank(matrix([2, 2], [3, 0, 0, 1]), 1);
 * assertEquals([...s], [3, 1]);
 * assertEquals(error, 1);
 * assertAlmostEquals(b.data[0]! * a.data[0]!, 3, 1e-15);
 * ```
 */
export function lowRank(m: Matrix, rank: number): LowRankResult {
  checkRank(rank, m.rows, m.cols);
  const { u, s, v } = svd(m);
  const k = s.length;
  const roots = Float64Array.from(s.subarray(0, rank), Math.sqrt);
  const b = new Float64Array(m.rows * rank); // (rows, rank)
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < rank; j++) b[i * rank + j] = u.data[i * k + j]! * roots[j]!;
  }
  const a = new Float64Array(rank * m.cols); // (rank, cols)
  for (let j = 0; j < rank; j++) {
    for (let c = 0; c < m.cols; c++) a[j * m.cols + c] = roots[j]! * v.data[c * k + j]!;
  }
  return {
    b: { rows: m.rows, cols: rank, data: b },
    a: { rows: rank, cols: m.cols, data: a },
    s,
    error: norm2(s, rank, k - rank),
  };
}
