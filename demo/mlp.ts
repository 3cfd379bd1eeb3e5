/**
 * A two-layer float64 MLP of LoRA-capable linear layers, trained with Adam on plain typed arrays
 * (the reference's Matrix-based `mlpForward`/`mlpBackward` compute the same thing, but allocate
 * per step and are too slow for the demo's budget; `mlp_test.ts` checks these gradients against
 * the reference's `loraLinearBackward` and against finite differences).
 *
 * Layer: y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ + bias, W (out, in), A (r, in), B (out, r), x (n, in), all
 * row-major float64; every sum in ascending index order, rounded to nearest-even float64.
 * Network: logits = layer2(relu(layer1(x))), loss = mean softmax cross-entropy.
 *
 * @module
 */

/** A LoRA adapter on a layer: ΔW = s·B·A. */
export interface DemoAdapter {
  /** A, (r, in) row-major. */
  a: Float64Array;
  /** B, (out, r) row-major. */
  b: Float64Array;
  /** The rank r. */
  rank: number;
  /** The scaling s = alpha / r. */
  scaling: number;
}

/** A linear layer: W, bias and an optional adapter. */
export interface DemoLayer {
  /** Output features. */
  out: number;
  /** Input features. */
  inputs: number;
  /** W, (out, in) row-major. */
  w: Float64Array;
  /** Bias, length out. */
  bias: Float64Array;
  /** The adapter, when LoRA is attached. */
  lora?: DemoAdapter;
}

/** The two-layer MLP. */
export interface DemoMlp {
  /** 784-ish → hidden. */
  l1: DemoLayer;
  /** hidden → 10. */
  l2: DemoLayer;
}

/** Which parameters train. */
export type TrainMode = "full" | "lora";

/** Options of {@linkcode trainMlp}. */
export interface TrainOptions {
  /** `"full"`: W and bias of both layers; `"lora"`: A and B of both layers, W and bias frozen. */
  mode: TrainMode;
  /** Passes over the data. */
  epochs: number;
  /** Adam's learning rate. */
  learningRate: number;
  /** Samples per step. @default {64} */
  batchSize?: number;
  /** Seed of the shuffling (a 32-bit generator, see {@linkcode mulberry32}). @default {1} */
  seed?: number;
  /** Called after each step with the fraction done. */
  onProgress?: (fraction: number) => void;
  /**
   * Rounds to a compute format (mixed precision): W, A, B and the bias, the activations, the
   * activation gradients, and the weight gradients as each matmul outputs them (every sum is
   * computed exactly enough — float64 — and rounded once to the compute format, as a tensor core
   * accumulating in float32 and writing float16/bfloat16 does up to the accumulator's roundoff).
   * The master weights stay in the optimizer's format. @default none
   */
  computeRound?: (x: Float64Array) => void;
  /** Multiplies the loss by this before the backward pass and divides the gradients after. */
  lossScale?: number;
  /** Rounds the master weights after every optimizer step (float32 master weights). */
  masterRound?: (x: Float64Array) => void;
}

/** What {@linkcode trainMlp} reports. */
export interface TrainResult {
  /** Mean loss of the last epoch. */
  finalLoss: number;
  /** Steps skipped because a scaled gradient overflowed (loss scaling). */
  skippedSteps: number;
  /**
   * With `computeRound`: the fraction of the weight-gradient entries, over the whole run, that
   * were non-zero before rounding to the compute format and zero after (underflow). 0 otherwise.
   */
  flushedFraction: number;
}

/**
 * A small seeded 32-bit generator (mulberry32) for shuffling minibatches; the data split uses the
 * reference's SplitMix64 (`data.ts`).
 *
 * @param seed Any integer.
 * @returns A function returning uniforms in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Shuffles in place (Fisher–Yates from the last index down, j = ⌊random()·(i + 1)⌋): the
 * minibatch order of every epoch, the same on the reference loop and the GPU trainer.
 *
 * @param order The array to shuffle.
 * @param random Uniform generator in [0, 1).
 */
export function shuffle(order: number[], random: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
}

/**
 * A new layer with He-uniform weights and zero bias.
 *
 * @param out Output features.
 * @param inputs Input features.
 * @param random Uniform generator.
 * @returns The layer.
 */
export function initLayer(out: number, inputs: number, random: () => number): DemoLayer {
  const bound = Math.sqrt(6 / inputs);
  const w = new Float64Array(out * inputs);
  for (let i = 0; i < w.length; i++) w[i] = (2 * random() - 1) * bound;
  return { out, inputs, w, bias: new Float64Array(out) };
}

/**
 * A deep copy of a model (adapters included).
 *
 * @param m The model.
 * @returns The copy.
 */
export function cloneMlp(m: DemoMlp): DemoMlp {
  const c = (l: DemoLayer): DemoLayer => {
    const copy: DemoLayer = {
      out: l.out,
      inputs: l.inputs,
      w: l.w.slice(),
      bias: l.bias.slice(),
    };
    if (l.lora) copy.lora = { ...l.lora, a: l.lora.a.slice(), b: l.lora.b.slice() };
    return copy;
  };
  return { l1: c(m.l1), l2: c(m.l2) };
}

/**
 * Forward of one layer: y (n, out) = x (n, in)·Wᵀ + s·(x·Aᵀ)·Bᵀ + bias; h = x·Aᵀ (n, r) is
 * returned for the backward pass.
 *
 * @param l The layer.
 * @param x (n, in) row-major.
 * @param n Rows of x.
 * @returns y and h (empty without an adapter).
 */
export function layerForward(
  l: DemoLayer,
  x: Float64Array,
  n: number,
): { y: Float64Array; h: Float64Array } {
  const { out, inputs, w, bias } = l;
  const y = new Float64Array(n * out); // (n, out)
  for (let i = 0; i < n; i++) {
    const xo = i * inputs;
    for (let o = 0; o < out; o++) {
      const wo = o * inputs;
      let acc = 0;
      for (let k = 0; k < inputs; k++) acc += x[xo + k]! * w[wo + k]!;
      y[i * out + o] = acc + bias[o]!;
    }
  }
  const lora = l.lora;
  if (!lora) return { y, h: new Float64Array(0) };
  const r = lora.rank;
  const h = new Float64Array(n * r); // (n, r)
  for (let i = 0; i < n; i++) {
    const xo = i * inputs;
    for (let t = 0; t < r; t++) {
      const ao = t * inputs;
      let acc = 0;
      for (let k = 0; k < inputs; k++) acc += x[xo + k]! * lora.a[ao + k]!;
      h[i * r + t] = acc;
    }
    for (let o = 0; o < out; o++) {
      let acc = 0;
      for (let t = 0; t < r; t++) acc += h[i * r + t]! * lora.b[o * r + t]!;
      y[i * out + o] = y[i * out + o]! + lora.scaling * acc;
    }
  }
  return { y, h };
}

/** Gradients of one layer (only those that train are filled). */
interface LayerGrads {
  w: Float64Array;
  bias: Float64Array;
  a: Float64Array;
  b: Float64Array;
}

function zeroGrads(l: DemoLayer): LayerGrads {
  return {
    w: new Float64Array(l.w.length),
    bias: new Float64Array(l.bias.length),
    a: new Float64Array(l.lora?.a.length ?? 0),
    b: new Float64Array(l.lora?.b.length ?? 0),
  };
}

/**
 * Backward of one layer: accumulates the gradients of the trained parameters into `g` and
 * returns dx (n, in) when `needDx`.
 */
function layerBackward(
  l: DemoLayer,
  x: Float64Array,
  h: Float64Array,
  dy: Float64Array,
  n: number,
  mode: TrainMode,
  g: LayerGrads,
  needDx: boolean,
): Float64Array {
  const { out, inputs, w } = l;
  if (mode === "full") {
    for (let i = 0; i < n; i++) {
      const xo = i * inputs;
      for (let o = 0; o < out; o++) {
        const d = dy[i * out + o]!;
        if (d === 0) continue;
        g.bias[o] = g.bias[o]! + d;
        const wo = o * inputs;
        for (let k = 0; k < inputs; k++) g.w[wo + k] = g.w[wo + k]! + d * x[xo + k]!;
      }
    }
  }
  const lora = l.lora;
  let dh = new Float64Array(0);
  if (lora && mode === "lora") {
    const r = lora.rank;
    const s = lora.scaling;
    dh = new Float64Array(n * r); // (n, r) = s·dy·B
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < out; o++) {
        const d = dy[i * out + o]!;
        if (d === 0) continue;
        for (let t = 0; t < r; t++) {
          g.b[o * r + t] = g.b[o * r + t]! + s * d * h[i * r + t]!; // dB = s·dyᵀ·h
          dh[i * r + t] = dh[i * r + t]! + s * d * lora.b[o * r + t]!;
        }
      }
      const xo = i * inputs;
      for (let t = 0; t < r; t++) {
        const d = dh[i * r + t]!;
        if (d === 0) continue;
        const ao = t * inputs;
        for (let k = 0; k < inputs; k++) g.a[ao + k] = g.a[ao + k]! + d * x[xo + k]!; // dA = dhᵀ·x
      }
    }
  }
  if (!needDx) return new Float64Array(0);
  const dx = new Float64Array(n * inputs); // (n, in) = dy·W + dh·A
  for (let i = 0; i < n; i++) {
    const xo = i * inputs;
    for (let o = 0; o < out; o++) {
      const d = dy[i * out + o]!;
      if (d === 0) continue;
      const wo = o * inputs;
      for (let k = 0; k < inputs; k++) dx[xo + k] = dx[xo + k]! + d * w[wo + k]!;
    }
    if (lora && dh.length > 0) {
      for (let t = 0; t < lora.rank; t++) {
        const d = dh[i * lora.rank + t]!;
        if (d === 0) continue;
        const ao = t * inputs;
        for (let k = 0; k < inputs; k++) dx[xo + k] = dx[xo + k]! + d * lora.a[ao + k]!;
      }
    }
  }
  return dx;
}

/**
 * The logits of the model, (n, 10) row-major.
 *
 * @param m The model.
 * @param x (n, in) row-major.
 * @param n Rows.
 * @returns The logits.
 */
export function mlpLogits(m: DemoMlp, x: Float64Array, n: number): Float64Array {
  const z = layerForward(m.l1, x, n).y;
  for (let i = 0; i < z.length; i++) if (z[i]! < 0) z[i] = 0;
  return layerForward(m.l2, z, n).y;
}

/**
 * The fraction of rows whose largest logit (the first on a tie) is the label.
 *
 * @param logits (n, classes) row-major.
 * @param labels n labels.
 * @returns Accuracy in [0, 1].
 */
export function accuracyOf(logits: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = labels.length;
  const classes = logits.length / n;
  let right = 0;
  for (let i = 0; i < n; i++) if (argmaxRow(logits, i, classes) === labels[i]) right++;
  return right / n;
}

/**
 * The index of the largest of row i (the first on a tie).
 *
 * @param v (n, cols) row-major.
 * @param i Row.
 * @param cols Columns.
 * @returns The column.
 */
export function argmaxRow(v: ArrayLike<number>, i: number, cols: number): number {
  let best = 0;
  for (let c = 1; c < cols; c++) if (v[i * cols + c]! > v[i * cols + best]!) best = c;
  return best;
}

/**
 * Mean softmax cross-entropy and its gradient with respect to the logits (already divided by n).
 *
 * @param logits (n, c).
 * @param labels n labels.
 * @param n Rows.
 * @returns loss and dlogits.
 */
export function crossEntropy(
  logits: Float64Array,
  labels: ArrayLike<number>,
  n: number,
): { loss: number; grad: Float64Array } {
  const c = logits.length / n;
  const grad = new Float64Array(logits.length);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, logits[i * c + j]!);
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(logits[i * c + j]! - max);
    const label = labels[i]!;
    loss += Math.log(sum) + max - logits[i * c + label]!;
    for (let j = 0; j < c; j++) {
      const p = Math.exp(logits[i * c + j]! - max) / sum;
      grad[i * c + j] = (p - (j === label ? 1 : 0)) / n;
    }
  }
  return { loss: loss / n, grad };
}

/**
 * Loss and gradients of one minibatch, for tests and training.
 *
 * @param m The model.
 * @param x (n, in).
 * @param labels n labels.
 * @param n Rows.
 * @param mode Which parameters get gradients.
 * @param round Rounds activations and activation gradients to a compute format (mixed precision).
 * @param lossScale Multiplies ∂loss/∂logits (loss scaling); the caller divides the gradients.
 * @returns The (unscaled) loss, the gradients of layer 1 and 2 (rounded by `round` when given),
 * and how many non-zero weight-gradient entries `round` flushed to zero out of how many.
 */
export function lossAndGrads(
  m: DemoMlp,
  x: Float64Array,
  labels: ArrayLike<number>,
  n: number,
  mode: TrainMode,
  round?: (x: Float64Array) => void,
  lossScale = 1,
): { loss: number; g1: LayerGrads; g2: LayerGrads; flushed: number; nonZero: number } {
  const f1 = layerForward(m.l1, x, n);
  const z = f1.y;
  for (let i = 0; i < z.length; i++) if (z[i]! < 0) z[i] = 0;
  round?.(z);
  const f2 = layerForward(m.l2, z, n);
  round?.(f2.y);
  const { loss, grad } = crossEntropy(f2.y, labels, n);
  if (lossScale !== 1) { for (let i = 0; i < grad.length; i++) grad[i] = grad[i]! * lossScale; }
  round?.(grad);
  const g1 = zeroGrads(m.l1);
  const g2 = zeroGrads(m.l2);
  const dz = layerBackward(m.l2, z, f2.h, grad, n, mode, g2, true);
  for (let i = 0; i < dz.length; i++) if (z[i]! <= 0) dz[i] = 0;
  round?.(dz);
  layerBackward(m.l1, x, f1.h, dz, n, mode, g1, false);
  let flushed = 0;
  let nonZero = 0;
  if (round) {
    // The weight gradients leave their matmuls in the compute format too.
    for (const g of [g1, g2]) {
      for (const t of mode === "full" ? [g.w, g.bias] : [g.a, g.b]) {
        let before = 0;
        for (let i = 0; i < t.length; i++) if (t[i] !== 0) before++;
        round(t);
        let after = 0;
        for (let i = 0; i < t.length; i++) if (t[i] !== 0) after++;
        nonZero += before;
        flushed += before - after;
      }
    }
  }
  return { loss, g1, g2, flushed, nonZero };
}

/** Plain Adam (β₁ 0.9, β₂ 0.999, ε 1e-8, no weight decay) on a list of parameter arrays. */
class AdamState {
  readonly #m: Float64Array[];
  readonly #v: Float64Array[];
  #t = 0;
  constructor(params: Float64Array[], readonly lr: number) {
    this.#m = params.map((p) => new Float64Array(p.length));
    this.#v = params.map((p) => new Float64Array(p.length));
  }
  step(params: Float64Array[], grads: Float64Array[]): void {
    this.#t++;
    const c1 = 1 - 0.9 ** this.#t;
    const c2 = 1 - 0.999 ** this.#t;
    for (let j = 0; j < params.length; j++) {
      const p = params[j]!;
      const g = grads[j]!;
      const m = this.#m[j]!;
      const v = this.#v[j]!;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]!;
        m[i] = 0.9 * m[i]! + 0.1 * gi;
        v[i] = 0.999 * v[i]! + 0.001 * gi * gi;
        p[i] = p[i]! - this.lr * (m[i]! / c1) / (Math.sqrt(v[i]! / c2) + 1e-8);
      }
    }
  }
}

/**
 * Trains the model in place with Adam on minibatches (shuffled each epoch).
 *
 * @param m The model (modified in place).
 * @param x (n, in) row-major inputs.
 * @param labels n labels.
 * @param options Mode, epochs, learning rate, batch size, seed, progress, mixed precision.
 * @returns The last epoch's mean loss and the skipped steps.
 */
export function trainMlp(
  m: DemoMlp,
  x: Float64Array,
  labels: ArrayLike<number>,
  options: TrainOptions,
): TrainResult {
  const n = labels.length;
  const inputs = m.l1.inputs;
  const batchSize = options.batchSize ?? 64;
  const random = mulberry32(options.seed ?? 1);
  const params = options.mode === "full"
    ? [m.l1.w, m.l1.bias, m.l2.w, m.l2.bias]
    : [m.l1.lora!.a, m.l1.lora!.b, m.l2.lora!.a, m.l2.lora!.b];
  const adam = new AdamState(params, options.learningRate);
  const order = Array.from({ length: n }, (_, i) => i);
  const steps = options.epochs * Math.ceil(n / batchSize);
  const round = options.computeRound;
  const scale = options.lossScale ?? 1;
  // The compute copy of the weights (rounded) when mixed precision is on; the master stays in m.
  const compute = round ? cloneMlp(m) : m;
  let step = 0;
  let finalLoss = NaN;
  let skippedSteps = 0;
  let flushed = 0;
  let nonZero = 0;
  const xb = new Float64Array(batchSize * inputs);
  const yb = new Int32Array(batchSize);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    shuffle(order, random);
    let total = 0;
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      for (let b = 0; b < size; b++) {
        const src = order[start + b]!;
        xb.set(x.subarray(src * inputs, (src + 1) * inputs), b * inputs);
        yb[b] = labels[src]!;
      }
      if (round) syncCompute(m, compute, round);
      const xs = xb.subarray(0, size * inputs);
      const { loss, g1, g2, ...underflow } = lossAndGrads(
        compute,
        xs,
        yb.subarray(0, size),
        size,
        options.mode,
        round,
        scale,
      );
      total += loss * size;
      flushed += underflow.flushed;
      nonZero += underflow.nonZero;
      const grads = options.mode === "full"
        ? [g1.w, g1.bias, g2.w, g2.bias]
        : [g1.a, g1.b, g2.a, g2.b];
      let finite = true;
      for (const g of grads) {
        for (let k = 0; k < g.length; k++) {
          if (!Number.isFinite(g[k]!)) finite = false;
          g[k] = g[k]! / scale;
        }
      }
      if (finite) {
        adam.step(params, grads);
        if (options.masterRound) { for (const p of params) options.masterRound(p); }
      } else skippedSteps++;
      step++;
      options.onProgress?.(step / steps);
    }
    finalLoss = total / n;
  }
  return { finalLoss, skippedSteps, flushedFraction: nonZero === 0 ? 0 : flushed / nonZero };
}

function syncCompute(master: DemoMlp, compute: DemoMlp, round: (x: Float64Array) => void): void {
  for (const key of ["l1", "l2"] as const) {
    const from = master[key];
    const to = compute[key];
    to.w.set(from.w);
    to.bias.set(from.bias);
    round(to.w);
    round(to.bias);
    if (from.lora && to.lora) {
      to.lora.a.set(from.lora.a);
      to.lora.b.set(from.lora.b);
      round(to.lora.a);
      round(to.lora.b);
    }
  }
}
