import { assert, assertEquals, assertLess, assertRejects } from "@std/assert";
import fc from "fast-check";
import { gpuTest, testGpu } from "../packages/gpu/_testing.ts";
import { fcParams } from "../packages/reference/_testing.ts";
import { gradientsGpu, trainMlpGpu } from "./gpu_train.ts";
import {
  accuracyOf,
  cloneMlp,
  type DemoMlp,
  initLayer,
  lossAndGrads,
  mlpLogits,
  mulberry32,
  trainMlp,
  type TrainMode,
} from "./mlp.ts";

/** A model whose values are float32 numbers (so the GPU and the reference see the same). */
function model(seed: number, inputs: number, hidden: number, rank: number): DemoMlp {
  const random = mulberry32(seed);
  const m: DemoMlp = { l1: initLayer(hidden, inputs, random), l2: initLayer(10, hidden, random) };
  for (const l of [m.l1, m.l2]) {
    for (let i = 0; i < l.bias.length; i++) l.bias[i] = 0.2 * (random() - 0.5);
    const r = Math.min(rank, l.out, l.inputs);
    l.lora = {
      a: Float64Array.from({ length: r * l.inputs }, () => random() - 0.5),
      b: Float64Array.from({ length: l.out * r }, () => 0.3 * (random() - 0.5)),
      rank: r,
      scaling: 2,
    };
    for (const a of [l.w, l.bias, l.lora.a, l.lora.b]) a.set(a.map(Math.fround));
  }
  return m;
}

function data(seed: number, n: number, inputs: number) {
  const random = mulberry32(seed);
  const x = Float64Array.from({ length: n * inputs }, () => Math.fround(random()));
  // Labels that depend on the inputs, so that training has something to learn.
  const labels = Int32Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let c = 1; c < Math.min(10, inputs); c++) {
      if (x[i * inputs + c]! > x[i * inputs + best]!) best = c;
    }
    return best;
  });
  return { x, labels };
}

// The GPU computes in float32 what mlp.ts computes in float64 from the same float32 values. Each
// sum of K ≤ 576 products is within γ_K·Σ|terms| ≤ 3.5e-5·Σ|terms| of its exact value (u = 2⁻²⁴);
// exp, log and the division of the softmax add a few ULP; the backward pass adds one more such sum
// per layer. The terms' absolute sums stay within a small factor of the largest gradient here, so
// the error stays near 1e-4 of it; we allow 1e-3 (and 1e-7 absolute near zero): the test checks
// the formulas, the strides and the tile edges, not the last bits.
const RELATIVE = 1e-3;

/** Compares one minibatch's GPU gradients with mlp.ts's, every trained array, entry by entry. */
async function compareGradients(
  inputs: number,
  hidden: number,
  rows: number,
  rank: number,
  mode: TrainMode,
  seed: number,
): Promise<void> {
  const gpu = await testGpu(); // shared by the file: not destroyed here
  const m = model(seed, inputs, hidden, rank);
  if (mode === "full") { for (const l of [m.l1, m.l2]) delete l.lora; }
  const { x, labels } = data(seed + 1, rows, inputs);
  const ref = lossAndGrads(m, x, labels, rows, mode);
  const got = await gradientsGpu(gpu, m, x, labels, mode);
  const expected: Record<string, Float64Array> = mode === "full"
    ? { w1: ref.g1.w, bias1: ref.g1.bias, w2: ref.g2.w, bias2: ref.g2.bias }
    : { a1: ref.g1.a, b1: ref.g1.b, a2: ref.g2.a, b2: ref.g2.b };
  assertEquals(Object.keys(got.grads).sort(), Object.keys(expected).sort());
  const shape = `${mode} ${inputs}→${hidden}→10, ${rows} rows, r ${rank}`;
  for (const [name, want] of Object.entries(expected)) {
    const have = got.grads[name]!;
    assertEquals(have.length, want.length, `${shape}: ${name}`);
    const scale = Math.max(0, ...want.map(Math.abs));
    for (let i = 0; i < want.length; i++) {
      assertLess(
        Math.abs(have[i]! - want[i]!),
        RELATIVE * scale + 1e-7,
        `${shape}: ${name}[${i}] ${have[i]} vs ${want[i]}`,
      );
    }
  }
  const meanLoss = got.loss.reduce((s, v) => s + v, 0) / rows;
  assertLess(Math.abs(meanLoss - ref.loss), 1e-5 * ref.loss + 1e-7, `${shape}: loss`);
}

for (const mode of ["full", "lora"] as TrainMode[]) {
  gpuTest(`the GPU's ${mode} gradients agree with mlp.ts's at the demo's shape`, async () => {
    // 576 inputs, 128 hidden, 64 rows: many 32×32 tiles along every axis, as in the demo.
    await compareGradients(576, 128, 64, 4, mode, 7);
  });
}

gpuTest(
  "the GPU's gradients agree with mlp.ts's at any shape (tile edges, 1×1, ranks)",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          inputs: fc.integer({ min: 1, max: 90 }),
          hidden: fc.integer({ min: 1, max: 70 }),
          rows: fc.integer({ min: 1, max: 70 }),
          rank: fc.integer({ min: 1, max: 6 }),
          mode: fc.constantFrom<TrainMode>("full", "lora"),
          seed: fc.integer({ min: 1, max: 1000 }),
        }),
        async ({ inputs, hidden, rows, rank, mode, seed }) => {
          await compareGradients(inputs, hidden, rows, rank, mode, seed);
        },
      ),
      fcParams(30),
    );
  },
);

gpuTest(
  "the GPU trainer refuses bad labels, step counts and missing adapters, naming them",
  async () => {
    const gpu = await testGpu();
    const m = model(1, 4, 3, 1);
    const x = new Float64Array(8);
    const ok = { mode: "lora", epochs: 1, learningRate: 1e-3 } as const;
    await assertRejects(() => trainMlpGpu(gpu, m, x, [0, 10], ok), RangeError, "labels[1]");
    await assertRejects(() => trainMlpGpu(gpu, m, x, [0, -1], ok), RangeError, "labels[1]");
    await assertRejects(
      () => trainMlpGpu(gpu, m, x, [0, 1], { ...ok, stepsPerSubmit: 0 }),
      RangeError,
      "stepsPerSubmit must be an integer ≥ 1, got 0",
    );
    await assertRejects(
      () => trainMlpGpu(gpu, m, x, [0, 1], { ...ok, batchSize: 0 }),
      RangeError,
      "batchSize",
    );
    await assertRejects(() => trainMlpGpu(gpu, m, x, [0], ok), TypeError, "x must hold");
    const plain = cloneMlp(m);
    delete plain.l1.lora;
    await assertRejects(() => trainMlpGpu(gpu, plain, x, [0, 1], ok), TypeError, "need an adapter");
    await assertRejects(() => gradientsGpu(gpu, plain, x, [0, 1], "lora"), TypeError, "adapter");
    // The refused calls changed nothing.
    assertEquals(m, model(1, 4, 3, 1));
  },
);

gpuTest(
  "trainMlpGpu() follows trainMlp(): same minibatches and Adam, float32 instead of float64",
  async () => {
    const gpu = await testGpu(); // shared by the file: not destroyed here
    const inputs = 24;
    const { x, labels } = data(3, 200, inputs);
    for (const mode of ["full", "lora"] as TrainMode[]) {
      const start = model(11, inputs, 16, 4);
      if (mode === "full") { for (const l of [start.l1, start.l2]) delete l.lora; }
      const cpu = cloneMlp(start);
      const onGpu = cloneMlp(start);
      const options = { mode, epochs: 3, learningRate: 3e-3, batchSize: 32, seed: 5 } as const;
      const before = accuracyOf(mlpLogits(start, x, 200), labels);
      const ref = trainMlp(cpu, x, labels, options);
      const progress: number[] = [];
      const got = await trainMlpGpu(gpu, onGpu, x, labels, {
        ...options,
        stepsPerSubmit: 4, // several submissions per epoch: the state must carry over
        onProgress: (f) => progress.push(f),
      });
      assertEquals(progress.at(-1), 1);
      assert(progress.every((f, i) => i === 0 || f > progress[i - 1]!), "progress increases");
      assertLess(Math.abs(got.finalLoss - ref.finalLoss), 1e-3 * ref.finalLoss, mode);
      // Adam's steps are ±lr-sized, so float32 roundoff can flip a few early steps of parameters
      // whose gradient is near zero: every trained array agrees to within a few steps.
      const trained = (m: DemoMlp) =>
        mode === "full"
          ? [m.l1.w, m.l1.bias, m.l2.w, m.l2.bias]
          : [m.l1.lora!.a, m.l1.lora!.b, m.l2.lora!.a, m.l2.lora!.b];
      const [wanted, had] = [trained(cpu), trained(onGpu)];
      for (const [k, want] of wanted.entries()) {
        const have = had[k]!;
        let worst = 0;
        for (let i = 0; i < want.length; i++) {
          worst = Math.max(
            worst,
            Math.abs(want[i]! - have[i]!),
          );
        }
        assertLess(worst, 4 * options.learningRate, `${mode}: array ${k}, largest difference`);
      }
      const after = accuracyOf(mlpLogits(onGpu, x, 200), labels);
      assert(
        after > before,
        `${mode}: training on the GPU improves accuracy (${before} → ${after})`,
      );
    }
  },
);
