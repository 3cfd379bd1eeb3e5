// Choosing the matmul variant for an adapter: time both kernels once on a small product and keep
// the faster, cached per adapter for the life of the process (docs/gpu.md §Variant selection).
import type { Batch } from "./batch.ts";
import type { MatmulVariant } from "./matmul.ts";

/** Chosen variants, by adapter key. */
const chosen = new Map<string, MatmulVariant>();

/** A key that tells adapters apart (vendor, architecture, device, description). */
export function adapterKey(info: GPUAdapterInfo): string {
  return [info.vendor, info.architecture, info.device, info.description].join("|");
}

/** The cached choice for an adapter, if it was measured in this process. */
export function cachedVariant(key: string): MatmulVariant | undefined {
  return chosen.get(key);
}

/**
 * Times both variants on N×N×N products (N = 96; two dispatches a batch, after a warm-up batch
 * that compiles the kernels) and caches the faster.
 */
export async function measureVariant(
  key: string,
  newBatch: () => Batch,
): Promise<MatmulVariant> {
  const n = 96;
  const repeats = 2;
  const data = new Float32Array(n * n).map((_, i) => ((i * 7919) % 256) / 256 - 0.5);
  const matrix = { rows: n, cols: n, data };
  const seconds: Record<MatmulVariant, number> = { register: Infinity, tiled: Infinity };
  for (const variant of ["register", "tiled"] as const) {
    const warm = newBatch();
    await warm.read(warm.matmul(matrix, matrix, { variant }));
    const batch = newBatch();
    const handles = Array.from(
      { length: repeats },
      () => batch.matmul(matrix, matrix, { variant }),
    );
    const t0 = performance.now();
    await batch.read(...handles);
    seconds[variant] = performance.now() - t0;
  }
  const variant = seconds.tiled < seconds.register ? "tiled" : "register";
  chosen.set(key, variant);
  return variant;
}
