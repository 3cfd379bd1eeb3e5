// The affine quantize/dequantize kernels against the reference's "pytorch" profile, bit for bit.
// Each property run enqueues 64 cases (a quantize and a chained dequantize each) in one batch.
import fc from "fast-check";
import { assertEquals, assertThrows } from "@std/assert";
import { quantize } from "@loraquant/reference/quantize";
import { dequantize } from "@loraquant/reference/dequantize";
import { matrix } from "@loraquant/reference/matrix";
import { LoraquantRangeError, LoraquantTypeError } from "@loraquant/reference/errors";
import { fcParams } from "../reference/_testing.ts";
import {
  affineLevels,
  dequantizeAffine,
  GPU_QUANTIZE_DTYPES,
  type GpuGranularity,
  type GpuQuantizeDtype,
  quantizeAffine,
} from "./quantize.ts";
import { gpuTest, random, testGpu } from "./_testing.ts";

type Kind = "unit" | "ties" | "clamp" | "huge";

interface Case {
  rows: number;
  cols: number;
  dtype: GpuQuantizeDtype;
  range: "full" | "restricted";
  granularity: GpuGranularity;
  axis: number;
  groupDivisor: number;
  kind: Kind;
  powerOfTwo: boolean;
  seed: number;
}

/** The generated operands of a case: x (float32), scales, zero points and the group size. */
interface Operands {
  x: Float32Array; // (rows, cols) row-major
  scale: number[];
  zeroPoint: number[];
  groupSize: number;
  count: number;
}

function scaleCount(c: Case, groupSize: number): number {
  switch (c.granularity) {
    case "tensor":
      return 1;
    case "channel":
      return c.axis === 0 ? c.rows : c.cols;
    case "group":
      return c.rows * (c.cols / groupSize);
  }
}

function scaleIndex(c: Case, groupSize: number, i: number, j: number): number {
  switch (c.granularity) {
    case "tensor":
      return 0;
    case "channel":
      return c.axis === 0 ? i : j;
    case "group":
      return i * (c.cols / groupSize) + Math.floor(j / groupSize);
  }
}

function operands(c: Case): Operands {
  const next = random(c.seed);
  const divisors = [...Array(c.cols).keys()].map((d) => d + 1).filter((d) => c.cols % d === 0);
  const groupSize = divisors[c.groupDivisor % divisors.length]!;
  const count = scaleCount(c, groupSize);
  const { qmin, qmax } = affineLevels(c.dtype, c.range);
  const scale = Array.from({ length: count }, () => {
    // Powers of two make the float32 reciprocal exact (so x = (k + ½)·scale is an exact tie of
    // t); otherwise significands in [1, 2) times 2^−24 … 2^6.
    const e = Math.floor(next() * 31) - 24;
    if (c.kind === "huge") return 2 ** (Math.floor(next() * 20) - 125); // r up to 2^125
    return c.powerOfTwo ? 2 ** e : (1 + next()) * 2 ** e;
  });
  const zeroPoint = Array.from(
    { length: count },
    () => qmin + Math.floor(next() * (qmax - qmin + 1)),
  );
  const x = new Float32Array(c.rows * c.cols);
  for (let i = 0; i < c.rows; i++) {
    for (let j = 0; j < c.cols; j++) {
      const g = scaleIndex(c, groupSize, i, j);
      const s = Math.fround(scale[g]!);
      const z = zeroPoint[g]!;
      const level = qmin - z + Math.floor(next() * (qmax - qmin + 1)); // in range after + z
      let v: number;
      switch (c.kind) {
        case "unit": // and, one time in ten, a signed zero or a float32 subnormal
          v = next() < 0.1
            ? [0, -0, 2 ** -149, -(2 ** -149), 2 ** -127][Math.floor(next() * 5)]!
            : (level + next() - 0.5) * s;
          break;
        case "ties":
          v = (level + 0.5) * s;
          break;
        case "clamp": // just inside and outside [qmin, qmax] after the zero point, and far out
          v = (next() < 0.5 ? qmin - z - 0.5 - 2 * next() : qmax - z + 0.5 + 2 * next()) * s;
          if (next() < 0.2) v = (next() < 0.5 ? -1 : 1) * 3.4e38 * next();
          break;
        case "huge": // |x · r| near and beyond the float32 range: the kernel's exponent guard
          v = (next() < 0.5 ? -1 : 1) * (1 + next()) * 2 ** (Math.floor(next() * 40) - 20);
          break;
      }
      x[i * c.cols + j] = v;
    }
  }
  return { x, scale, zeroPoint, groupSize, count };
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  rows: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(1, 17, 64)),
  cols: fc.oneof(fc.integer({ min: 1, max: 24 }), fc.constantFrom(1, 255, 256, 257)),
  dtype: fc.constantFrom(...GPU_QUANTIZE_DTYPES),
  range: fc.constantFrom("full", "restricted"),
  granularity: fc.constantFrom("tensor", "channel", "group"),
  axis: fc.constantFrom(0, 1),
  groupDivisor: fc.nat(20),
  kind: fc.constantFrom("unit", "ties", "clamp", "huge"),
  powerOfTwo: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
}).map((c) => (c.dtype.startsWith("u") ? { ...c, range: "full" as const } : c));

function layoutOptions(c: Case, o: Operands) {
  return {
    granularity: c.granularity,
    axis: c.axis,
    ...(c.granularity === "group" ? { groupSize: o.groupSize } : {}),
    scale: o.scale,
    zeroPoint: o.zeroPoint,
  };
}

gpuTest(
  "`quantizeAffine()` and `dequantizeAffine()` equal the reference's pytorch profile bit for bit",
  async () => {
    const gpu = await testGpu();
    await fc.assert(
      fc.asyncProperty(fc.array(caseArb, { minLength: 64, maxLength: 64 }), async (cases) => {
        const batch = gpu.batch();
        const all = cases.map((c) => operands(c));
        const handles = cases.flatMap((c, i) => {
          const o = all[i]!;
          const layout = layoutOptions(c, o);
          const q = quantizeAffine(batch, { rows: c.rows, cols: c.cols, data: o.x }, {
            ...layout,
            dtype: c.dtype,
            range: c.range,
          });
          return [q, dequantizeAffine(batch, q, layout)];
        });
        const results = await batch.read(...handles);
        cases.forEach((c, i) => {
          const o = all[i]!;
          const layout = layoutOptions(c, o);
          const x64 = matrix([c.rows, c.cols], o.x);
          const expected = quantize(x64, c.dtype, {
            ...layout,
            range: c.range,
            profile: "pytorch",
          });
          const label = `${c.kind} ${c.dtype} ${c.range} ${c.granularity} axis ${c.axis} ` +
            `${c.rows}×${c.cols} group ${o.groupSize} seed ${c.seed}`;
          assertEquals([...results[2 * i]!], [...expected.q.data], label);
          const back = dequantize(expected.q, o.scale, {
            ...layout,
            profile: "pytorch",
          });
          assertEquals([...results[2 * i + 1]!], [...back.data], label);
        });
      }),
      { ...fcParams(6), endOnFailure: true },
    );
  },
);

gpuTest("`dequantizeAffine()` is exact for any level and zero point up to 2^23", async () => {
  const gpu = await testGpu();
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          cols: fc.integer({ min: 1, max: 40 }),
          seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          exponent: fc.integer({ min: -30, max: 20 }),
        }),
        { minLength: 64, maxLength: 64 },
      ),
      async (cases) => {
        const batch = gpu.batch();
        const data = cases.map((c) => {
          const next = random(c.seed);
          const level = () => Math.round((2 * next() - 1) * 2 ** 23);
          return {
            q: Int32Array.from({ length: 2 * c.cols }, level),
            scale: [(1 + next()) * 2 ** c.exponent, (1 + next()) * 2 ** c.exponent],
            zeroPoint: [level(), level()],
          };
        });
        const handles = cases.map((c, i) =>
          dequantizeAffine(batch, { rows: 2, cols: c.cols, data: data[i]!.q }, {
            granularity: "channel",
            scale: data[i]!.scale,
            zeroPoint: data[i]!.zeroPoint,
          })
        );
        const results = await batch.read(...handles);
        cases.forEach((c, i) => {
          const d = data[i]!;
          const expected = dequantize(matrix([2, c.cols], d.q), d.scale, {
            granularity: "channel",
            zeroPoint: d.zeroPoint,
            profile: "pytorch",
          });
          assertEquals([...results[i]!], [...expected.data], `seed ${c.seed}`);
        });
      },
    ),
    { ...fcParams(2), endOnFailure: true },
  );
});

gpuTest("`quantizeAffine()` handles 1×1, empty matrices and a chained matmul result", async () => {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const one = quantizeAffine(batch, { rows: 1, cols: 1, data: new Float32Array([-2.5]) }, {
    scale: [1],
  });
  const empty = quantizeAffine(batch, { rows: 0, cols: 3, data: new Float32Array(0) }, {
    granularity: "channel",
    scale: [],
  });
  const product = batch.matmul(
    { rows: 1, cols: 2, data: new Float32Array([1, 2]) },
    { rows: 2, cols: 2, data: new Float32Array([0.75, 1, 0.5, -4]) },
  ); // [1.75, -7]
  const q4 = quantizeAffine(batch, product, { dtype: "int4", scale: [0.5] }); // [3.5 → 4, -14 → -8]
  const [a, b, c] = await batch.read(one, empty, q4);
  assertEquals([...a], [-2]);
  assertEquals([...b], []);
  assertEquals([...c], [4, -8]);
});

gpuTest("`quantizeAffine()` checks types before shapes before ranges", async () => {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const x = { rows: 2, cols: 4, data: new Float32Array(8) };
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as { code?: string }).code;
    }
    return "none";
  };
  // groupSize 3 does not divide 4 (E_SHAPE), the scale is negative (E_RANGE): E_ARG comes first.
  const bad = { granularity: "group" as const, groupSize: 3, scale: [-1, -1] };
  assertEquals(code(() => quantizeAffine(batch, x, { ...bad, dtype: "int3" as "int4" })), "E_ARG");
  assertEquals(code(() => quantizeAffine(batch, x, bad)), "E_SHAPE");
  assertEquals(code(() => quantizeAffine(batch, x, { ...bad, groupSize: 2 })), "E_SHAPE");
  assertEquals(
    code(() => quantizeAffine(batch, x, { ...bad, groupSize: 2, scale: [1, 1, 1, -1] })),
    "E_RANGE",
  );
  assertThrows(
    () => quantizeAffine(batch, x, { dtype: "uint8", range: "restricted", scale: [1] }),
    LoraquantTypeError,
    "signed dtypes only",
  );
  assertThrows(
    () => quantizeAffine(batch, x, { scale: [1], zeroPoint: [200] }),
    LoraquantRangeError,
    "zeroPoint must be an integer in [-128, 127], got 200",
  );
  assertThrows(
    () =>
      quantizeAffine(batch, { rows: 1, cols: 1, data: new Float32Array([NaN]) }, { scale: [1] }),
    LoraquantRangeError,
    "x must be finite",
  );
  assertThrows(
    () => quantizeAffine(batch, x, { scale: [1e-45] }),
    LoraquantRangeError,
    "reciprocal overflows",
  );
  assertThrows(
    () =>
      dequantizeAffine(batch, { rows: 1, cols: 1, data: new Int32Array([2 ** 24]) }, {
        scale: [1],
      }),
    LoraquantRangeError,
    "q must lie in",
  );
  assertEquals(batch.size, 0);
  batch.discard();
});
