/**
 * llama.cpp / ggml block formats q8_0, q4_0 and q4_1, bit for bit (oracle-protocol.md "block";
 * docs/semantics.md §7.1, eq. (21)–(23)).
 *
 * This is a TypeScript re-derivation of `quantize_row_q8_0_ref`, `quantize_row_q4_0_ref`,
 * `quantize_row_q4_1_ref` and `dequantize_row_q8_0/q4_0/q4_1` of llama.cpp's
 * `ggml/src/ggml-quants.c`, including their float32 arithmetic: every C `float` operation is
 * emulated by one `Math.fround` of the exact float64 result (for +, −, ×, ÷ of float32 values the
 * float64 result rounded to float32 is the correctly rounded float32 result, since 53 ≥ 2·24 + 2),
 * and the float16 scale `GGML_FP32_TO_FP16` rounds to nearest-even (F16C `_cvtss_sh` / the
 * software fallback), overflowing to ±Infinity.
 *
 * @module
 */
import { argError, show } from "./_fail.ts";
import { checkBlockLength, float32Inputs } from "./_block.ts";
import { encode, roundToFormat } from "./cast.ts";
import { roundHalfAwayFromZero } from "./rounding.ts";

/** The ggml block formats, as the oracle protocol spells them. */
export const GGML_FORMATS = ["q8_0", "q4_0", "q4_1"] as const;

/** A ggml block format name. */
export type GgmlFormat = typeof GGML_FORMATS[number];

/** The block size of q8_0, q4_0 and q4_1 (`QK8_0`, `QK4_0`, `QK4_1`): 32 elements. */
export const GGML_BLOCK_SIZE = 32;

/** One quantized ggml block. */
export interface GgmlBlock {
  /** The scale `d` as stored: a float16 value. */
  scale: number;
  /** The float16 bits of `d`. */
  scaleBits: number;
  /** One code per element in element order (not packed): int8 for q8_0, nibbles 0..15 for q4. */
  codes: number[];
  /** q4_1 only: the block minimum `m` as stored, a float16 value. */
  min?: number;
  /** q4_1 only: the float16 bits of `m`. */
  minBits?: number;
}

/** The result of {@linkcode quantizeGgml}. */
export interface GgmlQuantization {
  /** The blocks, in order. */
  blocks: GgmlBlock[];
  /** The dequantized values, as ggml's `dequantize_row_*` computes them (float32 values). */
  y: Float64Array;
}

const f32 = Math.fround;

/** float32 → float16 (`GGML_FP32_TO_FP16`): nearest-even, overflow to ±Infinity, −0 kept. */
function toHalf(d: number): { value: number; bits: number } {
  const value = roundToFormat(d, "float16");
  return { value, bits: encode(value, "float16") };
}

/**
 * The C conversion of a float to `int8_t`, as x86-64 compilers emit it (`cvttss2si` to int32,
 * then the low 8 bits). C leaves NaN, ±Infinity and out-of-range values undefined; x86-64 gives
 * the "integer indefinite" 0x80000000, whose low byte is 0. Finite values truncate toward zero
 * and wrap modulo 256 (only reachable where the C is undefined too).
 */
function toInt8(v: number): number {
  if (!Number.isFinite(v) || Math.abs(v) >= 2 ** 31) return 0;
  const t = Math.trunc(v);
  return ((t % 256) + 256 + 128) % 256 - 128; // two's complement low byte, as a signed value
}

/** `MIN(15, (int8_t)v)` assigned to `uint8_t`, as q4_0/q4_1 compute each nibble. */
function nibbleByte(v: number): number {
  const i = toInt8(v);
  const m = i < 15 ? i : 15; // MIN(15, i) on int
  return ((m % 256) + 256) % 256; // the uint8_t conversion
}

/**
 * Quantizes a vector to a llama.cpp block format, reproducing `quantize_row_*_ref` of
 * `ggml-quants.c` bit for bit, and dequantizes it as `dequantize_row_*` does.
 *
 * Per block of 32 float32 values v (each op rounded to float32, no fused multiply-add):
 * - q8_0: `amax = max|v|`, `d = amax / 127`, `id = d ? 1/d : 0`, code `(int8_t)roundf(v·id)`
 *   (`roundf`: ties away from zero); `y = code·d`.
 * - q4_0: `max` = the signed v of largest magnitude (the first one wins a tie; initialised to
 *   +0, so an all-zero block gives `d = +0 / −8 = −0`), `d = max / −8`, `id = d ? 1/d : 0`,
 *   nibble `MIN(15, (int8_t)(v·id + 8.5f))` (the cast truncates toward zero); `y = (code − 8)·d`.
 * - q4_1: `min`, `max` of the block (C initialises them to ±FLT_MAX and updates on strict `<`,
 *   `>`, so the first of equal extremes wins), `d = (max − min) / 15`, `id = d ? 1/d : 0`,
 *   nibble `MIN(15, (int8_t)((v − min)·id + 0.5f))`; `y = code·d + m` (product rounded, then the
 *   sum).
 * `d` (and q4_1's `m`) are stored as float16 (nearest-even; overflow gives ±Infinity, as in ggml),
 * and `y` uses the stored float16 values. The two nibbles of a byte are packed as the C packs
 * them (`qs[j] = xi0 | xi1 << 4`) and read back. Where the C conversion to `int8_t` is undefined
 * (a block so small that `1/d` overflows float32 to ±Infinity, giving ±Infinity or NaN), the
 * x86-64 result is used: the code byte is 0.
 *
 * @param x The values; each is first rounded to float32 (nearest-even).
 * @param format `"q8_0"`, `"q4_0"` or `"q4_1"`.
 * @returns The blocks (float16 scale, its bits, one code per element) and the dequantized vector.
 * @throws {LoraquantTypeError} `E_ARG` for an unknown format; `E_SHAPE` when the length is not a
 * multiple of 32.
 * @throws {LoraquantRangeError} `E_RANGE` when an input is NaN, infinite, or beyond float32's range.
 *
 * @example The first-wins maximum of q4_0 and its −8 code
 * ```ts
 * import { quantizeGgml } from "@loraquant/reference/ggml";
 * import { assertEquals } from "@std/assert";
 *
 * const x = new Array(32).fill(0);
 * x[0] = 2; // max = 2, d = −0.25, id = −4
 * x[1] = -2; // same magnitude: the first one (2) stays
 * x[2] = 1;
 * const { blocks, y } = quantizeGgml(x, "q4_0");
 * assertEquals(blocks[0]!.scale, -0.25);
 * assertEquals(blocks[0]!.codes.slice(0, 4), [0, 15, 4, 8]); // 2·−4 + 8.5 = 0.5 → 0
 * assertEquals([...y.slice(0, 3)], [2, -1.75, 1]);
 * ```
 */
export function quantizeGgml(x: ArrayLike<number>, format: GgmlFormat): GgmlQuantization {
  if (!(GGML_FORMATS as readonly string[]).includes(format)) {
    throw argError(
      `Unknown ggml format ${
        JSON.stringify(typeof format === "number" ? show(format) : format)
      }; expected one of ${GGML_FORMATS.join(", ")}`,
    );
  }
  checkBlockLength(x.length, GGML_BLOCK_SIZE, format);
  const v = float32Inputs(x, format, false); // (n) float32 inputs
  const blocks: GgmlBlock[] = [];
  const y = new Float64Array(v.length); // (n) dequantized, float32 values
  for (let start = 0; start < v.length; start += GGML_BLOCK_SIZE) {
    const block = v.subarray(start, start + GGML_BLOCK_SIZE); // (32)
    const out = y.subarray(start, start + GGML_BLOCK_SIZE); // (32)
    if (format === "q8_0") blocks.push(q8_0(block, out));
    else if (format === "q4_0") blocks.push(q4_0(block, out));
    else blocks.push(q4_1(block, out));
  }
  return { blocks, y };
}

// quantize_row_q8_0_ref + dequantize_row_q8_0 (ggml-quants.c); docs/semantics.md eq. (21).
function q8_0(v: Float64Array, out: Float64Array): GgmlBlock {
  let amax = 0; // float amax = 0.0f; amax = MAX(amax, fabsf(v))
  for (const value of v) {
    const a = Math.abs(value);
    amax = amax > a ? amax : a;
  }
  const d = f32(amax / 127); // amax / ((1 << 7) - 1)
  const id = d !== 0 ? f32(1 / d) : 0;
  const half = toHalf(d);
  const codes = Array.from(v, (value) => toInt8(roundHalfAwayFromZero(f32(value * id))));
  for (let j = 0; j < codes.length; j++) out[j] = f32(codes[j]! * half.value); // qs[j]*d
  return { scale: half.value, scaleBits: half.bits, codes };
}

// quantize_row_q4_0_ref + dequantize_row_q4_0 (ggml-quants.c); docs/semantics.md eq. (22).
function q4_0(v: Float64Array, out: Float64Array): GgmlBlock {
  let amax = 0; // float amax = 0.0f
  let max = 0; // float max = 0.0f (+0: an all-zero block keeps it)
  for (const value of v) {
    if (amax < Math.abs(value)) { // strict: the first of equal magnitudes wins
      amax = Math.abs(value);
      max = value;
    }
  }
  const d = f32(max / -8); // +0 / −8 = −0 for an all-zero block
  const id = d !== 0 ? f32(1 / d) : 0; // `d ? … : 0`: −0 is false too
  const half = toHalf(d);
  const codes = packNibbles(v, (value) => nibbleByte(f32(f32(value * id) + 8.5)));
  for (let j = 0; j < codes.length; j++) out[j] = f32((codes[j]! - 8) * half.value);
  return { scale: half.value, scaleBits: half.bits, codes };
}

// quantize_row_q4_1_ref + dequantize_row_q4_1 (ggml-quants.c); docs/semantics.md eq. (23).
function q4_1(v: Float64Array, out: Float64Array): GgmlBlock {
  const FLT_MAX = 3.4028234663852886e38;
  let min = FLT_MAX;
  let max = -FLT_MAX;
  for (const value of v) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const d = f32(f32(max - min) / 15); // (max − min) / ((1 << 4) − 1)
  const id = d !== 0 ? f32(1 / d) : 0;
  const half = toHalf(d);
  const m = toHalf(min);
  const codes = packNibbles(v, (value) => nibbleByte(f32(f32(f32(value - min) * id) + 0.5)));
  for (let j = 0; j < codes.length; j++) {
    out[j] = f32(f32(codes[j]! * half.value) + m.value); // x0*d + m, no FMA
  }
  return { scale: half.value, scaleBits: half.bits, codes, min: m.value, minBits: m.bits };
}

/**
 * The C packing `qs[j] = xi0; qs[j] |= xi1 << 4` for j < 16 (element j in the low nibble,
 * element j + 16 in the high nibble), read back as ggml's dequantizer reads it
 * (`qs[j] & 0x0F`, `qs[j] >> 4`). `byteOf` gives each element's `uint8_t` xi.
 */
function packNibbles(v: Float64Array, byteOf: (value: number) => number): number[] {
  const half = v.length / 2;
  const codes = new Array<number>(v.length);
  for (let j = 0; j < half; j++) {
    const xi0 = byteOf(v[j]!);
    const xi1 = byteOf(v[j + half]!);
    const qs = (xi0 | (xi1 << 4)) & 0xff; // uint8_t
    codes[j] = qs & 0x0f;
    codes[j + half] = qs >> 4;
  }
  return codes;
}
