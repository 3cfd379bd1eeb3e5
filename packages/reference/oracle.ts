/**
 * The correctness oracle: reads JSON Lines requests on stdin and answers each on stdout, in order,
 * as `oracle-protocol.md` specifies (see docs/oracle.md). Run it with `deno task oracle`, or
 * import {@linkcode answerLine} / {@linkcode serve} to embed it.
 *
 * @example Answering one request in-process
 * ```ts
 * import { answerLine } from "@loraquant/reference/oracle";
 * import { assertEquals } from "@std/assert";
 *
 * const response = JSON.parse(answerLine('{"id":1,"op":"cast","format":"float16","x":[65520]}'));
 * assertEquals(response.result.y, ["Infinity"]);
 * ```
 *
 * @module
 */
export {
  answerLine,
  info,
  MAX_LINE_BYTES,
  MAX_NUMBERS,
  type OracleLimits,
  serve,
  type StreamLine,
  streamLines,
  tooLongAnswer,
} from "./oracle/dispatch.ts";
import { serve } from "./oracle/dispatch.ts";

if (import.meta.main) {
  await serve(Deno.stdin.readable, Deno.stdout.writable);
}
