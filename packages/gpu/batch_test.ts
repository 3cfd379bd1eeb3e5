import { assertEquals, assertThrows } from "@std/assert";
import { LoraquantTypeError } from "@loraquant/reference/errors";
import { gpuTest, testGpu } from "./_testing.ts";

const ADD = {
  name: "test-add-u32",
  code: /* wgsl */ `
struct Params { n: u32, factor: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> b: array<u32>;
@group(0) @binding(3) var<storage, read_write> sum: array<u32>;
@group(0) @binding(4) var<storage, read_write> product: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= params.n) { return; }
  sum[id.x] = a[id.x] + b[id.x];
  product[id.x] = a[id.x] * b[id.x] * params.factor;
}`,
};

const SCALE_IN_PLACE = {
  name: "test-scale-in-place",
  code: /* wgsl */ `
struct Params { n: u32, factor: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= params.n) { return; }
  x[id.x] = x[id.x] * params.factor;
}`,
};

gpuTest(
  "`Batch.run()` dispatches a user kernel with several outputs and chains in-place work",
  async () => {
    const gpu = await testGpu();
    const batch = gpu.batch();
    const n = 100;
    const a = Uint32Array.from({ length: n }, (_, i) => i);
    const b = Uint32Array.from({ length: n }, (_, i) => 3 * i + 1);
    const [sum, product] = batch.run({
      kernel: ADD,
      params: new Uint32Array([n, 2]),
      inputs: [a, b],
      outputs: [{ shape: [n], arrayType: Uint32Array }, { shape: [n], arrayType: Uint32Array }],
      workgroups: [Math.ceil(n / 64)],
    });
    const values = batch.castToFloat32(new Uint32Array([0x3c00, 0xc000, 0x7c00]), "float16");
    const params = new Uint32Array(2);
    params[0] = 3;
    new Float32Array(params.buffer)[1] = -0.5;
    const [scaled] = batch.run({
      kernel: SCALE_IN_PLACE,
      params,
      inputs: [values],
      outputs: [{ shape: [3], arrayType: Float32Array, aliasOf: 0 }],
      workgroups: [1],
    });
    const [s, p, v] = await batch.read(sum!, product!, scaled!);
    assertEquals([...s], [...a].map((x, i) => x + b[i]!));
    assertEquals([...p], [...a].map((x, i) => (x * b[i]! * 2) >>> 0));
    assertEquals([...v], [-0.5, 1, -Infinity]);
  },
);

gpuTest("`Batch.run()` refuses an alias of an uploaded array and unknown inputs", async () => {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const e = assertThrows(
    () =>
      batch.run({
        kernel: SCALE_IN_PLACE,
        params: new Uint32Array(2),
        inputs: [new Float32Array(3)],
        outputs: [{ shape: [3], arrayType: Float32Array, aliasOf: 0 }],
        workgroups: [1],
      }),
    LoraquantTypeError,
  );
  assertEquals(e.code, "E_ARG");
  assertThrows(
    () =>
      batch.run({
        kernel: SCALE_IN_PLACE,
        params: new Uint32Array(2),
        inputs: [new Float64Array(3) as unknown as Float32Array],
        outputs: [{ shape: [3], arrayType: Float32Array }],
        workgroups: [1],
      }),
    LoraquantTypeError,
  );
  batch.discard();
});
