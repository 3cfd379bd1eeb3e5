/**
 * Section 8: the final model's logits computed with the WebGPU kernels of `@loraquant/gpu`
 * (the fused LoRA forward, float32), for comparison with the float64 reference.
 *
 * @module
 */
import { type Gpu, requestGpu } from "@loraquant/gpu/device";
import { loraForward } from "@loraquant/gpu/lora";
import type { DemoLayer, DemoMlp } from "./mlp.ts";

/** A GPU, or why there is none. */
export type GpuProbe = { gpu: Gpu; name: string } | { gpu: null; reason: string };

/**
 * Requests a WebGPU adapter and device.
 *
 * @returns The GPU and its adapter's name, or the reason there is none.
 */
export async function probeGpu(): Promise<GpuProbe> {
  if (typeof navigator === "undefined" || !navigator.gpu) {
    return { gpu: null, reason: "this runtime has no WebGPU" };
  }
  const adapter = await navigator.gpu.requestAdapter().catch(() => null);
  if (!adapter) return { gpu: null, reason: "no WebGPU adapter" };
  try {
    const gpu = await requestGpu({ adapter, matmulVariant: "register" });
    return { gpu, name: gpu.adapterName };
  } catch (e) {
    return { gpu: null, reason: `the device could not be created: ${(e as Error).message}` };
  }
}

function f32(x: Float64Array): Float32Array {
  return Float32Array.from(x);
}

function layerOf(l: DemoLayer) {
  const lora = l.lora;
  if (!lora) throw new Error("gpuLogits expects a model with LoRA adapters");
  return {
    w: { rows: l.out, cols: l.inputs, data: f32(l.w) },
    a: { rows: lora.rank, cols: l.inputs, data: f32(lora.a) },
    b: { rows: l.out, cols: lora.rank, data: f32(lora.b) },
    alpha: lora.scaling * lora.rank,
    bias: f32(l.bias),
  };
}

/**
 * The logits of the (unmerged) LoRA model on the GPU: layer 1 with the fused LoRA forward, read
 * back, ReLU on the CPU (exact), layer 2 with the fused forward. Inputs and parameters are
 * rounded to float32 (nearest-even) on upload; the kernels accumulate in float32.
 *
 * @param gpu The GPU.
 * @param m The model, both layers with adapters.
 * @param x (n, in) row-major.
 * @param n Rows.
 * @returns The (n, 10) logits.
 */
export async function gpuLogits(
  gpu: Gpu,
  m: DemoMlp,
  x: Float64Array,
  n: number,
): Promise<Float32Array> {
  const first = gpu.batch();
  const { y: h } = loraForward(first, { rows: n, cols: m.l1.inputs, data: f32(x) }, layerOf(m.l1));
  const [hidden] = await first.read(h);
  for (let i = 0; i < hidden.length; i++) if (!(hidden[i]! > 0)) hidden[i] = 0;
  const second = gpu.batch();
  const { y } = loraForward(second, { rows: n, cols: m.l2.inputs, data: hidden }, layerOf(m.l2));
  const [logits] = await second.read(y);
  return logits;
}
