import { assert, assertEquals } from "@std/assert";
import fc from "fast-check";
import { answerLine } from "./dispatch.ts";
import { intOp, matmulOp } from "./integer.ts";
import { LoraquantRangeError } from "../errors.ts";
import { fcParams } from "../_testing.ts";

/** Examples ex8–ex14: ../shared's normative copy where it exists, else the one in testdata/. */
async function examples(): Promise<
  { request: { id: string }; response: Record<string, unknown> }[]
> {
  const shared = new URL("../../../../shared/oracle-examples.jsonl", import.meta.url);
  const local = new URL("../testdata/oracle-examples.jsonl", import.meta.url);
  let text: string;
  try {
    text = await Deno.readTextFile(shared);
  } catch {
    text = await Deno.readTextFile(local);
  }
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l))
    .filter((e) => /^ex(8|9|1[0-4])$/.test(e.request.id));
}

/** Sends one request object; returns the parsed response. */
function ask(request: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(answerLine(JSON.stringify(request)));
}

/** The error code of a response, or "ok". */
function codeOf(request: Record<string, unknown>): string {
  const r = ask(request);
  if (r["ok"] === true) return "ok";
  const error = r["error"] as { code: string; message: string };
  assert(error.message.length > 0);
  return error.code;
}

Deno.test("the `int` and `matmul` ops answer the worked examples ex8–ex14", async () => {
  const list = await examples();
  assertEquals(list.length, 7);
  for (const { request, response } of list) {
    const actual = JSON.parse(answerLine(JSON.stringify(request)));
    assertEquals(actual["id"], response["id"]);
    assertEquals(actual["ok"], response["ok"]);
    if (response["ok"]) assertEquals(actual["result"], response["result"]);
    else assertEquals(actual["error"].code, (response["error"] as { code: string }).code);
  }
});

Deno.test("`int` encodes integers above 2^53 as decimal strings", () => {
  const r = ask({
    id: 1,
    op: "int",
    fn: "mul",
    dtype: "int32",
    a: [-2147483648, 2147483647, 3],
    b: [-2147483648, 2147483647, -3],
    overflow: "widen",
  });
  assertEquals(r, {
    id: 1,
    ok: true,
    result: {
      y: ["4611686018427387904", "4611686014132420609", -9],
      overflowed: [true, true, false],
    },
  });
});

Deno.test("`int` defaults overflow to error and reads -0 as the integer 0", () => {
  assertEquals(codeOf({ op: "int", fn: "add", dtype: "int8", a: [127], b: [1] }), "E_OVERFLOW");
  assertEquals(ask({ op: "int", fn: "sub", dtype: "uint8", a: ["-0"], b: [0] }), {
    id: null,
    ok: true,
    result: { y: [0], overflowed: [false] },
  });
});

Deno.test("`int` reports the first fault in the protocol's order", () => {
  const good = { op: "int", fn: "add", dtype: "int8", a: [1, 2], b: [3, 4] };
  assertEquals(codeOf(good), "ok");
  // Each request below also has every later fault (shape, range, overflow).
  const bad = { a: [127, 1.5], b: [127] };
  assertEquals(codeOf({ ...good, ...bad, fn: "div" }), "E_ARG");
  assertEquals(codeOf({ ...good, ...bad, fn: undefined }), "E_ARG");
  assertEquals(codeOf({ ...good, ...bad, dtype: "int64" }), "E_ARG");
  assertEquals(codeOf({ ...good, ...bad, overflow: "clamp" }), "E_ARG");
  assertEquals(codeOf({ ...good, a: "1,2", b: [127] }), "E_ARG");
  assertEquals(codeOf({ ...good, a: [1, "two"], b: [127] }), "E_ARG");
  assertEquals(codeOf({ ...good, b: undefined }), "E_ARG");
  assertEquals(codeOf({ ...good, ...bad }), "E_SHAPE");
  assertEquals(codeOf({ ...good, a: [127, 1.5], b: [127, 1] }), "E_RANGE");
  assertEquals(codeOf({ ...good, a: [127, "NaN"], b: [127, 1] }), "E_RANGE");
  assertEquals(codeOf({ ...good, a: [127, 1], b: [127, 128] }), "E_RANGE");
  assertEquals(codeOf({ ...good, a: [127, 1], b: [127, 1] }), "E_OVERFLOW");
  assertEquals(codeOf({ ...good, a: [127, 1], b: [127, 1], overflow: "wrap" }), "ok");
});

Deno.test("`matmul` answers float and integer accumulators in the protocol's encoding", () => {
  const a = { shape: [1, 2], data: [-1, "-0"] };
  const b = { shape: [2, 1], data: [1e-10, 1] };
  // float16: −1e-10 rounds to −0; then −0 + (−0·1 = −0) stays −0.
  assertEquals(ask({ op: "matmul", a, b, dtype: "float64", accumulate: "float16" }), {
    id: null,
    ok: true,
    result: { y: { shape: [1, 1], data: ["-0"] } },
  });
  const big = ask({
    id: "i",
    op: "matmul",
    a: { shape: [1, 2], data: [-2147483648, -2147483648] },
    b: { shape: [2, 1], data: [-2147483648, 1] },
    dtype: "int32",
    accumulate: "int64",
  });
  assertEquals(big, {
    id: "i",
    ok: true,
    result: { y: { shape: [1, 1], data: ["4611686016279904256"] }, overflowed: false },
  });
  const wrapped = ask({
    op: "matmul",
    a: { shape: [1, 2], data: [-32768, -32768] },
    b: { shape: [2, 1], data: [-32768, -32768] },
    dtype: "int16",
    accumulate: "int32",
    overflow: "wrap",
  });
  assertEquals(wrapped["result"], {
    y: { shape: [1, 1], data: [-2147483648] },
    overflowed: true,
  });
  const empty = ask({
    op: "matmul",
    a: { shape: [2, 0], data: [] },
    b: { shape: [0, 1], data: [] },
    dtype: "int8",
    accumulate: "int16",
  });
  assertEquals(empty["result"], { y: { shape: [2, 1], data: [0, 0] }, overflowed: false });
  const nan = ask({
    op: "matmul",
    a: { shape: [1, 1], data: [500] },
    b: { shape: [1, 1], data: [1] },
    dtype: "fp8-e4m3",
    accumulate: "float32",
  });
  assertEquals(nan["result"], { y: { shape: [1, 1], data: ["NaN"] } });
});

Deno.test("`matmul` reports the first fault in the protocol's order", () => {
  const good = {
    op: "matmul",
    a: { shape: [1, 2], data: [1, 2] },
    b: { shape: [2, 1], data: [3, 4] },
    dtype: "int8",
    accumulate: "int16",
  };
  assertEquals(codeOf(good), "ok");
  // Faults of every later kind at once: b's data too short (E_SHAPE), 300 outside int8
  // (E_RANGE).
  const later = {
    a: { shape: [1, 3], data: [300, 127, 127] },
    b: { shape: [2, 1], data: [127] },
  };
  assertEquals(codeOf({ ...good, ...later, dtype: "int64" }), "E_ARG");
  assertEquals(codeOf({ ...good, ...later, dtype: undefined }), "E_ARG");
  assertEquals(codeOf({ ...good, ...later, accumulate: "int8" }), "E_ARG");
  assertEquals(codeOf({ ...good, ...later, overflow: "widen" }), "E_ARG");
  assertEquals(codeOf({ ...good, ...later, dtype: "float16" }), "E_ARG"); // refused combination
  assertEquals(codeOf({ ...good, ...later, a: { shape: [1], data: [] } }), "E_ARG");
  assertEquals(codeOf({ ...good, ...later, a: { shape: [1, 2], data: [1, null] } }), "E_ARG");
  assertEquals(codeOf({ ...good, ...later, b: [1, 2] }), "E_ARG");
  assertEquals(codeOf({ ...good, ...later }), "E_SHAPE"); // b's data length
  assertEquals(
    codeOf({ ...good, ...later, b: { shape: [2, 1], data: [1, 1] } }),
    "E_SHAPE", // a.cols 3 ≠ b.rows 2
  );
  const ranged = {
    ...good,
    a: { shape: [1, 2], data: [300, -128] },
    b: { shape: [2, 1], data: [-128, -128] },
  };
  assertEquals(codeOf(ranged), "E_RANGE");
  const overflowing = { ...ranged, a: { shape: [1, 2], data: [-128, -128] } }; // 2^15
  assertEquals(codeOf(overflowing), "E_OVERFLOW");
  assertEquals(codeOf({ ...overflowing, overflow: "saturate" }), "ok");
  // A float accumulator does not use `overflow`: a value there is ignored.
  assertEquals(codeOf({ ...overflowing, accumulate: "float32", overflow: "widen" }), "ok");
  // NaN cast to fp4 is E_RANGE; a NaN step in an fp6 accumulator too.
  const f = { ...good, dtype: "fp4-e2m1", accumulate: "float32" };
  assertEquals(codeOf({ ...f, a: { shape: [1, 2], data: ["NaN", 1] } }), "E_RANGE");
  const g = { ...good, dtype: "float16", accumulate: "fp6-e2m3" };
  const inf = { shape: [1, 2], data: ["Infinity", 1] };
  assertEquals(codeOf({ ...g, a: inf, b: { shape: [2, 1], data: [0, 1] } }), "E_RANGE"); // ∞·0
  // ∞·3 becomes +max = 7.5 in fp6 (the cast rule), then 7.5 + 4 saturates to 7.5 again.
  assertEquals(ask({ ...g, a: inf })["result"], { y: { shape: [1, 1], data: [7.5] } });
});

Deno.test("`matmul` through the oracle equals `int` for 1×1 integer products", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -128, max: 127 }),
      fc.integer({ min: -128, max: 127 }),
      (x, z) => {
        const m = ask({
          op: "matmul",
          a: { shape: [1, 1], data: [x] },
          b: { shape: [1, 1], data: [z] },
          dtype: "int8",
          accumulate: "int32",
        });
        const i = ask({ op: "int", fn: "mul", dtype: "int8", a: [x], b: [z], overflow: "widen" });
        const mr = m["result"] as { y: { data: number[] } };
        const ir = i["result"] as { y: number[] };
        assertEquals(mr.y.data, ir.y.map((v) => v + 0));
      },
    ),
    fcParams(200),
  );
});

Deno.test("`int` and `matmul` check the size limit after E_SHAPE and before E_RANGE", () => {
  const over = {
    checkLimit(): void {
      throw new LoraquantRangeError("E_LIMIT", "test limit");
    },
  };
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      return (e as LoraquantRangeError).code;
    }
    return "ok";
  };
  const int = { op: "int", fn: "add", dtype: "int8", a: [1.5, 300], b: [1] };
  assertEquals(code(() => intOp(int, over)), "E_SHAPE");
  assertEquals(code(() => intOp({ ...int, b: [127, 127] }, over)), "E_LIMIT");
  assertEquals(code(() => intOp({ ...int, fn: "pow" }, over)), "E_ARG");
  const mm = {
    op: "matmul",
    a: { shape: [1, 2], data: [300, 1.5] },
    b: { shape: [1, 1], data: [1] },
    dtype: "int8",
    accumulate: "int32",
  };
  assertEquals(code(() => matmulOp(mm, over)), "E_SHAPE");
  assertEquals(
    code(() => matmulOp({ ...mm, b: { shape: [2, 1], data: [1, 1] } }, over)),
    "E_LIMIT",
  );
  assertEquals(code(() => matmulOp({ ...mm, accumulate: "int128" }, over)), "E_ARG");
});
