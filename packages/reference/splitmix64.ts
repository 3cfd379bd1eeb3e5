/**
 * SplitMix64, the protocol's reproducible source of randomness for stochastic rounding
 * (oracle-protocol.md, "Randomness"). Any language reproduces it with 64-bit unsigned arithmetic.
 *
 * @module
 */
import { argError, rangeError, show } from "./_fail.ts";

const MASK = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;
const MIX1 = 0xbf58476d1ce4e5b9n;
const MIX2 = 0x94d049bb133111ebn;

/**
 * A SplitMix64 generator: `state += 0x9e3779b97f4a7c15`, then
 * `z = (z ^ (z >> 30))·0xbf58476d1ce4e5b9`, `z = (z ^ (z >> 27))·0x94d049bb133111eb`,
 * `z ^ (z >> 31)`, all modulo 2^64.
 *
 * @example The first draws from seed 0 (the published SplitMix64 test vector)
 * ```ts
 * import { SplitMix64 } from "@loraquant/reference/splitmix64";
 * import { assertEquals } from "@std/assert";
 *
 * const rng = new SplitMix64(0);
 * assertEquals(rng.next(), 0xe220a8397b1dcdafn);
 * assertEquals(rng.next(), 0x6e789e6aa1b965f4n);
 * ```
 */
export class SplitMix64 {
  #state: bigint;

  /**
   * Seeds the generator.
   *
   * @param seed An integer, 0 ≤ seed < 2^53.
   * @throws {LoraquantTypeError} `E_ARG` when `seed` is not an integer.
   * @throws {LoraquantRangeError} `E_RANGE` when `seed` is outside [0, 2^53).
   */
  constructor(seed: number) {
    this.#state = BigInt(checkSeed(seed));
  }

  /**
   * The next 64-bit draw.
   *
   * @returns An integer in [0, 2^64).
   */
  next(): bigint {
    this.#state = (this.#state + GOLDEN) & MASK;
    let z = this.#state;
    z = ((z ^ (z >> 30n)) * MIX1) & MASK;
    z = ((z ^ (z >> 27n)) * MIX2) & MASK;
    return z ^ (z >> 31n);
  }

  /**
   * The next draw as a uniform number u = (draw >> 11) / 2^53 in [0, 1), exact in float64.
   *
   * @returns u, a multiple of 2^−53.
   */
  nextUniform(): number {
    return Number(this.next() >> 11n) / 2 ** 53;
  }
}

/**
 * Checks a stochastic-rounding seed: an integer with 0 ≤ seed < 2^53.
 *
 * @param seed The candidate.
 * @returns The seed, typed as a number.
 * @throws {LoraquantTypeError} `E_ARG` when missing or not an integer.
 * @throws {LoraquantRangeError} `E_RANGE` when outside [0, 2^53).
 *
 * @example
 * ```ts
 * import { checkSeed } from "@loraquant/reference/splitmix64";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * assertEquals(checkSeed(42), 42);
 * assertThrows(() => checkSeed(-1), RangeError);
 * assertThrows(() => checkSeed(1.5), TypeError);
 * ```
 */
export function checkSeed(seed: unknown): number {
  if (typeof seed !== "number" || !Number.isInteger(seed)) {
    throw argError(
      `Stochastic rounding needs an integer seed, got ${
        typeof seed === "number" ? show(seed) : JSON.stringify(seed) ?? "nothing"
      }`,
    );
  }
  if (seed < 0 || seed >= 2 ** 53) {
    throw rangeError(`seed must satisfy 0 ≤ seed < 2^53, got ${show(seed)}`);
  }
  return seed;
}
