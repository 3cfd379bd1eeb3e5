/**
 * Operation counts and rates: how the bench turns a time into GFLOP/s (or, for integer kernels,
 * giga-operations per second, counted the same way).
 *
 * @module
 */
import { LoraquantRangeError } from "@loraquant/reference/errors";

/**
 * Operations of an (m, k)·(k, n) matrix product, counted as 2·m·n·k (one multiply and one add
 * per term, the usual convention of BLAS benchmarks; the k − 1 adds are rounded up to k).
 *
 * @param m Rows of the result.
 * @param n Columns of the result.
 * @param k The inner dimension.
 * @returns 2·m·n·k.
 * @throws {LoraquantRangeError} `E_RANGE` When a dimension is not a non-negative safe integer.
 *
 * @example A 1024³ product
 * ```ts
 * import { matmulFlops } from "@loraquant/bench/gflops";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(matmulFlops(1024, 1024, 1024), 2 * 1024 ** 3);
 * ```
 */
export function matmulFlops(m: number, n: number, k: number): number {
  for (const [name, v] of [["m", m], ["n", n], ["k", k]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new LoraquantRangeError(
        "E_RANGE",
        `Cannot count matmul operations: ${name} must be a non-negative integer, got ${v}`,
      );
    }
  }
  return 2 * m * n * k;
}

/**
 * Operations of the LoRA forward y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ for x (n, in), W (out, in), A (r, in),
 * B (out, r): 2·n·out·in + 2·n·r·in + 2·n·out·r for the three products, plus 2·n·out for the
 * scale and the add. Fused or not, the same count, so fused and unfused rates compare directly.
 *
 * @param shape The batch rows n, the features `inFeatures` and `outFeatures`, the rank r.
 * @returns The operation count.
 * @throws {LoraquantRangeError} `E_RANGE` When a dimension is not a non-negative safe integer.
 *
 * @example The bench's n = 16 case
 * ```ts
 * import { loraFlops } from "@loraquant/bench/gflops";
 * import { assertEquals } from "@std/assert";
 *
 * const f = loraFlops({ n: 16, inFeatures: 1024, outFeatures: 1024, r: 8 });
 * assertEquals(f, 2 * 16 * (1024 * 1024 + 8 * 1024 + 1024 * 8 + 1024));
 * ```
 */
export function loraFlops(
  shape: { n: number; inFeatures: number; outFeatures: number; r: number },
): number {
  const { n, inFeatures, outFeatures, r } = shape;
  return matmulFlops(n, outFeatures, inFeatures) + matmulFlops(n, r, inFeatures) +
    matmulFlops(n, outFeatures, r) + 2 * n * outFeatures;
}

/**
 * A rate in GFLOP/s: `flops / (ms · 10⁶)`, i.e. operations per nanosecond.
 *
 * @param flops Operations performed in the measured time.
 * @param ms The measured time, in milliseconds.
 * @returns GFLOP/s (giga-operations per second), in float64.
 * @throws {LoraquantRangeError} `E_RANGE` When `flops` is negative or not finite, or `ms` is not > 0 and finite.
 *
 * @example 2·10⁹ operations in 100 ms
 * ```ts
 * import { gflops } from "@loraquant/bench/gflops";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(gflops(2e9, 100), 20);
 * ```
 */
export function gflops(flops: number, ms: number): number {
  if (!(Number.isFinite(flops) && flops >= 0)) {
    throw new LoraquantRangeError(
      "E_RANGE",
      `Cannot compute GFLOP/s: flops must be >= 0, got ${flops}`,
    );
  }
  if (!(Number.isFinite(ms) && ms > 0)) {
    throw new LoraquantRangeError("E_RANGE", `Cannot compute GFLOP/s: ms must be > 0, got ${ms}`);
  }
  return flops / (ms * 1e6);
}
