import { assertEquals } from "@std/assert";
import fc from "fast-check";
import {
  dyadic,
  exponentOf,
  FLOAT64_GRID,
  quotient,
  rationalOf,
  roundMagnitude,
  roundRational,
  roundRationalToInteger,
} from "./_exact.ts";
import { FLOAT_FORMATS } from "./format.ts";
import { ROUNDING_MODES } from "./rounding.ts";
import { fcParams } from "./_testing.ts";

Deno.test("exponentOf() is floor(log2 x) for every positive double, subnormals included", () => {
  fc.assert(
    fc.property(fc.double({ min: Number.MIN_VALUE, noNaN: true, noDefaultInfinity: true }), (x) => {
      const e = exponentOf(x);
      // 2^e ≤ x < 2^(e+1), checked on the exact binary value.
      const d = dyadic(x);
      const bits = d.mant.toString(2).length - 1 + d.exp;
      assertEquals(e, bits);
    }),
    fcParams(3000),
  );
});

Deno.test("the float path (eq. 3) and the BigInt path (eq. 4) round every double alike", () => {
  const grids = Object.values(FLOAT_FORMATS).filter((f) => f.name !== "float64");
  fc.assert(
    fc.property(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(...grids),
      fc.constantFrom(...ROUNDING_MODES),
      fc.integer({ min: 0, max: 2 ** 53 - 1 }).map((k) => k / 2 ** 53),
      (x, grid, rounding, u) => {
        const negative = x < 0 || Object.is(x, -0);
        const viaFloat = roundMagnitude(Math.abs(x), grid, rounding, u, negative);
        const viaBigInt = roundRational(rationalOf(dyadic(x)), grid, rounding, u);
        assertEquals(
          negative ? -viaFloat : viaFloat,
          viaBigInt,
          `${x} ${grid.name} ${rounding} ${u}`,
        );
      },
    ),
    fcParams(5000),
  );
});

Deno.test("roundRational() to the float64 grid equals the platform's correctly rounded division", () => {
  fc.assert(
    fc.property(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((y) => y !== 0),
      (x, y) => {
        assertEquals(roundRational(quotient(x, y), FLOAT64_GRID, "nearest-even", 0), x / y);
      },
    ),
    fcParams(3000),
  );
});

Deno.test("roundRationalToInteger() follows each rule on exact quotients, stochastic by value", () => {
  const q = (n: number, d: number) => quotient(n, d);
  assertEquals(roundRationalToInteger(q(5, 2), "nearest-even", 0), 2n);
  assertEquals(roundRationalToInteger(q(-5, 2), "nearest-even", 0), -2n);
  assertEquals(roundRationalToInteger(q(-5, 2), "nearest-away", 0), -3n);
  assertEquals(roundRationalToInteger(q(-7, 2), "toward-zero", 0), -3n);
  // x = −2.25: lo = −3, hi = −2, (x − lo)/(hi − lo) = 0.75: hi for u < 0.75, lo otherwise.
  assertEquals(roundRationalToInteger(q(-9, 4), "stochastic", 0.74), -2n);
  assertEquals(roundRationalToInteger(q(-9, 4), "stochastic", 0.75), -3n);
  assertEquals(roundRationalToInteger(q(9, 4), "stochastic", 0.24), 3n);
  assertEquals(roundRationalToInteger(q(9, 4), "stochastic", 0.25), 2n);
});
