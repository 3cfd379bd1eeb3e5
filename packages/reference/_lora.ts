// Internal checks shared by lora.ts, dora.ts and train.ts: argument types (E_ARG), shapes
// (E_SHAPE), then domains (E_RANGE), in the protocol's order.
import { argError, rangeError, shapeError, show } from "./_fail.ts";
import { checkFinite } from "./_linalg.ts";
import type { Matrix } from "./matrix.ts";
import type { SplitMix64 } from "./splitmix64.ts";

/** The adapter fields every LoRA function reads. */
export interface AdapterLike {
  readonly a: Matrix;
  readonly b: Matrix;
  readonly alpha: number;
  readonly rslora?: boolean;
}

/** s = alpha/r, or alpha/sqrt(r) with rslora: one float64 division (and one correctly rounded sqrt). */
export function scalingOf(alpha: number, rank: number, rslora: boolean): number {
  return rslora ? alpha / Math.sqrt(rank) : alpha / rank;
}

/**
 * Checks an adapter's types and shapes against a weight of shape (out, in): alpha a number,
 * rslora a boolean (E_ARG); a (r, in), b (out, r) (E_SHAPE). Returns r. The domains are
 * {@linkcode checkAdapterRange}'s, called after every other shape check.
 */
export function checkAdapterShape(
  out: number,
  inputs: number,
  adapter: AdapterLike,
  what: string,
): number {
  const { a, b, alpha } = adapter;
  if (typeof alpha !== "number") {
    throw argError(`Cannot ${what}: alpha must be a number, got ${typeof alpha}`);
  }
  if (adapter.rslora !== undefined && typeof adapter.rslora !== "boolean") {
    throw argError(`Cannot ${what}: rslora must be true or false`);
  }
  const r = a.rows;
  if (a.cols !== inputs) {
    throw shapeError(`Cannot ${what}: a must be r×in = ${r}×${inputs}, got ${a.rows}×${a.cols}`);
  }
  if (b.rows !== out || b.cols !== r) {
    throw shapeError(`Cannot ${what}: b must be out×r = ${out}×${r}, got ${b.rows}×${b.cols}`);
  }
  return r;
}

/** The domains of an adapter (E_RANGE): 1 ≤ r ≤ min(out, in), alpha, a and b finite. */
export function checkAdapterRange(
  out: number,
  inputs: number,
  adapter: AdapterLike,
  what: string,
): void {
  const { a, b, alpha } = adapter;
  const r = a.rows;
  if (r < 1 || r > Math.min(out, inputs)) {
    throw rangeError(
      `Cannot ${what}: rank r = a's rows must satisfy 1 ≤ r ≤ min(out, in) = ${
        Math.min(out, inputs)
      }, got ${r}`,
    );
  }
  if (!Number.isFinite(alpha)) {
    throw rangeError(`Cannot ${what}: alpha must be finite, got ${show(alpha)}`);
  }
  checkFinite(a, "a", what);
  checkFinite(b, "b", what);
}

/** Checks that a vector has length `length` (E_SHAPE) and finite elements (E_RANGE, later). */
export function checkVectorShape(
  v: ArrayLike<number>,
  length: number,
  name: string,
  what: string,
): void {
  if (v.length !== length) {
    throw shapeError(`Cannot ${what}: ${name} must have length ${length}, got ${v.length}`);
  }
}

/** E_RANGE for a non-finite element of a vector. */
export function checkVectorFinite(v: ArrayLike<number>, name: string, what: string): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) {
      throw rangeError(`Cannot ${what}: ${name} must be finite, got ${show(v[i]!)} at [${i}]`);
    }
  }
}

/** A probability in [0, 1) (E_ARG when not a number, E_RANGE outside). */
export function checkProbability(p: number, name: string, what: string): void {
  if (typeof p !== "number") throw argError(`Cannot ${what}: ${name} must be a number`);
  if (!(p >= 0 && p < 1)) {
    throw rangeError(`Cannot ${what}: ${name} must satisfy 0 ≤ ${name} < 1, got ${show(p)}`);
  }
}

/** A standard normal draw by Box–Muller from two SplitMix64 uniforms (cosine branch). */
export function gaussian(rng: SplitMix64): number {
  const u1 = rng.nextUniform();
  const u2 = rng.nextUniform();
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}
