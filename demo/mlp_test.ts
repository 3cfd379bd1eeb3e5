import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertGreater,
  assertLessOrEqual,
} from "@std/assert";
import type { Matrix } from "@loraquant/reference/matrix";
import {
  loraLinearBackward,
  loraLinearForward,
  softmaxCrossEntropy,
} from "@loraquant/reference/train";
import {
  accuracyOf,
  cloneMlp,
  type DemoLayer,
  type DemoMlp,
  initLayer,
  lossAndGrads,
  mlpLogits,
  mulberry32,
  trainMlp,
} from "./mlp.ts";

function model(seed: number, inputs = 7, hidden = 5, classes = 4, rank = 2): DemoMlp {
  const random = mulberry32(seed);
  const m: DemoMlp = {
    l1: initLayer(hidden, inputs, random),
    l2: initLayer(classes, hidden, random),
  };
  for (const l of [m.l1, m.l2]) {
    for (let i = 0; i < l.bias.length; i++) l.bias[i] = random() - 0.5;
    l.lora = {
      a: Float64Array.from({ length: rank * l.inputs }, () => random() - 0.5),
      b: Float64Array.from({ length: l.out * rank }, () => random() - 0.5),
      rank,
      scaling: 1.5,
    };
  }
  return m;
}

function asLayer(l: DemoLayer) {
  const lora = l.lora!;
  const m = (rows: number, cols: number, data: Float64Array): Matrix => ({ rows, cols, data });
  return {
    w: m(l.out, l.inputs, l.w),
    a: m(lora.rank, l.inputs, lora.a),
    b: m(l.out, lora.rank, lora.b),
    alpha: lora.scaling * lora.rank,
    bias: l.bias,
  };
}

Deno.test("lossAndGrads() gives the reference's LoRA gradients (train.ts chain)", () => {
  const m = model(3);
  const n = 6;
  const random = mulberry32(9);
  const x = Float64Array.from({ length: n * 7 }, () => random());
  const labels = [0, 1, 2, 3, 1, 2];
  const ours = lossAndGrads(m, x, labels, n, "lora");
  // The same chain through @loraquant/reference/train.
  const l1 = asLayer(m.l1);
  const l2 = asLayer(m.l2);
  const f1 = loraLinearForward({ rows: n, cols: 7, data: x }, l1);
  const z = { rows: n, cols: 5, data: f1.y.data.map((v) => (v > 0 ? v : 0)) };
  const f2 = loraLinearForward(z, l2);
  const loss = softmaxCrossEntropy(f2.y, labels);
  const b2 = loraLinearBackward(l2, { cache: f2.cache, dy: loss.grad });
  const dz = { rows: n, cols: 5, data: b2.dx.data.map((v, i) => (z.data[i]! > 0 ? v : 0)) };
  const b1 = loraLinearBackward(l1, { cache: f1.cache, dy: dz });
  // Tolerance: both are float64 sums of at most 7 terms in different orders; 1e-12 relative.
  assertAlmostEquals(ours.loss, loss.loss, 1e-12);
  const pairs: [Float64Array, Float64Array][] = [
    [ours.g1.a, b1.da.data],
    [ours.g1.b, b1.db.data],
    [ours.g2.a, b2.da.data],
    [ours.g2.b, b2.db.data],
  ];
  for (const [a, b] of pairs) {
    assertEquals(a.length, b.length);
    for (let i = 0; i < a.length; i++) assertAlmostEquals(a[i]!, b[i]!, 1e-12);
  }
});

Deno.test("lossAndGrads() full-mode gradients match central finite differences", () => {
  const m = model(5);
  delete m.l1.lora;
  delete m.l2.lora;
  const n = 4;
  const random = mulberry32(11);
  const x = Float64Array.from({ length: n * 7 }, () => random());
  const labels = [3, 0, 2, 1];
  const { g1, g2 } = lossAndGrads(m, x, labels, n, "full");
  const h = 1e-6;
  const checks: [Float64Array, Float64Array][] = [
    [m.l1.w, g1.w],
    [m.l1.bias, g1.bias],
    [m.l2.w, g2.w],
    [m.l2.bias, g2.bias],
  ];
  for (const [p, g] of checks) {
    for (let i = 0; i < p.length; i += 3) {
      const old = p[i]!;
      p[i] = old + h;
      const up = lossAndGrads(m, x, labels, n, "full").loss;
      p[i] = old - h;
      const down = lossAndGrads(m, x, labels, n, "full").loss;
      p[i] = old;
      // Central differences err by O(h²) plus rounding O(u/h) ≈ 1e-10.
      assertAlmostEquals(g[i]!, (up - down) / (2 * h), 1e-7);
    }
  }
});

Deno.test("trainMlp() in LoRA mode changes only A and B, and lowers the loss", () => {
  const m = model(7, 8, 6, 3, 2);
  for (const l of [m.l1, m.l2]) l.lora!.b.fill(0);
  const before = cloneMlp(m);
  const random = mulberry32(2);
  const n = 60;
  const x = Float64Array.from({ length: n * 8 }, () => random());
  const labels = Int32Array.from({ length: n }, (_, i) => (x[i * 8]! > 0.5 ? 1 : 0) + (i % 2));
  const start = lossAndGrads(m, x, labels, n, "lora").loss;
  trainMlp(m, x, labels, { mode: "lora", epochs: 20, learningRate: 0.02, batchSize: 16 });
  assertEquals(m.l1.w, before.l1.w);
  assertEquals(m.l2.bias, before.l2.bias);
  assert(lossAndGrads(m, x, labels, n, "lora").loss < start);
  assert(accuracyOf(mlpLogits(m, x, n), labels) >= 0);
});

/** Rounds in place to float16 with Math.f16round (nearest-even; independent of the reference). */
const toFloat16 = (t: Float64Array) => {
  for (let i = 0; i < t.length; i++) t[i] = Math.f16round(t[i]!);
};

Deno.test("lossAndGrads() with a float16 compute format: gradients are float16, tiny ones flush", () => {
  const m = model(13);
  const n = 6;
  const random = mulberry32(4);
  // Inputs below 2^-24 make every A gradient dh·x about 2^-24 times a small dh: below float16's
  // smallest subnormal 2^-24 for most entries.
  const x = Float64Array.from({ length: n * 7 }, () => random() * 2 ** -24);
  const labels = [0, 1, 2, 3, 0, 1];
  const exact = lossAndGrads(m, x, labels, n, "lora");
  assertEquals([exact.flushed, exact.nonZero], [0, 0]); // no rounding asked: nothing counted
  const half = lossAndGrads(m, x, labels, n, "lora", toFloat16);
  for (const g of [half.g1.a, half.g1.b, half.g2.a, half.g2.b]) {
    for (const v of g) assertEquals(Math.f16round(v), v); // every entry a float16 value
  }
  // Count independently: entries whose exact gradient is non-zero but below half the smallest
  // float16 subnormal (they round to zero; ties at exactly 2^-25 would round to even = 0 too).
  // The activations are rounded as well, so compare the counts loosely from the exact gradients.
  let tiny = 0;
  let nonZero = 0;
  for (const g of [exact.g1.a, exact.g1.b, exact.g2.a, exact.g2.b]) {
    for (const v of g) {
      if (v !== 0) nonZero++;
      if (v !== 0 && Math.abs(v) < 2 ** -25) tiny++;
    }
  }
  assertGreater(tiny, 0, "the case must have gradients below float16's range");
  assertGreater(half.flushed, 0);
  assertLessOrEqual(half.flushed, half.nonZero);
  assertAlmostEquals(half.nonZero, nonZero, nonZero * 0.2);
  // Loss scaling by 2^12 lifts them back into float16's range: fewer entries flush.
  const scaled = lossAndGrads(m, x, labels, n, "lora", toFloat16, 2 ** 12);
  assert(
    scaled.flushed < half.flushed,
    `loss scaling keeps small gradients: ${scaled.flushed} < ${half.flushed}`,
  );
});
