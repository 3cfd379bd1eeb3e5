import { assertEquals, assertThrows } from "@std/assert";
import { LoraquantTypeError } from "@loraquant/reference/errors";
import { BENCH_IMPLS, type BenchResult, validateResults } from "./result.ts";

const good: BenchResult = {
  suite: "matmul-f32",
  case: "register",
  impl: "loraquant-gpu",
  size: 1024,
  medianMs: 100,
  gflops: 21.47483648,
  gpuMs: 99,
};

Deno.test("validateResults() accepts every impl, with and without gpuMs", () => {
  const records = BENCH_IMPLS.map((impl) => ({ ...good, impl }));
  const { gpuMs: _, ...withoutGpu } = good;
  assertEquals(validateResults([...records, withoutGpu]).length, BENCH_IMPLS.length + 1);
  assertEquals(validateResults([]), []);
});

Deno.test("validateResults() accepts what JSON.stringify of a run writes", () => {
  const text = JSON.stringify([good], null, 2);
  assertEquals(validateResults(JSON.parse(text)), [good]);
});

Deno.test("validateResults() names the record and the field it rejects", () => {
  const bad: [unknown, string][] = [
    [{}, "the top level must be an array"],
    [[null], "record 0 is not an object"],
    [[good, { ...good, impl: "cuda" }], "record 1: impl must be one of"],
    [[{ ...good, suite: "" }], "suite must be a non-empty string"],
    [[{ ...good, case: 3 }], "case must be a non-empty string"],
    [[{ ...good, size: 0 }], "size must be a positive integer"],
    [[{ ...good, size: 1.5 }], "size must be a positive integer"],
    [[{ ...good, medianMs: 0 }], "medianMs must be a finite number > 0"],
    [[{ ...good, gflops: -1 }], "gflops must be a finite number >= 0"],
    [[{ ...good, gflops: null }], "gflops must be a finite number >= 0"],
    [[{ ...good, gpuMs: Infinity }], "gpuMs must be a finite number > 0"],
    [[{ ...good, extra: 1 }], 'unknown key "extra"'],
  ];
  for (const [value, message] of bad) {
    const error = assertThrows(() => validateResults(value), LoraquantTypeError, message);
    assertEquals(error.code, "E_ARG");
  }
});
