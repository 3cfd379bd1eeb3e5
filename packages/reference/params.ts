/**
 * Counting the parameters and the memory of full fine-tuning and of LoRA for given layer
 * shapes (docs/lora.md eq. (5)–(7)): a layer W (out×in) has out·in weights; its LoRA adapter
 * A (r×in), B (out×r) has r·(out + in).
 *
 * @module
 */
import { argError, rangeError, show } from "./_fail.ts";
import { FLOAT64_GRID, roundRational } from "./_exact.ts";

/** The result of {@linkcode countParameters}. */
export interface ParameterCount {
  /** Σ out·in, exact. */
  full: bigint;
  /** Σ rank·(out + in), exact. */
  lora: bigint;
  /** lora/full, the exact quotient rounded once to the nearest float64 (ties to even). */
  ratio: number;
}

/**
 * Counts trainable parameters: full fine-tuning (every weight) against LoRA of rank `rank` on
 * every layer (docs/lora.md eq. (5)). Counts are exact bigints; the ratio is rounded once.
 *
 * @param shapes The layers' `[out, in]`, positive integers, at least one.
 * @param rank The LoRA rank, an integer with 1 ≤ rank ≤ min(out, in) for every layer.
 * @returns full, lora and ratio.
 * @throws {LoraquantTypeError} `E_ARG` when shapes is empty or a dimension or the rank is not an
 * integer.
 * @throws {LoraquantRangeError} `E_RANGE` when a dimension is < 1 or the rank is outside
 * [1, min(out, in)].
 *
 * @example The 7B example: one 4096×4096 projection at rank 8 (oracle example ex19)
 * ```ts
 * import { countParameters } from "@loraquant/reference/params";
 * import { assertEquals } from "@std/assert";
 *
 * const { full, lora, ratio } = countParameters([[4096, 4096]], 8);
 * assertEquals([full, lora, ratio], [16777216n, 65536n, 0.00390625]);
 * ```
 */
export function countParameters(
  shapes: readonly (readonly [number, number])[],
  rank: number,
): ParameterCount {
  if (shapes.length === 0) throw argError("Cannot count parameters: shapes is empty");
  if (!Number.isInteger(rank)) throw argError(`rank must be an integer, got ${show(rank)}`);
  for (const [i, [out, inputs]] of shapes.entries()) {
    if (!Number.isInteger(out) || !Number.isInteger(inputs)) {
      throw argError(`shapes[${i}] must hold integers, got [${show(out)}, ${show(inputs)}]`);
    }
  }
  let full = 0n;
  let lora = 0n;
  for (const [i, [out, inputs]] of shapes.entries()) {
    if (out < 1 || inputs < 1) {
      throw rangeError(`shapes[${i}] = [${out}, ${inputs}]: dimensions must be ≥ 1`);
    }
    if (rank < 1 || rank > Math.min(out, inputs)) {
      throw rangeError(
        `rank must satisfy 1 ≤ rank ≤ min(out, in) = ${
          Math.min(out, inputs)
        } for shapes[${i}], got ${rank}`,
      );
    }
    full += BigInt(out) * BigInt(inputs); // eq. (5)
    lora += BigInt(rank) * (BigInt(out) + BigInt(inputs)); // eq. (6)
  }
  const ratio = roundRational(
    { neg: false, num: lora, den: full },
    FLOAT64_GRID,
    "nearest-even",
    0,
  );
  return { full, lora, ratio };
}

/** Bits per stored value of the number formats {@linkcode memoryBytes} knows. */
export const BITS_PER_VALUE: Readonly<Record<string, number>> = {
  "float64": 64,
  "float32": 32,
  "float16": 16,
  "bfloat16": 16,
  "fp8-e4m3": 8,
  "fp8-e5m2": 8,
  "fp6-e2m3": 6,
  "fp6-e3m2": 6,
  "fp4-e2m1": 4,
  "int8": 8,
  "uint8": 8,
  "int4": 4,
  "uint4": 4,
};

/**
 * The bytes that `count` values take in a number format, packed densely (eq. (7)):
 * ceil(count·bits/8). Block scales of block formats are not included.
 *
 * @param count A number of parameters (bigint, ≥ 0).
 * @param format A key of {@linkcode BITS_PER_VALUE}.
 * @returns The bytes, exact.
 * @throws {LoraquantTypeError} `E_ARG` for an unknown format.
 * @throws {LoraquantRangeError} `E_RANGE` for a negative count.
 *
 * @example 16,777,216 weights in bfloat16 take 32 MiB; in fp4 8 MiB
 * ```ts
 * import { memoryBytes } from "@loraquant/reference/params";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(memoryBytes(16777216n, "bfloat16"), 33554432n);
 * assertEquals(memoryBytes(16777216n, "fp4-e2m1"), 8388608n);
 * ```
 */
export function memoryBytes(count: bigint, format: string): bigint {
  const bits = BITS_PER_VALUE[format];
  if (bits === undefined || !Object.hasOwn(BITS_PER_VALUE, format)) {
    throw argError(
      `format must be one of ${Object.keys(BITS_PER_VALUE).join(", ")}, got ${
        JSON.stringify(format)
      }`,
    );
  }
  if (count < 0n) throw rangeError(`count must be ≥ 0, got ${count}`);
  return (count * BigInt(bits) + 7n) / 8n;
}

/**
 * LLaMA-7B's linear projections (Touvron et al. 2023; hidden size 4096, MLP 11008, 32 layers):
 * per layer q, k, v, o (4096×4096), gate and up (11008×4096), down (4096×11008), as [out, in];
 * 32·7 = 224 entries.
 */
export const LLAMA_7B_SHAPES: readonly (readonly [number, number])[] = Array.from(
  { length: 32 },
  () =>
    [
      [4096, 4096],
      [4096, 4096],
      [4096, 4096],
      [4096, 4096],
      [11008, 4096],
      [11008, 4096],
      [4096, 11008],
    ] as const,
).flat();

/** One row of {@linkcode parameterTable}. */
export interface ParameterRow {
  /** The LoRA rank. */
  rank: number;
  /** Trainable LoRA parameters, exact. */
  lora: bigint;
  /** All weights of the layers, exact. */
  full: bigint;
  /** lora/full rounded once. */
  ratio: number;
  /** Bytes of the LoRA parameters per format name (ceil to whole bytes). */
  loraBytes: Record<string, bigint>;
  /** Bytes of the frozen full weights per format name. */
  fullBytes: Record<string, bigint>;
}

/**
 * The parameter and memory table of LoRA on the given layers at each rank.
 *
 * @param shapes The layers' `[out, in]` (e.g. {@linkcode LLAMA_7B_SHAPES}).
 * @param options `ranks` (@default 1, 2, 4, 8, 16, 32, 64) and `formats` (@default float32,
 * bfloat16, fp8-e4m3, fp4-e2m1).
 * @returns One row per rank.
 * @throws {LoraquantTypeError} `E_ARG` as {@linkcode countParameters} and {@linkcode memoryBytes}.
 * @throws {LoraquantRangeError} `E_RANGE` as {@linkcode countParameters}.
 *
 * @example LLaMA-7B's projections hold 6,476,005,376 weights; rank 8 trains 19,988,480
 * ```ts
 * import { LLAMA_7B_SHAPES, parameterTable } from "@loraquant/reference/params";
 * import { assertEquals } from "@std/assert";
 *
 * const [row] = parameterTable(LLAMA_7B_SHAPES, { ranks: [8] });
 * assertEquals(row!.full, 6476005376n);
 * assertEquals(row!.lora, 19988480n);
 * ```
 */
export function parameterTable(
  shapes: readonly (readonly [number, number])[],
  options: { ranks?: readonly number[]; formats?: readonly string[] } = {},
): ParameterRow[] {
  const ranks = options.ranks ?? [1, 2, 4, 8, 16, 32, 64];
  const formats = options.formats ?? ["float32", "bfloat16", "fp8-e4m3", "fp4-e2m1"];
  return ranks.map((rank) => {
    const { full, lora, ratio } = countParameters(shapes, rank);
    const loraBytes: Record<string, bigint> = {};
    const fullBytes: Record<string, bigint> = {};
    for (const f of formats) {
      loraBytes[f] = memoryBytes(lora, f);
      fullBytes[f] = memoryBytes(full, f);
    }
    return { rank, lora, full, ratio, loraBytes, fullBytes };
  });
}
