/**
 * Descriptors of the floating-point number formats: IEEE 754 binary64/32/16, bfloat16, and the
 * OCP 8-bit (v1.0) and Microscaling (v1.0) element formats fp8-e4m3, fp8-e5m2, fp6-e2m3, fp6-e3m2
 * and fp4-e2m1.
 *
 * A format with `exponentBits` E, `mantissaBits` t and `bias` b encodes sign s, biased exponent e
 * and fraction f as (docs/semantics.md, eq. (1)–(2)):
 *
 * - normal (0 < e, and e below the reserved pattern): (−1)^s · (1 + f/2^t) · 2^(e − b)
 * - subnormal (e = 0): (−1)^s · (f/2^t) · 2^(1 − b)
 *
 * The formats differ in what the top exponent pattern means: IEEE-style formats reserve it for
 * infinities and NaNs; OCP fp8-e4m3 keeps it for finite values except S.1111.111 (NaN, no
 * infinities); the fp6 and fp4 formats have neither infinities nor NaN.
 *
 * @module
 */
import { argError, show } from "./_fail.ts";

/** The names of the floating-point formats, as the oracle protocol spells them. */
export const FLOAT_FORMAT_NAMES = [
  "float64",
  "float32",
  "float16",
  "bfloat16",
  "fp8-e4m3",
  "fp8-e5m2",
  "fp6-e2m3",
  "fp6-e3m2",
  "fp4-e2m1",
] as const;

/** A floating-point format name. */
export type FloatFormatName = typeof FLOAT_FORMAT_NAMES[number];

/** How a format spends its top exponent pattern. */
export type SpecialValues =
  /** IEEE 754: exponent all ones is ±Infinity (fraction 0) or NaN (fraction ≠ 0). */
  | "ieee"
  /** OCP fp8-e4m3: only S.1111.111 is NaN; no infinities; the rest of the top binade is finite. */
  | "nan-only"
  /** OCP fp6/fp4: every pattern is a finite number. */
  | "none";

/** Everything that defines a floating-point format. */
export interface FloatFormat {
  /** The protocol's name. */
  readonly name: FloatFormatName;
  /** Total width in bits (sign + exponent + mantissa). */
  readonly bits: number;
  /** Exponent field width E. */
  readonly exponentBits: number;
  /** Stored fraction width t (the precision is t + 1 bits). */
  readonly mantissaBits: number;
  /** Exponent bias b. */
  readonly bias: number;
  /** Smallest normal exponent, emin = 1 − b. */
  readonly emin: number;
  /** Exponent of the top binade that holds finite values. */
  readonly emax: number;
  /** Largest finite value. */
  readonly max: number;
  /** Smallest positive normal value, 2^emin. */
  readonly minNormal: number;
  /** Smallest positive subnormal value, 2^(emin − t). */
  readonly minSubnormal: number;
  /** What the top exponent pattern encodes. */
  readonly specials: SpecialValues;
  /** Whether ±Infinity exist. */
  readonly hasInfinity: boolean;
  /** Whether NaN exists. */
  readonly hasNaN: boolean;
  /** The canonical positive quiet NaN's bits (`null` where there is no NaN). float64 as bigint. */
  readonly canonicalNaN: number | bigint | null;
}

function describe(
  name: FloatFormatName,
  exponentBits: number,
  mantissaBits: number,
  specials: SpecialValues,
  canonicalNaN: number | bigint | null,
): FloatFormat {
  const bias = 2 ** (exponentBits - 1) - 1;
  const emin = 1 - bias;
  const topPattern = 2 ** exponentBits - 1;
  // IEEE formats lose the top pattern to specials; the others keep it for finite values.
  const emax = (specials === "ieee" ? topPattern - 1 : topPattern) - bias;
  // The largest fraction: all ones, except e4m3 whose all-ones fraction at the top is NaN.
  const topFraction = specials === "nan-only" ? 2 ** mantissaBits - 2 : 2 ** mantissaBits - 1;
  const max = (1 + topFraction / 2 ** mantissaBits) * 2 ** emax;
  return {
    name,
    bits: 1 + exponentBits + mantissaBits,
    exponentBits,
    mantissaBits,
    bias,
    emin,
    emax,
    max,
    minNormal: 2 ** emin,
    minSubnormal: 2 ** (emin - mantissaBits),
    specials,
    hasInfinity: specials === "ieee",
    hasNaN: specials !== "none",
    canonicalNaN,
  };
}

/** All floating-point formats by name. */
export const FLOAT_FORMATS: Readonly<Record<FloatFormatName, FloatFormat>> = {
  "float64": describe("float64", 11, 52, "ieee", 0x7ff8000000000000n),
  "float32": describe("float32", 8, 23, "ieee", 0x7fc00000),
  "float16": describe("float16", 5, 10, "ieee", 0x7e00),
  "bfloat16": describe("bfloat16", 8, 7, "ieee", 0x7fc0),
  "fp8-e4m3": describe("fp8-e4m3", 4, 3, "nan-only", 0x7f),
  "fp8-e5m2": describe("fp8-e5m2", 5, 2, "ieee", 0x7e),
  "fp6-e2m3": describe("fp6-e2m3", 2, 3, "none", null),
  "fp6-e3m2": describe("fp6-e3m2", 3, 2, "none", null),
  "fp4-e2m1": describe("fp4-e2m1", 2, 1, "none", null),
};

/**
 * Tells whether a string names a floating-point format.
 *
 * @param name Any string.
 * @returns `true` when `name` is one of {@linkcode FLOAT_FORMAT_NAMES}.
 *
 * @example
 * ```ts
 * import { isFloatFormatName } from "@loraquant/reference/format";
 * import { assert } from "@std/assert";
 *
 * assert(isFloatFormatName("fp8-e4m3"));
 * assert(!isFloatFormatName("float12"));
 * ```
 */
export function isFloatFormatName(name: unknown): name is FloatFormatName {
  return typeof name === "string" && (FLOAT_FORMAT_NAMES as readonly string[]).includes(name);
}

/**
 * Looks a floating-point format up by name.
 *
 * @param name One of {@linkcode FLOAT_FORMAT_NAMES}.
 * @returns The format's descriptor.
 * @throws {LoraquantTypeError} `E_ARG` for an unknown name.
 *
 * @example The largest fp8-e4m3 value
 * ```ts
 * import { floatFormat } from "@loraquant/reference/format";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(floatFormat("fp8-e4m3").max, 448);
 * assertEquals(floatFormat("float16").minSubnormal, 2 ** -24);
 * ```
 */
export function floatFormat(name: string): FloatFormat {
  if (!isFloatFormatName(name)) {
    throw argError(
      `Unknown float format ${JSON.stringify(show_(name))}; expected one of ${
        FLOAT_FORMAT_NAMES.join(", ")
      }`,
    );
  }
  return FLOAT_FORMATS[name];
}

function show_(x: unknown): unknown {
  return typeof x === "number" ? show(x) : x;
}
