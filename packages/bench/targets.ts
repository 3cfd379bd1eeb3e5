/**
 * The issue's performance targets on llvmpipe, checked against a run's results (reported, never
 * asserted: performance is not a test).
 *
 * @module
 */
import { bestPeer } from "./best_peer.ts";
import type { BenchResult } from "./result.ts";

/** One target and whether a run met it. */
export interface TargetCheck {
  /** What is measured, in words. */
  readonly name: string;
  /** The measured value (GFLOP/s or a ratio), or `undefined` when a figure is missing. */
  readonly value: number | undefined;
  /** The value to reach (the target is met when `value >= threshold`). */
  readonly threshold: number;
  /** Whether it was met; `undefined` when a figure is missing. */
  readonly met: boolean | undefined;
  /** Why the value is missing, when it is. */
  readonly missing?: string;
}

/** The suites and cases {@linkcode checkTargets} reads. */
export const TARGET_CASES = {
  matmulSuite: "matmul-f32",
  loraSuite: "lora-forward",
  fused: "fused",
  unfused: "unfused",
  integerSuite: "int8-vs-f32",
  int8: "int8",
  f32: "f32",
} as const;

function check(
  name: string,
  threshold: number,
  value: number | undefined,
  missing: string,
): TargetCheck {
  return value === undefined
    ? { name, value, threshold, met: undefined, missing }
    : { name, value, threshold, met: value >= threshold };
}

function fastest(rs: readonly BenchResult[]): BenchResult | undefined {
  return rs.reduce<BenchResult | undefined>(
    (b, r) => (!b || r.gflops > b.gflops ? r : b),
    undefined,
  );
}

/**
 * Checks the four targets of the issue: (1) the best `loraquant-gpu` f32 matmul at N = 1024
 * reaches 20 GFLOP/s; (2) it is at least 4× the best peer there; (3) the fused LoRA forward is
 * at least 1.3× faster than the unfused one at n = 16 (ratio of wall times, unfused/fused);
 * (4) the int8 matmul's operation rate is at least the f32 matmul's at the largest size both were
 * measured at (ratio int8/f32 ≥ 1). Rates are `gflops` from wall times.
 *
 * @param results A run's figures.
 * @returns The four checks, in that order.
 *
 * @example Only the matmul figure is present
 * ```ts
 * import { checkTargets } from "@loraquant/bench/targets";
 * import { assertEquals } from "@std/assert";
 *
 * const checks = checkTargets([
 *   { suite: "matmul-f32", case: "register", impl: "loraquant-gpu", size: 1024, medianMs: 100, gflops: 21.47 },
 * ]);
 * assertEquals(checks[0]!.met, true);
 * assertEquals(checks[1]!.met, undefined); // no peer ran
 * ```
 */
export function checkTargets(results: readonly BenchResult[]): TargetCheck[] {
  const c = TARGET_CASES;
  const ours = fastest(
    results.filter((r) =>
      r.suite === c.matmulSuite && r.size === 1024 && r.impl === "loraquant-gpu"
    ),
  );
  const peer = bestPeer(results, c.matmulSuite, 1024);
  const lora = (kase: string) =>
    results.find((r) =>
      r.suite === c.loraSuite && r.size === 16 && r.case === kase && r.impl === "loraquant-gpu"
    );
  const fused = lora(c.fused);
  const unfused = lora(c.unfused);
  const integer = (kase: string) =>
    results.filter((r) =>
      r.suite === c.integerSuite && r.case === kase && r.impl === "loraquant-gpu"
    );
  const sizes = integer(c.int8).map((r) => r.size).filter((s) =>
    integer(c.f32).some((r) => r.size === s)
  );
  const size = sizes.length > 0 ? Math.max(...sizes) : undefined;
  const int8 = integer(c.int8).find((r) => r.size === size);
  const f32 = integer(c.f32).find((r) => r.size === size);
  return [
    check("f32 matmul N=1024, GFLOP/s", 20, ours?.gflops, "no loraquant-gpu matmul at N=1024"),
    check(
      "f32 matmul N=1024, × best peer",
      4,
      ours && peer && peer.gflops > 0 ? ours.gflops / peer.gflops : undefined,
      ours ? "no peer ran at N=1024" : "no loraquant-gpu matmul at N=1024",
    ),
    check(
      "LoRA forward n=16, fused speed-up over unfused",
      1.3,
      fused && unfused ? unfused.medianMs / fused.medianMs : undefined,
      "fused or unfused LoRA forward at n=16 missing",
    ),
    check(
      `int8 / f32 matmul op rate${size === undefined ? "" : ` (N=${size})`}`,
      1,
      int8 && f32 && f32.gflops > 0 ? int8.gflops / f32.gflops : undefined,
      "int8 or f32 figure missing",
    ),
  ];
}
