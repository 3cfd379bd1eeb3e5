/**
 * Histograms: counts of values in equal-width bins.
 *
 * @module
 */
import { bin, extent, thresholdSturges } from "d3-array";
import { format } from "d3-format";
import { scaleLinear } from "d3-scale";
import { xAxis, yAxis } from "./_axis.ts";
import {
  argError,
  checkDomain,
  checkFinite,
  checkOptionalText,
  rangeError,
  show,
} from "./_check.ts";
import { axesLabel, chartDocument, checkAxisLabels, checkChart, xyPlot } from "./_frame.ts";
import { el, paletteColor } from "./_svg.ts";
import type { ChartSize } from "./types.ts";

/** Options of {@linkcode histogram}. */
export interface HistogramOptions extends ChartSize {
  /** The values (finite numbers). */
  readonly values: ArrayLike<number>;
  /** The number of equal-width bins. @default {Sturges' rule: ⌈log₂ n⌉ + 1} */
  readonly bins?: number | undefined;
  /** The binned range [lo, hi]; values outside it are not counted. @default {the values' extent, made nice} */
  readonly domain?: readonly [number, number] | undefined;
  /** The title above the chart (also the SVG's `aria-label`). */
  readonly title?: string | undefined;
  /** The x axis label (what the values are). */
  readonly xLabel: string;
  /** The y axis label (counts). */
  readonly yLabel: string;
  /** The bars' colour. @default {the first Tableau 10 colour} */
  readonly color?: string | undefined;
}

/**
 * Draws a histogram as an SVG string: `bins` equal-width bins over `domain` (the last bin closed,
 * the others half-open [x0, x1)), one `<rect class="bar">` per bin (`data-x0`, `data-x1`,
 * `data-count`), its height proportional to its count; linear axes with ticks and labels.
 *
 * @param options The values, bins, domain, labels and size.
 * @returns A standalone `<svg>` element (`role="img"`, `aria-label` = the title).
 * @throws {TypeError} `E_ARG` for a missing label or a wrong option type.
 * @throws {RangeError} `E_RANGE` for a non-finite value, a bin count that is not an integer ≥ 1,
 * no values and no domain, or a bad domain or size.
 *
 * @example Ten bins over [0, 1)
 * ```ts
 * import { histogram } from "@loraquant/notebook";
 * import { assertEquals } from "@std/assert";
 *
 * const values = Array.from({ length: 100 }, (_, i) => i / 100);
 * const svg = histogram({ values, bins: 10, domain: [0, 1], xLabel: "x", yLabel: "count" });
 * const counts = [...svg.matchAll(/data-count="(\d+)"/g)].map((m) => Number(m[1]));
 * assertEquals(counts, Array(10).fill(10));
 * ```
 */
export function histogram(options: HistogramOptions): string {
  const chart = checkChart(options, "histogram");
  const labels = checkAxisLabels(options);
  const { xLabel, yLabel } = labels;
  const color = checkOptionalText(options.color, "color") ?? paletteColor(0);
  const v = options.values;
  if (typeof v !== "object" || v === null || typeof v.length !== "number") {
    throw argError(`values must be an array of numbers, got ${show(v)}`);
  }
  const values = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) values[i] = checkFinite(v[i], `values[${i}]`);
  let domain = checkDomain(options.domain, "linear", "domain");
  if (domain === undefined) {
    if (values.length === 0) throw rangeError("histogram needs values or a domain, got neither");
    const [lo, hi] = extent(values) as [number, number];
    const nice = scaleLinear().domain(lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi]).nice();
    domain = nice.domain() as [number, number];
  }
  const count = options.bins === undefined
    ? thresholdSturges(values)
    : checkFinite(options.bins, "bins");
  if (!Number.isInteger(count) || count < 1) {
    throw rangeError(`bins must be an integer ≥ 1, got ${show(count)}`);
  }
  const [lo, hi] = domain;
  const thresholds = Array.from(
    { length: count - 1 },
    (_, i) => lo + ((i + 1) * (hi - lo)) / count,
  );
  const binned: number[][] = bin().domain([lo, hi]).thresholds(thresholds)(values);

  const plot = xyPlot(
    chart,
    { kind: "linear", domain, format: undefined, values: [] },
    {
      kind: "linear",
      domain: undefined,
      format: format("d"),
      values: binned.map((b) => b.length),
      zero: true,
      integer: true,
    },
    0,
  );
  const { x, y, frame } = plot;
  const bars = binned.map((b, i) => {
    const x0 = i === 0 ? lo : thresholds[i - 1]!;
    const x1 = i === count - 1 ? hi : thresholds[i]!;
    const left = x(x0);
    const right = x(x1);
    return el("rect", {
      class: "bar",
      x: left + 0.5,
      y: y(b.length),
      width: Math.max(0, right - left - 1),
      height: frame.bottom - y(b.length),
      fill: color,
      "data-x0": String(x0),
      "data-x1": String(x1),
      "data-count": String(b.length),
    });
  });
  return chartDocument(
    "histogram",
    chart,
    axesLabel(labels),
    yAxis(y, plot.yTicks, frame, yLabel) + el("g", { class: "bars" }, bars.join("")) +
      xAxis(x, plot.xTicks, frame, xLabel, chart.height),
  );
}
