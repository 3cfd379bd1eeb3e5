import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { gflops, loraFlops, matmulFlops } from "./gflops.ts";

Deno.test("matmulFlops() counts 2·m·n·k, zero for an empty product", () => {
  assertEquals(matmulFlops(2, 3, 4), 48);
  assertEquals(matmulFlops(1, 1, 1), 2);
  assertEquals(matmulFlops(0, 5, 5), 0);
});

Deno.test("matmulFlops() refuses non-integer and negative dimensions", () => {
  assertThrows(() => matmulFlops(-1, 1, 1), RangeError, "m must be");
  assertThrows(() => matmulFlops(1, 1.5, 1), RangeError, "n must be");
  assertThrows(() => matmulFlops(1, 1, NaN), RangeError, "k must be");
});

Deno.test("loraFlops() adds the three products and the scaled add", () => {
  const shape = { n: 16, inFeatures: 1024, outFeatures: 1024, r: 8 };
  assertEquals(
    loraFlops(shape),
    matmulFlops(16, 1024, 1024) + matmulFlops(16, 8, 1024) + matmulFlops(16, 1024, 8) +
      2 * 16 * 1024,
  );
});

Deno.test("gflops() is operations per nanosecond", () => {
  assertEquals(gflops(2 * 1024 ** 3, 100), 21.47483648);
  assertEquals(gflops(0, 1), 0);
  // 1 ms for 1 operation: 10⁻⁶ GFLOP/s.
  assertAlmostEquals(gflops(1, 1), 1e-6, 1e-18);
});

Deno.test("gflops() refuses a zero, negative or non-finite time and a negative count", () => {
  assertThrows(() => gflops(1, 0), RangeError, "ms must be > 0");
  assertThrows(() => gflops(1, -1), RangeError, "ms must be > 0");
  assertThrows(() => gflops(1, Infinity), RangeError, "ms must be > 0");
  assertThrows(() => gflops(-1, 1), RangeError, "flops must be >= 0");
});
