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
