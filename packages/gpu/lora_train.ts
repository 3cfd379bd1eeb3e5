/**
 * One LoRA training step on the GPU, float32 (docs/gpu.md §Training): the forward of one
 * linear layer ({@linkcode loraForward}), the MSE loss's gradient, the gradients of A and B only
 * (W and the bias frozen), and an Adam update of A, B and their moments in place. Several steps
 * can be chained in one batch (each step's A, B and moments are handles the next step takes).
 *
 * With G = ∂L/∂y = 2·(y − target)/N (N = n·out), h = x·Aᵀ:
 * ∂L/∂B = s·Gᵀ·h (out, r), ∂L/∂A = s·(G·B)ᵀ·x (r, in); then Adam (PyTorch's formulas, as
 * `@loraquant/reference/train`'s `Adam`).
 *
 * @module
 */
import { LoraquantRangeError, LoraquantTypeError } from "@loraquant/reference/errors";
import type { Batch, GpuHandle } from "./batch.ts";
import {
  type CheckedMatrix,
  checkGpuMatrix,
  checkLoraLayer,
  elementwiseGrid,
  f32Word,
  type GpuLoraLayer,
  type GpuMatrix,
  gpuResident,
  loraForward,
} from "./lora.ts";

/**
 * Generic strided float32 matmul with a final scale: c (m, n), c_ij = σ·Σ_k a[i·aRow + k·aK] ·
 * b[k·bK + j·bCol], the sum in ascending k from +0, then one multiplication by σ (exact when σ =
 * 1). Serves Gᵀ·h, G·B and dhᵀ·x without transposing anything.
 *
 * Bindings (group 0):
 * - 0 `params`: uniform, 32 bytes: `m, n, k, aRow, aK, bK, bCol: u32`, `scale: f32`;
 * - 1 `a`: storage read, `array<f32>`; 2 `b`: storage read, `array<f32>`;
 * - 3 `c`: storage read_write, `array<f32>`, (m, n) row-major.
 *
 * Workgroup 8 × 8, one output per invocation: id.x the column j, id.y the row i.
 */
export const LORA_STRIDED_MATMUL_WGSL: string = /* wgsl */ `
struct Params { m: u32, n: u32, k: u32, aRow: u32, aK: u32, bK: u32, bCol: u32, scale: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>; // (m, n) row-major

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.y;
  let j = id.x;
  if (i >= params.m || j >= params.n) { return; }
  var sum = 0.0f;
  for (var k = 0u; k < params.k; k++) {
    sum = sum + a[i * params.aRow + k * params.aK] * b[k * params.bK + j * params.bCol];
  }
  c[i * params.n + j] = params.scale * sum;
}
`;

/**
 * The MSE loss's gradient G = ĉ·(y − target), ĉ = fl32(2/N), element-wise.
 *
 * Bindings: 0 `params` (16 bytes: `count, rowStride: u32`, `c: f32`, 1 u32 pad), 1 `y` and
 * 2 `target` storage read, 3 `grad` storage read_write; all (n, out) `array<f32>`. Workgroup
 * 256, element e = id.y · rowStride + id.x.
 */
export const LORA_MSE_GRAD_WGSL: string = /* wgsl */ `
struct Params { count: u32, rowStride: u32, c: f32, pad: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> goal: array<f32>;   // the target
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let e = id.y * params.rowStride + id.x;
  if (e >= params.count) { return; }
  grad[e] = params.c * (y[e] - goal[e]);
}
`;

/**
 * Adam, in place on a parameter and its two moments (eq. (L8)):
 * m ← β₁·m + (1−β₁)·g; v ← β₂·v + ((1−β₂)·g)·g; p ← p − (lr·(m/c₁)) / (sqrt(v/c₂) + ε),
 * with c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ; every hyper-parameter (and 1 − β, c₁, c₂) computed in float64
 * on the CPU and rounded to float32 once. `*`, `+`, `-` are correctly rounded; `/` is within
 * 2.5 ULP and `sqrt` within WGSL's inherited bound (docs/gpu.md eq. (L9)).
 *
 * Bindings (group 0):
 * - 0 `params`: uniform, 48 bytes: `count, rowStride: u32`, 2 u32 pad, then f32 `lr, beta1,
 *   beta2, oneMinusBeta1, oneMinusBeta2, c1, c2, eps`;
 * - 1 `p`, 2 `m`, 3 `v`: storage read_write (in place), `array<f32>`; 4 `g`: storage read.
 *
 * Workgroup 256, element e = id.y · rowStride + id.x.
 */
export const LORA_ADAM_WGSL: string = /* wgsl */ `
struct Params {
  count: u32, rowStride: u32, p0: u32, p1: u32,
  lr: f32, beta1: f32, beta2: f32, oneMinusBeta1: f32,
  oneMinusBeta2: f32, c1: f32, c2: f32, eps: f32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let e = id.y * params.rowStride + id.x;
  if (e >= params.count) { return; }
  let gi = g[e];
  let mi = params.beta1 * m[e] + params.oneMinusBeta1 * gi;
  let vi = params.beta2 * v[e] + (params.oneMinusBeta2 * gi) * gi;
  m[e] = mi;
  v[e] = vi;
  p[e] = p[e] - (params.lr * (mi / params.c1)) / (sqrt(vi / params.c2) + params.eps);
}
`;

const STRIDED = { name: "lora-strided-matmul", code: LORA_STRIDED_MATMUL_WGSL };
const MSE_GRAD = { name: "lora-mse-grad", code: LORA_MSE_GRAD_WGSL };
const ADAM = { name: "lora-adam", code: LORA_ADAM_WGSL };

/** Adam's moments of A and B: arrays (uploaded) or handles of the batch (updated in place). */
export interface LoraAdamMoments {
  /** First moment of A, (r, in). */
  readonly mA: GpuMatrix;
  /** Second moment of A, (r, in). */
  readonly vA: GpuMatrix;
  /** First moment of B, (out, r). */
  readonly mB: GpuMatrix;
  /** Second moment of B, (out, r). */
  readonly vB: GpuMatrix;
}

/** The data of one step: the input and the MSE target. */
export interface LoraTrainData {
  /** x, (n, in). */
  readonly x: GpuMatrix;
  /** The target of y, (n, out). */
  readonly target: GpuMatrix;
}

/** Options of {@linkcode loraTrainStep}: Adam's hyper-parameters and state. */
export interface LoraTrainStepOptions {
  /** The learning rate, finite and ≥ 0. */
  lr: number;
  /** β₁, in [0, 1). @default {0.9} */
  beta1?: number;
  /** β₂, in [0, 1). @default {0.999} */
  beta2?: number;
  /** ε, added to the root of the second moment; finite and ≥ 0. @default {1e-8} */
  eps?: number;
  /** t, the 1-based number of this step (for the bias corrections 1 − βᵗ). @default {1} */
  step?: number;
  /** The moments before this step. @default {zeros (a fresh optimiser)} */
  moments?: LoraAdamMoments;
}

/** The handles one step produces (read any of them, or feed them to the next step). */
export interface LoraTrainStepResult {
  /** y, (n, out), the forward's output before the update. */
  readonly y: GpuHandle<Float32Array>;
  /** h = x·Aᵀ, (n, r), before the update. */
  readonly h: GpuHandle<Float32Array>;
  /** G = ∂L/∂y = ĉ·(y − target), (n, out). */
  readonly dy: GpuHandle<Float32Array>;
  /** ∂L/∂A, (r, in). */
  readonly da: GpuHandle<Float32Array>;
  /** ∂L/∂B, (out, r). */
  readonly db: GpuHandle<Float32Array>;
  /** A after the update (in place when A was a handle). */
  readonly a: GpuHandle<Float32Array>;
  /** B after the update. */
  readonly b: GpuHandle<Float32Array>;
  /** The moments after the update (in place when they were handles). */
  readonly moments: {
    readonly mA: GpuHandle<Float32Array>;
    readonly vA: GpuHandle<Float32Array>;
    readonly mB: GpuHandle<Float32Array>;
    readonly vB: GpuHandle<Float32Array>;
  };
}

function f32Words(values: readonly number[]): number[] {
  return values.map(f32Word);
}

/** c (m, n) = scale · Σ_k a[i·aRow + k·aK]·b[k·bK + j·bCol]. */
function strided(
  batch: Batch,
  a: GpuHandle<Float32Array> | Float32Array,
  b: GpuHandle<Float32Array> | Float32Array,
  shape: { m: number; n: number; k: number },
  strides: { aRow: number; aK: number; bK: number; bCol: number },
  scale: number,
): GpuHandle<Float32Array> {
  const { m, n, k } = shape;
  const [c] = batch.run({
    kernel: STRIDED,
    params: new Uint32Array([
      m,
      n,
      k,
      strides.aRow,
      strides.aK,
      strides.bK,
      strides.bCol,
      ...f32Words([scale]),
    ]),
    inputs: [a, b],
    outputs: [{ shape: [m, n], arrayType: Float32Array }],
    workgroups: [Math.ceil(n / 8), Math.ceil(m / 8)],
  });
  return c as GpuHandle<Float32Array>;
}

function checkHyper(what: string, name: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new LoraquantTypeError(
      "E_ARG",
      `Cannot ${what}: ${name} must be a number, got ${typeof value}`,
    );
  }
  return value;
}

/**
 * One training step of a LoRA linear layer with MSE loss, float32, enqueued on a batch
 * (docs/gpu.md §Training, eq. (L8)–(L10)):
 *
 * 1. the fused forward: y, h = x·Aᵀ ({@linkcode loraForward});
 * 2. G = ĉ·(y − target), ĉ = fl32(2/N), N = n·out (the gradient of L = Σ(y − target)²/N);
 * 3. ∂L/∂B = ŝ·(Σ_i G_ij·h_iq) (out, r) and dh = G·B (n, r), then ∂L/∂A = ŝ·(Σ_i dh_iq·x_ip)
 *    (r, in) — every sum in ascending index from +0, then one multiplication by ŝ;
 * 4. Adam on A and on B, in place with their moments (PyTorch's formulas; c₁ = 1 − β₁ᵗ,
 *    c₂ = 1 − β₂ᵗ computed in float64, every hyper-parameter rounded to float32 once).
 *
 * W and the bias are frozen. Bounds against `@loraquant/reference/train` (its
 * `loraLinearBackward` and `Adam`): eq. (L9) and (L10) of docs/gpu.md.
 *
 * @param batch The batch to enqueue on.
 * @param data x (n, in) and the target (n, out).
 * @param layer w (out, in), a (r, in), b (out, r), alpha, rslora, bias. A and B given as handles
 * are updated in place; arrays are copied to the GPU first (never modified).
 * @param options lr, beta1, beta2, eps, step, moments.
 * @returns Handles of y, h, G, the gradients, the updated A and B, and the moments.
 * @throws {LoraquantTypeError} `E_ARG` for a wrong operand or hyper-parameter type or a
 * non-integer step; `E_SHAPE` when the shapes disagree.
 * @throws {LoraquantRangeError} `E_RANGE` for a bad rank or alpha, lr or eps negative or not
 * finite, a beta outside [0, 1), or step < 1.
 * @throws {GpuError} `E_STATE` after `read()`; `E_DEVICE_LOST` when the device is lost.
 *
 * @example The first Adam step moves each parameter by about lr (skipped without an adapter)
 * ```ts
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { loraTrainStep } from "@loraquant/gpu/lora-train";
 * import { assertAlmostEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const batch = gpu.batch();
 *   const m = (rows: number, cols: number, v: number[]) => ({ rows, cols, data: new Float32Array(v) });
 *   const step = loraTrainStep(
 *     batch,
 *     { x: m(1, 2, [3, 4]), target: m(1, 1, [0]) },
 *     { w: m(1, 2, [1, 1]), a: m(1, 2, [1, 0]), b: m(1, 1, [2]), alpha: 1 },
 *     { lr: 0.1 },
 *   );
 *   const [b] = await batch.read(step.b);
 *   assertAlmostEquals(b[0]!, 1.9, 1e-6); // y = 13 > 0: B moves down by lr
 *   gpu.destroy();
 * }
 * ```
 */
export function loraTrainStep(
  batch: Batch,
  data: LoraTrainData,
  layer: GpuLoraLayer,
  options: LoraTrainStepOptions,
): LoraTrainStepResult {
  const what = "run a LoRA training step";
  if (typeof data !== "object" || data === null) {
    throw new LoraquantTypeError("E_ARG", `Cannot ${what}: data must be { x, target }`);
  }
  if (typeof options !== "object" || options === null) {
    throw new LoraquantTypeError("E_ARG", `Cannot ${what}: options must be { lr, … }`);
  }
  // E_ARG: every type first.
  const x = checkGpuMatrix(what, "x", data.x);
  const target = checkGpuMatrix(what, "target", data.target);
  const lr = checkHyper(what, "lr", options.lr);
  const beta1 = checkHyper(what, "beta1", options.beta1 ?? 0.9);
  const beta2 = checkHyper(what, "beta2", options.beta2 ?? 0.999);
  const eps = checkHyper(what, "eps", options.eps ?? 1e-8);
  const step = options.step ?? 1;
  if (!Number.isSafeInteger(step)) {
    throw new LoraquantTypeError("E_ARG", `Cannot ${what}: step must be an integer, got ${step}`);
  }
  const moments = options.moments;
  const given: Record<string, CheckedMatrix> = {};
  if (moments !== undefined) {
    for (const name of ["mA", "vA", "mB", "vB"] as const) {
      given[name] = checkGpuMatrix(what, name, moments[name]);
    }
  }
  // The layer's own E_ARG, E_SHAPE; then ours; then every E_RANGE.
  const l = checkLoraLayer(what, layer, {
    xCols: x.cols,
    beforeRange: ({ out, inputs, r }) => {
      if (target.rows !== x.rows || target.cols !== out) {
        throw new LoraquantTypeError(
          "E_SHAPE",
          `Cannot ${what}: target must be n×out = ${x.rows}×${out}, got ${target.rows}×${target.cols}`,
        );
      }
      for (const [name, m] of Object.entries(given)) {
        const [rows, cols] = name.endsWith("A") ? [r, inputs] : [out, r];
        if (m.rows !== rows || m.cols !== cols) {
          throw new LoraquantTypeError(
            "E_SHAPE",
            `Cannot ${what}: ${name} must be ${rows}×${cols}, got ${m.rows}×${m.cols}`,
          );
        }
      }
    },
  });
  for (const [name, value] of [["lr", lr], ["eps", eps]] as const) {
    if (!(Number.isFinite(value) && value >= 0)) {
      throw new LoraquantRangeError(
        "E_RANGE",
        `Cannot ${what}: ${name} must be finite and ≥ 0, got ${value}`,
      );
    }
  }
  for (const [name, value] of [["beta1", beta1], ["beta2", beta2]] as const) {
    if (!(value >= 0 && value < 1)) {
      throw new LoraquantRangeError(
        "E_RANGE",
        `Cannot ${what}: ${name} must lie in [0, 1), got ${value}`,
      );
    }
  }
  if (step < 1) {
    throw new LoraquantRangeError("E_RANGE", `Cannot ${what}: step must be ≥ 1, got ${step}`);
  }

  const { out, inputs, r, s } = l;
  const n = x.rows;
  // Parameters and moments that Adam updates in place must be handles.
  const a = gpuResident(batch, l.a.input, [r, inputs]);
  const b = gpuResident(batch, l.b.input, [out, r]);
  const state = (name: string, rows: number, cols: number) =>
    gpuResident(batch, given[name]?.input ?? new Float32Array(rows * cols), [rows, cols]);
  const mA = state("mA", r, inputs);
  const vA = state("vA", r, inputs);
  const mB = state("mB", out, r);
  const vB = state("vB", out, r);
  // 1. Forward (x may be an array: upload it once for the three kernels that read it).
  const xs = gpuResident(batch, x.input, [n, inputs]);
  const { y, h } = loraForward(batch, xs, { ...layer, a, b });
  // 2. G = ĉ·(y − target).
  const count = n * out;
  const gr = elementwiseGrid(count);
  const [dy] = batch.run({
    kernel: MSE_GRAD,
    params: new Uint32Array([count, gr.rowStride, ...f32Words([count === 0 ? 0 : 2 / count]), 0]),
    inputs: [y, target.input],
    outputs: [{ shape: [n, out], arrayType: Float32Array }],
    workgroups: [gr.x, gr.y],
  });
  const g = dy as GpuHandle<Float32Array>;
  // 3. ∂L/∂B (out, r) = ŝ·Gᵀ·h: a = G read as (out, n), b = h (n, r).
  const db = strided(batch, g, h, { m: out, n: r, k: n }, {
    aRow: 1,
    aK: out,
    bK: r,
    bCol: 1,
  }, s);
  // dh (n, r) = G·B: a = G (n, out), b = B (out, r).
  const dh = strided(batch, g, b, { m: n, n: r, k: out }, { aRow: out, aK: 1, bK: r, bCol: 1 }, 1);
  // ∂L/∂A (r, in) = ŝ·dhᵀ·x: a = dh read as (r, n), b = x (n, in).
  const da = strided(batch, dh, xs, { m: r, n: inputs, k: n }, {
    aRow: 1,
    aK: r,
    bK: inputs,
    bCol: 1,
  }, s);
  // 4. Adam, in place.
  const hyper = f32Words([
    lr,
    beta1,
    beta2,
    1 - beta1,
    1 - beta2,
    1 - beta1 ** step,
    1 - beta2 ** step,
    eps,
  ]);
  const adam = (
    p: GpuHandle<Float32Array>,
    m: GpuHandle<Float32Array>,
    v: GpuHandle<Float32Array>,
    grad: GpuHandle<Float32Array>,
  ) => {
    const size = p.length;
    const ag = elementwiseGrid(size);
    const spec = (i: number) => ({ shape: p.shape, arrayType: Float32Array, aliasOf: i });
    return batch.run({
      kernel: ADAM,
      params: new Uint32Array([size, ag.rowStride, 0, 0, ...hyper]),
      inputs: [p, m, v, grad],
      outputs: [spec(0), spec(1), spec(2)],
      workgroups: [ag.x, ag.y],
    }) as GpuHandle<Float32Array>[];
  };
  const [a2, mA2, vA2] = adam(a, mA, vA, da);
  const [b2, mB2, vB2] = adam(b, mB, vB, db);
  return {
    y,
    h,
    dy: g,
    da,
    db,
    a: a2!,
    b: b2!,
    moments: { mA: mA2!, vA: vA2!, mB: mB2!, vB: vB2! },
  };
}
