/**
 * Integer addition, subtraction and multiplication with an explicit overflow rule (the oracle's
 * `int` op, oracle-protocol.md "int").
 *
 * Every result is first computed EXACTLY (as a mathematical integer), then the overflow rule maps
 * it into the dtype:
 *
 * - `"wrap"`: two's complement, the exact result modulo 2^bits, taken in the dtype's range
 *   ([−2^(bits−1), 2^(bits−1)) for signed dtypes, [0, 2^bits) for unsigned ones);
 * - `"saturate"`: the exact result clamped to [min, max] of the dtype;
 * - `"widen"`: the exact result itself, in the dtype's accumulation type
 *   (`INTEGER_ACCUMULATION`: int32 for int4, uint4, int8, uint8, int16; int64 for uint16, int32).
 *   The accumulation type always holds it, so `"widen"` never fails: the largest magnitudes are
 *   int16 (−2^15)·(−2^15) = 2^30 < 2^31 in int32, uint16 (2^16 − 1)² < 2^32 and int32
 *   (−2^31)·(−2^31) = 2^62 < 2^63 in int64 (and every sum or difference is smaller still), so
 *   int64 itself can never overflow here;
 * - `"error"`: an exact result outside the dtype throws `E_OVERFLOW`.
 *
 * `overflowed[i]` always tells whether the exact result did not fit the DTYPE (also under
 * `"widen"`, where the value returned is still exact).
 *
 * @module
 */
import { argError, overflowError, shapeError } from "./_fail.ts";
import { applyOverflow, checkIntegerValue } from "./_integer.ts";
import {
  INTEGER_DTYPES,
  type IntegerDtype,
  integerDtype,
  type IntegerType,
  isIntegerDtype,
} from "./dtype.ts";
import type { LoraquantRangeError } from "./errors.ts";

/** The integer operations of the `int` op. */
export const INTEGER_FNS = ["add", "sub", "mul"] as const;

/** An integer operation: `"add"` a + b, `"sub"` a − b, `"mul"` a · b. */
export type IntegerFn = typeof INTEGER_FNS[number];

/** The overflow rules of the `int` op. */
export const INTEGER_OVERFLOW_RULES = ["wrap", "saturate", "widen", "error"] as const;

/** What happens when the exact result does not fit the dtype. */
export type IntegerOverflow = typeof INTEGER_OVERFLOW_RULES[number];

/** Options of {@linkcode integerArithmetic}. */
export interface IntegerArithmeticOptions {
  /** The operation. */
  fn: IntegerFn;
  /** The dtype of the operands (and of the result, except under `"widen"`). */
  dtype: IntegerDtype;
  /** The overflow rule. @default {"error"} */
  overflow?: IntegerOverflow;
}

/** Result of {@linkcode integerArithmetic}. */
export interface IntegerArithmeticResult {
  /** The results, exact integers (int64 holds every one of them). */
  y: BigInt64Array;
  /** `overflowed[i]`: the exact result did not fit the dtype. */
  overflowed: boolean[];
}

const SYMBOL: Record<IntegerFn, string> = { add: "+", sub: "−", mul: "·" };

const SAFE = 2 ** 53;

/** Checks every operand (E_RANGE naming it) and returns them as float64 integers (exact). */
function readOperands(
  v: ArrayLike<number | bigint>,
  type: IntegerType,
  name: string,
): Float64Array {
  const min = Number(type.min);
  const max = Number(type.max);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (typeof x === "number" && Number.isInteger(x) && x >= min && x <= max) out[i] = x + 0;
    else out[i] = Number(checkIntegerValue(x, type, `${name}[${i}]`)); // throws, or a bigint in range
  }
  return out;
}

/** Two's complement wrap of an exact integer |t| < 2^53 to a dtype of at most 32 bits. */
function wrapNumber(t: number, type: IntegerType): number {
  const shift = 32 - type.bits;
  // ToInt32 (inside `<<` and `|`) is exact modulo 2^32; the shifts keep the low `bits` bits.
  if (type.signed) return (t << shift) >> shift;
  return (t & (2 ** type.bits - 1)) >>> 0;
}

function overflowFault(
  fn: IntegerFn,
  type: IntegerType,
  i: number,
  x: number,
  z: number,
  exact: bigint,
): LoraquantRangeError {
  return overflowError(
    `Cannot ${fn} in ${type.name}: a[${i}] ${SYMBOL[fn]} b[${i}] = ${x} ${SYMBOL[fn]} ${z} = ` +
      `${exact} lies outside ${type.name} [${type.min}, ${type.max}] (overflow: "error")`,
  );
}

/**
 * Adds, subtracts or multiplies two vectors of integers element by element in an integer dtype,
 * with an explicit overflow rule (oracle-protocol.md "int").
 *
 * Each `y[i] = rule(a[i] ∘ b[i])` where `a[i] ∘ b[i]` is the exact integer result and `rule` is
 * the overflow rule: `"wrap"` (two's complement modulo 2^bits, unsigned dtypes into [0, 2^bits)),
 * `"saturate"` (clamp to the dtype), `"widen"` (the exact result, which the dtype's accumulation
 * type always holds) or `"error"` (`E_OVERFLOW` for the first index whose exact result does not
 * fit). No rounding happens anywhere: the arithmetic is exact BigInt/integer arithmetic.
 *
 * @param a The left operands: integers inside the dtype (number or bigint).
 * @param b The right operands, as many as `a`.
 * @param options The operation `fn`, the `dtype` and the `overflow` rule.
 * @returns The results as a `BigInt64Array` and, per element, whether the exact result overflowed
 * the dtype. The inputs are never modified.
 * @throws {LoraquantTypeError} `E_ARG` for an unknown `fn`, `dtype` or `overflow`; `E_SHAPE` when
 * `a` and `b` differ in length.
 * @throws {LoraquantRangeError} `E_RANGE` naming `a[i]`/`b[i]` when an operand is not an integer
 * or lies outside the dtype; `E_OVERFLOW` under `"error"` naming the index, operands and dtype.
 *
 * @example int8 127 + 127 under each overflow rule
 * ```ts
 * import { integerArithmetic } from "@loraquant/reference/integer";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const run = (overflow: "wrap" | "saturate" | "widen") =>
 *   integerArithmetic([127], [127], { fn: "add", dtype: "int8", overflow }).y[0];
 * assertEquals([run("wrap"), run("saturate"), run("widen")], [-2n, 127n, 254n]);
 * assertThrows(() => integerArithmetic([127], [127], { fn: "add", dtype: "int8" }), RangeError);
 *
 * // int32 · int32 is exact in int64 under "widen":
 * const big = integerArithmetic([-(2 ** 31)], [-(2 ** 31)], {
 *   fn: "mul",
 *   dtype: "int32",
 *   overflow: "widen",
 * });
 * assertEquals(big.y[0], 2n ** 62n);
 * assertEquals(big.overflowed, [true]);
 * ```
 */
export function integerArithmetic(
  a: ArrayLike<number | bigint>,
  b: ArrayLike<number | bigint>,
  options: IntegerArithmeticOptions,
): IntegerArithmeticResult {
  // E_ARG: the enumerations.
  const fn = options.fn;
  if (!(INTEGER_FNS as readonly unknown[]).includes(fn)) {
    throw argError(`Unknown integer fn ${JSON.stringify(fn)}; expected one of add, sub, mul`);
  }
  if (!isIntegerDtype(options.dtype)) {
    throw argError(
      `Unknown integer dtype ${JSON.stringify(options.dtype)}; expected one of ${
        INTEGER_DTYPES.join(", ")
      }`,
    );
  }
  const overflow = options.overflow ?? "error";
  if (!(INTEGER_OVERFLOW_RULES as readonly unknown[]).includes(overflow)) {
    throw argError(
      `Unknown overflow rule ${JSON.stringify(overflow)}; expected one of ${
        INTEGER_OVERFLOW_RULES.join(", ")
      }`,
    );
  }
  // E_SHAPE.
  if (a.length !== b.length) {
    throw shapeError(
      `Cannot ${fn} integer vectors: a has ${a.length} elements but b has ${b.length}`,
    );
  }
  const type = integerDtype(options.dtype);
  // E_RANGE: every operand, before any result is computed.
  const n = a.length;
  const left = readOperands(a, type, "a");
  const right = readOperands(b, type, "b");
  // The exact results; then E_OVERFLOW or the rule. Nothing is returned before all succeed.
  // Every operand is below 2^32 in magnitude, so sums and differences, and products below 2^53,
  // are exact float64 integers (a computed |x·z| < 2^53 means the exact one is too: rounding is
  // monotone); only int32 products beyond that go through BigInt.
  const min = Number(type.min);
  const max = Number(type.max);
  const y = new BigInt64Array(n);
  const overflowed = new Array<boolean>(n);
  for (let i = 0; i < n; i++) {
    const x = left[i]!;
    const z = right[i]!;
    const approx = fn === "add" ? x + z : fn === "sub" ? x - z : x * z;
    if (approx > -SAFE && approx < SAFE) {
      const out = approx < min || approx > max;
      overflowed[i] = out;
      if (!out || overflow === "widen") y[i] = BigInt(approx);
      else if (overflow === "error") throw overflowFault(fn, type, i, x, z, BigInt(approx));
      else if (overflow === "saturate") y[i] = BigInt(approx < min ? min : max);
      else y[i] = BigInt(wrapNumber(approx, type));
      continue;
    }
    const exact = BigInt(x) * BigInt(z); // only int32 · int32 gets here
    overflowed[i] = true;
    if (overflow === "error") throw overflowFault(fn, type, i, x, z, exact);
    // "widen": int64 holds |x·z| ≤ 2^62 (see the module comment).
    y[i] = overflow === "widen" ? exact : applyOverflow(exact, type, overflow);
  }
  return { y, overflowed };
}
