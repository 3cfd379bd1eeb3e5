/**
 * `@loraquant/notebook`: the shared figures of the teaching material — pure functions that return
 * SVG strings built with d3's DOM-free modules (scales, shapes, arrays, formats, colour schemes).
 * The notebooks show them with `Deno.jupyter.svg`, the site and the demo report inline them.
 *
 * Every figure is deterministic, needs no DOM and no Deno API (it also runs in a browser bundle),
 * takes all its visible text from the caller (Spanish or English) and XML-escapes it, and validates
 * its input, throwing a `TypeError`/`RangeError` (the reference's `LoraquantTypeError` /
 * `LoraquantRangeError`, with a `code`) that names the argument and the reason. Each SVG carries
 * `role="img"`, an `aria-label` (the title) and class names on its parts (`series`, `bar`,
 * `cell`, `bit sign`, `marker wrap`, …).
 *
 * @example A bar chart in Spanish
 * ```ts
 * import { barChart } from "@loraquant/notebook";
 * import { assertEquals, assertStringIncludes } from "@std/assert";
 *
 * const svg = barChart({
 *   bars: [{ label: "float32", value: 4 }, { label: "int8", value: 1 }],
 *   title: "Bytes por peso",
 *   yLabel: "bytes",
 * });
 * assertStringIncludes(svg, 'aria-label="Bytes por peso"');
 * assertEquals(svg.match(/class="bar"/g)?.length, 2);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./line_chart.ts";
export * from "./bar_chart.ts";
export * from "./histogram.ts";
export * from "./heatmap.ts";
export * from "./lora_update.ts";
export * from "./bit_layout.ts";
export * from "./overflow_line.ts";
export * from "./scatter_chart.ts";
