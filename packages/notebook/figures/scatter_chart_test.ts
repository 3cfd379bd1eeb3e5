import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { scatterChart } from "./scatter_chart.ts";
import { attr, axisTicks, byClass, parseSvg, texts } from "./_testing.ts";

const points = [
  { x: 400000, y: 0.893, label: "float32", group: "float" },
  { x: 100000, y: 0.89, label: "int8", group: "integer" },
  { x: 50000, y: 0.875, label: "mxfp4 & <co>", group: "block" },
  { x: 12500, y: 0.65, label: "ternary", group: "integer" },
];

Deno.test("scatterChart() draws a point per point, labels, a legend per group, a log x axis", () => {
  const raw = scatterChart({
    points,
    xLabel: "bytes",
    yLabel: "accuracy",
    xScale: "log",
    title: "Bytes",
  });
  assert(!raw.includes("<co>"));
  const svg = parseSvg(raw);
  const circles = byClass(svg, "point");
  assertEquals(circles.length, 4);
  assertEquals(byClass(svg, "legend-item").length, 3);
  assertEquals(circles[1]!.attrs.fill, circles[3]!.attrs.fill);
  const all = texts(svg);
  for (const t of ["float32", "int8", "mxfp4 & <co>", "ternary", "bytes", "accuracy", "Bytes"]) {
    assert(all.includes(t), t);
  }
  for (const t of axisTicks(svg, "x")) {
    assertAlmostEquals(Math.log10(t.value), Math.round(Math.log10(t.value)), 1e-9);
  }
  // log x: equal ratios, equal distances (400000/100000 = 4 = 50000/12500).
  const cx = circles.map((c) => attr(c, "cx"));
  assertAlmostEquals(cx[0]! - cx[1]!, cx[2]! - cx[3]!, 0.05);
  // Linear y: pixel gaps proportional to value gaps.
  const cy = circles.map((c) => attr(c, "cy"));
  const perUnit = (cy[3]! - cy[0]!) / (0.65 - 0.893);
  assertAlmostEquals(cy[1]! - cy[0]!, perUnit * (0.89 - 0.893), 0.05);
  assertAlmostEquals(cy[2]! - cy[0]!, perUnit * (0.875 - 0.893), 0.05);
});

Deno.test("scatterChart() draws no legend for one group, and no overlapping labels here", () => {
  const svg = parseSvg(scatterChart({
    points: [{ x: 1, y: 1, label: "a" }, { x: 1.01, y: 1.01, label: "b" }, { x: 2, y: 2 }],
    xLabel: "x",
    yLabel: "y",
  }));
  assertEquals(byClass(svg, "legend").length, 0);
  const [a, b] = byClass(svg, "point-label");
  assert(attr(a!, "y") !== attr(b!, "y") || attr(a!, "x") !== attr(b!, "x"));
});

Deno.test("scatterChart() rejects bad input, naming the argument", () => {
  assertThrows(
    () => scatterChart({ points: [], xLabel: "x", yLabel: "y" }),
    RangeError,
    "at least one",
  );
  assertThrows(
    () => scatterChart({ points: [{ x: 0, y: 1 }], xLabel: "x", yLabel: "y", xScale: "log" }),
    RangeError,
    "points[0].x",
  );
  assertThrows(
    () => scatterChart({ points: [{ x: 1, y: NaN }], xLabel: "x", yLabel: "y" }),
    RangeError,
    "points[0].y",
  );
  assertThrows(
    () =>
      scatterChart(
        {
          points: [{ x: 1, y: 1 }],
          xLabel: "x",
          yLabel: "y",
          yScale: "sqrt",
        } as unknown as Parameters<typeof scatterChart>[0],
      ),
    TypeError,
    "yScale",
  );
});
