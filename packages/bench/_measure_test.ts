import { assertEquals } from "@std/assert";
import { measure, measureAll, type RawSample } from "./_measure.ts";

Deno.test("measure() sizes the samples from the second warm-up and reports per-operation medians", async () => {
  const calls: number[] = [];
  const times = [100, 10, 50, 30, 40, 20, 60]; // ms per operation: 1st warm-up, 2nd, then samples
  const run = (repeats: number): Promise<RawSample> => {
    const perOp = times[calls.length]!;
    calls.push(repeats);
    return Promise.resolve({ wallMs: perOp * repeats, gpuMs: perOp * repeats / 2 });
  };
  const t = await measure(run, { samples: 5, targetMs: 35, maxRepeats: 64 });
  assertEquals(calls, [1, 1, 4, 4, 4, 4, 4]); // ⌈35 / 10⌉ = 4 repeats
  assertEquals(t, { wallMs: 40, gpuMs: 20, repeats: 4, samples: 5 });
});

Deno.test("measure() takes 3 samples of a slow operation, and no GPU time unless every sample has one", async () => {
  let n = 0;
  const run = (repeats: number): Promise<RawSample> =>
    Promise.resolve(n++ === 2 ? { wallMs: 6000 * repeats, gpuMs: 1 } : { wallMs: 6000 * repeats });
  const t = await measure(run, { samples: 7, targetMs: 400, maxRepeats: 64 });
  assertEquals(n, 4); // one warm-up (slow: no second), then 3 samples
  assertEquals(t, { wallMs: 6000, repeats: 1, samples: 3 });
});

Deno.test("measureAll() interleaves the samples and keeps going past a failing operation", async () => {
  const log: string[] = [];
  const ok = (name: string) => (repeats: number): Promise<RawSample> => {
    log.push(name);
    return Promise.resolve({ wallMs: 10 * repeats });
  };
  let calls = 0;
  const failing = (): Promise<RawSample> => {
    if (++calls === 3) return Promise.reject(new Error("lost"));
    return Promise.resolve({ wallMs: 10 });
  };
  const [a, bad, b] = await measureAll([ok("a"), failing, ok("b")], {
    samples: 2,
    targetMs: 10,
    maxRepeats: 8,
  });
  assertEquals(log, ["a", "a", "b", "b", "a", "b", "a", "b"]);
  assertEquals(a, { wallMs: 10, repeats: 1, samples: 2 });
  assertEquals(b, { wallMs: 10, repeats: 1, samples: 2 });
  assertEquals((bad as Error).message, "lost");
});
