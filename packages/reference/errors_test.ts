import { assert, assertEquals } from "@std/assert";
import {
  ERROR_CODES,
  isLoraquantError,
  LoraquantRangeError,
  LoraquantTypeError,
} from "./errors.ts";

Deno.test("the typed errors are the platform's TypeError and RangeError, with the protocol's codes", () => {
  const t = new LoraquantTypeError("E_SHAPE", "a is 2×3, b is 2×2");
  const r = new LoraquantRangeError("E_OVERFLOW", "254 does not fit int8");
  assert(t instanceof TypeError && r instanceof RangeError);
  assertEquals([t.code, r.code, t.name, r.name], [
    "E_SHAPE",
    "E_OVERFLOW",
    "LoraquantTypeError",
    "LoraquantRangeError",
  ]);
  assert(isLoraquantError(t) && isLoraquantError(r) && !isLoraquantError(new TypeError("x")));
  assertEquals(ERROR_CODES, [
    "E_PARSE",
    "E_OP",
    "E_ARG",
    "E_SHAPE",
    "E_LIMIT",
    "E_RANGE",
    "E_OVERFLOW",
  ]);
});
