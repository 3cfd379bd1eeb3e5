/**
 * BitNet b1.58 "absmean" ternary quantization (Ma et al., "The Era of 1-bit LLMs", 2024;
 * oracle-protocol.md "ternary"): every weight becomes −1, 0 or +1 times one scale γ.
 *
 * @module
 */
import { rangeError, show } from "./_fail.ts";
import { roundQuotient } from "./_affine.ts";
import { dyadic, FLOAT64_GRID, roundRational } from "./_exact.ts";
import type { Matrix } from "./matrix.ts";

/** Options of {@linkcode ternary}. */
export interface TernaryOptions {
  /** Lower bound of γ, finite and > 0 (keeps an all-zero tensor divisible). @default {1e-5} */
  eps?: number;
}

/** The result of {@linkcode ternary}. */
export interface TernaryResult {
  /** The levels −1, 0, +1, same shape as x. */
  readonly q: Matrix;
  /** γ = max(mean(|x|), eps). */
  readonly scale: number;
  /** q·γ: exactly γ, −γ or +0. */
  readonly y: Matrix;
}

/**
 * Quantizes a matrix to ternary levels with the absmean scale:
 *
 * - `γ = max(mean(|x|), eps)` over the whole tensor, the mean Σ|x_i| / n computed exactly
 *   (BigInt sum) and rounded ONCE to the nearest float64 (ties to even);
 * - `q = clamp(roundHalfToEven(x / γ), −1, 1)` on the EXACT quotient with that float64 γ;
 * - `y = q·γ`, the exact product: γ, −γ, or +0 where q = 0 (q is an integer and carries no
 *   sign, so a small negative x gives q = 0 and y = +0).
 *
 * An empty x has no mean; γ is then eps (the sum Σ|x| = 0 as for an all-zero tensor), and q, y
 * are empty.
 *
 * @param x The weights, finite.
 * @param options `eps`.
 * @returns `{ q, scale: γ, y }`.
 * @throws {LoraquantRangeError} `E_RANGE` when x holds NaN or ±Infinity, or eps is not finite
 * and > 0.
 *
 * @example Absmean ternary weights
 * ```ts
 * import { ternary } from "@loraquant/reference/ternary";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * // mean |x| = (0.5 + 1 + 0.25 + 2 + 0.75 + 1.5) / 6 = 1
 * const { q, scale, y } = ternary(matrix([2, 3], [0.5, -1, 0.25, 2, -0.75, 1.5]));
 * assertEquals(scale, 1);
 * assertEquals([...q.data], [0, -1, 0, 1, -1, 1]); // 0.5 is a tie: to even, 0
 * assertEquals([...y.data], [0, -1, 0, 1, -1, 1]);
 * ```
 */
export function ternary(x: Matrix, options: TernaryOptions = {}): TernaryResult {
  const eps = options.eps ?? 1e-5;
  if (!(eps > 0 && eps < Infinity)) {
    throw rangeError(`Cannot quantize to ternary: eps must be finite and > 0, got ${show(eps)}`);
  }
  const { rows, cols, data } = x;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw rangeError(
        `Cannot quantize to ternary: x must be finite, got ${show(data[i]!)} at (${
          Math.floor(i / cols)
        }, ${i % cols})`,
      );
    }
  }
  const n = data.length;
  const mean = n === 0 ? 0 : meanAbs(data);
  const gamma = mean > eps ? mean : eps;
  const q = new Float64Array(n); // (rows, cols) row-major
  const y = new Float64Array(n); // (rows, cols) row-major
  for (let i = 0; i < n; i++) {
    const level = roundQuotient(data[i]!, gamma, "nearest-even", 0, 0, -1, 1);
    q[i] = level;
    y[i] = level === 0 ? 0 : level * gamma;
  }
  return { q: { rows, cols, data: q }, scale: gamma, y: { rows, cols, data: y } };
}

/** Σ|x_i| / n, the sum exact (BigInt, acc · 2^exp), the quotient rounded once. */
function meanAbs(data: ArrayLike<number>): number {
  let acc = 0n;
  let exp = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v === 0) continue;
    const d = dyadic(Math.abs(v));
    if (acc === 0n) {
      acc = d.mant;
      exp = d.exp;
    } else if (d.exp >= exp) {
      acc += d.mant << BigInt(d.exp - exp);
    } else {
      acc = (acc << BigInt(exp - d.exp)) + d.mant;
      exp = d.exp;
    }
  }
  const num = exp >= 0 ? acc << BigInt(exp) : acc;
  const den = (exp >= 0 ? 1n : 1n << BigInt(-exp)) * BigInt(data.length);
  return roundRational({ neg: false, num, den }, FLOAT64_GRID, "nearest-even", 0);
}
