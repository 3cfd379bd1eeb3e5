import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import {
  INTEGER_OVERFLOW_RULES,
  integerArithmetic,
  type IntegerFn,
  type IntegerOverflow,
} from "./integer.ts";
import { INTEGER_DTYPES, type IntegerDtype } from "./dtype.ts";
import { LoraquantRangeError, type LoraquantTypeError } from "./errors.ts";
import { fcParams } from "./_testing.ts";

// The dtypes from the protocol's text: [bits, signed], and the widen type's bits.
const SPEC: Record<IntegerDtype, { bits: number; signed: boolean; wide: number }> = {
  int4: { bits: 4, signed: true, wide: 32 },
  uint4: { bits: 4, signed: false, wide: 32 },
  int8: { bits: 8, signed: true, wide: 32 },
  uint8: { bits: 8, signed: false, wide: 32 },
  int16: { bits: 16, signed: true, wide: 32 },
  uint16: { bits: 16, signed: false, wide: 64 },
  int32: { bits: 32, signed: true, wide: 64 },
};

function range(dtype: IntegerDtype): [bigint, bigint] {
  const { bits, signed } = SPEC[dtype];
  return signed
    ? [-(2n ** BigInt(bits - 1)), 2n ** BigInt(bits - 1) - 1n]
    : [0n, 2n ** BigInt(bits) - 1n];
}

/** The expected result from BigInt arithmetic and the definitions of the rules. */
function model(
  x: bigint,
  z: bigint,
  fn: IntegerFn,
  dtype: IntegerDtype,
  overflow: IntegerOverflow,
): { y: bigint; overflowed: boolean } | "E_OVERFLOW" {
  const exact = fn === "add" ? x + z : fn === "sub" ? x - z : x * z;
  const [min, max] = range(dtype);
  const out = exact < min || exact > max;
  if (!out || overflow === "widen") return { y: exact, overflowed: out };
  if (overflow === "error") return "E_OVERFLOW";
  if (overflow === "saturate") return { y: exact < min ? min : max, overflowed: true };
  // wrap: the representative of exact modulo 2^bits inside [min, max].
  const mod = 2n ** BigInt(SPEC[dtype].bits);
  let r = ((exact - min) % mod + mod) % mod + min;
  if (r > max) r -= mod;
  return { y: r, overflowed: true };
}

function value(dtype: IntegerDtype): fc.Arbitrary<number> {
  const [min, max] = range(dtype).map(Number) as [number, number];
  return fc.oneof(
    fc.integer({ min, max }),
    fc.constantFrom(min, max, 0, min < 0 ? -1 : 1, max - 1, min + 1),
  );
}

Deno.test("`integerArithmetic()` equals BigInt arithmetic for every dtype, fn and overflow rule", () => {
  const cases = fc.record({
    dtype: fc.constantFrom(...INTEGER_DTYPES),
    fn: fc.constantFrom<IntegerFn>("add", "sub", "mul"),
    overflow: fc.constantFrom(...INTEGER_OVERFLOW_RULES),
  }).chain((c) =>
    fc.record({
      c: fc.constant(c),
      pairs: fc.array(fc.tuple(value(c.dtype), value(c.dtype)), { maxLength: 8 }),
    })
  );
  fc.assert(
    fc.property(cases, ({ c, pairs }) => {
      const expected = pairs.map(([x, z]) =>
        model(BigInt(x), BigInt(z), c.fn, c.dtype, c.overflow)
      );
      const run = () =>
        integerArithmetic(pairs.map((p) => p[0]), pairs.map((p) => p[1]), {
          fn: c.fn,
          dtype: c.dtype,
          overflow: c.overflow,
        });
      if (expected.includes("E_OVERFLOW")) {
        const e = assertThrows(run, LoraquantRangeError);
        assertEquals(e.code, "E_OVERFLOW");
        assert(e.message.includes(`a[${expected.indexOf("E_OVERFLOW")}]`), e.message);
        return;
      }
      const r = run();
      const ok = expected as { y: bigint; overflowed: boolean }[];
      assertEquals([...r.y], ok.map((e) => e.y));
      assertEquals(r.overflowed, ok.map((e) => e.overflowed));
      if (c.overflow === "widen") {
        const limit = 2n ** BigInt(SPEC[c.dtype].wide - 1);
        assert(r.y.every((v) => v >= -limit && v < limit)); // fits the accumulation type
      }
    }),
    fcParams(800),
  );
});

Deno.test("`integerArithmetic()` gives int8 127 + 127 as 254 exactly: wrap −2, saturate 127, widen 254", () => {
  const run = (overflow: IntegerOverflow) =>
    integerArithmetic([127, -128, 5], [127, -1, 3], { fn: "add", dtype: "int8", overflow });
  assertEquals([...run("wrap").y], [-2n, 127n, 8n]);
  assertEquals([...run("saturate").y], [127n, -128n, 8n]);
  assertEquals([...run("widen").y], [254n, -129n, 8n]);
  assertEquals(run("widen").overflowed, [true, true, false]);
  const e = assertThrows(() => run("error"), LoraquantRangeError, "a[0]");
  assertEquals(e.code, "E_OVERFLOW");
  assert(e.message.includes("254") && e.message.includes("int8"));
});

Deno.test("`integerArithmetic()` wraps unsigned dtypes into [0, 2^bits)", () => {
  const sub = integerArithmetic([0, 3], [1, 15], { fn: "sub", dtype: "uint4", overflow: "wrap" });
  assertEquals([...sub.y], [15n, 4n]);
  const mul = integerArithmetic([65535], [65535], { fn: "mul", dtype: "uint16", overflow: "wrap" });
  assertEquals(mul.y[0], 1n); // (2^16 − 1)² = 2^32 − 2^17 + 1 ≡ 1
});

Deno.test("`integerArithmetic()` widens int32 · int32 exactly into int64 (2^62 and beyond 2^53)", () => {
  const r = integerArithmetic([-(2 ** 31), 2 ** 31 - 1, -(2 ** 31)], [-(2 ** 31), 2 ** 31 - 1, 1], {
    fn: "mul",
    dtype: "int32",
    overflow: "widen",
  });
  assertEquals([...r.y], [2n ** 62n, (2n ** 31n - 1n) ** 2n, -(2n ** 31n)]);
  assertEquals(r.overflowed, [true, true, false]);
  const w = integerArithmetic([2 ** 31 - 1], [2 ** 31 - 1], {
    fn: "mul",
    dtype: "int32",
    overflow: "wrap",
  });
  assertEquals(w.y[0], 1n); // (2^31 − 1)² = 2^62 − 2^32 + 1 ≡ 1 (mod 2^32)
});

Deno.test("`integerArithmetic()` accepts bigint operands and the default rule is error", () => {
  const r = integerArithmetic([3n, -4n], [5, 6n], { fn: "mul", dtype: "int16" });
  assertEquals([...r.y], [15n, -24n]);
  assertThrows(
    () => integerArithmetic([200], [200], { fn: "mul", dtype: "int16" }),
    LoraquantRangeError,
    "40000",
  );
});

Deno.test("`integerArithmetic()` handles empty vectors", () => {
  const r = integerArithmetic([], [], { fn: "add", dtype: "int4", overflow: "error" });
  assertEquals([r.y.length, r.overflowed], [0, []]);
});

Deno.test("`integerArithmetic()` reports faults in the protocol's order", () => {
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      return (e as LoraquantTypeError).code;
    }
    return "none";
  };
  const any = (x: unknown) => x as never;
  // E_ARG before E_SHAPE before E_RANGE before E_OVERFLOW.
  assertEquals(
    code(() => integerArithmetic([1.5], [], { fn: any("div"), dtype: "int8" })),
    "E_ARG",
  );
  assertEquals(
    code(() => integerArithmetic([1.5], [], { fn: "add", dtype: any("int64") })),
    "E_ARG",
  );
  assertEquals(
    code(() => integerArithmetic([1.5], [], { fn: "add", dtype: "int8", overflow: any("x") })),
    "E_ARG",
  );
  assertEquals(code(() => integerArithmetic([1.5], [], { fn: "add", dtype: "int8" })), "E_SHAPE");
  assertEquals(
    code(() => integerArithmetic([127, 1.5], [127, 1], { fn: "add", dtype: "int8" })),
    "E_RANGE",
  );
  assertEquals(
    code(() => integerArithmetic([127, 1], [127, NaN], { fn: "add", dtype: "int8" })),
    "E_RANGE",
  );
  assertEquals(
    code(() => integerArithmetic([127, 16], [127, 1], { fn: "add", dtype: "int4" })),
    "E_RANGE",
  );
  assertEquals(code(() => integerArithmetic([-1], [0], { fn: "add", dtype: "uint8" })), "E_RANGE");
  assertEquals(
    code(() => integerArithmetic([127], [127], { fn: "add", dtype: "int8" })),
    "E_OVERFLOW",
  );
  assertThrows(
    () => integerArithmetic([1, 2], [3, 2 ** 31], { fn: "add", dtype: "int32" }),
    LoraquantRangeError,
    "b[1]",
  );
});

Deno.test("`integerArithmetic()` never modifies its inputs", () => {
  const a = [127, 1];
  const b = [127, 2];
  integerArithmetic(a, b, { fn: "add", dtype: "int8", overflow: "wrap" });
  assertEquals([a, b], [[127, 1], [127, 2]]);
});
