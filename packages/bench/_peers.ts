// The peers, each loaded lazily (a peer that fails to load or run is skipped with its reason by
// the caller): tf.matMul on @tensorflow/tfjs-backend-webgpu, and a one-node MatMul model on
// onnxruntime-web's webgpu execution provider. Both keep their operands on the device and read
// back once per sample, as our kernels do. Not public.
import type { RawSample } from "./_measure.ts";
import { matmulOnnxModel } from "./onnx_model.ts";

/** A prepared N×N×N product: `sample(repeats)` runs it `repeats` times and waits once. */
export interface PeerMatmul {
  sample(repeats: number): Promise<RawSample>;
  dispose(): void | Promise<void>;
}

/** tfjs-core with the webgpu backend, initialised once. */
let tfjs: Promise<typeof import("@tensorflow/tfjs-core")> | null = null;

function loadTfjs(): Promise<typeof import("@tensorflow/tfjs-core")> {
  tfjs ??= (async () => {
    const tf = await import("@tensorflow/tfjs-core");
    await import("@tensorflow/tfjs-backend-webgpu");
    if (!(await tf.setBackend("webgpu"))) throw new Error('tf.setBackend("webgpu") returned false');
    await tf.ready();
    return tf;
  })();
  return tfjs;
}

/** tf.matMul(a, b) on the webgpu backend, (n, n)·(n, n) float32. */
export async function tfjsMatmul(a: Float32Array, b: Float32Array, n: number): Promise<PeerMatmul> {
  const tf = await loadTfjs();
  const ta = tf.tensor2d(a, [n, n]); // (n, n) row-major
  const tb = tf.tensor2d(b, [n, n]); // (n, n) row-major
  return {
    async sample(repeats: number): Promise<RawSample> {
      const t0 = performance.now();
      const outs = Array.from({ length: repeats }, () => tf.matMul(ta, tb));
      await outs[outs.length - 1]!.data(); // one readback; the queue runs in order
      const wallMs = performance.now() - t0;
      for (const o of outs) o.dispose();
      return { wallMs };
    },
    dispose() {
      ta.dispose();
      tb.dispose();
    },
  };
}

/** onnxruntime-web, webgpu EP, initialised once with its wasm files from the npm package. */
let ortModule: Promise<typeof import("onnxruntime-web/webgpu")> | null = null;

function loadOrt(): Promise<typeof import("onnxruntime-web/webgpu")> {
  ortModule ??= (async () => {
    const ort = await import("onnxruntime-web/webgpu");
    // No network: ORT's .wasm/.mjs files sit beside its bundle in Deno's npm cache (a file: URL).
    ort.env.wasm.wasmPaths = new URL("./", import.meta.resolve("onnxruntime-web/webgpu")).href;
    ort.env.wasm.numThreads = 1; // no worker threads (Deno has no cross-origin isolation here)
    ort.env.logLevel = "error";
    return ort;
  })();
  return ortModule;
}

/** A MatMul ONNX model on ORT's webgpu EP, inputs and output kept on the device. */
export async function ortMatmul(a: Float32Array, b: Float32Array, n: number): Promise<PeerMatmul> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(matmulOnnxModel(n, n, n), {
    executionProviders: ["webgpu"],
    preferredOutputLocation: "gpu-buffer",
  });
  const device = await ort.env.webgpu.device as GPUDevice;
  const upload = (data: Float32Array) => {
    const buffer = device.createBuffer({
      size: data.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
    return buffer;
  };
  const ba = upload(a); // (n, n) row-major
  const bb = upload(b); // (n, n) row-major
  const feeds = {
    A: ort.Tensor.fromGpuBuffer(ba, { dataType: "float32", dims: [n, n] }),
    B: ort.Tensor.fromGpuBuffer(bb, { dataType: "float32", dims: [n, n] }),
  };
  return {
    async sample(repeats: number): Promise<RawSample> {
      const t0 = performance.now();
      const outs = [];
      for (let r = 0; r < repeats; r++) outs.push((await session.run(feeds)).C!);
      await outs[outs.length - 1]!.getData(); // one readback
      const wallMs = performance.now() - t0;
      for (const o of outs) o.dispose();
      return { wallMs };
    },
    async dispose() {
      await session.release();
      ba.destroy();
      bb.destroy();
    },
  };
}
