// Placeholder until this op family lands; every op answers E_OP.
import type { OpHandler } from "./handler.ts";
import { LoraquantTypeError } from "../errors.ts";

/** Not implemented yet. */
export const intOp: OpHandler = () => {
  throw new LoraquantTypeError("E_OP", "op int is not implemented yet");
};
/** Not implemented yet. */
export const matmulOp: OpHandler = () => {
  throw new LoraquantTypeError("E_OP", "op matmul is not implemented yet");
};
