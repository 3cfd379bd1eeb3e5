import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { binaryFraction, fcParams } from "./_testing.ts";
import { LoraquantRangeError } from "./errors.ts";
import { matrix } from "./matrix.ts";
import { ternary } from "./ternary.ts";

Deno.test("`ternary()` computes the absmean scale and levels of a hand example", () => {
  const { q, scale, y } = ternary(matrix([2, 3], [0.5, -1, 0.25, 2, -0.75, 1.5]));
  assertEquals(scale, 1); // (0.5 + 1 + 0.25 + 2 + 0.75 + 1.5) / 6
  assertEquals([...q.data], [0, -1, 0, 1, -1, 1]); // 0.5 / 1 is an exact tie: to even, 0
  assertEquals([...y.data], [0, -1, 0, 1, -1, 1]);
  assertEquals([q.rows, q.cols, y.rows, y.cols], [2, 3, 2, 3]);
});

Deno.test("`ternary()` takes the mean exactly and rounds it once", () => {
  const { scale } = ternary(matrix([1, 3], [2 ** 53, 1, -1]));
  // Σ|x| = 2^53 + 2 exactly (a float64 sum gives 2^53, mean …330.67 → …330.5). The exact mean
  // (2^53 + 2) / 3 = 3002399751580331.33… lies where doubles are multiples of 1/2: t = 2·scale
  // is an integer and nearest means |t/2 − (2^53 + 2)/3| ≤ 1/4, i.e. 2·|3t − 2(2^53 + 2)| ≤ 3.
  const t = BigInt(2 * scale);
  const d = 3n * t - 2n * (2n ** 53n + 2n);
  assert((d < 0n ? -d : d) * 2n <= 3n, `scale ${scale}`);
  assertEquals(scale, 3002399751580331.5);
});

Deno.test("`ternary()` rounds the exact quotient, ties to even, and y = q·γ with +0", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 12 }),
      (values) => {
        const { q, scale, y } = ternary(matrix([1, values.length], values));
        const g = binaryFraction(scale);
        for (let i = 0; i < values.length; i++) {
          const a = binaryFraction(values[i]!);
          // x / γ = (a.n · 2^g.k) / (g.n · 2^a.k); compare 2|x/γ| with 1 (the tie at 1/2).
          const num = a.n * (1n << g.k);
          const den = g.n * (1n << a.k);
          const twice = 2n * (num < 0n ? -num : num);
          const expected = twice <= den ? 0 : num < 0n ? -1 : 1; // |x/γ| = 1/2 → 0 (even)
          assertEquals(q.data[i], expected);
          assertEquals(y.data[i], expected === 0 ? 0 : expected * scale);
        }
      },
    ),
    fcParams(200),
  );
  // Negative ties give q = 0 and y = +0 (integers carry no sign).
  const { q, y } = ternary(matrix([1, 2], [-1, 3])); // γ = 2, −1 / 2 = −0.5
  assertEquals([q.data[0], y.data[0]], [0, 0]);
});

Deno.test("`ternary()` applies eps to small tensors and handles empty ones", () => {
  assertEquals(ternary(matrix([1, 2], [0, 0])).scale, 1e-5);
  assertEquals([...ternary(matrix([1, 2], [1e-6, -3e-6])).q.data], [0, 0]);
  assertEquals(ternary(matrix([1, 1], [1e-6]), { eps: 1e-7 }).scale, 1e-6);
  const empty = ternary(matrix([0, 4], []));
  assertEquals([empty.scale, empty.q.data.length, empty.y.cols], [1e-5, 0, 4]);
});

Deno.test("`ternary()` rejects non-finite inputs and a bad eps", () => {
  assertThrows(() => ternary(matrix([1, 1], [NaN])), LoraquantRangeError, "finite");
  assertThrows(() => ternary(matrix([1, 1], [Infinity])), LoraquantRangeError);
  assertThrows(() => ternary(matrix([1, 1], [1]), { eps: 0 }), LoraquantRangeError, "eps");
  assertThrows(() => ternary(matrix([1, 1], [1]), { eps: -1 }), LoraquantRangeError);
  assertThrows(() => ternary(matrix([1, 1], [1]), { eps: Infinity }), LoraquantRangeError);
});
