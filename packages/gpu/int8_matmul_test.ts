// The int8 matmul kernels against the reference's integerMatmul (int32 accumulator, wrap), bit
// for bit. Each property run enqueues 64 products in one batch and reads them back once.
import fc from "fast-check";
import { assertEquals } from "@std/assert";
import { integerMatmul } from "@loraquant/reference/matmul";
import { matrix } from "@loraquant/reference/matrix";
import { fcParams } from "../reference/_testing.ts";
import {
  hasDot4I8Packed,
  int8Matmul,
  type Int8MatmulVariant,
  type Int8Matrix,
} from "./int8_matmul.ts";
import { gpuTest, random, testGpu } from "./_testing.ts";

/** The kernels this runtime can compile: unpack always, dot4 where the WGSL feature exists. */
const VARIANTS: Int8MatmulVariant[] = hasDot4I8Packed() ? ["dot4", "unpack"] : ["unpack"];

type Kind = "uniform" | "extreme";

function makeInt8(rows: number, cols: number, kind: Kind, seed: number): Int8Matrix {
  const next = random(seed);
  const data = Int8Array.from(
    { length: rows * cols },
    () =>
      kind === "uniform"
        ? Math.floor(next() * 256) - 128
        : [-128, 127, -127, 0, -1, 1][Math.floor(next() * 6)]!,
  );
  return { rows, cols, data };
}

/** The reference's product as numbers (int32 accumulator, wrapping). */
function expected(a: Int8Matrix, b: Int8Matrix): number[] {
  const { y } = integerMatmul(matrix([a.rows, a.cols], a.data), matrix([b.rows, b.cols], b.data), {
    dtype: "int8",
    accumulate: "int32",
    overflow: "wrap",
  });
  return Array.from(y.data as BigInt64Array, Number);
}

interface Case {
  m: number;
  k: number;
  n: number;
  kind: Kind;
  seed: number;
  variant: Int8MatmulVariant;
}

// Shapes straddling the tiles (4 × 8 per invocation, 32 × 64 per workgroup) and k around the
// 4-byte words (k = 0, 1, 3, 4, 5, …).
const caseArb: fc.Arbitrary<Case> = fc.record({
  m: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(1, 3, 4, 5, 31, 32, 33)),
  k: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(0, 1, 3, 4, 5, 7, 8, 9, 257)),
  n: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constantFrom(1, 7, 8, 9, 63, 64, 65)),
  kind: fc.constantFrom("uniform", "extreme"),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  variant: fc.constantFrom(...VARIANTS),
});

gpuTest(
  "`int8Matmul()` equals the reference's int32 product bit for bit for any shape",
  async () => {
    const gpu = await testGpu();
    await fc.assert(
      fc.asyncProperty(fc.array(caseArb, { minLength: 64, maxLength: 64 }), async (cases) => {
        const batch = gpu.batch();
        const operands = cases.map((c) =>
          [
            makeInt8(c.m, c.k, c.kind, c.seed),
            makeInt8(c.k, c.n, c.kind, c.seed ^ 0x5bd1e995),
          ] as const
        );
        const handles = cases.map((c, i) =>
          int8Matmul(batch, ...operands[i]!, { variant: c.variant })
        );
        const results = await batch.read(...handles);
        cases.forEach((c, i) => {
          const [a, b] = operands[i]!;
          assertEquals(
            [...results[i]!],
            expected(a, b),
            `${c.variant} ${c.m}×${c.k}·${c.k}×${c.n} ${c.kind} seed ${c.seed}`,
          );
        });
      }),
      { ...fcParams(8), endOnFailure: true },
    );
  },
);

gpuTest("`int8Matmul()` wraps at the int32 accumulation boundary like the reference", async () => {
  // 2^31 / 128² = 131072 and 2^31 / 127² ≈ 133145 products of extreme values reach the int32
  // boundary: k from 130000 to 134000 (never a multiple of 4 in half the cases) lands just
  // below, on and above it, with one sign dominant so the exact sum crosses ±2^31.
  const gpu = await testGpu();
  const batch = gpu.batch();
  const next = random(7);
  const cases = Array.from({ length: 64 }, (_, i) => {
    const k = 130_000 + Math.floor(next() * 4000);
    const sign = i % 2 === 0 ? 1 : -1;
    const a = Int8Array.from({ length: k }, () => (next() < 0.998 ? -128 : 127));
    const b = Int8Array.from({ length: k }, () => (next() < 0.998 ? (sign > 0 ? -128 : 127) : 1));
    return {
      a: { rows: 1, cols: k, data: a },
      b: { rows: k, cols: 1, data: b },
      variant: VARIANTS[i % VARIANTS.length]!,
    };
  });
  const handles = cases.map((c) => int8Matmul(batch, c.a, c.b, { variant: c.variant }));
  const results = await batch.read(...handles);
  let wrapped = 0;
  cases.forEach((c, i) => {
    const want = expected(c.a, c.b);
    let exact = 0;
    for (let p = 0; p < c.a.cols; p++) exact += c.a.data[p]! * c.b.data[p]!;
    if (exact !== want[0]) wrapped++;
    assertEquals([...results[i]!], want, `${c.variant} k = ${c.a.cols}`);
  });
  assertEquals(wrapped > 10 && wrapped < 60, true, `${wrapped} of 64 cases wrapped`);
});

gpuTest(
  "`int8Matmul()` gives zeros for k = 0, empty results for m = 0, and 1×1 products",
  async () => {
    const gpu = await testGpu();
    const batch = gpu.batch();
    const m = (rows: number, cols: number, values: number[] = []) => ({
      rows,
      cols,
      data: Int8Array.from(values.length ? values : new Array(rows * cols).fill(0)),
    });
    const handles = VARIANTS.flatMap((variant) => [
      int8Matmul(batch, m(3, 0), m(0, 5), { variant }),
      int8Matmul(batch, m(0, 4), m(4, 2), { variant }),
      int8Matmul(batch, m(1, 1, [-128]), m(1, 1, [-128]), { variant }),
    ]);
    const results = await batch.read(...handles);
    for (let v = 0; v < VARIANTS.length; v++) {
      assertEquals([...results[3 * v]!], new Array(15).fill(0));
      assertEquals([...results[3 * v + 1]!], []);
      assertEquals([...results[3 * v + 2]!], [16384]);
    }
  },
);

gpuTest("`int8Matmul()` checks types before shapes", async () => {
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
  const a = { rows: 2, cols: 3, data: new Int8Array(6) };
  const b = { rows: 2, cols: 2, data: new Int8Array(4) };
  assertEquals(code(() => int8Matmul(batch, a, b)), "E_SHAPE");
  assertEquals(code(() => int8Matmul(batch, a, b, { variant: "fast" as "dot4" })), "E_ARG");
  assertEquals(
    code(() => int8Matmul(batch, { ...a, data: new Uint8Array(6) as unknown as Int8Array }, b)),
    "E_ARG",
  );
  assertEquals(code(() => int8Matmul(batch, { ...a, data: new Int8Array(5) }, b)), "E_SHAPE");
  assertEquals(batch.size, 0);
  batch.discard();
});
