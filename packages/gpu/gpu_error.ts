/**
 * The typed error of `@loraquant/gpu` for failures that belong to the device rather than to the
 * arguments: no adapter, a kernel the device rejects, a lost device, a batch used out of turn.
 *
 * Argument faults use the reference's protocol errors instead (`LoraquantTypeError` with `E_ARG`
 * or `E_SHAPE`, `LoraquantRangeError` with `E_RANGE` or `E_LIMIT`), so a caller handles a bad
 * shape the same way whether it asked the CPU or the GPU.
 *
 * @module
 */

/** The codes a {@linkcode GpuError} carries. */
export type GpuErrorCode =
  /** `navigator.gpu` is missing or `requestAdapter()` returned `null`. */
  | "E_NO_ADAPTER"
  /** The adapter refused to create a device (`requestDevice()` rejected). */
  | "E_NO_DEVICE"
  /** A kernel failed to compile or one of its commands failed WebGPU validation. */
  | "E_VALIDATION"
  /** The device ran out of memory (an `"out-of-memory"` error scope fired). */
  | "E_OUT_OF_MEMORY"
  /** The device was lost (destroyed, reset or removed); pending work is rejected. */
  | "E_DEVICE_LOST"
  /** An object was used out of turn: a batch after its `read()`, a handle of another batch. */
  | "E_STATE";

/**
 * A failure of the GPU itself or of its use, with a stable `code`.
 *
 * @example Telling a missing adapter from other failures
 * ```ts
 * import { GpuError } from "@loraquant/gpu/gpu-error";
 * import { assert } from "@std/assert";
 *
 * const error = new GpuError("E_NO_ADAPTER", "No WebGPU adapter: navigator.gpu is undefined");
 * assert(error instanceof Error);
 * assert(error.code === "E_NO_ADAPTER");
 * ```
 */
export class GpuError extends Error {
  /** What kind of failure this is. */
  readonly code: GpuErrorCode;
  /** The kernel concerned, where one is (e.g. `"matmul-f32-tiled"`). */
  readonly kernel: string | undefined;
  /**
   * Creates the error.
   *
   * @param code The failure's code.
   * @param message What went wrong, naming the kernel where one is concerned.
   * @param kernel The name of the kernel concerned.
   */
  constructor(code: GpuErrorCode, message: string, kernel?: string) {
    super(message);
    this.name = "GpuError";
    this.code = code;
    this.kernel = kernel;
  }
}
