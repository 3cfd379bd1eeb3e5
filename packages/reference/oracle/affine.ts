// Placeholder until this op family lands; every op answers E_OP.
import type { OpHandler } from "./handler.ts";
import { LoraquantTypeError } from "../errors.ts";

/** Not implemented yet. */
export const quantizeOp: OpHandler = () => {
  throw new LoraquantTypeError("E_OP", "op quantize is not implemented yet");
};
/** Not implemented yet. */
export const dequantizeOp: OpHandler = () => {
  throw new LoraquantTypeError("E_OP", "op dequantize is not implemented yet");
};
/** Not implemented yet. */
export const ternaryOp: OpHandler = () => {
  throw new LoraquantTypeError("E_OP", "op ternary is not implemented yet");
};
/** Not implemented yet. */
export const metricsOp: OpHandler = () => {
  throw new LoraquantTypeError("E_OP", "op metrics is not implemented yet");
};
