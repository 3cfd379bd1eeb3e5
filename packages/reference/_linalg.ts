// Internal helpers of the float64 linear algebra (linalg.ts, svd.ts, lora.ts).
import { argError, rangeError, show } from "./_fail.ts";
import { exponentOf, pow2 } from "./_exact.ts";
import type { Matrix } from "./matrix.ts";

/**
 * The Euclidean norm of `count` numbers of `data` read from `offset` with `stride`, without
 * overflow or harmful underflow: the values are scaled by the exact power of two 2^−e with
 * 2^e ≤ max|x| < 2^(e+1) (LAPACK's dnrm2 idea, here without any rounding in the scaling), the
 * squares summed in index order in float64, one square root, and the result scaled back exactly.
 */
export function norm2(data: ArrayLike<number>, offset: number, count: number, stride = 1): number {
  let big = 0;
  for (let i = 0; i < count; i++) big = Math.max(big, Math.abs(data[offset + i * stride]!));
  if (big === 0 || !Number.isFinite(big)) return big;
  const e = exponentOf(big);
  const down1 = pow2(-Math.trunc(e / 2));
  const down2 = pow2(-(e - Math.trunc(e / 2)));
  let s = 0;
  for (let i = 0; i < count; i++) {
    const v = data[offset + i * stride]! * down1 * down2;
    s += v * v;
  }
  return Math.sqrt(s) * pow2(Math.trunc(e / 2)) * pow2(e - Math.trunc(e / 2));
}

/** Throws `E_RANGE` naming the argument and the first non-finite element. */
export function checkFinite(m: Matrix, name: string, what: string): void {
  for (let i = 0; i < m.data.length; i++) {
    const v = m.data[i]!;
    if (!Number.isFinite(v)) {
      const row = m.cols === 0 ? 0 : Math.floor(i / m.cols);
      const col = m.cols === 0 ? 0 : i % m.cols;
      throw rangeError(
        `Cannot ${what}: ${name} must be finite, got ${show(v)} at (${row}, ${col})`,
      );
    }
  }
}

/** Checks a rank against a (rows, cols) matrix: E_ARG when not an integer, else E_RANGE. */
export function checkRank(rank: number, rows: number, cols: number): void {
  if (typeof rank !== "number" || !Number.isInteger(rank)) {
    throw argError(`rank must be an integer, got ${show(rank)}`);
  }
  if (rank < 1 || rank > Math.min(rows, cols)) {
    throw rangeError(
      `rank must satisfy 1 ≤ rank ≤ min(rows, cols) = ${
        Math.min(rows, cols)
      } for a ${rows}×${cols} matrix, got ${rank}`,
    );
  }
}
