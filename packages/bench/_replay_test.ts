// The bench times replays of recorded dispatches, not the public Batch: check that a replay
// computes exactly what the Batch computes (same kernels, parameters, grids and bindings), and
// that its timestamps are consistent with its wall time.
import { assert, assertEquals } from "@std/assert";
import { loraForward, loraForwardUnfused } from "@loraquant/gpu/lora";
import { int8Matmul } from "@loraquant/gpu/int8-matmul";
import type { GpuArray, GpuHandle } from "@loraquant/gpu/batch";
import { gpuTest, testGpu } from "../gpu/_testing.ts";
import { type RecordedHandle, Recorder } from "./_recorder.ts";
import { Replay } from "./_replay.ts";

function values(n: number, seed: number): Float32Array {
  return Float32Array.from(
    { length: n },
    (_, i) => (((i * 7919 + seed * 104729) % 255) - 127) / 64,
  );
}

gpuTest(
  "a replay computes bit for bit what Batch computes, for matmul, LoRA and int8",
  async () => {
    const gpu = await testGpu();
    const [m, k, n, r] = [19, 70, 37, 3]; // not multiples of any tile
    const a = { rows: m, cols: k, data: values(m * k, 1) }; // (m, k)
    const b = { rows: k, cols: n, data: values(k * n, 2) }; // (k, n)
    const layer = {
      w: { rows: n, cols: k, data: values(n * k, 3) }, // (out, in)
      a: { rows: r, cols: k, data: values(r * k, 4) }, // (r, in)
      b: { rows: n, cols: r, data: values(n * r, 5) }, // (out, r)
      alpha: 5,
      bias: values(n, 6),
    };
    const ai = { rows: m, cols: k, data: Int8Array.from(values(m * k, 7), (v) => v * 64) }; // (m, k)
    const bi = { rows: k, cols: n, data: Int8Array.from(values(k * n, 8), (v) => v * 64) }; // (k, n)
    const enqueue = (batch: Parameters<typeof loraForward>[0]): GpuHandle<GpuArray>[] => [
      batch.matmul(a, b, { variant: "register" }),
      batch.matmul(a, b, { variant: "tiled" }),
      loraForward(batch, a, layer).y,
      loraForwardUnfused(batch, a, layer).y,
      int8Matmul(batch, ai, bi),
    ];
    const batch = gpu.batch();
    const expected = await batch.read(...enqueue(batch));
    const recorder = new Recorder(gpu.matmulVariant);
    const handles = enqueue(recorder) as RecordedHandle[];
    const replay = await Replay.prepare(gpu, recorder.ops);
    try {
      const sample = await replay.sample(2);
      if (sample.gpuMs !== undefined) {
        assert(sample.gpuMs > 0 && sample.gpuMs <= sample.wallMs, JSON.stringify(sample));
      }
      for (const [i, handle] of handles.entries()) {
        const got = new Uint32Array(await replay.read(handle));
        const want = new Uint32Array(expected[i]!.buffer);
        assert(want.some((w) => w !== 0), `output ${i} is not all zeros`);
        assertEquals(got, want, `output ${i} (${handle.kernel})`);
      }
    } finally {
      replay.destroy();
    }
  },
);
