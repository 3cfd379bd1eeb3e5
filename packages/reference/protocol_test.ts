import { assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import {
  checkMatrix,
  decodeNumber,
  encodeInteger,
  encodeMatrix,
  encodeNumber,
  readBoolean,
  readEnum,
  readInteger,
  readMatrix,
  readVector,
} from "./protocol.ts";
import { LoraquantTypeError } from "./errors.ts";
import { fcParams } from "./_testing.ts";

Deno.test("every float64 survives encodeNumber → JSON → decodeNumber bit for bit", () => {
  fc.assert(
    fc.property(fc.double(), (x) => {
      const back = decodeNumber(JSON.parse(JSON.stringify(encodeNumber(x))), "x");
      assertEquals(back, x);
    }),
    fcParams(5000),
  );
});

Deno.test("integers above 2^53 are decimal strings, others JSON numbers", () => {
  assertEquals(encodeInteger(2n ** 53n), 2 ** 53);
  assertEquals(encodeInteger(2n ** 53n + 1n), "9007199254740993");
  assertEquals(encodeInteger(-(2n ** 63n)), "-9223372036854775808");
  assertEquals(encodeInteger(-0), 0);
});

Deno.test("readers answer E_ARG for malformed arguments and name them", () => {
  const bad: [() => unknown, string][] = [
    [() => readVector({}, "x"), "x"],
    [() => readVector({ x: [1, "one"] }, "x"), "x[1]"],
    [() => readVector({ x: { 0: 1 } }, "x"), "x"],
    [() => readMatrix({ a: [1, 2] }, "a"), "a"],
    [() => readMatrix({ a: { shape: [1], data: [] } }, "a"), "a.shape"],
    [() => readMatrix({ a: { shape: [1, -1], data: [] } }, "a"), "a.shape"],
    [() => readMatrix({ a: { shape: [1, 1.5], data: [] } }, "a"), "a.shape"],
    [() => readMatrix({ a: { shape: [1, 1] } }, "a"), "a.data"],
    [() => readEnum({ s: "sym" }, "s", ["symmetric"]), "s"],
    [() => readEnum({}, "s", ["symmetric"]), "s"],
    [() => readBoolean({ b: "true" }, "b", false), "b"],
    [() => readInteger({ k: 1.5 }, "k"), "k"],
    [() => readInteger({ k: "1" }, "k"), "k"],
  ];
  for (const [f, name] of bad) {
    const e = assertThrows(f, LoraquantTypeError, name);
    assertEquals(e.code, "E_ARG");
  }
});

Deno.test("a matrix whose data length disagrees with its shape is E_SHAPE, checked separately", () => {
  const raw = readMatrix({ a: { shape: [2, 2], data: [1, 2, 3] } }, "a");
  const e = assertThrows(() => checkMatrix(raw, "a"), LoraquantTypeError, "a");
  assertEquals(e.code, "E_SHAPE");
  const ok = checkMatrix(readMatrix({ a: { shape: [0, 3], data: [] } }, "a"), "a");
  assertEquals(encodeMatrix(ok), { shape: [0, 3], data: [] });
});
