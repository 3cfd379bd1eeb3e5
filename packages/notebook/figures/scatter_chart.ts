/**
 * Scatter charts: labelled points, coloured by group, over linear or log axes.
 *
 * @module
 */
import { legend, legendWidth } from "./_axis.ts";
import { argError, checkOptionalText, checkScaled, rangeError, show } from "./_check.ts";
import {
  axesLabel,
  chartDocument,
  checkXYChart,
  groupColors,
  pointLabel,
  xyAxes,
  xyPlot,
} from "./_frame.ts";
import { placeLabels } from "./_labels.ts";
import { el } from "./_svg.ts";
import type { AxisScaleKind, ChartSize } from "./types.ts";

/** One point of a scatter chart. */
export interface ScatterPoint {
  /** Its x coordinate (> 0 on a log axis). */
  readonly x: number;
  /** Its y coordinate (> 0 on a log axis). */
  readonly y: number;
  /** A short text beside it. */
  readonly label?: string | undefined;
  /** Its group: one colour and one legend entry per group. */
  readonly group?: string | undefined;
}

/** Options of {@linkcode scatterChart}. */
export interface ScatterChartOptions extends ChartSize {
  /** The points. */
  readonly points: readonly ScatterPoint[];
  /** The title above the chart (also the SVG's `aria-label`). */
  readonly title?: string | undefined;
  /** The x axis label. */
  readonly xLabel: string;
  /** The y axis label. */
  readonly yLabel: string;
  /** The x scale. @default {"linear"} */
  readonly xScale?: AxisScaleKind | undefined;
  /** The y scale. @default {"linear"} */
  readonly yScale?: AxisScaleKind | undefined;
  /** A fixed x domain (points outside are drawn at its edge). */
  readonly xDomain?: readonly [number, number] | undefined;
  /** A fixed y domain (points outside are drawn at its edge). */
  readonly yDomain?: readonly [number, number] | undefined;
  /** A d3-format specifier for the x tick labels (e.g. `"~s"`). */
  readonly xTickFormat?: string | undefined;
  /** A d3-format specifier for the y tick labels (e.g. `".0%"`). */
  readonly yTickFormat?: string | undefined;
}

/**
 * Draws a scatter chart as an SVG string: one `<circle class="point">` per point (`data-group`),
 * coloured by group, its label beside it (`<text class="point-label">`, placed so that labels do
 * not overlap where a free spot exists), axes with ticks and labels (a log axis labels its powers
 * of ten), the title, and a legend when there is more than one group.
 *
 * @param options The points, labels, scales and size.
 * @returns A standalone `<svg>` element (`role="img"`, `aria-label` = the title).
 * @throws {TypeError} `E_ARG` for a missing axis label or a wrong option type.
 * @throws {RangeError} `E_RANGE` for no points, a non-finite coordinate, a coordinate ≤ 0 on a
 * log axis, or a bad domain or size.
 *
 * @example Accuracy against bytes, log x
 * ```ts
 * import { scatterChart } from "@loraquant/notebook";
 * import { assertEquals, assertStringIncludes } from "@std/assert";
 *
 * const svg = scatterChart({
 *   points: [
 *     { x: 4e5, y: 0.89, label: "float32" },
 *     { x: 1e5, y: 0.89, label: "int8" },
 *     { x: 5e4, y: 0.87, label: "mxfp4" },
 *   ],
 *   xLabel: "bytes",
 *   yLabel: "accuracy",
 *   xScale: "log",
 * });
 * assertEquals(svg.match(/class="point"/g)?.length, 3);
 * assertStringIncludes(svg, ">mxfp4<");
 * ```
 */
export function scatterChart(options: ScatterChartOptions): string {
  const chart = checkXYChart(options, "scatterChart", true);
  if (!Array.isArray(options.points)) {
    throw argError(`points must be an array of { x, y }, got ${show(options.points)}`);
  }
  const points = options.points as readonly ScatterPoint[];
  if (points.length === 0) throw rangeError("scatterChart needs at least one point in points");
  const groups: string[] = [];
  points.forEach((p, i) => {
    if (typeof p !== "object" || p === null) {
      throw argError(`points[${i}] must be { x, y }, got ${show(p)}`);
    }
    checkScaled(p.x, chart.x.kind, `points[${i}].x`);
    checkScaled(p.y, chart.y.kind, `points[${i}].y`);
    checkOptionalText(p.label, `points[${i}].label`);
    const g = checkOptionalText(p.group, `points[${i}].group`) ?? "";
    if (!groups.includes(g)) groups.push(g);
  });
  const { colors, items } = groupColors(groups, "point");
  const plot = xyPlot(
    chart,
    { ...chart.x, values: points.map((p) => p.x) },
    { ...chart.y, values: points.map((p) => p.y) },
    legendWidth(items, chart.width),
  );
  const { x, y, frame } = plot;
  // Keep points off the axes: a small inset on each side, unless the domain is fixed.
  if (chart.x.domain === undefined) x.range([frame.left + 10, frame.right - 10]);
  if (chart.y.domain === undefined) y.range([frame.bottom - 8, frame.top + 8]);
  const pixels = points.map((p) => ({ x: x(p.x), y: y(p.y) }));
  const labelled = points.flatMap((p, i) =>
    p.label === undefined ? [] : [{ ...pixels[i]!, text: p.label }]
  );
  const placed = placeLabels(labelled, 10, frame, pixels);
  let next = 0;
  const parts = points.map((p, i) => {
    const color = colors.get(p.group ?? "")!;
    let out = el("circle", {
      class: "point",
      cx: pixels[i]!.x,
      cy: pixels[i]!.y,
      r: 4,
      fill: color,
      "data-group": p.group,
    });
    if (p.label !== undefined) {
      const at = placed[next++]!;
      out += pointLabel(at, color, p.label);
    }
    return out;
  });
  return chartDocument(
    "scatter-chart",
    chart,
    axesLabel(chart),
    xyAxes(plot, chart) + el("g", { class: "points" }, parts.join("")) + legend(items, frame),
  );
}
