// The timing loop shared by every implementation: two warm-ups (compiles, uploads), repeats
// chosen so that one sample lasts about `targetMs`, then `samples` samples; medians per operation.
// Not public.
import { median } from "./median.ts";

/** One sample: wall time and, where known, GPU time of `repeats` operations, in ms. */
export interface RawSample {
  readonly wallMs: number;
  readonly gpuMs?: number | undefined;
}

/** Median times of one operation, in ms. */
export interface Timing {
  readonly wallMs: number;
  readonly gpuMs?: number;
  readonly repeats: number;
  readonly samples: number;
}

/** How long to measure. */
export interface MeasureOptions {
  /** Samples to take (the median is reported). */
  readonly samples: number;
  /** Aim for samples of about this many ms (repeats = ⌈targetMs / warm-up time⌉, ≥ 1). */
  readonly targetMs: number;
  /** At most this many operations per sample. */
  readonly maxRepeats: number;
  /** When one operation takes longer than this (ms), take at most 3 samples. @default {5000} */
  readonly slowMs?: number;
}

/**
 * Times several operations whose speeds are compared, interleaved so that a change of the
 * machine's load during the run hits them alike: each gets two warm-up samples with one repeat
 * (the second, skipped for a slow operation, sets its `repeats`), then round s = 0, 1, … takes
 * sample s of every operation that needs one (`samples`, or 3 when the warm-up took over
 * `slowMs`). Returns, per operation, the medians of the per-operation times (each sample divided
 * by `repeats`), or the error that stopped it (the others go on).
 */
export async function measureAll(
  runs: readonly ((repeats: number) => Promise<RawSample>)[],
  options: MeasureOptions,
): Promise<(Timing | Error)[]> {
  const slowMs = options.slowMs ?? 5000;
  const states = runs.map(() => ({
    repeats: 1,
    samples: options.samples,
    wall: [] as number[],
    gpu: [] as number[],
    error: null as Error | null,
  }));
  const attempt = async (i: number, f: () => Promise<void>) => {
    if (states[i]!.error) return;
    try {
      await f();
    } catch (error) {
      states[i]!.error = error instanceof Error ? error : new Error(String(error));
    }
  };
  for (const [i, run] of runs.entries()) {
    await attempt(i, async () => {
      // The first run may compile (llvmpipe JIT-compiles a pipeline on first use): time a second.
      let warm = await run(1);
      if (warm.wallMs <= slowMs) warm = await run(1);
      const state = states[i]!;
      state.repeats = Math.max(
        1,
        Math.min(options.maxRepeats, Math.ceil(options.targetMs / Math.max(warm.wallMs, 1e-3))),
      );
      if (warm.wallMs > slowMs) state.samples = Math.min(options.samples, 3);
    });
  }
  for (let s = 0; s < options.samples; s++) {
    for (const [i, run] of runs.entries()) {
      const state = states[i]!;
      if (s >= state.samples) continue;
      await attempt(i, async () => {
        const sample = await run(state.repeats);
        state.wall.push(sample.wallMs / state.repeats);
        if (sample.gpuMs !== undefined) state.gpu.push(sample.gpuMs / state.repeats);
      });
    }
  }
  return states.map((state) => {
    if (state.error) return state.error;
    const timing = { wallMs: median(state.wall), repeats: state.repeats, samples: state.samples };
    return state.gpu.length === state.wall.length
      ? { ...timing, gpuMs: median(state.gpu) }
      : timing;
  });
}

/** {@linkcode measureAll} of one operation; throws its error. */
export async function measure(
  run: (repeats: number) => Promise<RawSample>,
  options: MeasureOptions,
): Promise<Timing> {
  const [timing] = await measureAll([run], options);
  if (timing instanceof Error) throw timing;
  return timing!;
}
