// Private input checks shared by the figures. Each throws the reference's typed errors
// (TypeError E_ARG / E_SHAPE, RangeError E_RANGE) naming the argument and the offending value.
import { argError, rangeError, shapeError } from "@loraquant/reference/errors";
import type { AxisScaleKind, ChartSize, Matrix } from "./types.ts";

export { argError, rangeError, shapeError };

/** Prints a value for a message (`-0`, `NaN`, strings quoted). */
export function show(x: unknown): string {
  if (typeof x === "number") return Object.is(x, -0) ? "-0" : String(x);
  if (typeof x === "string") return JSON.stringify(x);
  if (typeof x === "bigint") return `${x}n`;
  return String(x);
}

/** Checks an options object. */
export function checkOptions(o: unknown, fn: string): void {
  if (typeof o !== "object" || o === null) {
    throw argError(`${fn}: options must be an object, got ${show(o)}`);
  }
}

/** Checks a required string (visible text). */
export function checkText(s: unknown, what: string): string {
  if (typeof s !== "string") throw argError(`${what} must be a string, got ${show(s)}`);
  return s;
}

/** Checks an optional string. */
export function checkOptionalText(s: unknown, what: string): string | undefined {
  return s === undefined ? undefined : checkText(s, what);
}

/** Checks a finite number. */
export function checkFinite(x: unknown, what: string): number {
  if (typeof x !== "number") throw argError(`${what} must be a number, got ${show(x)}`);
  if (!Number.isFinite(x)) throw rangeError(`${what} must be finite, got ${show(x)}`);
  return x;
}

/** Checks a finite number that a log scale can show (> 0). */
export function checkScaled(x: unknown, kind: AxisScaleKind, what: string): number {
  const v = checkFinite(x, what);
  if (kind === "log" && !(v > 0)) {
    throw rangeError(`${what} must be > 0 on a log scale, got ${show(v)}`);
  }
  return v;
}

/** Checks an axis scale name. */
export function checkScaleKind(k: unknown, what: string): AxisScaleKind {
  if (k === undefined) return "linear";
  if (k !== "linear" && k !== "log") {
    throw argError(`${what} must be "linear" or "log", got ${show(k)}`);
  }
  return k;
}

/** Checks an optional explicit domain [lo, hi] with lo < hi (both > 0 on a log scale). */
export function checkDomain(
  d: unknown,
  kind: AxisScaleKind,
  what: string,
): [number, number] | undefined {
  if (d === undefined) return undefined;
  if (!Array.isArray(d) || d.length !== 2) {
    throw argError(`${what} must be a pair [lo, hi], got ${show(d)}`);
  }
  const lo = checkScaled(d[0], kind, `${what}[0]`);
  const hi = checkScaled(d[1], kind, `${what}[1]`);
  if (!(lo < hi)) throw rangeError(`${what} must have lo < hi, got [${show(lo)}, ${show(hi)}]`);
  return [lo, hi];
}

/** Checks a chart size; returns width and height with their defaults (640×360). */
export function checkSize(o: ChartSize): { width: number; height: number } {
  const size = (v: unknown, def: number, what: string): number => {
    if (v === undefined) return def;
    const x = checkFinite(v, what);
    if (x < 80) throw rangeError(`${what} must be at least 80 px, got ${show(x)}`);
    return x;
  };
  return { width: size(o.width, 640, "width"), height: size(o.height, 360, "height") };
}

/** Checks an optional positive pixel size. */
export function checkPixels(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  const x = checkFinite(v, what);
  if (!(x > 0)) throw rangeError(`${what} must be > 0 px, got ${show(x)}`);
  return x;
}

/** Checks a matrix: positive integer shape, `rows · cols` finite entries. */
export function checkMatrix(m: unknown, what: string): Matrix {
  if (typeof m !== "object" || m === null) {
    throw argError(`${what} must be a matrix { rows, cols, data }, got ${show(m)}`);
  }
  const { rows, cols, data } = m as Matrix;
  for (const [name, v] of [["rows", rows], ["cols", cols]] as const) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
      throw shapeError(`${what}.${name} must be a positive integer, got ${show(v)}`);
    }
  }
  if (typeof data !== "object" || data === null || typeof data.length !== "number") {
    throw argError(`${what}.data must be an array of numbers, got ${show(data)}`);
  }
  if (data.length !== rows * cols) {
    throw shapeError(
      `${what} is ${rows}×${cols} but its data holds ${data.length} entries, not ${rows * cols}`,
    );
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw rangeError(
        `${what}.data[${i}] (row ${Math.floor(i / cols)}, column ${i % cols}) must be a finite ` +
          `number, got ${show(v)}`,
      );
    }
  }
  return m as Matrix;
}

/** Checks a d3-format specifier by trying it. */
export function checkFormat(
  spec: unknown,
  what: string,
  make: (s: string) => (n: number) => string,
): ((n: number) => string) | undefined {
  if (spec === undefined) return undefined;
  const s = checkText(spec, what);
  try {
    return make(s);
  } catch (e) {
    throw argError(`${what} must be a d3-format specifier, got ${show(s)}: ${String(e)}`);
  }
}
