import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { binaryFraction, fcParams } from "./_testing.ts";
import { calibrate, calibrateRange } from "./calibrate.ts";
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";
import { roundHalfToEven } from "./rounding.ts";

function neighbour(x: number, up: boolean): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + (up ? 1n : -1n));
  return view.getFloat64(0);
}

/**
 * Asserts that s (> 0) is the float64 nearest to (a − b) / k, ties to even: |s·k − (a − b)| is
 * no larger than for either neighbour of s (strictly smaller unless s's last bit is 0).
 */
function assertNearestQuotient(s: number, a: number, b: number, k: number): void {
  const fa = binaryFraction(a);
  const fb = binaryFraction(b);
  const dist = (c: number) => {
    const fc_ = binaryFraction(c);
    const K = [fa.k, fb.k, fc_.k].reduce((m, v) => (v > m ? v : m));
    const exact = (fa.n << (K - fa.k)) - (fb.n << (K - fb.k));
    const d = (fc_.n << (K - fc_.k)) * BigInt(k) - exact;
    return d < 0n ? -d : d;
  };
  const here = dist(s);
  for (
    const other of [neighbour(s, true), ...(s > Number.MIN_VALUE ? [neighbour(s, false)] : [])]
  ) {
    const there = dist(other);
    const evenHere = (binaryFraction(s).n & 1n) === 0n || binaryFraction(s).k === 0n;
    assert(
      here < there || (here === there && evenHere),
      `${s} is not nearest to (${a} − ${b}) / ${k}`,
    );
  }
}

function roundHalfEvenModel(num: bigint, den: bigint): bigint {
  // den > 0; floor division toward −∞, then ties to even.
  let f = num / den;
  if (num < 0n && f * den !== num) f -= 1n;
  const r = num - f * den;
  return 2n * r > den || (2n * r === den && f % 2n !== 0n) ? f + 1n : f;
}

Deno.test("`calibrateRange()` symmetric scale is M / (qmax − z) rounded once to nearest", () => {
  fc.assert(
    fc.property(
      fc.double({ min: -1e300, max: 0, noNaN: true }),
      fc.double({ min: 0, max: 1e300, noNaN: true }),
      fc.constantFrom("int4", "uint4", "int8", "uint8", "int16", "uint16" as const),
      (lo, hi, dtype) => {
        const { scale, zeroPoint } = calibrateRange([lo, hi], dtype);
        const bits = Number(dtype.replace(/u?int/, ""));
        const unsigned = dtype.startsWith("u");
        assertEquals(zeroPoint, unsigned ? 2 ** (bits - 1) : 0);
        const m = Math.max(-lo, hi);
        if (m === 0) return assertEquals(scale, 1);
        const k = unsigned ? 2 ** bits - 1 - 2 ** (bits - 1) : 2 ** (bits - 1) - 1;
        assertNearestQuotient(scale, m, 0, k);
      },
    ),
    fcParams(300),
  );
});

Deno.test("`calibrateRange()` asymmetric scale does not round max − min first", () => {
  // Found by search: (mx − mn) rounded to float64 and then divided gives another double.
  const mx = 7.619806129138151;
  const mn = -0.02452010619436472;
  const { scale } = calibrateRange([mn, mx], "int8", { scheme: "asymmetric" });
  assertNearestQuotient(scale, mx, mn, 255);
  assert(scale !== (mx - mn) / 255, "the double-rounded quotient differs here");
  fc.assert(
    fc.property(
      fc.double({ min: -1e3, max: 0, noNaN: true }),
      fc.double({ min: 0, max: 1e3, noNaN: true }),
      fc.integer({ min: -60, max: 0 }),
      (lo, hi, shift) => {
        const mn = lo * 2 ** shift;
        if (mn === 0 && hi === 0) return;
        const p = calibrateRange([mn, hi], "uint8", { scheme: "asymmetric" });
        assertNearestQuotient(p.scale, hi, mn, 255);
        // zeroPoint = 0 − roundHalfEven(mn / scale) on the exact quotient, clamped to [0, 255].
        const a = binaryFraction(mn);
        const s = binaryFraction(p.scale);
        const z = -roundHalfEvenModel(a.n << s.k, s.n << a.k);
        assertEquals(p.zeroPoint, Number(z < 0n ? 0n : z > 255n ? 255n : z));
      },
    ),
    fcParams(300),
  );
});

Deno.test("`calibrateRange()` keeps 0 inside the range and handles a zero range", () => {
  assertEquals(calibrateRange([2, 4], "int8", { scheme: "asymmetric" }), {
    scale: 4 / 255,
    zeroPoint: -128,
  });
  assertEquals(calibrateRange([0, 0], "int8", { scheme: "asymmetric" }), {
    scale: 1,
    zeroPoint: -128,
  });
  assertEquals(calibrateRange([0, 0], "uint4"), { scale: 1, zeroPoint: 8 });
  assertEquals(calibrateRange([-1, 1], "int8", { range: "restricted" }).scale, 1 / 127);
  assertEquals(calibrateRange([-1, 0], "int8", { scheme: "asymmetric", range: "restricted" }), {
    scale: 1 / 254,
    zeroPoint: 127,
  });
});

Deno.test("`calibrateRange()` rejects bad arguments", () => {
  assertThrows(() => calibrateRange([1, 0], "int8"), LoraquantRangeError);
  assertThrows(() => calibrateRange([NaN, 0], "int8"), LoraquantRangeError);
  assertThrows(() => calibrateRange([0, 1], "int32" as "int8"), LoraquantTypeError);
  assertThrows(() => calibrateRange([0, 1], "uint8", { range: "restricted" }), LoraquantTypeError);
});

Deno.test("`calibrate()` by percentile clips to the nearest-rank percentile", () => {
  const x = [-50, ...Array.from({ length: 98 }, (_, i) => i / 97 - 0.5), 100]; // 100 values
  // Symmetric, p = 99: rank ceil(0.99·100) = 99 of |x| sorted; the two largest are 50 and 100.
  assertEquals(calibrate(x, "int8", { method: "percentile", percentile: 99 }).scale, 50 / 127);
  assertEquals(calibrate(x, "int8", { method: "percentile", percentile: 98 }).scale, 0.5 / 127);
  // Asymmetric, p = 99: hi = the 99th smallest (0.5), lo = the 99th largest (−0.5).
  assertEquals(
    calibrate(x, "uint8", { method: "percentile", percentile: 99, scheme: "asymmetric" }).scale,
    1 / 255,
  );
  // p = 100 is min/max.
  assertEquals(
    calibrate(x, "int8", { method: "percentile", percentile: 100 }),
    calibrate(x, "int8"),
  );
  assertThrows(
    () => calibrate(x, "int8", { method: "percentile", percentile: 0 }),
    LoraquantRangeError,
  );
  assertThrows(
    () => calibrate(x, "int8", { method: "percentile", percentile: 101 }),
    LoraquantRangeError,
  );
});

Deno.test("`calibrate()` by MSE never does worse than min/max and clips outliers", () => {
  const err = (values: number[], p: { scale: number; zeroPoint: number }, qmin = -8, qmax = 7) =>
    values.reduce((acc, v) => {
      const q = Math.min(qmax, Math.max(qmin, roundHalfToEven(v / p.scale) + p.zeroPoint));
      return acc + (v - (q - p.zeroPoint) * p.scale) ** 2;
    }, 0);
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 40 }),
      (values) => {
        const best = calibrate(values, "int8", { method: "mse", steps: 20 });
        const minmax = calibrate(values, "int8");
        assert(
          err(values, best, -128, 127) <= err(values, minmax, -128, 127) * (1 + 1e-9) + 1e-300,
        );
      },
    ),
    fcParams(100),
  );
  // 1000 values in [−1, 1] and one outlier 4: clipping to ratio 0.42 (scale 1.68 / 7) wins.
  const x = [...Array.from({ length: 1000 }, (_, i) => Math.sin(i)), 4];
  const clipped = calibrate(x, "int4", { method: "mse" });
  assert(clipped.scale < 4 / 7);
  assert(err(x, clipped) < err(x, calibrate(x, "int4")));
  assertEquals(calibrate([], "int8", { method: "mse" }), { scale: 1, zeroPoint: 0 });
  assertThrows(() => calibrate(x, "int8", { method: "mse", steps: 0 }), LoraquantRangeError);
  assertThrows(() => calibrate(x, "int8", { method: "mse", steps: 1.5 }), LoraquantTypeError);
  assertThrows(() => calibrate([Infinity], "int8"), LoraquantRangeError);
  assertThrows(() => calibrate([1], "int8", { method: "best" as "mse" }), LoraquantTypeError);
});
