/**
 * DoRA (Liu et al. 2024, PEFT's `use_dora=True`): the weight is split into a magnitude vector m
 * (one per output row) and a direction, `W' = m_i·(W + s·B·A)_i / ‖(W + s·B·A)_i‖₂` row by row
 * (docs/lora.md eq. (15)–(16)), in float64.
 *
 * @module
 */
import { rangeError, shapeError, show } from "./_fail.ts";
import {
  checkAdapterRange,
  checkAdapterShape,
  checkVectorFinite,
  checkVectorShape,
} from "./_lora.ts";
import { checkFinite } from "./_linalg.ts";
import { multiply, rowNorms } from "./linalg.ts";
import { type LoraAdapter, mergeLora, unmergeLora } from "./lora.ts";
import type { Matrix } from "./matrix.ts";

/** A DoRA adapter: a LoRA adapter and the magnitude vector m (length out). */
export interface DoraAdapter extends LoraAdapter {
  /** m, one per output row of W. */
  readonly magnitude: Float64Array;
}

/** A merged DoRA weight and the row norms n_i that unmerging needs. */
export interface DoraMerged {
  /** W' = m_i·V_i/n_i, (out, in). */
  w: Matrix;
  /** n_i = ‖V_i‖₂ with V = W + s·B·A. */
  norm: Float64Array;
}

/**
 * DoRA's initial magnitude: the row norms of W + s·B·A (PEFT initialises m = ‖W‖ row-wise with
 * B = 0, where this is ‖W_i‖₂), each as {@linkcode rowNorms} computes it.
 *
 * @param w (out, in), finite.
 * @param adapter a (r, in), b (out, r), alpha, rslora.
 * @returns m, length out.
 * @throws {LoraquantTypeError} `E_SHAPE` when the shapes disagree.
 * @throws {LoraquantRangeError} `E_RANGE` for a bad rank or a non-finite input.
 *
 * @example
 * ```ts
 * import { doraMagnitude } from "@loraquant/reference/dora";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const w = matrix([2, 2], [3, 4, 0, 2]);
 * const adapter = { a: matrix([1, 2], [1, 1]), b: matrix([2, 1], [0, 0]), alpha: 1 };
 * assertEquals([...doraMagnitude(w, adapter)], [5, 2]);
 * ```
 */
export function doraMagnitude(w: Matrix, adapter: LoraAdapter): Float64Array {
  return rowNorms(mergeLora(w, adapter));
}

function checkDora(w: Matrix, adapter: DoraAdapter, what: string, norm?: Float64Array): void {
  const out = w.rows;
  checkAdapterShape(out, w.cols, adapter, what);
  checkVectorShape(adapter.magnitude, out, "magnitude", what);
  if (norm !== undefined) checkVectorShape(norm, out, "norm", what);
  checkAdapterRange(out, w.cols, adapter, what);
  checkFinite(w, "w", what);
  checkVectorFinite(adapter.magnitude, "magnitude", what);
  if (norm !== undefined) checkVectorFinite(norm, "norm", what);
}

/**
 * Merges a DoRA adapter (docs/lora.md eq. (15)): `V = W + s·B·A` as {@linkcode mergeLora},
 * `n_i = ‖V_i‖₂` as {@linkcode rowNorms}, then PEFT's order `f_i = m_i/n_i`, `W'_ij = f_i·V_ij`,
 * each operation rounded to nearest-even float64.
 *
 * @param w (out, in), finite.
 * @param adapter a, b, alpha, rslora and magnitude (length out).
 * @returns The merged weight and the norms n.
 * @throws {LoraquantTypeError} `E_SHAPE` when the shapes disagree.
 * @throws {LoraquantRangeError} `E_RANGE` for a bad rank or a non-finite input, or when a row of
 * V is zero (its direction is undefined).
 *
 * @example With m = ‖W‖ and B = 0 the merged weight is W
 * ```ts
 * import { doraMerge } from "@loraquant/reference/dora";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const w = matrix([2, 2], [3, 4, 0, 2]);
 * const adapter = {
 *   a: matrix([1, 2], [1, 1]), b: matrix([2, 1], [0, 0]), alpha: 1,
 *   magnitude: new Float64Array([5, 2]),
 * };
 * const { w: merged, norm } = doraMerge(w, adapter);
 * assertEquals([...merged.data], [3, 4, 0, 2]);
 * assertEquals([...norm], [5, 2]);
 * ```
 */
export function doraMerge(w: Matrix, adapter: DoraAdapter): DoraMerged {
  const what = "merge DoRA";
  checkDora(w, adapter, what);
  const v = mergeLora(w, adapter);
  const norm = rowNorms(v);
  const out = new Float64Array(v.data.length);
  for (let i = 0; i < v.rows; i++) {
    if (norm[i] === 0) {
      throw rangeError(
        `Cannot ${what}: row ${i} of W + s·B·A is zero, so its direction is undefined`,
      );
    }
    const f = adapter.magnitude[i]! / norm[i]!;
    for (let j = 0; j < v.cols; j++) out[i * v.cols + j] = f * v.data[i * v.cols + j]!;
  }
  return { w: { rows: v.rows, cols: v.cols, data: out }, norm };
}

/**
 * Unmerges a DoRA adapter (docs/lora.md eq. (16)): `W_ij = W'_ij/f_i − s·(B·A)_ij` with
 * `f_i = m_i/n_i` (PEFT's order), each operation rounded to nearest-even. Needs the norms the
 * merge returned: the merged weight alone has lost them.
 *
 * @param merged The merged weight and its norms.
 * @param adapter a, b, alpha, rslora and magnitude (nonzero).
 * @returns W.
 * @throws {LoraquantTypeError} `E_SHAPE` when the shapes disagree.
 * @throws {LoraquantRangeError} `E_RANGE` for a bad rank, a non-finite input, or a zero
 * magnitude.
 *
 * @example
 * ```ts
 * import { doraMerge, doraUnmerge } from "@loraquant/reference/dora";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertAlmostEquals } from "@std/assert";
 *
 * const w = matrix([2, 2], [3, 4, 0, 2]);
 * const adapter = {
 *   a: matrix([1, 2], [1, 1]), b: matrix([2, 1], [0.5, 1]), alpha: 1,
 *   magnitude: new Float64Array([2, 3]),
 * };
 * const back = doraUnmerge(doraMerge(w, adapter), adapter);
 * w.data.forEach((v, i) => assertAlmostEquals(back.data[i]!, v, 1e-14));
 * ```
 */
export function doraUnmerge(merged: DoraMerged, adapter: DoraAdapter): Matrix {
  const what = "unmerge DoRA";
  const w = merged.w;
  checkDora(w, adapter, what, merged.norm);
  const scaled = new Float64Array(w.data.length);
  for (let i = 0; i < w.rows; i++) {
    const m = adapter.magnitude[i]!;
    if (m === 0) {
      throw rangeError(`Cannot ${what}: magnitude must be nonzero, got ${show(m)} at [${i}]`);
    }
    const f = m / merged.norm[i]!;
    for (let j = 0; j < w.cols; j++) scaled[i * w.cols + j] = w.data[i * w.cols + j]! / f;
  }
  return unmergeLora({ rows: w.rows, cols: w.cols, data: scaled }, adapter);
}

/**
 * The DoRA forward pass: `y = x·W'ᵀ + bias` with W' the merged weight of {@linkcode doraMerge}
 * (as the oracle's `lora.forward` with a magnitude), by {@linkcode multiply} then the bias added.
 *
 * @param x (n, in), finite.
 * @param layer w (out, in), the adapter with its magnitude, optional bias (length out).
 * @returns y, (n, out).
 * @throws {LoraquantTypeError} `E_SHAPE` when the shapes disagree.
 * @throws {LoraquantRangeError} `E_RANGE` as {@linkcode doraMerge}, or a non-finite x or bias.
 *
 * @example
 * ```ts
 * import { doraForward } from "@loraquant/reference/dora";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const layer = {
 *   w: matrix([2, 2], [3, 4, 0, 2]), a: matrix([1, 2], [1, 1]), b: matrix([2, 1], [0, 0]),
 *   alpha: 1, magnitude: new Float64Array([10, 1]),
 * };
 * assertEquals([...doraForward(matrix([1, 2], [1, 0]), layer).data], [6, 0]);
 * ```
 */
export function doraForward(
  x: Matrix,
  layer: DoraAdapter & { readonly w: Matrix; readonly bias?: Float64Array },
): Matrix {
  const what = "run the DoRA forward";
  if (x.cols !== layer.w.cols) {
    throw shapeError(
      `Cannot ${what}: x must be n×in with in = ${layer.w.cols}, got ${x.rows}×${x.cols}`,
    );
  }
  if (layer.bias !== undefined) checkVectorShape(layer.bias, layer.w.rows, "bias", what);
  checkAdapterShape(layer.w.rows, layer.w.cols, layer, what);
  checkVectorShape(layer.magnitude, layer.w.rows, "magnitude", what);
  checkFinite(x, "x", what);
  if (layer.bias !== undefined) checkVectorFinite(layer.bias, "bias", what);
  const { w } = doraMerge(layer.w, layer);
  const y = multiply(x, w, { transposeB: true });
  if (layer.bias !== undefined) {
    for (let i = 0; i < y.rows; i++) {
      for (let j = 0; j < y.cols; j++) {
        y.data[i * y.cols + j] = y.data[i * y.cols + j]! + layer.bias[j]!;
      }
    }
  }
  return y;
}
