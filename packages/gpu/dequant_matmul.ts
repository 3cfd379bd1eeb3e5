/**
 * Matmul with integer weights dequantized on the fly (like ONNX Runtime's MatMulNBits):
 * y (n, out) = x (n, in) · Ŵᵀ, where Ŵ (out, in) is W's levels dequantized exactly as the
 * reference's `dequantize(q, scale, { profile: "pytorch", … })` does,
 * ŵ = fround((q − zeroPoint) · fround(scale)), with one scale and zero point per output row
 * (`"channel"`) or per group of `groupSize` consecutive inputs of a row (`"group"`), and the sum
 * accumulated in float32 (docs/gpu.md §Dequant matmul).
 *
 * Layout (the public function packs on the CPU): the levels of each (row, group) are packed into
 * wordsPerGroup = ⌈groupSize / per⌉ consecutive u32 words, per = 4 elements of 8 bits or 8 of 4
 * bits; element e of a group sits in word ⌊e / per⌋ at bits b·(e mod per) … b·(e mod per) + b − 1
 * (b the width, low bits first, two's complement for int8/int4); bits past the group are zero and
 * masked. Words: (out, groupsPerRow, wordsPerGroup) row-major `array<u32>`. `"channel"` is the
 * case groupSize = in. Scales: (out, groupsPerRow) `array<f32>` of fround(scale); zero points
 * the same shape as `array<i32>`. x (n, in) and y (n, out) row-major `array<f32>`.
 *
 * @module
 */
import { argError, rangeError, shapeError } from "@loraquant/reference/errors";
import type { Batch, GpuHandle } from "./batch.ts";
import type { Float32Matrix } from "./matmul.ts";
import type { GpuQuantizeDtype } from "./quantize.ts";

/** Quantized weights W (out, in): integer levels with their scales and zero points. */
export interface QuantizedWeights {
  /** The level dtype. */
  readonly dtype: GpuQuantizeDtype;
  /** out: number of rows (outputs). */
  readonly rows: number;
  /** in: number of columns (inputs). */
  readonly cols: number;
  /** The levels, (out, in) row-major, integers in [qmin, qmax] of `dtype`. */
  readonly q: ArrayLike<number>;
  /** `"channel"`: one scale per row; `"group"`: one per `groupSize` inputs of a row. @default {"channel"} */
  readonly granularity?: "channel" | "group";
  /** For `"group"` (required there): inputs per group; divides `cols`. */
  readonly groupSize?: number;
  /** The scales, (out, groupsPerRow) row-major, finite and > 0. */
  readonly scale: ArrayLike<number>;
  /** The zero points, same shape, integers in [qmin, qmax]. @default {zeros} */
  readonly zeroPoint?: ArrayLike<number>;
}

/** Outputs per invocation: TM rows of x × TN rows of W. */
export const DEQUANT_TILE = { rows: 4, cols: 4 } as const;
/** Invocations per workgroup: 8 × 8, so a workgroup covers 32 rows × 32 outputs of y. */
export const DEQUANT_WORKGROUP = { x: 8, y: 8 } as const;

const BITS: Record<GpuQuantizeDtype, number> = { int8: 8, uint8: 8, int4: 4, uint4: 4 };

/** WGSL returning lanes `h·4 … h·4 + 3` of a word's levels as `vec4<i32>` (sign-extended or not). */
function unpackExpression(dtype: GpuQuantizeDtype, half: number, word: string): string {
  switch (dtype) {
    case "int8":
      return `(vec4<i32>(bitcast<i32>(${word})) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u)`;
    case "uint8":
      return `vec4<i32>((vec4<u32>(${word}) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(255u))`;
    case "int4":
      return half === 0
        ? `(vec4<i32>(bitcast<i32>(${word})) << vec4<u32>(28u, 24u, 20u, 16u)) >> vec4<u32>(28u)`
        : `(vec4<i32>(bitcast<i32>(${word})) << vec4<u32>(12u, 8u, 4u, 0u)) >> vec4<u32>(28u)`;
    case "uint4":
      return half === 0
        ? `vec4<i32>((vec4<u32>(${word}) >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(15u))`
        : `vec4<i32>((vec4<u32>(${word}) >> vec4<u32>(16u, 20u, 24u, 28u)) & vec4<u32>(15u))`;
  }
}

/** Writes the kernel of one dtype out unrolled (TM × TN f32 accumulators). */
function dequantKernel(dtype: GpuQuantizeDtype): string {
  const rows = [...Array(DEQUANT_TILE.rows).keys()];
  const cols = [...Array(DEQUANT_TILE.cols).keys()];
  const per = 32 / BITS[dtype];
  const halves = [...Array(per / 4).keys()];
  const lanes = [0, 1, 2, 3];
  const lines = [
    "struct Params { n: u32, outN: u32, inN: u32, groupSize: u32, groupsPerRow: u32, wordsPerGroup: u32 }",
    "@group(0) @binding(0) var<uniform> params: Params;",
    "@group(0) @binding(1) var<storage, read> x: array<f32>;       // (n, in) row-major",
    "@group(0) @binding(2) var<storage, read> words: array<u32>;   // (out, groupsPerRow, wordsPerGroup)",
    "@group(0) @binding(3) var<storage, read> scale: array<f32>;   // (out, groupsPerRow)",
    "@group(0) @binding(4) var<storage, read> zp: array<i32>;      // (out, groupsPerRow)",
    "@group(0) @binding(5) var<storage, read_write> y: array<f32>; // (n, out) row-major",
    "",
    `@compute @workgroup_size(${DEQUANT_WORKGROUP.x}, ${DEQUANT_WORKGROUP.y})`,
    "fn main(@builtin(global_invocation_id) id: vec3<u32>) {",
    "  let n = params.n;",
    "  let outN = params.outN;",
    "  let inN = params.inN;",
    "  let gs = params.groupSize;",
    "  let gpr = params.groupsPerRow;",
    "  let wpg = params.wordsPerGroup;",
    `  let row0 = id.y * ${DEQUANT_TILE.rows}u;`,
    `  let col0 = id.x * ${DEQUANT_TILE.cols}u;`,
    "  if (row0 >= n || col0 >= outN) { return; }",
    "  // Reads past the edge are clamped to the last row: valid data, never stored.",
    ...rows.map((i) => `  let rowX${i} = min(row0 + ${i}u, n - 1u) * inN;`),
    ...cols.map((j) => `  let rowW${j} = min(col0 + ${j}u, outN - 1u) * gpr;`),
    ...rows.flatMap((i) => cols.map((j) => `  var acc${i}_${j} = 0.0f;`)),
    "  for (var g = 0u; g < gpr; g++) {",
    ...cols.flatMap((j) => [
      `    let s${j} = scale[rowW${j} + g];`,
      `    let z${j} = vec4<i32>(zp[rowW${j} + g]);`,
      `    let base${j} = (rowW${j} + g) * wpg;`,
    ]),
    "    let e0 = g * gs;",
    "    for (var w = 0u; w < wpg; w++) {",
    `      let local = w * ${per}u;`,
    ...halves.flatMap((h) => [
      `      let lane${h} = vec4<u32>(local + ${4 * h}u) + vec4<u32>(0u, 1u, 2u, 3u);`,
      `      let valid${h} = lane${h} < vec4<u32>(gs);`,
      `      let at${h} = min(vec4<u32>(e0) + lane${h}, vec4<u32>(inN - 1u));`,
    ]),
    ...cols.flatMap((j) => [
      `      let word${j} = words[base${j} + w];`,
      ...halves.map((h) =>
        `      let w${j}_${h} = select(vec4<f32>(), vec4<f32>((${
          unpackExpression(dtype, h, `word${j}`)
        }) - z${j}) * s${j}, valid${h});`
      ),
    ]),
    ...rows.flatMap((i) =>
      halves.flatMap((h) => [
        `      let x${i}_${h} = select(vec4<f32>(), vec4<f32>(${
          lanes.map((l) => `x[rowX${i} + at${h}[${l}]]`).join(", ")
        }), valid${h});`,
        ...cols.map((j) => `      acc${i}_${j} = acc${i}_${j} + dot(x${i}_${h}, w${j}_${h});`),
      ])
    ),
    "    }",
    "  }",
    ...rows.flatMap((i) => [
      `  if (row0 + ${i}u < n) {`,
      `    let out = (row0 + ${i}u) * outN + col0;`,
      ...cols.map((j) => `    if (col0 + ${j}u < outN) { y[out + ${j}u] = acc${i}_${j}; }`),
      "  }",
    ]),
    "}",
  ];
  return lines.join("\n") + "\n";
}

/**
 * The dequant-matmul kernels by dtype, written out unrolled: 4 × 4 outputs per invocation,
 * workgroup 8 × 8.
 *
 * Bindings (group 0):
 * - 0 `params`: uniform, 32 bytes: `n, out, in, groupSize, groupsPerRow, wordsPerGroup: u32`,
 *   two u32 of padding;
 * - 1 `x`: storage read, `array<f32>`, (n, in) row-major;
 * - 2 `words`: storage read, `array<u32>`, (out, groupsPerRow, wordsPerGroup) packed levels;
 * - 3 `scale`: storage read, `array<f32>`, (out, groupsPerRow) fround(scale);
 * - 4 `zp`: storage read, `array<i32>`, (out, groupsPerRow);
 * - 5 `y`: storage read_write, `array<f32>`, (n, out) row-major.
 *
 * Per group and per word, each weight is ŵ = f32(q − z) · s (eq. (D1): q − z exact, one
 * correctly rounded product), lanes past the group masked to 0 in both x and ŵ; the products
 * are summed in float32 with `dot` over 4 lanes and `+` into the accumulator, in ascending
 * input order across words (eq. (D2); the order inside a `dot` is the implementation's).
 */
export const DEQUANT_MATMUL_WGSL: Readonly<Record<GpuQuantizeDtype, string>> = {
  int8: dequantKernel("int8"),
  uint8: dequantKernel("uint8"),
  int4: dequantKernel("int4"),
  uint4: dequantKernel("uint4"),
};

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/**
 * y (n, out) = x (n, in) · Ŵᵀ with integer weights dequantized on the fly, accumulated in
 * float32: ŵ_jp = fround((q_jp − z_jg) · fround(s_jg)) exactly as the reference's
 * `dequantize(q, scale, { profile: "pytorch", granularity: "channel" | "group", … })`, then
 * y_ij = Σ_p x_ip·ŵ_jp summed in float32 in ascending p (four terms at a time through `dot`), so
 * |ŷ_ij − Σ_p x_ip·ŵ_jp| ≤ γ_in · Σ_p |x_ip|·|ŵ_jp| (+ underflow terms), γ_k = k·u/(1 − k·u),
 * u = 2⁻²⁴ (docs/gpu.md eq. (D3)). in = 0 gives zeros.
 *
 * The levels are packed on the CPU (8-bit levels 4 per u32, 4-bit levels 8 per u32, one
 * group's words apart from the next's) and uploaded with the float32 scales.
 *
 * @param batch The batch to enqueue on.
 * @param x (n, in) row-major float32.
 * @param weights W (out, in): dtype, levels, granularity, groupSize, scales, zero points.
 * @returns y, (n, out) row-major float32, once read.
 * @throws {LoraquantTypeError} `E_ARG`: x not a float32 matrix; weights without integer sizes,
 * an unknown dtype or granularity, a missing or non-integer groupSize for `"group"`, q, scale or
 * zeroPoint not arrays. `E_SHAPE`: a data length other than rows·cols; x.cols ≠ weights.cols;
 * groupSize does not divide cols; a scale or zeroPoint length other than out·groupsPerRow.
 * @throws {LoraquantRangeError} `E_RANGE`: groupSize < 1; a level or zero point that is not an
 * integer in [qmin, qmax]; a scale not finite and > 0 (or 0 or infinite in float32, or with an
 * infinite float32 reciprocal, as in the reference). `E_LIMIT` (from `Batch.run`) above the
 * adapter's limits.
 * @throws {GpuError} `E_STATE` after `read()`; `E_DEVICE_LOST` when the device is lost.
 *
 * @example int4 weights, one group of 8 per row (skipped where no adapter exists)
 * ```ts
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { dequantMatmul } from "@loraquant/gpu/dequant-matmul";
 * import { assertEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const batch = gpu.batch();
 *   const x = { rows: 1, cols: 8, data: new Float32Array([1, 1, 1, 1, 1, 1, 1, 2]) };
 *   const y = dequantMatmul(batch, x, {
 *     dtype: "int4",
 *     rows: 2,
 *     cols: 8,
 *     q: [-8, -7, 0, 1, 2, 3, 4, 7, 1, 1, 1, 1, 1, 1, 1, 1],
 *     granularity: "group",
 *     groupSize: 8,
 *     scale: [0.5, 0.25],
 *     zeroPoint: [0, 1],
 *   });
 *   const [values] = await batch.read(y);
 *   assertEquals([...values], [4.5, 0]); // (−8 − 7 + 0 + 1 + 2 + 3 + 4 + 2·7) · 0.5; (1 − 1) · 0.25
 *   gpu.destroy();
 * }
 * ```
 */
export function dequantMatmul(
  batch: Batch,
  x: Float32Matrix,
  weights: QuantizedWeights,
): GpuHandle<Float32Array> {
  const what = "dequant matmul";
  if (typeof x !== "object" || x === null || !isCount(x.rows) || !isCount(x.cols)) {
    throw argError(`Cannot ${what}: x must be a { rows, cols, data } matrix`);
  }
  if (!(x.data instanceof Float32Array)) {
    throw argError(`Cannot ${what}: x.data must be a Float32Array`);
  }
  if (typeof weights !== "object" || weights === null) {
    throw argError(`Cannot ${what}: weights must be an object, got ${weights}`);
  }
  const { dtype, rows: outN, cols: inN } = weights;
  if (!isCount(outN) || !isCount(inN)) {
    throw argError(`Cannot ${what}: weights.rows and weights.cols must be non-negative integers`);
  }
  if (!(dtype in BITS)) {
    throw argError(
      `Cannot ${what}: weights.dtype must be one of int8, uint8, int4, uint4, got ${
        JSON.stringify(dtype)
      }`,
    );
  }
  const granularity = weights.granularity ?? "channel";
  if (granularity !== "channel" && granularity !== "group") {
    throw argError(
      `Cannot ${what}: granularity must be "channel" or "group", got ${
        JSON.stringify(granularity)
      }`,
    );
  }
  if (
    granularity === "group" &&
    (typeof weights.groupSize !== "number" || !Number.isInteger(weights.groupSize))
  ) {
    throw argError(
      `Cannot ${what}: granularity "group" needs an integer groupSize, got ${weights.groupSize}`,
    );
  }
  for (const name of ["q", "scale", "zeroPoint"] as const) {
    const v = weights[name];
    if (name === "zeroPoint" && v === undefined) continue;
    if (typeof v !== "object" || v === null || typeof v.length !== "number") {
      throw argError(`Cannot ${what}: weights.${name} must be an array of numbers`);
    }
  }
  // E_SHAPE
  if (x.data.length !== x.rows * x.cols) {
    throw shapeError(
      `Cannot ${what}: x is ${x.rows}×${x.cols} but its data holds ${x.data.length} elements`,
    );
  }
  if (weights.q.length !== outN * inN) {
    throw shapeError(
      `Cannot ${what}: weights are ${outN}×${inN} but q holds ${weights.q.length} elements`,
    );
  }
  if (x.cols !== inN) {
    throw shapeError(
      `Cannot ${what}: x is ${x.rows}×${x.cols} but the weights are ${outN}×${inN} (x.cols ≠ in)`,
    );
  }
  const groupSize = granularity === "group" ? weights.groupSize as number : Math.max(inN, 1);
  if (groupSize >= 1 && inN % groupSize !== 0) {
    throw shapeError(`Cannot ${what}: groupSize ${groupSize} does not divide the ${inN} columns`);
  }
  const groupsPerRow = granularity === "channel" ? 1 : groupSize >= 1 ? inN / groupSize : 0;
  const count = outN * groupsPerRow;
  if (groupSize >= 1) {
    for (const name of ["scale", "zeroPoint"] as const) {
      const v = weights[name];
      if (v !== undefined && v.length !== count) {
        throw shapeError(
          `Cannot ${what}: weights.${name} has ${v.length} entries, expected ${count} (one per ${
            granularity === "channel" ? "row" : "group"
          })`,
        );
      }
    }
  }
  // E_RANGE
  if (groupSize < 1) {
    throw rangeError(`Cannot ${what}: groupSize must be ≥ 1, got ${groupSize}`);
  }
  const bits = BITS[dtype];
  const signed = dtype.startsWith("int");
  const qmin = signed ? -(2 ** (bits - 1)) : 0;
  const qmax = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const scale = new Float32Array(count); // (out, groupsPerRow)
  const zeroPoint = new Int32Array(count); // (out, groupsPerRow)
  for (let g = 0; g < count; g++) {
    const s = weights.scale[g]!;
    const f = Math.fround(s);
    if (!(s > 0 && s < Infinity) || !(f > 0 && f < Infinity) || Math.fround(1 / f) === Infinity) {
      throw rangeError(
        `Cannot ${what}: scale must be finite and > 0 in float32 with a finite float32 reciprocal, got ${s} (scale[${g}])`,
      );
    }
    scale[g] = f;
    const z = weights.zeroPoint?.[g] ?? 0;
    if (!Number.isInteger(z) || z < qmin || z > qmax) {
      throw rangeError(
        `Cannot ${what}: zeroPoint must be an integer in [${qmin}, ${qmax}], got ${z} (zeroPoint[${g}])`,
      );
    }
    zeroPoint[g] = z;
  }
  const per = 32 / bits;
  const wordsPerGroup = Math.ceil(groupSize / per);
  const words = new Uint32Array(Math.max(count * wordsPerGroup, 1)); // (out, groups, words)
  const mask = (1 << bits) - 1;
  for (let j = 0; j < outN; j++) {
    for (let p = 0; p < inN; p++) {
      const v = weights.q[j * inN + p]!;
      if (!Number.isInteger(v) || v < qmin || v > qmax) {
        throw rangeError(
          `Cannot ${what}: q must hold integers in [${qmin}, ${qmax}], got ${v} at (${j}, ${p})`,
        );
      }
      const g = Math.floor(p / groupSize);
      const e = p - g * groupSize;
      const index = (j * groupsPerRow + g) * wordsPerGroup + Math.floor(e / per);
      words[index]! |= (v & mask) << (bits * (e % per));
    }
  }
  const n = x.rows;
  const params = new Uint32Array([
    n,
    outN,
    inN,
    groupSize,
    inN === 0 ? 0 : groupsPerRow,
    wordsPerGroup,
    0,
    0,
  ]);
  const [y] = batch.run({
    kernel: { name: `dequant-matmul-${dtype}`, code: DEQUANT_MATMUL_WGSL[dtype] },
    params,
    inputs: [x.data, words, scale, zeroPoint],
    outputs: [{ shape: [n, outN], arrayType: Float32Array }],
    workgroups: n * outN === 0 ? [0] : [
      Math.ceil(outN / (DEQUANT_TILE.cols * DEQUANT_WORKGROUP.x)),
      Math.ceil(n / (DEQUANT_TILE.rows * DEQUANT_WORKGROUP.y)),
    ],
  });
  return y as GpuHandle<Float32Array>;
}
