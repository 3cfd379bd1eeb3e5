/**
 * Affine dequantization, x = (q − zeroPoint) · scale, each element the exact product rounded
 * once (oracle-protocol.md "quantize / dequantize"; docs/semantics.md §Affine quantization).
 *
 * @module
 */
import { argError, rangeError, shapeError, show } from "./_fail.ts";
import {
  checkCount,
  checkScales,
  type Granularity,
  groupIndices,
  type Layout,
  layoutArguments,
  layoutCount,
  layoutRange,
  QUANTIZE_PROFILES,
  type QuantizeProfile,
} from "./_affine.ts";
import { dyadic, FLOAT64_GRID, type Grid, rationalOf, roundRational } from "./_exact.ts";
import { FLOAT_FORMATS } from "./format.ts";
import type { Matrix } from "./matrix.ts";

export type { Granularity, QuantizeProfile };

/** Options of {@linkcode dequantize}. */
export interface DequantizeOptions {
  /** Zero points, integers, one per tensor/channel/group. @default {zeros} */
  zeroPoint?: ArrayLike<number>;
  /** One scale per tensor, channel or group. @default {"tensor"} */
  granularity?: Granularity;
  /** For `"channel"`: 0 one scale per row, 1 per column. @default {0} */
  axis?: number;
  /** For `"group"` (required there): consecutive elements of a row sharing a scale. */
  groupSize?: number;
  /** `"exact"`, or the float32 steps of `"pytorch"` / `"onnx"`. @default {"exact"} */
  profile?: QuantizeProfile;
}

/**
 * Maps integer levels back to real values: `x = (q − zeroPoint) · scale`.
 *
 * - `"exact"`: the exact product of the integer q − zeroPoint and the float64 scale, rounded
 *   once to the nearest float64 (ties to even; a product beyond the float64 range is ±Infinity,
 *   IEEE 754's overflow of round-to-nearest). An exact zero is +0 (integers carry no sign).
 * - `"pytorch"` / `"onnx"`: `fround((q − zeroPoint) · fround(scale))`, the exact product rounded
 *   once to float32 (for |q − zeroPoint| < 2^29 the float64 product is exact, so `fround` is
 *   that one rounding; beyond, the product is rounded from its exact BigInt value).
 *
 * q and zeroPoint may be any integers (there is no dtype to bound them).
 *
 * @param q The integer levels.
 * @param scale One scale per tensor / channel / group (groups row by row).
 * @param options Zero points, granularity, profile.
 * @returns A new matrix of the dequantized values.
 * @throws {LoraquantTypeError} `E_ARG`: unknown granularity or profile, axis not 0/1, missing or
 * non-integer groupSize for `"group"`. `E_SHAPE`: groupSize does not divide cols; a scale or
 * zeroPoint length other than the number of groups.
 * @throws {LoraquantRangeError} `E_RANGE`: groupSize < 1; a q or zeroPoint that is not an
 * integer; a scale not finite and > 0 (or 0 or infinite once rounded to float32 under a float32
 * profile, or with an infinite float32 reciprocal under `"pytorch"`, as in `quantize`).
 *
 * @example Round trip of uint8 levels with a zero point
 * ```ts
 * import { dequantize } from "@loraquant/reference/dequantize";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const q = matrix([1, 3], [0, 128, 255]);
 * const x = dequantize(q, [0.5], { zeroPoint: [128] });
 * assertEquals([...x.data], [-64, 0, 63.5]);
 * ```
 */
export function dequantize(
  q: Matrix,
  scale: ArrayLike<number>,
  options: DequantizeOptions = {},
): Matrix {
  const plan = planDequantize(q.rows, q.cols, q.data.length, scale, options);
  return runDequantize(q, scale, plan);
}

/** What {@linkcode dequantize} checked before touching the data. */
interface DequantizePlan {
  readonly layout: Layout;
  readonly profile: QuantizeProfile;
  readonly zeroPoint: ArrayLike<number> | undefined;
}

/**
 * The `E_ARG` then `E_SHAPE` checks of {@linkcode dequantize} (the oracle calls
 * `context.checkLimit()` between this and {@linkcode runDequantize}).
 *
 * @param rows Rows of q.
 * @param cols Columns of q.
 * @param length Elements of q.
 * @param scale The scales.
 * @param options As for {@linkcode dequantize}.
 * @returns The checked plan.
 * @throws {LoraquantTypeError} `E_ARG`, then `E_SHAPE`, as documented for {@linkcode dequantize}.
 */
function planDequantize(
  rows: number,
  cols: number,
  length: number,
  scale: ArrayLike<number>,
  options: DequantizeOptions,
): DequantizePlan {
  const what = "dequantize";
  const layout = layoutArguments(
    options.granularity ?? "tensor",
    options.axis ?? 0,
    options.groupSize,
    what,
  );
  const profile = options.profile ?? "exact";
  if (!(QUANTIZE_PROFILES as readonly string[]).includes(profile)) {
    throw argError(
      `Cannot dequantize: profile must be one of ${QUANTIZE_PROFILES.join(", ")}, got ${
        JSON.stringify(profile)
      }`,
    );
  }
  if (length !== rows * cols) {
    throw shapeError(`Cannot dequantize: q has shape [${rows}, ${cols}] but ${length} elements`);
  }
  const count = layoutCount(layout, rows, cols, what);
  if (layout.granularity !== "group" || layout.groupSize >= 1) {
    checkCount(scale, count, "scale", layout, what);
    checkCount(options.zeroPoint, count, "zeroPoint", layout, what);
  }
  return { layout, profile, zeroPoint: options.zeroPoint };
}

const FLOAT32_GRID: Grid = FLOAT_FORMATS.float32;
const FLOAT32_MAX = FLOAT_FORMATS.float32.max;

/**
 * The `E_RANGE` checks (groupSize, q, scale, zeroPoint) and the computation of
 * {@linkcode dequantize}.
 */
function runDequantize(q: Matrix, scale: ArrayLike<number>, plan: DequantizePlan): Matrix {
  const what = "dequantize";
  const { layout, profile } = plan;
  const { rows, cols } = q;
  layoutRange(layout, what);
  for (let i = 0; i < q.data.length; i++) {
    const v = q.data[i]!;
    if (!Number.isInteger(v)) {
      throw rangeError(
        `Cannot dequantize: q must hold integers, got ${show(v)} at (${Math.floor(i / cols)}, ${
          i % cols
        })`,
      );
    }
  }
  checkScales(scale, profile, what);
  const zeroPoint = plan.zeroPoint;
  if (zeroPoint !== undefined) {
    for (let g = 0; g < zeroPoint.length; g++) {
      if (!Number.isInteger(zeroPoint[g])) {
        throw rangeError(
          `Cannot dequantize: zeroPoint must be an integer, got ${
            show(zeroPoint[g]!)
          } (zeroPoint[${g}])`,
        );
      }
    }
  }
  const index = groupIndices(layout, rows, cols); // (rows, cols) row-major → scale index
  const x = new Float64Array(rows * cols); // (rows, cols) row-major
  for (let i = 0; i < x.length; i++) {
    const g = index[i]!;
    const z = zeroPoint === undefined ? 0 : zeroPoint[g]!;
    x[i] = profile === "exact"
      ? dequantizeValue(q.data[i]!, z, scale[g]!)
      : dequantizeFloat32(q.data[i]!, z, Math.fround(scale[g]!));
  }
  return { rows, cols, data: x };
}

/** (q − z)·s rounded once to float64; q, z integers, s a finite float64 > 0. */
function dequantizeValue(q: number, z: number, s: number): number {
  const d = q - z;
  // |q|, |z| ≤ 2^52 make q − z an exact integer double, and IEEE 754 multiplication rounds the
  // exact product once.
  if (Math.abs(q) <= 2 ** 52 && Math.abs(z) <= 2 ** 52) return d * s + 0;
  return exactProduct(q, z, s, FLOAT64_GRID, Number.MAX_VALUE);
}

/** (q − z)·s rounded once to float32; s a float32 value. */
function dequantizeFloat32(q: number, z: number, s: number): number {
  const d = q - z;
  // |q − z| < 2^29 and a 24-bit s: the float64 product (< 2^53 significant bits) is exact.
  if (Math.abs(q) <= 2 ** 28 && Math.abs(z) <= 2 ** 28) return Math.fround(d * s) + 0;
  return exactProduct(q, z, s, FLOAT32_GRID, FLOAT32_MAX);
}

/** The exact (q − z)·s rounded once (nearest-even) to a grid; beyond `max`, ±Infinity. */
function exactProduct(q: number, z: number, s: number, grid: Grid, max: number): number {
  const d = BigInt(q) - BigInt(z);
  if (d === 0n) return 0;
  const r = rationalOf(dyadic(s));
  const neg = d < 0n;
  const y = roundRational(
    { neg, num: (neg ? -d : d) * r.num, den: r.den },
    grid,
    "nearest-even",
    0,
  );
  return Math.abs(y) > max ? (neg ? -Infinity : Infinity) : y;
}
