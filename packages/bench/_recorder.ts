// A stand-in `Batch` that records the dispatches an operation of @loraquant/gpu would enqueue
// (its `run()` calls, and `matmul()` as the same KernelOperation `_batch.ts` builds), so the
// bench can replay them with inputs resident on the device and timestamp queries around them
// (the public Batch API reads back after every batch and has no timestamps). Not public.
import type {
  Batch,
  GpuArray,
  GpuArrayType,
  GpuHandle,
  KernelOperation,
  ReadResults,
} from "@loraquant/gpu/batch";
import {
  type Float32Matrix,
  MATMUL_REGISTER_WGSL,
  MATMUL_TILED_WGSL,
  type MatmulOptions,
  type MatmulVariant,
  matmulWorkgroups,
} from "@loraquant/gpu/matmul";

/** A recorded handle: the op that produces it and its output index. */
export interface RecordedHandle extends GpuHandle<GpuArray> {
  readonly op: number;
  readonly output: number;
}

/** The matmul kernels, named as `_batch.ts` names them. */
export const MATMUL_KERNELS: Readonly<Record<MatmulVariant, { name: string; code: string }>> = {
  register: { name: "matmul-f32-register", code: MATMUL_REGISTER_WGSL },
  tiled: { name: "matmul-f32-tiled", code: MATMUL_TILED_WGSL },
};

function unsupported(what: string): never {
  throw new Error(`The bench recorder does not support ${what}`);
}

/** Records operations instead of running them. */
export class Recorder implements Batch {
  readonly ops: KernelOperation[] = [];
  readonly #variant: MatmulVariant;

  constructor(variant: MatmulVariant) {
    this.#variant = variant;
  }

  get size(): number {
    return this.ops.length;
  }

  run(operation: KernelOperation): GpuHandle<GpuArray>[] {
    const op = this.ops.length;
    this.ops.push(operation);
    return operation.outputs.map((spec, output) => {
      const length = spec.shape.reduce((p, d) => p * d, 1);
      const handle: RecordedHandle = {
        kernel: operation.kernel.name,
        length,
        shape: spec.shape,
        arrayType: spec.arrayType as GpuArrayType<GpuArray>,
        op,
        output,
      };
      return handle;
    });
  }

  matmul(a: Float32Matrix, b: Float32Matrix, options: MatmulOptions = {}): GpuHandle<Float32Array> {
    const variant = options.variant ?? this.#variant;
    const grid = matmulWorkgroups(variant, { m: a.rows, n: b.cols });
    const [handle] = this.run({
      kernel: MATMUL_KERNELS[variant],
      params: new Uint32Array([a.rows, b.cols, a.cols, 0]),
      inputs: [a.data, b.data],
      outputs: [{ shape: [a.rows, b.cols], arrayType: Float32Array }],
      workgroups: [grid.x, grid.y],
    });
    return handle as GpuHandle<Float32Array>;
  }

  castFromFloat32(): GpuHandle<Uint32Array> {
    return unsupported("castFromFloat32");
  }

  castToFloat32(): GpuHandle<Float32Array> {
    return unsupported("castToFloat32");
  }

  read<H extends readonly GpuHandle<GpuArray>[]>(): Promise<ReadResults<H>> {
    return unsupported("read");
  }

  discard(): void {}
}
