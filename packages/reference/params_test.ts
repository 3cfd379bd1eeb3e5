import fc from "fast-check";
import { assertEquals, assertThrows } from "@std/assert";
import { fcParams } from "./_testing.ts";
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";
import { countParameters, LLAMA_7B_SHAPES, memoryBytes, parameterTable } from "./params.ts";

Deno.test("`countParameters()` reproduces the 7B example: d² against r·2d for d = 4096", () => {
  for (const r of [1, 8, 64]) {
    const { full, lora, ratio } = countParameters([[4096, 4096]], r);
    assertEquals(full, 16777216n);
    assertEquals(lora, BigInt(r * 8192));
    assertEquals(ratio, r / 2048); // 8192r/2^24 is an exact power-of-two quotient
  }
});

Deno.test("`countParameters()` on LLaMA-7B's projections matches the hand count", () => {
  assertEquals(LLAMA_7B_SHAPES.length, 224);
  // Per layer: 4·4096² + 3·11008·4096 = 67108864 + 135266304 = 202375168; ×32.
  const full = 32n * (4n * 4096n * 4096n + 3n * 11008n * 4096n);
  assertEquals(full, 6476005376n);
  for (let r = 1; r <= 64; r++) {
    // Per layer and rank unit: 4·(4096 + 4096) + 3·(11008 + 4096) = 32768 + 45312 = 78080.
    const lora = BigInt(r) * 32n * 78080n;
    const got = countParameters(LLAMA_7B_SHAPES, r);
    assertEquals([got.full, got.lora], [full, lora]);
    // Both counts are below 2^53, so the float64 division is the correctly rounded quotient.
    assertEquals(got.ratio, Number(lora) / Number(full));
  }
});

Deno.test("`countParameters()` counts exactly beyond 2^53 and rounds the ratio once", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 1, max: 2 ** 31 })),
        {
          minLength: 1,
          maxLength: 5,
        },
      ),
      fc.integer({ min: 1, max: 16 }),
      (shapes, rank) => {
        const usable = shapes.filter(([o, i]) => Math.min(o, i) >= rank);
        if (usable.length === 0) return;
        const { full, lora, ratio } = countParameters(usable, rank);
        let f = 0n;
        let l = 0n;
        for (const [o, i] of usable) {
          f += BigInt(o) * BigInt(i);
          l += BigInt(rank) * BigInt(o + i);
        }
        assertEquals([full, lora], [f, l]);
        // ratio = M·2^E is the nearest double of l/f: |M·2^E − l/f| ≤ 2^(E−1), i.e.
        // |2·(M·f − l·2^−E)| ≤ f (E < 0 here since ratio < 2^53).
        const view = new DataView(new ArrayBuffer(8));
        view.setFloat64(0, ratio);
        const bits = view.getBigUint64(0);
        const be = Number((bits >> 52n) & 0x7ffn);
        const m = (bits & ((1n << 52n) - 1n)) | (be === 0 ? 0n : 1n << 52n);
        const e = be === 0 ? -1074 : be - 1075;
        const diff = 2n * (m * f - (l << BigInt(-e)));
        assertEquals((diff < 0n ? -diff : diff) <= f, true);
      },
    ),
    fcParams(100),
  );
});

Deno.test("`countParameters()` refuses bad shapes and ranks with the right codes", () => {
  assertEquals(
    assertThrows(() => countParameters([], 1), LoraquantTypeError, "empty").code,
    "E_ARG",
  );
  assertEquals(
    assertThrows(() => countParameters([[4, 4]], 1.5), LoraquantTypeError, "rank").code,
    "E_ARG",
  );
  assertEquals(
    assertThrows(() => countParameters([[4, 4.5]], 1), LoraquantTypeError, "integers").code,
    "E_ARG",
  );
  assertEquals(
    assertThrows(() => countParameters([[4, 4]], 0), LoraquantRangeError, "rank").code,
    "E_RANGE",
  );
  assertEquals(
    assertThrows(() => countParameters([[4, 4]], 5), LoraquantRangeError, "rank").code,
    "E_RANGE",
  );
  assertEquals(
    assertThrows(() => countParameters([[0, 4]], 1), LoraquantRangeError, "≥ 1").code,
    "E_RANGE",
  );
});

Deno.test("`memoryBytes()` packs bits densely and rounds up to whole bytes", () => {
  assertEquals(memoryBytes(3n, "fp6-e2m3"), 3n); // 18 bits
  assertEquals(memoryBytes(3n, "fp4-e2m1"), 2n); // 12 bits
  assertEquals(memoryBytes(65536n, "float32"), 262144n);
  assertEquals(memoryBytes(0n, "float64"), 0n);
  assertThrows(() => memoryBytes(1n, "float128"), LoraquantTypeError, "format");
  assertThrows(() => memoryBytes(-1n, "int8"), LoraquantRangeError);
});

Deno.test("`parameterTable()` lists LLaMA-7B at ranks 1–64 with memory per format", () => {
  const rows = parameterTable(LLAMA_7B_SHAPES);
  assertEquals(rows.map((r) => r.rank), [1, 2, 4, 8, 16, 32, 64]);
  const r16 = rows[4]!;
  assertEquals(r16.lora, 16n * 2498560n);
  assertEquals(r16.loraBytes["bfloat16"], 16n * 2498560n * 2n);
  assertEquals(r16.fullBytes["fp4-e2m1"], 6476005376n / 2n);
});
