import { assertEquals, assertThrows } from "@std/assert";
import * as ort from "onnxruntime-web";
import { matmulOnnxModel, ONNX_IR_VERSION, ONNX_OPSET } from "./onnx_model.ts";

/** A protobuf field: its number and a varint value or the bytes of a length-delimited one. */
type Field = { field: number; value: number | Uint8Array };

/** Decodes one protobuf message into its fields (varint and length-delimited wire types only). */
function decode(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  let at = 0;
  const varint = () => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[at++]!;
      value += (b & 0x7f) * scale;
      scale *= 128;
      if (b < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const key = varint();
    const wire = key & 7;
    const field = key >>> 3;
    if (wire === 0) fields.push({ field, value: varint() });
    else if (wire === 2) {
      const length = varint();
      fields.push({ field, value: bytes.subarray(at, at + length) });
      at += length;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return fields;
}

const text = (v: number | Uint8Array) => new TextDecoder().decode(v as Uint8Array);
const get = (fs: Field[], n: number) => fs.filter((f) => f.field === n).map((f) => f.value);

/** The dims of a ValueInfoProto: type(2) → tensor_type(1) → shape(2) → dim(1) → dim_value(1). */
function dims(info: Uint8Array): number[] {
  const tensor = decode(get(decode(get(decode(info), 2)[0] as Uint8Array), 1)[0] as Uint8Array);
  assertEquals(get(tensor, 1), [1], "elem_type FLOAT");
  return get(decode(get(tensor, 2)[0] as Uint8Array), 1).map((d) =>
    get(decode(d as Uint8Array), 1)[0] as number
  );
}

Deno.test("matmulOnnxModel() encodes ModelProto { ir_version, graph { MatMul(A, B) → C }, opset }", () => {
  const model = decode(matmulOnnxModel(3, 200, 5));
  assertEquals(get(model, 1), [ONNX_IR_VERSION]);
  const opset = decode(get(model, 8)[0] as Uint8Array);
  assertEquals(text(get(opset, 1)[0]!), "");
  assertEquals(get(opset, 2), [ONNX_OPSET]);
  const graph = decode(get(model, 7)[0] as Uint8Array);
  const node = decode(get(graph, 1)[0] as Uint8Array);
  assertEquals(get(node, 1).map(text), ["A", "B"]);
  assertEquals(get(node, 2).map(text), ["C"]);
  assertEquals(text(get(node, 4)[0]!), "MatMul");
  const inputs = get(graph, 11) as Uint8Array[];
  assertEquals(inputs.map((i) => text(get(decode(i), 1)[0]!)), ["A", "B"]);
  assertEquals(inputs.map(dims), [[3, 200], [200, 5]]); // 200 needs a two-byte varint
  const output = get(graph, 12)[0] as Uint8Array;
  assertEquals(text(get(decode(output), 1)[0]!), "C");
  assertEquals(dims(output), [3, 5]);
});

Deno.test("matmulOnnxModel() refuses non-positive and non-integer dimensions with E_RANGE", () => {
  assertThrows(() => matmulOnnxModel(0, 1, 1), RangeError, "m must be a positive integer");
  assertThrows(() => matmulOnnxModel(1, 1.5, 1), RangeError, "k must be a positive integer");
  assertThrows(() => matmulOnnxModel(1, 1, -2), RangeError, "n must be a positive integer");
});

Deno.test({
  name: "matmulOnnxModel() runs in onnxruntime-web (wasm EP, no GPU) and multiplies",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    ort.env.wasm.wasmPaths = new URL("./", import.meta.resolve("onnxruntime-web")).href;
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(matmulOnnxModel(2, 3, 2), {
      executionProviders: ["wasm"],
    });
    const a = new ort.Tensor("float32", new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]); // (2, 3)
    const b = new ort.Tensor("float32", new Float32Array([1, 0, 0, 1, 1, 1]), [3, 2]); // (3, 2)
    const { C } = await session.run({ A: a, B: b });
    assertEquals(C!.dims, [2, 2]);
    // Small integers: every product and sum is exact in float32.
    assertEquals([...(C!.data as Float32Array)], [4, 5, 10, 11]);
    await session.release();
  },
});
