/**
 * LoRA (Hu et al. 2021) with PEFT's conventions, in float64: W (out×in) frozen, A (r×in),
 * B (out×r), x (n×in), `y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ` with `s = alpha/r` (or `alpha/sqrt(r)` for
 * rsLoRA). Initialisation, dropout, forward, merge, unmerge, safe merge and adapter composition
 * (docs/lora.md eq. (1)–(4), (11)–(12)).
 *
 * @module
 */
import { argError, rangeError, shapeError, show } from "./_fail.ts";
import {
  type AdapterLike,
  checkAdapterRange,
  checkAdapterShape,
  checkProbability,
  checkVectorFinite,
  checkVectorShape,
  gaussian,
  scalingOf,
} from "./_lora.ts";
import { checkFinite } from "./_linalg.ts";
import { multiply } from "./linalg.ts";
import { lowRank } from "./lowrank.ts";
import type { Matrix } from "./matrix.ts";
import { SplitMix64 } from "./splitmix64.ts";
import { svd } from "./svd.ts";

/** A LoRA adapter: ΔW = s·B·A with s from alpha, the rank r (= a's rows) and rslora. */
export interface LoraAdapter {
  /** A, (r, in) row-major. */
  readonly a: Matrix;
  /** B, (out, r) row-major. */
  readonly b: Matrix;
  /** PEFT's `lora_alpha`. */
  readonly alpha: number;
  /** rsLoRA's scaling alpha/sqrt(r) instead of alpha/r. @default {false} */
  readonly rslora?: boolean;
}

/** A linear layer with a LoRA adapter: y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ + bias. */
export interface LoraLayer extends LoraAdapter {
  /** The frozen weight W, (out, in) row-major. */
  readonly w: Matrix;
  /** Optional bias, length out. */
  readonly bias?: Float64Array;
}

/**
 * The LoRA scaling s (docs/lora.md eq. (2)): `alpha / rank` (Hu et al., PEFT's default), or
 * `alpha / sqrt(rank)` with `rslora` (Kalajdzievski 2023); one float64 division of the correctly
 * rounded square root.
 *
 * @param rank r, an integer ≥ 1.
 * @param options `alpha`, PEFT's lora_alpha (@default rank, which gives s = 1), and `rslora`
 * (@default false).
 * @returns s.
 * @throws {LoraquantTypeError} `E_ARG` when rank is not an integer.
 * @throws {LoraquantRangeError} `E_RANGE` when rank < 1 or alpha is not finite.
 *
 * @example
 * ```ts
 * import { loraScaling } from "@loraquant/reference/lora";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(loraScaling(8, { alpha: 16 }), 2);
 * assertEquals(loraScaling(16, { alpha: 16, rslora: true }), 4);
 * ```
 */
export function loraScaling(
  rank: number,
  options: { alpha?: number; rslora?: boolean } = {},
): number {
  if (!Number.isInteger(rank)) throw argError(`rank must be an integer, got ${show(rank)}`);
  if (rank < 1) throw rangeError(`rank must be ≥ 1, got ${rank}`);
  const alpha = options.alpha ?? rank;
  if (!Number.isFinite(alpha)) throw rangeError(`alpha must be finite, got ${show(alpha)}`);
  return scalingOf(alpha, rank, options.rslora ?? false);
}

/** How {@linkcode initLora} draws A and B. */
export type LoraInit = "kaiming-uniform" | "gaussian" | "pissa";

/** Options of {@linkcode initLora}. */
export interface InitLoraOptions {
  /** The rank r. */
  rank: number;
  /** PEFT's lora_alpha. @default rank (s = 1) */
  alpha?: number;
  /** rsLoRA scaling. @default {false} */
  rslora?: boolean;
  /** The initialisation. @default "kaiming-uniform" */
  init?: LoraInit;
  /** SplitMix64 seed, 0 ≤ seed < 2^53. @default 0 */
  seed?: number;
}

/**
 * Initialises a LoRA adapter for the weight w (docs/lora.md eq. (3)):
 * - `"kaiming-uniform"` (PEFT's default, `kaiming_uniform_(A, a=sqrt(5))`): A_ij ~ U(−1/sqrt(in),
 *   1/sqrt(in)), drawn as `(2u − 1)/sqrt(in)`, u from SplitMix64(seed) one per element, row-major;
 *   B = 0, so s·B·A = 0 and the adapted layer starts exactly at W.
 * - `"gaussian"` (PEFT's `init_lora_weights="gaussian"`): A_ij ~ N(0, (1/r)²) by Box–Muller from
 *   two draws per element, `sqrt(−2·ln(1 − u₁))·cos(2π·u₂)/r`; B = 0.
 * - `"pissa"` (Meng et al. 2024, PEFT's formulas): with W = U·diag(σ)·Vᵀ,
 *   `A = diag(sqrt(σ_r/s))·V_rᵀ`, `B = U_r·diag(sqrt(σ_r/s))` and W is replaced by the residual
 *   `W − s·B·A` (needs s > 0); the adapted layer then starts at W up to rounding.
 * The returned w is the input for the first two (never modified), a new matrix for PiSSA.
 *
 * @param w The weight (out, in), finite.
 * @param options rank, alpha, rslora, init, seed.
 * @returns The (possibly residual) weight and the adapter.
 * @throws {LoraquantTypeError} `E_ARG` for a non-integer rank, an unknown init or a bad seed.
 * @throws {LoraquantRangeError} `E_RANGE` for a rank outside [1, min(out, in)], a non-finite
 * alpha or w, a seed outside [0, 2^53), or s ≤ 0 with PiSSA.
 *
 * @example The default start is exact: B = 0
 * ```ts
 * import { initLora } from "@loraquant/reference/lora";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assert } from "@std/assert";
 *
 * const w = matrix([3, 4], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
 * const { adapter } = initLora(w, { rank: 2, alpha: 4, seed: 7 });
 * assert(adapter.b.data.every((v) => v === 0));
 * assert(adapter.a.data.every((v) => Math.abs(v) <= 0.5)); // 1/sqrt(4)
 * ```
 */
export function initLora(w: Matrix, options: InitLoraOptions): { w: Matrix; adapter: LoraAdapter } {
  const { rank } = options;
  const init = options.init ?? "kaiming-uniform";
  if (!Number.isInteger(rank)) {
    throw argError(`Cannot init LoRA: rank must be an integer, got ${show(rank)}`);
  }
  if (!["kaiming-uniform", "gaussian", "pissa"].includes(init)) {
    throw argError(
      `Cannot init LoRA: init must be kaiming-uniform, gaussian or pissa, got ${
        JSON.stringify(init)
      }`,
    );
  }
  const alpha = options.alpha ?? rank;
  const rslora = options.rslora ?? false;
  const out = w.rows;
  const inputs = w.cols;
  if (rank < 1 || rank > Math.min(out, inputs)) {
    throw rangeError(
      `Cannot init LoRA: rank must satisfy 1 ≤ rank ≤ min(out, in) = ${
        Math.min(out, inputs)
      }, got ${rank}`,
    );
  }
  if (!Number.isFinite(alpha)) {
    throw rangeError(`Cannot init LoRA: alpha must be finite, got ${show(alpha)}`);
  }
  checkFinite(w, "w", "init LoRA");
  const rng = new SplitMix64(options.seed ?? 0);
  const s = scalingOf(alpha, rank, rslora);
  if (init === "pissa") {
    if (!(s > 0)) {
      throw rangeError(`Cannot init LoRA with PiSSA: the scaling must be > 0, got ${show(s)}`);
    }
    const { u, s: sigma, v } = svd(w);
    const k = sigma.length;
    const roots = Float64Array.from(sigma.subarray(0, rank), (x) => Math.sqrt(x / s));
    const a = new Float64Array(rank * inputs); // (r, in)
    const b = new Float64Array(out * rank); // (out, r)
    for (let t = 0; t < rank; t++) {
      for (let j = 0; j < inputs; j++) a[t * inputs + j] = roots[t]! * v.data[j * k + t]!;
      for (let i = 0; i < out; i++) b[i * rank + t] = u.data[i * k + t]! * roots[t]!;
    }
    const adapter: LoraAdapter = {
      a: { rows: rank, cols: inputs, data: a },
      b: { rows: out, cols: rank, data: b },
      alpha,
      rslora,
    };
    return { w: unmergeLora(w, adapter), adapter };
  }
  const a = new Float64Array(rank * inputs); // (r, in), row-major draw order
  if (init === "kaiming-uniform") {
    const bound = 1 / Math.sqrt(inputs);
    for (let i = 0; i < a.length; i++) a[i] = (2 * rng.nextUniform() - 1) * bound;
  } else {
    for (let i = 0; i < a.length; i++) a[i] = gaussian(rng) / rank;
  }
  return {
    w,
    adapter: {
      a: { rows: rank, cols: inputs, data: a },
      b: { rows: out, cols: rank, data: new Float64Array(out * rank) },
      alpha,
      rslora,
    },
  };
}

/**
 * Inverted dropout (PEFT's `lora_dropout`, applied to the input of A): element x_ij is kept and
 * multiplied by 1/(1 − p) when its draw u ≥ p, else set to 0; one SplitMix64 draw per element,
 * row-major. p = 0 returns a copy.
 *
 * @param x (n, in).
 * @param options `p` (@default 0) and `seed` (@default 0).
 * @returns The dropped-out copy; x is not modified.
 * @throws {LoraquantTypeError} `E_ARG` when p is not a number or the seed not an integer.
 * @throws {LoraquantRangeError} `E_RANGE` when p is outside [0, 1) or the seed outside [0, 2^53).
 *
 * @example
 * ```ts
 * import { dropout } from "@loraquant/reference/lora";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assert } from "@std/assert";
 *
 * const y = dropout(matrix([1, 4], [1, 1, 1, 1]), { p: 0.5, seed: 1 });
 * assert(y.data.every((v) => v === 0 || v === 2));
 * ```
 */
export function dropout(x: Matrix, options: { p?: number; seed?: number } = {}): Matrix {
  const p = options.p ?? 0;
  checkProbability(p, "p", "apply dropout");
  const rng = new SplitMix64(options.seed ?? 0);
  if (p === 0) return { rows: x.rows, cols: x.cols, data: Float64Array.from(x.data) };
  const keep = 1 / (1 - p);
  const out = Float64Array.from(x.data, (v) => (rng.nextUniform() >= p ? v * keep : 0));
  return { rows: x.rows, cols: x.cols, data: out };
}

/** Options of {@linkcode loraForward}. */
export interface LoraForwardOptions {
  /** Dropout probability on the adapter's input. @default 0 */
  dropout?: number;
  /** Dropout seed. @default 0 */
  seed?: number;
}

/**
 * The forward pass of a LoRA linear layer (docs/lora.md eq. (1)):
 * `y = x·Wᵀ + s·((drop(x)·Aᵀ)·Bᵀ) + bias`.
 *
 * Arithmetic, float64 nearest-even: `t = x·Wᵀ` and `h = drop(x)·Aᵀ`, `g = h·Bᵀ` by
 * {@linkcode multiply} (sums over k ascending), then `y_ij = (t_ij + s·g_ij) + bias_j`. Each
 * element lies within `(in + r + 4)·(u·M + η)` of the exact value, M = Σ|x||w| + |s|·Σ|x||a||b|
 * + |bias|, u = 2⁻⁵³, η = 2⁻¹⁰⁷⁴ (underflow) (docs/lora.md eq. (4)).
 *
 * @param x (n, in), finite.
 * @param layer w (out, in), a, b, alpha, rslora, bias (length out).
 * @param options dropout and seed.
 * @returns y, (n, out).
 * @throws {LoraquantTypeError} `E_SHAPE` when shapes disagree; `E_ARG` for a wrong type.
 * @throws {LoraquantRangeError} `E_RANGE` for a rank outside [1, min(out, in)] or a non-finite
 * input.
 *
 * @example With B = 0 the layer is the frozen one
 * ```ts
 * import { loraForward } from "@loraquant/reference/lora";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const w = matrix([2, 2], [1, 2, 3, 4]);
 * const layer = { w, a: matrix([1, 2], [1, 1]), b: matrix([2, 1], [0, 0]), alpha: 1 };
 * assertEquals([...loraForward(matrix([1, 2], [1, 1]), layer).data], [3, 7]);
 * ```
 */
export function loraForward(x: Matrix, layer: LoraLayer, options: LoraForwardOptions = {}): Matrix {
  const what = "run the LoRA forward";
  const { w } = layer;
  const out = w.rows;
  const inputs = w.cols;
  const r = checkAdapterShape(out, inputs, layer, what);
  if (x.cols !== inputs) {
    throw shapeError(`Cannot ${what}: x must be n×in with in = ${inputs}, got ${x.rows}×${x.cols}`);
  }
  if (layer.bias !== undefined) checkVectorShape(layer.bias, out, "bias", what);
  checkAdapterRange(out, inputs, layer, what);
  checkFinite(w, "w", what);
  checkFinite(x, "x", what);
  if (layer.bias !== undefined) checkVectorFinite(layer.bias, "bias", what);
  const s = scalingOf(layer.alpha, r, layer.rslora ?? false);
  const xd = options.dropout ? dropout(x, { p: options.dropout, seed: options.seed ?? 0 }) : x;
  const t = multiply(x, w, { transposeB: true }); // (n, out)
  const h = multiply(xd, layer.a, { transposeB: true }); // (n, r)
  const g = multiply(h, layer.b, { transposeB: true }); // (n, out)
  const y = new Float64Array(x.rows * out);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < out; j++) {
      const k = i * out + j;
      const v = t.data[k]! + s * g.data[k]!;
      y[k] = layer.bias === undefined ? v : v + layer.bias[j]!;
    }
  }
  return { rows: x.rows, cols: out, data: y };
}

/**
 * ΔW = s·B·A, (out, in): `(B·A)_ij` by {@linkcode multiply} (r terms, ascending), then multiplied
 * by s, each step rounded to nearest-even.
 *
 * @param adapter a (r, in), b (out, r), alpha, rslora; finite.
 * @returns ΔW.
 * @throws {LoraquantTypeError} `E_SHAPE` when b's columns differ from a's rows.
 * @throws {LoraquantRangeError} `E_RANGE` for a non-finite alpha, a or b.
 *
 * @example
 * ```ts
 * import { deltaWeight } from "@loraquant/reference/lora";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const d = deltaWeight({ a: matrix([1, 2], [1, 2]), b: matrix([1, 1], [3]), alpha: 2 });
 * assertEquals([...d.data], [6, 12]);
 * ```
 */
export function deltaWeight(adapter: LoraAdapter): Matrix {
  const what = "compute s·B·A";
  const r = checkAdapterShape(adapter.b.rows, adapter.a.cols, adapter, what);
  if (r < 1) throw rangeError(`Cannot ${what}: the rank must be ≥ 1, got ${r}`);
  if (!Number.isFinite(adapter.alpha)) {
    throw rangeError(`Cannot ${what}: alpha must be finite, got ${show(adapter.alpha)}`);
  }
  checkFinite(adapter.a, "a", what);
  checkFinite(adapter.b, "b", what);
  const s = scalingOf(adapter.alpha, r, adapter.rslora ?? false);
  const ba = multiply(adapter.b, adapter.a);
  return { rows: ba.rows, cols: ba.cols, data: ba.data.map((v) => s * v) };
}

function combine(w: Matrix, adapter: AdapterLike, sign: 1 | -1, what: string): Matrix {
  const out = w.rows;
  const inputs = w.cols;
  const r = checkAdapterShape(out, inputs, adapter, what);
  checkAdapterRange(out, inputs, adapter, what);
  checkFinite(w, "w", what);
  const s = scalingOf(adapter.alpha, r, adapter.rslora ?? false);
  const ba = multiply(adapter.b, adapter.a); // (out, in)
  const data = new Float64Array(out * inputs);
  for (let i = 0; i < data.length; i++) data[i] = w.data[i]! + sign * (s * ba.data[i]!);
  return { rows: out, cols: inputs, data };
}

/**
 * Merges the adapter into the weight (docs/lora.md eq. (11)): `W' = W + s·(B·A)`, each element
 * `w_ij + s·(B·A)_ij` with `(B·A)_ij` summed over r ascending, every operation rounded to
 * nearest-even float64: `|ŵ' − w'| ≤ (r + 2)·(u·(|w| + |s|·Σ_t|b_it||a_tj|) + η)`. A new matrix is
 * returned; w is never modified. The result may overflow to ±Infinity for huge inputs: use
 * {@linkcode safeMergeLora} to refuse that.
 *
 * @param w (out, in), finite.
 * @param adapter a (r, in), b (out, r), alpha, rslora.
 * @returns W + s·B·A.
 * @throws {LoraquantTypeError} `E_SHAPE` when the shapes disagree.
 * @throws {LoraquantRangeError} `E_RANGE` for a rank outside [1, min(out, in)] or a non-finite
 * input.
 *
 * @example
 * ```ts
 * import { mergeLora } from "@loraquant/reference/lora";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const w = matrix([2, 2], [1, 0, 0, 1]);
 * const adapter = { a: matrix([1, 2], [1, 2]), b: matrix([2, 1], [1, -1]), alpha: 2 };
 * assertEquals([...mergeLora(w, adapter).data], [3, 4, -2, -3]);
 * ```
 */
export function mergeLora(w: Matrix, adapter: LoraAdapter): Matrix {
  return combine(w, adapter, 1, "merge LoRA");
}

/**
 * Removes a merged adapter (docs/lora.md eq. (12)): `W = W' − s·(B·A)`, rounded as
 * {@linkcode mergeLora}; merge then unmerge computes the same `d = fl(s·(B·A)_ij)` twice,
 * so it returns W within `2u·(|w| + |s|·Σ|b||a|) + 4η` per element (exactly W when the sums are
 * exact).
 *
 * @param w The merged weight (out, in), finite.
 * @param adapter a (r, in), b (out, r), alpha, rslora.
 * @returns W' − s·B·A.
 * @throws {LoraquantTypeError} `E_SHAPE` when the shapes disagree.
 * @throws {LoraquantRangeError} `E_RANGE` for a rank outside [1, min(out, in)] or a non-finite
 * input.
 *
 * @example
 * ```ts
 * import { mergeLora, unmergeLora } from "@loraquant/reference/lora";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const w = matrix([2, 2], [1, 0, 0, 1]);
 * const adapter = { a: matrix([1, 2], [1, 2]), b: matrix([2, 1], [1, -1]), alpha: 2 };
 * assertEquals([...unmergeLora(mergeLora(w, adapter), adapter).data], [1, 0, 0, 1]);
 * ```
 */
export function unmergeLora(w: Matrix, adapter: LoraAdapter): Matrix {
  return combine(w, adapter, -1, "unmerge LoRA");
}

/**
 * {@linkcode mergeLora} that refuses a non-finite result (PEFT's `safe_merge=True`): the merged
 * weight is computed into a new matrix and checked before it is returned, so on failure nothing
 * is returned and w is unchanged.
 *
 * @param w (out, in), finite.
 * @param adapter a (r, in), b (out, r), alpha, rslora.
 * @returns W + s·B·A, every element finite.
 * @throws {LoraquantTypeError} `E_SHAPE` when the shapes disagree.
 * @throws {LoraquantRangeError} `E_RANGE` for a bad input, or when an element of the merged
 * weight overflows to ±Infinity (or is NaN), naming its position.
 *
 * @example
 * ```ts
 * import { safeMergeLora } from "@loraquant/reference/lora";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertThrows } from "@std/assert";
 *
 * const w = matrix([1, 1], [1.7976931348623157e308]);
 * const adapter = { a: matrix([1, 1], [1e308]), b: matrix([1, 1], [1]), alpha: 1 };
 * assertThrows(() => safeMergeLora(w, adapter), RangeError, "not finite");
 * ```
 */
export function safeMergeLora(w: Matrix, adapter: LoraAdapter): Matrix {
  const merged = mergeLora(w, adapter);
  for (let i = 0; i < merged.data.length; i++) {
    const v = merged.data[i]!;
    if (!Number.isFinite(v)) {
      throw rangeError(
        `Cannot safely merge LoRA: the merged weight is not finite at (${
          Math.floor(i / merged.cols)
        }, ${i % merged.cols}), got ${show(v)}; the adapter seems broken and w was left unchanged`,
      );
    }
  }
  return merged;
}

function checkCompatible(
  adapters: readonly LoraAdapter[],
  weights: readonly number[] | undefined,
  what: string,
) {
  if (adapters.length === 0) throw argError(`Cannot ${what}: no adapters given`);
  if (weights !== undefined && weights.length !== adapters.length) {
    throw shapeError(`Cannot ${what}: ${weights.length} weights for ${adapters.length} adapters`);
  }
  const out = adapters[0]!.b.rows;
  const inputs = adapters[0]!.a.cols;
  for (const [k, ad] of adapters.entries()) {
    if (ad.b.rows !== out || ad.a.cols !== inputs) {
      throw shapeError(
        `Cannot ${what}: adapter ${k} is for a ${ad.b.rows}×${ad.a.cols} weight, adapter 0 for ${out}×${inputs}`,
      );
    }
    checkAdapterShape(out, inputs, ad, `${what} (adapter ${k})`);
  }
  for (const [k, ad] of adapters.entries()) {
    checkAdapterRange(out, inputs, ad, `${what} (adapter ${k})`);
  }
  if (weights !== undefined) checkVectorFinite(weights, "weights", what);
  return { out, inputs };
}

/**
 * Concatenates adapters into one of rank Σ r_k (PEFT's `add_weighted_adapter(..., "cat")`,
 * docs/lora.md eq. (13)): `A = [A_1; A_2; …]` stacked by rows, `B = [c_1·B_1 | c_2·B_2 | …]` by
 * columns with `c_k = weight_k·s_k`, and alpha = Σ r_k without rslora, so s = 1 and
 * `B·A = Σ_k c_k·B_k·A_k` exactly in real arithmetic. The only rounding is of each `c_k·b`
 * (none when every c_k is a power of two and no product underflows, as in the tests).
 *
 * @param adapters Adapters of the same weight shape.
 * @param options `weights` (@default all 1).
 * @returns The concatenated adapter.
 * @throws {LoraquantTypeError} `E_ARG` for an empty list; `E_SHAPE` when shapes disagree.
 * @throws {LoraquantRangeError} `E_RANGE` for a non-finite input.
 *
 * @example Two rank-1 adapters make one of rank 2
 * ```ts
 * import { composeCat } from "@loraquant/reference/lora";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const one = { a: matrix([1, 2], [1, 0]), b: matrix([2, 1], [1, 1]), alpha: 2 };
 * const two = { a: matrix([1, 2], [0, 1]), b: matrix([2, 1], [1, -1]), alpha: 1 };
 * const cat = composeCat([one, two]);
 * assertEquals(cat.a.rows, 2);
 * assertEquals([...cat.b.data], [2, 1, 2, -1]);
 * ```
 */
export function composeCat(
  adapters: readonly LoraAdapter[],
  options: { weights?: readonly number[] } = {},
): LoraAdapter {
  const what = "compose adapters by concatenation";
  const { out, inputs } = checkCompatible(adapters, options.weights, what);
  const total = adapters.reduce((sum, ad) => sum + ad.a.rows, 0);
  const a = new Float64Array(total * inputs); // (R, in)
  const b = new Float64Array(out * total); // (out, R)
  let offset = 0;
  for (const [k, ad] of adapters.entries()) {
    const r = ad.a.rows;
    const c = (options.weights?.[k] ?? 1) * scalingOf(ad.alpha, r, ad.rslora ?? false);
    a.set(ad.a.data, offset * inputs);
    for (let i = 0; i < out; i++) {
      for (let t = 0; t < r; t++) b[i * total + offset + t] = c * ad.b.data[i * r + t]!;
    }
    offset += r;
  }
  return {
    a: { rows: total, cols: inputs, data: a },
    b: { rows: out, cols: total, data: b },
    alpha: total,
    rslora: false,
  };
}

/** The result of {@linkcode composeSvd}. */
export interface ComposeSvdResult {
  /** The re-decomposed adapter (alpha = rank, so s = 1). */
  adapter: LoraAdapter;
  /** The singular values of the weighted sum ΔW. */
  s: Float64Array;
  /** ‖ΔW − B·A‖_F = sqrt(Σ_{i>rank} σ_i²), the price of the target rank. */
  error: number;
}

/**
 * Composes adapters by SVD (PEFT's `"svd"` combination, docs/lora.md eq. (14)): the weighted sum
 * `ΔW = Σ_k weight_k·s_k·B_k·A_k` (float64, adapters in order) is re-decomposed to the target
 * rank by {@linkcode lowRank}: `B = U_r·diag(sqrt σ)`, `A = diag(sqrt σ)·V_rᵀ`, s = 1, and the
 * Eckart–Young error is reported.
 *
 * @param adapters Adapters of the same weight shape.
 * @param options `rank` (the target rank, 1 ≤ rank ≤ min(out, in)) and `weights` (@default all 1).
 * @returns The adapter, the spectrum of ΔW and the error.
 * @throws {LoraquantTypeError} `E_ARG` for an empty list or a non-integer rank; `E_SHAPE` when
 * shapes disagree.
 * @throws {LoraquantRangeError} `E_RANGE` for a rank outside its domain or a non-finite input.
 *
 * @example Two orthogonal rank-1 adapters compressed to rank 1 lose the smaller one
 * ```ts
 * import { composeSvd } from "@loraquant/reference/lora";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertAlmostEquals } from "@std/assert";
 *
 * const one = { a: matrix([1, 2], [1, 0]), b: matrix([2, 1], [3, 0]), alpha: 1 };
 * const two = { a: matrix([1, 2], [0, 1]), b: matrix([2, 1], [0, 2]), alpha: 1 };
 * const { error } = composeSvd([one, two], { rank: 1 });
 * assertAlmostEquals(error, 2, 1e-15);
 * ```
 */
export function composeSvd(
  adapters: readonly LoraAdapter[],
  options: { rank: number; weights?: readonly number[] },
): ComposeSvdResult {
  const what = "compose adapters by SVD";
  const { out, inputs } = checkCompatible(adapters, options.weights, what);
  const delta = new Float64Array(out * inputs); // (out, in)
  for (const [k, ad] of adapters.entries()) {
    const c = (options.weights?.[k] ?? 1) * scalingOf(ad.alpha, ad.a.rows, ad.rslora ?? false);
    const ba = multiply(ad.b, ad.a);
    for (let i = 0; i < delta.length; i++) delta[i] = delta[i]! + c * ba.data[i]!;
  }
  const { b, a, s, error } = lowRank({ rows: out, cols: inputs, data: delta }, options.rank);
  return { adapter: { a, b, alpha: options.rank, rslora: false }, s, error };
}
