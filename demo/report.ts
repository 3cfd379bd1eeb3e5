/**
 * The report: one self-contained HTML page whose SVG charts come from the shared figures of
 * `@loraquant/notebook` (d3 scales and shapes as strings, no DOM, no scripts), the summary table
 * as text, and atomic file writes.
 *
 * @module
 */
import { lineChart, scatterChart, type Series } from "@loraquant/notebook";
import type { DemoResults } from "./results.ts";

/** Charts are drawn this wide (the page is 980 px): room for the plot and its legend. */
const CHART_WIDTH = 900;
const CHART_HEIGHT = 380;

/** One colour per task (Tableau 10's first colours, as the shared figures use). */
const TASK_COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
}

/**
 * Accuracy against trainable parameters (log x), drawn with the shared `lineChart`: each task's
 * LoRA ranks as a labelled line, full fine-tuning as a point, the base model as a dashed line,
 * one colour per task.
 *
 * @param r The results.
 * @returns An SVG figure.
 */
export function accuracyVsParams(r: DemoResults): string {
  const all = r.shifted.flatMap((s) => [s.full.trainable, ...s.lora.map((l) => l.trainable)]);
  const xMin = Math.min(...all);
  const xMax = Math.max(...all);
  const series: Series[] = r.shifted.flatMap((s, i) => {
    const color = TASK_COLORS[i % TASK_COLORS.length]!;
    return [
      {
        name: `${s.task}: LoRA`,
        points: s.lora.map((l) => [l.trainable, l.accuracy] as const),
        labels: s.lora.map((l) => `r=${l.rank}`),
        color,
      },
      { name: `${s.task}: full fine-tuning`, points: [[s.full.trainable, s.full.accuracy]], color },
      {
        name: `${s.task}: base model`,
        points: [[xMin, s.baseAccuracy], [xMax, s.baseAccuracy]],
        color,
        dashed: true,
      },
    ];
  });
  const title = "Accuracy vs trainable parameters";
  return figure(
    lineChart({
      series,
      title,
      xLabel: "trainable parameters (log)",
      yLabel: "test accuracy",
      xScale: "log",
      xTickFormat: "~s",
      yDomain: [0, 1],
      yTickFormat: ".0%",
      markers: true,
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
    }),
    `${title}: LoRA at each rank r (line), full fine-tuning (point), the base model before ` +
      "adaptation (dashed).",
  );
}

/**
 * The singular values of the full fine-tune's ΔW (log y), per task and layer, drawn with the
 * shared `lineChart` (the first 40; values below 10⁻⁴ of the largest are drawn at the axis floor).
 *
 * @param r The results.
 * @returns An SVG figure.
 */
export function spectrumChart(r: DemoResults): string {
  const count = 40;
  const series: Series[] = r.shifted.flatMap((s, i) =>
    s.spectrum.map((l, j) => ({
      name: `${s.task}, ${l.layer}`,
      color: TASK_COLORS[i % TASK_COLORS.length]!,
      dashed: j === 1,
      points: l.singularValues.slice(0, count).map((v, k) => [k + 1, Math.max(v, 1e-300)] as const),
    }))
  );
  const top = Math.max(...series.flatMap((s) => s.points.map((p) => p[1])));
  const floor = Math.max(
    Math.min(...series.flatMap((s) => s.points.map((p) => p[1]))),
    top * 1e-4,
  );
  const title = "Singular values of ΔW = W_full − W_base";
  return figure(
    lineChart({
      series,
      title,
      xLabel: "index i",
      yLabel: "σ_i of ΔW (log)",
      yScale: "log",
      yDomain: [10 ** Math.floor(Math.log10(floor)), 10 ** Math.ceil(Math.log10(top))],
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
    }),
    `${title} of the full fine-tune, per task (colour) and layer (layer 2 dashed), first ${count}.`,
  );
}

/** The family a storage format belongs to, for the colours of the bytes chart. */
function formatFamily(format: string): string {
  if (/^(float|bfloat|fp8)/.test(format)) return "float formats";
  if (/^(int|ternary)/.test(format)) return "integer formats";
  return "block formats (scale per block)";
}

/**
 * Accuracy against bytes (log x) for each format of the merged model, drawn with the shared
 * `scatterChart`, each point labelled with its format and coloured by family.
 *
 * @param r The results.
 * @returns An SVG figure.
 */
export function accuracyVsBytes(r: DemoResults): string {
  const title = "Accuracy vs bytes of the merged model";
  return figure(
    scatterChart({
      points: r.quantized.map((f) => ({
        x: f.bytes,
        y: f.accuracy,
        label: f.format,
        group: formatFamily(f.format),
      })),
      title,
      xLabel: "model bytes (log)",
      yLabel: "test accuracy",
      xScale: "log",
      xTickFormat: "~s",
      yTickFormat: ".0%",
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
    }),
    `${title}, one point per number format.`,
  );
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
    `<p>Device: <b>${esc(r.device)}</b>${r.adapter ? ` (${esc(r.adapter)})` : ""}${
      r.device === "gpu"
        ? " — training on the WebGPU kernels (float32); mixed precision and the number formats on " +
          "the float64 reference"
        : " — everything on the float64 reference"
    }. Seed ${r.seed}${r.quick ? ", --quick" : ""}. ${esc(r.data.split)}. Wall time ${
      r.wallSeconds.toFixed(1)
    } s.</p>`,
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
        [
          "compute",
          "master",
          "loss scale",
          "accuracy",
          "skipped steps",
          "gradient entries flushed to 0",
          "wall s",
        ],
        r.mixedPrecision.map((m) => [
          m.compute,
          m.master,
          String(m.lossScale),
          pct(m.accuracy),
          String(m.skippedSteps),
          m.flushedFraction === 0 ? "0" : `${(100 * m.flushedFraction).toPrecision(2)}%`,
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
th{background:#f4f4f4}figure{margin:1em 0}figure svg{max-width:100%;height:auto}
figcaption{font-size:12px;color:#555}</style></head>
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
