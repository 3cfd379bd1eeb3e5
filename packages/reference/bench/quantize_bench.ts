// Throughput of the reference's affine quantization on 1M values: deno task bench
import { matrix } from "../matrix.ts";
import { quantize } from "../quantize.ts";
import { dequantize } from "../dequantize.ts";

const rows = 1024, cols = 1024;
const data = new Float64Array(rows * cols);
let s = 987654321;
for (let i = 0; i < data.length; i++) {
  s = (s * 1103515245 + 12345) % 2 ** 31;
  data[i] = (s / 2 ** 31 - 0.5) * (1 + (i % cols) / 64);
}
const x = matrix([rows, cols], data);
const perChannel = quantize(x, "int8", { scheme: "symmetric", granularity: "channel", axis: 0 });

Deno.bench({
  name: "int8 per-channel quantize, 1M values (exact)",
  group: "quantize",
  baseline: true,
  n: 5,
}, () => {
  quantize(x, "int8", { scheme: "symmetric", granularity: "channel", axis: 0 });
});
Deno.bench({
  name: "int8 per-channel quantize, 1M values (pytorch profile)",
  group: "quantize",
  n: 5,
}, () => {
  quantize(x, "int8", { scheme: "symmetric", granularity: "channel", axis: 0, profile: "pytorch" });
});
Deno.bench(
  { name: "int4 group-32 asymmetric quantize, 1M values", group: "quantize", n: 5 },
  () => {
    quantize(x, "int4", { scheme: "asymmetric", granularity: "group", groupSize: 32 });
  },
);
Deno.bench({ name: "int8 per-channel dequantize, 1M values", group: "quantize", n: 5 }, () => {
  dequantize(perChannel.q, perChannel.scale, {
    zeroPoint: perChannel.zeroPoint,
    granularity: "channel",
    axis: 0,
  });
});
