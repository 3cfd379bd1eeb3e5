// The oracle's `cast` and `decode` ops (oracle-protocol.md, "cast", "decode").
import { argError, rangeError, show } from "../_fail.ts";
import { cast, decode, encode } from "../cast.ts";
import { FLOAT_FORMAT_NAMES, FLOAT_FORMATS } from "../format.ts";
import { encodeVector, readBoolean, readEnum, readVector } from "../protocol.ts";
import { ROUNDING_MODES } from "../rounding.ts";
import { checkSeed } from "../splitmix64.ts";
import type { OpHandler } from "./handler.ts";

/** `cast`: round each x[i] once to `format`; returns the values and their bit patterns. */
export const castOp: OpHandler = (request, context) => {
  const format = readEnum(request, "format", FLOAT_FORMAT_NAMES);
  const x = readVector(request, "x");
  const rounding = readEnum(request, "rounding", ROUNDING_MODES, "nearest-even");
  const saturate = readBoolean(request, "saturate", false);
  const seedValue = request["seed"];
  if (
    rounding === "stochastic" && (typeof seedValue !== "number" || !Number.isInteger(seedValue))
  ) {
    checkSeed(seedValue); // throws E_ARG naming the seed
  }
  context.checkLimit();
  const options = rounding === "stochastic"
    ? { rounding, saturate, seed: checkSeed(seedValue) }
    : { rounding, saturate };
  const y = cast(x, format, options);
  const bits = Array.from(y, (v) => {
    const b = encode(v, format);
    return typeof b === "bigint" ? "0x" + b.toString(16).padStart(16, "0") : b;
  });
  return { y: encodeVector(y), bits };
};

/** `decode`: the value of each bit pattern of `format`. */
export const decodeOp: OpHandler = (request, context) => {
  const format = readEnum(request, "format", FLOAT_FORMAT_NAMES);
  const raw = request["bits"];
  if (!Array.isArray(raw)) throw argError(`Missing or non-array argument "bits"`);
  const patterns: (number | bigint)[] = raw.map((b, i) => {
    if (format === "float64" && typeof b === "string" && /^0x[0-9a-fA-F]{1,16}$/.test(b)) {
      return BigInt(b);
    }
    if (typeof b !== "number") {
      throw argError(
        `bits[${i}] must be ${
          format === "float64" ? 'a "0x…" string of 16 hex digits or ' : ""
        }an unsigned integer, got ${JSON.stringify(b)}`,
      );
    }
    return b;
  });
  context.checkLimit();
  const width = FLOAT_FORMATS[format].bits;
  const y = patterns.map((b, i) => {
    const ok = typeof b === "bigint" ||
      (Number.isInteger(b) && b >= 0 && b < 2 ** width);
    if (!ok) {
      throw rangeError(`bits[${i}] = ${show(b)} is not a ${width}-bit pattern of ${format}`);
    }
    return decode(b, format);
  });
  return { y: encodeVector(y) };
};
