/**
 * Affine integer quantization of a matrix, q = clamp(round(x / scale) + zeroPoint, qmin, qmax),
 * per tensor, channel or group, with the exact rounding of the oracle protocol or the float32
 * steps of PyTorch (fbgemm) and ONNX (oracle-protocol.md "quantize / dequantize";
 * docs/semantics.md §Affine quantization).
 *
 * @module
 */
import {
  type CalibrationMethod,
  type Granularity,
  planQuantize,
  type QuantizeDtype,
  type QuantizeProfile,
  type QuantizeRange,
  type QuantizeScheme,
  runQuantize,
} from "./_affine.ts";
import type { Matrix } from "./matrix.ts";
import type { RoundingMode } from "./rounding.ts";

export type {
  CalibrationMethod,
  Granularity,
  QuantizeDtype,
  QuantizeProfile,
  QuantizeRange,
  QuantizeScheme,
};
export { QUANTIZE_DTYPES } from "./_affine.ts";

/** Options of {@linkcode quantize}. */
export interface QuantizeOptions {
  /** Calibration scheme (unused when `scale` is given). @default {"symmetric"} */
  scheme?: QuantizeScheme;
  /** One scale per tensor, channel or group. @default {"tensor"} */
  granularity?: Granularity;
  /** For `"channel"`: 0 gives one scale per row, 1 one per column. @default {0} */
  axis?: number;
  /** For `"group"` (required there): consecutive elements of a row sharing a scale. */
  groupSize?: number;
  /** `"restricted"` drops the most negative level of a signed dtype. @default {"full"} */
  range?: QuantizeRange;
  /** The rounding rule of x / scale; profiles other than `"exact"` allow only nearest-even. @default {"nearest-even"} */
  rounding?: RoundingMode;
  /** SplitMix64 seed, required for `"stochastic"`: an integer in [0, 2^53). */
  seed?: number;
  /** How the scale is applied. @default {"exact"} */
  profile?: QuantizeProfile;
  /** Scales to use instead of calibrating, one per tensor/channel/group (finite, > 0). */
  scale?: ArrayLike<number>;
  /** Zero points with `scale`, integers in [qmin, qmax]. @default {zeros} */
  zeroPoint?: ArrayLike<number>;
  /** Calibration method (TS API only; the oracle calibrates by min/max). @default {"minmax"} */
  method?: CalibrationMethod;
  /** For `method: "percentile"`. @default {99.9} */
  percentile?: number;
  /** For `method: "mse"`. @default {100} */
  steps?: number;
}

/** The result of {@linkcode quantize}. */
export interface QuantizeResult {
  /** The integer levels, same shape as x (integers stored as float64). */
  readonly q: Matrix;
  /** One float64 scale per tensor / channel / group (groups row by row). */
  readonly scale: Float64Array;
  /** One integer zero point per tensor / channel / group. */
  readonly zeroPoint: Float64Array;
}

/**
 * Quantizes a matrix to integer levels: `q = clamp(round(x / scale) + zeroPoint, qmin, qmax)`.
 *
 * - Calibration (no `scale`): per tensor / channel / group, see `calibrateRange` in
 *   `@loraquant/reference/calibrate` (every quotient exact, rounded once to float64).
 * - `profile: "exact"`: `round` (the `rounding` rule) applies to the EXACT real quotient
 *   x / scale (a float64 division that lands on .5 by its own rounding is not a tie). Stochastic
 *   rounding takes one SplitMix64 draw per element in row-major order (also for elements that
 *   need no rounding) and goes to the upper neighbour (by value) when u < x/scale −
 *   floor(x/scale), compared exactly.
 * - `profile: "pytorch"` (fbgemm): x and scale rounded to float32, `t = fround(x · fround(1 /
 *   scale))`, `q = clamp(roundHalfToEven(t) + zeroPoint)`. The product of two float32 values is
 *   exact in float64, so `fround` rounds it once.
 * - `profile: "onnx"` (QuantizeLinear): `t = fround(x / scale)` with float32 x and scale. The
 *   float64 quotient of two float32 values rounded again to float32 equals the correctly rounded
 *   float32 quotient, since 53 ≥ 2·24 + 2 (Figueroa, "When is double rounding innocuous?", 1995);
 *   the same holds for fround(1 / scale) above.
 *
 * Calibration is the same under every profile and returns the float64 scale. Arrays are never
 * mutated; bad input throws before anything is computed.
 *
 * @param x The matrix to quantize, finite.
 * @param dtype int4, uint4, int8, uint8, int16 or uint16.
 * @param options Scheme, granularity, range, rounding, profile, given scales.
 * @returns The levels `q`, and the scales and zero points used.
 * @throws {LoraquantTypeError} `E_ARG`: unknown enum value, axis not 0/1, missing or
 * non-integer groupSize for `"group"`, `"restricted"` with an unsigned dtype, a rounding other
 * than nearest-even with a float32 profile, a missing or non-integer seed for `"stochastic"`,
 * a `zeroPoint` without `scale`. `E_SHAPE`: groupSize does not divide cols; a `scale` or
 * `zeroPoint` length other than the number of groups.
 * @throws {LoraquantRangeError} `E_RANGE`: groupSize < 1; seed outside [0, 2^53); a non-finite
 * x; a scale not finite and > 0 (or, under a float32 profile, 0 or infinite once rounded to
 * float32, or with an infinite float32 reciprocal under `"pytorch"`); a zeroPoint that is not an
 * integer in [qmin, qmax].
 *
 * @example Per-row int8 (ex15 of the oracle examples)
 * ```ts
 * import { quantize } from "@loraquant/reference/quantize";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const x = matrix([2, 3], [0.5, -1, 0.25, 2, -0.75, 1.5]);
 * const { q, scale } = quantize(x, "int8", { granularity: "channel", axis: 0 });
 * assertEquals([...q.data], [64, -127, 32, 127, -48, 95]);
 * assertEquals([...scale], [1 / 127, 2 / 127]);
 * ```
 *
 * @example fbgemm's own example: the two profiles disagree
 * ```ts
 * import { quantize } from "@loraquant/reference/quantize";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const x = matrix([1, 1], [0.273939937]);
 * const options = { scale: [0.00214854861], zeroPoint: [0] };
 * assertEquals(quantize(x, "uint8", { ...options, profile: "pytorch" }).q.data[0], 128);
 * assertEquals(quantize(x, "uint8", { ...options, profile: "onnx" }).q.data[0], 127);
 * ```
 */
export function quantize(
  x: Matrix,
  dtype: QuantizeDtype,
  options: QuantizeOptions = {},
): QuantizeResult {
  const plan = planQuantize(x.rows, x.cols, x.data.length, dtype, options);
  return runQuantize(x, plan);
}
