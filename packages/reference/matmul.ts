/**
 * Matrix products with explicit input and accumulation formats (the oracle's `matmul`,
 * oracle-protocol.md "matmul").
 *
 * `y = a·b` with a (m, k) and b (k, n). The inputs are values of `dtype`: float inputs are first
 * cast (nearest-even, with the cast overflow rules) to a float `dtype`; integer inputs must
 * already be integers of an integer `dtype`. Each output is a sequential sum over j ascending:
 *
 *     s_0 = +0,   s_j = acc(s_{j−1} + a[i][j]·b[j][p]),   y[i][p] = s_k
 *
 * - float `accumulate`: `acc` rounds the EXACT real value s_{j−1} + a·b ONCE, nearest-even, to
 *   the format (a correctly rounded fused multiply-add), then applies the format's overflow rule
 *   of `cast` (±Infinity in float64/32/16, bfloat16 and fp8-e5m2; NaN in fp8-e4m3; ±max in fp6
 *   and fp4). IEEE 754 rules hold for special values (NaN propagates, ∞·0 = ∞ − ∞ = NaN,
 *   ∞ + finite = ∞) and signed zeros (an exact zero sum of nonzero terms is +0, −0 + −0 = −0, a
 *   zero product has the xor of the signs, a negative value rounding to zero is −0);
 * - integer `accumulate` (int16, int32, int64): exact integer steps, with the `overflow` rule
 *   (`"wrap"`, `"saturate"`, `"error"`) applied at every step; `overflowed` tells whether any
 *   exact partial sum s_{j−1} + a·b fell outside the accumulator.
 *
 * The computation is exact: float64 arithmetic wherever it is provably the one correct rounding,
 * BigInt arithmetic elsewhere.
 *
 * @module
 */
import { argError, overflowError, rangeError, shapeError, show } from "./_fail.ts";
import { applyOverflow } from "./_integer.ts";
import { fastKernel, type FloatPath } from "./_matmul_fast.ts";
import { roundValue } from "./cast.ts";
import {
  INTEGER_DTYPES,
  INTEGER_TYPES,
  type IntegerAccumulator,
  type IntegerDtype,
  type IntegerType,
  isIntegerDtype,
} from "./dtype.ts";
import {
  FLOAT_FORMAT_NAMES,
  FLOAT_FORMATS,
  type FloatFormat,
  type FloatFormatName,
  isFloatFormatName,
} from "./format.ts";
import type { Matrix } from "./matrix.ts";

/** The input formats of `matmul`: a float format of `cast` or an integer dtype of `int`. */
export type MatmulDtype = FloatFormatName | IntegerDtype;

/** The integer accumulators of `matmul`. */
export const INTEGER_ACCUMULATORS: readonly IntegerAccumulator[] = ["int16", "int32", "int64"];

/** The accumulation formats of `matmul`: a float format, or `int16`/`int32`/`int64`. */
export type MatmulAccumulate = FloatFormatName | IntegerAccumulator;

/** The overflow rules of an integer accumulator (`"widen"` is not one: E_ARG). */
export const MATMUL_OVERFLOW_RULES = ["wrap", "saturate", "error"] as const;

/** What an integer accumulator does with a partial sum outside its range. */
export type MatmulOverflow = typeof MATMUL_OVERFLOW_RULES[number];

/** Options of {@linkcode matmul}. */
export interface MatmulOptions {
  /** The inputs' format: float inputs are cast (nearest-even) to it; integers must fit it. */
  dtype: MatmulDtype;
  /** The float format every step is rounded to. */
  accumulate: FloatFormatName;
}

/** Result of {@linkcode matmul}. */
export interface MatmulResult {
  /** The (m, n) product. */
  y: Matrix;
}

/** A row-major matrix of exact integers. */
export interface IntegerMatrix {
  /** Number of rows (m). */
  readonly rows: number;
  /** Number of columns (n). */
  readonly cols: number;
  /** The rows·cols elements, row after row. */
  readonly data: BigInt64Array;
}

/** Options of {@linkcode integerMatmul}. */
export interface IntegerMatmulOptions {
  /** The inputs' integer dtype: every element must be an integer inside it. */
  dtype: IntegerDtype;
  /** The integer accumulator. */
  accumulate: IntegerAccumulator;
  /** What a step whose exact partial sum leaves the accumulator does. @default {"error"} */
  overflow?: MatmulOverflow;
}

/** Result of {@linkcode integerMatmul}. */
export interface IntegerMatmulResult {
  /** The (m, n) product, exact integers of the accumulator. */
  y: IntegerMatrix;
  /** Whether any exact partial sum fell outside the accumulator's range. */
  overflowed: boolean;
}

const DTYPE_NAMES = [...FLOAT_FORMAT_NAMES, ...INTEGER_DTYPES].join(", ");

function checkDtype(dtype: unknown): MatmulDtype {
  if (isFloatFormatName(dtype) || isIntegerDtype(dtype)) return dtype;
  throw argError(`Unknown matmul dtype ${JSON.stringify(dtype)}; expected one of ${DTYPE_NAMES}`);
}

function checkShapes(a: Matrix, b: Matrix): void {
  for (const [name, x] of [["a", a], ["b", b]] as const) {
    if (x.data.length !== x.rows * x.cols) {
      throw shapeError(
        `${name} has shape [${x.rows}, ${x.cols}] but ${x.data.length} elements (expected ${
          x.rows * x.cols
        })`,
      );
    }
  }
  if (a.cols !== b.rows) {
    throw shapeError(
      `Cannot multiply a (${a.rows}×${a.cols}) by b (${b.rows}×${b.cols}): a has ${a.cols} ` +
        `columns but b has ${b.rows} rows`,
    );
  }
}

/** Checks that every element is an integer of the dtype (E_RANGE naming the element). */
function checkIntegers(x: Matrix, name: string, type: IntegerType): void {
  const min = Number(type.min);
  const max = Number(type.max);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i]!;
    if (!(Number.isInteger(v) && v >= min && v <= max)) {
      const where = `${name}[${Math.floor(i / x.cols)}][${i % x.cols}]`;
      throw rangeError(
        Number.isInteger(v)
          ? `${where} = ${show(v)} lies outside ${type.name} [${type.min}, ${type.max}]`
          : `${where} must be an integer of ${type.name}, got ${show(v)}`,
      );
    }
  }
}

/** Casts every element nearest-even to a float dtype (a new array; NaN into fp6/fp4: E_RANGE). */
function castTo(x: Matrix, name: string, f: FloatFormat): Float64Array {
  if (!f.hasNaN) {
    for (let i = 0; i < x.data.length; i++) {
      if (Number.isNaN(x.data[i])) {
        throw rangeError(
          `Cannot cast ${name}[${Math.floor(i / x.cols)}][${i % x.cols}] = NaN to ${f.name}: ` +
            `the format has no NaN`,
        );
      }
    }
  }
  if (f.name === "float64") return Float64Array.from(x.data);
  return Float64Array.from(x.data, (v) => roundValue(v, f, "nearest-even", false, 0));
}

/** b (k, n) row-major → bᵀ (n, k) row-major, so column p of b is contiguous. */
function transpose(b: ArrayLike<number>, k: number, n: number): Float64Array {
  const bt = new Float64Array(k * n); // (n, k) row-major
  for (let j = 0; j < k; j++) {
    for (let p = 0; p < n; p++) bt[p * k + j] = b[j * n + p]!;
  }
  return bt;
}

/** Whether every product of two values of the dtype is exact in float64 (path (i)/(ii)). */
function productsExact(dtype: MatmulDtype): boolean {
  // float32: 24-bit significands give 48-bit products between 2^−298 and 2^256; the narrower
  // formats fewer bits in a smaller range; integers up to 16 bits give |a·b| ≤ 2^32. float64
  // (53 bits) and int32 (31 bits: products up to 2^62) do not fit.
  return dtype !== "float64" && dtype !== "int32";
}

/**
 * The matrix product with a float accumulation format: each output is the sequential sum
 * `s_j = acc(s_{j−1} + a[i][j]·b[j][p])`, j ascending from `s_0 = +0`, where `acc` rounds the
 * exact real value ONCE, nearest-even, to `accumulate` (a correctly rounded FMA per step) and
 * applies the format's `cast` overflow rule (±Infinity; NaN in fp8-e4m3; ±max in fp6/fp4). Float
 * inputs are first cast nearest-even to a float `dtype` (so 500 becomes NaN in fp8-e4m3); with an
 * integer `dtype` the inputs must be integers inside it. IEEE 754 rules for NaN, infinities and
 * signed zeros (see the module documentation).
 *
 * @param a The left factor, (m, k).
 * @param b The right factor, (k, n).
 * @param options The input format `dtype` and the float format `accumulate`.
 * @returns The (m, n) product, a new matrix; the inputs are never modified.
 * @throws {LoraquantTypeError} `E_ARG` for an unknown `dtype` or `accumulate`, or an integer
 * `accumulate` (use {@linkcode integerMatmul}); `E_SHAPE` when a.cols ≠ b.rows or a matrix's data
 * length is not rows·cols.
 * @throws {LoraquantRangeError} `E_RANGE` for an integer input that is not an integer of `dtype`,
 * NaN cast to a format without NaN (fp6/fp4 `dtype`), or a NaN step in an fp6/fp4 `accumulate`.
 *
 * @example float16 accumulation stalls at 2048; float32 does not
 * ```ts
 * import { matmul } from "@loraquant/reference/matmul";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const ones = new Array(3000).fill(1);
 * const a = matrix([1, 3000], ones);
 * const b = matrix([3000, 1], ones);
 * // 2048 + 1 is a tie between 2048 and 2050 in float16: it rounds to even, 2048, every time.
 * assertEquals(matmul(a, b, { dtype: "float16", accumulate: "float16" }).y.data[0], 2048);
 * assertEquals(matmul(a, b, { dtype: "float16", accumulate: "float32" }).y.data[0], 3000);
 * ```
 *
 * @example One rounding per step: a fused multiply-add
 * ```ts
 * import { matmul } from "@loraquant/reference/matmul";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * // (1 + 2^-30)² − 1 is 2^-29 + 2^-60 exactly; a float64 product alone would lose 2^-60.
 * const x = 1 + 2 ** -30;
 * const y = matmul(matrix([1, 2], [-1, x]), matrix([2, 1], [1, x]), {
 *   dtype: "float64",
 *   accumulate: "float64",
 * });
 * assertEquals(y.y.data[0], 2 ** -29 + 2 ** -60);
 * ```
 */
export function matmul(a: Matrix, b: Matrix, options: MatmulOptions): MatmulResult {
  const dtype = checkDtype(options.dtype);
  const accumulate: unknown = options.accumulate;
  if (!isFloatFormatName(accumulate)) {
    throw argError(
      (INTEGER_ACCUMULATORS as readonly unknown[]).includes(accumulate)
        ? `matmul() accumulates in a float format; for accumulate ${
          JSON.stringify(accumulate)
        } use integerMatmul()`
        : `Unknown accumulate format ${JSON.stringify(accumulate)}; expected one of ${
          FLOAT_FORMAT_NAMES.join(", ")
        }`,
    );
  }
  checkShapes(a, b);
  const f = FLOAT_FORMATS[accumulate];
  const m = a.rows;
  const k = a.cols;
  const n = b.cols;
  let av: Float64Array; // (m, k) row-major, values of the dtype
  let bv: Float64Array; // (k, n) row-major
  if (isIntegerDtype(dtype)) {
    checkIntegers(a, "a", INTEGER_TYPES[dtype]);
    checkIntegers(b, "b", INTEGER_TYPES[dtype]);
    av = Float64Array.from(a.data, (v) => v + 0); // −0 is the integer 0
    bv = Float64Array.from(b.data, (v) => v + 0);
  } else {
    av = castTo(a, "a", FLOAT_FORMATS[dtype]);
    bv = castTo(b, "b", FLOAT_FORMATS[dtype]);
  }
  const path: FloatPath = productsExact(dtype) ? "exact-products" : "fused";
  const data = fastKernel(av, transpose(bv, k, n), m, n, k, f, path); // (m, n) row-major
  return { y: { rows: m, cols: n, data } };
}

/**
 * The matrix product of integers with an integer accumulator: each output is the sequential sum
 * `s_j = rule(s_{j−1} + a[i][j]·b[j][p])`, j ascending from `s_0 = 0`, where the step's exact
 * integer value goes through the `overflow` rule when it leaves the accumulator: `"wrap"`
 * (two's complement modulo 2^bits), `"saturate"` (clamp), `"error"` (`E_OVERFLOW`). The product
 * a·b itself is exact (as from a wide enough multiplier). `overflowed` is true when any exact
 * partial sum fell outside the accumulator; since the state equals the true running sum until the
 * first such step, this is the same whether "partial sum" means the true running sum or the
 * state plus the product.
 *
 * @param a The left factor, (m, k), integers of `dtype`.
 * @param b The right factor, (k, n), integers of `dtype`.
 * @param options The integer `dtype`, the `accumulate` accumulator and the `overflow` rule.
 * @returns The exact (m, n) integer product (BigInt64Array data) and `overflowed`.
 * @throws {LoraquantTypeError} `E_ARG` for an unknown or float `dtype`, an `accumulate` other than
 * int16/int32/int64, an `overflow` other than wrap/saturate/error (`"widen"` included);
 * `E_SHAPE` when a.cols ≠ b.rows or a matrix's data length is not rows·cols.
 * @throws {LoraquantRangeError} `E_RANGE` for an input that is not an integer of `dtype`;
 * `E_OVERFLOW` under `"error"` naming the output, the step and the partial sum.
 *
 * @example int8 inputs, int32 accumulator
 * ```ts
 * import { integerMatmul } from "@loraquant/reference/matmul";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const a = matrix([2, 3], [127, -128, 3, 1, 2, 3]);
 * const b = matrix([3, 2], [127, 1, -128, 2, 5, 3]);
 * const { y, overflowed } = integerMatmul(a, b, { dtype: "int8", accumulate: "int32" });
 * assertEquals([...y.data], [32528n, -120n, -114n, 14n]);
 * assertEquals(overflowed, false);
 *
 * // 3 · 127 · 127 = 48387 leaves int16 at the third step: wrapped or saturated.
 * const x = matrix([1, 3], [127, 127, 127]);
 * const z = matrix([3, 1], [127, 127, 127]);
 * const wrap = integerMatmul(x, z, { dtype: "int8", accumulate: "int16", overflow: "wrap" });
 * assertEquals([wrap.y.data[0], wrap.overflowed], [48387n - 65536n, true]);
 * const sat = integerMatmul(x, z, { dtype: "int8", accumulate: "int16", overflow: "saturate" });
 * assertEquals(sat.y.data[0], 32767n);
 * ```
 */
export function integerMatmul(
  a: Matrix,
  b: Matrix,
  options: IntegerMatmulOptions,
): IntegerMatmulResult {
  const dtype = checkDtype(options.dtype);
  const accumulate: unknown = options.accumulate;
  if (!(INTEGER_ACCUMULATORS as readonly unknown[]).includes(accumulate)) {
    throw argError(
      `Unknown integer accumulator ${JSON.stringify(accumulate)}; expected one of ${
        INTEGER_ACCUMULATORS.join(", ")
      }`,
    );
  }
  if (!isIntegerDtype(dtype)) {
    throw argError(
      `Refused combination: float dtype ${dtype} with integer accumulator ${
        String(accumulate)
      } (a float input needs a float accumulate format)`,
    );
  }
  const overflow: unknown = options.overflow ?? "error";
  if (!(MATMUL_OVERFLOW_RULES as readonly unknown[]).includes(overflow)) {
    throw argError(
      `Unknown matmul overflow rule ${JSON.stringify(overflow)}; expected one of ${
        MATMUL_OVERFLOW_RULES.join(", ")
      } ("widen" applies to the int op only)`,
    );
  }
  checkShapes(a, b);
  const type = INTEGER_TYPES[dtype];
  checkIntegers(a, "a", type);
  checkIntegers(b, "b", type);
  const acc = INTEGER_TYPES[accumulate as IntegerAccumulator];
  const m = a.rows;
  const k = a.cols;
  const n = b.cols;
  const bt = transpose(b.data, k, n); // (n, k) row-major
  const { data, overflowed } = integerKernel(
    a.data,
    bt,
    m,
    n,
    k,
    acc,
    overflow as MatmulOverflow,
  );
  return { y: { rows: m, cols: n, data }, overflowed };
}

const SAFE = 2 ** 53;

/**
 * Path (iii): integer steps in float64 while every magnitude stays below 2^53 (then float64
 * integer arithmetic is exact: a computed |x·y| or |s + p| below 2^53 means the exact one is too,
 * rounding being monotone), BigInt otherwise. The state of an int16/int32 accumulator always fits
 * float64 after the rule; an int64 state beyond 2^53 stays a BigInt.
 */
function integerKernel(
  a: Float64Array,
  bt: Float64Array,
  m: number,
  n: number,
  k: number,
  acc: IntegerType,
  overflow: MatmulOverflow,
): { data: BigInt64Array; overflowed: boolean } {
  const data = new BigInt64Array(m * n); // (m, n) row-major
  const min = Number(acc.min);
  const max = Number(acc.max);
  let overflowed = false;
  const fail = (i: number, p: number, j: number, t: number | bigint): never => {
    throw overflowError(
      `Cannot accumulate y[${i}][${p}] in ${acc.name}: at step j = ${j} the partial sum ${t} ` +
        `lies outside ${acc.name} [${acc.min}, ${acc.max}] (overflow: "error")`,
    );
  };
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < n; p++) {
      let sn = 0;
      let sb: bigint | null = null; // the state when it does not fit float64 exactly
      for (let j = 0; j < k; j++) {
        const x = a[i * k + j]!;
        const z = bt[p * k + j]!;
        if (sb === null) {
          const prod = x * z;
          const t = sn + prod;
          if (prod > -SAFE && prod < SAFE && t > -SAFE && t < SAFE) {
            if (t >= min && t <= max) {
              sn = t;
              continue;
            }
            overflowed = true;
            if (overflow === "error") fail(i, p, j, t);
            // int64 never gets here (|t| < 2^53); int16/int32 wrap via ToInt32, exact modulo 2^32.
            sn = overflow === "saturate"
              ? (t < min ? min : max)
              : acc.bits === 32
              ? t | 0
              : (t << 16) >> 16;
            continue;
          }
          sb = BigInt(sn);
        }
        let t: bigint = sb + BigInt(x) * BigInt(z);
        if (t < acc.min || t > acc.max) {
          overflowed = true;
          if (overflow === "error") fail(i, p, j, t);
          t = applyOverflow(t, acc, overflow as "wrap" | "saturate");
        }
        if (t > -9007199254740992n && t < 9007199254740992n) {
          sn = Number(t);
          sb = null;
        } else {
          sb = t;
        }
      }
      data[i * n + p] = sb ?? BigInt(sn);
    }
  }
  return { data, overflowed };
}
