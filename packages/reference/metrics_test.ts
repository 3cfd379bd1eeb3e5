import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { binaryFraction, fcParams } from "./_testing.ts";
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";
import { metrics } from "./metrics.ts";

Deno.test("`metrics()` computes hand-derived values", () => {
  const m = metrics([3, -1, 2, 0], [1, -1, 2, 2]);
  // Σ(x − y)² = 4 + 0 + 0 + 4 = 8, n = 4; Σx² = 14.
  assertEquals(m.mse, 2);
  assertEquals(m.rmse, Math.SQRT2); // Math.sqrt is correctly rounded (IEEE 754)
  assertEquals(m.maxAbs, 2);
  assertAlmostEquals(m.sqnrDb, 10 * Math.log10(14 / 8), 1e-13);
});

Deno.test("`metrics()` reports Infinity dB for equal inputs and −Infinity for zero signal", () => {
  assertEquals(metrics([1, -2], [1, -2]), { mse: 0, rmse: 0, maxAbs: 0, sqnrDb: Infinity });
  assertEquals(metrics([0, 0], [0, 0]).sqnrDb, Infinity);
  assertEquals(metrics([0, 0], [1, 0]).sqnrDb, -Infinity);
  assertEquals(metrics([-0], [0]).sqnrDb, Infinity);
});

Deno.test("`metrics()` sums exactly: mse is the exact mean rounded once", () => {
  // Integers below 2^20: every square and sum is exact in float64, so S / n rounded once is
  // the IEEE quotient, and rmse the IEEE square root of the exact quotient when that is exact.
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: -1e5, max: 1e5 }), fc.integer({ min: -1e5, max: 1e5 })), {
        minLength: 1,
        maxLength: 30,
      }),
      (pairs) => {
        const x = pairs.map((p) => p[0]);
        const y = pairs.map((p) => p[1]);
        const m = metrics(x, y);
        const s = pairs.reduce((acc, [a, b]) => acc + (a - b) ** 2, 0);
        const sx = x.reduce((acc, a) => acc + a * a, 0);
        assertEquals(m.mse, s / x.length);
        assertEquals(m.maxAbs, Math.max(...pairs.map(([a, b]) => Math.abs(a - b))));
        if (s > 0 && sx > 0) {
          assertAlmostEquals(
            m.sqnrDb,
            10 * Math.log10(sx / s),
            1e-12 * Math.max(1, Math.abs(m.sqnrDb)),
          );
        }
      },
    ),
    fcParams(300),
  );
});

Deno.test("`metrics()` does not lose small differences next to large values", () => {
  // A float64 sum would absorb 1 into 2^60; the exact sum keeps it: Σ = 2^120 + 1, n = 2.
  const m = metrics([2 ** 60, 1], [0, 0]);
  assertEquals(m.mse, 2 ** 119); // (2^120 + 1) / 2 rounds to 2^119
  // Squares beyond the float64 range stay exact in the ratio: 1e200 vs 2e200.
  const big = metrics([1e200, 1e200], [2e200, 0]);
  assertEquals(big.mse, Infinity); // the exact mean 1e400 rounds past the largest double
  assertAlmostEquals(big.sqnrDb, 0, 1e-12); // Σx² = Σ(x − y)² = 2e400
  // The mean of two subnormal squares, rounded once: (2^-1074)² / 1 underflows to 0.
  assertEquals(metrics([Number.MIN_VALUE], [0]).mse, 0);
  assertEquals(metrics([Number.MIN_VALUE], [0]).rmse, Number.MIN_VALUE);
});

Deno.test("`metrics()` rmse is the square root of the exact mean, rounded once", () => {
  // r is the nearest double to √(S/n) iff (r − ulp/2)² ≤ S/n ≤ (r + ulp/2)², i.e. with
  // r = m/2^k: (2m − 1)²·n ≤ 4^(k+1)·S ≤ (2m + 1)²·n, all BigInt (S an integer here).
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 12 }),
      (d) => {
        const x = d;
        const y = d.map(() => 0);
        const S = d.reduce((acc, v) => acc + BigInt(v) * BigInt(v), 0n);
        const n = BigInt(d.length);
        const r = metrics(x, y).rmse;
        if (S === 0n) return assertEquals(r, 0);
        const { n: m, k } = binaryFraction(r);
        const lhs = (1n << (2n * (k + 1n))) * S;
        assert((2n * m - 1n) ** 2n * n <= lhs && lhs <= (2n * m + 1n) ** 2n * n, `rmse ${r}`);
      },
    ),
    fcParams(500),
  );
  assertEquals(metrics([5], [2]).rmse, 3);
  assertEquals(metrics([Math.sqrt(2)], [0]).rmse, Math.sqrt(2));
});

Deno.test("`metrics()` handles empty inputs and rejects bad ones", () => {
  const e = metrics([], []);
  assert(Number.isNaN(e.mse) && Number.isNaN(e.rmse));
  assertEquals([e.maxAbs, e.sqnrDb], [0, Infinity]);
  assertThrows(() => metrics([1], [1, 2]), LoraquantTypeError);
  assertThrows(() => metrics([NaN], [1]), LoraquantRangeError);
  assertThrows(() => metrics([1], [-Infinity]), LoraquantRangeError);
});
