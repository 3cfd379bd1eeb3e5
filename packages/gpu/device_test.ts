// The device layer: features and limits as detected, kernel validation errors named, device loss
// rejecting pending work instead of hanging, single-use batches, buffer reuse.
import { assert, assertEquals, assertInstanceOf, assertRejects, assertThrows } from "@std/assert";
import { LoraquantTypeError } from "@loraquant/reference/errors";
import { OPTIONAL_FEATURES, requestGpu } from "./device.ts";
import { GpuError } from "./gpu_error.ts";
import { Runtime } from "./_runtime.ts";
import { gpuTest, testGpu } from "./_testing.ts";

gpuTest("`requestGpu()` enables only the optional features the adapter offers", async () => {
  const gpu = await testGpu();
  for (const feature of gpu.features) {
    assert(gpu.adapter.features.has(feature as GPUFeatureName), `${feature} not offered`);
  }
  for (const feature of OPTIONAL_FEATURES) {
    assertEquals(
      gpu.features.has(feature),
      gpu.adapter.features.has(feature as GPUFeatureName),
      feature,
    );
  }
  // The adapter's own binding limit is requested (WebGPU's default is 128 MiB).
  assertEquals(
    gpu.limits.maxStorageBufferBindingSize,
    gpu.adapter.limits.maxStorageBufferBindingSize,
  );
  assert(gpu.adapterName.length > 0);
});

gpuTest("a kernel the device rejects fails with E_VALIDATION naming the kernel", async () => {
  const gpu = await testGpu();
  const broken = {
    name: "broken-kernel",
    code: "@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }",
  };
  const error = await assertRejects(() => gpu.compile(broken), GpuError, '"broken-kernel"');
  assertEquals(error.code, "E_VALIDATION");
  assertEquals(error.kernel, "broken-kernel");
  // A missing override constant is caught at pipeline creation, named too.
  const needsConstant = {
    name: "needs-constant",
    code: "override N: u32;\n@compute @workgroup_size(1) fn main() { _ = N; }",
  };
  await assertRejects(() => gpu.compile(needsConstant), GpuError, '"needs-constant"');
  await gpu.compile(needsConstant, { N: 3 });
  // The device still works afterwards.
  const batch = gpu.batch();
  const [bits] = await batch.read(batch.castFromFloat32(new Float32Array([1]), "bfloat16"));
  assertEquals([...bits], [0x3f80]);
});

gpuTest("a lost device rejects pending and later work with E_DEVICE_LOST", async () => {
  const gpu = await requestGpu({ matmulVariant: "register" });
  const batch = gpu.batch();
  const handle = batch.castFromFloat32(new Float32Array(1024), "float16");
  gpu.destroy();
  const error = await assertRejects(() => batch.read(handle), GpuError);
  assertEquals(error.code, "E_DEVICE_LOST");
  assert(gpu.isLost);
  assertThrows(() => gpu.batch(), GpuError, "lost");
});

gpuTest("a batch is read once; a discarded batch refuses work", async () => {
  const gpu = await testGpu();
  const batch = gpu.batch();
  const h = batch.castToFloat32(new Uint32Array([0x3c00]), "float16");
  assertEquals(batch.size, 1);
  assertEquals([...(await batch.read(h))[0]], [1]);
  const error = await assertRejects(() => batch.read(h), GpuError);
  assertEquals(error.code, "E_STATE");
  const dropped = gpu.batch();
  dropped.castToFloat32(new Uint32Array([1]), "float16");
  dropped.discard();
  assertThrows(() => dropped.castToFloat32(new Uint32Array([1]), "float16"), GpuError);
  // Reading nothing is allowed and costs one empty submission.
  const none = gpu.batch();
  assertEquals(await none.read(), []);
});

gpuTest("released buffers are reused by size and usage, within the pool's budget", async () => {
  const gpu = await requestGpu({ matmulVariant: "register" });
  const runtime = new Runtime(gpu.device, 4096);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const a = runtime.acquire(1000, usage, "a");
  assertEquals(a.size, 1024); // power-of-two buckets, at least 256 bytes
  runtime.release([a]);
  assertEquals(runtime.idleBytes, 1024);
  assertEquals(runtime.acquire(700, usage, "b"), a);
  assertEquals(runtime.idleBytes, 0);
  const big = runtime.acquire(8192, usage, "big");
  runtime.release([big]); // beyond the 4096-byte budget: destroyed, not kept
  assertEquals(runtime.idleBytes, 0);
  gpu.destroy();
});

Deno.test("`requestGpu()` refuses unknown options before asking for an adapter", async () => {
  const error = await assertRejects(
    () => requestGpu({ matmulVariant: "fastest" as "tiled" }),
    LoraquantTypeError,
  );
  assertEquals(error.code, "E_ARG");
  await assertRejects(() => requestGpu({ poolBytes: -1 }), LoraquantTypeError, "poolBytes");
});

Deno.test("`GpuError` carries its code and kernel", () => {
  const error = new GpuError("E_VALIDATION", 'Kernel "k" failed', "k");
  assertInstanceOf(error, Error);
  assertEquals([error.code, error.kernel, error.name], ["E_VALIDATION", "k", "GpuError"]);
});
