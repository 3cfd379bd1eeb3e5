/**
 * `@loraquant/reference`: the exact float64 specification of LoRA and quantization arithmetic,
 * and a correctness oracle for other implementations (see `oracle-protocol.md` and docs/).
 *
 * Every operation states its rounding rule and accumulation format; every real quantity is
 * computed exactly and rounded once, unless a profile names another ecosystem's steps.
 *
 * @example Rounding once, from the exact value
 * ```ts
 * import { roundToFormat } from "@loraquant/reference";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(roundToFormat(1 + 2 ** -11 + 2 ** -40, "float16"), 1.0009765625);
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./matrix.ts";
export * from "./format.ts";
export * from "./rounding.ts";
export * from "./splitmix64.ts";
export * from "./cast.ts";
export * from "./dtype.ts";
export * from "./integer.ts";
export * from "./matmul.ts";
export * from "./quantize.ts";
export * from "./dequantize.ts";
export * from "./calibrate.ts";
export * from "./metrics.ts";
export * from "./ternary.ts";
export * from "./linalg.ts";
export * from "./svd.ts";
export * from "./lowrank.ts";
export * from "./lora.ts";
export * from "./dora.ts";
export * from "./params.ts";
export * from "./train.ts";
export * from "./protocol.ts";
export * from "./ggml.ts";
export * from "./bitsandbytes.ts";
export * from "./microscaling.ts";
