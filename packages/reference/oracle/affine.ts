// The oracle's affine ops: `quantize`, `dequantize`, `ternary`, `metrics`
// (oracle-protocol.md "quantize / dequantize", "ternary", "metrics"). Each handler reads every
// argument first (E_ARG), then checks shapes (E_SHAPE), calls context.checkLimit() (E_LIMIT), and
// leaves the value checks (E_RANGE) to the reference functions, which make them before computing.
import { argError, shapeError } from "../_fail.ts";
import {
  checkCount,
  GRANULARITIES,
  layoutArguments,
  layoutCount,
  planQuantize,
  QUANTIZE_DTYPES,
  QUANTIZE_PROFILES,
  QUANTIZE_RANGES,
  QUANTIZE_SCHEMES,
  type QuantizeSettings,
  runQuantize,
} from "../_affine.ts";
import { dequantize } from "../dequantize.ts";
import { metrics } from "../metrics.ts";
import {
  checkMatrix,
  decodeVector,
  describe,
  encodeInteger,
  encodeMatrix,
  encodeNumber,
  encodeVector,
  type Json,
  readEnum,
  readMatrix,
  readNumber,
  readVector,
  type Request,
} from "../protocol.ts";
import { ROUNDING_MODES } from "../rounding.ts";
import { ternary } from "../ternary.ts";
import type { OpHandler } from "./handler.ts";

/** An integer matrix as the protocol writes it (integers above 2^53 as decimal strings). */
function encodeIntegerMatrix(
  m: { rows: number; cols: number; data: ArrayLike<number> },
): { shape: [number, number]; data: (number | string)[] } {
  return { shape: [m.rows, m.cols], data: Array.from(m.data, (v) => encodeInteger(v)) };
}

/** Reads an optional integer-like argument without judging it (layout checks judge it). */
function raw(request: Request, name: string): unknown {
  return request[name];
}

/**
 * `quantize`: `{q, scale, zeroPoint}`. `scheme` is required when calibrating (no `scale`) and
 * ignored otherwise; `granularity` is required; `axis` (default 0) and `groupSize` are read only
 * where the granularity uses them; `seed` only for stochastic rounding.
 */
export const quantizeOp: OpHandler = (request, context) => {
  const rawX = readMatrix(request, "x");
  const dtype = readEnum(request, "dtype", QUANTIZE_DTYPES);
  const scale = readVector(request, "scale", { optional: true });
  const scheme = scale === undefined ? readEnum(request, "scheme", QUANTIZE_SCHEMES) : "symmetric";
  const granularity = readEnum(request, "granularity", GRANULARITIES);
  const range = readEnum(request, "range", QUANTIZE_RANGES, "full");
  const rounding = readEnum(request, "rounding", ROUNDING_MODES, "nearest-even");
  const profile = readEnum(request, "profile", QUANTIZE_PROFILES, "exact");
  const zeroPoint = readVector(request, "zeroPoint", { optional: true });
  const settings: QuantizeSettings = { scheme, granularity, range, rounding, profile };
  if (granularity === "channel") settings.axis = (raw(request, "axis") ?? 0) as number;
  if (granularity === "group") settings.groupSize = raw(request, "groupSize") as number;
  if (rounding === "stochastic") settings.seed = raw(request, "seed") as number;
  if (scale !== undefined) settings.scale = scale;
  if (zeroPoint !== undefined) settings.zeroPoint = zeroPoint;
  // The remaining E_ARG checks, then E_SHAPE.
  const plan = planQuantize(rawX.rows, rawX.cols, rawX.data.length, dtype, settings);
  context.checkLimit();
  const { q, scale: s, zeroPoint: z } = runQuantize(rawX, plan);
  return {
    q: encodeIntegerMatrix(q),
    scale: encodeVector(s),
    zeroPoint: Array.from(z, (v) => encodeInteger(v)),
  };
};

/** `dequantize`: `{x}`. `zeroPoint` defaults to zeros; `granularity` is required. */
export const dequantizeOp: OpHandler = (request, context) => {
  const rawQ = readMatrix(request, "q");
  const scale = readVector(request, "scale");
  const zeroPoint = readVector(request, "zeroPoint", { optional: true });
  const granularity = readEnum(request, "granularity", GRANULARITIES);
  const profile = readEnum(request, "profile", QUANTIZE_PROFILES, "exact");
  const layout = layoutArguments(
    granularity,
    granularity === "channel" ? raw(request, "axis") ?? 0 : 0,
    granularity === "group" ? raw(request, "groupSize") : 0,
    "dequantize",
  );
  const q = checkMatrix(rawQ, "q");
  const count = layoutCount(layout, q.rows, q.cols, "dequantize");
  if (granularity !== "group" || layout.groupSize >= 1) {
    checkCount(scale, count, "scale", layout, "dequantize");
    checkCount(zeroPoint, count, "zeroPoint", layout, "dequantize");
  }
  context.checkLimit();
  const x = dequantize(q, scale, {
    granularity,
    axis: layout.axis,
    groupSize: layout.groupSize,
    profile,
    ...(zeroPoint === undefined ? {} : { zeroPoint }),
  });
  return { x: encodeMatrix(x) };
};

/** `ternary`: `{q, scale, y}`; `eps` defaults to 1e-5. */
export const ternaryOp: OpHandler = (request, context) => {
  const rawX = readMatrix(request, "x");
  const eps = readNumber(request, "eps", 1e-5);
  const x = checkMatrix(rawX, "x");
  context.checkLimit();
  const { q, scale, y } = ternary(x, { eps });
  return { q: encodeIntegerMatrix(q), scale: encodeNumber(scale), y: encodeMatrix(y) };
};

/** A metrics operand: a vector (shape [n]) or a matrix (shape [rows, cols]). */
interface Operand {
  readonly shape: number[];
  readonly data: Float64Array;
}

function readOperand(request: Request, name: string): Operand {
  const value = request[name];
  if (Array.isArray(value)) {
    const data = decodeVector(value, name);
    return { shape: [data.length], data };
  }
  if (typeof value === "object" && value !== null) {
    const m = readMatrix(request, name);
    return { shape: [m.rows, m.cols], data: m.data };
  }
  throw argError(
    `Argument "${name}" must be a vector or a matrix {"shape": [rows, cols], "data": [...]}, got ${
      describe(value)
    }`,
  );
}

/**
 * `metrics`: `{mse, rmse, maxAbs, sqnrDb}`. x and y are both vectors or both matrices of one
 * shape (a vector against a matrix is `E_SHAPE`, even with as many elements).
 */
export const metricsOp: OpHandler = (request, context) => {
  const x = readOperand(request, "x");
  const y = readOperand(request, "y");
  for (const [name, o] of [["x", x], ["y", y]] as const) {
    if (o.shape.length === 2) {
      checkMatrix({ rows: o.shape[0]!, cols: o.shape[1]!, data: o.data }, name);
    }
  }
  if (x.shape.length !== y.shape.length || x.shape.some((d, i) => d !== y.shape[i])) {
    throw shapeError(
      `Cannot compute metrics: x has shape [${x.shape.join(", ")}] but y has shape [${
        y.shape.join(", ")
      }]`,
    );
  }
  context.checkLimit();
  const m = metrics(x.data, y.data);
  const result: { [key: string]: Json } = {
    mse: encodeNumber(m.mse),
    rmse: encodeNumber(m.rmse),
    maxAbs: encodeNumber(m.maxAbs),
    sqnrDb: encodeNumber(m.sqnrDb),
  };
  return result;
};
