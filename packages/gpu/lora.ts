/**
 * LoRA on the GPU (docs/gpu.md): the fused forward `y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ (+ bias)` that
 * reads W once, the same forward as four separate dispatches (for comparison), and merging or
 * unmerging an adapter into a weight in place, `W ← W ± s·B·A`. All in float32 on top of
 * `Batch.run()`; every operation is enqueued on a {@linkcode Batch} and read back with the rest.
 *
 * Shapes follow PEFT: x (n, in), W (out, in), A (r, in), B (out, r), bias (out), all row-major.
 * The scaling s = alpha/r (or alpha/√r with rsLoRA) is computed on the CPU in float64 and rounded
 * to float32 once (ŝ).
 *
 * Error bounds (docs/gpu.md eq. (L3), (L6)), u = 2⁻²⁴, γ_k = k·u/(1 − k·u), without
 * underflow: forward |ŷ − y| ≤ γ_(in+r+3)·M, M = Σ|x||w| + |s|·Σ|x||a||b| + |bias|
 * (γ_(in+r+2) when s is a float32 value); merge |ŵ − w'| ≤ γ_(r+3)·(|w| + |s|·Σ|b||a|).
 *
 * @module
 */
import { LoraquantRangeError, LoraquantTypeError } from "@loraquant/reference/errors";
import type { Batch, GpuArray, GpuHandle } from "./batch.ts";
import type { Float32Matrix } from "./matmul.ts";

/**
 * A float32 matrix operand: an array to upload (`{ rows, cols, data }`), or a float32 result of
 * an earlier operation of the same batch whose `shape` is `[rows, cols]`.
 */
export type GpuMatrix = Float32Matrix | GpuHandle<Float32Array>;

/** A float32 vector operand: an array to upload, or a float32 result of the same batch. */
export type GpuVector = Float32Array | GpuHandle<Float32Array>;

/** A LoRA linear layer on the GPU: W frozen, the adapter A, B and its scaling. */
export interface GpuLoraLayer {
  /** The weight W, (out, in) row-major. */
  readonly w: GpuMatrix;
  /** A, (r, in) row-major. */
  readonly a: GpuMatrix;
  /** B, (out, r) row-major. */
  readonly b: GpuMatrix;
  /** PEFT's `lora_alpha`. */
  readonly alpha: number;
  /** rsLoRA's scaling alpha/√r instead of alpha/r. @default {false} */
  readonly rslora?: boolean;
  /** Optional bias, length out. */
  readonly bias?: GpuVector;
}

/** What {@linkcode loraForward} and {@linkcode loraForwardUnfused} return. */
export interface LoraForwardResult {
  /** y, (n, out) row-major. */
  readonly y: GpuHandle<Float32Array>;
  /** h = x·Aᵀ, (n, r) row-major (the cache a backward pass needs). */
  readonly h: GpuHandle<Float32Array>;
}

/** Outputs per invocation of the NT kernels: 4 rows × 8 columns. */
export const LORA_TILE = { rows: 4, cols: 8 } as const;
/** Invocations per workgroup of the NT kernels (along x, the output columns). */
export const LORA_WORKGROUP = 64;
/** Invocations per workgroup of the element-wise kernels. */
export const LORA_ELEMENTWISE_WORKGROUP = 256;

// ---------------------------------------------------------------------------------------------
// WGSL

const ROWS = [0, 1, 2, 3];
const COLS = [0, 1, 2, 3, 4, 5, 6, 7];
const LANES = [0, 1, 2, 3];

/**
 * Writes an NT kernel c (m, n) = a (m, k) · b (n, k)ᵀ, optionally fused with the LoRA up
 * projection. Each invocation owns rows 4·id.y … +3 and columns 8·id.x … +7 and keeps, per
 * output, a `vec4<f32>` whose lane l sums the products of p ≡ l (mod 4) in ascending p.
 */
function ntKernel(fused: boolean): string {
  const head = fused
    ? [
      "struct Params { m: u32, n: u32, k: u32, r: u32, s: f32, hasBias: u32, pad0: u32, pad1: u32 }",
      "@group(0) @binding(0) var<uniform> params: Params;",
      "@group(0) @binding(1) var<storage, read> a: array<f32>;       // x (m = n_rows, k = in)",
      "@group(0) @binding(2) var<storage, read> b: array<f32>;       // W (n = out, k = in)",
      "@group(0) @binding(3) var<storage, read> t: array<f32>;       // h = x·Aᵀ (m, r)",
      "@group(0) @binding(4) var<storage, read> up: array<f32>;      // B (n = out, r)",
      "@group(0) @binding(5) var<storage, read> bias: array<f32>;    // (n) or 1 unused word",
      "@group(0) @binding(6) var<storage, read_write> c: array<f32>; // y (m, n)",
    ]
    : [
      "struct Params { m: u32, n: u32, k: u32, pad: u32 }",
      "@group(0) @binding(0) var<uniform> params: Params;",
      "@group(0) @binding(1) var<storage, read> a: array<f32>;       // (m, k) row-major",
      "@group(0) @binding(2) var<storage, read> b: array<f32>;       // (n, k) row-major",
      "@group(0) @binding(3) var<storage, read_write> c: array<f32>; // (m, n) row-major",
    ];
  const chunk = (masked: boolean) => [
    ...ROWS.map((i) =>
      `    let a${i} = vec4<f32>(${
        LANES.map((e) =>
          masked
            ? `select(0.0, a[ra${i} + min(p + ${e}u, k - 1u)], p + ${e}u < k)`
            : `a[ra${i} + p + ${e}u]`
        ).join(", ")
      });`
    ),
    ...COLS.map((j) =>
      `    let b${j} = vec4<f32>(${
        LANES.map((e) =>
          masked
            ? `select(0.0, b[rb${j} + min(p + ${e}u, k - 1u)], p + ${e}u < k)`
            : `b[rb${j} + p + ${e}u]`
        ).join(", ")
      });`
    ),
    ...ROWS.flatMap((i) => COLS.map((j) => `    acc${i}_${j} = acc${i}_${j} + a${i} * b${j};`)),
  ];
  const lines = [
    ...head,
    "",
    `@compute @workgroup_size(${LORA_WORKGROUP})`,
    "fn main(@builtin(global_invocation_id) id: vec3<u32>) {",
    "  let m = params.m;",
    "  let n = params.n;",
    "  let k = params.k;",
    "  let row0 = id.y * 4u;",
    "  let col0 = id.x * 8u;",
    "  if (row0 >= m || col0 >= n) { return; }",
    "  // Reads past the edge are clamped to the last row (valid data, never stored).",
    ...ROWS.map((i) => `  let ra${i} = min(row0 + ${i}u, m - 1u) * k;`),
    ...COLS.map((j) => `  let rb${j} = min(col0 + ${j}u, n - 1u) * k;`),
    ...(fused
      ? [
        "  // The bias (or +0) starts lane 0 of every sum of its column.",
        ...COLS.map((j) =>
          `  let bias${j} = select(0.0, bias[min(col0 + ${j}u, n - 1u)], params.hasBias != 0u);`
        ),
        ...ROWS.flatMap((i) =>
          COLS.map((j) => `  var acc${i}_${j} = vec4<f32>(bias${j}, 0.0, 0.0, 0.0);`)
        ),
      ]
      : ROWS.flatMap((i) => COLS.map((j) => `  var acc${i}_${j} = vec4<f32>();`))),
    "  let whole = k & ~3u; // p < whole: full chunks of 4",
    "  var p = 0u;",
    "  for (; p < whole; p += 4u) {",
    ...chunk(false),
    "  }",
    "  if (p < k) { // the last, partial chunk: missing terms are 0·0 = +0, adding them is exact",
    ...chunk(true),
    "  }",
    ...(fused ? ["  let r = params.r;", "  let s = params.s;"] : []),
    ...ROWS.flatMap((i) =>
      COLS.map((j) => {
        const sum = `(acc${i}_${j}.x + acc${i}_${j}.y) + (acc${i}_${j}.z + acc${i}_${j}.w)`;
        const where = `(row0 + ${i}u) * n + col0 + ${j}u`;
        const guard = `row0 + ${i}u < m && col0 + ${j}u < n`;
        if (!fused) return `  if (${guard}) { c[${where}] = ${sum}; }`;
        return [
          `  if (${guard}) {`,
          `    let tr = (row0 + ${i}u) * r;`,
          `    let br = (col0 + ${j}u) * r;`,
          "    var g = 0.0f;",
          "    for (var q = 0u; q < r; q++) { g = g + t[tr + q] * up[br + q]; }",
          `    c[${where}] = (${sum}) + s * g;`,
          "  }",
        ].join("\n");
      })
    ),
    "}",
  ];
  return lines.join("\n") + "\n";
}

/**
 * NT matmul c (m, n) = a (m, k) · b (n, k)ᵀ in float32: x·Wᵀ, x·Aᵀ and h·Bᵀ of LoRA.
 *
 * Bindings (group 0):
 * - 0 `params`: uniform, 16 bytes: `m, n, k: u32`, one u32 of padding;
 * - 1 `a`: storage read, `array<f32>`, (m, k) row-major;
 * - 2 `b`: storage read, `array<f32>`, (n, k) row-major;
 * - 3 `c`: storage read_write, `array<f32>`, (m, n) row-major.
 *
 * Workgroup 64 × 1; invocation (gx, gy) owns rows 4·gy … 4·gy + 3 and columns 8·gx … 8·gx + 7
 * (a workgroup covers 4 rows × 512 columns; 4 × 8 measured 1.5–1.9× faster than 4 × 4 on llvmpipe).
 * Summation order (eq. (L1)): each output keeps four lanes, lane l summing a_ip·b_jp for
 * p ≡ l (mod 4) in ascending p from +0 (a final partial chunk adds exact zeros), then
 * c_ij = (lane0 + lane1) + (lane2 + lane3); every `*` and `+` rounded to nearest-even in float32
 * (a fused multiply-add allowed). k = 0 gives +0.
 */
export const LORA_MATMUL_NT_WGSL: string = ntKernel(false);

/**
 * Fused LoRA forward: y = x·Wᵀ + ŝ·(h·Bᵀ) (+ bias), given h = x·Aᵀ, reading W once.
 *
 * Bindings (group 0):
 * - 0 `params`: uniform, 32 bytes: `m = n_rows, n = out, k = in, r: u32`, `s: f32`,
 *   `hasBias: u32`, two u32 of padding;
 * - 1 `a`: x, (n_rows, in); 2 `b`: W, (out, in); 3 `t`: h, (n_rows, r); 4 `up`: B, (out, r);
 *   5 `bias`: (out), or one unused word when `hasBias` is 0 — all storage read, `array<f32>`;
 * - 6 `c`: y, storage read_write, (n_rows, out).
 *
 * Grid and x·Wᵀ sum as {@linkcode LORA_MATMUL_NT_WGSL}, except that lane 0 of each sum starts
 * at bias_j (or +0). Then, per output, g = Σ_q h_iq·b_jq summed in ascending q from +0, and
 * y_ij = ((lane0 + lane1) + (lane2 + lane3)) + ŝ·g (eq. (L2)).
 */
export const LORA_FUSED_FORWARD_WGSL: string = ntKernel(true);

/**
 * The last step of the unfused forward: y = (xw + bias) + ŝ·g, element-wise.
 *
 * Bindings (group 0):
 * - 0 `params`: uniform, 32 bytes: `count, cols, rowStride, hasBias: u32`, `s: f32`, 3 u32 pad;
 * - 1 `xw`: (n, out); 2 `g`: (n, out); 3 `bias`: (out) or one unused word — storage read;
 * - 4 `y`: storage read_write, (n, out).
 *
 * Workgroup 256, a 2-D grid: element e = id.y · rowStride + id.x.
 */
export const LORA_SCALED_ADD_WGSL: string = /* wgsl */ `
struct Params { count: u32, cols: u32, rowStride: u32, hasBias: u32, s: f32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> xw: array<f32>;      // (n, out)
@group(0) @binding(2) var<storage, read> g: array<f32>;       // (n, out)
@group(0) @binding(3) var<storage, read> bias: array<f32>;    // (out) or 1 unused word
@group(0) @binding(4) var<storage, read_write> y: array<f32>; // (n, out)

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let e = id.y * params.rowStride + id.x;
  if (e >= params.count) { return; }
  var v = xw[e];
  if (params.hasBias != 0u) { v = v + bias[e % params.cols]; }
  y[e] = v + params.s * g[e];
}
`;

/**
 * Merge (or unmerge) in place: w_ij ← w_ij + σ·(Σ_q b_iq·a_qj), σ = ±ŝ.
 *
 * Bindings (group 0):
 * - 0 `params`: uniform, 32 bytes: `out, in, r, rowStride: u32`, `sigma: f32`, 3 u32 pad;
 * - 1 `w`: storage read_write (in place), (out, in);
 * - 2 `a`: storage read, (r, in); 3 `b`: storage read, (out, r).
 *
 * Workgroup 256, a 2-D grid: element e = id.y · rowStride + id.x, e = i·in + j. The sum over q
 * is in ascending q from +0; then d' = σ·d and w + d' (eq. (L5)). Unmerging uses σ = −ŝ, so it
 * subtracts exactly the d' merging added.
 */
export const LORA_MERGE_WGSL: string = /* wgsl */ `
struct Params { rows: u32, cols: u32, r: u32, rowStride: u32, sigma: f32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>; // (out, in), in place
@group(0) @binding(2) var<storage, read> a: array<f32>;       // (r, in)
@group(0) @binding(3) var<storage, read> b: array<f32>;       // (out, r)

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let e = id.y * params.rowStride + id.x;
  if (e >= params.rows * params.cols) { return; }
  let i = e / params.cols;
  let j = e % params.cols;
  var d = 0.0f;
  for (var q = 0u; q < params.r; q++) { d = d + b[i * params.r + q] * a[q * params.cols + j]; }
  w[e] = w[e] + params.sigma * d;
}
`;

/**
 * Copies an array into a fresh buffer, so that an uploaded array becomes a handle that kernels
 * can update in place.
 *
 * Bindings: 0 `params` (16 bytes: `count, rowStride: u32`, 2 u32 pad), 1 `src` storage read,
 * 2 `dst` storage read_write; both `array<u32>` (bit copies: NaN payloads kept). Workgroup 256,
 * element e = id.y · rowStride + id.x.
 */
export const LORA_COPY_WGSL: string = /* wgsl */ `
struct Params { count: u32, rowStride: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let e = id.y * params.rowStride + id.x;
  if (e >= params.count) { return; }
  dst[e] = src[e];
}
`;

const NT = { name: "lora-matmul-nt", code: LORA_MATMUL_NT_WGSL };
const FUSED = { name: "lora-fused-forward", code: LORA_FUSED_FORWARD_WGSL };
const SCALED_ADD = { name: "lora-scaled-add", code: LORA_SCALED_ADD_WGSL };
const MERGE = { name: "lora-merge", code: LORA_MERGE_WGSL };
const COPY = { name: "lora-copy", code: LORA_COPY_WGSL };

// ---------------------------------------------------------------------------------------------
// Argument checks (E_ARG → E_SHAPE → E_RANGE, before anything is enqueued)

/** A checked matrix operand: its size and what `run()` binds. */
export interface CheckedMatrix {
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** The array to upload or the handle to bind. */
  readonly input: GpuArray | GpuHandle<Float32Array>;
}

function isHandle(x: unknown): x is GpuHandle<Float32Array> {
  return typeof x === "object" && x !== null && "arrayType" in x && "shape" in x;
}

/**
 * Checks a {@linkcode GpuMatrix} operand's type (E_ARG): `{ rows, cols, data }` with
 * non-negative integer sizes and `Float32Array` data holding rows·cols values (else E_SHAPE), or a
 * float32 handle whose shape is `[rows, cols]`.
 *
 * @param what The operation, for messages (`"run the LoRA forward"`).
 * @param name The argument's name (`"x"`).
 * @param value The operand.
 * @returns Its rows, columns and bindable input.
 * @throws {LoraquantTypeError} `E_ARG` for a wrong type; `E_SHAPE` when data.length ≠ rows·cols.
 *
 * @example
 * ```ts
 * import { checkGpuMatrix } from "@loraquant/gpu/lora";
 * import { assertEquals } from "@std/assert";
 *
 * const m = checkGpuMatrix("test", "x", { rows: 1, cols: 2, data: new Float32Array(2) });
 * assertEquals([m.rows, m.cols], [1, 2]);
 * ```
 */
export function checkGpuMatrix(what: string, name: string, value: unknown): CheckedMatrix {
  if (isHandle(value)) {
    const shape = value.shape;
    if (value.arrayType !== Float32Array || shape.length !== 2) {
      throw new LoraquantTypeError(
        "E_ARG",
        `Cannot ${what}: ${name} must be a float32 matrix handle of shape [rows, cols], got ${value.arrayType.name} [${shape}]`,
      );
    }
    return { rows: shape[0]!, cols: shape[1]!, input: value };
  }
  const m = value as Partial<Float32Matrix> | null;
  if (typeof m !== "object" || m === null || !(m.data instanceof Float32Array)) {
    throw new LoraquantTypeError(
      "E_ARG",
      `Cannot ${what}: ${name} must be a { rows, cols, data: Float32Array } matrix or a float32 handle`,
    );
  }
  for (const key of ["rows", "cols"] as const) {
    const v = m[key];
    if (!Number.isSafeInteger(v) || (v as number) < 0) {
      throw new LoraquantTypeError(
        "E_ARG",
        `Cannot ${what}: ${name}.${key} must be a non-negative integer, got ${v}`,
      );
    }
  }
  const rows = m.rows as number;
  const cols = m.cols as number;
  if (m.data.length !== rows * cols) {
    throw new LoraquantTypeError(
      "E_SHAPE",
      `Cannot ${what}: ${name} is ${rows}×${cols} but its data holds ${m.data.length} values`,
    );
  }
  return { rows, cols, input: m.data };
}

/**
 * Checks a {@linkcode GpuVector} operand's type.
 *
 * @param what The operation, for messages.
 * @param name The argument's name.
 * @param value The operand.
 * @returns Its length and bindable input.
 * @throws {LoraquantTypeError} `E_ARG` unless it is a `Float32Array` or a float32 handle.
 *
 * @example
 * ```ts
 * import { checkGpuVector } from "@loraquant/gpu/lora";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(checkGpuVector("test", "bias", new Float32Array(3)).length, 3);
 * ```
 */
export function checkGpuVector(what: string, name: string, value: unknown): {
  length: number;
  input: GpuArray | GpuHandle<Float32Array>;
} {
  if (value instanceof Float32Array) return { length: value.length, input: value };
  if (isHandle(value) && value.arrayType === Float32Array) {
    return { length: value.length, input: value };
  }
  throw new LoraquantTypeError(
    "E_ARG",
    `Cannot ${what}: ${name} must be a Float32Array or a float32 handle`,
  );
}

function shapeError(what: string, message: string): LoraquantTypeError {
  return new LoraquantTypeError("E_SHAPE", `Cannot ${what}: ${message}`);
}

/** A LoRA layer's checked operands (see {@linkcode checkLoraLayer}). */
export interface CheckedLoraLayer {
  /** Output features (W's rows). */
  readonly out: number;
  /** Input features (W's columns). */
  readonly inputs: number;
  /** The rank r (A's rows). */
  readonly r: number;
  /** W. */
  readonly w: CheckedMatrix;
  /** A. */
  readonly a: CheckedMatrix;
  /** B. */
  readonly b: CheckedMatrix;
  /** The bias, when given. */
  readonly bias: { length: number; input: GpuArray | GpuHandle<Float32Array> } | undefined;
  /** ŝ, the scaling rounded once to float32. */
  readonly s: number;
}

/**
 * Checks a LoRA layer in the protocol's order: types (E_ARG: operands, alpha a number, rslora a
 * boolean, bias), then shapes against W (out, in) and x's columns (E_SHAPE), then the caller's
 * own shape checks (`beforeRange`), then domains (E_RANGE): 1 ≤ r ≤ min(out, in), alpha finite,
 * ŝ finite.
 *
 * @param what The operation, for messages.
 * @param layer The layer: w (out, in), a (r, in), b (out, r), alpha, rslora, bias (out).
 * @param options `xCols`: x's columns, checked against in; `beforeRange`: more shape checks, run
 * after the layer's and before any range check.
 * @returns The checked operands and ŝ.
 * @throws {LoraquantTypeError} `E_ARG`, then `E_SHAPE`.
 * @throws {LoraquantRangeError} `E_RANGE`.
 *
 * @example
 * ```ts
 * import { checkLoraLayer } from "@loraquant/gpu/lora";
 * import { assertEquals } from "@std/assert";
 *
 * const m = (rows: number, cols: number) => ({ rows, cols, data: new Float32Array(rows * cols) });
 * const l = checkLoraLayer("test", { w: m(3, 4), a: m(2, 4), b: m(3, 2), alpha: 3 });
 * assertEquals([l.out, l.inputs, l.r, l.s], [3, 4, 2, 1.5]);
 * ```
 */
export function checkLoraLayer(
  what: string,
  layer: GpuLoraLayer,
  options: {
    xCols?: number;
    beforeRange?: (layer: { out: number; inputs: number; r: number }) => void;
  } = {},
): CheckedLoraLayer {
  if (typeof layer !== "object" || layer === null) {
    throw new LoraquantTypeError("E_ARG", `Cannot ${what}: the layer must be an object`);
  }
  const w = checkGpuMatrix(what, "w", layer.w);
  const a = checkGpuMatrix(what, "a", layer.a);
  const b = checkGpuMatrix(what, "b", layer.b);
  if (typeof layer.alpha !== "number") {
    throw new LoraquantTypeError(
      "E_ARG",
      `Cannot ${what}: alpha must be a number, got ${typeof layer.alpha}`,
    );
  }
  const rslora = layer.rslora ?? false;
  if (typeof rslora !== "boolean") {
    throw new LoraquantTypeError("E_ARG", `Cannot ${what}: rslora must be a boolean`);
  }
  const bias = layer.bias === undefined ? undefined : checkGpuVector(what, "bias", layer.bias);
  const out = w.rows;
  const inputs = w.cols;
  const r = a.rows;
  if (a.cols !== inputs) {
    throw shapeError(what, `a must be r×in with in = ${inputs}, got ${a.rows}×${a.cols}`);
  }
  if (b.rows !== out || b.cols !== r) {
    throw shapeError(what, `b must be out×r = ${out}×${r}, got ${b.rows}×${b.cols}`);
  }
  if (options.xCols !== undefined && options.xCols !== inputs) {
    throw shapeError(what, `x must be n×in with in = ${inputs}, got ${options.xCols} columns`);
  }
  if (bias !== undefined && bias.length !== out) {
    throw shapeError(what, `bias must have out = ${out} values, got ${bias.length}`);
  }
  options.beforeRange?.({ out, inputs, r });
  if (r < 1 || r > Math.min(out, inputs)) {
    throw new LoraquantRangeError(
      "E_RANGE",
      `Cannot ${what}: the rank must satisfy 1 ≤ r ≤ min(out, in) = ${
        Math.min(out, inputs)
      }, got ${r}`,
    );
  }
  if (!Number.isFinite(layer.alpha)) {
    throw new LoraquantRangeError(
      "E_RANGE",
      `Cannot ${what}: alpha must be finite, got ${layer.alpha}`,
    );
  }
  const s = Math.fround(rslora ? layer.alpha / Math.sqrt(r) : layer.alpha / r);
  if (!Number.isFinite(s)) {
    throw new LoraquantRangeError(
      "E_RANGE",
      `Cannot ${what}: the scaling ${layer.alpha}/${rslora ? "√" : ""}${r} overflows float32`,
    );
  }
  return { out, inputs, r, w, a, b, bias, s };
}

/**
 * ŝ: the LoRA scaling alpha/r (or alpha/√r with rsLoRA) computed in float64 (one division of the
 * correctly rounded square root, as `@loraquant/reference/lora`'s `loraScaling`) and rounded to
 * float32 once; the value every kernel of this module multiplies by.
 *
 * @param rank r, an integer ≥ 1.
 * @param options `alpha` (@default rank) and `rslora` (@default false).
 * @returns ŝ = fl32(s).
 * @throws {LoraquantTypeError} `E_ARG` when rank is not an integer.
 * @throws {LoraquantRangeError} `E_RANGE` when rank < 1 or alpha is not finite.
 *
 * @example
 * ```ts
 * import { loraScalingF32 } from "@loraquant/gpu/lora";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(loraScalingF32(8, { alpha: 16 }), 2);
 * assertEquals(loraScalingF32(3, { alpha: 1 }), Math.fround(1 / 3));
 * ```
 */
export function loraScalingF32(
  rank: number,
  options: { alpha?: number; rslora?: boolean } = {},
): number {
  if (!Number.isInteger(rank)) {
    throw new LoraquantTypeError("E_ARG", `rank must be an integer, got ${rank}`);
  }
  if (rank < 1) throw new LoraquantRangeError("E_RANGE", `rank must be ≥ 1, got ${rank}`);
  const alpha = options.alpha ?? rank;
  if (!Number.isFinite(alpha)) {
    throw new LoraquantRangeError("E_RANGE", `alpha must be finite, got ${alpha}`);
  }
  return Math.fround(options.rslora ? alpha / Math.sqrt(rank) : alpha / rank);
}

// ---------------------------------------------------------------------------------------------
// Dispatch helpers

/**
 * The float32 bit pattern of a number rounded to float32 (nearest-even), for a kernel's uniform
 * parameters (which are passed as 32-bit words).
 *
 * @param x Any number.
 * @returns The 32-bit word.
 *
 * @example
 * ```ts
 * import { f32Word } from "@loraquant/gpu/lora";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(f32Word(1), 0x3f800000);
 * assertEquals(f32Word(-0), 0x80000000);
 * ```
 */
export function f32Word(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0]!;
}

/**
 * A 2-D grid of {@linkcode LORA_ELEMENTWISE_WORKGROUP}-invocation workgroups covering `count`
 * elements, for the element-wise kernels: at most 65,535 workgroups along x (WebGPU's default
 * limit), the rest along y; element e = id.y · rowStride + id.x.
 *
 * @param count Elements, an integer ≥ 0.
 * @returns Workgroups along x and y, and the elements per grid row.
 *
 * @example
 * ```ts
 * import { elementwiseGrid } from "@loraquant/gpu/lora";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(elementwiseGrid(1000), { x: 4, y: 1, rowStride: 1024 });
 * assertEquals(elementwiseGrid(0), { x: 0, y: 0, rowStride: 0 });
 * ```
 */
export function elementwiseGrid(count: number): { x: number; y: number; rowStride: number } {
  const groups = Math.ceil(count / LORA_ELEMENTWISE_WORKGROUP);
  const x = Math.min(groups, 65535);
  const y = x === 0 ? 0 : Math.ceil(groups / x);
  return { x, y, rowStride: x * LORA_ELEMENTWISE_WORKGROUP };
}

/**
 * Enqueues c (m, n) = a (m, k) · b (n, k)ᵀ with {@linkcode LORA_MATMUL_NT_WGSL}. Shapes must
 * already be checked.
 */
function matmulNt(
  batch: Batch,
  a: CheckedMatrix["input"],
  b: CheckedMatrix["input"],
  m: number,
  n: number,
  k: number,
): GpuHandle<Float32Array> {
  const [c] = batch.run({
    kernel: NT,
    params: new Uint32Array([m, n, k, 0]),
    inputs: [a, b],
    outputs: [{ shape: [m, n], arrayType: Float32Array }],
    workgroups: [
      Math.ceil(n / (LORA_TILE.cols * LORA_WORKGROUP)),
      Math.ceil(m / LORA_TILE.rows),
    ],
  });
  return c as GpuHandle<Float32Array>;
}

/**
 * A handle holding the operand: the handle itself, or a copy of the array made on the GPU by
 * {@linkcode LORA_COPY_WGSL} (so that in-place kernels can update it).
 *
 * @param batch The batch.
 * @param input An array or a handle of the batch.
 * @param shape The handle's shape.
 * @returns A handle of this batch.
 * @throws {LoraquantRangeError} `E_LIMIT` (from `Batch.run`) above the adapter's limits.
 * @throws {GpuError} `E_STATE` after `read()`; `E_DEVICE_LOST` when the device is lost.
 *
 * @example Upload once, then update in place
 * ```ts
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { gpuResident } from "@loraquant/gpu/lora";
 * import { assertEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const batch = gpu.batch();
 *   const h = gpuResident(batch, new Float32Array([1, 2, 3]), [3]);
 *   assertEquals(gpuResident(batch, h, [3]), h); // a handle is returned as is
 *   const [values] = await batch.read(h);
 *   assertEquals([...values], [1, 2, 3]);
 *   gpu.destroy();
 * }
 * ```
 */
export function gpuResident(
  batch: Batch,
  input: GpuArray | GpuHandle<Float32Array>,
  shape: readonly number[],
): GpuHandle<Float32Array> {
  if (!ArrayBuffer.isView(input)) return input;
  const count = input.length;
  const g = elementwiseGrid(count);
  const [copy] = batch.run({
    kernel: COPY,
    params: new Uint32Array([count, g.rowStride, 0, 0]),
    inputs: [input],
    outputs: [{ shape, arrayType: Float32Array }],
    workgroups: [g.x, g.y],
  });
  return copy as GpuHandle<Float32Array>;
}

// ---------------------------------------------------------------------------------------------
// Public operations

/**
 * The fused LoRA forward, float32: `h = x·Aᵀ` (one dispatch of {@linkcode LORA_MATMUL_NT_WGSL}),
 * then one dispatch of {@linkcode LORA_FUSED_FORWARD_WGSL} that reads W once and, per output,
 * sums x·Wᵀ (starting from the bias), the up projection g = h·Bᵀ and y = sum + ŝ·g
 * (docs/gpu.md eq. (L1), (L2)). ŝ = fl32(alpha/r) or fl32(alpha/√r), computed in float64.
 * Error: |ŷ − y| ≤ γ_(in+r+3)·M, M = Σ|x||w| + |s|·Σ|x||a||b| + |bias| (γ_(in+r+2) when s is a
 * float32 value), plus underflow terms (eq. (L3)).
 *
 * @param batch The batch to enqueue on.
 * @param x (n, in) row-major, an array or a handle.
 * @param layer w (out, in), a (r, in), b (out, r), alpha, rslora, bias (out).
 * @returns y (n, out) and h = x·Aᵀ (n, r), once read.
 * @throws {LoraquantTypeError} `E_ARG` for a wrong operand type, a non-number alpha or a
 * non-boolean rslora; `E_SHAPE` when the shapes disagree.
 * @throws {LoraquantRangeError} `E_RANGE` for r outside [1, min(out, in)], a non-finite alpha or
 * a scaling that overflows float32; `E_LIMIT` (from `Batch.run`) when a buffer exceeds the
 * adapter's limits.
 * @throws {GpuError} `E_STATE` after `read()`; `E_DEVICE_LOST` when the device is lost.
 *
 * @example One row through a rank-1 adapter (skipped where no adapter exists)
 * ```ts
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { loraForward } from "@loraquant/gpu/lora";
 * import { assertEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const batch = gpu.batch();
 *   const { y } = loraForward(batch, { rows: 1, cols: 2, data: new Float32Array([3, 4]) }, {
 *     w: { rows: 1, cols: 2, data: new Float32Array([1, 1]) },
 *     a: { rows: 1, cols: 2, data: new Float32Array([1, 0]) },
 *     b: { rows: 1, cols: 1, data: new Float32Array([2]) },
 *     alpha: 1,
 *     bias: new Float32Array([0.5]),
 *   });
 *   const [values] = await batch.read(y);
 *   assertEquals([...values], [13.5]); // 7 + 1·(3·1)·2 + 0.5
 *   gpu.destroy();
 * }
 * ```
 */
export function loraForward(batch: Batch, x: GpuMatrix, layer: GpuLoraLayer): LoraForwardResult {
  const what = "run the LoRA forward";
  const xm = checkGpuMatrix(what, "x", x);
  const l = checkLoraLayer(what, layer, { xCols: xm.cols });
  const n = xm.rows;
  const h = matmulNt(batch, xm.input, l.a.input, n, l.r, l.inputs);
  const params = new Uint32Array([n, l.out, l.inputs, l.r, f32Word(l.s), l.bias ? 1 : 0, 0, 0]);
  const [y] = batch.run({
    kernel: FUSED,
    params,
    inputs: [xm.input, l.w.input, h, l.b.input, l.bias?.input ?? new Float32Array(1)],
    outputs: [{ shape: [n, l.out], arrayType: Float32Array }],
    workgroups: [
      Math.ceil(l.out / (LORA_TILE.cols * LORA_WORKGROUP)),
      Math.ceil(n / LORA_TILE.rows),
    ],
  });
  return { y: y as GpuHandle<Float32Array>, h };
}

/**
 * The same forward as {@linkcode loraForward}, unfused: four dispatches, xw = x·Wᵀ, h = x·Aᵀ,
 * g = h·Bᵀ (each {@linkcode LORA_MATMUL_NT_WGSL}) and y = (xw + bias) + ŝ·g
 * ({@linkcode LORA_SCALED_ADD_WGSL}); the baseline of the bench. Same error bound as the fused
 * forward (docs/gpu.md eq. (L4)); the two need not agree bit for bit (the bias and g are
 * summed in a different order).
 *
 * @param batch The batch to enqueue on.
 * @param x (n, in) row-major.
 * @param layer w (out, in), a (r, in), b (out, r), alpha, rslora, bias (out).
 * @returns y (n, out) and h (n, r), once read.
 * @throws {LoraquantTypeError} as {@linkcode loraForward}.
 * @throws {LoraquantRangeError} as {@linkcode loraForward}.
 * @throws {GpuError} `E_STATE` after `read()`; `E_DEVICE_LOST` when the device is lost.
 *
 * @example Fused and unfused agree here exactly (small integers)
 * ```ts
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { loraForward, loraForwardUnfused } from "@loraquant/gpu/lora";
 * import { assertEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const batch = gpu.batch();
 *   const x = { rows: 1, cols: 2, data: new Float32Array([3, 4]) };
 *   const layer = {
 *     w: { rows: 1, cols: 2, data: new Float32Array([1, 1]) },
 *     a: { rows: 1, cols: 2, data: new Float32Array([1, 0]) },
 *     b: { rows: 1, cols: 1, data: new Float32Array([2]) },
 *     alpha: 1,
 *   };
 *   const [fused, unfused] = await batch.read(
 *     loraForward(batch, x, layer).y,
 *     loraForwardUnfused(batch, x, layer).y,
 *   );
 *   assertEquals([...fused], [13]);
 *   assertEquals([...unfused], [13]);
 *   gpu.destroy();
 * }
 * ```
 */
export function loraForwardUnfused(
  batch: Batch,
  x: GpuMatrix,
  layer: GpuLoraLayer,
): LoraForwardResult {
  const what = "run the LoRA forward";
  const xm = checkGpuMatrix(what, "x", x);
  const l = checkLoraLayer(what, layer, { xCols: xm.cols });
  const n = xm.rows;
  const xw = matmulNt(batch, xm.input, l.w.input, n, l.out, l.inputs);
  const h = matmulNt(batch, xm.input, l.a.input, n, l.r, l.inputs);
  const g = matmulNt(batch, h, l.b.input, n, l.out, l.r);
  const count = n * l.out;
  const gr = elementwiseGrid(count);
  const [y] = batch.run({
    kernel: SCALED_ADD,
    params: new Uint32Array([count, l.out, gr.rowStride, l.bias ? 1 : 0, f32Word(l.s), 0, 0, 0]),
    inputs: [xw, g, l.bias?.input ?? new Float32Array(1)],
    outputs: [{ shape: [n, l.out], arrayType: Float32Array }],
    workgroups: [gr.x, gr.y],
  });
  return { y: y as GpuHandle<Float32Array>, h };
}

/** The adapter {@linkcode mergeLora} and {@linkcode unmergeLora} apply. */
export interface GpuLoraAdapter {
  /** A, (r, in) row-major. */
  readonly a: GpuMatrix;
  /** B, (out, r) row-major. */
  readonly b: GpuMatrix;
  /** PEFT's `lora_alpha`. */
  readonly alpha: number;
  /** rsLoRA's scaling alpha/√r. @default {false} */
  readonly rslora?: boolean;
}

function combine(
  batch: Batch,
  w: GpuMatrix,
  adapter: GpuLoraAdapter,
  sign: 1 | -1,
  what: string,
): GpuHandle<Float32Array> {
  const l = checkLoraLayer(what, { ...adapter, w });
  const target = gpuResident(batch, l.w.input, [l.out, l.inputs]);
  const count = l.out * l.inputs;
  const gr = elementwiseGrid(count);
  const [merged] = batch.run({
    kernel: MERGE,
    params: new Uint32Array([l.out, l.inputs, l.r, gr.rowStride, f32Word(sign * l.s), 0, 0, 0]),
    inputs: [target, l.a.input, l.b.input],
    outputs: [{ shape: [l.out, l.inputs], arrayType: Float32Array, aliasOf: 0 }],
    workgroups: [gr.x, gr.y],
  });
  return merged as GpuHandle<Float32Array>;
}

/**
 * Merges an adapter into the weight in place, float32 (docs/gpu.md eq. (L5)):
 * w_ij ← fl(w_ij + fl(ŝ·d_ij)), d_ij = Σ_q b_iq·a_qj summed in ascending q from +0, each
 * operation rounded to nearest-even (a fused multiply-add allowed). Error:
 * |ŵ − w'| ≤ γ_(r+3)·(|w| + |s|·Σ_q|b_iq||a_qj|) (γ_(r+2) when s is a float32 value).
 *
 * @param batch The batch to enqueue on.
 * @param w The weight (out, in): a handle of this batch, updated in place (its handle is
 * returned again), or an array, copied to the GPU first (the array itself is never modified).
 * @param adapter a (r, in), b (out, r), alpha, rslora.
 * @returns The merged weight's handle (the same buffer as `w` when it is a handle).
 * @throws {LoraquantTypeError} `E_ARG` for a wrong operand type; `E_SHAPE` when the shapes
 * disagree.
 * @throws {LoraquantRangeError} `E_RANGE` for r outside [1, min(out, in)] or a non-finite alpha.
 * @throws {GpuError} `E_STATE` after `read()`; `E_DEVICE_LOST` when the device is lost.
 *
 * @example Merge, then unmerge, in one batch
 * ```ts
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { mergeLora, unmergeLora } from "@loraquant/gpu/lora";
 * import { assertEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const batch = gpu.batch();
 *   const lora = {
 *     a: { rows: 1, cols: 2, data: new Float32Array([1, 2]) },
 *     b: { rows: 2, cols: 1, data: new Float32Array([1, -1]) },
 *     alpha: 2,
 *   };
 *   const merged = mergeLora(batch, { rows: 2, cols: 2, data: new Float32Array([1, 0, 0, 1]) }, lora);
 *   const [m] = await batch.read(merged);
 *   assertEquals([...m], [3, 4, -2, -3]);
 *   gpu.destroy();
 * }
 * ```
 */
export function mergeLora(
  batch: Batch,
  w: GpuMatrix,
  adapter: GpuLoraAdapter,
): GpuHandle<Float32Array> {
  return combine(batch, w, adapter, 1, "merge LoRA");
}

/**
 * Removes a merged adapter in place: w_ij ← fl(w_ij + fl(−ŝ·d_ij)) with the same d_ij as
 * {@linkcode mergeLora}, so merging then unmerging returns W within
 * (2u + u²)·(|w| + (1 + γ_(r+1))·|ŝ|·Σ|b||a|) per element (docs/gpu.md eq. (L7)).
 *
 * @param batch The batch to enqueue on.
 * @param w The merged weight (out, in): a handle, updated in place, or an array, copied first.
 * @param adapter a (r, in), b (out, r), alpha, rslora.
 * @returns The weight's handle.
 * @throws {LoraquantTypeError} as {@linkcode mergeLora}.
 * @throws {LoraquantRangeError} as {@linkcode mergeLora}.
 * @throws {GpuError} `E_STATE` after `read()`; `E_DEVICE_LOST` when the device is lost.
 *
 * @example
 * ```ts
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { unmergeLora } from "@loraquant/gpu/lora";
 * import { assertEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const batch = gpu.batch();
 *   const lora = {
 *     a: { rows: 1, cols: 2, data: new Float32Array([1, 2]) },
 *     b: { rows: 2, cols: 1, data: new Float32Array([1, -1]) },
 *     alpha: 2,
 *   };
 *   const w = unmergeLora(batch, { rows: 2, cols: 2, data: new Float32Array([3, 4, -2, -3]) }, lora);
 *   const [values] = await batch.read(w);
 *   assertEquals([...values], [1, 0, 0, 1]);
 *   gpu.destroy();
 * }
 * ```
 */
export function unmergeLora(
  batch: Batch,
  w: GpuMatrix,
  adapter: GpuLoraAdapter,
): GpuHandle<Float32Array> {
  return combine(batch, w, adapter, -1, "unmerge LoRA");
}
