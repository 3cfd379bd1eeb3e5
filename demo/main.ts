/**
 * `deno run -A demo/main.ts [--quick] [--cpu] [--seed N] [--out DIR]`: the lecture, live, on real
 * data (docs/demo.md). Writes `DIR/results.json` and `DIR/report.html` (default `out/demo`).
 *
 * @module
 */
import { demoConfig, type DemoHooks, runExperiment } from "./experiment.ts";
import { gpuLogits, probeGpu } from "./gpu.ts";
import { trainMlpGpu } from "./gpu_train.ts";
import { startProgress } from "./progress.ts";
import { renderReport, summaryRows, textTable, writeAtomic } from "./report.ts";
import type { DemoResults } from "./results.ts";

/** The usage text. */
export const USAGE = `Usage: deno run -A demo/main.ts [options]

The loraquant lecture on real data: a digit classifier, LoRA vs full fine-tuning on two shifted
tasks, the spectrum of ΔW, merging, float32 and nine smaller number formats, mixed precision
and QLoRA. Training runs on the WebGPU kernels when an adapter exists, else on the reference.

Options:
  --quick        smaller data and fewer epochs (under a minute instead of about two)
  --cpu          use the float64 reference only, even where a WebGPU adapter exists
  --seed N       seed of the data split and of every initialisation (default 1)
  --out DIR      where results.json and report.html go (default out/demo)
  --help         this text
`;

/** Parsed flags. */
export interface DemoFlags {
  /** --quick. */
  quick: boolean;
  /** --cpu. */
  cpu: boolean;
  /** --seed. */
  seed: number;
  /** --out. */
  out: string;
  /** --help. */
  help: boolean;
}

/**
 * Parses the command line.
 *
 * @param args The arguments.
 * @returns The flags, or an error message.
 */
export function parseFlags(args: readonly string[]): DemoFlags | { error: string } {
  const flags: DemoFlags = { quick: false, cpu: false, seed: 1, out: "out/demo", help: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [name, inline] = arg.includes("=") ? arg.split(/=(.*)/s, 2) as [string, string] : [
      arg,
      undefined,
    ];
    const value = (): string | undefined => inline ?? args[++i];
    switch (name) {
      case "--quick":
        flags.quick = true;
        break;
      case "--cpu":
        flags.cpu = true;
        break;
      case "--help":
      case "-h":
        flags.help = true;
        break;
      case "--seed": {
        const v = value();
        const seed = Number(v);
        if (v === undefined || v === "" || !Number.isSafeInteger(seed) || seed < 0) {
          return { error: `--seed must be a non-negative integer, got ${JSON.stringify(v)}` };
        }
        flags.seed = seed;
        break;
      }
      case "--out": {
        const v = value();
        if (!v) return { error: "--out needs a directory" };
        flags.out = v;
        break;
      }
      default:
        return { error: `Unknown option ${JSON.stringify(arg)}` };
    }
  }
  return flags;
}

/** Creates the output directory and proves it writable with a probe file. */
async function checkOut(dir: string): Promise<string | null> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    const probe = `${dir}/.write-test-${Deno.pid}`;
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
    return null;
  } catch (e) {
    return `Cannot write to --out ${JSON.stringify(dir)}: ${(e as Error).message}`;
  }
}

/**
 * Runs the demo.
 *
 * @param args The command line.
 * @returns The exit code: 0, 1 (failure) or 2 (bad usage).
 */
export async function main(args: readonly string[]): Promise<number> {
  const flags = parseFlags(args);
  if ("error" in flags) {
    console.error(`${flags.error}\n\n${USAGE}`);
    return 2;
  }
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  const outError = await checkOut(flags.out);
  if (outError) {
    console.error(outError);
    return 1;
  }
  const start = performance.now();
  const probe = flags.cpu ? { gpu: null, reason: "--cpu" } as const : await probeGpu();
  if (probe.gpu) {
    console.log(
      `Device: GPU (${probe.name}) — training runs on the WebGPU kernels (float32); the ` +
        `mixed-precision runs, which emulate formats, and the quantized evaluations run on the ` +
        `float64 reference; the final model's logits are computed on both and compared.`,
    );
  } else {
    console.log(`Device: reference (float64, CPU) — ${probe.reason}.`);
  }
  const config = demoConfig(flags.quick);
  const hooks: DemoHooks = {
    progress: (label) => startProgress(label),
    log: (line) => console.log(line),
  };
  const gpu = probe.gpu;
  if (gpu) {
    hooks.gpuLogits = (m, x, n) => gpuLogits(gpu, m, x, n);
    hooks.gpuTrain = (m, x, labels, options) => trainMlpGpu(gpu, m, x, labels, options);
  }
  let partial;
  try {
    partial = await runExperiment(config, flags.seed, hooks);
  } finally {
    gpu?.destroy();
  }
  const results: DemoResults = {
    device: gpu ? "gpu" : "reference",
    ...(probe.gpu ? { adapter: probe.name } : {}),
    ...partial,
    wallSeconds: Math.round(performance.now() - start) / 1000,
  };
  const { headers, rows } = summaryRows(results);
  console.log(`\n${textTable(headers, rows)}\n`);
  console.log(
    textTable(
      ["format", "accuracy", "bytes", "SQNR dB"],
      results.quantized.map((f) => [
        f.format,
        `${(100 * f.accuracy).toFixed(1)}%`,
        String(f.bytes),
        f.sqnrDb.toFixed(1),
      ]),
    ),
  );
  await writeAtomic(`${flags.out}/results.json`, JSON.stringify(results, null, 2) + "\n");
  await writeAtomic(`${flags.out}/report.html`, renderReport(results));
  console.log(
    `\nWrote ${flags.out}/report.html and ${flags.out}/results.json in ${
      results.wallSeconds.toFixed(1)
    } s.`,
  );
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
