import fc from "fast-check";
import { assertEquals, assertLessOrEqual, assertThrows } from "@std/assert";
import { fcParams } from "./_testing.ts";
import { frobeniusNorm, multiply } from "./linalg.ts";
import { lowRank } from "./lowrank.ts";
import { matrix } from "./matrix.ts";
import type { Matrix } from "./matrix.ts";
import { svd } from "./svd.ts";
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";
import { SplitMix64 } from "./splitmix64.ts";

function distance(a: Matrix, b: Matrix): number {
  let e = 0;
  for (let i = 0; i < a.data.length; i++) e = Math.hypot(e, a.data[i]! - b.data[i]!);
  return e;
}

const problem = fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 })).chain((
  [r, c],
) =>
  fc.tuple(
    fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: r * c, maxLength: r * c })
      .map((d) => matrix([r, c], d)),
    fc.integer({ min: 1, max: Math.min(r, c) }),
  )
);

Deno.test("`lowRank()` error equals ‖m − b·a‖_F and the tail of the spectrum", () => {
  fc.assert(
    fc.property(problem, ([m, rank]) => {
      const { b, a, s, error } = lowRank(m, rank);
      const norm = frobeniusNorm(m);
      let tail = 0;
      for (let i = rank; i < s.length; i++) tail += s[i]! ** 2;
      assertLessOrEqual(Math.abs(error - Math.sqrt(tail)), 1e-14 * norm + 1e-300);
      assertLessOrEqual(Math.abs(distance(m, multiply(b, a)) - error), 1e-12 * norm + 1e-300);
    }),
    fcParams(150),
  );
});

Deno.test("`lowRank()` splits evenly: ‖b_:,i‖² = ‖a_i,:‖² = σ_i", () => {
  fc.assert(
    fc.property(problem, ([m, rank]) => {
      const { b, a, s } = lowRank(m, rank);
      for (let i = 0; i < rank; i++) {
        let nb = 0;
        let na = 0;
        for (let j = 0; j < b.rows; j++) nb += b.data[j * rank + i]! ** 2;
        for (let j = 0; j < a.cols; j++) na += a.data[i * a.cols + j]! ** 2;
        assertLessOrEqual(Math.abs(nb - s[i]!), 1e-12 * s[0]!);
        assertLessOrEqual(Math.abs(na - s[i]!), 1e-12 * s[0]!);
      }
    }),
    fcParams(150),
  );
});

Deno.test("`lowRank()` beats random rank-r alternatives (Eckart–Young)", () => {
  const rng = new SplitMix64(3);
  const draw = (rows: number, cols: number): Matrix =>
    matrix([rows, cols], Array.from({ length: rows * cols }, () => rng.nextUniform() * 2 - 1));
  for (let trial = 0; trial < 20; trial++) {
    const m = draw(6, 5);
    const rank = 1 + (trial % 4);
    const { b, a, error } = lowRank(m, rank);
    for (let alt = 0; alt < 20; alt++) {
      // A random rank-r alternative, and the same perturbed slightly from the optimum.
      const other = multiply(draw(6, rank), draw(rank, 5));
      assertLessOrEqual(error, distance(m, other));
      const bp = matrix([6, rank], b.data.map((x) => x + 1e-3 * (rng.nextUniform() - 0.5)));
      assertLessOrEqual(error, distance(m, multiply(bp, a)) + 1e-15);
    }
  }
});

Deno.test("`lowRank()` at full rank reproduces m with error 0 from the spectrum", () => {
  const m = matrix([2, 3], [1, 2, 3, 4, 5, 6]);
  const { b, a, error, s } = lowRank(m, 2);
  assertEquals(error, 0);
  assertEquals(s.length, 2);
  assertLessOrEqual(distance(m, multiply(b, a)), 1e-14 * frobeniusNorm(m));
  assertEquals([...s], [...svd(m).s]);
});

Deno.test("`lowRank()` refuses a non-integer rank (E_ARG) and ranks outside [1, min] (E_RANGE)", () => {
  const m = matrix([2, 3], [1, 2, 3, 4, 5, 6]);
  assertEquals(assertThrows(() => lowRank(m, 1.5), LoraquantTypeError, "rank").code, "E_ARG");
  for (const rank of [0, -1, 3]) {
    assertEquals(
      assertThrows(() => lowRank(m, rank), LoraquantRangeError, `got ${rank}`).code,
      "E_RANGE",
    );
  }
  assertThrows(() => lowRank(matrix([1, 1], [NaN]), 1), LoraquantRangeError, "finite");
});
