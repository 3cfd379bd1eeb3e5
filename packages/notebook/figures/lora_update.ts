/**
 * The LoRA picture: a weight update ΔW (d×k) next to its low-rank factors B (d×r) and A (r×k),
 * drawn to the same scale.
 *
 * @module
 */
import {
  argError,
  checkMatrix,
  checkOptionalText,
  checkOptions,
  checkPixels,
  checkText,
  shapeError,
  show,
} from "./_check.ts";
import { cellColors, matrixCells } from "./_matrix.ts";
import { el, svgDocument, text, textWidth } from "./_svg.ts";
import type { Matrix } from "./types.ts";

/** The visible texts of {@linkcode loraUpdate}. */
export interface LoraUpdateLabels {
  /** Under ΔW, e.g. `"ΔW: d·k = 2048 parámetros"`. */
  readonly full: string;
  /** Under B·A, e.g. `"B·A: r·(d + k) = 96 parámetros"`. */
  readonly lora: string;
  /** Above B. @default {"B"} */
  readonly b?: string | undefined;
  /** Above A. @default {"A"} */
  readonly a?: string | undefined;
}

/** Options of {@linkcode loraUpdate}. */
export interface LoraUpdateOptions {
  /** The update ΔW, d×k. */
  readonly deltaW: Matrix;
  /** The factor B, d×r. */
  readonly b: Matrix;
  /** The factor A, r×k. */
  readonly a: Matrix;
  /** The side of one cell in px, the same for the three blocks. @default {fits ΔW, B and A in about 640×300 px, between 1 and 24} */
  readonly cellSize?: number | undefined;
  /** The texts. */
  readonly labels: LoraUpdateLabels;
}

/**
 * Draws ΔW (d×k heatmap) = B (d×r) · A (r×k), side by side and to scale: the LoRA picture. Each
 * block is a `<g class="block …">` (`delta-w`, `b`, `a`) of `<rect class="cell">`s with its own
 * symmetric colour scale (blue < 0 < red), its shape written under it (`d×k`, `d×r`, `r×k`), the
 * `=` (when ΔW is B·A, to 1e-9 of its largest entry) or `≈` and the `·` sign between them,
 * `labels.full` under ΔW and `labels.lora` under B·A.
 *
 * @param options The three matrices, the cell size and the texts.
 * @returns A standalone `<svg>` element (`role="img"`, `aria-label` = the two labels).
 * @throws {TypeError} `E_SHAPE` when a matrix is malformed or the shapes disagree (B must be d×r
 * and A r×k for ΔW d×k); `E_ARG` for a missing label.
 * @throws {RangeError} `E_RANGE` for a non-finite entry or a cell size ≤ 0.
 *
 * @example A rank-1 update of a 4×3 matrix
 * ```ts
 * import { loraUpdate } from "@loraquant/notebook";
 * import { assertEquals } from "@std/assert";
 *
 * const b = { rows: 4, cols: 1, data: [1, 2, 3, 4] };
 * const a = { rows: 1, cols: 3, data: [1, 0, -1] };
 * const deltaW = { rows: 4, cols: 3, data: [1, 0, -1, 2, 0, -2, 3, 0, -3, 4, 0, -4] };
 * const svg = loraUpdate({ deltaW, b, a, labels: { full: "12 parameters", lora: "7 parameters" } });
 * assertEquals(svg.match(/class="cell"/g)?.length, 12 + 4 + 3);
 * ```
 */
export function loraUpdate(options: LoraUpdateOptions): string {
  checkOptions(options, "loraUpdate");
  const deltaW = checkMatrix(options.deltaW, "deltaW");
  const b = checkMatrix(options.b, "b");
  const a = checkMatrix(options.a, "a");
  const d = deltaW.rows;
  const k = deltaW.cols;
  const r = b.cols;
  if (b.rows !== d || a.cols !== k || a.rows !== r) {
    throw shapeError(
      `loraUpdate needs deltaW d×k, b d×r, a r×k; got deltaW ${d}×${k}, b ${b.rows}×${b.cols}, ` +
        `a ${a.rows}×${a.cols}`,
    );
  }
  const labels = options.labels;
  if (typeof labels !== "object" || labels === null) {
    throw argError(`labels must be { full, lora, b?, a? }, got ${show(labels)}`);
  }
  const fullLabel = checkText(labels.full, "labels.full");
  const loraLabel = checkText(labels.lora, "labels.lora");
  const bName = checkOptionalText(labels.b, "labels.b") ?? "B";
  const aName = checkOptionalText(labels.a, "labels.a") ?? "A";
  const cell = checkPixels(options.cellSize, "cellSize") ??
    Math.max(1, Math.min(24, Math.floor(Math.min(600 / (2 * k + r), 300 / d))));

  const pad = 16;
  const opGap = 36;
  const wW = k * cell;
  const wB = r * cell;
  const wA = k * cell;
  const hW = d * cell;
  const hA = r * cell;
  // Leave room for labels wider than their blocks.
  const fullW = Math.max(wW, textWidth(fullLabel, 12));
  const loraSpan = wB + opGap + wA;
  const loraW = Math.max(loraSpan, textWidth(loraLabel, 12));
  const xW = pad + (fullW - wW) / 2;
  const xB = pad + fullW + opGap + (loraW - loraSpan) / 2;
  const xA = xB + wB + opGap;
  const top = 30;
  const width = pad + fullW + opGap + loraW + pad;
  const height = top + hW + 56;

  const block = (cls: string, m: Matrix, x: number, y: number): string =>
    el(
      "g",
      { class: `block ${cls}`, "data-rows": String(m.rows), "data-cols": String(m.cols) },
      matrixCells(m, x, y, cell, cellColors(m)) +
        text({
          class: "shape",
          x: x + (m.cols * cell) / 2,
          y: y + m.rows * cell + 14,
          "text-anchor": "middle",
          "font-size": 11,
        }, `${m.rows}×${m.cols}`),
    );
  // "=" when ΔW is B·A (to float64 roundoff), "≈" when B·A only approximates it.
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < k; j++) {
      let product = 0;
      for (let t = 0; t < r; t++) product += b.data[i * r + t]! * a.data[t * k + j]!;
      worst = Math.max(worst, Math.abs(deltaW.data[i * k + j]! - product));
      scale = Math.max(scale, Math.abs(deltaW.data[i * k + j]!), Math.abs(product));
    }
  }
  const relation = worst <= 1e-9 * scale ? "=" : "≈";
  const parts = [
    text({ class: "name", x: xB + wB / 2, y: top - 8, "text-anchor": "middle" }, bName),
    text({ class: "name", x: xA + wA / 2, y: top - 8, "text-anchor": "middle" }, aName),
    block("delta-w", deltaW, xW, top),
    text({
      class: "operator",
      x: pad + fullW + opGap / 2,
      y: top + Math.min(hW, 60) / 2 + 6,
      "text-anchor": "middle",
      "font-size": 20,
    }, relation),
    block("b", b, xB, top),
    text({
      class: "operator",
      x: xB + wB + opGap / 2,
      y: top + hA / 2 + 6,
      "text-anchor": "middle",
      "font-size": 20,
    }, "·"),
    block("a", a, xA, top),
    text({
      class: "label full",
      x: pad + fullW / 2,
      y: top + hW + 40,
      "text-anchor": "middle",
    }, fullLabel),
    text({
      class: "label lora",
      x: pad + fullW + opGap + loraW / 2,
      y: top + hW + 40,
      "text-anchor": "middle",
    }, loraLabel),
  ];
  return svgDocument("lora-update", width, height, `${fullLabel} = ${loraLabel}`, parts.join(""));
}
