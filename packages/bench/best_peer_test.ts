import { assertEquals } from "@std/assert";
import { bestPeer, ratioToBestPeer } from "./best_peer.ts";
import type { BenchImpl, BenchResult } from "./result.ts";

function rec(impl: BenchImpl, size: number, gflops: number, suite = "matmul-f32"): BenchResult {
  return { suite, case: impl, impl, size, medianMs: 1, gflops };
}

Deno.test("bestPeer() picks the fastest peer of the same suite and size, never our own figures", () => {
  const results = [
    rec("loraquant-gpu", 512, 50),
    rec("loraquant-reference", 512, 60),
    rec("tfjs-webgpu", 512, 4),
    rec("ort-webgpu", 512, 3),
    rec("ort-webgpu", 1024, 9),
    rec("ort-webgpu", 512, 99, "other"),
  ];
  assertEquals(bestPeer(results, "matmul-f32", 512), results[2]);
  assertEquals(bestPeer(results, "matmul-f32", 1024), results[4]);
  assertEquals(bestPeer(results, "matmul-f32", 256), undefined);
});

Deno.test("ratioToBestPeer() divides the rates, and is undefined without a peer or with a zero rate", () => {
  const ours = rec("loraquant-gpu", 512, 20);
  assertEquals(ratioToBestPeer([ours, rec("tfjs-webgpu", 512, 5)], ours), 4);
  assertEquals(ratioToBestPeer([ours], ours), undefined);
  assertEquals(ratioToBestPeer([ours, rec("tfjs-webgpu", 512, 0)], ours), undefined);
});
