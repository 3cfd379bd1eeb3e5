// The contract between the oracle's dispatcher and the handler of each op.
import type { Json, Request } from "../protocol.ts";

/** What the dispatcher hands to each op besides its request. */
export interface OpContext {
  /**
   * Throws `E_LIMIT` when the request holds more numbers than the oracle accepts. A handler calls
   * it after its `E_ARG` and `E_SHAPE` checks and before any `E_RANGE` check, which is the
   * protocol's order of faults.
   */
  checkLimit(): void;
}

/**
 * Answers one request of an op: returns the `result` object, or throws a typed error
 * (`LoraquantTypeError`/`LoraquantRangeError`) whose `code` the dispatcher reports.
 * Checks go in the protocol's order: every `E_ARG` first, then `E_SHAPE`, `context.checkLimit()`,
 * then `E_RANGE` and `E_OVERFLOW`.
 */
export type OpHandler = (request: Request, context: OpContext) => { [key: string]: Json };
