/**
 * Rounding a float64 to a floating-point format, ONCE, from its exact value; encoding and
 * decoding the formats' bit patterns (docs/semantics.md §3, eq. (3), (5)–(7)).
 *
 * @module
 */
import { argError, rangeError, show } from "./_fail.ts";
import { exponentOf, float64Bits, float64FromBits, pow2, roundMagnitude } from "./_exact.ts";
import { type FloatFormat, floatFormat, type FloatFormatName } from "./format.ts";
import { checkRounding, type RoundingMode } from "./rounding.ts";
import { checkSeed, SplitMix64 } from "./splitmix64.ts";

/** Options of {@linkcode roundToFormat}. */
export interface RoundToFormatOptions {
  /** The rounding rule. @default {"nearest-even"} */
  rounding?: RoundingMode;
  /** Clamp every value beyond ±max (±Infinity included) to ±max (OCP "satfinite"). @default {false} */
  saturate?: boolean;
  /** The stochastic draw u ∈ [0, 1); required when `rounding` is `"stochastic"`. */
  u?: number;
}

/**
 * Rounds one float64 to a format, once, from its exact value (eq. (3)).
 *
 * The value is rounded as if the exponent were unbounded; a result beyond the largest finite
 * magnitude `max` is an overflow (eq. (5)): `toward-zero` gives ±max; the nearest and stochastic
 * rules give ±Infinity where the format has infinities, NaN in fp8-e4m3, ±max in fp6/fp4.
 * `saturate` clamps to ±max instead. Subnormals are kept; a negative value that rounds to zero
 * is −0; an infinite input stays ±Infinity where the format has it (NaN in fp8-e4m3, ±max in
 * fp6/fp4, ±max everywhere under `saturate`); NaN stays NaN.
 *
 * @param x The exact value to round.
 * @param format The target format.
 * @param options Rounding rule, saturation and the stochastic draw.
 * @returns The rounded value, as a float64 (every format's values are float64 values).
 * @throws {LoraquantTypeError} `E_ARG` for an unknown format or rounding rule, or a stochastic
 * rounding without a draw `u` in [0, 1).
 * @throws {LoraquantRangeError} `E_RANGE` for NaN into a format without NaN (fp6, fp4).
 *
 * @example One rounding, no double rounding through float32
 * ```ts
 * import { roundToFormat } from "@loraquant/reference/cast";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(roundToFormat(1 + 2 ** -11 + 2 ** -40, "float16"), 1.0009765625);
 * assertEquals(roundToFormat(Math.fround(1 + 2 ** -11 + 2 ** -40), "float16"), 1);
 * assertEquals(roundToFormat(500, "fp8-e4m3"), NaN);
 * assertEquals(roundToFormat(500, "fp8-e4m3", { saturate: true }), 448);
 * ```
 */
export function roundToFormat(
  x: number,
  format: FloatFormatName,
  options: RoundToFormatOptions = {},
): number {
  const f = floatFormat(format);
  const rounding = checkRounding(options.rounding ?? "nearest-even");
  const u = options.u ?? 0;
  if (rounding === "stochastic" && (options.u === undefined || !(u >= 0 && u < 1))) {
    throw argError(`Stochastic rounding needs a draw u in [0, 1), got ${show(options.u ?? NaN)}`);
  }
  return roundValue(x, f, rounding, options.saturate ?? false, u);
}

/** The rounding of eq. (3) and (5) on a checked format; `u` is the stochastic draw. */
export function roundValue(
  x: number,
  f: FloatFormat,
  rounding: RoundingMode,
  saturate: boolean,
  u: number,
): number {
  if (Number.isNaN(x)) {
    if (!f.hasNaN) throw rangeError(`Cannot cast NaN to ${f.name}: the format has no NaN`);
    return NaN;
  }
  const negative = x < 0 || Object.is(x, -0);
  if (!Number.isFinite(x)) {
    if (saturate) return negative ? -f.max : f.max;
    if (f.hasInfinity) return x;
    if (f.hasNaN) return NaN;
    return negative ? -f.max : f.max;
  }
  if (f.name === "float64") return x;
  const magnitude = roundMagnitude(Math.abs(x), f, rounding, u, negative);
  let y = magnitude;
  if (magnitude > f.max) {
    if (saturate || rounding === "toward-zero" || !f.hasNaN) y = f.max;
    else if (f.hasInfinity) y = Infinity;
    else y = NaN; // fp8-e4m3: no infinities
  }
  return negative ? -y : y;
}

/** Options of {@linkcode cast}. */
export interface CastOptions {
  /** The rounding rule. @default {"nearest-even"} */
  rounding?: RoundingMode;
  /** Seed of the SplitMix64 draws, required for `"stochastic"`: an integer in [0, 2^53). */
  seed?: number;
  /** Clamp values beyond ±max to ±max. @default {false} */
  saturate?: boolean;
}

/**
 * Rounds every element of a vector to a format (the oracle's `cast`), each once from its exact
 * float64 value, as {@linkcode roundToFormat} does. Stochastic rounding takes one SplitMix64
 * draw per element, in order, also for elements that need no rounding.
 *
 * @param x The values.
 * @param format The target format.
 * @param options Rounding rule, seed and saturation.
 * @returns A new vector of the rounded values.
 * @throws {LoraquantTypeError} `E_ARG` for an unknown format or rule, a missing or non-integer seed.
 * @throws {LoraquantRangeError} `E_RANGE` for a seed outside [0, 2^53) or NaN into fp6/fp4.
 *
 * @example Stochastic rounding is reproducible from its seed
 * ```ts
 * import { cast } from "@loraquant/reference/cast";
 * import { assertEquals } from "@std/assert";
 *
 * const y = cast([0.1, 0.1], "float16", { rounding: "stochastic", seed: 42 });
 * assertEquals(y, cast([0.1, 0.1], "float16", { rounding: "stochastic", seed: 42 }));
 * assertEquals([...cast([65519.99, 65520], "float16")], [65504, Infinity]);
 * ```
 */
export function cast(
  x: ArrayLike<number>,
  format: FloatFormatName,
  options: CastOptions = {},
): Float64Array {
  const f = floatFormat(format);
  const rounding = checkRounding(options.rounding ?? "nearest-even");
  const saturate = options.saturate ?? false;
  const rng = rounding === "stochastic" ? new SplitMix64(checkSeed(options.seed)) : null;
  if (!f.hasNaN) {
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i])) {
        throw rangeError(`Cannot cast x[${i}] = NaN to ${f.name}: the format has no NaN`);
      }
    }
  }
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const u = rng === null ? 0 : rng.nextUniform();
    y[i] = roundValue(x[i]!, f, rounding, saturate, u);
  }
  return y;
}

/**
 * Encodes a value of a format as its bit pattern (eq. (1)–(2)). NaN gives the format's canonical
 * quiet NaN (positive). float64 patterns are returned as bigint, the others as numbers.
 *
 * @param x A value representable in the format (round it first with {@linkcode roundToFormat}).
 * @param format The format.
 * @returns The unsigned bit pattern.
 * @throws {LoraquantTypeError} `E_ARG` for an unknown format.
 * @throws {LoraquantRangeError} `E_RANGE` when x is not exactly representable.
 *
 * @example float16 one and bfloat16 infinity
 * ```ts
 * import { encode } from "@loraquant/reference/cast";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(encode(1, "float16"), 0x3c00);
 * assertEquals(encode(-Infinity, "bfloat16"), 0xff80);
 * assertEquals(encode(0.1, "float64"), 0x3fb999999999999an);
 * ```
 */
export function encode(x: number, format: "float64"): bigint;
/**
 * Encodes a value of a narrower format as its bit pattern (a number).
 *
 * @param x A value representable in the format.
 * @param format The format.
 * @returns The unsigned bit pattern.
 */
export function encode(x: number, format: Exclude<FloatFormatName, "float64">): number;
/**
 * Encodes a value of any format as its bit pattern (bigint for float64, number otherwise).
 *
 * @param x A value representable in the format.
 * @param format The format.
 * @returns The unsigned bit pattern.
 */
export function encode(x: number, format: FloatFormatName): number | bigint;
export function encode(x: number, format: FloatFormatName): number | bigint {
  const f = floatFormat(format);
  if (f.name === "float64") {
    return Number.isNaN(x) ? (f.canonicalNaN as bigint) : float64Bits(x);
  }
  const t = f.mantissaBits;
  const signBit = x < 0 || Object.is(x, -0) ? 2 ** (f.bits - 1) : 0;
  if (Number.isNaN(x)) {
    if (f.canonicalNaN === null) throw rangeError(`${f.name} has no NaN to encode`);
    return f.canonicalNaN as number;
  }
  const a = Math.abs(x);
  if (a === Infinity) {
    if (!f.hasInfinity) throw rangeError(`${f.name} has no infinities; cannot encode ${show(x)}`);
    return signBit + (2 ** f.exponentBits - 1) * 2 ** t;
  }
  if (a === 0) return signBit;
  if (a > f.max) throw rangeError(`Cannot encode ${show(x)} in ${f.name}: above max ${f.max}`);
  const e = Math.max(exponentOf(a), f.emin);
  const significand = a * pow2(t - e); // an integer if x is representable
  if (!Number.isInteger(significand)) {
    throw rangeError(`Cannot encode ${show(x)} in ${f.name}: not representable; round it first`);
  }
  // Subnormal (significand < 2^t, biased exponent 0) or normal (hidden bit 2^t removed).
  const biased = significand < 2 ** t ? 0 : e + f.bias;
  const fraction = significand < 2 ** t ? significand : significand - 2 ** t;
  return signBit + biased * 2 ** t + fraction;
}

/**
 * Decodes a bit pattern of a format (eq. (1)–(2)).
 *
 * @param bits The unsigned pattern: an integer in [0, 2^bits); float64 takes a bigint or number.
 * @param format The format.
 * @returns The value it encodes (NaN for every NaN pattern).
 * @throws {LoraquantTypeError} `E_ARG` for an unknown format or a non-integer pattern.
 * @throws {LoraquantRangeError} `E_RANGE` for a pattern wider than the format.
 *
 * @example
 * ```ts
 * import { decode } from "@loraquant/reference/cast";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(decode(0x3c00, "float16"), 1);
 * assertEquals(decode(0x7e, "fp8-e4m3"), 448);
 * assertEquals(decode(0x7f, "fp8-e4m3"), NaN);
 * assertEquals(decode(0x1f, "fp6-e2m3"), 7.5);
 * assertEquals(decode(0x3f, "fp6-e2m3"), -7.5);
 * ```
 */
export function decode(bits: number | bigint, format: FloatFormatName): number {
  const f = floatFormat(format);
  if (typeof bits === "bigint" ? bits < 0n : !Number.isInteger(bits)) {
    throw argError(`bits must be an unsigned integer pattern, got ${show(bits)}`);
  }
  const limit = 2n ** BigInt(f.bits);
  const wide = BigInt(bits);
  if (wide < 0n || wide >= limit) {
    throw rangeError(`bits ${show(bits)} do not fit ${f.name}'s ${f.bits} bits`);
  }
  if (f.name === "float64") return float64FromBits(wide);
  const p = Number(wide);
  const t = f.mantissaBits;
  const negative = p >= 2 ** (f.bits - 1);
  const biased = Math.floor((p % 2 ** (f.bits - 1)) / 2 ** t);
  const fraction = p % 2 ** t;
  const top = 2 ** f.exponentBits - 1;
  let a: number;
  if (f.specials === "ieee" && biased === top) a = fraction === 0 ? Infinity : NaN;
  else if (f.specials === "nan-only" && biased === top && fraction === 2 ** t - 1) a = NaN;
  else if (biased === 0) a = fraction * pow2(f.emin - t);
  else a = (2 ** t + fraction) * pow2(biased - f.bias - t);
  return negative ? -a : a;
}
