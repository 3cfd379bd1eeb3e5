import { assert, assertEquals, assertLess } from "@std/assert";
import { gpuTest, testGpu } from "../packages/gpu/_testing.ts";
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

/** A small model whose values are float32 numbers (so the GPU and the reference see the same). */
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
    for (let c = 1; c < 10; c++) if (x[i * inputs + c]! > x[i * inputs + best]!) best = c;
    return best;
  });
  return { x, labels };
}

// The GPU computes in float32 what mlp.ts computes in float64 from the same float32 values. Each
// forward sum of K ≤ 64 products is within γ_K·Σ|terms| ≈ 4e-6 relative of its exact value; exp,
// log and the division of the softmax add a few ULP; the backward sums another γ_K. Everything
// stays below 1e-4 of the largest gradient; we allow 1e-3 (and 1e-7 absolute near zero) so the
// test checks the formulas and index order, not the last bits.
const RELATIVE = 1e-3;

for (const mode of ["full", "lora"] as TrainMode[]) {
  gpuTest(`the GPU's ${mode} gradients of one minibatch agree with mlp.ts's`, async () => {
    const gpu = await testGpu(); // shared by the file: not destroyed here
    {
      const inputs = 24;
      const m = model(7, inputs, 16, 4);
      if (mode === "full") { for (const l of [m.l1, m.l2]) delete l.lora; }
      const { x, labels } = data(8, 33, inputs); // 33 rows: not a multiple of any workgroup
      const ref = lossAndGrads(m, x, labels, 33, mode);
      const got = await gradientsGpu(gpu, m, x, labels, mode);
      const expected: Record<string, Float64Array> = mode === "full"
        ? { w1: ref.g1.w, bias1: ref.g1.bias, w2: ref.g2.w, bias2: ref.g2.bias }
        : { a1: ref.g1.a, b1: ref.g1.b, a2: ref.g2.a, b2: ref.g2.b };
      assertEquals(Object.keys(got.grads).sort(), Object.keys(expected).sort());
      for (const [name, want] of Object.entries(expected)) {
        const have = got.grads[name]!;
        assertEquals(have.length, want.length, name);
        const scale = Math.max(...want.map(Math.abs));
        assert(scale > 0, `${name}: the reference gradient is all zero (a useless test case)`);
        for (let i = 0; i < want.length; i++) {
          assertLess(Math.abs(have[i]! - want[i]!), RELATIVE * scale + 1e-7, `${name}[${i}]`);
        }
      }
      const meanLoss = got.loss.reduce((s, v) => s + v, 0) / 33;
      assertLess(Math.abs(meanLoss - ref.loss), 1e-5 * ref.loss);
    }
  });
}

gpuTest(
  "trainMlpGpu() follows trainMlp(): same minibatches and Adam, float32 instead of float64",
  async () => {
    const gpu = await testGpu(); // shared by the file: not destroyed here
    {
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
        // whose gradient is near zero: compare the trained parameters to within a few steps.
        const pairs = mode === "full"
          ? [[cpu.l1.w, onGpu.l1.w], [cpu.l2.w, onGpu.l2.w], [cpu.l2.bias, onGpu.l2.bias]]
          : [[cpu.l1.lora!.a, onGpu.l1.lora!.a], [cpu.l2.lora!.b, onGpu.l2.lora!.b]];
        for (const [want, have] of pairs) {
          let worst = 0;
          for (let i = 0; i < want!.length; i++) {
            worst = Math.max(worst, Math.abs(want![i]! - have![i]!));
          }
          assertLess(worst, 4 * options.learningRate, `${mode}: largest parameter difference`);
        }
        // Frozen parameters stay frozen.
        if (mode === "lora") assertEquals(onGpu.l1.w, start.l1.w);
        const after = accuracyOf(mlpLogits(onGpu, x, 200), labels);
        assert(
          after > before,
          `${mode}: training on the GPU improves accuracy (${before} → ${after})`,
        );
      }
    }
  },
);
