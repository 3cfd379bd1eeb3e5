/**
 * The bench's results file (`packages/bench/results/latest.json`): an array of
 * {@linkcode BenchResult} records, one per measured (suite, case, implementation, size).
 *
 * @module
 */
import { LoraquantTypeError } from "@loraquant/reference/errors";

/** The implementations the bench measures. */
export const BENCH_IMPLS = [
  "loraquant-gpu",
  "loraquant-reference",
  "tfjs-webgpu",
  "ort-webgpu",
] as const;

/** One of {@linkcode BENCH_IMPLS}. */
export type BenchImpl = typeof BENCH_IMPLS[number];

/** The implementations that are peers (other libraries), the yardstick of the ratios. */
export const PEER_IMPLS: readonly BenchImpl[] = ["tfjs-webgpu", "ort-webgpu"];

/** One measured figure. */
export interface BenchResult {
  /** The suite (e.g. `"matmul-f32"`, `"lora-forward"`, `"int8-vs-f32"`). */
  suite: string;
  /** The case within the suite (e.g. `"register"`, `"fused"`). */
  case: string;
  /** Who computed it. */
  impl: BenchImpl;
  /** The size: N of an N×N×N product, or the batch rows n of a LoRA forward. */
  size: number;
  /**
   * Median wall time of one operation, in ms: inputs resident on the device, `repeats`
   * operations submitted back to back and awaited once, the elapsed time divided by `repeats`
   * (so the ~11 ms GPU→CPU synchronisation of Deno is amortised, not hidden).
   */
  medianMs: number;
  /** Operations per second at `medianMs`, in GFLOP/s (giga-operations/s for integer kernels). */
  gflops: number;
  /** Median GPU time of one operation from timestamp queries, in ms, where the device has them. */
  gpuMs?: number;
}

function fail(message: string): never {
  throw new LoraquantTypeError("E_ARG", `Invalid bench results: ${message}`);
}

/**
 * Checks that a parsed JSON value follows the results schema and returns it typed: an array of
 * objects with exactly the keys of {@linkcode BenchResult} (`gpuMs` optional), non-empty
 * strings `suite` and `case`, `impl` one of {@linkcode BENCH_IMPLS}, `size` a positive integer,
 * `medianMs` > 0, `gflops` ≥ 0 and `gpuMs` > 0 finite numbers.
 *
 * @param value The parsed JSON.
 * @returns The same value, typed.
 * @throws {LoraquantTypeError} `E_ARG` naming the first offending record and field.
 *
 * @example A one-record file
 * ```ts
 * import { validateResults } from "@loraquant/bench/result";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const rec = {
 *   suite: "matmul-f32",
 *   case: "register",
 *   impl: "loraquant-gpu",
 *   size: 256,
 *   medianMs: 2,
 *   gflops: 16.777216,
 * };
 * assertEquals(validateResults([rec]).length, 1);
 * assertThrows(() => validateResults([{ ...rec, impl: "cuda" }]), TypeError, "impl");
 * ```
 */
export function validateResults(value: unknown): BenchResult[] {
  if (!Array.isArray(value)) fail("the top level must be an array");
  const allowed = new Set(["suite", "case", "impl", "size", "medianMs", "gflops", "gpuMs"]);
  value.forEach((r: unknown, i: number) => {
    const at = `record ${i}`;
    if (typeof r !== "object" || r === null || Array.isArray(r)) fail(`${at} is not an object`);
    const rec = r as Record<string, unknown>;
    for (const key of Object.keys(rec)) {
      if (!allowed.has(key)) fail(`${at} has an unknown key ${JSON.stringify(key)}`);
    }
    for (const key of ["suite", "case"]) {
      if (typeof rec[key] !== "string" || rec[key] === "") {
        fail(`${at}: ${key} must be a non-empty string, got ${JSON.stringify(rec[key])}`);
      }
    }
    if (!(BENCH_IMPLS as readonly unknown[]).includes(rec.impl)) {
      fail(`${at}: impl must be one of ${BENCH_IMPLS.join(", ")}, got ${JSON.stringify(rec.impl)}`);
    }
    if (!Number.isSafeInteger(rec.size) || (rec.size as number) <= 0) {
      fail(`${at}: size must be a positive integer, got ${JSON.stringify(rec.size)}`);
    }
    const positive = (key: string, strict: boolean) => {
      const v = rec[key];
      if (typeof v !== "number" || !Number.isFinite(v) || (strict ? v <= 0 : v < 0)) {
        fail(`${at}: ${key} must be a finite number ${strict ? ">" : ">="} 0, got ${v}`);
      }
    };
    positive("medianMs", true);
    positive("gflops", false);
    if ("gpuMs" in rec) positive("gpuMs", true);
  });
  return value as BenchResult[];
}

/** A measurement that could not run (a peer missing, a kernel not available), with the reason. */
export interface BenchSkip {
  /** The suite. */
  suite: string;
  /** Who would have computed it. */
  impl: BenchImpl;
  /** Why it did not run (the error message). */
  reason: string;
}
