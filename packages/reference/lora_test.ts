import fc from "fast-check";
import { assert, assertEquals, assertLessOrEqual, assertThrows } from "@std/assert";
import { binaryFraction, fcParams } from "./_testing.ts";
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";
import { frobeniusNorm, multiply } from "./linalg.ts";
import {
  composeCat,
  composeSvd,
  deltaWeight,
  dropout,
  initLora,
  type LoraAdapter,
  loraForward,
  type LoraLayer,
  loraScaling,
  mergeLora,
  safeMergeLora,
  unmergeLora,
} from "./lora.ts";
import { lowRank } from "./lowrank.ts";
import { matrix } from "./matrix.ts";
import type { Matrix } from "./matrix.ts";
import { svd } from "./svd.ts";

const U = 2 ** -53;
/** The smallest subnormal: each rounding may also lose this much absolutely (underflow). */
const ETA = 2 ** -1074;

// Independent exact arithmetic: BigInt fractions built from the IEEE 754 bits of each double.
interface Frac {
  n: bigint;
  d: bigint;
}
/** A float64 as an exact fraction, from its IEEE 754 bits (binaryFraction). */
function frac(x: number): Frac {
  const { n, k } = binaryFraction(x);
  return { n, d: 1n << k };
}
const add = (a: Frac, b: Frac): Frac => ({ n: a.n * b.d + b.n * a.d, d: a.d * b.d });
const mul = (a: Frac, b: Frac): Frac => ({ n: a.n * b.n, d: a.d * b.d });
const ZERO: Frac = { n: 0n, d: 1n };
/** A float within a relative 2^-60 of the fraction (enough to measure errors of 1e-13). */
function approx(x: Frac): number {
  const neg = x.n < 0n;
  let n = neg ? -x.n : x.n;
  let d = x.d;
  if (n === 0n) return 0;
  const shift = n.toString(2).length - d.toString(2).length - 64;
  if (shift > 0) d <<= BigInt(shift);
  else n <<= BigInt(-shift);
  const q = Number(n / d) * 2 ** shift;
  return neg ? -q : q;
}

/** Exact y = x·wᵀ + (alpha/r)·(x·aᵀ)·bᵀ + bias, and the sum of absolute terms M. */
function exactForward(x: Matrix, layer: LoraLayer): { y: Frac[]; m: number[] } {
  const r = layer.a.rows;
  const out = layer.w.rows;
  const s = { n: frac(layer.alpha).n * 1n, d: frac(layer.alpha).d * BigInt(r) };
  const y: Frac[] = [];
  const m: number[] = [];
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < out; j++) {
      let acc = ZERO;
      let abs = 0;
      for (let l = 0; l < x.cols; l++) {
        acc = add(acc, mul(frac(x.data[i * x.cols + l]!), frac(layer.w.data[j * x.cols + l]!)));
        abs += Math.abs(x.data[i * x.cols + l]! * layer.w.data[j * x.cols + l]!);
      }
      let lora = ZERO;
      for (let t = 0; t < r; t++) {
        let h = ZERO;
        for (let l = 0; l < x.cols; l++) {
          h = add(h, mul(frac(x.data[i * x.cols + l]!), frac(layer.a.data[t * x.cols + l]!)));
          abs += Math.abs(
            (layer.alpha / r) * x.data[i * x.cols + l]! * layer.a.data[t * x.cols + l]! *
              layer.b.data[j * r + t]!,
          );
        }
        lora = add(lora, mul(h, frac(layer.b.data[j * r + t]!)));
      }
      acc = add(acc, mul(s, lora));
      if (layer.bias) {
        acc = add(acc, frac(layer.bias[j]!));
        abs += Math.abs(layer.bias[j]!);
      }
      y.push(acc);
      m.push(abs);
    }
  }
  return { y, m };
}

const value = fc.oneof(
  fc.double({ min: -4, max: 4, noNaN: true }),
  fc.constantFrom(0, -0, 1, -1, 0.1, 1e-3),
);
/** Values whose products by powers of two in [2^-4, 2^4] never underflow. */
const normalValue = value.map((v) => (Math.abs(v) < 1e-290 ? 0 : v));
function mat(rows: number, cols: number, of = value): fc.Arbitrary<Matrix> {
  return fc.array(of, { minLength: rows * cols, maxLength: rows * cols }).map((d) =>
    matrix([rows, cols], d)
  );
}
/** A random LoRA layer and input: n ≤ 3, out, in ≤ 5, 1 ≤ r ≤ min(out, in). */
const layerAndInput = fc.tuple(
  fc.integer({ min: 0, max: 3 }),
  fc.integer({ min: 1, max: 5 }),
  fc.integer({ min: 1, max: 5 }),
).chain(([n, out, inputs]) =>
  fc.tuple(
    mat(n, inputs),
    mat(out, inputs),
    fc.integer({ min: 1, max: Math.min(out, inputs) }).chain((r) =>
      fc.tuple(mat(r, inputs), mat(out, r))
    ),
    fc.oneof(fc.constantFrom(1, 2, 16, 0.5), fc.double({ min: -8, max: 8, noNaN: true })),
    fc.option(fc.array(value, { minLength: out, maxLength: out }), { nil: undefined }),
  ).map(([x, w, [a, b], alpha, bias]) => {
    const layer: LoraLayer = bias === undefined
      ? { w, a, b, alpha }
      : { w, a, b, alpha, bias: Float64Array.from(bias) };
    return { x, layer };
  })
);

Deno.test("`loraScaling()` is alpha/r, or alpha/sqrt(r) with rslora", () => {
  assertEquals(loraScaling(8, { alpha: 16 }), 2);
  assertEquals(loraScaling(4, { alpha: 16, rslora: true }), 8);
  assertEquals(loraScaling(2, { alpha: 1, rslora: true }), 1 / Math.SQRT2);
  assertEquals(loraScaling(7), 1);
  assertThrows(() => loraScaling(0, { alpha: 1 }), LoraquantRangeError);
  assertThrows(() => loraScaling(1.5), LoraquantTypeError);
  assertThrows(() => loraScaling(2, { alpha: NaN }), LoraquantRangeError, "alpha");
});

Deno.test("`loraForward()` is within (in + r + 4)·(u·M + η) of the exact value (BigInt)", () => {
  fc.assert(
    fc.property(layerAndInput, ({ x, layer }) => {
      const got = loraForward(x, layer);
      const { y, m } = exactForward(x, layer);
      const bound = x.cols + layer.a.rows + 4;
      got.data.forEach((v, i) => {
        assertLessOrEqual(
          Math.abs(approx(add(frac(v), { n: -y[i]!.n, d: y[i]!.d }))),
          bound * U * m[i]! * 1.001,
        );
      });
    }),
    fcParams(150),
  );
});

Deno.test("the merged forward equals the unmerged forward within 2(in + r + 8)·(u·M + η)", () => {
  fc.assert(
    fc.property(layerAndInput, ({ x, layer }) => {
      const unmerged = loraForward(x, layer);
      const merged = multiply(x, mergeLora(layer.w, layer), { transposeB: true });
      const { y, m } = exactForward(x, layer);
      const bound = x.cols + layer.a.rows + 8;
      merged.data.forEach((v, i) => {
        const withBias = layer.bias ? v + layer.bias[i % layer.w.rows]! : v;
        assertLessOrEqual(
          Math.abs(withBias - unmerged.data[i]!),
          2 * bound * (U * m[i]! * 1.001 + ETA),
        );
        assertLessOrEqual(
          Math.abs(approx(add(frac(withBias), { n: -y[i]!.n, d: y[i]!.d }))),
          bound * U * m[i]! * 1.001,
        );
      });
    }),
    fcParams(150),
  );
});

Deno.test("merge then unmerge returns W within 2u·(|w| + |s|·Σ|b||a|) + 4η", () => {
  fc.assert(
    fc.property(layerAndInput, ({ layer }) => {
      const back = unmergeLora(mergeLora(layer.w, layer), layer);
      const r = layer.a.rows;
      const s = Math.abs(layer.alpha / r);
      for (let i = 0; i < layer.w.rows; i++) {
        for (let j = 0; j < layer.w.cols; j++) {
          let ba = 0;
          for (let t = 0; t < r; t++) {
            ba += Math.abs(layer.b.data[i * r + t]! * layer.a.data[t * layer.w.cols + j]!);
          }
          const k = i * layer.w.cols + j;
          assertLessOrEqual(
            Math.abs(back.data[k]! - layer.w.data[k]!),
            2 * U * (Math.abs(layer.w.data[k]!) + s * ba) * 1.001,
          );
        }
      }
    }),
    fcParams(150),
  );
});

Deno.test("merge and unmerge are exact when every product is (small integers, alpha = r)", () => {
  const w = matrix([2, 3], [1, 2, 3, 4, 5, 6]);
  const adapter = {
    a: matrix([2, 3], [1, 0, -1, 2, 1, 0]),
    b: matrix([2, 2], [1, 1, 0, 3]),
    alpha: 2,
  };
  const merged = mergeLora(w, adapter);
  // B·A = [[3, 1, -1], [6, 3, 0]] by hand.
  assertEquals([...merged.data], [4, 3, 2, 10, 8, 6]);
  assertEquals([...unmergeLora(merged, adapter).data], [...w.data]);
  assertEquals([...deltaWeight(adapter).data], [3, 1, -1, 6, 3, 0]);
});

Deno.test("`initLora()` kaiming-uniform: A = (2u − 1)/sqrt(in) from SplitMix64, B = 0, exact start", () => {
  const w = matrix([3, 4], [1, -2, 3, 0.5, 2, 2, -1, 0, 7, 1, 1, 1]);
  const { w: w2, adapter } = initLora(w, { rank: 2, alpha: 8, seed: 0 });
  assertEquals(w2, w);
  // The first SplitMix64 draw of seed 0 is 0xe220a8397b1dcdaf (published test vector).
  const u0 = Number(0xe220a8397b1dcdafn >> 11n) / 2 ** 53;
  assertEquals(adapter.a.data[0], (2 * u0 - 1) / 2);
  assert(adapter.a.data.every((v) => Math.abs(v) <= 0.5));
  assert(adapter.b.data.every((v) => v === 0));
  const x = matrix([2, 4], [1, 2, 3, 4, -1, 0.5, 0.25, 8]);
  assertEquals([...loraForward(x, { w, ...adapter }).data], [
    ...multiply(x, w, { transposeB: true }).data,
  ]);
  assertEquals(
    initLora(w, { rank: 2, seed: 5 }).adapter.a,
    initLora(w, { rank: 2, seed: 5 }).adapter.a,
  );
});

Deno.test("`initLora()` gaussian draws A with mean 0 and standard deviation 1/r, B = 0", () => {
  const w = matrix([64, 64]);
  const { adapter } = initLora(w, { rank: 4, init: "gaussian", seed: 9 });
  const d = adapter.a.data;
  const mean = d.reduce((s, v) => s + v, 0) / d.length;
  const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length);
  assertLessOrEqual(Math.abs(mean), (4 * 0.25) / Math.sqrt(d.length));
  assertLessOrEqual(Math.abs(sd - 0.25), 0.25 * 0.1);
  assert(adapter.b.data.every((v) => v === 0));
});

Deno.test("`initLora()` pissa puts W's top-r SVD in the adapter and the residual in W", () => {
  const w = matrix([4, 3], [4, 1, 0, 2, 3, 1, 0, 1, 5, 1, 1, 1]);
  for (const alpha of [3, 1.5]) {
    const { w: res, adapter } = initLora(w, { rank: 2, alpha, init: "pissa" });
    const back = mergeLora(res, adapter);
    w.data.forEach((v, i) =>
      assertLessOrEqual(Math.abs(back.data[i]! - v), 1e-14 * frobeniusNorm(w))
    );
    const best = lowRank(w, 2);
    const delta = deltaWeight(adapter);
    const ref = multiply(best.b, best.a);
    delta.data.forEach((v, i) =>
      assertLessOrEqual(Math.abs(v - ref.data[i]!), 1e-13 * frobeniusNorm(w))
    );
    const s = svd(w).s;
    assertLessOrEqual(Math.abs(frobeniusNorm(res) - s[2]!), 1e-13 * s[0]!);
  }
  assertThrows(
    () => initLora(w, { rank: 2, alpha: -1, init: "pissa" }),
    LoraquantRangeError,
    "scaling",
  );
});

Deno.test("`initLora()` refuses bad ranks, inits and NaN weights, naming the argument", () => {
  const w = matrix([2, 3], [1, 2, 3, 4, 5, 6]);
  assertEquals(
    assertThrows(() => initLora(w, { rank: 1.5 }), LoraquantTypeError, "rank").code,
    "E_ARG",
  );
  assertEquals(
    assertThrows(() => initLora(w, { rank: 3 }), LoraquantRangeError, "rank").code,
    "E_RANGE",
  );
  assertEquals(
    assertThrows(() => initLora(w, { rank: 0 }), LoraquantRangeError, "rank").code,
    "E_RANGE",
  );
  assertThrows(
    () => initLora(w, { rank: 1, init: "zeros" as "gaussian" }),
    LoraquantTypeError,
    "init",
  );
  const bad = matrix([2, 2], [1, NaN, 0, 0]);
  assertThrows(() => initLora(bad, { rank: 1 }), LoraquantRangeError, "w must be finite");
});

Deno.test("`dropout()` keeps each element with probability 1 − p, scaled by 1/(1 − p)", () => {
  const x = matrix([100, 100], new Float64Array(10000).fill(3));
  const y = dropout(x, { p: 0.25, seed: 4 });
  const kept = y.data.filter((v) => v !== 0);
  assert(kept.every((v) => v === 4));
  assertLessOrEqual(Math.abs(kept.length / 10000 - 0.75), 4 * Math.sqrt(0.75 * 0.25 / 10000));
  assertEquals(dropout(x, { p: 0.25, seed: 4 }), y);
  assertEquals(dropout(x, { p: 0 }).data, x.data);
  assert(x.data.every((v) => v === 3));
  assertThrows(() => dropout(x, { p: 1 }), LoraquantRangeError, "p");
  assertThrows(() => dropout(x, { p: -0.1 }), LoraquantRangeError, "p");
});

Deno.test("`loraForward()` with dropout drops only the adapter's input", () => {
  const w = matrix([1, 2], [1, 1]);
  const layer = { w, a: matrix([1, 2], [1, 1]), b: matrix([1, 1], [1]), alpha: 1 };
  const x = matrix([1, 2], [2, 3]);
  const y = loraForward(x, layer, { dropout: 0.5, seed: 2 });
  const xd = dropout(x, { p: 0.5, seed: 2 });
  assertEquals(y.data[0], 5 + (xd.data[0]! + xd.data[1]!));
});

Deno.test("`safeMergeLora()` refuses a non-finite merge and leaves W unchanged", () => {
  const w = matrix([1, 2], [1.7976931348623157e308, 1]);
  const adapter = { a: matrix([1, 2], [1e308, 1]), b: matrix([1, 1], [1]), alpha: 1 };
  const e = assertThrows(() => safeMergeLora(w, adapter), LoraquantRangeError, "(0, 0)");
  assertEquals(e.code, "E_RANGE");
  assertEquals([...w.data], [1.7976931348623157e308, 1]);
  assertEquals(mergeLora(w, adapter).data[0], Infinity);
  const ok = { a: matrix([1, 2], [1, 1]), b: matrix([1, 1], [2]), alpha: 1 };
  assertEquals(safeMergeLora(w, ok), mergeLora(w, ok));
});

Deno.test("bad LoRA input gets a typed error naming the argument and changes nothing", () => {
  const w = matrix([2, 3], [1, 2, 3, 4, 5, 6]);
  const a = matrix([1, 3], [1, 1, 1]);
  const b = matrix([2, 1], [1, 2]);
  const x = matrix([1, 3], [1, 0, 0]);
  const snapshot = () => [w, a, b, x].map((m) => [...m.data]);
  const before = snapshot();
  const cases: [
    () => unknown,
    typeof LoraquantTypeError | typeof LoraquantRangeError,
    string,
    string,
  ][] = [
    [
      () => mergeLora(w, { a: matrix([1, 2], [1, 1]), b, alpha: 1 }),
      LoraquantTypeError,
      "a must be",
      "E_SHAPE",
    ],
    [
      () => mergeLora(w, { a, b: matrix([3, 1], [1, 1, 1]), alpha: 1 }),
      LoraquantTypeError,
      "b must be",
      "E_SHAPE",
    ],
    [
      () => loraForward(matrix([1, 2], [1, 1]), { w, a, b, alpha: 1 }),
      LoraquantTypeError,
      "x must be",
      "E_SHAPE",
    ],
    [
      () => loraForward(x, { w, a, b, alpha: 1, bias: new Float64Array(3) }),
      LoraquantTypeError,
      "bias",
      "E_SHAPE",
    ],
    [
      () => mergeLora(w, { a: matrix([0, 3]), b: matrix([2, 0]), alpha: 1 }),
      LoraquantRangeError,
      "got 0",
      "E_RANGE",
    ],
    [
      () => mergeLora(w, { a: matrix([3, 3]), b: matrix([2, 3]), alpha: 1 }),
      LoraquantRangeError,
      "got 3",
      "E_RANGE",
    ],
    [
      () => mergeLora(w, { a, b, alpha: NaN }),
      LoraquantRangeError,
      "alpha must be finite",
      "E_RANGE",
    ],
    [() => mergeLora(w, { a, b, alpha: Infinity }), LoraquantRangeError, "alpha", "E_RANGE"],
    [
      () => mergeLora(matrix([2, 3], [1, NaN, 3, 4, 5, 6]), { a, b, alpha: 1 }),
      LoraquantRangeError,
      "w must be finite, got NaN at (0, 1)",
      "E_RANGE",
    ],
    [
      () => loraForward(x, { w, a: matrix([1, 3], [1, Infinity, 1]), b, alpha: 1 }),
      LoraquantRangeError,
      "a must be finite",
      "E_RANGE",
    ],
    [
      () => unmergeLora(w, { a, b: matrix([2, 1], [NaN, 1]), alpha: 1 }),
      LoraquantRangeError,
      "b must be finite",
      "E_RANGE",
    ],
    // Shapes are checked before values: a shape mismatch with NaN is E_SHAPE.
    [
      () =>
        mergeLora(matrix([2, 3], [NaN, 2, 3, 4, 5, 6]), {
          a: matrix([1, 2], [1, 1]),
          b,
          alpha: NaN,
        }),
      LoraquantTypeError,
      "a must be",
      "E_SHAPE",
    ],
  ];
  for (const [fn, cls, text, code] of cases) {
    const e = assertThrows(fn, cls as unknown as ErrorConstructor, text);
    assertEquals((e as LoraquantTypeError | LoraquantRangeError).code, code);
  }
  assertEquals(snapshot(), before);
});

Deno.test("`composeCat()` is exact: B·A equals Σ c_k·B_k·A_k in exact arithmetic", () => {
  fc.assert(
    fc.property(
      fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).chain(
        ([out, inputs]) => {
          const adapter = fc.integer({ min: 1, max: Math.min(out, inputs) }).chain((r) =>
            fc.tuple(
              mat(r, inputs, normalValue),
              mat(out, r, normalValue),
              fc.constantFrom(r, 2 * r, r / 4, 4 * r),
            ).map(
              ([a, b, alpha]): LoraAdapter => ({ a, b, alpha }),
            )
          );
          return fc.tuple(
            fc.array(adapter, { minLength: 1, maxLength: 3 }),
            fc.constant([out, inputs] as const),
          );
        },
      ),
      ([adapters, [out, inputs]]) => {
        const weights = adapters.map((_, k) => [1, 0.5, -2][k]!);
        const cat = composeCat(adapters, { weights });
        assertEquals(cat.a.rows, adapters.reduce((s, ad) => s + ad.a.rows, 0));
        assertEquals(loraScaling(cat.a.rows, { alpha: cat.alpha }), 1);
        for (let i = 0; i < out; i++) {
          for (let j = 0; j < inputs; j++) {
            let lhs = ZERO;
            for (let t = 0; t < cat.a.rows; t++) {
              lhs = add(
                lhs,
                mul(frac(cat.b.data[i * cat.a.rows + t]!), frac(cat.a.data[t * inputs + j]!)),
              );
            }
            let rhs = ZERO;
            adapters.forEach((ad, k) => {
              const r = ad.a.rows;
              const c = mul(frac(weights[k]!), {
                n: frac(ad.alpha).n,
                d: frac(ad.alpha).d * BigInt(r),
              });
              for (let t = 0; t < r; t++) {
                rhs = add(
                  rhs,
                  mul(c, mul(frac(ad.b.data[i * r + t]!), frac(ad.a.data[t * inputs + j]!))),
                );
              }
            });
            assertEquals(lhs.n * rhs.d, rhs.n * lhs.d);
          }
        }
      },
    ),
    fcParams(100),
  );
});

Deno.test("`composeSvd()` re-decomposes the weighted sum and reports the Eckart–Young error", () => {
  const one = { a: matrix([1, 3], [1, 0, 0]), b: matrix([2, 1], [3, 0]), alpha: 1 };
  const two = { a: matrix([1, 3], [0, 1, 0]), b: matrix([2, 1], [0, 1]), alpha: 2 };
  const { adapter, s, error } = composeSvd([one, two], { rank: 1, weights: [1, 0.5] });
  // ΔW = diag(3, 1) padded: σ = 3, 1; the rank-1 error is 1.
  assertLessOrEqual(Math.abs(s[0]! - 3) + Math.abs(s[1]! - 1), 1e-15);
  assertLessOrEqual(Math.abs(error - 1), 1e-15);
  const d = deltaWeight(adapter);
  assertLessOrEqual(Math.abs(d.data[0]! - 3), 1e-14);
  const full = composeSvd([one, two], { rank: 2, weights: [1, 0.5] });
  assertLessOrEqual(full.error, 1e-15);
  assertThrows(() => composeSvd([one, two], { rank: 3 }), LoraquantRangeError, "rank");
  assertThrows(() => composeCat([]), LoraquantTypeError, "no adapters");
  assertThrows(
    () => composeCat([one, { a: matrix([1, 2], [1, 1]), b: matrix([2, 1], [1, 1]), alpha: 1 }]),
    LoraquantTypeError,
    "adapter 1",
  );
});
