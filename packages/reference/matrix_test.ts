import { assertEquals, assertThrows } from "@std/assert";
import { at, matrix } from "./matrix.ts";
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";

Deno.test("matrix() copies its data and lays it out row-major", () => {
  const data = [1, 2, 3, 4, 5, 6];
  const m = matrix([2, 3], data);
  data[0] = 99;
  assertEquals(m.data[0], 1);
  assertEquals([at(m, 0, 2), at(m, 1, 0)], [3, 4]);
  assertEquals(matrix([0, 5]).data.length, 0);
});

Deno.test("matrix() and at() refuse bad shapes and indices with typed errors", () => {
  assertEquals(assertThrows(() => matrix([2, 2], [1, 2, 3]), LoraquantTypeError).code, "E_SHAPE");
  assertEquals(assertThrows(() => matrix([-1, 2], []), LoraquantTypeError).code, "E_ARG");
  assertEquals(assertThrows(() => matrix([1.5, 2], []), LoraquantTypeError).code, "E_ARG");
  assertEquals(
    assertThrows(() => at(matrix([1, 1], [0]), 1, 0), LoraquantRangeError).code,
    "E_RANGE",
  );
});
