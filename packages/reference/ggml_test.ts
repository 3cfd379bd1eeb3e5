import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { GGML_BLOCK_SIZE, quantizeGgml } from "./ggml.ts";
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";
import { fcParams } from "./_testing.ts";

// Independent facts: the C formulas of ggml-quants.c worked by hand on crafted blocks, the
// platform's Math.f16round / Float16Array for float16, and ex18 of oracle-examples.jsonl.

/** A block of 32 with the given leading values and zeros after them. */
function block(...head: number[]): number[] {
  return [...head, ...new Array(GGML_BLOCK_SIZE - head.length).fill(0)];
}

/** float16 bits through the platform's Float16Array (independent of cast.ts). */
function float16Bits(x: number): number {
  return new Uint16Array(new Float16Array([x]).buffer)[0]!;
}

/** ex18 of /work/shared/oracle-examples.jsonl (q8_0), copied verbatim: request and response. */
const EX18 = JSON.parse(
  '{"request":{"id":"ex18","op":"block","format":"q8_0","x":[-0.25588029623031616,0.5114315152168274,-0.22609616816043854,-0.31506842374801636,-0.9300181865692139,-0.21330194175243378,1.1119173765182495,0.4241466820240021,1.036879062652588,0.24890272319316864,0.3947696387767792,0.18532666563987732,-1.6660624742507935,0.8552509546279907,0.5063848495483398,0.498818039894104,-1.6913645267486572,-1.7438881397247314,-0.8896153569221497,-0.4681892693042755,0.30544599890708923,-0.04591172933578491,0.52097487449646,-0.642234742641449,0.30870315432548523,0.39415448904037476,-0.6611373424530029,1.717530369758606,0.5566093325614929,1.197005271911621,-0.6203328967094421,-0.7395159006118774]},"response":{"id":"ex18","ok":true,"result":{"blocks":[{"scale":0.01373291015625,"scaleBits":8968,"codes":[-19,37,-16,-23,-68,-16,81,31,76,18,29,13,-121,62,37,36,-123,-127,-65,-34,22,-3,38,-47,22,29,-48,125,41,87,-45,-54]}],"y":[-0.26092529296875,0.50811767578125,-0.2197265625,-0.31585693359375,-0.933837890625,-0.2197265625,1.11236572265625,0.42572021484375,1.043701171875,0.2471923828125,0.39825439453125,0.17852783203125,-1.66168212890625,0.8514404296875,0.50811767578125,0.494384765625,-1.68914794921875,-1.74407958984375,-0.89263916015625,-0.4669189453125,0.3021240234375,-0.04119873046875,0.5218505859375,-0.64544677734375,0.3021240234375,0.39825439453125,-0.6591796875,1.71661376953125,0.56304931640625,1.19476318359375,-0.61798095703125,-0.7415771484375]}}}',
);

Deno.test("`quantizeGgml()` reproduces oracle example ex18 (q8_0) bit for bit", () => {
  const { request, response } = EX18;
  const { blocks, y } = quantizeGgml(request.x, "q8_0");
  assertEquals(blocks, response.result.blocks);
  assertEquals([...y], response.result.y);
});

Deno.test("`quantizeGgml()` q8_0 rounds exact ties away from zero (roundf)", () => {
  // amax = 127 → d = 1, id = 1: x·id is x itself, so 2.5 → 3 and −2.5 → −3 (even would give 2).
  const { blocks, y } = quantizeGgml(block(127, 2.5, -2.5, 0.5, -0.5, 1.5, 126.5), "q8_0");
  assertEquals(blocks[0]!.scale, 1);
  assertEquals(blocks[0]!.scaleBits, 0x3c00);
  assertEquals(blocks[0]!.codes.slice(0, 7), [127, 3, -3, 1, -1, 2, 127]);
  assertEquals([...y.slice(0, 7)], [127, 3, -3, 1, -1, 2, 127]);
});

Deno.test("`quantizeGgml()` q8_0 stores d = amax/127 as float16 and dequantizes with it", () => {
  // amax = 1: d = fround(1/127), stored as float16 (nearest-even); y = fround(code·d16).
  const { blocks, y } = quantizeGgml(block(1, -0.5, 0.25), "q8_0");
  const d = Math.fround(1 / 127);
  const d16 = Math.f16round(d);
  assertEquals(blocks[0]!.scale, d16);
  assertEquals(blocks[0]!.scaleBits, float16Bits(d16));
  const id = Math.fround(1 / d);
  // By hand: 1·id = 127.00000…, 0.5·id = 63.5000… (just above the tie: away gives 64 either way)
  assertEquals(blocks[0]!.codes.slice(0, 3), [127, -64, 32]);
  assert(Math.fround(0.5 * id) >= 63.5);
  assertEquals([...y.slice(0, 3)], [127, -64, 32].map((c) => Math.fround(c * d16)));
});

Deno.test("`quantizeGgml()` q8_0 of an all-zero block has scale +0 and codes 0", () => {
  const { blocks, y } = quantizeGgml(block(0, -0), "q8_0");
  assertEquals(blocks[0]!.scale, 0);
  assertEquals(blocks[0]!.scaleBits, 0);
  assertEquals(blocks[0]!.codes, new Array(32).fill(0));
  assertEquals([...y], new Array(32).fill(0));
});

Deno.test("`quantizeGgml()` q4_0 keeps the first value of largest magnitude (signed)", () => {
  // max = −8 (first), d = −8/−8 = 1, id = 1: −8 + 8.5 = 0.5 → 0; 8 + 8.5 = 16.5 → 16 → MIN 15.
  // Had the last one won (max = 8, d = −1), the codes would be 15 and 0.
  const { blocks, y } = quantizeGgml(block(-8, 8), "q4_0");
  assertEquals(blocks[0]!.scale, 1);
  assertEquals(blocks[0]!.codes.slice(0, 3), [0, 15, 8]);
  assertEquals([...y.slice(0, 3)], [-8, 7, 0]);
});

Deno.test("`quantizeGgml()` q4_0 truncates v·id + 8.5 toward zero ((int8_t) cast)", () => {
  // max = 8 → d = −1, id = −1. x = 1.75: −1.75 + 8.5 = 6.75 → 6 (rounding would give 7);
  // x = 0.25: 8.25 → 8; x = −7.75: 16.25 → 16 → MIN(15, 16) = 15; x = 1.5: exactly 7.
  const { blocks, y } = quantizeGgml(block(8, 1.75, 0.25, -7.75, 1.5), "q4_0");
  assertEquals(blocks[0]!.scale, -1);
  assertEquals(blocks[0]!.scaleBits, 0xbc00);
  assertEquals(blocks[0]!.codes.slice(0, 5), [0, 6, 8, 15, 7]);
  assertEquals([...y.slice(0, 5)], [8, 2, -0, -7, 1]); // (8 − 8)·(−1) = 0.0f·−1.0f = −0
});

Deno.test("`quantizeGgml()` q4_0 adds 8.5f in float32 before truncating", () => {
  // d = −1 (max 8): x0 = 6.5 − 2⁻²¹ exactly; x0 + 8.5 = 15 − 2⁻²¹ is a float32 tie between
  // 15 − 2⁻²⁰ (odd) and 15 (even): it rounds to 15, so the code is 15, not 14.
  const x0 = 6.5 - 2 ** -21;
  assertEquals(Math.fround(x0), x0);
  const { blocks } = quantizeGgml(block(8, -x0), "q4_0");
  assertEquals(blocks[0]!.codes[1], 15);
});

Deno.test("`quantizeGgml()` q4_0 of an all-zero block has scale −0 and y −0", () => {
  // C: max starts at +0 and is never replaced, d = +0 / −8 = −0, id = 0 (−0 is false),
  // every code (int8_t)(0 + 8.5f) = 8, and y = (8 − 8)·(−0) = 0·(−0) = −0.
  const { blocks, y } = quantizeGgml(block(0, -0, 0), "q4_0");
  assertEquals(blocks[0]!.scale, -0);
  assertEquals(blocks[0]!.scaleBits, 0x8000);
  assertEquals(blocks[0]!.codes, new Array(32).fill(8));
  assert([...y].every((v) => Object.is(v, -0)));
});

Deno.test("`quantizeGgml()` q4_1 rounds half up through + 0.5f and truncation", () => {
  // min = 0, max = 15 → d = 1, id = 1: x + 0.5 truncated: 1.5 → 2, 2.5 → 3, 14.75 → 15.
  const { blocks, y } = quantizeGgml(block(0, 15, 1.5, 2.5, 14.75, 7.25), "q4_1");
  const b = blocks[0]!;
  assertEquals([b.scale, b.scaleBits, b.min, b.minBits], [1, 0x3c00, 0, 0]);
  assertEquals(b.codes.slice(0, 6), [0, 15, 2, 3, 15, 7]);
  assertEquals([...y.slice(0, 6)], [0, 15, 2, 3, 15, 7]);
});

Deno.test("`quantizeGgml()` q4_1 subtracts the block minimum and adds m back", () => {
  // min = −2 (the zeros after it are larger), max = 28 → d = 30/15 = 2, id = 0.5.
  // x = 5: (5 + 2)·0.5 + 0.5 = 4 → 4; y = 4·2 + (−2) = 6.
  const { blocks, y } = quantizeGgml(block(-2, 28, 5, 0), "q4_1");
  const b = blocks[0]!;
  assertEquals([b.scale, b.min, b.minBits], [2, -2, 0xc000]);
  assertEquals(b.codes.slice(0, 4), [0, 15, 4, 1]);
  assertEquals([...y.slice(0, 4)], [-2, 28, 6, 0]);
});

Deno.test("`quantizeGgml()` q4_1 keeps the sign of the first of equal minima", () => {
  // C updates min only on v < min: +0 then −0 leaves +0; −0 then +0 leaves −0.
  const zeroFirst = quantizeGgml(block(0, -0), "q4_1").blocks[0]!;
  assertEquals(zeroFirst.min, 0);
  const negativeFirst = quantizeGgml([-0, ...new Array(31).fill(0)], "q4_1").blocks[0]!;
  assertEquals(negativeFirst.min, -0);
  assertEquals(negativeFirst.minBits, 0x8000);
});

Deno.test("`quantizeGgml()` stores a float16 overflow of d as Infinity, like GGML_FP32_TO_FP16", () => {
  // amax = 127·65536: d = 65536, above float16's max 65504 by more than half an ulp → +Inf.
  const { blocks, y } = quantizeGgml(block(127 * 65536, 1), "q8_0");
  assertEquals(blocks[0]!.scale, Infinity);
  assertEquals(blocks[0]!.scaleBits, 0x7c00);
  assertEquals(blocks[0]!.codes.slice(0, 3), [127, 0, 0]);
  assertEquals([...y.slice(0, 3)], [Infinity, NaN, NaN]); // 0·Inf is NaN in C too
});

Deno.test("`quantizeGgml()` gives code 0 where 1/d overflows (x86-64 conversion of ±Inf/NaN)", () => {
  // amax = 2⁻¹⁴⁰: d = fround(2⁻¹⁴⁰/127) is a float32 subnormal below 2⁻¹²⁸, so 1/d is +Inf in
  // float32; x·id is ±Inf or NaN, whose (int8_t) conversion is 0 on x86-64 (cvttss2si).
  const tiny = 2 ** -140;
  assert(Math.fround(1 / Math.fround(tiny / 127)) === Infinity);
  for (const format of ["q8_0", "q4_0", "q4_1"] as const) {
    const { blocks } = quantizeGgml(block(tiny, -tiny), format);
    assertEquals(blocks[0]!.codes, new Array(32).fill(0), format);
  }
});

Deno.test("`quantizeGgml()` rounds inputs to float32 first", () => {
  // 1 + 2⁻³⁰ is 1 in float32: the block is then [127, 1, …] exactly.
  const a = quantizeGgml(block(127, 1 + 2 ** -30), "q8_0");
  const b = quantizeGgml(block(127, 1), "q8_0");
  assertEquals(a, b);
});

Deno.test("`quantizeGgml()` refuses bad formats, lengths and non-finite inputs", () => {
  assertThrows(() => quantizeGgml(block(), "q5_0" as "q8_0"), LoraquantTypeError, "q5_0");
  const shape = assertThrows(() => quantizeGgml([1, 2, 3], "q8_0"), LoraquantTypeError);
  assertEquals((shape as LoraquantTypeError).code, "E_SHAPE");
  for (const bad of [NaN, Infinity, -Infinity, 1e39]) {
    const e = assertThrows(() => quantizeGgml(block(1, bad), "q4_0"), LoraquantRangeError, "x[1]");
    assertEquals((e as LoraquantRangeError).code, "E_RANGE");
  }
  assertEquals(quantizeGgml([], "q4_1"), { blocks: [], y: new Float64Array(0) });
});

Deno.test("`quantizeGgml()` q8_0: the amax element codes to ±127 and d is f16(fround(amax/127))", () => {
  const value = fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
  fc.assert(
    fc.property(fc.array(value, { minLength: 32, maxLength: 32 }), (x) => {
      const { blocks, y } = quantizeGgml(x, "q8_0");
      const b = blocks[0]!;
      const amax = Math.max(...x.map(Math.abs));
      const d = Math.fround(amax / 127);
      assertEquals(b.scale, Math.f16round(d));
      assertEquals(b.scaleBits, float16Bits(b.scale));
      if (d >= 2 ** -126) { // normal d: 1/d is finite and exact to 24 bits
        const i = x.findIndex((v) => Math.abs(v) === amax);
        assertEquals(Math.abs(b.codes[i]!), 127);
      }
      for (let j = 0; j < 32; j++) {
        assert(b.codes[j]! >= -127 && b.codes[j]! <= 127);
        assertEquals(y[j], Math.fround(b.codes[j]! * b.scale));
      }
    }),
    fcParams(),
  );
});

Deno.test("`quantizeGgml()` q4 codes are nibbles and y follows ggml's dequantizers", () => {
  const value = fc.oneof(
    fc.float({ noNaN: true, noDefaultInfinity: true, min: -100, max: 100 }),
    fc.constantFrom(0, -0, 0.5, -0.5, 8, -8),
  );
  fc.assert(
    fc.property(fc.array(value, { minLength: 32, maxLength: 32 }), (x) => {
      const q40 = quantizeGgml(x, "q4_0");
      const q41 = quantizeGgml(x, "q4_1");
      for (let j = 0; j < 32; j++) {
        const c0 = q40.blocks[0]!.codes[j]!;
        const c1 = q41.blocks[0]!.codes[j]!;
        assert(Number.isInteger(c0) && c0 >= 0 && c0 <= 15);
        assert(Number.isInteger(c1) && c1 >= 0 && c1 <= 15);
        assertEquals(q40.y[j], Math.fround((c0 - 8) * q40.blocks[0]!.scale));
        assertEquals(
          q41.y[j],
          Math.fround(Math.fround(c1 * q41.blocks[0]!.scale) + q41.blocks[0]!.min!),
        );
      }
      const min = Math.min(...x);
      assertEquals(q41.blocks[0]!.min, Math.f16round(min));
    }),
    fcParams(),
  );
});
