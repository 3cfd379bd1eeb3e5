import { assert, assertAlmostEquals, assertEquals, assertGreater, assertThrows } from "@std/assert";
import { matrix } from "@loraquant/reference/matrix";
import { BITS_RANGE, GROUP_SIZE, labWeights, quantizationError } from "./bits_model.ts";

Deno.test("quantizationError() errs by at most half a step, on the b-bit grid", () => {
  const x = labWeights();
  for (const scheme of ["tensor", "group"] as const) {
    for (let bits = BITS_RANGE[0]; bits <= BITS_RANGE[1]; bits++) {
      const qmax = 2 ** (bits - 1) - 1;
      const { errors, scale, levels } = quantizationError(x, bits, scheme);
      assertEquals(levels, 2 ** bits - 1);
      assertEquals(scale.length, scheme === "tensor" ? 1 : 4096 / GROUP_SIZE);
      for (let i = 0; i < errors.length; i++) {
        const s = scale[scheme === "tensor" ? 0 : Math.floor(i / GROUP_SIZE)]!;
        const xhat = x.data[i]! + errors[i]!;
        const q = Math.round(xhat / s);
        assert(Math.abs(q) <= qmax, `level ${q} beyond ±${qmax}`);
        assertAlmostEquals(xhat, q * s, 1e-12); // x̂ is a multiple of the scale
        assert(Math.abs(errors[i]!) <= s / 2 * (1 + 1e-12), `error ${errors[i]} > step/2`);
      }
    }
  }
});

Deno.test("quantizationError() reports the SQNR of its own errors; groups beat one scale", () => {
  const x = labWeights();
  for (let bits = BITS_RANGE[0]; bits <= BITS_RANGE[1]; bits++) {
    const tensor = quantizationError(x, bits, "tensor");
    const group = quantizationError(x, bits, "group");
    let signal = 0;
    let noise = 0;
    for (let i = 0; i < x.data.length; i++) {
      signal += x.data[i]! ** 2;
      noise += tensor.errors[i]! ** 2;
    }
    assertAlmostEquals(tensor.sqnrDb, 10 * Math.log10(signal / noise), 1e-9);
    assertAlmostEquals(tensor.rmse, Math.sqrt(noise / x.data.length), 1e-12);
    // A group's max |x| is at most the tensor's: finer steps, less noise.
    assertGreater(group.sqnrDb, tensor.sqnrDb);
  }
});

Deno.test("quantizationError() rejects bit widths outside the slider", () => {
  const x = matrix([1, 32], new Float64Array(32));
  for (const bits of [1, 9, 4.5, NaN]) {
    assertThrows(() => quantizationError(x, bits, "tensor"), RangeError, "bits must be");
  }
  // All zeros: scale 1, no error.
  assertEquals(quantizationError(x, 4, "group").maxAbs, 0);
});
