import { assertEquals, assertThrows } from "@std/assert";
import { FLOAT_FORMATS, floatFormat, isFloatFormatName } from "./format.ts";
import { LoraquantTypeError } from "./errors.ts";

Deno.test("format descriptors match the values published in IEEE 754 and the OCP specs", () => {
  // [bits, E, t, bias, max, min normal, min subnormal, infinities, NaN]
  const published: Record<
    string,
    [number, number, number, number, number, number, number, boolean, boolean]
  > = {
    "float64": [64, 11, 52, 1023, Number.MAX_VALUE, 2 ** -1022, Number.MIN_VALUE, true, true],
    "float32": [
      32,
      8,
      23,
      127,
      3.4028234663852886e38,
      1.1754943508222875e-38,
      1.401298464324817e-45,
      true,
      true,
    ],
    "float16": [16, 5, 10, 15, 65504, 6.103515625e-5, 5.960464477539063e-8, true, true],
    "bfloat16": [
      16,
      8,
      7,
      127,
      3.3895313892515355e38,
      1.1754943508222875e-38,
      9.183549615799121e-41,
      true,
      true,
    ],
    // OCP 8-bit FP v1.0, table 1: E4M3 max 448, min normal 2^-6, min subnormal 2^-9.
    "fp8-e4m3": [8, 4, 3, 7, 448, 2 ** -6, 2 ** -9, false, true],
    // E5M2 max 57344, min normal 2^-14, min subnormal 2^-16.
    "fp8-e5m2": [8, 5, 2, 15, 57344, 2 ** -14, 2 ** -16, true, true],
    // OCP MX v1.0, section 5.3: FP6 E2M3 max 7.5, E3M2 max 28; FP4 E2M1 max 6.
    "fp6-e2m3": [6, 2, 3, 1, 7.5, 1, 0.125, false, false],
    "fp6-e3m2": [6, 3, 2, 3, 28, 0.25, 0.0625, false, false],
    "fp4-e2m1": [4, 2, 1, 1, 6, 1, 0.5, false, false],
  };
  for (const [name, row] of Object.entries(published)) {
    const f = FLOAT_FORMATS[name as keyof typeof FLOAT_FORMATS];
    assertEquals(
      [
        f.bits,
        f.exponentBits,
        f.mantissaBits,
        f.bias,
        f.max,
        f.minNormal,
        f.minSubnormal,
        f.hasInfinity,
        f.hasNaN,
      ],
      row,
      name,
    );
  }
});

Deno.test("floatFormat() refuses an unknown name with E_ARG, listing the known ones", () => {
  const e = assertThrows(() => floatFormat("float12"), LoraquantTypeError, "float12");
  assertEquals(e.code, "E_ARG");
  assertEquals(isFloatFormatName("fp4-e2m1"), true);
  assertEquals(isFloatFormatName(16), false);
});
