/**
 * Seeded standard normal draws for the lab's fixed weights, reproducible in any language.
 *
 * @module
 */
import type { SplitMix64 } from "@loraquant/reference/splitmix64";

/**
 * Draws `n` standard normal numbers: Box–Muller (cosine branch) on two SplitMix64 uniforms
 * u₁, u₂ each, `√(−2·ln(1 − u₁))·cos(2π·u₂)` in float64 (the reference's own rule for its
 * Gaussian initialisation).
 *
 * @param rng The generator, advanced by 2n draws.
 * @param n How many numbers, a non-negative integer.
 * @returns A new array of n draws.
 *
 * @example Mean near 0, variance near 1
 * ```ts
 * import { gaussians } from "./gaussians.ts";
 * import { SplitMix64 } from "@loraquant/reference/splitmix64";
 * import { assertLess } from "@std/assert";
 *
 * const x = gaussians(new SplitMix64(1), 10_000);
 * const mean = x.reduce((s, v) => s + v, 0) / x.length;
 * const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
 * assertLess(Math.abs(mean), 0.05); // 5 standard errors (1/√10⁴ = 0.01)
 * assertLess(Math.abs(variance - 1), 0.07); // ~5 standard errors (√(2/10⁴) ≈ 0.014)
 * ```
 */
export function gaussians(rng: SplitMix64, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u1 = rng.nextUniform();
    const u2 = rng.nextUniform();
    out[i] = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}
