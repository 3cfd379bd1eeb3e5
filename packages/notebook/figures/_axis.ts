// Private axis machinery shared by the charts: building a nice linear or log scale from data,
// choosing and labelling ticks (a log axis labels its powers of ten), the plot frame's margins,
// the two axes with gridlines, and the legend.
import { scaleLinear, scaleLog } from "d3-scale";
import { extent } from "d3-array";
import { format } from "d3-format";
import { el, num, superscript, text, textWidth } from "./_svg.ts";
import type { AxisScaleKind } from "./types.ts";

/**
 * The part of a continuous numeric d3 scale the figures use (typed here: the pinned d3 packages
 * ship no type declarations).
 */
export interface NumScale {
  (v: number): number;
  domain(): number[];
  domain(d: readonly number[]): NumScale;
  range(r: readonly number[]): NumScale;
  ticks(count?: number): number[];
  tickFormat(count?: number): (n: number) => string;
  nice(): NumScale;
  clamp(c: boolean): NumScale;
}

/** One tick: its value and its label (`undefined` for an unlabelled minor tick). */
export interface Tick {
  value: number;
  label: string | undefined;
}

/** The plot area in px: x from `left` to `right`, y from `top` to `bottom`. */
export interface Frame {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/**
 * A scale over the data (made "nice"), or over a fixed domain (then clamped, so that points
 * outside are drawn at its edge). `zero` includes 0 in a linear domain (bar charts).
 */
export function makeScale(
  kind: AxisScaleKind,
  values: readonly number[],
  fixed: readonly [number, number] | undefined,
  zero = false,
): NumScale {
  const scale: NumScale = kind === "log" ? scaleLog() : scaleLinear();
  if (fixed !== undefined) return scale.domain([fixed[0], fixed[1]]).clamp(true);
  let [lo, hi] = extent(values) as [number | undefined, number | undefined];
  if (lo === undefined || hi === undefined) [lo, hi] = kind === "log" ? [1, 10] : [0, 1];
  if (zero && kind === "linear") [lo, hi] = [Math.min(lo, 0), Math.max(hi, 0)];
  // A single value (or a span too thin for ticks, e.g. subnormals): pad it to a visible range.
  const magnitude = Math.max(Math.abs(lo), Math.abs(hi));
  if (kind === "log" && hi / lo < 1 + 1e-9) [lo, hi] = [lo / 2, hi * 2];
  else if (kind === "linear" && magnitude < 1e-290) [lo, hi] = [-1, 1];
  else if (kind === "linear" && hi - lo <= magnitude * 1e-9) {
    const pad = magnitude / 10;
    [lo, hi] = [lo - pad, hi + pad];
  }
  return scale.domain([lo, hi]).nice();
}

const isDecade = (v: number): boolean => {
  const e = Math.log10(v);
  return Math.abs(e - Math.round(e)) < 1e-9;
};

/** A power of ten as `0.001` … `10000`, beyond that as `10⁻⁶`, `10⁵`; other values as `~g`. */
export function logLabel(v: number): string {
  if (isDecade(v)) {
    const e = Math.round(Math.log10(v));
    if (e < -3 || e > 4) return `10${superscript(e)}`;
  }
  return format("~g")(v);
}

/**
 * The ticks of an axis. Linear: d3's nice ticks, all labelled. Log: d3's ticks; when two or more
 * powers of ten are among them only those are labelled (the others are minor marks), all as
 * `10ⁿ` when any of them is beyond 0.001 … 10000.
 */
export function axisTicks(
  scale: NumScale,
  kind: AxisScaleKind,
  count: number,
  fmt: ((n: number) => string) | undefined,
): Tick[] {
  if (kind === "linear") {
    const f = fmt ?? scale.tickFormat(count);
    return scale.ticks(count).map((value: number) => ({ value, label: f(value) }));
  }
  const values = scale.ticks(count);
  const decades = values.filter(isDecade);
  // One style per axis: when any power of ten needs 10ⁿ, all of them are written that way.
  const exponents = decades.map((v) => Math.round(Math.log10(v)));
  const f = fmt ??
    (exponents.some((e) => e < -3 || e > 4)
      ? (v: number) => isDecade(v) ? `10${superscript(Math.round(Math.log10(v)))}` : logLabel(v)
      : logLabel);
  return values.map((value: number) => ({
    value,
    label: decades.length < 2 || isDecade(value) ? f(value) : undefined,
  }));
}

/** The plot frame: room for the title, the y tick labels and axis label, the legend. */
export function plotFrame(
  width: number,
  height: number,
  options: { title: boolean; yTicks: readonly Tick[]; legendWidth: number; extraBottom?: number },
): Frame {
  const labelWidth = Math.max(
    0,
    ...options.yTicks.map((t) => (t.label === undefined ? 0 : textWidth(t.label, 11))),
  );
  return {
    left: Math.round(30 + labelWidth),
    right: width - 14 - options.legendWidth,
    top: options.title ? 36 : 14,
    bottom: height - 44 - (options.extraBottom ?? 0),
  };
}

/** The bottom axis: baseline, ticks with labels, the axis label. */
export function xAxis(
  scale: NumScale,
  ticks: readonly Tick[],
  frame: Frame,
  label: string,
  height: number,
): string {
  const y = frame.bottom;
  const parts = [el("line", { x1: frame.left, y1: y, x2: frame.right, y2: y, stroke: "#333" })];
  for (const t of ticks) {
    const x = scale(t.value);
    const tick = el("line", {
      x1: x,
      y1: y,
      x2: x,
      y2: y + (t.label === undefined ? 3 : 5),
      stroke: "#333",
    });
    parts.push(el(
      "g",
      { class: t.label === undefined ? "tick minor" : "tick", "data-value": String(t.value) },
      tick +
        (t.label === undefined
          ? ""
          : text({ x, y: y + 17, "text-anchor": "middle", "font-size": 11 }, t.label)),
    ));
  }
  parts.push(xAxisLabel(frame, label, height));
  return el("g", { class: "axis x" }, parts.join(""));
}

/** The label of the bottom axis, centred under the plot frame. */
export function xAxisLabel(frame: Frame, label: string, height: number): string {
  return text({
    class: "axis-label x",
    x: (frame.left + frame.right) / 2,
    y: height - 8,
    "text-anchor": "middle",
  }, label);
}

/** The left axis: baseline, ticks with labels and light gridlines, the rotated axis label. */
export function yAxis(
  scale: NumScale,
  ticks: readonly Tick[],
  frame: Frame,
  label: string,
): string {
  const x = frame.left;
  const parts = [
    el("line", { x1: x, y1: frame.top, x2: x, y2: frame.bottom, stroke: "#333" }),
  ];
  for (const t of ticks) {
    const y = scale(t.value);
    let body = el("line", {
      x1: x - (t.label === undefined ? 3 : 5),
      y1: y,
      x2: x,
      y2: y,
      stroke: "#333",
    });
    if (t.label !== undefined) {
      body += el("line", {
        class: "grid",
        x1: x,
        y1: y,
        x2: frame.right,
        y2: y,
        stroke: "#e6e6e6",
      }) + text({ x: x - 8, y: y + 4, "text-anchor": "end", "font-size": 11 }, t.label);
    }
    parts.push(el(
      "g",
      { class: t.label === undefined ? "tick minor" : "tick", "data-value": String(t.value) },
      body,
    ));
  }
  const cy = (frame.top + frame.bottom) / 2;
  parts.push(text({
    class: "axis-label y",
    transform: `translate(14,${num(cy)}) rotate(-90)`,
    "text-anchor": "middle",
  }, label));
  return el("g", { class: "axis y" }, parts.join(""));
}

/** One legend entry: its text, colour and the mark drawn beside it. */
export interface LegendItem {
  name: string;
  color: string;
  mark: "line" | "dashed" | "point" | "rect";
}

/** The legend's width in px (0 when there is at most one item: no legend is drawn). */
export function legendWidth(items: readonly LegendItem[], width: number): number {
  if (items.length < 2) return 0;
  const w = 34 + Math.max(...items.map((it) => textWidth(it.name, 11)));
  return Math.min(Math.ceil(w), Math.floor(width * 0.42));
}

/** The legend, to the right of the plot frame (nothing for fewer than two items). */
export function legend(items: readonly LegendItem[], frame: Frame): string {
  if (items.length < 2) return "";
  const x = frame.right + 14;
  const entries = items.map((it, i) => {
    const y = frame.top + 6 + i * 17;
    const swatch = it.mark === "point"
      ? el("circle", { cx: x + 9, cy: y, r: 4, fill: it.color })
      : it.mark === "rect"
      ? el("rect", { x: x + 3, y: y - 5, width: 12, height: 10, fill: it.color })
      : el("line", {
        x1: x,
        y1: y,
        x2: x + 18,
        y2: y,
        stroke: it.color,
        "stroke-width": 2,
        "stroke-dasharray": it.mark === "dashed" ? "5 3" : undefined,
      });
    return el(
      "g",
      { class: "legend-item" },
      swatch + text({ x: x + 24, y: y + 4, "font-size": 11 }, it.name),
    );
  });
  return el("g", { class: "legend" }, entries.join(""));
}
