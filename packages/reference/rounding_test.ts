import { assertEquals } from "@std/assert";
import fc from "fast-check";
import { roundHalfAwayFromZero, roundHalfToEven, roundTowardZero } from "./rounding.ts";
import { fcParams } from "./_testing.ts";

/** The exact rule, on BigInt multiples of 2^-1074 (every finite double is one). */
function exact(x: number, rule: "even" | "away"): number {
  const scale = 2n ** 1074n;
  // x·2^1074 is an integer: build it from the decimal-free binary expansion.
  const v = new Float64Array([x]);
  const bits = new BigUint64Array(v.buffer)[0]!;
  const neg = bits >> 63n === 1n;
  const e = Number((bits >> 52n) & 0x7ffn);
  const f = bits & ((1n << 52n) - 1n);
  const n = e === 0 ? f : (f | (1n << 52n)) << BigInt(e - 1);
  const q = n / scale;
  const r = n - q * scale;
  const twice = 2n * r;
  const up = twice > scale || (twice === scale && (rule === "away" || q % 2n === 1n));
  const m = Number(up ? q + 1n : q);
  return neg ? -m : m;
}

Deno.test("roundHalfToEven() and roundHalfAwayFromZero() agree with exact BigInt rounding", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.integer({ min: -1000, max: 1000 }).map((k) => k + 0.5),
        fc.constantFrom(0.49999999999999994, 2 ** 52 + 1, 4503599627370495.5, -0.5),
      ),
      (x) => {
        assertEquals(roundHalfToEven(x), exact(x, "even") || (x < 0 || Object.is(x, -0) ? -0 : 0));
        assertEquals(
          roundHalfAwayFromZero(x),
          exact(x, "away") || (x < 0 || Object.is(x, -0) ? -0 : 0),
        );
      },
    ),
    fcParams(3000),
  );
});

Deno.test("the rounding rules keep NaN and infinities and follow the sign of zero", () => {
  for (const f of [roundHalfToEven, roundHalfAwayFromZero, roundTowardZero]) {
    assertEquals([NaN, Infinity, -Infinity, -0].map(f), [NaN, Infinity, -Infinity, -0]);
  }
  assertEquals(roundHalfToEven(-0.4), -0);
  assertEquals(roundHalfToEven(0.49999999999999994), 0); // Math.round-style x + 0.5 gets 1
});
