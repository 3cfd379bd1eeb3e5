// The GPU oracle against the reference oracle: the same fast-check generated request lines go to
// both (`answerGpuLines`, one batch and one readback for ≥ 64 requests; `answerLine` of
// @loraquant/reference/oracle), and the answers are compared as oracle-protocol.md "How answers
// are compared" says: exactly for cast, quantize, dequantize; within the float32 bound for
// matmul, lora.forward, lora.merge; error answers by code.
import fc from "fast-check";
import { assert, assertEquals } from "@std/assert";
import { answerLine, MAX_LINE_BYTES, MAX_NUMBERS } from "@loraquant/reference/oracle";
import { decodeNumber } from "@loraquant/reference/protocol";
import { fcParams } from "../reference/_testing.ts";
import {
  answerGpuLines,
  GPU_MAX_LINE_BYTES,
  GPU_MAX_NUMBERS,
  GPU_ORACLE_BOUNDED,
  GPU_ORACLE_OPS,
  serveGpu,
} from "./oracle.ts";
import type { Gpu } from "./device.ts";
import { GpuError } from "./gpu_error.ts";
import { f32FromBits, gpuTest, testGpu } from "./_testing.ts";

const U = 2 ** -24;
/** γ_k = k·u/(1 − k·u). */
function gamma(k: number, u = U): number {
  return (k * u) / (1 - k * u);
}

type Answer = {
  id: unknown;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
};

/** Both oracles' answers to the same requests (the GPU's in one batch). */
async function both(requests: readonly unknown[]): Promise<{ gpu: Answer[]; ref: Answer[] }> {
  const lines = requests.map((r) => typeof r === "string" ? r : JSON.stringify(r));
  const gpu = (await answerGpuLines(await testGpu(), lines)).map((l) => JSON.parse(l) as Answer);
  const ref = lines.map((l) => JSON.parse(answerLine(l)) as Answer);
  assertEquals(gpu.length, ref.length);
  return { gpu, ref };
}

/** Exact comparison of the answers (errors by code), skipping none: every request must be done. */
function assertSameAnswers(gpu: Answer[], ref: Answer[], requests: readonly unknown[]): void {
  for (let i = 0; i < gpu.length; i++) {
    const g = gpu[i]!;
    const r = ref[i]!;
    const context = `request ${JSON.stringify(requests[i]).slice(0, 300)}`;
    assertEquals(g.id, r.id, context);
    if (!r.ok || !g.ok) {
      assertEquals(g.error?.code, r.error?.code, `${context}: ${g.error?.message}`);
    } else {
      assertEquals(g.result, r.result, context);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Generators

/** float32 values of every kind: ordinary, ties of the narrow formats, subnormals, specials. */
function float32Value(): fc.Arbitrary<number | string> {
  return fc.oneof(
    fc.integer({ min: 0, max: 0xffffffff }).map(f32FromBits),
    fc.float({ noNaN: true, min: -70000, max: 70000 }),
    // float16 ties: 1 + (2j + 1)·2⁻¹¹ and bfloat16 ties: 1 + (2j + 1)·2⁻⁸, both signs.
    fc.tuple(fc.integer({ min: 0, max: 500 }), fc.boolean()).map(([j, neg]) =>
      (neg ? -1 : 1) * (1 + (2 * j + 1) * 2 ** -11)
    ),
    fc.tuple(fc.integer({ min: 0, max: 60 }), fc.boolean()).map(([j, neg]) =>
      (neg ? -1 : 1) * (1 + (2 * j + 1) * 2 ** -8)
    ),
    fc.constantFrom(
      65504,
      65520,
      448,
      464,
      57344,
      61440,
      2 ** -24,
      2 ** -25,
      2 ** -149,
      Math.fround(1e-45),
    ),
  ).map((v) =>
    Number.isNaN(v)
      ? "NaN"
      : v === Infinity
      ? "Infinity"
      : v === -Infinity
      ? "-Infinity"
      : Object.is(v, -0)
      ? "-0"
      : v
  ).map((v) => v as number | string);
}

function encode(v: number): number | string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (Object.is(v, -0)) return "-0";
  return v;
}

/** A dyadic float32 value m·2^e, |m| < 2^12, e in [−20, 4]: no underflow in float32 products. */
function moderate(): fc.Arbitrary<number> {
  return fc.tuple(fc.integer({ min: -4095, max: 4095 }), fc.integer({ min: -20, max: 4 }))
    .map(([m, e]) => m * 2 ** (e - 11));
}

/** Shapes: small, 1, and just past the kernels' tiles. */
function dimension(): fc.Arbitrary<number> {
  return fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(1, 15, 16, 17, 33, 65));
}

function matrixOf(rows: number, cols: number, value: fc.Arbitrary<number>) {
  return fc.array(value, { minLength: rows * cols, maxLength: rows * cols }).map((data) => ({
    shape: [rows, cols],
    data: data.map(encode),
  }));
}

// ---------------------------------------------------------------------------------------------
// Exact ops

gpuTest("gpu:oracle answers cast exactly as the reference (64 requests per readback)", async () => {
  const request = fc.record({
    op: fc.constant("cast"),
    format: fc.constantFrom("float16", "bfloat16", "fp8-e4m3", "fp8-e5m2", "float32"),
    x: fc.array(float32Value(), { minLength: 0, maxLength: 40 }),
    saturate: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(request, { minLength: 64, maxLength: 64 }), async (requests) => {
      const withIds = requests.map((r, id) => ({ id, ...r }));
      const { gpu, ref } = await both(withIds);
      assert(gpu.every((a) => a.ok), "every cast of float32 values is answered");
      assertSameAnswers(gpu, ref, withIds);
    }),
    fcParams(4),
  );
});

/** A quantize request of the pytorch profile: given scales (ties included) or symmetric calibration. */
function quantizeRequest(): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({
    rows: dimension(),
    cols: fc.constantFrom(1, 2, 4, 6, 8, 12, 17),
    dtype: fc.constantFrom("int8", "uint8", "int4", "uint4"),
    granularity: fc.constantFrom("tensor", "channel", "group"),
    axis: fc.constantFrom(0, 1),
    calibrate: fc.boolean(),
    restricted: fc.boolean(),
    seed: fc.integer(),
  }).chain((p) => {
    const groupSize = p.cols % 2 === 0 ? 2 : 1;
    const count = p.granularity === "tensor"
      ? 1
      : p.granularity === "channel"
      ? (p.axis === 0 ? p.rows : p.cols)
      : p.rows * p.cols / groupSize;
    const signed = p.dtype.startsWith("int");
    const bits = p.dtype.endsWith("8") ? 8 : 4;
    const qmin = signed ? -(2 ** (bits - 1)) : 0;
    const qmax = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    // Scales: powers of two (so x = (j + ½)·scale is an exact tie of t) or arbitrary.
    const scale = fc.oneof(
      fc.integer({ min: -12, max: 2 }).map((e) => 2 ** e),
      fc.double({ min: 1e-4, max: 4, noNaN: true }),
    );
    const x = fc.oneof(
      fc.double({ min: -300, max: 300, noNaN: true }),
      fc.integer({ min: -300, max: 300 }).map((j) => (j + 0.5) * 2 ** -3),
      fc.constantFrom(0, -0, 1e-30),
    );
    return fc.record({
      x: matrixOf(p.rows, p.cols, x),
      scale: fc.array(scale, { minLength: count, maxLength: count }),
      zeroPoint: fc.array(fc.integer({ min: qmin, max: qmax }), {
        minLength: count,
        maxLength: count,
      }),
    }).map((v) => ({
      op: "quantize",
      profile: "pytorch",
      dtype: p.dtype,
      scheme: "symmetric",
      granularity: p.granularity,
      ...(p.granularity === "channel" ? { axis: p.axis } : {}),
      ...(p.granularity === "group" ? { groupSize } : {}),
      ...(p.restricted && signed ? { range: "restricted" } : {}),
      x: v.x,
      ...(p.calibrate ? {} : {
        scale: v.scale,
        zeroPoint: v.zeroPoint.map((z) => p.restricted && signed ? Math.max(z, qmin + 1) : z),
      }),
    }));
  });
}

gpuTest(
  "gpu:oracle answers pytorch-profile quantize exactly as the reference, ties included",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(quantizeRequest(), { minLength: 64, maxLength: 64 }),
        async (requests) => {
          const withIds = requests.map((r, id) => ({ id, ...r }));
          const { gpu, ref } = await both(withIds);
          // Scales that vanish in float32 (a calibrated 2⁻¹⁰⁷⁴…) are E_RANGE in both; no E_OP.
          assert(gpu.every((a) => a.error?.code !== "E_OP"), JSON.stringify(gpu));
          assertSameAnswers(gpu, ref, withIds);
        },
      ),
      fcParams(3),
    );
  },
);

gpuTest("gpu:oracle answers pytorch-profile dequantize exactly as the reference", async () => {
  const request = fc.record({
    rows: dimension(),
    cols: fc.constantFrom(1, 2, 4, 7),
    granularity: fc.constantFrom("tensor", "channel"),
    axis: fc.constantFrom(0, 1),
  }).chain((p) => {
    const count = p.granularity === "tensor" ? 1 : p.axis === 0 ? p.rows : p.cols;
    return fc.record({
      q: matrixOf(p.rows, p.cols, fc.integer({ min: -300, max: 300 })),
      scale: fc.array(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), {
        minLength: count,
        maxLength: count,
      }),
      zeroPoint: fc.array(fc.integer({ min: -128, max: 255 }), {
        minLength: count,
        maxLength: count,
      }),
    }).map((v) => ({
      op: "dequantize",
      profile: "pytorch",
      granularity: p.granularity,
      ...(p.granularity === "channel" ? { axis: p.axis } : {}),
      ...v,
    }));
  });
  await fc.assert(
    fc.asyncProperty(fc.array(request, { minLength: 64, maxLength: 64 }), async (requests) => {
      const withIds = requests.map((r, id) => ({ id, ...r }));
      const { gpu, ref } = await both(withIds);
      assert(gpu.every((a) => a.ok), JSON.stringify(gpu.find((a) => !a.ok)));
      assertSameAnswers(gpu, ref, withIds);
    }),
    fcParams(2),
  );
});

// ---------------------------------------------------------------------------------------------
// Bounded ops

function values(m: { data: (number | string)[] }): number[] {
  return m.data.map((v, i) => decodeNumber(v, `data[${i}]`));
}

gpuTest("gpu:oracle answers float32 matmul within γ_k·Σ|a||b| of the exact product", async () => {
  const request = fc.record({ m: dimension(), k: dimension(), n: dimension() }).chain((s) =>
    fc.record({
      op: fc.constant("matmul"),
      dtype: fc.constant("float32"),
      accumulate: fc.constant("float32"),
      a: matrixOf(s.m, s.k, moderate()),
      b: matrixOf(s.k, s.n, moderate()),
    })
  );
  await fc.assert(
    fc.asyncProperty(fc.array(request, { minLength: 64, maxLength: 64 }), async (requests) => {
      const withIds = requests.map((r, id) => ({ id, ...r }));
      const answers = await answerGpuLines(await testGpu(), withIds.map((r) => JSON.stringify(r)));
      answers.forEach((line, i) => {
        const answer = JSON.parse(line) as Answer;
        assert(answer.ok, line);
        const req = withIds[i]!;
        const [m, k] = req.a.shape as [number, number];
        const n = req.b.shape[1]!;
        const a = values(req.a);
        const b = values(req.b);
        const y = values(answer.result!["y"] as { data: (number | string)[] });
        for (let r = 0; r < m; r++) {
          for (let c = 0; c < n; c++) {
            // The moderate() values are dyadic with |m| < 2^12 and exponents in [−31, −7]: each
            // product is exact in float64 and the float64 sum of k ≤ 65 of them, spanning less
            // than 2^53, is exact too; so `exact` is y, and no float32 operation underflows.
            let exact = 0;
            let s = 0;
            for (let p = 0; p < k; p++) {
              exact += a[r * k + p]! * b[p * n + c]!;
              s += Math.abs(a[r * k + p]! * b[p * n + c]!);
            }
            // oracle-protocol.md, bounded float32 matmul: |ŷ − y| ≤ γ_k · Σ_j |a_ij||b_jp|.
            const bound = gamma(k) * s;
            const got = y[r * n + c]!;
            assert(
              Math.abs(got - exact) <= bound,
              `y[${r}][${c}] = ${got}, exact ${exact}, bound ${bound} (request ${i})`,
            );
          }
        }
      });
    }),
    fcParams(3),
  );
});

gpuTest(
  "gpu:oracle answers float32 matmul with NaN, ±Infinity and signed zeros as the reference",
  async () => {
    // Small integers and specials: every finite partial sum is an integer below 2^24, so float32
    // is exact and the answers must equal the reference's bit for bit (NaN where it has NaN).
    const special = fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1, -1, 2, -3);
    const request = fc.record({ m: dimension(), k: fc.constantFrom(1, 2, 3, 17), n: dimension() })
      .chain((s) =>
        fc.record({
          op: fc.constant("matmul"),
          dtype: fc.constant("float32"),
          accumulate: fc.constant("float32"),
          a: matrixOf(s.m, s.k, special),
          b: matrixOf(s.k, s.n, special),
        })
      );
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 64, maxLength: 64 }), async (requests) => {
        const withIds = requests.map((r, id) => ({ id, ...r }));
        const { gpu, ref } = await both(withIds);
        assertSameAnswers(gpu, ref, withIds);
      }),
      fcParams(2),
    );
  },
);

gpuTest(
  "gpu:oracle answers int8 × int8 → int32 matmul exactly as the reference, up to the int32 boundary",
  async () => {
    const int8 = fc.oneof(fc.integer({ min: -128, max: 127 }), fc.constantFrom(-128, 127, 0, -1));
    const request = fc.record({
      m: dimension(),
      k: fc.oneof(dimension(), fc.constantFrom(4, 5, 64, 67)),
      n: dimension(),
      overflow: fc.constantFrom("wrap", "saturate", "error", undefined),
    }).chain((s) =>
      fc.record({
        op: fc.constant("matmul"),
        dtype: fc.constant("int8"),
        accumulate: fc.constant("int32"),
        a: matrixOf(s.m, s.k, int8),
        b: matrixOf(s.k, s.n, int8),
      }).map((r) => s.overflow === undefined ? r : { ...r, overflow: s.overflow })
    );
    // The int32 accumulation boundary: k = 2^17 − 1 products (−128)·(−128) sum to 2^31 − 2^14,
    // the largest k the GPU oracle answers (k = 2^17 reaches 2^31: E_OP there).
    const k = 2 ** 17 - 1;
    const boundary = {
      op: "matmul",
      dtype: "int8",
      accumulate: "int32",
      overflow: "error",
      a: { shape: [1, k], data: Array(k).fill(-128) },
      b: { shape: [k, 1], data: Array(k).fill(-128) },
    };
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 63, maxLength: 63 }), async (requests) => {
        const withIds = [boundary, ...requests].map((r, id) => ({ id, ...r }));
        const { gpu, ref } = await both(withIds);
        assert(gpu.every((a) => a.ok), JSON.stringify(gpu.find((a) => !a.ok)));
        assertSameAnswers(gpu, ref, withIds);
        assertEquals((gpu[0]!.result!["y"] as { data: number[] }).data, [2 ** 31 - 2 ** 14]);
      }),
      fcParams(2),
    );
    const over = { ...boundary, a: { shape: [1, k + 1], data: Array(k + 1).fill(-128) } };
    const [answer] = await answerGpuLines(await testGpu(), [JSON.stringify(over)]);
    assertEquals(JSON.parse(answer!).error.code, "E_OP");
  },
);

/** A LoRA layer whose scaling alpha/r is a float32 value (alpha = r·c). */
function loraRequest(op: "lora.forward" | "lora.merge") {
  return fc.record({
    out: dimension(),
    inputs: dimension(),
    n: dimension(),
    r: fc.integer({ min: 1, max: 8 }),
    c: fc.constantFrom(0.5, 1, 2, 0.375, -1.25),
    bias: fc.boolean(),
    rslora: fc.boolean(),
  }).chain((s) => {
    const r = Math.min(s.r, s.out, s.inputs);
    // rsLoRA's alpha/√r is a float32 value for a square r (1, 4) and alpha = √r·c.
    const rslora = s.rslora && (r === 1 || r === 4);
    return fc.record({
      x: matrixOf(s.n, s.inputs, moderate()),
      w: matrixOf(s.out, s.inputs, moderate()),
      a: matrixOf(r, s.inputs, moderate()),
      b: matrixOf(s.out, r, moderate()),
      bias: fc.array(moderate(), { minLength: s.out, maxLength: s.out }),
    }).map((v) => ({
      op,
      alpha: (rslora ? Math.sqrt(r) : r) * s.c,
      ...(rslora ? { rslora: true } : {}),
      w: v.w,
      a: v.a,
      b: v.b,
      ...(op === "lora.forward" ? { x: v.x, ...(s.bias ? { bias: v.bias } : {}) } : {}),
    }));
  });
}

gpuTest(
  "gpu:oracle answers lora.forward and lora.merge within γ_(k+r+2)·M of the reference",
  async () => {
    const request = fc.oneof(loraRequest("lora.forward"), loraRequest("lora.merge"));
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 64, maxLength: 64 }), async (requests) => {
        const withIds = requests.map((r, id) => ({ id, ...r }));
        const { gpu, ref } = await both(withIds);
        withIds.forEach((req, i) => {
          const g = gpu[i]!;
          const e = ref[i]!;
          assert(g.ok && e.ok, JSON.stringify(g));
          const w = values(req.w);
          const a = values(req.a);
          const b = values(req.b);
          const [out, k] = req.w.shape as [number, number];
          const r = req.a.shape[0]!;
          const s = Math.abs(req.alpha / ("rslora" in req ? Math.sqrt(r) : r));
          const key = req.op === "lora.forward" ? "y" : "w";
          const got = values(g.result![key] as { data: (number | string)[] });
          const want = values(e.result![key] as { data: (number | string)[] }); // exact, rounded once
          const x = "x" in req ? values(req.x!) : [1];
          const bias = "bias" in req ? values({ data: req.bias! }) : undefined;
          const rows = req.op === "lora.forward" ? req.x!.shape[0]! : out;
          const cols = req.op === "lora.forward" ? out : k;
          for (let i2 = 0; i2 < rows; i2++) {
            for (let j = 0; j < cols; j++) {
              // M: the sum of the absolute values of every term the element adds up
              // (oracle-protocol.md "How answers are compared").
              let m = 0;
              if (req.op === "lora.forward") {
                for (let p = 0; p < k; p++) m += Math.abs(x[i2 * k + p]! * w[j * k + p]!);
                for (let q = 0; q < r; q++) {
                  for (let p = 0; p < k; p++) {
                    m += s * Math.abs(x[i2 * k + p]! * a[q * k + p]! * b[j * r + q]!);
                  }
                }
                if (bias) m += Math.abs(bias[j]!);
              } else {
                m = Math.abs(w[i2 * k + j]!);
                for (let q = 0; q < r; q++) m += s * Math.abs(b[i2 * r + q]! * a[q * k + j]!);
              }
              // Protocol bound for float32 inputs: |ŷ − y| ≤ γ_(k+r+2)·M, y exact; the reference
              // answer is y rounded once to float64 (|ref − y| ≤ 2⁻⁵³|y|), and M is summed here in
              // float64 (a relative 2⁻⁴⁰ covers its rounding).
              const want1 = want[i2 * cols + j]!;
              const bound = gamma(k + r + 2) * m * (1 + 2 ** -40) + 2 ** -53 * Math.abs(want1);
              const got1 = got[i2 * cols + j]!;
              assert(
                Math.abs(got1 - want1) <= bound,
                `${req.op} [${i2}][${j}]: ${got1} vs ${want1}, bound ${bound} (request ${i})`,
              );
            }
          }
        });
      }),
      fcParams(3),
    );
  },
);

// ---------------------------------------------------------------------------------------------
// Faults, unimplemented ops, the stream

gpuTest("gpu:oracle answers E_OP for every op and variant it does not implement", async () => {
  const requests = [
    { op: "decode", format: "float16", bits: [1] },
    { op: "int", fn: "add", dtype: "int8", a: [1], b: [2] },
    { op: "block", format: "q8_0", x: Array(32).fill(1) },
    { op: "ternary", x: { shape: [1, 1], data: [1] } },
    { op: "metrics", x: [1], y: [1] },
    {
      op: "lora.unmerge",
      w: { shape: [1, 1], data: [1] },
      a: { shape: [1, 1], data: [1] },
      b: { shape: [1, 1], data: [1] },
      alpha: 1,
    },
    { op: "lora.params", shapes: [[4, 4]], rank: 1 },
    { op: "svd", m: { shape: [1, 1], data: [1] } },
    { op: "lowrank", m: { shape: [1, 1], data: [1] }, rank: 1 },
    { op: "cast", format: "float64", x: [1] },
    { op: "cast", format: "fp4-e2m1", x: [1] },
    { op: "cast", format: "float16", x: [0.1] }, // not a float32 value
    { op: "cast", format: "float16", x: [1], rounding: "toward-zero" },
    {
      op: "matmul",
      dtype: "float16",
      accumulate: "float32",
      a: { shape: [1, 1], data: [1] },
      b: { shape: [1, 1], data: [1] },
    },
    {
      op: "matmul",
      dtype: "int8",
      accumulate: "int64",
      a: { shape: [1, 1], data: [1] },
      b: { shape: [1, 1], data: [1] },
    },
    {
      op: "matmul",
      dtype: "uint8",
      accumulate: "int32",
      a: { shape: [1, 1], data: [1] },
      b: { shape: [1, 1], data: [1] },
    },
    {
      op: "quantize",
      x: { shape: [1, 1], data: [1] },
      dtype: "int8",
      scheme: "symmetric",
      granularity: "tensor",
    },
    {
      op: "quantize",
      x: { shape: [1, 1], data: [1] },
      dtype: "int16",
      scheme: "symmetric",
      granularity: "tensor",
      profile: "pytorch",
    },
    {
      op: "quantize",
      x: { shape: [1, 1], data: [1] },
      dtype: "int8",
      scheme: "asymmetric",
      granularity: "tensor",
      profile: "pytorch",
    },
    {
      op: "dequantize",
      q: { shape: [1, 1], data: [1] },
      scale: [1],
      granularity: "tensor",
      profile: "onnx",
    },
    {
      op: "lora.merge",
      w: { shape: [1, 1], data: [1] },
      a: { shape: [1, 1], data: [1] },
      b: { shape: [1, 1], data: [1] },
      alpha: 1,
      magnitude: [1],
    },
    {
      op: "lora.merge",
      w: { shape: [1, 1], data: [0.1] },
      a: { shape: [1, 1], data: [1] },
      b: { shape: [1, 1], data: [1] },
      alpha: 1,
    },
    {
      op: "lora.merge",
      w: { shape: [3, 3], data: Array(9).fill(1) },
      a: { shape: [3, 3], data: Array(9).fill(1) },
      b: { shape: [3, 3], data: Array(9).fill(1) },
      alpha: 1,
    }, // s = 1/3
  ];
  // Padded to 64 requests with casts, so the batch still has GPU work to read back.
  const all = [
    ...requests,
    ...Array.from(
      { length: 64 - requests.length },
      () => ({ op: "cast", format: "float16", x: [1] }),
    ),
  ].map((r, id) => ({ id, ...r }));
  const { gpu } = await both(all);
  requests.forEach((r, i) => {
    assertEquals(gpu[i]!.error?.code, "E_OP", `${JSON.stringify(r)}: ${JSON.stringify(gpu[i])}`);
  });
  assert(gpu.slice(requests.length).every((a) => a.ok));
});

gpuTest("gpu:oracle reports argument faults with the reference's codes, in its order", async () => {
  const m = (rows: number, cols: number, data: unknown[]) => ({ shape: [rows, cols], data });
  const lines: unknown[] = [
    "not json",
    "[1, 2]",
    "42",
    { id: 1 }, // no op
    { id: 2, op: 7 },
    { id: 3, op: "fft" },
    { op: "info", id: { nested: [1, "x"] } },
    { op: "cast", format: "float12", x: [1] },
    { op: "cast", format: "float16", x: "no" },
    { op: "cast", format: "float16", x: ["nan"] },
    { op: "cast", format: "float16", x: [1], saturate: "yes" },
    { op: "matmul", dtype: "float32", accumulate: "int32", a: m(1, 1, [1]), b: m(1, 1, [1]) },
    { op: "matmul", dtype: "int8", accumulate: "int32", a: m(1, 1, [1.5]), b: m(1, 1, [1]) },
    { op: "matmul", dtype: "int8", accumulate: "int32", a: m(1, 1, [1]), b: m(1, 1, [200]) },
    {
      op: "matmul",
      dtype: "int8",
      accumulate: "int32",
      overflow: "widen",
      a: m(1, 1, [1]),
      b: m(1, 1, [1]),
    },
    { op: "matmul", dtype: "int8", accumulate: "int32", a: m(1, 2, [1, 2]), b: m(1, 1, [200]) },
    {
      op: "matmul",
      dtype: "int8",
      accumulate: "int32",
      a: m(0, 2, []),
      b: m(2, 3, [1, 2, 3, 4, 5, 6]),
    },
    { op: "matmul", dtype: "int8", accumulate: "int32", a: m(2, 0, []), b: m(0, 2, []) },
    { op: "matmul", dtype: "float32", accumulate: "float32", a: m(1, 2, [1, 2]), b: m(1, 1, [1]) },
    { op: "matmul", dtype: "float32", accumulate: "float32", a: m(1, 2, [1]), b: m(2, 1, [1, 1]) },
    { op: "matmul", dtype: "float32", accumulate: "float32", a: m(0, 3, []), b: m(3, 0, []) },
    { op: "matmul", dtype: "float32", accumulate: "float32", a: m(2, 0, []), b: m(0, 2, []) },
    {
      op: "quantize",
      profile: "pytorch",
      dtype: "int8",
      granularity: "tensor",
      x: m(1, 1, [1]),
      scale: [0],
    },
    {
      op: "quantize",
      profile: "pytorch",
      dtype: "int8",
      granularity: "tensor",
      x: m(1, 1, ["NaN"]),
      scale: [1],
    },
    {
      op: "quantize",
      profile: "pytorch",
      dtype: "int8",
      granularity: "tensor",
      x: m(1, 1, [1]),
      scale: [1],
      zeroPoint: [200],
    },
    {
      op: "quantize",
      profile: "pytorch",
      dtype: "int8",
      granularity: "channel",
      axis: 2,
      x: m(1, 1, [1]),
      scale: [1],
    },
    {
      op: "quantize",
      profile: "pytorch",
      dtype: "int8",
      granularity: "group",
      groupSize: 3,
      x: m(1, 4, [1, 2, 3, 4]),
      scale: [1],
    },
    {
      op: "quantize",
      profile: "pytorch",
      dtype: "int8",
      granularity: "group",
      groupSize: 0,
      x: m(1, 4, [1, 2, 3, 4]),
      scale: [1],
    },
    {
      op: "quantize",
      profile: "pytorch",
      dtype: "uint8",
      range: "restricted",
      scheme: "symmetric",
      granularity: "tensor",
      x: m(1, 1, [1]),
    },
    {
      op: "quantize",
      profile: "pytorch",
      dtype: "int8",
      rounding: "toward-zero",
      scheme: "symmetric",
      granularity: "tensor",
      x: m(1, 1, [1]),
    },
    {
      op: "quantize",
      profile: "pytorch",
      dtype: "int8",
      granularity: "channel",
      x: m(2, 1, [1, 2]),
      scale: [1],
    },
    {
      op: "quantize",
      profile: "pytorch",
      dtype: "int4",
      scheme: "symmetric",
      granularity: "tensor",
      x: m(1, 3, [0, 0, "-0"]),
    },
    { op: "dequantize", profile: "pytorch", granularity: "tensor", q: m(1, 1, [1.5]), scale: [1] },
    {
      op: "dequantize",
      profile: "pytorch",
      granularity: "tensor",
      q: m(1, 2, [1, 2]),
      scale: [1, 2],
    },
    {
      op: "dequantize",
      profile: "pytorch",
      granularity: "tensor",
      q: m(1, 1, [3]),
      scale: ["Infinity"],
    },
    {
      op: "lora.merge",
      w: m(2, 2, [1, 2, 3, 4]),
      a: m(1, 3, [1, 1, 1]),
      b: m(2, 1, [1, 1]),
      alpha: 1,
    },
    { op: "lora.merge", w: m(1, 1, [1]), a: m(2, 1, [1, 1]), b: m(1, 2, [1, 1]), alpha: 2 },
    { op: "lora.merge", w: m(1, 1, ["Infinity"]), a: m(1, 1, [1]), b: m(1, 1, [1]), alpha: 2 },
    { op: "lora.merge", w: m(1, 1, [1]), a: m(1, 1, [1]), b: m(1, 1, [1]), alpha: "NaN" },
    { op: "lora.merge", w: m(1, 1, [1]), a: m(1, 1, [1]), b: m(1, 1, [1]) },
    {
      op: "lora.forward",
      x: m(1, 2, [1, 1]),
      w: m(1, 1, [1]),
      a: m(1, 1, [1]),
      b: m(1, 1, [1]),
      alpha: 1,
    },
    {
      op: "lora.forward",
      x: m(1, 1, [1]),
      w: m(1, 1, [1]),
      a: m(1, 1, [1]),
      b: m(1, 1, [1]),
      alpha: 1,
      bias: [1, 2],
    },
    {
      op: "lora.forward",
      x: m(2, 1, [1, -2]),
      w: m(1, 1, [1]),
      a: m(1, 1, [1]),
      b: m(1, 1, [1]),
      alpha: 1,
      bias: [0.5],
    },
  ];
  const padded = [
    ...lines,
    ...Array.from(
      { length: 64 - lines.length },
      (_, i) => ({ id: 100 + i, op: "cast", format: "fp8-e5m2", x: [i] }),
    ),
  ];
  const { gpu, ref } = await both(padded);
  gpu.forEach((g, i) => {
    const r = ref[i]!;
    const what = `${JSON.stringify(padded[i])}: gpu ${JSON.stringify(g)}, reference ${
      JSON.stringify(r)
    }`;
    assertEquals(g.ok, r.ok, what);
    assertEquals(g.id, r.id, what);
    if (!r.ok) assertEquals(g.error?.code, r.error?.code, what);
    else if (g.result && "name" in g.result) {
      assertEquals(g.result["bounded"], [...GPU_ORACLE_BOUNDED]);
      assertEquals(g.result["ops"], [...GPU_ORACLE_OPS]);
    } else assertEquals(g.result, r.result, what);
  });
});

gpuTest("gpu:oracle has the reference's limits and reports E_LIMIT as it does", async () => {
  assertEquals(GPU_MAX_LINE_BYTES, MAX_LINE_BYTES);
  assertEquals(GPU_MAX_NUMBERS, MAX_NUMBERS);
  const line = JSON.stringify({ id: 1, op: "cast", format: "float16", x: [1, 2, 3, 4] });
  const [gpuAnswer] = await answerGpuLines(await testGpu(), [line], { maxNumbers: 3 });
  const refAnswer = answerLine(line, { maxNumbers: 3 });
  assertEquals(JSON.parse(gpuAnswer!).error.code, "E_LIMIT");
  assertEquals(JSON.parse(refAnswer).error.code, "E_LIMIT");
});

gpuTest(
  "gpu:oracle serves a stream in order: chunks batched, blank lines skipped, long lines E_LIMIT",
  async () => {
    const requests = Array.from(
      { length: 70 },
      (_, i) => JSON.stringify({ id: i, op: "cast", format: "bfloat16", x: [i + 0.5] }),
    );
    const long = JSON.stringify({
      id: "long",
      op: "cast",
      format: "float16",
      x: Array(100).fill(1),
    });
    const text = [requests.slice(0, 30).join("\n"), "   ", long, "", requests.slice(30).join("\n")]
      .join("\n") + '\n{"id":"last","op":"info"}'; // no final newline
    const bytes = new TextEncoder().encode(text);
    // Delivered in uneven chunks that split lines.
    const input = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 977) {
          controller.enqueue(bytes.slice(at, at + 977));
        }
        controller.close();
      },
    });
    const output = new TransformStream<Uint8Array, Uint8Array>();
    const collected = new Response(output.readable).text();
    // Counts the batches (each is one readback): one per chunk, not one per request.
    const real = await testGpu();
    let batches = 0;
    const counting = Object.create(real, {
      batch: { value: () => (batches++, real.batch()) },
    }) as Gpu;
    await serveGpu(counting, input, output.writable, { maxLineBytes: 200 });
    const chunks = Math.ceil(bytes.length / 977);
    assert(batches <= chunks + 2, `${batches} batches for ${chunks} chunks`);
    const answers = (await collected).trimEnd().split("\n").map((l) => JSON.parse(l) as Answer);
    assertEquals(answers.length, 72);
    assertEquals(answers.slice(0, 30).map((a) => a.id), [...Array(30).keys()]);
    assertEquals(answers[30], {
      id: null,
      ok: false,
      error: { code: "E_LIMIT", message: answers[30]!.error!.message },
    });
    assertEquals(answers.slice(31, 71).map((a) => a.id), [...Array(40).keys()].map((i) => i + 30));
    assertEquals(answers[71]!.id, "last");
    requests.forEach((line, i) => {
      const a = answers[i < 30 ? i : i + 1]!;
      assertEquals(a.result, JSON.parse(answerLine(line)).result);
    });
  },
);

gpuTest("gpu:oracle answers each request alone when its batch fails on the device", async () => {
  // The first batch's read() fails as a rejected kernel would; the requests are then answered
  // one batch each, so only a request that fails alone gets an error.
  const real = await testGpu();
  let injected = 0;
  const flaky = Object.create(real, {
    batch: {
      value: () => {
        const batch = real.batch();
        if (injected++ > 0) return batch;
        return new Proxy(batch, {
          get(target, prop) {
            if (prop === "read") {
              return () => {
                target.discard();
                return Promise.reject(new GpuError("E_VALIDATION", "injected", "test-kernel"));
              };
            }
            const value = Reflect.get(target, prop, target);
            return typeof value === "function" ? value.bind(target) : value;
          },
        });
      },
    },
  }) as Gpu;
  const lines = Array.from(
    { length: 64 },
    (_, i) => JSON.stringify({ id: i, op: "cast", format: "fp8-e4m3", x: [i / 8, -i] }),
  );
  const answers = await answerGpuLines(flaky, lines);
  assertEquals(injected, 65);
  assertEquals(
    answers.map((a) => JSON.parse(a).result),
    lines.map((l) => JSON.parse(answerLine(l)).result),
  );
});

gpuTest(
  "deno task gpu:oracle answers the protocol's worked examples like the reference",
  async () => {
    const examples = await Deno.readTextFile(
      new URL("../../../shared/oracle-examples.jsonl", import.meta.url),
    ).catch(() => "");
    if (examples === "") return; // the examples live beside the repository, not in it
    const lines = examples.trim().split("\n").map((l) => JSON.stringify(JSON.parse(l).request));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "-A", new URL("./oracle.ts", import.meta.url).pathname],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(lines.join("\n") + "\n"));
    await writer.close();
    const { code, stdout, stderr } = await child.output();
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    const answers = new TextDecoder().decode(stdout).trim().split("\n").map((l) =>
      JSON.parse(l) as Answer
    );
    assertEquals(answers.length, lines.length);
    let compared = 0;
    answers.forEach((g, i) => {
      if (g.error?.code === "E_OP") return;
      const r = JSON.parse(answerLine(lines[i]!)) as Answer;
      if (!r.ok) assertEquals(g.error?.code, r.error?.code);
      else assertEquals(g.result, r.result, lines[i]);
      compared++;
    });
    assert(compared >= 6, `only ${compared} examples answered`);
  },
);
