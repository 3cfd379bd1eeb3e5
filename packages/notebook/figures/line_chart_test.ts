import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { lineChart } from "./line_chart.ts";
import { attr, axisTicks, byClass, parseSvg, texts } from "./_testing.ts";

const base = { xLabel: "paso", yLabel: "error" } as const;
/** Coordinates with two decimals in [−1000, 1000]. */
const coordinate = fc.integer({ min: -100000, max: 100000 }).map((v) => v / 100);

Deno.test("lineChart() draws one series per series, a legend, the title and the axis labels", () => {
  const title = 'Pérdida < 1 & "x" > 0';
  const raw = lineChart({
    ...base,
    title,
    series: [
      { name: "a<b", points: [[0, 1], [1, 2], [2, 3]] },
      { name: "c&d", points: [[0, 3], [1, 2], [2, 1]], dashed: true },
      { name: "e", points: [[1, 1.5]] },
    ],
  });
  assert(!raw.includes(title), "the title is escaped");
  const svg = parseSvg(raw);
  assertEquals(svg.attrs.role, "img");
  assertEquals(svg.attrs["aria-label"], title);
  assertEquals(byClass(svg, "series").length, 3);
  assertEquals(byClass(svg, "series").map((s) => s.attrs["data-name"]), ["a<b", "c&d", "e"]);
  assertEquals(byClass(svg, "legend-item").length, 3);
  const all = texts(svg);
  for (const t of [title, "paso", "error", "a<b", "c&d", "e"]) assert(all.includes(t), t);
  // A one-point series is a marker, without a line.
  const single = byClass(svg, "series")[2]!;
  assertEquals(byClass(single, "line").length, 0);
  assertEquals(byClass(single, "marker").length, 1);
  assertEquals(byClass(byClass(svg, "series")[1]!, "line")[0]!.attrs["stroke-dasharray"], "5 3");
});

Deno.test("lineChart() draws no legend for a single series, and is deterministic", () => {
  const o = { ...base, series: [{ name: "s", points: [[1, 2], [3, 4]] as [number, number][] }] };
  assertEquals(byClass(parseSvg(lineChart(o)), "legend").length, 0);
  assertEquals(lineChart(o), lineChart(o));
});

Deno.test("lineChart() places markers on linear scales: pixel offsets proportional to data offsets", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(coordinate, coordinate), { minLength: 3, maxLength: 12 }),
      (pts) => {
        const svg = parseSvg(
          lineChart({ ...base, markers: true, series: [{ name: "s", points: pts }] }),
        );
        const m = byClass(svg, "marker").map((c) => [attr(c, "cx"), attr(c, "cy")] as const);
        assertEquals(m.length, pts.length);
        // The scale factors from the two points farthest apart in each coordinate.
        const far = (c: 0 | 1): [number, number] => {
          const v = pts.map((p) => p[c]);
          return [v.indexOf(Math.min(...v)), v.indexOf(Math.max(...v))];
        };
        const [x0, x1] = far(0);
        const [y0, y1] = far(1);
        fc.pre(pts[x1]![0] > pts[x0]![0] && pts[y1]![1] > pts[y0]![1]);
        const sx = (m[x1]![0] - m[x0]![0]) / (pts[x1]![0] - pts[x0]![0]);
        const sy = (m[y1]![1] - m[y0]![1]) / (pts[y1]![1] - pts[y0]![1]);
        assert(sx > 0 && sy < 0, "x grows rightwards, y upwards");
        for (let k = 0; k < pts.length; k++) {
          // Coordinates are printed to 0.01 px.
          assertAlmostEquals(m[k]![0] - m[x0]![0], sx * (pts[k]![0] - pts[x0]![0]), 0.05);
          assertAlmostEquals(m[k]![1] - m[y0]![1], sy * (pts[k]![1] - pts[y0]![1]), 0.05);
        }
      },
    ),
    { seed: 6, numRuns: 100 },
  );
});

Deno.test("lineChart() on a log axis labels powers of ten, evenly spaced", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 1e-9, max: 1e9, noNaN: true }), { minLength: 2, maxLength: 30 }),
      (ys) => {
        fc.pre(Math.max(...ys) / Math.min(...ys) > 10);
        const svg = parseSvg(lineChart({
          ...base,
          yScale: "log",
          series: [{ name: "σ", points: ys.map((y, i) => [i, y]) }],
        }));
        const ticks = axisTicks(svg, "y");
        assert(ticks.length >= 2);
        for (const t of ticks) {
          const e = Math.log10(t.value);
          assertAlmostEquals(e, Math.round(e), 1e-9, `${t.value} is a power of ten`);
        }
        // Equal ratios, equal distances: the pixel gap per decade is constant.
        const px = byClass(byClass(svg, "axis", "y")[0]!, "tick")
          .filter((t) => t.attrs.class === "tick")
          .map((t) => attr(byClass(t, "grid")[0]!, "y1"));
        const perDecade = (px[1]! - px[0]!) / Math.log10(ticks[1]!.value / ticks[0]!.value);
        for (let k = 2; k < px.length; k++) {
          assertAlmostEquals(
            px[k]! - px[0]!,
            perDecade * Math.log10(ticks[k]!.value / ticks[0]!.value),
            0.05,
          );
        }
      },
    ),
    { seed: 7, numRuns: 100 },
  );
});

Deno.test("lineChart() labels a log axis with superscript powers far from 1, or a d3 format", () => {
  const o = {
    ...base,
    yScale: "log" as const,
    series: [{ name: "s", points: [[0, 1e-8], [1, 1]] as [number, number][] }],
  };
  const labels = axisTicks(parseSvg(lineChart(o)), "y").map((t) => t.label);
  assert(labels.includes("10⁻⁸") || labels.includes("10⁻⁶"), labels.join(" "));
  // One style per axis: 1 is written 10⁰ beside 10⁻⁸, never a plain "1".
  assert(labels.includes("10⁰") && !labels.includes("1"), labels.join(" "));
  const near = { ...o, series: [{ name: "s", points: [[0, 1], [1, 1000]] as [number, number][] }] };
  const plain = axisTicks(parseSvg(lineChart(near)), "y").map((t) => t.label).filter(Boolean);
  assert(plain.includes("1") && plain.includes("1000"), plain.join(" "));
  const x = axisTicks(parseSvg(lineChart({ ...o, xTickFormat: ".2f" })), "x").map((t) => t.label);
  assert(x.every((l) => /^\d+\.\d\d$/.test(l)), x.join(" "));
});

Deno.test("lineChart() keeps a fixed yDomain and draws points outside it at its edge", () => {
  const svg = parseSvg(lineChart({
    ...base,
    yDomain: [0, 1],
    markers: true,
    series: [{ name: "s", points: [[0, 0.5], [1, 2], [2, 1]] }],
  }));
  const ticks = axisTicks(svg, "y");
  assertEquals(ticks[0]!.value, 0);
  assertEquals(ticks[ticks.length - 1]!.value, 1);
  const cy = byClass(svg, "marker").map((c) => attr(c, "cy"));
  assertEquals(cy[1], cy[2]);
});

Deno.test("lineChart() writes point labels beside their points", () => {
  const svg = parseSvg(lineChart({
    ...base,
    series: [{ name: "LoRA", points: [[1, 1], [2, 2]], labels: ["r=1", "r=2"] }],
  }));
  assertEquals(byClass(svg, "point-label").map((t) => t.text), ["r=1", "r=2"]);
});

Deno.test("lineChart() rejects bad input, naming the argument", () => {
  const s = (points: [number, number][]) => [{ name: "s", points }];
  const e1 = assertThrows(() => lineChart({ ...base, series: s([[0, NaN]]) }), RangeError);
  assert(e1.message.includes("series[0].points[0][1]"));
  assertThrows(
    () => lineChart({ ...base, series: s([[0, 1], [1, 0]]), yScale: "log" }),
    RangeError,
    "> 0",
  );
  assertThrows(() => lineChart({ ...base, series: s([[-1, 1]]), xScale: "log" }), RangeError, "x");
  assertThrows(() => lineChart({ ...base, series: [] }), RangeError, "at least one point");
  assertThrows(
    () => lineChart({ ...base, series: [{ name: "s", points: [[0, 1]], labels: ["a", "b"] }] }),
    TypeError,
    "labels",
  );
  assertThrows(
    () =>
      lineChart({ yLabel: "y", series: s([[0, 1]]) } as unknown as Parameters<typeof lineChart>[0]),
    TypeError,
    "xLabel",
  );
  assertThrows(
    () => lineChart({ ...base, series: s([[0, 1]]), yDomain: [1, 0] }),
    RangeError,
    "yDomain",
  );
  assertThrows(
    () => lineChart({ ...base, series: s([[0, 1]]), xTickFormat: "%%%q" }),
    TypeError,
    "xTickFormat",
  );
  assertThrows(
    () => lineChart({ ...base, series: s([[0, 1]]), width: Infinity }),
    RangeError,
    "width",
  );
});
