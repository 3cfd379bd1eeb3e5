// Replays recorded dispatches on the raw device: inputs uploaded once and kept resident, every
// dispatch in its own compute pass (as `_batch.ts` records them), `repeats` copies of the whole
// sequence in one submission, timestamp queries at the start of the first pass and the end of
// the last where the device has `timestamp-query`. Not public.
import type { Gpu } from "@loraquant/gpu/device";
import type { GpuArray, KernelOperation } from "@loraquant/gpu/batch";
import type { RecordedHandle } from "./_recorder.ts";

/** One timed sample: wall and GPU time of `repeats` runs of the sequence, in ms. */
export interface Sample {
  readonly wallMs: number;
  readonly gpuMs: number | undefined;
}

interface Prepared {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number?, number?];
}

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/** A recorded sequence made ready to run repeatedly on one device. */
export class Replay {
  readonly #gpu: Gpu;
  readonly #steps: Prepared[] = [];
  readonly #buffers: GPUBuffer[] = [];
  /** The output buffers of each op, and the bytes each holds. */
  readonly #outputs: { buffer: GPUBuffer; bytes: number }[][] = [];
  readonly #querySet: GPUQuerySet | null;
  readonly #resolve: GPUBuffer | null;
  readonly #staging: GPUBuffer;
  readonly #fence: GPUBuffer;

  private constructor(gpu: Gpu) {
    this.#gpu = gpu;
    const device = gpu.device;
    const timed = gpu.features.has("timestamp-query");
    this.#querySet = timed ? device.createQuerySet({ type: "timestamp", count: 2 }) : null;
    this.#resolve = timed
      ? device.createBuffer({
        size: 16,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      })
      : null;
    this.#fence = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC });
    this.#staging = device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** Compiles the kernels and uploads the inputs, inside error scopes naming the kernel. */
  static async prepare(gpu: Gpu, ops: readonly KernelOperation[]): Promise<Replay> {
    const replay = new Replay(gpu);
    const device = gpu.device;
    const outputs: GPUBuffer[][] = [];
    const bytesOf = new Map<GPUBuffer, number>(); // the bytes each binding covers, as _batch.ts
    const buffer = (bytes: number, label: string) => {
      const b = device.createBuffer({ label, size: Math.max(16, bytes), usage: STORAGE });
      replay.#buffers.push(b);
      bytesOf.set(b, Math.max(4, bytes));
      return b;
    };
    for (const op of ops) {
      device.pushErrorScope("validation");
      const module = device.createShaderModule({ label: op.kernel.name, code: op.kernel.code });
      const pipeline = await device.createComputePipelineAsync({
        label: op.kernel.name,
        layout: "auto",
        compute: {
          module,
          entryPoint: op.kernel.entryPoint ?? "main",
          constants: { ...op.constants },
        },
      });
      const paramBytes = Math.max(16, Math.ceil(op.params.byteLength / 16) * 16);
      const padded = new Uint32Array(paramBytes / 4);
      padded.set(op.params);
      const uniform = device.createBuffer({
        label: `${op.kernel.name} params`,
        size: paramBytes,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      replay.#buffers.push(uniform);
      device.queue.writeBuffer(uniform, 0, padded);
      const bound = op.inputs.map((input, i) => {
        if (ArrayBuffer.isView(input)) {
          const data = input as GpuArray;
          const b = buffer(data.byteLength, `${op.kernel.name} input ${i}`);
          if (data.byteLength > 0) {
            device.queue.writeBuffer(b, 0, data as Uint32Array<ArrayBuffer>);
          }
          return b;
        }
        const h = input as RecordedHandle;
        const b = outputs[h.op]?.[h.output];
        if (!b) throw new Error(`Cannot replay ${op.kernel.name}: input ${i} is not recorded`);
        return b;
      });
      const produced = op.outputs.map((spec) =>
        spec.aliasOf !== undefined
          ? bound[spec.aliasOf]!
          : buffer(spec.shape.reduce((p, d) => p * d, 1) * 4, `${op.kernel.name} output`)
      );
      outputs.push(produced);
      replay.#outputs.push(produced.map((b) => ({ buffer: b, bytes: bytesOf.get(b)! })));
      const own = produced.filter((_, j) => op.outputs[j]!.aliasOf === undefined);
      const bindGroup = device.createBindGroup({
        label: op.kernel.name,
        layout: pipeline.getBindGroupLayout(0),
        entries: [uniform, ...bound, ...own].map((b, i) => ({
          binding: i,
          resource: { buffer: b },
        })),
      });
      const error = await device.popErrorScope();
      if (error) throw new Error(`Cannot replay kernel "${op.kernel.name}": ${error.message}`);
      replay.#steps.push({ pipeline, bindGroup, workgroups: op.workgroups });
    }
    return replay;
  }

  /** Runs the sequence `repeats` times in one submission and waits for it. */
  async sample(repeats: number): Promise<Sample> {
    const device = this.#gpu.device;
    const encoder = device.createCommandEncoder({ label: "bench sample" });
    const total = this.#steps.length * repeats;
    let index = 0;
    for (let r = 0; r < repeats; r++) {
      for (const step of this.#steps) {
        const first = index === 0;
        const last = index === total - 1;
        index++;
        const timestampWrites: GPUComputePassTimestampWrites | undefined =
          this.#querySet && (first || last)
            ? {
              querySet: this.#querySet,
              ...(first ? { beginningOfPassWriteIndex: 0 } : {}),
              ...(last ? { endOfPassWriteIndex: 1 } : {}),
            }
            : undefined;
        const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
        pass.setPipeline(step.pipeline);
        pass.setBindGroup(0, step.bindGroup);
        pass.dispatchWorkgroups(
          step.workgroups[0],
          step.workgroups[1] ?? 1,
          step.workgroups[2] ?? 1,
        );
        pass.end();
      }
    }
    if (this.#querySet && this.#resolve) {
      encoder.resolveQuerySet(this.#querySet, 0, 2, this.#resolve, 0);
      encoder.copyBufferToBuffer(this.#resolve, 0, this.#staging, 0, 16);
    } else {
      // The map must wait for this submission: make it the staging buffer's last use.
      encoder.copyBufferToBuffer(this.#fence, 0, this.#staging, 0, 16);
    }
    device.pushErrorScope("validation");
    const t0 = performance.now();
    device.queue.submit([encoder.finish()]);
    await this.#staging.mapAsync(GPUMapMode.READ);
    const wallMs = performance.now() - t0;
    const error = await device.popErrorScope();
    const stamps = new BigInt64Array(this.#staging.getMappedRange().slice(0));
    this.#staging.unmap();
    if (error) throw new Error(`A bench sample failed: ${error.message}`);
    const ns = this.#querySet ? Number(stamps[1]! - stamps[0]!) : NaN;
    return { wallMs, gpuMs: ns > 0 ? ns / 1e6 : undefined };
  }

  /** Copies a recorded output back (after `sample()`), to check what the replay computed. */
  async read(handle: RecordedHandle): Promise<ArrayBuffer> {
    const out = this.#outputs[handle.op]?.[handle.output];
    if (!out) throw new Error(`Cannot read: op ${handle.op} output ${handle.output} not recorded`);
    const device = this.#gpu.device;
    const size = Math.ceil(out.bytes / 4) * 4;
    const staging = device.createBuffer({
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(out.buffer, 0, staging, 0, size);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const bytes = staging.getMappedRange().slice(0, handle.length * 4);
    staging.unmap();
    staging.destroy();
    return bytes;
  }

  /** Frees the buffers. */
  destroy(): void {
    for (const b of this.#buffers) b.destroy();
    this.#querySet?.destroy();
    this.#resolve?.destroy();
    this.#staging.destroy();
    this.#fence.destroy();
  }
}
