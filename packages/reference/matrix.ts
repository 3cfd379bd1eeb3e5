/**
 * The row-major float64 matrix shared by every part of the reference (quantization and LoRA).
 *
 * @module
 */
import { argError, rangeError, shapeError, show } from "./_fail.ts";

/**
 * A dense row-major matrix: element (i, j) is `data[i * cols + j]`.
 *
 * The protocol encodes it as `{"shape": [rows, cols], "data": [...]}`.
 */
export interface Matrix {
  /** Number of rows (m). */
  readonly rows: number;
  /** Number of columns (n). */
  readonly cols: number;
  /** The rows·cols elements, row after row. */
  readonly data: Float64Array;
}

/**
 * Builds a {@linkcode Matrix}, checking that `data` holds exactly `rows · cols` numbers.
 *
 * The data is copied, so later changes to the argument never reach the matrix.
 *
 * @param shape `[rows, cols]`, non-negative integers.
 * @param data The elements in row-major order.
 * @returns A new matrix owning a copy of `data`.
 * @throws {LoraquantTypeError} `E_ARG` when a dimension is not a non-negative integer;
 * `E_SHAPE` when `data.length !== rows · cols`.
 *
 * @example A 2×3 matrix
 * ```ts
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const m = matrix([2, 3], [1, 2, 3, 4, 5, 6]);
 * assertEquals(m.data[1 * 3 + 2], 6);
 * ```
 */
export function matrix(
  shape: readonly [number, number],
  data: ArrayLike<number> = new Float64Array(shape[0] * shape[1]),
): Matrix {
  const [rows, cols] = shape;
  checkDimension(rows, "rows");
  checkDimension(cols, "cols");
  if (data.length !== rows * cols) {
    throw shapeError(
      `Cannot build a ${rows}×${cols} matrix: data has ${data.length} elements, expected ${
        rows * cols
      }`,
    );
  }
  return { rows, cols, data: Float64Array.from(data) };
}

/**
 * Returns the element at row `i`, column `j`.
 *
 * @param m The matrix.
 * @param i Row index, 0 ≤ i < rows.
 * @param j Column index, 0 ≤ j < cols.
 * @returns `m.data[i * m.cols + j]`.
 * @throws {LoraquantRangeError} `E_RANGE` when an index is outside the matrix.
 *
 * @example
 * ```ts
 * import { at, matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(at(matrix([2, 2], [1, 2, 3, 4]), 1, 0), 3);
 * ```
 */
export function at(m: Matrix, i: number, j: number): number {
  if (
    !(Number.isInteger(i) && i >= 0 && i < m.rows && Number.isInteger(j) && j >= 0 && j < m.cols)
  ) {
    throw rangeError(`Index (${show(i)}, ${show(j)}) is outside the ${m.rows}×${m.cols} matrix`);
  }
  return m.data[i * m.cols + j]!;
}

function checkDimension(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw argError(`Matrix ${name} must be a non-negative integer, got ${show(value)}`);
  }
}
