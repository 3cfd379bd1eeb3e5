/**
 * The batching model: operations are enqueued on a {@linkcode Batch} without waiting, and their
 * results come back together from one `read()` — one GPU→CPU synchronisation for the whole batch
 * (docs/gpu.md §Batching). In Deno every synchronisation costs about 11 ms (its `mapAsync` polls,
 * then sleeps 10 ms), while an extra dispatch in the same submission costs about 20 µs, so a
 * caller that has many small operations should put them all in one batch.
 *
 * A batch is used once: enqueue operations (each validates its arguments at once and throws
 * before touching the GPU), then `read()` the handles wanted. `read()` submits every operation
 * in the order they were enqueued, copies the requested outputs into one staging buffer, waits
 * once, and returns fresh typed arrays. Device errors (a kernel the device rejects, an
 * out-of-memory) reject the `read()` with a `GpuError` naming the kernel; a lost device rejects
 * it with `E_DEVICE_LOST` instead of hanging. Buffers go back to the device's pool afterwards.
 *
 * Outputs of one operation can feed a later operation of the same batch (a `GpuHandle` is
 * accepted wherever a cast takes its input), so chains stay on the GPU.
 *
 * @module
 */
import type { GpuFloatFormat } from "./cast.ts";
import type { Float32Matrix, MatmulOptions } from "./matmul.ts";
import type { KernelSource, OverrideConstants } from "./_runtime.ts";

/** The element arrays a batch uploads and reads back: 4 bytes per element. */
export type GpuArray = Float32Array | Uint32Array | Int32Array;

/** The constructor of a {@linkcode GpuArray}. */
export type GpuArrayType<T extends GpuArray = GpuArray> = { new (buffer: ArrayBuffer): T };

export type { KernelSource, OverrideConstants };

/**
 * A result that will exist on the GPU once its batch is submitted: `read()` it, or pass it to a
 * later operation of the same batch.
 */
export interface GpuHandle<T extends GpuArray> {
  /** The kernel that produces it (e.g. `"matmul-f32-register"`). */
  readonly kernel: string;
  /** Number of elements. */
  readonly length: number;
  /** The shape: `[length]` for vectors, `[rows, cols]` (row-major) for matrices. */
  readonly shape: readonly number[];
  /** The array type `read()` returns for it. */
  readonly arrayType: GpuArrayType<T>;
}

/** The arrays `read()` returns, in the order of its handles. */
export type ReadResults<H extends readonly GpuHandle<GpuArray>[]> = {
  -readonly [I in keyof H]: H[I] extends GpuHandle<infer T> ? T : never;
};

/** One output of a {@linkcode KernelOperation}. */
export interface KernelOutput {
  /** Its shape (`[length]` or `[rows, cols]`); the buffer holds their product × 4 bytes. */
  readonly shape: readonly number[];
  /** The array type `read()` returns for it. */
  readonly arrayType: GpuArrayType;
  /**
   * Write in place: the index of the input whose buffer this output IS. That input is bound once,
   * as `read_write` storage at its input binding, and gets no output binding of its own; the
   * kernel declares it `var<storage, read_write>`. The input must be a handle of this batch (an
   * uploaded array is copied, so writing it in place would be invisible).
   */
  readonly aliasOf?: number;
}

/**
 * One dispatch of a compute kernel, for kernels defined outside this module (the extension
 * point every operation of the package is built on).
 *
 * Bindings of group 0, in order: 0 a uniform buffer holding `params` (zero-padded to a multiple
 * of 16 bytes), then one read-only storage buffer per input (1, 2, …), then one read-write
 * storage buffer per output that is not an alias (in output order).
 */
export interface KernelOperation {
  /** The kernel: a stable name for messages and the pipeline cache, and its WGSL. */
  readonly kernel: KernelSource;
  /** Values of the kernel's `override` constants. */
  readonly constants?: OverrideConstants;
  /** The uniform parameters as 32-bit words (bitcast floats with `Float32Array` views). */
  readonly params: Uint32Array;
  /** Arrays to upload, or results of earlier operations of this batch. */
  readonly inputs: readonly (GpuArray | GpuHandle<GpuArray>)[];
  /** The results it writes. */
  readonly outputs: readonly KernelOutput[];
  /** Workgroups to dispatch along x, y, z (each at most the adapter's limit). */
  readonly workgroups: readonly [number, number?, number?];
}

/** Options of {@linkcode Batch.castFromFloat32}. */
export interface CastFromFloat32Options {
  /**
   * Clamp every value beyond ±max, ±Infinity included, to ±max (OCP "satfinite"); NaN stays NaN.
   * @default {false}
   */
  saturate?: boolean;
}

/**
 * Operations enqueued for one submission and one readback. Get one from `Gpu.batch()`.
 *
 * @example Two casts and a product, read back once
 * ```ts
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { assertEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const batch = gpu.batch();
 *   const half = batch.castFromFloat32(new Float32Array([1, 65520, -0]), "float16");
 *   const back = batch.castToFloat32(half, "float16");
 *   const product = batch.matmul(
 *     { rows: 1, cols: 2, data: new Float32Array([1, 2]) },
 *     { rows: 2, cols: 1, data: new Float32Array([3, 4]) },
 *   );
 *   const [bits, values, c] = await batch.read(half, back, product);
 *   assertEquals([...bits], [0x3c00, 0x7c00, 0x8000]);
 *   assertEquals([...values], [1, Infinity, -0]);
 *   assertEquals([...c], [11]);
 *   gpu.destroy();
 * }
 * ```
 */
export interface Batch {
  /**
   * Narrows float32 values to a format's bit patterns, bit-exact: nearest-even, overflow to
   * ±Infinity (fp8-e4m3: NaN 0x7f; `saturate`: ±max), every NaN to the canonical NaN, signed
   * zeros and the target's subnormals kept (see `@loraquant/gpu/cast`).
   *
   * @param x The float32 values, or their bit patterns as a `Uint32Array` (NaN payloads kept),
   * or a float32 result of an earlier operation of this batch.
   * @param format The target format.
   * @param options Saturation.
   * @returns The patterns, one per u32 (low 8 or 16 bits), once read.
   * @throws {LoraquantTypeError} `E_ARG` for an input that is not a `Float32Array`, a
   * `Uint32Array` or a float32 handle of this batch, an unknown format, or a non-boolean
   * `saturate`.
   * @throws {LoraquantRangeError} `E_LIMIT` when the input exceeds the adapter's
   * `maxStorageBufferBindingSize`.
   * @throws {GpuError} `E_STATE` after `read()`; `E_DEVICE_LOST` when the device is lost.
   */
  castFromFloat32(
    x: Float32Array | Uint32Array | GpuHandle<Float32Array>,
    format: GpuFloatFormat,
    options?: CastFromFloat32Options,
  ): GpuHandle<Uint32Array>;

  /**
   * Widens a format's bit patterns to float32, exactly (every value of these formats is a
   * float32 value); every NaN pattern gives the canonical float32 NaN 0x7fc00000.
   *
   * @param bits The patterns, one per u32, or a pattern result of an earlier operation of this
   * batch.
   * @param format The source format.
   * @returns The float32 values, once read.
   * @throws {LoraquantTypeError} `E_ARG` for an input that is not a `Uint32Array` or a pattern
   * handle of this batch, or an unknown format.
   * @throws {LoraquantRangeError} `E_LIMIT` above the adapter's limits; `E_RANGE` for a pattern
   * wider than the format (the message gives its index).
   * @throws {GpuError} `E_STATE` after `read()`; `E_DEVICE_LOST` when the device is lost.
   */
  castToFloat32(
    bits: Uint32Array | GpuHandle<Uint32Array>,
    format: GpuFloatFormat,
  ): GpuHandle<Float32Array>;

  /**
   * The float32 product C (m, n) = A (m, k) · B (k, n): each c_ij summed in ascending p from +0,
   * every product and sum rounded to nearest-even in float32 (a fused multiply-add allowed),
   * within γ_k · Σ|a_ip||b_pj| of the exact value (docs/gpu.md §Matmul). k = 0 gives zeros.
   *
   * @param a (m, k) row-major.
   * @param b (k, n) row-major.
   * @param options The kernel variant.
   * @returns C, (m, n) row-major, once read.
   * @throws {LoraquantTypeError} `E_ARG` for a matrix that is not `{ rows, cols, data }` with
   * non-negative integer sizes and `Float32Array` data, or an unknown variant; `E_SHAPE` when
   * `data.length ≠ rows·cols` or `a.cols ≠ b.rows`.
   * @throws {LoraquantRangeError} `E_LIMIT` when an operand exceeds the adapter's
   * `maxStorageBufferBindingSize` or the grid its `maxComputeWorkgroupsPerDimension`.
   * @throws {GpuError} `E_STATE` after `read()`; `E_DEVICE_LOST` when the device is lost.
   */
  matmul(a: Float32Matrix, b: Float32Matrix, options?: MatmulOptions): GpuHandle<Float32Array>;

  /**
   * Submits every enqueued operation, waits once, and returns the requested results.
   *
   * @param handles Results of this batch, in the order wanted.
   * @returns Fresh arrays, one per handle.
   * @throws {GpuError} `E_STATE` when the batch was already read or a handle belongs to another
   * batch; `E_VALIDATION`/`E_OUT_OF_MEMORY` naming the kernel that failed; `E_DEVICE_LOST`.
   */
  read<H extends readonly GpuHandle<GpuArray>[]>(
    ...handles: H
  ): Promise<ReadResults<H>>;

  /**
   * Enqueues one dispatch of any compute kernel (see {@linkcode KernelOperation} for the binding
   * layout); the building block of the package's operations, open to user kernels.
   *
   * @param operation The kernel, its parameters, inputs, outputs and grid.
   * @returns One handle per output, in order (an in-place output's handle refers to the same
   * buffer as its input).
   * @throws {LoraquantTypeError} `E_ARG` for an input that is neither a 4-byte typed array nor a
   * handle of this batch, or a bad alias.
   * @throws {LoraquantRangeError} `E_LIMIT` when a buffer or the grid exceeds the adapter's
   * limits.
   * @throws {GpuError} `E_STATE` after `read()`; `E_DEVICE_LOST` when the device is lost.
   */
  run(operation: KernelOperation): GpuHandle<GpuArray>[];

  /** Drops the batch without submitting it, returning its buffers to the pool. */
  discard(): void;

  /** Number of operations enqueued so far. */
  readonly size: number;
}
