import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { integerMatmul, matmul, type MatmulDtype } from "./matmul.ts";
import { matrix } from "./matrix.ts";
import { LoraquantRangeError, type LoraquantTypeError } from "./errors.ts";
import { FLOAT_FORMAT_NAMES, FLOAT_FORMATS, type FloatFormatName } from "./format.ts";
import { INTEGER_DTYPES, type IntegerAccumulator, type IntegerDtype } from "./dtype.ts";
import { decode, roundValue } from "./cast.ts";
import { exactStep, referenceKernel } from "./_matmul_exact.ts";
import {
  addRoundToOdd,
  fastKernel,
  fusedStep,
  genericRounder,
  rounderFor,
} from "./_matmul_fast.ts";
import { anyDouble, fcParams } from "./_testing.ts";

// ---------------------------------------------------------------------------------------------
// An independent exact model, written from the protocol without the code under test: values are
// dyadic rationals M·2^E (BigInt M), sums and products are exact, and one nearest-even rounding
// to a format (t fraction bits, smallest normal exponent emin, unbounded exponent) is done by
// integer division, then the format's overflow rule from oracle-protocol.md "cast".

interface Spec {
  t: number;
  emin: number;
  max: number;
  inf: boolean;
  nan: boolean;
}

/** The formats' parameters from their specifications (IEEE 754, OCP 8-bit and MX v1.0). */
const SPECS: Record<FloatFormatName, Spec> = {
  "float64": { t: 52, emin: -1022, max: Number.MAX_VALUE, inf: true, nan: true },
  "float32": { t: 23, emin: -126, max: (2 - 2 ** -23) * 2 ** 127, inf: true, nan: true },
  "float16": { t: 10, emin: -14, max: 65504, inf: true, nan: true },
  "bfloat16": { t: 7, emin: -126, max: (2 - 2 ** -7) * 2 ** 127, inf: true, nan: true },
  "fp8-e4m3": { t: 3, emin: -6, max: 448, inf: false, nan: true },
  "fp8-e5m2": { t: 2, emin: -14, max: 57344, inf: true, nan: true },
  "fp6-e2m3": { t: 3, emin: 0, max: 7.5, inf: false, nan: false },
  "fp6-e3m2": { t: 2, emin: -2, max: 28, inf: false, nan: false },
  "fp4-e2m1": { t: 1, emin: 0, max: 6, inf: false, nan: false },
};

interface Dy {
  m: bigint; // signed
  e: number;
}

/** The exact value of a finite double as m·2^e, by doubling until it is an integer. */
function toDy(x: number): Dy {
  let e = 0;
  let v = x;
  while (!Number.isInteger(v)) {
    v *= 2;
    e--;
  }
  return { m: BigInt(v), e };
}

function addDy(x: Dy, y: Dy): Dy {
  const e = Math.min(x.e, y.e);
  return { m: (x.m << BigInt(x.e - e)) + (y.m << BigInt(y.e - e)), e };
}

function bits(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** One nearest-even rounding of m·2^e (m ≠ 0) to the spec, then its overflow rule. */
function roundDy(x: Dy, spec: Spec): number {
  const neg = x.m < 0n;
  const mag = neg ? -x.m : x.m;
  const exponent = bits(mag) - 1 + x.e; // floor(log2 |x|)
  const q = Math.max(exponent, spec.emin) - spec.t;
  let n: bigint;
  if (x.e >= q) n = mag << BigInt(x.e - q);
  else {
    const shift = BigInt(q - x.e);
    n = mag >> shift;
    const rem = mag - (n << shift);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (n & 1n) === 1n)) n += 1n;
  }
  let y = Number(n) * 2 ** q;
  if (y > spec.max) y = spec.inf ? Infinity : spec.nan ? NaN : spec.max;
  return neg ? -y : y;
}

/** The overflow rule for an infinite value (cast: ±Infinity, NaN in e4m3, ±max in fp6/fp4). */
function specialTo(x: number, spec: Spec): number {
  if (Number.isNaN(x) || spec.inf) return x;
  if (spec.nan) return NaN;
  return x > 0 ? spec.max : -spec.max;
}

/** One FMA step of the protocol: acc(s + a·b), IEEE rules for specials and signed zeros. */
function modelStep(s: number, a: number, b: number, spec: Spec): number {
  if (![s, a, b].every(Number.isFinite)) {
    // IEEE: a·b of specials and s + ±Infinity involve no rounding. A finite a·b is never
    // needed here beyond its sign, except when s is finite and a or b is special.
    if (Number.isFinite(a) && Number.isFinite(b)) return s; // s is NaN or ±Infinity
    return specialTo(s + a * b, spec);
  }
  const p = toDy(a);
  const z = toDy(b);
  const exact = addDy(toDy(s), { m: p.m * z.m, e: p.e + z.e });
  if (exact.m === 0n) {
    // Exact zero: −0 only for (−0) + (−0), the product's sign being the xor of a's and b's.
    const productNegative = (Object.is(a, -0) || a < 0) !== (Object.is(b, -0) || b < 0);
    return Object.is(s, -0) && productNegative && (a === 0 || b === 0) ? -0 : 0;
  }
  return roundDy(exact, spec);
}

/** The model matmul, on inputs already in the dtype. */
function modelMatmul(
  a: number[],
  b: number[],
  m: number,
  k: number,
  n: number,
  accumulate: FloatFormatName,
): number[] {
  const spec = SPECS[accumulate];
  const y: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < n; p++) {
      let s = 0;
      for (let j = 0; j < k; j++) s = modelStep(s, a[i * k + j]!, b[j * n + p]!, spec);
      y.push(s);
    }
  }
  return y;
}

// ---------------------------------------------------------------------------------------------
// Generators: values of a dtype, with ties, cancellations, subnormals and overflow in reach.

/** Small dyadic values: integers times powers of two, plus edge constants. */
function dyadicValue(spread: number): fc.Arbitrary<number> {
  return fc.oneof(
    fc.tuple(fc.integer({ min: -300, max: 300 }), fc.integer({ min: -spread, max: spread }))
      .map(([m, e]) => m * 2 ** e),
    fc.constantFrom(0, -0, 1, -1, 0.5, 1 + 2 ** -10, 1 - 2 ** -11, 2048, 65504, 448, 6, 7.5),
  );
}

/** Values for float64 inputs: anything, with near-tie products and the fast path's edges. */
function float64Value(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.double({ noNaN: true, min: -1e6, max: 1e6 }),
    fc.tuple(fc.integer({ min: 1, max: 60 }), fc.constantFrom(1, -1))
      .map(([j, sign]) => sign * (1 + 2 ** -j)),
    fc.tuple(fc.integer({ min: 1, max: 60 }), fc.constantFrom(1, -1))
      .map(([j, sign]) => sign * (1 - 2 ** -j)),
    fc.tuple(fc.integer({ min: -(2 ** 20), max: 2 ** 20 }), fc.integer({ min: -1074, max: 971 }))
      .map(([m, e]) => m * 2 ** e),
    fc.constantFrom(
      2 ** -480,
      2 ** 500,
      2 ** -481,
      2 ** 501,
      2 ** 511,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Number.MIN_VALUE,
      2 ** -1022,
      2 ** 512,
      -(2 ** 512),
      1,
      -1,
      0,
      -0,
    ),
    anyDouble(),
  );
}

function flat(values: fc.Arbitrary<number>, count: number): fc.Arbitrary<number[]> {
  return fc.array(values, { minLength: count, maxLength: count });
}

function castAll(x: number[], dtype: FloatFormatName): number[] {
  return x.map((v) => roundValue(v, FLOAT_FORMATS[dtype], "nearest-even", false, 0));
}

// ---------------------------------------------------------------------------------------------
// Worked examples and hand-derived facts.

Deno.test("`matmul()` reproduces ex12 and ex13: 3000 ones sum to 2048 in float16, 3000 in float32", () => {
  const ones = new Array(3000).fill(1);
  const a = matrix([1, 3000], ones);
  const b = matrix([3000, 1], ones);
  assertEquals([...matmul(a, b, { dtype: "float16", accumulate: "float16" }).y.data], [2048]);
  assertEquals([...matmul(a, b, { dtype: "float16", accumulate: "float32" }).y.data], [3000]);
});

Deno.test("`integerMatmul()` reproduces ex14 (int8 inputs, int32 accumulator)", () => {
  const a = matrix([2, 3], [127, -128, 3, 1, 2, 3]);
  const b = matrix([3, 2], [127, 1, -128, 2, 5, 3]);
  const r = integerMatmul(a, b, { dtype: "int8", accumulate: "int32" });
  assertEquals([...r.y.data], [32528n, -120n, -114n, 14n]);
  assertEquals([r.y.rows, r.y.cols, r.overflowed], [2, 2, false]);
});

Deno.test("`matmul()` rounds each step once: a fused multiply-add, not a product then a sum", () => {
  const x = 1 + 2 ** -30;
  const y = matmul(matrix([1, 2], [-1, x]), matrix([2, 1], [1, x]), {
    dtype: "float64",
    accumulate: "float64",
  });
  assertEquals(y.y.data[0], 2 ** -29 + 2 ** -60); // x² − 1 exactly; x·x alone rounds it off
  // float32 accumulation of float64 inputs: (1 + 2^-24)·1 + 2^-60·1 is above the float32 tie.
  const z = matmul(matrix([1, 2], [1 + 2 ** -24, 2 ** -60]), matrix([2, 1], [1, 1]), {
    dtype: "float64",
    accumulate: "float32",
  });
  assertEquals(z.y.data[0], 1); // step 1: the tie 1 + 2^-24 goes to even 1; step 2: 1 + 2^-60 → 1
  const w = matmul(matrix([1, 1], [1 + 2 ** -24 + 2 ** -52]), matrix([1, 1], [1]), {
    dtype: "float64",
    accumulate: "float32",
  });
  assertEquals(w.y.data[0], 1 + 2 ** -23); // just above the tie: up
});

Deno.test("`matmul()` casts inputs to the dtype first, with the cast overflow rules", () => {
  const y = matmul(matrix([1, 1], [500]), matrix([1, 1], [1]), {
    dtype: "fp8-e4m3",
    accumulate: "float32",
  });
  assert(Number.isNaN(y.y.data[0]));
  const z = matmul(matrix([1, 1], [0.1]), matrix([1, 1], [1]), {
    dtype: "float16",
    accumulate: "float64",
  });
  assertEquals(z.y.data[0], Math.f16round(0.1));
});

Deno.test("`matmul()` applies the accumulate format's overflow rule at each step", () => {
  const run = (x: number[], accumulate: FloatFormatName): number =>
    matmul(matrix([1, x.length], x), matrix([x.length, 1], x.map(() => 1)), {
      dtype: "float32",
      accumulate,
    }).y.data[0]!;
  assertEquals(run([65504, 16], "float16"), Infinity); // 65520 is a tie, to even 65536 > max
  assertEquals(run([65504, 15], "float16"), 65504);
  assertEquals(run([65504, 16, -65504], "float16"), Infinity); // ∞ stays
  assertEquals(run([448, 16], "fp8-e4m3"), 448); // tie to even 448
  assert(Number.isNaN(run([448, 17], "fp8-e4m3"))); // 480 is beyond max: NaN
  assertEquals(run([6, 6, -1], "fp4-e2m1"), 4); // 12 → ±max = 6, then 6 − 1 = 5 → tie to even 4
  assertEquals(run([-6, -6], "fp6-e2m3"), -7.5);
  assertEquals(run([57344, 57344], "fp8-e5m2"), Infinity);
});

Deno.test("`matmul()` follows IEEE rules for NaN, infinities and signed zeros", () => {
  const run = (x: number[], z: number[], accumulate: FloatFormatName = "float32"): number =>
    matmul(matrix([1, x.length], x), matrix([x.length, 1], z), {
      dtype: "float32",
      accumulate,
    }).y.data[0]!;
  assert(Number.isNaN(run([Infinity, -Infinity], [1, 1]))); // ∞ − ∞
  assert(Number.isNaN(run([Infinity], [0]))); // ∞·0
  assertEquals(run([Infinity, 5], [1, 1]), Infinity);
  assert(Number.isNaN(run([NaN, 1], [1, 1])));
  assertEquals(run([-1], [0]), 0); // +0 + (−0) = +0
  assertEquals(run([1, -1], [1, 1]), 0); // exact cancellation: +0
  assertEquals(run([-(2 ** -30)], [1], "float16"), -0); // a negative value rounding to zero
  assertEquals(run([-(2 ** -30), -1], [1, 0], "float16"), -0); // −0 + (−0) = −0
  assertEquals(run([-(2 ** -30), 1], [1, 0], "float16"), 0); // −0 + (+0) = +0
  assertEquals(run([Infinity], [1], "fp4-e2m1"), 6); // ∞ into fp4: ±max
  assert(Number.isNaN(run([Infinity], [1], "fp8-e4m3"))); // ∞ into e4m3: NaN
});

Deno.test("`matmul()` handles empty, 1×1 and k = 1 shapes; k = 0 gives +0", () => {
  const opts = { dtype: "float32", accumulate: "float32" } as const;
  const e = matmul(matrix([2, 0], []), matrix([0, 3], []), opts);
  assertEquals([e.y.rows, e.y.cols, [...e.y.data]], [2, 3, [0, 0, 0, 0, 0, 0]]);
  assert(e.y.data.every((v) => Object.is(v, 0)));
  const m0 = matmul(matrix([0, 4], []), matrix([4, 2], new Array(8).fill(1)), opts);
  assertEquals([m0.y.rows, m0.y.cols, m0.y.data.length], [0, 2, 0]);
  const n0 = matmul(matrix([2, 4], new Array(8).fill(1)), matrix([4, 0], []), opts);
  assertEquals([n0.y.rows, n0.y.cols, n0.y.data.length], [2, 0, 0]);
  assertEquals([...matmul(matrix([1, 1], [3]), matrix([1, 1], [-2]), opts).y.data], [-6]);
  const outer = matmul(matrix([2, 1], [1, 2]), matrix([1, 2], [3, 4]), opts);
  assertEquals([...outer.y.data], [3, 4, 6, 8]);
  const ints = integerMatmul(matrix([1, 0], []), matrix([0, 1], []), {
    dtype: "int8",
    accumulate: "int32",
  });
  assertEquals([[...ints.y.data], ints.overflowed], [[0n], false]);
});

Deno.test("`matmul()` refuses bad arguments with the protocol's codes", () => {
  const a = matrix([1, 2], [1, 2]);
  const b = matrix([2, 1], [3, 4]);
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      return (e as LoraquantTypeError | LoraquantRangeError).code;
    }
    return "none";
  };
  const any = (x: unknown) => x as never;
  assertEquals(code(() => matmul(a, b, { dtype: any("int64"), accumulate: "float32" })), "E_ARG");
  assertEquals(code(() => matmul(a, b, { dtype: "int8", accumulate: any("int32") })), "E_ARG");
  assertEquals(code(() => matmul(a, a, { dtype: "int8", accumulate: "float32" })), "E_SHAPE");
  const broken = { rows: 2, cols: 1, data: new Float64Array(3) };
  assertEquals(code(() => matmul(a, broken, { dtype: "int8", accumulate: "float32" })), "E_SHAPE");
  assertEquals(
    code(() =>
      matmul(matrix([1, 1], [1.5]), matrix([1, 1], [1]), { dtype: "int8", accumulate: "float32" })
    ),
    "E_RANGE",
  );
  assertEquals(
    code(() =>
      matmul(matrix([1, 1], [NaN]), matrix([1, 1], [1]), {
        dtype: "fp4-e2m1",
        accumulate: "float32",
      })
    ),
    "E_RANGE",
  );
  assertEquals(
    code(() =>
      matmul(matrix([1, 1], [NaN]), matrix([1, 1], [1]), {
        dtype: "float16",
        accumulate: "fp6-e3m2",
      })
    ),
    "E_RANGE",
  );
  const ib = { dtype: "int8", accumulate: "int32" } as const;
  assertEquals(
    code(() => integerMatmul(a, b, { dtype: any("float16"), accumulate: "int32" })),
    "E_ARG",
  );
  assertEquals(code(() => integerMatmul(a, b, { ...ib, overflow: any("widen") })), "E_ARG");
  assertEquals(code(() => integerMatmul(a, b, { ...ib, accumulate: any("float32") })), "E_ARG");
  assertEquals(code(() => integerMatmul(a, b, { ...ib, overflow: any("widen") })), "E_ARG");
  assertEquals(code(() => integerMatmul(a, a, { ...ib, overflow: any("nope") })), "E_ARG");
  assertEquals(code(() => integerMatmul(a, a, ib)), "E_SHAPE");
  assertEquals(
    code(() => integerMatmul(matrix([1, 1], [128]), matrix([1, 1], [1]), ib)),
    "E_RANGE",
  );
  const err = assertThrows(
    () => integerMatmul(matrix([1, 1], [1]), matrix([1, 1], [-129]), ib),
    LoraquantRangeError,
  );
  assert(err.message.includes("b[0][0]"));
});

Deno.test("`matmul()` never modifies its inputs", () => {
  const a = matrix([1, 2], [0.1, 500]);
  const b = matrix([2, 1], [1, 1]);
  matmul(a, b, { dtype: "fp8-e4m3", accumulate: "float16" });
  assertEquals([...a.data], [0.1, 500]);
});

// ---------------------------------------------------------------------------------------------
// The reference kernel against the independent model; the fast kernels against the reference.

const NARROW_DTYPES: FloatFormatName[] = FLOAT_FORMAT_NAMES.filter((f) => f !== "float64");

Deno.test("`matmul()` equals the independent exact model on small random float cases", () => {
  const shapes = fc.record({
    m: fc.integer({ min: 0, max: 3 }),
    k: fc.integer({ min: 0, max: 6 }),
    n: fc.integer({ min: 0, max: 3 }),
    dtype: fc.constantFrom(...FLOAT_FORMAT_NAMES),
    accumulate: fc.constantFrom(...FLOAT_FORMAT_NAMES),
    spread: fc.constantFrom(4, 12, 40),
  });
  const cases = shapes.chain((c) =>
    fc.record({
      c: fc.constant(c),
      a: flat(c.dtype === "float64" ? float64Value() : dyadicValue(c.spread), c.m * c.k),
      b: flat(c.dtype === "float64" ? float64Value() : dyadicValue(c.spread), c.k * c.n),
    })
  );
  fc.assert(
    fc.property(cases, ({ c, a, b }) => {
      const noNaN = !FLOAT_FORMATS[c.dtype].hasNaN || !FLOAT_FORMATS[c.accumulate].hasNaN;
      if (noNaN && [...a, ...b].some(Number.isNaN)) return; // E_RANGE, tested elsewhere
      const av = castAll(a, c.dtype);
      const bv = castAll(b, c.dtype);
      let expected: number[] | "E_RANGE";
      try {
        expected = modelMatmul(av, bv, c.m, c.k, c.n, c.accumulate);
        if (!FLOAT_FORMATS[c.accumulate].hasNaN && expected.some(Number.isNaN)) {
          expected = "E_RANGE";
        }
      } catch {
        expected = "E_RANGE";
      }
      const run = () =>
        matmul(matrix([c.m, c.k], a), matrix([c.k, c.n], b), {
          dtype: c.dtype,
          accumulate: c.accumulate,
        });
      if (expected === "E_RANGE") {
        assertThrows(run, LoraquantRangeError);
        return;
      }
      assertEquals([...run().y.data], expected);
    }),
    fcParams(400),
  );
});

function kernelsAgree(
  av: number[],
  bv: number[],
  m: number,
  k: number,
  n: number,
  acc: FloatFormatName,
  path: "exact-products" | "fused",
): void {
  const a = Float64Array.from(av);
  const bt = new Float64Array(k * n);
  for (let j = 0; j < k; j++) for (let p = 0; p < n; p++) bt[p * k + j] = bv[j * n + p]!;
  const f = FLOAT_FORMATS[acc];
  let ref: number[] | string;
  try {
    ref = [...referenceKernel(a, bt, m, n, k, f)];
  } catch (e) {
    ref = (e as LoraquantRangeError).code;
  }
  let fast: number[] | string;
  try {
    fast = [...fastKernel(a, bt, m, n, k, f, path)];
  } catch (e) {
    fast = (e as LoraquantRangeError).code;
  }
  assertEquals(fast, ref);
}

Deno.test("the fast exact-product kernels equal the BigInt reference for every format pair", () => {
  const cases = fc.record({
    dtype: fc.constantFrom(...NARROW_DTYPES),
    accumulate: fc.constantFrom(...FLOAT_FORMAT_NAMES),
    k: fc.integer({ min: 1, max: 12 }),
    spread: fc.constantFrom(3, 10, 30, 150),
  }).chain((c) =>
    fc.record({
      c: fc.constant(c),
      a: flat(fc.oneof(dyadicValue(c.spread), anyDouble()), 2 * c.k),
      b: flat(fc.oneof(dyadicValue(c.spread), anyDouble()), c.k * 2),
    })
  );
  fc.assert(
    fc.property(cases, ({ c, a, b }) => {
      const ok = (v: number) => !Number.isNaN(v) || FLOAT_FORMATS[c.dtype].hasNaN;
      const av = castAll(
        a.filter(ok).concat(new Array(2 * c.k).fill(1)).slice(0, 2 * c.k),
        c.dtype,
      );
      const bv = castAll(
        b.filter(ok).concat(new Array(2 * c.k).fill(1)).slice(0, 2 * c.k),
        c.dtype,
      );
      kernelsAgree(av, bv, 2, c.k, 2, c.accumulate, "exact-products");
    }),
    fcParams(600),
  );
});

Deno.test("the fast exact-product kernels equal the reference on integer dtypes up to 16 bits", () => {
  const cases = fc.record({
    bits: fc.constantFrom(4, 8, 16),
    accumulate: fc.constantFrom(...FLOAT_FORMAT_NAMES),
    k: fc.integer({ min: 1, max: 10 }),
  }).chain((c) => {
    const v = fc.integer({ min: -(2 ** (c.bits - 1)), max: 2 ** c.bits - 1 });
    return fc.record({ c: fc.constant(c), a: flat(v, c.k), b: flat(v, c.k) });
  });
  fc.assert(
    fc.property(
      cases,
      ({ c, a, b }) => kernelsAgree(a, b, 1, c.k, 1, c.accumulate, "exact-products"),
    ),
    fcParams(300),
  );
});

Deno.test("the fused kernel (float64 and int32 inputs) equals the BigInt reference", () => {
  const cases = fc.record({
    accumulate: fc.constantFrom(...FLOAT_FORMAT_NAMES),
    k: fc.integer({ min: 1, max: 10 }),
    ints: fc.boolean(),
  }).chain((c) => {
    const v = c.ints
      ? fc.oneof(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.constantFrom(-(2 ** 31), 2 ** 31 - 1, 0, 1, -1, 2 ** 16 + 1),
      )
      : float64Value();
    return fc.record({ c: fc.constant(c), a: flat(v, 2 * c.k), b: flat(v, 2 * c.k) });
  });
  fc.assert(
    fc.property(cases, ({ c, a, b }) => kernelsAgree(a, b, 2, c.k, 2, c.accumulate, "fused")),
    fcParams(800),
  );
});

Deno.test("`fusedStep()` equals the BigInt step on near-ties, cancellations and edges", () => {
  // Adversarial steps built by hand: s ± a·b lands exactly on or next to a midpoint of the
  // accumulate format, or cancels to a value far below s.
  const values = fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }))
      .map(([i, j]) => 1 + 2 ** -i + 2 ** -j),
    fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: -40, max: 40 }))
      .map(([i, e]) => (1 - 2 ** -i) * 2 ** e),
    float64Value(),
  );
  const sums = fc.oneof(
    values,
    fc.tuple(values, values).map(([a, b]) => -(a * b)),
    fc.tuple(values, values, fc.integer({ min: -3, max: 3 }))
      .map(([a, b, d]) => -(a * b) + d * 2 ** -53),
  );
  fc.assert(
    fc.property(
      sums,
      values,
      values,
      fc.constantFrom(...FLOAT_FORMAT_NAMES),
      (s0, a, b, acc) => {
        const f = FLOAT_FORMATS[acc];
        const s = rounderFor(f)(s0);
        if (!Number.isFinite(s) || !Number.isFinite(a) || !Number.isFinite(b)) return;
        if (a === 0 || b === 0) return;
        const fast = fusedStep(s, a, b, acc !== "float64", rounderFor(f));
        if (fast === undefined) return;
        assertEquals(fast, exactStep(s, a, b, f));
      },
    ),
    fcParams(3000),
  );
});

Deno.test("the generic fast rounder equals cast's rounding for every format", () => {
  for (const name of FLOAT_FORMAT_NAMES) {
    if (name === "float64") continue;
    const f = FLOAT_FORMATS[name];
    const round = genericRounder(f);
    const check = (x: number) => {
      if (Number.isNaN(x) && !f.hasNaN) return;
      assertEquals(round(x), roundValue(x, f, "nearest-even", false, 0), `${name} ${x}`);
    };
    for (let e = -160; e <= 140; e++) {
      for (const m of [1, 1.5, 1.25, 1.125, 1.0625, 1 + 2 ** -52, 2 - 2 ** -52, 1.75]) {
        check(m * 2 ** e);
        check(-m * 2 ** e);
      }
    }
    fc.assert(fc.property(anyDouble(), (x) => check(x)), fcParams(2000));
  }
});

// ---------------------------------------------------------------------------------------------
// Integer accumulators against BigInt arithmetic written here.

function modelInteger(
  a: number[],
  b: number[],
  m: number,
  k: number,
  n: number,
  bitsOf: number,
  overflow: "wrap" | "saturate" | "error",
): { y: bigint[]; overflowed: boolean } | "E_OVERFLOW" {
  const min = -(1n << BigInt(bitsOf - 1));
  const max = (1n << BigInt(bitsOf - 1)) - 1n;
  const mod = 1n << BigInt(bitsOf);
  let overflowed = false;
  const y: bigint[] = [];
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < n; p++) {
      let s = 0n;
      for (let j = 0; j < k; j++) {
        let t = s + BigInt(a[i * k + j]!) * BigInt(b[j * n + p]!);
        if (t < min || t > max) {
          overflowed = true;
          if (overflow === "error") return "E_OVERFLOW";
          if (overflow === "saturate") t = t < min ? min : max;
          else {
            t = ((t % mod) + mod) % mod; // [0, 2^bits)
            if (t > max) t -= mod;
          }
        }
        s = t;
      }
      y.push(s);
    }
  }
  return { y, overflowed };
}

const INTEGER_RANGES: Record<IntegerDtype, [number, number]> = {
  int4: [-8, 7],
  uint4: [0, 15],
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-(2 ** 31), 2 ** 31 - 1],
};

Deno.test("`integerMatmul()` equals BigInt arithmetic for every dtype, accumulator and rule", () => {
  const cases = fc.record({
    dtype: fc.constantFrom(...INTEGER_DTYPES),
    accumulate: fc.constantFrom<IntegerAccumulator>("int16", "int32", "int64"),
    overflow: fc.constantFrom("wrap", "saturate", "error") as fc.Arbitrary<
      "wrap" | "saturate" | "error"
    >,
    m: fc.integer({ min: 0, max: 3 }),
    k: fc.integer({ min: 0, max: 8 }),
    n: fc.integer({ min: 0, max: 3 }),
  }).chain((c) => {
    const [lo, hi] = INTEGER_RANGES[c.dtype];
    const v = fc.oneof(
      fc.integer({ min: lo, max: hi }),
      fc.constantFrom(lo, hi, 0, -1 < lo ? 0 : -1),
    );
    return fc.record({ c: fc.constant(c), a: flat(v, c.m * c.k), b: flat(v, c.k * c.n) });
  });
  fc.assert(
    fc.property(cases, ({ c, a, b }) => {
      const bitsOf = { int16: 16, int32: 32, int64: 64 }[c.accumulate];
      const expected = modelInteger(a, b, c.m, c.k, c.n, bitsOf, c.overflow);
      const run = () =>
        integerMatmul(matrix([c.m, c.k], a), matrix([c.k, c.n], b), {
          dtype: c.dtype,
          accumulate: c.accumulate,
          overflow: c.overflow,
        });
      if (expected === "E_OVERFLOW") {
        const e = assertThrows(run, LoraquantRangeError);
        assertEquals(e.code, "E_OVERFLOW");
        return;
      }
      const r = run();
      assertEquals([[...r.y.data], r.overflowed], [expected.y, expected.overflowed]);
    }),
    fcParams(600),
  );
});

Deno.test("`integerMatmul()` at the int32 and int64 boundaries wraps, saturates or fails", () => {
  // int16: (−32768)² = 2^30; two of them make 2^31, one past int32's max.
  const a = matrix([1, 2], [-32768, -32768]);
  const b = matrix([2, 1], [-32768, -32768]);
  const run = (overflow: "wrap" | "saturate" | "error", accumulate: IntegerAccumulator) =>
    integerMatmul(a, b, { dtype: "int16", accumulate, overflow });
  assertEquals(run("wrap", "int32").y.data[0], -(2n ** 31n));
  assertEquals(run("saturate", "int32").y.data[0], 2n ** 31n - 1n);
  assertEquals(run("wrap", "int32").overflowed, true);
  assertThrows(() => run("error", "int32"), LoraquantRangeError, "int32");
  assertEquals(run("error", "int64").y.data[0], 2n ** 31n);
  // int32: (−2^31)² = 2^62; two make 2^63, one past int64's max; a third brings it back in.
  const c = matrix([1, 3], [-(2 ** 31), -(2 ** 31), 2 ** 31 - 1]);
  const d = matrix([3, 1], [-(2 ** 31), -(2 ** 31), -(2 ** 31)]);
  const wrap = integerMatmul(c, d, { dtype: "int32", accumulate: "int64", overflow: "wrap" });
  assertEquals(wrap.y.data[0], BigInt.asIntN(64, 2n ** 63n + (2n ** 31n - 1n) * -(2n ** 31n)));
  assertEquals(wrap.overflowed, true);
  const sat = integerMatmul(c, d, { dtype: "int32", accumulate: "int64", overflow: "saturate" });
  assertEquals(sat.y.data[0], 2n ** 63n - 1n + (2n ** 31n - 1n) * -(2n ** 31n));
  const big = integerMatmul(matrix([1, 1], [-(2 ** 31)]), matrix([1, 1], [-(2 ** 31)]), {
    dtype: "int32",
    accumulate: "int64",
  });
  assertEquals([big.y.data[0], big.overflowed], [2n ** 62n, false]);
});

Deno.test("`matmul()` with integer dtypes accumulates exactly into float formats", () => {
  // 2^24 + 1 is a float32 tie: the step rounds to even, 2^24; the next +1 again.
  const x = matrix([1, 3], [4096, 1, 1]);
  const z = matrix([3, 1], [4096, 1, 1]);
  const y = matmul(x, z, { dtype: "int16", accumulate: "float32" });
  assertEquals(y.y.data[0], 2 ** 24);
  const w = matmul(matrix([1, 2], [2 ** 31 - 1, 1]), matrix([2, 1], [2 ** 31 - 1, 0]), {
    dtype: "int32",
    accumulate: "float64",
  });
  assertEquals(w.y.data[0], Number((2n ** 31n - 1n) ** 2n)); // 2^62 − 2^32 + 1 rounded once
});

// Typed names so `MatmulDtype` stays exercised by the checker.
const _dtypes: MatmulDtype[] = ["float64", "int8"];
void _dtypes;

Deno.test("`fusedStep()` equals the BigInt step when s + a·b needs more than two doubles", () => {
  // Full-precision a, b with a·b far below s make TwoSum(tl, pl) inexact (the third term ve ≠ 0),
  // and b chosen so that s + a·b lands next to a midpoint of the accumulate format.
  const unit = fc.double({ min: 0.5, max: 1, noNaN: true });
  fc.assert(
    fc.property(
      fc.double({ min: -2, max: 2, noNaN: true }),
      unit,
      unit,
      fc.integer({ min: 0, max: 60 }),
      fc.boolean(),
      fc.constantFrom(...FLOAT_FORMAT_NAMES),
      (s0, a0, b0, shift, nearTie, acc) => {
        const f = FLOAT_FORMATS[acc];
        const round = rounderFor(f);
        const s = round(s0);
        if (!Number.isFinite(s)) return;
        const a = a0 * 2 ** -shift;
        // A midpoint above s: half the format's spacing at s (float64: half an ulp of s).
        const e = Math.max(Math.floor(Math.log2(Math.abs(s) || 1)), f.emin);
        const half = 2 ** (e - f.mantissaBits - 1);
        const b = nearTie ? (half / a) * (1 + (b0 - 0.75) * 2 ** -40) : b0 - 0.75;
        if (a === 0 || b === 0 || !Number.isFinite(b)) return;
        const fast = fusedStep(s, a, b, acc !== "float64", round);
        if (fast === undefined) return;
        assertEquals(fast, exactStep(s, a, b, f));
      },
    ),
    fcParams(5000),
  );
});

Deno.test("the round-to-odd step equals the BigInt step exhaustively on the 4-, 6- and 8-bit formats", () => {
  // Every finite value s of each small accumulate format, against every distinct product of two
  // fp6-e3m2 values (which reach from 2^-8 to 784: ties, overflow and subnormals of each format).
  const values = (name: FloatFormatName): number[] => {
    const out: number[] = [];
    for (let bits = 0; bits < 2 ** FLOAT_FORMATS[name].bits; bits++) {
      const v = decode(bits, name);
      if (Number.isFinite(v)) out.push(v);
    }
    return out;
  };
  const inputs = values("fp6-e3m2");
  const products = [...new Set(inputs.flatMap((x) => inputs.map((z) => x * z)))];
  for (const name of ["fp4-e2m1", "fp6-e2m3", "fp6-e3m2", "fp8-e4m3", "fp8-e5m2"] as const) {
    const f = FLOAT_FORMATS[name];
    const round = rounderFor(f);
    for (const s of values(name)) {
      for (const p of products) {
        const fast = round(addRoundToOdd(s, p));
        const exact = exactStep(s, p, 1, f);
        if (!Object.is(fast, exact)) assertEquals(fast, exact, `${name}: ${s} + ${p}`);
      }
    }
  }
});
