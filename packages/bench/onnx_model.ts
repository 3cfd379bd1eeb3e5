/**
 * A one-node ONNX model, `C = MatMul(A, B)` on float32, encoded as protobuf bytes in code (no
 * `.onnx` file, no protobuf library), so the bench can time onnxruntime-web's MatMul.
 *
 * Encoding (onnx.proto3, protobuf wire format): varint fields have wire type 0, strings and
 * messages wire type 2 (a varint byte length, then the bytes).
 *
 * @module
 */
import { LoraquantRangeError } from "@loraquant/reference/errors";

/** The ONNX IR version the model declares (IR 8: ONNX 1.10+). */
export const ONNX_IR_VERSION = 8;
/** The default-domain opset the model imports (MatMul is unchanged since opset 13). */
export const ONNX_OPSET = 17;

const FLOAT = 1; // TensorProto.DataType.FLOAT

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function key(field: number, wire: 0 | 2): number[] {
  return varint(field * 8 + wire);
}

function intField(field: number, value: number): number[] {
  return [...key(field, 0), ...varint(value)];
}

function bytesField(field: number, bytes: readonly number[]): number[] {
  return [...key(field, 2), ...varint(bytes.length), ...bytes];
}

function stringField(field: number, text: string): number[] {
  return bytesField(field, [...new TextEncoder().encode(text)]);
}

/** ValueInfoProto { name = 1; type = 2 { tensor_type = 1 { elem_type = 1; shape = 2 } } }. */
function tensorInfo(name: string, shape: readonly number[]): number[] {
  const dims = shape.flatMap((d) => bytesField(1, intField(1, d))); // Dimension { dim_value = 1 }
  const tensorType = [...intField(1, FLOAT), ...bytesField(2, dims)];
  return [...stringField(1, name), ...bytesField(2, bytesField(1, tensorType))];
}

/**
 * The bytes of an ONNX model with float32 inputs `A` (m, k) and `B` (k, n), one `MatMul` node
 * and the float32 output `C` (m, n), all dimensions fixed: ModelProto { ir_version = 1:
 * {@linkcode ONNX_IR_VERSION}; producer_name = 2: "loraquant-bench"; graph = 7: GraphProto {
 * node = 1: NodeProto { input = 1: "A", "B"; output = 2: "C"; name = 3: "matmul"; op_type = 4:
 * "MatMul" }; name = 2: "matmul"; input = 11: A, B; output = 12: C }; opset_import = 8: { domain
 * = 1: ""; version = 2: {@linkcode ONNX_OPSET} } }.
 *
 * @param m Rows of A and C.
 * @param k Columns of A, rows of B.
 * @param n Columns of B and C.
 * @returns The serialized model.
 * @throws {LoraquantRangeError} `E_RANGE` when a dimension is not a positive safe integer.
 *
 * @example A 2×3·3×4 model starts with its IR version
 * ```ts
 * import { matmulOnnxModel } from "@loraquant/bench/onnx-model";
 * import { assertEquals } from "@std/assert";
 *
 * const bytes = matmulOnnxModel(2, 3, 4);
 * assertEquals([...bytes.subarray(0, 2)], [0x08, 8]); // field 1, varint: ir_version = 8
 * ```
 */
export function matmulOnnxModel(m: number, k: number, n: number): Uint8Array {
  for (const [name, v] of [["m", m], ["k", k], ["n", n]] as const) {
    if (!Number.isSafeInteger(v) || v <= 0) {
      throw new LoraquantRangeError(
        "E_RANGE",
        `Cannot build the MatMul model: ${name} must be a positive integer, got ${v}`,
      );
    }
  }
  const node = [
    ...stringField(1, "A"),
    ...stringField(1, "B"),
    ...stringField(2, "C"),
    ...stringField(3, "matmul"),
    ...stringField(4, "MatMul"),
  ];
  const graph = [
    ...bytesField(1, node),
    ...stringField(2, "matmul"),
    ...bytesField(11, tensorInfo("A", [m, k])),
    ...bytesField(11, tensorInfo("B", [k, n])),
    ...bytesField(12, tensorInfo("C", [m, n])),
  ];
  const opset = [...stringField(1, ""), ...intField(2, ONNX_OPSET)];
  return new Uint8Array([
    ...intField(1, ONNX_IR_VERSION),
    ...stringField(2, "loraquant-bench"),
    ...bytesField(7, graph),
    ...bytesField(8, opset),
  ]);
}
