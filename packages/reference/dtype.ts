/**
 * The integer data types and the accumulation type each computes in (docs/semantics.md,
 * "Integer arithmetic"), as data a notebook can print.
 *
 * @module
 */
import { argError } from "./_fail.ts";
import type { FloatFormatName } from "./format.ts";

/** The integer dtypes, as the oracle protocol spells them. */
export const INTEGER_DTYPES = [
  "int4",
  "uint4",
  "int8",
  "uint8",
  "int16",
  "uint16",
  "int32",
] as const;

/** An integer dtype. */
export type IntegerDtype = typeof INTEGER_DTYPES[number];

/** The integer accumulators of `matmul` and of `overflow: "widen"`. */
export type IntegerAccumulator = "int16" | "int32" | "int64";

/** Everything that defines an integer dtype. */
export interface IntegerType {
  /** The protocol's name. */
  readonly name: IntegerDtype | IntegerAccumulator;
  /** Width in bits. */
  readonly bits: number;
  /** Two's complement (`true`) or unsigned. */
  readonly signed: boolean;
  /** Smallest value: −2^(bits−1) or 0. */
  readonly min: bigint;
  /** Largest value: 2^(bits−1) − 1 or 2^bits − 1. */
  readonly max: bigint;
}

function integerType(
  name: IntegerDtype | IntegerAccumulator,
  bits: number,
  signed: boolean,
): IntegerType {
  const b = BigInt(bits);
  return {
    name,
    bits,
    signed,
    min: signed ? -(1n << (b - 1n)) : 0n,
    max: signed ? (1n << (b - 1n)) - 1n : (1n << b) - 1n,
  };
}

/** All integer types (the dtypes and the accumulators) by name. */
export const INTEGER_TYPES: Readonly<Record<IntegerDtype | IntegerAccumulator, IntegerType>> = {
  int4: integerType("int4", 4, true),
  uint4: integerType("uint4", 4, false),
  int8: integerType("int8", 8, true),
  uint8: integerType("uint8", 8, false),
  int16: integerType("int16", 16, true),
  uint16: integerType("uint16", 16, false),
  int32: integerType("int32", 32, true),
  int64: integerType("int64", 64, true),
};

/**
 * The accumulation type of each integer dtype under `overflow: "widen"`: int32 for int4, uint4,
 * int8, uint8 and int16; int64 for uint16 and int32 (oracle-protocol.md, "int").
 */
export const INTEGER_ACCUMULATION: Readonly<Record<IntegerDtype, IntegerAccumulator>> = {
  int4: "int32",
  uint4: "int32",
  int8: "int32",
  uint8: "int32",
  int16: "int32",
  uint16: "int64",
  int32: "int64",
};

/** One row of the table of accumulation types: an input format and what it accumulates in. */
export interface AccumulationRule {
  /** The input (storage) format. */
  readonly input: FloatFormatName | IntegerDtype;
  /** The format in which products are summed. */
  readonly accumulate: FloatFormatName | IntegerAccumulator;
  /** Why: where this pairing comes from. */
  readonly why: string;
}

/**
 * The usual accumulation type of each input format in today's kernels: float16 accumulates in
 * float16 (e.g. half-precision HGEMM), bfloat16 in float32 (7 fraction bits cannot accumulate),
 * int16 in int32, int8 in int32 (VNNI, dot4I8Packed, IMMA), fp8 in float32 (Hopper/Blackwell FP8
 * tensor cores), int4 in int32.
 *
 * @example Printing the table
 * ```ts
 * import { ACCUMULATION_TABLE } from "@loraquant/reference/dtype";
 * import { assertEquals } from "@std/assert";
 *
 * const int8 = ACCUMULATION_TABLE.find((row) => row.input === "int8");
 * assertEquals(int8?.accumulate, "int32");
 * ```
 */
export const ACCUMULATION_TABLE: readonly AccumulationRule[] = [
  { input: "float32", accumulate: "float32", why: "SGEMM accumulates in its own format" },
  {
    input: "float16",
    accumulate: "float16",
    why: "HGEMM (half in, half accumulate); many kernels offer float32 accumulation instead",
  },
  {
    input: "bfloat16",
    accumulate: "float32",
    why: "8 bits of precision cannot hold a running sum; tensor cores accumulate bf16 in float32",
  },
  { input: "fp8-e4m3", accumulate: "float32", why: "FP8 tensor cores accumulate in float32" },
  { input: "fp8-e5m2", accumulate: "float32", why: "FP8 tensor cores accumulate in float32" },
  { input: "int16", accumulate: "int32", why: "a 16×16-bit product needs 31 bits" },
  {
    input: "int8",
    accumulate: "int32",
    why: "an 8×8-bit product needs 15 bits; int32 holds 2^17 of them (VNNI, dot4I8Packed)",
  },
  { input: "int4", accumulate: "int32", why: "packed 4-bit dot products accumulate in int32" },
];

/**
 * Tells whether a value names an integer dtype.
 *
 * @param name Anything.
 * @returns `true` for one of {@linkcode INTEGER_DTYPES}.
 *
 * @example
 * ```ts
 * import { isIntegerDtype } from "@loraquant/reference/dtype";
 * import { assert } from "@std/assert";
 *
 * assert(isIntegerDtype("uint4"));
 * assert(!isIntegerDtype("int64"));
 * ```
 */
export function isIntegerDtype(name: unknown): name is IntegerDtype {
  return typeof name === "string" && (INTEGER_DTYPES as readonly string[]).includes(name);
}

/**
 * Looks an integer dtype up.
 *
 * @param name An integer dtype or accumulator name.
 * @returns Its descriptor.
 * @throws {LoraquantTypeError} `E_ARG` for an unknown name.
 *
 * @example int8's range
 * ```ts
 * import { integerDtype } from "@loraquant/reference/dtype";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals([integerDtype("int8").min, integerDtype("int8").max], [-128n, 127n]);
 * ```
 */
export function integerDtype(name: string): IntegerType {
  if (!Object.hasOwn(INTEGER_TYPES, name)) {
    throw argError(
      `Unknown integer dtype ${JSON.stringify(name)}; expected one of ${
        Object.keys(INTEGER_TYPES).join(", ")
      }`,
    );
  }
  return INTEGER_TYPES[name as IntegerDtype];
}
