/**
 * Rounding rules, named as the specification names them (docs/semantics.md §2). The reference
 * never calls a bare `Math.round`: it calls the rule the operation specifies.
 *
 * @module
 */
import { argError, show } from "./_fail.ts";

/** The rounding rules of the oracle protocol. */
export const ROUNDING_MODES = [
  "nearest-even",
  "nearest-away",
  "toward-zero",
  "stochastic",
] as const;

/**
 * A rounding rule:
 * - `nearest-even`: to the nearest representable value, ties to the one with an even last digit
 *   (IEEE 754 roundTiesToEven);
 * - `nearest-away`: to the nearest, ties away from zero (IEEE 754 roundTiesToAway, C `roundf`);
 * - `toward-zero`: truncation (IEEE 754 roundTowardZero);
 * - `stochastic`: up with probability equal to the distance from the lower neighbour, in units of
 *   the gap, using the protocol's SplitMix64 draws.
 */
export type RoundingMode = typeof ROUNDING_MODES[number];

/**
 * Tells whether a value names a rounding rule.
 *
 * @param mode Anything.
 * @returns `true` for one of {@linkcode ROUNDING_MODES}.
 *
 * @example
 * ```ts
 * import { isRoundingMode } from "@loraquant/reference/rounding";
 * import { assert } from "@std/assert";
 *
 * assert(isRoundingMode("toward-zero"));
 * assert(!isRoundingMode("up"));
 * ```
 */
export function isRoundingMode(mode: unknown): mode is RoundingMode {
  return typeof mode === "string" && (ROUNDING_MODES as readonly string[]).includes(mode);
}

/**
 * Rounds a float64 to the nearest integer, ties to even (IEEE 754 roundTiesToEven, numpy
 * `rint`, WGSL `round`). Exact: the tie test `x − floor(x) = 1/2` involves no rounding.
 *
 * @param x Any float64.
 * @returns The nearest integer (−0 for −0.5 ≤ x < 0 and for −0; NaN and ±Infinity unchanged).
 *
 * @example Ties go to the even neighbour
 * ```ts
 * import { roundHalfToEven } from "@loraquant/reference/rounding";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals([0.5, 1.5, 2.5, -2.5, 2.4999].map(roundHalfToEven), [0, 2, 2, -2, 2]);
 * ```
 */
export function roundHalfToEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const r = x - f; // exact for every float64
  let n: number;
  if (r > 0.5) n = f + 1;
  else if (r < 0.5) n = f;
  else n = f % 2 === 0 ? f : f + 1;
  return n === 0 && (x < 0 || Object.is(x, -0)) ? -0 : n;
}

/**
 * Rounds a float64 to the nearest integer, ties away from zero (C `round`/`roundf`).
 *
 * @param x Any float64.
 * @returns The nearest integer, ties away from zero; the sign of zero follows x.
 *
 * @example
 * ```ts
 * import { roundHalfAwayFromZero } from "@loraquant/reference/rounding";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals([0.5, 1.5, 2.5, -2.5].map(roundHalfAwayFromZero), [1, 2, 3, -3]);
 * ```
 */
export function roundHalfAwayFromZero(x: number): number {
  if (!Number.isFinite(x)) return x;
  const a = Math.abs(x);
  const f = Math.floor(a);
  const n = a - f >= 0.5 ? f + 1 : f;
  return x < 0 || Object.is(x, -0) ? -n : n;
}

/**
 * Rounds a float64 toward zero (C `trunc`).
 *
 * @param x Any float64.
 * @returns The integer part of x; the sign of zero follows x.
 *
 * @example
 * ```ts
 * import { roundTowardZero } from "@loraquant/reference/rounding";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals([1.9, -1.9].map(roundTowardZero), [1, -1]);
 * ```
 */
export function roundTowardZero(x: number): number {
  return Math.trunc(x);
}

/** Throws `E_ARG` unless `mode` is a rounding rule; returns it typed. */
export function checkRounding(mode: unknown, argument = "rounding"): RoundingMode {
  if (!isRoundingMode(mode)) {
    throw argError(
      `Unknown ${argument} ${
        typeof mode === "number" ? show(mode) : JSON.stringify(mode)
      }; expected one of ${ROUNDING_MODES.join(", ")}`,
    );
  }
  return mode;
}
