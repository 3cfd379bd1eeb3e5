/**
 * The bench's console table: one row per figure, grouped by suite and size, with the ratio to
 * the best peer, followed by the skipped measurements and their reasons.
 *
 * @module
 */
import { ratioToBestPeer } from "./best_peer.ts";
import type { BenchResult, BenchSkip } from "./result.ts";

function pad(s: string, width: number, right: boolean): string {
  return right ? s.padStart(width) : s.padEnd(width);
}

/**
 * Formats results as a fixed-width text table, grouped by suite (in order of first appearance)
 * then size (ascending), keeping the given order within a group, with the columns suite, case,
 * impl, size,
 * wall ms, GPU ms (`—` without timestamp queries), GFLOP/s and "× best peer" (the ratio of
 * `best-peer.ts`, `—` where no peer ran), a blank line between groups; then one line per skip. Times are
 * printed with 3 decimals, rates with 2 and ratios with 2 followed by `×`.
 *
 * @param results The figures, in display order.
 * @param skipped The measurements that could not run.
 * @returns The table, lines joined by `\n`, without a trailing newline.
 *
 * @example One row
 * ```ts
 * import { formatTable } from "@loraquant/bench/table";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const text = formatTable([
 *   { suite: "matmul-f32", case: "register", impl: "loraquant-gpu", size: 256, medianMs: 2, gflops: 16.78 },
 * ], [{ suite: "matmul-f32", impl: "ort-webgpu", reason: "no wasm" }]);
 * assertStringIncludes(text, "16.78");
 * assertStringIncludes(text, "skipped: ort-webgpu (matmul-f32): no wasm");
 * ```
 */
export function formatTable(
  results: readonly BenchResult[],
  skipped: readonly BenchSkip[] = [],
): string {
  const header = ["suite", "case", "impl", "size", "wall ms", "GPU ms", "GFLOP/s", "× best peer"];
  const right = [false, false, false, true, true, true, true, true];
  const suites = [...new Set(results.map((r) => r.suite))];
  const ordered = results.map((r, i) => ({ r, i })).sort((p, q) =>
    suites.indexOf(p.r.suite) - suites.indexOf(q.r.suite) || p.r.size - q.r.size || p.i - q.i
  ).map(({ r }) => r);
  const rows = ordered.map((r) => {
    const ratio = ratioToBestPeer(results, r);
    return [
      r.suite,
      r.case,
      r.impl,
      String(r.size),
      r.medianMs.toFixed(3),
      r.gpuMs === undefined ? "—" : r.gpuMs.toFixed(3),
      r.gflops.toFixed(2),
      ratio === undefined ? "—" : `${ratio.toFixed(2)}×`,
    ];
  });
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((row) => row[j]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, j) => pad(c, widths[j]!, right[j]!)).join("  ").trimEnd();
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  ")];
  let previous = "";
  for (const [i, row] of rows.entries()) {
    const group = `${ordered[i]!.suite}|${ordered[i]!.size}`;
    if (previous !== "" && group !== previous) out.push("");
    previous = group;
    out.push(line(row));
  }
  for (const s of skipped) out.push(`skipped: ${s.impl} (${s.suite}): ${s.reason}`);
  return out.join("\n");
}
