/**
 * Calibration of affine quantization: choosing the scale and zero point of a set of values
 * (docs/semantics.md §Affine quantization; oracle-protocol.md "quantize / dequantize").
 *
 * Three methods, each derived from a clipping range [lo, hi] by the min/max formulas of the
 * protocol (every quotient exact, rounded once to the nearest float64):
 * - `"minmax"` (the protocol's): lo = min(x), hi = max(x);
 * - `"percentile"`: the range is clipped to a percentile of the data (nearest-rank, no
 *   interpolation, so it is an element of the data);
 * - `"mse"`: a grid search over clipping ratios that minimises the dequantization error.
 *
 * @module
 */
import { argError, rangeError, show } from "./_fail.ts";
import {
  calibrateMinMax,
  calibrateValues,
  calibrationArguments,
  type CalibrationMethod,
  calibrationRange,
  levels,
  type QuantizationParams,
  type QuantizeDtype,
  type QuantizeRange,
  type QuantizeScheme,
} from "./_affine.ts";

export type { CalibrationMethod, QuantizationParams, QuantizeDtype, QuantizeRange, QuantizeScheme };
export { QUANTIZE_DTYPES } from "./_affine.ts";

/** Options of {@linkcode calibrateRange}. */
export interface CalibrateRangeOptions {
  /** Symmetric or asymmetric. @default {"symmetric"} */
  scheme?: QuantizeScheme;
  /** Full range, or restricted (signed dtypes only). @default {"full"} */
  range?: QuantizeRange;
}

/**
 * Computes the scale and zero point for values in [lo, hi] (oracle-protocol.md "quantize",
 * calibration). With mn = min(lo, 0) and mx = max(hi, 0), each quotient computed exactly and
 * rounded ONCE to the nearest float64 (ties to even):
 *
 * - symmetric: z = 0 for signed dtypes and 2^(bits−1) for unsigned (uint8 128, uint4 8);
 *   `scale = M / (qmax − z)` with M = max(|mn|, |mx|);
 * - asymmetric: `scale = (mx − mn) / (qmax − qmin)`, the difference mx − mn exact (never rounded
 *   on its own); `zeroPoint = qmin − roundHalfEven(mn / scale)` on the exact quotient, clamped
 *   to [qmin, qmax];
 * - mn = mx = 0: `scale = 1` (zero point z, or qmin when asymmetric).
 *
 * [qmin, qmax] is the dtype's range, without its most negative level under `"restricted"`.
 * A scale that rounds to 0 (possible only for |mn|, |mx| below about 2^−1067) is replaced by the
 * smallest positive float64, 2^−1074, the nearest value of the domain scale > 0.
 *
 * @param extremes `[lo, hi]`, finite, lo ≤ hi.
 * @param dtype The integer dtype.
 * @param options Scheme and range.
 * @returns `{ scale, zeroPoint }`.
 * @throws {LoraquantTypeError} `E_ARG` for an unknown dtype, scheme or range, or `"restricted"`
 * with an unsigned dtype.
 * @throws {LoraquantRangeError} `E_RANGE` when lo or hi is not finite or lo > hi.
 *
 * @example int8 symmetric and uint8 asymmetric
 * ```ts
 * import { calibrateRange } from "@loraquant/reference/calibrate";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(calibrateRange([-1, 0.5], "int8"), { scale: 1 / 127, zeroPoint: 0 });
 * // scale = 2 / 255 rounded once (down), so −1 / scale is just below −127.5: zeroPoint 0 + 128.
 * assertEquals(calibrateRange([-1, 1], "uint8", { scheme: "asymmetric" }), {
 *   scale: 2 / 255,
 *   zeroPoint: 128,
 * });
 * ```
 */
export function calibrateRange(
  extremes: readonly [number, number],
  dtype: QuantizeDtype,
  options: CalibrateRangeOptions = {},
): QuantizationParams {
  const scheme = checkScheme(options.scheme ?? "symmetric");
  const lv = levels(dtype, options.range ?? "full", "calibrate");
  const [lo, hi] = extremes;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) {
    throw rangeError(
      `Cannot calibrate: extremes must be finite with lo ≤ hi, got [${show(lo)}, ${show(hi)}]`,
    );
  }
  return calibrateMinMax(lo, hi, scheme, lv);
}

/** Options of {@linkcode calibrate}. */
export interface CalibrateOptions extends CalibrateRangeOptions {
  /** How the clipping range is chosen. @default {"minmax"} */
  method?: CalibrationMethod;
  /** For `"percentile"`: p with 0 < p ≤ 100. @default {99.9} */
  percentile?: number;
  /** For `"mse"`: the number of clipping ratios k/steps, k = 1..steps, tried. @default {100} */
  steps?: number;
}

/**
 * Chooses a scale and zero point for a set of values, by one of three methods. Every method
 * ends in {@linkcode calibrateRange} on a clipping range [lo, hi]:
 *
 * - `"minmax"` (the oracle's calibration): lo = min(x), hi = max(x).
 * - `"percentile"` with p: let n be the count and k = max(1, ceil(p·n/100)) (computed exactly).
 *   Symmetric: hi = the k-th smallest |x_i| and lo = −hi. Asymmetric: hi = the k-th smallest
 *   x_i and lo = the k-th largest x_i (the mirrored rank), so p = 100 is minmax.
 * - `"mse"`: starting from the minmax range [lo, hi], for k = steps, steps − 1, ..., 1 the range
 *   [lo·k/steps, hi·k/steps] (each bound exact, rounded once to float64) is calibrated, every
 *   x_i is quantized with it (nearest-even on the exact quotient) and dequantized
 *   (x̂_i = (q_i − zeroPoint)·scale rounded once), and the one with the smallest
 *   Σ (x_i − x̂_i)² wins; the sum is a float64 Neumaier (compensated) sum of float64 squares of
 *   the float64 differences (a ranking, not an oracle quantity); a tie keeps the larger ratio.
 *
 * @param values The values (finite).
 * @param dtype The integer dtype.
 * @param options Scheme, range, method and its parameter.
 * @returns `{ scale, zeroPoint }`.
 * @throws {LoraquantTypeError} `E_ARG` for an unknown dtype, scheme, range or method,
 * `"restricted"` with an unsigned dtype, or a `steps` that is not an integer.
 * @throws {LoraquantRangeError} `E_RANGE` for a value that is not finite, a percentile outside
 * (0, 100] or `steps` < 1.
 *
 * @example The three methods on data with one outlier
 * ```ts
 * import { calibrate } from "@loraquant/reference/calibrate";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const x = [...Array.from({ length: 99 }, (_, i) => (i - 49) / 49), 100]; // [−1, 1] and 100
 * assertEquals(calibrate(x, "int8").scale, 100 / 127);
 * assertEquals(calibrate(x, "int8", { method: "percentile", percentile: 99 }).scale, 1 / 127);
 * // 1000 values in [−1, 1] and one 4: the MSE search clips the range to 0.42 of min/max.
 * const y = [...Array.from({ length: 1000 }, (_, i) => Math.sin(i)), 4];
 * assertEquals(calibrate(y, "int4", { method: "mse" }).scale, 0.24);
 * assert(calibrate(y, "int4", { method: "mse" }).scale < calibrate(y, "int4").scale);
 * ```
 */
export function calibrate(
  values: ArrayLike<number>,
  dtype: QuantizeDtype,
  options: CalibrateOptions = {},
): QuantizationParams {
  const settings = calibrationArguments(options, "calibrate");
  const lv = levels(dtype, options.range ?? "full", "calibrate");
  calibrationRange(settings, "calibrate");
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw rangeError(`Cannot calibrate: values must be finite, got ${show(v)} (values[${i}])`);
    }
  }
  return calibrateValues(values, lv, settings);
}

function checkScheme(scheme: unknown): QuantizeScheme {
  if (scheme !== "symmetric" && scheme !== "asymmetric") {
    throw argError(
      `Cannot calibrate: scheme must be "symmetric" or "asymmetric", got ${JSON.stringify(scheme)}`,
    );
  }
  return scheme;
}
