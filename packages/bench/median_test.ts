import fc from "fast-check";
import { assertEquals, assertThrows } from "@std/assert";
import { fcParams } from "../reference/_testing.ts";
import { median } from "./median.ts";

Deno.test("median() takes the middle of an odd count and the mean of the two middles of an even one", () => {
  assertEquals(median([5]), 5);
  assertEquals(median([9, 1, 5]), 5);
  assertEquals(median([1, 2, 3, 10]), 2.5);
  assertEquals(median([-1, 1]), 0);
});

Deno.test("median() does not reorder its input", () => {
  const samples = [3, 1, 2];
  median(samples);
  assertEquals(samples, [3, 1, 2]);
});

Deno.test("median() does not overflow on the largest doubles", () => {
  assertEquals(median([Number.MAX_VALUE, Number.MAX_VALUE]), Number.MAX_VALUE);
});

Deno.test("median() refuses an empty list and non-finite samples with E_RANGE", () => {
  assertThrows(() => median([]), RangeError, "empty");
  assertThrows(() => median([1, NaN]), RangeError, "samples[1] is NaN");
  assertThrows(() => median([Infinity]), RangeError, "samples[0] is Infinity");
});

Deno.test("median() is invariant under permutation and splits the samples in halves", () => {
  const sample = fc.double({ min: -1e6, max: 1e6, noNaN: true });
  fc.assert(
    fc.property(fc.array(sample, { minLength: 1, maxLength: 40 }), (xs) => {
      const m = median(xs);
      assertEquals(median([...xs].reverse()), m);
      const below = xs.filter((x) => x < m).length;
      const above = xs.filter((x) => x > m).length;
      // At most half of the samples lie strictly on either side of the median.
      return below <= xs.length / 2 && above <= xs.length / 2;
    }),
    fcParams(300),
  );
});
