import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import {
  MX_BLOCK_SIZE,
  MX_FORMATS,
  type MxFormat,
  type MxScaleMode,
  quantizeMx,
  sharedExponent,
} from "./microscaling.ts";
import { decode } from "./cast.ts";
import type { FloatFormatName } from "./format.ts";
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";
import { fcParams } from "./_testing.ts";

// Independent facts: the OCP MX v1.0 tables (emax_elem, max_elem), values worked by hand, exact
// BigInt comparisons of powers of two, and the element decoders of cast.ts (checked there against
// the OCP tables).

/** A block of 32 with the given leading values and zeros after them. */
function block(...head: number[]): number[] {
  return [...head, ...new Array(MX_BLOCK_SIZE - head.length).fill(0)];
}

const ELEMENT: Record<Exclude<MxFormat, "mxint8">, FloatFormatName> = {
  "mxfp8-e4m3": "fp8-e4m3",
  "mxfp8-e5m2": "fp8-e5m2",
  "mxfp6-e2m3": "fp6-e2m3",
  "mxfp6-e3m2": "fp6-e3m2",
  "mxfp4": "fp4-e2m1",
};

/** OCP MX v1.0 Table: emax_elem and max_elem (as exact rationals num/den). */
const SPEC: Record<MxFormat, { emax: number; maxNum: bigint; maxDen: bigint }> = {
  "mxint8": { emax: 0, maxNum: 127n, maxDen: 64n },
  "mxfp8-e4m3": { emax: 8, maxNum: 448n, maxDen: 1n },
  "mxfp8-e5m2": { emax: 15, maxNum: 57344n, maxDen: 1n },
  "mxfp6-e2m3": { emax: 2, maxNum: 15n, maxDen: 2n },
  "mxfp6-e3m2": { emax: 4, maxNum: 28n, maxDen: 1n },
  "mxfp4": { emax: 2, maxNum: 6n, maxDen: 1n },
};

/** A positive float64 as an exact fraction m / 2^k (BigInt). */
function fraction(x: number): { num: bigint; den: bigint } {
  let m = x;
  let k = 0;
  while (!Number.isInteger(m)) {
    m *= 2;
    k++;
  }
  return { num: BigInt(m), den: 1n << BigInt(k) };
}

/** The sign of num/den − (p/q)·2^e, exactly, in BigInt. */
function compare(x: { num: bigint; den: bigint }, e: number, p = 1n, q = 1n): number {
  const lhs = x.num * q * (e < 0 ? 1n << BigInt(-e) : 1n);
  const rhs = p * x.den * (e > 0 ? 1n << BigInt(e) : 1n);
  return lhs > rhs ? 1 : lhs < rhs ? -1 : 0;
}

Deno.test("`sharedExponent()` floor and ceil agree on powers of two and split just below", () => {
  // amax = 4 = 2²: floor = ceil = 2 − emax. amax = 4 − 2⁻²¹ (a float32): floor 1, ceil 2.
  const below = 4 - 2 ** -21;
  assertEquals(Math.fround(below), below);
  for (const [format, emax] of [["mxfp8-e4m3", 8], ["mxfp4", 2], ["mxint8", 0]] as const) {
    assertEquals(sharedExponent(4, format), 2 - emax);
    assertEquals(sharedExponent(4, format, { scaleMode: "ceil" }), 2 - emax);
    assertEquals(sharedExponent(below, format), 1 - emax);
    assertEquals(sharedExponent(below, format, { scaleMode: "ceil" }), 2 - emax);
  }
});

Deno.test("`sharedExponent()` even rounds amax to the element's fraction bits, carrying up", () => {
  // e2m1 (1 fraction bit): 7.5 = 1.875·2² → 2·2² = 8 → e = 3 − 2 = 1 (floor gives 0).
  assertEquals(sharedExponent(7.5, "mxfp4"), 0);
  assertEquals(sharedExponent(7.5, "mxfp4", { scaleMode: "even" }), 1);
  // e4m3 (3 bits): 15.5 = 1.9375·2³ is the midpoint of 1.875 (odd) and 2 (even) → 16 → e = −4;
  // 15.4 rounds down to 15 → e = 3 − 8 = −5.
  assertEquals(sharedExponent(15.5, "mxfp8-e4m3", { scaleMode: "even" }), -4);
  assertEquals(sharedExponent(Math.fround(15.4), "mxfp8-e4m3", { scaleMode: "even" }), -5);
  // e5m2 (2 bits): 7 = 1.75·2² stays (representable) → e = 2 − 15.
  assertEquals(sharedExponent(7, "mxfp8-e5m2", { scaleMode: "even" }), -13);
  // int8 (6 bits): 127.9 → 128 → e = 7.
  assertEquals(sharedExponent(Math.fround(127.9), "mxint8", { scaleMode: "even" }), 7);
  assertEquals(sharedExponent(Math.fround(127.2), "mxint8", { scaleMode: "even" }), 6);
});

Deno.test("`sharedExponent()` rceil is ceil(log2(amax / max_elem)) exactly (7.5, 127/64)", () => {
  // e2m3 max 7.5: amax 7.5 → 1 → 0; a hair above → 1; 3.75 → 1/2 → −1; 7.49 → 0.
  const hair = Math.fround(7.5 * (1 + 2 ** -20));
  const rceil = (amax: number, format: MxFormat) =>
    sharedExponent(amax, format, { scaleMode: "rceil" });
  assertEquals(rceil(7.5, "mxfp6-e2m3"), 0);
  assertEquals(rceil(hair, "mxfp6-e2m3"), 1);
  assertEquals(rceil(3.75, "mxfp6-e2m3"), -1);
  assertEquals(rceil(Math.fround(7.49), "mxfp6-e2m3"), 0);
  // int8 max 127/64: 127/64 → 0; 127/32 → 1; 1.99 → 1; 1 → 0 (ratio 64/127 > 1/2); 127/128 → −1.
  assertEquals(rceil(127 / 64, "mxint8"), 0);
  assertEquals(rceil(127 / 32, "mxint8"), 1);
  assertEquals(rceil(Math.fround(1.99), "mxint8"), 1);
  assertEquals(rceil(1, "mxint8"), 0);
  assertEquals(rceil(127 / 128, "mxint8"), -1);
  // e4m3 max 448: amax 448 → 0, 449 → 1; fp4 max 6: amax 6 → 0, 3 → −1, 7 → 1.
  assertEquals([rceil(448, "mxfp8-e4m3"), rceil(449, "mxfp8-e4m3")], [0, 1]);
  assertEquals([rceil(6, "mxfp4"), rceil(3, "mxfp4"), rceil(7, "mxfp4")], [0, -1, 1]);
});

Deno.test("`sharedExponent()` matches exact BigInt bounds for every rule", () => {
  const amaxArb = fc.oneof(
    fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(2 ** -149) }),
    fc.constantFrom(2 ** -149, 2 ** -126, 1, 7.5, 127 / 64, 448, 57344, 3.4028234663852886e38),
  );
  fc.assert(
    fc.property(amaxArb, fc.constantFrom(...MX_FORMATS), (amax, format) => {
      const { emax, maxNum, maxDen } = SPEC[format];
      const x = fraction(amax);
      // floor: 2^k ≤ amax < 2^(k+1) with k = e + emax (unless clamped at −127).
      const floor = sharedExponent(amax, format);
      if (floor > -127) {
        const k = floor + emax;
        assert(compare(x, k) >= 0 && compare(x, k + 1) < 0);
      }
      // ceil: 2^(c−1) < amax ≤ 2^c.
      const ceil = sharedExponent(amax, format, { scaleMode: "ceil" });
      if (ceil > -127 && ceil < 127) { // 127 may be a clamp (int8, amax near 2^128)
        const c = ceil + emax;
        assert(compare(x, c - 1) > 0 && compare(x, c) <= 0);
      }
      // rceil: max·2^(r−1) < amax ≤ max·2^r.
      const r = sharedExponent(amax, format, { scaleMode: "rceil" });
      if (r > -127 && r < 127) {
        assert(compare(x, r - 1, maxNum, maxDen) > 0 && compare(x, r, maxNum, maxDen) <= 0);
      }
      for (const e of [floor, ceil, r]) assert(Number.isInteger(e) && e >= -127 && e <= 127);
    }),
    fcParams(),
  );
});

Deno.test("`quantizeMx()` y is decode(code)·X and codes follow the OCP cast", () => {
  const value = fc.oneof(
    fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
    fc.constantFrom(0, -0, 2 ** -149, -(2 ** -130), 448, -57344, 1e-30),
  );
  fc.assert(
    fc.property(
      fc.array(value, { minLength: 32, maxLength: 32 }),
      fc.constantFrom(...MX_FORMATS),
      fc.constantFrom("floor", "ceil", "even", "rceil") as fc.Arbitrary<MxScaleMode>,
      (x, format, scaleMode) => {
        const { blocks, y } = quantizeMx(x, format, { scaleMode });
        const b = blocks[0]!;
        const amax = Math.max(...x.map((v) => Math.abs(Math.fround(v))));
        const e = sharedExponent(amax, format, { scaleMode });
        assertEquals(b.scaleBits, e + 127);
        assertEquals(b.scale, 2 ** e);
        b.codes.forEach((code, j) => {
          if (format === "mxint8") {
            assert(Number.isInteger(code) && code >= -128 && code <= 127);
            assertEquals(y[j], (code / 64) * 2 ** e);
            // |V/X − k/64| ≤ 1/128 unless clamped at the ends.
            const t = Math.fround(x[j]!) * 2 ** -e * 64;
            if (t > -128 && t < 127) assert(Math.abs(t - code) <= 0.5);
          } else {
            const value = decode(code, ELEMENT[format]);
            assertEquals(y[j], value * 2 ** e);
            assert(Number.isFinite(value)); // saturating: never NaN or Infinity
          }
        });
      },
    ),
    fcParams(),
  );
});

Deno.test("`quantizeMx()` gives a NaN block the NaN scale 0xFF, codes 0 and y NaN", () => {
  const x = [...block(1, NaN, 2), ...block(3)];
  const { blocks, y } = quantizeMx(x, "mxfp8-e4m3");
  assertEquals(blocks[0], { scale: NaN, scaleBits: 0xff, codes: new Array(32).fill(0) });
  assert([...y.slice(0, 32)].every(Number.isNaN));
  // The next block is unaffected: amax 3 → e = 1 − 8 = −7; 3·2⁷ = 384 = 1.5·2⁸ → 0x7c.
  assertEquals(blocks[1]!.scaleBits, 120);
  assertEquals(blocks[1]!.codes[0], 0x7c);
  assertEquals(y[32], 3);
});

Deno.test("`quantizeMx()` saturates elements beyond max_elem instead of overflowing", () => {
  // e4m3: amax 480 → e = 8 − 8 = 0; 480 > 448 → 448 (0x7e), not NaN.
  const e4m3 = quantizeMx(block(480, -480), "mxfp8-e4m3");
  assertEquals(e4m3.blocks[0]!.codes.slice(0, 2), [0x7e, 0xfe]);
  assertEquals([...e4m3.y.slice(0, 2)], [448, -448]);
  // e5m2: amax 65535 → e = 15 − 15 = 0; nearest-even would overflow to 65536 → 57344 (0x7b).
  const e5m2 = quantizeMx(block(65535), "mxfp8-e5m2");
  assertEquals(e5m2.blocks[0]!.codes[0], 0x7b);
  assertEquals(e5m2.y[0], 57344);
  // int8: 127.5/64 → k = 128 → 127; −127.5/64 → −128 (tie to even).
  const int8 = quantizeMx(block(127.5 / 64, -127.5 / 64, 0.5 / 64, 1.5 / 64), "mxint8");
  assertEquals(int8.blocks[0]!.scaleBits, 127);
  assertEquals(int8.blocks[0]!.codes.slice(0, 4), [127, -128, 0, 2]);
  assertEquals([...int8.y.slice(0, 4)], [127 / 64, -2, 0, 2 / 64]);
});

Deno.test("`quantizeMx()` clamps e to [−127, 127]", () => {
  // amax 2⁻¹⁴⁹: floor gives −149 − 8 → −127 (byte 0); V/X = 2⁻²² rounds to 0 in e4m3.
  const tiny = quantizeMx(block(2 ** -149, -(2 ** -149)), "mxfp8-e4m3");
  assertEquals(tiny.blocks[0]!.scaleBits, 0);
  assertEquals(tiny.blocks[0]!.scale, 2 ** -127);
  assertEquals(tiny.blocks[0]!.codes.slice(0, 2), [0x00, 0x80]);
  assert(Object.is(tiny.y[1], -0));
  // int8 amax 2¹²⁷: e = 127 (byte 254), the largest E8M0 exponent; V/X = 1 → k = 64.
  const huge = quantizeMx(block(2 ** 127), "mxint8");
  assertEquals(huge.blocks[0]!.scaleBits, 254);
  assertEquals(huge.blocks[0]!.codes[0], 64);
  assertEquals(huge.y[0], 2 ** 127);
  // ceil on int8 with amax = float32's max (just below 2¹²⁸): ceil(log2) = 128 → clamped to 127;
  // V/X ≈ 2 then saturates at k = 127.
  const top = 3.4028234663852886e38;
  const clamped = quantizeMx(block(top), "mxint8", { scaleMode: "ceil" });
  assertEquals(clamped.blocks[0]!.scaleBits, 254);
  assertEquals(clamped.blocks[0]!.codes[0], 127);
  assertEquals(clamped.y[0], (127 / 64) * 2 ** 127);
  // An all-zero block takes e = −127.
  const zero = quantizeMx(block(), "mxfp4");
  assertEquals([zero.blocks[0]!.scaleBits, zero.blocks[0]!.scale], [0, 2 ** -127]);
});

Deno.test("`quantizeMx()` keeps subnormal elements and rounds their ties to even", () => {
  // e4m3, amax 448 → e = 0. Subnormals step 2⁻⁹: 2⁻⁹ → 0x01; 3·2⁻¹⁰ (tie of 1 and 2 steps) → 2
  // steps (0x02); 2⁻¹⁰ (tie of 0 and 1 step) → 0; −2⁻¹¹ → −0 (0x80) and y −0, as cast does.
  const { blocks, y } = quantizeMx(
    block(448, 2 ** -9, 3 * 2 ** -10, 2 ** -10, -(2 ** -11)),
    "mxfp8-e4m3",
  );
  assertEquals(blocks[0]!.codes.slice(0, 5), [0x7e, 0x01, 0x02, 0x00, 0x80]);
  assertEquals([...y.slice(0, 5)], [448, 2 ** -9, 2 ** -8, 0, -0]);
  // MXINT8 has one zero: a negative value that rounds to 0 gives code 0 and y +0.
  const int8 = quantizeMx(block(1, -(2 ** -10)), "mxint8");
  assertEquals(int8.blocks[0]!.codes[1], 0);
  assert(Object.is(int8.y[1], 0));
});

Deno.test("`quantizeMx()` refuses infinities, bad formats, modes and lengths", () => {
  for (const bad of [Infinity, -Infinity, 1e39]) {
    const e = assertThrows(() => quantizeMx(block(1, bad), "mxfp4"), LoraquantRangeError, "x[1]");
    assertEquals((e as LoraquantRangeError).code, "E_RANGE");
  }
  assertThrows(() => quantizeMx(block(), "mxfp2" as MxFormat), LoraquantTypeError, "mxfp2");
  assertThrows(
    () => quantizeMx(block(), "mxfp4", { scaleMode: "up" as MxScaleMode }),
    LoraquantTypeError,
    "scaleMode",
  );
  const shape = assertThrows(() => quantizeMx([1], "mxint8"), LoraquantTypeError);
  assertEquals((shape as LoraquantTypeError).code, "E_SHAPE");
  assertThrows(() => sharedExponent(-1, "mxfp4"), LoraquantRangeError, "amax");
});

Deno.test("`quantizeMx()` reproduces the floor/rceil examples of docs/semantics.md §7.3", () => {
  // e4m3, amax 510: floor e = 0 and 510 saturates to 448; rceil e = ⌈log2(510/448)⌉ = 1 and
  // 255 rounds to 256 (e4m3 neighbours 240, 256), y = 512.
  const floor = quantizeMx(block(510), "mxfp8-e4m3");
  assertEquals([floor.blocks[0]!.scaleBits, floor.y[0]], [127, 448]);
  const rceil = quantizeMx(block(510), "mxfp8-e4m3", { scaleMode: "rceil" });
  assertEquals([rceil.blocks[0]!.scaleBits, rceil.y[0]], [128, 512]);
  // fp4, amax fround(7.9): floor X = 1, 7.9 → 6; rceil X = 2, 3.95 → 4, y = 8.
  const v = Math.fround(7.9);
  assertEquals(quantizeMx(block(v), "mxfp4").y[0], 6);
  assertEquals(quantizeMx(block(v), "mxfp4", { scaleMode: "rceil" }).y[0], 8);
});
