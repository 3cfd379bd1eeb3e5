// The oracle's LoRA arithmetic: every element of lora.forward, lora.merge and lora.unmerge is
// computed EXACTLY (BigInt dyadics and rationals, square roots bracketed by integer square roots
// and refined until the bracket rounds to one float64) and rounded ONCE to nearest-even float64
// (oracle-protocol.md, principle; docs/lora.md §The oracle). Inputs are validated by the caller
// (finite, shapes agree).
import { rangeError } from "./_fail.ts";
import { dyadic, FLOAT64_GRID, roundRational } from "./_exact.ts";
import type { Matrix } from "./matrix.ts";

/** A signed exact dyadic m·2^e. */
interface Dy {
  m: bigint;
  e: number;
}

/** A signed exact rational n/d, d > 0. */
interface Q {
  n: bigint;
  d: bigint;
}

/** The exact values of a float64 array: signed mantissas and exponents. */
interface Exact {
  m: bigint[];
  e: Int32Array;
}

function exactOf(data: ArrayLike<number>): Exact {
  const m: bigint[] = new Array(data.length);
  const e = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const d = dyadic(data[i]!);
    m[i] = d.neg ? -d.mant : d.mant;
    e[i] = d.exp;
  }
  return { m, e };
}

function dyOf(x: number): Dy {
  const d = dyadic(x);
  return { m: d.neg ? -d.mant : d.mant, e: d.exp };
}

/** Exact Σ_l x[xo + l·xs]·y[yo + l·ys] for l ascending (any order gives the same exact value). */
function dot(
  x: Exact,
  xo: number,
  xs: number,
  y: Exact,
  yo: number,
  ys: number,
  k: number,
): Dy {
  let acc = 0n;
  let accE = 0;
  let any = false;
  for (let l = 0; l < k; l++) {
    const i = xo + l * xs;
    const j = yo + l * ys;
    const a = x.m[i]!;
    const b = y.m[j]!;
    if (a === 0n || b === 0n) continue;
    const p = a * b;
    const e = x.e[i]! + y.e[j]!;
    if (!any) {
      acc = p;
      accE = e;
      any = true;
    } else if (e >= accE) acc += p << BigInt(e - accE);
    else {
      acc = (acc << BigInt(accE - e)) + p;
      accE = e;
    }
  }
  return { m: acc, e: accE };
}

function addDy(a: Dy, b: Dy): Dy {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  return { m: (a.m << BigInt(a.e - e)) + (b.m << BigInt(b.e - e)), e };
}

function mulDy(a: Dy, b: Dy): Dy {
  return { m: a.m * b.m, e: a.e + b.e };
}

function qOf(x: Dy): Q {
  return x.e >= 0 ? { n: x.m << BigInt(x.e), d: 1n } : { n: x.m, d: 1n << BigInt(-x.e) };
}

function addQ(a: Q, b: Q): Q {
  if (a.n === 0n) return b;
  if (b.n === 0n) return a;
  if (a.d === b.d) return { n: a.n + b.n, d: a.d };
  return { n: a.n * b.d + b.n * a.d, d: a.d * b.d };
}

function mulQ(a: Q, b: Q): Q {
  return { n: a.n * b.n, d: a.d * b.d };
}

/** a / b for b ≠ 0. */
function divQ(a: Q, b: Q): Q {
  return b.n < 0n ? { n: -a.n * b.d, d: a.d * -b.n } : { n: a.n * b.d, d: a.d * b.n };
}

/** The nearest float64 (ties to even) of an exact rational; +0 for an exact zero. */
function roundQ(x: Q): number {
  const neg = x.n < 0n;
  return roundRational({ neg, num: neg ? -x.n : x.n, den: x.d }, FLOAT64_GRID, "nearest-even", 0);
}

/** floor(sqrt(n)) for n ≥ 0 (Newton's method from above). */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((n.toString(2).length + 1) >> 1); // ≥ sqrt(n)
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/**
 * The nearest float64 (ties to even) of p + c·sqrt(N), N ≥ 0 an integer: exact when N is a
 * perfect square; otherwise sqrt(N) is bracketed as L/2^k ≤ sqrt(N) < (L+1)/2^k with
 * L = isqrt(N·4^k), for k = 64, 128, 256, …, until both ends of the bracket round to the same
 * float64. The value is then irrational (c ≠ 0), so it lies strictly inside the bracket and is
 * never a rounding boundary: the common rounding is its correct rounding.
 */
export function roundPlusSqrt(p: Q, c: Q, big: bigint): number {
  if (c.n === 0n || big === 0n) return roundQ(p);
  const root = isqrt(big);
  if (root * root === big) return roundQ(addQ(p, mulQ(c, { n: root, d: 1n })));
  for (let k = 64;; k *= 2) {
    const scale = 1n << BigInt(k);
    const low = isqrt(big << BigInt(2 * k));
    const lo = roundQ(addQ(p, mulQ(c, { n: low, d: scale })));
    const hi = roundQ(addQ(p, mulQ(c, { n: low + 1n, d: scale })));
    if (Object.is(lo, hi) || k >= 1 << 16) return lo;
  }
}

/** sqrt(x) of a dyadic x ≥ 0 as c·sqrt(N): c a power of two, N an integer. */
function sqrtParts(x: Dy): { c: Q; big: bigint } {
  const odd = ((x.e % 2) + 2) % 2 === 1;
  const big = odd ? x.m << 1n : x.m;
  const half = (odd ? x.e - 1 : x.e) / 2;
  return { c: qOf({ m: 1n, e: half }), big };
}

/** Rounds p + ct·s once, s = 1/r, or 1/sqrt(r) with rslora. */
function roundScaled(p: Q, ct: Q, r: number, rslora: boolean): number {
  const big = BigInt(r);
  if (!rslora) return roundQ(addQ(p, divQ(ct, { n: big, d: 1n })));
  return roundPlusSqrt(p, divQ(ct, { n: big, d: 1n }), big); // ct·sqrt(r)/r
}

/** The shapes of one request, already checked: x (n, in), w (out, in), a (r, in), b (out, r). */
export interface ExactLora {
  w: Matrix;
  a: Matrix;
  b: Matrix;
  alpha: number;
  rslora: boolean;
}

/** T = b·a exactly: (out, in) dyadics, T_ij = Σ_t b_it·a_tj. */
function productBA(b: Exact, a: Exact, out: number, r: number, cols: number): Dy[] {
  const t: Dy[] = new Array(out * cols);
  for (let i = 0; i < out; i++) {
    for (let j = 0; j < cols; j++) t[i * cols + j] = dot(b, i * r, 1, a, j, cols, r);
  }
  return t;
}

/**
 * The scaling s as an exact rational sn/sd for DoRA's row norms: alpha/r, or alpha/sqrt(r)
 * when r is a perfect square; for rslora with any other r, sqrt(r) is replaced by
 * isqrt(r·4^320)/2^320 (relative error below 2^−320) — the only non-exact step of the oracle.
 */
function scalingQ(alpha: number, r: number, rslora: boolean): { sn: Dy; sd: bigint } {
  const sn = dyOf(alpha);
  const big = BigInt(r);
  if (!rslora) return { sn, sd: big };
  const root = isqrt(big);
  if (root * root === big) return { sn, sd: root };
  const k = 320;
  const low = isqrt(big << BigInt(2 * k)); // sqrt(r) ≈ low/2^k
  // alpha/sqrt(r) ≈ alpha·2^k/low.
  return { sn: { m: sn.m, e: sn.e + k }, sd: low };
}

/**
 * DoRA's exact numerators: V = w + s·b·a = D/sd row-major, and E_i = Σ_j D_ij² (so that
 * ‖V_i‖ = sqrt(E_i)/sd).
 */
function doraRows(l: ExactLora): { d: Dy[]; e: Dy[]; sd: bigint } {
  const out = l.w.rows;
  const cols = l.w.cols;
  const r = l.a.rows;
  const w = exactOf(l.w.data);
  const t = productBA(exactOf(l.b.data), exactOf(l.a.data), out, r, cols);
  const { sn, sd } = scalingQ(l.alpha, r, l.rslora);
  const sdDy: Dy = { m: sd, e: 0 };
  const d: Dy[] = new Array(out * cols);
  const e: Dy[] = new Array(out);
  for (let i = 0; i < out; i++) {
    let sum: Dy = { m: 0n, e: 0 };
    for (let j = 0; j < cols; j++) {
      const idx = i * cols + j;
      const v = addDy(mulDy({ m: w.m[idx]!, e: w.e[idx]! }, sdDy), mulDy(sn, t[idx]!));
      d[idx] = v;
      sum = addDy(sum, mulDy(v, v));
    }
    if (sum.m === 0n) {
      throw rangeError(
        `Cannot apply DoRA: row ${i} of w + s·b·a is zero, so its norm is 0 and m·(w + s·b·a)/‖·‖ is undefined`,
      );
    }
    e[i] = sum;
  }
  return { d, e, sd };
}

/**
 * lora.forward: y = x·wᵀ + s·(x·aᵀ)·bᵀ (+ bias), each element exact and rounded once; with a
 * magnitude, y = x·w'ᵀ (+ bias) with the exact DoRA weight w' = m_i·V_i/‖V_i‖.
 */
export function exactForward(
  x: Matrix,
  l: ExactLora,
  bias: Float64Array | undefined,
  magnitude: Float64Array | undefined,
): Float64Array {
  const n = x.rows;
  const cols = x.cols;
  const out = l.w.rows;
  const r = l.a.rows;
  const xe = exactOf(x.data);
  const y = new Float64Array(n * out); // (n, out)
  const biasQ = (j: number): Q => bias === undefined ? { n: 0n, d: 1n } : qOf(dyOf(bias[j]!));
  if (magnitude !== undefined) {
    const { d, e } = doraRows(l);
    const dEx: Exact = { m: d.map((v) => v.m), e: Int32Array.from(d, (v) => v.e) };
    for (let j = 0; j < out; j++) {
      const { c, big } = sqrtParts(e[j]!);
      // m_j·(Σ_l x_il·D_jl)/sqrt(E_j) = [m_j·XD·c/E_j]·sqrt(N).
      const factor = divQ(mulQ(qOf(dyOf(magnitude[j]!)), c), qOf(e[j]!));
      for (let i = 0; i < n; i++) {
        const xd = dot(xe, i * cols, 1, dEx, j * cols, 1, cols);
        y[i * out + j] = roundPlusSqrt(biasQ(j), mulQ(factor, qOf(xd)), big);
      }
    }
    return y;
  }
  const we = exactOf(l.w.data);
  const ae = exactOf(l.a.data);
  const be = exactOf(l.b.data);
  const alpha = dyOf(l.alpha);
  // h = x·aᵀ exactly, (n, r).
  const h: Exact = { m: new Array(n * r), e: new Int32Array(n * r) };
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < r; t++) {
      const v = dot(xe, i * cols, 1, ae, t * cols, 1, cols);
      h.m[i * r + t] = v.m;
      h.e[i * r + t] = v.e;
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < out; j++) {
      const p = addQ(qOf(dot(xe, i * cols, 1, we, j * cols, 1, cols)), biasQ(j));
      const ct = qOf(mulDy(alpha, dot(h, i * r, 1, be, j * r, 1, r)));
      y[i * out + j] = roundScaled(p, ct, r, l.rslora);
    }
  }
  return y;
}

/**
 * lora.merge: w + s·b·a, each element exact and rounded once; with a magnitude, DoRA's
 * m_i·V_ij/n_i with V = w + s·b·a, and the row norms n_i = ‖V_i‖₂ (each rounded once).
 */
export function exactMerge(
  l: ExactLora,
  magnitude: Float64Array | undefined,
): { w: Float64Array; norm?: Float64Array } {
  const out = l.w.rows;
  const cols = l.w.cols;
  const res = new Float64Array(out * cols); // (out, in)
  if (magnitude !== undefined) {
    const { d, e, sd } = doraRows(l);
    const norm = new Float64Array(out);
    for (let i = 0; i < out; i++) {
      const { c, big } = sqrtParts(e[i]!);
      norm[i] = roundPlusSqrt({ n: 0n, d: 1n }, divQ(c, { n: sd, d: 1n }), big);
      const factor = divQ(mulQ(qOf(dyOf(magnitude[i]!)), c), qOf(e[i]!));
      for (let j = 0; j < cols; j++) {
        res[i * cols + j] = roundPlusSqrt(
          { n: 0n, d: 1n },
          mulQ(factor, qOf(d[i * cols + j]!)),
          big,
        );
      }
    }
    return { w: res, norm };
  }
  return { w: mergeSigned(l, 1n, undefined, undefined) };
}

/**
 * lora.unmerge: w − s·b·a; with a magnitude and the merge's norm, w_i·n_i/m_i − s·(b·a)_i, each
 * element exact and rounded once.
 */
export function exactUnmerge(
  l: ExactLora,
  magnitude: Float64Array | undefined,
  norm: Float64Array | undefined,
): Float64Array {
  return mergeSigned(l, -1n, magnitude, norm);
}

function mergeSigned(
  l: ExactLora,
  sign: bigint,
  magnitude: Float64Array | undefined,
  norm: Float64Array | undefined,
): Float64Array {
  const out = l.w.rows;
  const cols = l.w.cols;
  const r = l.a.rows;
  const t = productBA(exactOf(l.b.data), exactOf(l.a.data), out, r, cols);
  const alpha = dyOf(l.alpha);
  const res = new Float64Array(out * cols);
  for (let i = 0; i < out; i++) {
    // Row factor n_i/m_i of DoRA's unmerge (1 otherwise).
    const rowFactor: Q | undefined = magnitude === undefined || norm === undefined
      ? undefined
      : divQ(qOf(dyOf(norm[i]!)), qOf(dyOf(magnitude[i]!)));
    for (let j = 0; j < cols; j++) {
      const idx = i * cols + j;
      let p = qOf(dyOf(l.w.data[idx]!));
      if (rowFactor !== undefined) p = mulQ(p, rowFactor);
      const ct = mulDy(alpha, t[idx]!);
      res[idx] = roundScaled(p, qOf({ m: sign * ct.m, e: ct.e }), r, l.rslora);
    }
  }
  return res;
}
