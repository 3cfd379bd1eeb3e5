// The implementation of `Batch` (batch.ts documents the model): each operation validates its
// arguments, uploads its inputs, and records its dispatch into its own command buffer inside
// error scopes (so a failure names its kernel); read() submits them all with one copy into a
// staging buffer and awaits the scopes, the map and the device-loss signal together.
import { argError, LoraquantRangeError, LoraquantTypeError } from "@loraquant/reference/errors";
import type {
  Batch,
  CastFromFloat32Options,
  GpuArray,
  GpuArrayType,
  GpuHandle,
  KernelOperation,
  ReadResults,
} from "./batch.ts";
import {
  CAST_DECODE_WGSL,
  CAST_ENCODE_WGSL,
  CAST_FORMAT_CONSTANTS,
  CAST_WORKGROUP_SIZE,
  decodeConstants,
  encodeConstants,
  GPU_FLOAT_FORMATS,
  type GpuFloatFormat,
} from "./cast.ts";
import { GpuError } from "./gpu_error.ts";
import {
  type Float32Matrix,
  MATMUL_REGISTER_WGSL,
  MATMUL_TILED_WGSL,
  MATMUL_VARIANTS,
  type MatmulOptions,
  type MatmulVariant,
  matmulWorkgroups,
} from "./matmul.ts";
import {
  type KernelSource,
  type OverrideConstants,
  popErrors,
  pushErrors,
  type Runtime,
} from "./_runtime.ts";

/** The kernels, by name. */
export const KERNELS = {
  encode: { name: "cast-encode", code: CAST_ENCODE_WGSL },
  decode: { name: "cast-decode", code: CAST_DECODE_WGSL },
  register: { name: "matmul-f32-register", code: MATMUL_REGISTER_WGSL },
  tiled: { name: "matmul-f32-tiled", code: MATMUL_TILED_WGSL },
} as const satisfies Record<string, KernelSource>;

/** The limits the batch checks sizes against. */
export interface BatchLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
}

/** Where a handle's data lives. */
interface Output {
  readonly batch: BatchImpl;
  readonly buffer: GPUBuffer | null; // null for an empty result
  readonly bytes: number;
}

const outputs = new WeakMap<GpuHandle<GpuArray>, Output>();

const STORAGE_IN = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
const STORAGE_OUT = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
const UNIFORM = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
const STAGING = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${bytes} bytes`;
}

function checkFormat(what: string, format: unknown): GpuFloatFormat {
  if (!(GPU_FLOAT_FORMATS as readonly unknown[]).includes(format)) {
    throw argError(
      `Cannot ${what}: format must be one of ${GPU_FLOAT_FORMATS.join(", ")}, got ${
        JSON.stringify(format)
      }`,
    );
  }
  return format as GpuFloatFormat;
}

function checkDimension(what: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw argError(`Cannot ${what}: ${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function checkMatrix(name: string, x: unknown): Float32Matrix {
  if (typeof x !== "object" || x === null) {
    throw argError(`Cannot matmul: ${name} must be a { rows, cols, data } matrix, got ${x}`);
  }
  const m = x as Partial<Float32Matrix>;
  checkDimension("matmul", `${name}.rows`, m.rows);
  checkDimension("matmul", `${name}.cols`, m.cols);
  if (!(m.data instanceof Float32Array)) {
    throw argError(`Cannot matmul: ${name}.data must be a Float32Array`);
  }
  return m as Float32Matrix;
}

/** Implements {@linkcode Batch} on one device. */
export class BatchImpl implements Batch {
  readonly #rt: Runtime;
  readonly #limits: BatchLimits;
  readonly #variant: MatmulVariant;
  readonly #commands: GPUCommandBuffer[] = [];
  readonly #errors: Promise<GpuError | null>[] = [];
  readonly #buffers: GPUBuffer[] = [];
  readonly #kernels: string[] = [];
  #open = true;

  constructor(runtime: Runtime, limits: BatchLimits, variant: MatmulVariant) {
    this.#rt = runtime;
    this.#limits = limits;
    this.#variant = variant;
  }

  get size(): number {
    return this.#kernels.length;
  }

  #checkOpen(what: string): void {
    if (!this.#open) {
      throw new GpuError("E_STATE", `Cannot ${what}: this batch was already read or discarded`);
    }
    this.#rt.checkAlive();
  }

  #checkBytes(what: string, name: string, bytes: number): void {
    if (bytes > this.#limits.maxStorageBufferBindingSize) {
      throw new LoraquantRangeError(
        "E_LIMIT",
        `Cannot ${what}: ${name} needs ${formatBytes(bytes)}, above this adapter's ` +
          `maxStorageBufferBindingSize of ${formatBytes(this.#limits.maxStorageBufferBindingSize)}`,
      );
    }
  }

  #output<T extends GpuArray>(
    kernel: string,
    shape: readonly number[],
    arrayType: GpuArrayType<T>,
    buffer: GPUBuffer | null,
  ): GpuHandle<T> {
    const length = shape.reduce((p, d) => p * d, 1);
    const handle: GpuHandle<T> = Object.freeze({ kernel, length, shape, arrayType });
    outputs.set(handle, { batch: this, buffer, bytes: length * 4 });
    return handle;
  }

  /** The output of an earlier operation of this batch, or an E_ARG error. */
  #ownInput(what: string, handle: GpuHandle<GpuArray>): Output {
    const out = outputs.get(handle);
    if (!out || out.batch !== this) {
      throw argError(`Cannot ${what}: the input handle belongs to another batch`);
    }
    return out;
  }

  #upload(data: GpuArray, label: string): GPUBuffer {
    const device = this.#rt.device;
    pushErrors(device);
    const buffer = this.#rt.acquire(Math.max(data.byteLength, 4), STORAGE_IN, label);
    this.#buffers.push(buffer);
    if (data.byteLength > 0) {
      // writeBuffer takes an ArrayBuffer-backed view; a view of a SharedArrayBuffer is copied.
      const view = data.buffer instanceof ArrayBuffer ? data : data.slice();
      device.queue.writeBuffer(buffer, 0, view as Uint32Array<ArrayBuffer>);
    }
    this.#errors.push(popErrors(device, label, "upload"));
    return buffer;
  }

  /** Records one dispatch: params in binding 0, inputs in 1…, the output last. */
  #dispatch(
    kernel: KernelSource,
    constants: OverrideConstants,
    params: Uint32Array<ArrayBuffer>,
    inputs: readonly { buffer: GPUBuffer; bytes: number }[],
    outputBytes: number,
    workgroups: { x: number; y: number },
  ): GPUBuffer {
    const output = this.#rt.acquire(
      Math.max(outputBytes, 4),
      STORAGE_OUT,
      `${kernel.name} output`,
    );
    this.#buffers.push(output);
    this.#record(kernel, constants, params, [...inputs, { buffer: output, bytes: outputBytes }], [
      workgroups.x,
      workgroups.y,
    ]);
    return output;
  }

  /** Records one dispatch over already-bound buffers: params in binding 0, `buffers` in 1…. */
  #record(
    kernel: KernelSource,
    constants: OverrideConstants,
    params: Uint32Array,
    buffers: readonly { buffer: GPUBuffer; bytes: number }[],
    workgroups: readonly [number, number?, number?],
  ): void {
    const rt = this.#rt;
    const device = rt.device;
    const compiled = rt.kernel(kernel, constants);
    this.#errors.push(compiled.error);
    pushErrors(device);
    const paramBytes = Math.max(16, Math.ceil(params.byteLength / 16) * 16);
    const padded = new Uint32Array(paramBytes / 4);
    padded.set(params);
    const uniform = rt.acquire(paramBytes, UNIFORM, `${kernel.name} params`);
    device.queue.writeBuffer(uniform, 0, padded);
    this.#buffers.push(uniform);
    const bindGroup = device.createBindGroup({
      label: kernel.name,
      layout: compiled.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: uniform, size: paramBytes } },
        ...buffers.map((b, i) => ({
          binding: i + 1,
          resource: { buffer: b.buffer, size: Math.max(b.bytes, 4) },
        })),
      ],
    });
    const encoder = device.createCommandEncoder({ label: kernel.name });
    const pass = encoder.beginComputePass({ label: kernel.name });
    pass.setPipeline(compiled.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    pass.end();
    this.#commands.push(encoder.finish());
    this.#errors.push(popErrors(device, kernel.name, "dispatch"));
    this.#kernels.push(kernel.name);
  }

  run(operation: KernelOperation): GpuHandle<GpuArray>[] {
    const { kernel, params, inputs, outputs: specs, workgroups } = operation;
    const what = `run ${kernel?.name ?? "a kernel"}`;
    this.#checkOpen(what);
    if (!(params instanceof Uint32Array)) {
      throw argError(`Cannot ${what}: params must be a Uint32Array`);
    }
    const max = this.#limits.maxComputeWorkgroupsPerDimension;
    for (const w of workgroups) {
      if (w === undefined) continue;
      if (!Number.isSafeInteger(w) || w < 0) {
        throw argError(`Cannot ${what}: workgroup counts must be non-negative integers, got ${w}`);
      }
      if (w > max) {
        throw new LoraquantRangeError(
          "E_LIMIT",
          `Cannot ${what}: ${w} workgroups exceed this adapter's maxComputeWorkgroupsPerDimension of ${max}`,
        );
      }
    }
    const aliases = new Map<number, number>(); // input index → output index
    specs.forEach((spec, j) => {
      if (spec.aliasOf === undefined) return;
      const input = inputs[spec.aliasOf];
      if (input === undefined || ArrayBuffer.isView(input) || aliases.has(spec.aliasOf)) {
        throw argError(
          `Cannot ${what}: output ${j} aliases input ${spec.aliasOf}, which must be a distinct handle of this batch`,
        );
      }
      aliases.set(spec.aliasOf, j);
    });
    const bound = inputs.map((input, i) => {
      if (
        input instanceof Float32Array || input instanceof Uint32Array || input instanceof Int32Array
      ) {
        this.#checkBytes(what, `input ${i}`, input.byteLength);
        return {
          buffer: this.#upload(input, `${kernel.name} input ${i}`),
          bytes: input.byteLength,
        };
      }
      if (ArrayBuffer.isView(input)) {
        throw argError(
          `Cannot ${what}: input ${i} must be a Float32Array, Uint32Array or Int32Array`,
        );
      }
      const out = this.#ownInput(what, input);
      // An empty result has no buffer: bind a 4-byte placeholder the kernel never reads.
      const buffer = out.buffer ?? this.#upload(new Uint32Array(1), `${kernel.name} empty ${i}`);
      return { buffer, bytes: out.bytes };
    });
    const produced = specs.map((spec) => {
      const length = spec.shape.reduce((p, d) => p * d, 1);
      if (spec.aliasOf !== undefined) {
        const source = bound[spec.aliasOf]!;
        if (source.bytes !== length * 4) {
          throw argError(
            `Cannot ${what}: an in-place output of shape [${spec.shape}] must match its input's ${
              source.bytes / 4
            } elements`,
          );
        }
        return source;
      }
      this.#checkBytes(what, "an output", length * 4);
      const buffer = this.#rt.acquire(
        Math.max(length * 4, 4),
        STORAGE_OUT,
        `${kernel.name} output`,
      );
      this.#buffers.push(buffer);
      return { buffer, bytes: length * 4 };
    });
    const extra = produced.filter((_, j) => specs[j]!.aliasOf === undefined);
    this.#record(kernel, operation.constants ?? {}, params, [...bound, ...extra], workgroups);
    return specs.map((spec, j) =>
      this.#output(kernel.name, spec.shape, spec.arrayType, produced[j]!.buffer)
    );
  }

  /** A 2-D grid of 256-invocation workgroups covering `count` elements (tiling the x limit). */
  #grid(what: string, count: number): { x: number; y: number; rowStride: number } {
    const groups = Math.ceil(count / CAST_WORKGROUP_SIZE);
    const max = this.#limits.maxComputeWorkgroupsPerDimension;
    const x = Math.min(groups, max);
    const y = Math.ceil(groups / x);
    if (y > max) {
      throw new LoraquantRangeError(
        "E_LIMIT",
        `Cannot ${what}: ${count} elements need more than ${max}×${max} workgroups`,
      );
    }
    return { x, y, rowStride: x * CAST_WORKGROUP_SIZE };
  }

  castFromFloat32(
    x: Float32Array | Uint32Array | GpuHandle<Float32Array>,
    format: GpuFloatFormat,
    options: CastFromFloat32Options = {},
  ): GpuHandle<Uint32Array> {
    const what = "cast from float32";
    this.#checkOpen(what);
    const isArray = x instanceof Float32Array || x instanceof Uint32Array;
    if (!isArray && !(typeof x === "object" && x !== null && x.arrayType === Float32Array)) {
      throw argError(
        `Cannot ${what}: x must be a Float32Array, a Uint32Array of float32 bits or a float32 handle`,
      );
    }
    checkFormat(what, format);
    const saturate = options.saturate ?? false;
    if (typeof saturate !== "boolean") {
      throw argError(`Cannot ${what}: saturate must be a boolean, got ${String(saturate)}`);
    }
    const input = isArray ? null : this.#ownInput(what, x);
    const count = x.length;
    this.#checkBytes(what, "x", count * 4);
    const grid = this.#grid(what, count);
    const name = `cast-encode ${format}`;
    if (count === 0) return this.#output(name, [0], Uint32Array, null);
    const source = input?.buffer ?? this.#upload(x as Float32Array | Uint32Array, name);
    const buffer = this.#dispatch(
      KERNELS.encode,
      encodeConstants(format, saturate),
      new Uint32Array([count, grid.rowStride, 0, 0]),
      [{ buffer: source, bytes: count * 4 }],
      count * 4,
      grid,
    );
    return this.#output(name, [count], Uint32Array, buffer);
  }

  castToFloat32(
    bits: Uint32Array | GpuHandle<Uint32Array>,
    format: GpuFloatFormat,
  ): GpuHandle<Float32Array> {
    const what = "cast to float32";
    this.#checkOpen(what);
    const isArray = bits instanceof Uint32Array;
    if (
      !isArray && !(typeof bits === "object" && bits !== null && bits.arrayType === Uint32Array)
    ) {
      throw argError(`Cannot ${what}: bits must be a Uint32Array or a pattern handle`);
    }
    checkFormat(what, format);
    const input = isArray ? null : this.#ownInput(what, bits);
    const count = bits.length;
    this.#checkBytes(what, "bits", count * 4);
    const grid = this.#grid(what, count);
    if (isArray) {
      const width = CAST_FORMAT_CONSTANTS[format].bits;
      const limit = 2 ** width;
      for (let i = 0; i < count; i++) {
        const p = bits[i] as number;
        if (p >= limit) {
          throw new LoraquantRangeError(
            "E_RANGE",
            `Cannot ${what}: bits[${i}] = 0x${p.toString(16)} does not fit ${format}'s ` +
              `${width} bits`,
          );
        }
      }
    }
    const name = `cast-decode ${format}`;
    if (count === 0) return this.#output(name, [0], Float32Array, null);
    const source = input?.buffer ?? this.#upload(bits as Uint32Array, name);
    const buffer = this.#dispatch(
      KERNELS.decode,
      decodeConstants(format),
      new Uint32Array([count, grid.rowStride, 0, 0]),
      [{ buffer: source, bytes: count * 4 }],
      count * 4,
      grid,
    );
    return this.#output(name, [count], Float32Array, buffer);
  }

  matmul(a: Float32Matrix, b: Float32Matrix, options: MatmulOptions = {}): GpuHandle<Float32Array> {
    const what = "matmul";
    this.#checkOpen(what);
    checkMatrix("a", a);
    checkMatrix("b", b);
    const variant = options.variant ?? this.#variant;
    if (!MATMUL_VARIANTS.includes(variant)) {
      throw argError(
        `Cannot matmul: variant must be one of ${MATMUL_VARIANTS.join(", ")}, got ${
          JSON.stringify(variant)
        }`,
      );
    }
    for (const [name, x] of [["a", a], ["b", b]] as const) {
      if (x.data.length !== x.rows * x.cols) {
        throw new LoraquantTypeError(
          "E_SHAPE",
          `Cannot matmul: ${name} is ${x.rows}×${x.cols} but its data holds ${x.data.length} ` +
            `elements`,
        );
      }
    }
    if (a.cols !== b.rows) {
      throw new LoraquantTypeError(
        "E_SHAPE",
        `Cannot matmul: a is ${a.rows}×${a.cols} but b is ${b.rows}×${b.cols} (a.cols ≠ b.rows)`,
      );
    }
    const [m, k, n] = [a.rows, a.cols, b.cols];
    this.#checkBytes(what, "a", m * k * 4);
    this.#checkBytes(what, "b", k * n * 4);
    this.#checkBytes(what, "c", m * n * 4);
    const grid = matmulWorkgroups(variant, { m, n });
    const max = this.#limits.maxComputeWorkgroupsPerDimension;
    if (grid.x > max || grid.y > max) {
      throw new LoraquantRangeError(
        "E_LIMIT",
        `Cannot matmul: a ${m}×${n} result needs ${grid.x}×${grid.y} workgroups, above this ` +
          `adapter's maxComputeWorkgroupsPerDimension of ${max}`,
      );
    }
    const kernel = KERNELS[variant];
    if (m * n === 0) return this.#output(kernel.name, [m, n], Float32Array, null);
    const buffer = this.#dispatch(
      kernel,
      {},
      new Uint32Array([m, n, k, 0]),
      [
        { buffer: this.#upload(a.data, `${kernel.name} a`), bytes: m * k * 4 },
        { buffer: this.#upload(b.data, `${kernel.name} b`), bytes: k * n * 4 },
      ],
      m * n * 4,
      grid,
    );
    return this.#output(kernel.name, [m, n], Float32Array, buffer);
  }

  discard(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#rt.release(this.#buffers.splice(0));
  }

  async read<H extends readonly GpuHandle<GpuArray>[]>(
    ...handles: H
  ): Promise<ReadResults<H>> {
    this.#checkOpen("read");
    const wanted = handles.map((handle) => {
      const out = outputs.get(handle);
      if (!out || out.batch !== this) {
        throw new GpuError("E_STATE", "Cannot read: a handle belongs to another batch");
      }
      return out;
    });
    this.#open = false;
    const rt = this.#rt;
    const device = rt.device;
    const offsets: number[] = [];
    let total = 0;
    for (const out of wanted) {
      offsets.push(total);
      if (out.buffer) total += out.bytes;
    }
    const staging = total > 0 ? rt.acquire(total, STAGING, "batch staging") : null;
    const encoder = device.createCommandEncoder({ label: "batch readback" });
    wanted.forEach((out, i) => {
      if (out.buffer && staging) {
        encoder.copyBufferToBuffer(out.buffer, 0, staging, offsets[i] as number, out.bytes);
      }
    });
    const kernels = [...new Set(this.#kernels)].join(", ") || "none";
    pushErrors(device);
    device.queue.submit([...this.#commands.splice(0), encoder.finish()]);
    this.#errors.push(popErrors(device, `batch of ${kernels}`, "submission"));
    let mapped = false;
    try {
      const map = staging
        ? staging.mapAsync(GPUMapMode.READ).then(() => {
          mapped = true;
        }, (reason) => {
          throw rt.lost ?? new GpuError("E_DEVICE_LOST", `Cannot read the batch back: ${reason}`);
        })
        : Promise.resolve();
      const [errors] = await rt.unlessLost(Promise.all([Promise.all(this.#errors), map]));
      const first = errors.find((error) => error !== null);
      if (first) throw first;
      const bytes = staging ? staging.getMappedRange(0, total) : new ArrayBuffer(0);
      return wanted.map((out, i) => {
        const start = offsets[i] as number;
        const copy = bytes.slice(start, start + (out.buffer ? out.bytes : 0));
        return new handles[i]!.arrayType(copy);
      }) as ReadResults<H>;
    } finally {
      rt.release(this.#buffers.splice(0));
      if (staging && mapped) {
        staging.unmap();
        rt.release([staging]);
      } else staging?.destroy(); // never mapped (lost device, failed map): not reusable
    }
  }
}
