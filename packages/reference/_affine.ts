// The arithmetic core of affine quantization (oracle-protocol.md "quantize / dequantize",
// docs/semantics.md §Affine quantization): the exact rounding of a quotient x / scale to an
// integer, min/max calibration, the group layouts and the argument checks shared by the public
// modules (calibrate.ts, quantize.ts, dequantize.ts) and the oracle (oracle/affine.ts).
import type { QuantizeOptions } from "./quantize.ts";
import { argError, rangeError, shapeError, show } from "./_fail.ts";
import { addDyadic, dyadic, FLOAT64_GRID, quotient, rationalOf, roundRational } from "./_exact.ts";
import { INTEGER_TYPES } from "./dtype.ts";
import { roundHalfToEven, type RoundingMode } from "./rounding.ts";
import { SplitMix64 } from "./splitmix64.ts";

/** The integer dtypes of affine quantization, as the oracle protocol spells them. */
export const QUANTIZE_DTYPES = ["int4", "uint4", "int8", "uint8", "int16", "uint16"] as const;

/** An integer dtype that `quantize` produces: int4, uint4, int8, uint8, int16 or uint16. */
export type QuantizeDtype = typeof QUANTIZE_DTYPES[number];

/**
 * How the scale and zero point are derived from min = min(x, 0) and max = max(x, 0):
 * `"symmetric"` (zero point 0, or 2^(bits−1) for unsigned dtypes) or `"asymmetric"`.
 */
export type QuantizeScheme = "symmetric" | "asymmetric";

/**
 * Which integer levels are used: `"full"` (the whole dtype) or `"restricted"` (a signed dtype
 * without its most negative level, e.g. int8 [−127, 127]).
 */
export type QuantizeRange = "full" | "restricted";

/**
 * How elements share a scale: one for the whole `"tensor"`; one per row (axis 0) or per column
 * (axis 1) for `"channel"`; one per `groupSize` consecutive elements of a row for `"group"`.
 */
export type Granularity = "tensor" | "channel" | "group";

/**
 * How the scale is applied: `"exact"` (exact quotient, rounded once), `"pytorch"` (fbgemm's
 * float32 steps) or `"onnx"` (QuantizeLinear's float32 steps).
 */
export type QuantizeProfile = "exact" | "pytorch" | "onnx";

/** The scheme values. */
export const QUANTIZE_SCHEMES: readonly QuantizeScheme[] = ["symmetric", "asymmetric"];
/** The range values. */
export const QUANTIZE_RANGES: readonly QuantizeRange[] = ["full", "restricted"];
/** The granularity values. */
export const GRANULARITIES: readonly Granularity[] = ["tensor", "channel", "group"];
/** The profile values. */
export const QUANTIZE_PROFILES: readonly QuantizeProfile[] = ["exact", "pytorch", "onnx"];

// ---------------------------------------------------------------------------------------------
// Integer levels.

/** The integer levels [qmin, qmax] of a dtype under a range, with its width and signedness. */
export interface Levels {
  readonly qmin: number;
  readonly qmax: number;
  readonly bits: number;
  readonly signed: boolean;
}

/**
 * The levels of `dtype` under `range`; `E_ARG` for an unknown dtype or range, or `"restricted"`
 * with an unsigned dtype (oracle-protocol.md "quantize": restricted drops the most negative
 * level of a signed dtype).
 */
export function levels(dtype: string, range: string, what: string): Levels {
  if (!(QUANTIZE_DTYPES as readonly string[]).includes(dtype)) {
    throw argError(
      `Cannot ${what}: dtype must be one of ${QUANTIZE_DTYPES.join(", ")}, got ${
        JSON.stringify(dtype)
      }`,
    );
  }
  if (range !== "full" && range !== "restricted") {
    throw argError(
      `Cannot ${what}: range must be "full" or "restricted", got ${JSON.stringify(range)}`,
    );
  }
  const t = INTEGER_TYPES[dtype as QuantizeDtype];
  if (range === "restricted" && !t.signed) {
    throw argError(
      `Cannot ${what}: range "restricted" applies to signed dtypes only, got dtype ${dtype}`,
    );
  }
  const qmin = Number(t.min) + (range === "restricted" ? 1 : 0);
  return { qmin, qmax: Number(t.max), bits: t.bits, signed: t.signed };
}

// ---------------------------------------------------------------------------------------------
// Rounding an exact quotient to an integer.

/** |t| ≥ 2^20 clamps whatever the rounding: |round(t)| ≥ 2^20 − 1 exceeds every level + offset. */
const CLAMP_BOUND = 2 ** 20;

/**
 * q = clamp(round(x / s) + offset, lo, hi), where `round` (the rounding rule) applies to the
 * EXACT real quotient x / s (oracle-protocol.md "quantize"). x finite, s finite and > 0, offset,
 * lo, hi integers with |offset| ≤ 2^16. Stochastic rounding goes to the upper neighbour (by
 * value) when u < x/s − floor(x/s), compared exactly ("Randomness").
 *
 * Fast path (proof): t = fl(x / s) is the correctly rounded quotient, so with q* = x / s,
 * |t − q*| ≤ |t|·2^−53 (normal range) or ≤ 2^−1075 (subnormal). r = t − floor(t) is exact for
 * t ≥ 0 and within 2^−53 of t − floor(t) for t < 0 (t + 1 may round); each comparison below
 * rounds by at most 2^−53 more. With err = |t|·2^−52 + 2^−50, which exceeds the sum of these
 * three, a decision taken on r at more than err from every boundary (half-integers for the
 * nearest rules; integers and u for toward-zero and stochastic) is the decision on q*.
 * Otherwise (near a tie, on an integer, x = 0) the exact BigInt path decides.
 */
export function roundQuotient(
  x: number,
  s: number,
  rounding: RoundingMode,
  u: number,
  offset: number,
  lo: number,
  hi: number,
): number {
  const t = x / s;
  if (t >= CLAMP_BOUND) return hi;
  if (t <= -CLAMP_BOUND) return lo;
  const f = Math.floor(t);
  const r = t - f;
  const err = Math.abs(t) * 2 ** -52 + 2 ** -50;
  let n: number;
  if (rounding === "nearest-even" || rounding === "nearest-away") {
    n = Math.abs(r - 0.5) > err ? (r < 0.5 ? f : f + 1) : exactRound(x, s, rounding, u);
  } else if (rounding === "toward-zero") {
    n = r > err && 1 - r > err ? (t < 0 ? f + 1 : f) : exactRound(x, s, rounding, u);
  } else {
    n = r > err && 1 - r > err && Math.abs(r - u) > err
      ? (u < r ? f + 1 : f)
      : exactRound(x, s, rounding, u);
  }
  const q = n + offset;
  return q < lo ? lo : q > hi ? hi : q + 0; // + 0 turns −0 into +0: integers carry no sign
}

/**
 * round(x / s) on the exact rational x / s with BigInt arithmetic, by value: floor(q*) plus one
 * when the rule goes up (nearest-even: fraction > 1/2, or = 1/2 with an odd floor;
 * nearest-away: fraction > 1/2, or = 1/2 for q* > 0; toward-zero: q* < 0 and not an integer;
 * stochastic: u < fraction). Exported for the tests that pit the fast path against it.
 */
export function exactRound(x: number, s: number, rounding: RoundingMode, u: number): number {
  const { neg, num, den } = quotient(x, s);
  const n = num / den;
  const rem = num - n * den;
  // q* = floor + frac/den with 0 ≤ frac < den.
  const floor = neg ? (rem === 0n ? -n : -n - 1n) : n;
  const frac = neg && rem !== 0n ? den - rem : rem;
  let up = false;
  if (frac !== 0n) {
    const twice = frac * 2n;
    switch (rounding) {
      case "nearest-even":
        up = twice > den || (twice === den && (floor & 1n) === 1n);
        break;
      case "nearest-away":
        up = twice > den || (twice === den && !neg);
        break;
      case "toward-zero":
        up = neg;
        break;
      case "stochastic":
        // u = k / 2^53 < frac / den ⇔ k·den < frac·2^53.
        up = BigInt(u * 2 ** 53) * den < frac << 53n;
        break;
    }
  }
  return Number(up ? floor + 1n : floor);
}

// ---------------------------------------------------------------------------------------------
// Min/max calibration.

/** A scale and zero point. */
export interface QuantizationParams {
  /** The step between neighbouring levels, a float64 > 0. */
  readonly scale: number;
  /** The integer level that represents the real value 0. */
  readonly zeroPoint: number;
}

/**
 * Calibrates from the extremes (oracle-protocol.md "quantize", calibration): with
 * mn = min(lo, 0), mx = max(hi, 0), each quotient exact and rounded once (nearest-even):
 * - symmetric: z = 0 (signed) or 2^(bits−1) (unsigned); scale = M / (qmax − z), M = max(−mn, mx);
 * - asymmetric: scale = (mx − mn) / (qmax − qmin), the difference NOT rounded first;
 *   zeroPoint = qmin − roundHalfEven(mn / scale) on the exact quotient, clamped to [qmin, qmax];
 * - mn = mx = 0: scale 1 (zero point z, or qmin).
 * A scale that rounds to 0 (M below 2^−1075·(qmax − z)) is replaced by the smallest positive
 * float64, 2^−1074: the nearest value in the domain scale > 0.
 * lo, hi finite (checked by callers).
 */
export function calibrateMinMax(
  lo: number,
  hi: number,
  scheme: QuantizeScheme,
  lv: Levels,
): QuantizationParams {
  const mn = lo < 0 ? lo : 0;
  const mx = hi > 0 ? hi : 0;
  if (scheme === "symmetric") {
    const z = lv.signed ? 0 : 2 ** (lv.bits - 1);
    const m = Math.max(-mn, mx);
    if (m === 0) return { scale: 1, zeroPoint: z };
    // IEEE 754 division is the exact quotient rounded once to nearest-even (subnormals included).
    const scale = m / (lv.qmax - z);
    return { scale: scale === 0 ? Number.MIN_VALUE : scale, zeroPoint: z };
  }
  if (mn === 0 && mx === 0) return { scale: 1, zeroPoint: lv.qmin };
  let scale = differenceQuotient(mx, mn, lv.qmax - lv.qmin);
  if (scale === 0) scale = Number.MIN_VALUE;
  // qmin − roundHalfEven(mn / scale) = qmin + roundHalfEven(−mn / scale) (the rule is odd).
  const zeroPoint = roundQuotient(-mn, scale, "nearest-even", 0, lv.qmin, lv.qmin, lv.qmax);
  return { scale, zeroPoint };
}

/** (a − b) / k for finite a, b and an integer k > 0, computed exactly and rounded once. */
export function differenceQuotient(a: number, b: number, k: number): number {
  const s = a - b;
  if (Number.isFinite(s)) {
    // TwoSum (Knuth): a + (−b) = s + e exactly; e = 0 means s is the exact difference, and
    // then s / k is the exact quotient rounded once (IEEE 754 division).
    const bv = s - a;
    const av = s - bv;
    const e = (a - av) + (-b - bv);
    if (e === 0) return s / k;
  }
  const nb = dyadic(b);
  const d = rationalOf(addDyadic(dyadic(a), { ...nb, neg: !nb.neg }));
  return roundRational(
    { neg: d.neg, num: d.num, den: d.den * BigInt(k) },
    FLOAT64_GRID,
    "nearest-even",
    0,
  );
}

// ---------------------------------------------------------------------------------------------
// Group layouts.

/** Where the scales of a matrix sit: its granularity, resolved. */
export interface Layout {
  readonly granularity: Granularity;
  readonly axis: number;
  readonly groupSize: number;
}

/**
 * The `E_ARG` checks of a layout: `granularity` known; `axis` 0 or 1 for channel (an integer
 * other than 0 or 1 acts as an unknown enum value); `groupSize` an integer for group. Arguments
 * the granularity does not use are ignored.
 */
export function layoutArguments(
  granularity: unknown,
  axis: unknown,
  groupSize: unknown,
  what: string,
): Layout {
  if (!(GRANULARITIES as readonly unknown[]).includes(granularity)) {
    throw argError(
      `Cannot ${what}: granularity must be one of ${GRANULARITIES.join(", ")}, got ${
        JSON.stringify(granularity) ?? "nothing"
      }`,
    );
  }
  const g = granularity as Granularity;
  if (g === "channel") {
    if (axis !== 0 && axis !== 1) {
      throw argError(
        `Cannot ${what}: axis must be 0 (one scale per row) or 1 (per column), got ${
          typeof axis === "number" ? show(axis) : JSON.stringify(axis) ?? "nothing"
        }`,
      );
    }
    return { granularity: g, axis, groupSize: 0 };
  }
  if (g === "group") {
    if (typeof groupSize !== "number" || !Number.isInteger(groupSize)) {
      throw argError(
        `Cannot ${what}: granularity "group" needs an integer groupSize, got ${
          typeof groupSize === "number" ? show(groupSize) : JSON.stringify(groupSize) ?? "nothing"
        }`,
      );
    }
    return { granularity: g, axis: 0, groupSize };
  }
  return { granularity: g, axis: 0, groupSize: 0 };
}

/**
 * The number of scales of a rows×cols matrix, with the `E_SHAPE` check that groupSize divides
 * cols (skipped for groupSize < 1, which is an `E_RANGE` fault reported later by
 * {@linkcode layoutRange}).
 */
export function layoutCount(layout: Layout, rows: number, cols: number, what: string): number {
  switch (layout.granularity) {
    case "tensor":
      return 1;
    case "channel":
      return layout.axis === 0 ? rows : cols;
    case "group": {
      const g = layout.groupSize;
      if (g < 1) return 0;
      if (cols % g !== 0) {
        throw shapeError(`Cannot ${what}: groupSize ${g} does not divide the ${cols} columns`);
      }
      return rows * (cols / g);
    }
  }
}

/** The `E_RANGE` check of a layout: groupSize ≥ 1. */
export function layoutRange(layout: Layout, what: string): void {
  if (layout.granularity === "group" && layout.groupSize < 1) {
    throw rangeError(`Cannot ${what}: groupSize must be ≥ 1, got ${show(layout.groupSize)}`);
  }
}

/**
 * The scale index of every element, row-major: tensor 0; channel axis 0 row i, axis 1 column j;
 * group i·(cols / groupSize) + floor(j / groupSize) (scales ordered row by row).
 */
export function groupIndices(layout: Layout, rows: number, cols: number): Int32Array {
  const index = new Int32Array(rows * cols); // (rows, cols) row-major
  if (layout.granularity === "tensor") return index;
  const perRow = layout.granularity === "group" ? cols / layout.groupSize : 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      index[i * cols + j] = layout.granularity === "channel"
        ? (layout.axis === 0 ? i : j)
        : i * perRow + Math.floor(j / layout.groupSize);
    }
  }
  return index;
}

/** `E_SHAPE` unless a scale/zeroPoint vector has one entry per tensor/channel/group. */
export function checkCount(
  v: ArrayLike<number> | undefined,
  count: number,
  name: string,
  layout: Layout,
  what: string,
): void {
  if (v !== undefined && v.length !== count) {
    const per = layout.granularity === "tensor"
      ? "the tensor"
      : layout.granularity === "channel"
      ? `channel (axis ${layout.axis})`
      : "group";
    throw shapeError(
      `Cannot ${what}: ${name} has ${v.length} entries, expected ${count} (one per ${per})`,
    );
  }
}

/**
 * `E_RANGE` unless every scale is finite and > 0 and, under a float32 profile, stays so once
 * rounded to float32 (and, under `"pytorch"`, so does its float32 reciprocal).
 */
export function checkScales(
  scale: ArrayLike<number>,
  profile: QuantizeProfile,
  what: string,
): void {
  for (let g = 0; g < scale.length; g++) {
    const s = scale[g]!;
    if (!(s > 0 && s < Infinity)) {
      throw rangeError(
        `Cannot ${what}: scale must be finite and > 0, got ${show(s)} (scale[${g}])`,
      );
    }
    if (profile !== "exact") {
      const f = Math.fround(s);
      if (!(f > 0 && f < Infinity) || (profile === "pytorch" && Math.fround(1 / f) === Infinity)) {
        throw rangeError(
          `Cannot ${what}: under profile "${profile}" scale[${g}] = ${show(s)} becomes ${
            show(f)
          } in float32${f > 0 && f < Infinity ? ", whose float32 reciprocal overflows" : ""}`,
        );
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Calibration methods of the TS API (calibrate.ts documents them).

/** How the clipping range is chosen. */
export type CalibrationMethod = "minmax" | "percentile" | "mse";

/** The checked settings of a calibration. */
export interface CalibrationSettings {
  readonly scheme: QuantizeScheme;
  readonly method: CalibrationMethod;
  readonly percentile: number;
  readonly steps: number;
}

/** The `E_ARG` checks of calibration settings (scheme, method, steps an integer). */
export function calibrationArguments(
  options: { scheme?: unknown; method?: unknown; percentile?: unknown; steps?: unknown },
  what: string,
): CalibrationSettings {
  const scheme = options.scheme ?? "symmetric";
  if (scheme !== "symmetric" && scheme !== "asymmetric") {
    throw argError(
      `Cannot ${what}: scheme must be "symmetric" or "asymmetric", got ${JSON.stringify(scheme)}`,
    );
  }
  const method = options.method ?? "minmax";
  if (method !== "minmax" && method !== "percentile" && method !== "mse") {
    throw argError(
      `Cannot ${what}: method must be "minmax", "percentile" or "mse", got ${
        JSON.stringify(method)
      }`,
    );
  }
  const steps = options.steps ?? 100;
  if (typeof steps !== "number" || !Number.isInteger(steps)) {
    throw argError(`Cannot ${what}: steps must be an integer, got ${JSON.stringify(steps)}`);
  }
  const percentile = options.percentile ?? 99.9;
  if (typeof percentile !== "number") {
    throw argError(
      `Cannot ${what}: percentile must be a number, got ${JSON.stringify(percentile)}`,
    );
  }
  return { scheme, method, percentile, steps };
}

/** The `E_RANGE` checks of calibration settings: 0 < percentile ≤ 100, steps ≥ 1. */
export function calibrationRange(c: CalibrationSettings, what: string): void {
  if (c.method === "percentile" && !(c.percentile > 0 && c.percentile <= 100)) {
    throw rangeError(`Cannot ${what}: percentile must be in (0, 100], got ${show(c.percentile)}`);
  }
  if (c.method === "mse" && c.steps < 1) {
    throw rangeError(`Cannot ${what}: steps must be ≥ 1, got ${show(c.steps)}`);
  }
}

/** Calibrates finite values by the chosen method (see `calibrate` in calibrate.ts). */
export function calibrateValues(
  values: ArrayLike<number>,
  lv: Levels,
  c: CalibrationSettings,
): QuantizationParams {
  const { scheme } = c;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (c.method === "minmax") return calibrateMinMax(lo, hi, scheme, lv);
  if (c.method === "percentile") {
    const n = values.length;
    if (n === 0) return calibrateMinMax(0, 0, scheme, lv);
    const k = Math.min(n, Math.max(1, ceilScaled(c.percentile, n, 100)));
    if (scheme === "symmetric") {
      const a = Float64Array.from(values, Math.abs).sort();
      const m = a[k - 1]!;
      return calibrateMinMax(-m, m, scheme, lv);
    }
    const s = Float64Array.from(values).sort();
    return calibrateMinMax(s[n - k]!, s[k - 1]!, scheme, lv);
  }
  // "mse": grid search over the clipping ratios k / steps, the largest first.
  let best = calibrateMinMax(lo, hi, scheme, lv);
  let bestError = squaredError(values, best, lv);
  for (let k = c.steps - 1; k >= 1; k--) {
    const candidate = calibrateMinMax(
      scaledBy(lo, k, c.steps),
      scaledBy(hi, k, c.steps),
      scheme,
      lv,
    );
    const e = squaredError(values, candidate, lv);
    if (e < bestError) {
      best = candidate;
      bestError = e;
    }
  }
  return best;
}

/** ceil(p·n / d) computed exactly (p a finite float64 ≥ 0, n and d positive integers). */
function ceilScaled(p: number, n: number, d: number): number {
  const r = rationalOf(dyadic(p));
  const num = r.num * BigInt(n);
  const den = r.den * BigInt(d);
  return Number((num + den - 1n) / den);
}

/** v·k / steps, exact, rounded once to the nearest float64. */
function scaledBy(v: number, k: number, steps: number): number {
  const r = rationalOf(dyadic(v));
  return roundRational(
    { neg: r.neg, num: r.num * BigInt(k), den: r.den * BigInt(steps) },
    FLOAT64_GRID,
    "nearest-even",
    0,
  );
}

/** Σ (x_i − x̂_i)² as a Neumaier-compensated float64 sum, x̂_i the min/max dequantization. */
function squaredError(values: ArrayLike<number>, p: QuantizationParams, lv: Levels): number {
  let sum = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    const q = roundQuotient(x, p.scale, "nearest-even", 0, p.zeroPoint, lv.qmin, lv.qmax);
    const d = x - (q - p.zeroPoint) * p.scale;
    const term = d * d;
    const t = sum + term;
    c += Math.abs(sum) >= Math.abs(term) ? (sum - t) + term : (term - t) + sum;
    sum = t;
  }
  return sum + c;
}

// ---------------------------------------------------------------------------------------------
// quantize: checks (E_ARG, then E_SHAPE) and computation (E_RANGE, then the levels).

/** The options of quantize, documented where they are public. */
export type QuantizeSettings = QuantizeOptions;

/** Everything quantize checked before touching the data. */
export interface QuantizePlan {
  readonly lv: Levels;
  readonly layout: Layout;
  readonly count: number;
  readonly calibration: CalibrationSettings;
  readonly rounding: RoundingMode;
  readonly profile: QuantizeProfile;
  readonly seed: unknown;
  readonly scale: ArrayLike<number> | undefined;
  readonly zeroPoint: ArrayLike<number> | undefined;
}

const ROUNDINGS: readonly string[] = ["nearest-even", "nearest-away", "toward-zero", "stochastic"];

/**
 * The `E_ARG` then `E_SHAPE` checks of quantize, in the protocol's fault order (the oracle calls
 * `context.checkLimit()` between this and {@linkcode runQuantize}). Arguments the request does
 * not use are not checked: `scheme` and the calibration method when `scale` is given, `axis`
 * and `groupSize` where the granularity does not use them, `seed` without stochastic rounding.
 */
export function planQuantize(
  rows: number,
  cols: number,
  length: number,
  dtype: string,
  options: QuantizeSettings,
): QuantizePlan {
  const what = "quantize";
  // E_ARG.
  const lv = levels(dtype, options.range ?? "full", what);
  const layout = layoutArguments(
    options.granularity ?? "tensor",
    options.axis ?? 0,
    options.groupSize,
    what,
  );
  const calibration: CalibrationSettings = options.scale === undefined
    ? calibrationArguments(options, what)
    : { scheme: "symmetric", method: "minmax", percentile: 100, steps: 1 };
  const rounding = options.rounding ?? "nearest-even";
  if (!ROUNDINGS.includes(rounding)) {
    throw argError(
      `Cannot quantize: rounding must be one of ${ROUNDINGS.join(", ")}, got ${
        JSON.stringify(rounding)
      }`,
    );
  }
  const profile = options.profile ?? "exact";
  if (!(QUANTIZE_PROFILES as readonly string[]).includes(profile)) {
    throw argError(
      `Cannot quantize: profile must be one of ${QUANTIZE_PROFILES.join(", ")}, got ${
        JSON.stringify(profile)
      }`,
    );
  }
  if (profile !== "exact" && rounding !== "nearest-even") {
    throw argError(
      `Cannot quantize: profile "${profile}" rounds half to even; rounding "${rounding}" needs profile "exact"`,
    );
  }
  if (rounding === "stochastic" && !Number.isInteger(options.seed)) {
    throw argError(
      `Cannot quantize: stochastic rounding needs an integer seed, got ${
        typeof options.seed === "number" ? show(options.seed) : JSON.stringify(options.seed) ??
          "nothing"
      }`,
    );
  }
  if (options.zeroPoint !== undefined && options.scale === undefined) {
    throw argError(
      "Cannot quantize: zeroPoint is given without scale; give both, or neither to calibrate",
    );
  }
  // E_SHAPE.
  if (length !== rows * cols) {
    throw shapeError(`Cannot quantize: x has shape [${rows}, ${cols}] but ${length} elements`);
  }
  const count = layoutCount(layout, rows, cols, what);
  if (layout.granularity !== "group" || layout.groupSize >= 1) {
    checkCount(options.scale, count, "scale", layout, what);
    checkCount(options.zeroPoint, count, "zeroPoint", layout, what);
  }
  return {
    lv,
    layout,
    count,
    calibration,
    rounding: rounding as RoundingMode,
    profile: profile as QuantizeProfile,
    seed: options.seed,
    scale: options.scale,
    zeroPoint: options.zeroPoint,
  };
}

/** The result of quantize. */
export interface Quantized {
  readonly q: { readonly rows: number; readonly cols: number; readonly data: Float64Array };
  readonly scale: Float64Array;
  readonly zeroPoint: Float64Array;
}

/**
 * The `E_RANGE` checks (groupSize, seed, x, percentile/steps, scale, zeroPoint, in that order)
 * and the computation of quantize.
 */
export function runQuantize(
  x: { readonly rows: number; readonly cols: number; readonly data: ArrayLike<number> },
  plan: QuantizePlan,
): Quantized {
  const what = "quantize";
  const { lv, layout, count, rounding, profile } = plan;
  const { rows, cols } = x;
  layoutRange(layout, what);
  if (rounding === "stochastic") {
    const seed = plan.seed as number;
    if (!(seed >= 0 && seed < 2 ** 53)) {
      throw rangeError(`Cannot quantize: seed must satisfy 0 ≤ seed < 2^53, got ${show(seed)}`);
    }
  }
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i]!;
    if (!Number.isFinite(v)) {
      throw rangeError(
        `Cannot quantize: x must be finite, got ${show(v)} at (${Math.floor(i / cols)}, ${
          i % cols
        })`,
      );
    }
  }
  const index = groupIndices(layout, rows, cols); // (rows, cols) row-major → scale index
  const scale = new Float64Array(count);
  const zeroPoint = new Float64Array(count);
  if (plan.scale !== undefined) {
    checkScales(plan.scale, profile, what);
    for (let g = 0; g < count; g++) scale[g] = plan.scale[g]!;
    if (plan.zeroPoint !== undefined) {
      for (let g = 0; g < count; g++) {
        const z = plan.zeroPoint[g]!;
        if (!(Number.isInteger(z) && z >= lv.qmin && z <= lv.qmax)) {
          throw rangeError(
            `Cannot quantize: zeroPoint must be an integer in [${lv.qmin}, ${lv.qmax}], got ${
              show(z)
            } (zeroPoint[${g}])`,
          );
        }
        zeroPoint[g] = z + 0;
      }
    }
  } else {
    calibrationRange(plan.calibration, what);
    // Calibration, group by group (oracle-protocol.md "quantize", calibration).
    const members: number[][] = Array.from({ length: count }, () => []);
    for (let i = 0; i < index.length; i++) members[index[i]!]!.push(x.data[i]!);
    for (let g = 0; g < count; g++) {
      const p = calibrateValues(members[g]!, lv, plan.calibration);
      scale[g] = p.scale;
      zeroPoint[g] = p.zeroPoint;
    }
    checkScales(scale, profile, what); // a float32 profile needs a float32-representable scale
  }
  const q = new Float64Array(rows * cols); // (rows, cols) row-major
  const rng = rounding === "stochastic" ? new SplitMix64(plan.seed as number) : null;
  for (let i = 0; i < q.length; i++) {
    const g = index[i]!;
    const s = scale[g]!;
    const z = zeroPoint[g]!;
    const v = x.data[i]!;
    if (profile === "exact") {
      const u = rng === null ? 0 : rng.nextUniform();
      q[i] = roundQuotient(v, s, rounding, u, z, lv.qmin, lv.qmax);
    } else {
      const t = profileQuotient(v, s, profile);
      const n = roundHalfToEven(t) + z;
      q[i] = n < lv.qmin ? lv.qmin : n > lv.qmax ? lv.qmax : n + 0;
    }
  }
  return { q: { rows, cols, data: q }, scale, zeroPoint };
}

/**
 * t of a float32 profile: pytorch `fround(fround(x) · fround(1 / fround(scale)))` (the product
 * of two float32 values is exact in float64, so fround rounds it once); onnx
 * `fround(fround(x) / fround(scale))` (the float64 quotient of float32 values rounded again to
 * float32 is the correctly rounded float32 quotient: 53 ≥ 2·24 + 2, double rounding is
 * innocuous; the same holds for fround(1 / scale)).
 */
export function profileQuotient(x: number, s: number, profile: QuantizeProfile): number {
  const xf = Math.fround(x);
  const sf = Math.fround(s);
  if (profile === "pytorch") return Math.fround(xf * Math.fround(1 / sf));
  return Math.fround(xf / sf);
}
