import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { heatmap } from "./heatmap.ts";
import { attr, byClass, parseSvg, texts } from "./_testing.ts";

const rgb = (fill: string): [number, number, number] => {
  const m = fill.match(/^rgb\((\d+), (\d+), (\d+)\)$/);
  if (m === null) throw new Error(`not rgb(): ${fill}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
};

Deno.test("heatmap() has rows×cols cells on a regular grid, row-major", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), (rows, cols) => {
      const data = Array.from({ length: rows * cols }, (_, i) => i - (rows * cols) / 2);
      const svg = parseSvg(heatmap({ matrix: { rows, cols, data }, cellSize: 7 }));
      const cells = byClass(svg, "cell");
      assertEquals(cells.length, rows * cols);
      const x0 = attr(cells[0]!, "x");
      const y0 = attr(cells[0]!, "y");
      cells.forEach((c, idx) => {
        assertEquals(attr(c, "x"), x0 + (idx % cols) * 7);
        assertEquals(attr(c, "y"), y0 + Math.floor(idx / cols) * 7);
        assertEquals(attr(c, "width"), 7);
      });
      assert(texts(svg).includes(`${rows}×${cols}`));
    }),
    { seed: 5, numRuns: 60 },
  );
});

Deno.test("heatmap() colours negatives blue, positives red, zero near white", () => {
  const svg = parseSvg(
    heatmap({ matrix: { rows: 1, cols: 3, data: [-2, 0, 2] }, title: "ΔW <x>" }),
  );
  const [neg, zero, pos] = byClass(svg, "cell").map((c) => rgb(c.attrs.fill!));
  assert(neg![2] > neg![0], "negative is blue");
  assert(pos![0] > pos![2], "positive is red");
  assert(Math.min(...zero!) > 230, "zero is near white");
  assertEquals(svg.attrs["aria-label"], "ΔW <x>");
  assertEquals(byClass(svg, "colorbar").length, 1);
  for (const t of ["−2", "0", "2"]) assert(texts(svg).includes(t), t);
});

Deno.test("heatmap() uses a sequential scale for non-negative data, and honours a domain", () => {
  const svg = parseSvg(heatmap({ matrix: { rows: 1, cols: 2, data: [0, 1] } }));
  const [lo, hi] = byClass(svg, "cell").map((c) => c.attrs.fill);
  assert(lo !== hi);
  const clamped = parseSvg(heatmap({ matrix: { rows: 1, cols: 2, data: [5, 1] }, domain: [0, 1] }));
  const [a, b] = byClass(clamped, "cell").map((c) => c.attrs.fill);
  assertEquals(a, b); // 5 is beyond the domain: the top colour, like 1
});

Deno.test("heatmap() rejects malformed matrices, naming the problem", () => {
  assertThrows(
    () => heatmap({ matrix: { rows: 2, cols: 2, data: [1, 2, 3] } }),
    TypeError,
    "3 entries",
  );
  assertThrows(() => heatmap({ matrix: { rows: 0, cols: 2, data: [] } }), TypeError, "matrix.rows");
  assertThrows(
    () => heatmap({ matrix: { rows: 1, cols: 2, data: [1, NaN] } }),
    RangeError,
    "data[1]",
  );
  assertThrows(
    () => heatmap({ matrix: { rows: 1, cols: 1, data: [1] }, cellSize: 0 }),
    RangeError,
    "cellSize",
  );
});
