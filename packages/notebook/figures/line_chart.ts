/**
 * Line charts: one or more named series over linear or log axes.
 *
 * @module
 */
import { line } from "d3-shape";
import { legend, type LegendItem, legendWidth } from "./_axis.ts";
import {
  argError,
  checkOptionalText,
  checkScaled,
  checkText,
  rangeError,
  shapeError,
  show,
} from "./_check.ts";
import { axesLabel, chartDocument, checkXYChart, pointLabel, xyAxes, xyPlot } from "./_frame.ts";
import { placeLabels } from "./_labels.ts";
import { el, paletteColor } from "./_svg.ts";
import type { AxisScaleKind, ChartSize, Series } from "./types.ts";

/** Options of {@linkcode lineChart}. */
export interface LineChartOptions extends ChartSize {
  /** The series, drawn in order; a series of one point is drawn as a marker. */
  readonly series: readonly Series[];
  /** The title above the chart (also the SVG's `aria-label`). */
  readonly title?: string | undefined;
  /** The x axis label. */
  readonly xLabel: string;
  /** The y axis label. */
  readonly yLabel: string;
  /** The x scale; `"log"` needs every x > 0. @default {"linear"} */
  readonly xScale?: AxisScaleKind | undefined;
  /** The y scale; `"log"` needs every y > 0. @default {"linear"} */
  readonly yScale?: AxisScaleKind | undefined;
  /** A fixed y domain [lo, hi] (points outside are drawn at its edge); by default the data's, made nice. */
  readonly yDomain?: readonly [number, number] | undefined;
  /** Draw a marker at every point of the solid (not dashed) series. @default {false} */
  readonly markers?: boolean | undefined;
  /** A d3-format specifier for the x tick labels (e.g. `"~s"`); by default d3's (log: powers of ten). */
  readonly xTickFormat?: string | undefined;
  /** A d3-format specifier for the y tick labels (e.g. `".0%"`). */
  readonly yTickFormat?: string | undefined;
}

/**
 * Draws a line chart as an SVG string: axes with tick labels (a log axis labels its powers of
 * ten), axis labels, the title, one `<g class="series">` per series (a `<path class="line">`,
 * and `<circle class="marker">`s when `markers` is set and the series is not dashed, or when it
 * has one point), point labels
 * (`<text class="point-label">`) when a series has `labels`, and a legend when there is more than
 * one series. Pure and deterministic; all visible text comes from the options and is XML-escaped.
 *
 * @param options The series, labels, scales and size.
 * @returns A standalone `<svg>` element (`role="img"`, `aria-label` = the title).
 * @throws {TypeError} `E_ARG` for a missing label or a wrong option type; `E_SHAPE` when a series'
 * `labels` and `points` differ in length.
 * @throws {RangeError} `E_RANGE` for a non-finite coordinate, a coordinate ≤ 0 on a log axis, no
 * points at all, or a bad `yDomain` or size.
 *
 * @example Two series on a log y axis
 * ```ts
 * import { lineChart } from "@loraquant/notebook";
 * import { assertEquals, assertStringIncludes } from "@std/assert";
 *
 * const svg = lineChart({
 *   series: [
 *     { name: "float16", points: [[1, 1e-3], [2, 1e-4], [3, 1e-5]] },
 *     { name: "bfloat16", points: [[1, 1e-2], [2, 1e-3], [3, 1e-4]] },
 *   ],
 *   title: "Error relativo",
 *   xLabel: "paso",
 *   yLabel: "error",
 *   yScale: "log",
 * });
 * assertStringIncludes(svg, 'aria-label="Error relativo"');
 * assertEquals(svg.match(/class="series"/g)?.length, 2);
 * ```
 */
export function lineChart(options: LineChartOptions): string {
  const chart = checkXYChart(options, "lineChart", false);
  const xKind = chart.x.kind;
  const yKind = chart.y.kind;
  if (!Array.isArray(options.series)) {
    throw argError(`series must be an array of { name, points }, got ${show(options.series)}`);
  }
  const series = options.series as readonly Series[];
  const xs: number[] = [];
  const ys: number[] = [];
  series.forEach((s, i) => {
    if (typeof s !== "object" || s === null) {
      throw argError(`series[${i}] must be { name, points }, got ${show(s)}`);
    }
    checkText(s.name, `series[${i}].name`);
    if (!Array.isArray(s.points)) {
      throw argError(`series[${i}].points must be an array of [x, y], got ${show(s.points)}`);
    }
    s.points.forEach((p, j) => {
      if (!Array.isArray(p) || p.length !== 2) {
        throw argError(`series[${i}].points[${j}] must be a pair [x, y], got ${show(p)}`);
      }
      xs.push(checkScaled(p[0], xKind, `series[${i}].points[${j}][0] (x)`));
      ys.push(checkScaled(p[1], yKind, `series[${i}].points[${j}][1] (y)`));
    });
    if (s.labels !== undefined) {
      if (!Array.isArray(s.labels) || s.labels.length !== s.points.length) {
        throw shapeError(
          `series[${i}].labels must hold one label per point (${s.points.length}), got ${
            show(s.labels)
          }`,
        );
      }
      s.labels.forEach((l, j) => checkText(l, `series[${i}].labels[${j}]`));
    }
    checkOptionalText(s.color, `series[${i}].color`);
  });
  if (xs.length === 0) throw rangeError("lineChart needs at least one point in series");

  const colors = series.map((s, i) => s.color ?? paletteColor(i));
  const items: LegendItem[] = series.map((s, i) => ({
    name: s.name,
    color: colors[i]!,
    mark: s.points.length === 1 ? "point" : s.dashed ? "dashed" : "line",
  }));
  const plot = xyPlot(
    chart,
    { ...chart.x, values: xs },
    { ...chart.y, values: ys },
    legendWidth(items, chart.width),
  );
  const { x, y, frame } = plot;

  type Point = readonly [number, number];
  const path: (points: readonly Point[]) => string | null = line()
    .x((p: Point) => x(p[0]))
    .y((p: Point) => y(p[1]));
  const pixels = series.flatMap((s) => s.points.map((p) => ({ x: x(p[0]), y: y(p[1]) })));
  const requests = series.flatMap((s) =>
    s.labels === undefined
      ? []
      : s.points.map((p, j) => ({ x: x(p[0]), y: y(p[1]), text: s.labels![j]! }))
  );
  const placed = placeLabels(requests, 10, frame, pixels);
  let next = 0;
  const body = series.map((s, i) => {
    const color = colors[i]!;
    const parts: string[] = [];
    if (s.points.length > 1) {
      parts.push(el("path", {
        class: "line",
        d: path(s.points) ?? "",
        fill: "none",
        stroke: color,
        "stroke-width": 2,
        "stroke-dasharray": s.dashed ? "5 3" : undefined,
      }));
    }
    if ((options.markers === true && s.dashed !== true) || s.points.length === 1) {
      for (const p of s.points) {
        parts.push(
          el("circle", { class: "marker", cx: x(p[0]), cy: y(p[1]), r: 3.5, fill: color }),
        );
      }
    }
    if (s.labels !== undefined) {
      s.labels.forEach((l) => {
        const at = placed[next++]!;
        parts.push(pointLabel(at, color, l));
      });
    }
    return el("g", { class: "series", "data-name": s.name }, parts.join(""));
  });
  return chartDocument(
    "line-chart",
    chart,
    axesLabel(chart),
    xyAxes(plot, chart) + body.join("") + legend(items, frame),
  );
}
