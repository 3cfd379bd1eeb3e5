// The oracle's `int` and `matmul` ops (oracle-protocol.md "int", "matmul"). Checks go in the
// protocol's fault order: every E_ARG, then E_SHAPE, then the size limit, then E_RANGE and
// E_OVERFLOW (those two inside the reference functions, which check in the same order).
import { argError, shapeError } from "../_fail.ts";
import { INTEGER_DTYPES, type IntegerAccumulator } from "../dtype.ts";
import { FLOAT_FORMAT_NAMES, type FloatFormatName, isFloatFormatName } from "../format.ts";
import { INTEGER_FNS, INTEGER_OVERFLOW_RULES, integerArithmetic } from "../integer.ts";
import {
  INTEGER_ACCUMULATORS,
  integerMatmul,
  matmul,
  MATMUL_OVERFLOW_RULES,
  type MatmulDtype,
} from "../matmul.ts";
import { checkMatrix, encodeMatrix, readEnum, readMatrix, readVector } from "../protocol.ts";
import type { OpHandler } from "./handler.ts";

const LIMIT = 2n ** 53n;

/** `encodeInteger` for a bigint, without its per-call conversions (hot for 2^22 results). */
function encodeBig(x: bigint): number | string {
  return x > LIMIT || x < -LIMIT ? x.toString() : Number(x);
}

/** `int`: element-wise add/sub/mul of integer vectors with an explicit overflow rule. */
export const intOp: OpHandler = (request, context) => {
  // E_ARG
  const fn = readEnum(request, "fn", INTEGER_FNS);
  const dtype = readEnum(request, "dtype", INTEGER_DTYPES);
  const overflow = readEnum(request, "overflow", INTEGER_OVERFLOW_RULES, "error");
  const a = readVector(request, "a");
  const b = readVector(request, "b");
  // E_SHAPE
  if (a.length !== b.length) {
    throw shapeError(`Arguments "a" and "b" differ in length: ${a.length} and ${b.length}`);
  }
  context.checkLimit();
  // E_RANGE, E_OVERFLOW
  const { y, overflowed } = integerArithmetic(a, b, { fn, dtype, overflow });
  return { y: Array.from(y, encodeBig), overflowed };
};

const DTYPES: readonly MatmulDtype[] = [...FLOAT_FORMAT_NAMES, ...INTEGER_DTYPES];
const ACCUMULATORS: readonly (FloatFormatName | IntegerAccumulator)[] = [
  ...FLOAT_FORMAT_NAMES,
  ...INTEGER_ACCUMULATORS,
];

/**
 * `matmul`: a (m×k) times b (k×n) with inputs in `dtype` and each step rounded to `accumulate`;
 * integer accumulators add `"overflowed"`. `overflow` is read only for integer accumulators (the
 * protocol ignores known arguments a request does not use).
 */
export const matmulOp: OpHandler = (request, context) => {
  // E_ARG
  const dtype = readEnum(request, "dtype", DTYPES);
  const accumulate = readEnum(request, "accumulate", ACCUMULATORS);
  const rawA = readMatrix(request, "a");
  const rawB = readMatrix(request, "b");
  const integer = !isFloatFormatName(accumulate);
  const overflow = integer
    ? readEnum(request, "overflow", MATMUL_OVERFLOW_RULES, "error")
    : "error";
  if (integer && isFloatFormatName(dtype)) {
    throw argError(
      `Refused combination: float dtype ${dtype} with integer accumulate ${accumulate}`,
    );
  }
  // E_SHAPE
  const a = checkMatrix(rawA, "a");
  const b = checkMatrix(rawB, "b");
  if (a.cols !== b.rows) {
    throw shapeError(
      `Cannot multiply a (${a.rows}×${a.cols}) by b (${b.rows}×${b.cols}): a has ${a.cols} ` +
        `columns but b has ${b.rows} rows`,
    );
  }
  context.checkLimit();
  // E_RANGE, E_OVERFLOW
  if (!isFloatFormatName(accumulate)) {
    if (isFloatFormatName(dtype)) throw argError("unreachable"); // checked above
    const { y, overflowed } = integerMatmul(a, b, { dtype, accumulate, overflow });
    return {
      y: { shape: [y.rows, y.cols], data: Array.from(y.data, encodeBig) },
      overflowed,
    };
  }
  const { y } = matmul(a, b, { dtype, accumulate });
  return { y: encodeMatrix(y) };
};
