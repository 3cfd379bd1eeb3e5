// Placeholder until this op family lands; every op answers E_OP.
import type { OpHandler } from "./handler.ts";
import { LoraquantTypeError } from "../errors.ts";

/** Not implemented yet. */
export const loraForwardOp: OpHandler = () => {
  throw new LoraquantTypeError("E_OP", "op loraForward is not implemented yet");
};
/** Not implemented yet. */
export const loraMergeOp: OpHandler = () => {
  throw new LoraquantTypeError("E_OP", "op loraMerge is not implemented yet");
};
/** Not implemented yet. */
export const loraUnmergeOp: OpHandler = () => {
  throw new LoraquantTypeError("E_OP", "op loraUnmerge is not implemented yet");
};
/** Not implemented yet. */
export const loraParamsOp: OpHandler = () => {
  throw new LoraquantTypeError("E_OP", "op loraParams is not implemented yet");
};
/** Not implemented yet. */
export const svdOp: OpHandler = () => {
  throw new LoraquantTypeError("E_OP", "op svd is not implemented yet");
};
/** Not implemented yet. */
export const lowrankOp: OpHandler = () => {
  throw new LoraquantTypeError("E_OP", "op lowrank is not implemented yet");
};
