/**
 * The numbers behind the lab's bits slider: a fixed Gaussian weight matrix quantized to
 * symmetric b-bit integers (one scale per tensor or per group of 32) with the reference's
 * `quantize`, reconstructed with `dequantize`, and compared with `metrics`.
 *
 * @module
 */
import { quantize } from "@loraquant/reference/quantize";
import { dequantize } from "@loraquant/reference/dequantize";
import { metrics } from "@loraquant/reference/metrics";
import { type Matrix, matrix } from "@loraquant/reference/matrix";
import { SplitMix64 } from "@loraquant/reference/splitmix64";
import { gaussians } from "./gaussians.ts";

/** The slider's range of bit widths. */
export const BITS_RANGE: readonly [number, number] = [2, 8];

/** Consecutive weights of a row sharing one scale under `"group"`. */
export const GROUP_SIZE = 32;

/** One scale for the whole tensor, or one per group of {@linkcode GROUP_SIZE} weights. */
export type ScaleScheme = "tensor" | "group";

/** What quantizing the weights at one bit width gives. */
export interface QuantizationOutcome {
  /** x̂ − x per weight, row-major. */
  readonly errors: Float64Array;
  /** 10·log10(Σx² / Σ(x − x̂)²), from the reference's `metrics`. */
  readonly sqnrDb: number;
  /** √(Σ(x − x̂)²/n). */
  readonly rmse: number;
  /** max |x − x̂|. */
  readonly maxAbs: number;
  /** The number of integer levels, 2·(2^(b−1) − 1) + 1 = 2^b − 1. */
  readonly levels: number;
  /** The scales used, one per tensor or group. */
  readonly scale: Float64Array;
}

/**
 * The lab's fixed weights: 64×64 standard normal draws (Box–Muller on SplitMix64, seed `seed`).
 *
 * @param seed The SplitMix64 seed. @default {2026}
 * @returns The matrix (64×64).
 *
 * @example
 * ```ts
 * import { labWeights } from "./bits_model.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(labWeights().data.length, 4096);
 * assertEquals(labWeights().data, labWeights().data);
 * ```
 */
export function labWeights(seed = 2026): Matrix {
  return matrix([64, 64], gaussians(new SplitMix64(seed), 64 * 64));
}

/**
 * Quantizes `x` to symmetric b-bit integers and measures the error. The levels are
 * q ∈ [−(2^(b−1) − 1), 2^(b−1) − 1] (restricted range, zero point 0) and each scale is
 * max |x| / (2^(b−1) − 1) over its tensor or group (1 for an all-zero group), rounded once to
 * float64; the reference then rounds x / scale to the nearest level (ties to even, on the exact
 * quotient) and reconstructs x̂ = q·scale (rounded once). The int8 container never clamps: every
 * |x / scale| ≤ 2^(b−1) − 1 ≤ 127.
 *
 * @param x The weights, finite; with `"group"`, cols must be a multiple of 32.
 * @param bits The bit width, an integer in [2, 8].
 * @param scheme One scale per tensor or per group of 32.
 * @returns The errors, SQNR, RMSE, largest error, level count and scales.
 * @throws {RangeError} When `bits` is not an integer in [2, 8].
 *
 * @example Each extra bit halves the step: about 6 dB more SQNR
 * ```ts
 * import { labWeights, quantizationError } from "./bits_model.ts";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const x = labWeights();
 * const four = quantizationError(x, 4, "tensor");
 * const five = quantizationError(x, 5, "tensor");
 * assertEquals(four.levels, 15);
 * assert(Math.abs(five.sqnrDb - four.sqnrDb - 20 * Math.log10(15 / 7)) < 1);
 * assert(four.maxAbs <= four.scale[0]! / 2 * (1 + 1e-12));
 * ```
 */
export function quantizationError(
  x: Matrix,
  bits: number,
  scheme: ScaleScheme,
): QuantizationOutcome {
  if (!Number.isInteger(bits) || bits < BITS_RANGE[0] || bits > BITS_RANGE[1]) {
    throw new RangeError(
      `Cannot quantize the lab's weights: bits must be an integer in [${BITS_RANGE.join(", ")}], ` +
        `got ${bits}`,
    );
  }
  const qmax = 2 ** (bits - 1) - 1;
  const groupSize = scheme === "group" ? GROUP_SIZE : x.rows * x.cols;
  const scale = new Float64Array(x.data.length / groupSize);
  for (let g = 0; g < scale.length; g++) {
    let max = 0;
    for (let i = g * groupSize; i < (g + 1) * groupSize; i++) {
      max = Math.max(max, Math.abs(x.data[i]!));
    }
    scale[g] = max === 0 ? 1 : max / qmax;
  }
  const layout = scheme === "group"
    ? { granularity: "group" as const, groupSize: GROUP_SIZE }
    : { granularity: "tensor" as const };
  const { q } = quantize(x, "int8", { ...layout, range: "restricted", scale });
  const xhat = dequantize(q, scale, layout);
  const errors = new Float64Array(x.data.length);
  for (let i = 0; i < errors.length; i++) errors[i] = xhat.data[i]! - x.data[i]!;
  const { sqnrDb, rmse, maxAbs } = metrics(x.data, xhat.data);
  return { errors, sqnrDb, rmse, maxAbs, levels: 2 * qmax + 1, scale };
}
