/**
 * Ratios against the best peer: how many times faster (in GFLOP/s) a figure is than the fastest
 * other library measured on the same suite and size.
 *
 * @module
 */
import { type BenchResult, PEER_IMPLS } from "./result.ts";

/**
 * The best peer figure of a suite and size: the record of a {@linkcode PEER_IMPLS}
 * implementation with the highest `gflops` among those with the same `suite` and `size`, or
 * `undefined` when no peer was measured there (skipped peers have no record).
 *
 * @param results All records of a run.
 * @param suite The suite.
 * @param size The size.
 * @returns The best peer's record, if any.
 *
 * @example tfjs against ORT
 * ```ts
 * import { bestPeer } from "@loraquant/bench/best-peer";
 * import { assertEquals } from "@std/assert";
 *
 * const r = (impl: "tfjs-webgpu" | "ort-webgpu", gflops: number) => ({
 *   suite: "matmul-f32", case: "matMul", impl, size: 512, medianMs: 1, gflops,
 * });
 * assertEquals(bestPeer([r("tfjs-webgpu", 4), r("ort-webgpu", 5)], "matmul-f32", 512)?.impl, "ort-webgpu");
 * assertEquals(bestPeer([r("tfjs-webgpu", 4)], "matmul-f32", 256), undefined);
 * ```
 */
export function bestPeer(
  results: readonly BenchResult[],
  suite: string,
  size: number,
): BenchResult | undefined {
  let best: BenchResult | undefined;
  for (const r of results) {
    if (r.suite !== suite || r.size !== size || !PEER_IMPLS.includes(r.impl)) continue;
    if (!best || r.gflops > best.gflops) best = r;
  }
  return best;
}

/**
 * A record's speed relative to the best peer of its suite and size: `r.gflops / best.gflops`
 * (float64), or `undefined` without a peer or when the best peer's rate is 0.
 *
 * @param results All records of a run.
 * @param r The record to compare.
 * @returns The ratio (> 1: faster than every peer).
 *
 * @example Twice the best peer
 * ```ts
 * import { ratioToBestPeer } from "@loraquant/bench/best-peer";
 * import { assertEquals } from "@std/assert";
 *
 * const peer = { suite: "s", case: "c", impl: "tfjs-webgpu" as const, size: 1, medianMs: 2, gflops: 5 };
 * const ours = { ...peer, impl: "loraquant-gpu" as const, medianMs: 1, gflops: 10 };
 * assertEquals(ratioToBestPeer([peer, ours], ours), 2);
 * ```
 */
export function ratioToBestPeer(
  results: readonly BenchResult[],
  r: BenchResult,
): number | undefined {
  const best = bestPeer(results, r.suite, r.size);
  return best && best.gflops > 0 ? r.gflops / best.gflops : undefined;
}
