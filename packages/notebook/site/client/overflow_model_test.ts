import { assertEquals } from "@std/assert";
import { addUnderEachRule, readOperand } from "./overflow_model.ts";

/** Independent BigInt arithmetic: two's complement wrap and clamp of an n-bit sum. */
function expected(a: number, b: number, bits: number) {
  const exact = BigInt(a) + BigInt(b);
  const min = -(1n << BigInt(bits - 1));
  const max = (1n << BigInt(bits - 1)) - 1n;
  return {
    exact: Number(exact),
    wrap: Number(BigInt.asIntN(bits, exact)),
    saturate: Number(exact < min ? min : exact > max ? max : exact),
    widen: Number(exact),
    overflowed: exact < min || exact > max,
  };
}

Deno.test("addUnderEachRule() matches BigInt arithmetic on every int8 pair", () => {
  for (let a = -128; a <= 127; a++) {
    for (let b = -128; b <= 127; b++) {
      assertEquals(addUnderEachRule(a, b, "int8"), expected(a, b, 8));
    }
  }
});

Deno.test("addUnderEachRule() matches BigInt arithmetic at the int16 boundaries", () => {
  const edges = [-32768, -32767, -16385, -1, 0, 1, 16384, 32766, 32767];
  for (const a of edges) {
    for (const b of edges) assertEquals(addUnderEachRule(a, b, "int16"), expected(a, b, 16));
  }
});

Deno.test("readOperand() accepts integers of the dtype and reports anything else", () => {
  assertEquals(readOperand("127", "int8"), { ok: true, value: 127 });
  assertEquals(readOperand("-128", "int8"), { ok: true, value: -128 });
  assertEquals(readOperand("+5", "int8"), { ok: true, value: 5 });
  assertEquals(readOperand("-0", "int8"), { ok: true, value: 0 });
  assertEquals(readOperand("\u221232768", "int16"), { ok: true, value: -32768 });
  for (const bad of ["", " ", "-129", "128", "1.0", "1e2", "0x10", "abc", "--1", "12 3"]) {
    assertEquals(readOperand(bad, "int8"), { ok: false, text: bad }, JSON.stringify(bad));
  }
  assertEquals(readOperand("32768", "int16").ok, false);
  assertEquals(readOperand("1234567", "int16").ok, false);
});
