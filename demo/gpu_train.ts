/**
 * Training the demo's MLP on the GPU: the same model, minibatches, loss and Adam as
 * {@linkcode trainMlp} (mlp.ts), computed in float32 by WGSL kernels through `@loraquant/gpu`'s
 * `Batch` (one submission and one readback per chunk of steps).
 *
 * Per step (n rows of a minibatch, s the LoRA scaling, every sum in ascending index from 0 in
 * float32, the same order as mlp.ts):
 *
 * - forward, per layer: h = x·Aᵀ (LoRA only), y = (x·Wᵀ + bias) + s·(h·Bᵀ), ReLU after layer 1;
 * - softmax cross-entropy: G = (softmax(logits) − onehot)/n, and each row's loss;
 * - backward: full fine-tuning ∂W = Gᵀ·x, ∂bias = Σ_i G; LoRA ∂B = s·Gᵀ·h, dh = s·G·B,
 *   ∂A = dhᵀ·x; into layer 1 dz = (G·W₂ + dh₂·A₂) ⊙ [z > 0];
 * - Adam in place (`@loraquant/gpu/lora-train`'s kernel: β₁ 0.9, β₂ 0.999, ε 1e-8).
 *
 * The master weights and Adam's moments stay on the GPU for a chunk, then are read back (float32)
 * so that progress can be shown and the next chunk starts from them. The model's float64 arrays
 * receive the float32 values at the end. Mixed precision (format emulation) is not done here: the
 * demo trains those runs on the reference.
 *
 * @module
 */
import type { Gpu } from "@loraquant/gpu/device";
import type { Batch, GpuHandle } from "@loraquant/gpu/batch";
import { elementwiseGrid, f32Word, gpuResident } from "@loraquant/gpu/lora";
import { LoraquantRangeError, LoraquantTypeError } from "@loraquant/reference/errors";
import { LORA_ADAM_WGSL } from "@loraquant/gpu/lora-train";
import {
  type DemoLayer,
  type DemoMlp,
  mulberry32,
  shuffle,
  type TrainOptions,
  type TrainResult,
} from "./mlp.ts";

/**
 * c (m, n) = scale·Σ_k a[i·aRow + k·aK]·b[k·bK + j·bCol], each invocation a 4 × 4 tile of c held
 * in registers (the same sums, in ascending k from +0, as `@loraquant/gpu/lora-train`'s strided
 * kernel, with a quarter of its loads). Bindings: 0 params (m, n, k, aRow, aK, bK, bCol: u32,
 * scale: f32), 1 a, 2 b, 3 c. Workgroup 8 × 8 invocations = a 32 × 32 block of c.
 */
export const DEMO_TILED_MATMUL_WGSL: string = /* wgsl */ `
struct Params { m: u32, n: u32, k: u32, aRow: u32, aK: u32, bK: u32, bCol: u32, scale: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i0 = id.y * 4u;
  let j0 = id.x * 4u;
  if (i0 >= params.m || j0 >= params.n) { return; }
  // Rows and columns past the edge are clamped to the last one (computed, never stored).
  var ai: array<u32, 4>;
  var bj: array<u32, 4>;
  for (var t = 0u; t < 4u; t++) {
    ai[t] = min(i0 + t, params.m - 1u) * params.aRow;
    bj[t] = min(j0 + t, params.n - 1u) * params.bCol;
  }
  var acc: array<f32, 16>;
  for (var t = 0u; t < 16u; t++) { acc[t] = 0.0f; }
  for (var k = 0u; k < params.k; k++) {
    let ak = k * params.aK;
    let bk = k * params.bK;
    let b0 = b[bk + bj[0]];
    let b1 = b[bk + bj[1]];
    let b2 = b[bk + bj[2]];
    let b3 = b[bk + bj[3]];
    for (var r = 0u; r < 4u; r++) {
      let av = a[ai[r] + ak];
      acc[r * 4u] = acc[r * 4u] + av * b0;
      acc[r * 4u + 1u] = acc[r * 4u + 1u] + av * b1;
      acc[r * 4u + 2u] = acc[r * 4u + 2u] + av * b2;
      acc[r * 4u + 3u] = acc[r * 4u + 3u] + av * b3;
    }
  }
  for (var r = 0u; r < 4u; r++) {
    let i = i0 + r;
    if (i >= params.m) { break; }
    for (var q = 0u; q < 4u; q++) {
      let j = j0 + q;
      if (j < params.n) { c[i * params.n + j] = params.scale * acc[r * 4u + q]; }
    }
  }
}
`;

/**
 * The epilogue of a linear layer, in place on s = x·Wᵀ (n, out):
 * y[i,o] = act(s[i,o] + bias[o] + sc·Σ_t h[i,t]·B[o,t]), the LoRA term only when rank > 0, act
 * ReLU or the identity. Bindings: 0 params (n, out, rank: u32, sc: f32, relu: u32, 3 pad),
 * 1 y (in place), 2 bias, 3 h, 4 B. Workgroup 256 over the n·out elements.
 */
export const DEMO_LINEAR_EPILOGUE_WGSL: string = /* wgsl */ `
struct Params { n: u32, out: u32, rank: u32, sc: f32, relu: u32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> h: array<f32>;
@group(0) @binding(4) var<storage, read> b: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let e = id.x;
  if (e >= params.n * params.out) { return; }
  let i = e / params.out;
  let o = e % params.out;
  var v = y[e] + bias[o];
  if (params.rank > 0u) {
    var up = 0.0f;
    for (var t = 0u; t < params.rank; t++) {
      up = up + h[i * params.rank + t] * b[o * params.rank + t];
    }
    v = v + params.sc * up;
  }
  // ReLU as mlp.ts does it: negatives to 0, NaN kept (a diverging run stays visible).
  if (params.relu != 0u && v < 0.0f) { v = 0.0f; }
  y[e] = v;
}
`;

/**
 * Softmax cross-entropy per row: G[i,c] = (p_c − [c = label_i])/n with p = softmax(z_i) computed
 * from z − max, and loss_i = log Σ exp(z − max) + max − z_label. Bindings: 0 params (n, classes,
 * 2 pad), 1 z (n, classes), 2 labels (u32), 3 G, 4 loss (n). One invocation per row.
 */
export const DEMO_CROSS_ENTROPY_WGSL: string = /* wgsl */ `
struct Params { n: u32, classes: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= params.n) { return; }
  let c = params.classes;
  var m = z[i * c];
  for (var j = 1u; j < c; j++) { m = max(m, z[i * c + j]); }
  var sum = 0.0f;
  for (var j = 0u; j < c; j++) { sum = sum + exp(z[i * c + j] - m); }
  let label = labels[i];
  loss[i] = log(sum) + m - z[i * c + label];
  let inv = 1.0f / f32(params.n);
  for (var j = 0u; j < c; j++) {
    var p = exp(z[i * c + j] - m) / sum;
    if (j == label) { p = p - 1.0f; }
    grad[i * c + j] = p * inv;
  }
}
`;

/**
 * The gradient into layer 1's output through layer 2 and the ReLU:
 * dz[i,k] = z[i,k] ≤ 0 ? 0 : Σ_o G[i,o]·W[o,k] + Σ_t dh[i,t]·A[t,k] (the LoRA sum only when
 * rank > 0). Bindings: 0 params (n, out, hidden, rank), 1 G (n, out), 2 W (out, hidden),
 * 3 dh (n, rank), 4 A (rank, hidden), 5 z (n, hidden), 6 dz. Workgroup 8 × 8: id.x = k, id.y = i.
 */
export const DEMO_BACKPROP_RELU_WGSL: string = /* wgsl */ `
struct Params { n: u32, out: u32, hidden: u32, rank: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> dh: array<f32>;
@group(0) @binding(4) var<storage, read> a: array<f32>;
@group(0) @binding(5) var<storage, read> z: array<f32>;
@group(0) @binding(6) var<storage, read_write> dz: array<f32>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let k = id.x;
  let i = id.y;
  let hidden = params.hidden;
  if (i >= params.n || k >= hidden) { return; }
  if (z[i * hidden + k] <= 0.0f) { dz[i * hidden + k] = 0.0f; return; }
  var acc = 0.0f;
  for (var o = 0u; o < params.out; o++) { acc = acc + g[i * params.out + o] * w[o * hidden + k]; }
  for (var t = 0u; t < params.rank; t++) { acc = acc + dh[i * params.rank + t] * a[t * hidden + k]; }
  dz[i * hidden + k] = acc;
}
`;

const TILED = { name: "demo-tiled-matmul", code: DEMO_TILED_MATMUL_WGSL };
const EPILOGUE = { name: "demo-linear-epilogue", code: DEMO_LINEAR_EPILOGUE_WGSL };
const CROSS_ENTROPY = { name: "demo-cross-entropy", code: DEMO_CROSS_ENTROPY_WGSL };
const BACKPROP_RELU = { name: "demo-backprop-relu", code: DEMO_BACKPROP_RELU_WGSL };
const ADAM = { name: "lora-adam", code: LORA_ADAM_WGSL };

type H = GpuHandle<Float32Array>;

/** A placeholder operand for a binding a kernel does not read (rank 0). */
const UNUSED = new Float32Array(1);

/** c (m, n) = scale·Σ_k a[i·aRow + k·aK]·b[k·bK + j·bCol] ({@linkcode DEMO_TILED_MATMUL_WGSL}). */
function strided(
  batch: Batch,
  a: H | Float32Array,
  b: H | Float32Array,
  [m, n, k]: [number, number, number],
  [aRow, aK, bK, bCol]: [number, number, number, number],
  scale: number,
): H {
  const [c] = batch.run({
    kernel: TILED,
    params: new Uint32Array([m, n, k, aRow, aK, bK, bCol, f32Word(scale)]),
    inputs: [a, b],
    outputs: [{ shape: [m, n], arrayType: Float32Array }],
    workgroups: [Math.ceil(n / 32), Math.ceil(m / 32)],
  });
  return c as H;
}

/** The float32 parameters of one layer on the GPU during a chunk. */
interface GpuLayer {
  out: number;
  inputs: number;
  w: H;
  bias: H;
  a: H | null;
  b: H | null;
  rank: number;
  scaling: number;
}

function linear(batch: Batch, x: H | Float32Array, n: number, l: GpuLayer, relu: boolean) {
  const h = l.a
    ? strided(batch, x, l.a, [n, l.rank, l.inputs], [l.inputs, 1, 1, l.inputs], 1)
    : null;
  // x·Wᵀ: a = x (n, in), b read as Wᵀ (in, out).
  const xw = strided(batch, x, l.w, [n, l.out, l.inputs], [l.inputs, 1, 1, l.inputs], 1);
  const [y] = batch.run({
    kernel: EPILOGUE,
    params: new Uint32Array([n, l.out, l.rank, f32Word(l.scaling), relu ? 1 : 0, 0, 0, 0]),
    inputs: [xw, l.bias, h ?? UNUSED, l.b ?? UNUSED],
    outputs: [{ shape: [n, l.out], arrayType: Float32Array, aliasOf: 0 }],
    workgroups: [Math.ceil((n * l.out) / 256)],
  });
  return { y: y as H, h };
}

/** The gradients of one step, by parameter name (only the trained ones). */
type StepGradients = Record<string, H>;

/**
 * Enqueues one training step's forward and backward pass and returns the gradients of the
 * trained parameters and each row's loss (no optimizer update).
 */
function enqueueGradients(
  batch: Batch,
  l1: GpuLayer,
  l2: GpuLayer,
  x: Float32Array,
  labels: Uint32Array,
  n: number,
  mode: TrainOptions["mode"],
): { grads: StepGradients; loss: H } {
  const f1 = linear(batch, x, n, l1, true);
  const f2 = linear(batch, f1.y, n, l2, false);
  const [g, loss] = batch.run({
    kernel: CROSS_ENTROPY,
    params: new Uint32Array([n, l2.out, 0, 0]),
    inputs: [f2.y, labels],
    outputs: [
      { shape: [n, l2.out], arrayType: Float32Array },
      { shape: [n], arrayType: Float32Array },
    ],
    workgroups: [Math.ceil(n / 64)],
  }) as [H, H];
  const grads: StepGradients = {};
  const ones = new Float32Array(n).fill(1);
  // Layer 2: a = G (n, out), input z1 (n, hidden).
  const hid = l2.inputs;
  let dh2: H | null = null;
  if (mode === "full") {
    grads["w2"] = strided(batch, g, f1.y, [l2.out, hid, n], [1, l2.out, hid, 1], 1);
    grads["bias2"] = strided(batch, g, ones, [l2.out, 1, n], [1, l2.out, 1, 0], 1);
  } else {
    const r = l2.rank;
    grads["b2"] = strided(batch, g, f2.h!, [l2.out, r, n], [1, l2.out, r, 1], l2.scaling);
    dh2 = strided(batch, g, l2.b!, [n, r, l2.out], [l2.out, 1, r, 1], l2.scaling);
    grads["a2"] = strided(batch, dh2, f1.y, [r, hid, n], [1, r, hid, 1], 1);
  }
  const [dz] = batch.run({
    kernel: BACKPROP_RELU,
    params: new Uint32Array([n, l2.out, hid, mode === "lora" ? l2.rank : 0]),
    inputs: [g, l2.w, dh2 ?? UNUSED, l2.a ?? UNUSED, f1.y],
    outputs: [{ shape: [n, hid], arrayType: Float32Array }],
    workgroups: [Math.ceil(hid / 8), Math.ceil(n / 8)],
  }) as [H];
  // Layer 1: a = dz (n, hidden), input x (n, inputs).
  const inp = l1.inputs;
  if (mode === "full") {
    grads["w1"] = strided(batch, dz, x, [hid, inp, n], [1, hid, inp, 1], 1);
    grads["bias1"] = strided(batch, dz, ones, [hid, 1, n], [1, hid, 1, 0], 1);
  } else {
    const r = l1.rank;
    grads["b1"] = strided(batch, dz, f1.h!, [hid, r, n], [1, hid, r, 1], l1.scaling);
    const dh1 = strided(batch, dz, l1.b!, [n, r, hid], [hid, 1, r, 1], l1.scaling);
    grads["a1"] = strided(batch, dh1, x, [r, inp, n], [1, r, inp, 1], 1);
  }
  return { grads, loss };
}

/** The parameter arrays of a model that a mode trains, by the names `enqueueGradients` uses. */
function trainedArrays(m: DemoMlp, mode: TrainOptions["mode"]): Record<string, Float64Array> {
  if (mode === "full") return { w1: m.l1.w, bias1: m.l1.bias, w2: m.l2.w, bias2: m.l2.bias };
  if (!m.l1.lora || !m.l2.lora) {
    throw new LoraquantTypeError(
      "E_ARG",
      "Cannot train LoRA on the GPU: both layers need an adapter (l1.lora and l2.lora)",
    );
  }
  return { a1: m.l1.lora.a, b1: m.l1.lora.b, a2: m.l2.lora.a, b2: m.l2.lora.b };
}

function upload(batch: Batch, l: DemoLayer, values: Record<string, Float32Array>, k: 1 | 2) {
  const lora = l.lora;
  const resident = (name: string, fallback: Float64Array, shape: number[]) =>
    gpuResident(batch, values[`${name}${k}`] ?? Float32Array.from(fallback), shape);
  const layer: GpuLayer = {
    out: l.out,
    inputs: l.inputs,
    w: resident("w", l.w, [l.out, l.inputs]),
    bias: resident("bias", l.bias, [l.out]),
    a: lora ? resident("a", lora.a, [lora.rank, l.inputs]) : null,
    b: lora ? resident("b", lora.b, [l.out, lora.rank]) : null,
    rank: lora?.rank ?? 0,
    scaling: lora?.scaling ?? 0,
  };
  return layer;
}

/**
 * The checks before anything reaches the GPU: what the WGSL cannot check (a label outside
 * [0, classes) would index out of bounds; a step count of 0 would never end).
 */
function checkTraining(
  m: DemoMlp,
  x: Float64Array,
  labels: ArrayLike<number>,
  options: { epochs: number; learningRate: number; batchSize: number; stepsPerSubmit: number },
): void {
  const what = "train on the GPU";
  for (const name of ["epochs", "batchSize", "stepsPerSubmit"] as const) {
    const v = options[name];
    if (!Number.isSafeInteger(v) || v < (name === "epochs" ? 0 : 1)) {
      throw new LoraquantRangeError(
        "E_RANGE",
        `Cannot ${what}: ${name} must be an integer ≥ ${name === "epochs" ? 0 : 1}, got ${v}`,
      );
    }
  }
  if (!(Number.isFinite(options.learningRate) && options.learningRate >= 0)) {
    throw new LoraquantRangeError(
      "E_RANGE",
      `Cannot ${what}: learningRate must be finite and ≥ 0, got ${options.learningRate}`,
    );
  }
  checkData(what, m, x, labels);
}

/** x holds n × inputs values and every label is an integer in [0, classes). */
function checkData(what: string, m: DemoMlp, x: Float64Array, labels: ArrayLike<number>): void {
  if (x.length !== labels.length * m.l1.inputs) {
    throw new LoraquantTypeError(
      "E_SHAPE",
      `Cannot ${what}: x must hold labels.length × inputs = ${labels.length} × ${m.l1.inputs} ` +
        `values, got ${x.length}`,
    );
  }
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= m.l2.out) {
      throw new LoraquantRangeError(
        "E_RANGE",
        `Cannot ${what}: labels[${i}] must be an integer in [0, ${m.l2.out}), got ${label}`,
      );
    }
  }
}

/** Options of {@linkcode trainMlpGpu}: those of `trainMlp` without mixed precision. */
export type GpuTrainOptions = Omit<TrainOptions, "computeRound" | "lossScale" | "masterRound"> & {
  /** Training steps per GPU submission (one readback each). @default {50} */
  stepsPerSubmit?: number;
};

/**
 * Trains the model in place on the GPU (float32): the same minibatches (mulberry32 shuffle with
 * the same seed), loss and Adam as {@linkcode trainMlp}; the model's arrays receive the float32
 * results.
 *
 * @param gpu The GPU.
 * @param m The model (modified in place; LoRA mode needs adapters on both layers).
 * @param x (n, in) row-major inputs.
 * @param labels n labels in [0, 10).
 * @param options Mode, epochs, learning rate, batch size, seed, progress.
 * @returns The last epoch's mean loss (skippedSteps and flushedFraction are 0: no loss scaling
 * and no format emulation here).
 * @throws {LoraquantRangeError} `E_RANGE` for epochs, batchSize or stepsPerSubmit that are not
 * integers ≥ 1 (epochs ≥ 0), a negative or non-finite learning rate, or a label outside [0, 10).
 * @throws {LoraquantTypeError} `E_SHAPE` when x does not hold n × inputs values; `E_ARG` for LoRA
 * mode without adapters on both layers.
 * @throws {GpuError} when the device fails or is lost (from `Batch.read`).
 */
export async function trainMlpGpu(
  gpu: Gpu,
  m: DemoMlp,
  x: Float64Array,
  labels: ArrayLike<number>,
  options: GpuTrainOptions,
): Promise<TrainResult> {
  const n = labels.length;
  const inputs = m.l1.inputs;
  const batchSize = options.batchSize ?? 64;
  const perSubmit = options.stepsPerSubmit ?? 50;
  checkTraining(m, x, labels, { ...options, batchSize, stepsPerSubmit: perSubmit });
  const random = mulberry32(options.seed ?? 1);
  const trained = trainedArrays(m, options.mode);
  const names = Object.keys(trained);
  // The float32 state carried between submissions: the trained values and Adam's moments.
  let values: Record<string, Float32Array> = {};
  let moments: Record<string, Float32Array> = {};
  for (const name of names) {
    values[name] = Float32Array.from(trained[name]!);
    moments[`m:${name}`] = new Float32Array(trained[name]!.length);
    moments[`v:${name}`] = new Float32Array(trained[name]!.length);
  }
  const x32 = Float32Array.from(x);
  const order = Array.from({ length: n }, (_, i) => i);
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const totalSteps = options.epochs * stepsPerEpoch;
  const lr = options.learningRate;
  let t = 0;
  let finalLoss = NaN;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    shuffle(order, random);
    let total = 0;
    for (let first = 0; first < stepsPerEpoch; first += perSubmit) {
      const batch = gpu.batch();
      const l1 = upload(batch, m.l1, values, 1);
      const l2 = upload(batch, m.l2, values, 2);
      const param: Record<string, H> = {
        w1: l1.w,
        bias1: l1.bias,
        w2: l2.w,
        bias2: l2.bias,
      };
      if (l1.a && l1.b && l2.a && l2.b) {
        Object.assign(param, { a1: l1.a, b1: l1.b, a2: l2.a, b2: l2.b });
      }
      const state: Record<string, H> = {};
      for (const [key, v] of Object.entries(moments)) {
        state[key] = gpuResident(batch, v, [v.length]);
      }
      const losses: H[] = [];
      for (let s = first; s < Math.min(first + perSubmit, stepsPerEpoch); s++) {
        const start = s * batchSize;
        const size = Math.min(batchSize, n - start);
        const xb = new Float32Array(size * inputs);
        const yb = new Uint32Array(size);
        for (let b = 0; b < size; b++) {
          const src = order[start + b]!;
          xb.set(x32.subarray(src * inputs, (src + 1) * inputs), b * inputs);
          yb[b] = labels[src]!;
        }
        const { grads, loss } = enqueueGradients(batch, l1, l2, xb, yb, size, options.mode);
        losses.push(loss);
        t++;
        const hyper = [lr, 0.9, 0.999, 1 - 0.9, 1 - 0.999, 1 - 0.9 ** t, 1 - 0.999 ** t, 1e-8];
        for (const name of names) {
          const p = param[name]!;
          const spec = (i: number) => ({ shape: p.shape, arrayType: Float32Array, aliasOf: i });
          const g = elementwiseGrid(p.length);
          batch.run({
            kernel: ADAM,
            params: new Uint32Array([p.length, g.rowStride, 0, 0, ...hyper.map(f32Word)]),
            inputs: [p, state[`m:${name}`]!, state[`v:${name}`]!, grads[name]!],
            outputs: [spec(0), spec(1), spec(2)],
            workgroups: [g.x, g.y],
          });
        }
      }
      const stateKeys = Object.keys(state);
      const read = await batch.read(
        ...names.map((name) => param[name]!),
        ...stateKeys.map((key) => state[key]!),
        ...losses,
      );
      const next: Record<string, Float32Array> = {};
      names.forEach((name, i) => next[name] = read[i]!);
      values = next;
      const nextMoments: Record<string, Float32Array> = {};
      stateKeys.forEach((key, i) => nextMoments[key] = read[names.length + i]!);
      moments = nextMoments;
      for (const rows of read.slice(names.length + stateKeys.length)) {
        for (const v of rows) total += v;
      }
      options.onProgress?.(t / totalSteps);
    }
    finalLoss = total / n;
  }
  for (const name of names) trained[name]!.set(values[name]!);
  return { finalLoss, skippedSteps: 0, flushedFraction: 0 };
}

/**
 * The gradients of one minibatch computed on the GPU (for tests against mlp.ts's
 * `lossAndGrads`): the forward and backward pass of a step without the update.
 *
 * @param gpu The GPU.
 * @param m The model.
 * @param x (n, in) inputs.
 * @param labels n labels.
 * @param mode Which parameters get gradients.
 * @returns Each row's loss and the gradients by name (`w1`, `bias1`, … or `a1`, `b1`, …).
 * @throws {LoraquantTypeError} `E_SHAPE` when x does not hold n × inputs values; `E_ARG` for LoRA
 * mode without adapters.
 * @throws {LoraquantRangeError} `E_RANGE` for a label outside [0, 10).
 */
export async function gradientsGpu(
  gpu: Gpu,
  m: DemoMlp,
  x: Float64Array,
  labels: ArrayLike<number>,
  mode: TrainOptions["mode"],
): Promise<{ loss: Float32Array; grads: Record<string, Float32Array> }> {
  checkData("compute gradients on the GPU", m, x, labels);
  trainedArrays(m, mode); // LoRA mode: both adapters exist
  const n = labels.length;
  const batch = gpu.batch();
  const l1 = upload(batch, m.l1, {}, 1);
  const l2 = upload(batch, m.l2, {}, 2);
  const { grads, loss } = enqueueGradients(
    batch,
    l1,
    l2,
    Float32Array.from(x),
    Uint32Array.from(labels),
    n,
    mode,
  );
  const names = Object.keys(grads);
  const [lossRows, ...values] = await batch.read(loss, ...names.map((k) => grads[k]!));
  const out: Record<string, Float32Array> = {};
  names.forEach((k, i) => out[k] = values[i]!);
  return { loss: lossRows!, grads: out };
}
