/**
 * The numbers behind the lab's overflow playground: a + b in int8 or int16 under the three
 * overflow rules of the reference's `integerArithmetic` (wrap, saturate, widen), and the reading
 * of the two inputs, which reports a bad value instead of throwing.
 *
 * @module
 */
import { integerArithmetic } from "@loraquant/reference/integer";
import { INTEGER_TYPES } from "@loraquant/reference/dtype";

/** The dtypes the playground offers. */
export type PlaygroundDtype = "int8" | "int16";

/**
 * The inclusive range of a playground dtype, from the reference's integer type table.
 *
 * @param dtype int8 or int16.
 * @returns `[min, max]`.
 *
 * @example
 * ```ts
 * import { dtypeRange } from "./overflow_model.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(dtypeRange("int8"), [-128, 127]);
 * assertEquals(dtypeRange("int16"), [-(2 ** 15), 2 ** 15 - 1]);
 * ```
 */
export function dtypeRange(dtype: PlaygroundDtype): readonly [number, number] {
  const type = INTEGER_TYPES[dtype];
  return [Number(type.min), Number(type.max)];
}

/** An input read from a text field: the integer, or why it is not one of the dtype. */
export type Operand = { readonly ok: true; readonly value: number } | {
  readonly ok: false;
  readonly text: string;
};

/**
 * Reads one operand typed by the user: an integer (optional sign, decimal digits, surrounding
 * spaces allowed; a Unicode minus sign "−" accepted) inside the dtype's range.
 *
 * @param text What the field holds.
 * @param dtype The dtype whose range applies.
 * @returns `{ ok: true, value }`, or `{ ok: false, text }` for anything else (empty, 1.5, 1e3,
 * out of range).
 *
 * @example
 * ```ts
 * import { readOperand } from "./overflow_model.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(readOperand(" −12 ", "int8"), { ok: true, value: -12 });
 * assertEquals(readOperand("128", "int8"), { ok: false, text: "128" });
 * assertEquals(readOperand("128", "int16"), { ok: true, value: 128 });
 * assertEquals(readOperand("1.5", "int16").ok, false);
 * assertEquals(readOperand("", "int16").ok, false);
 * ```
 */
export function readOperand(text: string, dtype: PlaygroundDtype): Operand {
  const trimmed = text.trim().replace(/^\u2212/, "-");
  const [min, max] = dtypeRange(dtype);
  if (!/^[+-]?\d{1,6}$/.test(trimmed)) return { ok: false, text };
  const value = Number(trimmed);
  if (value < min || value > max) return { ok: false, text };
  return { ok: true, value: value + 0 }; // -0 → 0
}

/** a + b under each overflow rule. */
export interface OverflowOutcome {
  /** The exact sum. */
  readonly exact: number;
  /** Two's complement wrap-around into the dtype. */
  readonly wrap: number;
  /** The sum clamped to the dtype's range. */
  readonly saturate: number;
  /** The sum in the wider accumulator (int32 for int8 and int16): the exact sum. */
  readonly widen: number;
  /** Whether the exact sum lies outside the dtype. */
  readonly overflowed: boolean;
}

/**
 * Adds two integers of a dtype under wrap, saturate and widen (the reference's
 * `integerArithmetic` with `fn: "add"`, exact integer arithmetic, no rounding).
 *
 * @param a The left operand, an integer in the dtype.
 * @param b The right operand, an integer in the dtype.
 * @param dtype int8 or int16.
 * @returns The exact sum and each rule's result.
 * @throws {RangeError} When an operand is not an integer of the dtype (from the reference).
 *
 * @example int8 127 + 127
 * ```ts
 * import { addUnderEachRule } from "./overflow_model.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(addUnderEachRule(127, 127, "int8"), {
 *   exact: 254,
 *   wrap: -2,
 *   saturate: 127,
 *   widen: 254,
 *   overflowed: true,
 * });
 * ```
 */
export function addUnderEachRule(a: number, b: number, dtype: PlaygroundDtype): OverflowOutcome {
  const run = (overflow: "wrap" | "saturate" | "widen") =>
    integerArithmetic([a], [b], { fn: "add", dtype, overflow });
  const wrapped = run("wrap");
  const widened = run("widen");
  return {
    exact: a + b,
    wrap: Number(wrapped.y[0]!),
    saturate: Number(run("saturate").y[0]!),
    widen: Number(widened.y[0]!),
    overflowed: wrapped.overflowed[0]!,
  };
}
