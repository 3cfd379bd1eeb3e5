/**
 * `@loraquant/gpu`: WebGPU kernels for loraquant's operations, each checked against
 * `@loraquant/reference` (bit for bit where the operation is exact, within a derived error bound
 * where it sums in float32). See docs/gpu.md.
 *
 * - {@linkcode requestGpu} (`./device`): adapter, device, features, limits, kernel choice;
 * - {@linkcode Batch} (`./batch`): enqueue operations, read back once;
 * - `./cast`: bit-exact float32 ↔ float16 / bfloat16 / fp8-e4m3 / fp8-e5m2 kernels;
 * - `./matmul`: float32 matmul, register-blocked and workgroup-tiled;
 * - {@linkcode GpuError} (`./gpu-error`): device failures.
 *
 * @example Narrowing to fp8-e4m3 (skipped where no adapter exists)
 * ```ts
 * import { requestGpu } from "@loraquant/gpu";
 * import { assertEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const batch = gpu.batch();
 *   const e4m3 = batch.castFromFloat32(new Float32Array([500, 0.3]), "fp8-e4m3");
 *   const [bits] = await batch.read(e4m3);
 *   assertEquals([...bits], [0x7f, 0x2a]); // 500 overflows to NaN; 0.3 → 0.3125
 *   gpu.destroy();
 * }
 * ```
 *
 * @module
 */
export * from "./batch.ts";
export * from "./cast.ts";
export * from "./device.ts";
export * from "./gpu_error.ts";
export * from "./matmul.ts";
export * from "./quantize.ts";
export * from "./int8_matmul.ts";
export * from "./dequant_matmul.ts";
export * from "./lora.ts";
export * from "./lora_train.ts";

/** The package's version. */
export const VERSION = "0.1.0";
