/**
 * Heatmaps: a matrix as a grid of coloured cells with a colour bar.
 *
 * @module
 */
import {
  checkDomain,
  checkMatrix,
  checkOptionalText,
  checkOptions,
  checkPixels,
} from "./_check.ts";
import { cellColors, colorBar, defaultCellSize, matrixCells } from "./_matrix.ts";
import { svgDocument, text, textWidth, titleText } from "./_svg.ts";
import type { Matrix } from "./types.ts";

/** Options of {@linkcode heatmap}. */
export interface HeatmapOptions {
  /** The matrix, row-major; row 0 is drawn at the top. */
  readonly matrix: Matrix;
  /** The title above the grid (also the SVG's `aria-label`). */
  readonly title?: string | undefined;
  /** The side of one cell in px. @default {⌊320 / max(rows, cols)⌋, between 1 and 28} */
  readonly cellSize?: number | undefined;
  /**
   * The colour domain [lo, hi] (values outside take the end colours). A domain spanning 0 is
   * diverging (blue, white at 0, red), else sequential (viridis).
   * @default {[−m, m] with m = max |x| when an entry is negative, else [0, max]}
   */
  readonly domain?: readonly [number, number] | undefined;
}

/**
 * Draws a matrix as a heatmap, an SVG string: `rows × cols` cells (`<rect class="cell">`, row i
 * at y = top + i·cellSize, column j at x = left + j·cellSize), a colour bar
 * (`<g class="colorbar">`) with its end values (and 0 when diverging), the shape `rows×cols` under
 * the grid, and the title.
 *
 * @param options The matrix, title, cell size and colour domain.
 * @returns A standalone `<svg>` element (`role="img"`, `aria-label` = the title).
 * @throws {TypeError} `E_SHAPE` when rows or cols are not positive integers or the data's length is
 * not rows·cols; `E_ARG` for a wrong option type.
 * @throws {RangeError} `E_RANGE` for a non-finite entry, a cell size ≤ 0 or a bad domain.
 *
 * @example A 2×3 matrix has six cells
 * ```ts
 * import { heatmap } from "@loraquant/notebook";
 * import { assertEquals } from "@std/assert";
 *
 * const svg = heatmap({ matrix: { rows: 2, cols: 3, data: [1, -2, 3, -4, 5, -6] }, title: "W" });
 * assertEquals(svg.match(/class="cell"/g)?.length, 6);
 * ```
 */
export function heatmap(options: HeatmapOptions): string {
  checkOptions(options, "heatmap");
  const m = checkMatrix(options.matrix, "matrix");
  const title = checkOptionalText(options.title, "title");
  const cell = checkPixels(options.cellSize, "cellSize") ??
    defaultCellSize(Math.max(m.rows, m.cols), 320);
  const domain = checkDomain(options.domain, "linear", "domain");
  const colors = cellColors(m, domain);
  const hasTitle = title !== undefined && title !== "";
  const top = hasTitle ? 34 : 12;
  const left = 12;
  const gridW = m.cols * cell;
  const gridH = m.rows * cell;
  const barH = Math.max(gridH, 90);
  const width = Math.max(left + gridW + 80, hasTitle ? textWidth(title, 14) + 24 : 0, 160);
  const height = top + Math.max(gridH + 22, barH) + 12;
  return svgDocument(
    "heatmap",
    width,
    height,
    title ?? `${m.rows}×${m.cols}`,
    titleText(title, width) + matrixCells(m, left, top, cell, colors) +
      colorBar(colors, left + gridW + 14, top, barH) +
      text({
        class: "shape",
        x: left + gridW / 2,
        y: top + gridH + 16,
        "text-anchor": "middle",
        "font-size": 11,
      }, `${m.rows}×${m.cols}`),
  );
}
