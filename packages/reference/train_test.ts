import fc from "fast-check";
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertLessOrEqual,
  assertThrows,
} from "@std/assert";
import { fcParams } from "./_testing.ts";
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";
import type { LoraLayer } from "./lora.ts";
import { matrix } from "./matrix.ts";
import type { Matrix } from "./matrix.ts";
import {
  Adam,
  loraLinearBackward,
  loraLinearForward,
  mlpBackward,
  mlpForward,
  mseLoss,
  plantedExperiment,
  Sgd,
  softmaxCrossEntropy,
} from "./train.ts";

const value = fc.double({ min: -2, max: 2, noNaN: true });
/** Magnitudes in [0.05, 2] with either sign: no exact zeros, so ReLU kinks are rare. */
const away = fc.tuple(fc.boolean(), fc.double({ min: 0.05, max: 2, noNaN: true })).map((
  [neg, v],
) => (neg ? -v : v));
function mat(rows: number, cols: number, of = value): fc.Arbitrary<Matrix> {
  return fc.array(of, { minLength: rows * cols, maxLength: rows * cols }).map((d) =>
    matrix([rows, cols], d)
  );
}
const layerProblem = fc.tuple(
  fc.integer({ min: 1, max: 4 }),
  fc.integer({ min: 1, max: 5 }),
  fc.integer({ min: 1, max: 5 }),
  fc.boolean(),
).chain(([n, out, inputs, rslora]) =>
  fc.integer({ min: 1, max: Math.min(out, inputs) }).chain((r) =>
    fc.tuple(
      mat(n, inputs),
      mat(out, inputs),
      mat(r, inputs),
      mat(out, r),
      mat(n, out),
      fc.constantFrom(1, 4, 0.5),
    )
      .map(([x, w, a, b, target, alpha]) => ({
        x,
        layer: { w, a, b, alpha, rslora } as LoraLayer,
        target,
      }))
  )
);

function norm(d: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]! ** 2;
  return Math.sqrt(s);
}

/** Central differences of f over every element of `data` (restored after each probe). */
function finiteDifferences(data: Float64Array, f: () => number): Float64Array {
  const g = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const keep = data[i]!;
    const h = 1e-5 * Math.max(1, Math.abs(keep));
    data[i] = keep + h;
    const up = f();
    data[i] = keep - h;
    const down = f();
    data[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

function assertClose(g: ArrayLike<number>, fd: ArrayLike<number>, what: string): void {
  const diff = Array.from(g, (v, i) => v - fd[i]!);
  // ‖g − g_fd‖ ≤ 1e-6·‖g‖; the 1e-9 floor covers a gradient that is exactly 0 (then g_fd is
  // rounding noise of order u·L/h ≈ 1e-11).
  assertLessOrEqual(norm(diff), 1e-6 * norm(g) + 1e-9, what);
}

Deno.test("the LoRA layer's gradients of A, B and x equal central finite differences", () => {
  fc.assert(
    fc.property(layerProblem, fc.constantFrom(0, 0.3), ({ x, layer, target }, p) => {
      const loss = () =>
        mseLoss(loraLinearForward(x, layer, { dropout: p, seed: 3 }).y, target).loss;
      const { y, cache } = loraLinearForward(x, layer, { dropout: p, seed: 3 });
      const { da, db, dx } = loraLinearBackward(layer, { cache, dy: mseLoss(y, target).grad });
      assertClose(da.data, finiteDifferences(layer.a.data, loss), "A");
      assertClose(db.data, finiteDifferences(layer.b.data, loss), "B");
      assertClose(dx.data, finiteDifferences(x.data, loss), "x");
    }),
    fcParams(100),
  );
});

Deno.test("the MLP's gradients under softmax cross-entropy equal central finite differences", () => {
  fc.assert(
    fc.property(
      fc.tuple(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 2, max: 3 }),
      )
        .chain(([n, d0, d1, c]) =>
          fc.tuple(
            mat(n, d0, away),
            mat(d1, d0, away),
            mat(1, d0, away),
            mat(d1, 1, away),
            mat(c, d1, away),
            mat(1, d1, away),
            mat(c, 1, away),
            fc.array(fc.integer({ min: 0, max: c - 1 }), { minLength: n, maxLength: n }),
          )
        ),
      ([x, w0, a0, b0, w1, a1, b1, labels]) => {
        const layers: LoraLayer[] = [
          { w: w0, a: a0, b: b0, alpha: 2 },
          { w: w1, a: a1, b: b1, alpha: 1 },
        ];
        const loss = () => softmaxCrossEntropy(mlpForward(x, layers).y, labels).loss;
        const { y, cache } = mlpForward(x, layers);
        // Away from ReLU's kink, where the loss is smooth within the probe steps.
        fc.pre(cache.pre.every((m) => m.data.every((v) => Math.abs(v) > 1e-3)));
        const grads = mlpBackward(layers, { cache, dy: softmaxCrossEntropy(y, labels).grad });
        layers.forEach((layer, l) => {
          assertClose(grads[l]!.da.data, finiteDifferences(layer.a.data, loss), `A${l}`);
          assertClose(grads[l]!.db.data, finiteDifferences(layer.b.data, loss), `B${l}`);
        });
      },
    ),
    fcParams(100),
  );
});

Deno.test("`mseLoss()` and `softmaxCrossEntropy()` match hand-derived values", () => {
  const { loss, grad } = mseLoss(matrix([2, 1], [3, -1]), matrix([2, 1], [1, 0]));
  assertEquals(loss, 2.5); // (4 + 1)/2
  assertEquals([...grad.data], [2, -1]); // 2·(2, −1)/2
  // Logits (0, ln 3): softmax (1/4, 3/4); label 1 costs −ln(3/4).
  const ce = softmaxCrossEntropy(matrix([1, 2], [0, Math.log(3)]), [1]);
  assertAlmostEquals(ce.loss, -Math.log(0.75), 1e-15);
  assertAlmostEquals(ce.grad.data[0]!, 0.25, 1e-15);
  assertAlmostEquals(ce.grad.data[1]!, -0.25, 1e-15);
  // Huge logits do not overflow.
  assertAlmostEquals(
    softmaxCrossEntropy(matrix([1, 2], [1000, 0]), [0]).loss,
    Math.log1p(Math.exp(-1000)),
    1e-300,
  );
  assertThrows(
    () => softmaxCrossEntropy(matrix([1, 2], [0, 0]), [2]),
    LoraquantRangeError,
    "labels[0]",
  );
  assertThrows(
    () => softmaxCrossEntropy(matrix([1, 2], [0, 0]), [0.5]),
    LoraquantTypeError,
    "labels[0]",
  );
  assertThrows(() => mseLoss(matrix([1, 2]), matrix([2, 1])), LoraquantTypeError, "MSE");
});

Deno.test("`Sgd` with momentum follows buf = μ·buf + g, p −= lr·buf", () => {
  const p = new Float64Array([1]);
  const opt = new Sgd({ lr: 0.5, momentum: 0.5 });
  opt.step([p], [new Float64Array([2])]); // buf = 2, p = 0
  assertEquals(p[0], 0);
  opt.step([p], [new Float64Array([2])]); // buf = 3, p = −1.5
  assertEquals(p[0], -1.5);
  assertThrows(() => new Sgd({ lr: -1 }), LoraquantRangeError, "lr");
  assertThrows(() => opt.step([p], [new Float64Array(2)]), LoraquantTypeError);
});

Deno.test("`Adam` and AdamW take PyTorch's steps (hand-derived)", () => {
  // Step 1: m̂ = g, v̂ = g², so p −= lr·g/(|g| + eps).
  const p = new Float64Array([1]);
  const adam = new Adam({ lr: 0.1, eps: 0 });
  adam.step([p], [new Float64Array([4])]);
  assertAlmostEquals(p[0]!, 0.9, 1e-15);
  // Step 2 with g = 0: m = 0.9·0.4 = 0.36, v = 0.999·1.6e-3; m̂ = 0.36/0.19, v̂ = v/(1 − 0.999²).
  adam.step([p], [new Float64Array([0])]);
  const mh = (0.9 * 0.4) / (1 - 0.81);
  const vh = (0.999 * 0.016) / (1 - 0.999 ** 2);
  assertAlmostEquals(p[0]!, 0.9 - 0.1 * mh / Math.sqrt(vh), 1e-14);
  // AdamW decays the weight first: p = 2 − 0.1·0.5·2 = 1.9, then the Adam step of size lr.
  const q = new Float64Array([2]);
  new Adam({ lr: 0.1, eps: 0, weightDecay: 0.5, decoupled: true }).step([q], [
    new Float64Array([1]),
  ]);
  assertAlmostEquals(q[0]!, 1.8, 1e-15);
  // Adam's L2 adds wd·p to g: g' = 1 + 0.5·2 = 2 > 0, a step of lr.
  const l2 = new Float64Array([2]);
  new Adam({ lr: 0.1, eps: 0, weightDecay: 0.5 }).step([l2], [new Float64Array([-0.5])]);
  assertAlmostEquals(l2[0]!, 1.9, 1e-15);
  assertThrows(() => new Adam({ lr: 0.1, beta1: 1 }), LoraquantRangeError, "betas");
});

Deno.test("the planted experiment: a LoRA of rank ≥ r* recovers the planted update", () => {
  for (const [teacherRank, rank] of [[2, 2], [2, 3], [1, 2]] as const) {
    const res = plantedExperiment({ teacherRank, rank, steps: 1500 });
    assertLessOrEqual(res.finalLoss, res.initialLoss * 1e-4);
    assertLessOrEqual(Math.max(...res.angles), 1e-3);
    assertEquals(res.floor, 0);
  }
});

Deno.test("the planted experiment: with whitened inputs a rank < r* stalls at the Eckart–Young floor", () => {
  for (const [teacherRank, rank] of [[3, 2], [3, 1], [2, 1]] as const) {
    const res = plantedExperiment({ teacherRank, rank, steps: 3000 });
    // The floor from the spectrum of B*·A*: Σ_{r ≤ i < r*} σ_i² / out (out = 6).
    let floor = 0;
    for (let i = rank; i < teacherRank; i++) floor += res.teacherSpectrum[i]! ** 2;
    floor /= 6;
    assertAlmostEquals(res.floor, floor, 1e-15 * floor);
    assert(res.finalLoss >= floor * (1 - 1e-9), `loss ${res.finalLoss} below the floor ${floor}`);
    assertLessOrEqual(res.finalLoss, floor * (1 + 1e-6));
    assert(res.initialLoss > 2 * floor);
  }
});

Deno.test("training functions refuse bad shapes and inputs", () => {
  const layer = {
    w: matrix([2, 2], [1, 0, 0, 1]),
    a: matrix([1, 2], [1, 1]),
    b: matrix([2, 1], [1, 1]),
    alpha: 1,
  };
  assertThrows(() => loraLinearForward(matrix([1, 3]), layer), LoraquantTypeError, "x must be");
  assertThrows(
    () => loraLinearForward(matrix([1, 2], [NaN, 0]), layer),
    LoraquantRangeError,
    "x must be finite",
  );
  assertThrows(
    () => loraLinearForward(matrix([1, 2]), layer, { dropout: 1 }),
    LoraquantRangeError,
    "dropout",
  );
  const { cache } = loraLinearForward(matrix([1, 2], [1, 1]), layer);
  assertThrows(
    () => loraLinearBackward(layer, { cache, dy: matrix([2, 2]) }),
    LoraquantTypeError,
    "dy must be",
  );
  assertThrows(() => mlpForward(matrix([1, 2]), []), LoraquantTypeError, "no layers");
  assertThrows(() => plantedExperiment({ rank: 7 }), LoraquantRangeError, "rank");
});
