import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { loraUpdate } from "./lora_update.ts";
import { attr, byClass, parseSvg, texts } from "./_testing.ts";

const matrix = (rows: number, cols: number) => ({
  rows,
  cols,
  data: Array.from({ length: rows * cols }, (_, i) => Math.sin(i + rows)),
});

Deno.test("loraUpdate() draws ΔW d×k, B d×r and A r×k cells, all at one cell size", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 4 }),
      (d, k, r) => {
        const svg = parseSvg(loraUpdate({
          deltaW: matrix(d, k),
          b: matrix(d, r),
          a: matrix(r, k),
          labels: { full: "ΔW", lora: "B·A" },
        }));
        const block = (name: string) => byClass(svg, "block", name)[0]!;
        const count = (name: string) => byClass(block(name), "cell").length;
        assertEquals([count("delta-w"), count("b"), count("a")], [d * k, d * r, r * k]);
        const size = attr(byClass(block("delta-w"), "cell")[0]!, "width");
        for (const name of ["delta-w", "b", "a"]) {
          for (const c of byClass(block(name), "cell")) assertEquals(attr(c, "width"), size);
        }
        // To scale: each block's frame is cols·size wide and rows·size tall.
        const frame = (name: string) => byClass(block(name), "frame")[0]!;
        assertEquals(attr(frame("b"), "width"), r * size);
        assertEquals(attr(frame("b"), "height"), d * size);
        assertEquals(attr(frame("a"), "width"), k * size);
        assertEquals(attr(frame("a"), "height"), r * size);
        // Left to right: ΔW, then B, then A.
        assert(attr(frame("delta-w"), "x") + k * size < attr(frame("b"), "x"));
        assert(attr(frame("b"), "x") + r * size < attr(frame("a"), "x"));
        assert(texts(svg).includes(`${d}×${r}`) && texts(svg).includes(`${r}×${k}`));
      },
    ),
    { seed: 9, numRuns: 40 },
  );
});

Deno.test("loraUpdate() writes = when ΔW is B·A and ≈ when B·A only approximates it", () => {
  const b = { rows: 3, cols: 1, data: [1, -2, 0.5] };
  const a = { rows: 1, cols: 2, data: [3, 0.25] };
  const exact = { rows: 3, cols: 2, data: [3, 0.25, -6, -0.5, 1.5, 0.125] };
  const labels = { full: "f", lora: "l" };
  const relation = (deltaW: typeof exact) =>
    texts(parseSvg(loraUpdate({ deltaW, b, a, labels }))).filter((t) => t === "=" || t === "≈");
  assertEquals(relation(exact), ["="]);
  assertEquals(relation({ ...exact, data: exact.data.map((v, i) => (i === 4 ? v + 0.01 : v)) }), [
    "≈",
  ]);
});

Deno.test("loraUpdate() writes its labels, escaped, and the relation and · signs", () => {
  const raw = loraUpdate({
    deltaW: matrix(3, 4),
    b: matrix(3, 1),
    a: matrix(1, 4),
    labels: { full: "ΔW: 12 < parámetros", lora: "B·A: 7 & más", b: "B (d×r)", a: "A (r×k)" },
  });
  assert(!raw.includes("12 < par"));
  const all = texts(parseSvg(raw));
  for (const t of ["ΔW: 12 < parámetros", "B·A: 7 & más", "B (d×r)", "A (r×k)", "≈", "·"]) {
    assert(all.includes(t), t);
  }
});

Deno.test("loraUpdate() rejects shapes that do not compose, naming them", () => {
  const labels = { full: "f", lora: "l" };
  assertThrows(
    () => loraUpdate({ deltaW: matrix(3, 4), b: matrix(2, 1), a: matrix(1, 4), labels }),
    TypeError,
    "b 2×1",
  );
  assertThrows(
    () => loraUpdate({ deltaW: matrix(3, 4), b: matrix(3, 2), a: matrix(1, 4), labels }),
    TypeError,
    "r×k",
  );
  assertThrows(
    () =>
      loraUpdate({
        deltaW: matrix(3, 4),
        b: matrix(3, 1),
        a: { rows: 1, cols: 4, data: [0, 0, Infinity, 0] },
        labels,
      }),
    RangeError,
    "a.data[2]",
  );
  assertThrows(
    () =>
      loraUpdate(
        {
          deltaW: matrix(3, 4),
          b: matrix(3, 1),
          a: matrix(1, 4),
          labels: { full: "f" },
        } as unknown as Parameters<typeof loraUpdate>[0],
      ),
    TypeError,
    "labels.lora",
  );
});
