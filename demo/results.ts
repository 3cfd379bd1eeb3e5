/**
 * The shape of `results.json` (documented field by field in docs/demo.md). Accuracies are
 * fractions in [0, 1]; bytes are exact integers; times are seconds.
 *
 * @module
 */

/** One LoRA run. */
export interface LoraRun {
  /** The rank r (layer 2 uses min(r, 10)). */
  rank: number;
  /** Test accuracy on the shifted task. */
  accuracy: number;
  /** A and B of both layers: Σ r·(out + in). */
  trainable: number;
  /** float32 bytes of the trainable values and Adam's m and v: 12·trainable. */
  stateBytes: number;
  /** Wall time of the training run. */
  wallSeconds: number;
  /** (accuracy − baseAccuracy) / (full.accuracy − baseAccuracy). */
  gainFraction: number;
  /** trainable / full.trainable. */
  trainableFraction: number;
}

/** The spectrum of one layer's ΔW = W_full − W_base. */
export interface SpectrumLayer {
  /** "layer 1" or "layer 2". */
  layer: string;
  /** [out, in]. */
  shape: [number, number];
  /** All min(out, in) singular values, descending. */
  singularValues: number[];
  /** Per rank r: the energy Σ_{i≤r} σ_i² / Σ σ_i², the relative error of the best rank-r approximation, and the test accuracy of the full fine-tune with this layer's ΔW truncated to rank r. */
  truncations: { rank: number; energy: number; relativeError: number; truncatedAccuracy: number }[];
}

/** One shifted task. */
export interface ShiftedResult {
  /** "swapped-labels" or "rotated-90". */
  task: string;
  /** Whether the needed change is expected to be low-rank. */
  lowRank: boolean;
  /** What the shift does. */
  description: string;
  /** The base model's accuracy on the shifted test set. */
  baseAccuracy: number;
  /** Full fine-tuning. */
  full: { accuracy: number; trainable: number; stateBytes: number; wallSeconds: number };
  /** LoRA at each rank. */
  lora: LoraRun[];
  /** Section 4. */
  spectrum: SpectrumLayer[];
}

/** Section 5. */
export interface MergeResult {
  /** The task whose LoRA is merged. */
  task: string;
  /** Its rank. */
  rank: number;
  /** Test rows compared. */
  rows: number;
  /** max |logit merged − logit unmerged|. */
  maxAbsDifference: number;
  /** The largest per-logit rounding bound (float64, docs/demo.md). */
  bound: number;
  /** Whether every logit's difference is within its own bound. */
  withinBound: boolean;
  /** Fraction of rows whose argmax agrees. */
  argmaxAgreement: number;
  /** max |W − unmerge(merge(W))|. */
  unmergeRoundTripMaxAbs: number;
  /** Test accuracy of the merged model. */
  accuracy: number;
}

/** Section 6: one format. */
export interface QuantizedFormat {
  /** float32, float16, bfloat16, fp8-e4m3, int8, int4, nf4, q4_0, mxfp4, ternary. */
  format: string;
  /** Test accuracy of the merged model with its weights in this format. */
  accuracy: number;
  /** Bytes of the weights as stored (with their scales) plus float32 biases. */
  bytes: number;
  /** Weight bytes · 8 / weights. */
  bitsPerWeight: number;
  /** 10·log10(Σw² / Σ(w − ŵ)²) over all weights. */
  sqnrDb: number;
  /** How it is stored and computed. */
  note: string;
}

/** One accumulation format's effect. */
export interface AccumulationRun {
  /** max |logit − float64 logit|. */
  maxAbsDifference: number;
  /** Fraction of rows whose argmax equals the float64 one. */
  argmaxAgreement: number;
  /** Accuracy on those rows. */
  accuracy: number;
}

/** float16 inputs, float16 vs float32 accumulation. */
export interface AccumulationResult {
  /** Test rows used. */
  rows: number;
  /** The weights' and activations' format. */
  inputs: string;
  /** Accumulated in float16. */
  float16: AccumulationRun;
  /** Accumulated in float32. */
  float32: AccumulationRun;
}

/** Section 7: LoRA on a quantized frozen base. */
export interface QloraRun {
  /** The frozen base's format. */
  base: "float" | "nf4" | "int4";
  /** LoRA rank. */
  rank: number;
  /** Test accuracy on the low-rank task. */
  accuracy: number;
  /** Bytes of the frozen base (weights with scales, float32 biases). */
  frozenBytes: number;
  /** Wall time. */
  wallSeconds: number;
}

/** Section 7: mixed precision. */
export interface MixedPrecisionRun {
  /** The compute format of weights, activations and activation gradients. */
  compute: "float32" | "bfloat16" | "float16" | "float16+loss-scaling";
  /** The master weights' format. */
  master: "float32";
  /** The static loss scale. */
  lossScale: number;
  /** Test accuracy. */
  accuracy: number;
  /** Steps skipped because a gradient overflowed. */
  skippedSteps: number;
  /**
   * The fraction of non-zero weight-gradient entries that rounding to the compute format flushed
   * to zero (underflow), over the whole run.
   */
  flushedFraction: number;
  /** Wall time. */
  wallSeconds: number;
}

/** Section 8. */
export interface GpuComparison {
  /** Test rows. */
  rows: number;
  /** max |GPU logit − reference logit|. */
  maxAbsDifference: number;
  /** Fraction of rows whose argmax agrees. */
  argmaxAgreement: number;
  /** Accuracy from the GPU logits. */
  gpuAccuracy: number;
  /** Accuracy from the reference logits. */
  referenceAccuracy: number;
}

/** The whole of results.json. */
export interface DemoResults {
  /** "gpu" when the WebGPU kernels ran (section 8), else "reference". */
  device: "gpu" | "reference";
  /** The adapter's name, when the GPU ran. */
  adapter?: string;
  /** The seed. */
  seed: number;
  /** Whether --quick. */
  quick: boolean;
  /** Sizes and budgets. */
  config: object;
  /** Where the digits come from and how they are split. */
  data: {
    source: string;
    digits: number;
    trainSize: number;
    testSize: number;
    pixels: number;
    split: string;
  };
  /** The base model. */
  base: { accuracy: number; trainable: number; wallSeconds: number; hidden: number };
  /** The two shifted tasks. */
  shifted: ShiftedResult[];
  /** The rank merged and quantized. */
  chosenRank: number;
  /** Section 5. */
  merge: MergeResult;
  /** Section 6. */
  quantized: QuantizedFormat[];
  /** Section 6: accumulation. */
  accumulation: AccumulationResult;
  /** Section 7: QLoRA. */
  qlora?: QloraRun[];
  /** Section 7: mixed precision. */
  mixedPrecision?: MixedPrecisionRun[];
  /** Section 8. */
  gpu?: GpuComparison;
  /** Wall time of the whole run. */
  wallSeconds: number;
}
