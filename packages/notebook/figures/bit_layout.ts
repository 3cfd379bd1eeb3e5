/**
 * The bit fields of one value in a number format: sign, exponent and mantissa of a float, or the
 * two's-complement bits of an integer.
 *
 * @module
 */
import { decode, encode, roundToFormat } from "@loraquant/reference/cast";
import { FLOAT_FORMAT_NAMES, floatFormat, type FloatFormatName } from "@loraquant/reference/format";
import { integerDtype } from "@loraquant/reference/dtype";
import {
  argError,
  checkFinite,
  checkOptionalText,
  checkOptions,
  checkText,
  rangeError,
  show,
} from "./_check.ts";
import { el, num, signed, svgDocument, text, textWidth, titleText } from "./_svg.ts";

// The value comes from the reference's list (float64, its first, dropped); the type spells the
// names out because a public type may not name the reference's private-to-this-package types
// (`deno doc --lint`), and the assignment below stops compiling if the two ever disagree.
const [, ...DRAWN_FLOATS] = FLOAT_FORMAT_NAMES;

/** The formats {@linkcode bitLayout} draws: the reference's floats but float64, then integers. */
export const BIT_LAYOUT_FORMATS: readonly [
  "float32",
  "float16",
  "bfloat16",
  "fp8-e4m3",
  "fp8-e5m2",
  "fp6-e2m3",
  "fp6-e3m2",
  "fp4-e2m1",
  "int16",
  "int8",
  "int4",
] = [...DRAWN_FLOATS, "int16", "int8", "int4"];

/** A format {@linkcode bitLayout} draws. */
export type BitLayoutFormat = typeof BIT_LAYOUT_FORMATS[number];

/** The field names shown above the bits. */
export interface BitLayoutLabels {
  /** The sign bit of a float (e.g. `"signo"`). */
  readonly sign: string;
  /** The exponent field (e.g. `"exponente"`). */
  readonly exponent: string;
  /** The stored fraction (e.g. `"mantisa"`). */
  readonly mantissa: string;
  /** The bits of an integer (e.g. `"entero (complemento a dos)"`). */
  readonly integer: string;
}

/** Options of {@linkcode bitLayout}. */
export interface BitLayoutOptions {
  /** The format. */
  readonly format: BitLayoutFormat;
  /**
   * The value. A float format stores it rounded to nearest, ties to even, once (with the format's
   * overflow rule: ±Infinity, or NaN in fp8-e4m3); an integer format needs an integer in range.
   */
  readonly value: number;
  /** The title above the bits (also the SVG's `aria-label`). */
  readonly title?: string | undefined;
  /** The field names. */
  readonly labels: BitLayoutLabels;
}

type Field = "sign" | "exponent" | "mantissa" | "integer";

const FILL: Readonly<Record<Field, string>> = {
  sign: "#fcd9d9",
  exponent: "#d5e3f3",
  mantissa: "#d8efd2",
  integer: "#fde4c6",
};
const STROKE: Readonly<Record<Field, string>> = {
  sign: "#c0392b",
  exponent: "#2f5f98",
  mantissa: "#3b7d2c",
  integer: "#b35c00",
};

/** The bits (most significant first) and fields of a value, via the reference. */
function layout(
  format: BitLayoutFormat,
  value: number,
): {
  bits: number[];
  fields: { field: Field; from: number; to: number; note: string }[];
  lines: string[];
} {
  if (format === "int16" || format === "int8" || format === "int4") {
    const t = integerDtype(format);
    if (!Number.isInteger(value) || value < Number(t.min) || value > Number(t.max)) {
      throw rangeError(
        `value must be an integer of ${format} [${t.min}, ${t.max}], got ${show(value)}`,
      );
    }
    // Two's complement: the pattern is the value modulo 2^bits.
    const pattern = BigInt.asUintN(t.bits, BigInt(value));
    const bits = Array.from(
      { length: t.bits },
      (_, i) => Number((pattern >> BigInt(t.bits - 1 - i)) & 1n),
    );
    const terms = bits.flatMap((bit, i) =>
      bit === 1 ? [i === 0 ? -(2 ** (t.bits - 1)) : 2 ** (t.bits - 1 - i)] : []
    );
    const sum = terms.length === 0
      ? "0"
      : terms.map((w, i) => (i === 0 ? signed(w) : w < 0 ? `− ${-w}` : `+ ${w}`)).join(" ");
    return {
      bits,
      fields: [{ field: "integer", from: 0, to: t.bits, note: "" }],
      lines: [terms.length > 1 ? `${sum} = ${signed(value)}` : signed(value)],
    };
  }
  const f = floatFormat(format as FloatFormatName);
  const stored = roundToFormat(value, format as FloatFormatName);
  const pattern = encode(stored, format as Exclude<FloatFormatName, "float64">);
  const bits = Array.from(
    { length: f.bits },
    (_, i) => Math.floor(pattern / 2 ** (f.bits - 1 - i)) % 2,
  );
  const t = f.mantissaBits;
  const s = bits[0]!;
  const e = Math.floor(pattern / 2 ** t) % 2 ** f.exponentBits;
  const m = pattern % 2 ** t;
  const decoded = decode(pattern, format as FloatFormatName);
  const show2 = (x: number): string =>
    Number.isNaN(x) ? "NaN" : x === Infinity ? "∞" : x === -Infinity ? "−∞" : signed(x);
  let formula: string;
  if (Number.isNaN(decoded) || !Number.isFinite(decoded)) {
    formula = `e = ${e}, f = ${m} → ${show2(decoded)}`;
  } else if (e === 0) {
    formula = `(−1)^${s} × 2^(1 − ${f.bias}) × (0 + ${m}/${2 ** t}) = ${show2(decoded)}`;
  } else {
    formula = `(−1)^${s} × 2^(${e} − ${f.bias}) × (1 + ${m}/${2 ** t}) = ${show2(decoded)}`;
  }
  const lines = [formula];
  if (!Object.is(stored, value) && !(Number.isNaN(stored) && Number.isNaN(value))) {
    lines.push(`${show2(value)} → ${show2(stored)}`);
  }
  return {
    bits,
    fields: [
      { field: "sign", from: 0, to: 1, note: `s = ${s}` },
      { field: "exponent", from: 1, to: 1 + f.exponentBits, note: `e = ${e}` },
      { field: "mantissa", from: 1 + f.exponentBits, to: f.bits, note: `f = ${m}` },
    ],
    lines,
  };
}

/**
 * Draws the bits of one value in a format, an SVG string. A float format shows its sign,
 * exponent and mantissa fields (each bit a `<g class="bit sign|exponent|mantissa">` box holding
 * 0 or 1, most significant first, coloured by field), the field names from `labels`, each field's
 * value (`s`, `e`, `f`) and the decoding `(−1)^s × 2^(e − bias) × (1 + f/2^t)` of the stored value
 * (subnormals `(0 + f/2^t)·2^(1 − bias)`), plus `value → stored` when rounding changed it. An
 * integer format shows its two's-complement bits (`<g class="bit integer">`), each bit's weight
 * (−2^(n−1) for the top one) and their sum. The bit patterns come from `@loraquant/reference`
 * (`roundToFormat`, `encode`, `decode`, the format and dtype descriptors).
 *
 * @param options The format, value, title and field names.
 * @returns A standalone `<svg>` element (`role="img"`, `aria-label` = the title).
 * @throws {TypeError} `E_ARG` for an unknown format or a missing label.
 * @throws {RangeError} `E_RANGE` for an integer value that is not an integer inside the dtype, or
 * NaN into a format without NaN (fp6, fp4).
 *
 * @example float16 1.0 is 0 01111 0000000000
 * ```ts
 * import { bitLayout } from "@loraquant/notebook";
 * import { assertEquals } from "@std/assert";
 *
 * const svg = bitLayout({
 *   format: "float16",
 *   value: 1,
 *   labels: { sign: "signo", exponent: "exponente", mantissa: "mantisa", integer: "entero" },
 * });
 * const bits = [...svg.matchAll(/data-bit="([01])"/g)].map((m) => m[1]).join("");
 * assertEquals(bits, "0011110000000000");
 * ```
 */
export function bitLayout(options: BitLayoutOptions): string {
  checkOptions(options, "bitLayout");
  const format = options.format;
  if (!(BIT_LAYOUT_FORMATS as readonly unknown[]).includes(format)) {
    throw argError(
      `format must be one of ${BIT_LAYOUT_FORMATS.join(", ")}, got ${show(format)}`,
    );
  }
  const value = options.value;
  if (typeof value !== "number") throw argError(`value must be a number, got ${show(value)}`);
  if (format.startsWith("int")) checkFinite(value, "value");
  const title = checkOptionalText(options.title, "title");
  const labels = options.labels;
  if (typeof labels !== "object" || labels === null) {
    throw argError(`labels must be { sign, exponent, mantissa, integer }, got ${show(labels)}`);
  }
  const names: Record<Field, string> = {
    sign: checkText(labels.sign, "labels.sign"),
    exponent: checkText(labels.exponent, "labels.exponent"),
    mantissa: checkText(labels.mantissa, "labels.mantissa"),
    integer: checkText(labels.integer, "labels.integer"),
  };
  const { bits, fields, lines } = layout(format, value);
  const n = bits.length;
  const cell = n <= 8 ? 32 : n <= 16 ? 26 : 20;
  const gap = 6;
  const pad = 28;
  const isInt = fields.length === 1;
  const rowW = n * cell + (fields.length - 1) * gap;
  const linesW = Math.max(...lines.map((l) => textWidth(l, 13)));
  const titleW = title === undefined ? 0 : textWidth(title, 14);
  const width = Math.ceil(Math.max(rowW + 2 * pad, linesW + 2 * pad, titleW + 2 * pad));
  const x0 = (width - rowW) / 2;
  const hasTitle = title !== undefined && title !== "";
  // Field names: a second row when a name is wider than its field (fp4, fp6, the sign bit).
  const fieldX = (i: number): number => x0 + i * cell + (fields.findIndex((f) => f.to > i)) * gap;
  const tooWide = fields.some((f) => textWidth(names[f.field], 12) > (f.to - f.from) * cell + gap);
  const nameTop = hasTitle ? 44 : 18;
  const bracketY = nameTop + (tooWide ? 30 : 14);
  const indexY = bracketY + 14;
  const boxY = indexY + 6;
  const noteY = boxY + cell + 18;
  const linesY = noteY + 28;
  const height = linesY + lines.length * 20 + 6;

  const parts: string[] = [titleText(title, width)];
  fields.forEach((f, k) => {
    const left = fieldX(f.from);
    const right = fieldX(f.to - 1) + cell;
    const cx = (left + right) / 2;
    const row = tooWide && k % 2 === 1 ? 1 : 0;
    parts.push(el(
      "g",
      { class: `field ${f.field}` },
      text({
        class: `field-label ${f.field}`,
        x: cx,
        y: nameTop + row * 16,
        "text-anchor": "middle",
        fill: STROKE[f.field],
        "font-weight": "600",
      }, names[f.field]) +
        el("path", {
          d: `M${num(left + 1)},${bracketY + 5}V${bracketY}H${num(right - 1)}V${bracketY + 5}`,
          fill: "none",
          stroke: STROKE[f.field],
        }) +
        (f.note === ""
          ? ""
          : text({ class: "field-value", x: cx, y: noteY, "text-anchor": "middle" }, f.note)),
    ));
  });
  bits.forEach((bit, i) => {
    const field = fields.find((f) => i >= f.from && i < f.to)!.field;
    const x = fieldX(i);
    const index = n - 1 - i;
    let body = el("rect", {
      x,
      y: boxY,
      width: cell - 2,
      height: cell - 2,
      rx: 3,
      fill: FILL[field],
      stroke: STROKE[field],
    }) +
      text({
        x: x + (cell - 2) / 2,
        y: boxY + cell / 2 + 4,
        "text-anchor": "middle",
        "font-family": "ui-monospace, Menlo, Consolas, monospace",
        "font-size": cell <= 20 ? 12 : 15,
      }, String(bit)) +
      text({
        class: "bit-index",
        x: x + (cell - 2) / 2,
        y: indexY,
        "text-anchor": "middle",
        "font-size": 9,
        fill: "#777",
      }, String(index));
    if (isInt) {
      const weight = i === 0 ? signed(-(2 ** index)) : String(2 ** index);
      body += text({
        class: "bit-weight",
        x: x + (cell - 2) / 2,
        y: noteY,
        "text-anchor": "middle",
        "font-size": weight.length > 3 ? 8 : 10,
        fill: "#555",
      }, weight);
    }
    parts.push(el(
      "g",
      { class: `bit ${field}`, "data-index": String(index), "data-bit": String(bit) },
      body,
    ));
  });
  lines.forEach((l, i) => {
    parts.push(text({
      class: i === 0 ? "decoding" : "rounding",
      x: width / 2,
      y: linesY + i * 20,
      "text-anchor": "middle",
      "font-size": 13,
    }, l));
  });
  return svgDocument("bit-layout", width, height, title ?? `${format} ${value}`, parts.join(""));
}
