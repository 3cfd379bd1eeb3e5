/**
 * The report: one self-contained HTML page with SVG charts drawn from d3 scales, shapes and
 * axes' ticks as strings (no DOM), the summary table as text, and atomic file writes.
 *
 * @module
 */
import * as d3 from "d3";
import type { DemoResults } from "./results.ts";

const W = 660;
const H = 320;
const M = { top: 24, right: 170, bottom: 44, left: 56 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

type Scale = { (v: number): number; ticks(count?: number): number[] };

/** A power of ten: the only ticks labelled on a log axis (the others get a tick mark). */
function isDecade(t: number): boolean {
  const e = Math.log10(t);
  return Math.abs(e - Math.round(e)) < 1e-9;
}

function axes(
  x: Scale,
  y: Scale,
  labels: { x: string; y: string; xFormat: (v: number) => string },
  log: { x: boolean; y: boolean },
): string {
  const parts: string[] = [];
  const y0 = H - M.bottom;
  parts.push(
    `<line x1="${M.left}" y1="${y0}" x2="${W - M.right}" y2="${y0}" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${y0}" stroke="#333"/>`,
  );
  for (const t of x.ticks(6)) {
    const px = x(t);
    parts.push(`<line x1="${px}" y1="${y0}" x2="${px}" y2="${y0 + 4}" stroke="#333"/>`);
    if (!log.x || isDecade(t)) {
      parts.push(
        `<text x="${px}" y="${y0 + 16}" text-anchor="middle" font-size="10">${
          esc(labels.xFormat(t))
        }</text>`,
      );
    }
  }
  for (const t of y.ticks(6)) {
    const py = y(t);
    parts.push(`<line x1="${M.left - 4}" y1="${py}" x2="${M.left}" y2="${py}" stroke="#333"/>`);
    if (!log.y || isDecade(t)) {
      parts.push(
        `<line x1="${M.left}" y1="${py}" x2="${W - M.right}" y2="${py}" stroke="#eee"/>`,
        `<text x="${M.left - 6}" y="${py + 3}" text-anchor="end" font-size="10">${
          esc(d3.format("~g")(t))
        }</text>`,
      );
    }
  }
  parts.push(
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle" font-size="11">${
      esc(labels.x)
    }</text>`,
    `<text transform="translate(14,${
      (M.top + H - M.bottom) / 2
    }) rotate(-90)" text-anchor="middle" font-size="11">${esc(labels.y)}</text>`,
  );
  return parts.join("");
}

function svg(title: string, body: string): string {
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${
    esc(title)
  }">${body}</svg><figcaption>${esc(title)}</figcaption></figure>`;
}

function legend(items: { label: string; color: string; dashed?: boolean }[]): string {
  return items.map((it, i) => {
    const y = M.top + 6 + i * 16;
    const x = W - M.right + 10;
    return `<line x1="${x}" y1="${y}" x2="${
      x + 18
    }" y2="${y}" stroke="${it.color}" stroke-width="2"${
      it.dashed ? ' stroke-dasharray="4 3"' : ""
    }/><text x="${x + 22}" y="${y + 3}" font-size="10">${esc(it.label)}</text>`;
  }).join("");
}

/**
 * Accuracy against trainable parameters (log x): each task's LoRA ranks as a line, full
 * fine-tuning as a point.
 *
 * @param r The results.
 * @returns An SVG figure.
 */
export function accuracyVsParams(r: DemoResults): string {
  const all = r.shifted.flatMap((s) => [s.full.trainable, ...s.lora.map((l) => l.trainable)]);
  const x = d3.scaleLog().domain(d3.extent(all) as [number, number]).range([
    M.left + 8,
    W - M.right - 8,
  ]).nice();
  const y = d3.scaleLinear().domain([0, 1]).range([H - M.bottom, M.top]);
  const line = d3.line<[number, number]>().x((d: [number, number]) => x(d[0])).y((
    d: [number, number],
  ) => y(d[1]));
  const parts = [
    axes(x, y, { x: "trainable parameters (log)", y: "test accuracy", xFormat: d3.format("~s") }, {
      x: true,
      y: false,
    }),
  ];
  const items: { label: string; color: string; dashed?: boolean }[] = [];
  r.shifted.forEach((s, i) => {
    const c = COLORS[i]!;
    const pts = s.lora.map((l) => [l.trainable, l.accuracy] as [number, number]);
    parts.push(`<path d="${line(pts)}" fill="none" stroke="${c}" stroke-width="2"/>`);
    for (const l of s.lora) {
      parts.push(
        `<circle cx="${x(l.trainable)}" cy="${y(l.accuracy)}" r="3" fill="${c}"/>`,
        `<text x="${x(l.trainable)}" y="${
          y(l.accuracy) + 13
        }" font-size="9" text-anchor="middle" fill="${c}">r=${l.rank}</text>`,
      );
    }
    parts.push(
      `<rect x="${x(s.full.trainable) - 4}" y="${
        y(s.full.accuracy) - 4
      }" width="8" height="8" fill="${c}"/>`,
      `<line x1="${M.left}" y1="${y(s.baseAccuracy)}" x2="${W - M.right}" y2="${
        y(s.baseAccuracy)
      }" stroke="${c}" stroke-dasharray="4 3"/>`,
    );
    items.push({ label: `${s.task}: LoRA`, color: c });
    items.push({ label: `${s.task}: base`, color: c, dashed: true });
  });
  parts.push(legend(items));
  return svg(
    "Accuracy vs trainable parameters: LoRA ranks (line), full fine-tuning (square), base model (dashed)",
    parts.join(""),
  );
}

/**
 * The singular values of the full fine-tune's ΔW (log y), per task and layer.
 *
 * @param r The results.
 * @returns An SVG figure.
 */
export function spectrumChart(r: DemoResults): string {
  const series = r.shifted.flatMap((s, i) =>
    s.spectrum.map((l, j) => ({
      label: `${s.task}, ${l.layer}`,
      color: COLORS[i]!,
      dashed: j === 1,
      values: l.singularValues.slice(0, 40).map((v, k) =>
        [k + 1, Math.max(v, 1e-12)] as [
          number,
          number,
        ]
      ),
    }))
  );
  const ys = series.flatMap((s) => s.values.map((v) => v[1]));
  const x = d3.scaleLinear().domain([1, 40]).range([M.left + 8, W - M.right - 8]);
  const y = d3.scaleLog().domain([
    Math.max(d3.min(ys) ?? 1e-6, (d3.max(ys) ?? 1) * 1e-4),
    d3.max(ys) ?? 1,
  ]).range([H - M.bottom, M.top]).nice().clamp(true);
  const line = d3.line<[number, number]>().x((d: [number, number]) => x(d[0])).y((
    d: [number, number],
  ) => y(d[1]));
  const parts = [
    axes(x, y, { x: "index i", y: "σ_i of ΔW (log)", xFormat: d3.format("d") }, {
      x: false,
      y: true,
    }),
  ];
  for (const s of series) {
    parts.push(
      `<path d="${line(s.values)}" fill="none" stroke="${s.color}" stroke-width="2"${
        s.dashed ? ' stroke-dasharray="4 3"' : ""
      }/>`,
    );
  }
  parts.push(legend(series));
  return svg(
    "Singular values of the full fine-tune's ΔW = W_full − W_base (first 40)",
    parts.join(""),
  );
}

/**
 * Accuracy against bytes (log x) for each format of the merged model.
 *
 * @param r The results.
 * @returns An SVG figure.
 */
export function accuracyVsBytes(r: DemoResults): string {
  const q = r.quantized;
  const x = d3.scaleLog().domain(d3.extent(q.map((f) => f.bytes)) as [number, number]).range([
    M.left + 16,
    W - M.right - 16,
  ]).nice();
  const lo = Math.min(...q.map((f) => f.accuracy));
  const y = d3.scaleLinear().domain([Math.max(0, Math.floor(lo * 10) / 10 - 0.05), 1]).range([
    H - M.bottom,
    M.top,
  ]);
  const parts = [
    axes(x, y, { x: "model bytes (log)", y: "test accuracy", xFormat: d3.format("~s") }, {
      x: true,
      y: false,
    }),
  ];
  q.forEach((f, i) => {
    const c = COLORS[i % COLORS.length]!;
    parts.push(
      `<circle cx="${x(f.bytes)}" cy="${y(f.accuracy)}" r="4" fill="${c}"/>`,
      `<text x="${x(f.bytes) + 6}" y="${
        y(f.accuracy) - 6 - (i % 3) * 9
      }" font-size="9" fill="${c}">${esc(f.format)}</text>`,
    );
  });
  return svg("Accuracy vs bytes of the merged model, per number format", parts.join(""));
}

function table(headers: string[], rows: (string | number)[][]): string {
  return `<table><thead><tr>${
    headers.map((h) => `<th>${esc(h)}</th>`).join("")
  }</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join("")}</tr>`).join("")
  }</tbody></table>`;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/**
 * The summary rows printed to the terminal and shown in the page.
 *
 * @param r The results.
 * @returns Header and rows.
 */
export function summaryRows(r: DemoResults): { headers: string[]; rows: string[][] } {
  const headers = ["task", "method", "accuracy", "trainable", "state bytes", "wall s"];
  const rows: string[][] = [[
    "clean digits",
    "base model",
    pct(r.base.accuracy),
    String(r.base.trainable),
    "",
    r.base.wallSeconds.toFixed(1),
  ]];
  for (const s of r.shifted) {
    rows.push([s.task, "base model", pct(s.baseAccuracy), "0", "", ""]);
    rows.push([
      s.task,
      "full fine-tuning",
      pct(s.full.accuracy),
      String(s.full.trainable),
      String(s.full.stateBytes),
      s.full.wallSeconds.toFixed(1),
    ]);
    for (const l of s.lora) {
      rows.push([
        s.task,
        `LoRA r=${l.rank}`,
        pct(l.accuracy),
        `${l.trainable} (${pct(l.trainableFraction)})`,
        String(l.stateBytes),
        l.wallSeconds.toFixed(1),
      ]);
    }
  }
  return { headers, rows };
}

/**
 * Formats rows as an aligned text table.
 *
 * @param headers Column names.
 * @param rows Cells.
 * @returns The table, one line per row.
 */
export function textTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join(
    "\n",
  );
}

/**
 * The self-contained HTML report.
 *
 * @param r The results.
 * @returns The page.
 */
export function renderReport(r: DemoResults): string {
  const summary = summaryRows(r);
  const spectrumRows = r.shifted.flatMap((s) =>
    s.spectrum.flatMap((l) =>
      l.truncations.map((t) => {
        const lora = s.lora.find((x) => x.rank === t.rank);
        return [
          s.task,
          l.layer,
          String(t.rank),
          pct(t.energy),
          t.relativeError.toFixed(3),
          pct(t.truncatedAccuracy),
          lora ? pct(lora.accuracy) : "",
        ];
      })
    )
  );
  const quantRows = r.quantized.map((f) => [
    f.format,
    pct(f.accuracy),
    String(f.bytes),
    f.bitsPerWeight.toFixed(2),
    f.sqnrDb.toFixed(1),
    f.note,
  ]);
  const sections: string[] = [];
  sections.push(
    `<h1>loraquant demo: LoRA and quantization on real digits</h1>`,
    `<p>Device: <b>${esc(r.device)}</b>${r.adapter ? ` (${esc(r.adapter)})` : ""}. Seed ${r.seed}${
      r.quick ? ", --quick" : ""
    }. ${esc(r.data.split)}. Wall time ${r.wallSeconds.toFixed(1)} s.</p>`,
    `<h2>Base model and the two shifted tasks</h2>`,
    `<ul>${
      r.shifted.map((s) => `<li><b>${esc(s.task)}</b>: ${esc(s.description)}</li>`).join("")
    }</ul>`,
    table(summary.headers, summary.rows),
    accuracyVsParams(r),
    `<h2>The low-rank hypothesis, measured</h2>`,
    `<p>ΔW = W<sub>full</sub> − W<sub>base</sub> of each layer: energy in its top-r singular directions, the relative Frobenius error of its best rank-r approximation (Eckart–Young), the accuracy of the full fine-tune with that layer's ΔW truncated to rank r, and LoRA's accuracy at rank r.</p>`,
    table(
      ["task", "layer", "r", "energy", "rel. error", "truncated full FT", "LoRA"],
      spectrumRows,
    ),
    spectrumChart(r),
    `<h2>Merge</h2>`,
    `<p>LoRA r=${r.merge.rank} of ${
      esc(r.merge.task)
    } merged into W (W' = W + s·B·A): max |merged − unmerged| logit ${
      r.merge.maxAbsDifference.toExponential(2)
    }, bound ${r.merge.bound.toExponential(2)} (every logit within its bound: ${
      r.merge.withinBound ? "yes" : "no"
    }); argmax agreement ${pct(r.merge.argmaxAgreement)}; unmerge round trip max |ΔW| ${
      r.merge.unmergeRoundTripMaxAbs.toExponential(2)
    }.</p>`,
    `<h2>Quantization of the merged model</h2>`,
    table(["format", "accuracy", "bytes", "bits/weight", "weight SQNR dB", "how"], quantRows),
    accuracyVsBytes(r),
    `<p>Accumulation (first ${r.accumulation.rows} test rows, float16 weights and activations): float16 accumulation max |Δlogit| ${
      r.accumulation.float16.maxAbsDifference.toExponential(2)
    }, argmax agreement ${pct(r.accumulation.float16.argmaxAgreement)}; float32 accumulation ${
      r.accumulation.float32.maxAbsDifference.toExponential(2)
    }, ${pct(r.accumulation.float32.argmaxAgreement)}.</p>`,
  );
  if (r.qlora) {
    sections.push(
      `<h2>QLoRA</h2>`,
      table(
        ["frozen base", "rank", "accuracy", "frozen bytes", "wall s"],
        r.qlora.map((
          q,
        ) => [
          q.base,
          String(q.rank),
          pct(q.accuracy),
          String(q.frozenBytes),
          q.wallSeconds.toFixed(1),
        ]),
      ),
    );
  }
  if (r.mixedPrecision) {
    sections.push(
      `<h2>Mixed precision</h2>`,
      table(
        ["compute", "master", "loss scale", "accuracy", "skipped steps", "wall s"],
        r.mixedPrecision.map((m) => [
          m.compute,
          m.master,
          String(m.lossScale),
          pct(m.accuracy),
          String(m.skippedSteps),
          m.wallSeconds.toFixed(1),
        ]),
      ),
    );
  }
  if (r.gpu) {
    sections.push(
      `<h2>GPU vs reference</h2>`,
      `<p>${r.gpu.rows} test rows: max |GPU − reference| logit ${
        r.gpu.maxAbsDifference.toExponential(2)
      }, argmax agreement ${pct(r.gpu.argmaxAgreement)}; accuracy ${
        pct(r.gpu.gpuAccuracy)
      } (GPU) vs ${pct(r.gpu.referenceAccuracy)} (reference).</p>`,
    );
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>loraquant demo</title>
<style>body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}
th{background:#f4f4f4}figure{margin:1em 0}figcaption{font-size:12px;color:#555}</style></head>
<body>${sections.join("\n")}</body></html>
`;
}

/**
 * Writes a file atomically: to a temporary file beside it, then renamed over it, so a reader
 * (or an interrupted run) never sees a half-written file.
 *
 * @param path The destination.
 * @param text The contents.
 * @returns Resolves when renamed.
 */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
