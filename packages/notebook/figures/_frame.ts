// Private frame of the charts with axes (line, scatter, bar, histogram): checking the options they
// share (size, title, axis labels, scales, domains, tick formats), the numeric axes with their
// ticks, the plot frame, the group colours and legend, the point labels, and the SVG document.
import { format } from "d3-format";
import {
  axisTicks,
  type Frame,
  type LegendItem,
  makeScale,
  type NumScale,
  plotFrame,
  type Tick,
  xAxis,
  yAxis,
} from "./_axis.ts";
import {
  argError,
  checkDomain,
  checkFormat,
  checkOptionalText,
  checkOptions,
  checkScaleKind,
  checkSize,
  checkText,
  show,
} from "./_check.ts";
import type { PlacedLabel } from "./_labels.ts";
import { paletteColor, svgDocument, text, titleText } from "./_svg.ts";
import type { ScatterChartOptions } from "./scatter_chart.ts";
import type { AxisScaleKind, ChartSize } from "./types.ts";

/** The checked size and title of a chart, and its number writer. */
export interface ChartHead {
  width: number;
  height: number;
  title: string | undefined;
  /** Rewrites a number d3-format wrote (in English) for the chart's locale. */
  localize: (formatted: string) => string;
}

/** For `"es"`, swaps the decimal point and the thousands comma of an English-formatted number. */
export function localizer(locale: "en" | "es"): (formatted: string) => string {
  return locale === "es"
    ? (formatted) => formatted.replace(/[.,]/g, (c) => (c === "." ? "," : "."))
    : (formatted) => formatted;
}

/** Checks the options object of `fn`, its size (640×360 by default) and its optional title. */
export function checkChart(
  options: ChartSize & { readonly title?: string | undefined },
  fn: string,
): ChartHead {
  checkOptions(options, fn);
  const { width, height } = checkSize(options);
  const locale = options.locale ?? "en";
  if (locale !== "en" && locale !== "es") {
    throw argError(`locale must be "en" or "es", got ${show(locale)}`);
  }
  return {
    width,
    height,
    title: checkOptionalText(options.title, "title"),
    localize: localizer(locale),
  };
}

/** Checks the two (required) axis labels. */
export function checkAxisLabels(
  options: { readonly xLabel: string; readonly yLabel: string },
): { xLabel: string; yLabel: string } {
  return {
    xLabel: checkText(options.xLabel, "xLabel"),
    yLabel: checkText(options.yLabel, "yLabel"),
  };
}

/** The options of a chart with two numeric axes (a line chart's are these without `xDomain`). */
export type XYChartOptions = Omit<ScatterChartOptions, "points">;

/** A checked numeric axis: its scale kind, fixed domain and tick format. */
export interface AxisSpec {
  kind: AxisScaleKind;
  domain: [number, number] | undefined;
  format: ((n: number) => string) | undefined;
}

/** The checked options of a chart with two numeric axes. */
export interface XYChart extends ChartHead {
  xLabel: string;
  yLabel: string;
  x: AxisSpec;
  y: AxisSpec;
}

/**
 * Checks the options of a chart with two numeric axes; `xDomain` is read only when the chart
 * offers it (`withXDomain`).
 */
export function checkXYChart(options: XYChartOptions, fn: string, withXDomain: boolean): XYChart {
  const head = checkChart(options, fn);
  const { xLabel, yLabel } = checkAxisLabels(options);
  const xKind = checkScaleKind(options.xScale, "xScale");
  const yKind = checkScaleKind(options.yScale, "yScale");
  const xDomain = withXDomain ? checkDomain(options.xDomain, xKind, "xDomain") : undefined;
  const yDomain = checkDomain(options.yDomain, yKind, "yDomain");
  return {
    ...head,
    xLabel,
    yLabel,
    x: {
      kind: xKind,
      domain: xDomain,
      format: checkFormat(options.xTickFormat, "xTickFormat", format),
    },
    y: {
      kind: yKind,
      domain: yDomain,
      format: checkFormat(options.yTickFormat, "yTickFormat", format),
    },
  };
}

/** The SVG's label of a chart without a title: `y label / x label`. */
export function axesLabel(chart: { xLabel: string; yLabel: string }): string {
  return `${chart.yLabel} / ${chart.xLabel}`;
}

/** About one x tick per 90 px of width (at least 2). */
export function xTickCount(width: number): number {
  return Math.max(2, Math.floor(width / 90));
}

/** About one y tick per 60 px of height (at least 2). */
export function yTickCount(height: number): number {
  return Math.max(2, Math.floor(height / 60));
}

/** What a numeric axis shows: its spec and data; `zero` keeps 0 in a linear domain. */
export interface AxisInput extends AxisSpec {
  values: readonly number[];
  zero?: boolean;
  /** Keep only the ticks at integers (counts). */
  integer?: boolean;
}

/**
 * A numeric axis: its scale over the data (or the fixed domain), made nice, and its ticks, their
 * labels written by `localize`.
 */
export function numericAxis(
  input: AxisInput,
  count: number,
  localize: (formatted: string) => string,
): { scale: NumScale; ticks: Tick[] } {
  const scale = makeScale(input.kind, input.values, input.domain, input.zero);
  const ticks = axisTicks(scale, input.kind, count, input.format)
    .map((t) => (t.label === undefined ? t : { ...t, label: localize(t.label) }));
  return { scale, ticks: input.integer ? ticks.filter((t) => Number.isInteger(t.value)) : ticks };
}

/** The plot frame of a chart: room for its title (if any), y tick labels, legend and extra bottom. */
export function chartFrame(
  chart: ChartHead,
  yTicks: readonly Tick[],
  legendWidth: number,
  extraBottom = 0,
): Frame {
  return plotFrame(chart.width, chart.height, {
    title: chart.title !== undefined && chart.title !== "",
    yTicks,
    legendWidth,
    extraBottom,
  });
}

/** A plot with two numeric axes: the scales (ranged over the frame), their ticks, the frame. */
export interface XYPlot {
  x: NumScale;
  y: NumScale;
  xTicks: Tick[];
  yTicks: Tick[];
  frame: Frame;
}

/** Lays out a plot with two numeric axes, leaving `legendWidth` px for the legend. */
export function xyPlot(
  chart: ChartHead,
  xInput: AxisInput,
  yInput: AxisInput,
  legendWidth: number,
): XYPlot {
  const x = numericAxis(xInput, xTickCount(chart.width), chart.localize);
  const y = numericAxis(yInput, yTickCount(chart.height), chart.localize);
  const frame = chartFrame(chart, y.ticks, legendWidth);
  x.scale.range([frame.left, frame.right]);
  y.scale.range([frame.bottom, frame.top]);
  return { x: x.scale, y: y.scale, xTicks: x.ticks, yTicks: y.ticks, frame };
}

/** The left and the bottom axis of a plot, with their labels. */
export function xyAxes(
  plot: XYPlot,
  chart: { xLabel: string; yLabel: string; height: number },
): string {
  return yAxis(plot.y, plot.yTicks, plot.frame, chart.yLabel) +
    xAxis(plot.x, plot.xTicks, plot.frame, chart.xLabel, chart.height);
}

/** One colour per group (the palette in order) and the legend entries, all with `mark`. */
export function groupColors(
  groups: readonly string[],
  mark: LegendItem["mark"],
): { colors: Map<string, string>; items: LegendItem[] } {
  const colors = new Map(groups.map((g, i) => [g, paletteColor(i)]));
  return { colors, items: groups.map((g) => ({ name: g, color: colors.get(g)!, mark })) };
}

/** A point's label where `placeLabels` put it, in the point's colour. */
export function pointLabel(at: PlacedLabel, color: string, label: string): string {
  return text({
    class: "point-label",
    x: at.x,
    y: at.y,
    "text-anchor": at.anchor,
    "font-size": 10,
    fill: color,
  }, label);
}

/** The chart's SVG: the title line, then `body`; `label` names it when it has no title. */
export function chartDocument(kind: string, chart: ChartHead, label: string, body: string): string {
  return svgDocument(
    kind,
    chart.width,
    chart.height,
    chart.title ?? label,
    titleText(chart.title, chart.width) + body,
  );
}
