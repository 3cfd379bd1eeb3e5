// Placeholder until this op family lands; every op answers E_OP.
import type { OpHandler } from "./handler.ts";
import { LoraquantTypeError } from "../errors.ts";

/** Not implemented yet. */
export const blockOp: OpHandler = () => {
  throw new LoraquantTypeError("E_OP", "op block is not implemented yet");
};
