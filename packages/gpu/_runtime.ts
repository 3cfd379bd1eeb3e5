// Internal state of one GPU device: the pipeline cache (compiled inside error scopes), the buffer
// pool, and the device-loss signal every pending read races against. Not part of the public API.
import { GpuError } from "./gpu_error.ts";

/** A WGSL compute kernel: a name for messages and caches, its source and entry point. */
export interface KernelSource {
  /** Stable name, used in error messages and as the pipeline cache key (e.g. `"cast-encode"`). */
  readonly name: string;
  /** The WGSL source. */
  readonly code: string;
  /** The compute entry point. @default {"main"} */
  readonly entryPoint?: string;
}

/** Values for a kernel's `override` declarations. */
export type OverrideConstants = Readonly<Record<string, number>>;

/** A pipeline and the promise of its compilation's error (null when it compiled). */
export interface CompiledKernel {
  readonly pipeline: GPUComputePipeline;
  readonly error: Promise<GpuError | null>;
}

/** Pops one error scope and turns a captured error into a {@linkcode GpuError} naming the kernel. */
export function popError(
  device: GPUDevice,
  kernel: string,
  what: string,
): Promise<GpuError | null> {
  return device.popErrorScope().then(
    (error) => {
      if (error === null) return null;
      const code = error instanceof GPUOutOfMemoryError ? "E_OUT_OF_MEMORY" : "E_VALIDATION";
      return new GpuError(code, `Kernel "${kernel}" failed (${what}): ${error.message}`, kernel);
    },
    (reason) =>
      new GpuError("E_DEVICE_LOST", `Kernel "${kernel}" failed (${what}): ${reason}`, kernel),
  );
}

/** Pushes the two error scopes {@linkcode popErrors} pops. */
export function pushErrors(device: GPUDevice): void {
  device.pushErrorScope("validation");
  device.pushErrorScope("out-of-memory");
}

/** Pops the scopes of {@linkcode pushErrors}; resolves to the first error, or null. */
export function popErrors(
  device: GPUDevice,
  kernel: string,
  what: string,
): Promise<GpuError | null> {
  const outOfMemory = popError(device, kernel, what);
  const validation = popError(device, kernel, what);
  return Promise.all([validation, outOfMemory]).then(([v, o]) => v ?? o);
}

const MIN_BUCKET = 256;

/** Rounds a byte size up to its pool bucket: a power of two, at least 256 bytes. */
function bucketOf(bytes: number): number {
  let size = MIN_BUCKET;
  while (size < bytes) size *= 2;
  return size;
}

/** The device, its pipelines, its pooled buffers and its loss signal. */
export class Runtime {
  readonly device: GPUDevice;
  /** Largest number of idle bytes the pool keeps; beyond it released buffers are destroyed. */
  readonly poolBytes: number;
  #pipelines = new Map<string, CompiledKernel>();
  #idle = new Map<string, GPUBuffer[]>();
  #idleBytes = 0;
  #lost: GpuError | null = null;
  #onLost = new Set<(error: GpuError) => void>();

  constructor(device: GPUDevice, poolBytes: number) {
    this.device = device;
    this.poolBytes = poolBytes;
    device.lost.then((info) =>
      this.#markLost(`The GPU device was lost (${info.reason}): ${info.message || "no message"}`)
    );
  }

  /** Records the loss once and rejects every waiting read. */
  #markLost(message: string): void {
    if (this.#lost) return;
    const error = new GpuError("E_DEVICE_LOST", message);
    this.#lost = error;
    this.#idle.clear();
    this.#idleBytes = 0;
    for (const listener of this.#onLost) listener(error);
    this.#onLost.clear();
  }

  /** The loss error, or null while the device lives. */
  get lost(): GpuError | null {
    return this.#lost;
  }

  /**
   * A promise that rejects with the loss error when the device is lost (it never resolves), and
   * `dispose()`, which unregisters it once the caller's wait is over (so that long-lived devices
   * do not accumulate listeners).
   */
  lostSignal(): { promise: Promise<never>; dispose(): void } {
    let listener: ((error: GpuError) => void) | null = null;
    const promise = new Promise<never>((_, reject) => {
      if (this.#lost) reject(this.#lost);
      else this.#onLost.add(listener = reject);
    });
    return { promise, dispose: () => void (listener && this.#onLost.delete(listener)) };
  }

  /** Waits for `work`, or rejects with the loss error as soon as the device is lost. */
  async unlessLost<T>(work: Promise<T>): Promise<T> {
    const lost = this.lostSignal();
    try {
      return await Promise.race([work, lost.promise]);
    } finally {
      lost.dispose();
    }
  }

  /** Throws the loss error if the device is lost. */
  checkAlive(): void {
    if (this.#lost) throw this.#lost;
  }

  /** The pipeline of a kernel with its override constants, compiled once inside error scopes. */
  kernel(source: KernelSource, constants: OverrideConstants = {}): CompiledKernel {
    const key = `${source.name}|${JSON.stringify(constants)}`;
    const cached = this.#pipelines.get(key);
    if (cached) return cached;
    pushErrors(this.device);
    const module = this.device.createShaderModule({ label: source.name, code: source.code });
    const pipeline = this.device.createComputePipeline({
      label: source.name,
      layout: "auto",
      compute: { module, entryPoint: source.entryPoint ?? "main", constants: { ...constants } },
    });
    const compiled = { pipeline, error: popErrors(this.device, source.name, "compilation") };
    this.#pipelines.set(key, compiled);
    // A failed compilation is not cached: the next call recompiles (and fails again, visibly).
    compiled.error.then((error) => {
      if (error) this.#pipelines.delete(key);
    });
    return compiled;
  }

  /** A buffer of at least `bytes` bytes with `usage`, from the pool or new. */
  acquire(bytes: number, usage: number, label: string): GPUBuffer {
    const size = bucketOf(bytes);
    const idle = this.#idle.get(`${usage}:${size}`);
    const reused = idle?.pop();
    if (reused) {
      this.#idleBytes -= size;
      return reused;
    }
    return this.device.createBuffer({ label, size, usage });
  }

  /** Returns buffers to the pool (or destroys them beyond `poolBytes`). */
  release(buffers: readonly GPUBuffer[]): void {
    for (const buffer of buffers) {
      if (this.#lost || this.#idleBytes + buffer.size > this.poolBytes) {
        buffer.destroy();
        continue;
      }
      const key = `${buffer.usage}:${buffer.size}`;
      const idle = this.#idle.get(key) ?? [];
      idle.push(buffer);
      this.#idle.set(key, idle);
      this.#idleBytes += buffer.size;
    }
  }

  /** Bytes held idle in the pool. */
  get idleBytes(): number {
    return this.#idleBytes;
  }

  /** Destroys every pooled buffer and the device. */
  destroy(): void {
    for (const idle of this.#idle.values()) for (const buffer of idle) buffer.destroy();
    this.#idle.clear();
    this.#idleBytes = 0;
    this.device.destroy();
    // Not every runtime resolves `device.lost` promptly after destroy(): record it now.
    this.#markLost("The GPU device was lost (destroyed): destroy() was called");
  }
}
