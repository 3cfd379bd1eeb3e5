import { assert, assertEquals } from "@std/assert";
import { answerLine } from "./dispatch.ts";

/** Sends one request object and returns the parsed response. */
function ask(request: Record<string, unknown>): {
  id: unknown;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
} {
  return JSON.parse(answerLine(JSON.stringify(request)));
}

function codeOf(request: Record<string, unknown>): string {
  const r = ask(request);
  return r.ok ? "ok" : r.error!.code;
}

// ex15–ex17 of oracle-examples.jsonl, request and expected response.
const EXAMPLES = [
  [
    '{"id":"ex15","op":"quantize","x":{"shape":[2,3],"data":[0.5,-1,0.25,2,-0.75,1.5]},"dtype":"int8","scheme":"symmetric","granularity":"channel","axis":0}',
    '{"id":"ex15","ok":true,"result":{"q":{"shape":[2,3],"data":[64,-127,32,127,-48,95]},"scale":[0.007874015748031496,0.015748031496062992],"zeroPoint":[0,0]}}',
  ],
  [
    '{"id":"ex16","op":"quantize","x":{"shape":[1,1],"data":[0.273939937]},"dtype":"uint8","scheme":"asymmetric","granularity":"tensor","profile":"pytorch","scale":[0.00214854861],"zeroPoint":[0]}',
    '{"id":"ex16","ok":true,"result":{"q":{"shape":[1,1],"data":[128]},"scale":[0.00214854861],"zeroPoint":[0]}}',
  ],
  [
    '{"id":"ex17","op":"quantize","x":{"shape":[1,1],"data":[0.273939937]},"dtype":"uint8","scheme":"asymmetric","granularity":"tensor","profile":"onnx","scale":[0.00214854861],"zeroPoint":[0]}',
    '{"id":"ex17","ok":true,"result":{"q":{"shape":[1,1],"data":[127]},"scale":[0.00214854861],"zeroPoint":[0]}}',
  ],
];

Deno.test("`quantize` op answers ex15–ex17 exactly", () => {
  for (const [request, response] of EXAMPLES) {
    assertEquals(JSON.parse(answerLine(request!)), JSON.parse(response!));
  }
});

Deno.test("a bad line does not disturb the next `quantize` request", () => {
  assertEquals(JSON.parse(answerLine("{not json")).error.code, "E_PARSE");
  assertEquals(JSON.parse(answerLine("[1, 2]")).error.code, "E_PARSE");
  assertEquals(JSON.parse(answerLine(EXAMPLES[0]![0]!)), JSON.parse(EXAMPLES[0]![1]!));
});

const X = { shape: [2, 4], data: [1, -2, 3, -4, 0.5, 0.25, -8, 2] };
const BASE = { op: "quantize", x: X, dtype: "int8", scheme: "symmetric", granularity: "tensor" };

Deno.test("`quantize` op reports each fault with its code", () => {
  assertEquals(codeOf(BASE), "ok");
  assertEquals(codeOf({ ...BASE, dtype: "int32" }), "E_ARG");
  assertEquals(codeOf({ ...BASE, scheme: undefined }), "E_ARG"); // required to calibrate
  assertEquals(codeOf({ ...BASE, granularity: undefined }), "E_ARG");
  assertEquals(codeOf({ ...BASE, granularity: "channel", axis: 2 }), "E_ARG");
  assertEquals(codeOf({ ...BASE, granularity: "channel", axis: 0.5 }), "E_ARG");
  assertEquals(codeOf({ ...BASE, granularity: "group" }), "E_ARG");
  assertEquals(codeOf({ ...BASE, granularity: "group", groupSize: 1.5 }), "E_ARG");
  assertEquals(codeOf({ ...BASE, granularity: "group", groupSize: 3 }), "E_SHAPE");
  assertEquals(codeOf({ ...BASE, granularity: "group", groupSize: 0 }), "E_RANGE");
  assertEquals(codeOf({ ...BASE, dtype: "uint8", range: "restricted" }), "E_ARG");
  assertEquals(codeOf({ ...BASE, profile: "pytorch", rounding: "stochastic", seed: 1 }), "E_ARG");
  assertEquals(codeOf({ ...BASE, profile: "onnx", rounding: "nearest-even" }), "ok");
  assertEquals(codeOf({ ...BASE, rounding: "stochastic" }), "E_ARG");
  assertEquals(codeOf({ ...BASE, rounding: "stochastic", seed: "1" }), "E_ARG");
  assertEquals(codeOf({ ...BASE, rounding: "stochastic", seed: 2 ** 53 }), "E_RANGE");
  assertEquals(codeOf({ ...BASE, scale: "1" }), "E_ARG");
  assertEquals(codeOf({ ...BASE, scale: [1, 2] }), "E_SHAPE");
  assertEquals(codeOf({ ...BASE, scale: [0] }), "E_RANGE");
  assertEquals(codeOf({ ...BASE, scale: ["Infinity"] }), "E_RANGE");
  assertEquals(codeOf({ ...BASE, scale: [1], zeroPoint: [0.5] }), "E_RANGE");
  assertEquals(codeOf({ ...BASE, scale: [1], zeroPoint: [-129] }), "E_RANGE");
  assertEquals(codeOf({ ...BASE, zeroPoint: [0] }), "E_ARG"); // zeroPoint without scale
  assertEquals(codeOf({ ...BASE, x: { shape: [2, 4], data: [1, 2] } }), "E_SHAPE");
  assertEquals(codeOf({ ...BASE, x: { shape: [1, 1], data: ["NaN"] } }), "E_RANGE");
  assertEquals(codeOf({ ...BASE, x: { shape: [1, 1], data: ["-Infinity"] } }), "E_RANGE");
  assertEquals(codeOf({ ...BASE, x: [1, 2] }), "E_ARG");
});

Deno.test("`quantize` op reports the first fault in the protocol's order", () => {
  const badShape = { shape: [2, 4], data: [1, "NaN"] };
  // E_ARG before E_SHAPE before E_RANGE.
  assertEquals(codeOf({ ...BASE, x: badShape, dtype: "int3" }), "E_ARG");
  assertEquals(codeOf({ ...BASE, x: badShape, rounding: "stochastic" }), "E_ARG");
  assertEquals(codeOf({ ...BASE, x: badShape, scale: [1, 2], range: "bad" }), "E_ARG");
  assertEquals(codeOf({ ...BASE, x: badShape, scale: [-1] }), "E_SHAPE");
  assertEquals(
    codeOf({ ...BASE, granularity: "group", groupSize: 3, scale: [-1], seed: -1 }),
    "E_SHAPE",
  );
  assertEquals(codeOf({ ...BASE, scale: [1, 2, 3], zeroPoint: [0.5] }), "E_SHAPE");
  assertEquals(
    codeOf({ ...BASE, granularity: "group", groupSize: -2, x: { shape: [1, 1], data: ["NaN"] } }),
    "E_RANGE",
  );
});

Deno.test("`quantize` op ignores unknown and unused arguments", () => {
  const plain = ask(BASE);
  assertEquals(
    ask({ ...BASE, extra: { anything: true }, seed: -5, axis: 9, groupSize: 0.5 }),
    plain,
  );
  // With a given scale the scheme is unused (not even checked).
  assertEquals(codeOf({ ...BASE, scheme: "nonsense", scale: [1] }), "ok");
  assertEquals(
    ask({ op: "quantize", x: X, dtype: "int8", granularity: "tensor", scale: [0.5] }).ok,
    true,
  );
  assertEquals(ask({ ...BASE, id: undefined }).id, null);
  assertEquals(ask({ ...BASE, id: [1, "a"] }).id, [1, "a"]);
});

Deno.test("`quantize` op lays scales out per channel and group, and encodes integers", () => {
  const r = ask({
    ...BASE,
    granularity: "group",
    groupSize: 2,
    scheme: "asymmetric",
    dtype: "uint4",
  });
  assert(r.ok);
  const result = r.result as {
    q: { shape: number[]; data: number[] };
    scale: number[];
    zeroPoint: number[];
  };
  assertEquals(result.q.shape, [2, 4]);
  assertEquals(result.scale.length, 4);
  assertEquals(result.zeroPoint.length, 4);
  assert(result.q.data.every((v) => Number.isInteger(v) && v >= 0 && v <= 15));
  const cols = ask({ ...BASE, granularity: "channel", axis: 1 }).result as { scale: number[] };
  assertEquals(cols.scale, [1 / 127, 2 / 127, 8 / 127, 4 / 127]);
  // Stochastic rounding: reproducible from the seed.
  const s1 = ask({ ...BASE, rounding: "stochastic", seed: 42 });
  assertEquals(ask({ ...BASE, rounding: "stochastic", seed: 42 }), s1);
  // Empty and 1×1.
  const empty = ask({ ...BASE, x: { shape: [0, 2], data: [] } }).result!;
  assertEquals(empty, { q: { shape: [0, 2], data: [] }, scale: [1], zeroPoint: [0] });
  const one = ask({ ...BASE, x: { shape: [1, 1], data: ["-0"] } }).result!;
  assertEquals(one, { q: { shape: [1, 1], data: [0] }, scale: [1], zeroPoint: [0] });
});

Deno.test("`dequantize` op inverts quantize and checks its arguments", () => {
  const q = { shape: [1, 3], data: [0, 128, 255] };
  const r = ask({ op: "dequantize", q, scale: [0.5], zeroPoint: [128], granularity: "tensor" });
  assertEquals(r.result, { x: { shape: [1, 3], data: [-64, 0, 63.5] } });
  const noZero = ask({ op: "dequantize", q, scale: [0.5], granularity: "tensor" });
  assertEquals(noZero.result, { x: { shape: [1, 3], data: [0, 64, 127.5] } });
  const byCol = ask({ op: "dequantize", q, scale: [1, 2, 3], granularity: "channel", axis: 1 });
  assertEquals(byCol.result, { x: { shape: [1, 3], data: [0, 256, 765] } });
  const f32 = ask({ op: "dequantize", q, scale: [0.1], granularity: "tensor", profile: "pytorch" });
  assertEquals((f32.result!.x as { data: number[] }).data, [
    0,
    Math.fround(128 * Math.fround(0.1)),
    Math.fround(255 * Math.fround(0.1)),
  ]);
  const D = { op: "dequantize", q, scale: [1], granularity: "tensor" };
  assertEquals(codeOf({ ...D, granularity: undefined }), "E_ARG");
  assertEquals(codeOf({ ...D, scale: undefined }), "E_ARG");
  assertEquals(codeOf({ ...D, profile: "tflite" }), "E_ARG");
  assertEquals(codeOf({ ...D, granularity: "channel", axis: -1 }), "E_ARG");
  assertEquals(codeOf({ ...D, scale: [1, 1] }), "E_SHAPE");
  assertEquals(codeOf({ ...D, zeroPoint: [1, 1] }), "E_SHAPE");
  assertEquals(codeOf({ ...D, q: { shape: [1, 2], data: [1] } }), "E_SHAPE");
  assertEquals(codeOf({ ...D, q: { shape: [1, 1], data: [0.5] } }), "E_RANGE");
  assertEquals(codeOf({ ...D, scale: ["-0"] }), "E_RANGE");
  assertEquals(codeOf({ ...D, zeroPoint: [0.25] }), "E_RANGE");
  assertEquals(codeOf({ ...D, q: { shape: [1, 2], data: [0.5] }, scale: [-1] }), "E_SHAPE");
  assertEquals(codeOf({ ...D, granularity: "group", groupSize: 0 }), "E_RANGE");
});

Deno.test("`ternary` op answers the absmean quantization and checks its arguments", () => {
  const r = ask({ op: "ternary", x: { shape: [2, 3], data: [0.5, -1, 0.25, 2, -0.75, 1.5] } });
  assertEquals(r.result, {
    q: { shape: [2, 3], data: [0, -1, 0, 1, -1, 1] },
    scale: 1,
    y: { shape: [2, 3], data: [0, -1, 0, 1, -1, 1] },
  });
  const small = ask({ op: "ternary", x: { shape: [1, 2], data: [0, "-0"] }, eps: 0.25 });
  assertEquals(small.result, {
    q: { shape: [1, 2], data: [0, 0] },
    scale: 0.25,
    y: { shape: [1, 2], data: [0, 0] },
  });
  const T = { op: "ternary", x: { shape: [1, 1], data: [1] } };
  assertEquals(codeOf({ ...T, x: undefined }), "E_ARG");
  assertEquals(codeOf({ ...T, eps: "small" }), "E_ARG");
  assertEquals(codeOf({ ...T, x: { shape: [1, 2], data: [1] } }), "E_SHAPE");
  assertEquals(codeOf({ ...T, x: { shape: [1, 1], data: ["Infinity"] } }), "E_RANGE");
  assertEquals(codeOf({ ...T, eps: 0 }), "E_RANGE");
  assertEquals(codeOf({ ...T, eps: "NaN" }), "E_RANGE");
  assertEquals(codeOf({ ...T, eps: "small", x: { shape: [1, 2], data: [1] } }), "E_ARG");
});

Deno.test("`metrics` op takes vectors or matrices of one shape", () => {
  const v = ask({ op: "metrics", x: [3, -1, 2, 0], y: [1, -1, 2, 2] }).result!;
  assertEquals([v.mse, v.maxAbs], [2, 2]);
  assertEquals(v.rmse, Math.SQRT2);
  const m = ask({
    op: "metrics",
    x: { shape: [2, 2], data: [3, -1, 2, 0] },
    y: { shape: [2, 2], data: [1, -1, 2, 2] },
  }).result!;
  assertEquals(m, v);
  assertEquals(ask({ op: "metrics", x: [1, 2], y: [1, 2] }).result!.sqnrDb, "Infinity");
  assertEquals(ask({ op: "metrics", x: [0], y: [1] }).result!.sqnrDb, "-Infinity");
  assertEquals(ask({ op: "metrics", x: [], y: [] }).result, {
    mse: "NaN",
    rmse: "NaN",
    maxAbs: 0,
    sqnrDb: "Infinity",
  });
  assertEquals(codeOf({ op: "metrics", x: [1] }), "E_ARG");
  assertEquals(codeOf({ op: "metrics", x: [1], y: "1" }), "E_ARG");
  assertEquals(codeOf({ op: "metrics", x: [1], y: [1, 2] }), "E_SHAPE");
  assertEquals(
    codeOf({ op: "metrics", x: [1, 2], y: { shape: [1, 2], data: [1, 2] } }),
    "E_SHAPE",
  );
  assertEquals(
    codeOf({
      op: "metrics",
      x: { shape: [2, 1], data: [1, 2] },
      y: { shape: [1, 2], data: [1, 2] },
    }),
    "E_SHAPE",
  );
  assertEquals(codeOf({ op: "metrics", x: ["NaN"], y: [1] }), "E_RANGE");
  assertEquals(codeOf({ op: "metrics", x: ["NaN"], y: [1, 2] }), "E_SHAPE");
  assertEquals(codeOf({ op: "metrics", x: ["NaN"], y: ["x"] }), "E_ARG");
});
