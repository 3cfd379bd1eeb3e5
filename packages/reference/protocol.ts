/**
 * The JSON encoding of the oracle protocol (`oracle-protocol.md`, "Encodings"): numbers with
 * `"NaN"`, `"Infinity"`, `"-Infinity"`, `"-0"` as strings; vectors as arrays; matrices as
 * `{"shape": [rows, cols], "data": [...]}`; integers above 2^53 as decimal strings. Readers
 * throw `E_ARG` for a malformed argument; the row-count check of a matrix (`E_SHAPE`) is a
 * separate step, {@linkcode checkMatrix}, so that every `E_ARG` of a request is found first.
 *
 * @module
 */
import { argError, shapeError } from "./_fail.ts";
import type { Matrix } from "./matrix.ts";

/** A parsed request: a JSON object. */
export type Request = Record<string, unknown>;

/** A JSON value as results are built. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const SPECIAL: Record<string, number> = {
  "NaN": NaN,
  "Infinity": Infinity,
  "-Infinity": -Infinity,
  "-0": -0,
};

/**
 * Decodes one protocol number: a JSON number or one of the strings `"NaN"`, `"Infinity"`,
 * `"-Infinity"`, `"-0"`.
 *
 * @param value The JSON value.
 * @param what Where it was found, for the error message (`"x[3]"`).
 * @returns The float64.
 * @throws {LoraquantTypeError} `E_ARG` for anything else.
 *
 * @example
 * ```ts
 * import { decodeNumber } from "@loraquant/reference/protocol";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(decodeNumber("-0", "x[0]"), -0);
 * assertEquals(decodeNumber(1.5, "x[1]"), 1.5);
 * ```
 */
export function decodeNumber(value: unknown, what: string): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value in SPECIAL) return SPECIAL[value]!;
  throw argError(
    `${what} must be a number or one of "NaN", "Infinity", "-Infinity", "-0", got ${
      describe(value)
    }`,
  );
}

/**
 * Encodes one float64 as the protocol writes it: a JSON number when finite and not −0, else the
 * matching string.
 *
 * @param x The float64.
 * @returns A number, or `"NaN"`, `"Infinity"`, `"-Infinity"`, `"-0"`.
 *
 * @example
 * ```ts
 * import { encodeNumber } from "@loraquant/reference/protocol";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals([1, -0, NaN, -Infinity].map(encodeNumber), [1, "-0", "NaN", "-Infinity"]);
 * ```
 */
export function encodeNumber(x: number): number | string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (Object.is(x, -0)) return "-0";
  return x;
}

/**
 * Encodes an integer result: a JSON number up to 2^53 in magnitude, a decimal string above.
 *
 * @param x An integer (number or bigint).
 * @returns A number, or a decimal string for |x| > 2^53.
 *
 * @example
 * ```ts
 * import { encodeInteger } from "@loraquant/reference/protocol";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(encodeInteger(2n ** 62n), "4611686018427387904");
 * assertEquals(encodeInteger(-5n), -5);
 * ```
 */
export function encodeInteger(x: number | bigint): number | string {
  const big = BigInt(x);
  const limit = 2n ** 53n;
  if (big > limit || big < -limit) return big.toString();
  return Number(big);
}

/**
 * Encodes a vector of float64.
 *
 * @param x The values.
 * @returns A JSON array of {@linkcode encodeNumber} values.
 *
 * @example
 * ```ts
 * import { encodeVector } from "@loraquant/reference/protocol";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(encodeVector([0.5, -0]), [0.5, "-0"]);
 * ```
 */
export function encodeVector(x: ArrayLike<number>): (number | string)[] {
  return Array.from(x, encodeNumber);
}

/**
 * Encodes a matrix as `{"shape": [rows, cols], "data": [...]}`.
 *
 * @param m The matrix.
 * @returns The JSON object.
 *
 * @example
 * ```ts
 * import { encodeMatrix } from "@loraquant/reference/protocol";
 * import { matrix } from "@loraquant/reference/matrix";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(encodeMatrix(matrix([1, 2], [1, NaN])), { shape: [1, 2], data: [1, "NaN"] });
 * ```
 */
export function encodeMatrix(
  m: { rows: number; cols: number; data: ArrayLike<number> },
): { shape: [number, number]; data: (number | string)[] } {
  return { shape: [m.rows, m.cols], data: encodeVector(m.data) };
}

/**
 * Reads a required or optional vector argument.
 *
 * @param request The request.
 * @param name The argument's name.
 * @param options `optional: true` returns `undefined` when the argument is absent.
 * @returns The decoded vector.
 * @throws {LoraquantTypeError} `E_ARG` when missing (and required), not an array, or an element is
 * not a protocol number.
 *
 * @example
 * ```ts
 * import { readVector } from "@loraquant/reference/protocol";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals([...readVector({ x: [1, "NaN"] }, "x")], [1, NaN]);
 * ```
 */
export function readVector(request: Request, name: string): Float64Array;
/**
 * Reads an optional vector argument.
 *
 * @param request The request.
 * @param name The argument's name.
 * @param options `optional: true`.
 * @returns The decoded vector, or `undefined` when absent.
 */
export function readVector(
  request: Request,
  name: string,
  options: { optional: true },
): Float64Array | undefined;
export function readVector(
  request: Request,
  name: string,
  options: { optional?: boolean } = {},
): Float64Array | undefined {
  const value = request[name];
  if (value === undefined) {
    if (options.optional) return undefined;
    throw argError(`Missing argument "${name}" (a vector of numbers)`);
  }
  return decodeVector(value, name);
}

/**
 * Decodes a JSON value that must be a vector of protocol numbers.
 *
 * @param value The JSON value.
 * @param name The argument's name, for messages.
 * @returns The decoded vector.
 * @throws {LoraquantTypeError} `E_ARG` when not an array of protocol numbers.
 *
 * @example
 * ```ts
 * import { decodeVector } from "@loraquant/reference/protocol";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals([...decodeVector(["-Infinity", 2], "x")], [-Infinity, 2]);
 * ```
 */
export function decodeVector(value: unknown, name: string): Float64Array {
  if (!Array.isArray(value)) {
    throw argError(`Argument "${name}" must be an array of numbers, got ${describe(value)}`);
  }
  const out = new Float64Array(value.length);
  for (let i = 0; i < value.length; i++) out[i] = decodeNumber(value[i], `${name}[${i}]`);
  return out;
}

/** A matrix as read, before its element count is checked against its shape. */
export interface RawMatrix {
  /** The declared rows. */
  readonly rows: number;
  /** The declared columns. */
  readonly cols: number;
  /** The elements as given. */
  readonly data: Float64Array;
}

/**
 * Reads a required or optional matrix argument `{"shape": [rows, cols], "data": [...]}`, without
 * checking `data.length` (see {@linkcode checkMatrix}).
 *
 * @param request The request.
 * @param name The argument's name.
 * @param options `optional: true` returns `undefined` when absent.
 * @returns The raw matrix.
 * @throws {LoraquantTypeError} `E_ARG` when missing (and required), not an object, `shape` is not
 * two non-negative integers, or `data` is not an array of protocol numbers.
 *
 * @example
 * ```ts
 * import { checkMatrix, readMatrix } from "@loraquant/reference/protocol";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const raw = readMatrix({ a: { shape: [1, 2], data: [1, 2, 3] } }, "a");
 * assertEquals(raw.rows, 1);
 * assertThrows(() => checkMatrix(raw, "a"), TypeError); // E_SHAPE: 3 ≠ 1·2
 * ```
 */
export function readMatrix(request: Request, name: string): RawMatrix;
/**
 * Reads an optional matrix argument, without checking its element count.
 *
 * @param request The request.
 * @param name The argument's name.
 * @param options `optional: true`.
 * @returns The raw matrix, or `undefined` when absent.
 */
export function readMatrix(
  request: Request,
  name: string,
  options: { optional: true },
): RawMatrix | undefined;
export function readMatrix(
  request: Request,
  name: string,
  options: { optional?: boolean } = {},
): RawMatrix | undefined {
  const value = request[name];
  if (value === undefined) {
    if (options.optional) return undefined;
    throw argError(`Missing argument "${name}" (a matrix {"shape": [rows, cols], "data": [...]})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw argError(
      `Argument "${name}" must be a matrix {"shape": [rows, cols], "data": [...]}, got ${
        describe(value)
      }`,
    );
  }
  const { shape, data } = value as { shape?: unknown; data?: unknown };
  if (
    !Array.isArray(shape) || shape.length !== 2 ||
    !shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)
  ) {
    throw argError(
      `${name}.shape must be [rows, cols] with non-negative integers, got ${describe(shape)}`,
    );
  }
  return {
    rows: shape[0] as number,
    cols: shape[1] as number,
    data: decodeVector(data, `${name}.data`),
  };
}

/**
 * Checks that a raw matrix holds rows·cols elements.
 *
 * @param raw The matrix as read.
 * @param name The argument's name, for messages.
 * @returns The same data as a {@linkcode Matrix}.
 * @throws {LoraquantTypeError} `E_SHAPE` when `data.length ≠ rows · cols`.
 *
 * @example
 * ```ts
 * import { checkMatrix } from "@loraquant/reference/protocol";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(checkMatrix({ rows: 1, cols: 1, data: new Float64Array([3]) }, "m").rows, 1);
 * ```
 */
export function checkMatrix(raw: RawMatrix, name: string): Matrix {
  if (raw.data.length !== raw.rows * raw.cols) {
    throw shapeError(
      `${name} has shape [${raw.rows}, ${raw.cols}] but ${raw.data.length} elements (expected ${
        raw.rows * raw.cols
      })`,
    );
  }
  return { rows: raw.rows, cols: raw.cols, data: raw.data };
}

/**
 * Reads an enumerated string argument.
 *
 * @param request The request.
 * @param name The argument's name.
 * @param values The allowed values.
 * @param fallback The default when absent; without one the argument is required.
 * @returns The value.
 * @throws {LoraquantTypeError} `E_ARG` when missing (and required), not a string, or unknown.
 *
 * @example
 * ```ts
 * import { readEnum } from "@loraquant/reference/protocol";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(readEnum({}, "scheme", ["symmetric", "asymmetric"], "symmetric"), "symmetric");
 * ```
 */
export function readEnum<T extends string>(
  request: Request,
  name: string,
  values: readonly T[],
  fallback?: T,
): T {
  const value = request[name];
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw argError(`Missing argument "${name}" (one of ${values.join(", ")})`);
  }
  if (typeof value !== "string" || !(values as readonly string[]).includes(value)) {
    throw argError(
      `Argument "${name}" must be one of ${values.join(", ")}, got ${describe(value)}`,
    );
  }
  return value as T;
}

/**
 * Reads a boolean argument.
 *
 * @param request The request.
 * @param name The argument's name.
 * @param fallback The default when absent.
 * @returns The value.
 * @throws {LoraquantTypeError} `E_ARG` when present and not a boolean.
 *
 * @example
 * ```ts
 * import { readBoolean } from "@loraquant/reference/protocol";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(readBoolean({ saturate: true }, "saturate", false), true);
 * ```
 */
export function readBoolean(request: Request, name: string, fallback: boolean): boolean {
  const value = request[name];
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw argError(`Argument "${name}" must be true or false, got ${describe(value)}`);
  }
  return value;
}

/**
 * Reads an integer argument (a count, size, axis or seed): a JSON number with no fractional part.
 *
 * @param request The request.
 * @param name The argument's name.
 * @param fallback The default when absent; without one the argument is required.
 * @returns The integer.
 * @throws {LoraquantTypeError} `E_ARG` when missing (and required) or not an integer.
 *
 * @example
 * ```ts
 * import { readInteger } from "@loraquant/reference/protocol";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * assertEquals(readInteger({ rank: 4 }, "rank"), 4);
 * assertThrows(() => readInteger({ rank: 1.5 }, "rank"), TypeError);
 * ```
 */
export function readInteger(request: Request, name: string, fallback?: number): number {
  const value = request[name];
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw argError(`Missing argument "${name}" (an integer)`);
  }
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw argError(`Argument "${name}" must be an integer, got ${describe(value)}`);
  }
  return value;
}

/**
 * Reads a required or optional scalar number argument (protocol numbers, the four strings too).
 *
 * @param request The request.
 * @param name The argument's name.
 * @param fallback The default when absent; without one the argument is required.
 * @returns The float64.
 * @throws {LoraquantTypeError} `E_ARG` when missing (and required) or not a protocol number.
 *
 * @example
 * ```ts
 * import { readNumber } from "@loraquant/reference/protocol";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(readNumber({ alpha: 16 }, "alpha"), 16);
 * assertEquals(readNumber({}, "eps", 1e-5), 1e-5);
 * ```
 */
export function readNumber(request: Request, name: string, fallback?: number): number {
  const value = request[name];
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw argError(`Missing argument "${name}" (a number)`);
  }
  return decodeNumber(value, `Argument "${name}"`);
}

/** A short description of a JSON value for error messages (never the whole of a large array). */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  const text = JSON.stringify(value);
  return text.length > 60 ? text.slice(0, 57) + "..." : text;
}
