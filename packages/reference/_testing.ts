// Shared settings of the property tests: a fixed seed (FC_SEED overrides it to replay or explore),
// so CI runs are reproducible; fast-check prints `{ seed, path }` of any failure so it replays.
import fc from "fast-check";

/** The seed every property test runs with: `FC_SEED` from the environment, else a fixed one. */
export const FC_SEED: number = Number(Deno.env.get("FC_SEED") ?? 20261130);

/** Parameters for `fc.assert`: the fixed seed, and `numRuns` (default 200). */
export function fcParams(numRuns = 200): { seed: number; numRuns: number } {
  return { seed: FC_SEED, numRuns };
}

/** Doubles of every kind: ordinary, huge, tiny, subnormal, ±0, ±Infinity, NaN. */
export function anyDouble(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.double(),
    fc.double({ min: -1e4, max: 1e4, noNaN: true }),
    fc.constantFrom(
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      Number.MIN_VALUE,
      -Number.MIN_VALUE,
      2 ** -1022,
      Number.MAX_VALUE,
    ),
  );
}

/**
 * The exact value of a finite double as n / 2^k (n a signed BigInt, k ≥ 0), read from its bits
 * with a DataView: independent of the code under test.
 */
export function binaryFraction(x: number): { n: bigint; k: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const e = Number((bits >> 52n) & 0x7ffn);
  const f = bits & ((1n << 52n) - 1n);
  const mant = e === 0 ? f : f | (1n << 52n);
  const exp = (e === 0 ? 1 : e) - 1075; // x = mant · 2^exp
  return exp >= 0
    ? { n: sign * (mant << BigInt(exp)), k: 0n }
    : { n: sign * mant, k: BigInt(-exp) };
}
