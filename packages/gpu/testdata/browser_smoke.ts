// The page script of browser_test.ts: bundled for the browser with `deno bundle`, it runs ONE
// kernel of @loraquant/gpu (the float32 → float16 cast) on the page's WebGPU adapter and reports
// what happened. It never throws: a missing adapter and a failure are both reported, told apart.
import { requestGpu } from "../device.ts";
import { GpuError } from "../gpu_error.ts";

/** What the page reports back to the test. */
export type SmokeReport =
  | { readonly status: "no-adapter"; readonly reason: string }
  | {
    readonly status: "ok";
    readonly adapter: string;
    readonly features: string[];
    readonly bits: number[];
  }
  | { readonly status: "error"; readonly error: string };

/**
 * Narrows `x` to float16 bit patterns on the GPU, or says why it could not.
 *
 * @param x The float32 bit patterns to cast.
 * @returns The report.
 */
export async function runSmoke(x: number[]): Promise<SmokeReport> {
  try {
    const gpu = await requestGpu({ matmulVariant: "register" });
    try {
      const batch = gpu.batch();
      const half = batch.castFromFloat32(new Uint32Array(x), "float16");
      const [bits] = await batch.read(half);
      return {
        status: "ok",
        adapter: gpu.adapterName,
        features: [...gpu.features].sort(),
        bits: [...bits],
      };
    } finally {
      gpu.destroy();
    }
  } catch (error) {
    if (error instanceof GpuError && error.code === "E_NO_ADAPTER") {
      return { status: "no-adapter", reason: error.message };
    }
    return { status: "error", error: `${error}\n${(error as Error)?.stack ?? ""}` };
  }
}
