import { assertEquals, assertThrows } from "@std/assert";
import { matmulWorkgroups } from "@loraquant/gpu/matmul";
import { MATMUL_KERNELS, type RecordedHandle, Recorder } from "./_recorder.ts";

Deno.test("Recorder records matmul() as the dispatch Batch.matmul makes", () => {
  const recorder = new Recorder("register");
  const a = { rows: 65, cols: 3, data: new Float32Array(65 * 3) }; // (65, 3)
  const b = { rows: 3, cols: 129, data: new Float32Array(3 * 129) }; // (3, 129)
  const c = recorder.matmul(a, b) as RecordedHandle;
  recorder.matmul(a, b, { variant: "tiled" });
  assertEquals(recorder.size, 2);
  const [register, tiled] = recorder.ops;
  assertEquals(register!.kernel, MATMUL_KERNELS.register);
  assertEquals(tiled!.kernel, MATMUL_KERNELS.tiled);
  assertEquals([...register!.params], [65, 129, 3, 0]);
  const grid = matmulWorkgroups("register", { m: 65, n: 129 });
  assertEquals(register!.workgroups, [grid.x, grid.y]);
  assertEquals(register!.inputs, [a.data, b.data]);
  assertEquals([c.op, c.output, c.length, c.shape], [0, 0, 65 * 129, [65, 129]]);
});

Deno.test("Recorder hands out handles that name their op and output, and refuses reads", () => {
  const recorder = new Recorder("register");
  const [first] = recorder.run({
    kernel: { name: "k", code: "" },
    params: new Uint32Array(1),
    inputs: [],
    outputs: [{ shape: [2, 3], arrayType: Float32Array }, { shape: [4], arrayType: Uint32Array }],
    workgroups: [1],
  });
  const [, second] = recorder.run({
    kernel: { name: "k2", code: "" },
    params: new Uint32Array(1),
    inputs: [first!],
    outputs: [{ shape: [6], arrayType: Float32Array }, { shape: [1], arrayType: Float32Array }],
    workgroups: [1],
  });
  assertEquals([(second as RecordedHandle).op, (second as RecordedHandle).output], [1, 1]);
  assertEquals(first!.length, 6);
  assertThrows(() => recorder.read(), Error, "does not support read");
});
