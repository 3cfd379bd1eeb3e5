import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { barChart } from "./bar_chart.ts";
import { attr, axisTicks, byClass, parseSvg, textOf, texts } from "./_testing.ts";

Deno.test("barChart() makes each bar's height proportional to its value (linear)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 100000 }), { minLength: 1, maxLength: 15 }),
      (values) => {
        const svg = parseSvg(barChart({
          bars: values.map((v, i) => ({ label: `b${i}`, value: v / 100 })),
          yLabel: "y",
        }));
        const bars = byClass(svg, "bar");
        assertEquals(bars.length, values.length);
        const bottom = bars.map((b) => attr(b, "y") + attr(b, "height"));
        for (const y of bottom) assertAlmostEquals(y, bottom[0]!, 0.02, "a common baseline");
        // The scale factor from the tallest bar (coordinates are printed to 0.01 px).
        const top = values.indexOf(Math.max(...values));
        const k = attr(bars[top]!, "height") / (values[top]! / 100);
        bars.forEach((b, i) => assertAlmostEquals(attr(b, "height"), (k * values[i]!) / 100, 0.05));
        assertEquals(bars.map((b) => b.attrs["data-label"]), values.map((_, i) => `b${i}`));
      },
    ),
    { seed: 11, numRuns: 100 },
  );
});

Deno.test("barChart() draws negative values below the zero line", () => {
  const svg = parseSvg(barChart({
    bars: [{ label: "a", value: 2 }, { label: "b", value: -1 }],
    yLabel: "Δ",
  }));
  const [a, b] = byClass(svg, "bar");
  const zero = attr(a!, "y") + attr(a!, "height");
  assertAlmostEquals(attr(b!, "y"), zero, 0.01);
  assertAlmostEquals(attr(a!, "height"), 2 * attr(b!, "height"), 0.05);
  assert(axisTicks(svg, "y").some((t) => t.value < 0));
});

Deno.test("barChart() on a log scale: height differences proportional to log ratios", () => {
  const values = [1, 10, 1000, 5];
  const svg = parseSvg(barChart({
    bars: values.map((v, i) => ({ label: String(i), value: v })),
    yLabel: "bytes",
    yScale: "log",
  }));
  const h = byClass(svg, "bar").map((b) => attr(b, "height"));
  const perDecade = h[1]! - h[0]!;
  assert(perDecade > 0);
  values.forEach((v, i) => assertAlmostEquals(h[i]! - h[0]!, perDecade * Math.log10(v), 0.05));
  for (const t of axisTicks(svg, "y")) assertEquals(Math.log10(t.value) % 1, 0);
});

Deno.test("barChart() groups bars side by side, colours them by group, with a legend", () => {
  const svg = parseSvg(barChart({
    bars: [
      { label: "r=1", value: 0.7, group: "LoRA" },
      { label: "r=1", value: 0.9, group: "full & <all>" },
      { label: "r=4", value: 0.8, group: "LoRA" },
    ],
    yLabel: "accuracy",
    title: "Grouped",
    valueFormat: ".0%",
  }));
  const bars = byClass(svg, "bar");
  assertEquals(bars.length, 3);
  assertEquals(bars[0]!.attrs.fill, bars[2]!.attrs.fill);
  assert(bars[0]!.attrs.fill !== bars[1]!.attrs.fill);
  assert(attr(bars[1]!, "x") >= attr(bars[0]!, "x") + attr(bars[0]!, "width"));
  assertEquals(byClass(svg, "legend-item").length, 2);
  const all = texts(svg);
  for (const t of ["70%", "90%", "80%", "full & <all>", "r=1", "r=4", "Grouped", "accuracy"]) {
    assert(all.includes(t), t);
  }
  assertEquals(byClass(svg, "legend").length, 0 + 1);
});

Deno.test("barChart() slants category labels that do not fit their bands", () => {
  const bars = Array.from(
    { length: 12 },
    (_, i) => ({ label: `a long category ${i}`, value: i + 1 }),
  );
  const svg = parseSvg(barChart({ bars, yLabel: "y" }));
  const ticks = byClass(byClass(svg, "axis", "x")[0]!, "tick");
  assertEquals(ticks.length, 12);
  assert(ticks.every((t) => (t.children[0]!.attrs.transform ?? "").includes("rotate(-35")));
  const short = parseSvg(barChart({ bars: [{ label: "a", value: 1 }], yLabel: "y" }));
  assertEquals(
    byClass(short, "axis", "x")[0]!.children.some((c) =>
      "transform" in (c.children[0]?.attrs ?? {})
    ),
    false,
  );
});

Deno.test("barChart() rejects bad input, naming the argument", () => {
  assertThrows(() => barChart({ bars: [], yLabel: "y" }), RangeError, "at least one bar");
  assertThrows(
    () => barChart({ bars: [{ label: "a", value: NaN }], yLabel: "y" }),
    RangeError,
    "bars[0].value",
  );
  assertThrows(
    () => barChart({ bars: [{ label: "a", value: 0 }], yLabel: "y", yScale: "log" }),
    RangeError,
    "log",
  );
  assertThrows(
    () => barChart({ bars: [{ label: "a", value: 1 }, { label: "a", value: 2 }], yLabel: "y" }),
    TypeError,
    "repeats",
  );
  assertThrows(
    () => barChart({ bars: [{ label: "a", value: 1 }], yLabel: "y", valueFormat: "zz%" }),
    TypeError,
    "valueFormat",
  );
  assertThrows(
    () =>
      barChart(
        { bars: [{ label: 3, value: 1 }], yLabel: "y" } as unknown as Parameters<
          typeof barChart
        >[0],
      ),
    TypeError,
    "bars[0].label",
  );
});

Deno.test("barChart() writes numbers with a decimal comma for locale es, text untouched", () => {
  const options = {
    bars: [{ label: "a.b, c", value: 1234.5 }, { label: "d", value: 0.25 }],
    yLabel: "valor, en 1.000",
    valueFormat: ",.2f",
  };
  const en = parseSvg(barChart(options));
  const es = parseSvg(barChart({ ...options, locale: "es" }));
  const values = (svg: ReturnType<typeof parseSvg>) => byClass(svg, "value").map(textOf);
  assertEquals(values(en), ["1,234.50", "0.25"]);
  assertEquals(values(es), ["1.234,50", "0,25"]);
  // Tick labels follow: every English tick label reads the same with . and , swapped.
  const swap = (s: string) => s.replace(/[.,]/g, (c) => (c === "." ? "," : "."));
  assertEquals(
    axisTicks(es, "y").map((t) => t.label),
    axisTicks(en, "y").map((t) => t.label && swap(t.label)),
  );
  // The caller's text is never rewritten.
  for (const t of ["a.b, c", "valor, en 1.000"]) assert(texts(es).includes(t), t);
  assertThrows(
    () => barChart({ ...options, locale: "fr" as "es" }),
    TypeError,
    'locale must be "en" or "es"',
  );
});
