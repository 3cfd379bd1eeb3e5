// The oracle's LoRA ops (oracle-protocol.md "LoRA"): lora.forward, lora.merge, lora.unmerge,
// lora.params, svd, lowrank. Faults are checked in the protocol's order: every E_ARG, then
// E_SHAPE, the E_LIMIT check, then E_RANGE.
import { argError, rangeError, shapeError, show } from "../_fail.ts";
import { exactForward, exactMerge, exactUnmerge } from "../_lora_exact.ts";
import type { ExactLora } from "../_lora_exact.ts";
import { checkRank } from "../_linalg.ts";
import { lowRank } from "../lowrank.ts";
import type { Matrix } from "../matrix.ts";
import { countParameters } from "../params.ts";
import {
  checkMatrix,
  describe,
  encodeInteger,
  encodeMatrix,
  encodeVector,
  readBoolean,
  readInteger,
  readMatrix,
  readNumber,
  readVector,
} from "../protocol.ts";
import type { Request } from "../protocol.ts";
import { svd } from "../svd.ts";
import type { OpContext, OpHandler } from "./handler.ts";

/** What the three matrix ops share, read and checked. */
interface LoraRequest extends ExactLora {
  magnitude: Float64Array | undefined;
}

/**
 * Reads w, a, b, alpha, rslora, magnitude (E_ARG), checks their shapes (E_SHAPE) after the
 * `extra` E_ARG reads and before the `extraShapes` checks, then E_LIMIT, then E_RANGE.
 */
function readLora(
  request: Request,
  context: OpContext,
  op: string,
  extra: () => () => void,
): LoraRequest {
  const wRaw = readMatrix(request, "w");
  const aRaw = readMatrix(request, "a");
  const bRaw = readMatrix(request, "b");
  const alpha = readNumber(request, "alpha");
  const rslora = readBoolean(request, "rslora", false);
  const magnitude = readVector(request, "magnitude", { optional: true });
  const extraShapes = extra();
  // E_SHAPE
  const w = checkMatrix(wRaw, "w");
  const a = checkMatrix(aRaw, "a");
  const b = checkMatrix(bRaw, "b");
  const out = w.rows;
  const inputs = w.cols;
  const r = a.rows;
  if (a.cols !== inputs) {
    throw shapeError(
      `Cannot ${op}: a must be r×in = ${r}×${inputs} (in = w's columns), got ${a.rows}×${a.cols}`,
    );
  }
  if (b.rows !== out || b.cols !== r) {
    throw shapeError(
      `Cannot ${op}: b must be out×r = ${out}×${r} (out = w's rows, r = a's rows), got ${b.rows}×${b.cols}`,
    );
  }
  if (magnitude !== undefined && magnitude.length !== out) {
    throw shapeError(
      `Cannot ${op}: magnitude must have length out = ${out}, got ${magnitude.length}`,
    );
  }
  extraShapes();
  context.checkLimit();
  // E_RANGE
  if (r < 1 || r > Math.min(out, inputs)) {
    throw rangeError(
      `Cannot ${op}: the rank r = a's rows must satisfy 1 ≤ r ≤ min(out, in) = ${
        Math.min(out, inputs)
      }, got ${r}`,
    );
  }
  if (!Number.isFinite(alpha)) {
    throw rangeError(`Cannot ${op}: alpha must be finite, got ${show(alpha)}`);
  }
  finite(w, "w", op);
  finite(a, "a", op);
  finite(b, "b", op);
  if (magnitude !== undefined) finiteVector(magnitude, "magnitude", op);
  return { w, a, b, alpha, rslora, magnitude };
}

function finite(m: Matrix, name: string, op: string): void {
  for (let i = 0; i < m.data.length; i++) {
    const v = m.data[i]!;
    if (!Number.isFinite(v)) {
      throw rangeError(
        `Cannot ${op}: ${name} must be finite, got ${show(v)} at (${Math.floor(i / m.cols)}, ${
          i % m.cols
        })`,
      );
    }
  }
}

function finiteVector(v: Float64Array, name: string, op: string): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) {
      throw rangeError(`Cannot ${op}: ${name} must be finite, got ${show(v[i]!)} at [${i}]`);
    }
  }
}

/** `lora.forward`: y = x·wᵀ + s·(x·aᵀ)·bᵀ (+ bias); DoRA's merged weight with `magnitude`. */
export const loraForwardOp: OpHandler = (request, context) => {
  let x: Matrix | undefined;
  let bias: Float64Array | undefined;
  let inputs = 0;
  let out = 0;
  const l = readLora(request, context, "run lora.forward", () => {
    const xRaw = readMatrix(request, "x");
    bias = readVector(request, "bias", { optional: true });
    return () => {
      x = checkMatrix(xRaw, "x");
      const w = request["w"] as { shape: [number, number] };
      out = w.shape[0];
      inputs = w.shape[1];
      if (x.cols !== inputs) {
        throw shapeError(
          `Cannot run lora.forward: x must be n×in with in = w's columns = ${inputs}, got ${x.rows}×${x.cols}`,
        );
      }
      if (bias !== undefined && bias.length !== out) {
        throw shapeError(
          `Cannot run lora.forward: bias must have length out = ${out}, got ${bias.length}`,
        );
      }
    };
  });
  finite(x!, "x", "run lora.forward");
  if (bias !== undefined) finiteVector(bias, "bias", "run lora.forward");
  const y = exactForward(x!, l, bias, l.magnitude);
  return { y: encodeMatrix({ rows: x!.rows, cols: out, data: y }) };
};

/** `lora.merge`: w + s·b·a; DoRA's m_i·V_i/‖V_i‖ and the norms with `magnitude`. */
export const loraMergeOp: OpHandler = (request, context) => {
  const l = readLora(request, context, "run lora.merge", () => () => {});
  const { w, norm } = exactMerge(l, l.magnitude);
  const result: { w: ReturnType<typeof encodeMatrix>; norm?: (number | string)[] } = {
    w: encodeMatrix({ rows: l.w.rows, cols: l.w.cols, data: w }),
  };
  if (norm !== undefined) result.norm = encodeVector(norm);
  return result;
};

/** `lora.unmerge`: w − s·b·a; with `magnitude` (and the merge's `norm`), w_i·n_i/m_i − s·(b·a)_i. */
export const loraUnmergeOp: OpHandler = (request, context) => {
  let norm: Float64Array | undefined;
  const l = readLora(request, context, "run lora.unmerge", () => {
    norm = readVector(request, "norm", { optional: true });
    if (request["magnitude"] !== undefined && norm === undefined) {
      throw argError(
        `Cannot run lora.unmerge with a magnitude (DoRA) without "norm": the merged weight alone has lost the row norms n_i that lora.merge returned`,
      );
    }
    return () => {
      const out = (request["w"] as { shape: [number, number] }).shape[0];
      if (request["magnitude"] !== undefined && norm !== undefined && norm.length !== out) {
        throw shapeError(
          `Cannot run lora.unmerge: norm must have length out = ${out}, got ${norm.length}`,
        );
      }
    };
  });
  if (l.magnitude !== undefined) {
    finiteVector(norm!, "norm", "run lora.unmerge");
    for (let i = 0; i < l.magnitude.length; i++) {
      if (l.magnitude[i] === 0) {
        throw rangeError(
          `Cannot run lora.unmerge: magnitude must be nonzero (w_i·n_i/m_i), got ${
            show(l.magnitude[i]!)
          } at [${i}]`,
        );
      }
    }
  }
  const w = exactUnmerge(l, l.magnitude, l.magnitude === undefined ? undefined : norm);
  return { w: encodeMatrix({ rows: l.w.rows, cols: l.w.cols, data: w }) };
};

/** `lora.params`: exact parameter counts of full fine-tuning and of LoRA, and their ratio. */
export const loraParamsOp: OpHandler = (request, context) => {
  const raw = request["shapes"];
  if (!Array.isArray(raw)) {
    throw argError(
      `Missing or non-array argument "shapes" (a list of [out, in]), got ${describe(raw)}`,
    );
  }
  if (raw.length === 0) {
    throw argError(
      `Argument "shapes" must list at least one [out, in] (the ratio lora/full needs full > 0)`,
    );
  }
  const shapes = raw.map((s, i): [number, number] => {
    if (
      !Array.isArray(s) || s.length !== 2 ||
      !s.every((d) => typeof d === "number" && Number.isInteger(d))
    ) {
      throw argError(`shapes[${i}] must be [out, in] with two integers, got ${describe(s)}`);
    }
    return [s[0] as number, s[1] as number];
  });
  const rank = readInteger(request, "rank");
  context.checkLimit();
  shapes.forEach(([out, inputs], i) => {
    if (out < 1 || inputs < 1) {
      throw rangeError(`shapes[${i}] = [${out}, ${inputs}]: dimensions must be ≥ 1`);
    }
    if (rank < 1 || rank > Math.min(out, inputs)) {
      throw rangeError(
        `rank must satisfy 1 ≤ rank ≤ min(out, in) = ${
          Math.min(out, inputs)
        } for shapes[${i}] = [${out}, ${inputs}], got ${rank}`,
      );
    }
  });
  const { full, lora, ratio } = countParameters(shapes, rank);
  return { full: encodeInteger(full), lora: encodeInteger(lora), ratio };
};

/** `svd`: the thin SVD {u, s, v}. */
export const svdOp: OpHandler = (request, context) => {
  const raw = readMatrix(request, "m");
  const m = checkMatrix(raw, "m");
  context.checkLimit();
  finite(m, "m", "compute svd");
  const { u, s, v } = svd(m);
  return { u: encodeMatrix(u), s: encodeVector(s), v: encodeMatrix(v) };
};

/** `lowrank`: the best rank-r approximation split evenly {b, a, s, error}. */
export const lowrankOp: OpHandler = (request, context) => {
  const raw = readMatrix(request, "m");
  const rank = readInteger(request, "rank");
  const m = checkMatrix(raw, "m");
  context.checkLimit();
  checkRank(rank, m.rows, m.cols);
  finite(m, "m", "compute lowrank");
  const { b, a, s, error } = lowRank(m, rank);
  return { b: encodeMatrix(b), a: encodeMatrix(a), s: encodeVector(s), error };
};
