/**
 * The float32 matrix product C = A·B as WGSL kernels, in two variants that compute the same sums
 * in the same order and differ only in how they feed the arithmetic units:
 *
 * - `"register"`: each invocation keeps an 8×16 tile of C in registers and streams A and B from
 *   storage; no workgroup memory (fastest on CPU-like adapters such as Mesa llvmpipe);
 * - `"tiled"`: the classic workgroup-memory tiling, 16×16 invocations sharing 16×16 tiles of A
 *   and B (fastest on most discrete GPUs).
 *
 * Every element is c_ij = (…((0 + a_i0·b_0j) + a_i1·b_1j) + …) + a_i,k−1·b_k−1,j, each product
 * and each sum rounded to nearest-even in float32 (WGSL's `*` and `+` on f32 are correctly
 * rounded); WGSL may or may not contract a product and a sum into one fused multiply-add, and
 * the error bound of docs/gpu.md §Matmul holds either way:
 * |ĉ_ij − c_ij| ≤ γ_k · Σ_p |a_ip|·|b_pj| (+ underflow terms), γ_k = k·u/(1 − k·u), u = 2⁻²⁴.
 * k = 0 gives zeros.
 *
 * Layout: A (m, k), B (k, n) and C (m, n) are row-major `array<f32>` storage buffers, 4 bytes an
 * element, no padding.
 *
 * @module
 */

/** A float32 matrix: `data` holds rows·cols elements, row-major. */
export interface Float32Matrix {
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** (rows, cols) row-major. */
  readonly data: Float32Array;
}

/** The two matmul kernels. */
export type MatmulVariant = "register" | "tiled";

/** The names of {@linkcode MatmulVariant}. */
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ["register", "tiled"];

/** Options of `Batch.matmul`. */
export interface MatmulOptions {
  /**
   * The kernel to run. @default {the variant the `Gpu` chose for its adapter (see
   * `RequestGpuOptions.matmulVariant`)}
   */
  variant?: MatmulVariant;
}

/** Outputs per invocation of the register-blocked kernel: TM rows × TN columns. */
export const REGISTER_TILE = { rows: 8, cols: 16 } as const;
/** Invocations per workgroup of the register-blocked kernel: 8 × 8. */
export const REGISTER_WORKGROUP = { x: 8, y: 8 } as const;
/** Edge of the square workgroup tiles (and of the 16 × 16 workgroup) of the tiled kernel. */
export const TILE = 16;

/**
 * Register-blocked f32 matmul (no workgroup memory).
 *
 * Bindings (group 0):
 * - 0 `params`: uniform, 16 bytes: `m, n, k: u32`, one u32 of padding;
 * - 1 `a`: storage read, `array<f32>`, (m, k) row-major;
 * - 2 `b`: storage read, `array<f32>`, (k, n) row-major;
 * - 3 `c`: storage read_write, `array<f32>`, (m, n) row-major.
 *
 * Workgroup 8 × 8; invocation (gx, gy) owns rows 8·gy … 8·gy + 7 and columns 16·gx … 16·gx + 15
 * of C, so a workgroup covers 64 rows × 128 columns. Reads past the edge are clamped to the last
 * row/column (valid data, never written back); only in-range outputs are stored. Each element is
 * summed in ascending p from +0 (vector `+` and `*` act lane by lane, each lane correctly
 * rounded), exactly as in {@linkcode MATMUL_TILED_WGSL}.
 */
export const MATMUL_REGISTER_WGSL: string = registerKernel();

/**
 * Writes the register-blocked kernel out fully unrolled: 8 × 4 `vec4<f32>` accumulators
 * (`acc{i}_{q}` holds row i, columns 4q … 4q + 3) and one loop over p. Unrolled by hand because
 * function-scope arrays indexed in loops are spilled to memory by some compilers (llvmpipe ran
 * 3× slower with them).
 */
function registerKernel(): string {
  const rows = [0, 1, 2, 3, 4, 5, 6, 7];
  const quads = [0, 1, 2, 3];
  const columns = [...Array(16).keys()];
  const lines = [
    "struct Params { m: u32, n: u32, k: u32, pad: u32 }",
    "@group(0) @binding(0) var<uniform> params: Params;",
    "@group(0) @binding(1) var<storage, read> a: array<f32>;       // (m, k) row-major",
    "@group(0) @binding(2) var<storage, read> b: array<f32>;       // (k, n) row-major",
    "@group(0) @binding(3) var<storage, read_write> c: array<f32>; // (m, n) row-major",
    "",
    "@compute @workgroup_size(8, 8)",
    "fn main(@builtin(global_invocation_id) id: vec3<u32>) {",
    "  let m = params.m;",
    "  let n = params.n;",
    "  let k = params.k;",
    "  let row0 = id.y * 8u;  // this invocation's rows row0 … row0 + 7",
    "  let col0 = id.x * 16u; // and columns col0 … col0 + 15",
    "  if (row0 >= m || col0 >= n) { return; }",
    "  // Reads past the edge are clamped to the last row/column: valid data, never stored.",
    ...rows.map((i) => `  let rowA${i} = min(row0 + ${i}u, m - 1u) * k;`),
    ...columns.map((j) => `  let colB${j} = min(col0 + ${j}u, n - 1u);`),
    "  // The sums start at +0.",
    ...rows.flatMap((i) => quads.map((q) => `  var acc${i}_${q} = vec4<f32>();`)),
    "  for (var p = 0u; p < k; p++) {",
    "    let rowB = p * n;",
    ...quads.map((q) =>
      `    let b${q} = vec4<f32>(${
        [0, 1, 2, 3].map((e) => `b[rowB + colB${4 * q + e}]`).join(", ")
      });`
    ),
    ...rows.flatMap((i) => [
      `    let a${i} = a[rowA${i} + p];`,
      ...quads.map((q) => `    acc${i}_${q} = acc${i}_${q} + a${i} * b${q};`),
    ]),
    "  }",
    ...rows.flatMap((i) => [
      `  if (row0 + ${i}u < m) {`,
      `    let out = (row0 + ${i}u) * n + col0;`,
      ...quads.flatMap((q) =>
        [0, 1, 2, 3].map((e) =>
          `    if (col0 + ${4 * q + e}u < n) { c[out + ${4 * q + e}u] = acc${i}_${q}[${e}]; }`
        )
      ),
      "  }",
    ]),
    "}",
  ];
  return lines.join("\n") + "\n";
}

/**
 * Workgroup-memory tiled f32 matmul.
 *
 * Bindings: as {@linkcode MATMUL_REGISTER_WGSL}.
 *
 * Workgroup 16 × 16; workgroup (wx, wy) owns the 16 × 16 block of C at rows 16·wy…, columns
 * 16·wx…, one output per invocation. For each step t the workgroup loads A[rows, 16t … 16t+15]
 * and B[16t … 16t+15, cols] into `tileA`/`tileB` (2 × 1 KiB of workgroup memory, zero past the
 * edges), then each invocation adds its min(16, k − 16t) products in ascending p: the same sum,
 * in the same order, as the register-blocked kernel.
 */
export const MATMUL_TILED_WGSL: string = /* wgsl */ `
struct Params { m: u32, n: u32, k: u32, pad: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;       // (m, k) row-major
@group(0) @binding(2) var<storage, read> b: array<f32>;       // (k, n) row-major
@group(0) @binding(3) var<storage, read_write> c: array<f32>; // (m, n) row-major

const T = 16u;
var<workgroup> tileA: array<array<f32, 16>, 16>;  // [row in block][p in step]
var<workgroup> tileB: array<array<f32, 16>, 16>;  // [p in step][column in block]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>) {
  let m = params.m;
  let n = params.n;
  let k = params.k;
  let row = group.y * T + local.y;
  let col = group.x * T + local.x;
  var acc = 0.0f;
  let steps = (k + T - 1u) / T;
  for (var t = 0u; t < steps; t++) {
    let pa = t * T + local.x;
    var va = 0.0f;
    if (row < m && pa < k) { va = a[row * k + pa]; }
    tileA[local.y][local.x] = va;
    let pb = t * T + local.y;
    var vb = 0.0f;
    if (pb < k && col < n) { vb = b[pb * n + col]; }
    tileB[local.y][local.x] = vb;
    workgroupBarrier();
    let len = min(T, k - t * T);
    for (var q = 0u; q < len; q++) { acc = acc + tileA[local.y][q] * tileB[q][local.x]; }
    workgroupBarrier();
  }
  if (row < m && col < n) { c[row * n + col] = acc; }
}
`;

/**
 * The workgroup grid a variant dispatches for an m × n product.
 *
 * @param variant The kernel.
 * @param shape The output's rows m and columns n.
 * @returns Workgroup counts along x (columns) and y (rows).
 *
 * @example Grids for shapes just past a tile
 * ```ts
 * import { matmulWorkgroups } from "@loraquant/gpu/matmul";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(matmulWorkgroups("register", { m: 65, n: 128 }), { x: 1, y: 2 });
 * assertEquals(matmulWorkgroups("tiled", { m: 17, n: 16 }), { x: 1, y: 2 });
 * ```
 */
export function matmulWorkgroups(
  variant: MatmulVariant,
  shape: { m: number; n: number },
): { x: number; y: number } {
  const [rows, cols] = variant === "register"
    ? [REGISTER_TILE.rows * REGISTER_WORKGROUP.y, REGISTER_TILE.cols * REGISTER_WORKGROUP.x]
    : [TILE, TILE];
  return { x: Math.ceil(shape.n / cols), y: Math.ceil(shape.m / rows) };
}
