// The GPU tests' one switch: whether a WebGPU adapter exists (asked once, at module load). Where
// none does, the GPU tests are skipped with a visible warning — unless LORAQUANT_REQUIRE_GPU=1
// (CI), where they run and fail on the missing adapter.
import { type Gpu, requestGpu } from "./device.ts";

/** Whether the environment demands the GPU tests run (CI sets `LORAQUANT_REQUIRE_GPU=1`). */
export const REQUIRE_GPU: boolean = Deno.env.get("LORAQUANT_REQUIRE_GPU") === "1";

const adapter: GPUAdapter | null = typeof navigator !== "undefined" && navigator.gpu
  ? await navigator.gpu.requestAdapter().catch(() => null)
  : null;

/** Whether a WebGPU adapter was found. */
export const HAS_ADAPTER: boolean = adapter !== null;

/** Whether the GPU tests are skipped (no adapter, and not required). */
export const SKIP_GPU: boolean = !HAS_ADAPTER && !REQUIRE_GPU;

if (SKIP_GPU) {
  console.warn(
    "%c⚠ No WebGPU adapter: the @loraquant/gpu tests are SKIPPED " +
      "(set LORAQUANT_REQUIRE_GPU=1 to make them fail instead).",
    "color: yellow; font-weight: bold",
  );
}

let shared: Promise<Gpu> | null = null;

/**
 * The test files' shared device (register variant unless a test asks otherwise), made on first
 * use. Without an adapter it rejects with `E_NO_ADAPTER`, failing the test (under
 * LORAQUANT_REQUIRE_GPU=1; otherwise the tests are skipped before asking).
 */
export function testGpu(): Promise<Gpu> {
  shared ??= requestGpu(
    adapter ? { adapter, matmulVariant: "register" } : { matmulVariant: "register" },
  );
  return shared;
}

/** Registers a test that needs the GPU: skipped (visibly, above) without an adapter. */
export function gpuTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: SKIP_GPU, sanitizeOps: false, sanitizeResources: false, fn });
}

/** The float32 bit pattern of a number rounded to float32. */
export function f32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0] as number;
}

/** The number a float32 bit pattern encodes. */
export function f32FromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0] as number;
}

/** Unit roundoff of float32 (round to nearest). */
export const U32: number = 2 ** -24;
/** Unit roundoff of float64. */
export const U64: number = 2 ** -53;
/** Smallest normal float32: the most a flushed underflow can lose per operation. */
export const TINY: number = 2 ** -126;

/** γ_k = k·u / (1 − k·u) (Higham, Accuracy and Stability, Lemma 3.1); u defaults to float32's. */
export function gamma(k: number, u: number = U32): number {
  return (k * u) / (1 - k * u);
}

/** A small deterministic generator (mulberry32), so big operands need not come from fast-check. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
