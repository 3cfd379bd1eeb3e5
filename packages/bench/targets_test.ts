import { assertAlmostEquals, assertEquals } from "@std/assert";
import { checkTargets } from "./targets.ts";
import type { BenchImpl, BenchResult } from "./result.ts";

function rec(
  suite: string,
  kase: string,
  impl: BenchImpl,
  size: number,
  medianMs: number,
  gflops: number,
): BenchResult {
  return { suite, case: kase, impl, size, medianMs, gflops };
}

Deno.test("checkTargets() reports every target met when the figures reach them", () => {
  const checks = checkTargets([
    rec("matmul-f32", "register", "loraquant-gpu", 1024, 100, 21),
    rec("matmul-f32", "tiled", "loraquant-gpu", 1024, 1000, 2),
    rec("matmul-f32", "tf.matMul", "tfjs-webgpu", 1024, 500, 5),
    rec("matmul-f32", "MatMul", "ort-webgpu", 1024, 400, 5.25),
    rec("lora-forward", "fused", "loraquant-gpu", 16, 10, 3),
    rec("lora-forward", "unfused", "loraquant-gpu", 16, 13, 2),
    rec("int8-vs-f32", "int8", "loraquant-gpu", 1024, 50, 40),
    rec("int8-vs-f32", "f32", "loraquant-gpu", 1024, 100, 20),
    rec("int8-vs-f32", "int8", "loraquant-gpu", 2048, 50, 1), // no f32 at 2048: ignored
  ]);
  assertEquals(checks.map((c) => c.met), [true, true, true, true]);
  assertEquals(checks[0]!.value, 21);
  assertEquals(checks[1]!.value, 4); // 21 / 5.25, the best peer
  assertAlmostEquals(checks[2]!.value!, 1.3, 1e-12);
  assertEquals(checks[3]!.value, 2);
  assertEquals(checks[3]!.name, "int8 / f32 matmul op rate (N=1024)");
});

Deno.test("checkTargets() reports a missed target as not met and a missing figure as n/a", () => {
  const checks = checkTargets([
    rec("matmul-f32", "register", "loraquant-gpu", 1024, 500, 4),
    rec("lora-forward", "fused", "loraquant-gpu", 16, 10, 3),
    rec("lora-forward", "unfused", "loraquant-gpu", 16, 12, 2),
  ]);
  assertEquals(checks.map((c) => c.met), [false, undefined, false, undefined]);
  assertEquals(checks[1]!.missing, "no peer ran at N=1024");
  assertEquals(checks[3]!.missing, "int8 or f32 figure missing");
  assertEquals(checkTargets([]).map((c) => c.met), [undefined, undefined, undefined, undefined]);
});
