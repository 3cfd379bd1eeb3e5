/**
 * Training LoRA in float64: the forward and backward passes of a LoRA linear layer (gradients
 * for A and B only; W frozen), MSE and softmax cross-entropy losses, SGD with momentum and
 * Adam/AdamW, a small MLP of LoRA layers, and the planted experiment of docs/lora.md §Training
 * (eq. (17)–(21)).
 *
 * @module
 */
import { argError, rangeError, shapeError, show } from "./_fail.ts";
import {
  checkAdapterRange,
  checkAdapterShape,
  checkProbability,
  checkVectorFinite,
  checkVectorShape,
  gaussian,
  scalingOf,
} from "./_lora.ts";
import { checkFinite } from "./_linalg.ts";
import { multiply, qr } from "./linalg.ts";
import { dropout, initLora, type LoraLayer } from "./lora.ts";
import type { Matrix } from "./matrix.ts";
import { SplitMix64 } from "./splitmix64.ts";
import { svd } from "./svd.ts";

/** What {@linkcode loraLinearBackward} needs from the forward pass. */
export interface LoraLinearCache {
  /** The input x, (n, in). */
  readonly x: Matrix;
  /** The dropout factors of x (0 or 1/(1 − p)), (n, in); undefined without dropout. */
  readonly mask: Matrix | undefined;
  /** The adapter's input drop(x), (n, in). */
  readonly xd: Matrix;
  /** h = drop(x)·Aᵀ, (n, r). */
  readonly h: Matrix;
  /** The scaling s. */
  readonly s: number;
}

/** The gradients of a LoRA linear layer: A and B only (W and the bias are frozen). */
export interface LoraGradients {
  /** ∂L/∂A, (r, in). */
  da: Matrix;
  /** ∂L/∂B, (out, r). */
  db: Matrix;
  /** ∂L/∂x, (n, in), for the layer below. */
  dx: Matrix;
}

/**
 * The forward pass of a LoRA linear layer, keeping what the backward pass needs (docs/lora.md
 * eq. (1)): `h = drop(x)·Aᵀ`, `y = x·Wᵀ + s·h·Bᵀ + bias`, each product by {@linkcode multiply}
 * (float64, sums ascending), then `y_ij = (t_ij + s·g_ij) + bias_j`.
 *
 * @param x (n, in), finite.
 * @param layer w (out, in), a (r, in), b (out, r), alpha, rslora, bias.
 * @param options `dropout` probability (@default 0) and `seed` (@default 0).
 * @returns y (n, out) and the cache.
 * @throws {LoraquantTypeError} `E_SHAPE` when the shapes disagree.
 * @throws {LoraquantRangeError} `E_RANGE` for a bad rank, dropout or a non-finite input.
 *
 * @example
 * ```ts
 * import { loraLinearForward } from "@loraquant/reference/train";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const layer = {
 *   w: matrix([1, 2], [1, 1]), a: matrix([1, 2], [1, 0]), b: matrix([1, 1], [2]), alpha: 1,
 * };
 * const { y } = loraLinearForward(matrix([1, 2], [3, 4]), layer);
 * assertEquals([...y.data], [13]); // 7 + 1·(3·1)·2
 * ```
 */
export function loraLinearForward(
  x: Matrix,
  layer: LoraLayer,
  options: { dropout?: number; seed?: number } = {},
): { y: Matrix; cache: LoraLinearCache } {
  const what = "run the LoRA layer forward";
  const out = layer.w.rows;
  const inputs = layer.w.cols;
  const r = checkAdapterShape(out, inputs, layer, what);
  if (x.cols !== inputs) {
    throw shapeError(`Cannot ${what}: x must be n×in with in = ${inputs}, got ${x.rows}×${x.cols}`);
  }
  if (layer.bias !== undefined) checkVectorShape(layer.bias, out, "bias", what);
  checkAdapterRange(out, inputs, layer, what);
  checkFinite(layer.w, "w", what);
  checkFinite(x, "x", what);
  if (layer.bias !== undefined) checkVectorFinite(layer.bias, "bias", what);
  const p = options.dropout ?? 0;
  checkProbability(p, "dropout", what);
  const s = scalingOf(layer.alpha, r, layer.rslora ?? false);
  let mask: Matrix | undefined;
  let xd = x;
  if (p > 0) {
    mask = dropout(
      { rows: x.rows, cols: x.cols, data: new Float64Array(x.data.length).fill(1) },
      { p, seed: options.seed ?? 0 },
    );
    xd = { rows: x.rows, cols: x.cols, data: x.data.map((v, i) => v * mask!.data[i]!) };
  }
  const t = multiply(x, layer.w, { transposeB: true }); // (n, out)
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
  return { y: { rows: x.rows, cols: out, data: y }, cache: { x, mask, xd, h, s } };
}

/**
 * The backward pass of a LoRA linear layer (docs/lora.md eq. (17)–(18)), for L with upstream
 * gradient dy = ∂L/∂y:
 * `∂L/∂B = s·dyᵀ·h`, `∂L/∂h = s·dy·B`, `∂L/∂A = (∂L/∂h)ᵀ·drop(x)`,
 * `∂L/∂x = dy·W + mask ∘ ((∂L/∂h)·A)`; W and the bias get no gradient (frozen). Products by
 * {@linkcode multiply} in float64; the factor s is applied to dy first.
 *
 * @param layer The layer of the forward pass.
 * @param options `cache` from {@linkcode loraLinearForward} and `dy` (n, out).
 * @returns The gradients of A, B and x.
 * @throws {LoraquantTypeError} `E_SHAPE` when dy is not (n, out).
 *
 * @example The gradient of B for L = Σ y
 * ```ts
 * import { loraLinearBackward, loraLinearForward } from "@loraquant/reference/train";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const layer = {
 *   w: matrix([1, 2], [1, 1]), a: matrix([1, 2], [1, 0]), b: matrix([1, 1], [2]), alpha: 1,
 * };
 * const { cache } = loraLinearForward(matrix([1, 2], [3, 4]), layer);
 * const { db, da } = loraLinearBackward(layer, { cache, dy: matrix([1, 1], [1]) });
 * assertEquals([...db.data], [3]); // s·h = 3
 * assertEquals([...da.data], [6, 8]); // s·b·x
 * ```
 */
export function loraLinearBackward(
  layer: LoraLayer,
  options: { cache: LoraLinearCache; dy: Matrix },
): LoraGradients {
  const { cache, dy } = options;
  const out = layer.w.rows;
  if (dy.rows !== cache.x.rows || dy.cols !== out) {
    throw shapeError(
      `Cannot run the LoRA layer backward: dy must be ${cache.x.rows}×${out}, got ${dy.rows}×${dy.cols}`,
    );
  }
  const sdy: Matrix = { rows: dy.rows, cols: dy.cols, data: dy.data.map((v) => cache.s * v) };
  const db = multiply(sdy, cache.h, { transposeA: true }); // (out, r) eq. (17)
  const dh = multiply(sdy, layer.b); // (n, r)
  const da = multiply(dh, cache.xd, { transposeA: true }); // (r, in) eq. (18)
  const dxd = multiply(dh, layer.a); // (n, in)
  const dx = multiply(dy, layer.w); // (n, in)
  for (let i = 0; i < dx.data.length; i++) {
    const m = cache.mask === undefined ? 1 : cache.mask.data[i]!;
    dx.data[i] = dx.data[i]! + m * dxd.data[i]!;
  }
  return { da, db, dx };
}

/** A loss value and its gradient with respect to the prediction. */
export interface LossResult {
  /** The loss. */
  loss: number;
  /** ∂loss/∂prediction, the prediction's shape. */
  grad: Matrix;
}

/**
 * The mean squared error `L = Σ (y_ij − t_ij)² / N` (N = n·out, the sum row-major in float64)
 * and its gradient `2·(y − t)/N` (docs/lora.md eq. (19)).
 *
 * @param y The prediction (n, out).
 * @param target The target, same shape.
 * @returns loss and grad.
 * @throws {LoraquantTypeError} `E_SHAPE` when the shapes differ.
 *
 * @example
 * ```ts
 * import { mseLoss } from "@loraquant/reference/train";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const { loss, grad } = mseLoss(matrix([1, 2], [1, 3]), matrix([1, 2], [0, 1]));
 * assertEquals(loss, 2.5);
 * assertEquals([...grad.data], [1, 2]);
 * ```
 */
export function mseLoss(y: Matrix, target: Matrix): LossResult {
  if (y.rows !== target.rows || y.cols !== target.cols) {
    throw shapeError(
      `Cannot compute the MSE: y is ${y.rows}×${y.cols}, target ${target.rows}×${target.cols}`,
    );
  }
  const count = y.data.length;
  let sum = 0;
  const grad = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const d = y.data[i]! - target.data[i]!;
    sum += d * d;
    grad[i] = (2 * d) / count;
  }
  return { loss: count === 0 ? 0 : sum / count, grad: { rows: y.rows, cols: y.cols, data: grad } };
}

/**
 * Softmax cross-entropy averaged over rows (docs/lora.md eq. (20)):
 * `L = (1/n)·Σ_i (log Σ_c exp(z_ic − max_i) − (z_i,label − max_i))` and
 * `∂L/∂z_ic = (softmax(z_i)_c − [c = label_i])/n`; the row maximum is subtracted first so exp
 * never overflows.
 *
 * @param logits z, (n, classes).
 * @param labels n class indices.
 * @returns loss and grad.
 * @throws {LoraquantTypeError} `E_SHAPE` when labels has not n entries; `E_ARG` for a label that
 * is not an integer.
 * @throws {LoraquantRangeError} `E_RANGE` for a label outside [0, classes).
 *
 * @example Uniform logits over 4 classes cost log 4
 * ```ts
 * import { softmaxCrossEntropy } from "@loraquant/reference/train";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertAlmostEquals } from "@std/assert";
 *
 * const { loss } = softmaxCrossEntropy(matrix([1, 4], [0, 0, 0, 0]), [2]);
 * assertAlmostEquals(loss, Math.log(4), 1e-15);
 * ```
 */
export function softmaxCrossEntropy(logits: Matrix, labels: ArrayLike<number>): LossResult {
  const n = logits.rows;
  const c = logits.cols;
  if (labels.length !== n) {
    throw shapeError(`Cannot compute the cross-entropy: ${labels.length} labels for ${n} rows`);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(labels[i]!)) {
      throw argError(`labels[${i}] must be an integer, got ${show(labels[i]!)}`);
    }
    if (labels[i]! < 0 || labels[i]! >= c) {
      throw rangeError(`labels[${i}] must lie in [0, ${c}), got ${labels[i]}`);
    }
  }
  const grad = new Float64Array(n * c);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, logits.data[i * c + j]!);
    let z = 0;
    for (let j = 0; j < c; j++) z += Math.exp(logits.data[i * c + j]! - max);
    const label = labels[i]!;
    total += Math.log(z) - (logits.data[i * c + label]! - max);
    for (let j = 0; j < c; j++) {
      const p = Math.exp(logits.data[i * c + j]! - max) / z;
      grad[i * c + j] = (p - (j === label ? 1 : 0)) / n;
    }
  }
  return { loss: n === 0 ? 0 : total / n, grad: { rows: n, cols: c, data: grad } };
}

/**
 * SGD with momentum (PyTorch's `torch.optim.SGD`): `buf = momentum·buf + g` (buf = g at the
 * first step), `p = p − lr·buf`, element-wise in float64. Updates the parameters in place.
 *
 * @example One step without momentum
 * ```ts
 * import { Sgd } from "@loraquant/reference/train";
 * import { assertEquals } from "@std/assert";
 *
 * const p = new Float64Array([1, 2]);
 * new Sgd({ lr: 0.5 }).step([p], [new Float64Array([2, -2])]);
 * assertEquals([...p], [0, 3]);
 * ```
 */
export class Sgd {
  readonly #lr: number;
  readonly #momentum: number;
  #buffers: Float64Array[] | undefined;

  /**
   * Creates the optimiser.
   *
   * @param options `lr` (the learning rate) and `momentum` (@default 0).
   * @throws {LoraquantRangeError} `E_RANGE` when lr or momentum is negative or not finite.
   */
  constructor(options: { lr: number; momentum?: number }) {
    this.#lr = checkHyper(options.lr, "lr");
    this.#momentum = checkHyper(options.momentum ?? 0, "momentum");
  }

  /**
   * One update of every parameter array from its gradient.
   *
   * @param params The parameter arrays, updated in place.
   * @param grads Their gradients, same lengths.
   * @throws {LoraquantTypeError} `E_SHAPE` when the lists or lengths disagree.
   */
  step(params: Float64Array[], grads: Float64Array[]): void {
    checkLists(params, grads);
    const first = this.#buffers === undefined;
    this.#buffers ??= params.map((p) => new Float64Array(p.length));
    for (const [k, p] of params.entries()) {
      const g = grads[k]!;
      const buf = this.#buffers[k]!;
      for (let i = 0; i < p.length; i++) {
        buf[i] = first ? g[i]! : this.#momentum * buf[i]! + g[i]!;
        p[i] = p[i]! - this.#lr * buf[i]!;
      }
    }
  }
}

/** Options of {@linkcode Adam}. */
export interface AdamOptions {
  /** The learning rate. */
  lr: number;
  /**
   * β₁, the decay of the first moment.
   *
   * @default {0.9}
   */
  beta1?: number;
  /**
   * β₂, the decay of the second moment.
   *
   * @default {0.999}
   */
  beta2?: number;
  /**
   * ε, added to the root of the second moment.
   *
   * @default {1e-8}
   */
  eps?: number;
  /** Weight decay. @default 0 */
  weightDecay?: number;
  /** AdamW's decoupled decay `p = p − lr·weightDecay·p` instead of Adam's `g + weightDecay·p`. @default false */
  decoupled?: boolean;
}

/**
 * Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019) as PyTorch computes them, in
 * float64 (docs/lora.md eq. (21)): at step t, `g' = g + wd·p` (Adam) or `p = p − lr·wd·p` first
 * (AdamW), `m = β₁·m + (1 − β₁)·g'`, `v = β₂·v + (1 − β₂)·g'²`,
 * `p = p − lr·(m/(1 − β₁ᵗ))/(sqrt(v/(1 − β₂ᵗ)) + eps)`. Updates the parameters in place.
 *
 * @example The first step moves each parameter by lr against the sign of its gradient
 * ```ts
 * import { Adam } from "@loraquant/reference/train";
 * import { assertAlmostEquals } from "@std/assert";
 *
 * const p = new Float64Array([1, 1]);
 * new Adam({ lr: 0.1 }).step([p], [new Float64Array([3, -0.5])]);
 * assertAlmostEquals(p[0]!, 0.9, 1e-8);
 * assertAlmostEquals(p[1]!, 1.1, 1e-8);
 * ```
 */
export class Adam {
  readonly #o: Required<AdamOptions>;
  #m: Float64Array[] | undefined;
  #v: Float64Array[] | undefined;
  #t = 0;

  /**
   * Creates the optimiser.
   *
   * @param options lr, beta1, beta2, eps, weightDecay, decoupled.
   * @throws {LoraquantRangeError} `E_RANGE` for a negative or non-finite hyper-parameter, or a
   * beta outside [0, 1).
   */
  constructor(options: AdamOptions) {
    this.#o = {
      lr: checkHyper(options.lr, "lr"),
      beta1: checkHyper(options.beta1 ?? 0.9, "beta1"),
      beta2: checkHyper(options.beta2 ?? 0.999, "beta2"),
      eps: checkHyper(options.eps ?? 1e-8, "eps"),
      weightDecay: checkHyper(options.weightDecay ?? 0, "weightDecay"),
      decoupled: options.decoupled ?? false,
    };
    if (this.#o.beta1 >= 1 || this.#o.beta2 >= 1) {
      throw rangeError(`Adam's betas must lie in [0, 1), got ${this.#o.beta1}, ${this.#o.beta2}`);
    }
  }

  /**
   * One update of every parameter array from its gradient.
   *
   * @param params The parameter arrays, updated in place.
   * @param grads Their gradients, same lengths.
   * @throws {LoraquantTypeError} `E_SHAPE` when the lists or lengths disagree.
   */
  step(params: Float64Array[], grads: Float64Array[]): void {
    checkLists(params, grads);
    this.#m ??= params.map((p) => new Float64Array(p.length));
    this.#v ??= params.map((p) => new Float64Array(p.length));
    this.#t++;
    const { lr, beta1, beta2, eps, weightDecay, decoupled } = this.#o;
    const c1 = 1 - beta1 ** this.#t;
    const c2 = 1 - beta2 ** this.#t;
    for (const [k, p] of params.entries()) {
      const g = grads[k]!;
      const m = this.#m[k]!;
      const v = this.#v[k]!;
      for (let i = 0; i < p.length; i++) {
        let gi = g[i]!;
        if (weightDecay !== 0) {
          if (decoupled) p[i] = p[i]! - lr * weightDecay * p[i]!;
          else gi += weightDecay * p[i]!;
        }
        m[i] = beta1 * m[i]! + (1 - beta1) * gi;
        v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
        p[i] = p[i]! - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
      }
    }
  }
}

function checkHyper(x: number, name: string): number {
  if (typeof x !== "number") throw argError(`${name} must be a number, got ${typeof x}`);
  if (!(Number.isFinite(x) && x >= 0)) {
    throw rangeError(`${name} must be finite and ≥ 0, got ${show(x)}`);
  }
  return x;
}

function checkLists(params: Float64Array[], grads: Float64Array[]): void {
  if (params.length !== grads.length) {
    throw shapeError(`${params.length} parameter arrays but ${grads.length} gradients`);
  }
  for (const [k, p] of params.entries()) {
    if (p.length !== grads[k]!.length) {
      throw shapeError(
        `parameter ${k} has ${p.length} elements but its gradient ${grads[k]!.length}`,
      );
    }
  }
}

/** What {@linkcode mlpBackward} needs from {@linkcode mlpForward}. */
export interface MlpCache {
  /** One cache per layer. */
  readonly layers: LoraLinearCache[];
  /** The pre-activations of the hidden layers (before ReLU). */
  readonly pre: Matrix[];
}

/**
 * The forward pass of an MLP of LoRA linear layers with ReLU between them (none after the last):
 * `h₀ = x`, `h_{l+1} = relu(layer_l(h_l))`, `y = layer_last(h_last)`.
 *
 * @param x (n, in of the first layer).
 * @param layers The layers; the out of each is the in of the next.
 * @returns y and the cache.
 * @throws {LoraquantTypeError} `E_SHAPE` when consecutive shapes disagree; `E_ARG` for no layers.
 * @throws {LoraquantRangeError} `E_RANGE` as {@linkcode loraLinearForward}.
 *
 * @example
 * ```ts
 * import { mlpForward } from "@loraquant/reference/train";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const zeroB = matrix([1, 1], [0]);
 * const layers = [
 *   { w: matrix([1, 1], [-1]), a: matrix([1, 1], [1]), b: zeroB, alpha: 1 },
 *   { w: matrix([1, 1], [2]), a: matrix([1, 1], [1]), b: zeroB, alpha: 1 },
 * ];
 * assertEquals([...mlpForward(matrix([2, 1], [3, -3]), layers).y.data], [0, 6]);
 * ```
 */
export function mlpForward(
  x: Matrix,
  layers: readonly LoraLayer[],
): { y: Matrix; cache: MlpCache } {
  if (layers.length === 0) throw argError("Cannot run the MLP: no layers");
  const caches: LoraLinearCache[] = [];
  const pre: Matrix[] = [];
  let h = x;
  for (let l = 0; l < layers.length - 1; l++) {
    const { y, cache } = loraLinearForward(h, layers[l]!);
    caches.push(cache);
    pre.push(y);
    h = { rows: y.rows, cols: y.cols, data: y.data.map((v) => (v > 0 ? v : 0)) };
  }
  const { y, cache } = loraLinearForward(h, layers[layers.length - 1]!);
  caches.push(cache);
  return { y, cache: { layers: caches, pre } };
}

/**
 * The backward pass of {@linkcode mlpForward}: the gradients of every layer's A and B, the ReLU
 * passing the gradient where its pre-activation is > 0.
 *
 * @param layers The layers of the forward pass.
 * @param options `cache` from {@linkcode mlpForward} and `dy` = ∂L/∂y.
 * @returns One {@linkcode LoraGradients} per layer, in layer order.
 * @throws {LoraquantTypeError} `E_SHAPE` when dy has the wrong shape.
 *
 * @example
 * ```ts
 * import { mlpBackward, mlpForward } from "@loraquant/reference/train";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * const layers = [{ w: matrix([1, 1], [1]), a: matrix([1, 1], [1]), b: matrix([1, 1], [1]), alpha: 1 }];
 * const { cache } = mlpForward(matrix([1, 1], [2]), layers);
 * const [g] = mlpBackward(layers, { cache, dy: matrix([1, 1], [1]) });
 * assertEquals([...g!.db.data], [2]);
 * ```
 */
export function mlpBackward(
  layers: readonly LoraLayer[],
  options: { cache: MlpCache; dy: Matrix },
): LoraGradients[] {
  const grads: LoraGradients[] = new Array(layers.length);
  let dy = options.dy;
  for (let l = layers.length - 1; l >= 0; l--) {
    const g = loraLinearBackward(layers[l]!, { cache: options.cache.layers[l]!, dy });
    grads[l] = g;
    if (l > 0) {
      const pre = options.cache.pre[l - 1]!;
      dy = {
        rows: g.dx.rows,
        cols: g.dx.cols,
        data: g.dx.data.map((v, i) => (pre.data[i]! > 0 ? v : 0)),
      };
    }
  }
  return grads;
}

/** Options of {@linkcode plantedExperiment}. */
export interface PlantedOptions {
  /** in. @default 8 */
  inputs?: number;
  /** out. @default 6 */
  outputs?: number;
  /** r*, the rank of the planted update. @default 2 */
  teacherRank?: number;
  /** r, the student's LoRA rank. @default teacherRank */
  rank?: number;
  /** n, the number of whitened samples (≥ inputs). @default 32 */
  samples?: number;
  /** Full-batch Adam steps. @default 3000 */
  steps?: number;
  /** Adam's learning rate (constant). @default 0.02 */
  lr?: number;
  /** SplitMix64 seed of everything. @default 1 */
  seed?: number;
}

/** The result of {@linkcode plantedExperiment}. */
export interface PlantedResult {
  /** The loss at the start (B = 0: the loss of W₀ alone). */
  initialLoss: number;
  /** The loss after training. */
  finalLoss: number;
  /** The Eckart–Young floor Σ_{i>r} σ_i(B*·A*)²/out, 0 when r ≥ r*. */
  floor: number;
  /** The singular values of the planted update B*·A*. */
  teacherSpectrum: Float64Array;
  /**
   * The principal angles (radians) between the column space of B*·A* and the top-r* left
   * singular subspace of the learned s·B·A (meaningful when r ≥ r*).
   */
  angles: Float64Array;
}

/**
 * The planted experiment (docs/lora.md §Training): a teacher `W₀ + B*·A*` with B*·A* of rank r*,
 * whitened inputs X (XᵀX = n·I exactly up to rounding, from a QR factorisation), targets
 * `Y = X·(W₀ + B*·A*)ᵀ`; a student LoRA of rank r on the frozen W₀ (PEFT's default init, s = 1)
 * trained by full-batch Adam on the MSE. Then `L = ‖s·B·A − B*·A*‖²_F / out` (eq. (22)), so a
 * rank r ≥ r* can drive the loss to 0 and recover the planted subspace, while r < r* stalls at
 * the Eckart–Young floor Σ_{i>r} σ_i²/out.
 *
 * @param options Dimensions, ranks, steps, learning rate, seed.
 * @returns The losses, the floor, the teacher's spectrum and the principal angles.
 * @throws {LoraquantRangeError} `E_RANGE` for ranks outside [1, min(in, out)] or samples < in.
 *
 * @example Rank 2 recovers a planted rank-2 update
 * ```ts
 * import { plantedExperiment } from "@loraquant/reference/train";
 * import { assert } from "@std/assert";
 *
 * const { initialLoss, finalLoss, angles } = plantedExperiment({ teacherRank: 2, rank: 2 });
 * assert(finalLoss <= initialLoss * 1e-4);
 * assert(Math.max(...angles) <= 1e-3);
 * ```
 */
export function plantedExperiment(options: PlantedOptions = {}): PlantedResult {
  const inputs = options.inputs ?? 8;
  const out = options.outputs ?? 6;
  const rStar = options.teacherRank ?? 2;
  const rank = options.rank ?? rStar;
  const n = options.samples ?? 32;
  const steps = options.steps ?? 3000;
  const lr = options.lr ?? 0.02;
  const rng = new SplitMix64(options.seed ?? 1);
  for (const [name, r] of [["teacherRank", rStar], ["rank", rank]] as const) {
    if (!Number.isInteger(r)) throw argError(`${name} must be an integer, got ${show(r)}`);
    if (r < 1 || r > Math.min(inputs, out)) {
      throw rangeError(
        `${name} must satisfy 1 ≤ ${name} ≤ min(in, out) = ${Math.min(inputs, out)}, got ${r}`,
      );
    }
  }
  if (n < inputs) throw rangeError(`samples must be ≥ inputs = ${inputs} to whiten, got ${n}`);
  const draw = (rows: number, cols: number, scale: number): Matrix => ({
    rows,
    cols,
    data: Float64Array.from({ length: rows * cols }, () => gaussian(rng) * scale),
  });
  const w0 = draw(out, inputs, 1 / Math.sqrt(inputs));
  const bStar = draw(out, rStar, 1);
  const aStar = draw(rStar, inputs, 1 / Math.sqrt(inputs));
  const delta = multiply(bStar, aStar); // (out, in), rank r*
  const teacher = { rows: out, cols: inputs, data: w0.data.map((v, i) => v + delta.data[i]!) };
  const { q } = qr(draw(n, inputs, 1)); // (n, in), orthonormal columns
  const x = { rows: n, cols: inputs, data: q.data.map((v) => v * Math.sqrt(n)) }; // XᵀX = n·I
  const target = multiply(x, teacher, { transposeB: true }); // (n, out)
  const { adapter } = initLora(w0, { rank, alpha: rank, seed: options.seed ?? 1 });
  const layer = { w: w0, a: adapter.a, b: adapter.b, alpha: rank };
  const lossOf = (): LossResult => mseLoss(loraLinearForward(x, layer).y, target);
  const initialLoss = lossOf().loss;
  const adam = new Adam({ lr });
  for (let t = 0; t < steps; t++) {
    const { y, cache } = loraLinearForward(x, layer);
    const { grad } = mseLoss(y, target);
    const { da, db } = loraLinearBackward(layer, { cache, dy: grad });
    adam.step([layer.a.data, layer.b.data], [da.data, db.data]);
  }
  const finalLoss = lossOf().loss;
  const teacherSpectrum = svd(delta).s;
  // B*·A* has rank r* exactly; its computed σ_i beyond r* are rounding noise, not part of the floor.
  let tail = 0;
  for (let i = rank; i < rStar; i++) tail += teacherSpectrum[i]! ** 2;
  const floor = tail / out;
  const learned = multiply(layer.b, layer.a);
  const angles = principalAngles(svd(delta).u, svd(learned).u, rStar);
  return { initialLoss, finalLoss, floor, teacherSpectrum, angles };
}

/**
 * The principal angles between span(U₁[:, :k]) and span(U₂[:, :k]) from the sines: the singular
 * values of (I − U₂U₂ᵀ)·U₁, accurate also for tiny angles (where arccos of the cosines is not).
 */
function principalAngles(u1: Matrix, u2: Matrix, k: number): Float64Array {
  const m = u1.rows;
  const take = (u: Matrix): Matrix => {
    const d = new Float64Array(m * k);
    for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) d[i * k + j] = u.data[i * u.cols + j]!;
    return { rows: m, cols: k, data: d };
  };
  const a = take(u1);
  const b = take(u2);
  const proj = multiply(b, multiply(b, a, { transposeA: true })); // U₂U₂ᵀU₁
  const resid = { rows: m, cols: k, data: a.data.map((v, i) => v - proj.data[i]!) };
  return Float64Array.from(svd(resid).s, (s) => Math.asin(Math.min(1, s))).reverse();
}
