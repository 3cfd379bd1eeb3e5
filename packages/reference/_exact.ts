// Exact arithmetic on float64 values, used wherever the specification says "computed exactly,
// rounded once". Two tools:
//  - float64 scaling by powers of two, which is exact and fast (used to round a float64 to a
//    narrower grid, docs/semantics.md eq. (3));
//  - BigInt rationals ±num/den, for quantities a float64 cannot hold (a sum of products, a
//    quotient), rounded once to a grid at the end (eq. (4)).

/** POW2[k + 1074] is 2^k for −1074 ≤ k ≤ 1023, built by exact halvings and doublings. */
const POW2 = (() => {
  const table = new Float64Array(1074 + 1024);
  let p = 1;
  for (let k = 0; k <= 1023; k++, p *= 2) table[k + 1074] = p;
  p = 1;
  for (let k = 0; k >= -1074; k--, p /= 2) table[k + 1074] = p;
  return table;
})();

/** 2^k exactly; 0 below 2^−1074 and Infinity above 2^1023. */
export function pow2(k: number): number {
  if (k < -1074) return 0;
  if (k > 1023) return Infinity;
  return POW2[k + 1074]!;
}

/** floor(log2(x)) exactly, for finite x > 0 (subnormals included). */
export function exponentOf(x: number): number {
  let e = Math.floor(Math.log2(x));
  if (e > 1023) e = 1023;
  if (e < -1074) e = -1074;
  while (pow2(e) > x) e--;
  while (e < 1023 && pow2(e + 1) <= x) e++;
  return e;
}

/** A grid of binary floating-point values: t fraction bits, smallest normal exponent emin. */
export interface Grid {
  readonly mantissaBits: number;
  readonly emin: number;
}

/** The rounding rules of the protocol. */
export type Rounding = "nearest-even" | "nearest-away" | "toward-zero" | "stochastic";

/**
 * Rounds the magnitude |x| of a finite float64 to the grid with an unbounded exponent (eq. (3)).
 * `u` ∈ [0, 1) is the stochastic draw and `negative` the sign of x, which stochastic rounding
 * needs: the protocol compares u with (x − lo)/(hi − lo) by VALUE, so for a negative x the draw
 * decides between the neighbours of x, not of |x| (docs/semantics.md §2). The result is exact:
 * |x| = (n + r)·2^q with integer n and 0 ≤ r < 1 computed by exact power-of-two scaling.
 */
export function roundMagnitude(
  ax: number,
  grid: Grid,
  rounding: Rounding,
  u: number,
  negative = false,
): number {
  if (ax === 0) return 0;
  const e = exponentOf(ax);
  const q = Math.max(e, grid.emin) - grid.mantissaBits;
  // For every grid coarser than float64's own, |x|·2^−q < 2^(t+1) holds exactly; for float64
  // itself (q ≥ −1074) the scaling is exact too, and the fraction r is then always 0.
  const scaled = q < -1022 ? ax * pow2(-q - 1022) * pow2(1022) : ax * pow2(-q);
  const n = Math.floor(scaled);
  const r = scaled - n; // exact: both have the same exponent range
  const up = decideUp(
    r === 0 ? 0 : r < 0.5 ? -1 : r > 0.5 ? 1 : 0,
    r,
    n % 2 === 1,
    rounding,
    u,
    negative,
  );
  const m = up ? n + 1 : n;
  return m * pow2(q);
}

/**
 * The one rounding decision: whether the MAGNITUDE goes up. `side` is the sign of r − 1/2 (0 also
 * when r = 0; `r` tells those apart), `odd` whether the lower neighbour's last digit is odd.
 */
function decideUp(
  side: number,
  r: number,
  odd: boolean,
  rounding: Rounding,
  u: number,
  negative: boolean,
): boolean {
  if (r === 0) return false;
  switch (rounding) {
    case "nearest-even":
      return side > 0 || (side === 0 && odd);
    case "nearest-away":
      return side >= 0;
    case "toward-zero":
      return false;
    case "stochastic":
      // By value: x > 0 goes to hi = n + 1 when u < r. For x < 0 the value's upper neighbour hi
      // is −n, reached when u < (x − lo)/(hi − lo) = 1 − r, i.e. when r < 1 − u (1 − u is
      // exact: u is a multiple of 2^−53); the magnitude goes up otherwise.
      return negative ? !(r < 1 - u) : u < r;
  }
}

// ---------------------------------------------------------------------------------------------
// BigInt rationals.

/** An exact dyadic value (−1)^neg · mant · 2^exp with mant ≥ 0. */
export interface Dyadic {
  neg: boolean;
  mant: bigint;
  exp: number;
}

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** The bits of a float64 as an unsigned 64-bit bigint. */
export function float64Bits(x: number): bigint {
  F64[0] = x;
  return U64[0]!;
}

/** The float64 whose bits are `bits`. */
export function float64FromBits(bits: bigint): number {
  U64[0] = BigInt.asUintN(64, bits);
  return F64[0]!;
}

/** The exact dyadic value of a finite float64. */
export function dyadic(x: number): Dyadic {
  const bits = float64Bits(x);
  const neg = bits >> 63n === 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  if (biased === 0) return { neg, mant: fraction, exp: -1074 };
  return { neg, mant: fraction | 0x10000000000000n, exp: biased - 1075 };
}

/** The exact sum of dyadic values. */
export function addDyadic(a: Dyadic, b: Dyadic): Dyadic {
  const exp = Math.min(a.exp, b.exp);
  const ma = (a.neg ? -a.mant : a.mant) << BigInt(a.exp - exp);
  const mb = (b.neg ? -b.mant : b.mant) << BigInt(b.exp - exp);
  const s = ma + mb;
  return { neg: s < 0n, mant: s < 0n ? -s : s, exp };
}

/** The exact product of dyadic values. */
export function mulDyadic(a: Dyadic, b: Dyadic): Dyadic {
  return { neg: a.neg !== b.neg, mant: a.mant * b.mant, exp: a.exp + b.exp };
}

/** An exact rational (−1)^neg · num/den with num ≥ 0, den > 0. */
export interface Rational {
  neg: boolean;
  num: bigint;
  den: bigint;
}

/** The dyadic value as a rational. */
export function rationalOf(d: Dyadic): Rational {
  return d.exp >= 0
    ? { neg: d.neg, num: d.mant << BigInt(d.exp), den: 1n }
    : { neg: d.neg, num: d.mant, den: 1n << BigInt(-d.exp) };
}

/** The exact quotient x / y of two finite float64 values, y ≠ 0. */
export function quotient(x: number, y: number): Rational {
  const a = rationalOf(dyadic(x));
  const b = rationalOf(dyadic(y));
  return { neg: a.neg !== b.neg, num: a.num * b.den, den: a.den * b.num };
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** floor(log2(num/den)) for num, den > 0. */
function rationalExponent(num: bigint, den: bigint): number {
  let e = bitLength(num) - bitLength(den);
  // 2^e ≤ num/den ⇔ den·2^e ≤ num.
  const fits = (k: number): boolean => k >= 0 ? den << BigInt(k) <= num : den <= num << BigInt(-k);
  while (!fits(e)) e--;
  while (fits(e + 1)) e++;
  return e;
}

/** u = k / 2^53 with integer k = draw >> 11: the stochastic draw as an exact bigint numerator. */
export function drawNumerator(u: number): bigint {
  return BigInt(u * 2 ** 53);
}

/**
 * The stochastic decision on exact integers, by value (see `decideUp`): with r = rem/d and
 * u = k/2^53, a positive value's magnitude goes up when u < r ⇔ k·d < rem·2^53; a negative
 * value's when NOT u < 1 − r ⇔ NOT k·d < (d − rem)·2^53.
 */
function stochasticUp(negative: boolean, rem: bigint, d: bigint, u: number): boolean {
  const k = drawNumerator(u);
  return negative ? !(k * d < (d - rem) << 53n) : k * d < rem << 53n;
}

/**
 * Rounds the exact rational value ONCE to a grid with an unbounded exponent (eq. (4)) and
 * returns the signed float64 result (−0 when a negative value rounds to zero; ±Infinity only if
 * the rounded magnitude exceeds float64's range). Callers apply the format's overflow rule.
 */
export function roundRational(x: Rational, grid: Grid, rounding: Rounding, u: number): number {
  if (x.num === 0n) return x.neg ? -0 : 0;
  const e = rationalExponent(x.num, x.den);
  const q = Math.max(e, grid.emin) - grid.mantissaBits;
  // n = floor(|x| / 2^q), remainder rem / d with d the divisor.
  let num = x.num;
  let d = x.den;
  if (q >= 0) d <<= BigInt(q);
  else num <<= BigInt(-q);
  const n = num / d;
  const rem = num - n * d;
  let up = false;
  if (rem !== 0n) {
    const twice = rem * 2n;
    switch (rounding) {
      case "nearest-even":
        up = twice > d || (twice === d && (n & 1n) === 1n);
        break;
      case "nearest-away":
        up = twice >= d;
        break;
      case "toward-zero":
        up = false;
        break;
      case "stochastic":
        up = stochasticUp(x.neg, rem, d, u);
        break;
    }
  }
  const m = up ? n + 1n : n;
  const magnitude = Number(m) * pow2(q); // m < 2^(t+2) ≤ 2^54 and is even if ≥ 2^53: exact
  return x.neg ? -magnitude : magnitude;
}

/**
 * Rounds the exact rational to an integer (a grid of step 1) with the given rule, as a bigint.
 */
export function roundRationalToInteger(x: Rational, rounding: Rounding, u: number): bigint {
  const n = x.num / x.den;
  const rem = x.num - n * x.den;
  let up = false;
  if (rem !== 0n) {
    const twice = rem * 2n;
    switch (rounding) {
      case "nearest-even":
        up = twice > x.den || (twice === x.den && (n & 1n) === 1n);
        break;
      case "nearest-away":
        up = twice >= x.den;
        break;
      case "toward-zero":
        up = false;
        break;
      case "stochastic":
        up = stochasticUp(x.neg, rem, x.den, u);
        break;
    }
  }
  const m = up ? n + 1n : n;
  return x.neg ? -m : m;
}

/** The float64 grid: every rational rounded to it is the nearest float64 (eq. (4)). */
export const FLOAT64_GRID: Grid = { mantissaBits: 52, emin: -1022 };
