/**
 * Integer overflow on the number line: the exact result of `a + b` (or `a − b`, `a · b`) in int4,
 * int8 or int16, and where the wrap, saturate and widen rules put it.
 *
 * @module
 */
import { scaleLinear } from "d3-scale";
import { integerArithmetic } from "@loraquant/reference/integer";
import { integerDtype } from "@loraquant/reference/dtype";
import {
  argError,
  checkOptionalText,
  checkOptions,
  checkSize,
  checkText,
  rangeError,
  show,
} from "./_check.ts";
import { el, signed, svgDocument, text, textWidth, titleText } from "./_svg.ts";

/** The integer operations {@linkcode overflowLine} draws: a + b, a − b, a · b. */
export type OverflowLineFn = "add" | "sub" | "mul";

/** The visible texts of {@linkcode overflowLine}. */
export interface OverflowLineLabels {
  /** The exact (mathematical) result, e.g. `"exacto"`. */
  readonly exact: string;
  /** The two's-complement wrap, e.g. `"envolver (wrap)"`. */
  readonly wrap: string;
  /** The clamp to the dtype, e.g. `"saturar"`. */
  readonly saturate: string;
  /** The exact result in the wider accumulator, e.g. `"ampliar a int32"`. */
  readonly widen: string;
  /** The dtype's range, e.g. `"rango de int8"` (the bounds are appended). */
  readonly range: string;
}

/** Options of {@linkcode overflowLine}. */
export interface OverflowLineOptions {
  /** The left operand, an integer of the dtype. */
  readonly a: number;
  /** The right operand, an integer of the dtype. */
  readonly b: number;
  /** The dtype of the operands. */
  readonly dtype: "int4" | "int8" | "int16";
  /** The operation. @default {"add"} */
  readonly fn?: OverflowLineFn | undefined;
  /** The title above the line (also the SVG's `aria-label`). */
  readonly title?: string | undefined;
  /** The texts. */
  readonly labels: OverflowLineLabels;
  /** Width in px. @default {640} */
  readonly width?: number | undefined;
}

const SYMBOL: Readonly<Record<OverflowLineFn, string>> = { add: "+", sub: "−", mul: "·" };

const COLOR = {
  exact: "#333333",
  widen: "#3b7d2c",
  wrap: "#c0392b",
  saturate: "#d27200",
} as const;

/**
 * Draws `a ∘ b` in an integer dtype on a number line, an SVG string: the dtype's range as a band
 * (`<rect class="range">`, labelled `labels.range [min, max]`), and four markers
 * (`<g class="marker exact|wrap|saturate|widen" data-value="…">`) at the exact result and at the
 * results of the three overflow rules, all computed by `@loraquant/reference`'s
 * `integerArithmetic` (wrap: two's complement modulo 2^bits; saturate: clamp to [min, max];
 * widen: the exact result in the int32 accumulator). The exact result and widen sit above the
 * line, wrap and saturate below it.
 *
 * @param options The operands, dtype, operation, title, texts and width.
 * @returns A standalone `<svg>` element (`role="img"`, `aria-label` = the title).
 * @throws {TypeError} `E_ARG` for an unknown dtype or fn, or a missing label.
 * @throws {RangeError} `E_RANGE` when an operand is not an integer inside the dtype.
 *
 * @example int8 127 + 127
 * ```ts
 * import { overflowLine } from "@loraquant/notebook";
 * import { assertEquals } from "@std/assert";
 *
 * const svg = overflowLine({
 *   a: 127,
 *   b: 127,
 *   dtype: "int8",
 *   labels: { exact: "exact", wrap: "wrap", saturate: "saturate", widen: "widen", range: "int8" },
 * });
 * const at = (rule: string) => svg.match(new RegExp(`class="marker ${rule}" data-value="(-?\\d+)"`))?.[1];
 * assertEquals([at("exact"), at("wrap"), at("saturate"), at("widen")], ["254", "-2", "127", "254"]);
 * ```
 */
export function overflowLine(options: OverflowLineOptions): string {
  checkOptions(options, "overflowLine");
  const dtype = options.dtype;
  if (dtype !== "int4" && dtype !== "int8" && dtype !== "int16") {
    throw argError(`dtype must be "int4", "int8" or "int16", got ${show(dtype)}`);
  }
  const fn = options.fn ?? "add";
  if (fn !== "add" && fn !== "sub" && fn !== "mul") {
    throw argError(`fn must be "add", "sub" or "mul", got ${show(fn)}`);
  }
  const type = integerDtype(dtype);
  for (const [name, v] of [["a", options.a], ["b", options.b]] as const) {
    if (typeof v !== "number") throw argError(`${name} must be a number, got ${show(v)}`);
    if (!Number.isInteger(v) || v < Number(type.min) || v > Number(type.max)) {
      throw rangeError(
        `${name} must be an integer of ${dtype} [${type.min}, ${type.max}], got ${show(v)}`,
      );
    }
  }
  const { a, b } = options;
  const title = checkOptionalText(options.title, "title");
  const labels = options.labels;
  if (typeof labels !== "object" || labels === null) {
    throw argError(
      `labels must be { exact, wrap, saturate, widen, range }, got ${show(labels)}`,
    );
  }
  const names = {
    exact: checkText(labels.exact, "labels.exact"),
    wrap: checkText(labels.wrap, "labels.wrap"),
    saturate: checkText(labels.saturate, "labels.saturate"),
    widen: checkText(labels.widen, "labels.widen"),
    range: checkText(labels.range, "labels.range"),
  };
  const { width } = checkSize({ width: options.width });

  const rule = (overflow: "wrap" | "saturate" | "widen") =>
    integerArithmetic([a], [b], { fn, dtype, overflow });
  const widened = rule("widen");
  const exact = Number(widened.y[0]!); // "widen" returns the exact result
  const values = {
    exact,
    widen: exact,
    wrap: Number(rule("wrap").y[0]!),
    saturate: Number(rule("saturate").y[0]!),
  };
  const min = Number(type.min);
  const max = Number(type.max);
  const lo = Math.min(min, exact);
  const hi = Math.max(max, exact);
  const padding = (hi - lo) * 0.06;
  const pad = 24;
  const x = scaleLinear().domain([lo - padding, hi + padding]).range([pad, width - pad]);

  const hasTitle = title !== undefined && title !== "";
  const exprY = hasTitle ? 46 : 20;
  const lineY = exprY + 76;
  const height = lineY + 96;
  const parts: string[] = [titleText(title, width)];
  parts.push(text(
    { class: "expression", x: pad, y: exprY, "font-size": 13 },
    `${dtype}: ${signed(a)} ${SYMBOL[fn]} ${b < 0 ? `(${signed(b)})` : b}`,
  ));
  // The number line and its ticks.
  const axis: string[] = [
    el("line", { x1: pad, y1: lineY, x2: width - pad, y2: lineY, stroke: "#333" }),
  ];
  for (const t of x.ticks(Math.max(2, Math.floor(width / 80)))) {
    axis.push(el(
      "g",
      { class: "tick", "data-value": String(t) },
      el("line", { x1: x(t), y1: lineY, x2: x(t), y2: lineY + 5, stroke: "#333" }) +
        text({
          x: x(t),
          y: lineY + 17,
          "text-anchor": "middle",
          "font-size": 10,
          fill: "#555",
        }, signed(t)),
    ));
  }
  parts.push(el("g", { class: "axis x" }, axis.join("")));
  // The dtype's range.
  const rangeText = `${names.range} [${signed(min)}, ${signed(max)}]`;
  const rangeLeft = x(min);
  const rangeRight = x(max);
  parts.push(el(
    "g",
    { class: "range-group", "data-min": String(min), "data-max": String(max) },
    el("rect", {
      class: "range",
      x: rangeLeft,
      y: lineY - 6,
      width: rangeRight - rangeLeft,
      height: 12,
      fill: "#4e79a7",
      "fill-opacity": 0.18,
      stroke: "#4e79a7",
    }) +
      text({
        class: "range-label",
        x: rangeLeft + 2,
        y: lineY - 11,
        "font-size": 11,
        fill: "#2f5f98",
      }, rangeText),
  ));
  // The four markers: exact and widen above the line, wrap and saturate below.
  const rows = [
    ["exact", -30],
    ["widen", -56],
    ["wrap", 38],
    ["saturate", 64],
  ] as const;
  for (const [key, dy] of rows) {
    const v = values[key];
    const px = x(v);
    const label = `${names[key]}: ${signed(v)}`;
    const w = textWidth(label, 11);
    const toLeft = px + 6 + w > width - 4;
    const ty = lineY + dy + (dy < 0 ? 0 : 4);
    parts.push(el(
      "g",
      { class: `marker ${key}`, "data-value": String(v) },
      el("line", {
        x1: px,
        y1: lineY,
        x2: px,
        y2: lineY + dy,
        stroke: COLOR[key],
        "stroke-dasharray": dy > 0 ? "3 2" : undefined,
      }) +
        el("circle", { cx: px, cy: lineY, r: 4.5, fill: COLOR[key] }) +
        text({
          x: toLeft ? px - 6 : px + 6,
          y: ty,
          "text-anchor": toLeft ? "end" : "start",
          "font-size": 11,
          fill: COLOR[key],
          "font-weight": "600",
        }, label),
    ));
  }
  return svgDocument(
    "overflow-line",
    width,
    height,
    title ?? `${dtype} ${a} ${SYMBOL[fn]} ${b}`,
    parts.join(""),
  );
}
