// The dequant-matmul kernels against the float64 product of x and the reference's exactly
// dequantized weights ("pytorch" profile). Each property run enqueues 64 products in one batch.
import fc from "fast-check";
import { assert, assertEquals } from "@std/assert";
import { dequantize } from "@loraquant/reference/dequantize";
import { matrix } from "@loraquant/reference/matrix";
import { fcParams } from "../reference/_testing.ts";
import { dequantMatmul, type QuantizedWeights } from "./dequant_matmul.ts";
import { affineLevels, GPU_QUANTIZE_DTYPES, type GpuQuantizeDtype } from "./quantize.ts";
import { gamma, gpuTest, random, testGpu, TINY, U32, U64 } from "./_testing.ts";

type Kind = "unit" | "wide" | "integer";

interface Case {
  n: number;
  out: number;
  inN: number;
  dtype: GpuQuantizeDtype;
  group: boolean;
  groupDivisor: number;
  kind: Kind;
  seed: number;
}

interface Operands {
  x: Float32Array; // (n, in) row-major
  weights: QuantizedWeights;
}

function operands(c: Case): Operands {
  const next = random(c.seed);
  const divisors = [...Array(c.inN).keys()].map((d) => d + 1).filter((d) => c.inN % d === 0);
  const groupSize = c.group ? divisors[c.groupDivisor % divisors.length] ?? 1 : c.inN;
  const count = c.out * (c.group ? c.inN / groupSize : 1);
  const { qmin, qmax } = affineLevels(c.dtype);
  const level = () => qmin + Math.floor(next() * (qmax - qmin + 1));
  const x = new Float32Array(c.n * c.inN).map(() => {
    const r = next();
    switch (c.kind) {
      case "unit":
        return 2 * r - 1;
      case "wide": // magnitudes 2^-30 … 2^30, both signs: cancellation
        return (next() < 0.5 ? -1 : 1) * (1 + r) * 2 ** Math.floor(next() * 61 - 30);
      case "integer":
        return Math.floor(r * 17) - 8;
    }
  });
  // Integer cases use scales 1/4, 1/2, 1: every partial sum is a multiple of 1/4 below 2^22,
  // exact in float32, so the kernel must return the exact product.
  const scale = Array.from(
    { length: count },
    () =>
      c.kind === "integer"
        ? 2 ** -Math.floor(next() * 3)
        : (1 + next()) * 2 ** Math.floor(next() * 20 - 12),
  );
  return {
    x,
    weights: {
      dtype: c.dtype,
      rows: c.out,
      cols: c.inN,
      q: Array.from({ length: c.out * c.inN }, level),
      granularity: c.group ? "group" : "channel",
      ...(c.group ? { groupSize } : {}),
      scale,
      zeroPoint: Array.from({ length: count }, level),
    },
  };
}

// Shapes straddling the tiles (4 × 4 per invocation, 32 × 32 per workgroup) and the packed words
// (4 or 8 levels), in = 0 and 1, groups of any size dividing in (1, 3, 5, … included).
const caseArb: fc.Arbitrary<Case> = fc.record({
  n: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom(1, 4, 5, 33)),
  out: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(1, 4, 5, 31, 32, 33)),
  inN: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(0, 1, 3, 4, 7, 8, 9, 64, 96)),
  dtype: fc.constantFrom(...GPU_QUANTIZE_DTYPES),
  group: fc.boolean(),
  groupDivisor: fc.nat(12),
  kind: fc.constantFrom("unit", "wide", "integer"),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

gpuTest(
  "`dequantMatmul()` stays within γ_in·Σ|x||ŵ| of x·Ŵᵀ, and is exact on small integers",
  async () => {
    const gpu = await testGpu();
    await fc.assert(
      fc.asyncProperty(fc.array(caseArb, { minLength: 64, maxLength: 64 }), async (cases) => {
        const batch = gpu.batch();
        const all = cases.map(operands);
        const handles = cases.map((c, i) =>
          dequantMatmul(batch, { rows: c.n, cols: c.inN, data: all[i]!.x }, all[i]!.weights)
        );
        const results = await batch.read(...handles);
        cases.forEach((c, i) => {
          const { x, weights: w } = all[i]!;
          // Ŵ: the reference's dequantization under the "pytorch" profile (one float32 rounding
          // of (q − z)·fround(s)), the weights the kernel multiplies by.
          const wHat = dequantize(matrix([w.rows, w.cols], w.q), w.scale, {
            granularity: w.granularity === "group" ? "group" : "channel",
            axis: 0,
            ...(w.groupSize === undefined ? {} : { groupSize: w.groupSize }),
            zeroPoint: w.zeroPoint!,
            profile: "pytorch",
          }).data; // (out, in) row-major
          const got = results[i]!;
          assertEquals(got.length, c.n * c.out);
          const label = `${c.kind} ${c.dtype} ${c.group ? "group" : "channel"} ` +
            `${c.n}×${c.inN}·(${c.out}×${c.inN})ᵀ seed ${c.seed}`;
          for (let r = 0; r < c.n; r++) {
            for (let j = 0; j < c.out; j++) {
              let sum = 0;
              let abs = 0;
              for (let p = 0; p < c.inN; p++) {
                const product = x[r * c.inN + p]! * wHat[j * c.inN + p]!; // exact in float64
                sum += product;
                abs += Math.abs(product);
              }
              const g = got[r * c.out + j]!;
              if (c.kind === "integer") {
                assertEquals(g, sum, `${label} [${r},${j}]`);
                continue;
              }
              // docs/gpu.md eq. (D3): |ŷ − y| ≤ γ_in(2⁻²⁴)·Σ|x||ŵ| + 2·in·2⁻¹²⁶,
              // and the float64 sum is itself within γ_in(2⁻⁵³)·Σ|x||ŵ| of y; Σ|x||ŵ| carries a
              // relative slack of 2⁻⁴⁰ from its own float64 rounding.
              const bound = (gamma(c.inN, U32) + gamma(c.inN, U64)) * abs * (1 + 2 ** -40) +
                2 * c.inN * TINY;
              assert(
                Math.abs(g - sum) <= bound,
                `${label} [${r},${j}]: |${g} − ${sum}| = ${Math.abs(g - sum)} > ${bound}`,
              );
            }
          }
        });
      }),
      { ...fcParams(5), endOnFailure: true },
    );
  },
);

gpuTest("`dequantMatmul()` gives zeros for in = 0 and empty results for n = 0", async () => {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const noInputs = dequantMatmul(batch, { rows: 2, cols: 0, data: new Float32Array(0) }, {
    dtype: "int8",
    rows: 3,
    cols: 0,
    q: [],
    scale: [1, 1, 1],
  });
  const noRows = dequantMatmul(batch, { rows: 0, cols: 4, data: new Float32Array(0) }, {
    dtype: "uint4",
    rows: 1,
    cols: 4,
    q: [1, 2, 3, 15],
    scale: [1],
  });
  const [a, b] = await batch.read(noInputs, noRows);
  assertEquals([...a], [0, 0, 0, 0, 0, 0]);
  assertEquals([...b], []);
});

gpuTest("`dequantMatmul()` checks types before shapes before ranges", async () => {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as { code?: string }).code;
    }
    return "none";
  };
  const x = { rows: 1, cols: 4, data: new Float32Array(4) };
  const w: QuantizedWeights = { dtype: "int4", rows: 1, cols: 4, q: [0, 0, 0, 9], scale: [-1] };
  assertEquals(code(() => dequantMatmul(batch, x, { ...w, dtype: "int2" as "int4" })), "E_ARG");
  assertEquals(code(() => dequantMatmul(batch, x, { ...w, q: [0, 0, 0] })), "E_SHAPE");
  assertEquals(
    code(() => dequantMatmul(batch, x, { ...w, granularity: "group", groupSize: 3 })),
    "E_SHAPE",
  );
  assertEquals(code(() => dequantMatmul(batch, x, w)), "E_RANGE");
  assertEquals(code(() => dequantMatmul(batch, x, { ...w, scale: [1] })), "E_RANGE"); // q = 9 > 7
  assertEquals(batch.size, 0);
  batch.discard();
});
