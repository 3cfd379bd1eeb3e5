/**
 * `@loraquant/bench`: the benchmark of loraquant's GPU kernels against the float64 reference and
 * the peers (tfjs-backend-webgpu, onnxruntime-web) on the same WebGPU adapter — run it with
 * `deno task bench [--quick]` (main.ts) — and the pure pieces it is made of:
 *
 * - {@linkcode median} (`./median`): the statistic every figure reports;
 * - {@linkcode gflops}, {@linkcode matmulFlops}, {@linkcode loraFlops} (`./gflops`): rates;
 * - {@linkcode BenchResult}, {@linkcode validateResults} (`./result`): the results file's schema;
 * - {@linkcode bestPeer}, {@linkcode ratioToBestPeer} (`./best-peer`): ratios to the best peer;
 * - {@linkcode formatTable} (`./table`) and {@linkcode resultsSvg} (`./svg`): the report;
 * - {@linkcode checkTargets} (`./targets`): the performance targets;
 * - {@linkcode matmulOnnxModel} (`./onnx-model`): a MatMul ONNX model built in code.
 *
 * @example A rate from a median
 * ```ts
 * import { gflops, matmulFlops, median } from "@loraquant/bench";
 * import { assertEquals } from "@std/assert";
 *
 * const ms = median([110, 100, 90]);
 * assertEquals(gflops(matmulFlops(1000, 1000, 1000), ms), 20);
 * ```
 *
 * @module
 */
export * from "./best_peer.ts";
export * from "./gflops.ts";
export * from "./median.ts";
export * from "./onnx_model.ts";
export * from "./result.ts";
export * from "./svg.ts";
export * from "./table.ts";
export * from "./targets.ts";

/** The package's version. */
export const VERSION = "0.1.0";
