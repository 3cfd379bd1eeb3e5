import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import {
  accuracyVsBytes,
  accuracyVsParams,
  renderReport,
  spectrumChart,
  summaryRows,
  textTable,
  writeAtomic,
} from "./report.ts";
import { startProgress } from "./progress.ts";
import type { DemoResults, ShiftedResult } from "./results.ts";
// The figures' own test parser: the report's charts are checked as parsed SVG, not as strings.
import {
  attr,
  axisTicks,
  byClass,
  parseSvg,
  type SvgNode,
  texts,
} from "../packages/notebook/figures/_testing.ts";

/** A small, hand-made results object (two tasks, three ranks, four formats). */
function fixture(): DemoResults {
  const task = (name: string, base: number, full: number, accs: number[]): ShiftedResult => ({
    task: name,
    lowRank: true,
    description: `${name} & <friends>`,
    baseAccuracy: base,
    full: { accuracy: full, trainable: 75146, stateBytes: 901752, wallSeconds: 3 },
    lora: accs.map((accuracy, i) => {
      const rank = 2 ** i;
      return {
        rank,
        accuracy,
        trainable: 842 * rank,
        stateBytes: 12 * 842 * rank,
        wallSeconds: 1,
        gainFraction: (accuracy - base) / (full - base),
        trainableFraction: (842 * rank) / 75146,
      };
    }),
    spectrum: ["layer 1", "layer 2"].map((layer, j) => ({
      layer,
      shape: [128, 576] as [number, number],
      singularValues: Array.from({ length: 50 }, (_, k) => 10 * 0.7 ** k / (j + 1)),
      truncations: [{ rank: 1, energy: 0.5, relativeError: 0.7, truncatedAccuracy: 0.6 }],
    })),
  });
  return {
    device: "reference",
    seed: 1,
    quick: true,
    config: {},
    data: {
      source: "mnist",
      digits: 10,
      trainSize: 100,
      testSize: 50,
      pixels: 576,
      split: "a split",
    },
    base: { accuracy: 0.95, trainable: 75146, wallSeconds: 5, hidden: 128 },
    shifted: [
      task("swapped<labels>", 0.17, 0.93, [0.76, 0.89, 0.9]),
      task("rotated-90", 0.16, 0.94, [0.63, 0.81, 0.87]),
    ],
    chosenRank: 2,
    merge: {
      task: "swapped<labels>",
      rank: 2,
      rows: 50,
      maxAbsDifference: 1e-15,
      bound: 1e-13,
      withinBound: true,
      argmaxAgreement: 1,
      unmergeRoundTripMaxAbs: 1e-16,
      accuracy: 0.89,
    },
    quantized: [
      {
        format: "float32",
        accuracy: 0.893,
        bytes: 305000,
        bitsPerWeight: 32,
        sqnrDb: Infinity,
        note: "",
      },
      { format: "int8", accuracy: 0.89, bytes: 77000, bitsPerWeight: 8, sqnrDb: 40, note: "" },
      { format: "nf4", accuracy: 0.89, bytes: 41000, bitsPerWeight: 4.1, sqnrDb: 20, note: "" },
      { format: "ternary", accuracy: 0.646, bytes: 16000, bitsPerWeight: 1.6, sqnrDb: 8, note: "" },
    ],
    accumulation: {
      rows: 50,
      inputs: "float16",
      float16: { maxAbsDifference: 1e-2, argmaxAgreement: 0.99, accuracy: 0.9 },
      float32: { maxAbsDifference: 1e-4, argmaxAgreement: 1, accuracy: 0.9 },
    },
    wallSeconds: 30,
  };
}

/** The `<svg>` inside a report figure, parsed. */
function svgOf(figureHtml: string): SvgNode {
  const m = figureHtml.match(/<svg[\s\S]*<\/svg>/);
  assert(m !== null, "the figure holds an <svg>");
  return parseSvg(m[0]);
}

/** The pixel y of a value on a linear y axis, from its labelled ticks. */
function yPixel(svg: SvgNode, value: number): number {
  const ticks = byClass(byClass(svg, "axis", "y")[0]!, "tick").map((t) => ({
    v: Number(t.attrs["data-value"]),
    y: attr(byClass(t, "grid")[0]!, "y1"),
  }));
  const [a, b] = [ticks[0]!, ticks[ticks.length - 1]!];
  return a.y + ((value - a.v) * (b.y - a.y)) / (b.v - a.v);
}

Deno.test("accuracyVsParams() draws each task's LoRA line, full fine-tune point and base line", () => {
  const r = fixture();
  const svg = svgOf(accuracyVsParams(r));
  const series = byClass(svg, "series");
  assertEquals(series.length, 3 * r.shifted.length);
  assertEquals(series.map((s) => s.attrs["data-name"]), [
    "swapped<labels>: LoRA",
    "swapped<labels>: full fine-tuning",
    "swapped<labels>: base model",
    "rotated-90: LoRA",
    "rotated-90: full fine-tuning",
    "rotated-90: base model",
  ]);
  assertEquals(byClass(series[0]!, "point-label").map((t) => t.text), ["r=1", "r=2", "r=4"]);
  assertEquals(byClass(series[2]!, "line")[0]!.attrs["stroke-dasharray"], "5 3");
  // The log x axis labels powers of ten; more parameters lie further right.
  for (const t of axisTicks(svg, "x")) assertEquals(Math.log10(t.value) % 1, 0);
  const lora = byClass(series[0]!, "marker").map((c) => attr(c, "cx"));
  const full = attr(byClass(series[1]!, "marker")[0]!, "cx");
  assert(lora[0]! < lora[1]! && lora[1]! < lora[2]! && lora[2]! < full);
  // Accuracies on the linear y axis [0, 1].
  r.shifted[0]!.lora.forEach((l, i) => {
    assertAlmostEquals(
      attr(byClass(series[0]!, "marker")[i]!, "cy"),
      yPixel(svg, l.accuracy),
      0.05,
    );
  });
  assertEquals(byClass(svg, "legend-item").length, 6);
});

Deno.test("spectrumChart() draws one series per task and layer on a log axis", () => {
  const svg = svgOf(spectrumChart(fixture()));
  assertEquals(byClass(svg, "series").length, 4);
  const ticks = axisTicks(svg, "y");
  assert(ticks.length >= 2);
  for (const t of ticks) {
    assertAlmostEquals(Math.log10(t.value), Math.round(Math.log10(t.value)), 1e-9);
  }
  assertEquals(byClass(byClass(svg, "series")[1]!, "line")[0]!.attrs["stroke-dasharray"], "5 3");
});

Deno.test("accuracyVsBytes() draws one labelled point per format, coloured by family", () => {
  const r = fixture();
  const svg = svgOf(accuracyVsBytes(r));
  const points = byClass(svg, "point");
  assertEquals(points.length, r.quantized.length);
  assertEquals(byClass(svg, "point-label").map((t) => t.text), r.quantized.map((f) => f.format));
  assertEquals(points[1]!.attrs.fill, points[3]!.attrs.fill); // int8 and ternary: integers
  assert(points[0]!.attrs.fill !== points[1]!.attrs.fill);
  // Fewer bytes lie further left.
  const cx = points.map((p) => attr(p, "cx"));
  assert(cx[0]! > cx[1]! && cx[1]! > cx[2]! && cx[2]! > cx[3]!);
});

Deno.test("renderReport() is one self-contained page: three charts, escaped text, no scripts", () => {
  const html = renderReport(fixture());
  assertEquals(html.match(/<svg /g)?.length, 3);
  assertEquals(/<script|<link|src="|href="http|url\(/i.test(html), false);
  assertStringIncludes(html, "swapped&lt;labels&gt;");
  assertEquals(html.includes("swapped<labels>"), false);
  for (const m of html.matchAll(/<svg[\s\S]*?<\/svg>/g)) {
    const svg = parseSvg(m[0]);
    assertEquals(svg.attrs.role, "img");
    assert(texts(svg).length > 0);
  }
  const { rows } = summaryRows(fixture());
  assertEquals(rows.length, 1 + 2 * (2 + 3));
});

Deno.test("writeAtomic() replaces a file whole and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/r.json`, "old");
  await writeAtomic(`${dir}/r.json`, "new");
  assertEquals(await Deno.readTextFile(`${dir}/r.json`), "new");
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["r.json"]);
  await assertRejects(() => writeAtomic(`${dir}/missing/r.json`, "x"));
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["r.json"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("textTable() aligns its columns", () => {
  assertEquals(textTable(["a", "bb"], [["ccc", "d"]]), "a    bb\n---  --\nccc  d ");
});

Deno.test("startProgress() prints plain lines when stdout is not a terminal", () => {
  let text = "";
  const p = startProgress("step", { tty: false, write: (t) => (text += t) });
  for (let i = 1; i <= 100; i++) p.update(i / 100);
  p.done("ok");
  const lines = text.trimEnd().split("\n");
  assertEquals(lines.slice(0, 4), ["step ...", "  step: 25%", "  step: 50%", "  step: 75%"]);
  assertStringIncludes(lines[4]!, "step: done in");
  assertEquals(text.includes("\r"), false);
});
