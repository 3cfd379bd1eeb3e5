// Internal shorthands that build the typed errors (argError, shapeError and rangeError are the
// public ones of errors.ts). Each returns the error so callers write `throw argError(...)`.
import { LoraquantRangeError } from "./errors.ts";

export { argError, rangeError, shapeError } from "./errors.ts";

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
