// Fast EXACT kernels for matmul (oracle-protocol.md "matmul"): each gives, bit for bit, what the
// reference kernel of _matmul_exact.ts gives (one correctly rounded FMA per step), using float64
// arithmetic where it is provably exact, and `exactStep` (BigInt) wherever it is not.
//
// Notation: RN_F is round-to-nearest-even to the accumulate format F with an unbounded exponent
// followed by F's overflow rule; RN64 is float64 addition/multiplication; RO is rounding to odd in
// float64 (an inexact value goes to whichever of its two float64 neighbours has an odd last bit).
//
// Path (i)  — products exact in float64, F = float64: s + a·b in float64 IS RN64(s + a·b).
// Path (ii) — products exact, F narrower (precision p_F ≤ 24 bits): s_j = RN_F(RO(s + p)), with
//             RO(s + p) obtained from TwoSum. Proof in `addRoundToOdd`.
// Path (iv) — products not exact in float64 (dtype float64 or int32): Dekker's TwoProduct and
//             three TwoSums give s + a·b = r + rl + ve exactly; the result is read off when it is
//             provably determined, else `exactStep` runs. Proof in `fusedStep`.
import { pow2 } from "./_exact.ts";
import { exactStep, overflowRule, refuseNaN } from "./_matmul_exact.ts";
import type { FloatFormat } from "./format.ts";

// One float64 seen as two 32-bit words. Which word holds the sign and exponent is detected, not
// assumed (little-endian on every current platform).
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const HI = (() => {
  F64[0] = 1; // 0x3ff00000_00000000
  return U32[1] === 0x3ff00000 ? 1 : 0;
})();
const LO = 1 - HI;

const TWO52 = 2 ** 52;

/** RN_F: one nearest-even rounding to F of any float64 (NaN stays NaN; F's overflow rule). */
export type Rounder = (x: number) => number;

/**
 * RN_F for any format of at most 51 bits of precision, by exact power-of-two scaling:
 * |x| = scaled·2^q with q = max(e, emin) − t (e = floor(log2|x|)), so that RN_F(|x|) =
 * RNE_integer(scaled)·2^q. Here scaled < 2^(t+1) ≤ 2^52, and (scaled + 2^52) − 2^52 rounds it to an
 * integer ties-to-even (the float64 spacing in [2^52, 2^53) is 1). Both scalings by 2^∓q are exact
 * (no overflow, and the results stay at or above float64's subnormal quantum since q ≥ emin − t
 * ≥ −149). Same semantics as cast's `roundValue` with nearest-even, tested against it.
 */
export function genericRounder(f: FloatFormat): Rounder {
  const t = f.mantissaBits;
  const emin = f.emin;
  return (x: number): number => {
    const ax = Math.abs(x);
    if (!(ax < Infinity)) return overflowRule(x, f); // ±Infinity and NaN
    if (ax === 0) return x;
    F64[0] = ax;
    const biased = U32[HI]! >>> 20; // sign is 0
    const e = biased === 0 ? -1023 : biased - 1023; // float64 subnormals lie below every emin
    const q = (e > emin ? e : emin) - t;
    const scaled = ax * pow2(-q);
    const n = (scaled + TWO52) - TWO52;
    const y = overflowRule(n * pow2(q), f);
    return x < 0 ? -y : y;
  };
}

/** The fastest exact RN_F of a format: identity, Math.fround, Math.f16round or the generic one. */
export function rounderFor(f: FloatFormat): Rounder {
  if (f.name === "float64") return (x) => x;
  // Math.fround and Math.f16round are IEEE roundTiesToEven with overflow to ±Infinity, which is
  // exactly RN_F with the cast overflow rule of float32 and float16.
  if (f.name === "float32") return Math.fround;
  const f16 = (Math as unknown as { f16round?: (x: number) => number }).f16round;
  if (f.name === "float16" && typeof f16 === "function") return f16;
  return genericRounder(f);
}

/**
 * Moves a nonzero float64 `hi` with an EVEN last bit one ulp toward hi + lo (lo ≠ 0), which gives
 * the odd neighbour on lo's side; `hi` with an odd last bit is returned as is. With hi = 0 the
 * neighbour is ±2^−1074. The caller guarantees hi + lo lies strictly between that neighbour and
 * hi, so the result is RO(hi + lo).
 */
export function makeOdd(hi: number, lo: number): number {
  if (hi === 0) return lo > 0 ? 5e-324 : -5e-324;
  F64[0] = hi;
  if ((U32[LO]! & 1) === 1) return hi;
  if ((hi > 0) === (lo > 0)) {
    U32[LO] = U32[LO]! + 1; // even low word: no carry
  } else if (U32[LO] === 0) {
    U32[LO] = 0xffffffff; // borrow: the largest value of the binade below
    U32[HI] = U32[HI]! - 1;
  } else {
    U32[LO] = U32[LO]! - 1;
  }
  return F64[0]!;
}

/**
 * RO(s + p) for float64 s, p whose sum does not overflow: TwoSum (Knuth) gives hi = RN64(s + p)
 * and lo with s + p = hi + lo exactly; if lo ≠ 0 the exact sum lies strictly between hi and its
 * neighbour on lo's side (|lo| ≤ half the spacing on that side), so the odd one of the two is
 * RO(s + p).
 *
 * Why RN_F(RO(x)) = RN_F(x) for F of precision p_F ≤ 51 (Boldo–Melquiond): the points where RN_F
 * changes value are F's values and the midpoints between them (with an unbounded exponent, so
 * also above max, and with F's fixed quantum 2^(emin−t) in its subnormal range); each has at most
 * p_F + 1 ≤ 52 significant bits and lies at or above 2^−150, so each is a float64 with an EVEN
 * last bit. If x is a float64, RO(x) = x. Otherwise x lies strictly between two consecutive
 * float64 values, no breakpoint lies strictly between them, and RO(x) is the odd one, itself not
 * a breakpoint: x and RO(x) are on the same side of every breakpoint, so RN_F (including the
 * overflow decision, taken on the unbounded-exponent result) agrees on both. Zero: hi = 0 only if
 * s + p = 0 exactly (a nonzero float64 sum never rounds to 0), and RN64 gives the IEEE sign
 * (−0 + −0 = −0, otherwise +0), which RN_F keeps.
 */
export function addRoundToOdd(s: number, p: number): number {
  const hi = s + p;
  const bb = hi - s;
  const lo = (s - (hi - bb)) + (p - bb);
  if (lo === 0 || lo !== lo) return hi; // exact (or special: ±Infinity, NaN)
  return makeOdd(hi, lo);
}

/** The smaller of the two gaps between a nonzero finite float64 r and its neighbours. */
function smallerGap(r: number): number {
  F64[0] = r;
  const high = U32[HI]! & 0x7fffffff;
  const biased = high >>> 20;
  if (biased === 0) return 5e-324;
  const ulp = pow2(biased - 1075);
  // A power of two (fraction 0) above the smallest normal has half the gap below it.
  return biased > 1 && (high & 0xfffff) === 0 && U32[LO] === 0 ? ulp / 2 : ulp;
}

const SPLIT = 134217729; // 2^27 + 1, Veltkamp's constant for float64
const SMALL = 2 ** -480;
const LARGE = 2 ** 500;

/**
 * acc(s + a·b) for finite s, a, b with a·b ≠ 0, or `undefined` when the fast computation cannot
 * prove the result (the caller then runs `exactStep`).
 *
 * Proof. With 2^−480 ≤ |a|, |b| ≤ 2^500 and |s| ≤ 2^1020:
 * - Dekker's TwoProduct with Veltkamp's split is exact: ph = RN64(a·b), ph + pl = a·b, since
 *   e_a + e_b ≥ −960 ≥ emin + p − 1 = −970 (no underflow) and 2^27·|a| ≤ 2^528 (no overflow);
 * - TwoSum(s, ph) = (th, tl), TwoSum(tl, pl) = (v, ve), TwoSum(th, v) = (r, rl) are exact
 *   (|th| ≤ 2^1021: no overflow), so x = s + a·b = r + rl + ve exactly, r = RN64(th + v).
 * - If ve = 0, x = th + v exactly, so RN64(x) = r (ties included), and RO(x) = RO(r + rl).
 * - F = float64, ve ≠ 0: r is the unique nearest float64 to x when |rl + ve| < g/2 with g the
 *   smaller gap at r; we require gap = RN64(g/2 − |rl|) > 0 and 2|ve| ≤ gap, so that
 *   |ve| ≤ gap/2 < g/2 − |rl| (the rounding of the subtraction is at most a relative 2^−53).
 * - F narrower, ve ≠ 0: with d = rl + ve, RO(x) = makeOdd(r, d) whenever we know sign(d) and
 *   |d| < the gap at r on d's side. If 2|ve| ≤ |rl| (rl ≠ 0): sign(d) = sign(rl) and
 *   |d| ≤ 1.5|rl| ≤ 0.75·gap (|rl| is at most half the gap on its side, r being RN64(th + v)).
 *   If rl = 0: d = ve, and we require |ve| < g/2. Then RN_F(RO(x)) = RN_F(x) (see
 *   `addRoundToOdd`).
 * - x = 0 exactly only when r = rl = ve = 0; a·b ≠ 0, so the IEEE result is +0.
 * Everything else (tiny r, near-ties of the float64 case) returns `undefined`.
 */
export function fusedStep(
  s: number,
  a: number,
  b: number,
  toOdd: boolean,
  round: Rounder,
): number | undefined {
  const aa = Math.abs(a);
  const ab = Math.abs(b);
  if (!(aa >= SMALL && aa <= LARGE && ab >= SMALL && ab <= LARGE && Math.abs(s) <= 2 ** 1020)) {
    return undefined;
  }
  const ph = a * b;
  let c = SPLIT * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLIT * b;
  const bh = c - (c - b);
  const bl = b - bh;
  const pl = ((ah * bh - ph) + ah * bl + al * bh) + al * bl;
  const th = s + ph;
  let bb = th - s;
  const tl = (s - (th - bb)) + (ph - bb);
  const v = tl + pl;
  bb = v - tl;
  const ve = (tl - (v - bb)) + (pl - bb);
  const r = th + v;
  bb = r - th;
  const rl = (th - (r - bb)) + (v - bb);
  if (ve === 0) {
    if (r === 0) return 0; // then rl = 0 too: exact cancellation, +0
    return toOdd ? round(rl === 0 ? r : makeOdd(r, rl)) : r;
  }
  if (Math.abs(r) < 2 ** -900) return undefined;
  if (!toOdd) {
    const gap = smallerGap(r) / 2 - Math.abs(rl);
    return gap > 0 && 2 * Math.abs(ve) <= gap ? r : undefined;
  }
  if (rl !== 0) return 2 * Math.abs(ve) <= Math.abs(rl) ? round(makeOdd(r, rl)) : undefined;
  return Math.abs(ve) < smallerGap(r) / 2 ? round(makeOdd(r, ve)) : undefined;
}

/** Which fast path a float accumulation takes. */
export type FloatPath = "exact-products" | "fused";

/**
 * The fast float kernel, equal to `referenceKernel` bit for bit.
 *
 * @param a (m, k) row-major, values of the dtype.
 * @param bt (n, k) row-major: b transposed.
 * @param path `"exact-products"` when every product a·b of the dtype is exact in float64 (dtype
 * precision ≤ 26 bits and a product exponent range inside float64's: float32 and narrower, the
 * integer dtypes up to 16 bits), else `"fused"`.
 * @returns (m, n) row-major.
 */
export function fastKernel(
  a: Float64Array,
  bt: Float64Array,
  m: number,
  n: number,
  k: number,
  f: FloatFormat,
  path: FloatPath,
): Float64Array {
  const y = new Float64Array(m * n); // (m, n) row-major
  const round = rounderFor(f);
  const wide = f.name === "float64";
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    for (let p = 0; p < n; p++) {
      const bp = p * k;
      let s = 0;
      if (path === "exact-products" && wide) {
        // Path (i): a·b exact (or IEEE special), s + a·b one float64 rounding: RN64 exactly.
        for (let j = 0; j < k; j++) s += a[ai + j]! * bt[bp + j]!;
      } else if (path === "exact-products") {
        // Path (ii): |s| ≤ F's max ≤ 2^128 and |a·b| ≤ 2^256: no float64 overflow.
        for (let j = 0; j < k; j++) {
          s = round(addRoundToOdd(s, a[ai + j]! * bt[bp + j]!));
          if (s !== s && !f.hasNaN) refuseNaN(f, i, p, j);
        }
      } else {
        // Path (iv).
        for (let j = 0; j < k; j++) {
          const x = a[ai + j]!;
          const z = bt[bp + j]!;
          let next: number | undefined;
          if (
            x !== 0 && z !== 0 && Number.isFinite(s) && Number.isFinite(x) && Number.isFinite(z)
          ) {
            next = fusedStep(s, x, z, !wide, round);
          }
          s = next === undefined ? exactStep(s, x, z, f) : next;
          if (s !== s && !f.hasNaN) refuseNaN(f, i, p, j);
        }
      }
      y[i * n + p] = s;
    }
  }
  return y;
}
