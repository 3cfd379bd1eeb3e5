import fc from "fast-check";
import { assertEquals, assertLessOrEqual, assertThrows } from "@std/assert";
import { fcParams } from "./_testing.ts";
import { doraForward, doraMagnitude, doraMerge, doraUnmerge } from "./dora.ts";
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";
import { multiply, rowNorms } from "./linalg.ts";
import { mergeLora } from "./lora.ts";
import { matrix } from "./matrix.ts";
import type { Matrix } from "./matrix.ts";

const U = 2 ** -53;
const value = fc.double({ min: -4, max: 4, noNaN: true }).filter((v) => Math.abs(v) > 1e-3);
function mat(rows: number, cols: number): fc.Arbitrary<Matrix> {
  return fc.array(value, { minLength: rows * cols, maxLength: rows * cols }).map((d) =>
    matrix([rows, cols], d)
  );
}
const problem = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })).chain((
  [out, inputs],
) =>
  fc.integer({ min: 1, max: Math.min(out, inputs) }).chain((r) =>
    fc.tuple(
      mat(out, inputs),
      mat(r, inputs),
      mat(out, r),
      fc.array(value, { minLength: out, maxLength: out }),
      fc.constantFrom(1, 2, 8),
      mat(2, inputs),
    ).map(([w, a, b, m, alpha, x]) => ({
      w,
      adapter: { a, b, alpha, magnitude: Float64Array.from(m) },
      x,
    }))
  )
);

Deno.test("`doraMerge()` gives rows of norm |m_i| along W + s·B·A, and returns those norms", () => {
  fc.assert(
    fc.property(problem, ({ w, adapter }) => {
      const { w: merged, norm } = doraMerge(w, adapter);
      const v = mergeLora(w, adapter);
      assertEquals([...norm], [...rowNorms(v)]);
      const norms = rowNorms(merged);
      for (let i = 0; i < w.rows; i++) {
        const m = Math.abs(adapter.magnitude[i]!);
        assertLessOrEqual(Math.abs(norms[i]! - m), (w.cols + 8) * U * m);
        // Same direction: merged_i·n_i/m_i = V_i.
        for (let j = 0; j < w.cols; j++) {
          const k = i * w.cols + j;
          const back = (merged.data[k]! * norm[i]!) / adapter.magnitude[i]!;
          assertLessOrEqual(Math.abs(back - v.data[k]!), 8 * U * norm[i]!);
        }
      }
    }),
    fcParams(150),
  );
});

Deno.test("`doraMerge()` with m = ‖W + s·B·A‖ returns W + s·B·A (to rounding)", () => {
  fc.assert(
    fc.property(problem, ({ w, adapter }) => {
      const v = mergeLora(w, adapter);
      const { w: merged } = doraMerge(w, { ...adapter, magnitude: doraMagnitude(w, adapter) });
      v.data.forEach((x, k) =>
        assertLessOrEqual(Math.abs(merged.data[k]! - x), 4 * U * Math.abs(x))
      );
    }),
    fcParams(100),
  );
});

Deno.test("DoRA unmerge after merge returns W within a rounding bound", () => {
  fc.assert(
    fc.property(problem, ({ w, adapter }) => {
      const back = doraUnmerge(doraMerge(w, adapter), adapter);
      const r = adapter.a.rows;
      const s = adapter.alpha / r;
      for (let i = 0; i < w.rows; i++) {
        for (let j = 0; j < w.cols; j++) {
          let ba = 0;
          for (let t = 0; t < r; t++) {
            ba += Math.abs(adapter.b.data[i * r + t]! * adapter.a.data[t * w.cols + j]!);
          }
          const k = i * w.cols + j;
          // V is recovered within ~5u|V|, then unmerged: (r + 8)·u·(|w| + 2|s|Σ|b||a|).
          assertLessOrEqual(
            Math.abs(back.data[k]! - w.data[k]!),
            (r + 8) * U * (Math.abs(w.data[k]!) + 2 * s * ba),
          );
        }
      }
    }),
    fcParams(150),
  );
});

Deno.test("`doraForward()` is x·W'ᵀ + bias with the merged weight", () => {
  fc.assert(
    fc.property(problem, ({ w, adapter, x }) => {
      const bias = Float64Array.from({ length: w.rows }, (_, i) => i - 1);
      const y = doraForward(x, { w, ...adapter, bias });
      const ref = multiply(x, doraMerge(w, adapter).w, { transposeB: true });
      ref.data.forEach((v, k) => assertEquals(y.data[k], v + bias[k % w.rows]!));
    }),
    fcParams(50),
  );
});

Deno.test("`doraMagnitude()` is the row norms of W when B = 0", () => {
  const w = matrix([2, 2], [3, 4, -5, 12]);
  assertEquals([...doraMagnitude(w, { a: matrix([1, 2], [1, 1]), b: matrix([2, 1]), alpha: 1 })], [
    5,
    13,
  ]);
});

Deno.test("DoRA refuses zero rows, zero magnitudes and bad shapes, changing nothing", () => {
  const w = matrix([2, 2], [0, 0, 1, 1]);
  const adapter = {
    a: matrix([1, 2], [1, 1]),
    b: matrix([2, 1], [0, 1]),
    alpha: 1,
    magnitude: new Float64Array([1, 1]),
  };
  assertEquals(
    assertThrows(() => doraMerge(w, adapter), LoraquantRangeError, "row 0").code,
    "E_RANGE",
  );
  const good = matrix([2, 2], [1, 0, 1, 1]);
  const merged = doraMerge(good, adapter);
  const zero = { ...adapter, magnitude: new Float64Array([0, 1]) };
  assertThrows(() => doraUnmerge(merged, zero), LoraquantRangeError, "magnitude must be nonzero");
  const short = { ...adapter, magnitude: new Float64Array([1]) };
  assertEquals(
    assertThrows(() => doraMerge(good, short), LoraquantTypeError, "magnitude").code,
    "E_SHAPE",
  );
  assertThrows(
    () => doraUnmerge({ w: good, norm: new Float64Array(3) }, adapter),
    LoraquantTypeError,
    "norm",
  );
  const nan = { ...adapter, magnitude: new Float64Array([NaN, 1]) };
  assertThrows(() => doraMerge(good, nan), LoraquantRangeError, "magnitude must be finite");
  assertThrows(
    () => doraForward(matrix([1, 3]), { w: good, ...adapter }),
    LoraquantTypeError,
    "x must be",
  );
  assertEquals([...w.data], [0, 0, 1, 1]);
  assertEquals([...good.data], [1, 0, 1, 1]);
});
