// The cast kernels against @loraquant/reference: the widening direction exhaustively (every
// pattern of every format), the narrowing direction on a deterministic set of boundary patterns
// (every float32 exponent × ties, near-ties and carries at every shift) and with fast-check on
// float32 bit patterns; all compared bit for bit with encode(roundToFormat(x, format)).
import fc from "fast-check";
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { decode, encode, roundToFormat } from "@loraquant/reference/cast";
import { LoraquantRangeError, LoraquantTypeError } from "@loraquant/reference/errors";
import { fcParams } from "../reference/_testing.ts";
import { CAST_FORMAT_CONSTANTS, GPU_FLOAT_FORMATS, type GpuFloatFormat } from "./cast.ts";
import { GpuError } from "./gpu_error.ts";
import { f32Bits, f32FromBits, gpuTest, testGpu } from "./_testing.ts";

const F32_NAN = 0x7fc00000;

/** The reference's narrowing of one float32 pattern: encode(roundToFormat(x, format)). */
function expectedEncode(bits: number, format: GpuFloatFormat, saturate: boolean): number {
  return encode(roundToFormat(f32FromBits(bits), format, { saturate }), format);
}

/** Compares every element, reporting the first few mismatches in hex. */
function assertBitsEqual(actual: Uint32Array, expected: ArrayLike<number>, what: string): void {
  const bad: string[] = [];
  for (let i = 0; i < expected.length && bad.length < 5; i++) {
    if (actual[i] !== expected[i]) {
      bad.push(`#${i}: got 0x${actual[i]?.toString(16)}, want 0x${expected[i]?.toString(16)}`);
    }
  }
  assertEquals(actual.length, expected.length, `${what}: length`);
  assertEquals(bad, [], `${what}: ${bad.join("; ")}`);
}

/** Every float32 exponent × both signs × significands at and around every rounding boundary. */
function boundaryPatterns(): Uint32Array {
  const significands = new Set<number>([0, 1, 2, 3, 0x7fffff, 0x7ffffe, 0x400000, 0x3fffff]);
  for (let s = 1; s <= 23; s++) {
    const half = 2 ** (s - 1);
    for (const base of [half, 3 * half, 0x7fffff - (2 ** s - 1) + half]) {
      for (const d of [-1, 0, 1]) {
        const m = base + d;
        if (m >= 0 && m <= 0x7fffff) significands.add(m);
      }
    }
  }
  const out: number[] = [];
  for (const sign of [0, 0x80000000]) {
    for (let e = 0; e < 256; e++) {
      for (const m of significands) out.push((sign | (e << 23) | m) >>> 0);
    }
  }
  return new Uint32Array(out);
}

/** float32 patterns of the values around a format's thresholds: max, max + half ulp, min normal. */
function thresholdPatterns(): number[] {
  const out: number[] = [];
  for (const format of GPU_FLOAT_FORMATS) {
    const c = CAST_FORMAT_CONSTANTS[format];
    const bias = -c.emin + 1;
    const max = decode(c.maxPattern, format);
    const ulpAtMax = 2 ** (Math.floor(Math.log2(max)) - c.mantissaBits);
    const minNormal = 2 ** c.emin;
    const minSubnormal = 2 ** (c.emin - c.mantissaBits);
    for (const x of [max, max + ulpAtMax / 2, max + ulpAtMax, minNormal, minSubnormal / 2]) {
      const b = f32Bits(x);
      for (const d of [-2, -1, 0, 1, 2]) out.push((b + d) >>> 0, (b + d + 0x80000000) >>> 0);
    }
    void bias;
  }
  return out;
}

/** float32 bit patterns: uniform, boundary-heavy, NaN payloads, subnormals, thresholds. */
const f32Pattern: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  // NaN with any sign and payload, and ±Infinity
  fc.record({ sign: fc.boolean(), m: fc.integer({ min: 0, max: 0x7fffff }) }).map((r) =>
    ((r.sign ? 0x80000000 : 0) | 0x7f800000 | r.m) >>> 0
  ),
  // float32 subnormals and zeros
  fc.integer({ min: 0, max: 0x7fffff }).chain((m) => fc.constantFrom(m, (m | 0x80000000) >>> 0)),
  // exact ties and their neighbours at a random shift and exponent
  fc.record({
    sign: fc.boolean(),
    e: fc.integer({ min: 0, max: 255 }),
    s: fc.integer({ min: 1, max: 23 }),
    kept: fc.integer({ min: 0, max: 0x7fffff }),
    d: fc.integer({ min: -1, max: 1 }),
  }).map((r) => {
    const m = (((r.kept >>> r.s) << r.s) + 2 ** (r.s - 1) + r.d) & 0x7fffff;
    return ((r.sign ? 0x80000000 : 0) | (r.e << 23) | m) >>> 0;
  }),
  fc.constantFrom(...thresholdPatterns()),
);

gpuTest("`castToFloat32()` decodes every float16, bfloat16 and fp8 pattern exactly", async () => {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const inputs = GPU_FLOAT_FORMATS.map((format) =>
    Uint32Array.from({ length: 2 ** CAST_FORMAT_CONSTANTS[format].bits }, (_, p) => p)
  );
  const handles = GPU_FLOAT_FORMATS.map((format, i) =>
    batch.castToFloat32(inputs[i] as Uint32Array, format)
  );
  const results = await batch.read(...handles);
  GPU_FLOAT_FORMATS.forEach((format, i) => {
    const patterns = inputs[i] as Uint32Array;
    // Every value of these formats is a float32; NaN patterns give the canonical NaN.
    const expected = Array.from(patterns, (p) => {
      const value = decode(p, format);
      return Number.isNaN(value) ? F32_NAN : f32Bits(value);
    });
    const bits = new Uint32Array((results[i] as Float32Array).buffer);
    assertBitsEqual(bits, expected, `decode ${format}`);
  });
  // An independent fact for float16: Math.f16round's values are the float16 values.
  const half = new Uint32Array((results[0] as Float32Array).buffer);
  for (let p = 0; p < 0x7c00; p += 97) {
    assertEquals(f32FromBits(half[p] as number), Math.f16round(decode(p, "float16")));
  }
});

gpuTest(
  "`castFromFloat32()` rounds every float32 exponent's ties, near-ties and carries like the reference",
  async () => {
    const gpu = await testGpu();
    const x = boundaryPatterns();
    const batch = gpu.batch();
    const cases = GPU_FLOAT_FORMATS.flatMap((format) =>
      [false, true].map((saturate) => ({ format, saturate }))
    );
    const handles = cases.map(({ format, saturate }) =>
      batch.castFromFloat32(x, format, { saturate })
    );
    const results = await batch.read(...handles);
    cases.forEach(({ format, saturate }, i) => {
      const expected = Array.from(x, (bits) => expectedEncode(bits, format, saturate));
      assertBitsEqual(results[i] as Uint32Array, expected, `${format} saturate=${saturate}`);
    });
  },
);

gpuTest("`castFromFloat32()` matches the reference on random float32 bit patterns", async () => {
  const gpu = await testGpu();
  await fc.assert(
    fc.asyncProperty(
      fc.array(f32Pattern, { minLength: 64, maxLength: 512 }),
      async (patterns) => {
        const x = new Uint32Array(patterns);
        const batch = gpu.batch();
        const cases = GPU_FLOAT_FORMATS.flatMap((format) =>
          [false, true].map((saturate) => ({ format, saturate }))
        );
        const results = await batch.read(
          ...cases.map(({ format, saturate }) => batch.castFromFloat32(x, format, { saturate })),
        );
        cases.forEach(({ format, saturate }, i) => {
          const expected = Array.from(x, (bits) => expectedEncode(bits, format, saturate));
          assertBitsEqual(results[i] as Uint32Array, expected, `${format} saturate=${saturate}`);
        });
      },
    ),
    fcParams(25),
  );
});

gpuTest("`castFromFloat32()` handles the documented special cases", async () => {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const x = new Float32Array([
    0,
    -0,
    Infinity,
    -Infinity,
    NaN,
    65520,
    65519.99,
    2 ** -25,
    -(2 ** -25),
  ]);
  const half = batch.castFromFloat32(x, "float16");
  const e4m3 = batch.castFromFloat32(x, "fp8-e4m3");
  const e4m3Saturated = batch.castFromFloat32(x, "fp8-e4m3", { saturate: true });
  const [h, e, es] = await batch.read(half, e4m3, e4m3Saturated);
  // IEEE 754 binary16: 65520 is the midpoint between max 65504 and 2^16: ties-to-even → Inf;
  // 2^-25 is half the smallest subnormal: a tie to even → ±0.
  assertEquals([...h], [0, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x7c00, 0x7bff, 0, 0x8000]);
  // OCP e4m3: no infinities; overflow and ±Infinity → NaN 0x7f, saturated → ±448.
  assertEquals([...e], [0, 0x80, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0, 0x80]);
  assertEquals([...es], [0, 0x80, 0x7e, 0xfe, 0x7f, 0x7e, 0x7e, 0, 0x80]);
});

gpuTest("a cast's result feeds the next cast of the same batch without a readback", async () => {
  const gpu = await testGpu();
  const x = new Float32Array([0.1, -3.14159, 1e-6, 70000, -0]);
  for (const format of GPU_FLOAT_FORMATS) {
    const batch = gpu.batch();
    const back = batch.castToFloat32(batch.castFromFloat32(x, format), format);
    const [values] = await batch.read(back);
    assertEquals([...values], Array.from(x, (v) => roundToFormat(v, format)));
  }
});

gpuTest(
  "casts check their arguments before touching the GPU, in the protocol's order",
  async () => {
    const gpu = await testGpu();
    const batch = gpu.batch();
    assertThrows(
      () => batch.castFromFloat32(new Float32Array(1), "fp6-e2m3" as GpuFloatFormat),
      LoraquantTypeError,
      "format must be one of",
    );
    assertThrows(
      () => batch.castFromFloat32([1, 2] as unknown as Float32Array, "float16"),
      LoraquantTypeError,
      "x must be",
    );
    assertThrows(
      () =>
        batch.castFromFloat32(new Float32Array(1), "float16", {
          saturate: "yes" as unknown as boolean,
        }),
      LoraquantTypeError,
      "saturate must be a boolean",
    );
    assertThrows(
      () => batch.castToFloat32(new Uint32Array([1, 0x100]), "fp8-e5m2"),
      LoraquantRangeError,
      "bits[1] = 0x100 does not fit fp8-e5m2's 8 bits",
    );
    // E_ARG (format) is reported before E_RANGE (a too-wide pattern).
    const error = assertThrows(
      () => batch.castToFloat32(new Uint32Array([0x100]), "e5m2" as GpuFloatFormat),
      LoraquantTypeError,
    );
    assertEquals(error.code, "E_ARG");
    // Above the binding limit: E_LIMIT, before any upload.
    const tooMany = gpu.limits.maxStorageBufferBindingSize / 4 + 1;
    const limit = assertThrows(
      () => batch.castToFloat32(new Uint32Array(tooMany), "float16"),
      LoraquantRangeError,
      "maxStorageBufferBindingSize",
    );
    assertEquals(limit.code, "E_LIMIT");
    assertEquals(batch.size, 0);
    // Empty inputs give empty results; a read batch refuses more work.
    const empty = batch.castFromFloat32(new Float32Array(0), "bfloat16");
    assertEquals([...(await batch.read(empty))[0]], []);
    assertThrows(() => batch.castFromFloat32(new Float32Array(1), "float16"), GpuError, "already");
    await assertRejects(() => batch.read(empty), GpuError, "already");
    // A handle of another batch is refused.
    const other = gpu.batch();
    const foreign = other.castFromFloat32(new Float32Array(1), "float16");
    const mine = gpu.batch();
    assertThrows(() => mine.castToFloat32(foreign, "float16"), LoraquantTypeError, "another batch");
    await assertRejects(() => mine.read(foreign), GpuError, "another batch");
    other.discard();
  },
);
