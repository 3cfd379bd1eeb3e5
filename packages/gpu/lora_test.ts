// The LoRA kernels against `@loraquant/reference/lora` in float64 on the same float32 values.
// Each property run enqueues 64 cases (fused and unfused forward, or merge then unmerge) in one
// batch and reads them back once. Bounds: docs/gpu.md eq. (L3), (L4), (L6), (L7).
import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "@std/assert";
import { LoraquantRangeError, LoraquantTypeError } from "@loraquant/reference/errors";
import { loraForward as refForward, mergeLora as refMerge } from "@loraquant/reference/lora";
import { type Matrix, matrix } from "@loraquant/reference/matrix";
import { fcParams } from "../reference/_testing.ts";
import type { Float32Matrix } from "./matmul.ts";
import {
  type GpuLoraLayer,
  loraForward,
  loraForwardUnfused,
  loraScalingF32,
  mergeLora,
  unmergeLora,
} from "./lora.ts";
import { gamma, gpuTest, random, testGpu, TINY, U32, U64 } from "./_testing.ts";

type Kind = "unit" | "wide" | "integer";

function values(count: number, kind: Kind, seed: number): Float32Array {
  const next = random(seed);
  return new Float32Array(count).map(() => {
    const r = next();
    switch (kind) {
      case "unit":
        return 2 * r - 1;
      case "wide": // 2^-30 … 2^30, both signs: cancellation, no float32 overflow
        return (next() < 0.5 ? -1 : 1) * (1 + r) * 2 ** Math.floor(next() * 61 - 30);
      case "integer":
        return Math.floor(r * 9) - 4;
    }
  });
}

function f32(rows: number, cols: number, kind: Kind, seed: number): Float32Matrix {
  return { rows, cols, data: values(rows * cols, kind, seed) };
}

function f64(m: Float32Matrix): Matrix {
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
  kind: Kind;
  seed: number;
}

// Shapes straddle the 4 × 8 outputs per invocation, the 4-wide chunks of the sums and the
// 512-column workgroups; 1×1, k = in = 1 and r = 1 among them.
const caseArb = (kinds: readonly Kind[]): fc.Arbitrary<Case> =>
  fc.record({
    n: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(1, 4, 5, 16, 17)),
    inputs: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(1, 3, 4, 5, 16, 17, 33)),
    out: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(1, 7, 8, 9, 257, 511, 513)),
    r: fc.integer({ min: 1, max: 8 }),
    alpha: fc.constantFrom(1, 2, 3, 16, 0.5, -1, 7),
    rslora: fc.boolean(),
    bias: fc.boolean(),
    kind: fc.constantFrom(...kinds),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  }).map((c) => ({ ...c, r: Math.min(c.r, c.inputs, c.out) }));

interface Operands {
  x: Float32Matrix;
  layer: GpuLoraLayer & { w: Float32Matrix; a: Float32Matrix; b: Float32Matrix };
  bias: Float32Array | undefined;
}

function operands(c: Case): Operands {
  const bias = c.bias ? values(c.out, c.kind, c.seed + 4) : undefined;
  const layer = {
    w: f32(c.out, c.inputs, c.kind, c.seed),
    a: f32(c.r, c.inputs, c.kind, c.seed + 1),
    b: f32(c.out, c.r, c.kind, c.seed + 2),
    alpha: c.alpha,
    rslora: c.rslora,
    ...(bias ? { bias } : {}),
  };
  return { x: f32(c.n, c.inputs, c.kind, c.seed + 3), layer, bias };
}

function reference(o: Operands): Matrix {
  const { layer } = o;
  return refForward(f64(o.x), {
    w: f64(layer.w),
    a: f64(layer.a),
    b: f64(layer.b),
    alpha: layer.alpha,
    rslora: layer.rslora ?? false,
    ...(o.bias ? { bias: Float64Array.from(o.bias) } : {}),
  });
}

/** M_ij = Σ|x||w| + |s|·Σ_q (Σ_p|x||a|)|b| + |bias|, in float64 (relative slack 2⁻⁴⁰). */
function magnitude(o: Operands, s: number): Float64Array {
  const { x, layer } = o;
  const [n, inputs, out, r] = [x.rows, x.cols, layer.w.rows, layer.a.rows];
  const m = new Float64Array(n * out);
  for (let i = 0; i < n; i++) {
    const h = new Float64Array(r);
    for (let q = 0; q < r; q++) {
      for (let p = 0; p < inputs; p++) {
        h[q]! += Math.abs(x.data[i * inputs + p]! * layer.a.data[q * inputs + p]!);
      }
    }
    for (let j = 0; j < out; j++) {
      let sum = o.bias ? Math.abs(o.bias[j]!) : 0;
      for (let p = 0; p < inputs; p++) {
        sum += Math.abs(x.data[i * inputs + p]! * layer.w.data[j * inputs + p]!);
      }
      let up = 0;
      for (let q = 0; q < r; q++) up += h[q]! * Math.abs(layer.b.data[j * r + q]!);
      m[i * out + j] = (sum + Math.abs(s) * up) * (1 + 2 ** -40);
    }
  }
  return m;
}

/**
 * The forward bound (docs/gpu.md eq. (L3)/(L4)): γ_(in+r+3)(2⁻²⁴)·M for the GPU (ŝ rounded
 * to float32), plus the float64 reference's own (in+r+4)·2⁻⁵³·M (reference lora.ts), plus
 * underflow: at most 2⁻¹²⁶ per operation even if flushed, (in+1)(r+2) + 4 operations.
 */
function forwardBound(c: Case, m: number): number {
  return (gamma(c.inputs + c.r + 3, U32) + (c.inputs + c.r + 4) * U64) * m +
    ((c.inputs + 1) * (c.r + 2) + 4) * TINY;
}

gpuTest(
  "`loraForward()` and `loraForwardUnfused()` stay within γ_(in+r+3)·M of the reference, and of each other",
  async () => {
    const gpu = await testGpu();
    await fc.assert(
      fc.asyncProperty(
        fc.array(caseArb(["unit", "wide"]), { minLength: 64, maxLength: 64 }),
        async (cases) => {
          const batch = gpu.batch();
          const ops = cases.map(operands);
          const handles = ops.flatMap((o) => [
            loraForward(batch, o.x, o.layer).y,
            loraForwardUnfused(batch, o.x, o.layer).y,
          ]);
          const results = await batch.read(...handles);
          cases.forEach((c, k) => {
            const o = ops[k]!;
            const fused = results[2 * k]!;
            const unfused = results[2 * k + 1]!;
            const y = reference(o);
            const s = c.rslora ? c.alpha / Math.sqrt(c.r) : c.alpha / c.r;
            const m = magnitude(o, s);
            assertEquals(fused.length, c.n * c.out);
            for (let e = 0; e < fused.length; e++) {
              // |ŷ − y| ≤ γ_(in+r+3)·M (+ the reference's and underflow terms), eq. (L3)/(L4).
              const bound = forwardBound(c, m[e]!);
              const label = `${JSON.stringify(c)} element ${e}`;
              const ef = Math.abs(fused[e]! - y.data[e]!);
              const eu = Math.abs(unfused[e]! - y.data[e]!);
              assert(
                ef <= bound,
                `fused ${label}: |${fused[e]} − ${y.data[e]}| = ${ef} > ${bound}`,
              );
              assert(
                eu <= bound,
                `unfused ${label}: |${unfused[e]} − ${y.data[e]}| = ${eu} > ${bound}`,
              );
              // Both within the bound of y: within twice of each other.
              assert(Math.abs(fused[e]! - unfused[e]!) <= 2 * bound, `fused vs unfused ${label}`);
            }
          });
        },
      ),
      fcParams(3),
    );
  },
);

gpuTest(
  "`loraForward()` of small integers with s = 1 equals the reference bit for bit",
  async () => {
    // |x|, |w|, |a|, |b|, |bias| ≤ 4, in ≤ 33, r ≤ 8: every partial sum is an integer below 2^24,
    // so every float32 operation is exact, in any order, fused or not.
    const gpu = await testGpu();
    await fc.assert(
      fc.asyncProperty(
        fc.array(caseArb(["integer"]).map((c) => ({ ...c, alpha: c.r, rslora: false })), {
          minLength: 64,
          maxLength: 64,
        }),
        async (cases) => {
          const batch = gpu.batch();
          const ops = cases.map(operands);
          const handles = ops.flatMap((o) => [
            loraForward(batch, o.x, o.layer).y,
            loraForwardUnfused(batch, o.x, o.layer).y,
          ]);
          const results = await batch.read(...handles);
          cases.forEach((c, k) => {
            const y = [...reference(ops[k]!).data].map((v) => v + 0); // −0 → +0: sums start at +0
            assertEquals([...results[2 * k]!].map((v) => v + 0), y, `fused ${JSON.stringify(c)}`);
            assertEquals(
              [...results[2 * k + 1]!].map((v) => v + 0),
              y,
              `unfused ${JSON.stringify(c)}`,
            );
          });
        },
      ),
      fcParams(2),
    );
  },
);

gpuTest(
  "`mergeLora()` stays within γ_(r+3)·(|w| + |s|Σ|b||a|) and `unmergeLora()` brings W back",
  async () => {
    const gpu = await testGpu();
    await fc.assert(
      fc.asyncProperty(
        fc.array(caseArb(["unit", "wide"]), { minLength: 64, maxLength: 64 }),
        async (cases) => {
          const batch = gpu.batch();
          const ops = cases.map(operands);
          const handles = ops.flatMap((o) => {
            const merged = mergeLora(batch, o.layer.w, o.layer);
            const [snapshot] = batch.run({
              kernel: {
                name: "test-snapshot",
                code: `
@group(0) @binding(0) var<uniform> count: vec4<u32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) { if (id.x < count.x) { dst[id.x] = src[id.x]; } }`,
              },
              params: new Uint32Array([merged.length]),
              inputs: [merged],
              outputs: [{ shape: merged.shape, arrayType: Float32Array }],
              workgroups: [Math.ceil(merged.length / 64)],
            });
            return [snapshot!, unmergeLora(batch, merged, o.layer)];
          });
          const results = await batch.read(...handles);
          cases.forEach((c, k) => {
            const o = ops[k]!;
            const merged = results[2 * k]!;
            const back = results[2 * k + 1]!;
            const adapter = {
              a: f64(o.layer.a),
              b: f64(o.layer.b),
              alpha: c.alpha,
              rslora: c.rslora,
            };
            const expected = refMerge(f64(o.layer.w), adapter);
            const s = c.rslora ? c.alpha / Math.sqrt(c.r) : c.alpha / c.r;
            const hatS = loraScalingF32(c.r, { alpha: c.alpha, rslora: c.rslora });
            for (let e = 0; e < merged.length; e++) {
              const [i, j] = [Math.floor(e / c.inputs), e % c.inputs];
              let ba = 0;
              for (let q = 0; q < c.r; q++) {
                ba += Math.abs(o.layer.b.data[i * c.r + q]! * o.layer.a.data[q * c.inputs + j]!);
              }
              const w = Math.abs(o.layer.w.data[e]!);
              const label = `${JSON.stringify(c)} element ${e}`;
              // eq. (L6): |ŵ' − w'| ≤ γ_(r+3)·(|w| + |s|Σ|b||a|), plus the reference's own
              // (r+2)·2⁻⁵³ of the same, plus underflow (r + 2 operations).
              const m = (w + Math.abs(s) * ba) * (1 + 2 ** -40);
              const bound = (gamma(c.r + 3, U32) + (c.r + 2) * U64) * m + (c.r + 2) * TINY;
              const error = Math.abs(merged[e]! - expected.data[e]!);
              assert(error <= bound, `merge ${label}: ${error} > ${bound}`);
              // eq. (L7): merge then unmerge: (2u + u²)·(|w| + (1 + γ_(r+1))·|ŝ|Σ|b||a|).
              const back64 = (2 * U32 + U32 * U32) *
                  (w + (1 + gamma(c.r + 1, U32)) * Math.abs(hatS) * ba) * (1 + 2 ** -40) +
                2 * (c.r + 2) * TINY;
              const drift = Math.abs(back[e]! - o.layer.w.data[e]!);
              assert(drift <= back64, `unmerge ${label}: ${drift} > ${back64}`);
            }
          });
        },
      ),
      fcParams(3),
    );
  },
);

gpuTest("the LoRA operations check E_ARG, then E_SHAPE, then E_RANGE, before the GPU", async () => {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const m = (rows: number, cols: number) => ({ rows, cols, data: new Float32Array(rows * cols) });
  const layer = { w: m(3, 4), a: m(2, 4), b: m(3, 2), alpha: 1 };
  // deno-lint-ignore no-explicit-any
  const code = (f: () => unknown, type: abstract new (...args: any[]) => Error) =>
    (assertThrows(f, type) as LoraquantTypeError | LoraquantRangeError).code;
  // A wrong type wins over a wrong shape and a bad rank.
  assertEquals(
    code(
      () => loraForward(batch, m(1, 5), { ...layer, a: m(9, 4), alpha: "1" as unknown as number }),
      LoraquantTypeError,
    ),
    "E_ARG",
  );
  assertEquals(
    code(
      () => loraForward(batch, { rows: 1, cols: 4, data: new Float64Array(4) } as never, layer),
      LoraquantTypeError,
    ),
    "E_ARG",
  );
  // A wrong shape wins over a bad rank.
  assertEquals(
    code(() => loraForward(batch, m(1, 5), { ...layer, a: m(9, 4) }), LoraquantTypeError),
    "E_SHAPE",
  );
  assertEquals(
    code(
      () => loraForward(batch, m(1, 4), { ...layer, bias: new Float32Array(2) }),
      LoraquantTypeError,
    ),
    "E_SHAPE",
  );
  assertEquals(
    code(
      () => loraForward(batch, m(1, 4), { ...layer, a: m(4, 4), b: m(3, 4) }),
      LoraquantRangeError,
    ),
    "E_RANGE",
  );
  assertEquals(
    code(() => mergeLora(batch, layer.w, { ...layer, alpha: Infinity }), LoraquantRangeError),
    "E_RANGE",
  );
  assertEquals(
    code(() => unmergeLora(batch, m(3, 5), layer), LoraquantTypeError),
    "E_SHAPE",
  );
  assertEquals(batch.size, 0); // nothing was enqueued
  batch.discard();
});

gpuTest(
  "`loraForward()` takes handles: the forward of a merged weight with B = 0 is x·Wᵀ",
  async () => {
    // Chains on the GPU: W merged in place (by a zero adapter: exact), then used as the weight.
    const gpu = await testGpu();
    const batch = gpu.batch();
    const x = f32(5, 7, "integer", 1);
    const w = f32(9, 7, "integer", 2);
    const zero = {
      a: f32(2, 7, "integer", 3),
      b: { rows: 9, cols: 2, data: new Float32Array(18) },
    };
    const merged = mergeLora(batch, w, { ...zero, alpha: 3 });
    const { y, h } = loraForward(batch, x, { w: merged, ...zero, alpha: 3 });
    const [got, hGot] = await batch.read(y, h);
    const expected = reference({ x, layer: { w, ...zero, alpha: 3 }, bias: undefined });
    assertEquals([...got], [...expected.data].map((v) => v + 0));
    assertEquals(hGot.length, 5 * 2);
  },
);

gpuTest("`loraForward()` of 1×1 operands with r = 1 and in = 1 is exact", async () => {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const one = (v: number) => ({ rows: 1, cols: 1, data: new Float32Array([v]) });
  const layer = { w: one(2), a: one(5), b: one(7), alpha: 1, bias: new Float32Array([0.5]) };
  const fused = loraForward(batch, one(3), layer);
  const unfused = loraForwardUnfused(batch, one(3), layer);
  const merged = mergeLora(batch, layer.w, layer);
  const [y, yu, h, w] = await batch.read(fused.y, unfused.y, fused.h, merged);
  assertEquals([...y], [111.5]); // 3·2 + 1·(3·5)·7 + 0.5
  assertEquals([...yu], [111.5]);
  assertEquals([...h], [15]);
  assertEquals([...w], [37]); // 2 + 7·5
});

gpuTest(
  "`loraForward()` propagates NaN and ±Infinity to their own outputs only (edge reads never leak)",
  async () => {
    // The reference's LoRA ops refuse non-finite inputs, so this checks IEEE propagation
    // directly: a NaN in W's last row (which the kernel re-reads, clamped, for the columns past
    // the edge) reaches only column out − 1; an Infinity in x's last row only that row.
    const gpu = await testGpu();
    const batch = gpu.batch();
    const [n, inputs, out, r] = [5, 7, 9, 2];
    const x = f32(n, inputs, "unit", 1);
    const w = f32(out, inputs, "unit", 2);
    const layer = { w, a: f32(r, inputs, "unit", 3), b: f32(out, r, "unit", 4), alpha: 2 };
    const finite = reference({ x, layer, bias: undefined });
    const wNaN = { ...w, data: w.data.map((v, i) => i === (out - 1) * inputs + 3 ? NaN : v) };
    const xInf = {
      ...x,
      data: x.data.map((v, i) => i === (n - 1) * inputs + 6 ? Infinity : Math.abs(v)),
    };
    const positive = { ...w, data: w.data.map(Math.abs) };
    const handles = [
      loraForward(batch, x, { ...layer, w: wNaN }).y,
      loraForwardUnfused(batch, x, { ...layer, w: wNaN }).y,
      loraForward(batch, xInf, {
        ...layer,
        w: positive,
        a: { ...layer.a, data: layer.a.data.map(Math.abs) },
        b: { ...layer.b, data: layer.b.data.map(Math.abs) },
      }).y,
    ];
    const [nan, nanUnfused, inf] = await batch.read(...handles);
    for (const got of [nan!, nanUnfused!]) {
      for (let e = 0; e < n * out; e++) {
        if (e % out === out - 1) assert(Number.isNaN(got[e]!), `element ${e} should be NaN`);
        else assert(Math.abs(got[e]! - finite.data[e]!) < 1e-4, `element ${e}: ${got[e]}`);
      }
    }
    for (let e = 0; e < n * out; e++) {
      // Row n − 1 has x ≥ 0 with one +Infinity, against w, a, b ≥ 0 and s = 1: +Infinity (h and
      // g are +Infinity too), unless a factor is +0 there (Infinity·0 = NaN).
      const i = Math.floor(e / out);
      const j = e % out;
      const expectInf = i === n - 1 && positive.data[j * inputs + 6]! > 0 &&
        layer.a.data.every((v, k) => k % inputs !== 6 || v !== 0) &&
        layer.b.data.slice(j * r, j * r + r).every((v) => v !== 0);
      if (expectInf) assertEquals(inf![e], Infinity, `element ${e}`);
      else if (i < n - 1) assert(Number.isFinite(inf![e]!), `element ${e}: ${inf![e]}`);
    }
  },
);
