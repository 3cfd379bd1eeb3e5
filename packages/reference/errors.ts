/**
 * Typed errors of `@loraquant/reference`, one per failure class of the oracle protocol.
 *
 * Every public function throws either a {@linkcode LoraquantTypeError} (a wrong type, an unknown
 * enumeration value, or shapes that disagree) or a {@linkcode LoraquantRangeError} (a value
 * outside its domain, an integer overflow under `overflow: "error"`, or an input above a limit).
 * Each carries the protocol's stable `code`, so the oracle maps it to a response without parsing
 * messages.
 *
 * @module
 */

/** The protocol's error codes, in the order a request's first fault is reported. */
export const ERROR_CODES = [
  "E_PARSE",
  "E_OP",
  "E_ARG",
  "E_SHAPE",
  "E_LIMIT",
  "E_RANGE",
  "E_OVERFLOW",
] as const;

/** One of the protocol's error codes. */
export type ErrorCode = typeof ERROR_CODES[number];

/** Codes carried by a {@linkcode LoraquantTypeError}. */
export type TypeErrorCode = "E_PARSE" | "E_OP" | "E_ARG" | "E_SHAPE";

/** Codes carried by a {@linkcode LoraquantRangeError}. */
export type RangeErrorCode = "E_LIMIT" | "E_RANGE" | "E_OVERFLOW";

/**
 * A wrong type, a missing or unknown argument, or shapes that disagree.
 *
 * @example Catching a shape error
 * ```ts
 * import { LoraquantTypeError } from "@loraquant/reference/errors";
 * import { assert } from "@std/assert";
 *
 * const error = new LoraquantTypeError("E_SHAPE", "Cannot multiply: a is 2×3 but b is 2×2");
 * assert(error instanceof TypeError);
 * assert(error.code === "E_SHAPE");
 * ```
 */
export class LoraquantTypeError extends TypeError {
  /** The protocol's error code. */
  readonly code: TypeErrorCode;
  /**
   * Creates the error.
   *
   * @param code The protocol's code.
   * @param message What went wrong, naming the argument and the value.
   */
  constructor(code: TypeErrorCode, message: string) {
    super(message);
    this.name = "LoraquantTypeError";
    this.code = code;
  }
}

/**
 * A value outside its domain, an integer overflow under `overflow: "error"`, or an input above
 * a documented limit.
 *
 * @example Catching an overflow
 * ```ts
 * import { LoraquantRangeError } from "@loraquant/reference/errors";
 * import { assert } from "@std/assert";
 *
 * const error = new LoraquantRangeError("E_OVERFLOW", "int8 127 + 127 = 254 does not fit");
 * assert(error instanceof RangeError);
 * assert(error.code === "E_OVERFLOW");
 * ```
 */
export class LoraquantRangeError extends RangeError {
  /** The protocol's error code. */
  readonly code: RangeErrorCode;
  /**
   * Creates the error.
   *
   * @param code The protocol's code.
   * @param message What went wrong, naming the argument, the value and the limit.
   */
  constructor(code: RangeErrorCode, message: string) {
    super(message);
    this.name = "LoraquantRangeError";
    this.code = code;
  }
}

/** Either of the two typed errors. */
export type LoraquantError = LoraquantTypeError | LoraquantRangeError;

/**
 * Tells whether a thrown value is one of this package's typed errors.
 *
 * @param error Anything caught.
 * @returns `true` for a {@linkcode LoraquantTypeError} or {@linkcode LoraquantRangeError}.
 *
 * @example
 * ```ts
 * import { isLoraquantError, LoraquantRangeError } from "@loraquant/reference/errors";
 * import { assert } from "@std/assert";
 *
 * assert(isLoraquantError(new LoraquantRangeError("E_RANGE", "scale must be > 0, got -1")));
 * assert(!isLoraquantError(new Error("other")));
 * ```
 */
export function isLoraquantError(error: unknown): error is LoraquantError {
  return error instanceof LoraquantTypeError || error instanceof LoraquantRangeError;
}

/**
 * A {@linkcode LoraquantTypeError} with code `E_ARG`: an argument is missing, of the wrong type,
 * an unknown enum value, or a refused combination. Returned, not thrown, so callers write
 * `throw argError(…)` and the type checker sees the control flow.
 *
 * @param message What is wrong and why, naming the argument.
 * @returns The error.
 *
 * @example
 * ```ts
 * import { argError } from "@loraquant/reference/errors";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(argError("rounding must be a rounding mode, got \"up\"").code, "E_ARG");
 * ```
 */
export function argError(message: string): LoraquantTypeError {
  return new LoraquantTypeError("E_ARG", message);
}

/**
 * A {@linkcode LoraquantTypeError} with code `E_SHAPE`: shapes or lengths disagree.
 *
 * @param message Which shapes, and what was expected.
 * @returns The error.
 *
 * @example
 * ```ts
 * import { shapeError } from "@loraquant/reference/errors";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(shapeError("b must be 3×r, got 2×1").code, "E_SHAPE");
 * ```
 */
export function shapeError(message: string): LoraquantTypeError {
  return new LoraquantTypeError("E_SHAPE", message);
}

/**
 * A {@linkcode LoraquantRangeError} with code `E_RANGE`: a value lies outside its domain.
 *
 * @param message Which value, its domain, and what it was.
 * @returns The error.
 *
 * @example
 * ```ts
 * import { rangeError } from "@loraquant/reference/errors";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(rangeError("scale must be > 0, got -1").code, "E_RANGE");
 * ```
 */
export function rangeError(message: string): LoraquantRangeError {
  return new LoraquantRangeError("E_RANGE", message);
}
