// Internal shorthands that build the typed errors. Each returns the error so callers write
// `throw argError(...)`, which keeps control flow visible to the type checker.
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";

/** An argument is missing, of the wrong type, an unknown enum value, or a refused combination. */
export function argError(message: string): LoraquantTypeError {
  return new LoraquantTypeError("E_ARG", message);
}

/** Shapes or lengths disagree. */
export function shapeError(message: string): LoraquantTypeError {
  return new LoraquantTypeError("E_SHAPE", message);
}

/** A value lies outside its domain. */
export function rangeError(message: string): LoraquantRangeError {
  return new LoraquantRangeError("E_RANGE", message);
}

/** An integer result does not fit and the overflow rule is `"error"`. */
export function overflowError(message: string): LoraquantRangeError {
  return new LoraquantRangeError("E_OVERFLOW", message);
}

/** An input is larger than a documented limit. */
export function limitError(message: string): LoraquantRangeError {
  return new LoraquantRangeError("E_LIMIT", message);
}

/** Formats a number for a message the way the protocol encodes it (`-0`, `NaN`, `Infinity`). */
export function show(x: number | bigint): string {
  if (typeof x === "bigint") return x.toString();
  return Object.is(x, -0) ? "-0" : String(x);
}
