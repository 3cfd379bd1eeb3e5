// Internal helpers shared by the block formats of other ecosystems (ggml.ts, bitsandbytes.ts,
// microscaling.ts) and the oracle's `block` op (oracle-protocol.md "block").
import { rangeError, shapeError, show } from "./_fail.ts";

/**
 * Rounds every input to float32 (nearest-even, `Math.fround`), as these formats read float32 data
 * (oracle-protocol.md "block": "Inputs are first rounded to float32"). A NaN input, an infinite
 * one, or a finite float64 beyond float32's range (which rounds to ±Infinity) is `E_RANGE`, except
 * NaN where `allowNaN` (the MX formats). Nothing is written before every element is checked.
 */
export function float32Inputs(
  x: ArrayLike<number>,
  format: string,
  allowNaN: boolean,
): Float64Array {
  const v = new Float64Array(x.length); // (n) the float32 values, held exactly as float64
  for (let i = 0; i < x.length; i++) {
    const raw = x[i]!;
    const f = Math.fround(raw);
    if (Number.isNaN(f)) {
      if (allowNaN) {
        v[i] = NaN;
        continue;
      }
      throw rangeError(`Cannot quantize to ${format}: x[${i}] is NaN`);
    }
    if (!Number.isFinite(f)) {
      throw rangeError(
        `Cannot quantize to ${format}: x[${i}] = ${show(raw)} is ${
          Number.isFinite(raw)
            ? "beyond float32's range (it rounds to " + show(f) + ")"
            : "infinite"
        }`,
      );
    }
    v[i] = f;
  }
  return v;
}

/** Throws `E_SHAPE` unless `length` is a multiple of `blockSize`. */
export function checkBlockLength(length: number, blockSize: number, format: string): void {
  if (length % blockSize !== 0) {
    throw shapeError(
      `Cannot quantize to ${format}: x has ${length} elements, not a multiple of the block size ${blockSize}`,
    );
  }
}

/**
 * Index of the nearest entry of `sorted` (ascending, distinct float64 values) to `s`, with an
 * exact midpoint going to the LOWER value. `s` must lie in [sorted[0], sorted[last]].
 *
 * Exactness: with a = sorted[i] ≤ s ≤ b = sorted[i + 1], |s − a| < |s − b| ⇔ s < (a + b)/2, and
 * the callers' tables hold float32 values whose sum a + b fits float64's 53 bits (their exponents
 * differ by far less than 53 − 24 − 1), so the midpoint (a + b)/2 is computed exactly and the
 * comparison with s decides the exact distances without rounding.
 */
export function nearestIndex(s: number, sorted: readonly number[]): number {
  let lo = 0;
  let hi = sorted.length - 1;
  // Invariant: sorted[lo] ≤ s ≤ sorted[hi].
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= s) lo = mid;
    else hi = mid;
  }
  if (s === sorted[hi]) return hi;
  if (s === sorted[lo]) return lo;
  const midpoint = (sorted[lo]! + sorted[hi]!) / 2;
  return s <= midpoint ? lo : hi;
}
