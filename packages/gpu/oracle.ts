/**
 * The GPU oracle: the JSON Lines protocol of `oracle-protocol.md`, answered by computing on the
 * GPU. `deno task gpu:oracle` reads requests on stdin and writes one answer line per request on
 * stdout, in order, exactly as `deno task oracle` (the float64 reference) does, so that any
 * checker can send the same lines to both and diff the answers as oracle-protocol.md's "How
 * answers are compared" says (`info.bounded` names the ops answered within the float32 bound:
 * float32 `matmul`, `lora.forward`, `lora.merge`; int8 `matmul` and the rest are exact).
 *
 * What it computes on the GPU (every other op, and every variant of these it does not implement,
 * is answered `E_OP` — "not implemented here" — so a checker can tell a skipped request from a
 * disagreement; the reference never answers `E_OP` for a known op):
 *
 * - `cast` to `float16`, `bfloat16`, `fp8-e4m3`, `fp8-e5m2` (the bit-exact integer kernels of
 *   `./cast`: narrowing for `bits`, widening of those bits for `y`) and `float32` (the identity
 *   on float32 values, NaN made canonical, ±Infinity clamped under `saturate`; no kernel), with
 *   `rounding: "nearest-even"` and any `saturate`, for inputs that are float32 values (NaN and
 *   ±Infinity included). Exact.
 * - `matmul` with `dtype` and `accumulate` `float32` (the protocol's nearest-even cast of the
 *   inputs to float32 happens on the host, then `Batch.matmul`). Bounded (`info.bounded`):
 *   |ŷ − y| ≤ γ_k · Σ_j |a_ij||b_jp|, γ_k = k·u/(1 − k·u), u = 2⁻²⁴.
 * - `matmul` with `dtype` `int8` and `accumulate` `int32` for k ≤ 131071 (`./int8-matmul`,
 *   `dot4I8Packed` where the WGSL has it): there every partial sum stays within k·2^14 < 2^31, so
 *   the exact result is returned whatever `overflow` says and `overflowed` is false; a larger k
 *   is `E_OP` (the rule would need the partial sums in order). Exact.
 * - `quantize` with `profile: "pytorch"` into `int8`, `uint8`, `int4`, `uint4` (any granularity
 *   and range) on the affine kernel of `./quantize`. Given scales are used as given; without them
 *   the symmetric calibration is computed on the host (`M / (qmax − z)`: one float64 division,
 *   which is the protocol's exact quotient rounded once); asymmetric calibration is `E_OP`. Exact.
 * - `dequantize` with `profile: "pytorch"` for levels and zero points within ±2^23. Exact.
 * - `lora.forward` (fused kernel) and `lora.merge` (in-place merge kernel) of `./lora` on inputs
 *   that are float32 values, without `magnitude` (DoRA), when the scaling alpha/r (alpha/√r) is a
 *   float32 value: the protocol's bound γ_(k+r+2)·M does not cover a rounded scaling. Bounded.
 *
 * Batching: the GPU answers a batch with one GPU→CPU synchronisation (~11 ms in Deno, whatever
 * the batch holds), so {@linkcode serveGpu} answers every complete line of a chunk read from its
 * input together — each request validated and enqueued on one `Batch`, one `read()`, answers
 * written in order — while a client that writes one line and waits still gets its answer at once.
 * Within a batch, the casts of all requests with the same format and `saturate` are concatenated
 * into one pair of dispatches (an operation costs ~0.5 ms on llvmpipe): 128 small cast requests
 * take ~0.15 ms each in one batch, against ~12.6 ms each with a batch per request.
 *
 * The order of faults is the protocol's, with one reading: a request that is valid for the
 * protocol but asks for something this oracle does not implement (a format, a rounding mode, a
 * non-float32 input) is answered `E_OP` right after its `E_ARG` checks, before `E_SHAPE`.
 *
 * @example Answering requests in-process (skipped where no adapter exists)
 * ```ts
 * import { answerGpuLines } from "@loraquant/gpu/oracle";
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { assertEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const answers = await answerGpuLines(gpu, [
 *     '{"id":1,"op":"cast","format":"float16","x":[65520,"-0"]}',
 *     '{"id":2,"op":"svd","m":{"shape":[1,1],"data":[1]}}',
 *   ]);
 *   assertEquals(JSON.parse(answers[0]!).result, { y: ["Infinity", "-0"], bits: [31744, 32768] });
 *   assertEquals(JSON.parse(answers[1]!).error.code, "E_OP");
 *   gpu.destroy();
 * }
 * ```
 *
 * @module
 */
import {
  isLoraquantError,
  LoraquantRangeError,
  LoraquantTypeError,
} from "@loraquant/reference/errors";
import { argError, rangeError, shapeError } from "@loraquant/reference/errors";
import {
  checkMatrix,
  encodeMatrix,
  encodeVector,
  type Json,
  readBoolean,
  readEnum,
  readMatrix,
  readNumber,
  readVector,
  type Request,
} from "@loraquant/reference/protocol";
import { INTEGER_DTYPES } from "@loraquant/reference/dtype";
import { FLOAT_FORMAT_NAMES } from "@loraquant/reference/format";
import { streamLines, tooLongAnswer } from "@loraquant/reference/oracle";
import { ROUNDING_MODES } from "@loraquant/reference/rounding";
import type { Batch, GpuArray, GpuHandle } from "./batch.ts";
import { type Gpu, requestGpu } from "./device.ts";
import { GpuError } from "./gpu_error.ts";
import type { GpuFloatFormat } from "./cast.ts";
import { int8Matmul } from "./int8_matmul.ts";
import { loraForward, mergeLora } from "./lora.ts";
import { dequantizeAffine, type GpuQuantizeDtype, quantizeAffine } from "./quantize.ts";

export type { Gpu } from "./device.ts";

/** Version of this implementation, reported by `info`. */
export const GPU_ORACLE_VERSION = "0.1.0";

/** The most bytes one request line may hold (64 MiB, as the reference oracle). */
export const GPU_MAX_LINE_BYTES: number = 64 * 1024 * 1024;

/** The most numbers one request may hold (2^24, as the reference oracle). */
export const GPU_MAX_NUMBERS: number = 2 ** 24;

/** The ops this oracle answers (each in part: see the module documentation). */
export const GPU_ORACLE_OPS: readonly string[] = [
  "info",
  "cast",
  "matmul",
  "quantize",
  "dequantize",
  "lora.forward",
  "lora.merge",
];

/** The ops answered within the protocol's float32 bound rather than exactly. */
export const GPU_ORACLE_BOUNDED: readonly string[] = ["matmul", "lora.forward", "lora.merge"];

// The protocol's enums come from the reference: an unknown value is `E_ARG`, a known one that the
// GPU does not implement `E_OP`.
const PROTOCOL_INTEGER_ACCUMULATORS = ["int16", "int32", "int64"] as const;
const MATMUL_OVERFLOW_RULES = ["wrap", "saturate", "error"] as const;
/** The narrow formats the GPU cast kernels implement. */
const KERNEL_FORMATS: readonly string[] = ["float16", "bfloat16", "fp8-e4m3", "fp8-e5m2"];
/** The largest k for which no partial sum of int8 products can leave int32: k·2^14 < 2^31. */
const INT8_EXACT_K = 2 ** 17 - 1;
/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** Limits of one GPU oracle; each defaults to the module's constant. */
export interface GpuOracleLimits {
  /** The most bytes of one request line. @default {GPU_MAX_LINE_BYTES} */
  maxLineBytes?: number;
  /** The most numbers in one request. @default {GPU_MAX_NUMBERS} */
  maxNumbers?: number;
}

/** Options of {@linkcode serveGpu}. */
export interface ServeGpuOptions extends GpuOracleLimits {
  /**
   * The most numbers the requests of one batch may hold together; a chunk holding more is
   * answered in several batches (bounds the GPU memory one batch takes). @default {2 ** 24}
   */
  maxBatchNumbers?: number;
}

/** What a handler leaves for after the batch's readback. */
interface Pending {
  /** The results it reads, in order (known once the batch's casts are enqueued). */
  readonly handles: () => readonly GpuHandle<GpuArray>[];
  /** Builds the `result` object from the arrays read for `handles`. */
  readonly finish: (arrays: readonly GpuArray[]) => { [key: string]: Json };
}

/** What a handler gets besides its request and the batch. */
interface OpContext {
  /** Throws `E_LIMIT` when the request holds too many numbers (after E_ARG/E_SHAPE). */
  checkLimit(): void;
  /** The batch's shared casts. */
  readonly casts: CastPool;
}

/**
 * The casts of one batch, coalesced: the inputs of every cast request with the same format and
 * `saturate` are concatenated and narrowed (then widened) by ONE pair of dispatches, each request
 * reading back its slice. On llvmpipe an operation costs ~0.5 ms to enqueue and read, so 1,024
 * small casts in one pair of dispatches instead of 2,048 is the difference that matters.
 */
class CastPool {
  readonly #groups = new Map<string, {
    format: GpuFloatFormat;
    saturate: boolean;
    parts: Float32Array[];
    length: number;
    handles?: { bits: GpuHandle<Uint32Array>; values: GpuHandle<Float32Array> };
  }>();

  /** Adds a cast; returns where its elements sit and how to find the group's handles. */
  add(x: Float32Array, format: GpuFloatFormat, saturate: boolean): {
    offset: number;
    handles: () => { bits: GpuHandle<Uint32Array>; values: GpuHandle<Float32Array> };
  } {
    const key = `${format}/${saturate}`;
    let group = this.#groups.get(key);
    if (!group) {
      group = { format, saturate, parts: [], length: 0 };
      this.#groups.set(key, group);
    }
    const offset = group.length;
    group.parts.push(x);
    group.length += x.length;
    const g = group;
    return {
      offset,
      handles: () => {
        if (!g.handles) throw new Error("the batch's casts were not enqueued");
        return g.handles;
      },
    };
  }

  /**
   * Enqueues every group: one narrowing and one widening dispatch each.
   *
   * @throws {LoraquantRangeError} `E_LIMIT` when a group exceeds the adapter's binding size.
   */
  enqueue(batch: Batch): void {
    for (const group of this.#groups.values()) {
      const x = new Float32Array(group.length); // (total) the group's inputs, request by request
      let at = 0;
      for (const part of group.parts) {
        x.set(part, at);
        at += part.length;
      }
      const bits = batch.castFromFloat32(x, group.format, { saturate: group.saturate });
      group.handles = { bits, values: batch.castToFloat32(bits, group.format) };
    }
  }
}

/** Validates one request and enqueues its GPU work on the batch. */
type GpuOpHandler = (request: Request, batch: Batch, context: OpContext) => Pending;

/** A protocol-valid request this oracle does not implement. */
function notHere(op: string, what: string): LoraquantTypeError {
  return new LoraquantTypeError(
    "E_OP",
    `The GPU oracle does not implement ${op} ${what} (ask the reference oracle)`,
  );
}

function show(x: number): string {
  return Object.is(x, -0) ? "-0" : String(x);
}

/** Whether every element is a float32 value (NaN and ±Infinity count). */
function firstNonFloat32(x: Float64Array): number {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (Math.fround(v) !== v && !Number.isNaN(v)) return i;
  }
  return -1;
}

/** `cast`: float32 inputs to float32/float16/bfloat16/fp8, nearest-even, on the cast kernels. */
const castOp: GpuOpHandler = (request, _batch, context) => {
  // E_ARG, as the reference reads them.
  const format = readEnum(request, "format", FLOAT_FORMAT_NAMES);
  const x = readVector(request, "x"); // (count)
  const rounding = readEnum(request, "rounding", ROUNDING_MODES, "nearest-even");
  const saturate = readBoolean(request, "saturate", false);
  // E_OP: protocol-valid, not implemented here.
  if (format !== "float32" && !KERNEL_FORMATS.includes(format)) {
    throw notHere("cast", `to ${format} (only float32, float16, bfloat16, fp8-e4m3, fp8-e5m2)`);
  }
  if (rounding !== "nearest-even") {
    throw notHere("cast", `with rounding "${rounding}" (only "nearest-even")`);
  }
  const bad = firstNonFloat32(x);
  if (bad >= 0) {
    throw notHere(
      "cast",
      `of inputs that are not float32 values: x[${bad}] = ${show(x[bad]!)} (the kernels read ` +
        `float32; casting through float32 first would round twice)`,
    );
  }
  context.checkLimit();
  const f32 = Float32Array.from(x); // exact: every element is a float32 value
  if (format === "float32") {
    // The identity on float32 values: NaN canonical, ±Infinity to ±max under saturate.
    const y = Array.from(
      f32,
      (v) => saturate && !Number.isFinite(v) && !Number.isNaN(v) ? Math.sign(v) * FLOAT32_MAX : v,
    );
    const bits = new Uint32Array(Float32Array.from(y).buffer);
    for (let i = 0; i < y.length; i++) if (Number.isNaN(y[i]!)) bits[i] = 0x7fc00000;
    return { handles: () => [], finish: () => ({ y: encodeVector(y), bits: Array.from(bits) }) };
  }
  // Coalesced with the batch's other casts of this format (CastPool); sliced back out.
  const slot = context.casts.add(f32, format as GpuFloatFormat, saturate);
  const end = slot.offset + f32.length;
  return {
    handles: () => [slot.handles().bits, slot.handles().values],
    finish: ([b, v]) => ({
      y: encodeVector(v!.subarray(slot.offset, end)),
      bits: Array.from(b!.subarray(slot.offset, end)),
    }),
  };
};

/** `matmul`: float32 × float32 → float32 (bounded) and int8 × int8 → int32 (exact). */
const matmulOp: GpuOpHandler = (request, batch, context) => {
  // E_ARG, in the reference's order.
  const dtype = readEnum(request, "dtype", [
    ...FLOAT_FORMAT_NAMES,
    ...INTEGER_DTYPES,
  ]);
  const accumulate = readEnum(request, "accumulate", [
    ...FLOAT_FORMAT_NAMES,
    ...PROTOCOL_INTEGER_ACCUMULATORS,
  ]);
  const rawA = readMatrix(request, "a");
  const rawB = readMatrix(request, "b");
  const integerAccumulator = (PROTOCOL_INTEGER_ACCUMULATORS as readonly string[]).includes(
    accumulate,
  );
  if (integerAccumulator) readEnum(request, "overflow", MATMUL_OVERFLOW_RULES, "error");
  const floatDtype = (FLOAT_FORMAT_NAMES as readonly string[]).includes(dtype);
  if (integerAccumulator && floatDtype) {
    throw argError(
      `Refused combination: float dtype ${dtype} with integer accumulate ${accumulate}`,
    );
  }
  // E_OP
  const int8 = dtype === "int8" && accumulate === "int32";
  if (!(dtype === "float32" && accumulate === "float32") && !int8) {
    throw notHere(
      "matmul",
      `with dtype ${dtype} and accumulate ${accumulate} (only float32/float32 and int8/int32)`,
    );
  }
  if (int8 && rawA.cols > INT8_EXACT_K) {
    throw notHere(
      "matmul",
      `int8/int32 with k = ${rawA.cols} > ${INT8_EXACT_K}, where a partial sum can leave int32 ` +
        `and the overflow rule needs the sums in order`,
    );
  }
  // E_SHAPE
  const a = checkMatrix(rawA, "a"); // (m, k) row-major
  const b = checkMatrix(rawB, "b"); // (k, n) row-major
  if (a.cols !== b.rows) {
    throw shapeError(
      `Cannot multiply a (${a.rows}×${a.cols}) by b (${b.rows}×${b.cols}): a has ${a.cols} ` +
        `columns but b has ${b.rows} rows`,
    );
  }
  context.checkLimit();
  if (int8) {
    // E_RANGE: integers of int8, a first, then b (as the reference).
    for (const [name, m] of [["a", a], ["b", b]] as const) {
      const bad = m.data.findIndex((v) => !Number.isInteger(v) || v < -128 || v > 127);
      if (bad >= 0) {
        throw rangeError(
          `Cannot multiply: ${name}.data[${bad}] = ${show(m.data[bad]!)} is not an integer of ` +
            `int8 [-128, 127]`,
        );
      }
    }
    // k ≤ 131071: every partial sum lies within k·2^14 < 2^31, so no step overflows whatever
    // the rule, and the GPU's wrapping sum is the exact one.
    const c = int8Matmul(
      batch,
      { rows: a.rows, cols: a.cols, data: Int8Array.from(a.data) },
      { rows: b.rows, cols: b.cols, data: Int8Array.from(b.data) },
    );
    return {
      handles: () => [c],
      finish: ([y]) => ({
        y: { shape: [a.rows, b.cols], data: Array.from(y!) },
        overflowed: false,
      }),
    };
  }
  // The protocol's first step: the inputs cast (nearest-even) to float32.
  const c = batch.matmul(
    { rows: a.rows, cols: a.cols, data: Float32Array.from(a.data) },
    { rows: b.rows, cols: b.cols, data: Float32Array.from(b.data) },
  );
  return {
    handles: () => [c],
    finish: ([y]) => ({ y: encodeMatrix({ rows: a.rows, cols: b.cols, data: y! }) }),
  };
};

const QUANTIZE_DTYPES = ["int4", "uint4", "int8", "uint8", "int16", "uint16"] as const;
const QUANTIZE_SCHEMES = ["symmetric", "asymmetric"] as const;
const GRANULARITIES = ["tensor", "channel", "group"] as const;
const QUANTIZE_RANGES = ["full", "restricted"] as const;
const QUANTIZE_PROFILES = ["exact", "pytorch", "onnx"] as const;
/** The dtypes of the GPU affine kernels. */
const KERNEL_QUANTIZE_DTYPES: readonly string[] = ["int8", "uint8", "int4", "uint4"];

/** The layout arguments of quantize/dequantize, read as the reference reads them (E_ARG). */
interface Layout {
  readonly granularity: "tensor" | "channel" | "group";
  readonly axis: 0 | 1;
  readonly groupSize: number;
}

function readLayout(request: Request, op: string): Layout {
  const granularity = readEnum(request, "granularity", GRANULARITIES);
  if (granularity === "channel") {
    const axis = request["axis"] ?? 0;
    if (axis !== 0 && axis !== 1) {
      throw argError(
        `Cannot ${op}: axis must be 0 (one scale per row) or 1 (per column), got ${
          JSON.stringify(axis)
        }`,
      );
    }
    return { granularity, axis, groupSize: 0 };
  }
  if (granularity === "group") {
    const groupSize = request["groupSize"];
    if (typeof groupSize !== "number" || !Number.isInteger(groupSize)) {
      throw argError(
        `Cannot ${op}: granularity "group" needs an integer groupSize, got ${
          JSON.stringify(groupSize) ?? "nothing"
        }`,
      );
    }
    return { granularity, axis: 0, groupSize };
  }
  return { granularity, axis: 0, groupSize: 0 };
}

/** The number of scales (E_SHAPE when groupSize ≥ 1 does not divide cols), or -1 for groupSize < 1. */
function scaleCount(layout: Layout, rows: number, cols: number, op: string): number {
  if (layout.granularity === "tensor") return 1;
  if (layout.granularity === "channel") return layout.axis === 0 ? rows : cols;
  if (layout.groupSize < 1) return -1; // E_RANGE, after the limit
  if (cols % layout.groupSize !== 0) {
    throw shapeError(
      `Cannot ${op}: groupSize ${layout.groupSize} does not divide the ${cols} columns`,
    );
  }
  return rows * (cols / layout.groupSize);
}

function checkLength(v: Float64Array | undefined, count: number, name: string, op: string) {
  if (v !== undefined && count >= 0 && v.length !== count) {
    throw shapeError(`Cannot ${op}: ${name} must hold ${count} values, got ${v.length}`);
  }
}

/** The scale index of element (i, j). */
function scaleIndex(layout: Layout, cols: number, i: number, j: number): number {
  if (layout.granularity === "tensor") return 0;
  if (layout.granularity === "channel") return layout.axis === 0 ? i : j;
  return i * (cols / layout.groupSize) + Math.floor(j / layout.groupSize);
}

/**
 * `quantize` with `profile: "pytorch"` into int8/uint8/int4/uint4 on the affine kernel. Given
 * scales are used as they are; without them the symmetric calibration is done here on the CPU
 * (M / (qmax − z), one float64 division, is the protocol's quotient rounded once); asymmetric
 * calibration is `E_OP`.
 */
const quantizeOp: GpuOpHandler = (request, batch, context) => {
  const op = "quantize";
  // E_ARG, in the reference's order.
  const rawX = readMatrix(request, "x");
  const dtype = readEnum(request, "dtype", QUANTIZE_DTYPES);
  const givenScale = readVector(request, "scale", { optional: true });
  const scheme = givenScale === undefined
    ? readEnum(request, "scheme", QUANTIZE_SCHEMES)
    : "symmetric";
  const granularity = readEnum(request, "granularity", GRANULARITIES);
  const range = readEnum(request, "range", QUANTIZE_RANGES, "full");
  const rounding = readEnum(request, "rounding", ROUNDING_MODES, "nearest-even");
  const profile = readEnum(request, "profile", QUANTIZE_PROFILES, "exact");
  const givenZeroPoint = readVector(request, "zeroPoint", { optional: true });
  if (range === "restricted" && dtype.startsWith("u")) {
    throw argError(`Cannot ${op}: range "restricted" applies to signed dtypes only, got ${dtype}`);
  }
  const layout = readLayout({ ...request, granularity }, op);
  if (profile !== "exact" && rounding !== "nearest-even") {
    throw argError(
      `Cannot ${op}: profile "${profile}" rounds half to even; rounding "${rounding}" needs profile "exact"`,
    );
  }
  if (rounding === "stochastic" && !Number.isInteger(request["seed"])) {
    throw argError(`Cannot ${op}: stochastic rounding needs an integer seed`);
  }
  if (givenZeroPoint !== undefined && givenScale === undefined) {
    throw argError(
      `Cannot ${op}: zeroPoint is given without scale; give both, or neither to calibrate`,
    );
  }
  // E_OP
  if (profile !== "pytorch") throw notHere(op, `with profile "${profile}" (only "pytorch")`);
  if (!KERNEL_QUANTIZE_DTYPES.includes(dtype)) {
    throw notHere(op, `to ${dtype} (only ${KERNEL_QUANTIZE_DTYPES.join(", ")})`);
  }
  if (givenScale === undefined && scheme === "asymmetric") {
    throw notHere(op, "with asymmetric calibration (give scale and zeroPoint)");
  }
  const beyond = rawX.data.findIndex((v) => Number.isFinite(v) && !Number.isFinite(Math.fround(v)));
  if (beyond >= 0) {
    throw notHere(op, `of finite x beyond float32's range: x.data[${beyond}]`);
  }
  // E_SHAPE
  const x = checkMatrix(rawX, "x"); // (rows, cols) row-major
  const count = scaleCount(layout, x.rows, x.cols, op);
  checkLength(givenScale, count, "scale", op);
  checkLength(givenZeroPoint, count, "zeroPoint", op);
  context.checkLimit();
  // E_RANGE (the kernel's own checks repeat these and check scale and zeroPoint).
  if (layout.granularity === "group" && layout.groupSize < 1) {
    throw rangeError(`Cannot ${op}: groupSize must be ≥ 1, got ${layout.groupSize}`);
  }
  const bad = x.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw rangeError(`Cannot ${op}: x must be finite, got ${show(x.data[bad]!)} (x.data[${bad}])`);
  }
  const bits = dtype.endsWith("8") ? 8 : 4;
  const signed = dtype.startsWith("int");
  const qmax = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  let scale = givenScale;
  let zeroPoint = givenZeroPoint ?? new Float64Array(count);
  if (scale === undefined) {
    // Symmetric calibration: z = 0 (signed) or 2^(bits−1); scale = M / (qmax − z), M = max |x|
    // of the tensor/channel/group, 1 for a group of zeros, 2^−1074 if the quotient underflows.
    const z = signed ? 0 : 2 ** (bits - 1);
    const m = new Float64Array(count);
    for (let i = 0; i < x.rows; i++) {
      for (let j = 0; j < x.cols; j++) {
        const g = scaleIndex(layout, x.cols, i, j);
        m[g] = Math.max(m[g]!, Math.abs(x.data[i * x.cols + j]!));
      }
    }
    scale = m.map((v) => v === 0 ? 1 : Math.max(v / (qmax - z), 2 ** -1074));
    zeroPoint = new Float64Array(count).fill(z);
  }
  const q = quantizeAffine(batch, { rows: x.rows, cols: x.cols, data: Float32Array.from(x.data) }, {
    dtype: dtype as GpuQuantizeDtype,
    range,
    granularity: layout.granularity,
    axis: layout.axis,
    ...(layout.granularity === "group" ? { groupSize: layout.groupSize } : {}),
    scale,
    zeroPoint,
  });
  const scales = scale;
  const zeros = zeroPoint;
  return {
    handles: () => [q],
    finish: ([levels]) => ({
      q: { shape: [x.rows, x.cols], data: Array.from(levels!) },
      scale: encodeVector(scales),
      zeroPoint: Array.from(zeros, (v) => v === 0 ? 0 : v),
    }),
  };
};

/** `dequantize` with `profile: "pytorch"` on the affine kernel (levels within ±2^23). */
const dequantizeOp: GpuOpHandler = (request, batch, context) => {
  const op = "dequantize";
  // E_ARG
  const rawQ = readMatrix(request, "q");
  const scale = readVector(request, "scale");
  const zeroPoint = readVector(request, "zeroPoint", { optional: true });
  const layout = readLayout(request, op);
  const profile = readEnum(request, "profile", QUANTIZE_PROFILES, "exact");
  // E_OP
  if (profile !== "pytorch") throw notHere(op, `with profile "${profile}" (only "pytorch")`);
  // E_SHAPE
  const q = checkMatrix(rawQ, "q"); // (rows, cols) row-major
  const count = scaleCount(layout, q.rows, q.cols, op);
  checkLength(scale, count, "scale", op);
  checkLength(zeroPoint, count, "zeroPoint", op);
  context.checkLimit();
  // E_RANGE: integers; then E_OP for levels the kernel does not subtract exactly.
  if (layout.granularity === "group" && layout.groupSize < 1) {
    throw rangeError(`Cannot ${op}: groupSize must be ≥ 1, got ${layout.groupSize}`);
  }
  for (const [name, v] of [["q", q.data], ["zeroPoint", zeroPoint]] as const) {
    const bad = v?.findIndex((e) => !Number.isInteger(e)) ?? -1;
    if (bad >= 0) {
      throw rangeError(
        `Cannot ${op}: ${name} must hold integers, got ${show(v![bad]!)} at [${bad}]`,
      );
    }
  }
  for (const [name, v] of [["q", q.data], ["zeroPoint", zeroPoint]] as const) {
    const big = v?.findIndex((e) => Math.abs(e) > 2 ** 23) ?? -1;
    if (big >= 0) throw notHere(op, `of ${name} beyond ±2^23 (${name}[${big}] = ${v![big]})`);
  }
  const x = dequantizeAffine(batch, { rows: q.rows, cols: q.cols, data: Int32Array.from(q.data) }, {
    granularity: layout.granularity,
    axis: layout.axis,
    ...(layout.granularity === "group" ? { groupSize: layout.groupSize } : {}),
    scale,
    ...(zeroPoint === undefined ? {} : { zeroPoint }),
  });
  return {
    handles: () => [x],
    finish: ([values]) => ({ x: encodeMatrix({ rows: q.rows, cols: q.cols, data: values! }) }),
  };
};

/** The LoRA arguments after the reference's E_ARG, E_OP, E_SHAPE, limit and E_RANGE checks. */
interface LoraArguments {
  readonly w: { rows: number; cols: number; data: Float32Array }; // (out, in)
  readonly a: { rows: number; cols: number; data: Float32Array }; // (r, in)
  readonly b: { rows: number; cols: number; data: Float32Array }; // (out, r)
  readonly alpha: number;
  readonly rslora: boolean;
}

/** Whether alpha/r (alpha/√r with rsLoRA) is exactly a float32 value. */
function scalingIsFloat32(alpha: number, r: number, rslora: boolean): boolean {
  if (alpha === 0) return true;
  let d = r;
  if (rslora) {
    d = Math.round(Math.sqrt(r));
    if (d * d !== r) return false; // √r irrational: so is alpha/√r
  }
  const s = alpha / d;
  // s·d is exact in float64 for a float32 s and d < 2^29, so equality means alpha/d = s exactly.
  return Math.fround(s) === s && d < 2 ** 29 && s * d === alpha;
}

function finiteOrThrow(data: Float64Array, name: string, op: string): void {
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw rangeError(`Cannot ${op}: ${name} must be finite, got ${show(data[bad]!)} at [${bad}]`);
  }
}

/**
 * Reads w, a, b, alpha, rslora, magnitude and the op's own arguments (E_ARG), decides E_OP
 * (DoRA; non-float32 inputs; a scaling that is not a float32 value, whose rounding the protocol's
 * bound γ_(k+r+2)·M does not cover), then E_SHAPE, the limit and E_RANGE as the reference does.
 */
function readLora(
  request: Request,
  context: OpContext,
  op: string,
  extra: { x?: boolean },
): LoraArguments & { x?: { rows: number; cols: number; data: Float32Array }; bias?: Float32Array } {
  const wRaw = readMatrix(request, "w");
  const aRaw = readMatrix(request, "a");
  const bRaw = readMatrix(request, "b");
  const alpha = readNumber(request, "alpha");
  const rslora = readBoolean(request, "rslora", false);
  const magnitude = readVector(request, "magnitude", { optional: true });
  const xRaw = extra.x ? readMatrix(request, "x") : undefined;
  const bias = extra.x ? readVector(request, "bias", { optional: true }) : undefined;
  // E_OP
  if (magnitude !== undefined) throw notHere(op, "with a magnitude (DoRA)");
  const inputs: [string, Float64Array | undefined][] = [
    ["x", xRaw?.data],
    ["w", wRaw.data],
    ["a", aRaw.data],
    ["b", bRaw.data],
    ["bias", bias],
  ];
  for (const [name, data] of inputs) {
    const bad = data === undefined ? -1 : firstNonFloat32(data);
    if (bad >= 0) {
      throw notHere(op, `on inputs that are not float32 values: ${name}[${bad}] = ${data![bad]}`);
    }
  }
  const r = aRaw.rows;
  if (Number.isFinite(alpha) && r >= 1 && !scalingIsFloat32(alpha, r, rslora)) {
    throw notHere(
      op,
      `with a scaling ${rslora ? "alpha/√r" : "alpha/r"} that is not a float32 value ` +
        `(alpha = ${alpha}, r = ${r}): the float32 bound γ_(k+r+2)·M does not cover its rounding`,
    );
  }
  // E_SHAPE
  const w = checkMatrix(wRaw, "w");
  const a = checkMatrix(aRaw, "a");
  const b = checkMatrix(bRaw, "b");
  const out = w.rows;
  const inCount = w.cols;
  if (a.cols !== inCount) {
    throw shapeError(`Cannot ${op}: a must be r×in = ${r}×${inCount}, got ${a.rows}×${a.cols}`);
  }
  if (b.rows !== out || b.cols !== r) {
    throw shapeError(`Cannot ${op}: b must be out×r = ${out}×${r}, got ${b.rows}×${b.cols}`);
  }
  const x = xRaw === undefined ? undefined : checkMatrix(xRaw, "x");
  if (x !== undefined && x.cols !== inCount) {
    throw shapeError(`Cannot ${op}: x must be n×in with in = ${inCount}, got ${x.rows}×${x.cols}`);
  }
  if (bias !== undefined && bias.length !== out) {
    throw shapeError(`Cannot ${op}: bias must have length out = ${out}, got ${bias.length}`);
  }
  context.checkLimit();
  // E_RANGE
  if (r < 1 || r > Math.min(out, inCount)) {
    throw rangeError(
      `Cannot ${op}: the rank r = a's rows must satisfy 1 ≤ r ≤ min(out, in) = ${
        Math.min(out, inCount)
      }, got ${r}`,
    );
  }
  if (!Number.isFinite(alpha)) {
    throw rangeError(`Cannot ${op}: alpha must be finite, got ${show(alpha)}`);
  }
  finiteOrThrow(w.data, "w", op);
  finiteOrThrow(a.data, "a", op);
  finiteOrThrow(b.data, "b", op);
  if (x !== undefined) finiteOrThrow(x.data, "x", op);
  if (bias !== undefined) finiteOrThrow(bias, "bias", op);
  const f32 = (m: { rows: number; cols: number; data: Float64Array }) => ({
    rows: m.rows,
    cols: m.cols,
    data: Float32Array.from(m.data),
  });
  return {
    w: f32(w),
    a: f32(a),
    b: f32(b),
    alpha,
    rslora,
    ...(x === undefined ? {} : { x: f32(x) }),
    ...(bias === undefined ? {} : { bias: Float32Array.from(bias) }),
  };
}

/** `lora.forward` on the fused kernel (bounded: γ_(k+r+2)·M). */
const loraForwardOp: GpuOpHandler = (request, batch, context) => {
  const l = readLora(request, context, "run lora.forward", { x: true });
  const x = l.x!;
  const { y } = loraForward(batch, x, {
    w: l.w,
    a: l.a,
    b: l.b,
    alpha: l.alpha,
    rslora: l.rslora,
    ...(l.bias === undefined ? {} : { bias: l.bias }),
  });
  return {
    handles: () => [y],
    finish: ([values]) => ({ y: encodeMatrix({ rows: x.rows, cols: l.w.rows, data: values! }) }),
  };
};

/** `lora.merge` on the merge kernel (bounded: γ_(r+2)·M ≤ γ_(k+r+2)·M). */
const loraMergeOp: GpuOpHandler = (request, batch, context) => {
  const l = readLora(request, context, "run lora.merge", {});
  const w = mergeLora(batch, l.w, { a: l.a, b: l.b, alpha: l.alpha, rslora: l.rslora });
  return {
    handles: () => [w],
    finish: ([values]) => ({ w: encodeMatrix({ rows: l.w.rows, cols: l.w.cols, data: values! }) }),
  };
};

/** The GPU oracle's op table, `info` aside. */
const GPU_OPS: Readonly<Record<string, GpuOpHandler>> = {
  "cast": castOp,
  "matmul": matmulOp,
  "quantize": quantizeOp,
  "dequantize": dequantizeOp,
  "lora.forward": loraForwardOp,
  "lora.merge": loraMergeOp,
};

/** Every op of the protocol (for the message of an op this oracle leaves out). */
const PROTOCOL_OPS: readonly string[] = [
  "info",
  "cast",
  "decode",
  "int",
  "matmul",
  "quantize",
  "dequantize",
  "block",
  "ternary",
  "metrics",
  "lora.forward",
  "lora.merge",
  "lora.unmerge",
  "lora.params",
  "svd",
  "lowrank",
];

/**
 * The `info` result of the GPU oracle: the protocol's fields, `bounded`, this oracle's limits
 * and the adapter it runs on.
 *
 * @param gpu The device answering (its adapter name is reported).
 * @returns The result object.
 *
 * @example The bounded ops
 * ```ts
 * import { gpuOracleInfo } from "@loraquant/gpu/oracle";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(gpuOracleInfo().bounded, ["matmul", "lora.forward", "lora.merge"]);
 * ```
 */
export function gpuOracleInfo(gpu?: Gpu): {
  name: string;
  version: string;
  protocol: string;
  ops: string[];
  bounded: string[];
  formats: string[];
  limits: { lineBytes: number; numbers: number };
  adapter: string | null;
} {
  return {
    name: "@loraquant/gpu",
    version: GPU_ORACLE_VERSION,
    protocol: "1",
    ops: [...GPU_ORACLE_OPS],
    bounded: [...GPU_ORACLE_BOUNDED],
    formats: ["float32", ...KERNEL_FORMATS, ...KERNEL_QUANTIZE_DTYPES, "int32"],
    limits: { lineBytes: GPU_MAX_LINE_BYTES, numbers: GPU_MAX_NUMBERS },
    adapter: gpu?.adapterName ?? null,
  };
}

function failure(id: Json, code: string, message: string): string {
  return JSON.stringify({ id, ok: false, error: { code, message } });
}

function countNumbers(value: unknown, limit: number): number {
  // Counts the numbers (and protocol number strings) of a request, stopping past `limit`.
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= limit) {
    const v = stack.pop();
    if (typeof v === "number" || typeof v === "string") count++;
    else if (Array.isArray(v)) { for (const item of v) stack.push(item); }
    else if (v !== null && typeof v === "object") {
      for (const item of Object.values(v)) stack.push(item);
    }
  }
  return count;
}

/** One request line after parsing: answered at once, or waiting for the batch. */
type Step =
  | { readonly kind: "answered"; readonly text: string }
  | {
    readonly kind: "pending";
    readonly id: Json;
    readonly op: string;
    readonly request: Request;
    readonly pending: Pending;
  };

function errorAnswer(id: Json, op: string, error: unknown): string {
  if (isLoraquantError(error)) return failure(id, error.code, error.message);
  if (error instanceof GpuError) {
    // A device failure is not the request's fault; out-of-memory reads as "too large here".
    const code = error.code === "E_OUT_OF_MEMORY" ? "E_LIMIT" : "E_ARG";
    return failure(id, code, `GPU failure while answering ${op}: ${error.code}: ${error.message}`);
  }
  return failure(
    id,
    "E_ARG",
    `Internal error while answering ${op}: ${(error as Error)?.message ?? error}`,
  );
}

/** Parses a line and, for a GPU op, validates it and enqueues its work on `batch`. */
function prepare(
  gpu: Gpu,
  line: string,
  batch: Batch,
  casts: CastPool,
  limits: GpuOracleLimits,
): Step {
  const maxNumbers = limits.maxNumbers ?? GPU_MAX_NUMBERS;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    return {
      kind: "answered",
      text: failure(null, "E_PARSE", `Request is not JSON: ${(e as Error).message}`),
    };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { kind: "answered", text: failure(null, "E_PARSE", "Request must be a JSON object") };
  }
  const request = parsed as Request;
  const id = (request["id"] === undefined ? null : request["id"]) as Json;
  const op = request["op"];
  if (typeof op !== "string") {
    return {
      kind: "answered",
      text: failure(
        id,
        "E_OP",
        `Missing or non-string "op" (got ${JSON.stringify(op) ?? "nothing"})`,
      ),
    };
  }
  if (op === "info") {
    return { kind: "answered", text: JSON.stringify({ id, ok: true, result: gpuOracleInfo(gpu) }) };
  }
  if (!Object.hasOwn(GPU_OPS, op)) {
    const known = PROTOCOL_OPS.includes(op)
      ? `The GPU oracle does not implement ${op} (ask the reference oracle)`
      : `Unknown op ${JSON.stringify(op)}`;
    return {
      kind: "answered",
      text: failure(id, "E_OP", `${known}; implemented here: ${GPU_ORACLE_OPS.join(", ")}`),
    };
  }
  const context: OpContext = {
    casts,
    checkLimit(): void {
      if (countNumbers(request, maxNumbers) > maxNumbers) {
        throw new LoraquantRangeError(
          "E_LIMIT",
          `Request holds more than ${maxNumbers} numbers, this oracle's limit`,
        );
      }
    },
  };
  try {
    return { kind: "pending", id, op, request, pending: GPU_OPS[op]!(request, batch, context) };
  } catch (error) {
    return { kind: "answered", text: errorAnswer(id, op, error) };
  }
}

/** Answers the prepared steps of one batch: one readback for all of them. */
async function complete(batch: Batch, steps: readonly Step[]): Promise<string[]> {
  // Each distinct handle is read once (coalesced casts share theirs).
  const unique: GpuHandle<GpuArray>[] = [];
  const index = new Map<GpuHandle<GpuArray>, number>();
  const wanted = steps.map((step) => {
    if (step.kind === "answered") return [];
    return step.pending.handles().map((h) => {
      if (!index.has(h)) {
        index.set(h, unique.length);
        unique.push(h);
      }
      return index.get(h)!;
    });
  });
  const arrays = await batch.read(...unique);
  return steps.map((step, i) => {
    if (step.kind === "answered") return step.text;
    try {
      const mine = wanted[i]!.map((j) => arrays[j]!);
      return JSON.stringify({ id: step.id, ok: true, result: step.pending.finish(mine) });
    } catch (error) {
      return errorAnswer(step.id, step.op, error);
    }
  });
}

/** Answers request lines with one batch: validate and enqueue each, the casts, one readback. */
async function answerBatch(
  gpu: Gpu,
  texts: readonly string[],
  limits: GpuOracleLimits,
): Promise<string[]> {
  const batch = gpu.batch();
  const casts = new CastPool();
  const steps = texts.map((line) => prepare(gpu, line, batch, casts, limits));
  try {
    casts.enqueue(batch);
  } catch (error) {
    batch.discard();
    throw error;
  }
  return await complete(batch, steps);
}

/** The id and op of a request line that parsed (for answering a failure of its own batch). */
function idAndOp(line: string): { id: Json; op: string } {
  const request = JSON.parse(line) as Request;
  return { id: (request["id"] ?? null) as Json, op: String(request["op"]) };
}

/**
 * Answers request lines on the GPU: every line validated and enqueued on one batch, one
 * readback, then one answer line per request (no trailing newline), in order. Lines holding only
 * white space get no answer. When the batch fails on the device (a kernel error, out of memory)
 * or its coalesced casts exceed the adapter's limits, each request is answered again in a batch
 * of its own, so a failure is reported on the request that caused it (`E_LIMIT` for
 * out-of-memory, `E_ARG` "GPU failure" otherwise).
 *
 * @param gpu The device.
 * @param lines Request lines (JSON objects).
 * @param limits Lower limits than the defaults (for tests and embedding).
 * @returns The answer lines, one per non-blank request line.
 * @throws {GpuError} `E_DEVICE_LOST` when the device is lost (every later request would fail).
 *
 * @example An unknown op and a bad line need no GPU work
 * ```ts
 * import { answerGpuLines } from "@loraquant/gpu/oracle";
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { assertEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const [a, b] = await answerGpuLines(gpu, ["not json", '{"id":7,"op":"fft"}']);
 *   assertEquals(JSON.parse(a!).error.code, "E_PARSE");
 *   assertEquals(JSON.parse(b!).error.code, "E_OP");
 *   gpu.destroy();
 * }
 * ```
 */
export async function answerGpuLines(
  gpu: Gpu,
  lines: readonly string[],
  limits: GpuOracleLimits = {},
): Promise<string[]> {
  const texts = lines.filter((line) => line.trim() !== "");
  try {
    return await answerBatch(gpu, texts, limits);
  } catch (error) {
    if (error instanceof GpuError && error.code === "E_DEVICE_LOST") throw error;
    if (!(error instanceof GpuError) && !isLoraquantError(error)) throw error;
    // A device failure, or coalesced casts beyond the adapter's limits: each request again,
    // alone, so the failure is reported on the request that caused it.
    const answers: string[] = [];
    for (const text of texts) {
      try {
        answers.push(...await answerBatch(gpu, [text], limits));
      } catch (failure) {
        if (failure instanceof GpuError && failure.code === "E_DEVICE_LOST") throw failure;
        const { id, op } = idAndOp(text);
        answers.push(errorAnswer(id, op, failure));
      }
    }
    return answers;
  }
}

/**
 * Serves the protocol on byte streams: reads JSON Lines requests from `input` and writes one
 * answer line per request to `output`, in order, then closes `output`. Every complete line of a
 * chunk read is answered in one batch (one GPU→CPU synchronisation, ~11 ms in Deno, for all of
 * them; a chunk whose requests hold more than `maxBatchNumbers` numbers is split), and its
 * answers are written before the next chunk is read, so a client may write one line and wait.
 * A line longer than `maxLineBytes` is skipped as it arrives and answered `E_LIMIT` (id null).
 *
 * @param gpu The device.
 * @param input The request bytes.
 * @param output Where answer lines go.
 * @param options Limits.
 * @returns Resolves when the input has ended and every answer is written.
 * @throws {GpuError} `E_DEVICE_LOST` when the device is lost.
 *
 * @example Two requests, one batch (skipped where no adapter exists)
 * ```ts
 * import { serveGpu } from "@loraquant/gpu/oracle";
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { assertEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const lines = '{"id":1,"op":"info"}\n{"id":2,"op":"cast","format":"bfloat16","x":[1]}\n';
 *   const input = new Blob([lines]).stream();
 *   const output = new TransformStream<Uint8Array, Uint8Array>();
 *   const text = new Response(output.readable).text();
 *   await serveGpu(gpu, input, output.writable);
 *   const answers = (await text).trim().split("\n").map((l) => JSON.parse(l));
 *   assertEquals(answers[1].result, { y: [1], bits: [16256] });
 *   gpu.destroy();
 * }
 * ```
 */
export async function serveGpu(
  gpu: Gpu,
  input: ReadableStream<Uint8Array>,
  output: WritableStream<Uint8Array>,
  options: ServeGpuOptions = {},
): Promise<void> {
  const maxLineBytes = options.maxLineBytes ?? GPU_MAX_LINE_BYTES;
  const maxBatchNumbers = options.maxBatchNumbers ?? 2 ** 24;
  const writer = output.getWriter();
  const encoder = new TextEncoder();
  for await (const lines of streamLines(input, maxLineBytes)) {
    const out: string[] = [];
    let group: string[] = [];
    let groupBytes = 0;
    const flushGroup = async () => {
      if (group.length > 0) out.push(...await answerGpuLines(gpu, group, options));
      group = [];
      groupBytes = 0;
    };
    for (const line of lines) {
      if ("tooLong" in line) {
        await flushGroup();
        out.push(tooLongAnswer(maxLineBytes));
        continue;
      }
      // A line's bytes bound its numbers (each takes at least two bytes with its comma).
      if (groupBytes > 0 && groupBytes + line.text.length > 2 * maxBatchNumbers) await flushGroup();
      group.push(line.text);
      groupBytes += line.text.length;
    }
    await flushGroup();
    await writer.write(encoder.encode(out.map((a) => a + "\n").join("")));
  }
  await writer.close();
}

if (import.meta.main) {
  let gpu: Gpu;
  try {
    gpu = await requestGpu();
  } catch (error) {
    console.error(
      `gpu:oracle: ${error instanceof GpuError ? error.message : error} (the GPU oracle needs ` +
        `a WebGPU adapter; use \`deno task oracle\` for the reference)`,
    );
    Deno.exit(2);
  }
  await serveGpu(gpu, Deno.stdin.readable, Deno.stdout.writable);
  gpu.destroy();
}
