// Integer helpers shared by integer.ts and matmul.ts (oracle-protocol.md "int", "matmul").
import { rangeError, show } from "./_fail.ts";
import type { IntegerType } from "./dtype.ts";

/**
 * Checks that a value is an integer inside an integer type and returns it as a bigint.
 *
 * @param value The value (number or bigint).
 * @param type The integer type.
 * @param what The element's name for the message (`"a[3]"`).
 * @returns The value as a bigint.
 * @throws {LoraquantRangeError} `E_RANGE` when it is not an integer or lies outside the type.
 */
export function checkIntegerValue(value: number | bigint, type: IntegerType, what: string): bigint {
  if (typeof value === "number" && !Number.isInteger(value)) {
    throw rangeError(`${what} must be an integer of ${type.name}, got ${show(value)}`);
  }
  const big = BigInt(value);
  if (big < type.min || big > type.max) {
    throw rangeError(
      `${what} = ${show(value)} lies outside ${type.name} [${type.min}, ${type.max}]`,
    );
  }
  return big;
}

/**
 * Maps an exact integer into a type: `"wrap"` two's complement modulo 2^bits (unsigned types into
 * [0, 2^bits)), `"saturate"` clamp to [min, max]. Values already inside are unchanged.
 */
export function applyOverflow(
  exact: bigint,
  type: IntegerType,
  overflow: "wrap" | "saturate",
): bigint {
  if (overflow === "wrap") {
    return type.signed ? BigInt.asIntN(type.bits, exact) : BigInt.asUintN(type.bits, exact);
  }
  return exact < type.min ? type.min : exact > type.max ? type.max : exact;
}
