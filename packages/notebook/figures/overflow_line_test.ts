import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { overflowLine } from "./overflow_line.ts";
import { attr, byClass, parseSvg, type SvgNode, texts } from "./_testing.ts";

const labels = {
  exact: "exacto",
  wrap: "envolver",
  saturate: "saturar",
  widen: "ampliar",
  range: "rango <int>",
};

const marker = (svg: SvgNode, rule: string) => {
  const [g] = byClass(svg, "marker", rule);
  if (g === undefined) throw new Error(`no ${rule} marker`);
  return {
    value: Number(g.attrs["data-value"]),
    x: attr(g.children.find((c) => c.name === "circle")!, "cx"),
    g,
  };
};

Deno.test("overflowLine() for int8 127 + 127: exact 254, wrap −2, saturate 127, widen 254", () => {
  const svg = parseSvg(overflowLine({ a: 127, b: 127, dtype: "int8", labels, title: "int8" }));
  assertEquals(
    ["exact", "wrap", "saturate", "widen"].map((r) => marker(svg, r).value),
    [254, -2, 127, 254],
  );
  const all = texts(svg);
  for (
    const t of [
      "exacto: 254",
      "envolver: −2",
      "saturar: 127",
      "ampliar: 254",
      "rango <int> [−128, 127]",
    ]
  ) {
    assert(all.includes(t), t);
  }
  // One linear scale for markers and the range band.
  const range = byClass(svg, "range")[0]!;
  const xMin = attr(range, "x");
  const xMax = xMin + attr(range, "width");
  const perUnit = (xMax - xMin) / (127 - -128);
  for (const r of ["exact", "wrap", "saturate", "widen"]) {
    const m = marker(svg, r);
    assertAlmostEquals(m.x - xMin, perUnit * (m.value + 128), 0.05, r);
  }
});

Deno.test("overflowLine() places each rule where two's complement and clamping put it", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("int4" as const, "int8" as const, "int16" as const),
      fc.constantFrom("add" as const, "sub" as const, "mul" as const),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (dtype, fn, u, v) => {
        const bits = { int4: 4, int8: 8, int16: 16 }[dtype];
        const min = -(2 ** (bits - 1));
        const max = 2 ** (bits - 1) - 1;
        const pick = (t: number) => Math.min(max, min + Math.floor(t * 2 ** bits));
        const [a, b] = [pick(u), pick(v)];
        const exact = fn === "add" ? a + b : fn === "sub" ? a - b : a * b;
        const mod = 2 ** bits;
        const wrap = ((((exact - min) % mod) + mod) % mod) + min;
        const saturate = Math.max(min, Math.min(max, exact));
        const svg = parseSvg(overflowLine({ a, b, dtype, fn, labels }));
        assertEquals(marker(svg, "exact").value, exact);
        assertEquals(marker(svg, "widen").value, exact);
        assertEquals(marker(svg, "wrap").value, wrap);
        assertEquals(marker(svg, "saturate").value, saturate);
        const group = byClass(svg, "range-group")[0]!;
        assertEquals([Number(group.attrs["data-min"]), Number(group.attrs["data-max"])], [
          min,
          max,
        ]);
      },
    ),
    { seed: 8, numRuns: 150 },
  );
});

Deno.test("overflowLine() rejects operands outside the dtype and unknown dtypes", () => {
  assertThrows(
    () => overflowLine({ a: 128, b: 0, dtype: "int8", labels }),
    RangeError,
    "a must be",
  );
  assertThrows(
    () => overflowLine({ a: 0, b: 0.5, dtype: "int8", labels }),
    RangeError,
    "b must be",
  );
  assertThrows(
    () =>
      overflowLine(
        { a: 0, b: 0, dtype: "int32", labels } as unknown as Parameters<typeof overflowLine>[0],
      ),
    TypeError,
    "dtype",
  );
  assertThrows(
    () =>
      overflowLine(
        {
          a: 0,
          b: 0,
          dtype: "int8",
          labels: { ...labels, wrap: undefined },
        } as unknown as Parameters<typeof overflowLine>[0],
      ),
    TypeError,
    "labels.wrap",
  );
});
