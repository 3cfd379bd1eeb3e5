/**
 * The int8 × int8 → int32 matrix product on packed data (4 int8 per u32), bit-exact with the
 * reference's `integerMatmul(a, b, { dtype: "int8", accumulate: "int32", overflow: "wrap" })`
 * (docs/gpu.md §Int8 matmul).
 *
 * Two kernels compute the same sums:
 *
 * - `"dot4"` (`INT8_MATMUL_DOT4_WGSL`): WGSL's `dot4I8Packed`, used by default where the
 *   runtime's WGSL has the `packed_4x8_integer_dot_product` language feature
 *   (`navigator.gpu.wgslLanguageFeatures`);
 * - `"unpack"` (`INT8_MATMUL_UNPACK_WGSL`): sign-extends the bytes with shifts and multiplies
 *   lane by lane, for runtimes without it.
 *
 * Every product of two int8 values is exact (|a·b| ≤ 2^14), and WGSL's i32 `+` and `*` wrap
 * (two's complement, modulo 2^32) at run time. Wrapping addition is associative and
 * commutative modulo 2^32, so whatever the order in which the kernels add the products, every
 * c_ij equals the exact sum Σ_p a_ip·b_pj reduced modulo 2^32 into [−2^31, 2^31), which is the
 * reference's step-by-step `"wrap"` result.
 *
 * Layout (the public functions pack on the CPU): A (m, k) as `array<u32>` (m, kw) row-major with
 * kw = ⌈k / 4⌉, word p of row i holding a[i][4p + e] in bits 8e … 8e + 7 (two's complement,
 * e = 0 … 3, little-endian); B (k, n) TRANSPOSED, as `array<u32>` (n, kw), word p of row j
 * holding b[4p + e][j] the same way. Bytes past k are zero (they add 0). C (m, n) `array<i32>`
 * row-major.
 *
 * @module
 */
import { argError, LoraquantTypeError } from "@loraquant/reference/errors";
import type { Batch, GpuHandle } from "./batch.ts";

/** An int8 matrix: `data` holds rows·cols elements, row-major. */
export interface Int8Matrix {
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** (rows, cols) row-major. */
  readonly data: Int8Array;
}

/** The two int8 matmul kernels. */
export type Int8MatmulVariant = "dot4" | "unpack";

/** Options of {@linkcode int8Matmul}. */
export interface Int8MatmulOptions {
  /**
   * The kernel: `"dot4"` needs the WGSL language feature `packed_4x8_integer_dot_product`.
   * @default {"dot4" where `navigator.gpu.wgslLanguageFeatures` has it, else "unpack"}
   */
  variant?: Int8MatmulVariant;
}

/** Outputs per invocation: TM rows × TN columns of C. */
export const INT8_TILE = { rows: 4, cols: 8 } as const;
/** Invocations per workgroup: 8 × 8, so a workgroup covers 32 rows × 64 columns of C. */
export const INT8_WORKGROUP = { x: 8, y: 8 } as const;

/**
 * Whether this runtime's WGSL has `dot4I8Packed` (the `packed_4x8_integer_dot_product` language
 * feature, detected, not assumed).
 *
 * @returns True where `navigator.gpu.wgslLanguageFeatures` lists the feature.
 *
 * @example Choosing the kernel
 * ```ts
 * import { hasDot4I8Packed } from "@loraquant/gpu/int8-matmul";
 * import { assert } from "@std/assert";
 *
 * assert(typeof hasDot4I8Packed() === "boolean");
 * ```
 */
export function hasDot4I8Packed(): boolean {
  const gpu = typeof navigator === "undefined"
    ? undefined
    : (navigator as { gpu?: { wgslLanguageFeatures?: ReadonlySet<string> } }).gpu;
  return gpu?.wgslLanguageFeatures?.has("packed_4x8_integer_dot_product") ?? false;
}

/**
 * Writes a kernel out unrolled: TM × TN accumulators (i32 for dot4, vec4<i32> lane sums for
 * unpack, added up at the end) and one loop over the kw packed words.
 */
function int8Kernel(variant: Int8MatmulVariant): string {
  const rows = [...Array(INT8_TILE.rows).keys()];
  const cols = [...Array(INT8_TILE.cols).keys()];
  const dot4 = variant === "dot4";
  const lines = [
    "struct Params { m: u32, n: u32, kw: u32, pad: u32 }",
    "@group(0) @binding(0) var<uniform> params: Params;",
    "@group(0) @binding(1) var<storage, read> a: array<u32>;       // (m, kw) packed rows of A",
    "@group(0) @binding(2) var<storage, read> bt: array<u32>;      // (n, kw) packed columns of B",
    "@group(0) @binding(3) var<storage, read_write> c: array<i32>; // (m, n) row-major",
    "",
    "// The four bytes of a word, sign-extended: byte e (bits 8e … 8e + 7) in lane e.",
    "fn unpack(w: u32) -> vec4<i32> {",
    "  return (vec4<i32>(bitcast<i32>(w)) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u);",
    "}",
    "",
    `@compute @workgroup_size(${INT8_WORKGROUP.x}, ${INT8_WORKGROUP.y})`,
    "fn main(@builtin(global_invocation_id) id: vec3<u32>) {",
    "  let m = params.m;",
    "  let n = params.n;",
    "  let kw = params.kw;",
    `  let row0 = id.y * ${INT8_TILE.rows}u;`,
    `  let col0 = id.x * ${INT8_TILE.cols}u;`,
    "  if (row0 >= m || col0 >= n) { return; }",
    "  // Reads past the edge are clamped to the last row/column: valid data, never stored.",
    ...rows.map((i) => `  let rowA${i} = min(row0 + ${i}u, m - 1u) * kw;`),
    ...cols.map((j) => `  let rowB${j} = min(col0 + ${j}u, n - 1u) * kw;`),
    ...rows.flatMap((i) =>
      cols.map((j) => dot4 ? `  var acc${i}_${j} = 0i;` : `  var acc${i}_${j} = vec4<i32>();`)
    ),
    "  for (var p = 0u; p < kw; p++) {",
    ...rows.map((i) =>
      dot4 ? `    let a${i} = a[rowA${i} + p];` : `    let a${i} = unpack(a[rowA${i} + p]);`
    ),
    ...cols.map((j) =>
      dot4 ? `    let b${j} = bt[rowB${j} + p];` : `    let b${j} = unpack(bt[rowB${j} + p]);`
    ),
    ...rows.flatMap((i) =>
      cols.map((j) =>
        dot4
          ? `    acc${i}_${j} = acc${i}_${j} + dot4I8Packed(a${i}, b${j});`
          : `    acc${i}_${j} = acc${i}_${j} + a${i} * b${j};`
      )
    ),
    "  }",
    ...rows.flatMap((i) => [
      `  if (row0 + ${i}u < m) {`,
      `    let out = (row0 + ${i}u) * n + col0;`,
      ...cols.map((j) => {
        const value = dot4
          ? `acc${i}_${j}`
          : `acc${i}_${j}.x + acc${i}_${j}.y + acc${i}_${j}.z + acc${i}_${j}.w`;
        return `    if (col0 + ${j}u < n) { c[out + ${j}u] = ${value}; }`;
      }),
      "  }",
    ]),
    "}",
  ];
  return lines.join("\n") + "\n";
}

/**
 * The int8 matmul kernel with `dot4I8Packed` (4 × 8 outputs per invocation, workgroup 8 × 8).
 *
 * Bindings (group 0):
 * - 0 `params`: uniform, 16 bytes: `m, n, kw: u32`, one u32 of padding;
 * - 1 `a`: storage read, `array<u32>`, (m, kw) packed rows of A;
 * - 2 `bt`: storage read, `array<u32>`, (n, kw) packed columns of B;
 * - 3 `c`: storage read_write, `array<i32>`, (m, n) row-major.
 *
 * Each step adds dot4I8Packed(a word, b word) (exact: at most 4 · 2^14) to a wrapping i32
 * accumulator.
 */
export const INT8_MATMUL_DOT4_WGSL: string = int8Kernel("dot4");

/**
 * The int8 matmul kernel without the language feature: bindings and tiles as
 * {@linkcode INT8_MATMUL_DOT4_WGSL}. Each word is sign-extended into a `vec4<i32>` with two
 * shifts; each accumulator is a `vec4<i32>` of lane sums (wrapping), added up when stored.
 */
export const INT8_MATMUL_UNPACK_WGSL: string = int8Kernel("unpack");

const KERNELS = {
  dot4: { name: "int8-matmul-dot4", code: INT8_MATMUL_DOT4_WGSL },
  unpack: { name: "int8-matmul-unpack", code: INT8_MATMUL_UNPACK_WGSL },
} as const;

/**
 * Packs an int8 matrix 4 per u32 along its rows (or along its columns when `transpose`), bytes
 * past the end zero.
 *
 * @param x The matrix.
 * @param transpose Pack xᵀ: row j of the result holds column j of x.
 * @returns (rows, ⌈cols / 4⌉) words, or (cols, ⌈rows / 4⌉) when transposed.
 */
function packInt8(x: Int8Matrix, transpose: boolean): Uint32Array {
  const [outer, inner] = transpose ? [x.cols, x.rows] : [x.rows, x.cols];
  const words = Math.ceil(inner / 4);
  const packed = new Uint32Array(outer * words); // (outer, words) row-major
  for (let o = 0; o < outer; o++) {
    for (let p = 0; p < inner; p++) {
      const v = transpose ? x.data[p * x.cols + o]! : x.data[o * x.cols + p]!;
      packed[o * words + (p >> 2)]! |= (v & 0xff) << (8 * (p & 3));
    }
  }
  return packed;
}

function checkMatrix(name: string, x: unknown): Int8Matrix {
  if (typeof x !== "object" || x === null) {
    throw argError(`Cannot int8 matmul: ${name} must be a { rows, cols, data } matrix, got ${x}`);
  }
  const m = x as { rows?: unknown; cols?: unknown; data?: unknown };
  for (const key of ["rows", "cols"] as const) {
    const v = m[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw argError(
        `Cannot int8 matmul: ${name}.${key} must be a non-negative integer, got ${v}`,
      );
    }
  }
  if (!(m.data instanceof Int8Array)) {
    throw argError(`Cannot int8 matmul: ${name}.data must be an Int8Array`);
  }
  return x as Int8Matrix;
}

/**
 * The int8 product C (m, n) = A (m, k) · B (k, n) with an int32 accumulator that wraps: each
 * c_ij is Σ_p a_ip·b_pj modulo 2^32 in [−2^31, 2^31), bit-exact with the reference's
 * `integerMatmul(a, b, { dtype: "int8", accumulate: "int32", overflow: "wrap" })` (the products
 * are exact and wrapping addition does not depend on the order). k = 0 gives zeros.
 *
 * The operands are packed 4 per u32 on the CPU (A along its rows, B along its columns) and
 * uploaded; see the module documentation for the layout.
 *
 * @param batch The batch to enqueue on.
 * @param a (m, k) row-major int8.
 * @param b (k, n) row-major int8.
 * @param options The kernel variant.
 * @returns C, (m, n) row-major int32, once read.
 * @throws {LoraquantTypeError} `E_ARG` for a matrix that is not `{ rows, cols, data }` with
 * non-negative integer sizes and `Int8Array` data, or an unknown variant; `E_SHAPE` when
 * `data.length ≠ rows·cols` or `a.cols ≠ b.rows`.
 * @throws {LoraquantRangeError} `E_LIMIT` (from `Batch.run`) when a buffer exceeds the adapter's
 * `maxStorageBufferBindingSize` or the grid its `maxComputeWorkgroupsPerDimension`.
 * @throws {GpuError} `E_STATE` after `read()`; `E_DEVICE_LOST` when the device is lost;
 * `E_VALIDATION` at `read()` when `"dot4"` is forced where the WGSL lacks `dot4I8Packed`.
 *
 * @example A product that wraps (skipped where no adapter exists)
 * ```ts
 * import { requestGpu } from "@loraquant/gpu/device";
 * import { int8Matmul } from "@loraquant/gpu/int8-matmul";
 * import { assertEquals } from "@std/assert";
 *
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter) {
 *   const gpu = await requestGpu({ adapter, matmulVariant: "register" });
 *   const batch = gpu.batch();
 *   const a = { rows: 2, cols: 3, data: new Int8Array([127, -128, 3, 1, 2, 3]) };
 *   const b = { rows: 3, cols: 2, data: new Int8Array([127, 1, -128, 2, 5, 3]) };
 *   const k = 131_073; // 131073 · (−128)·(−128) = 2^31 + 16384: wraps once
 *   const big = { rows: 1, cols: k, data: new Int8Array(k).fill(-128) };
 *   const bigT = { rows: k, cols: 1, data: new Int8Array(k).fill(-128) };
 *   const c = int8Matmul(batch, a, b);
 *   const wrapped = int8Matmul(batch, big, bigT, { variant: "unpack" });
 *   const [values, w] = await batch.read(c, wrapped);
 *   assertEquals([...values], [32528, -120, -114, 14]);
 *   assertEquals(w[0], 16384 - 2 ** 31);
 *   gpu.destroy();
 * }
 * ```
 */
export function int8Matmul(
  batch: Batch,
  a: Int8Matrix,
  b: Int8Matrix,
  options: Int8MatmulOptions = {},
): GpuHandle<Int32Array> {
  checkMatrix("a", a);
  checkMatrix("b", b);
  const variant = options.variant ?? (hasDot4I8Packed() ? "dot4" : "unpack");
  if (variant !== "dot4" && variant !== "unpack") {
    throw argError(
      `Cannot int8 matmul: variant must be "dot4" or "unpack", got ${JSON.stringify(variant)}`,
    );
  }
  for (const [name, x] of [["a", a], ["b", b]] as const) {
    if (x.data.length !== x.rows * x.cols) {
      throw new LoraquantTypeError(
        "E_SHAPE",
        `Cannot int8 matmul: ${name} is ${x.rows}×${x.cols} but its data holds ${x.data.length} elements`,
      );
    }
  }
  if (a.cols !== b.rows) {
    throw new LoraquantTypeError(
      "E_SHAPE",
      `Cannot int8 matmul: a is ${a.rows}×${a.cols} but b is ${b.rows}×${b.cols} (a.cols ≠ b.rows)`,
    );
  }
  const [m, k, n] = [a.rows, a.cols, b.cols];
  const kw = Math.ceil(k / 4);
  const empty = m * n === 0;
  const [c] = batch.run({
    kernel: KERNELS[variant],
    params: new Uint32Array([m, n, kw, 0]),
    inputs: [packInt8(a, false), packInt8(b, true)],
    outputs: [{ shape: [m, n], arrayType: Int32Array }],
    workgroups: empty ? [0] : [
      Math.ceil(n / (INT8_TILE.cols * INT8_WORKGROUP.x)),
      Math.ceil(m / (INT8_TILE.rows * INT8_WORKGROUP.y)),
    ],
  });
  return c as GpuHandle<Int32Array>;
}
