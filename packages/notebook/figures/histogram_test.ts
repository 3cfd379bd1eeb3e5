import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { histogram } from "./histogram.ts";
import { attr, byClass, parseSvg, texts } from "./_testing.ts";

Deno.test("histogram() counts values in equal bins, the last one closed", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -2000, max: 2000 }), { minLength: 0, maxLength: 200 }),
      fc.integer({ min: 1, max: 25 }),
      (ints, bins) => {
        const values = ints.map((v) => v / 1000); // some fall outside [−1, 1]
        const svg = parseSvg(
          histogram({ values, bins, domain: [-1, 1], xLabel: "x", yLabel: "n" }),
        );
        const bars = byClass(svg, "bar");
        assertEquals(bars.length, bins);
        // Independent count: bin i holds [−1 + 2i/bins, −1 + 2(i+1)/bins), the last one closed.
        const expected = new Array<number>(bins).fill(0);
        for (const v of values) {
          if (v < -1 || v > 1) continue;
          expected[Math.min(bins - 1, Math.floor(((v + 1) * bins) / 2))]! += 1;
        }
        assertEquals(bars.map((b) => Number(b.attrs["data-count"])), expected);
        // Heights proportional to counts, widths equal.
        const max = Math.max(...expected);
        const tallest = Math.max(...bars.map((b) => attr(b, "height")));
        bars.forEach((b, i) => {
          if (max > 0) assertAlmostEquals(attr(b, "height"), (tallest * expected[i]!) / max, 0.05);
          assertAlmostEquals(attr(b, "width"), attr(bars[0]!, "width"), 0.02);
        });
      },
    ),
    { seed: 3, numRuns: 100 },
  );
});

Deno.test("histogram() defaults to Sturges' bin count over the values' nice extent", () => {
  const values = Array.from({ length: 100 }, (_, i) => i / 10); // [0, 9.9]
  const svg = parseSvg(histogram({ values, xLabel: "peso", yLabel: "frecuencia", title: "Pesos" }));
  const bars = byClass(svg, "bar");
  assertEquals(bars.length, Math.ceil(Math.log2(100)) + 1);
  assertEquals(Number(bars[0]!.attrs["data-x0"]), 0);
  assertEquals(Number(bars[bars.length - 1]!.attrs["data-x1"]), 10);
  assertEquals(bars.reduce((s, b) => s + Number(b.attrs["data-count"]), 0), 100);
  for (const t of ["peso", "frecuencia", "Pesos"]) assert(texts(svg).includes(t));
  assertEquals(svg.attrs["aria-label"], "Pesos");
});

Deno.test("histogram() rejects bad input, naming the argument", () => {
  assertThrows(
    () => histogram({ values: [1, Infinity], xLabel: "x", yLabel: "n" }),
    RangeError,
    "values[1]",
  );
  assertThrows(() => histogram({ values: [], xLabel: "x", yLabel: "n" }), RangeError, "domain");
  assertThrows(
    () => histogram({ values: [1], bins: 0, xLabel: "x", yLabel: "n" }),
    RangeError,
    "bins",
  );
  assertThrows(
    () => histogram({ values: [1], bins: 2.5, xLabel: "x", yLabel: "n" }),
    RangeError,
    "bins",
  );
  assertThrows(
    () => histogram({ values: [1], domain: [2, 1], xLabel: "x", yLabel: "n" }),
    RangeError,
    "domain",
  );
});
