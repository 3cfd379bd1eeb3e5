/**
 * The device layer: an adapter and a device with their features detected, not assumed; typed
 * errors for a missing adapter, a kernel the device rejects and a lost device; a buffer pool; and
 * the per-adapter choice of the matmul kernel.
 *
 * Everything the device does is reached through {@linkcode Gpu.batch}: operations are enqueued
 * and read back together (see `@loraquant/gpu/batch`).
 *
 * @module
 */
import { LoraquantTypeError } from "@loraquant/reference/errors";
import type { Batch } from "./batch.ts";
import { GpuError } from "./gpu_error.ts";
import { MATMUL_VARIANTS, type MatmulVariant } from "./matmul.ts";
import { BatchImpl } from "./_batch.ts";
import { type KernelSource, type OverrideConstants, Runtime } from "./_runtime.ts";
import { adapterKey, cachedVariant, measureVariant } from "./_tune.ts";

export type { KernelSource, OverrideConstants } from "./_runtime.ts";

/** Optional features enabled on the device whenever the adapter offers them. */
export const OPTIONAL_FEATURES: readonly string[] = [
  "shader-f16",
  "subgroups",
  "timestamp-query",
];

/** The adapter limits the kernels depend on, as granted to the device. */
export interface GpuLimits {
  /** Largest storage buffer binding, in bytes. */
  readonly maxStorageBufferBindingSize: number;
  /** Largest buffer, in bytes. */
  readonly maxBufferSize: number;
  /** Largest workgroup count along one dimension of a dispatch. */
  readonly maxComputeWorkgroupsPerDimension: number;
  /** Largest number of invocations in one workgroup. */
  readonly maxComputeInvocationsPerWorkgroup: number;
  /** Largest workgroup memory, in bytes. */
  readonly maxComputeWorkgroupStorageSize: number;
}

/** Options of {@linkcode requestGpu}. */
export interface RequestGpuOptions {
  /** Use this adapter instead of requesting one. @default {`navigator.gpu.requestAdapter()`} */
  adapter?: GPUAdapter;
  /** The power preference when requesting an adapter. @default {undefined} */
  powerPreference?: GPUPowerPreference;
  /**
   * The matmul kernel: `"auto"` times both once per adapter (cached for the process) and keeps
   * the faster; a variant name forces it. @default {"auto"}
   */
  matmulVariant?: "auto" | MatmulVariant;
  /** Idle bytes the buffer pool keeps for reuse. @default {268435456} (256 MiB) */
  poolBytes?: number;
}

/**
 * An adapter and its device, ready to run loraquant's kernels.
 *
 * @example Compiling a kernel and reading what was granted (skipped without an adapter)
 * ```ts
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { GpuError } from "@loraquant/gpu/gpu-error";
 * import { assert, assertRejects } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   assert(gpu.limits.maxComputeWorkgroupsPerDimension >= 65535);
 *   await gpu.compile({ name: "empty", code: "@compute @workgroup_size(1) fn main() {}" });
 *   await assertRejects(
 *     () => gpu.compile({ name: "typo", code: "@compute fn main() {}" }),
 *     GpuError,
 *     'Kernel "typo"',
 *   );
 *   gpu.destroy();
 * }
 * ```
 */
export interface Gpu {
  /** The adapter. */
  readonly adapter: GPUAdapter;
  /** The device. */
  readonly device: GPUDevice;
  /** A human-readable adapter name (e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"`). */
  readonly adapterName: string;
  /** The features enabled on the device (those of {@linkcode OPTIONAL_FEATURES} it offers). */
  readonly features: ReadonlySet<string>;
  /** The limits granted to the device. */
  readonly limits: GpuLimits;
  /** The matmul kernel `Batch.matmul` runs when not told otherwise. */
  readonly matmulVariant: MatmulVariant;
  /** Whether the device was lost (then every operation throws `E_DEVICE_LOST`). */
  readonly isLost: boolean;
  /**
   * Starts a batch of operations, read back together.
   *
   * @returns A new, empty batch.
   */
  batch(): Batch;
  /**
   * Compiles a kernel (cached by name and constants) and reports whether the device accepts it.
   *
   * @param kernel The WGSL source and its name.
   * @param constants Values of its `override` declarations.
   * @returns Resolves once compiled.
   * @throws {GpuError} `E_VALIDATION` naming the kernel when the device rejects it.
   */
  compile(kernel: KernelSource, constants?: OverrideConstants): Promise<void>;
  /** Destroys the pooled buffers and the device; pending reads reject with `E_DEVICE_LOST`. */
  destroy(): void;
}

class GpuImpl implements Gpu {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly adapterName: string;
  readonly features: ReadonlySet<string>;
  readonly limits: GpuLimits;
  matmulVariant: MatmulVariant = "register";
  readonly #rt: Runtime;

  constructor(adapter: GPUAdapter, device: GPUDevice, poolBytes: number) {
    this.adapter = adapter;
    this.device = device;
    const info = adapter.info;
    this.adapterName = info.description || [info.vendor, info.architecture].join(" ") ||
      "unnamed adapter";
    this.features = new Set(device.features);
    const l = device.limits;
    this.limits = Object.freeze({
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    });
    this.#rt = new Runtime(device, poolBytes);
  }

  get isLost(): boolean {
    return this.#rt.lost !== null;
  }

  batch(): Batch {
    this.#rt.checkAlive();
    return new BatchImpl(this.#rt, this.limits, this.matmulVariant);
  }

  async compile(kernel: KernelSource, constants: OverrideConstants = {}): Promise<void> {
    this.#rt.checkAlive();
    const error = await this.#rt.unlessLost(this.#rt.kernel(kernel, constants).error);
    if (error) throw error;
  }

  destroy(): void {
    this.#rt.destroy();
  }
}

/**
 * Requests an adapter and a device for loraquant's kernels.
 *
 * The device gets the optional features of {@linkcode OPTIONAL_FEATURES} that the adapter
 * lists, and the adapter's own `maxStorageBufferBindingSize` and `maxBufferSize` (larger than
 * WebGPU's defaults on most adapters). With `matmulVariant: "auto"` the two matmul kernels are
 * timed once per adapter (a few 256³ products; the result is cached for the process).
 *
 * @param options The adapter, the power preference, the matmul kernel and the pool size.
 * @returns The ready device.
 * @throws {GpuError} `E_NO_ADAPTER` when `navigator.gpu` is missing or no adapter is available;
 * `E_NO_DEVICE` when the adapter refuses a device.
 * @throws {LoraquantTypeError} `E_ARG` for an unknown `matmulVariant` or a negative `poolBytes`.
 *
 * @example Skipping cleanly where no adapter exists
 * ```ts
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { GpuError } from "@loraquant/gpu/gpu-error";
 * import { assert } from "@std/assert";
 *
 * try {
 *   const gpu = await requestGpu({ matmulVariant: "tiled" });
 *   assert(gpu.limits.maxStorageBufferBindingSize >= 2 ** 27);
 *   assert(gpu.matmulVariant === "tiled");
 *   gpu.destroy();
 * } catch (error) {
 *   if (!(error instanceof GpuError && error.code === "E_NO_ADAPTER")) throw error;
 * }
 * ```
 */
export async function requestGpu(options: RequestGpuOptions = {}): Promise<Gpu> {
  const variant = options.matmulVariant ?? "auto";
  if (variant !== "auto" && !MATMUL_VARIANTS.includes(variant)) {
    throw new LoraquantTypeError(
      "E_ARG",
      `Cannot request a GPU: matmulVariant must be "auto", "register" or "tiled", got ${
        JSON.stringify(variant)
      }`,
    );
  }
  const poolBytes = options.poolBytes ?? 2 ** 28;
  if (!(poolBytes >= 0)) {
    throw new LoraquantTypeError(
      "E_ARG",
      `Cannot request a GPU: poolBytes must be >= 0, got ${poolBytes}`,
    );
  }
  let adapter = options.adapter ?? null;
  if (!adapter) {
    if (typeof navigator === "undefined" || !("gpu" in navigator) || !navigator.gpu) {
      throw new GpuError("E_NO_ADAPTER", "No WebGPU adapter: navigator.gpu is undefined");
    }
    adapter = await navigator.gpu.requestAdapter(
      options.powerPreference ? { powerPreference: options.powerPreference } : {},
    );
    if (!adapter) {
      throw new GpuError("E_NO_ADAPTER", "No WebGPU adapter: requestAdapter() returned null");
    }
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) =>
    adapter.features.has(f as GPUFeatureName)
  );
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredFeatures: requiredFeatures as GPUFeatureName[],
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
  } catch (error) {
    throw new GpuError("E_NO_DEVICE", `No WebGPU device: requestDevice() failed: ${error}`);
  }
  const gpu = new GpuImpl(adapter, device, poolBytes);
  if (variant !== "auto") {
    gpu.matmulVariant = variant;
  } else {
    const key = adapterKey(adapter.info);
    gpu.matmulVariant = cachedVariant(key) ?? await measureVariant(key, () => gpu.batch());
  }
  return gpu;
}
