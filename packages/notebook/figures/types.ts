/**
 * The data types shared by the figures: a row-major matrix, a named series of points, and the
 * optional pixel size of a chart.
 *
 * @module
 */

/** A dense matrix, row-major: entry (i, j) is `data[i * cols + j]`. */
export interface Matrix {
  /** Number of rows (a positive integer). */
  readonly rows: number;
  /** Number of columns (a positive integer). */
  readonly cols: number;
  /** The `rows · cols` entries, row-major. */
  readonly data: ArrayLike<number>;
}

/** A named series of (x, y) points, drawn as one line (or markers) with one legend entry. */
export interface Series {
  /** The legend text. */
  readonly name: string;
  /** The points, in drawing order. */
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** A CSS colour; by default the next colour of the Tableau 10 scheme. */
  readonly color?: string | undefined;
  /** Draw the line dashed (e.g. a baseline). @default {false} */
  readonly dashed?: boolean | undefined;
  /** A short label beside each point (same length as `points`), e.g. `"r=4"`. */
  readonly labels?: readonly string[] | undefined;
}

/** The pixel size of a chart, and how it writes numbers. */
export interface ChartSize {
  /** Width in px. @default {640} */
  readonly width?: number | undefined;
  /** Height in px. @default {360} */
  readonly height?: number | undefined;
  /**
   * How tick labels and printed values write numbers: `"en"` 1,234.5, `"es"` 1.234,5 (decimal
   * comma). Text given by the caller is never changed. @default {"en"}
   */
  readonly locale?: "en" | "es" | undefined;
}

/** The scale of a numeric axis. */
export type AxisScaleKind = "linear" | "log";
