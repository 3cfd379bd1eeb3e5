/**
 * The median of timing samples, the statistic every figure of the bench reports.
 *
 * @module
 */
import { LoraquantRangeError } from "@loraquant/reference/errors";

/**
 * The median of a non-empty list of finite samples: the middle value of the sorted samples, or
 * the mean of the two middle values for an even count (computed as `lo + (hi − lo) / 2` in
 * float64, so it never overflows). The input is not modified.
 *
 * @param samples The samples (e.g. milliseconds per run).
 * @returns The median.
 * @throws {LoraquantRangeError} `E_RANGE` When `samples` is empty or holds a non-finite value.
 *
 * @example Odd and even counts
 * ```ts
 * import { median } from "@loraquant/bench/median";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(median([3, 1, 2]), 2);
 * assertEquals(median([4, 1, 3, 2]), 2.5);
 * ```
 */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) {
    throw new LoraquantRangeError("E_RANGE", "Cannot take the median: samples is empty");
  }
  samples.forEach((x, i) => {
    if (!Number.isFinite(x)) {
      throw new LoraquantRangeError("E_RANGE", `Cannot take the median: samples[${i}] is ${x}`);
    }
  });
  const sorted = [...samples].sort((a, b) => a - b); // (samples.length) ascending
  const mid = sorted.length >> 1;
  const hi = sorted[mid] as number;
  if (sorted.length % 2 === 1) return hi;
  const lo = sorted[mid - 1] as number;
  return lo + (hi - lo) / 2;
}
