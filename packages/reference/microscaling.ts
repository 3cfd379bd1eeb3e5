/**
 * OCP Microscaling (MX) v1.0 block formats: MXINT8, MXFP8 (e4m3, e5m2), MXFP6 (e2m3, e3m2) and
 * MXFP4 (oracle-protocol.md "block"; docs/semantics.md §7.3, eq. (25)).
 *
 * An MX block is 32 elements sharing one E8M0 scale X = 2^e (OCP Microscaling Formats (MX)
 * Specification v1.0, §5.4.1: the E8M0 scale is an 8-bit exponent with bias 127, 0xFF is NaN, no sign
 * and no mantissa); each element is stored in the element format, and the block's value i is
 * `X · P_i`. The spec's conversion (§6.3) picks `e = floor(log2(amax)) − emax_elem`
 * and casts each `V_i / X` to the element format, saturating; this module also offers the
 * `ceil`, `even` and `rceil` (NVIDIA) exponent rules the protocol names.
 *
 * @module
 */
import { argError, rangeError, show } from "./_fail.ts";
import { checkBlockLength, float32Inputs } from "./_block.ts";
import { exponentOf, pow2, roundMagnitude } from "./_exact.ts";
import { encode, roundToFormat } from "./cast.ts";
import { FLOAT_FORMATS, type FloatFormatName } from "./format.ts";
import { roundHalfToEven } from "./rounding.ts";

/** The MX formats, as the oracle protocol spells them. */
export const MX_FORMATS = [
  "mxint8",
  "mxfp8-e4m3",
  "mxfp8-e5m2",
  "mxfp6-e2m3",
  "mxfp6-e3m2",
  "mxfp4",
] as const;

/** An MX format name. */
export type MxFormat = typeof MX_FORMATS[number];

/** The rules that choose the shared exponent (see {@linkcode sharedExponent}). */
export const MX_SCALE_MODES = ["floor", "ceil", "even", "rceil"] as const;

/** A shared-exponent rule. */
export type MxScaleMode = typeof MX_SCALE_MODES[number];

/** The MX block size (OCP MX v1.0: k = 32 for every concrete format). */
export const MX_BLOCK_SIZE = 32;

/** The E8M0 byte of a NaN scale (OCP MX v1.0 §5.4.1). */
export const E8M0_NAN = 0xff;

/** What the scale rules need to know about an element format. */
interface Element {
  /** The float element format (absent for MXINT8). */
  float: FloatFormatName | null;
  /** emax_elem: the exponent of the largest power of two the element format holds. */
  emax: number;
  /** max_elem: the largest element magnitude. */
  max: number;
  /** Fraction bits the `even` rule rounds amax to. */
  fractionBits: number;
}

const ELEMENTS: Record<MxFormat, Element> = {
  // MXINT8: two's complement with an implied scale 2^−6, so its largest value is 127/64 and its
  // emax_elem 0 (OCP MX v1.0, MXINT8).
  "mxint8": { float: null, emax: 0, max: 127 / 64, fractionBits: 6 },
  "mxfp8-e4m3": element("fp8-e4m3"),
  "mxfp8-e5m2": element("fp8-e5m2"),
  "mxfp6-e2m3": element("fp6-e2m3"),
  "mxfp6-e3m2": element("fp6-e3m2"),
  "mxfp4": element("fp4-e2m1"),
};

function element(name: FloatFormatName): Element {
  const f = FLOAT_FORMATS[name];
  // e4m3 8 / 448, e5m2 15 / 57344, e2m3 2 / 7.5, e3m2 4 / 28, e2m1 2 / 6.
  return { float: name, emax: f.emax, max: f.max, fractionBits: f.mantissaBits };
}

/** Options of {@linkcode sharedExponent} and {@linkcode quantizeMx}. */
export interface MxOptions {
  /** The shared-exponent rule. @default {"floor"} */
  scaleMode?: MxScaleMode;
}

function checkFormat(format: string): MxFormat {
  if (!(MX_FORMATS as readonly string[]).includes(format)) {
    throw argError(
      `Unknown MX format ${
        JSON.stringify(typeof format === "number" ? show(format) : format)
      }; expected one of ${MX_FORMATS.join(", ")}`,
    );
  }
  return format as MxFormat;
}

function checkScaleMode(mode: unknown): MxScaleMode {
  if (typeof mode !== "string" || !(MX_SCALE_MODES as readonly string[]).includes(mode)) {
    throw argError(
      `Unknown scaleMode ${
        typeof mode === "number" ? show(mode) : JSON.stringify(mode)
      }; expected one of ${MX_SCALE_MODES.join(", ")}`,
    );
  }
  return mode as MxScaleMode;
}

/**
 * The shared exponent e of an MX block (X = 2^e) from the block's amax, exactly, clamped to
 * [−127, 127] (the E8M0 range; byte e + 127):
 * - `"floor"` (OCP MX v1.0 §6.3; eq. (25)): `e = floor(log2(amax)) − emax_elem`;
 * - `"ceil"`: `e = ceil(log2(amax)) − emax_elem`;
 * - `"even"`: `floor` applied to amax rounded (nearest-even, unbounded exponent) to the element
 *   format's fraction bits (e4m3 3, e5m2 2, e3m2 2, e2m3 3, e2m1 1, int8 6) — the rounding can
 *   carry amax up to the next power of two;
 * - `"rceil"` (NVIDIA): `e = ceil(log2(amax / max_elem))`, the smallest e with
 *   `max_elem · 2^e ≥ amax`, decided exactly (no float log2).
 * amax = 0 gives e = −127 (byte 0x00).
 *
 * @param amax The block's largest magnitude: finite and ≥ 0.
 * @param format The MX format (emax_elem: e4m3 8, e5m2 15, e3m2 4, e2m3 2, e2m1 2, int8 0;
 * max_elem: 448, 57344, 28, 7.5, 6, 127/64).
 * @param options The rule, `scaleMode` (default `"floor"`).
 * @returns The exponent e, an integer in [−127, 127].
 * @throws {LoraquantTypeError} `E_ARG` for an unknown format or rule.
 * @throws {LoraquantRangeError} `E_RANGE` for a negative, NaN or infinite amax.
 *
 * @example The four rules on amax = 7 with fp4-e2m1 elements
 * ```ts
 * import { sharedExponent } from "@loraquant/reference/microscaling";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(sharedExponent(7, "mxfp4"), 0); // floor(log2 7) − 2
 * assertEquals(sharedExponent(7, "mxfp4", { scaleMode: "ceil" }), 1);
 * assertEquals(sharedExponent(7, "mxfp4", { scaleMode: "even" }), 1); // 7 → 8 with 1 fraction bit
 * assertEquals(sharedExponent(7, "mxfp4", { scaleMode: "rceil" }), 1); // 7/6 → 2^1
 * ```
 */
export function sharedExponent(
  amax: number,
  format: MxFormat,
  options: MxOptions = {},
): number {
  const el = ELEMENTS[checkFormat(format)];
  const mode = checkScaleMode(options.scaleMode ?? "floor");
  if (!(amax >= 0 && Number.isFinite(amax))) {
    throw rangeError(`Cannot choose an MX scale: amax must be finite and >= 0, got ${show(amax)}`);
  }
  return exponentFor(amax, el, mode);
}

function exponentFor(amax: number, el: Element, mode: MxScaleMode): number {
  if (amax === 0) return -127;
  let e: number;
  switch (mode) {
    case "floor":
      e = exponentOf(amax) - el.emax;
      break;
    case "ceil": {
      const k = exponentOf(amax);
      e = (pow2(k) === amax ? k : k + 1) - el.emax;
      break;
    }
    case "even": {
      // Unbounded exponent: emin far below any float32 amax, so no subnormal step.
      const rounded = roundMagnitude(
        amax,
        { mantissaBits: el.fractionBits, emin: -1074 },
        "nearest-even",
        0,
      );
      e = exponentOf(rounded) - el.emax;
      break;
    }
    case "rceil": {
      // Smallest e with max_elem·2^e ≥ amax. max_elem has ≤ 7 significant bits and e stays in
      // [−160, 130], so max_elem·2^e is exact in float64 and the comparison is exact.
      e = exponentOf(amax) - exponentOf(el.max) - 1;
      while (el.max * pow2(e) < amax) e++;
      while (el.max * pow2(e - 1) >= amax) e--;
      break;
    }
  }
  return Math.min(127, Math.max(-127, e));
}

/** One quantized MX block. */
export interface MxBlock {
  /** The shared scale X = 2^e (NaN for a block holding NaN). */
  scale: number;
  /** The E8M0 byte: e + 127, or 0xFF (NaN). */
  scaleBits: number;
  /**
   * One code per element, in order: the element's bit pattern for the fp formats, the signed
   * integer k (−128..127) for MXINT8; 0 in a NaN block.
   */
  codes: number[];
}

/** The result of {@linkcode quantizeMx}. */
export interface MxQuantization {
  /** The blocks, in order. */
  blocks: MxBlock[];
  /** The dequantized vector: element value · X, exact (NaN throughout a NaN block). */
  y: Float64Array;
}

/**
 * Quantizes a vector to an OCP MX format (blocks of 32, one E8M0 scale per block), and
 * dequantizes it exactly.
 *
 * Per block of float32 values V: amax = max|V|; the scale X = 2^e with e from
 * {@linkcode sharedExponent}; each element is `roundToFormat(V / X)` nearest-even and SATURATING
 * (values beyond ±max_elem become ±max_elem; V / X is exact, X being a power of two), coded as its
 * bit pattern; a negative element that rounds to zero is −0 (sign bit set), as in `cast`. MXINT8
 * elements are `k = clamp(roundHalfEven(64·V/X), −128, 127)` (two's complement with an implied
 * scale 2⁻⁶, so k = 0 is +0). `y` is the element value times X, exact. A block holding NaN gets
 * the NaN scale (byte 0xFF), codes 0 and every y NaN (oracle-protocol.md "block"); other blocks are
 * unaffected.
 *
 * @param x The values; each is first rounded to float32 (nearest-even).
 * @param format The MX format.
 * @param options `scaleMode` (default `"floor"`).
 * @returns The blocks and the dequantized vector.
 * @throws {LoraquantTypeError} `E_ARG` for an unknown format or rule; `E_SHAPE` when the length
 * is not a multiple of 32.
 * @throws {LoraquantRangeError} `E_RANGE` when an input is ±Infinity or beyond float32's range
 * (NaN is allowed).
 *
 * @example MXFP4 with the OCP floor rule
 * ```ts
 * import { quantizeMx } from "@loraquant/reference/microscaling";
 * import { assertEquals } from "@std/assert";
 *
 * const x = new Array(32).fill(0);
 * x[0] = 7; // amax 7: e = floor(log2 7) − 2 = 0, X = 1
 * x[1] = -2.4; // → −2 (fp4-e2m1 0b1100)
 * const { blocks, y } = quantizeMx(x, "mxfp4");
 * assertEquals(blocks[0]!.scaleBits, 127);
 * assertEquals(blocks[0]!.codes.slice(0, 2), [0b0111, 0b1100]); // 7 saturates to 6
 * assertEquals([...y.slice(0, 2)], [6, -2]);
 * ```
 */
export function quantizeMx(
  x: ArrayLike<number>,
  format: MxFormat,
  options: MxOptions = {},
): MxQuantization {
  const el = ELEMENTS[checkFormat(format)];
  const mode = checkScaleMode(options.scaleMode ?? "floor");
  checkBlockLength(x.length, MX_BLOCK_SIZE, format);
  const v = float32Inputs(x, format, true); // (n) float32 inputs, NaN allowed
  const blocks: MxBlock[] = [];
  const y = new Float64Array(v.length); // (n)
  for (let start = 0; start < v.length; start += MX_BLOCK_SIZE) {
    const block = v.subarray(start, start + MX_BLOCK_SIZE); // (32)
    if (block.some(Number.isNaN)) {
      blocks.push({
        scale: NaN,
        scaleBits: E8M0_NAN,
        codes: new Array<number>(block.length).fill(0),
      });
      y.fill(NaN, start, start + MX_BLOCK_SIZE);
      continue;
    }
    let amax = 0;
    for (const value of block) amax = Math.max(amax, Math.abs(value));
    const e = exponentFor(amax, el, mode);
    const codes = Array.from(block, (value, j) => {
      // V / X = V · 2^−e: exact (|e| ≤ 127 keeps it far inside float64's range).
      const scaled = value * pow2(-e);
      if (el.float === null) {
        const k = Math.min(127, Math.max(-128, roundHalfToEven(64 * scaled)));
        const code = k === 0 ? 0 : k; // two's complement has one zero
        y[start + j] = (code / 64) * pow2(e); // exact
        return code;
      }
      const element = roundToFormat(scaled, el.float, { saturate: true });
      y[start + j] = element * pow2(e); // exact: a power-of-two scaling
      return encode(element, el.float) as number;
    });
    blocks.push({ scale: pow2(e), scaleBits: e + 127, codes });
  }
  return { blocks, y };
}
