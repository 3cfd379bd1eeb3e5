// The registry of the oracle's ops: name → handler.
import { castOp, decodeOp } from "./cast.ts";
import type { OpHandler } from "./handler.ts";
import { intOp, matmulOp } from "./integer.ts";
import { dequantizeOp, metricsOp, quantizeOp, ternaryOp } from "./affine.ts";
import { blockOp } from "./block.ts";
import {
  loraForwardOp,
  loraMergeOp,
  loraParamsOp,
  loraUnmergeOp,
  lowrankOp,
  svdOp,
} from "./lora.ts";

/** Every op this oracle answers, except `info`, which the dispatcher answers from this list. */
export const OPS: Readonly<Record<string, OpHandler>> = {
  "cast": castOp,
  "decode": decodeOp,
  "int": intOp,
  "matmul": matmulOp,
  "quantize": quantizeOp,
  "dequantize": dequantizeOp,
  "block": blockOp,
  "ternary": ternaryOp,
  "metrics": metricsOp,
  "lora.forward": loraForwardOp,
  "lora.merge": loraMergeOp,
  "lora.unmerge": loraUnmergeOp,
  "lora.params": loraParamsOp,
  "svd": svdOp,
  "lowrank": lowrankOp,
};
