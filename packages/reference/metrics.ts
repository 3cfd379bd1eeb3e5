/**
 * Error metrics between a reference x and an approximation y (oracle-protocol.md "metrics"):
 * mean squared error, its root, the largest absolute difference and the signal-to-quantization-
 * noise ratio in decibels. Sums are exact (BigInt), each reported quantity rounded once.
 *
 * @module
 */
import { rangeError, shapeError, show } from "./_fail.ts";
import { dyadic, FLOAT64_GRID, type Rational, roundRational } from "./_exact.ts";

/** The result of {@linkcode metrics}. */
export interface Metrics {
  /** Σ (x_i − y_i)² / n, exact, rounded once to float64 (NaN when n = 0). */
  readonly mse: number;
  /** √(Σ (x_i − y_i)² / n), exact, rounded once to float64 (NaN when n = 0). */
  readonly rmse: number;
  /** max |x_i − y_i|, each difference rounded once to float64 (0 when n = 0). */
  readonly maxAbs: number;
  /** 10·log10(Σ x_i² / Σ (x_i − y_i)²) in dB; Infinity when x = y, −Infinity when x = 0 ≠ y. */
  readonly sqnrDb: number;
}

/**
 * Compares an approximation `y` with a reference `x`, element by element.
 *
 * - `mse = Σ (x_i − y_i)² / n`: the differences, squares and sum are exact (BigInt), the
 *   quotient is rounded once to the nearest float64.
 * - `rmse = √(Σ (x_i − y_i)² / n)`: the square root of the exact quotient, rounded once
 *   (integer square root with a sticky bit), not the square root of the rounded mse.
 * - `maxAbs = max |x_i − y_i|`: each difference rounded once (IEEE 754 subtraction, ±Infinity
 *   beyond the float64 range), the largest kept.
 * - `sqnrDb = 10·log10(Σ x_i² / Σ (x_i − y_i)²)` from the exact ratio R = 2^e·m, m ∈ [1, 2)
 *   rounded once, as 10·(log10(m) + e·log10 2) in float64 (error far below 1e−12 dB relative);
 *   `Infinity` when x = y (both sums zero included), `−Infinity` when Σ x² = 0 < Σ (x − y)².
 * - Empty inputs: mse and rmse are NaN (0/0), maxAbs is 0 and sqnrDb is Infinity (x = y).
 *
 * @param x The reference values, finite.
 * @param y The approximation, finite, as many as x.
 * @returns `{ mse, rmse, maxAbs, sqnrDb }`.
 * @throws {LoraquantTypeError} `E_SHAPE` when the lengths differ.
 * @throws {LoraquantRangeError} `E_RANGE` when a value is NaN or infinite.
 *
 * @example Two vectors
 * ```ts
 * import { metrics } from "@loraquant/reference/metrics";
 * import { assertAlmostEquals, assertEquals } from "@std/assert";
 *
 * const m = metrics([1, 2, 3, 4], [1, 2, 3, 2]);
 * assertEquals([m.mse, m.rmse, m.maxAbs], [1, 1, 2]);
 * assertAlmostEquals(m.sqnrDb, 10 * Math.log10(30 / 4), 1e-12);
 * assertEquals(metrics([1], [1]).sqnrDb, Infinity);
 * ```
 */
export function metrics(x: ArrayLike<number>, y: ArrayLike<number>): Metrics {
  if (x.length !== y.length) {
    throw shapeError(`Cannot compute metrics: x has ${x.length} elements but y has ${y.length}`);
  }
  checkFinite(x, "x");
  checkFinite(y, "y");
  const n = x.length;
  const signal = new ExactSum(); // Σ x_i²
  const noise = new ExactSum(); // Σ (x_i − y_i)²
  let maxAbs = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i]!;
    const b = y[i]!;
    const d = Math.abs(a - b);
    if (d > maxAbs) maxAbs = d;
    signal.addSquare(a, 0);
    noise.addSquare(a, b);
  }
  if (n === 0) return { mse: NaN, rmse: NaN, maxAbs: 0, sqnrDb: Infinity };
  const e = noise.rational();
  const perElement: Rational = { neg: false, num: e.num, den: e.den * BigInt(n) };
  const mse = roundRational(perElement, FLOAT64_GRID, "nearest-even", 0);
  const rmse = sqrtRational(perElement);
  const s = signal.rational();
  let sqnrDb: number;
  if (e.num === 0n) sqnrDb = Infinity;
  else if (s.num === 0n) sqnrDb = -Infinity;
  else sqnrDb = 10 * log10Rational({ neg: false, num: s.num * e.den, den: s.den * e.num });
  return { mse, rmse, maxAbs, sqnrDb };
}

function checkFinite(v: ArrayLike<number>, name: string): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      throw rangeError(
        `Cannot compute metrics: ${name} must be finite, got ${show(v[i]!)} (${name}[${i}])`,
      );
    }
  }
}

/** An exact sum of squared float64 differences: acc · 2^exp. */
class ExactSum {
  #acc = 0n;
  #exp = 0;

  /** Adds (a − b)², exactly. */
  addSquare(a: number, b: number): void {
    if (a === b) return;
    const da = dyadic(a);
    const db = dyadic(b);
    const e = Math.min(da.exp, db.exp);
    const ma = (da.neg ? -da.mant : da.mant) << BigInt(da.exp - e);
    const mb = (db.neg ? -db.mant : db.mant) << BigInt(db.exp - e);
    const d = ma - mb;
    const sq = d * d; // · 2^(2e)
    const te = 2 * e;
    if (this.#acc === 0n) {
      this.#acc = sq;
      this.#exp = te;
    } else if (te >= this.#exp) {
      this.#acc += sq << BigInt(te - this.#exp);
    } else {
      this.#acc = (this.#acc << BigInt(this.#exp - te)) + sq;
      this.#exp = te;
    }
  }

  /** The sum as a rational num/den. */
  rational(): Rational {
    return this.#exp >= 0
      ? { neg: false, num: this.#acc << BigInt(this.#exp), den: 1n }
      : { neg: false, num: this.#acc, den: 1n << BigInt(-this.#exp) };
  }
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** floor(√n) for n ≥ 0 (Newton's iteration from above). */
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/**
 * √(num/den) rounded once to the nearest float64. With k chosen so that
 * m = floor(√(num·4^k / den)) has at least 56 bits, √ lies in [m, m + 1), and m + ½ (when
 * inexact) sits on the same side of every float64 rounding boundary as the true root, since
 * those boundaries are integers in units of 2^−k at this size.
 */
function sqrtRational(r: Rational): number {
  if (r.num === 0n) return 0;
  const k = Math.max(0, Math.ceil((112 - (bitLength(r.num) - bitLength(r.den))) / 2) + 1);
  const scaled = (r.num << BigInt(2 * k)) / r.den;
  const exact = (r.num << BigInt(2 * k)) % r.den === 0n;
  const m = isqrt(scaled);
  const inexact = !exact || m * m !== scaled;
  return roundRational(
    { neg: false, num: 2n * m + (inexact ? 1n : 0n), den: 1n << BigInt(k + 1) },
    FLOAT64_GRID,
    "nearest-even",
    0,
  );
}

/** log10(num/den) for num, den > 0: R = 2^e·m with m ∈ [1, 2) rounded once. */
function log10Rational(r: Rational): number {
  let e = bitLength(r.num) - bitLength(r.den);
  const fits = (k: number): boolean =>
    k >= 0 ? r.den << BigInt(k) <= r.num : r.den <= r.num << BigInt(-k);
  while (!fits(e)) e--;
  while (fits(e + 1)) e++;
  const m = roundRational(
    e >= 0
      ? { neg: false, num: r.num, den: r.den << BigInt(e) }
      : { neg: false, num: r.num << BigInt(-e), den: r.den },
    FLOAT64_GRID,
    "nearest-even",
    0,
  );
  return Math.log10(m) + e * Math.log10(2);
}
