import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { binaryFraction, fcParams } from "./_testing.ts";
import { exactRound, roundQuotient } from "./_affine.ts";
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";
import { matrix } from "./matrix.ts";
import { quantize } from "./quantize.ts";
import { SplitMix64 } from "./splitmix64.ts";

// ---------------------------------------------------------------------------------------------
// An independent exact model: a float64 as the fraction n / 2^k read from its bits (DataView),
// and BigInt comparisons. Shares no code with _exact.ts.

/** floor(x / s) and the fraction (x / s − floor) as num/den, den > 0, for s > 0. */
function floorAndFraction(x: number, s: number): { floor: bigint; num: bigint; den: bigint } {
  const a = binaryFraction(x);
  const b = binaryFraction(s);
  // x / s = (a.n · 2^b.k) / (b.n · 2^a.k)
  let num = a.n * (1n << b.k);
  const den = b.n * (1n << a.k);
  let floor = num / den; // truncates toward zero
  if (num < 0n && floor * den !== num) floor -= 1n;
  num = num - floor * den;
  return { floor, num, den };
}

/** round-half-even of the exact x / s, by value. */
function modelNearestEven(x: number, s: number): number {
  const { floor, num, den } = floorAndFraction(x, s);
  const up = 2n * num > den || (2n * num === den && floor % 2n !== 0n);
  return Number(up ? floor + 1n : floor);
}

function nextUp(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  if (x === 0) return Number.MIN_VALUE;
  view.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

function nextDown(x: number): number {
  return -nextUp(-x);
}

const ROUNDINGS = ["nearest-even", "nearest-away", "toward-zero", "stochastic"] as const;

// ---------------------------------------------------------------------------------------------

Deno.test("`quantize()` reproduces ex15: per-row symmetric int8", () => {
  const x = matrix([2, 3], [0.5, -1, 0.25, 2, -0.75, 1.5]);
  const r = quantize(x, "int8", { scheme: "symmetric", granularity: "channel", axis: 0 });
  // scale = M / 127 rounded once: IEEE division is that rounding.
  assertEquals([...r.scale], [1 / 127, 2 / 127]);
  assertEquals([...r.zeroPoint], [0, 0]);
  // Hand-derived: 0.5 / fl(1/127) is just above or below 63.5, never a tie; the model decides.
  const expected = [0.5, -1, 0.25].map((v) => modelNearestEven(v, 1 / 127))
    .concat([2, -0.75, 1.5].map((v) => modelNearestEven(v, 2 / 127)));
  assertEquals(expected, [64, -127, 32, 127, -48, 95]);
  assertEquals([...r.q.data], expected);
});

Deno.test("`quantize()` reproduces fbgemm's example: 128 under pytorch, 127 under onnx", () => {
  const x = matrix([1, 1], [0.273939937]);
  const scale = [0.00214854861];
  // Independent: fbgemm multiplies by the float32 reciprocal, ONNX divides in float32.
  const xf = Math.fround(0.273939937);
  const sf = Math.fround(0.00214854861);
  assertEquals(Math.fround(xf * Math.fround(1 / sf)), 127.5);
  assert(Math.fround(xf / sf) < 127.5);
  const base = { scale, zeroPoint: [0] };
  assertEquals(quantize(x, "uint8", { ...base, profile: "pytorch" }).q.data[0], 128);
  assertEquals(quantize(x, "uint8", { ...base, profile: "onnx" }).q.data[0], 127);
  assertEquals(quantize(x, "int8", { ...base, profile: "pytorch" }).q.data[0], 127);
  assertEquals(quantize(x, "int8", { ...base, profile: "onnx" }).q.data[0], 127);
  // The exact profile decides on the exact quotient of the float64 values.
  assertEquals(quantize(x, "uint8", base).q.data[0], modelNearestEven(0.273939937, 0.00214854861));
});

Deno.test("`quantize()` rounds exact ties by the rounding rule", () => {
  // scale 0.25 is a power of two: x / scale is exact, and ±2.5, ±3.5 are true ties.
  const x = matrix([1, 4], [0.625, 0.875, -0.625, -0.875]);
  const q = (
    rounding: (typeof ROUNDINGS)[number],
  ) => [...quantize(x, "int8", { scale: [0.25], rounding, seed: 1 }).q.data];
  assertEquals(q("nearest-even"), [2, 4, -2, -4]);
  assertEquals(q("nearest-away"), [3, 4, -3, -4]);
  assertEquals(q("toward-zero"), [2, 3, -2, -3]);
});

Deno.test("`quantize()` does not treat a float64 quotient that rounds onto .5 as a tie", () => {
  // Search x = fl((k + 1/2)·s) with fl(x / s) = k + 1/2 while the exact x / s is not.
  let found = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: -100, max: 100 }),
      fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
      (k, s) => {
        const x = (k + 0.5) * s;
        if (x / s !== k + 0.5) return;
        const exact = floorAndFraction(x, s);
        if (2n * exact.num === exact.den) return; // a true tie
        found++;
        const expected = Number(2n * exact.num > exact.den ? exact.floor + 1n : exact.floor);
        for (const rounding of ["nearest-even", "nearest-away"] as const) {
          const got = quantize(matrix([1, 1], [x]), "int16", { scale: [s], rounding }).q.data[0];
          assertEquals(got, expected);
        }
      },
    ),
    fcParams(2000),
  );
  assert(found > 50, `only ${found} near-ties found`);
});

Deno.test("`roundQuotient()` fast path equals the BigInt path on adversarial inputs", () => {
  const near = fc.tuple(
    fc.integer({ min: -300, max: 300 }),
    fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
    fc.constantFrom(0, 0.5, 0.25),
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom(...ROUNDINGS),
    fc.oneof(fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.constantFrom(0, 2 ** 52, 2 ** 53 - 1)),
  ).map(([k, s, frac, steps, rounding, uk]) => {
    // x next to (k + frac)·s: a tie, an integer or a quarter, moved by a few ulps.
    let x = (k + frac) * s;
    for (let i = 0; i < Math.abs(steps); i++) x = steps > 0 ? nextUp(x) : nextDown(x);
    // For stochastic rounding, put u at the float64 fraction too, to stress u vs fraction.
    const t = x / s;
    const u = uk % 3 === 0 ? Math.floor((t - Math.floor(t)) * 2 ** 53) / 2 ** 53 : uk / 2 ** 53;
    return { x, s, rounding, u };
  });
  const edge = fc.record({
    x: fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(0, -0, Number.MIN_VALUE, -Number.MIN_VALUE, 2 ** -1022, Number.MAX_VALUE),
    ),
    s: fc.oneof(
      fc.double({ min: Number.MIN_VALUE, max: Number.MAX_VALUE, noNaN: true }),
      fc.constantFrom(Number.MIN_VALUE, 2 ** -1022, 1, Number.MAX_VALUE),
    ),
    rounding: fc.constantFrom(...ROUNDINGS),
    u: fc.integer({ min: 0, max: 2 ** 53 - 1 }).map((k) => k / 2 ** 53),
  });
  fc.assert(
    fc.property(fc.oneof(near, edge), ({ x, s, rounding, u }) => {
      const fast = roundQuotient(x, s, rounding, u, 0, -(2 ** 21), 2 ** 21);
      const t = x / s;
      const bigint = Math.abs(t) >= 2 ** 20 ? (t > 0 ? 2 ** 21 : -(2 ** 21)) : Math.max(
        -(2 ** 21),
        Math.min(2 ** 21, exactRound(x, s, rounding, u)),
      );
      if (Math.abs(t) < 2 ** 20) assertEquals(fast, bigint, `x=${x} s=${s} ${rounding} u=${u}`);
      else assert(Math.abs(fast) >= 2 ** 20 - 1);
    }),
    fcParams(3000),
  );
});

Deno.test("`exactRound()` agrees with the independent BigInt model for nearest-even", () => {
  fc.assert(
    fc.property(
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
      (x, s) => {
        if (Math.abs(x / s) >= 2 ** 40) return;
        assertEquals(exactRound(x, s, "nearest-even", 0), modelNearestEven(x, s));
      },
    ),
    fcParams(500),
  );
});

Deno.test("`quantize()` error is at most scale/2 inside the range", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 16 }),
      fc.constantFrom("int4", "uint4", "int8", "uint8", "int16", "uint16" as const),
      fc.constantFrom("symmetric", "asymmetric" as const),
      (values, dtype, scheme) => {
        const x = matrix([1, values.length], values);
        const { q, scale, zeroPoint } = quantize(x, dtype, { scheme });
        const s = scale[0]!;
        const z = zeroPoint[0]!;
        for (let i = 0; i < values.length; i++) {
          const level = q.data[i]!;
          // Inside the range (not clamped): |x − (q − z)·s| ≤ s/2, checked exactly:
          // 2·|x·2^K − (q − z)·s·2^K| ≤ s·2^K with everything as BigInt fractions.
          const a = binaryFraction(values[i]!);
          const b = binaryFraction(s);
          const K = a.k > b.k ? a.k : b.k;
          const xs = a.n << (K - a.k);
          const ss = b.n << (K - b.k);
          const diff = xs - BigInt(level - z) * ss;
          const clamped = level ===
              (dtype.startsWith("u") ? 0 : -(2 ** (Number(dtype.replace(/u?int/, "")) - 1))) ||
            level ===
              (dtype.startsWith("u")
                ? 2 ** Number(dtype.replace(/u?int/, "")) - 1
                : 2 ** (Number(dtype.replace(/u?int/, "")) - 1) - 1);
          if (!clamped) assert(2n * (diff < 0n ? -diff : diff) <= ss, `x=${values[i]} q=${level}`);
        }
      },
    ),
    fcParams(300),
  );
});

Deno.test("`quantize()` with restricted range never uses the most negative level", () => {
  const x = matrix([1, 3], [-1, 0.3, 1]);
  const sym = quantize(x, "int8", { range: "restricted" });
  assertEquals([...sym.q.data].map((v) => v + 0), [-127, modelNearestEven(0.3, 1 / 127), 127]);
  const asym = quantize(x, "int8", { scheme: "asymmetric", range: "restricted" });
  assertEquals(asym.scale[0], 2 / 254);
  assert(asym.q.data.every((v) => v >= -127 && v <= 127));
  const clamped = quantize(matrix([1, 1], [-9]), "int4", { scale: [1], range: "restricted" });
  assertEquals(clamped.q.data[0], -7);
  assertThrows(() => quantize(x, "uint8", { range: "restricted" }), LoraquantTypeError, "signed");
});

Deno.test("`quantize()` orders scales per channel (axis 0 and 1) and per group", () => {
  const x = matrix([2, 4], [1, -2, 3, -4, 0.5, 0.25, -8, 2]);
  const rowsQ = quantize(x, "int8", { granularity: "channel", axis: 0 });
  assertEquals([...rowsQ.scale], [4 / 127, 8 / 127]);
  const colsQ = quantize(x, "int8", { granularity: "channel", axis: 1 });
  assertEquals([...colsQ.scale], [1 / 127, 2 / 127, 8 / 127, 4 / 127]);
  assertEquals(colsQ.q.data[6], -127); // −8 on column 2
  const groups = quantize(x, "int8", { granularity: "group", groupSize: 2 });
  assertEquals([...groups.scale], [2 / 127, 4 / 127, 0.5 / 127, 8 / 127]);
  assertEquals([...groups.q.data].map(Math.abs).filter((v) => v === 127).length, 4);
});

Deno.test("`quantize()` gives an all-zero group scale 1 and the scheme's zero point", () => {
  const x = matrix([2, 2], [0, -0, 3, 0]);
  const sym = quantize(x, "uint8", { granularity: "channel" });
  assertEquals([...sym.scale], [1, 3 / 127]);
  assertEquals([...sym.zeroPoint], [128, 128]);
  assertEquals([...sym.q.data], [128, 128, 255, 128]);
  const asym = quantize(x, "int8", { scheme: "asymmetric", granularity: "channel" });
  assertEquals([...asym.scale], [1, 3 / 255]);
  assertEquals([...asym.zeroPoint], [-128, -128]);
  assert(asym.q.data.every((v) => !Object.is(v, -0)));
});

Deno.test("`quantize()` stochastic rounding draws once per element, row-major, by value", () => {
  const values = [0.375, -0.375, 2, -1.75, 0, 5.5]; // dyadic: x − floor(x) is exact
  const x = matrix([2, 3], values);
  const r = quantize(x, "int8", { scale: [1], rounding: "stochastic", seed: 7 });
  // Independent: one draw per element (also for 2 and 0), hi when u < x − floor(x).
  const rng = new SplitMix64(7);
  const expected = values.map((v) => {
    const u = rng.nextUniform();
    const f = Math.floor(v);
    return v - f > u ? f + 1 : f;
  });
  assertEquals([...r.q.data].map((v) => v + 0), expected.map((v) => v + 0));
  assertEquals(quantize(x, "int8", { scale: [1], rounding: "stochastic", seed: 7 }), r);
});

Deno.test("`quantize()` stochastic rounding is unbiased (statistical bound)", () => {
  const n = 4000;
  for (const v of [0.3, -0.3, 2.875]) {
    const x = matrix([1, n], new Float64Array(n).fill(v));
    const q = quantize(x, "int8", { scale: [1], rounding: "stochastic", seed: 2026 }).q.data;
    const mean = q.reduce((a, b) => a + b, 0) / n;
    const p = v - Math.floor(v);
    const sigma = Math.sqrt(p * (1 - p) / n);
    assert(Math.abs(mean - v) < 5 * sigma, `mean ${mean} for ${v}`);
  }
});

Deno.test("`quantize()` handles 1×1 and empty matrices", () => {
  assertEquals([...quantize(matrix([1, 1], [-3]), "int8").q.data], [-127]);
  const empty = quantize(matrix([0, 3], []), "int8");
  assertEquals([empty.q.rows, empty.q.cols, empty.q.data.length], [0, 3, 0]);
  assertEquals([...empty.scale], [1]);
  assertEquals(quantize(matrix([0, 3], []), "int8", { granularity: "channel" }).scale.length, 0);
  assertEquals(
    quantize(matrix([2, 0], []), "int8", { granularity: "group", groupSize: 4 }).scale.length,
    0,
  );
});

Deno.test("`quantize()` replaces a scale that rounds to 0 by the smallest positive double", () => {
  const r = quantize(matrix([1, 2], [Number.MIN_VALUE, 0]), "int8");
  assertEquals(r.scale[0], Number.MIN_VALUE);
  assertEquals([...r.q.data], [1, 0]);
  // A subnormal but non-zero scale is kept: 1e-320 / 127 rounded once.
  assertEquals(quantize(matrix([1, 1], [1e-320]), "int8").scale[0], 1e-320 / 127);
});

Deno.test("`quantize()` uses given scales and zero points, and checks them", () => {
  const x = matrix([1, 3], [-1, 0, 1]);
  const r = quantize(x, "uint8", { scale: [0.5], zeroPoint: [10] });
  assertEquals([...r.q.data], [8, 10, 12]);
  assertEquals([...quantize(x, "int8", { scale: [0.5] }).zeroPoint], [0]);
  assertThrows(() => quantize(x, "int8", { scale: [0] }), LoraquantRangeError, "scale");
  assertThrows(() => quantize(x, "int8", { scale: [NaN] }), LoraquantRangeError, "scale");
  assertThrows(() => quantize(x, "int8", { scale: [1], zeroPoint: [0.5] }), LoraquantRangeError);
  assertThrows(() => quantize(x, "int8", { scale: [1], zeroPoint: [128] }), LoraquantRangeError);
  assertThrows(() => quantize(x, "int8", { scale: [1, 2] }), LoraquantTypeError, "entries");
  assertThrows(() => quantize(x, "int8", { zeroPoint: [0] }), LoraquantTypeError, "without");
  assertThrows(() => quantize(x, "int8", { scale: [1e-50], profile: "onnx" }), LoraquantRangeError);
});

Deno.test("`quantize()` rejects bad arguments with the protocol's codes", () => {
  const x = matrix([2, 4], [1, 2, 3, 4, 5, 6, 7, 8]);
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as { code: string }).code;
    }
    return "none";
  };
  assertEquals(
    code(() => quantize(x, "int8", { profile: "onnx", rounding: "toward-zero" })),
    "E_ARG",
  );
  assertEquals(code(() => quantize(x, "int8", { rounding: "stochastic" })), "E_ARG");
  assertEquals(code(() => quantize(x, "int8", { rounding: "stochastic", seed: -1 })), "E_RANGE");
  assertEquals(code(() => quantize(x, "int8", { granularity: "channel", axis: 2 })), "E_ARG");
  assertEquals(code(() => quantize(x, "int8", { granularity: "group" })), "E_ARG");
  assertEquals(code(() => quantize(x, "int8", { granularity: "group", groupSize: 3 })), "E_SHAPE");
  assertEquals(code(() => quantize(x, "int8", { granularity: "group", groupSize: 0 })), "E_RANGE");
  assertEquals(code(() => quantize(matrix([1, 1], [NaN]), "int8")), "E_RANGE");
  assertEquals(code(() => quantize(matrix([1, 1], [Infinity]), "int8")), "E_RANGE");
  // Unused arguments are ignored: axis for tensor granularity, seed without stochastic.
  assertEquals(code(() => quantize(x, "int8", { axis: 7, seed: -1 })), "none");
  // Inputs are never mutated.
  const before = [...x.data];
  quantize(x, "int8", { scheme: "asymmetric" });
  assertEquals([...x.data], before);
});

Deno.test("`quantize()` pytorch and onnx profiles match float32 arithmetic", () => {
  fc.assert(
    fc.property(
      fc.double({ min: -10, max: 10, noNaN: true }),
      fc.double({ min: 1e-3, max: 1, noNaN: true }),
      fc.integer({ min: -10, max: 10 }),
      (v, s, z) => {
        const x = matrix([1, 1], [v]);
        const xf = Math.fround(v);
        const sf = Math.fround(s);
        const clamp = (t: number) => Math.min(127, Math.max(-128, t));
        const rhe = (t: number) => {
          const f = Math.floor(t);
          return t - f > 0.5 || (t - f === 0.5 && f % 2 !== 0) ? f + 1 : f;
        };
        const pt = Math.fround(xf * Math.fround(1 / sf));
        const ox = Math.fround(xf / sf);
        const o = { scale: [s], zeroPoint: [z] };
        assertEquals(
          quantize(x, "int8", { ...o, profile: "pytorch" }).q.data[0],
          clamp(rhe(pt) + z) + 0,
        );
        assertEquals(
          quantize(x, "int8", { ...o, profile: "onnx" }).q.data[0],
          clamp(rhe(ox) + z) + 0,
        );
      },
    ),
    fcParams(300),
  );
});
