/**
 * The numbers behind the lab's rank slider: LoRA's trainable parameters for a layer W (d×k) at
 * rank r (docs/lora.md eq. (5)–(6), via the reference's `countParameters`), and the ΔW ≈ B·A
 * picture: a fixed 24×16 update and its best rank-r factors (Eckart–Young, via `lowRank`).
 *
 * @module
 */
import { countParameters } from "@loraquant/reference/params";
import { lowRank } from "@loraquant/reference/lowrank";
import { frobeniusNorm, multiply } from "@loraquant/reference/linalg";
import { type Matrix, matrix } from "@loraquant/reference/matrix";
import { SplitMix64 } from "@loraquant/reference/splitmix64";
import { gaussians } from "./gaussians.ts";

/** The layer shapes [d, k] the slider offers: a 7B attention projection, its MLP, and BERT-base. */
export const LAYER_SHAPES: readonly (readonly [number, number])[] = [
  [4096, 4096],
  [4096, 11008],
  [768, 768],
];

/** The slider's range of ranks. */
export const RANK_RANGE: readonly [number, number] = [1, 64];

/** The shape [rows, cols] of the ΔW picture. */
export const PICTURE_SHAPE: readonly [number, number] = [24, 16];

/** The trainable parameters at one rank. */
export interface RankCount {
  /** d·k, exact. */
  readonly full: bigint;
  /** d·r + r·k, exact. */
  readonly lora: bigint;
  /** lora / full, rounded once to float64. */
  readonly ratio: number;
}

/**
 * Counts the trainable parameters of full fine-tuning (d·k) and of LoRA at rank r (d·r + r·k)
 * for one layer W (d×k), with the reference's exact `countParameters`.
 *
 * @param shape `[d, k]`, positive integers.
 * @param rank The LoRA rank, an integer in [1, min(d, k)].
 * @returns full, lora and their ratio.
 * @throws {RangeError} When the rank is outside [1, min(d, k)] (from the reference).
 *
 * @example A 4096×4096 projection at rank 8
 * ```ts
 * import { rankCount } from "./rank_model.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const { full, lora, ratio } = rankCount([4096, 4096], 8);
 * assertEquals([full, lora, ratio], [4096n * 4096n, 8n * (4096n + 4096n), 1 / 256]);
 * ```
 */
export function rankCount(shape: readonly [number, number], rank: number): RankCount {
  const { full, lora, ratio } = countParameters([shape], rank);
  return { full, lora, ratio };
}

/** The ΔW ≈ B·A picture at one rank. */
export interface RankPicture {
  /** The rank drawn: min(rank, 16), the picture's largest possible rank. */
  readonly rank: number;
  /** B (24×rank). */
  readonly b: Matrix;
  /** A (rank×16). */
  readonly a: Matrix;
  /** B·A (24×16), the rank-r approximation of the target ΔW. */
  readonly product: Matrix;
  /** ‖ΔW − B·A‖_F / ‖ΔW‖_F. */
  readonly relativeError: number;
}

/**
 * The fixed update the picture approximates: ΔW = G₁·diag(0.7^i)·G₂ with G₁ (24×16) and G₂
 * (16×16) standard Gaussian (Box–Muller on SplitMix64 draws, seed `seed`), so that its singular
 * values decay and a small rank already captures most of it.
 *
 * @param seed The SplitMix64 seed. @default {7}
 * @returns ΔW (24×16).
 *
 * @example Deterministic
 * ```ts
 * import { pictureTarget } from "./rank_model.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(pictureTarget().data, pictureTarget().data);
 * assertEquals([pictureTarget().rows, pictureTarget().cols], [24, 16]);
 * ```
 */
export function pictureTarget(seed = 7): Matrix {
  const [rows, cols] = PICTURE_SHAPE;
  const rng = new SplitMix64(seed);
  const g1 = matrix([rows, cols], gaussians(rng, rows * cols));
  const g2 = gaussians(rng, cols * cols);
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j < cols; j++) g2[i * cols + j]! *= 0.7 ** i; // diag(0.7^i)·G₂
  }
  return multiply(g1, matrix([cols, cols], g2));
}

/**
 * The best rank-r factors B, A of `target` (the reference's `lowRank`: truncated SVD, split
 * evenly), their product, and the relative error ‖ΔW − B·A‖_F / ‖ΔW‖_F.
 *
 * @param target ΔW (24×16), e.g. {@linkcode pictureTarget}.
 * @param rank The requested rank, ≥ 1; ranks above min(rows, cols) are drawn at min(rows, cols).
 * @returns The picture's factors and error.
 *
 * @example The full rank reproduces ΔW
 * ```ts
 * import { pictureFactors, pictureTarget } from "./rank_model.ts";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const target = pictureTarget();
 * const low = pictureFactors(target, 2);
 * const full = pictureFactors(target, 64);
 * assertEquals(full.rank, 16);
 * assert(full.relativeError < 1e-12 && low.relativeError > full.relativeError);
 * ```
 */
export function pictureFactors(target: Matrix, rank: number): RankPicture {
  const shown = Math.min(rank, target.rows, target.cols);
  const { b, a, error } = lowRank(target, shown);
  return {
    rank: shown,
    b,
    a,
    product: multiply(b, a),
    relativeError: error / frobeniusNorm(target),
  };
}
