/**
 * Bar charts: one bar per label, or side-by-side bars per label and group.
 *
 * @module
 */
import { scaleBand } from "d3-scale";
import { format } from "d3-format";
import { legend, legendWidth, xAxisLabel, yAxis } from "./_axis.ts";
import {
  argError,
  checkDomain,
  checkFormat,
  checkOptionalText,
  checkScaled,
  checkScaleKind,
  checkText,
  rangeError,
  show,
} from "./_check.ts";
import {
  chartDocument,
  chartFrame,
  checkChart,
  groupColors,
  numericAxis,
  yTickCount,
} from "./_frame.ts";
import { el, text, textWidth } from "./_svg.ts";
import type { AxisScaleKind, ChartSize } from "./types.ts";

/** The part of d3's band scale used here (the pinned d3 packages ship no type declarations). */
interface BandScale {
  (v: string): number | undefined;
  bandwidth(): number;
}

/** One bar: its category label on the x axis, its value, and optionally its group (colour). */
export interface Bar {
  /** The category, written under the bar (bars of one label and several groups stand together). */
  readonly label: string;
  /** The bar's value (> 0 on a log scale). */
  readonly value: number;
  /** The group: one colour and one legend entry per group. */
  readonly group?: string | undefined;
}

/** Options of {@linkcode barChart}. */
export interface BarChartOptions extends ChartSize {
  /** The bars; labels keep their first-appearance order, and so do groups. */
  readonly bars: readonly Bar[];
  /** The title above the chart (also the SVG's `aria-label`). */
  readonly title?: string | undefined;
  /** The y axis label. */
  readonly yLabel: string;
  /** An x axis label under the categories. @default {none} */
  readonly xLabel?: string | undefined;
  /** The y scale; a log scale needs every value > 0 and draws bars up from its bottom. @default {"linear"} */
  readonly yScale?: AxisScaleKind | undefined;
  /** A fixed y domain [lo, hi]; by default the data's (with 0 on a linear scale), made nice. */
  readonly yDomain?: readonly [number, number] | undefined;
  /** A d3-format specifier: when given, each bar's value is printed on it (e.g. `".1%"`). */
  readonly valueFormat?: string | undefined;
  /** A d3-format specifier for the y tick labels. */
  readonly yTickFormat?: string | undefined;
}

/**
 * Draws a bar chart as an SVG string: one `<rect class="bar">` per bar (with `data-label`,
 * `data-value`, `data-group`), its height proportional to its value on a linear scale (from 0,
 * negative values downwards) or its log on a log scale (from the axis bottom); category labels
 * under the bars (slanted when they do not fit), a y axis with ticks and label, the title, the
 * values on the bars when `valueFormat` is given, and a legend when there is more than one group.
 *
 * @param options The bars, labels, scale and size.
 * @returns A standalone `<svg>` element (`role="img"`, `aria-label` = the title).
 * @throws {TypeError} `E_ARG` for a missing label, a wrong option type, a bad d3-format specifier
 * or a repeated (label, group) pair.
 * @throws {RangeError} `E_RANGE` for no bars, a non-finite value, a value ≤ 0 on a log scale, or a
 * bad `yDomain` or size.
 *
 * @example Grouped bars with their values printed
 * ```ts
 * import { barChart } from "@loraquant/notebook";
 * import { assertEquals, assertStringIncludes } from "@std/assert";
 *
 * const svg = barChart({
 *   bars: [
 *     { label: "r = 2", value: 0.89, group: "LoRA" },
 *     { label: "r = 2", value: 0.93, group: "full" },
 *     { label: "r = 8", value: 0.92, group: "LoRA" },
 *   ],
 *   yLabel: "accuracy",
 *   valueFormat: ".0%",
 * });
 * assertEquals(svg.match(/class="bar"/g)?.length, 3);
 * assertStringIncludes(svg, ">89%<");
 * ```
 */
export function barChart(options: BarChartOptions): string {
  const chart = checkChart(options, "barChart");
  const { width, height } = chart;
  const yLabel = checkText(options.yLabel, "yLabel");
  const xLabel = checkOptionalText(options.xLabel, "xLabel");
  const kind = checkScaleKind(options.yScale, "yScale");
  const yDomain = checkDomain(options.yDomain, kind, "yDomain");
  const valueFmt = checkFormat(options.valueFormat, "valueFormat", format);
  const yFmt = checkFormat(options.yTickFormat, "yTickFormat", format);
  if (!Array.isArray(options.bars)) {
    throw argError(`bars must be an array of { label, value }, got ${show(options.bars)}`);
  }
  const bars = options.bars as readonly Bar[];
  if (bars.length === 0) throw rangeError("barChart needs at least one bar in bars");
  const labels: string[] = [];
  const groups: string[] = [];
  const seen = new Set<string>();
  bars.forEach((b, i) => {
    if (typeof b !== "object" || b === null) {
      throw argError(`bars[${i}] must be { label, value }, got ${show(b)}`);
    }
    const label = checkText(b.label, `bars[${i}].label`);
    checkScaled(b.value, kind, `bars[${i}].value`);
    const group = checkOptionalText(b.group, `bars[${i}].group`) ?? "";
    const key = JSON.stringify([label, group]);
    if (seen.has(key)) {
      throw argError(`bars[${i}] repeats label ${show(label)} in group ${show(group)}`);
    }
    seen.add(key);
    if (!labels.includes(label)) labels.push(label);
    if (!groups.includes(group)) groups.push(group);
  });

  const { scale: y, ticks: yTicks } = numericAxis(
    { kind, domain: yDomain, format: yFmt, values: bars.map((b) => b.value), zero: true },
    yTickCount(height),
    chart.localize,
  );
  const { colors, items } = groupColors(groups, "rect");
  const lw = legendWidth(items, width);
  // Slant the category labels when the widest does not fit its band.
  const guess = (width - 80 - lw) / labels.length;
  const widest = Math.max(...labels.map((l) => textWidth(l, 11)));
  const slant = widest > guess - 6;
  const extraBottom = (slant ? Math.min(widest * 0.57, height * 0.3) - 4 : 0) +
    (xLabel === undefined ? -14 : 0);
  const frame = chartFrame(chart, yTicks, lw, extraBottom);
  y.range([frame.bottom, frame.top]);
  const x: BandScale = scaleBand().domain(labels).range([frame.left, frame.right]).padding(0.2);
  const inner: BandScale = scaleBand().domain(groups).range([0, x.bandwidth()]).padding(0.05);
  const base = kind === "log" ? frame.bottom : y(0);

  const parts: string[] = [];
  for (const b of bars) {
    const group = b.group ?? "";
    const x0 = x(b.label)! + inner(group)!;
    const top = y(b.value);
    const rectY = Math.min(top, base);
    const h = Math.abs(base - top);
    parts.push(el("rect", {
      class: "bar",
      x: x0,
      y: rectY,
      width: inner.bandwidth(),
      height: h,
      fill: colors.get(group)!,
      "data-label": b.label,
      "data-value": String(b.value),
      "data-group": b.group,
    }));
    if (valueFmt !== undefined) {
      const below = b.value < 0 && kind === "linear";
      parts.push(text({
        class: "value",
        x: x0 + inner.bandwidth() / 2,
        y: below ? rectY + h + 12 : rectY - 4,
        "text-anchor": "middle",
        "font-size": 10,
      }, chart.localize(valueFmt(b.value))));
    }
  }
  const axis: string[] = [
    el("line", { x1: frame.left, y1: base, x2: frame.right, y2: base, stroke: "#333" }),
  ];
  for (const label of labels) {
    const cx = x(label)! + x.bandwidth() / 2;
    const ty = frame.bottom + 16;
    axis.push(el(
      "g",
      { class: "tick", "data-value": label },
      text(
        slant
          ? {
            x: cx,
            y: ty,
            "text-anchor": "end",
            transform: `rotate(-35 ${Math.round(cx * 100) / 100} ${ty})`,
            "font-size": 11,
          }
          : { x: cx, y: ty, "text-anchor": "middle", "font-size": 11 },
        label,
      ),
    ));
  }
  if (xLabel !== undefined) {
    axis.push(xAxisLabel(frame, xLabel, height));
  }
  return chartDocument(
    "bar-chart",
    chart,
    yLabel,
    yAxis(y, yTicks, frame, yLabel) + el("g", { class: "bars" }, parts.join("")) +
      el("g", { class: "axis x" }, axis.join("")) + legend(items, frame),
  );
}
