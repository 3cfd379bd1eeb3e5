import { assertEquals, assertThrows } from "@std/assert";
import { checkSeed, SplitMix64 } from "./splitmix64.ts";

Deno.test("SplitMix64 reproduces the reference sequence of Vigna's splitmix64.c from seed 1234567", () => {
  // The first five outputs of splitmix64.c (x = 1234567), as published with the algorithm.
  const rng = new SplitMix64(1234567);
  assertEquals(
    [rng.next(), rng.next(), rng.next(), rng.next(), rng.next()],
    [
      6457827717110365317n,
      3203168211198807973n,
      9817491932198370423n,
      4593380528125082431n,
      16408922859458223821n,
    ],
  );
});

Deno.test("nextUniform() is draw >> 11 over 2^53, in [0, 1)", () => {
  const a = new SplitMix64(99);
  const b = new SplitMix64(99);
  for (let i = 0; i < 1000; i++) {
    const u = a.nextUniform();
    assertEquals(u, Number(b.next() >> 11n) / 2 ** 53);
    assertEquals(u >= 0 && u < 1, true);
  }
});

Deno.test("checkSeed() wants an integer in [0, 2^53)", () => {
  assertEquals(checkSeed(2 ** 53 - 1), 2 ** 53 - 1);
  assertEquals(assertThrows(() => checkSeed(2 ** 53), RangeError).message.includes("2^53"), true);
  assertThrows(() => checkSeed(undefined), TypeError, "seed");
  assertThrows(() => checkSeed("3"), TypeError);
});
