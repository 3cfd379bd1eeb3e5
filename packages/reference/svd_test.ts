import fc from "fast-check";
import { assert, assertEquals, assertLessOrEqual, assertThrows } from "@std/assert";
import { fcParams } from "./_testing.ts";
import { frobeniusNorm, multiply } from "./linalg.ts";
import { matrix } from "./matrix.ts";
import type { Matrix } from "./matrix.ts";
import { svd } from "./svd.ts";
import { LoraquantRangeError } from "./errors.ts";

/** Checks the SVD contract: shapes, order, sign, reconstruction and orthogonality ≤ 1e-12. */
function checkSvd(m: Matrix): void {
  const { u, s, v } = svd(m);
  const k = Math.min(m.rows, m.cols);
  assertEquals([u.rows, u.cols, s.length, v.rows, v.cols], [m.rows, k, k, m.cols, k]);
  for (let i = 0; i < k; i++) {
    assert(s[i]! >= 0, `σ_${i} = ${s[i]} is negative`);
    if (i > 0) assert(s[i]! <= s[i - 1]!, `σ not descending at ${i}`);
  }
  const us = matrix([m.rows, k], u.data.map((x, i) => x * s[i % k]!));
  const back = multiply(us, v, { transposeB: true });
  let err = 0;
  for (let i = 0; i < m.data.length; i++) err = Math.hypot(err, back.data[i]! - m.data[i]!);
  assertLessOrEqual(err, 1e-12 * frobeniusNorm(m), "reconstruction");
  for (const q of [u, v]) {
    const g = multiply(q, q, { transposeA: true });
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        assertLessOrEqual(Math.abs(g.data[i * k + j]! - (i === j ? 1 : 0)), 1e-12, "orthogonality");
      }
    }
  }
}

const entry = fc.oneof(
  fc.double({ min: -10, max: 10, noNaN: true }),
  fc.constantFrom(0, -0, 1, 2 ** -1074, 1e-300),
);

function randomMatrix(maxDim: number): fc.Arbitrary<Matrix> {
  return fc.tuple(fc.integer({ min: 0, max: maxDim }), fc.integer({ min: 0, max: maxDim })).chain((
    [r, c],
  ) => fc.array(entry, { minLength: r * c, maxLength: r * c }).map((d) => matrix([r, c], d)));
}

/** A product (m, k)·(k, n): rank ≤ k. */
function lowRankMatrix(): fc.Arbitrary<Matrix> {
  return fc.tuple(
    fc.integer({ min: 1, max: 9 }),
    fc.integer({ min: 1, max: 9 }),
    fc.integer({ min: 1, max: 4 }),
  ).chain(([r, c, k]) =>
    fc.tuple(
      fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: r * k, maxLength: r * k }),
      fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: k * c, maxLength: k * c }),
    ).map(([a, b]) => multiply(matrix([r, k], a), matrix([k, c], b)))
  );
}

Deno.test("`svd()` reconstructs random, tall and wide matrices with orthonormal factors", () => {
  fc.assert(fc.property(randomMatrix(9), checkSvd), fcParams(150));
});

Deno.test("`svd()` handles rank-deficient matrices (products of thin factors)", () => {
  fc.assert(fc.property(lowRankMatrix(), checkSvd), fcParams(150));
});

Deno.test("`svd()` of a 1×1 matrix is (±1, |x|, ±1)", () => {
  for (const x of [3, -2.5, 0, -0, 5e-324, 1.7976931348623157e308]) {
    const { u, s, v } = svd(matrix([1, 1], [x]));
    assertEquals(s[0], Math.abs(x));
    assertEquals(u.data[0]! * s[0]! * v.data[0]!, x === 0 ? 0 : x);
  }
});

Deno.test("`svd()` of empty shapes gives empty factors", () => {
  const a = svd(matrix([0, 3]));
  assertEquals([a.u.rows, a.u.cols, a.s.length, a.v.rows, a.v.cols], [0, 0, 0, 3, 0]);
  const b = svd(matrix([4, 0]));
  assertEquals([b.u.rows, b.u.cols, b.s.length, b.v.rows, b.v.cols], [4, 0, 0, 0, 0]);
});

Deno.test("`svd()` of the zero matrix has σ = 0 and still orthonormal u, v", () => {
  checkSvd(matrix([3, 2]));
  assertEquals([...svd(matrix([3, 2])).s], [0, 0]);
});

Deno.test("`svd()` finds the known spectrum of diag and of an orthogonal-times-diagonal matrix", () => {
  assertEquals([...svd(matrix([3, 3], [0, 0, 2, 0, -7, 0, 1, 0, 0])).s], [7, 2, 1]);
  // [[3, 4], [4, -3]]/5 is orthogonal and symmetric; times diag(10, 1): σ = 10, 1.
  const q = [0.6, 0.8, 0.8, -0.6];
  const m = matrix([2, 2], [q[0]! * 10, q[1]!, q[2]! * 10, q[3]!]);
  const { s } = svd(m);
  assertLessOrEqual(Math.abs(s[0]! - 10), 1e-14 * 10);
  assertLessOrEqual(Math.abs(s[1]! - 1), 1e-14 * 10);
});

Deno.test("`svd()` is scale-invariant: huge and tiny matrices neither overflow nor underflow", () => {
  for (const f of [2 ** 1000, 2 ** -1000]) {
    const m = matrix([2, 3], [1, 2, 3, 4, 5, 6].map((x) => x * f));
    checkSvd(m);
    const ref = svd(matrix([2, 3], [1, 2, 3, 4, 5, 6])).s;
    const { s } = svd(m);
    for (let i = 0; i < 2; i++) assertEquals(s[i], ref[i]! * f);
  }
});

Deno.test("`svd()` of a 60×40 random matrix meets the bounds", () => {
  let state = 12345;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
  checkSvd(matrix([60, 40], Array.from({ length: 2400 }, next)));
  checkSvd(matrix([30, 70], Array.from({ length: 2100 }, next)));
});

Deno.test("`svd()` refuses NaN and infinities with E_RANGE, leaving the input unchanged", () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const m = matrix([2, 2], [1, 2, bad, 4]);
    const e = assertThrows(() => svd(m), LoraquantRangeError, "m must be finite");
    assertEquals(e.code, "E_RANGE");
    assertEquals([...m.data], [1, 2, bad, 4]);
  }
});
