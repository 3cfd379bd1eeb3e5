/**
 * `deno task bench [--quick] [--suite=NAME]`: measures, in one run, the median wall time (and
 * GPU time from timestamp queries where the device has them) of loraquant's GPU kernels, the
 * float64 reference and the peers (tfjs-backend-webgpu, onnxruntime-web's webgpu EP) on the
 * same adapter; prints a table with ratios to the best peer and the issue's targets, and writes
 * `results/latest.json` (the schema of `result.ts`) and `results/latest.svg`.
 *
 * Suites: `matmul-f32` (N = 256, 512, 1024, both kernels, peers; the reference at N = 128, 256),
 * `lora-forward` (in = out = 1024, r = 8, n ∈ {1, 16, 128}, fused vs unfused), `int8-vs-f32`.
 * `--quick` takes fewer samples and leaves out the slowest cases (listed as skipped).
 * `--suite=NAME` runs one suite. The implementations compared at one size are measured
 * interleaved (sample s of each in turn), so that a change of the machine's load during the run
 * hits them alike.
 *
 * @module
 */
import { type Gpu, requestGpu } from "@loraquant/gpu/device";
import type { Batch, KernelOperation } from "@loraquant/gpu/batch";
import { type GpuLoraLayer, loraForward, loraForwardUnfused } from "@loraquant/gpu/lora";
import { hasDot4I8Packed, int8Matmul, type Int8MatmulVariant } from "@loraquant/gpu/int8-matmul";
import { matmul as referenceMatmul } from "@loraquant/reference/matmul";
import { matrix } from "@loraquant/reference/matrix";
import { formatTable } from "./table.ts";
import { gflops, loraFlops, matmulFlops } from "./gflops.ts";
import { type BenchImpl, type BenchResult, type BenchSkip, validateResults } from "./result.ts";
import { resultsSvg } from "./svg.ts";
import { checkTargets } from "./targets.ts";
import {
  measure,
  measureAll,
  type MeasureOptions,
  type RawSample,
  type Timing,
} from "./_measure.ts";
import { ortMatmul, type PeerMatmul, tfjsMatmul } from "./_peers.ts";
import { Recorder } from "./_recorder.ts";
import { Replay } from "./_replay.ts";

const quick = Deno.args.includes("--quick");
const onlySuite = Deno.args.find((a) => a.startsWith("--suite="))?.slice("--suite=".length);
const SUITES = ["matmul-f32", "lora-forward", "int8-vs-f32"] as const;
const MATMUL_SIZES = [256, 512, 1024];
const REFERENCE_SIZES = [128, 256];
const LORA_ROWS = [1, 16, 128];
const INT8_SIZES = [256, 512, 1024];
const LORA = { inFeatures: 1024, outFeatures: 1024, r: 8, alpha: 16 } as const;
/** The tiled kernel's largest size under --quick (N = 1024 takes seconds per product on llvmpipe). */
const QUICK_TILED_MAX = 512;
const OPTIONS: MeasureOptions = quick
  ? { samples: 5, targetMs: 150, maxRepeats: 64 }
  : { samples: 7, targetMs: 400, maxRepeats: 256 };

const results: BenchResult[] = [];
const skipped: BenchSkip[] = [];
const started = performance.now();
let step = 0;

function progress(label: string): void {
  step++;
  const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  console.error(`[${s} s] #${step} ${label}`);
}

/** Deterministic values in [−1, 1): a 32-bit LCG (Numerical Recipes), rounded to float32. */
function data(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

/** Deterministic int8 values in [−128, 127] from the same generator. */
function int8Data(count: number, seed: number): Int8Array {
  return Int8Array.from(
    data(count, seed),
    (v) => Math.max(-128, Math.min(127, Math.floor(v * 128))),
  );
}

function record(
  suite: string,
  kase: string,
  impl: BenchImpl,
  size: number,
  flops: number,
  t: Timing,
  label: string,
): void {
  const r: BenchResult = {
    suite,
    case: kase,
    impl,
    size,
    medianMs: t.wallMs,
    gflops: gflops(flops, t.wallMs),
    ...(t.gpuMs !== undefined ? { gpuMs: t.gpuMs } : {}),
  };
  results.push(r);
  const gpu = t.gpuMs === undefined ? "" : `, GPU ${t.gpuMs.toFixed(3)} ms`;
  console.error(
    `          ${label}: ${r.medianMs.toFixed(3)} ms${gpu}, ${r.gflops.toFixed(2)} GFLOP/s ` +
      `(${t.samples} samples × ${t.repeats})`,
  );
}

function skip(suite: string, impl: BenchImpl, reason: string): void {
  skipped.push({ suite, impl, reason });
  console.error(`          skipped: ${reason}`);
}

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Runs every suite, prints the report and writes the results. */
async function main(): Promise<void> {
  for (const arg of Deno.args) {
    if (arg !== "--quick" && !SUITES.some((suite) => arg === `--suite=${suite}`)) {
      console.error(
        `Unknown argument ${JSON.stringify(arg)}: use --quick and/or --suite=${SUITES.join("|")}`,
      );
      Deno.exit(2);
    }
  }
  let gpu: Gpu;
  try {
    gpu = await requestGpu({ matmulVariant: "register" });
  } catch (error) {
    console.error(`The bench needs a WebGPU adapter: ${message(error)} (nothing written)`);
    Deno.exit(1);
  }
  console.error(
    `bench${quick ? " --quick" : ""} on "${gpu.adapterName}" (features: ${
      [...gpu.features].join(", ") || "none"
    }; ${navigator.hardwareConcurrency} CPUs, load average ${
      Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
    })`,
  );

  /** One implementation of a comparison: prepared, then sampled interleaved with the others. */
  interface Candidate {
    readonly suite: string;
    readonly kase: string;
    readonly impl: BenchImpl;
    readonly size: number;
    readonly flops: number;
    readonly prepare: () => Promise<Prepared>;
  }
  interface Prepared {
    run(repeats: number): Promise<RawSample>;
    dispose(): void | Promise<void>;
  }

  /** Our kernels: the dispatches `enqueue` records, replayed with resident inputs. */
  const kernels = (enqueue: (batch: Batch) => void) => async (): Promise<Prepared> => {
    const recorder = new Recorder(gpu.matmulVariant);
    enqueue(recorder);
    const ops: KernelOperation[] = recorder.ops;
    const replay = await Replay.prepare(gpu, ops);
    return { run: (repeats) => replay.sample(repeats), dispose: () => replay.destroy() };
  };

  /** A peer's prepared product. */
  const peer = (make: () => Promise<PeerMatmul>) => async (): Promise<Prepared> => {
    const p = await make();
    return { run: (repeats) => p.sample(repeats), dispose: () => p.dispose() };
  };

  /** Prepares the candidates (skipping those that fail), measures them interleaved, records. */
  async function compare(label: string, candidates: readonly Candidate[]): Promise<void> {
    progress(`${label}: ${candidates.map((c) => `${c.impl} ${c.kase}`).join(", ")}`);
    const ready: [Candidate, Prepared][] = [];
    for (const c of candidates) {
      try {
        ready.push([c, await c.prepare()]);
      } catch (error) {
        skip(c.suite, c.impl, `${c.kase} ${c.size}: ${message(error)}`);
      }
    }
    try {
      const timings = await measureAll(ready.map(([, p]) => (repeats) => p.run(repeats)), OPTIONS);
      ready.forEach(([c], i) => {
        const t = timings[i]!;
        if (t instanceof Error) skip(c.suite, c.impl, `${c.kase} ${c.size}: ${message(t)}`);
        else record(c.suite, c.kase, c.impl, c.size, c.flops, t, `${c.impl} ${c.kase}`);
      });
    } finally {
      for (const [, p] of ready) await p.dispose();
    }
  }

  const wants = (suite: string) => onlySuite === undefined || onlySuite === suite;

  // --- matmul-f32 -------------------------------------------------------------------------------
  if (wants("matmul-f32")) {
    const suite = "matmul-f32";
    for (const n of [...new Set([...REFERENCE_SIZES, ...MATMUL_SIZES])].sort((p, q) => p - q)) {
      const a = { rows: n, cols: n, data: data(n * n, 1) }; // (n, n)
      const b = { rows: n, cols: n, data: data(n * n, 2) }; // (n, n)
      const flops = matmulFlops(n, n, n);
      if (MATMUL_SIZES.includes(n)) {
        const candidates: Candidate[] = [];
        for (const variant of ["register", "tiled"] as const) {
          if (quick && variant === "tiled" && n > QUICK_TILED_MAX) {
            skip(suite, "loraquant-gpu", `tiled N=${n} left out by --quick (seconds per product)`);
            continue;
          }
          candidates.push({
            suite,
            kase: variant,
            impl: "loraquant-gpu",
            size: n,
            flops,
            prepare: kernels((batch) => batch.matmul(a, b, { variant })),
          });
        }
        candidates.push(
          {
            suite,
            kase: "tf.matMul",
            impl: "tfjs-webgpu",
            size: n,
            flops,
            prepare: peer(() => tfjsMatmul(a.data, b.data, n)),
          },
          {
            suite,
            kase: "MatMul",
            impl: "ort-webgpu",
            size: n,
            flops,
            prepare: peer(() => ortMatmul(a.data, b.data, n)),
          },
        );
        await compare(`${suite} N=${n}`, candidates);
      }
      if (REFERENCE_SIZES.includes(n)) {
        progress(`${suite} N=${n}: loraquant-reference`);
        const ra = matrix([n, n], Float64Array.from(a.data)); // (n, n)
        const rb = matrix([n, n], Float64Array.from(b.data)); // (n, n)
        const run = (repeats: number): Promise<RawSample> => {
          const t0 = performance.now();
          for (let r = 0; r < repeats; r++) {
            referenceMatmul(ra, rb, { dtype: "float32", accumulate: "float32" });
          }
          return Promise.resolve({ wallMs: performance.now() - t0 });
        };
        try {
          const t = await measure(run, { ...OPTIONS, samples: quick ? 1 : 3, maxRepeats: 4 });
          record(suite, "float32 (exact)", "loraquant-reference", n, flops, t, "reference");
        } catch (error) {
          skip(suite, "loraquant-reference", `N=${n}: ${message(error)}`);
        }
      }
    }
  }

  // --- lora-forward -----------------------------------------------------------------------------
  if (wants("lora-forward")) {
    const suite = "lora-forward";
    const { inFeatures, outFeatures, r, alpha } = LORA;
    const layer: GpuLoraLayer = {
      w: { rows: outFeatures, cols: inFeatures, data: data(outFeatures * inFeatures, 3) }, // (out, in)
      a: { rows: r, cols: inFeatures, data: data(r * inFeatures, 4) }, // (r, in)
      b: { rows: outFeatures, cols: r, data: data(outFeatures * r, 5) }, // (out, r)
      alpha,
    };
    for (const n of LORA_ROWS) {
      const x = { rows: n, cols: inFeatures, data: data(n * inFeatures, 6) }; // (n, in)
      const flops = loraFlops({ n, inFeatures, outFeatures, r });
      const forwards = [["fused", loraForward], ["unfused", loraForwardUnfused]] as const;
      await compare(
        `${suite} n=${n}`,
        forwards.map(([kase, forward]) => ({
          suite,
          kase,
          impl: "loraquant-gpu",
          size: n,
          flops,
          prepare: kernels((batch) => void forward(batch, x, layer)),
        })),
      );
    }
  }

  // --- int8-vs-f32 ------------------------------------------------------------------------------
  if (wants("int8-vs-f32")) {
    const suite = "int8-vs-f32";
    const preferred: Int8MatmulVariant = hasDot4I8Packed() ? "dot4" : "unpack";
    const other: Int8MatmulVariant = preferred === "dot4" ? "unpack" : "dot4";
    for (const n of INT8_SIZES) {
      const flops = matmulFlops(n, n, n);
      const ai = { rows: n, cols: n, data: int8Data(n * n, 7) }; // (n, n)
      const bi = { rows: n, cols: n, data: int8Data(n * n, 8) }; // (n, n)
      const a = { rows: n, cols: n, data: data(n * n, 1) }; // (n, n)
      const b = { rows: n, cols: n, data: data(n * n, 2) }; // (n, n)
      const int8 = (kase: string, variant: Int8MatmulVariant): Candidate => ({
        suite,
        kase,
        impl: "loraquant-gpu",
        size: n,
        flops,
        prepare: kernels((batch) => void int8Matmul(batch, ai, bi, { variant })),
      });
      const candidates = [int8("int8", preferred)];
      if (other === "unpack") candidates.push(int8("int8 unpack", "unpack"));
      else skip(suite, "loraquant-gpu", `int8 dot4 N=${n}: this WGSL lacks dot4I8Packed`);
      candidates.push({
        suite,
        kase: "f32",
        impl: "loraquant-gpu",
        size: n,
        flops,
        prepare: kernels((batch) => void batch.matmul(a, b, { variant: "register" })),
      });
      await compare(`${suite} N=${n} (int8 = ${preferred})`, candidates);
    }
  }

  // --- report -----------------------------------------------------------------------------------
  const total = ((performance.now() - started) / 1000).toFixed(1);
  const load = Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
  console.log(
    `\nloraquant bench${quick ? " --quick" : ""} on ${gpu.adapterName}, ${total} s, ` +
      `${navigator.hardwareConcurrency} CPUs, load average at the end ${load}`,
  );
  console.log(formatTable(results, skipped));
  console.log("\nTargets (llvmpipe; measured, not asserted):");
  for (const t of checkTargets(results)) {
    const verdict = t.met === undefined ? `n/a (${t.missing})` : t.met ? "met" : "NOT met";
    const value = t.value === undefined ? "—" : t.value.toFixed(2);
    console.log(`  ${t.name}: ${value} (target ≥ ${t.threshold}): ${verdict}`);
  }
  const dir = new URL("./results/", import.meta.url);
  await Deno.mkdir(dir, { recursive: true });
  const json = JSON.stringify(validateResults(results), null, 2) + "\n";
  await Deno.writeTextFile(new URL("latest.json", dir), json);
  await Deno.writeTextFile(
    new URL("latest.svg", dir),
    resultsSvg(results, {
      subtitle: `${gpu.adapterName}${quick ? ", --quick" : ""}, median wall time per operation`,
    }),
  );
  console.log(`\nWrote ${new URL("latest.json", dir).pathname} and latest.svg`);
  gpu.destroy();
}

if (import.meta.main) {
  await main();
  Deno.exit(0); // the peers keep device handles open
}
