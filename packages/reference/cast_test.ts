import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { cast, decode, encode, roundToFormat } from "./cast.ts";
import { FLOAT_FORMATS, type FloatFormatName } from "./format.ts";
import { LoraquantRangeError } from "./errors.ts";
import { fcParams } from "./_testing.ts";

// ---------------------------------------------------------------------------------------------
// Independent decoders, written from the specifications without the code under test.

/** float16 through the platform's Float16Array. */
function float16Value(bits: number): number {
  return new Float16Array(new Uint16Array([bits]).buffer)[0]!;
}

/** bfloat16 is the top half of a float32. */
function bfloat16Value(bits: number): number {
  return new Float32Array(new Uint32Array([bits << 16 >>> 0]).buffer)[0]!;
}

/** The OCP small formats from the spec's tables: sign, E exponent bits, M mantissa bits, bias. */
function ocpValue(
  bits: number,
  e: number,
  m: number,
  bias: number,
  nanOnlyTop: boolean,
  ieee: boolean,
): number {
  const sign = bits >> (e + m) ? -1 : 1;
  const exp = (bits >> m) & ((1 << e) - 1);
  const man = bits & ((1 << m) - 1);
  if (ieee && exp === (1 << e) - 1) return man === 0 ? sign * Infinity : NaN;
  if (nanOnlyTop && exp === (1 << e) - 1 && man === (1 << m) - 1) return NaN;
  if (exp === 0) return sign * man * 2 ** (1 - bias - m);
  return sign * (1 + man / 2 ** m) * 2 ** (exp - bias);
}

const INDEPENDENT: Record<Exclude<FloatFormatName, "float64" | "float32">, (b: number) => number> =
  {
    "float16": float16Value,
    "bfloat16": bfloat16Value,
    "fp8-e4m3": (b) => ocpValue(b, 4, 3, 7, true, false),
    "fp8-e5m2": (b) => ocpValue(b, 5, 2, 15, false, true),
    "fp6-e2m3": (b) => ocpValue(b, 2, 3, 1, false, false),
    "fp6-e3m2": (b) => ocpValue(b, 3, 2, 3, false, false),
    "fp4-e2m1": (b) => ocpValue(b, 2, 1, 1, false, false),
  };
const SMALL = Object.keys(INDEPENDENT) as (keyof typeof INDEPENDENT)[];

Deno.test("decode() agrees with independent decoders on every pattern of every small format", () => {
  for (const name of SMALL) {
    const width = FLOAT_FORMATS[name].bits;
    for (let b = 0; b < 2 ** width; b++) {
      assertEquals(decode(b, name), INDEPENDENT[name](b), `${name} bits ${b}`);
    }
  }
});

Deno.test("decode() then encode() returns every pattern; NaN patterns come back canonical", () => {
  for (const name of SMALL) {
    const f = FLOAT_FORMATS[name];
    for (let b = 0; b < 2 ** f.bits; b++) {
      const v = decode(b, name);
      assertEquals(encode(v, name), Number.isNaN(v) ? f.canonicalNaN : b, `${name} bits ${b}`);
      // Every decoded value is a fixed point of rounding, whatever the rule.
      if (!Number.isNaN(v) && Number.isFinite(v)) {
        for (const rounding of ["nearest-even", "nearest-away", "toward-zero"] as const) {
          assertEquals(roundToFormat(v, name, { rounding }), v);
        }
      }
    }
  }
});

Deno.test("the canonical NaNs are the protocol's", () => {
  assertEquals(encode(NaN, "float64"), 0x7ff8000000000000n);
  assertEquals(encode(NaN, "float32"), 0x7fc00000);
  assertEquals(encode(NaN, "float16"), 0x7e00);
  assertEquals(encode(NaN, "bfloat16"), 0x7fc0);
  assertEquals(encode(NaN, "fp8-e5m2"), 0x7e);
  assertEquals(encode(NaN, "fp8-e4m3"), 0x7f);
});

Deno.test("float32 patterns round-trip through decode() and encode() (sampled with edges)", () => {
  const view = new Float32Array(1);
  const bits = new Uint32Array(view.buffer);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.constantFrom(0, 1, 0x7f7fffff, 0x7f800000, 0x80000000, 0x00800000, 0x007fffff),
      ),
      (b) => {
        bits[0] = b;
        const independent = view[0]!;
        const v = decode(b, "float32");
        assertEquals(v, independent);
        assertEquals(encode(v, "float32"), Number.isNaN(v) ? 0x7fc00000 : b);
      },
    ),
    fcParams(2000),
  );
});

// ---------------------------------------------------------------------------------------------
// Rounding, checked against an exhaustive nearest-value search over each small format.

/** Every non-negative finite value of a small format, ascending, plus the unbounded next one. */
function ladder(name: keyof typeof INDEPENDENT): { values: number[]; evenCode: boolean[] } {
  const f = FLOAT_FORMATS[name];
  const values: number[] = [];
  const evenCode: boolean[] = [];
  for (let b = 0; b < 2 ** (f.bits - 1); b++) {
    const v = INDEPENDENT[name](b);
    if (Number.isFinite(v)) {
      values.push(v);
      evenCode.push(b % 2 === 0);
    }
  }
  // The first value above max with an unbounded exponent: max + one ulp of max's binade.
  const ulp = 2 ** (Math.floor(Math.log2(f.max)) - f.mantissaBits);
  values.push(f.max + ulp);
  evenCode.push(f.specials === "nan-only" ? true : true); // a carry into a new binade is even
  return { values, evenCode };
}

const LADDERS = Object.fromEntries(SMALL.map((n) => [n, ladder(n)])) as Record<
  keyof typeof INDEPENDENT,
  { values: number[]; evenCode: boolean[] }
>;

/** Nearest-value reference: the neighbours lo ≤ |x| < hi, and the rule's choice. */
function expectedRound(
  x: number,
  name: keyof typeof INDEPENDENT,
  rounding: "nearest-even" | "nearest-away" | "toward-zero",
): number {
  const f = FLOAT_FORMATS[name];
  const { values, evenCode } = LADDERS[name];
  const a = Math.abs(x);
  let pick: number;
  if (a >= values[values.length - 1]!) pick = Infinity; // beyond the unbounded neighbour
  else {
    let i = 0;
    while (values[i + 1]! <= a) i++;
    const lo = values[i]!, hi = values[i + 1]!;
    const mid = (lo + hi) / 2; // exact: lo and hi have few bits
    if (a === lo) pick = lo;
    else if (rounding === "toward-zero") pick = lo;
    else if (a < mid) pick = lo;
    else if (a > mid) pick = hi;
    else if (rounding === "nearest-away") pick = hi;
    else pick = evenCode[i] ? lo : hi;
  }
  let y = pick;
  if (pick > f.max) {
    y = rounding === "toward-zero" ? f.max : f.hasInfinity ? Infinity : f.hasNaN ? NaN : f.max;
  }
  return x < 0 || Object.is(x, -0) ? -y : y;
}

/** Doubles near the values, midpoints and overflow thresholds of a small format. */
function trickyDouble(name: keyof typeof INDEPENDENT): fc.Arbitrary<number> {
  const { values } = LADDERS[name];
  const anchors = values.flatMap((v, i) =>
    i + 1 < values.length ? [v, (v + values[i + 1]!) / 2] : [v]
  );
  return fc.tuple(
    fc.constantFrom(...anchors),
    fc.integer({ min: -3, max: 3 }),
    fc.boolean(),
  ).map(([v, ulps, neg]) => {
    let y = v;
    for (let k = 0; k < Math.abs(ulps); k++) y = nextDouble(y, ulps > 0);
    return neg ? -y : y;
  });
}

function nextDouble(x: number, up: boolean): number {
  const f = new Float64Array([x]);
  const b = new BigInt64Array(f.buffer);
  if (x === 0) return up ? Number.MIN_VALUE : -Number.MIN_VALUE;
  b[0] = b[0]! + ((x > 0) === up ? 1n : -1n);
  return f[0]!;
}

for (const name of SMALL) {
  for (const rounding of ["nearest-even", "nearest-away", "toward-zero"] as const) {
    Deno.test(`cast() to ${name} with ${rounding} picks the neighbour an exhaustive search picks`, () => {
      fc.assert(
        fc.property(
          fc.oneof(
            trickyDouble(name),
            fc.double({ noNaN: true, noDefaultInfinity: true }),
            fc.double({ min: -1000, max: 1000, noNaN: true }),
          ),
          (x) => {
            assertEquals(
              roundToFormat(x, name, { rounding }),
              expectedRound(x, name, rounding),
              `x = ${x}`,
            );
          },
        ),
        fcParams(1500),
      );
    });
  }
}

Deno.test("cast() to float16 equals Math.f16round, traps and ties included", () => {
  const trap = fc.tuple(
    fc.integer({ min: -24, max: 15 }),
    fc.integer({ min: 0, max: 1023 }),
    fc.integer({ min: -3, max: 3 }),
  )
    .map(([e, m, k]) => {
      // The midpoint between consecutive float16 values, nudged by k float64 ulps.
      let x = (1 + (m + 0.5) / 1024) * 2 ** e;
      for (let i = 0; i < Math.abs(k); i++) x = nextDouble(x, k > 0);
      return x;
    });
  fc.assert(
    fc.property(fc.oneof(trap, fc.double(), fc.double({ min: -70000, max: 70000 })), (x) => {
      assertEquals(roundToFormat(x, "float16"), Math.f16round(x));
    }),
    fcParams(5000),
  );
});

Deno.test("cast() to float32 equals Math.fround, subnormals and overflow included", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.double(),
        fc.double({ min: -1e-37, max: 1e-37 }),
        fc.constantFrom(3.4028235677973366e38, 3.4028235677973362e38, 2 ** -150, 3 * 2 ** -151),
      ),
      (x) => assertEquals(roundToFormat(x, "float32"), Math.fround(x)),
    ),
    fcParams(5000),
  );
});

Deno.test("cast() rounds once: 1 + 2⁻¹¹ + 2⁻⁴⁰ goes to 1.0009765625 in float16, via float32 to 1", () => {
  const x = 1 + 2 ** -11 + 2 ** -40;
  assertEquals(roundToFormat(x, "float16"), 1.0009765625);
  assertEquals(Math.f16round(Math.fround(x)), 1);
  assertEquals(roundToFormat(1.00048828125000022204, "float16"), 1.0009765625);
});

Deno.test("cast() keeps signed zeros, sends negative underflow to −0, and handles infinities per format", () => {
  assertEquals([...cast([-0, 0, -1e-10], "float16")], [-0, 0, -0]);
  assertEquals([...cast([Infinity, -Infinity], "fp8-e5m2")], [Infinity, -Infinity]);
  assertEquals([...cast([Infinity, -Infinity], "fp8-e4m3")], [NaN, NaN]);
  assertEquals([...cast([Infinity, -Infinity], "fp4-e2m1")], [6, -6]);
  assertEquals([...cast([Infinity, -Infinity, NaN], "float16", { saturate: true })], [
    65504,
    -65504,
    NaN,
  ]);
  assertEquals([...cast([1e9, -1e9], "fp6-e3m2")], [28, -28]);
  assertEquals([...cast([1e9], "float16", { rounding: "toward-zero" })], [65504]);
  assertEquals([...cast([464, 470], "fp8-e4m3")], [448, NaN]); // 464 is a tie: 448 (even) wins
});

Deno.test("cast() refuses NaN into formats without NaN, naming the element", () => {
  const e = assertThrows(() => cast([1, NaN], "fp4-e2m1"), LoraquantRangeError, "x[1]");
  assertEquals(e.code, "E_RANGE");
  assertThrows(() => cast([1], "fp4-e2m1", { rounding: "stochastic" }), TypeError, "seed");
  assertThrows(() => cast([1], "fp4-e2m1", { rounding: "stochastic", seed: 2 ** 53 }), RangeError);
});

Deno.test("stochastic cast() lands on a neighbour, hi exactly when u < (x − lo)/(hi − lo) by value", () => {
  // u comes from SplitMix64 seed 7, re-derived here with plain BigInt arithmetic.
  const mask = (1n << 64n) - 1n;
  let state = 7n;
  const draw = (): number => {
    state = (state + 0x9e3779b97f4a7c15n) & mask;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
    return Number((z ^ (z >> 31n)) >> 11n) / 2 ** 53;
  };
  // Values in [1, 2) and (−2, −1], where float16's gap is 2^−10; every third one negative.
  const xs = Array.from({ length: 3000 }, (_, i) => {
    const m = 1 + (i % 97) / 97 * 2 ** -9 + (i % 5 === 0 ? 2 ** -10 : 0);
    return i % 3 === 0 ? -m : m;
  });
  const y = cast(xs, "float16", { rounding: "stochastic", seed: 7 });
  let ups = 0, expectedUps = 0;
  xs.forEach((x, i) => {
    const u = draw();
    // lo ≤ x ≤ hi, the neighbours BY VALUE (floor and ceiling on the 2^−10 grid).
    const lo = Math.floor(x * 1024) / 1024;
    const hi = lo === x ? x : lo + 2 ** -10;
    const want = lo === x ? x : (u < (x - lo) / (hi - lo) ? hi : lo); // exact: few bits
    assertEquals(y[i], want, `x[${i}] = ${x}`);
    if (y[i] !== lo) ups++;
    expectedUps += (x - lo) * 1024;
  });
  // Unbiased on average: the number of ups is within 5σ of its expectation.
  assert(Math.abs(ups - expectedUps) < 5 * Math.sqrt(xs.length / 4), `${ups} vs ${expectedUps}`);
  // The protocol's own example, and the mirror image of it by value.
  assertEquals(
    [...cast([0.1, 0.1, 0.1, 0.1], "float16", { rounding: "stochastic", seed: 42 })].map((v) =>
      encode(v, "float16")
    ),
    [11878, 11879, 11879, 11879],
  );
});

Deno.test("cast() leaves infinite inputs unrounded, whatever the rule", () => {
  for (const rounding of ["nearest-even", "nearest-away", "toward-zero"] as const) {
    assertEquals([...cast([Infinity, -Infinity], "float16", { rounding })], [Infinity, -Infinity]);
    assertEquals([...cast([Infinity], "fp8-e4m3", { rounding })], [NaN]);
    assertEquals([...cast([-Infinity], "fp6-e2m3", { rounding })], [-7.5]);
  }
});
