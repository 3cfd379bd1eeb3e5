// Private drawing of a matrix as coloured cells, its colour scale and a colour bar; shared by
// heatmap and loraUpdate.
import { scaleDiverging, scaleLinear, scaleSequential } from "d3-scale";
import { interpolateRdBu, interpolateViridis } from "d3-scale-chromatic";
import { format } from "d3-format";
import { el, text } from "./_svg.ts";
import type { Matrix } from "./types.ts";

/** A colour scale over a domain: diverging (blue < 0 < red) when the domain spans 0. */
export interface CellColors {
  color: (v: number) => string;
  domain: [number, number];
  diverging: boolean;
}

/**
 * The colour scale of a matrix: the given domain, else [−m, m] with m = max |x| when some entry
 * is negative (diverging, white at 0), else [0, max] (sequential, viridis).
 */
export function cellColors(m: Matrix, domain?: readonly [number, number]): CellColors {
  let lo: number;
  let hi: number;
  if (domain !== undefined) [lo, hi] = [domain[0], domain[1]];
  else {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < m.data.length; i++) {
      const v = m.data[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const abs = Math.max(Math.abs(min), Math.abs(max));
    if (min < 0) [lo, hi] = [-abs, abs];
    else [lo, hi] = [0, max > 0 ? max : 1];
  }
  if (lo < 0 && hi > 0) {
    const s = scaleDiverging((t: number) => interpolateRdBu(1 - t)).domain([lo, 0, hi]).clamp(
      true,
    );
    return { color: (v) => s(v), domain: [lo, hi], diverging: true };
  }
  const s = scaleSequential(interpolateViridis).domain([lo, hi]).clamp(true);
  return { color: (v) => s(v), domain: [lo, hi], diverging: false };
}

/** The cells of a matrix, one `<rect class="cell">` each, top-left at (x0, y0). */
export function matrixCells(
  m: Matrix,
  x0: number,
  y0: number,
  cell: number,
  colors: CellColors,
): string {
  const parts: string[] = [];
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) {
      parts.push(el("rect", {
        class: "cell",
        x: x0 + j * cell,
        y: y0 + i * cell,
        width: cell,
        height: cell,
        fill: colors.color(m.data[i * m.cols + j]!),
      }));
    }
  }
  return el("g", { class: "cells", "shape-rendering": "crispEdges" }, parts.join("")) +
    el("rect", {
      class: "frame",
      x: x0,
      y: y0,
      width: m.cols * cell,
      height: m.rows * cell,
      fill: "none",
      stroke: "#999",
      "stroke-width": 0.5,
    });
}

/** A vertical colour bar (32 steps) of height h at (x, y), with three or five tick labels. */
export function colorBar(colors: CellColors, x: number, y: number, h: number): string {
  const [lo, hi] = colors.domain;
  const steps = 32;
  const parts: string[] = [];
  for (let s = 0; s < steps; s++) {
    const v = hi - ((s + 0.5) * (hi - lo)) / steps;
    parts.push(el("rect", {
      class: "colorbar-step",
      x,
      y: y + (s * h) / steps,
      width: 12,
      height: h / steps + 0.5,
      fill: colors.color(v),
    }));
  }
  const scale = scaleLinear().domain([lo, hi]).range([y + h, y]);
  const values = colors.diverging ? [lo, 0, hi] : [lo, (lo + hi) / 2, hi];
  const f = format(".2~g");
  for (const v of values) {
    parts.push(
      el("line", { x1: x + 12, y1: scale(v), x2: x + 16, y2: scale(v), stroke: "#333" }),
      text({ x: x + 18, y: scale(v) + 4, "font-size": 10 }, f(v)),
    );
  }
  return el("g", { class: "colorbar" }, parts.join(""));
}

/** The default cell size: fits the larger side in about `target` px, between 1 and 28 px. */
export function defaultCellSize(n: number, target: number): number {
  return Math.max(1, Math.min(28, Math.floor(target / n)));
}
