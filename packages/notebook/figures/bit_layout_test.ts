import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { bitLayout, type BitLayoutFormat } from "./bit_layout.ts";
import { byClass, parseSvg, type SvgNode, texts } from "./_testing.ts";

const labels = { sign: "signo", exponent: "exponente", mantissa: "mantisa", integer: "entero" };

/** The bits shown, most significant first, and the field of each. */
function shown(svg: SvgNode): { bits: string; fields: string[] } {
  const boxes = byClass(svg, "bit");
  const indices = boxes.map((b) => Number(b.attrs["data-index"]));
  assertEquals(indices, indices.map((_, i) => boxes.length - 1 - i), "most significant first");
  return {
    bits: boxes.map((b) => {
      const digit = texts(b)[0]!;
      assertEquals(digit, b.attrs["data-bit"]);
      return digit;
    }).join(""),
    fields: boxes.map((b) => b.attrs.class!.split(" ")[1]!),
  };
}

const draw = (format: BitLayoutFormat, value: number) =>
  parseSvg(bitLayout({ format, value, labels }));

Deno.test("bitLayout() of float16 1.0 shows 0 01111 0000000000 in sign, exponent, mantissa", () => {
  const { bits, fields } = shown(draw("float16", 1));
  // IEEE 754 binary16: 1.0 = (−1)^0 · 2^(15 − 15) · 1.0 → s = 0, e = 15 = 01111₂, f = 0.
  assertEquals(bits, "0" + "01111" + "0000000000");
  assertEquals(fields, ["sign", ...Array(5).fill("exponent"), ...Array(10).fill("mantissa")]);
  const all = texts(draw("float16", 1));
  for (const t of ["signo", "exponente", "mantisa", "s = 0", "e = 15", "f = 0"]) {
    assert(all.includes(t), t);
  }
});

Deno.test("bitLayout() agrees with DataView's float16 and float32 encodings", () => {
  const view = new DataView(new ArrayBuffer(4));
  fc.assert(
    fc.property(fc.double({ noNaN: true }), (x) => {
      view.setFloat16(0, x);
      const h = view.getUint16(0).toString(2).padStart(16, "0");
      assertEquals(shown(draw("float16", x)).bits, h);
      view.setFloat32(0, x);
      const f = view.getUint32(0).toString(2).padStart(32, "0");
      assertEquals(shown(draw("float32", x)).bits, f);
    }),
    { seed: 1, numRuns: 200 },
  );
});

Deno.test("bitLayout() of bfloat16 shows the top half of the float32 pattern", () => {
  const view = new DataView(new ArrayBuffer(4));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), (hi) => {
      view.setUint32(0, hi * 0x10000);
      const x = view.getFloat32(0);
      fc.pre(!Number.isNaN(x));
      assertEquals(shown(draw("bfloat16", x)).bits, hi.toString(2).padStart(16, "0"));
    }),
    { seed: 2, numRuns: 200 },
  );
});

Deno.test("bitLayout() splits each float format into its field widths", () => {
  const widths: [BitLayoutFormat, number, number][] = [
    ["float32", 8, 23],
    ["bfloat16", 8, 7],
    ["fp8-e4m3", 4, 3],
    ["fp8-e5m2", 5, 2],
    ["fp6-e2m3", 2, 3],
    ["fp4-e2m1", 2, 1],
  ];
  for (const [format, e, m] of widths) {
    const svg = draw(format, 1);
    assertEquals(
      [
        byClass(svg, "bit", "sign").length,
        byClass(svg, "bit", "exponent").length,
        byClass(svg, "bit", "mantissa").length,
      ],
      [1, e, m],
      format,
    );
  }
  // OCP e4m3: 448 = 0 1111 110; −448 sets the sign bit.
  assertEquals(shown(draw("fp8-e4m3", 448)).bits, "01111110");
  assertEquals(shown(draw("fp8-e4m3", -448)).bits, "11111110");
});

Deno.test("bitLayout() shows the rounding when the value is not representable", () => {
  const all = texts(draw("float16", 0.1));
  // 0.1 rounds to 1638/16384 = 0.0999755859375 in float16 (nearest, ties to even).
  assert(all.some((t) => t.includes("0.1 → 0.0999755859375")), all.join(" | "));
});

Deno.test("bitLayout() of integers shows two's complement bits and their weights", () => {
  fc.assert(
    fc.property(fc.integer({ min: -128, max: 127 }), (v) => {
      const svg = draw("int8", v);
      const { bits, fields } = shown(svg);
      assertEquals(bits, (v & 0xff).toString(2).padStart(8, "0"));
      assertEquals(fields, Array(8).fill("integer"));
    }),
    { seed: 4, numRuns: 100 },
  );
  const svg = draw("int8", -2);
  assertEquals(shown(svg).bits, "11111110");
  const weights = byClass(svg, "bit-weight").map((t) => t.text);
  assertEquals(weights, ["−128", "64", "32", "16", "8", "4", "2", "1"]);
  assert(texts(svg).includes("entero"));
  assertEquals(shown(draw("int4", -8)).bits, "1000");
  assertEquals(shown(draw("int16", 256)).bits, "0000000100000000");
});

Deno.test("bitLayout() escapes its labels and title", () => {
  const raw = bitLayout({
    format: "float16",
    value: 2,
    title: '2 < 3 & "x"',
    labels: { ...labels, sign: "<s>" },
  });
  assert(!raw.includes("<s>"));
  const svg = parseSvg(raw);
  assertEquals(svg.attrs["aria-label"], '2 < 3 & "x"');
  assert(texts(svg).includes("<s>"));
});

Deno.test("bitLayout() rejects bad input, naming the argument", () => {
  assertThrows(() => bitLayout({ format: "int8", value: 128, labels }), RangeError, "int8");
  assertThrows(() => bitLayout({ format: "int8", value: 1.5, labels }), RangeError, "integer");
  assertThrows(
    () =>
      bitLayout(
        { format: "float12", value: 1, labels } as unknown as Parameters<typeof bitLayout>[0],
      ),
    TypeError,
    "format",
  );
  assertThrows(() => bitLayout({ format: "fp4-e2m1", value: NaN, labels }), RangeError, "NaN");
  assertThrows(
    () =>
      bitLayout(
        { format: "float16", value: 1, labels: { sign: "s" } } as unknown as Parameters<
          typeof bitLayout
        >[0],
      ),
    TypeError,
    "labels.exponent",
  );
});
