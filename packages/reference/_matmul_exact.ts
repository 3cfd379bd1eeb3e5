// The plain, obviously-correct matmul step and kernel (oracle-protocol.md "matmul"): every step
// s_j = acc(s_{j−1} + a_j·b_j) is computed with BigInt dyadics and rounded ONCE with
// `roundRational` (docs/semantics.md eq. (4)); the fast kernels of _matmul_fast.ts are tested
// against it, and fall back to `exactStep` wherever they cannot prove their result.
import { addDyadic, dyadic, mulDyadic, rationalOf, roundRational } from "./_exact.ts";
import { rangeError } from "./_fail.ts";
import type { FloatFormat } from "./format.ts";

/**
 * The cast overflow rule (oracle-protocol.md "cast") for a value already rounded with an
 * unbounded exponent: beyond ±max it becomes ±Infinity (formats with infinities), NaN
 * (fp8-e4m3) or ±max (fp6/fp4). An infinite value follows the same rule; NaN stays NaN (the
 * caller refuses it for formats without NaN).
 */
export function overflowRule(r: number, f: FloatFormat): number {
  if (!(Math.abs(r) > f.max)) return r; // finite in range, or NaN
  if (f.hasInfinity) return r > 0 ? Infinity : -Infinity;
  if (f.hasNaN) return NaN;
  return r > 0 ? f.max : -f.max;
}

/**
 * One correctly rounded fused multiply-add step `acc(s + a·b)` (nearest-even, once, from the
 * exact real value), with IEEE 754 rules for special values:
 * NaN propagates; ∞·0 is NaN; ∞ − ∞ is NaN; ∞ + finite is ∞; an exact zero sum is +0 unless both
 * terms are zeros of the same sign (−0 + −0 = −0); the sign of a zero product is the xor of the
 * signs; a negative value that rounds to zero is −0. Then the format's overflow rule.
 * `s` must be a value of `f` (or ±Infinity/NaN).
 */
export function exactStep(s: number, a: number, b: number, f: FloatFormat): number {
  if (!Number.isFinite(a) || !Number.isFinite(b)) {
    // a·b is ±Infinity or NaN (0·∞, NaN): IEEE arithmetic on specials involves no rounding.
    return overflowRule(s + a * b, f);
  }
  if (!Number.isFinite(s)) return s; // NaN stays NaN; ∞ + finite = ∞ (already in f's rule)
  if (a === 0 || b === 0) {
    // s + (±0): s itself when s ≠ 0; for s = ±0 the IEEE sum rule, which JS addition applies.
    return s + a * b;
  }
  const exact = addDyadic(dyadic(s), mulDyadic(dyadic(a), dyadic(b)));
  if (exact.mant === 0n) return 0; // exact cancellation of nonzero terms: +0
  return overflowRule(roundRational(rationalOf(exact), f, "nearest-even", 0), f);
}

/**
 * Throws E_RANGE when a step produced NaN in an accumulate format that has none (fp6/fp4): like
 * a cast of NaN to such a format (oracle-protocol.md "cast"), the value cannot be represented.
 */
export function refuseNaN(f: FloatFormat, i: number, p: number, j: number): never {
  throw rangeError(
    `Cannot accumulate y[${i}][${p}] in ${f.name}: step j = ${j} gives NaN (from a NaN or ` +
      `infinite input), and ${f.name} has no NaN`,
  );
}

/**
 * The reference float kernel: y[i][p] = s_k with s_0 = +0, s_j = exactStep(s_{j−1}, a[i][j],
 * b[j][p]) for j ascending.
 *
 * @param a (m, k) row-major, values of the dtype.
 * @param bt (n, k) row-major: b transposed, so that column p of b is contiguous.
 * @returns (m, n) row-major.
 */
export function referenceKernel(
  a: Float64Array,
  bt: Float64Array,
  m: number,
  n: number,
  k: number,
  f: FloatFormat,
): Float64Array {
  const y = new Float64Array(m * n); // (m, n) row-major
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < n; p++) {
      let s = 0;
      for (let j = 0; j < k; j++) {
        s = exactStep(s, a[i * k + j]!, bt[p * k + j]!, f);
        if (Number.isNaN(s) && !f.hasNaN) refuseNaN(f, i, p, j);
      }
      y[i * n + p] = s;
    }
  }
  return y;
}
