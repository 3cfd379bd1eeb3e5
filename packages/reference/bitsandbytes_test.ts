import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import {
  BITSANDBYTES_BLOCK_SIZES,
  DYNAMIC_MAP,
  FP4_BNB_CODE,
  NF4_CODE,
  quantizeBitsandbytes,
} from "./bitsandbytes.ts";
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";
import { fcParams } from "./_testing.ts";

// Independent facts: the tables as printed in bitsandbytes' csrc/kernels.cu, exact distances in
// BigInt arithmetic, float32 bits through a Float32Array, values worked by hand.

/** A block of `size` with the given leading values and zeros after them. */
function block(size: number, ...head: number[]): number[] {
  return [...head, ...new Array(size - head.length).fill(0)];
}

/** float32 bits through the platform's Float32Array. */
function float32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0]!;
}

/** The next float32 above / below a positive float32 (through its bits). */
function nextUp(x: number): number {
  return new Float32Array(new Uint32Array([float32Bits(x) + 1]).buffer)[0]!;
}
function nextDown(x: number): number {
  return new Float32Array(new Uint32Array([float32Bits(x) - 1]).buffer)[0]!;
}

/** |a − b| scaled by 2^400 as an exact BigInt (a, b finite float64). */
function exactDistance(a: number, b: number): bigint {
  const scaled = (v: number): bigint => {
    // v = m·2^e with integer m: peel powers of two exactly.
    let m = Math.abs(v);
    let e = 0;
    while (!Number.isInteger(m)) {
      m *= 2;
      e--;
    }
    const big = BigInt(m) << BigInt(400 + e);
    return v < 0 ? -big : big;
  };
  const d = scaled(a) - scaled(b);
  return d < 0n ? -d : d;
}

Deno.test("`NF4_CODE` and `FP4_BNB_CODE` are bitsandbytes' float32 tables", () => {
  // csrc/kernels.cu nf4_dequantization_lut and fp4_dequantization_lut (with the sign bit 8).
  assertEquals(NF4_CODE.length, 16);
  assertEquals(NF4_CODE[0], -1);
  assertEquals(NF4_CODE[7], 0);
  assertEquals(NF4_CODE[15], 1);
  assertEquals(NF4_CODE[1], Math.fround(-0.6961928009986877));
  for (let i = 1; i < 16; i++) assert(NF4_CODE[i - 1]! < NF4_CODE[i]!);
  for (const v of NF4_CODE) assertEquals(Math.fround(v), v);
  assertEquals(FP4_BNB_CODE.slice(0, 8), [
    0,
    Math.fround(0.0625 / 12), // 0.005208333333f is the float32 of 1/192
    Math.fround(8 / 12),
    1,
    Math.fround(4 / 12),
    0.5,
    Math.fround(2 / 12),
    0.25,
  ]);
  assertEquals(FP4_BNB_CODE[8], -0);
  for (let i = 0; i < 8; i++) assertEquals(FP4_BNB_CODE[i + 8], -FP4_BNB_CODE[i]!);
});

Deno.test("`quantizeBitsandbytes()` maps every code-book value to itself", () => {
  for (const [format, table] of [["nf4", NF4_CODE], ["fp4-bnb", FP4_BNB_CODE]] as const) {
    // absmax 4: s = fround(v·4·0.25) = v exactly.
    const x = block(32, 4, ...table.map((v) => v * 4));
    const { blocks, y } = quantizeBitsandbytes(x, format, { blockSize: 32 });
    table.forEach((v, code) => {
      // Equal values go to the lowest code index: fp4-bnb's −0 (code 8) becomes code 0.
      const expected = format === "fp4-bnb" && code === 8 ? 0 : code;
      assertEquals(blocks[0]!.codes[code + 1], expected, `${format} code ${code}`);
      assertEquals(y[code + 1], expected === code ? v * 4 : 0);
    });
  }
});

Deno.test("`quantizeBitsandbytes()` sends exact midpoints to the lower value", () => {
  let tested = 0;
  for (const [format, table] of [["nf4", NF4_CODE], ["fp4-bnb", FP4_BNB_CODE]] as const) {
    const values = [...new Set(table)].sort((a, b) => a - b);
    const lowestCode = (v: number) => table.indexOf(v); // −0 === 0: the lowest index
    for (let i = 0; i + 1 < values.length; i++) {
      const [a, b] = [values[i]!, values[i + 1]!];
      const mid = (a + b) / 2;
      if (Math.fround(mid) !== mid || mid === 0) continue; // must be an exact float32 input
      tested++;
      // absmax 1: s = x exactly. The midpoint → a; one float32 step either side decides.
      const above = mid > 0 ? nextUp(mid) : -nextDown(-mid);
      const below = mid > 0 ? nextDown(mid) : -nextUp(-mid);
      const { blocks } = quantizeBitsandbytes(block(32, 1, mid, above, below), format, {
        blockSize: 32,
      });
      assertEquals(blocks[0]!.codes.slice(1, 4), [lowestCode(a), lowestCode(b), lowestCode(a)]);
    }
  }
  assert(tested >= 4, `only ${tested} midpoints are float32 values`);
});

Deno.test("`quantizeBitsandbytes()` codes −0 and tiny negatives of fp4-bnb as +0 (code 0)", () => {
  const { blocks, y } = quantizeBitsandbytes(block(64, 1, -0, -1e-6, 1e-6), "fp4-bnb");
  assertEquals(blocks[0]!.codes.slice(0, 4), [3, 0, 0, 0]);
  assertEquals([...y.slice(1, 4)], [0, 0, 0]);
  const nf4 = quantizeBitsandbytes(block(64, 1, -0), "nf4");
  assertEquals(nf4.blocks[0]!.codes.slice(0, 2), [15, 7]);
  assertEquals(nf4.y[1], 0);
});

Deno.test("`quantizeBitsandbytes()` of an all-zero block has absmax 0 and zero codes", () => {
  // max(0, 1e-38f) keeps 1/absmax finite: s = 0 → NF4 code 7, FP4 code 0; y = 0·0 = 0.
  const nf4 = quantizeBitsandbytes(block(64, -0), "nf4");
  assertEquals([nf4.blocks[0]!.scale, nf4.blocks[0]!.scaleBits], [0, 0]);
  assertEquals(nf4.blocks[0]!.codes, new Array(64).fill(7));
  assertEquals([...nf4.y], new Array(64).fill(0));
  const fp4 = quantizeBitsandbytes(block(64), "fp4-bnb");
  assertEquals(fp4.blocks[0]!.codes, new Array(64).fill(0));
});

Deno.test("`quantizeBitsandbytes()` floors absmax at 1e-38f before the reciprocal", () => {
  // absmax = fround(1e-40) (subnormal): s = x·fround(1/fround(1e-38)) ≈ 0.01, whose nearest NF4
  // value is 0 (code 7) although x is the block's absmax; y = 0·absmax = 0.
  const tiny = Math.fround(1e-40);
  const { blocks, y } = quantizeBitsandbytes(block(32, tiny), "nf4", { blockSize: 32 });
  assertEquals(blocks[0]!.scale, tiny);
  assertEquals(blocks[0]!.scaleBits, float32Bits(tiny));
  assertEquals(blocks[0]!.codes[0], 7);
  assertEquals(y[0], 0);
  // A normal absmax gets its own reciprocal: the absmax element codes to ±1.
  const small = Math.fround(2e-38);
  assertEquals(
    quantizeBitsandbytes(block(32, -small), "nf4", { blockSize: 32 }).blocks[0]!.codes[0],
    0,
  );
});

Deno.test("`quantizeBitsandbytes()` codes ±absmax to ±1 (the clamp never loses it)", () => {
  // fround(a·fround(1/a)) is 1: the product is 1 + δ with |δ| < 2⁻²⁴, within half an ulp of 1.
  for (const v of [3, 0.1, 1e-30, 3e38, 1.7]) {
    const a = Math.fround(v);
    const { blocks, y } = quantizeBitsandbytes(block(32, a, -a), "fp4-bnb", { blockSize: 32 });
    assertEquals(blocks[0]!.codes.slice(0, 2), [3, 11]);
    assertEquals([...y.slice(0, 2)], [a, -a]);
  }
});

Deno.test("`quantizeBitsandbytes()` picks the nearest value by exact distance", () => {
  const value = fc.oneof(
    fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e4, max: 1e4 }),
    fc.constantFrom(0, -0, 1e-40, -3.5),
  );
  fc.assert(
    fc.property(
      fc.array(value, { minLength: 32, maxLength: 32 }),
      fc.constantFrom("nf4", "fp4-bnb") as fc.Arbitrary<"nf4" | "fp4-bnb">,
      (x, format) => {
        const table = format === "nf4" ? NF4_CODE : FP4_BNB_CODE;
        const { blocks, y } = quantizeBitsandbytes(x, format, { blockSize: 32 });
        const absmax = Math.max(...x.map(Math.abs));
        assertEquals(blocks[0]!.scale, absmax);
        assertEquals(blocks[0]!.scaleBits, float32Bits(absmax));
        const inverse = Math.fround(1 / Math.max(absmax, Math.fround(1e-38)));
        x.forEach((v, j) => {
          const s = Math.min(1, Math.max(-1, Math.fround(v * inverse)));
          const code = blocks[0]!.codes[j]!;
          const best = exactDistance(s, table[code]!);
          table.forEach((w, other) => {
            const d = exactDistance(s, w);
            // Nothing strictly nearer; on a tie the chosen value is the lower one (or equal
            // values with a higher index).
            assert(d >= best);
            if (d === best && other !== code) {
              assert(table[code]! < w || (table[code] === w && code < other));
            }
          });
          assertEquals(y[j], Math.fround(table[code]! * absmax));
        });
      },
    ),
    fcParams(),
  );
});

Deno.test("`quantizeBitsandbytes()` accepts only bitsandbytes' block sizes", () => {
  for (const blockSize of BITSANDBYTES_BLOCK_SIZES) {
    assertEquals(quantizeBitsandbytes(block(blockSize, 1), "nf4", { blockSize }).blocks.length, 1);
  }
  for (const blockSize of [16, 48, 8192, 64.5]) {
    const e = assertThrows(
      () => quantizeBitsandbytes(block(64, 1), "nf4", { blockSize }),
      LoraquantTypeError,
      "blockSize",
    );
    assertEquals((e as LoraquantTypeError).code, "E_ARG");
  }
  const shape = assertThrows(() => quantizeBitsandbytes(block(32, 1), "nf4"), LoraquantTypeError);
  assertEquals((shape as LoraquantTypeError).code, "E_SHAPE"); // default block size 64
  assertThrows(() => quantizeBitsandbytes([], "int4" as "nf4"), LoraquantTypeError, "int4");
  for (const bad of [NaN, -Infinity, -1e39]) {
    const e = assertThrows(() => quantizeBitsandbytes(block(64, bad), "nf4"), LoraquantRangeError);
    assertEquals((e as LoraquantRangeError).code, "E_RANGE");
  }
});

Deno.test("`DYNAMIC_MAP` is bitsandbytes' signed dynamic map: 256 ascending values, 0 and 1", () => {
  assertEquals(DYNAMIC_MAP.length, 256);
  for (let i = 1; i < 256; i++) assert(DYNAMIC_MAP[i - 1]! < DYNAMIC_MAP[i]!);
  assertEquals(DYNAMIC_MAP[127], 0);
  assertEquals(DYNAMIC_MAP[255], 1);
  // Largest fraction mean: (1 + (1 − 0.9/64))/2 = 0.99296875; smallest magnitude: 10⁻⁶·0.55.
  assert(Math.abs(DYNAMIC_MAP[254]! - 0.99296875) < 1e-7);
  assertEquals(DYNAMIC_MAP[0], -DYNAMIC_MAP[254]!);
  assert(Math.abs(DYNAMIC_MAP[128]! - 5.5e-7) < 1e-13);
  for (const v of DYNAMIC_MAP) assertEquals(Math.fround(v), v);
});

Deno.test("`quantizeBitsandbytes()` double-quantizes absmax around its mean", () => {
  // Two blocks with absmax 1 and 3: offset 2, centred −1 and 1, group absmax 1:
  // 1 → code 255 (value 1) → 1·1 + 2 = 3; −1 → the map's smallest value (code 0).
  const x = [...block(64, 1), ...block(64, -3)];
  const { blocks, doubleQuant } = quantizeBitsandbytes(x, "nf4", { doubleQuant: true });
  assertEquals(blocks.map((b) => b.scale), [1, 3]);
  const dq = doubleQuant!;
  assertEquals(dq.offset, 2);
  assertEquals(dq.blockSize, 256);
  assertEquals(dq.absmax, [1]);
  assertEquals(dq.codes, [0, 255]);
  assertEquals(dq.scales, [Math.fround(DYNAMIC_MAP[0]! + 2), 3]);
  assertEquals(dq.y[64], -3); // code 0 of NF4 (−1) times the dequantized absmax 3
  assertEquals(dq.y[0], Math.fround(1 * dq.scales[0]!));
  // Without the option there is no double quantization.
  assertEquals(quantizeBitsandbytes(x, "nf4").doubleQuant, undefined);
});
