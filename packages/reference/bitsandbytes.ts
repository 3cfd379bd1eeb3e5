/**
 * bitsandbytes 4-bit block formats NF4 and FP4 with a float32 absmax per block (QLoRA), and the
 * double quantization of the absmax values (`compress_statistics=True`)
 * (oracle-protocol.md "block"; docs/semantics.md §7.2, eq. (24)).
 *
 * The code books are the float32 tables of bitsandbytes' `csrc/kernels.cu`
 * (`nf4_dequantization_lut`, `fp4_dequantization_lut`, the same values as
 * `bitsandbytes.functional.get_4bit_type("nf4" | "fp4")` and the `dDequantizeNF4` /
 * `dDequantizeFP4Tree` decision trees).
 *
 * @module
 */
import { argError, show } from "./_fail.ts";
import { checkBlockLength, float32Inputs, nearestIndex } from "./_block.ts";
import { addDyadic, type Dyadic, dyadic, roundRational } from "./_exact.ts";
import { encode } from "./cast.ts";

/** The bitsandbytes 4-bit formats, as the oracle protocol spells them. */
export const BITSANDBYTES_FORMATS = ["nf4", "fp4-bnb"] as const;

/** A bitsandbytes 4-bit format name. */
export type BitsandbytesFormat = typeof BITSANDBYTES_FORMATS[number];

/** The block sizes bitsandbytes' 4-bit quantization accepts; 64 is the default. */
export const BITSANDBYTES_BLOCK_SIZES: readonly number[] = [
  32,
  64,
  128,
  256,
  512,
  1024,
  2048,
  4096,
];

const f32 = Math.fround;

/**
 * The NF4 code book: code i ↦ NF4_CODE[i], 16 float32 values ascending from −1 to 1
 * (bitsandbytes `csrc/kernels.cu` `nf4_dequantization_lut`, QLoRA's NormalFloat4).
 */
export const NF4_CODE: readonly number[] = [
  -1.0,
  -0.6961928009986877,
  -0.5250730514526367,
  -0.39491748809814453,
  -0.28444138169288635,
  -0.18477343022823334,
  -0.09105003625154495,
  0.0,
  0.07958029955625534,
  0.16093020141124725,
  0.24611230194568634,
  0.33791524171829224,
  0.44070982933044434,
  0.5626170039176941,
  0.7229568362236023,
  1.0,
].map(f32);

/**
 * The FP4 code book of bitsandbytes (`fp4-bnb`): code i ↦ FP4_BNB_CODE[i], float32 values. Codes
 * 0..7 are `fp4_dequantization_lut` of bitsandbytes `csrc/kernels.cu` (0, 0.005208333333f,
 * 0.66666667f, 1, 0.33333333f, 0.5, 0.16666667f, 0.25 — an e2m1 layout normalised by 12 so the
 * largest is 1); codes 8..15 are their negatives (bit 3 is the sign, as in `dDequantizeFP4Tree`,
 * so code 8 is −0).
 */
export const FP4_BNB_CODE: readonly number[] = (() => {
  const positive = [0, 0.005208333333, 0.66666667, 1.0, 0.33333333, 0.5, 0.16666667, 0.25].map(f32);
  return [...positive, ...positive.map((v) => -v)];
})();

/** Options of {@linkcode quantizeBitsandbytes}. */
export interface BitsandbytesOptions {
  /** Elements per absmax block: one of {@linkcode BITSANDBYTES_BLOCK_SIZES}. @default {64} */
  blockSize?: number;
  /**
   * Also quantize the absmax values as bitsandbytes' `compress_statistics=True` does (QLoRA's
   * double quantization); see {@linkcode BitsandbytesDoubleQuantization}. @default {false}
   */
  doubleQuant?: boolean;
}

/** One quantized bitsandbytes block. */
export interface BitsandbytesBlock {
  /** The block's absmax (a float32 value). */
  scale: number;
  /** The float32 bits of the absmax. */
  scaleBits: number;
  /** One 4-bit code (0..15) per element, in element order (not packed). */
  codes: number[];
}

/**
 * The double quantization of the absmax values (bitsandbytes `quantize_4bit` with
 * `compress_statistics=True`): `offset = mean(absmax)`, then `absmax − offset` is quantized with
 * `quantize_blockwise(…, blocksize=256)`: 8-bit codes into the signed dynamic map
 * {@linkcode DYNAMIC_MAP}, one float32 absmax per group of 256 absmax values.
 */
export interface BitsandbytesDoubleQuantization {
  /** The mean of the block absmax values, exact and rounded once to float32. */
  offset: number;
  /** The group size of the second quantization: 256 absmax values. */
  blockSize: number;
  /** Per group of 256 (the last may be shorter): max |absmax − offset|, float32. */
  absmax: number[];
  /** Per 4-bit block: the index of its `absmax − offset` in {@linkcode DYNAMIC_MAP}. */
  codes: number[];
  /** Per 4-bit block: the absmax as dequantized, `fround(fround(map[code]·absmax₂) + offset)`. */
  scales: number[];
  /** The vector dequantized with those absmax values: `fround(value·scale)`. */
  y: Float64Array;
}

/** The result of {@linkcode quantizeBitsandbytes}. */
export interface BitsandbytesQuantization {
  /** The blocks, in order. */
  blocks: BitsandbytesBlock[];
  /** The dequantized vector `fround(value[code]·absmax)`, float32 values. */
  y: Float64Array;
  /** Present when `doubleQuant` is true. */
  doubleQuant?: BitsandbytesDoubleQuantization;
}

/** The code book of a format sorted by value, each value with its lowest code index. */
interface SortedCode {
  values: number[];
  codes: number[];
}

function sortCode(table: readonly number[]): SortedCode {
  const entries: { value: number; code: number }[] = [];
  table.forEach((value, code) => {
    // Equal values (+0 and −0 in fp4-bnb) keep the lowest code index.
    if (!entries.some((e) => e.value === value)) entries.push({ value, code });
  });
  entries.sort((a, b) => a.value - b.value);
  return { values: entries.map((e) => e.value), codes: entries.map((e) => e.code) };
}

const SORTED: Record<BitsandbytesFormat, SortedCode> = {
  "nf4": sortCode(NF4_CODE),
  "fp4-bnb": sortCode(FP4_BNB_CODE),
};

const TABLE: Record<BitsandbytesFormat, readonly number[]> = {
  "nf4": NF4_CODE,
  "fp4-bnb": FP4_BNB_CODE,
};

/** `1e-38f`, the floor bitsandbytes puts under absmax before taking its reciprocal. */
const ABSMAX_FLOOR = f32(1e-38);

/** float32 bits of a float32 value. */
function float32Bits(x: number): number {
  return encode(x, "float32");
}

/**
 * Quantizes a vector to bitsandbytes' NF4 or FP4 4-bit format with one float32 absmax per block
 * (oracle-protocol.md "block"), and dequantizes it.
 *
 * Per block of float32 values v: `absmax = max|v|` (float32, exact);
 * `s = clamp(fround(v · fround(1 / max(absmax, 1e-38f))), −1, 1)`; the code is the index of the
 * code-book value nearest to s by exact distance, an exact midpoint going to the LOWER value and
 * equal values (+0 and −0 of fp4-bnb) to the lower code index; `y = fround(value · absmax)`
 * (one float32 rounding). `scale` is absmax, `scaleBits` its float32 bits.
 *
 * @param x The values; each is first rounded to float32 (nearest-even).
 * @param format `"nf4"` or `"fp4-bnb"`.
 * @param options `blockSize` (default 64) and `doubleQuant` (default false).
 * @returns The blocks, the dequantized vector and, with `doubleQuant`, the double quantization.
 * @throws {LoraquantTypeError} `E_ARG` for an unknown format or a block size outside
 * {@linkcode BITSANDBYTES_BLOCK_SIZES}; `E_SHAPE` when the length is not a multiple of it.
 * @throws {LoraquantRangeError} `E_RANGE` when an input is NaN, infinite, or beyond float32's range.
 *
 * @example NF4 maps the block's absmax to code 15 and zero to code 7
 * ```ts
 * import { NF4_CODE, quantizeBitsandbytes } from "@loraquant/reference/bitsandbytes";
 * import { assertEquals } from "@std/assert";
 *
 * const x = new Array(32).fill(0);
 * x[0] = 4;
 * x[1] = -4;
 * x[2] = 4 * NF4_CODE[12]!; // a code-book value times absmax maps to itself
 * const { blocks, y } = quantizeBitsandbytes(x, "nf4", { blockSize: 32 });
 * assertEquals(blocks[0]!.scale, 4);
 * assertEquals(blocks[0]!.codes.slice(0, 4), [15, 0, 12, 7]);
 * assertEquals([...y.slice(0, 2)], [4, -4]);
 * ```
 */
export function quantizeBitsandbytes(
  x: ArrayLike<number>,
  format: BitsandbytesFormat,
  options: BitsandbytesOptions = {},
): BitsandbytesQuantization {
  if (!(BITSANDBYTES_FORMATS as readonly string[]).includes(format)) {
    throw argError(
      `Unknown bitsandbytes format ${
        JSON.stringify(typeof format === "number" ? show(format) : format)
      }; expected one of ${BITSANDBYTES_FORMATS.join(", ")}`,
    );
  }
  const blockSize = options.blockSize ?? 64;
  if (!BITSANDBYTES_BLOCK_SIZES.includes(blockSize)) {
    throw argError(
      `Cannot quantize to ${format}: blockSize must be one of ${
        BITSANDBYTES_BLOCK_SIZES.join(", ")
      }, got ${show(blockSize)}`,
    );
  }
  checkBlockLength(x.length, blockSize, format);
  const v = float32Inputs(x, format, false); // (n) float32 inputs
  const table = TABLE[format];
  const sorted = SORTED[format];
  const blocks: BitsandbytesBlock[] = [];
  const y = new Float64Array(v.length); // (n)
  for (let start = 0; start < v.length; start += blockSize) {
    const block = v.subarray(start, start + blockSize); // (blockSize)
    let absmax = 0;
    for (const value of block) absmax = Math.max(absmax, Math.abs(value));
    const inverse = f32(1 / Math.max(absmax, ABSMAX_FLOOR));
    const codes = Array.from(block, (value) => {
      const s = Math.min(1, Math.max(-1, f32(value * inverse)));
      return sorted.codes[nearestIndex(s, sorted.values)]!;
    });
    codes.forEach((code, j) => {
      y[start + j] = f32(table[code]! * absmax); // exact product of two float32, rounded once
    });
    blocks.push({ scale: absmax, scaleBits: float32Bits(absmax), codes });
  }
  const result: BitsandbytesQuantization = { blocks, y };
  if (options.doubleQuant ?? false) {
    result.doubleQuant = doubleQuantize(blocks.map((b) => b.scale), blocks, table, blockSize);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Double quantization (bitsandbytes functional.py `quantize_4bit(compress_statistics=True)`).

/**
 * `torch.linspace(start, end, steps)` in float32 as PyTorch's CPU kernel computes each element:
 * `step = (end − start)/(steps − 1)`, element i `start + step·i` below `steps/2` and
 * `end − step·(steps − 1 − i)` from there, each operation rounded to float32.
 */
function linspaceFloat32(start: number, end: number, steps: number): number[] {
  const a = f32(start);
  const b = f32(end);
  const step = f32(f32(b - a) / (steps - 1));
  const half = Math.floor(steps / 2);
  return Array.from(
    { length: steps },
    (_, i) => i < half ? f32(a + f32(step * i)) : f32(b - f32(step * (steps - 1 - i))),
  );
}

/**
 * The signed dynamic 8-bit map of bitsandbytes (`create_dynamic_map(signed=True,
 * max_exponent_bits=7, total_bits=8)` in `bitsandbytes/functional.py`), 256 float32 values
 * ascending: for i = 0..6, the means of consecutive points of `linspace(0.1, 1, 2^i + 1)` times
 * ±10^(i − 6), then 0 and 1. Computed as PyTorch's float32 steps compute it (see
 * `linspaceFloat32`; the scalar 10^(i − 6) is rounded to float32 before the product).
 */
export const DYNAMIC_MAP: readonly number[] = (() => {
  const data: number[] = [];
  for (let i = 0; i < 7; i++) {
    const boundaries = linspaceFloat32(0.1, 1, 2 ** i + 1);
    const means = boundaries.slice(0, -1).map((b, k) => f32(f32(b + boundaries[k + 1]!) / 2));
    const power = f32(10 ** (i - 6));
    data.push(...means.map((m) => f32(power * m)));
    data.push(...means.map((m) => f32(-power * m)));
  }
  data.push(0, 1);
  return data.sort((p, q) => p - q);
})();

/** The exact mean of float32 values, rounded once to float32 (nearest-even). */
function meanFloat32(values: readonly number[]): number {
  let sum: Dyadic = { neg: false, mant: 0n, exp: 0 };
  for (const value of values) sum = addDyadic(sum, dyadic(value));
  const num = sum.exp >= 0 ? sum.mant << BigInt(sum.exp) : sum.mant;
  const den = (sum.exp >= 0 ? 1n : 1n << BigInt(-sum.exp)) * BigInt(values.length);
  return roundRational(
    { neg: sum.neg, num, den },
    { mantissaBits: 23, emin: -126 },
    "nearest-even",
    0,
  );
}

function doubleQuantize(
  absmax: number[],
  blocks: BitsandbytesBlock[],
  table: readonly number[],
  blockSize: number,
): BitsandbytesDoubleQuantization {
  const group = 256;
  const offset = absmax.length === 0 ? 0 : meanFloat32(absmax);
  const centred = absmax.map((a) => f32(a - offset)); // absmax -= offset (float32)
  const groupMax: number[] = [];
  const codes: number[] = [];
  const scales: number[] = [];
  for (let start = 0; start < centred.length; start += group) {
    const part = centred.slice(start, start + group);
    const amax = part.reduce((m, a) => Math.max(m, Math.abs(a)), 0);
    groupMax.push(amax);
    // kQuantizeBlockwise: s = a · (1/absmax) in float32; an all-zero group (absmax 0) maps to 0.
    const inverse = amax === 0 ? 0 : f32(1 / amax);
    for (const a of part) {
      const s = Math.min(1, Math.max(DYNAMIC_MAP[0]!, f32(a * inverse)));
      const code = nearestIndex(s, DYNAMIC_MAP);
      codes.push(code);
      // dequantize_blockwise (code·absmax in float32), then `absmax += offset` (float32).
      scales.push(f32(f32(DYNAMIC_MAP[code]! * amax) + offset));
    }
  }
  const y = new Float64Array(blocks.length * blockSize);
  blocks.forEach((block, b) => {
    block.codes.forEach((code, j) => {
      y[b * blockSize + j] = f32(table[code]! * scales[b]!);
    });
  });
  return { offset, blockSize: group, absmax: groupMax, codes, scales, y };
}
