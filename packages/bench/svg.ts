/**
 * The bench's figure (`packages/bench/results/latest.svg`): GFLOP/s per implementation and size
 * as horizontal bars, written by hand (no plotting library).
 *
 * @module
 */
import { BENCH_IMPLS, type BenchImpl, type BenchResult } from "./result.ts";

/** The fill colour of each implementation's bars. */
export const IMPL_COLORS: Readonly<Record<BenchImpl, string>> = {
  "loraquant-gpu": "#1f77b4",
  "loraquant-reference": "#7f7f7f",
  "tfjs-webgpu": "#ff7f0e",
  "ort-webgpu": "#2ca02c",
};

/** Escapes the five XML special characters of a text node or attribute value. */
function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Options of {@linkcode resultsSvg}. */
export interface ResultsSvgOptions {
  /** The title above the bars. @default {"loraquant bench: GFLOP/s (higher is better)"} */
  title?: string;
  /** A line under the title (e.g. the adapter's name). @default {""} */
  subtitle?: string;
}

/**
 * Draws one horizontal bar per record, in the order given, labelled `suite · case · size`, its
 * length proportional to `gflops` on a linear axis from 0 to the largest rate (rounded up to a
 * "nice" 1, 2 or 5 × 10^k, with gridlines at round values), coloured by implementation (legend at the top), the rate printed at
 * its end. Pure: the same records give the same string.
 *
 * @param results The figures.
 * @param options Title and subtitle.
 * @returns A standalone SVG document (UTF-8 text, `viewBox` in px).
 *
 * @example Two bars
 * ```ts
 * import { resultsSvg } from "@loraquant/bench/svg";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const svg = resultsSvg([
 *   { suite: "matmul-f32", case: "register", impl: "loraquant-gpu", size: 1024, medianMs: 100, gflops: 21.47 },
 *   { suite: "matmul-f32", case: "matMul", impl: "tfjs-webgpu", size: 1024, medianMs: 500, gflops: 4.29 },
 * ]);
 * assertStringIncludes(svg, "<svg");
 * assertStringIncludes(svg, "21.47");
 * ```
 */
export function resultsSvg(
  results: readonly BenchResult[],
  options: ResultsSvgOptions = {},
): string {
  const title = options.title ?? "loraquant bench: GFLOP/s (higher is better)";
  const subtitle = options.subtitle ?? "";
  const labelWidth = 300;
  const plotWidth = 440;
  const barHeight = 16;
  const gap = 6;
  const top = 84;
  const left = labelWidth + 10;
  const width = left + plotWidth + 70;
  const height = top + results.length * (barHeight + gap) + 30;
  const max = niceCeiling(Math.max(0, ...results.map((r) => r.gflops)));
  const x = (v: number) => left + (max > 0 ? (v / max) * plotWidth : 0);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="22" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="40" fill="#555555">${escapeXml(subtitle)}</text>`,
  ];
  BENCH_IMPLS.forEach((impl, i) => {
    const lx = 10 + i * 170;
    parts.push(
      `<rect x="${lx}" y="52" width="12" height="12" fill="${IMPL_COLORS[impl]}"/>`,
      `<text x="${lx + 16}" y="62">${impl}</text>`,
    );
  });
  // Gridlines at round values: 5 intervals of a 1 or 5 × 10^k axis, 4 of a 2 × 10^k one.
  const intervals = Math.round(max / 10 ** Math.floor(Math.log10(max))) === 2 ? 4 : 5;
  for (let t = 0; t <= intervals; t++) {
    const v = (max * t) / intervals;
    const tx = x(v).toFixed(1);
    parts.push(
      `<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${height - 24}" stroke="#dddddd"/>`,
      `<text x="${tx}" y="${height - 10}" text-anchor="middle" fill="#555555">${
        formatTick(v)
      }</text>`,
    );
  }
  results.forEach((r, i) => {
    const y = top + i * (barHeight + gap);
    const label = `${r.suite} · ${r.case} · ${r.size}`;
    const w = Math.max(0, x(r.gflops) - left);
    parts.push(
      `<text x="${labelWidth}" y="${y + barHeight - 4}" text-anchor="end">${
        escapeXml(label)
      }</text>`,
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${
        IMPL_COLORS[r.impl]
      }"><title>${escapeXml(`${r.impl}: ${label}`)}</title></rect>`,
      `<text x="${(left + w + 4).toFixed(1)}" y="${y + barHeight - 4}">${
        r.gflops.toFixed(2)
      }</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/** The smallest 1, 2 or 5 × 10^k ≥ v (1 for v ≤ 0). */
function niceCeiling(v: number): number {
  if (!(v > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= v) return step * power;
  }
  return 10 * power;
}

function formatTick(v: number): string {
  return String(Number(v.toPrecision(6)));
}
