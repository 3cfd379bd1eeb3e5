// The f32 matmul kernels against float64 products and exact integer sums. Each property run
// enqueues 64 products (both variants) in one batch and reads them back once.
import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "@std/assert";
import { LoraquantRangeError, LoraquantTypeError } from "@loraquant/reference/errors";
import { fcParams } from "../reference/_testing.ts";
import { type Float32Matrix, MATMUL_VARIANTS, type MatmulVariant } from "./matmul.ts";
import { encode, roundToFormat } from "@loraquant/reference/cast";
import { requestGpu } from "./device.ts";
import { gamma, gpuTest, random, testGpu, TINY, U32, U64 } from "./_testing.ts";

type Kind = "unit" | "wide" | "integer" | "special";

/** An (rows, cols) float32 matrix of one kind of values. */
function makeMatrix(rows: number, cols: number, kind: Kind, seed: number): Float32Matrix {
  const next = random(seed);
  const data = new Float32Array(rows * cols).map(() => {
    const r = next();
    switch (kind) {
      case "unit":
        return 2 * r - 1;
      case "wide": // magnitudes 2^-40 … 2^40, both signs: cancellation and mixed scales
        return (next() < 0.5 ? -1 : 1) * (1 + r) * 2 ** Math.floor(next() * 81 - 40);
      case "integer":
        return Math.floor(r * 33) - 16;
      case "special": {
        const s = next();
        if (s < 0.05) return NaN;
        if (s < 0.1) return Infinity;
        if (s < 0.15) return -Infinity;
        if (s < 0.25) return 0;
        return 2 * r - 1;
      }
    }
  });
  return { rows, cols, data };
}

interface Case {
  m: number;
  k: number;
  n: number;
  kind: Kind;
  seed: number;
  variant: MatmulVariant;
}

// Shapes: small ones, and ones straddling the tiles (8 × 16 per invocation, 64 × 128 and 16 × 16
// per workgroup); k = 0, 1 and across the 16-wide steps of the tiled kernel.
const rowsArb = fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(1, 7, 8, 9, 16, 17, 65));
const colsArb = fc.oneof(
  fc.integer({ min: 1, max: 20 }),
  fc.constantFrom(1, 15, 16, 17, 127, 129),
);
const depthArb = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(0, 1, 15, 16, 17, 100));

function caseArb(kinds: readonly Kind[]): fc.Arbitrary<Case> {
  return fc.record({
    m: rowsArb,
    k: depthArb,
    n: colsArb,
    kind: fc.constantFrom(...kinds),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    variant: fc.constantFrom(...MATMUL_VARIANTS),
  });
}

/** Runs 64 cases in one batch and checks each element with `check`. */
async function runCases(
  cases: readonly Case[],
  check: (c: Case, a: Float32Matrix, b: Float32Matrix, got: Float32Array) => void,
): Promise<void> {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const operands = cases.map((c) =>
    [
      makeMatrix(c.m, c.k, c.kind, c.seed),
      makeMatrix(c.k, c.n, c.kind, c.seed ^ 0x5bd1e995),
    ] as const
  );
  const handles = cases.map((c, i) => {
    const [a, b] = operands[i]!;
    return batch.matmul(a, b, { variant: c.variant });
  });
  const results = await batch.read(...handles);
  cases.forEach((c, i) => {
    const [a, b] = operands[i]!;
    check(c, a, b, results[i] as Float32Array);
  });
}

/** The float64 sum of products in ascending p, and Σ|a||b| (each product exact in float64). */
function float64Dot(a: Float32Matrix, b: Float32Matrix, i: number, j: number): [number, number] {
  let sum = 0;
  let abs = 0;
  for (let p = 0; p < a.cols; p++) {
    const product = (a.data[i * a.cols + p] as number) * (b.data[p * b.cols + j] as number);
    sum += product;
    abs += Math.abs(product);
  }
  return [sum, abs];
}

gpuTest("`matmul()` stays within γ_k·Σ|a||b| of the exact product for any shape", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(caseArb(["unit", "wide"]), { minLength: 64, maxLength: 64 }),
      (cases) =>
        runCases(cases, (c, a, b, got) => {
          assertEquals(got.length, c.m * c.n);
          for (let i = 0; i < c.m; i++) {
            for (let j = 0; j < c.n; j++) {
              const [c64, abs] = float64Dot(a, b, i, j);
              const g = got[i * c.n + j] as number;
              // docs/gpu.md eq. (M3): |ĉ − c| ≤ γ_k(2⁻²⁴)·Σ|a||b| + 2k·2⁻¹²⁶ (underflow, even if
              // flushed), and the float64 reference is itself within γ_k(2⁻⁵³)·Σ|a||b| of c;
              // Σ|a||b| is computed in float64, so it carries a relative slack of 2⁻⁴⁰.
              const bound = (gamma(c.k, U32) + gamma(c.k, U64)) * abs * (1 + 2 ** -40) +
                2 * c.k * TINY;
              const error = Math.abs(g - c64);
              assert(
                error <= bound,
                `${c.variant} ${c.m}×${c.k}·${c.k}×${c.n} seed ${c.seed} [${i},${j}]: ` +
                  `|${g} − ${c64}| = ${error} > ${bound}`,
              );
            }
          }
        }),
    ),
    fcParams(4),
  );
});

gpuTest("`matmul()` of small integers equals the exact BigInt product, bit for bit", async () => {
  // |a|, |b| ≤ 16 and k ≤ 100: every partial sum is an integer below 2^24, so float32 computes
  // it exactly and both variants must return the exact product.
  await fc.assert(
    fc.asyncProperty(
      fc.array(caseArb(["integer"]), { minLength: 64, maxLength: 64 }),
      (cases) =>
        runCases(cases, (c, a, b, got) => {
          const expected = Array.from({ length: c.m * c.n }, (_, index) => {
            const [i, j] = [Math.floor(index / c.n), index % c.n];
            let sum = 0n;
            for (let p = 0; p < c.k; p++) {
              sum += BigInt(a.data[i * c.k + p] as number) * BigInt(b.data[p * c.n + j] as number);
            }
            return Number(sum);
          });
          assertEquals([...got], expected, `${c.variant} ${c.m}×${c.k}·${c.k}×${c.n}`);
        }),
    ),
    fcParams(3),
  );
});

gpuTest("`matmul()` propagates NaN and ±Infinity as IEEE 754 arithmetic does", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(caseArb(["special"]), { minLength: 64, maxLength: 64 }),
      (cases) =>
        runCases(cases, (c, a, b, got) => {
          for (let index = 0; index < c.m * c.n; index++) {
            const [c64] = float64Dot(a, b, Math.floor(index / c.n), index % c.n);
            const g = got[index] as number;
            // Finite operands are at most 1 in magnitude, so no float32 product or sum
            // overflows: NaN and infinities arise exactly where they do in float64.
            if (!Number.isFinite(c64)) assertEquals(g, c64, `${c.variant} element ${index}`);
            else assert(Number.isFinite(g), `${c.variant} element ${index}: ${g} vs ${c64}`);
          }
        }),
    ),
    fcParams(2),
  );
});

gpuTest("`matmul()` gives zeros for k = 0, empty results for m = 0, and 1×1 products", async () => {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const empty = (rows: number, cols: number) => ({ rows, cols, data: new Float32Array(0) });
  const handles = MATMUL_VARIANTS.flatMap((variant) => [
    batch.matmul(empty(3, 0), empty(0, 5), { variant }),
    batch.matmul(empty(0, 4), { rows: 4, cols: 2, data: new Float32Array(8) }, { variant }),
    batch.matmul(
      { rows: 1, cols: 1, data: new Float32Array([3]) },
      { rows: 1, cols: 1, data: new Float32Array([-0.5]) },
      { variant },
    ),
  ]);
  const results = await batch.read(...handles);
  for (let v = 0; v < MATMUL_VARIANTS.length; v++) {
    assertEquals([...results[3 * v]!], new Array(15).fill(0));
    assertEquals([...results[3 * v + 1]!], []);
    assertEquals([...results[3 * v + 2]!], [-1.5]);
  }
  assertEquals(handles[0]!.shape, [3, 5]);
});

gpuTest("`matmul()` checks types before shapes before limits", async () => {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const a = { rows: 2, cols: 3, data: new Float32Array(6) };
  const b = { rows: 2, cols: 2, data: new Float32Array(4) };
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as { code?: string }).code;
    }
    return "none";
  };
  // a.cols ≠ b.rows is E_SHAPE, but a bad variant (E_ARG) is reported first.
  assertEquals(code(() => batch.matmul(a, b)), "E_SHAPE");
  assertEquals(code(() => batch.matmul(a, b, { variant: "fast" as MatmulVariant })), "E_ARG");
  assertThrows(() => batch.matmul(a, b), LoraquantTypeError, "a is 2×3 but b is 2×2");
  assertThrows(
    () => batch.matmul({ rows: 2, cols: 2, data: new Float32Array(3) }, b),
    LoraquantTypeError,
    "a is 2×2 but its data holds 3 elements",
  );
  assertThrows(
    () => batch.matmul({ rows: 2, cols: 2, data: [1, 2, 3, 4] } as unknown as Float32Matrix, b),
    LoraquantTypeError,
    "a.data must be a Float32Array",
  );
  assertThrows(
    () => batch.matmul({ rows: -1, cols: 2, data: new Float32Array(0) }, b),
    LoraquantTypeError,
    "a.rows must be a non-negative integer",
  );
  // A result grid above maxComputeWorkgroupsPerDimension (rows · 1 column: no big allocation
  // beyond a itself, whose binding also stays within the limit).
  const rows = 16 * (gpu.limits.maxComputeWorkgroupsPerDimension + 1);
  const tall = { rows, cols: 1, data: new Float32Array(rows) };
  const one = { rows: 1, cols: 1, data: new Float32Array(1) };
  const error = assertThrows(
    () => batch.matmul(tall, one, { variant: "tiled" }),
    LoraquantRangeError,
    "maxComputeWorkgroupsPerDimension",
  );
  assertEquals(error.code, "E_LIMIT");
  assertEquals(batch.size, 0);
  batch.discard();
});

gpuTest("the matmul variant is measured once per adapter, cached, and can be forced", async () => {
  const first = await requestGpu();
  const t0 = performance.now();
  const second = await requestGpu();
  const cachedMs = performance.now() - t0;
  assert(MATMUL_VARIANTS.includes(first.matmulVariant));
  assertEquals(second.matmulVariant, first.matmulVariant);
  const forced = await requestGpu({ matmulVariant: "tiled" });
  assertEquals(forced.matmulVariant, "tiled");
  console.log(
    `  matmul variant on ${first.adapterName}: ${first.matmulVariant} ` +
      `(second request ${cachedMs.toFixed(0)} ms, cached)`,
  );
  for (const gpu of [first, second, forced]) gpu.destroy();
});

gpuTest("a product feeds a cast of the same batch without a readback", async () => {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const a = makeMatrix(5, 9, "wide", 11);
  const b = makeMatrix(9, 3, "wide", 12);
  const c = batch.matmul(a, b);
  const bf16 = batch.castFromFloat32(c, "bfloat16");
  const [product, bits] = await batch.read(c, bf16);
  assertEquals(
    [...bits],
    Array.from(product, (x) => encode(roundToFormat(x, "bfloat16"), "bfloat16")),
  );
});
