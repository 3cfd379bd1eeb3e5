import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { fcParams } from "./_testing.ts";
import { dequantize } from "./dequantize.ts";
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";
import { matrix } from "./matrix.ts";
import { quantize } from "./quantize.ts";

Deno.test("`dequantize()` is (q − zeroPoint)·scale rounded once", () => {
  // IEEE 754 multiplication of an exact integer double by a double is that one rounding.
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -32768, max: 65535 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: -32768, max: 65535 }),
      fc.double({ min: Number.MIN_VALUE, max: 1e300, noNaN: true }),
      (q, z, s) => {
        const x = dequantize(matrix([1, q.length], q), [s], { zeroPoint: [z] });
        assertEquals([...x.data], q.map((v) => (v - z) * s + 0));
      },
    ),
    fcParams(300),
  );
});

Deno.test("`dequantize()` rounds a product of huge integers once (BigInt path)", () => {
  // q − z = 2^53 + 1 is not a double; (2^53 + 1)·3 = 3·2^53 + 3, whose nearest double is
  // 3·2^53 + 4 (doubles are multiples of 4 there; +3 is nearer to +4 than to 0).
  const x = dequantize(matrix([1, 1], [2 ** 53]), [3], { zeroPoint: [-1] });
  assertEquals(x.data[0], 3 * 2 ** 53 + 4);
  // Beyond the float64 range: ±Infinity.
  const big = dequantize(matrix([1, 2], [1e300, -1e300]), [1e300]);
  assertEquals([...big.data], [Infinity, -Infinity]);
});

Deno.test("`dequantize()` under pytorch/onnx is fround((q − z)·fround(scale))", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -128, max: 255 }),
      fc.integer({ min: -128, max: 255 }),
      fc.double({ min: 1e-6, max: 10, noNaN: true }),
      fc.constantFrom("pytorch", "onnx" as const),
      (q, z, s, profile) => {
        const x = dequantize(matrix([1, 1], [q]), [s], { zeroPoint: [z], profile });
        assertEquals(x.data[0], Math.fround((q - z) * Math.fround(s)) + 0);
      },
    ),
    fcParams(300),
  );
  // A product past 2^29·2^24 bits is rounded from its exact value, once, to float32.
  const q = 2 ** 40 + 1;
  const x = dequantize(matrix([1, 1], [q]), [1 + 2 ** -23], { profile: "onnx" });
  // exact 2^40 + 1 + 2^17 + 2^-23: float32 spacing at 2^40 is 2^17, so the nearest is 2^40 + 2^17.
  assertEquals(x.data[0], 2 ** 40 + 2 ** 17);
});

Deno.test("`dequantize()` inverts `quantize()` within scale/2 per channel and group", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 6, maxLength: 6 }),
      fc.constantFrom(
        { granularity: "tensor" as const },
        { granularity: "channel" as const, axis: 0 },
        { granularity: "channel" as const, axis: 1 },
        { granularity: "group" as const, groupSize: 3 },
      ),
      fc.constantFrom("symmetric", "asymmetric" as const),
      (values, layout, scheme) => {
        const x = matrix([2, 3], values);
        const { q, scale, zeroPoint } = quantize(x, "int16", { ...layout, scheme });
        const y = dequantize(q, scale, { ...layout, zeroPoint });
        const index = (i: number) =>
          layout.granularity === "tensor"
            ? 0
            : layout.granularity === "group"
            ? Math.floor(i / 3)
            : layout.axis === 0
            ? Math.floor(i / 3)
            : i % 3;
        for (let i = 0; i < 6; i++) {
          const s = scale[index(i)]!;
          // |x − x̂| ≤ s/2 + rounding of x̂ (half an ulp, ≤ |x̂|·2^−53).
          assert(Math.abs(values[i]! - y.data[i]!) <= s / 2 + Math.abs(y.data[i]!) * 2 ** -52);
        }
      },
    ),
    fcParams(200),
  );
});

Deno.test("`dequantize()` rejects bad arguments with the protocol's codes", () => {
  const q = matrix([2, 2], [1, 2, 3, 4]);
  assertThrows(() => dequantize(q, [1, 2]), LoraquantTypeError, "entries");
  assertThrows(() => dequantize(q, [1], { granularity: "channel", axis: 3 }), LoraquantTypeError);
  assertThrows(() => dequantize(q, [1], { granularity: "group" }), LoraquantTypeError);
  assertThrows(
    () => dequantize(q, [1], { granularity: "group", groupSize: 3 }),
    LoraquantTypeError,
  );
  assertThrows(
    () => dequantize(q, [1], { granularity: "group", groupSize: -1 }),
    LoraquantRangeError,
  );
  assertThrows(() => dequantize(matrix([1, 1], [0.5]), [1]), LoraquantRangeError, "integers");
  assertThrows(() => dequantize(q, [-1]), LoraquantRangeError, "scale");
  assertThrows(() => dequantize(q, [1], { zeroPoint: [0.5] }), LoraquantRangeError, "zeroPoint");
  assertThrows(() => dequantize(q, [1e-50], { profile: "pytorch" }), LoraquantRangeError);
  assertEquals(dequantize(matrix([0, 0], []), [1]).data.length, 0);
  assertEquals([...dequantize(matrix([1, 1], [5]), [0.5], { zeroPoint: [5] }).data], [0]);
});
