// Throughput of the reference's casts on 1M values: deno task bench
import { cast } from "../cast.ts";

const N = 1 << 20;
const x = new Float64Array(N);
let s = 12345;
for (let i = 0; i < N; i++) {
  s = (s * 1103515245 + 12345) % 2 ** 31;
  x[i] = (s / 2 ** 31 - 0.5) * 2 ** ((i % 40) - 20);
}

Deno.bench({
  name: "cast 1M float64 → float16 (nearest-even)",
  group: "cast",
  baseline: true,
  n: 5,
}, () => {
  cast(x, "float16");
});
Deno.bench({ name: "cast 1M float64 → fp8-e4m3 (saturate)", group: "cast", n: 5 }, () => {
  cast(x, "fp8-e4m3", { saturate: true });
});
Deno.bench({ name: "cast 1M float64 → float16 (stochastic)", group: "cast", n: 3 }, () => {
  cast(x, "float16", { rounding: "stochastic", seed: 1 });
});
Deno.bench({ name: "Math.f16round over 1M (platform, for scale)", group: "cast", n: 5 }, () => {
  const y = new Float64Array(N);
  for (let i = 0; i < N; i++) y[i] = Math.f16round(x[i]!);
});
