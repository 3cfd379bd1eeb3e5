/**
 * Affine quantization and dequantization on the GPU, bit-exact with the reference's `"pytorch"`
 * profile (fbgemm's float32 steps; docs/gpu.md §Quantize):
 *
 * - quantize: x and scale rounded to float32, `t = fround(x · r)` with the float32 reciprocal
 *   `r = fround(1 / fround(scale))` computed on the CPU (WGSL's `/` is not correctly rounded,
 *   its `*` is), `q = clamp(roundHalfToEven(t) + zeroPoint, qmin, qmax)`;
 * - dequantize: `x = fround((q − zeroPoint) · fround(scale))`.
 *
 * Scales and zero points are given (calibration stays on the CPU: `calibrate` in
 * `@loraquant/reference/calibrate`), one per tensor, per channel (axis 0: per row; axis 1: per
 * column) or per group of `groupSize` consecutive elements of a row (groups ordered row by row),
 * as in the reference.
 *
 * Layout: x (rows, cols) row-major `array<f32>`; the levels (rows, cols) row-major `array<i32>`,
 * ONE level per i32 for every dtype (int4 and uint4 included: a level in [qmin, qmax] as a
 * plain i32, not packed). Packed layouts for the matmuls are in `@loraquant/gpu/int8-matmul`
 * and `@loraquant/gpu/dequant-matmul`.
 *
 * @module
 */
import { argError, rangeError, shapeError } from "@loraquant/reference/errors";
import type { Batch, GpuHandle } from "./batch.ts";
import type { Float32Matrix } from "./matmul.ts";

/** The integer dtypes of the affine kernels. */
export type GpuQuantizeDtype = "int8" | "uint8" | "int4" | "uint4";

/** The names of {@linkcode GpuQuantizeDtype}. */
export const GPU_QUANTIZE_DTYPES: readonly GpuQuantizeDtype[] = ["int8", "uint8", "int4", "uint4"];

/** How elements share a scale: one per tensor, channel (row or column) or group of a row. */
export type GpuGranularity = "tensor" | "channel" | "group";

/** A matrix of integer levels, one per i32: `data` holds rows·cols elements, row-major. */
export interface Int32Matrix {
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** (rows, cols) row-major. */
  readonly data: Int32Array;
}

/** Where the scales sit: shared by {@linkcode QuantizeAffineOptions} and {@linkcode DequantizeAffineOptions}. */
export interface AffineLayoutOptions {
  /** One scale per tensor, channel or group. @default {"tensor"} */
  granularity?: GpuGranularity;
  /** For `"channel"`: 0 gives one scale per row, 1 one per column. @default {0} */
  axis?: number;
  /** For `"group"` (required there): consecutive elements of a row sharing a scale; divides cols. */
  groupSize?: number;
  /** The scales, one per tensor / channel / group (groups row by row); finite and > 0. */
  scale: ArrayLike<number>;
  /** The zero points, integers, one per scale. @default {zeros} */
  zeroPoint?: ArrayLike<number>;
}

/** Options of {@linkcode quantizeAffine}. */
export interface QuantizeAffineOptions extends AffineLayoutOptions {
  /** The integer dtype. @default {"int8"} */
  dtype?: GpuQuantizeDtype;
  /** `"restricted"` drops the most negative level of a signed dtype. @default {"full"} */
  range?: "full" | "restricted";
}

/** Options of {@linkcode dequantizeAffine}. */
export type DequantizeAffineOptions = AffineLayoutOptions;

/** Invocations per workgroup of the affine kernels (a 2-D grid of them covers long inputs). */
export const AFFINE_WORKGROUP_SIZE = 256;

/** Workgroups along x before the grid wraps to y (WebGPU's default dimension limit). */
const GRID_X = 65535;

// The parameters and the element → scale index map shared by the two affine kernels (32 bytes:
// element count, columns, invocations per grid row, and the layout's rowMul/colDiv/colMul).
const AFFINE_COMMON_WGSL = /* wgsl */ `
struct Params {
  count: u32, cols: u32, rowStride: u32, rowMul: u32,
  colDiv: u32, colMul: u32, qmin: i32, qmax: i32,
}
@group(0) @binding(0) var<uniform> params: Params;

// Element e of the (rows, cols) matrix → the index of its scale and zero point.
fn scaleIndex(e: u32) -> u32 {
  let i = e / params.cols;
  let j = e % params.cols;
  return i * params.rowMul + (j / params.colDiv) * params.colMul;
}
`;

/**
 * The quantize kernel: one element per invocation.
 *
 * Bindings (group 0):
 * - 0 `params`: uniform, 32 bytes: `count, cols, rowStride, rowMul, colDiv, colMul: u32`,
 *   `qmin, qmax: i32`;
 * - 1 `x`: storage read, `array<f32>`, (rows, cols) row-major;
 * - 2 `recip`: storage read, `array<f32>`, one float32 reciprocal fround(1 / fround(scale))
 *   per scale;
 * - 3 `zp`: storage read, `array<i32>`, one zero point per scale;
 * - 4 `q`: storage read_write, `array<i32>`, (rows, cols) row-major, one level per i32.
 *
 * Element e = id.y · rowStride + id.x sits at (i, j) = (e / cols, e % cols) and uses scale
 * g = i · rowMul + (j / colDiv) · colMul (tensor: rowMul = colMul = 0; channel axis 0: rowMul =
 * 1, colMul = 0; axis 1: rowMul = 0, colDiv = colMul = 1; group: rowMul = cols / groupSize,
 * colDiv = groupSize, colMul = 1). When the unbiased exponents of x and r add up to 100 or more,
 * |x·r| ≥ 2^100 and the clamp alone decides (qmax for x > 0, qmin for x < 0): the product is
 * only formed when it cannot overflow, since WGSL lets implementations assume no infinities.
 * Otherwise t = x·r (one correctly rounded f32 product), `round` is ties-to-even, and
 * round(t) + zp is exact below 2^24 (beyond it the clamp decides again).
 */
export const QUANTIZE_AFFINE_WGSL: string = /* wgsl */ `
${AFFINE_COMMON_WGSL}@group(0) @binding(1) var<storage, read> x: array<f32>;       // (rows, cols) row-major
@group(0) @binding(2) var<storage, read> recip: array<f32>;   // one per scale
@group(0) @binding(3) var<storage, read> zp: array<i32>;      // one per scale
@group(0) @binding(4) var<storage, read_write> q: array<i32>; // (rows, cols) row-major

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let e = id.y * params.rowStride + id.x;
  if (e >= params.count) { return; }
  let g = scaleIndex(e);
  let v = x[e];
  let r = recip[g];
  let ex = i32((bitcast<u32>(v) >> 23u) & 0xffu) - 127;
  let er = i32((bitcast<u32>(r) >> 23u) & 0xffu) - 127;
  var level: i32;
  if (ex + er >= 100) {
    level = select(params.qmax, params.qmin, v < 0.0);
  } else {
    let t = v * r;                          // eq. (Q1): fround(x · r)
    let shifted = round(t) + f32(zp[g]);    // eq. (Q2): ties to even, + zeroPoint
    level = i32(clamp(shifted, f32(params.qmin), f32(params.qmax)));
  }
  q[e] = level;
}
`;

/**
 * The dequantize kernel: one element per invocation.
 *
 * Bindings (group 0):
 * - 0 `params`: uniform, 32 bytes: as {@linkcode QUANTIZE_AFFINE_WGSL} (qmin, qmax unused);
 * - 1 `q`: storage read, `array<i32>`, (rows, cols) row-major, one level per i32;
 * - 2 `scale`: storage read, `array<f32>`, fround(scale), one per scale;
 * - 3 `zp`: storage read, `array<i32>`, one zero point per scale;
 * - 4 `x`: storage read_write, `array<f32>`, (rows, cols) row-major.
 *
 * x = f32(q − zp) · s: |q − zp| ≤ 2^24 is exact in f32, and the f32 product is correctly
 * rounded, so x = fround((q − zp) · fround(scale)) (eq. (Q3)); q = zp gives +0.
 */
export const DEQUANTIZE_AFFINE_WGSL: string = /* wgsl */ `
${AFFINE_COMMON_WGSL}@group(0) @binding(1) var<storage, read> q: array<i32>;       // (rows, cols) row-major
@group(0) @binding(2) var<storage, read> scale: array<f32>;   // one per scale
@group(0) @binding(3) var<storage, read> zp: array<i32>;      // one per scale
@group(0) @binding(4) var<storage, read_write> x: array<f32>; // (rows, cols) row-major

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let e = id.y * params.rowStride + id.x;
  if (e >= params.count) { return; }
  let g = scaleIndex(e);
  x[e] = f32(q[e] - zp[g]) * scale[g];     // eq. (Q3)
}
`;

const QUANTIZE_KERNEL = { name: "quantize-affine", code: QUANTIZE_AFFINE_WGSL };
const DEQUANTIZE_KERNEL = { name: "dequantize-affine", code: DEQUANTIZE_AFFINE_WGSL };

/**
 * The integer levels [qmin, qmax] of a dtype: int8 [−128, 127], uint8 [0, 255], int4 [−8, 7],
 * uint4 [0, 15]; `"restricted"` drops the most negative level of a signed dtype (int8
 * [−127, 127]), as in the reference.
 *
 * @param dtype The integer dtype.
 * @param range `"full"` or `"restricted"` (signed dtypes only; not checked here).
 * @returns The smallest and largest level.
 *
 * @example
 * ```ts
 * import { affineLevels } from "@loraquant/gpu/quantize";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(affineLevels("int4"), { qmin: -8, qmax: 7 });
 * assertEquals(affineLevels("int8", "restricted"), { qmin: -127, qmax: 127 });
 * ```
 */
export function affineLevels(
  dtype: GpuQuantizeDtype,
  range: "full" | "restricted" = "full",
): { qmin: number; qmax: number } {
  const bits = dtype.endsWith("8") ? 8 : 4;
  const signed = dtype.startsWith("int");
  const qmin = signed ? -(2 ** (bits - 1)) + (range === "restricted" ? 1 : 0) : 0;
  return { qmin, qmax: signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1 };
}

/** A checked layout: the scale index g = i·rowMul + ⌊j / colDiv⌋·colMul, and the scale count. */
interface Plan {
  readonly rows: number;
  readonly cols: number;
  readonly count: number;
  readonly rowMul: number;
  readonly colDiv: number;
  readonly colMul: number;
  readonly groupSize: number;
}

function show(x: unknown): string {
  return Object.is(x, -0) ? "-0" : typeof x === "string" ? JSON.stringify(x) : String(x);
}

function isHandle(x: unknown): x is GpuHandle<Float32Array | Int32Array> {
  return typeof x === "object" && x !== null && "arrayType" in x && "shape" in x;
}

/** The (rows, cols) of a matrix or a handle (a vector handle is one row), or `E_ARG`. */
function shapeOf(
  what: string,
  name: string,
  x: unknown,
  arrayType: typeof Float32Array | typeof Int32Array,
): { rows: number; cols: number } {
  if (isHandle(x)) {
    if (x.arrayType !== arrayType) {
      throw argError(`Cannot ${what}: ${name} must be a ${arrayType.name} handle`);
    }
    const s = x.shape;
    if (s.length === 1) return { rows: 1, cols: s[0]! };
    if (s.length === 2) return { rows: s[0]!, cols: s[1]! };
    throw argError(`Cannot ${what}: ${name} must be a vector or a matrix, got shape [${s}]`);
  }
  if (typeof x !== "object" || x === null) {
    throw argError(`Cannot ${what}: ${name} must be a { rows, cols, data } matrix, got ${x}`);
  }
  const m = x as { rows?: unknown; cols?: unknown; data?: unknown };
  for (const key of ["rows", "cols"] as const) {
    const v = m[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw argError(`Cannot ${what}: ${name}.${key} must be a non-negative integer, got ${v}`);
    }
  }
  if (!(m.data instanceof arrayType)) {
    throw argError(`Cannot ${what}: ${name}.data must be a ${arrayType.name}`);
  }
  return { rows: m.rows as number, cols: m.cols as number };
}

/** The E_ARG, then E_SHAPE checks of a layout; E_RANGE checks follow in `checkValues`. */
function plan(
  what: string,
  rows: number,
  cols: number,
  options: AffineLayoutOptions,
): Plan {
  const granularity = options.granularity ?? "tensor";
  if (!["tensor", "channel", "group"].includes(granularity)) {
    throw argError(
      `Cannot ${what}: granularity must be one of tensor, channel, group, got ${show(granularity)}`,
    );
  }
  const axis = options.axis ?? 0;
  if (granularity === "channel" && axis !== 0 && axis !== 1) {
    throw argError(
      `Cannot ${what}: axis must be 0 (one scale per row) or 1 (per column), got ${show(axis)}`,
    );
  }
  const groupSize = options.groupSize;
  if (granularity === "group" && (typeof groupSize !== "number" || !Number.isInteger(groupSize))) {
    throw argError(
      `Cannot ${what}: granularity "group" needs an integer groupSize, got ${show(groupSize)}`,
    );
  }
  for (const name of ["scale", "zeroPoint"] as const) {
    const v = options[name];
    if (v === undefined && name === "zeroPoint") continue;
    if (typeof v !== "object" || v === null || typeof v.length !== "number") {
      throw argError(`Cannot ${what}: ${name} must be an array of numbers, got ${show(v)}`);
    }
  }
  let layout: Plan;
  if (granularity === "tensor") {
    layout = { rows, cols, count: 1, rowMul: 0, colDiv: 1, colMul: 0, groupSize: 0 };
  } else if (granularity === "channel") {
    layout = axis === 0
      ? { rows, cols, count: rows, rowMul: 1, colDiv: 1, colMul: 0, groupSize: 0 }
      : { rows, cols, count: cols, rowMul: 0, colDiv: 1, colMul: 1, groupSize: 0 };
  } else {
    const g = groupSize as number;
    if (g >= 1 && cols % g !== 0) {
      throw shapeError(`Cannot ${what}: groupSize ${g} does not divide the ${cols} columns`);
    }
    const perRow = g >= 1 ? cols / g : 0;
    layout = {
      rows,
      cols,
      count: rows * perRow,
      rowMul: perRow,
      colDiv: g,
      colMul: 1,
      groupSize: g,
    };
  }
  if (granularity !== "group" || layout.groupSize >= 1) {
    for (const name of ["scale", "zeroPoint"] as const) {
      const v = options[name];
      if (v !== undefined && v.length !== layout.count) {
        throw shapeError(
          `Cannot ${what}: ${name} has ${v.length} entries, expected ${layout.count} (one per ${
            granularity === "channel" ? `channel (axis ${axis})` : granularity
          })`,
        );
      }
    }
  }
  return layout;
}

/**
 * The E_RANGE checks of the layout and parameters: groupSize ≥ 1; every scale finite and > 0,
 * still so in float32, with a finite float32 reciprocal; zero points integers in [zmin, zmax].
 * Returns fround(scale) and the float32 reciprocals.
 */
function checkValues(
  what: string,
  layout: Plan,
  options: AffineLayoutOptions,
  zmin: number,
  zmax: number,
): { scale: Float32Array; recip: Float32Array; zeroPoint: Int32Array } {
  if (options.granularity === "group" && layout.groupSize < 1) {
    throw rangeError(`Cannot ${what}: groupSize must be ≥ 1, got ${show(layout.groupSize)}`);
  }
  const scale = new Float32Array(layout.count); // one per tensor / channel / group
  const recip = new Float32Array(layout.count);
  for (let g = 0; g < layout.count; g++) {
    const s = options.scale[g]!;
    if (!(s > 0 && s < Infinity)) {
      throw rangeError(
        `Cannot ${what}: scale must be finite and > 0, got ${show(s)} (scale[${g}])`,
      );
    }
    const f = Math.fround(s);
    const r = Math.fround(1 / f); // the float64 quotient rounded to float32 is correctly rounded
    if (!(f > 0 && f < Infinity) || r === Infinity) {
      throw rangeError(
        `Cannot ${what}: scale[${g}] = ${show(s)} becomes ${show(f)} in float32${
          f > 0 && f < Infinity ? ", whose float32 reciprocal overflows" : ""
        }`,
      );
    }
    scale[g] = f;
    recip[g] = r;
  }
  const zeroPoint = new Int32Array(layout.count);
  const z = options.zeroPoint;
  if (z !== undefined) {
    for (let g = 0; g < layout.count; g++) {
      const v = z[g]!;
      if (!Number.isInteger(v) || v < zmin || v > zmax) {
        throw rangeError(
          `Cannot ${what}: zeroPoint must be an integer in [${zmin}, ${zmax}], got ${
            show(v)
          } (zeroPoint[${g}])`,
        );
      }
      zeroPoint[g] = v;
    }
  }
  return { scale, recip, zeroPoint };
}

/** The 2-D grid of 256-invocation workgroups covering `count` elements, and its row stride. */
function grid(count: number): { workgroups: [number, number]; rowStride: number } {
  const groups = Math.ceil(count / AFFINE_WORKGROUP_SIZE);
  const x = Math.max(1, Math.min(groups, GRID_X));
  return { workgroups: [x, Math.ceil(groups / x)], rowStride: x * AFFINE_WORKGROUP_SIZE };
}

function params(layout: Plan, rowStride: number, qmin: number, qmax: number): Uint32Array {
  const words = new Uint32Array(8);
  const ints = new Int32Array(words.buffer);
  words.set([layout.rows * layout.cols, layout.cols, rowStride, layout.rowMul, layout.colDiv]);
  words[5] = layout.colMul;
  ints[6] = qmin;
  ints[7] = qmax;
  return words;
}

/**
 * Quantizes a float32 matrix to integer levels on the GPU, bit-exact with the reference's
 * `quantize(x, dtype, { profile: "pytorch", scale, zeroPoint, … })`:
 * `q = clamp(roundHalfToEven(fround(x · fround(1 / fround(scale)))) + zeroPoint, qmin, qmax)`
 * (docs/gpu.md eqs. (Q1)–(Q2)). The reciprocal is computed here, on the CPU, in
 * float32 (WGSL's `/` is not correctly rounded); the product is one correctly rounded f32
 * multiplication and `round` is ties-to-even on the GPU. The result has one level per i32.
 *
 * x must be finite (an array is checked; the values of a handle are not: there NaN gives an
 * unspecified level, ±Infinity qmax/qmin). A float32 subnormal x or product is assumed not to be
 * flushed to zero (llvmpipe does not flush); it only matters for scales below 2⁻¹⁰⁰.
 *
 * @param batch The batch to enqueue on.
 * @param x (rows, cols) row-major float32 matrix, or a float32 handle of this batch (a vector
 * handle is one row).
 * @param options dtype, range, granularity, axis, groupSize, scale (required), zeroPoint.
 * @returns The levels, (rows, cols) row-major, one per i32, once read.
 * @throws {LoraquantTypeError} `E_ARG`: x not a float32 matrix or handle; an unknown dtype,
 * range or granularity; axis not 0/1; a missing or non-integer groupSize for `"group"`;
 * `"restricted"` with an unsigned dtype; scale missing. `E_SHAPE`: `data.length ≠ rows·cols`;
 * groupSize does not divide cols; a scale or zeroPoint length other than the number of scales.
 * @throws {LoraquantRangeError} `E_RANGE`: groupSize < 1; a scale not finite and > 0 (or 0 or
 * infinite in float32, or with an infinite float32 reciprocal); a zeroPoint not an integer in
 * [qmin, qmax]; a non-finite x (arrays only). `E_LIMIT` (from `Batch.run`) when a buffer
 * exceeds the adapter's `maxStorageBufferBindingSize`.
 * @throws {GpuError} `E_STATE` after `read()`; `E_DEVICE_LOST` when the device is lost.
 *
 * @example Per-row int8 levels, with a tie (skipped where no adapter exists)
 * ```ts
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { dequantizeAffine, quantizeAffine } from "@loraquant/gpu/quantize";
 * import { assertEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const batch = gpu.batch();
 *   const x = { rows: 2, cols: 3, data: new Float32Array([0.5, -1, 0.25, 2, -0.75, 1.5]) };
 *   const q = quantizeAffine(batch, x, {
 *     dtype: "int8",
 *     granularity: "channel",
 *     scale: [1 / 127, 0.5], // row 1: -0.75 / 0.5 = -1.5, a tie: to even, -2
 *   });
 *   const back = dequantizeAffine(batch, q, { granularity: "channel", scale: [1 / 127, 0.5] });
 *   const [levels, values] = await batch.read(q, back);
 *   assertEquals([...levels], [64, -127, 32, 4, -2, 3]);
 *   assertEquals([...values].slice(3), [2, -1, 1.5]);
 *   gpu.destroy();
 * }
 * ```
 */
export function quantizeAffine(
  batch: Batch,
  x: Float32Matrix | GpuHandle<Float32Array>,
  options: QuantizeAffineOptions,
): GpuHandle<Int32Array> {
  const what = "quantize";
  const { rows, cols } = shapeOf(what, "x", x, Float32Array);
  if (typeof options !== "object" || options === null) {
    throw argError(`Cannot ${what}: options with a scale are required`);
  }
  const dtype = options.dtype ?? "int8";
  if (!GPU_QUANTIZE_DTYPES.includes(dtype)) {
    throw argError(
      `Cannot ${what}: dtype must be one of ${GPU_QUANTIZE_DTYPES.join(", ")}, got ${show(dtype)}`,
    );
  }
  const range = options.range ?? "full";
  if (range !== "full" && range !== "restricted") {
    throw argError(`Cannot ${what}: range must be "full" or "restricted", got ${show(range)}`);
  }
  if (range === "restricted" && dtype.startsWith("u")) {
    throw argError(
      `Cannot ${what}: range "restricted" applies to signed dtypes only, got dtype ${dtype}`,
    );
  }
  const layout = plan(what, rows, cols, options);
  const data = isHandle(x) ? null : x.data;
  if (data && data.length !== rows * cols) {
    throw shapeError(
      `Cannot ${what}: x is ${rows}×${cols} but its data holds ${data.length} elements`,
    );
  }
  const { qmin, qmax } = affineLevels(dtype, range);
  const values = checkValues(what, layout, options, qmin, qmax);
  if (data) {
    for (let e = 0; e < data.length; e++) {
      if (!Number.isFinite(data[e])) {
        throw rangeError(
          `Cannot ${what}: x must be finite, got ${show(data[e])} at (${Math.floor(e / cols)}, ${
            e % cols
          })`,
        );
      }
    }
  }
  const count = rows * cols;
  const { workgroups, rowStride } = grid(count);
  const [q] = batch.run({
    kernel: QUANTIZE_KERNEL,
    params: params(layout, rowStride, qmin, qmax),
    inputs: [data ?? x as GpuHandle<Float32Array>, values.recip, values.zeroPoint],
    outputs: [{ shape: [rows, cols], arrayType: Int32Array }],
    workgroups: count === 0 ? [0] : workgroups,
  });
  return q as GpuHandle<Int32Array>;
}

/**
 * Maps integer levels back to float32 on the GPU, bit-exact with the reference's
 * `dequantize(q, scale, { profile: "pytorch", zeroPoint, … })`:
 * `x = fround((q − zeroPoint) · fround(scale))` (docs/gpu.md eq. (Q3)): q − zeroPoint
 * is exact in f32 (|q|, |zeroPoint| ≤ 2^23) and the f32 product is correctly rounded; q =
 * zeroPoint gives +0. A product beyond the float32 range is ±Infinity on IEEE adapters (WGSL
 * lets implementations assume no overflow).
 *
 * @param batch The batch to enqueue on.
 * @param q (rows, cols) row-major levels, one per i32, or an `Int32Array` handle of this batch
 * (e.g. from {@linkcode quantizeAffine}; a vector handle is one row).
 * @param options granularity, axis, groupSize, scale (required), zeroPoint.
 * @returns The values, (rows, cols) row-major float32, once read.
 * @throws {LoraquantTypeError} `E_ARG`: q not an `Int32Array` matrix or handle; an unknown
 * granularity; axis not 0/1; a missing or non-integer groupSize for `"group"`; scale missing.
 * `E_SHAPE`: `data.length ≠ rows·cols`; groupSize does not divide cols; a scale or zeroPoint
 * length other than the number of scales.
 * @throws {LoraquantRangeError} `E_RANGE`: groupSize < 1; a scale not finite and > 0 (or 0 or
 * infinite in float32, or with an infinite float32 reciprocal, as in the reference); a zeroPoint
 * not an integer in [−2^23, 2^23]; a level of an array outside [−2^23, 2^23]. `E_LIMIT` (from
 * `Batch.run`) above the adapter's `maxStorageBufferBindingSize`.
 * @throws {GpuError} `E_STATE` after `read()`; `E_DEVICE_LOST` when the device is lost.
 *
 * @example uint8 levels with a zero point (skipped where no adapter exists)
 * ```ts
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { dequantizeAffine } from "@loraquant/gpu/quantize";
 * import { assertEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const batch = gpu.batch();
 *   const q = { rows: 1, cols: 3, data: new Int32Array([0, 128, 255]) };
 *   const x = dequantizeAffine(batch, q, { scale: [0.5], zeroPoint: [128] });
 *   const [values] = await batch.read(x);
 *   assertEquals([...values], [-64, 0, 63.5]);
 *   gpu.destroy();
 * }
 * ```
 */
export function dequantizeAffine(
  batch: Batch,
  q: Int32Matrix | GpuHandle<Int32Array>,
  options: DequantizeAffineOptions,
): GpuHandle<Float32Array> {
  const what = "dequantize";
  const { rows, cols } = shapeOf(what, "q", q, Int32Array);
  if (typeof options !== "object" || options === null) {
    throw argError(`Cannot ${what}: options with a scale are required`);
  }
  const layout = plan(what, rows, cols, options);
  const data = isHandle(q) ? null : q.data;
  if (data && data.length !== rows * cols) {
    throw shapeError(
      `Cannot ${what}: q is ${rows}×${cols} but its data holds ${data.length} elements`,
    );
  }
  const values = checkValues(what, layout, options, -(2 ** 23), 2 ** 23);
  if (data) {
    for (let e = 0; e < data.length; e++) {
      const v = data[e]!;
      if (v < -(2 ** 23) || v > 2 ** 23) {
        throw rangeError(
          `Cannot ${what}: q must lie in [-2^23, 2^23], got ${v} at (${Math.floor(e / cols)}, ${
            e % cols
          })`,
        );
      }
    }
  }
  const count = rows * cols;
  const { workgroups, rowStride } = grid(count);
  const [x] = batch.run({
    kernel: DEQUANTIZE_KERNEL,
    params: params(layout, rowStride, 0, 0),
    inputs: [data ?? q as GpuHandle<Int32Array>, values.scale, values.zeroPoint],
    outputs: [{ shape: [rows, cols], arrayType: Float32Array }],
    workgroups: count === 0 ? [0] : workgroups,
  });
  return x as GpuHandle<Float32Array>;
}
