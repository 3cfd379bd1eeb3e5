// Throughput of the reference's exact matmul (one correctly rounded FMA per step): deno task bench
import { matrix } from "../matrix.ts";
import { matmul } from "../matmul.ts";

const n = 128;
let s = 4242;
const random = () => {
  s = (s * 1103515245 + 12345) % 2 ** 31;
  return s / 2 ** 31 - 0.5;
};
const a = matrix([n, n], Array.from({ length: n * n }, random));
const b = matrix([n, n], Array.from({ length: n * n }, random));

for (
  const [dtype, accumulate] of [
    ["float16", "float16"],
    ["bfloat16", "float32"],
    ["float32", "float32"],
    ["fp8-e4m3", "float32"],
    ["float64", "float64"],
  ] as const
) {
  Deno.bench({ name: `matmul ${n}³ ${dtype} → ${accumulate}`, group: "matmul", n: 5 }, () => {
    matmul(a, b, { dtype, accumulate });
  });
}
