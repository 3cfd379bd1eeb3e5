// The LoRA training step against `@loraquant/reference/train` (loraLinearForward, mseLoss,
// loraLinearBackward, Adam) in float64 on the same float32 values. 64 steps per batch, one
// readback. Bounds: docs/gpu.md eq. (L9) (gradients) and (L10) (Adam).
import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "@std/assert";
import { LoraquantRangeError, LoraquantTypeError } from "@loraquant/reference/errors";
import { Adam, loraLinearBackward, loraLinearForward, mseLoss } from "@loraquant/reference/train";
import { type Matrix, matrix } from "@loraquant/reference/matrix";
import { fcParams } from "../reference/_testing.ts";
import type { Float32Matrix } from "./matmul.ts";
import { loraScalingF32 } from "./lora.ts";
import { loraTrainStep } from "./lora_train.ts";
import { gamma, gpuTest, random, testGpu, TINY, U32, U64 } from "./_testing.ts";

const SLACK = 2 ** -40; // relative error of the float64 reference and of the bounds' own sums

function f32(rows: number, cols: number, seed: number, positive = false): Float32Matrix {
  const next = random(seed);
  const data = new Float32Array(rows * cols).map(() => positive ? next() : 2 * next() - 1);
  return { rows, cols, data };
}

function f64(m: Float32Matrix | { rows: number; cols: number; data: Float32Array }): Matrix {
  return matrix([m.rows, m.cols], Float64Array.from(m.data));
}

interface Case {
  n: number;
  inputs: number;
  out: number;
  r: number;
  alpha: number;
  rslora: boolean;
  bias: boolean;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  step: number;
  seed: number;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  n: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(1, 16, 17)),
  inputs: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(1, 5, 17, 33)),
  out: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(1, 5, 257)),
  r: fc.integer({ min: 1, max: 8 }),
  alpha: fc.constantFrom(1, 2, 3, 16, -1),
  rslora: fc.boolean(),
  bias: fc.boolean(),
  lr: fc.constantFrom(0.1, 1e-3, 1),
  beta1: fc.constantFrom(0.9, 0.5, 0),
  beta2: fc.constantFrom(0.999, 0.9),
  eps: fc.constantFrom(1e-8, 1e-6),
  step: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 20 })),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
}).map((c) => ({ ...c, r: Math.min(c.r, c.inputs, c.out) }));

interface Operands {
  x: Float32Matrix;
  target: Float32Matrix;
  w: Float32Matrix;
  a: Float32Matrix;
  b: Float32Matrix;
  bias: Float32Array | undefined;
  moments: { mA: Float32Matrix; vA: Float32Matrix; mB: Float32Matrix; vB: Float32Matrix };
}

function operands(c: Case, zeroMoments: boolean): Operands {
  const z = (rows: number, cols: number) => ({ rows, cols, data: new Float32Array(rows * cols) });
  return {
    x: f32(c.n, c.inputs, c.seed),
    target: f32(c.n, c.out, c.seed + 1),
    w: f32(c.out, c.inputs, c.seed + 2),
    a: f32(c.r, c.inputs, c.seed + 3),
    b: f32(c.out, c.r, c.seed + 4),
    bias: c.bias ? f32(1, c.out, c.seed + 5).data : undefined,
    moments: zeroMoments
      ? { mA: z(c.r, c.inputs), vA: z(c.r, c.inputs), mB: z(c.out, c.r), vB: z(c.out, c.r) }
      : {
        // Moments of earlier steps: m of either sign, v ≥ 0, both of gradient size.
        mA: f32(c.r, c.inputs, c.seed + 6),
        vA: f32(c.r, c.inputs, c.seed + 7, true),
        mB: f32(c.out, c.r, c.seed + 8),
        vB: f32(c.out, c.r, c.seed + 9, true),
      },
  };
}

/** The 64 steps of one batch, and everything they produce, read back once. */
async function runSteps(cases: readonly Case[], zeroMoments: boolean) {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const ops = cases.map((c) => operands(c, zeroMoments));
  const steps = cases.map((c, k) => {
    const o = ops[k]!;
    return loraTrainStep(
      batch,
      { x: o.x, target: o.target },
      {
        w: o.w,
        a: o.a,
        b: o.b,
        alpha: c.alpha,
        rslora: c.rslora,
        ...(o.bias ? { bias: o.bias } : {}),
      },
      {
        lr: c.lr,
        beta1: c.beta1,
        beta2: c.beta2,
        eps: c.eps,
        step: c.step,
        ...(zeroMoments ? {} : { moments: o.moments }),
      },
    );
  });
  const handles = steps.flatMap((s) => [
    s.y,
    s.h,
    s.dy,
    s.da,
    s.db,
    s.a,
    s.b,
    s.moments.mA,
    s.moments.vA,
    s.moments.mB,
    s.moments.vB,
  ]);
  const flat = await batch.read(...handles);
  return cases.map((c, k) => {
    const [y, h, dy, da, db, a, b, mA, vA, mB, vB] = flat.slice(11 * k, 11 * k + 11);
    return {
      c,
      o: ops[k]!,
      y: y!,
      h: h!,
      dy: dy!,
      da: da!,
      db: db!,
      a: a!,
      b: b!,
      mA: mA!,
      vA: vA!,
      mB: mB!,
      vB: vB!,
    };
  });
}

/**
 * Per-element bounds of the gradients (docs/gpu.md eq. (L9)), from the float64 reference
 * (y, G, h) and the GPU's own Ĝ, ĥ.
 */
function gradientBounds(
  c: Case,
  o: Operands,
  ref: { y: Matrix; grad: Matrix },
  gpu: { h: Float32Array; dy: Float32Array },
): { da: Float64Array; db: Float64Array } {
  const { n, inputs, out, r } = c;
  const s = Math.abs(c.rslora ? c.alpha / Math.sqrt(r) : c.alpha / r);
  const x = o.x.data, w = o.w.data, a = o.a.data, b = o.b.data;
  const N = n * out;
  // Σ_p|x||a| per (i, q), and E_h = γ_in·Σ|x||a| + in·2⁻¹²⁶.
  const xa = new Float64Array(n * r);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < r; q++) {
      for (let p = 0; p < inputs; p++) {
        xa[i * r + q]! += Math.abs(x[i * inputs + p]! * a[q * inputs + p]!);
      }
    }
  }
  const eh = xa.map((v) => gamma(inputs) * v * (1 + SLACK) + inputs * TINY);
  // E_y: the forward's eq. (L3), M = Σ|x||w| + |s|Σ(Σ|x||a|)|b| + |bias|.
  // E_G = (2/N)·((1 + γ₃)·E_y + γ₃·|y − t|), plus the reference's own rounding.
  const eg = new Float64Array(N);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < out; j++) {
      let m = o.bias ? Math.abs(o.bias[j]!) : 0;
      for (let p = 0; p < inputs; p++) m += Math.abs(x[i * inputs + p]! * w[j * inputs + p]!);
      let up = 0;
      for (let q = 0; q < r; q++) up += xa[i * r + q]! * Math.abs(b[j * r + q]!);
      m = (m + s * up) * (1 + SLACK);
      const ey = (gamma(inputs + r + 3) + (inputs + r + 4) * U64) * m +
        ((inputs + 1) * (r + 2) + 4) * TINY;
      const e = i * out + j;
      const diff = Math.abs(ref.y.data[e]! - o.target.data[e]!);
      eg[e] = (2 / N) * ((1 + gamma(3)) * ey + gamma(3) * diff) * (1 + SLACK) +
        SLACK * Math.abs(ref.grad.data[e]!) + 2 * TINY;
    }
  }
  const G = ref.grad.data;
  const hatG = gpu.dy;
  const hatH = gpu.h;
  // ∂L/∂B_jq = s·Σ_i G_ij h_iq: |err| ≤ |s|·(Σ_i E_G|ĥ| + |G|E_h + γ_(n+2)·Σ|Ĝ||ĥ|)·(1 + γ₂).
  const db = new Float64Array(out * r);
  for (let j = 0; j < out; j++) {
    for (let q = 0; q < r; q++) {
      let prop = 0, abs = 0;
      for (let i = 0; i < n; i++) {
        prop += eg[i * out + j]! * Math.abs(hatH[i * r + q]!) +
          Math.abs(G[i * out + j]!) * eh[i * r + q]!;
        abs += Math.abs(hatG[i * out + j]! * hatH[i * r + q]!);
      }
      db[j * r + q] = s * (prop + gamma(n + 2) * abs) * (1 + gamma(2)) * (1 + SLACK) +
        s * SLACK * abs + (n + 2) * TINY;
    }
  }
  // dh_iq = Σ_j G_ij b_jq: E_dh = Σ_j E_G|b| + γ_out·D, D = Σ_j|Ĝ||b|.
  // ∂L/∂A_qp = s·Σ_i dh_iq x_ip: |err| ≤ |s|·(Σ_i E_dh|x| + γ_(n+2)·Σ_i (1 + γ_out)·D·|x|)·(1 + γ₂).
  const D = new Float64Array(n * r);
  const edh = new Float64Array(n * r);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < r; q++) {
      let d = 0, e = 0;
      for (let j = 0; j < out; j++) {
        d += Math.abs(hatG[i * out + j]! * b[j * r + q]!);
        e += eg[i * out + j]! * Math.abs(b[j * r + q]!);
      }
      D[i * r + q] = d * (1 + SLACK);
      edh[i * r + q] = (e + gamma(out) * d) * (1 + SLACK) + out * TINY;
    }
  }
  const da = new Float64Array(r * inputs);
  for (let q = 0; q < r; q++) {
    for (let p = 0; p < inputs; p++) {
      let prop = 0, abs = 0;
      for (let i = 0; i < n; i++) {
        prop += edh[i * r + q]! * Math.abs(x[i * inputs + p]!);
        abs += (1 + gamma(out)) * D[i * r + q]! * Math.abs(x[i * inputs + p]!);
      }
      da[q * inputs + p] = s * (prop + gamma(n + 2) * abs) * (1 + gamma(2)) * (1 + SLACK) +
        s * SLACK * abs + (n + 2) * TINY;
    }
  }
  return { da, db };
}

/**
 * Adam's float64 step on one element (the formula of `Adam.step` in
 * `@loraquant/reference/train`, for a state the reference class cannot be given), and the bound
 * of the GPU's float32 step (docs/gpu.md eq. (L10)).
 */
function adamElement(
  c: Case,
  p: number,
  m: number,
  v: number,
  g: number,
): { p: number; m: number; v: number; ep: number; em: number; ev: number } {
  const c1 = 1 - c.beta1 ** c.step;
  const c2 = 1 - c.beta2 ** c.step;
  const m2 = c.beta1 * m + (1 - c.beta1) * g;
  const v2 = c.beta2 * v + (1 - c.beta2) * g * g;
  const D = Math.sqrt(v2 / c2) + c.eps;
  const delta = (c.lr * (m2 / c1)) / D;
  const p2 = p - delta;
  // m: three roundings per term (the hyper-parameter's, the product's, the sum's).
  const em = gamma(3) * (c.beta1 * Math.abs(m) + (1 - c.beta1) * Math.abs(g)) * (1 + SLACK) +
    2 * TINY;
  const ev = gamma(4) * v2 * (1 + SLACK) + 3 * TINY;
  // Δ: the numerator within 9u, the denominator within 18u (sqrt's inherited 4.5 ULP, two
  // divisions of 2.5 ULP, three roundings), the last division 2.5 ULP: 40u in all.
  const ed = (c.lr / (c1 * D)) * (em + 40 * U32 * (Math.abs(m2) + em)) * (1 + 40 * U32) +
    c.lr * 2 ** -60;
  const ep = ed + U32 * (Math.abs(p2) + ed) + SLACK * (Math.abs(p) + Math.abs(delta));
  return { p: p2, m: m2, v: v2, ep, em, ev };
}

function assertWithin(got: number, expected: number, bound: number, label: string): void {
  const error = Math.abs(got - expected);
  assert(error <= bound, `${label}: |${got} − ${expected}| = ${error} > ${bound}`);
}

gpuTest(
  "`loraTrainStep()` gradients stay within eq. (L9) of `loraLinearBackward`, and fresh Adam matches `Adam`",
  async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(caseArb, { minLength: 64, maxLength: 64 }), async (cases) => {
        for (const run of await runSteps(cases, true)) {
          const { c, o } = run;
          const label = JSON.stringify(c);
          const layer = {
            w: f64(o.w),
            a: f64(o.a),
            b: f64(o.b),
            alpha: c.alpha,
            rslora: c.rslora,
            ...(o.bias ? { bias: Float64Array.from(o.bias) } : {}),
          };
          const { y, cache } = loraLinearForward(f64(o.x), layer);
          const { grad } = mseLoss(y, f64(o.target));
          const ref = loraLinearBackward(layer, { cache, dy: grad });
          const bounds = gradientBounds(c, o, { y, grad }, { h: run.h, dy: run.dy });
          for (let e = 0; e < ref.db.data.length; e++) {
            assertWithin(run.db[e]!, ref.db.data[e]!, bounds.db[e]!, `dB ${label} [${e}]`);
          }
          for (let e = 0; e < ref.da.data.length; e++) {
            assertWithin(run.da[e]!, ref.da.data[e]!, bounds.da[e]!, `dA ${label} [${e}]`);
          }
          // Adam from a fresh state at step t: the reference class, first stepped t − 1 times
          // with zero gradients (which leaves its moments at 0 and p unchanged), then once
          // with the GPU's own gradients.
          const pa = Float64Array.from(o.a.data);
          const pb = Float64Array.from(o.b.data);
          const adam = new Adam({ lr: c.lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps });
          for (let t = 1; t < c.step; t++) {
            adam.step([pa, pb], [new Float64Array(pa.length), new Float64Array(pb.length)]);
          }
          adam.step([pa, pb], [Float64Array.from(run.da), Float64Array.from(run.db)]);
          for (
            const [name, got, expected, params, grads, m, v] of [
              ["A", run.a, pa, o.a.data, run.da, run.mA, run.vA],
              ["B", run.b, pb, o.b.data, run.db, run.mB, run.vB],
            ] as const
          ) {
            for (let e = 0; e < got.length; e++) {
              const step = adamElement(c, params[e]!, 0, 0, grads[e]!);
              assertWithin(got[e]!, expected[e]!, step.ep, `Adam ${name} ${label} [${e}]`);
              assertWithin(m[e]!, step.m, step.em, `m${name} ${label} [${e}]`);
              assertWithin(v[e]!, step.v, step.ev, `v${name} ${label} [${e}]`);
            }
          }
        }
      }),
      fcParams(2),
    );
  },
);

gpuTest(
  "`loraTrainStep()` Adam from any state stays within eq. (L10) of Adam's formula",
  async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(caseArb, { minLength: 64, maxLength: 64 }), async (cases) => {
        for (const run of await runSteps(cases, false)) {
          const { c, o } = run;
          const label = JSON.stringify(c);
          for (
            const [name, got, params, grads, m0, v0, m, v] of [
              ["A", run.a, o.a.data, run.da, o.moments.mA.data, o.moments.vA.data, run.mA, run.vA],
              ["B", run.b, o.b.data, run.db, o.moments.mB.data, o.moments.vB.data, run.mB, run.vB],
            ] as const
          ) {
            for (let e = 0; e < got.length; e++) {
              const step = adamElement(c, params[e]!, m0[e]!, v0[e]!, grads[e]!);
              assertWithin(got[e]!, step.p, step.ep, `Adam ${name} ${label} [${e}]`);
              assertWithin(m[e]!, step.m, step.em, `m${name} ${label} [${e}]`);
              assertWithin(v[e]!, step.v, step.ev, `v${name} ${label} [${e}]`);
            }
          }
        }
      }),
      fcParams(1),
    );
  },
);

gpuTest(
  "`loraTrainStep()` chains: two steps in one batch equal two batches, bit for bit",
  async () => {
    const gpu = await testGpu();
    const c = { n: 5, inputs: 9, out: 7, r: 3 };
    const x = f32(c.n, c.inputs, 1);
    const target = f32(c.n, c.out, 2);
    const w = f32(c.out, c.inputs, 3);
    const layer = { w, a: f32(c.r, c.inputs, 4), b: f32(c.out, c.r, 5), alpha: 6 };
    const options = { lr: 0.01 };
    // One batch: step 1, then step 2 on step 1's handles (A, B and moments updated in place).
    const batch = gpu.batch();
    const one = loraTrainStep(batch, { x, target }, layer, options);
    const two = loraTrainStep(batch, { x, target }, { ...layer, a: one.a, b: one.b }, {
      ...options,
      step: 2,
      moments: one.moments,
    });
    assertEquals(two.a, one.a); // the same buffer, updated in place
    const chained = await batch.read(two.a, two.b, two.moments.vB);
    // Two batches: read step 1 back, upload it for step 2.
    const first = gpu.batch();
    const s1 = loraTrainStep(first, { x, target }, layer, options);
    const [a1, b1, mA, vA, mB, vB] = await first.read(
      s1.a,
      s1.b,
      s1.moments.mA,
      s1.moments.vA,
      s1.moments.mB,
      s1.moments.vB,
    );
    const m = (rows: number, cols: number, data: Float32Array) => ({ rows, cols, data });
    const second = gpu.batch();
    const s2 = loraTrainStep(
      second,
      { x, target },
      { ...layer, a: m(c.r, c.inputs, a1), b: m(c.out, c.r, b1) },
      {
        ...options,
        step: 2,
        moments: {
          mA: m(c.r, c.inputs, mA),
          vA: m(c.r, c.inputs, vA),
          mB: m(c.out, c.r, mB),
          vB: m(c.out, c.r, vB),
        },
      },
    );
    const separate = await second.read(s2.a, s2.b, s2.moments.vB);
    assertEquals(chained.map((v) => [...v]), separate.map((v) => [...v]));
    // The layer's arrays were never modified (copied to the GPU).
    assertEquals([...layer.a.data], [...f32(c.r, c.inputs, 4).data]);
  },
);

gpuTest("`loraTrainStep()` checks E_ARG, then E_SHAPE, then E_RANGE, before the GPU", async () => {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const z = (rows: number, cols: number) => ({ rows, cols, data: new Float32Array(rows * cols) });
  const layer = { w: z(3, 4), a: z(2, 4), b: z(3, 2), alpha: 1 };
  const data = { x: z(2, 4), target: z(2, 3) };
  // deno-lint-ignore no-explicit-any
  const code = (f: () => unknown, type: abstract new (...args: any[]) => Error) =>
    (assertThrows(f, type) as LoraquantTypeError | LoraquantRangeError).code;
  // A bad type (lr) wins over a bad target shape and a bad rank.
  assertEquals(
    code(
      () =>
        loraTrainStep(batch, { ...data, target: z(2, 2) }, { ...layer, a: z(4, 4), b: z(3, 4) }, {
          lr: "0.1" as unknown as number,
        }),
      LoraquantTypeError,
    ),
    "E_ARG",
  );
  assertEquals(
    code(() => loraTrainStep(batch, data, layer, { lr: 0.1, step: 1.5 }), LoraquantTypeError),
    "E_ARG",
  );
  // A bad target shape wins over a bad rank and a bad lr.
  assertEquals(
    code(
      () =>
        loraTrainStep(batch, { ...data, target: z(2, 2) }, { ...layer, a: z(4, 4), b: z(3, 4) }, {
          lr: -1,
        }),
      LoraquantTypeError,
    ),
    "E_SHAPE",
  );
  assertEquals(
    code(
      () =>
        loraTrainStep(batch, data, layer, {
          lr: 0.1,
          moments: { mA: z(2, 4), vA: z(2, 4), mB: z(2, 3), vB: z(3, 2) },
        }),
      LoraquantTypeError,
    ),
    "E_SHAPE",
  );
  assertEquals(
    code(
      () => loraTrainStep(batch, data, { ...layer, a: z(4, 4), b: z(3, 4) }, { lr: 0.1 }),
      LoraquantRangeError,
    ),
    "E_RANGE",
  );
  for (
    const bad of [{ lr: -1 }, { lr: 0.1, beta1: 1 }, { lr: 0.1, eps: NaN }, { lr: 0.1, step: 0 }]
  ) {
    assertEquals(
      code(() => loraTrainStep(batch, data, layer, bad), LoraquantRangeError),
      "E_RANGE",
    );
  }
  assertEquals(batch.size, 0);
  batch.discard();
  // ŝ, the float32 scaling every kernel uses.
  assertEquals(loraScalingF32(2, { alpha: 1 }), 0.5);
});
