import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { formatTable } from "./table.ts";
import type { BenchResult } from "./result.ts";

const results: BenchResult[] = [
  {
    suite: "matmul-f32",
    case: "register",
    impl: "loraquant-gpu",
    size: 1024,
    medianMs: 100,
    gflops: 21.47483648,
    gpuMs: 98.5,
  },
  {
    suite: "matmul-f32",
    case: "tf.matMul",
    impl: "tfjs-webgpu",
    size: 1024,
    medianMs: 500,
    gflops: 4.294967296,
  },
  {
    suite: "lora-forward",
    case: "fused",
    impl: "loraquant-gpu",
    size: 16,
    medianMs: 10,
    gflops: 3.5,
  },
];

Deno.test("formatTable() prints times, rates and the ratio to the best peer", () => {
  const lines = formatTable(results).split("\n");
  assertStringIncludes(lines[0]!, "× best peer");
  const ours = lines.find((l) => l.includes("register"))!;
  assertStringIncludes(ours, "100.000");
  assertStringIncludes(ours, "98.500");
  assertStringIncludes(ours, "21.47");
  assert(ours.endsWith("5.00×"), ours);
  assert(lines.find((l) => l.includes("tf.matMul"))!.endsWith("1.00×"));
  const lora = lines.find((l) => l.includes("fused"))!;
  assert(lora.endsWith("—"), "no peer: a dash");
});

Deno.test("formatTable() aligns its columns and separates groups by a blank line", () => {
  const lines = formatTable(results).split("\n");
  const rows = lines.filter((l) => l !== "");
  // Every column is padded to its width, the last one right-aligned: all lines equally long.
  assertEquals(new Set(rows.map((l) => l.length)).size, 1);
  const end = lines[0]!.indexOf("GFLOP/s") + "GFLOP/s".length;
  for (const row of rows.slice(2)) {
    assertEquals(row.slice(end - 4, end), row.slice(end - 4, end).trim().padStart(4));
  }
  assertEquals(lines.filter((l) => l === "").length, 1);
});

Deno.test("formatTable() lists each skipped measurement with its reason", () => {
  const text = formatTable([], [
    { suite: "matmul-f32", impl: "ort-webgpu", reason: "Error: no adapter" },
  ]);
  assertStringIncludes(text, "skipped: ort-webgpu (matmul-f32): Error: no adapter");
});

Deno.test("formatTable() groups by suite, then ascending size, keeping the order within a group", () => {
  const r = (suite: string, kase: string, size: number): BenchResult => ({
    suite,
    case: kase,
    impl: "loraquant-gpu",
    size,
    medianMs: 1,
    gflops: 1,
  });
  const text = formatTable([r("b", "x", 256), r("a", "y", 1), r("b", "z", 128), r("b", "w", 256)]);
  const order = text.split("\n").slice(2).filter((l) => l !== "").map((l) => l.split(/ +/)[1]);
  assertEquals(order, ["z", "x", "w", "y"]);
});
